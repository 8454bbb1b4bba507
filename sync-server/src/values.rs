//! Words for stored values, in the reader's language: yes/no, numbers, prices, distances and
//! durations, visit kinds, photo kinds, a visit report's fields and objection kinds, and a
//! check template's own labels for its sections, items and choices. The pages, the export and
//! the exception sentences (`crate::messages`) all format values here, so a price or a
//! distance reads the same everywhere. A leaf over `crate::i18n` and the core's model.

use std::collections::HashMap;

use fieldproof_core::model::{AnswerValue, CheckTemplate};
use fieldproof_core::sync::wire::payload::ReportBody;

use crate::i18n::Lang;

/// (key, English, 中文)
const WORDS: &[(&str, &str, &str)] = &[
    ("yes", "Yes", "是"),
    ("no", "No", "否"),
    ("visit_kind.store_check", "Store check", "巡店"),
    ("visit_kind.inspection", "Supervisor inspection", "督导检查"),
    ("visit_kind.other", "Visit", "拜访"),
    ("photo_kind.shelf_overview", "Shelf overview", "货架全景"),
    (
        "photo_kind.competitor_close_up",
        "Competitor close-up",
        "竞品特写",
    ),
    (
        "photo_kind.display_measurement",
        "Display measurement",
        "陈列测量",
    ),
    ("photo_kind.other", "Other photo", "其他照片"),
    ("photo_kind.document", "Signed document", "单据照片"),
    ("objection.price", "Price", "价格"),
    ("objection.delivery", "Delivery", "配送"),
    ("objection.qualification", "Qualification", "资质"),
    ("objection.other", "Other", "其他"),
    ("report.notes", "Notes", "拜访纪要"),
    ("report.objections", "Objections", "客户异议"),
    ("report.next_steps", "Next steps", "下一步"),
    ("report.follow_up_date", "Follow-up date", "跟进日期"),
    (
        "unknown_item",
        "Item no longer in the template",
        "模板中已没有该项目",
    ),
    (
        "unknown_choice",
        "Option no longer in the template",
        "模板中已没有该选项",
    ),
    ("visit_status.in_progress", "In progress", "进行中"),
    ("visit_status.completed", "Completed", "已完成"),
    ("visit_status.checked_out", "Checked out", "已签退"),
    ("visit_status.cancelled", "Cancelled", "已取消"),
    ("exception_status.open", "Open", "待处理"),
    ("exception_status.assigned", "Assigned", "已指派"),
    ("exception_status.resolved", "Resolved", "已解决"),
    ("exception_status.dismissed", "Dismissed", "已驳回"),
    ("geofence.verified", "Inside", "围栏内"),
    ("geofence.outside", "Outside", "围栏外"),
    ("geofence.no_fix", "No location", "无定位"),
    ("geofence.low_accuracy", "Low accuracy", "定位精度低"),
    ("geofence.stale_fix", "Stale location", "定位过时"),
    ("geofence.not_checked", "Not checked", "未检查"),
    ("geofence.off", "Not checked", "未检查"),
    ("geofence.unknown_store", "Unknown store", "未知门店"),
    ("unit.m", "m", "米"),
    ("unit.s", "s", "秒"),
    ("unit.min", "min", "分钟"),
    ("unit.h", "h", "小时"),
    ("unit.day", "days", "天"),
];

/// The word for `key` in `lang`; a key missing from the table shows as itself (a test keeps
/// every key used here in the table).
fn word(lang: Lang, key: &str) -> &str {
    match WORDS.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, zh)) => match lang {
            Lang::En => en,
            Lang::Zh => zh,
        },
        None => key,
    }
}

/// The word for `<group>.<value>`, when the table has one.
fn known(lang: Lang, group: &str, value: &str) -> Option<&'static str> {
    WORDS
        .iter()
        .find(|(k, _, _)| k.strip_prefix(group).and_then(|r| r.strip_prefix('.')) == Some(value))
        .map(|(_, en, zh)| match lang {
            Lang::En => *en,
            Lang::Zh => *zh,
        })
}

/// 是 / 否, Yes / No.
pub fn yes_no(lang: Lang, value: bool) -> String {
    word(lang, if value { "yes" } else { "no" }).to_string()
}

