//! The payload of every op kind: the one schema the core writes into signed entries, the server
//! reads when it applies them, and the server's pages read back from stored entries.
//! `docs/evidence-format.md` is the prose version.
//!
//! Read tolerantly, so a newer app's ops still apply on an older server:
//! - a field this build does not know is ignored (no `deny_unknown_fields`);
//! - a code this build does not know is kept as spelt ([`Code::Newer`]), an answer of a kind
//!   it does not know as its JSON ([`AnswerBody::Newer`]);
//! - a field the server never required stays optional (`#[serde(default)]`), so entries of
//!   older apps keep reading; the core always writes every field.
//!
//! The signature covers the entry's exact bytes: readers verify those bytes and never
//! re-serialise a parsed payload to check it. Written entries are canonical JSON (sorted keys,
//! `evidence::canonical_json`), so field order here does not matter; `None` is written as `null`
//! except where a field says otherwise.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::code::Code;
use crate::model::{
    AnswerValue, EventTime, FlagCode, GeofenceVerdict, LocationFix, LocationProvider, ObjectionKind,
    PhotoKind, PhotoReviewVerdict, ReviewVerdict, SectionScore, TemplateKind,
};

/// A signed chain entry, as read back: everything the device signed. The core writes it with
/// `evidence::entry_bytes`; the payload stays JSON until its kind is known ([`OpPayload::decode`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// `evidence::ENTRY_VERSION`.
    pub v: i64,
    pub device_id: String,
    pub seq: i64,
    pub op_id: String,
    /// `visit.check_in`, … ([`OpPayload::kind`]).
    pub kind: String,
    pub entity_id: String,
    pub time: EventTime,
    pub prev_hash: String,
    pub payload: Value,
}

/// A flag as the device recorded it (the model's `Flag` with a code that may be newer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceFlag {
    pub code: Code<FlagCode>,
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub detail: String,
}

impl From<&crate::model::Flag> for DeviceFlag {
    fn from(f: &crate::model::Flag) -> Self {
        DeviceFlag {
            code: f.code.into(),
            item_id: f.item_id.clone(),
            detail: f.detail.clone(),
        }
    }
}

/// `visit.check_in`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckInPayload {
    pub visit_id: String,
    pub kind: Code<TemplateKind>,
    pub user_id: String,
    pub store_id: String,
    pub template_id: String,
    pub template_version: u32,
    #[serde(default)]
    pub plan_id: Option<String>,
    #[serde(default)]
    pub fix: Option<LocationFix>,
    /// The phone's own verdict (the server computes its own from the fix).
    #[serde(default)]
    pub geofence: Option<Code<GeofenceVerdict>>,
    #[serde(default)]
    pub distance_m: Option<f64>,
    #[serde(default)]
    pub flags: Vec<DeviceFlag>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// An answer's value: the model's typed value, or a newer app's kind of answer as its JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerBody {
    Known(AnswerValue),
    Newer(Value),
}

/// `visit.answer`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerPayload {
    pub visit_id: String,
    pub item_id: String,
    pub value: AnswerBody,
    #[serde(default)]
    pub note: Option<String>,
    pub revision: u32,
    #[serde(default)]
    pub raised: Vec<DeviceFlag>,
    /// Flag codes the answer cleared (kept as words: a newer code clears as well).
    #[serde(default)]
    pub cleared: Vec<String>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// Where a photo was taken: integers only (1e-7 degrees, centimetres), so every verifier reads
/// the same values. Optional fields: a manifest is read as the device wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestLocation {
    #[serde(default)]
    pub lat_e7: Option<i64>,
    #[serde(default)]
    pub lon_e7: Option<i64>,
    #[serde(default)]
    pub accuracy_cm: Option<i64>,
    #[serde(default)]
    pub provider: Option<Code<LocationProvider>>,
    #[serde(default)]
    pub is_mock: bool,
    #[serde(default)]
    pub fix_time_ms: Option<i64>,
}

