//! The pipeline's pure rules, one implementation for the phone (which refuses) and the server
//! (which re-checks and flags): how phones and company names are normalised to find duplicates,
//! which stage moves are allowed, what evidence a stage still needs, and what counts as a real
//! interaction with a customer.

use serde::{Deserialize, Serialize};

use super::{FollowUpChannel, FollowUpOutcome, NewCustomer, PipelineConfig, RequirementKind, STAGE_LOST};
use crate::evidence::sha256_hex;
use crate::model::{MissingItem, MissingKind};

/// What a duplicate matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOn {
    Phone,
    Company,
}

/// Domain separation of the customer keys: a key is never the hash of anything else.
const KEY_PREFIX: &str = "fp-customer-key-v1\n";

/// Legal forms dropped from the end of a Chinese company name, longest first.
const CJK_LEGAL_FORMS: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "集团", "公司"];

/// Legal forms dropped from the end of a Latin company name, as whole words, longest first.
const LATIN_LEGAL_FORMS: &[&[&str]] = &[
    &["co", "ltd"],
    &["co", "limited"],
    &["ltd"],
    &["limited"],
    &["inc"],
    &["llc"],
    &["corp"],
];

/// Full-width ASCII (Ａ, １, （) and the ideographic space as their half-width forms.
fn half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// A phone number as digits only, so `+86 138-0013-8000`, `0086 13800138000` and
/// `１３８００１３８０００` are one number. The country code is dropped before an 11-digit
/// mainland mobile; landlines keep their area code. `None` when there are no digits.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let digits: String = raw.chars().map(half_width).filter(char::is_ascii_digit).collect();
    let is_mobile = |d: &str| d.len() == 11 && d.starts_with('1');
    for prefix in ["0086", "86"] {
        if let Some(rest) = digits.strip_prefix(prefix)
            && is_mobile(rest)
        {
            return Some(rest.to_string());
        }
    }
    (!digits.is_empty()).then_some(digits)
}

/// A company name reduced to what tells companies apart: half-width, lower case, no spaces or
/// punctuation, and no trailing legal form (`上海某某科技有限公司` = `上海某某科技`,
/// `ACME Co., Ltd.` = `acme`). Brackets are kept as `(` `)` with what is in them, so
/// `某某科技（上海）` and `某某科技（北京）` stay two companies (分公司 are told apart by region).
pub fn normalize_company(raw: &str) -> String {
    // Punctuation becomes a space first, so Latin legal forms are only dropped as whole words
    // (`Zinc` keeps its `inc`).
    let spaced: String = raw
        .chars()
        .map(half_width)
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '(' | '[' | '【' | '〔' => '(',
            ')' | ']' | '】' | '〕' => ')',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        })
        .collect();
    let mut words: Vec<&str> = spaced.split_whitespace().collect();
    loop {
        if let Some(form) = LATIN_LEGAL_FORMS
            .iter()
            .find(|form| words.len() > form.len() && words.ends_with(form))
        {
            words.truncate(words.len() - form.len());
            continue;
        }
        let Some(last) = words.last().copied() else { break };
        let stripped = CJK_LEGAL_FORMS.iter().find_map(|form| {
            let rest = last.strip_suffix(form)?;
            // A branch (分公司) is its own customer.
            (!(*form == "公司" && rest.ends_with('分'))).then_some(rest)
        });
        match stripped {
            // A legal form written apart (`某某科技 有限公司`); never the whole name.
            Some("") if words.len() > 1 => {
                words.pop();
            }
            Some(rest) if !rest.is_empty() => {
                words.pop();
                words.push(rest);
            }
            _ => break,
        }
    }
    words.concat()
}

