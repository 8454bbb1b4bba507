//! Photos: capture (bytes or file), the watermark's font and size, evidence, the supervisor's
//! photo review.

use std::sync::Arc;

use fieldproof_core::content_credentials::{CredentialLocation, DeviceCertificate};
use fieldproof_core::evidence::PhotoVerdict;
use fieldproof_core::{CaptureOutcome, CaptureRequest, PhotoEvidence, PhotoReview, PhotoReviewVerdict};

use crate::{FieldproofCore, PhotoBytes, Result};

/// Settings kept in memory: plain calls.
#[uniffi::export]
impl FieldproofCore {
    /// Long-edge limit for stored photos in pixels (`None`: full size). Default 2048. A negative
    /// limit is refused (`negative_number`).
    pub fn set_photo_max_long_edge(&self, max_long_edge: Option<i32>) -> Result<()> {
        Ok(self.inner.set_photo_max_long_edge(max_long_edge)?)
    }

    /// How much of the location each photo's Content Credentials (C2PA) say: `EXACT`, `COARSE`
    /// (about 1 km, the default) or `OMITTED`. The signed Fieldproof manifest keeps the exact fix.
    pub fn set_credential_location(&self, location: CredentialLocation) {
        self.inner.set_credential_location(location)
    }

    pub fn credential_location(&self) -> CredentialLocation {
        self.inner.credential_location()
    }
}

#[uniffi::export(async_runtime = "tokio")]
impl FieldproofCore {
    /// Capture a shelf photo from the camera's JPEG bytes: orient, downscale, burn the
    /// watermark, encode, hash, sign, store, chain. Flags reuse of a photo from another visit.
    /// The bytes cross the FFI in one copy ([`PhotoBytes`]); a file path
    /// ([`capture_photo_file`](Self::capture_photo_file)) saves even that.
    pub async fn capture_photo(
        self: Arc<Self>,
        request: CaptureRequest,
        jpeg: PhotoBytes,
    ) -> Result<CaptureOutcome> {
        self.run(move |core| core.capture_photo(&request, jpeg.as_slice()))
            .await
    }

    /// The same from a JPEG file the camera wrote (read with the size limit).
    pub async fn capture_photo_file(
        self: Arc<Self>,
        request: CaptureRequest,
        path: String,
    ) -> Result<CaptureOutcome> {
        self.run(move |core| core.capture_photo_file(&request, std::path::Path::new(&path)))
            .await
    }

    /// Use this CJK font file (TTF/OTF/TTC) for the watermark, so Chinese store and rep names
    /// render. `face` picks a face of a collection: Android's
    /// `/system/fonts/NotoSansCJK-Regular.ttc` has Simplified Chinese at face 2. Without a CJK
    /// font such names are left off the watermark, never drawn as boxes. A negative `face` is refused (`negative_number`).
    pub async fn set_cjk_font_file(self: Arc<Self>, path: String, face: i32) -> Result<()> {
        self.run(move |core| core.set_cjk_font_file(std::path::Path::new(&path), face))
            .await
    }

    /// A photo's evidence for export or a verifier: file path, signed manifest, signature, key.
    pub async fn photo_evidence(self: Arc<Self>, photo_id: String) -> Result<PhotoEvidence> {
        self.run(move |core| core.photo_evidence(&photo_id)).await
    }

    /// The certificate the organisation's CA issued for this device (at enrolment, or fetched by
    /// a later sync); `None` until then, and photos taken meanwhile carry no Content Credentials.
    pub async fn device_certificate(self: Arc<Self>) -> Result<Option<DeviceCertificate>> {
        self.run(move |core| core.device_certificate()).await
    }

    /// Verify one of this device's photos: the file as it is now against its signed manifest.
    pub async fn verify_photo(self: Arc<Self>, photo_id: String) -> Result<PhotoVerdict> {
        self.run(move |core| core.verify_photo(&photo_id)).await
    }

    /// A supervisor's decision on a team photo (from `team_visits`): approve, reject with a
    /// reason, or ask the rep for a retake with a reason. One signed op; the server applies it
    /// and sends the retake down to the rep. Refused here with `unknown_photo`,
    /// `photo_not_in_team`, `reason_required`.
    pub async fn review_photo(
        self: Arc<Self>,
        reviewer_id: String,
        photo_id: String,
        verdict: PhotoReviewVerdict,
        reason: Option<String>,
    ) -> Result<PhotoReview> {
        self.run(move |core| core.review_photo(&reviewer_id, &photo_id, verdict, reason.as_deref()))
            .await
    }
}
