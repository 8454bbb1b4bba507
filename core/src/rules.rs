//! Business rules as plain functions over the domain: no I/O, each finding with a stable reason
//! code. The visit flow calls them; the server will call the same ones.

use std::collections::{HashMap, HashSet};

use crate::model::*;

/// Earth radius used by the haversine distance (mean radius, metres).
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A fix older than this at check-in is flagged `stale_fix`: a cached position is a cheap fake.
pub const MAX_FIX_AGE_MS: i64 = 5 * 60 * 1000;

/// Rejects fixes no location service can produce. Messages name the field.
pub fn validate_fix(fix: &LocationFix) -> Result<(), String> {
    if !fix.latitude.is_finite() || !(-90.0..=90.0).contains(&fix.latitude) {
        return Err(format!("latitude {} is not in [-90, 90]", fix.latitude));
    }
    if !fix.longitude.is_finite() || !(-180.0..=180.0).contains(&fix.longitude) {
        return Err(format!("longitude {} is not in [-180, 180]", fix.longitude));
    }
    if !fix.accuracy_m.is_finite() || fix.accuracy_m < 0.0 {
        return Err(format!(
            "accuracy {} m must be a non-negative number",
            fix.accuracy_m
        ));
    }
    if fix.fix_time_ms <= 0 {
        return Err(format!(
            "fix time {} is not a Unix time in milliseconds",
            fix.fix_time_ms
        ));
    }
    Ok(())
}

/// Great-circle distance in metres.
pub fn distance_m(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lon2 - lon1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * a.sqrt().atan2((1.0 - a).sqrt())
}

/// The outcome of the location checks at check-in.
#[derive(Debug, Clone, PartialEq)]
pub struct GeofenceOutcome {
    pub verdict: GeofenceVerdict,
    /// Distance minus accuracy: the benefit of the doubt goes to the rep.
    pub distance_m: Option<f64>,
    pub flags: Vec<Flag>,
}

/// Store overrides template; the default is `flag`.
pub fn effective_geofence_mode(store: &Store, template: &CheckTemplate) -> GeofenceMode {
    store
        .geofence_mode
        .or(template.rules.geofence_mode)
        .unwrap_or(GeofenceMode::Flag)
}

pub fn check_location(
    store: &Store,
    rules: &TemplateRules,
    mode: GeofenceMode,
    fix: Option<&LocationFix>,
    now_wall_ms: i64,
) -> GeofenceOutcome {
    let mut flags = Vec::new();
    let Some(fix) = fix else {
        if mode != GeofenceMode::Off {
            flags.push(Flag {
                code: FlagCode::NoFix,
                item_id: None,
                detail: "checked in without a location fix".into(),
            });
        }
        let verdict = if mode == GeofenceMode::Off {
            GeofenceVerdict::NotChecked
        } else {
            GeofenceVerdict::NoFix
        };
        return GeofenceOutcome {
            verdict,
            distance_m: None,
            flags,
        };
    };
    // Mock and accuracy findings are recorded whatever the geofence mode: they are evidence.
    if fix.is_mock {
        flags.push(Flag {
            code: FlagCode::MockLocation,
            item_id: None,
            detail: "the location service reported a mock (simulated) location".into(),
        });
    }
    if fix.accuracy_m > rules.max_accuracy_m {
        flags.push(Flag {
            code: FlagCode::LowAccuracy,
            item_id: None,
            detail: format!(
                "fix accuracy {:.0} m is worse than the {:.0} m limit",
                fix.accuracy_m, rules.max_accuracy_m
            ),
        });
    }
    let age = now_wall_ms - fix.fix_time_ms;
    if age > MAX_FIX_AGE_MS {
        flags.push(Flag {
            code: FlagCode::StaleFix,
            item_id: None,
            detail: format!("fix is {} s old at check-in", age / 1000),
        });
    }
    let effective = distance_m(store.latitude, store.longitude, fix.latitude, fix.longitude) - fix.accuracy_m;
    if mode == GeofenceMode::Off {
        return GeofenceOutcome {
            verdict: GeofenceVerdict::NotChecked,
            distance_m: Some(effective),
            flags,
        };
    }
    let verdict = if effective > store.geofence_radius_m {
        flags.push(Flag {
            code: FlagCode::OutsideGeofence,
            item_id: None,
            detail: format!(
                "{:.0} m from the store after accuracy, radius {:.0} m",
                effective, store.geofence_radius_m
            ),
        });
        GeofenceVerdict::Outside
    } else {
        GeofenceVerdict::Verified
    };
    GeofenceOutcome {
        verdict,
        distance_m: Some(effective),
        flags,
    }
}

