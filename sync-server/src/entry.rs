//! A signed chain entry read far enough to apply: its fields, the payload of each op kind, and
//! the bounds that keep a forged entry's numbers harmless. A leaf below the push (`ingest`) and
//! the photo upload (`photos`), which both read entries and store what verification found.

use fieldproof_core::evidence::{self, Malformed, MalformedCase, VerifyCode};
use fieldproof_core::rules;
use fieldproof_core::sync::wire::payload::{CheckInPayload, CheckOutPayload, Entry, OpPayload};
use serde_json::Value;

use crate::keys::is_lower_hex;

/// An entry read far enough to apply: its signed fields and its typed payload (the core's
/// schema, `fieldproof_core::sync::wire::payload`).
#[derive(Debug)]
pub(crate) struct ParsedOp {
    pub(crate) fields: Entry,
    pub(crate) action: OpPayload,
}

pub(crate) fn bounded_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128
}

/// The payload of `kind`, with the bounds the core's schema does not express.
pub(crate) fn parse_action(kind: &str, payload: Value) -> Result<OpPayload, String> {
    let action = OpPayload::decode(kind, payload)?;
    if action.entity_id().is_empty() || !bounded_id(action.entity_id()) {
        return Err("the op's customer, lead or visit id must be 1-128 bytes".into());
    }
    match &action {
        OpPayload::CheckIn(CheckInPayload { fix: Some(f), .. })
        | OpPayload::CheckOut(CheckOutPayload { fix: Some(f), .. }) => rules::validate_fix(f)?,
        OpPayload::Photo(m) if !is_lower_hex(&m.image_sha256, 64) || m.byte_len < 0 => {
            return Err("photo manifest: image_sha256 or byte_len is not valid".into());
        }
        OpPayload::PhotoReview(r) if !bounded_id(&r.review_id) || !bounded_id(&r.photo_id) => {
            return Err("photo review: review_id or photo_id must be 1-128 bytes".into());
        }
        OpPayload::CustomerPhoto(m)
            if !is_lower_hex(&m.image_sha256, 64)
                || m.byte_len < 0
                || !bounded_id(&m.photo_id)
                || !bounded_id(&m.requirement_id) =>
        {
            return Err(
                "customer photo manifest: image_sha256, byte_len, photo_id or requirement_id is not valid"
                    .into(),
            );
        }
        OpPayload::FollowUp(p) if !bounded_id(&p.follow_up_id) => {
            return Err("follow-up: follow_up_id must be 1-128 bytes".into());
        }
        OpPayload::StageChange(p) if !bounded_id(&p.stage_change_id) => {
            return Err("stage change: stage_change_id must be 1-128 bytes".into());
        }
        _ => {}
    }
    Ok(action)
}