/// A number as a person writes it: `5.0` → `5`, `2.50` → `2.5`, at most two decimals.
pub fn number(value: f64) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let rounded = (value * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 && rounded.abs() < 1e15 {
        return format!("{}", rounded as i64);
    }
    let s = format!("{rounded:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A price in fen as yuan: `¥12.50`.
pub fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    format!("{sign}¥{}.{:02}", c / 100, c % 100)
}

/// A percentage: `25.5%`.
pub fn percent(value: f64) -> String {
    format!("{}%", number((value * 10.0).round() / 10.0))
}

/// Metres, whole: `590 m`, `590 米`.
pub fn metres(lang: Lang, m: f64) -> String {
    format!("{} {}", number(m.round()), word(lang, "unit.m"))
}

/// A length of time in the largest unit that keeps it readable: `45 s`, `12 min`, `3 h`,
/// `2 days` (rounded; the sign is dropped, sentences say which way).
pub fn duration_s(lang: Lang, seconds: i64) -> String {
    let s = seconds.unsigned_abs() as f64;
    let (n, unit) = if s < 90.0 {
        (s, "unit.s")
    } else if s < 90.0 * 60.0 {
        (s / 60.0, "unit.min")
    } else if s < 36.0 * 3600.0 {
        (s / 3600.0, "unit.h")
    } else {
        (s / 86_400.0, "unit.day")
    };
    format!("{} {}", number(n.round()), word(lang, unit))
}

/// A visit's kind (`visits.kind`): 巡店 for a rep's store check, 督导检查 for a supervisor's
/// inspection; a kind this server does not know reads as a visit.
pub fn visit_kind(lang: Lang, kind: &str) -> String {
    known(lang, "visit_kind", kind)
        .unwrap_or(word(lang, "visit_kind.other"))
        .to_string()
}

/// A photo's kind (`photos.photo_kind`); an unknown kind reads as "other photo".
pub fn photo_kind(lang: Lang, kind: &str) -> String {
    known(lang, "photo_kind", kind)
        .unwrap_or(word(lang, "photo_kind.other"))
        .to_string()
}

/// An objection's kind in a visit report; an unknown kind reads as "other".
pub fn objection_kind(lang: Lang, kind: &str) -> String {
    known(lang, "objection", kind)
        .unwrap_or(word(lang, "objection.other"))
        .to_string()
}

/// A visit's status (`visits.status`) in words; an unknown status shows as itself.
pub fn visit_status(lang: Lang, status: &str) -> String {
    known(lang, "visit_status", status).unwrap_or(status).to_string()
}

/// An exception's state in the queue (`exceptions.status`) in words; an unknown state shows as
/// itself.
pub fn exception_status(lang: Lang, status: &str) -> String {
    known(lang, "exception_status", status)
        .unwrap_or(status)
        .to_string()
}

/// A visit's geofence verdict (`visits.geofence`) in words; an unknown verdict shows as itself.
pub fn geofence(lang: Lang, verdict: &str) -> String {
    known(lang, "geofence", verdict).unwrap_or(verdict).to_string()
}

/// The labels a check template gives its sections, items and choices, as head office wrote
/// them (from the `templates.body` JSON: the core's `CheckTemplate`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateLabels {
    pub name: String,
    /// Sections in the template's order.
    pub sections: Vec<SectionLabels>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SectionLabels {
    pub id: String,
    pub title: String,
    pub items: Vec<ItemLabels>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemLabels {
    pub id: String,
    pub label: String,
    /// choice id → label, for choice items.
    pub choices: HashMap<String, String>,
}

impl TemplateLabels {
    /// From a stored template body; None when it is not a template.
    pub fn from_body(body: &str) -> Option<TemplateLabels> {
        let t: CheckTemplate = serde_json::from_str(body).ok()?;
        Some(TemplateLabels::from_template(&t))
    }

    pub fn from_template(t: &CheckTemplate) -> TemplateLabels {
        TemplateLabels {
            name: t.name.clone(),
            sections: t
                .sections
                .iter()
                .map(|s| SectionLabels {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    items: s
                        .items
                        .iter()
                        .map(|i| ItemLabels {
                            id: i.id.clone(),
                            label: i.label.clone(),
                            choices: i
                                .choices
                                .iter()
                                .map(|c| (c.id.clone(), c.label.clone()))
                                .collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The item and the title of its section.
    fn find(&self, item_id: &str) -> Option<(&SectionLabels, &ItemLabels)> {
        self.sections
            .iter()
            .find_map(|s| s.items.iter().find(|i| i.id == item_id).map(|i| (s, i)))
    }

    pub fn item(&self, item_id: &str) -> Option<&str> {
        self.find(item_id).map(|(_, i)| i.label.as_str())
    }

    pub fn section_of(&self, item_id: &str) -> Option<&str> {
        self.find(item_id).map(|(s, _)| s.title.as_str())
    }

    pub fn choice(&self, item_id: &str, choice_id: &str) -> Option<&str> {
        self.find(item_id)
            .and_then(|(_, i)| i.choices.get(choice_id))
            .map(String::as_str)
    }

    /// Position of the item in the template (sections in order, then items), for sorting.
    fn position(&self, item_id: &str) -> Option<usize> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter())
            .position(|i| i.id == item_id)
    }
}

/// A stored answer value (the core's `AnswerValue` JSON) in words: yes/no, a number without a
/// needless `.0`, a price in yuan, a choice by its template label; unreadable JSON as its text.
pub fn answer_value(lang: Lang, stored: &str, item_id: &str, labels: Option<&TemplateLabels>) -> String {
    match serde_json::from_str::<AnswerValue>(stored) {
        Ok(AnswerValue::YesNo { value }) => yes_no(lang, value),
        Ok(AnswerValue::Number { value }) => number(value),
        Ok(AnswerValue::Price { cents }) => money(cents),
        Ok(AnswerValue::Choice { choice_id }) => labels
            .and_then(|l| l.choice(item_id, &choice_id))
            .map_or_else(|| word(lang, "unknown_choice").to_string(), str::to_string),
        Ok(AnswerValue::Text { value }) => value,
        Err(_) => stored.to_string(),
    }
}

/// One answer as the visit page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerView {
    /// The item's id, for links and the technical section only.
    pub item_id: String,
    /// The template's section title; None for an item the template no longer has.
    pub section: Option<String>,
    /// The template's label for the item.
    pub item: String,
    pub value: String,
    pub note: Option<String>,
}

/// A stored answer row: item id, value JSON, note.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAnswer {
    pub item_id: String,
    pub value: String,
    pub note: Option<String>,
}

/// A visit's answers in words, in the template's order (items the template lacks last, in the
/// order given).
pub fn answers(lang: Lang, stored: &[StoredAnswer], labels: Option<&TemplateLabels>) -> Vec<AnswerView> {
    let mut out: Vec<(usize, AnswerView)> = stored
        .iter()
        .enumerate()
        .map(|(n, a)| {
            let pos = labels
                .and_then(|l| l.position(&a.item_id))
                .unwrap_or(usize::MAX / 2 + n);
            let view = AnswerView {
                item_id: a.item_id.clone(),
                section: labels.and_then(|l| l.section_of(&a.item_id)).map(str::to_string),
                item: labels
                    .and_then(|l| l.item(&a.item_id))
                    .map_or_else(|| word(lang, "unknown_item").to_string(), str::to_string),
                value: answer_value(lang, &a.value, &a.item_id, labels),
                note: a.note.clone().filter(|n| !n.trim().is_empty()),
            };
            (pos, view)
        })
        .collect();
    out.sort_by_key(|(pos, _)| *pos);
    out.into_iter().map(|(_, v)| v).collect()
}

/// A visit report (`reports.body`, the core's `VisitReport`) in words.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReportView {
    pub notes: String,
    pub objections: Vec<ObjectionView>,
    pub next_steps: Vec<String>,
    /// `YYYY-MM-DD`.
    pub follow_up_date: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ObjectionView {
    /// The objection's kind in words (价格, 配送…).
    pub kind: String,
    pub detail: String,
}

/// One labelled field of a report for a definition list: 下一步 → its lines.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub label: String,
    pub lines: Vec<String>,
}

impl ReportView {
    /// From a stored report body; None when it is not a report.
    pub fn from_body(lang: Lang, body: &str) -> Option<ReportView> {
        let r: ReportBody = serde_json::from_str(body).ok()?;
        Some(ReportView {
            notes: r.notes,
            objections: r
                .objections
                .into_iter()
                .map(|o| ObjectionView {
                    kind: objection_kind(lang, o.kind.as_str()),
                    detail: o.detail,
                })
                .collect(),
            next_steps: r.next_steps,
            follow_up_date: r.follow_up_date.filter(|d| !d.is_empty()),
        })
    }

    /// The report's non-empty fields with their labels, in reading order (notes, objections,
    /// next steps, follow-up date); an objection reads `价格：客户嫌贵`.
    pub fn rows(&self, lang: Lang) -> Vec<ReportRow> {
        let colon = match lang {
            Lang::En => ": ",
            Lang::Zh => "：",
        };
        let mut rows = Vec::new();
        let mut push = |key: &str, lines: Vec<String>| {
            if !lines.is_empty() {
                rows.push(ReportRow {
                    label: word(lang, key).to_string(),
                    lines,
                });
            }
        };
        push(
            "report.notes",
            (!self.notes.trim().is_empty())
                .then(|| self.notes.clone())
                .into_iter()
                .collect(),
        );
        push(
            "report.objections",
            self.objections
                .iter()
                .map(|o| {
                    if o.detail.trim().is_empty() {
                        o.kind.clone()
                    } else {
                        format!("{}{colon}{}", o.kind, o.detail)
                    }
                })
                .collect(),
        );
        push("report.next_steps", self.next_steps.clone());
        push(
            "report.follow_up_date",
            self.follow_up_date.clone().into_iter().collect(),
        );
        rows
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const TEMPLATE: &str = r#"{"id":"t","version":1,"name":"门店巡检","kind":"store_check",
        "sections":[{"id":"shelf","title":"货架","items":[
            {"id":"shelf_ok","label":"货架整齐","kind":"yes_no"},
            {"id":"facings","label":"排面数","kind":"number"},
            {"id":"stock","label":"库存","kind":"choice","choices":[
                {"id":"low","label":"偏低"},{"id":"out_of_stock","label":"缺货"}]}]},
          {"id":"price","title":"价格","items":[{"id":"own_price","label":"本品价格","kind":"price"}]}]}"#;

    #[test]
    fn booleans_and_numbers_read_as_people_write_them() {
        assert_eq!(yes_no(Lang::Zh, true), "是");
        assert_eq!(yes_no(Lang::Zh, false), "否");
        assert_eq!(yes_no(Lang::En, true), "Yes");
        assert_eq!(number(5.0), "5");
        assert_eq!(number(2.50), "2.5");
        assert_eq!(number(1.0 / 3.0), "0.33");
        assert_eq!(number(-12.0), "-12");
        assert_eq!(money(1250), "¥12.50");
        assert_eq!(money(-5), "-¥0.05");
        assert_eq!(percent(25.46), "25.5%");
        assert_eq!(metres(Lang::Zh, 589.6), "590 米");
        assert_eq!(metres(Lang::En, 589.6), "590 m");
        assert_eq!(duration_s(Lang::En, 45), "45 s");
        assert_eq!(duration_s(Lang::Zh, -3600), "60 分钟");
        assert_eq!(duration_s(Lang::En, 4 * 3600), "4 h");
        assert_eq!(duration_s(Lang::Zh, 3 * 86_400), "3 天");
    }

    #[test]
    fn kinds_in_words() {
        assert_eq!(visit_kind(Lang::Zh, "store_check"), "巡店");
        assert_eq!(visit_kind(Lang::En, "inspection"), "Supervisor inspection");
        assert_eq!(visit_kind(Lang::Zh, "something_new"), "拜访");
        assert_eq!(photo_kind(Lang::Zh, "shelf_overview"), "货架全景");
        assert_eq!(photo_kind(Lang::En, "competitor_close_up"), "Competitor close-up");
        assert_eq!(photo_kind(Lang::Zh, "x"), "其他照片");
        assert_eq!(objection_kind(Lang::Zh, "price"), "价格");
        assert_eq!(objection_kind(Lang::En, "delivery"), "Delivery");
        assert_eq!(visit_status(Lang::Zh, "checked_out"), "已签退");
        assert_eq!(visit_status(Lang::En, "paused"), "paused");
        assert_eq!(geofence(Lang::Zh, "outside"), "围栏外");
        assert_eq!(geofence(Lang::En, "not_checked"), "Not checked");
    }

    #[test]
    fn answers_use_the_templates_labels_in_its_order() {
        let labels = TemplateLabels::from_body(TEMPLATE).unwrap();
        let stored = [
            ("own_price", r#"{"kind":"price","cents":1250}"#, None),
            (
                "stock",
                r#"{"kind":"choice","choice_id":"out_of_stock"}"#,
                Some("补货中"),
            ),
            ("facings", r#"{"kind":"number","value":5.0}"#, Some(" ")),
            ("shelf_ok", r#"{"kind":"yes_no","value":true}"#, None),
            ("gone_item", r#"{"kind":"choice","choice_id":"low"}"#, None),
        ]
        .map(|(i, v, n)| StoredAnswer {
            item_id: i.into(),
            value: v.into(),
            note: n.map(str::to_string),
        });
        let views = answers(Lang::Zh, &stored, Some(&labels));
        let got: Vec<(Option<&str>, &str, &str)> = views
            .iter()
            .map(|v| (v.section.as_deref(), v.item.as_str(), v.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("货架"), "货架整齐", "是"),
                (Some("货架"), "排面数", "5"),
                (Some("货架"), "库存", "缺货"),
                (Some("价格"), "本品价格", "¥12.50"),
                (None, "模板中已没有该项目", "模板中已没有该选项"),
            ]
        );
        assert_eq!(views[2].note.as_deref(), Some("补货中"));
        assert_eq!(views[1].note, None, "a blank note is no note");
        assert_eq!(views[0].item_id, "shelf_ok");
        // Without the template every value still reads as a word.
        assert_eq!(
            answer_value(Lang::En, r#"{"kind":"yes_no","value":false}"#, "x", None),
            "No"
        );
        assert_eq!(labels.name, "门店巡检");
        assert!(TemplateLabels::from_body("{}").is_none());
    }

    #[test]
    fn report_fields_and_objection_kinds_in_words() {
        let body = r#"{"notes":"货架整齐","objections":[{"kind":"price","detail":"客户嫌贵"},
            {"kind":"delivery","detail":""}],"next_steps":["下周补货"],"follow_up_date":"2026-12-08"}"#;
        let zh = ReportView::from_body(Lang::Zh, body).unwrap();
        let rows: Vec<(String, Vec<String>)> = zh
            .rows(Lang::Zh)
            .into_iter()
            .map(|r| (r.label, r.lines))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("拜访纪要".to_string(), vec!["货架整齐".to_string()]),
                (
                    "客户异议".to_string(),
                    vec!["价格：客户嫌贵".to_string(), "配送".to_string()]
                ),
                ("下一步".to_string(), vec!["下周补货".to_string()]),
                ("跟进日期".to_string(), vec!["2026-12-08".to_string()]),
            ]
        );
        let en = ReportView::from_body(
            Lang::En,
            r#"{"notes":"","objections":[{"kind":"other","detail":"x"}],"next_steps":[]}"#,
        )
        .unwrap();
        let rows = en.rows(Lang::En);
        assert_eq!(rows.len(), 1, "empty fields are left out");
        assert_eq!(rows[0].label, "Objections");
        assert_eq!(rows[0].lines, vec!["Other: x".to_string()]);
        assert!(ReportView::from_body(Lang::En, "[1]").is_none());
    }

    #[test]
    fn every_word_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (k, en, zh) in WORDS {
            assert!(seen.insert(*k), "duplicate {k}");
            assert!(!en.is_empty() && !zh.is_empty(), "{k}");
            assert!(!zh.chars().any(|c| c.is_ascii_alphabetic()), "{k}: {zh}");
        }
    }
}
