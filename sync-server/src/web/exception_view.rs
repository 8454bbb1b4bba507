//! Exceptions as every page shows them (the queue, a visit's page): one table row each, with the
//! message in the reader's language and names (`messages::render`), the photos it is about as
//! previews, its state (a resolved or dismissed one looks closed: muted, struck title, the state
//! in words), who has it or closed it and why, its history, the actions (resolve, dismiss,
//! assign, reopen) and, folded away in `<details class="tech">`, the ids and hashes.

use maud::{Markup, html};

use super::components::{thumb_anchor, visit_href};
use super::extract::Viewer;
use super::fmt_datetime;
use super::i18n::Lang;
use super::read::exceptions::ExceptionsView;
use super::read::names::Names;
use crate::messages::{self, PhotoName};
use crate::queue::{HistoryEntry, QueueError, QueueItem, Status};
use crate::values;

/// Previews one row shows (a reuse may list 20 matches; the gallery shows them all as pairs).
const MAX_THUMBS: usize = 6;

/// Where the pages' exception forms post: `ids` (one or several), `action`, `comment`,
/// `assignee`, `back`, `csrf`.
pub const ACT_PATH: &str = "/app/exceptions/act";

/// The names a message may use: the page's people and stores, the photos the viewer may see,
/// the template items.
struct PageNames<'a> {
    names: &'a Names,
    view: &'a ExceptionsView,
}

impl messages::Names for PageNames<'_> {
    fn store(&self, store_id: &str) -> Option<String> {
        self.names.store_name(store_id).map(str::to_string)
    }
    fn user(&self, user_id: &str) -> Option<String> {
        self.names.user_name(user_id).map(str::to_string)
    }
    fn photo(&self, photo_id: &str) -> Option<PhotoName> {
        self.view.photos.get(photo_id).cloned()
    }
    fn item(&self, item_id: &str) -> Option<String> {
        self.view.items_labels.get(item_id).cloned()
    }
}

/// How a page lists its exceptions.
pub struct RowOptions<'a> {
    pub csrf: &'a str,
    /// Where the forms come back to (this page).
    pub back: &'a str,
    /// The bulk form the rows' checkboxes belong to (the queue); None: no checkboxes.
    pub bulk_form: Option<&'a str>,
    /// Tick every checkbox (the queue's "select all on this page", without JavaScript).
    pub all_picked: bool,
    /// Show the store, the rep and the visit's day with a link (the queue); a visit's page
    /// already says them.
    pub show_visit: bool,
}

/// A state in words as a chip (待处理, 已解决…).
pub fn state_chip(lang: Lang, status: Status) -> Markup {
    html! {
        span class={ "state st-" (status.as_str()) } { (values::exception_status(lang, status.as_str())) }
    }
}

/// Who did something, by name: a web user, a field user, or the server itself.
fn person(page: &Viewer, id: Option<&str>, name: Option<&str>) -> String {
    match (name, id) {
        (Some(n), _) => n.to_string(),
        (None, Some("server")) | (None, None) => page.t("the_server").to_string(),
        (None, Some(id)) => id.to_string(),
    }
}

/// Whether a change was made by the system itself rather than a person at head office: the
/// server (the photo's bytes arrived) or the rep's phone (a negotiation note was added). Its
/// stored comment is an English line for the log, so the pages say it in words instead (and
/// keep the line among the technical facts).
fn by_system(e: &QueueItem, actor: Option<&str>) -> bool {
    actor == Some("server") || (actor.is_some() && actor == e.rep_id.as_deref())
}

/// A change's comment as the page shows it.
fn comment_words<'a>(page: &Viewer, e: &QueueItem, actor: Option<&str>, comment: &'a str) -> &'a str {
    if !by_system(e, actor) {
        return comment;
    }
    page.t(match e.code.as_str() {
        "photo_missing" => "auto_photo_missing",
        "price_gap_unexplained" => "auto_price_gap_unexplained",
        _ => "auto_closed",
    })
}

