//! A code (an enum value such as a flag code or a photo kind) as it travels in a signed payload:
//! one this build knows, or one a newer build added, kept exactly as spelt. An old server must
//! store a newer phone's op rather than refuse it for a word it has not learnt yet, and what it
//! stores must still say what the phone said.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::customers::{CustomerState, FollowUpChannel, FollowUpOutcome, LeadState, MatchOn};
use crate::model::{
    FlagCode, GeofenceVerdict, LocationProvider, ObjectionKind, PhotoKind, PhotoReviewVerdict, ReviewVerdict,
    TemplateKind,
};

/// An enum whose values travel as fixed lower-case words.
pub trait WireCode: Copy + Sized + 'static {
    /// Every value, in declaration order.
    const ALL: &'static [Self];
    /// The word that travels (the serde spelling; a test keeps the two equal).
    fn as_str(self) -> &'static str;
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Code<T> {
    Known(T),
    /// A word this build does not know: a newer build's. Kept as sent.
    Newer(String),
}

impl<T: WireCode> Code<T> {
    /// The word as it travels.
    pub fn as_str(&self) -> &str {
        match self {
            Code::Known(t) => t.as_str(),
            Code::Newer(s) => s,
        }
    }

    /// The value, when this build knows it.
    pub fn known(&self) -> Option<T> {
        match self {
            Code::Known(t) => Some(*t),
            Code::Newer(_) => None,
        }
    }

    /// Read a word: known, or kept as a newer one.
    pub fn parse(s: &str) -> Code<T> {
        match T::ALL.iter().copied().find(|t| t.as_str() == s) {
            Some(t) => Code::Known(t),
            None => Code::Newer(s.to_string()),
        }
    }
}

impl<T> From<T> for Code<T> {
    fn from(t: T) -> Self {
        Code::Known(t)
    }
}

impl<T: WireCode> fmt::Display for Code<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<T: WireCode> Serialize for Code<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de, T: WireCode> Deserialize<'de> for Code<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Only a string: a number or an object where a code belongs is still malformed.
        let s = String::deserialize(d)?;
        Ok(Code::parse(&s))
    }
}

macro_rules! wire_codes {
    ($($t:ty { $($v:ident => $s:literal),+ $(,)? })+) => {$(
        impl WireCode for $t {
            const ALL: &'static [Self] = &[$(<$t>::$v),+];
            fn as_str(self) -> &'static str {
                match self {
                    $(<$t>::$v => $s),+
                }
            }
        }
    )+};
}

// The words of the enums whose `as_str` the model does not have. The others delegate below, so
// each word is written once.
wire_codes! {
    TemplateKind { StoreCheck => "store_check", Inspection => "inspection" }
    LocationProvider { Gps => "gps", Network => "network", Fused => "fused", Unknown => "unknown" }
    ObjectionKind {
        Price => "price",
        Delivery => "delivery",
        Qualification => "qualification",
        Other => "other",
    }
    ReviewVerdict { Accept => "accept", Flag => "flag" }
    PhotoKind {
        ShelfOverview => "shelf_overview",
        CompetitorCloseUp => "competitor_close_up",
        DisplayMeasurement => "display_measurement",
        Other => "other",
        Document => "document",
    }
    FollowUpChannel { Call => "call", Visit => "visit", Message => "message" }
    FollowUpOutcome {
        Reached => "reached",
        Meeting => "meeting",
        NoAnswer => "no_answer",
        Declined => "declined",
        Other => "other",
    }
    CustomerState { Owned => "owned", Pool => "pool", Duplicate => "duplicate", Closed => "closed" }
    LeadState {
        New => "new",
        Assigned => "assigned",
        Claimed => "claimed",
        Pool => "pool",
        Converted => "converted",
        Lost => "lost",
        Duplicate => "duplicate",
    }
    MatchOn { Phone => "phone", Company => "company" }
}

impl WireCode for FlagCode {
    const ALL: &'static [Self] = &crate::model::ALL_FLAG_CODES;
    fn as_str(self) -> &'static str {
        FlagCode::as_str(self)
    }
}

impl WireCode for GeofenceVerdict {
    const ALL: &'static [Self] = &[
        GeofenceVerdict::Verified,
        GeofenceVerdict::Outside,
        GeofenceVerdict::NoFix,
        GeofenceVerdict::NotChecked,
    ];
    fn as_str(self) -> &'static str {
        GeofenceVerdict::as_str(self)
    }
}

impl WireCode for PhotoReviewVerdict {
    const ALL: &'static [Self] = &[
        PhotoReviewVerdict::Approve,
        PhotoReviewVerdict::Reject,
        PhotoReviewVerdict::Retake,
    ];
    fn as_str(self) -> &'static str {
        PhotoReviewVerdict::as_str(self)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Every word equals the serde spelling of the model's enum, both ways.
    fn agrees<T: WireCode + Serialize + for<'de> Deserialize<'de> + PartialEq + fmt::Debug>() {
        for t in T::ALL {
            let json = serde_json::to_string(t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *t);
            let code: Code<T> = serde_json::from_str(&json).unwrap();
            assert_eq!(code, Code::Known(*t));
            assert_eq!(serde_json::to_string(&code).unwrap(), json);
        }
    }

    #[test]
    fn words_are_the_serde_spelling() {
        agrees::<TemplateKind>();
        agrees::<LocationProvider>();
        agrees::<ObjectionKind>();
        agrees::<ReviewVerdict>();
        agrees::<PhotoKind>();
        agrees::<FlagCode>();
        agrees::<GeofenceVerdict>();
        agrees::<PhotoReviewVerdict>();
        agrees::<FollowUpChannel>();
        agrees::<FollowUpOutcome>();
        agrees::<CustomerState>();
        agrees::<LeadState>();
        agrees::<MatchOn>();
    }

    #[test]
    fn a_newer_word_is_kept_and_written_back_as_sent() {
        let c: Code<FlagCode> = serde_json::from_str("\"battery_low\"").unwrap();
        assert_eq!(c, Code::Newer("battery_low".into()));
        assert_eq!(c.known(), None);
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"battery_low\"");
        assert!(serde_json::from_str::<Code<FlagCode>>("12").is_err());
        assert!(serde_json::from_str::<Code<FlagCode>>("{}").is_err());
    }
}
