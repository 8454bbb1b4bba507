//! Small pieces several pages show: exception-code chips, visit status and geofence words, photo
//! badges and previews, the pager, the export links.

use maud::{Markup, html};

use super::i18n::Lang;
use super::{day_string, url_enc};
use crate::export::{ExportFilter, ExportKind};
use crate::messages::PhotoLink;
use crate::web::i18n::PageText;
use crate::web::read::visits::VisitCode;

/// The exception codes of a visit as chips in words ("none" when there are none); a closed one
/// is struck through and muted, with its state in words for screen readers and on hover.
pub fn code_chips(lang: Lang, codes: &[VisitCode]) -> Markup {
    html! {
        @if codes.is_empty() {
            span.muted { (lang.t("none")) }
        }
        @for c in codes {
            @if c.open {
                span.code data-code=(c.code) { (lang.code_words(&c.code)) }
            } @else {
                span.code.closed data-code=(c.code) title=(lang.t("st_closed")) {
                    (lang.code_words(&c.code))
                    span.sr { " (" (lang.t("st_closed")) ")" }
                }
            }
        }
    }
}

/// A visit's status (`completed`, `checked_out`…) in words ([`crate::values::visit_status`]).
pub fn status_words(lang: Lang, status: &str) -> String {
    crate::values::visit_status(lang, status)
}

/// A visit's geofence verdict in words ([`crate::values::geofence`]), green inside, red outside.
pub fn geofence(lang: Lang, g: &str) -> Markup {
    let class = match g {
        "verified" => "ok",
        "outside" => "bad",
        _ => "muted",
    };
    html! { span class=(class) { (crate::values::geofence(lang, g)) } }
}

/// The weekday of a day number (1970-01-01 was a Thursday), as a page-string key.
fn weekday_key(day: i64) -> &'static str {
    const KEYS: [&str; 7] = [
        "wd_mon", "wd_tue", "wd_wed", "wd_thu", "wd_fri", "wd_sat", "wd_sun",
    ];
    KEYS[(day + 3).rem_euclid(7) as usize]
}

/// A day page's navigator: the day shown (with its weekday), links to the previous and next
/// day and to today, and a date picker (a GET form, no script). `keep` are the page's other
/// parameters, carried by the links; `controls` are the page's own filter fields, sent with
/// the picker's form.
pub struct DayNav<'a> {
    /// The page's path (`/app`, `/app/gallery`…).
    pub path: &'a str,
    pub day: i64,
    pub today: i64,
    pub keep: &'a [(&'a str, &'a str)],
    pub controls: Markup,
}

pub fn day_nav(lang: Lang, n: DayNav<'_>) -> Markup {
    let href = |day: i64| {
        let mut h = format!("{}?date={}", n.path, day_string(day));
        for (k, v) in n.keep.iter().filter(|(_, v)| !v.is_empty()) {
            h.push_str(&format!("&{k}={}", url_enc(v)));
        }
        h
    };
    html! {
        nav.daynav aria-label=(lang.t("day_nav")) {
            a.day-prev href=(href(n.day - 1)) { (lang.t("prev_day")) }
            strong.day-shown { (day_string(n.day)) " " (lang.t(weekday_key(n.day))) }
            a.day-next href=(href(n.day + 1)) { (lang.t("next_day")) }
            @if n.day != n.today {
                a.day-today href=(href(n.today)) { (lang.t("today")) }
            }
            form.filters.day-pick method="get" action=(n.path) {
                label { (lang.t("date")) " " input type="date" name="date" value=(day_string(n.day)); }
                (n.controls)
                button { (lang.t("show")) }
            }
        }
    }
}

/// The badge of a photo as shown (`photo_verdict::shown`): (class, page-string key).
/// `key_revoked_later`: verified, with the device's key revoked after the photo arrived.
pub fn badge(
    received: bool,
    verified: bool,
    problems: Option<&str>,
    key_revoked_later: bool,
) -> (&'static str, &'static str) {
    if !received {
        return ("not_received", "badge_not_received");
    }
    if verified && key_revoked_later {
        return ("verified_revoked_later", "badge_verified_revoked_later");
    }
    if verified {
        return ("verified", "badge_verified");
    }
    let list: Vec<&str> = problems
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if list.iter().any(|p| {
        matches!(
            *p,
            "bad_signature" | "image_hash_mismatch" | "code_mismatch" | "not_a_photo" | "malformed_entry"
        )
    }) {
        ("tampered", "badge_tampered")
    } else if list.contains(&"revoked_key") {
        ("revoked_key", "badge_revoked_key")
    } else if list.contains(&"unknown_key") {
        ("unknown_key", "badge_unknown_key")
    } else {
        ("unverified", "badge_unverified")
    }
}

