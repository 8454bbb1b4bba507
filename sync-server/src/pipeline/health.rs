//! Customer health score (健康度): a weighted model over the customer's recent activities,
//! graded A/B/C, with a red warning when one part stays at zero.
//!
//! The model is configuration, not code: a [`HealthModel`] is data (stored as JSON with the
//! pipeline configuration), checked by [`HealthModel::validate`] before it is saved. Each
//! component counts one kind of customer activity (采购 purchase, 试用 trial, 活动 event, as
//! imported from the 客户活动 sheet) within its window of days, and
//!
//! ```text
//! score = 100 · Σ wᵢ · min(1, xᵢ / capᵢ) / Σ wᵢ
//! ```
//!
//! where xᵢ is the count, capᵢ the count that earns the component's full weight and wᵢ its
//! weight. The cap is our addition to the seeds' "purchases × 0.4 + trials × 0.3 + events × 0.3":
//! without it one busy customer's raw counts would leave the 0–100 scale and no grade line
//! could hold for long. The score is rounded to 0.01 (what the pages show) and graded on that
//! rounded value: A from `grade_a`, B from `grade_b`, else C. Rounding first means that three
//! purchases with the default model grade B at exactly 40.00, whatever order the floating-point
//! sum took.
//!
//! A component counted at zero on every daily run for `zero_warning_days` days running (a red
//! warning, [`zero_warnings`]) tells the owner and the supervisor that the customer has stopped
//! buying, trying or coming, before the grade alone would say so.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// The activity kinds a component may count (the 客户活动 sheet's 类型 column).
pub const ACTIVITY_KINDS: [&str; 3] = ["purchase", "trial", "event"];

/// One part of the score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthComponent {
    /// Stable name of the component (`purchases`), unique within a model.
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    /// Which activities it counts: one of [`ACTIVITY_KINDS`].
    pub activity_kind: String,
    /// Counted over the last this many days, today included.
    pub window_days: u32,
    /// The count that earns the full weight; more counts no further.
    pub cap: f64,
    pub weight: f64,
}

/// The whole model: its components, the grade lines and the zero warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthModel {
    pub components: Vec<HealthComponent>,
    /// Lowest score graded A.
    pub grade_a: f64,
    /// Lowest score graded B (below: C).
    pub grade_b: f64,
    /// Days a component must stay at zero for a red warning.
    pub zero_warning_days: u32,
}

impl Default for HealthModel {
    /// The seeds' example: purchases in the last 3 months × 0.4 (full marks at 3), new-product
    /// trials × 0.3 and event participation × 0.3 (full marks at 1 each); A from 70, B from 40;
    /// a red warning after 2 weeks at zero.
    fn default() -> HealthModel {
        let component = |key: &str, zh: &str, en: &str, kind: &str, cap: f64, weight: f64| HealthComponent {
            key: key.to_string(),
            label_zh: zh.to_string(),
            label_en: en.to_string(),
            activity_kind: kind.to_string(),
            window_days: 90,
            cap,
            weight,
        };
        HealthModel {
            components: vec![
                component(
                    "purchases",
                    "近三个月采购",
                    "Purchases, last 3 months",
                    "purchase",
                    3.0,
                    0.4,
                ),
                component("trials", "新品试用", "New-product trials", "trial", 1.0, 0.3),
                component("events", "活动参与", "Event participation", "event", 1.0, 0.3),
            ],
            grade_a: 70.0,
            grade_b: 40.0,
            zero_warning_days: 14,
        }
    }
}

/// Why a health model was refused; nothing is saved. [`ModelProblem::code`] is the message's
/// code, the fields its parameters (the component's key names it to head office).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelProblem {
    #[error("the model has no component")]
    NoComponents,
    #[error("component {index} has no key")]
    NoKey { index: usize },
    #[error("two components are called {key:?}")]
    DuplicateKey { key: String },
    #[error("component {key:?} has no name in Chinese or in English")]
    NoLabel { key: String },
    #[error("component {key:?} counts {kind:?}, which is not an activity kind (purchase, trial, event)")]
    UnknownKind { key: String, kind: String },
    #[error("component {key:?} has weight {weight}: weights must be above 0")]
    WeightNotPositive { key: String, weight: f64 },
    #[error("component {key:?} has cap {cap}: caps must be above 0")]
    CapNotPositive { key: String, cap: f64 },
    #[error("component {key:?} has a window of 0 days")]
    EmptyWindow { key: String },
    #[error("grade lines A {grade_a} and B {grade_b}: need 0 ≤ B ≤ A ≤ 100")]
    GradeLines { grade_a: f64, grade_b: f64 },
    #[error("the zero warning needs at least 1 day")]
    NoWarningDays,
}