/// The keys a customer is found by, hashed (`sha256("fp-customer-key-v1\n" + "p:"|"c:" +
/// normalised)`), so a phone can hold other reps' customers' keys without their phone numbers.
/// One per distinct phone (its own and its contacts'), one for the company; sorted, no repeats.
pub fn dedupe_keys(customer: &NewCustomer) -> Vec<(MatchOn, String)> {
    let phones = customer
        .phones
        .iter()
        .chain(customer.contacts.iter().flat_map(|c| c.phones.iter()))
        .filter_map(|p| normalize_phone(p))
        .map(|p| {
            (
                MatchOn::Phone,
                sha256_hex(format!("{KEY_PREFIX}p:{p}").as_bytes()),
            )
        });
    let company = customer
        .company
        .as_deref()
        .map(normalize_company)
        .filter(|c| !c.is_empty())
        .map(|c| {
            (
                MatchOn::Company,
                sha256_hex(format!("{KEY_PREFIX}c:{c}").as_bytes()),
            )
        });
    let mut keys: Vec<(MatchOn, String)> = phones.chain(company).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// An allowed stage move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStep {
    /// One open stage forward, or from the last open stage to a terminal one (成交).
    Forward,
    /// Back to an earlier open stage (with a reason).
    Backward,
    /// To `lost` (流失), from any open stage (with a reason).
    Lost,
}

/// Why a stage move is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum StageMoveRefusal {
    #[error("stage {stage:?} is not in the pipeline")]
    UnknownStage { stage: String },
    #[error("the customer is already in stage {stage:?}")]
    SameStage { stage: String },
    /// 成交 and 流失 are final.
    #[error("stage {stage:?} is final")]
    FromTerminal { stage: String },
    /// Forward moves go one stage at a time; a terminal stage other than `lost` only from the
    /// last open stage.
    #[error("stage {from:?} cannot move to {to:?} in one step")]
    Skips { from: String, to: String },
    #[error("moving from {from:?} to {to:?} needs a reason")]
    ReasonRequired { from: String, to: String },
}

/// Whether a customer in stage `from` may move to `to`:
/// one open stage forward; a terminal stage other than `lost` only from the last open stage;
/// `lost` from any open stage and any backward move only with a reason (not blank); nothing
/// leaves a terminal stage. Evidence is checked separately ([`missing_for_stage`]).
pub fn stage_move(
    cfg: &PipelineConfig,
    from: &str,
    to: &str,
    reason: Option<&str>,
) -> Result<StageStep, StageMoveRefusal> {
    let position = |key: &str| {
        cfg.stages
            .iter()
            .position(|s| s.key == key)
            .ok_or_else(|| StageMoveRefusal::UnknownStage {
                stage: key.to_string(),
            })
    };
    let (from_at, to_at) = (position(from)?, position(to)?);
    let (from_stage, to_stage) = (&cfg.stages[from_at], &cfg.stages[to_at]);
    if from_at == to_at {
        return Err(StageMoveRefusal::SameStage {
            stage: from.to_string(),
        });
    }
    if from_stage.terminal {
        return Err(StageMoveRefusal::FromTerminal {
            stage: from.to_string(),
        });
    }
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    let open: Vec<usize> = (0..cfg.stages.len())
        .filter(|&i| !cfg.stages[i].terminal)
        .collect();
    let step = if to_stage.terminal && to_stage.key == STAGE_LOST {
        StageStep::Lost
    } else if to_stage.terminal {
        if open.last() != Some(&from_at) {
            return Err(StageMoveRefusal::Skips {
                from: from.to_string(),
                to: to.to_string(),
            });
        }
        StageStep::Forward
    } else {
        let rank = |at: usize| open.iter().position(|&i| i == at).unwrap_or(0);
        match rank(to_at) as i64 - rank(from_at) as i64 {
            1 => StageStep::Forward,
            d if d < 0 => StageStep::Backward,
            _ => {
                return Err(StageMoveRefusal::Skips {
                    from: from.to_string(),
                    to: to.to_string(),
                });
            }
        }
    };
    if step != StageStep::Forward && !has_reason {
        return Err(StageMoveRefusal::ReasonRequired {
            from: from.to_string(),
            to: to.to_string(),
        });
    }
    Ok(step)
}

