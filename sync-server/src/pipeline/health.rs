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
//! rounded value: A from `grade_a`, B from `grade_b`, else C. Rounding first keeps a score that is
//! exactly on a line on it: with weights 0.1, 0.2 and 0.9 and A from 75, a customer with only the
//! third component full scores 75 (A), not the 74.999… the floating-point sum gives.
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

    /// SplitMix64: reproducible data without a dependency.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % n
        }
    }

    const TODAY: i64 = 20_800;

    /// 500 customers, each with up to 12 activities over the last 150 days (some in the future
    /// of `TODAY`, which must not count).
    fn seeded_customers() -> Vec<Vec<Activity>> {
        let mut rng = Rng(500);
        (0..500)
            .map(|_| {
                let n = rng.below(13);
                (0..n)
                    .map(|_| Activity {
                        kind: ["purchase", "purchase", "trial", "event"][rng.below(4) as usize].to_string(),
                        day: TODAY - 150 + rng.below(153) as i64,
                    })
                    .collect()
            })
            .collect()
    }

    /// The formula written out here, with its own window test, for (purchase, trial, event)
    /// weights and caps and one window.
    fn by_hand(
        acts: &[Activity],
        weights: [f64; 3],
        caps: [f64; 3],
        window: i64,
        lines: (f64, f64),
    ) -> (f64, Grade) {
        let mut x = [0.0f64; 3];
        for a in acts {
            let age = TODAY - a.day;
            if (0..window).contains(&age) {
                let i = ["purchase", "trial", "event"]
                    .iter()
                    .position(|k| *k == a.kind)
                    .unwrap();
                x[i] += 1.0;
            }
        }
        let mut weighted = 0.0;
        for i in 0..3 {
            weighted += weights[i] * if x[i] >= caps[i] { 1.0 } else { x[i] / caps[i] };
        }
        let raw = 100.0 * weighted / (weights[0] + weights[1] + weights[2]);
        let score = (raw * 100.0).round() / 100.0;
        let grade = if score >= lines.0 {
            Grade::A
        } else if score >= lines.1 {
            Grade::B
        } else {
            Grade::C
        };
        (score, grade)
    }

    fn with_weights(weights: [f64; 3]) -> HealthModel {
        let mut m = HealthModel::default();
        for (c, w) in m.components.iter_mut().zip(weights) {
            c.weight = w;
        }
        m
    }

    #[test]
    fn the_default_model_is_valid_and_round_trips_as_json() {
        let m = HealthModel::default();
        assert_eq!(m.validate(), Ok(()));
        let back: HealthModel = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn five_hundred_customers_score_as_the_formula_says() {
        let model = HealthModel::default();
        let customers = seeded_customers();
        let mut grades = BTreeMap::new();
        for acts in &customers {
            let got = score(&model, &Inputs::from_activities(&model, TODAY, acts));
            let (want, grade) = by_hand(acts, [0.4, 0.3, 0.3], [3.0, 1.0, 1.0], 90, (70.0, 40.0));
            assert!((got.score - want).abs() < 1e-9, "{got:?} vs {want} for {acts:?}");
            assert_eq!(got.grade, grade, "{got:?}");
            let points: f64 = got.components.iter().map(|c| c.points).sum();
            assert!((points - got.score).abs() < 0.006);
            assert!((0.0..=100.0).contains(&got.score));
            *grades.entry(got.grade).or_insert(0) += 1;
        }
        // The seed spreads the customers over all three grades.
        assert_eq!(grades.len(), 3, "{grades:?}");
    }

    #[test]
    fn changed_weights_change_the_grades() {
        let customers = seeded_customers();
        let before = HealthModel::default();
        let weights = [0.1, 0.1, 0.8];
        let after = with_weights(weights);
        assert_eq!(after.validate(), Ok(()));
        let mut changed = 0;
        for acts in &customers {
            let g0 = score(&before, &Inputs::from_activities(&before, TODAY, acts)).grade;
            let got = score(&after, &Inputs::from_activities(&after, TODAY, acts));
            let (want, grade) = by_hand(acts, weights, [3.0, 1.0, 1.0], 90, (70.0, 40.0));
            assert!((got.score - want).abs() < 1e-9);
            assert_eq!(got.grade, grade);
            changed += usize::from(g0 != got.grade);
        }
        assert!(changed > 0);
        // The grade lines are configuration too.
        let strict = HealthModel {
            grade_a: 95.0,
            grade_b: 60.0,
            ..HealthModel::default()
        };
        let full = Inputs::from_activities(
            &strict,
            TODAY,
            &[("purchase", 3), ("trial", 1)]
                .iter()
                .flat_map(|(k, n)| {
                    (0..*n).map(|_| Activity {
                        kind: k.to_string(),
                        day: TODAY,
                    })
                })
                .collect::<Vec<_>>(),
        );
        assert_eq!(score(&HealthModel::default(), &full).grade, Grade::A);
        assert_eq!(score(&strict, &full).grade, Grade::B);
    }

    #[test]
    fn a_score_on_the_line_takes_the_higher_grade() {
        // Three purchases only: 40 points, B.
        let model = HealthModel::default();
        let three: Vec<Activity> = (0..3)
            .map(|d| Activity {
                kind: "purchase".into(),
                day: TODAY - d,
            })
            .collect();
        let r = score(&model, &Inputs::from_activities(&model, TODAY, &three));
        assert_eq!((r.score, r.grade), (40.0, Grade::B));
        assert_eq!(r.components[0].value, 3);
        // A fourth counts no further (cap 3).
        let mut four = three.clone();
        four.push(Activity {
            kind: "purchase".into(),
            day: TODAY,
        });
        assert_eq!(
            score(&model, &Inputs::from_activities(&model, TODAY, &four)).score,
            40.0
        );
        // Everything: 100, A; nothing: 0, C.
        let all = Inputs {
            counts: [("purchases", 9), ("trials", 2), ("events", 1)]
                .map(|(k, n)| (k.to_string(), n))
                .into(),
        };
        assert_eq!(score(&model, &all).score, 100.0);
        let none = score(&model, &Inputs::default());
        assert_eq!((none.score, none.grade), (0.0, Grade::C));
        // 100·0.9/(0.1+0.2+0.9) is 74.999… in floats: rounded first, it is on the A line.
        let mut tight = with_weights([0.1, 0.2, 0.9]);
        tight.grade_a = 75.0;
        let one_event = Inputs {
            counts: [("events".to_string(), 1)].into(),
        };
        let raw: f64 = score(&tight, &one_event)
            .components
            .iter()
            .map(|c| c.points)
            .sum();
        assert!(raw < 75.0, "{raw}");
        let r = score(&tight, &one_event);
        assert_eq!((r.score, r.grade), (75.0, Grade::A));
    }

    #[test]
    fn the_window_includes_today_and_its_first_day_only() {
        let model = HealthModel::default();
        let at = |day| {
            vec![Activity {
                kind: "event".into(),
                day,
            }]
        };
        let count = |day| Inputs::from_activities(&model, TODAY, &at(day)).count("events");
        assert_eq!(count(TODAY), 1);
        assert_eq!(count(TODAY - 89), 1);
        assert_eq!(count(TODAY - 90), 0);
        assert_eq!(count(TODAY + 1), 0);
        // Another kind is not counted.
        let trial = Inputs::from_activities(
            &model,
            TODAY,
            &[Activity {
                kind: "trial".into(),
                day: TODAY,
            }],
        );
        assert_eq!((trial.count("events"), trial.count("trials")), (0, 1));
    }

    #[test]
    fn models_with_problems_are_refused_with_each_problem() {
        let mut m = HealthModel::default();
        m.components[0].weight = 0.0;
        m.components[1].cap = -1.0;
        m.components[1].activity_kind = "visit".into();
        m.components[2].key = "purchases".into();
        m.components[2].window_days = 0;
        m.components[2].weight = f64::NAN;
        m.grade_a = 30.0;
        m.zero_warning_days = 0;
        let problems = m.validate().unwrap_err();
        let codes: Vec<&str> = problems.iter().map(ModelProblem::code).collect();
        assert_eq!(
            codes,
            [
                "health_weight_not_positive",
                "health_unknown_kind",
                "health_cap_not_positive",
                "health_duplicate_key",
                "health_weight_not_positive",
                "health_empty_window",
                "health_grade_lines",
                "health_no_warning_days",
            ]
        );
        assert_eq!(
            problems[1],
            ModelProblem::UnknownKind {
                key: "trials".into(),
                kind: "visit".into()
            }
        );
        let empty = HealthModel {
            components: vec![],
            ..HealthModel::default()
        };
        assert_eq!(empty.validate(), Err(vec![ModelProblem::NoComponents]));
        // A refused model never divides by zero: it scores 0.
        let zero = with_weights([0.0, 0.0, 0.0]);
        let r = score(
            &zero,
            &Inputs {
                counts: [("purchases".to_string(), 3)].into(),
            },
        );
        assert_eq!(r.score, 0.0);
        // From JSON as head office would save it: an unknown kind is a typed problem, not a parse error.
        let json = serde_json::to_string(&HealthModel::default())
            .unwrap()
            .replace("\"event\"", "\"party\"");
        let parsed: HealthModel = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed.validate().unwrap_err()[0].code(), "health_unknown_kind");
    }

    #[test]
    fn zero_streak_counts_days_since_the_last_non_zero_record() {
        let days = |v: &[(i64, u32)]| v.to_vec();
        assert_eq!(zero_streak(&[], TODAY), 0);
        assert_eq!(zero_streak(&days(&[(TODAY, 2)]), TODAY), 0);
        assert_eq!(zero_streak(&days(&[(TODAY - 1, 2), (TODAY, 0)]), TODAY), 1);
        // 14 zero days, unordered, with a non-zero day before them.
        let mut h: Vec<(i64, u32)> = (0..14).map(|d| (TODAY - d, 0)).collect();
        h.push((TODAY - 20, 1));
        h.reverse();
        assert_eq!(zero_streak(&h, TODAY), 14);
        // A missing night inside the run neither breaks it nor adds to it.
        h.retain(|(d, _)| *d != TODAY - 5);
        assert_eq!(zero_streak(&h, TODAY), 14);
        // Records after today are ignored; a non-zero one today ends the run.
        h.push((TODAY + 1, 5));
        assert_eq!(zero_streak(&h, TODAY), 14);
        h.push((TODAY, 1));
        assert_eq!(zero_streak(&h, TODAY), 0);
    }

    #[test]
    fn a_component_at_zero_for_two_weeks_gives_a_red_warning() {
        let model = HealthModel::default();
        // Purchases every night; events at zero from TODAY-13 (a 14-day run), at one before.
        let night = |day: i64| {
            let events = u32::from(day < TODAY - 13);
            (
                day,
                Inputs {
                    counts: [("purchases".to_string(), 2), ("events".to_string(), events)].into(),
                },
            )
        };
        let history: Vec<(i64, Inputs)> = (TODAY - 30..=TODAY).map(night).collect();
        let warnings = zero_warnings(&model, &history, TODAY);
        // Trials were never recorded above zero: at zero for all 31 recorded days.
        assert_eq!(
            warnings,
            [
                ZeroWarning {
                    key: "trials".into(),
                    zero_since: TODAY - 30,
                    days: 31
                },
                ZeroWarning {
                    key: "events".into(),
                    zero_since: TODAY - 13,
                    days: 14
                },
            ]
        );
        // A day earlier the events run was 13 days: no warning yet, and the same run keeps the
        // same zero_since the next night (one warning per run).
        let yesterday = zero_warnings(&model, &history[..history.len() - 1], TODAY - 1);
        assert!(yesterday.iter().all(|w| w.key != "events"));
        let mut next = history.clone();
        next.push(night(TODAY + 1));
        let tomorrow = zero_warnings(&model, &next, TODAY + 1);
        assert!(tomorrow.contains(&ZeroWarning {
            key: "events".into(),
            zero_since: TODAY - 13,
            days: 15
        }));
        // Weekly warning days are configuration.
        let patient = HealthModel {
            zero_warning_days: 40,
            ..HealthModel::default()
        };
        assert!(zero_warnings(&patient, &history, TODAY).is_empty());
    }
}