/// A photo of another visit this one looks like (perceptual-hash distance).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReuseMatch {
    #[serde(default)]
    pub photo_id: String,
    #[serde(default)]
    pub visit_id: String,
    #[serde(default)]
    pub distance: u32,
}

/// `visit.photo`: the photo manifest, signed before the bytes travel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoManifest {
    pub photo_id: String,
    pub visit_id: String,
    pub store_id: String,
    #[serde(default)]
    pub store_code: String,
    pub user_id: String,
    #[serde(default)]
    pub item_id: Option<String>,
    pub photo_kind: Code<PhotoKind>,
    /// SHA-256 of the stamped photo, lower-case hex.
    pub image_sha256: String,
    /// SHA-256 of the camera's JPEG before stamping; the evidence code is derived from it.
    #[serde(default)]
    pub original_sha256: String,
    pub byte_len: i64,
    #[serde(default)]
    pub width: u32,
    #[serde(default)]
    pub height: u32,
    #[serde(default)]
    pub source_width: u32,
    #[serde(default)]
    pub source_height: u32,
    #[serde(default)]
    pub orientation: u8,
    #[serde(default)]
    pub phash: String,
    /// The code burned into the photo (防伪码).
    pub evidence_code: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
    #[serde(default)]
    pub location: Option<ManifestLocation>,
    #[serde(default)]
    pub possible_reuse_of: Vec<ReuseMatch>,
    /// The retake request this photo answers. Left out when there is none, so manifests of
    /// ordinary photos stay as they were before retakes existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retake_request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectionBody {
    pub kind: Code<ObjectionKind>,
    #[serde(default)]
    pub detail: String,
}

/// The rep's visit report (拜访报告) as it travels and as the server stores it
/// (`reports.body`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportBody {
    pub notes: String,
    #[serde(default)]
    pub objections: Vec<ObjectionBody>,
    #[serde(default)]
    pub next_steps: Vec<String>,
    /// `YYYY-MM-DD`, when the rep set a follow-up.
    #[serde(default)]
    pub follow_up_date: Option<String>,
}

impl From<&crate::model::VisitReport> for ReportBody {
    fn from(r: &crate::model::VisitReport) -> Self {
        ReportBody {
            notes: r.notes.clone(),
            objections: r
                .objections
                .iter()
                .map(|o| ObjectionBody {
                    kind: o.kind.into(),
                    detail: o.detail.clone(),
                })
                .collect(),
            next_steps: r.next_steps.clone(),
            follow_up_date: r.follow_up_date.clone(),
        }
    }
}

/// `visit.report`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportPayload {
    pub visit_id: String,
    pub report: ReportBody,
    #[serde(default)]
    pub time: Option<EventTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreBody {
    /// 0–100, fixed at completion.
    #[serde(default)]
    pub total: Option<f64>,
    #[serde(default)]
    pub sections: Vec<SectionScore>,
}