fn history_list(page: &Viewer, e: &QueueItem, entries: &[HistoryEntry]) -> Markup {
    html! {
        details.history {
            summary { (page.t("history")) " (" (entries.len()) ")" }
            ol {
                @for h in entries {
                    li {
                        span.nowrap { (fmt_datetime(page.cal, h.at_ms)) } " · "
                        @if h.action != "raised" {
                            (person(page, h.actor_id.as_deref(), h.actor_name.as_deref())) " · "
                        }
                        strong { (page.t(&format!("h_{}", h.action))) }
                        @if let Some(a) = &h.assignee_id {
                            " → " (h.assignee_name.as_deref().unwrap_or(a))
                        }
                        @if let Some(c) = &h.comment {
                            ": " span.comment { (comment_words(page, e, h.actor_id.as_deref(), c)) }
                        }
                    }
                }
            }
        }
    }
}

fn hidden_fields(opts: &RowOptions<'_>, id: i64) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(opts.csrf);
        input type="hidden" name="back" value=(opts.back);
        input type="hidden" name="ids" value=(id);
    }
}

/// The state, who has it or closed it, and the actions that apply.
fn handling(page: &Viewer, view: &ExceptionsView, e: &QueueItem, opts: &RowOptions<'_>) -> Markup {
    let t = |k| page.t(k);
    html! {
        p { (state_chip(page.lang, e.status))
            @if e.status == Status::Assigned {
                " " (t("assigned_to")) " " (e.assignee_name.as_deref().or(e.assignee_id.as_deref()).unwrap_or(""))
            }
            @if let Some(ms) = e.closed_ms {
                " " (person(page, e.closed_by.as_deref(), e.closed_by_name.as_deref())) " · " span.nowrap { (fmt_datetime(page.cal, ms)) }
            }
        }
        @if let Some(c) = &e.closing_comment {
            p.comment { (comment_words(page, e, e.closed_by.as_deref(), c)) }
        }
        @if e.status.is_closed() {
            form.reopen method="post" action=(ACT_PATH) {
                (hidden_fields(opts, e.id))
                input name="comment" required maxlength="2000" placeholder=(t("comment")) aria-label=(t("comment"));
                button name="action" value="reopen" { (t("reopen")) }
            }
        } @else {
            form.resolve method="post" action=(ACT_PATH) {
                (hidden_fields(opts, e.id))
                input name="comment" required maxlength="2000" placeholder=(t("comment")) aria-label=(t("comment"));
                button name="action" value="resolve" { (t("resolve")) }
                button.secondary name="action" value="dismiss" { (t("dismiss")) }
            }
            form.assign method="post" action=(ACT_PATH) {
                (hidden_fields(opts, e.id))
                select name="assignee" aria-label=(t("assign_to")) {
                    @for a in view.assignees_for(e) {
                        option value=(a.id) selected[e.assignee_id.as_deref() == Some(a.id.as_str())] { (a.name) }
                    }
                }
                button.secondary name="action" value="assign" { (t("assign")) }
            }
        }
        @if let Some(h) = view.history.get(&e.id) {
            (history_list(page, e, h))
        }
    }
}

/// The technical facts of an exception: only inside the folded `details.tech`.
fn technical(
    page: &Viewer,
    e: &QueueItem,
    from_message: Vec<(String, String)>,
    closing_note: Option<&String>,
) -> Markup {
    let t = |k: &str| page.t(k).to_string();
    let mut facts = vec![(t("tech_exception"), e.id.to_string())];
    facts.extend(from_message);
    let mut add = |k: &str, v: Option<&String>| {
        // The message may have named it already (the store of a geofence finding).
        if let Some(v) = v.filter(|v| !v.is_empty() && !facts.iter().any(|(_, seen)| seen == *v)) {
            facts.push((t(k), v.clone()));
        }
    };
    add("tech_visit", e.visit_id.as_ref());
    add("tech_rep", e.rep_id.as_ref());
    add("tech_store", e.store_id.as_ref());
    add("tech_device", e.device_id.as_ref());
    add("tech_photo", e.photo_sha256.as_ref());
    facts.push((t("tech_event"), fmt_datetime(page.cal, e.event_ms)));
    facts.push((t("tech_received"), fmt_datetime(page.cal, e.received_ms)));
    if let Some(note) = closing_note {
        facts.push((t("tech_closing_note"), note.clone()));
    }
    html! {
        details.tech {
            summary { (t("technical")) }
            dl {
                @for (k, v) in &facts {
                    dt { (k) } dd { (v) }
                }
            }
        }
    }
}