/// Checks an answer against its item; returns a normalised value (trimmed text).
pub fn validate_answer(item: &CheckItem, value: &AnswerValue) -> Result<AnswerValue, crate::Error> {
    if item.kind == ItemKind::Photo {
        return Err(crate::Error::InvalidAnswer {
            item_id: item.id.clone(),
            reason: "photo items are answered by adding photos".into(),
        });
    }
    if value.kind() != item.kind {
        return Err(crate::Error::WrongValueKind {
            item_id: item.id.clone(),
            expected: item.kind.as_str(),
            got: value.kind().as_str(),
        });
    }
    let invalid = |reason: &str| crate::Error::InvalidAnswer {
        item_id: item.id.clone(),
        reason: reason.into(),
    };
    match value {
        AnswerValue::Number { value } if !value.is_finite() => Err(invalid("number is not finite")),
        AnswerValue::Number { value } if *value < 0.0 => {
            Err(invalid("counts and measures cannot be negative"))
        }
        AnswerValue::Price { cents } if *cents < 0 => Err(invalid("price cannot be negative")),
        AnswerValue::Price { cents } if *cents > 100_000_000 => {
            Err(invalid("price above 1,000,000.00 is not a shelf price"))
        }
        AnswerValue::Choice { choice_id } if !item.choices.iter().any(|c| &c.id == choice_id) => {
            Err(crate::Error::not_found("choice", choice_id.clone()))
        }
        AnswerValue::Text { value } => {
            let t = value.trim();
            if t.is_empty() {
                return Err(invalid("text is empty"));
            }
            if t.len() > 10_000 {
                return Err(invalid("text longer than 10,000 bytes"));
            }
            Ok(AnswerValue::Text { value: t.to_string() })
        }
        v => Ok(v.clone()),
    }
}

/// Items hidden right now by their show-if condition. Evaluated in template order, so an item
/// whose controlling item is itself hidden is hidden too.
pub fn hidden_items(template: &CheckTemplate, answers: &HashMap<String, AnswerValue>) -> HashSet<String> {
    let mut hidden = HashSet::new();
    for (_, item) in template.items() {
        if let Some(cond) = &item.show_if {
            let shown = !hidden.contains(&cond.item_id) && answers.get(&cond.item_id) == Some(&cond.equals);
            if !shown {
                hidden.insert(item.id.clone());
            }
        }
    }
    hidden
}

/// What keeps the visit from being completed, in template order.
pub fn missing_for_completion(
    template: &CheckTemplate,
    answers: &HashMap<String, AnswerValue>,
    photo_counts: &HashMap<String, i32>,
    has_report: bool,
) -> Vec<MissingItem> {
    let hidden = hidden_items(template, answers);
    let mut missing = Vec::new();
    for (_, item) in template.items() {
        if !item.required || hidden.contains(&item.id) {
            continue;
        }
        if item.kind == ItemKind::Photo {
            let need = item.min_photos.unwrap_or(1).max(1);
            if photo_counts.get(&item.id).copied().unwrap_or(0) < need {
                missing.push(MissingItem {
                    kind: MissingKind::Photo,
                    item_id: Some(item.id.clone()),
                    label: item.label.clone(),
                    retake_request_id: None,
                });
            }
        } else if !answers.contains_key(&item.id) {
            missing.push(MissingItem {
                kind: MissingKind::Answer,
                item_id: Some(item.id.clone()),
                label: item.label.clone(),
                retake_request_id: None,
            });
        }
    }
    if template.rules.require_report && !has_report {
        missing.push(MissingItem {
            kind: MissingKind::Report,
            item_id: None,
            label: "visit report".into(),
            retake_request_id: None,
        });
    }
    missing
}

