//! Photo capture: the camera's JPEG becomes signed evidence. Decode, orient, downscale, burn the
//! watermark (local time, fix, store, rep, device, evidence code), encode, hash, check for reuse,
//! and record file + photo row + signed manifest (the `visit.photo` chain entry) + flags in one
//! transaction. On any error nothing is written (an already-written content-addressed file is
//! harmless: no row points at it).
//!
//! The image work (~0.1–0.3 s) runs without the core's lock, so the visit screen stays
//! responsive; the visit is checked again under the lock before anything is recorded.

use crate::sync::wire::payload::{ManifestLocation, OpPayload, PhotoManifest, ReuseMatch};
use rusqlite::params;
use sha2::{Digest, Sha256};

use crate::content_credentials::{self, CredentialLocation, DeviceCertificate, PhotoFacts, Place};
use crate::error::{Error, Result};
use crate::evidence::{self, KnownKey, PhotoVerdict, SignedEntry};
use crate::imaging::{self, Fonts};
use crate::model::*;
use crate::outbox::Action;
use crate::visits::{photo_kind_str, write_durably};
use crate::{Core, MAX_PHOTO_BYTES, queries, rules};

/// What the app knows when the shutter fires.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureRequest {
    pub visit_id: String,
    /// The photo item this photo answers, if any.
    pub item_id: Option<String>,
    pub kind: PhotoKind,
    /// The fix at the moment of capture (may differ from check-in).
    pub fix: Option<LocationFix>,
    /// The device's UTC offset now, in minutes: the watermark shows local time with it.
    pub utc_offset_minutes: i32,
    /// The retake request this photo answers (`MissingItem::retake_request_id`): it must be
    /// open and for this visit's rep and store. The manifest carries it, so the server links
    /// the new photo to the request and marks it done.
    pub retake_request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaptureOutcome {
    pub photo: Photo,
    /// Flags this capture raised (`possible_reuse`, `mock_location`, `clock_jump`).
    pub flags: Vec<Flag>,
}

/// A photo's evidence as a third party needs it: the file, the manifest bytes, the signature
/// and the key.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoEvidence {
    pub photo_id: String,
    pub path: String,
    /// The signed manifest: the canonical JSON entry of the photo's `visit.photo` op.
    pub manifest: String,
    pub signature_hex: String,
    pub device_id: String,
    pub public_key_hex: String,
}

fn e7(deg: f64) -> i64 {
    (deg * 1e7).round() as i64
}

/// The fix and the time zone a photo is captured with, checked before any image work (a visit
/// photo and a customer's evidence photo alike).
pub(crate) fn check_capture_inputs(fix: Option<&LocationFix>, utc_offset_minutes: i32) -> Result<()> {
    if let Some(f) = fix {
        rules::validate_fix(f).map_err(Error::InvalidLocation)?;
    }
    if !(-14 * 60..=14 * 60).contains(&utc_offset_minutes) {
        return Err(Error::InvalidInput(format!(
            "UTC offset {utc_offset_minutes} min is not a real time zone"
        )));
    }
    Ok(())
}

/// Where a photo was taken, as its signed manifest says it.
pub(crate) fn manifest_location(f: &LocationFix) -> ManifestLocation {
    ManifestLocation {
        lat_e7: Some(e7(f.latitude)),
        lon_e7: Some(e7(f.longitude)),
        accuracy_cm: Some((f.accuracy_m * 100.0).round() as i64),
        provider: Some(f.provider.into()),
        is_mock: f.is_mock,
        fix_time_ms: Some(f.fix_time_ms),
    }
}

impl Core {
    /// The fonts the watermark uses. Apps call this once with a CJK font from the system
    /// (Android: `/system/fonts/NotoSansCJK-Regular.ttc`, face 2 = Simplified Chinese) or their
    /// bundle, so Chinese store names render; without one, names the bundled Latin font cannot
    /// draw are left off, never boxed. `face` picks the face of a collection (.ttc); 0 otherwise.
    /// The font stays in memory while the core is open: prefer a subset font where memory is tight.
    pub fn set_cjk_font(&self, font_bytes: Vec<u8>, face: i32) -> Result<()> {
        let face = Error::non_negative("face", face)?;
        let fonts = Fonts::with_cjk_face(font_bytes, face)?;
        *self.fonts.write().unwrap_or_else(|p| p.into_inner()) = fonts;
        Ok(())
    }