fn row(page: &Viewer, names: &Names, view: &ExceptionsView, e: &QueueItem, opts: &RowOptions<'_>) -> Markup {
    let t = |k| page.t(k);
    let r = messages::render(page.lang, &e.code, e.params.as_ref(), &PageNames { names, view });
    let closed = e.status.is_closed();
    let closing_note = e
        .closing_comment
        .as_ref()
        .filter(|_| by_system(e, e.closed_by.as_deref()));
    html! {
        tr data-code=(e.code) data-status=(e.status.as_str()) id={ "ex-" (e.id) } class=[closed.then_some("closed")] {
            @if let Some(form) = opts.bulk_form {
                td.pick data-label=(t("pick")) {
                    input type="checkbox" name="ids" value=(e.id) form=(form) checked[opts.all_picked]
                        aria-label=(t("pick_this"));
                }
            }
            td.what data-label=(t("exception")) {
                span class={ "code" @if closed { " closed" } } { (r.title) }
                " " (state_chip(page.lang, e.status))
            }
            td.long data-label=(t("detail")) {
                p.sentence { (r.sentence) }
                @if !r.photos.is_empty() {
                    div.thumbs {
                        @for p in r.photos.iter().take(MAX_THUMBS) {
                            figure {
                                (thumb_anchor(&p.thumb_url, &p.full_url, &p.label))
                                figcaption { (p.label) }
                            }
                        }
                        @if r.photos.len() > MAX_THUMBS {
                            span.muted { (page.t("photos_more").replace("{n}", &(r.photos.len() - MAX_THUMBS).to_string())) }
                        }
                    }
                }
                (technical(page, e, r.technical, closing_note))
            }
            @if opts.show_visit {
                td.name data-label=(t("store")) {
                    (e.store_name.as_deref().map(|n| match &e.store_code {
                        Some(code) => format!("{code} {n}"),
                        None => n.to_string(),
                    }).unwrap_or_default())
                }
                td.name data-label=(t("rep")) { (e.rep_name.as_deref().unwrap_or_default()) }
                td.nowrap data-label=(t("visit_day")) {
                    @if let Some(v) = e.visit_id.as_deref().filter(|v| !v.is_empty()) {
                        a href=(visit_href(v)) { (e.visit_date) }
                    } @else {
                        (e.visit_date)
                    }
                }
            } @else {
                td.nowrap data-label=(t("time")) { (fmt_datetime(page.cal, e.event_ms)) }
            }
            td.act data-label=(t("handling")) { (handling(page, view, e, opts)) }
        }
    }
}

/// The exceptions as a table (cards on a phone), with their actions.
pub fn exception_table(
    page: &Viewer,
    names: &Names,
    view: &ExceptionsView,
    opts: &RowOptions<'_>,
    head: Markup,
) -> Markup {
    html! {
        table.rows.exceptions id="exceptions" {
            (head)
            tbody {
                @for e in &view.items {
                    (row(page, names, view, e, opts))
                }
            }
        }
    }
}