/// What a customer has toward entering a stage: the evidence gathered since it entered its
/// current stage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceOnHand {
    /// Requirement ids with a `customer.photo` taken for them.
    #[serde(default)]
    pub photos: Vec<String>,
    /// Follow-ups logged since entering the current stage.
    #[serde(default)]
    pub follow_ups: Vec<(FollowUpChannel, FollowUpOutcome)>,
    /// Customer fields that are filled in (`industry`, `budget_cents`, …).
    #[serde(default)]
    pub fields: Vec<String>,
    /// The move carries a reason that is not blank.
    #[serde(default)]
    pub reason: bool,
}

/// The requirements of stage `to` that `on_hand` does not meet, in the stage's order, each as a
/// [`MissingItem`] whose `item_id` is the requirement id. Empty: the move is unlocked. An
/// unknown stage has no requirements (the move itself is refused by [`stage_move`]).
pub fn missing_for_stage(cfg: &PipelineConfig, to: &str, on_hand: &EvidenceOnHand) -> Vec<MissingItem> {
    let Some(stage) = cfg.stage(to) else {
        return Vec::new();
    };
    stage
        .requirements
        .iter()
        .filter_map(|req| {
            let (met, kind) = match req.kind {
                RequirementKind::Photo => (on_hand.photos.contains(&req.id), MissingKind::EvidencePhoto),
                RequirementKind::FollowUp => (
                    on_hand.follow_ups.iter().any(|(channel, outcome)| {
                        (req.channels.is_empty() || req.channels.contains(channel))
                            && (req.outcomes.is_empty() || req.outcomes.contains(outcome))
                    }),
                    MissingKind::EvidenceFollowUp,
                ),
                RequirementKind::Field => (
                    req.field.as_ref().is_some_and(|f| on_hand.fields.contains(f)),
                    MissingKind::EvidenceField,
                ),
                RequirementKind::Reason => (on_hand.reason, MissingKind::Reason),
            };
            (!met).then(|| MissingItem {
                kind,
                item_id: Some(req.id.clone()),
                label: req.label.clone(),
                retake_request_id: None,
            })
        })
        .collect()
}