    /// The same, from a font file (read once; fonts are large).
    pub fn set_cjk_font_file(&self, path: &std::path::Path, face: i32) -> Result<()> {
        // Refused before the (large) file is read.
        Error::non_negative("face", face)?;
        self.set_cjk_font(std::fs::read(path)?, face)
    }

    /// Long-edge limit for stored photos (`None`: keep full size). Default 2048 px.
    pub fn set_photo_max_long_edge(&self, max_long_edge: Option<i32>) -> Result<()> {
        let max_long_edge = max_long_edge
            .map(|m| Error::non_negative("max_long_edge", m))
            .transpose()?;
        self.photo_options
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .max_long_edge = max_long_edge;
        Ok(())
    }

    /// How much of the location a photo's Content Credentials (C2PA) say: exact, about 1 km
    /// (the default) or none. The signed Fieldproof manifest keeps the exact fix either way.
    pub fn set_credential_location(&self, location: CredentialLocation) {
        *self
            .credential_location
            .write()
            .unwrap_or_else(|p| p.into_inner()) = location;
    }

    pub fn credential_location(&self) -> CredentialLocation {
        *self.credential_location.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The certificate chain the organisation's CA issued for this device's key (at enrolment,
    /// or fetched by a sync for a device enrolled before certificates existed); `None` until then.
    pub fn device_certificate(&self) -> Result<Option<DeviceCertificate>> {
        content_credentials::device_certificate(&self.lock().conn)
    }

    /// The stamped photo with its Content Credentials embedded, signed by the device key under
    /// the device certificate. Never fails the capture: without a certificate yet, in a build
    /// without the `content-credentials` feature, or if C2PA signing fails, the stamped photo is
    /// kept as it is (logged), because a photo lost in the field cannot be taken again later
    /// and the signed Fieldproof manifest, not C2PA, is the evidence head office relies on.
    pub(crate) fn with_content_credentials(&self, stamped: Vec<u8>, facts: &PhotoFacts<'_>) -> Vec<u8> {
        #[cfg(feature = "content-credentials")]
        {
            let chain = match content_credentials::device_certificate(&self.lock().conn) {
                Ok(Some(c)) => c.chain_pem,
                Ok(None) => return stamped,
                Err(e) => {
                    tracing::warn!(code = e.code(), "photo stored without Content Credentials: {e}");
                    return stamped;
                }
            };
            match content_credentials::embed(
                &stamped,
                &self.signer,
                &chain,
                facts,
                self.credential_location(),
            ) {
                Ok(signed) => signed,
                Err(e) => {
                    tracing::warn!("photo stored without Content Credentials: {e}");
                    stamped
                }
            }
        }
        #[cfg(not(feature = "content-credentials"))]
        {
            let _ = facts;
            stamped
        }
    }

    /// Capture a shelf photo from a JPEG file the camera wrote (read with the size limit).
    pub fn capture_photo_file(&self, req: &CaptureRequest, path: &std::path::Path) -> Result<CaptureOutcome> {
        let len = std::fs::metadata(path)?.len();
        if len > MAX_PHOTO_BYTES as u64 {
            return Err(Error::Image(imaging::ImageError::TooManyBytes {
                bytes: len as usize,
                max_bytes: MAX_PHOTO_BYTES,
            }));
        }
        self.capture_photo(req, &std::fs::read(path)?)
    }

    /// Capture a shelf photo from the camera's JPEG bytes: stamp, sign, store, chain.
    pub fn capture_photo(&self, req: &CaptureRequest, jpeg: &[u8]) -> Result<CaptureOutcome> {
        check_capture_inputs(req.fix.as_ref(), req.utc_offset_minutes)?;
        // 1. Everything the stamp needs, under the lock; nothing written.
        let (store, user) = {
            let mut inner = self.lock();
            let (visit, template) = inner.editable_visit(&req.visit_id)?;
            check_photo_item(&inner.conn, &visit.id, &template, req.item_id.as_deref())?;
            if let Some(r) = &req.retake_request_id {
                crate::retakes::check_for_capture(&inner.conn, r, &crate::retakes::VisitOf::from(&visit))?;
            }
            let store = queries::store(&inner.conn, &visit.store_id)?
                .ok_or_else(|| Error::not_found("store", &visit.store_id))?;
            let user = queries::user(&inner.conn, &visit.user_id)?
                .ok_or_else(|| Error::not_found("user", &visit.user_id))?;
            (store, user)
        };
        // 2. The image work, without the lock.
        let original_sha256 = evidence::hex(&Sha256::digest(jpeg));
        let photo_id = uuid::Uuid::now_v7().to_string();
        let code = evidence::evidence_code(&original_sha256, self.device_id(), &photo_id);
        let fonts = self.fonts.read().unwrap_or_else(|p| p.into_inner()).clone();
        let options = self
            .photo_options
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let captured_at = self.clock.wall_ms();
        let lines = watermark_lines(
            &fonts,
            StampPlace::Store(&store),
            &user,
            self.device_id(),
            req.fix.as_ref(),
            req.utc_offset_minutes,
            captured_at,
            &code,
        );
        let mut processed = imaging::process(jpeg, &lines, &fonts, &options)?;
        processed.jpeg = self.with_content_credentials(
            std::mem::take(&mut processed.jpeg),
            &PhotoFacts {
                photo_id: &photo_id,
                device_id: self.device_id(),
                user_id: &user.id,
                captured_at_ms: captured_at,
                utc_offset_minutes: req.utc_offset_minutes,
                fix: req.fix.as_ref(),
                place: Place::Store {
                    id: &store.id,
                    code: &store.code,
                    name: &store.name,
                },
                evidence_code: &code,
            },
        );
        let image_sha256 = evidence::hex(&Sha256::digest(&processed.jpeg));
        let file_name = format!("{image_sha256}.jpg");
        let path = self.photo_dir.join(&file_name);
        write_durably(&path, &processed.jpeg)?;
        let phash = format!("{:016x}", processed.phash);

        // 3. Record it all in one action, if the visit is still open.
        let mut inner = self.lock();
        let (visit, template) = inner.editable_visit(&req.visit_id)?;
        check_photo_item(&inner.conn, &visit.id, &template, req.item_id.as_deref())?;
        if let Some(r) = &req.retake_request_id {
            crate::retakes::check_for_capture(&inner.conn, r, &crate::retakes::VisitOf::from(&visit))?;
        }
        let matches = reuse_matches(&inner.conn, &visit.id, processed.phash)?;
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let photo = Photo {
            id: photo_id.clone(),
            visit_id: visit.id.clone(),
            item_id: req.item_id.clone(),
            kind: req.kind,
            sha256: image_sha256.clone(),
            byte_len: processed.jpeg.len() as i64,
            path: path.to_string_lossy().into_owned(),
            taken_at_ms: action.time.wall_ms,
            original_sha256: Some(original_sha256.clone()),
            width: i32::try_from(processed.width).ok(),
            height: i32::try_from(processed.height).ok(),
            phash: Some(phash.clone()),
            evidence_code: Some(code.clone()),
        };
        action.tx.execute(
            "INSERT INTO photos (id, visit_id, item_id, kind, sha256, byte_len, path, taken_at_ms, op_id,
                original_sha256, width, height, phash, evidence_code, retake_request_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            params![
                photo.id,
                photo.visit_id,
                photo.item_id,
                photo_kind_str(photo.kind),
                photo.sha256,
                photo.byte_len,
                file_name,
                photo.taken_at_ms,
                action.op_id,
                original_sha256,
                processed.width,
                processed.height,
                phash,
                code,
                req.retake_request_id
            ],
        )?;
        let mut flags = Vec::new();
        for (other_photo, other_visit, distance) in &matches {
            let flag = Flag {
                code: FlagCode::PossibleReuse,
                item_id: Some(photo_id.clone()),
                detail: format!(
                    "photo looks like photo {other_photo} of visit {other_visit} (perceptual distance {distance})"
                ),
            };
            if action.raise_flag(&visit.id, &flag)? {
                flags.push(flag);
            }
        }
        if let Some(f) = req.fix.as_ref().filter(|f| f.is_mock) {
            let flag = Flag {
                code: FlagCode::MockLocation,
                item_id: Some(photo_id.clone()),
                detail: format!(
                    "mock location when the photo was taken ({:.5}, {:.5})",
                    f.latitude, f.longitude
                ),
            };
            if action.raise_flag(&visit.id, &flag)? {
                flags.push(flag);
            }
        }
        if let Some(f) = action.flag_clock_jump(&visit.id)? {
            flags.push(f);
        }
        let manifest = OpPayload::Photo(PhotoManifest {
            photo_id: photo.id.clone(),
            visit_id: visit.id.clone(),
            store_id: store.id.clone(),
            store_code: store.code.clone(),
            user_id: visit.user_id.clone(),
            item_id: req.item_id.clone(),
            photo_kind: req.kind.into(),
            image_sha256: image_sha256.clone(),
            original_sha256: original_sha256.clone(),
            byte_len: photo.byte_len,
            width: processed.width,
            height: processed.height,
            source_width: processed.source_width,
            source_height: processed.source_height,
            orientation: processed.orientation,
            phash: phash.clone(),
            evidence_code: code.clone(),
            utc_offset_minutes: req.utc_offset_minutes,
            location: req.fix.as_ref().map(manifest_location),
            possible_reuse_of: matches
                .iter()
                .map(|(p, v, d)| ReuseMatch {
                    photo_id: p.clone(),
                    visit_id: v.clone(),
                    distance: *d,
                })
                .collect(),
            retake_request_id: req.retake_request_id.clone(),
        });
        action.finish(&self.signer, &visit.id, &manifest)?;
        tracing::info!(bytes = photo.byte_len, reuse = matches.len(), "photo captured");
        Ok(CaptureOutcome { photo, flags })
    }

    /// The evidence of one photo, for export or for a verifier.
    pub fn photo_evidence(&self, photo_id: &str) -> Result<PhotoEvidence> {
        let inner = self.lock();
        let row: Option<(String, Option<String>, Option<String>)> = inner
            .conn
            .query_row(
                "SELECT p.path, o.entry, o.signature FROM photos p JOIN outbox o ON o.op_id = p.op_id
                 WHERE p.id = ?1",
                [photo_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional_row()?;
        let (file, Some(manifest), Some(signature_hex)) =
            row.ok_or_else(|| Error::not_found("photo", photo_id))?
        else {
            return Err(Error::NotAllowed(
                "this photo was stored before evidence signing existed".into(),
            ));
        };
        Ok(PhotoEvidence {
            photo_id: photo_id.to_string(),
            path: self.photo_dir.join(file).to_string_lossy().into_owned(),
            manifest,
            signature_hex,
            device_id: self.device_id().to_string(),
            public_key_hex: self.device_public_key(),
        })
    }

    /// Verify one of this device's photos as a verifier would: the file as it is on disk now,
    /// against its signed manifest and this device's key.
    pub fn verify_photo(&self, photo_id: &str) -> Result<PhotoVerdict> {
        let ev = self.photo_evidence(photo_id)?;
        let image = std::fs::read(&ev.path)?;
        Ok(evidence::verify_photo(
            &image,
            &SignedEntry {
                entry: ev.manifest,
                signature_hex: ev.signature_hex,
            },
            &[KnownKey {
                device_id: ev.device_id,
                public_key_hex: ev.public_key_hex,
                revoked_ms: None,
            }],
            None,
        ))
    }
}

trait OptionalRow<T> {
    fn optional_row(self) -> rusqlite::Result<Option<T>>;
}

impl<T> OptionalRow<T> for rusqlite::Result<T> {
    fn optional_row(self) -> rusqlite::Result<Option<T>> {
        rusqlite::OptionalExtension::optional(self)
    }
}

fn check_photo_item(
    conn: &rusqlite::Connection,
    visit_id: &str,
    template: &CheckTemplate,
    item_id: Option<&str>,
) -> Result<()> {
    let Some(item_id) = item_id else { return Ok(()) };
    let item = template
        .item(item_id)
        .ok_or_else(|| Error::not_found("item", item_id))?;
    if item.kind != ItemKind::Photo {
        return Err(Error::WrongValueKind {
            item_id: item_id.into(),
            expected: item.kind.as_str(),
            got: "photo",
        });
    }
    let answers = queries::answers(conn, visit_id)?;
    if rules::hidden_items(template, &answers).contains(item_id) {
        return Err(Error::ItemHidden {
            item_id: item_id.into(),
        });
    }
    Ok(())
}

/// Earlier photos of other visits within the reuse distance: (photo id, visit id, distance).
fn reuse_matches(
    conn: &rusqlite::Connection,
    visit_id: &str,
    phash: u64,
) -> Result<Vec<(String, String, u32)>> {
    let mut st = conn.prepare_cached(
        "SELECT id, visit_id, phash FROM photos WHERE visit_id <> ?1 AND phash IS NOT NULL ORDER BY taken_at_ms",
    )?;
    let mut rows = st.query([visit_id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let hash: String = r.get(2)?;
        let Ok(other) = u64::from_str_radix(&hash, 16) else {
            continue;
        };
        let d = imaging::hamming(phash, other);
        if d <= imaging::REUSE_THRESHOLD {
            out.push((r.get(0)?, r.get(1)?, d));
        }
    }
    Ok(out)
}

/// What the stamp says the photo is of: a store (its code, and its name when the fonts can draw
/// it) or a customer (its name only, and only when drawable).
pub(crate) enum StampPlace<'a> {
    Store(&'a Store),
    Customer(&'a str),
}

/// The watermark, top to bottom, for a visit photo and a customer's evidence photo alike. A name
/// the fonts cannot draw is left out rather than boxed.
#[allow(clippy::too_many_arguments)]
pub(crate) fn watermark_lines(
    fonts: &Fonts,
    place: StampPlace<'_>,
    user: &User,
    device_id: &str,
    fix: Option<&LocationFix>,
    utc_offset_minutes: i32,
    captured_at_ms: i64,
    code: &str,
) -> Vec<String> {
    let mut lines = vec![crate::clock::format_local(captured_at_ms, utc_offset_minutes)];
    lines.push(match fix {
        Some(f) => format!(
            "{:.6}{} {:.6}{} ±{:.0} m{}",
            f.latitude.abs(),
            if f.latitude >= 0.0 { "N" } else { "S" },
            f.longitude.abs(),
            if f.longitude >= 0.0 { "E" } else { "W" },
            f.accuracy_m,
            if f.is_mock { " MOCK LOCATION" } else { "" }
        ),
        None => "no location fix".to_string(),
    });
    match place {
        StampPlace::Store(store) => lines.push(if fonts.covers(&store.name) {
            format!("{} {}", store.code, store.name)
        } else {
            store.code.clone()
        }),
        StampPlace::Customer(name) => {
            if fonts.covers(name) {
                lines.push(name.to_string());
            }
        }
    }
    let rep = if fonts.covers(&user.name) {
        format!("{} ({})", user.name, user.id)
    } else {
        user.id.clone()
    };
    let short_device: String = device_id.chars().take(8).collect();
    lines.push(format!("Rep {rep} · Device {short_device}"));
    lines.push(if fonts.covers("防伪码") {
        format!("防伪码 Evidence code {code}")
    } else {
        format!("Evidence code {code}")
    });
    lines
}