impl ModelProblem {
    /// The message code (`health_unknown_kind`…), for rendering in the reader's language.
    pub fn code(&self) -> &'static str {
        match self {
            ModelProblem::NoComponents => "health_no_components",
            ModelProblem::NoKey { .. } => "health_no_key",
            ModelProblem::DuplicateKey { .. } => "health_duplicate_key",
            ModelProblem::NoLabel { .. } => "health_no_label",
            ModelProblem::UnknownKind { .. } => "health_unknown_kind",
            ModelProblem::WeightNotPositive { .. } => "health_weight_not_positive",
            ModelProblem::CapNotPositive { .. } => "health_cap_not_positive",
            ModelProblem::EmptyWindow { .. } => "health_empty_window",
            ModelProblem::GradeLines { .. } => "health_grade_lines",
            ModelProblem::NoWarningDays => "health_no_warning_days",
        }
    }
}

impl HealthModel {
    /// Every problem of the model, in component order; a model that passes scores every
    /// customer within 0–100.
    pub fn validate(&self) -> Result<(), Vec<ModelProblem>> {
        let mut problems = Vec::new();
        if self.components.is_empty() {
            problems.push(ModelProblem::NoComponents);
        }
        let mut keys = BTreeSet::new();
        for (index, c) in self.components.iter().enumerate() {
            let key = c.key.trim().to_string();
            if key.is_empty() {
                problems.push(ModelProblem::NoKey { index });
            } else if !keys.insert(key.clone()) {
                problems.push(ModelProblem::DuplicateKey { key: key.clone() });
            }
            if c.label_zh.trim().is_empty() || c.label_en.trim().is_empty() {
                problems.push(ModelProblem::NoLabel { key: key.clone() });
            }
            if !ACTIVITY_KINDS.contains(&c.activity_kind.as_str()) {
                problems.push(ModelProblem::UnknownKind {
                    key: key.clone(),
                    kind: c.activity_kind.clone(),
                });
            }
            // `!(x > 0)` also refuses NaN.
            if !(c.weight.is_finite() && c.weight > 0.0) {
                problems.push(ModelProblem::WeightNotPositive {
                    key: key.clone(),
                    weight: c.weight,
                });
            }
            if !(c.cap.is_finite() && c.cap > 0.0) {
                problems.push(ModelProblem::CapNotPositive {
                    key: key.clone(),
                    cap: c.cap,
                });
            }
            if c.window_days == 0 {
                problems.push(ModelProblem::EmptyWindow { key });
            }
        }
        let (a, b) = (self.grade_a, self.grade_b);
        if !(a.is_finite() && b.is_finite() && 0.0 <= b && b <= a && a <= 100.0) {
            problems.push(ModelProblem::GradeLines {
                grade_a: a,
                grade_b: b,
            });
        }
        if self.zero_warning_days == 0 {
            problems.push(ModelProblem::NoWarningDays);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The grade of a (rounded) score.
    pub fn grade(&self, score: f64) -> Grade {
        if score >= self.grade_a {
            Grade::A
        } else if score >= self.grade_b {
            Grade::B
        } else {
            Grade::C
        }
    }
}

/// A customer activity (one row of the 客户活动 sheet) on a calendar day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    pub kind: String,
    /// Days since 1970-01-01 in the server's calendar.
    pub day: i64,
}

/// What one customer's score is computed from: each component's count, by component key
/// (a missing key counts zero).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    pub counts: BTreeMap<String, u32>,
}