/// Weighted score: each section 0–100 over its visible, weighted items; the total weights the
/// sections. An unanswered item scores 0; hidden items and text items do not count.
pub fn score(
    template: &CheckTemplate,
    answers: &HashMap<String, AnswerValue>,
    photo_counts: &HashMap<String, i32>,
) -> Score {
    let hidden = hidden_items(template, answers);
    let mut sections = Vec::new();
    let (mut total_w, mut total_s) = (0.0, 0.0);
    for section in &template.sections {
        let (mut w, mut s) = (0.0, 0.0);
        for item in &section.items {
            if item.weight <= 0.0 || hidden.contains(&item.id) || item.kind == ItemKind::Text {
                continue;
            }
            let item_score = match (item.kind, answers.get(&item.id)) {
                (ItemKind::Photo, _) => {
                    let need = item.min_photos.unwrap_or(1).max(1);
                    (photo_counts.get(&item.id).copied().unwrap_or(0) as f64 / need as f64).min(1.0)
                }
                (_, None) => 0.0,
                (_, Some(AnswerValue::YesNo { value })) => f64::from(u8::from(*value)),
                (_, Some(AnswerValue::Number { value })) => match item.target {
                    Some(t) => (value / t).clamp(0.0, 1.0),
                    None => 1.0,
                },
                (_, Some(AnswerValue::Choice { choice_id })) => item
                    .choices
                    .iter()
                    .find(|c| &c.id == choice_id)
                    .map_or(0.0, |c| c.score),
                (_, Some(_)) => 1.0,
            };
            w += item.weight;
            s += item.weight * item_score;
        }
        let section_score = (w > 0.0).then(|| round1(100.0 * s / w));
        if let Some(sc) = section_score
            && section.weight > 0.0
        {
            total_w += section.weight;
            total_s += section.weight * sc;
        }
        sections.push(SectionScore {
            section_id: section.id.clone(),
            title: section.title.clone(),
            score: section_score,
            weight: section.weight,
        });
    }
    Score {
        total: (total_w > 0.0).then(|| round1(total_s / total_w)),
        sections,
    }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Competitor price items priced below our own by more than the threshold, with no negotiation
/// note on either answer: `price_gap_unexplained`.
pub fn price_gaps(
    template: &CheckTemplate,
    answers: &HashMap<String, (AnswerValue, Option<String>)>,
) -> Vec<Flag> {
    let has_note = |n: &Option<String>| n.as_deref().is_some_and(|n| !n.trim().is_empty());
    let mut flags = Vec::new();
    for (_, item) in template.items() {
        let Some(own_id) = &item.compare_to_item_id else {
            continue;
        };
        let (
            Some((AnswerValue::Price { cents: theirs }, their_note)),
            Some((AnswerValue::Price { cents: ours }, our_note)),
        ) = (answers.get(&item.id), answers.get(own_id))
        else {
            continue;
        };
        if *ours <= 0 {
            continue;
        }
        let gap = (*ours - *theirs) as f64 / *ours as f64;
        if gap > template.rules.price_gap_threshold && !has_note(their_note) && !has_note(our_note) {
            flags.push(Flag {
                code: FlagCode::PriceGapUnexplained,
                item_id: Some(item.id.clone()),
                detail: format!(
                    "competitor {} is {:.1} % below own price {} (threshold {:.0} %) with no negotiation note",
                    fmt_cents(*theirs),
                    gap * 100.0,
                    fmt_cents(*ours),
                    template.rules.price_gap_threshold * 100.0
                ),
            });
        }
    }
    flags
}

fn fmt_cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// A plan's time window: local `HH:MM` start and end, both or neither, start before end.
/// `Ok(None)` without a window; otherwise minutes after midnight `(start, end)`.
pub fn plan_window(start: Option<&str>, end: Option<&str>) -> Result<Option<(u32, u32)>, String> {
    match (start, end) {
        (None, None) => Ok(None),
        (Some(s), Some(e)) => {
            let (s, e) = (time_of_day(s)?, time_of_day(e)?);
            if s >= e {
                return Err("the window's start is not before its end".into());
            }
            Ok(Some((s, e)))
        }
        _ => Err("a window needs both a start and an end".into()),
    }
}

/// `HH:MM` (00:00 ... 24:00) as minutes after midnight.
pub fn time_of_day(s: &str) -> Result<u32, String> {
    let bad = || format!("{s:?} is not a time HH:MM");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `YYYY-MM-DD` with a real month and day.
pub fn validate_date(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !digits(0..4) || !digits(5..7) || !digits(8..10) {
        return Err(format!("{s:?} is not YYYY-MM-DD"));
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
    let (y, m, d) = (num(0..4), num(5..7), num(8..10));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(format!("{s:?} has no month {m}")),
    };
    if d == 0 || d > days {
        return Err(format!("{s:?} has no day {d}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> Store {
        Store {
            id: "s1".into(),
            code: "S1".into(),
            name: "华联超市".into(),
            address: String::new(),
            latitude: 31.2304,
            longitude: 121.4737,
            geofence_radius_m: 100.0,
            territory: "east".into(),
            geofence_mode: None,
        }
    }

    fn fix(lat: f64, lon: f64, acc: f64) -> LocationFix {
        LocationFix {
            latitude: lat,
            longitude: lon,
            accuracy_m: acc,
            provider: LocationProvider::Gps,
            is_mock: false,
            fix_time_ms: 1_000_000,
        }
    }

    #[test]
    fn distance_matches_a_known_value() {
        // One degree of latitude is ~111.2 km.
        let d = distance_m(0.0, 0.0, 1.0, 0.0);
        assert!((d - 111_195.0).abs() < 10.0, "{d}");
    }

    #[test]
    fn geofence_gives_accuracy_the_benefit_of_the_doubt() {
        let rules = TemplateRules::default();
        // ~150 m north, accuracy 60 m → 90 m effective, inside a 100 m radius.
        let f = fix(31.2304 + 150.0 / 111_195.0, 121.4737, 60.0);
        let o = check_location(&store(), &rules, GeofenceMode::Flag, Some(&f), 1_000_000);
        assert_eq!(o.verdict, GeofenceVerdict::Verified);
        let f = fix(31.2304 + 150.0 / 111_195.0, 121.4737, 20.0);
        let o = check_location(&store(), &rules, GeofenceMode::Flag, Some(&f), 1_000_000);
        assert_eq!(o.verdict, GeofenceVerdict::Outside);
        assert_eq!(o.flags[0].code, FlagCode::OutsideGeofence);
    }

    #[test]
    fn each_location_finding_has_its_code() {
        let rules = TemplateRules::default();
        let mut f = fix(31.2304, 121.4737, 500.0);
        f.is_mock = true;
        let o = check_location(
            &store(),
            &rules,
            GeofenceMode::Flag,
            Some(&f),
            1_000_000 + MAX_FIX_AGE_MS + 1,
        );
        let codes: Vec<_> = o.flags.iter().map(|f| f.code).collect();
        assert_eq!(
            codes,
            [FlagCode::MockLocation, FlagCode::LowAccuracy, FlagCode::StaleFix]
        );
        let o = check_location(&store(), &rules, GeofenceMode::Flag, None, 0);
        assert_eq!(
            (o.verdict, o.flags[0].code),
            (GeofenceVerdict::NoFix, FlagCode::NoFix)
        );
        let o = check_location(&store(), &rules, GeofenceMode::Off, None, 0);
        assert_eq!((o.verdict, o.flags.len()), (GeofenceVerdict::NotChecked, 0));
    }

    #[test]
    fn bad_fixes_are_refused() {
        for f in [
            fix(f64::NAN, 0.0, 1.0),
            fix(91.0, 0.0, 1.0),
            fix(0.0, -180.5, 1.0),
            fix(0.0, f64::INFINITY, 1.0),
            fix(0.0, 0.0, -1.0),
            fix(0.0, 0.0, f64::NAN),
        ] {
            assert!(validate_fix(&f).is_err(), "{f:?}");
        }
        assert!(validate_fix(&fix(-90.0, 180.0, 0.0)).is_ok());
    }

    #[test]
    fn dates_are_checked_for_real() {
        assert!(validate_date("2026-11-23").is_ok());
        assert!(validate_date("2024-02-29").is_ok());
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-11-31",
            "26-11-23",
            "2026/11/23",
            "2026-11-2x",
            "",
        ] {
            assert!(validate_date(bad).is_err(), "{bad}");
        }
    }
}