/// Parse an entry far enough to apply it: the envelope as the format reads it (canonical form
/// and bounds: `evidence::read_entry`, the one reader of entries), then the payload as its
/// kind's. `Err` is a `malformed_entry`, with its case.
pub(crate) fn parse_entry(entry: &str) -> Result<ParsedOp, Malformed> {
    let mut fields = evidence::read_entry(entry)?;
    let payload = std::mem::take(&mut fields.payload);
    let bad = |detail: String| Malformed::new(MalformedCase::BadPayload, detail);
    let action = parse_action(&fields.kind, payload).map_err(bad)?;
    if action.entity_id() != fields.entity_id {
        return Err(bad(
            "the payload's visit, customer or lead is not the entry's entity".into(),
        ));
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

/// What the photo upload needs of a photo's manifest (`visit.photo` or `customer.photo`).
#[derive(Debug, Clone)]
pub(crate) struct PhotoEntry {
    pub(crate) device_id: String,
    pub(crate) op_id: String,
    pub(crate) photo_id: String,
    pub(crate) user_id: String,
    pub(crate) image_sha256: String,
    pub(crate) byte_len: i64,
    /// Empty for a customer's photo (it belongs to no visit).
    pub(crate) visit_id: String,
    /// `None` for a customer's photo.
    pub(crate) store_id: Option<String>,
}

/// The manifest of a photo's bytes: a `visit.photo` entry, or a `customer.photo` one (a stage's
/// evidence, uploaded and verified the same way).
pub(crate) fn parse_photo_manifest(entry: &str) -> Result<PhotoEntry, String> {
    let op = parse_entry(entry).map_err(|e| e.to_string())?;
    let (device_id, op_id) = (op.fields.device_id, op.fields.op_id);
    match op.action {
        OpPayload::Photo(m) => Ok(PhotoEntry {
            device_id,
            op_id,
            photo_id: m.photo_id,
            user_id: m.user_id,
            image_sha256: m.image_sha256,
            byte_len: m.byte_len,
            visit_id: m.visit_id,
            store_id: Some(m.store_id),
        }),
        OpPayload::CustomerPhoto(m) => Ok(PhotoEntry {
            device_id,
            op_id,
            photo_id: m.photo_id,
            user_id: m.user_id,
            image_sha256: m.image_sha256,
            byte_len: m.byte_len,
            visit_id: String::new(),
            store_id: None,
        }),
        _ => Err(format!(
            "the manifest is a {} entry, not visit.photo or customer.photo",
            op.fields.kind
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Test entries are written readably; a device sends them in canonical form.
    fn canon(entry: &str) -> String {
        evidence::canonical_json(&serde_json::from_str(entry).unwrap())
    }

    #[test]
    fn malformed_entries_are_named() {
        assert_eq!(parse_entry("{}").unwrap_err().case, MalformedCase::MissingField);
        assert_eq!(parse_entry("[1]").unwrap_err().case, MalformedCase::NotJson);
        let claim = r#"{"v":1,"device_id":"d","seq":1,"op_id":"o","kind":"customer.claim","entity_id":"c-1",
               "time":{"wall_ms":1,"boot_ms":1,"hlc":1,"server_offset_ms":null},
               "prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",
               "payload":{"customer_id":"c-1","user_id":"rep-li"}}"#;
        assert!(parse_entry(&canon(claim)).is_ok());
        // The same entry with whitespace, or a key out of order, is not what a device writes.
        assert_eq!(parse_entry(claim).unwrap_err().case, MalformedCase::NotCanonical);
        let reordered = canon(claim).replacen(
            r#"{"device_id":"d","entity_id":"c-1""#,
            r#"{"entity_id":"c-1","device_id":"d""#,
            1,
        );
        assert_eq!(
            parse_entry(&reordered).unwrap_err().case,
            MalformedCase::NotCanonical
        );
        let e = parse_entry(&canon(
            r#"{"v":1,"device_id":"d","seq":1,"op_id":"o","kind":"visit.nope","entity_id":"v",
               "time":{"wall_ms":1,"boot_ms":1,"hlc":1,"server_offset_ms":null},
               "prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","payload":{}}"#,
        ))
        .unwrap_err();
        assert_eq!(e.case, MalformedCase::BadPayload);
        assert!(e.detail.contains("unknown op kind"), "{e}");
    }

    #[test]
    fn customer_and_lead_ops_are_read() {
        let op = parse_entry(&canon(
            r#"{"v":1,"device_id":"d","seq":1,"op_id":"o","kind":"customer.claim","entity_id":"c-1",
               "time":{"wall_ms":1,"boot_ms":1,"hlc":1,"server_offset_ms":null},
               "prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",
               "payload":{"customer_id":"c-1","user_id":"rep-li"}}"#,
        ))
        .unwrap();
        assert_eq!(op.action.kind(), "customer.claim");
        // The payload's customer must be the entry's entity.
        let e = parse_entry(&canon(
            r#"{"v":1,"device_id":"d","seq":1,"op_id":"o","kind":"customer.claim","entity_id":"c-2",
               "time":{"wall_ms":1,"boot_ms":1,"hlc":1,"server_offset_ms":null},
               "prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",
               "payload":{"customer_id":"c-1","user_id":"rep-li"}}"#,
        ))
        .unwrap_err();
        assert!(e.detail.contains("entity"), "{e}");
    }
}