/// A photo's badge and, beside it, everything wrong with it: its verification problems and the
/// codes of its open exceptions (reused, mock location…), so a verified photo that is flagged
/// never shows as a lone green "verified" (its badge turns amber).
pub fn badge_html(
    lang: Lang,
    received: bool,
    verified: bool,
    problems: Option<&str>,
    key_revoked_later: bool,
    open_codes: &[String],
) -> Markup {
    let (class, key) = badge(received, verified, problems, key_revoked_later);
    let mut wrong = crate::messages::photo_problems(lang, problems);
    for c in open_codes {
        let w = lang.code_words(c);
        if !wrong.contains(&w) {
            wrong.push(w);
        }
    }
    let flagged = verified && !wrong.is_empty();
    html! {
        span.badges {
            span class={ "badge b-" (class) @if flagged { " b-flagged" } } data-badge=(class) { (lang.t(key)) }
            @for w in &wrong {
                " " span.flag { (w) }
            }
        }
    }
}

/// A photo's preview linking to the full photo (which opens on click). The preview's size is
/// bounded by the `img.thumb` CSS; `loading="lazy"` fetches only the previews scrolled into
/// view.
pub fn thumb_anchor(thumb_url: &str, full_url: &str, alt: &str) -> Markup {
    html! {
        a href=(full_url) {
            img.thumb src=(thumb_url) alt=(alt) loading="lazy";
        }
    }
}

/// A received photo (by its hash) as a preview linking to the full photo.
pub fn thumb_link(sha: &str, alt: &str) -> Markup {
    let sha = url_enc(sha);
    thumb_anchor(&format!("/app/thumbs/{sha}"), &format!("/app/photos/{sha}"), alt)
}

/// Technical facts (ids, hashes, devices) that a person rarely needs, folded away in an
/// expandable `details.tech` section: the only place a page shows them.
pub fn tech_details(lang: Lang, facts: &[(String, String)]) -> Markup {
    html! {
        @if !facts.is_empty() {
            details.tech {
                summary { (lang.t("technical")) }
                dl {
                    @for (k, v) in facts { dt { (k) } dd.long { (v) } }
                }
            }
        }
    }
}

/// The photos a message is about, as labelled previews each opening the full photo.
pub fn message_photos(photos: &[PhotoLink]) -> Markup {
    html! {
        @if !photos.is_empty() {
            div.msg-photos {
                @for p in photos {
                    figure {
                        a href=(p.full_url) { img.thumb src=(p.thumb_url) alt=(p.label) loading="lazy"; }
                        figcaption { (p.label) }
                    }
                }
            }
        }
    }
}

/// A link to a visit's page.
pub fn visit_href(id: &str) -> String {
    format!("/app/visits/{}", url_enc(id))
}

/// A paged list's position: "Photos 1–60 of 134" (the `range_key` string with `{from}`, `{to}`,
/// `{total}`), with previous / next links; nothing when the list is empty.
pub struct Pager<'a> {
    pub range_key: &'a str,
    pub page: u64,
    pub page_size: u64,
    pub shown: u64,
    pub total: u64,
    /// The link to page `n`.
    pub href: &'a dyn Fn(u64) -> String,
}

pub fn pager(lang: Lang, p: &Pager<'_>) -> Markup {
    if p.total == 0 {
        return html! {};
    }
    let first = (p.page - 1) * p.page_size + 1;
    let range = lang
        .t(p.range_key)
        .replace("{from}", &first.to_string())
        .replace("{to}", &(first + p.shown.max(1) - 1).to_string())
        .replace("{total}", &p.total.to_string());
    html! {
        p.pager {
            span.range { (range) }
            @if p.page > 1 {
                a rel="prev" href=((p.href)(p.page - 1)) { (lang.t("prev_page")) }
            }
            @if p.page * p.page_size < p.total {
                a rel="next" href=((p.href)(p.page + 1)) { (lang.t("next_page")) }
            }
        }
    }
}

