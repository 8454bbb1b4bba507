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
use crate::customers::{Contact, EvidenceRef, FollowUpChannel, FollowUpOutcome, NewCustomer, StoreCodeCheck};
use crate::model::{
    AnswerValue, EventTime, FlagCode, GeofenceVerdict, LocationFix, LocationProvider, ObjectionKind,
    PhotoKind, PhotoReviewVerdict, ReviewVerdict, SectionScore, TemplateKind,
};

/// A signed chain entry, as read back (`evidence::read_entry` checks it).
pub use crate::evidence::Entry;

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
    /// The store code the rep scanned to check in (扫码签到). Left out when there is none, so
    /// check-ins without one stay byte for byte as they were before QR check-in existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_code: Option<StoreCodeProof>,
}

/// A scanned store code as a check-in carries it: the text as scanned (the server verifies it
/// again) and what the phone read from it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoreCodeProof {
    pub text: String,
    pub kid: String,
    pub step: i64,
}

impl From<&StoreCodeCheck> for StoreCodeProof {
    fn from(c: &StoreCodeCheck) -> Self {
        StoreCodeProof {
            text: c.text.clone(),
            kid: c.kid.clone(),
            step: c.step,
        }
    }
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

// --- customers and leads (`crate::customers`) ------------------------------------------------
// Every entity is a customer or a lead (`OpPayload::entity_id`), never a visit. Each payload
// names the acting rep (`user_id`), checked against the device's user like a check-in's.

/// `customer.create`: a customer the rep entered (or a lead converted, `from_lead_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerCreatePayload {
    pub customer_id: String,
    pub user_id: String,
    /// The customer as the rep entered it: the same fields, at the top level of the payload.
    #[serde(flatten)]
    pub customer: NewCustomer,
    /// The stage it starts in.
    pub stage: String,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `customer.update`: the customer's contacts and budget as they are now (replacing both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerUpdatePayload {
    pub customer_id: String,
    pub user_id: String,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub budget_cents: Option<i64>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `customer.follow_up`: a call, visit or message, on a customer or on a lead (the entity is
/// the customer when there is one, else the lead).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUpPayload {
    pub follow_up_id: String,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub lead_id: Option<String>,
    pub user_id: String,
    pub channel: Code<FollowUpChannel>,
    pub outcome: Code<FollowUpOutcome>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub next_step: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub next_date: Option<String>,
    #[serde(default)]
    pub visit_id: Option<String>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `customer.stage`: a stage move and the evidence it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChangePayload {
    pub stage_change_id: String,
    pub customer_id: String,
    pub user_id: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub evidence: Vec<EvidenceRef>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `customer.photo`: a stage-evidence photo's manifest. The evidence fields are those of
/// [`PhotoManifest`] and are checked the same way (`evidence::verify_photo`); the photo belongs
/// to a customer and a stage requirement instead of a visit and a store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerPhotoManifest {
    pub photo_id: String,
    pub customer_id: String,
    pub requirement_id: String,
    pub user_id: String,
    pub photo_kind: Code<PhotoKind>,
    pub image_sha256: String,
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
    pub evidence_code: String,
    #[serde(default)]
    pub utc_offset_minutes: i32,
    #[serde(default)]
    pub location: Option<ManifestLocation>,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `customer.claim`: take a customer from the pool (公海).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerClaimPayload {
    pub customer_id: String,
    pub user_id: String,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `customer.release`: give a customer back to the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerReleasePayload {
    pub customer_id: String,
    pub user_id: String,
    pub reason: String,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `lead.claim`: the rep takes a lead routed to them (or from the pool); the response time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadClaimPayload {
    pub lead_id: String,
    pub user_id: String,
    #[serde(default)]
    pub time: Option<EventTime>,
}

/// `lead.close`: a lead that came to nothing (a converted lead is a `customer.create` with
/// `from_lead_id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadClosePayload {
    pub lead_id: String,
    pub user_id: String,
    pub reason: String,
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
    CustomerCreate(CustomerCreatePayload),
    CustomerUpdate(CustomerUpdatePayload),
    FollowUp(FollowUpPayload),
    StageChange(StageChangePayload),
    CustomerPhoto(CustomerPhotoManifest),
    CustomerClaim(CustomerClaimPayload),
    CustomerRelease(CustomerReleasePayload),
    LeadClaim(LeadClaimPayload),
    LeadClose(LeadClosePayload),
}

/// Every op kind, as entries spell it.
pub const OP_KINDS: [&str; 18] = [
    "visit.check_in",
    "visit.answer",
    "visit.photo",
    "visit.report",
    "visit.complete",
    "visit.check_out",
    "visit.cancel",
    "visit.review",
    "visit.photo_review",
    "customer.create",
    "customer.update",
    "customer.follow_up",
    "customer.stage",
    "customer.photo",
    "customer.claim",
    "customer.release",
    "lead.claim",
    "lead.close",
];

/// The op kinds about customers and leads, whose entity is not a visit.
pub const PIPELINE_OP_KINDS: [&str; 9] = [
    "customer.create",
    "customer.update",
    "customer.follow_up",
    "customer.stage",
    "customer.photo",
    "customer.claim",
    "customer.release",
    "lead.claim",
    "lead.close",
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
            OpPayload::CustomerCreate(_) => 9,
            OpPayload::CustomerUpdate(_) => 10,
            OpPayload::FollowUp(_) => 11,
            OpPayload::StageChange(_) => 12,
            OpPayload::CustomerPhoto(_) => 13,
            OpPayload::CustomerClaim(_) => 14,
            OpPayload::CustomerRelease(_) => 15,
            OpPayload::LeadClaim(_) => 16,
            OpPayload::LeadClose(_) => 17,
        }]
    }

    /// The visit the op is about; `None` for the ops about customers and leads.
    pub fn visit_id(&self) -> Option<&str> {
        Some(match self {
            OpPayload::CheckIn(p) => &p.visit_id,
            OpPayload::Answer(p) => &p.visit_id,
            OpPayload::Photo(p) => &p.visit_id,
            OpPayload::Report(p) => &p.visit_id,
            OpPayload::Complete(p) => &p.visit_id,
            OpPayload::CheckOut(p) => &p.visit_id,
            OpPayload::Cancel(p) => &p.visit_id,
            OpPayload::Review(p) => &p.review.visit_id,
            OpPayload::PhotoReview(p) => &p.visit_id,
            _ => return None,
        })
    }

    /// What the op is about, which must be the entry's `entity_id`: its visit, customer or lead.
    /// A follow-up is about its customer, or its lead when it has no customer yet.
    pub fn entity_id(&self) -> &str {
        if let Some(visit_id) = self.visit_id() {
            return visit_id;
        }
        match self {
            OpPayload::CustomerCreate(p) => &p.customer_id,
            OpPayload::CustomerUpdate(p) => &p.customer_id,
            OpPayload::FollowUp(p) => p.customer_id.as_deref().or(p.lead_id.as_deref()).unwrap_or(""),
            OpPayload::StageChange(p) => &p.customer_id,
            OpPayload::CustomerPhoto(p) => &p.customer_id,
            OpPayload::CustomerClaim(p) => &p.customer_id,
            OpPayload::CustomerRelease(p) => &p.customer_id,
            OpPayload::LeadClaim(p) => &p.lead_id,
            OpPayload::LeadClose(p) => &p.lead_id,
            // Visit ops returned above.
            _ => "",
        }
    }

    /// The user the op says acted, where the payload names one.
    pub fn named_user(&self) -> Option<&str> {
        match self {
            OpPayload::CheckIn(p) => Some(&p.user_id),
            OpPayload::Photo(p) => Some(&p.user_id),
            OpPayload::Review(p) => Some(&p.review.reviewer_id),
            OpPayload::PhotoReview(p) => Some(&p.reviewer_id),
            OpPayload::CustomerCreate(p) => Some(&p.user_id),
            OpPayload::CustomerUpdate(p) => Some(&p.user_id),
            OpPayload::FollowUp(p) => Some(&p.user_id),
            OpPayload::StageChange(p) => Some(&p.user_id),
            OpPayload::CustomerPhoto(p) => Some(&p.user_id),
            OpPayload::CustomerClaim(p) => Some(&p.user_id),
            OpPayload::CustomerRelease(p) => Some(&p.user_id),
            OpPayload::LeadClaim(p) => Some(&p.user_id),
            OpPayload::LeadClose(p) => Some(&p.user_id),
            OpPayload::Answer(_)
            | OpPayload::Report(_)
            | OpPayload::Complete(_)
            | OpPayload::CheckOut(_)
            | OpPayload::Cancel(_) => None,
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
            OpPayload::CustomerCreate(p) => serde_json::to_value(p),
            OpPayload::CustomerUpdate(p) => serde_json::to_value(p),
            OpPayload::FollowUp(p) => serde_json::to_value(p),
            OpPayload::StageChange(p) => serde_json::to_value(p),
            OpPayload::CustomerPhoto(p) => serde_json::to_value(p),
            OpPayload::CustomerClaim(p) => serde_json::to_value(p),
            OpPayload::CustomerRelease(p) => serde_json::to_value(p),
            OpPayload::LeadClaim(p) => serde_json::to_value(p),
            OpPayload::LeadClose(p) => serde_json::to_value(p),
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
            "customer.create" => OpPayload::CustomerCreate(read(kind, payload)?),
            "customer.update" => OpPayload::CustomerUpdate(read(kind, payload)?),
            "customer.follow_up" => OpPayload::FollowUp(read(kind, payload)?),
            "customer.stage" => OpPayload::StageChange(read(kind, payload)?),
            "customer.photo" => OpPayload::CustomerPhoto(read(kind, payload)?),
            "customer.claim" => OpPayload::CustomerClaim(read(kind, payload)?),
            "customer.release" => OpPayload::CustomerRelease(read(kind, payload)?),
            "lead.claim" => OpPayload::LeadClaim(read(kind, payload)?),
            "lead.close" => OpPayload::LeadClose(read(kind, payload)?),
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
        assert_eq!(op.visit_id(), Some("v"));
        assert_eq!(op.entity_id(), "v");
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

    fn time() -> Option<EventTime> {
        Some(EventTime {
            wall_ms: 1_796_000_000_000,
            boot_ms: 3_600_000,
            hlc: 117_702_656_000_000_000,
            server_offset_ms: Some(-1200),
        })
    }

    /// One full payload of each customer and lead kind, with the entity it must be about.
    fn pipeline_payloads() -> Vec<(OpPayload, &'static str)> {
        let contact = Contact {
            name: "李工".into(),
            title: Some("技术总监".into()),
            phones: vec!["13900139000".into()],
        };
        vec![
            (
                OpPayload::CustomerCreate(CustomerCreatePayload {
                    customer_id: "c-1".into(),
                    user_id: "rep-li".into(),
                    customer: NewCustomer {
                        name: "王经理".into(),
                        company: Some("上海某某科技有限公司".into()),
                        phones: vec!["+86 138-0013-8000".into()],
                        contacts: vec![contact.clone()],
                        industry: Some("医疗".into()),
                        region: Some("SH-E".into()),
                        budget_cents: Some(50_000_000),
                        store_id: Some("st-201".into()),
                        from_lead_id: Some("l-1".into()),
                    },
                    stage: "explore".into(),
                    time: time(),
                }),
                "c-1",
            ),
            (
                OpPayload::CustomerUpdate(CustomerUpdatePayload {
                    customer_id: "c-1".into(),
                    user_id: "rep-li".into(),
                    contacts: vec![contact],
                    budget_cents: None,
                    time: time(),
                }),
                "c-1",
            ),
            (
                OpPayload::FollowUp(FollowUpPayload {
                    follow_up_id: "f-1".into(),
                    customer_id: Some("c-1".into()),
                    lead_id: Some("l-1".into()),
                    user_id: "rep-li".into(),
                    channel: FollowUpChannel::Visit.into(),
                    outcome: FollowUpOutcome::Meeting.into(),
                    note: "看了样机".into(),
                    next_step: Some("报价".into()),
                    next_date: Some("2026-12-09".into()),
                    visit_id: Some("v-1".into()),
                    time: time(),
                }),
                "c-1",
            ),
            (
                OpPayload::FollowUp(FollowUpPayload {
                    follow_up_id: "f-2".into(),
                    customer_id: None,
                    lead_id: Some("l-1".into()),
                    user_id: "rep-li".into(),
                    channel: FollowUpChannel::Call.into(),
                    outcome: FollowUpOutcome::NoAnswer.into(),
                    note: String::new(),
                    next_step: None,
                    next_date: None,
                    visit_id: None,
                    time: time(),
                }),
                "l-1",
            ),
            (
                OpPayload::StageChange(StageChangePayload {
                    stage_change_id: "s-1".into(),
                    customer_id: "c-1".into(),
                    user_id: "rep-li".into(),
                    from: "demo".into(),
                    to: "negotiation".into(),
                    reason: None,
                    evidence: vec![EvidenceRef {
                        requirement_id: "tech_spec_form".into(),
                        photo_id: Some("p-1".into()),
                        follow_up_id: None,
                    }],
                    time: time(),
                }),
                "c-1",
            ),
            (
                OpPayload::CustomerPhoto(CustomerPhotoManifest {
                    photo_id: "p-1".into(),
                    customer_id: "c-1".into(),
                    requirement_id: "tech_spec_form".into(),
                    user_id: "rep-li".into(),
                    photo_kind: PhotoKind::Document.into(),
                    image_sha256: "ab".repeat(32),
                    original_sha256: "cd".repeat(32),
                    byte_len: 123_456,
                    width: 1536,
                    height: 2048,
                    source_width: 3024,
                    source_height: 4032,
                    orientation: 6,
                    phash: "0f0f0f0f0f0f0f0f".into(),
                    evidence_code: "7K2Q-9XMA".into(),
                    utc_offset_minutes: 480,
                    location: Some(ManifestLocation {
                        lat_e7: Some(312_304_000),
                        lon_e7: Some(1_214_737_000),
                        accuracy_cm: Some(1200),
                        provider: Some(LocationProvider::Gps.into()),
                        is_mock: false,
                        fix_time_ms: Some(1_796_000_000_000),
                    }),
                    time: time(),
                }),
                "c-1",
            ),
            (
                OpPayload::CustomerClaim(CustomerClaimPayload {
                    customer_id: "c-2".into(),
                    user_id: "rep-li".into(),
                    time: time(),
                }),
                "c-2",
            ),
            (
                OpPayload::CustomerRelease(CustomerReleasePayload {
                    customer_id: "c-2".into(),
                    user_id: "rep-li".into(),
                    reason: "客户已转给代理商".into(),
                    time: time(),
                }),
                "c-2",
            ),
            (
                OpPayload::LeadClaim(LeadClaimPayload {
                    lead_id: "l-1".into(),
                    user_id: "rep-li".into(),
                    time: time(),
                }),
                "l-1",
            ),
            (
                OpPayload::LeadClose(LeadClosePayload {
                    lead_id: "l-2".into(),
                    user_id: "rep-li".into(),
                    reason: "空号".into(),
                    time: time(),
                }),
                "l-2",
            ),
        ]
    }

    #[test]
    fn every_customer_and_lead_kind_round_trips_through_signed_bytes() {
        let payloads = pipeline_payloads();
        let mut kinds: Vec<&str> = payloads.iter().map(|(p, _)| p.kind()).collect();
        kinds.dedup();
        assert_eq!(kinds, PIPELINE_OP_KINDS);
        assert_eq!(&OP_KINDS[9..], PIPELINE_OP_KINDS);
        for (op, entity) in payloads {
            let kind = op.kind();
            // As the core signs it, and as the server reads it back from those bytes.
            let bytes = crate::evidence::canonical_json(&op.to_value().unwrap());
            let back = OpPayload::decode(kind, serde_json::from_str(&bytes).unwrap()).unwrap();
            assert_eq!(back, op, "{kind}");
            assert_eq!(crate::evidence::canonical_json(&back.to_value().unwrap()), bytes);
            assert_eq!(
                (back.kind(), back.entity_id(), back.visit_id()),
                (kind, entity, None)
            );
            assert_eq!(back.named_user(), Some("rep-li"), "{kind}");
            if let OpPayload::CustomerCreate(c) = &back {
                let entered = c.customer.clone();
                assert_eq!(
                    (entered.company.as_deref(), entered.from_lead_id.as_deref()),
                    (Some("上海某某科技有限公司"), Some("l-1"))
                );
                assert_eq!(crate::customers::dedupe_keys(&entered).len(), 3);
            }
        }
    }

    #[test]
    fn newer_customer_codes_and_fields_still_read() {
        let p = OpPayload::decode(
            "customer.follow_up",
            serde_json::json!({"follow_up_id": "f", "customer_id": "c", "user_id": "u",
                "channel": "wechat_video", "outcome": "signed", "mood": "good"}),
        )
        .unwrap();
        let OpPayload::FollowUp(f) = p else {
            panic!("{p:?}")
        };
        assert_eq!((f.channel.as_str(), f.outcome.known()), ("wechat_video", None));
        assert_eq!(f.note, "");
        // A follow-up about nothing has no entity, so no entry can carry it.
        let p = OpPayload::decode(
            "customer.follow_up",
            serde_json::json!({"follow_up_id": "f", "user_id": "u", "channel": "call", "outcome": "reached"}),
        )
        .unwrap();
        assert_eq!(p.entity_id(), "");
    }

    #[test]
    fn a_check_in_without_a_store_code_is_byte_for_byte_as_before() {
        // As apps wrote check-ins before QR check-in existed.
        let old = serde_json::json!({
            "visit_id": "v", "kind": "store_check", "user_id": "u", "store_id": "s",
            "template_id": "t", "template_version": 2, "plan_id": null, "fix": null,
            "geofence": "verified", "distance_m": null, "flags": [], "time": null,
        });
        let bytes = crate::evidence::canonical_json(&old);
        let p = OpPayload::decode("visit.check_in", old).unwrap();
        let OpPayload::CheckIn(c) = &p else {
            panic!("{p:?}")
        };
        assert_eq!(c.store_code, None);
        assert_eq!(crate::evidence::canonical_json(&p.to_value().unwrap()), bytes);
        assert!(!bytes.contains("store_code"));

        let mut scanned = c.clone();
        scanned.store_code = Some(StoreCodeProof::from(&StoreCodeCheck {
            text: "fpsc1:s:k1:59866666:00".into(),
            store_id: "s".into(),
            kid: "k1".into(),
            step: 59_866_666,
            steps_off: 0,
        }));
        let value = serde_json::to_value(&scanned).unwrap();
        assert_eq!(value["store_code"]["step"], 59_866_666);
        let back = OpPayload::decode("visit.check_in", value).unwrap();
        assert_eq!(back, OpPayload::CheckIn(scanned));
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
            (
                "customer.follow_up",
                serde_json::json!({"follow_up_id": "f", "customer_id": "c", "user_id": "u",
                "channel": 1, "outcome": "reached"}),
            ),
            (
                "customer.stage",
                serde_json::json!({"stage_change_id": "s", "customer_id": "c", "user_id": "u",
                "from": "demo"}),
            ),
            (
                "customer.photo",
                serde_json::json!({"photo_id": "p", "customer_id": "c", "requirement_id": "r",
                "user_id": "u", "photo_kind": "document", "image_sha256": "ab",
                "byte_len": -1, "evidence_code": "X", "orientation": 300}),
            ),
            (
                "customer.release",
                serde_json::json!({"customer_id": "c", "user_id": "u"}),
            ),
            ("lead.close", serde_json::json!({"lead_id": "l", "user_id": "u"})),
        ] {
            assert!(OpPayload::decode(kind, payload).is_err(), "{kind}");
        }
    }
}