impl Inputs {
    /// Counts `activities` into each component of `model`: those of its kind whose day is within
    /// the `window_days` days ending on `today` (today included; later days are not counted).
    pub fn from_activities(model: &HealthModel, today: i64, activities: &[Activity]) -> Inputs {
        let counts = model
            .components
            .iter()
            .map(|c| {
                let first = today - i64::from(c.window_days) + 1;
                let n = activities
                    .iter()
                    .filter(|a| a.kind == c.activity_kind && (first..=today).contains(&a.day))
                    .count();
                (c.key.clone(), u32::try_from(n).unwrap_or(u32::MAX))
            })
            .collect();
        Inputs { counts }
    }

    pub fn count(&self, key: &str) -> u32 {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Grade {
    A,
    B,
    C,
}

/// One component's part in a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentScore {
    pub key: String,
    /// The count xᵢ.
    pub value: u32,
    /// Its points, 100 · wᵢ · min(1, xᵢ / capᵢ) / Σ wᵢ (not rounded).
    pub points: f64,
}

/// One customer's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthResult {
    /// 0–100, rounded to 0.01.
    pub score: f64,
    pub grade: Grade,
    /// In the model's component order.
    pub components: Vec<ComponentScore>,
}

/// The score of one customer's `inputs` under `model` (the formula in the module documentation).
/// A model that fails [`HealthModel::validate`] scores 0, graded by its own lines, rather than
/// dividing by a zero or negative weight.
pub fn score(model: &HealthModel, inputs: &Inputs) -> HealthResult {
    let total_weight: f64 = model.components.iter().map(|c| c.weight).sum();
    let usable = total_weight.is_finite() && total_weight > 0.0;
    let components: Vec<ComponentScore> = model
        .components
        .iter()
        .map(|c| {
            let value = inputs.count(&c.key);
            let points = if usable && c.cap > 0.0 {
                100.0 * c.weight * (f64::from(value) / c.cap).min(1.0) / total_weight
            } else {
                0.0
            };
            ComponentScore {
                key: c.key.clone(),
                value,
                points,
            }
        })
        .collect();
    let raw: f64 = components.iter().map(|c| c.points).sum();
    let score = (raw * 100.0).round() / 100.0;
    HealthResult {
        score,
        grade: model.grade(score),
        components,
    }
}

/// How many days running, up to `today`, a component has been at zero: from the first zero
/// record after its last non-zero one to `today`, both included; 0 when the latest record is
/// not zero or there is none. `history` is (day, count) in any order; records after `today` are
/// ignored. A missing day (the nightly job did not run) neither breaks nor extends the run: the
/// component is taken to have stayed as it was.
pub fn zero_streak(history: &[(i64, u32)], today: i64) -> u32 {
    let known = history.iter().filter(|(day, _)| *day <= today);
    let last_nonzero = known.clone().filter(|(_, n)| *n > 0).map(|(day, _)| *day).max();
    let first_zero = known
        .filter(|(day, n)| *n == 0 && last_nonzero.is_none_or(|last| *day > last))
        .map(|(day, _)| *day)
        .min();
    match first_zero {
        Some(first) => u32::try_from(today - first + 1).unwrap_or(u32::MAX),
        None => 0,
    }
}

/// A red warning: `key` has been at zero since `zero_since` (a day), `days` days running.
/// (customer, key, zero_since) names one warning, so the nightly job raises it once per run of
/// zeros however many nights it lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZeroWarning {
    pub key: String,
    pub zero_since: i64,
    pub days: u32,
}

/// The components of `model` at zero for at least `zero_warning_days` days on `today`, given one
/// customer's daily inputs (`history`: (day, inputs), any order, today's included).
pub fn zero_warnings(model: &HealthModel, history: &[(i64, Inputs)], today: i64) -> Vec<ZeroWarning> {
    model
        .components
        .iter()
        .filter_map(|c| {
            let days: Vec<(i64, u32)> = history
                .iter()
                .map(|(day, inputs)| (*day, inputs.count(&c.key)))
                .collect();
            let streak = zero_streak(&days, today);
            (streak >= model.zero_warning_days && streak > 0).then(|| ZeroWarning {
                key: c.key.clone(),
                zero_since: today - i64::from(streak) + 1,
                days: streak,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_default_model_is_valid_and_round_trips_as_json() {
        let m = HealthModel::default();
        assert_eq!(m.validate(), Ok(()));
        let back: HealthModel = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }
}
