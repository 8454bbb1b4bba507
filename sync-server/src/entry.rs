//! A signed chain entry read far enough to apply: its fields, the payload of each op kind, and
//! the bounds that keep a forged entry's numbers harmless. A leaf below the push (`ingest`) and
//! the photo upload (`photos`), which both read entries and store what verification found.

use fieldproof_core::evidence::{self, VerifyCode};
use fieldproof_core::model::{EventTime, LocationFix, Review, TemplateKind};
use fieldproof_core::rules;
use serde::Deserialize;
use serde_json::Value;

use crate::keys::is_lower_hex;

pub(crate) const MAX_SEQ: i64 = 1 << 53;
/// Year 2200 in Unix ms; also the bound on boot time and on the server offset.
pub(crate) const MAX_WALL_MS: i64 = 7_258_118_400_000;

// --- entries and payloads ----------------------------------------------------------------------
// Mirrors of the core's payload structs (which are private and serialize-only). Unknown fields
// are ignored, so a newer core adding a field does not get its ops rejected.

#[derive(Debug, Deserialize)]
pub(crate) struct EntryFields {
    pub(crate) v: i64,
    pub(crate) device_id: String,
    pub(crate) seq: i64,
    pub(crate) op_id: String,
    pub(crate) kind: String,
    pub(crate) entity_id: String,
    pub(crate) time: EventTime,
    pub(crate) prev_hash: String,
    pub(crate) payload: Value,
}