/// Why the workflow refused an action, in the reader's language (no exception ids: how many).
pub fn queue_error_text(lang: Lang, e: &QueueError) -> String {
    let n = |ids: &Vec<i64>| ids.len().to_string();
    let action = |a: &str| lang.message(&format!("queue_action_{a}"), &[]);
    let params: Vec<(&str, String)> = match e {
        QueueError::BadDate(d) => vec![("value", d.clone())],
        QueueError::BadPageSize(_) => vec![("limit", crate::queue::MAX_PAGE_SIZE.to_string())],
        QueueError::SearchTooLong => vec![("limit", crate::queue::MAX_SEARCH_CHARS.to_string())],
        QueueError::TooMany(count) => vec![
            ("count", count.to_string()),
            ("limit", crate::queue::MAX_BATCH.to_string()),
        ],
        QueueError::CommentTooLong => vec![("limit", crate::queue::MAX_COMMENT_CHARS.to_string())],
        QueueError::NotVisible(ids) | QueueError::AlreadyOpen(ids) => vec![("count", n(ids))],
        QueueError::WrongState {
            action: a,
            status,
            ids,
        } => vec![
            ("count", n(ids)),
            // Mid-sentence: "are resolved".
            ("status", values::exception_status(lang, status).to_lowercase()),
            ("action", action(a)),
        ],
        QueueError::UnknownAssignee(_) => vec![],
        QueueError::AssigneeCannotSee { ids, .. } => vec![("count", n(ids))],
        QueueError::BadRange
        | QueueError::BadPage
        | QueueError::NothingChosen
        | QueueError::CommentRequired
        | QueueError::Storage(_) => vec![],
    };
    lang.message(e.code(), &params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::PageText;

    /// Every page string this module names, the ones it builds from a value too, is in the
    /// table in both languages (a missing one would show as its key).
    #[test]
    fn every_string_used_is_in_the_table() {
        let mut keys = vec![
            "the_server",
            "history",
            "assigned_to",
            "comment",
            "reopen",
            "resolve",
            "dismiss",
            "assign_to",
            "assign",
            "technical",
            "tech_exception",
            "tech_visit",
            "tech_rep",
            "tech_store",
            "tech_device",
            "tech_photo",
            "tech_event",
            "tech_received",
            "tech_closing_note",
            "pick",
            "pick_this",
            "exception",
            "detail",
            "store",
            "rep",
            "visit_day",
            "time",
            "handling",
            "photos_more",
            "auto_closed",
            "auto_photo_missing",
            "auto_price_gap_unexplained",
        ];
        let built: Vec<String> = ["raised", "assign", "resolve", "dismiss", "reopen"]
            .iter()
            .map(|a| format!("h_{a}"))
            .collect();
        keys.extend(built.iter().map(String::as_str));
        for k in keys {
            for lang in [Lang::En, Lang::Zh] {
                assert_ne!(lang.t(k), k, "{k} in {lang:?}");
            }
        }
        for a in ["resolve", "dismiss", "assign", "reopen"] {
            let k = format!("queue_action_{a}");
            assert_ne!(Lang::Zh.message(&k, &[]), format!("{k} ()"), "{k}");
        }
    }

    #[test]
    fn refusals_read_as_sentences_without_ids() {
        let e = QueueError::WrongState {
            action: "dismiss",
            status: "resolved",
            ids: vec![17, 23],
        };
        assert_eq!(
            queue_error_text(Lang::Zh, &e),
            "所选异常中有 2 条状态为“已解决”，无法驳回，未做任何更改。"
        );
        assert_eq!(
            queue_error_text(Lang::En, &e),
            "2 of the selected exceptions are resolved: they cannot be dismissed. Nothing was changed."
        );
        for e in [
            QueueError::BadDate("x".into()),
            QueueError::BadRange,
            QueueError::BadPageSize(0),
            QueueError::BadPage,
            QueueError::SearchTooLong,
            QueueError::NothingChosen,
            QueueError::TooMany(900),
            QueueError::CommentRequired,
            QueueError::CommentTooLong,
            QueueError::NotVisible(vec![1]),
            QueueError::UnknownAssignee("x".into()),
            QueueError::AssigneeCannotSee {
                assignee: "wang".into(),
                ids: vec![4],
            },
            QueueError::AlreadyOpen(vec![5]),
            QueueError::Storage("disk".into()),
        ] {
            for lang in [Lang::En, Lang::Zh] {
                let text = queue_error_text(lang, &e);
                assert!(!text.contains('{') && !text.starts_with("queue_"), "{text}");
            }
        }
    }
}
