//! Small pieces several pages show: exception-code chips, visit status and geofence words, photo
//! badges and previews, the pager, the export links.

use maud::{Markup, html};

use super::i18n::Lang;
use super::url_enc;
use crate::export::{ExportFilter, ExportKind};

/// The exception codes of a visit as chips in words ("none" when there are none).
pub fn code_chips(lang: Lang, codes: &[String]) -> Markup {
    html! {
        @if codes.is_empty() {
            span.muted { (lang.t("none")) }
        }
        @for c in codes {
            span.code title=(c) { (lang.code_words(c)) }
        }
    }
}

/// A page string `{prefix}{value}`, or the value itself when the table has no such key.
fn words(lang: Lang, prefix: &str, value: &str) -> String {
    let key = format!("{prefix}{value}");
    let w = lang.t(&key);
    if w == key {
        value.to_string()
    } else {
        w.to_string()
    }
}

/// A visit's status (`completed`, `checked_out`…) in words.
pub fn status_words(lang: Lang, status: &str) -> String {
    words(lang, "vs_", status)
}

/// A visit's geofence verdict in words, green inside, red outside.
pub fn geofence(lang: Lang, g: &str) -> Markup {
    let class = match g {
        "verified" => "ok",
        "outside" => "bad",
        _ => "muted",
    };
    html! { span class=(class) { (words(lang, "gf_", g)) } }
}

/// The badge of a photo: (class, page-string key).
pub fn badge(received: bool, verified: bool, problems: Option<&str>) -> (&'static str, &'static str) {
    if !received {
        return ("not_received", "badge_not_received");
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
    } else if list.iter().any(|p| matches!(*p, "unknown_key" | "revoked_key")) {
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
    open_codes: &[String],
) -> Markup {
    let (class, key) = badge(received, verified, problems);
    let mut wrong = crate::messages::photo_problems(lang, problems);
    for c in open_codes {
        let w = lang.code_words(c);
        if !wrong.contains(&w) {
            wrong.push(w);
        }
    }
    let flagged = class == "verified" && !wrong.is_empty();
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

/// Export links for a page's filters: the workbook and each sheet as CSV.
pub fn export_links(lang: Lang, filter: &ExportFilter) -> Markup {
    let q = filter.to_query();
    let sep = if q.is_empty() { "" } else { "?" };
    html! {
        p.exports {
            (lang.t("export")) ": "
            a id="export-xlsx" href={ "/app/export.xlsx" (sep) (q) } { "XLSX" }
            @for k in ExportKind::ALL {
                " · "
                a href={ "/app/export/" (k.as_str()) ".csv" (sep) (q) } { (k.sheet_title(lang)) " CSV" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_follow_the_verdict() {
        assert_eq!(badge(false, false, None).0, "not_received");
        assert_eq!(badge(true, true, None).0, "verified");
        assert_eq!(badge(true, false, Some("image_hash_mismatch")).0, "tampered");
        assert_eq!(badge(true, false, Some("chain_gap,bad_signature")).0, "tampered");
        assert_eq!(badge(true, false, Some("code_mismatch")).0, "tampered");
        assert_eq!(badge(true, false, Some("unknown_key")).0, "unknown_key");
        assert_eq!(badge(true, false, Some("chain_gap")).0, "unverified");
    }

    #[test]
    fn a_flagged_verified_photo_lists_what_is_wrong() {
        let clean = badge_html(Lang::Zh, true, true, None, &[]).into_string();
        assert!(
            clean.contains("b-verified\"") && !clean.contains("flag"),
            "{clean}"
        );
        let reused = badge_html(
            Lang::Zh,
            true,
            true,
            None,
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
        let chips = code_chips(Lang::En, &["<b>".to_string()]).into_string();
        assert!(chips.contains("&lt;b&gt;") && !chips.contains("<b>"), "{chips}");
    }
}
