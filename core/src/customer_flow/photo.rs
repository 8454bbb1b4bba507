//! A stage-evidence photo (the signed 技术参数确认单, the contract): the visit photo's evidence
//! path for a customer. Stamped (time, fix, customer, rep, device, evidence code), hashed,
//! signed as a `customer.photo` manifest in the device's chain, and sent through the same upload
//! queue as visit photos. The image work runs without the core's lock; the customer is checked
//! again under the lock before anything is recorded.

use rusqlite::params;
use sha2::{Digest, Sha256};

use super::{CustomerPhoto, customer, pipeline_config, user};
use crate::Core;
use crate::customers::{Customer, CustomerPhotoRequest, PipelineConfig, RequirementKind};
use crate::error::{Error, Result};
use crate::evidence;
use crate::imaging;
use crate::model::{LocationFix, PhotoKind, User};
use crate::outbox::Action;
use crate::sync::wire::payload::{CustomerPhotoManifest, OpPayload};
use crate::visits::{photo_kind_str, write_durably};

/// The requirement must be a photo some stage asks for.
fn check_requirement(cfg: &PipelineConfig, requirement_id: &str) -> Result<()> {
    let asked = cfg
        .stages
        .iter()
        .flat_map(|s| s.requirements.iter())
        .any(|r| r.kind == RequirementKind::Photo && r.id == requirement_id);
    if asked {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "no stage asks for a photo {requirement_id:?}"
        )))
    }
}

fn checked(
    conn: &rusqlite::Connection,
    user_id: &str,
    req: &CustomerPhotoRequest,
) -> Result<(User, Customer)> {
    let me = user(conn, user_id)?;
    let c = customer(conn, &req.customer_id)?;
    if c.state != crate::customers::CustomerState::Owned || c.owner_id.as_deref() != Some(me.id.as_str()) {
        return Err(Error::NotCustomerOwner { customer_id: c.id });
    }
    check_requirement(&pipeline_config(conn)?, &req.requirement_id)?;
    Ok((me, c))
}

impl Core {
    /// Take a stage's evidence photo of one of the rep's customers from the camera's JPEG:
    /// stamp, sign, store, chain (`customer.photo`), upload with the next sync. The photo counts
    /// toward the customer's next stage (see `move_customer_stage`).
    pub fn capture_customer_photo(
        &self,
        user_id: &str,
        req: &CustomerPhotoRequest,
        fix: Option<&LocationFix>,
        utc_offset_minutes: i32,
        jpeg: &[u8],
    ) -> Result<CustomerPhoto> {
        crate::capture::check_capture_inputs(fix, utc_offset_minutes)?;
        // 1. Everything the stamp needs, under the lock; nothing written.
        let (me, c) = checked(&self.lock().conn, user_id, req)?;
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
        let lines = crate::capture::watermark_lines(
            &fonts,
            crate::capture::StampPlace::Customer(c.company.as_deref().unwrap_or(&c.name)),
            &me,
            self.device_id(),
            fix,
            utc_offset_minutes,
            captured_at,
            &code,
        );
        let mut processed = imaging::process(jpeg, &lines, &fonts, &options)?;
        processed.jpeg = self.with_content_credentials(
            std::mem::take(&mut processed.jpeg),
            &crate::content_credentials::PhotoFacts {
                photo_id: &photo_id,
                device_id: self.device_id(),
                user_id: &me.id,
                captured_at_ms: captured_at,
                utc_offset_minutes,
                fix,
                place: crate::content_credentials::Place::Customer {
                    id: &c.id,
                    name: c.company.as_deref().unwrap_or(&c.name),
                },
                evidence_code: &code,
            },
        );
        let image_sha256 = evidence::hex(&Sha256::digest(&processed.jpeg));
        let file_name = format!("{image_sha256}.jpg");
        let path = self.photo_dir.join(&file_name);
        write_durably(&path, &processed.jpeg)?;
        let phash = format!("{:016x}", processed.phash);

        // 3. Record it all in one action, if the customer is still the rep's.
        let mut inner = self.lock();
        checked(&inner.conn, user_id, req)?;
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let photo = CustomerPhoto {
            id: photo_id.clone(),
            customer_id: c.id.clone(),
            requirement_id: req.requirement_id.clone(),
            kind: PhotoKind::Document,
            sha256: image_sha256.clone(),
            byte_len: processed.jpeg.len() as i64,
            path: path.to_string_lossy().into_owned(),
            taken_at_ms: action.time.wall_ms,
            evidence_code: Some(code.clone()),
        };
        action.tx.execute(
            "INSERT INTO customer_photos (id, customer_id, requirement_id, kind, sha256, byte_len, path, taken_at_ms,
                original_sha256, width, height, phash, evidence_code, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                photo.id,
                photo.customer_id,
                photo.requirement_id,
                photo_kind_str(photo.kind),
                photo.sha256,
                photo.byte_len,
                file_name,
                photo.taken_at_ms,
                original_sha256,
                processed.width,
                processed.height,
                phash,
                code,
                action.op_id
            ],
        )?;
        let manifest = OpPayload::CustomerPhoto(CustomerPhotoManifest {
            photo_id: photo.id.clone(),
            customer_id: c.id.clone(),
            requirement_id: req.requirement_id.clone(),
            user_id: me.id.clone(),
            photo_kind: PhotoKind::Document.into(),
            image_sha256,
            original_sha256,
            byte_len: photo.byte_len,
            width: processed.width,
            height: processed.height,
            source_width: processed.source_width,
            source_height: processed.source_height,
            orientation: processed.orientation,
            phash,
            evidence_code: code,
            utc_offset_minutes,
            location: fix.map(crate::capture::manifest_location),
            time: Some(action.time),
        });
        action.finish(&self.signer, &c.id, &manifest)?;
        tracing::info!(bytes = photo.byte_len, "customer photo captured");
        Ok(photo)
    }
}