/// A real interaction (真实跟进): the customer was reached or met. Only these keep a claimed
/// customer from going back to the pool; a QR-verified visit counts too (the caller knows).
pub fn counts_as_interaction(outcome: FollowUpOutcome) -> bool {
    matches!(outcome, FollowUpOutcome::Reached | FollowUpOutcome::Meeting)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::customers::{Contact, StageRequirement};

    #[test]
    fn phones_normalise() {
        for (raw, want) in [
            ("13800138000", Some("13800138000")),
            ("+86 138-0013-8000", Some("13800138000")),
            ("0086 138 0013 8000", Some("13800138000")),
            ("8613800138000", Some("13800138000")),
            ("(+86)138.0013.8000", Some("13800138000")),
            ("１３８－００１３－８０００", Some("13800138000")),
            ("＋８６ １３８００１３８０００", Some("13800138000")),
            // Landlines keep their area code; a country code before them is not guessed at.
            ("021-6123 4567", Some("02161234567")),
            ("86 21 61234567", Some("862161234567")),
            // An 11-digit number not starting with 1 is not a mobile: nothing dropped.
            ("8623800138000", Some("8623800138000")),
            ("", None),
            ("n/a", None),
        ] {
            assert_eq!(normalize_phone(raw).as_deref(), want, "{raw}");
        }
    }

    #[test]
    fn companies_normalise() {
        for (raw, want) in [
            ("上海某某科技有限公司", "上海某某科技"),
            ("上海某某科技", "上海某某科技"),
            ("上海某某科技股份有限公司", "上海某某科技"),
            ("上海某某科技有限责任公司", "上海某某科技"),
            ("上海某某科技集团有限公司", "上海某某科技"),
            ("上海某某科技公司", "上海某某科技"),
            ("上海 某某·科技 有限公司。", "上海某某科技"),
            ("上海某某科技（集团）有限公司", "上海某某科技(集团)"),
            // Region brackets are kept, full-width or not.
            ("某某科技（上海）有限公司", "某某科技(上海)"),
            ("某某科技(上海)", "某某科技(上海)"),
            ("某某科技【北京】", "某某科技(北京)"),
            // A branch stays a branch.
            ("某某科技上海分公司", "某某科技上海分公司"),
            ("ＡＣＭＥ　Ｔｒａｄｉｎｇ　Ｃｏ．，Ｌｔｄ．", "acmetrading"),
            ("Acme Trading Co., Ltd.", "acmetrading"),
            ("ACME TRADING LIMITED", "acmetrading"),
            ("Acme Inc.", "acme"),
            ("Acme, LLC", "acme"),
            // Legal forms only as whole words, and never the whole name.
            ("Zinc", "zinc"),
            ("Inc", "inc"),
            ("公司", "公司"),
            ("", ""),
        ] {
            assert_eq!(normalize_company(raw), want, "{raw}");
        }
    }

    fn entry(company: Option<&str>, phones: &[&str]) -> NewCustomer {
        NewCustomer {
            name: "王经理".into(),
            company: company.map(str::to_string),
            phones: phones.iter().map(|p| p.to_string()).collect(),
            contacts: vec![],
            industry: None,
            region: None,
            budget_cents: None,
            store_id: None,
            from_lead_id: None,
        }
    }

    #[test]
    fn equivalent_entries_have_equal_keys() {
        let a = dedupe_keys(&entry(Some("上海某某科技有限公司"), &["+86 138-0013-8000"]));
        let b = dedupe_keys(&entry(Some("上海某某科技"), &["13800138000"]));
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a[0],
            (
                MatchOn::Phone,
                sha256_hex("fp-customer-key-v1\np:13800138000".as_bytes())
            )
        );
        assert_eq!(
            a[1],
            (
                MatchOn::Company,
                sha256_hex("fp-customer-key-v1\nc:上海某某科技".as_bytes())
            )
        );
        // A contact's phone is a key too; the same number twice is one key.
        let mut c = entry(None, &["13800138000"]);
        c.contacts.push(Contact {
            name: "李工".into(),
            title: None,
            phones: vec!["0086 13800138000".into(), "13900139000".into()],
        });
        let keys = dedupe_keys(&c);
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&a[0]));
        // Another region is another company; no phone and no company, no key.
        assert_ne!(
            dedupe_keys(&entry(Some("某某科技（上海）"), &[])),
            dedupe_keys(&entry(Some("某某科技（北京）"), &[]))
        );
        assert!(dedupe_keys(&entry(Some("  "), &["—"])).is_empty());
    }

    #[test]
    fn stage_moves() {
        let cfg = PipelineConfig::default();
        use StageMoveRefusal as R;
        let skips = |f: &str, t: &str| {
            Err(R::Skips {
                from: f.into(),
                to: t.into(),
            })
        };
        let reason = |f: &str, t: &str| {
            Err(R::ReasonRequired {
                from: f.into(),
                to: t.into(),
            })
        };
        for (from, to, why, want) in [
            ("explore", "needs", None, Ok(StageStep::Forward)),
            ("needs", "demo", None, Ok(StageStep::Forward)),
            ("demo", "negotiation", None, Ok(StageStep::Forward)),
            ("negotiation", "won", None, Ok(StageStep::Forward)),
            ("explore", "demo", None, skips("explore", "demo")),
            ("explore", "demo", Some("客户着急"), skips("explore", "demo")),
            ("demo", "won", None, skips("demo", "won")),
            ("demo", "needs", None, reason("demo", "needs")),
            ("demo", "needs", Some("  "), reason("demo", "needs")),
            ("demo", "explore", Some("换了对接人"), Ok(StageStep::Backward)),
            ("explore", "lost", None, reason("explore", "lost")),
            ("explore", "lost", Some("预算取消"), Ok(StageStep::Lost)),
            ("negotiation", "lost", Some("选了竞品"), Ok(StageStep::Lost)),
            (
                "won",
                "negotiation",
                Some("x"),
                Err(R::FromTerminal { stage: "won".into() }),
            ),
            (
                "lost",
                "explore",
                Some("x"),
                Err(R::FromTerminal { stage: "lost".into() }),
            ),
            ("demo", "demo", None, Err(R::SameStage { stage: "demo".into() })),
            (
                "demo",
                "signed",
                None,
                Err(R::UnknownStage {
                    stage: "signed".into(),
                }),
            ),
            (
                "draft",
                "demo",
                None,
                Err(R::UnknownStage {
                    stage: "draft".into(),
                }),
            ),
        ] {
            assert_eq!(stage_move(&cfg, from, to, why), want, "{from} → {to} ({why:?})");
        }
    }

    #[test]
    fn missing_evidence() {
        let mut cfg = PipelineConfig::default();
        let none = EvidenceOnHand::default();
        assert!(missing_for_stage(&cfg, "needs", &none).is_empty());
        assert!(missing_for_stage(&cfg, "nowhere", &none).is_empty());
        let missing = missing_for_stage(&cfg, "negotiation", &none);
        assert_eq!(
            missing,
            vec![MissingItem {
                kind: MissingKind::EvidencePhoto,
                item_id: Some("tech_spec_form".into()),
                label: "签字的技术参数确认单".into(),
                retake_request_id: None,
            }]
        );
        let photo = EvidenceOnHand {
            photos: vec!["tech_spec_form".into()],
            ..EvidenceOnHand::default()
        };
        assert!(missing_for_stage(&cfg, "negotiation", &photo).is_empty());
        // The contract photo does not unlock 报价谈判, and the form does not unlock 成交.
        assert_eq!(
            missing_for_stage(&cfg, "won", &photo)[0].item_id.as_deref(),
            Some("contract")
        );

        // Configured requirements of every kind, checked in order.
        let demo = cfg.stages.iter_mut().find(|s| s.key == "demo").unwrap();
        let req = |id: &str, kind| StageRequirement {
            id: id.into(),
            label: id.into(),
            kind,
            channels: vec![],
            outcomes: vec![],
            field: None,
        };
        demo.requirements = vec![
            StageRequirement {
                channels: vec![FollowUpChannel::Visit],
                outcomes: vec![FollowUpOutcome::Meeting],
                ..req("met", RequirementKind::FollowUp)
            },
            StageRequirement {
                field: Some("budget_cents".into()),
                ..req("budget", RequirementKind::Field)
            },
            req("why", RequirementKind::Reason),
        ];
        let kinds = |on: &EvidenceOnHand| {
            missing_for_stage(&cfg, "demo", on)
                .into_iter()
                .map(|m| (m.kind, m.item_id.unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&none),
            [
                (MissingKind::EvidenceFollowUp, "met".to_string()),
                (MissingKind::EvidenceField, "budget".to_string()),
                (MissingKind::Reason, "why".to_string()),
            ]
        );
        let partly = EvidenceOnHand {
            // A call does not satisfy a visit requirement, nor a visit without a meeting.
            follow_ups: vec![
                (FollowUpChannel::Call, FollowUpOutcome::Meeting),
                (FollowUpChannel::Visit, FollowUpOutcome::NoAnswer),
            ],
            fields: vec!["budget_cents".into()],
            ..EvidenceOnHand::default()
        };
        assert_eq!(
            kinds(&partly),
            [
                (MissingKind::EvidenceFollowUp, "met".to_string()),
                (MissingKind::Reason, "why".to_string()),
            ]
        );
        let all = EvidenceOnHand {
            follow_ups: vec![(FollowUpChannel::Visit, FollowUpOutcome::Meeting)],
            fields: vec!["budget_cents".into()],
            reason: true,
            ..EvidenceOnHand::default()
        };
        assert!(kinds(&all).is_empty());
    }

    #[test]
    fn only_reaching_the_customer_is_an_interaction() {
        assert!(counts_as_interaction(FollowUpOutcome::Reached));
        assert!(counts_as_interaction(FollowUpOutcome::Meeting));
        for o in [
            FollowUpOutcome::NoAnswer,
            FollowUpOutcome::Declined,
            FollowUpOutcome::Other,
        ] {
            assert!(!counts_as_interaction(o), "{o:?}");
        }
    }
}