/// `visit.complete`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletePayload {
    pub visit_id: String,
    #[serde(default)]
    pub score: Option<ScoreBody>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `visit.check_out`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutPayload {
    pub visit_id: String,
    #[serde(default)]
    pub fix: Option<LocationFix>,
    #[serde(default)]
    pub distance_m: Option<f64>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `visit.cancel`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelPayload {
    pub visit_id: String,
    pub reason: String,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// A supervisor's verdict on a rep's visit (the model's `Review`, verdict possibly newer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitReviewBody {
    pub id: String,
    pub visit_id: String,
    pub reviewer_id: String,
    pub verdict: Code<ReviewVerdict>,
    pub comment: String,
    pub reviewed_at_ms: i64,
}

impl From<&crate::model::Review> for VisitReviewBody {
    fn from(r: &crate::model::Review) -> Self {
        VisitReviewBody {
            id: r.id.clone(),
            visit_id: r.visit_id.clone(),
            reviewer_id: r.reviewer_id.clone(),
            verdict: r.verdict.into(),
            comment: r.comment.clone(),
            reviewed_at_ms: r.reviewed_at_ms,
        }
    }
}

/// `visit.review`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewPayload {
    pub review: VisitReviewBody,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `visit.photo_review`: a supervisor's decision on a team photo (the entity is the photo's
/// visit). A verdict the server does not know is refused by its own rules, with its own code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoReviewPayload {
    pub review_id: String,
    pub visit_id: String,
    pub photo_id: String,
    pub reviewer_id: String,
    pub verdict: Code<PhotoReviewVerdict>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// One op's payload, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum OpPayload {
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

/// Every op kind, as entries spell it.
pub const OP_KINDS: [&str; 9] = [
    "visit.check_in",
    "visit.answer",
    "visit.photo",
    "visit.report",
    "visit.complete",
    "visit.check_out",
    "visit.cancel",
    "visit.review",
    "visit.photo_review",
];

impl OpPayload {
    /// The entry's `kind`.
    pub fn kind(&self) -> &'static str {
        OP_KINDS[match self {
            OpPayload::CheckIn(_) => 0,
            OpPayload::Answer(_) => 1,
            OpPayload::Photo(_) => 2,
            OpPayload::Report(_) => 3,
            OpPayload::Complete(_) => 4,
            OpPayload::CheckOut(_) => 5,
            OpPayload::Cancel(_) => 6,
            OpPayload::Review(_) => 7,
            OpPayload::PhotoReview(_) => 8,
        }]
    }

    /// The visit the op is about (every op's entity is a visit).
    pub fn visit_id(&self) -> &str {
        match self {
            OpPayload::CheckIn(p) => &p.visit_id,
            OpPayload::Answer(p) => &p.visit_id,
            OpPayload::Photo(p) => &p.visit_id,
            OpPayload::Report(p) => &p.visit_id,
            OpPayload::Complete(p) => &p.visit_id,
            OpPayload::CheckOut(p) => &p.visit_id,
            OpPayload::Cancel(p) => &p.visit_id,
            OpPayload::Review(p) => &p.review.visit_id,
            OpPayload::PhotoReview(p) => &p.visit_id,
        }
    }

    /// The user the op says acted, where the payload names one.
    pub fn named_user(&self) -> Option<&str> {
        match self {
            OpPayload::CheckIn(p) => Some(&p.user_id),
            OpPayload::Photo(p) => Some(&p.user_id),
            OpPayload::Review(p) => Some(&p.review.reviewer_id),
            OpPayload::PhotoReview(p) => Some(&p.reviewer_id),
            _ => None,
        }
    }

    /// The payload as JSON, for signing.
    pub fn to_value(&self) -> serde_json::Result<Value> {
        match self {
            OpPayload::CheckIn(p) => serde_json::to_value(p),
            OpPayload::Answer(p) => serde_json::to_value(p),
            OpPayload::Photo(p) => serde_json::to_value(p),
            OpPayload::Report(p) => serde_json::to_value(p),
            OpPayload::Complete(p) => serde_json::to_value(p),
            OpPayload::CheckOut(p) => serde_json::to_value(p),
            OpPayload::Cancel(p) => serde_json::to_value(p),
            OpPayload::Review(p) => serde_json::to_value(p),
            OpPayload::PhotoReview(p) => serde_json::to_value(p),
        }
    }

    /// Read a payload of `kind`. `Err` names the kind and the field (a `malformed_entry` on
    /// the server); an unknown kind is an error too: an op this build cannot apply.
    pub fn decode(kind: &str, payload: Value) -> Result<OpPayload, String> {
        fn read<T: for<'de> Deserialize<'de>>(kind: &str, payload: Value) -> Result<T, String> {
            serde_json::from_value(payload).map_err(|e| format!("{kind} payload: {e}"))
        }
        Ok(match kind {
            "visit.check_in" => OpPayload::CheckIn(read(kind, payload)?),
            "visit.answer" => OpPayload::Answer(read(kind, payload)?),
            "visit.photo" => OpPayload::Photo(read(kind, payload)?),
            "visit.report" => OpPayload::Report(read(kind, payload)?),
            "visit.complete" => OpPayload::Complete(read(kind, payload)?),
            "visit.check_out" => OpPayload::CheckOut(read(kind, payload)?),
            "visit.cancel" => OpPayload::Cancel(read(kind, payload)?),
            "visit.review" => OpPayload::Review(read(kind, payload)?),
            "visit.photo_review" => OpPayload::PhotoReview(read(kind, payload)?),
            other => return Err(format!("unknown op kind {other:?}")),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_entry_schema_is_what_entry_bytes_writes() {
        let payload = serde_json::json!({"visit_id": "v", "reason": "closed", "time": null});
        let time = EventTime {
            wall_ms: 1,
            boot_ms: 2,
            hlc: 3,
            server_offset_ms: None,
        };
        let bytes = crate::evidence::entry_bytes(
            &crate::evidence::EntryHeader {
                device_id: "d",
                seq: 1,
                op_id: "o",
                kind: "visit.cancel",
                entity_id: "v",
                time,
                prev_hash: "00",
            },
            &payload,
        );
        let entry: Entry = serde_json::from_str(&bytes).unwrap();
        assert_eq!(entry.v, crate::evidence::ENTRY_VERSION);
        assert_eq!(entry.time, time);
        // Nothing of the entry is lost or added by the schema.
        let again = crate::evidence::canonical_json(&serde_json::to_value(&entry).unwrap());
        assert_eq!(again, bytes);
        let op = OpPayload::decode(&entry.kind, entry.payload).unwrap();
        assert_eq!(op.kind(), "visit.cancel");
        assert_eq!(op.visit_id(), "v");
    }

    #[test]
    fn kinds_round_trip() {
        for kind in OP_KINDS {
            // Every kind decodes to a payload whose kind it is (the error names a missing field,
            // not the kind).
            let e = OpPayload::decode(kind, serde_json::json!({})).unwrap_err();
            assert!(e.starts_with(&format!("{kind} payload: missing field")), "{e}");
        }
        assert!(OpPayload::decode("visit.teleport", serde_json::json!({})).is_err());
    }

    #[test]
    fn a_newer_apps_fields_and_codes_still_read() {
        let p = OpPayload::decode(
            "visit.check_in",
            serde_json::json!({
                "visit_id": "v", "kind": "merchandising", "user_id": "u", "store_id": "s",
                "template_id": "t", "template_version": 2, "geofence": "indoor_beacon",
                "flags": [{"code": "battery_low", "item_id": null, "detail": "", "severity": 3}],
                "weather": "rain",
            }),
        )
        .unwrap();
        let OpPayload::CheckIn(c) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(c.kind.as_str(), "merchandising");
        assert_eq!(c.geofence.as_ref().map(|g| g.as_str()), Some("indoor_beacon"));
        assert_eq!(c.flags[0].code, Code::Newer("battery_low".into()));
        assert_eq!(p.kind(), "visit.check_in");

        let a = OpPayload::decode(
            "visit.answer",
            serde_json::json!({"visit_id": "v", "item_id": "i", "revision": 1,
                "value": {"kind": "date", "value": "2026-01-01"}}),
        )
        .unwrap();
        let OpPayload::Answer(a) = a else { panic!() };
        assert_eq!(
            a.value,
            AnswerBody::Newer(serde_json::json!({"kind": "date", "value": "2026-01-01"}))
        );
    }

    #[test]
    fn what_was_refused_stays_refused() {
        // A code must be a word, a required field present, a number a number.
        for (kind, payload) in [
            (
                "visit.check_in",
                serde_json::json!({"visit_id": "v", "kind": 3, "user_id": "u",
                "store_id": "s", "template_id": "t", "template_version": 1}),
            ),
            (
                "visit.check_in",
                serde_json::json!({"visit_id": "v", "kind": "store_check",
                "user_id": "u", "store_id": "s", "template_id": "t", "template_version": -1}),
            ),
            ("visit.cancel", serde_json::json!({"visit_id": "v"})),
            ("visit.report", serde_json::json!({"visit_id": "v", "report": {}})),
        ] {
            assert!(OpPayload::decode(kind, payload).is_err(), "{kind}");
        }
    }
}