/// Export links for a page's filters: the workbook and each sheet as CSV, named as the sheet is
/// in the reader's language (拜访.csv); the downloads come in that language too.
pub fn export_links(lang: Lang, filter: &ExportFilter) -> Markup {
    let q = filter.to_query();
    let sep = if q.is_empty() { "" } else { "?" };
    html! {
        p.exports {
            (lang.t("export")) ": "
            a id="export-xlsx" href={ "/app/export.xlsx" (sep) (q) } { (lang.t("workbook")) " (XLSX)" }
            @for k in ExportKind::ALL {
                " · "
                a.csv href={ "/app/export/" (k.as_str()) ".csv" (sep) (q) } { (k.sheet_title(lang)) ".csv" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_follow_the_verdict() {
        assert_eq!(badge(false, false, None, false).0, "not_received");
        assert_eq!(badge(true, true, None, false).0, "verified");
        assert_eq!(
            badge(true, false, Some("image_hash_mismatch"), false).0,
            "tampered"
        );
        assert_eq!(
            badge(true, false, Some("chain_gap,bad_signature"), false).0,
            "tampered"
        );
        assert_eq!(badge(true, false, Some("code_mismatch"), false).0, "tampered");
        assert_eq!(badge(true, false, Some("unknown_key"), false).0, "unknown_key");
        assert_eq!(badge(true, false, Some("chain_gap"), false).0, "unverified");
        // Revocation, as `photo_verdict::shown` applied it.
        assert_eq!(badge(true, true, None, true).0, "verified_revoked_later");
        assert_eq!(badge(true, false, Some("revoked_key"), false).0, "revoked_key");
        let later = badge_html(Lang::Zh, true, true, None, true, &[]).into_string();
        assert!(later.contains("已验证（设备密钥后来被吊销）"), "{later}");
    }

    #[test]
    fn a_flagged_verified_photo_lists_what_is_wrong() {
        let clean = badge_html(Lang::Zh, true, true, None, false, &[]).into_string();
        assert!(
            clean.contains("b-verified\"") && !clean.contains("flag"),
            "{clean}"
        );
        let reused = badge_html(
            Lang::Zh,
            true,
            true,
            None,
            false,
            &["possible_reuse".into(), "mock_location".into()],
        )
        .into_string();
        assert!(reused.contains("b-verified b-flagged"), "{reused}");
        assert!(
            reused.contains("重复照片") && reused.contains("虚拟定位"),
            "{reused}"
        );
        let tampered = badge_html(
            Lang::En,
            true,
            false,
            Some("code_mismatch"),
            false,
            &["code_mismatch".into()],
        )
        .into_string();
        assert_eq!(
            tampered.matches("Evidence code does not match").count(),
            1,
            "{tampered}"
        );
    }

    #[test]
    fn values_are_escaped_in_markup() {
        let m = thumb_link("a\"b", "<x>&'");
        let s = m.into_string();
        assert!(s.contains("alt=\"&lt;x&gt;&amp;'\""), "{s}");
        assert!(s.starts_with("<a href=\"/app/photos/a%22b\"><img"), "{s}");
        let chip = |code: &str, open| VisitCode {
            code: code.to_string(),
            open,
        };
        let chips = code_chips(Lang::En, &[chip("<b>", true)]).into_string();
        assert!(chips.contains("&lt;b&gt;") && !chips.contains("<b>"), "{chips}");
        // A closed code looks closed and says so; an open one does not.
        let chips = code_chips(
            Lang::Zh,
            &[chip("mock_location", false), chip("clock_jump", true)],
        )
        .into_string();
        let Some((closed, open)) = chips.split_once("clock_jump") else {
            panic!("{chips}")
        };
        assert!(
            closed.contains("class=\"code closed\"") && closed.contains("已关闭"),
            "{chips}"
        );
        assert!(!open.contains("closed") && !open.contains("已关闭"), "{chips}");
    }
}