/// A flag as the device recorded it. Codes are strings here, not the core's enum: a newer core
/// with a new flag code must not get its ops rejected.
#[derive(Debug, Deserialize)]
pub(crate) struct DeviceFlag {
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) item_id: Option<String>,
    #[serde(default)]
    pub(crate) detail: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CheckInPayload {
    pub(crate) visit_id: String,
    pub(crate) kind: TemplateKind,
    pub(crate) user_id: String,
    pub(crate) store_id: String,
    pub(crate) template_id: String,
    pub(crate) template_version: u32,
    #[serde(default)]
    pub(crate) plan_id: Option<String>,
    #[serde(default)]
    pub(crate) fix: Option<LocationFix>,
    #[serde(default)]
    pub(crate) geofence: Option<String>,
    #[serde(default)]
    pub(crate) flags: Vec<DeviceFlag>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AnswerPayload {
    pub(crate) visit_id: String,
    pub(crate) item_id: String,
    pub(crate) value: Value,
    #[serde(default)]
    pub(crate) note: Option<String>,
    pub(crate) revision: u32,
    #[serde(default)]
    pub(crate) raised: Vec<DeviceFlag>,
    #[serde(default)]
    pub(crate) cleared: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ManifestLocation {
    #[serde(default)]
    pub(crate) is_mock: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct PhotoManifest {
    pub(crate) photo_id: String,
    pub(crate) visit_id: String,
    pub(crate) store_id: String,
    pub(crate) user_id: String,
    #[serde(default)]
    pub(crate) item_id: Option<String>,
    pub(crate) photo_kind: String,
    pub(crate) image_sha256: String,
    pub(crate) byte_len: i64,
    pub(crate) evidence_code: String,
    #[serde(default)]
    pub(crate) location: Option<ManifestLocation>,
    /// The retake request this photo answers (`crate::retakes::link_photo`).
    #[serde(default)]
    pub(crate) retake_request_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReportBody {
    pub(crate) notes: String,
    #[serde(default)]
    pub(crate) objections: Vec<Value>,
    #[serde(default)]
    pub(crate) next_steps: Vec<Value>,
    /// `YYYY-MM-DD`, when the rep set a follow-up.
    #[serde(default)]
    pub(crate) follow_up_date: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReportPayload {
    pub(crate) visit_id: String,
    pub(crate) report: ReportBody,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ScoreBody {
    #[serde(default)]
    pub(crate) total: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CompletePayload {
    pub(crate) visit_id: String,
    #[serde(default)]
    pub(crate) score: Option<ScoreBody>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CheckOutPayload {
    pub(crate) visit_id: String,
    #[serde(default)]
    pub(crate) fix: Option<LocationFix>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CancelPayload {
    pub(crate) visit_id: String,
    pub(crate) reason: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ReviewPayload {
    pub(crate) review: Review,
}

/// A supervisor's decision on a team photo (`visit.photo_review`; the entity is the photo's
/// visit). The verdict stays a string here: a bad one is refused with its own code
/// (`crate::retakes`), not as a malformed entry.
#[derive(Debug, Deserialize)]
pub(crate) struct PhotoReviewPayload {
    pub(crate) review_id: String,
    pub(crate) visit_id: String,
    pub(crate) photo_id: String,
    pub(crate) reviewer_id: String,
    pub(crate) verdict: String,
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

#[derive(Debug)]
pub(crate) enum Action {
    CheckIn(CheckInPayload),
    Answer(AnswerPayload),
    Photo(PhotoManifest),
    Report(ReportPayload),
    Complete(CompletePayload),
    CheckOut(CheckOutPayload),
    Cancel(CancelPayload),
    Review(ReviewPayload),
    PhotoReview(PhotoReviewPayload),
}

impl Action {
    pub(crate) fn visit_id(&self) -> &str {
        match self {
            Action::CheckIn(p) => &p.visit_id,
            Action::Answer(p) => &p.visit_id,
            Action::Photo(p) => &p.visit_id,
            Action::Report(p) => &p.visit_id,
            Action::Complete(p) => &p.visit_id,
            Action::CheckOut(p) => &p.visit_id,
            Action::Cancel(p) => &p.visit_id,
            Action::Review(p) => &p.review.visit_id,
            Action::PhotoReview(p) => &p.visit_id,
        }
    }

    /// The user the op says acted, where the payload names one.
    pub(crate) fn named_user(&self) -> Option<&str> {
        match self {
            Action::CheckIn(p) => Some(&p.user_id),
            Action::Photo(p) => Some(&p.user_id),
            Action::Review(p) => Some(&p.review.reviewer_id),
            Action::PhotoReview(p) => Some(&p.reviewer_id),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub(crate) struct ParsedOp {
    pub(crate) fields: EntryFields,
    pub(crate) action: Action,
}

pub(crate) fn bounded_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128
}

pub(crate) fn parse_action(kind: &str, payload: Value) -> Result<Action, String> {
    let p = |e: serde_json::Error| format!("{kind} payload: {e}");
    Ok(match kind {
        "visit.check_in" => {
            let c: CheckInPayload = serde_json::from_value(payload).map_err(p)?;
            if let Some(f) = &c.fix {
                rules::validate_fix(f)?;
            }
            Action::CheckIn(c)
        }
        "visit.answer" => Action::Answer(serde_json::from_value(payload).map_err(p)?),
        "visit.photo" => {
            let m: PhotoManifest = serde_json::from_value(payload).map_err(p)?;
            if !is_lower_hex(&m.image_sha256, 64) || m.byte_len < 0 {
                return Err("photo manifest: image_sha256 or byte_len is not valid".into());
            }
            Action::Photo(m)
        }
        "visit.report" => Action::Report(serde_json::from_value(payload).map_err(p)?),
        "visit.complete" => Action::Complete(serde_json::from_value(payload).map_err(p)?),
        "visit.check_out" => {
            let c: CheckOutPayload = serde_json::from_value(payload).map_err(p)?;
            if let Some(f) = &c.fix {
                rules::validate_fix(f)?;
            }
            Action::CheckOut(c)
        }
        "visit.cancel" => Action::Cancel(serde_json::from_value(payload).map_err(p)?),
        "visit.review" => Action::Review(serde_json::from_value(payload).map_err(p)?),
        "visit.photo_review" => {
            let r: PhotoReviewPayload = serde_json::from_value(payload).map_err(p)?;
            if !bounded_id(&r.review_id) || !bounded_id(&r.photo_id) {
                return Err("photo review: review_id or photo_id must be 1-128 bytes".into());
            }
            Action::PhotoReview(r)
        }
        other => return Err(format!("unknown op kind {other:?}")),
    })
}

/// Parse an entry far enough to apply it. `Err` is a `malformed_entry`.
pub(crate) fn parse_entry(entry: &str) -> Result<ParsedOp, String> {
    let mut fields: EntryFields = serde_json::from_str(entry).map_err(|e| e.to_string())?;
    if fields.v != evidence::ENTRY_VERSION {
        return Err(format!("entry version {} is not supported", fields.v));
    }
    if fields.seq < 1 {
        return Err(format!("seq {} is not positive", fields.seq));
    }
    if !bounded_id(&fields.op_id) || !bounded_id(&fields.entity_id) || !bounded_id(&fields.device_id) {
        return Err("op_id, entity_id and device_id must be 1-128 bytes".into());
    }
    if !is_lower_hex(&fields.prev_hash, 64) {
        return Err("prev_hash is not a SHA-256".into());
    }
    // Bounds far beyond any real device keep the clock arithmetic (here and in the core's
    // checks) clear of overflow whatever a forged entry says.
    if fields.seq > MAX_SEQ {
        return Err(format!("seq {} is out of range", fields.seq));
    }
    let t = &fields.time;
    if !(0..=MAX_WALL_MS).contains(&t.wall_ms)
        || !(0..=MAX_WALL_MS).contains(&t.boot_ms)
        || t.hlc < 0
        || t.server_offset_ms
            .is_some_and(|o| o.unsigned_abs() > MAX_WALL_MS as u64)
    {
        return Err("time fields are out of range".into());
    }
    let payload = std::mem::take(&mut fields.payload);
    let action = parse_action(&fields.kind, payload)?;
    if action.visit_id() != fields.entity_id {
        return Err("the payload's visit is not the entry's entity".into());
    }
    Ok(ParsedOp { fields, action })
}

pub(crate) fn problems_text(problems: &[VerifyCode]) -> Option<String> {
    (!problems.is_empty()).then(|| problems.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","))
}

/// The device wall time of a signed entry (a photo's capture time for a `visit.photo`), if the
/// entry reads as one.
pub(crate) fn entry_wall_ms(entry: &str) -> Option<i64> {
    parse_entry(entry).ok().map(|op| op.fields.time.wall_ms)
}

pub(crate) fn parse_photo_manifest(entry: &str) -> Result<(String, String, PhotoManifest), String> {
    let op = parse_entry(entry)?;
    match op.action {
        Action::Photo(m) => Ok((op.fields.device_id, op.fields.op_id, m)),
        _ => Err(format!(
            "the manifest is a {} entry, not visit.photo",
            op.fields.kind
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn malformed_entries_are_named() {
        assert!(parse_entry("{}").is_err());
        assert!(parse_entry("[1]").is_err());
        let e = parse_entry(
            r#"{"v":1,"device_id":"d","seq":1,"op_id":"o","kind":"visit.nope","entity_id":"v",
               "time":{"wall_ms":1,"boot_ms":1,"hlc":1,"server_offset_ms":null},
               "prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","payload":{}}"#,
        )
        .unwrap_err();
        assert!(e.contains("unknown op kind"), "{e}");
    }
}
