//! Exceptions as the pages show them: the queue's page (one page of [`crate::queue`]'s listing
//! with its totals) and a visit's exceptions, each with what a row shows beside it: its history,
//! the photos its message links (only those the viewer may see), the template labels its
//! message names, and the web users it may be assigned to.

use std::collections::HashMap;

use crate::calendar::Calendar;
use crate::db::{Connection, OptionalExtension, params};

use crate::i18n::Lang;
use crate::messages::PhotoName;
use crate::queue::{self, Actor, HistoryEntry, QueueError, QueueFilter, QueueItem, QueuePage, StatusFilter};
use crate::scope::scope_sql;
use crate::values::{self, TemplateLabels};
use crate::web::url_enc;

/// A web user an exception may be handed to.
pub struct Assignee {
    pub id: String,
    pub name: String,
    /// A supervisor's reference-data id: they see that team only. None: sees everything.
    pub team: Option<String>,
}

/// Exceptions with everything their rows show.
pub struct ExceptionsView {
    pub items: Vec<QueueItem>,
    /// Each item's changes, oldest first, starting with its raising.
    pub history: HashMap<i64, Vec<HistoryEntry>>,
    /// Photos the messages link, by photo id: only those the viewer may see and the server has.
    pub photos: HashMap<String, PhotoName>,
    /// Check-item labels by item id (the price-gap message names the items).
    pub items_labels: HashMap<String, String>,
    /// Web users, by name; [`ExceptionsView::assignees_for`] picks who can see a row.
    pub assignees: Vec<Assignee>,
    /// A field user's supervisor (reference data), for who can see whose exception.
    pub supervisor_of: HashMap<String, String>,
}

impl ExceptionsView {
    /// The web users who can see `item` (a supervisor only their team's).
    pub fn assignees_for(&self, item: &QueueItem) -> Vec<&Assignee> {
        self.assignees
            .iter()
            .filter(|a| match (&a.team, &item.rep_id) {
                (None, _) => true,
                (Some(team), Some(rep)) => rep == team || self.supervisor_of.get(rep) == Some(team),
                (Some(_), None) => false,
            })
            .collect()
    }

    /// The codes of the open (or assigned) exceptions about photo `sha256`, for its badge.
    pub fn open_codes_of(&self, sha256: &str) -> Vec<String> {
        self.items
            .iter()
            .filter(|i| !i.status.is_closed() && i.photo_sha256.as_deref() == Some(sha256))
            .map(|i| i.code.clone())
            .collect()
    }

    /// The web users who can see something of `actor`'s: for the bulk form's choice (the
    /// workflow refuses a batch the chosen one cannot see whole).
    pub fn assignees_seeing(&self, actor: &Actor) -> Vec<&Assignee> {
        self.assignees
            .iter()
            .filter(|a| match (&a.team, &actor.scope) {
                (None, _) | (_, None) => true,
                (Some(team), Some(scope)) => team == scope,
            })
            .collect()
    }
}

/// The queue's filter choices, from the reference data (not from the exceptions: the lists
/// stay cheap however many exceptions there are).
pub struct QueueChoices {
    /// (id, name) of the field users the viewer sees.
    pub reps: Vec<(String, String)>,
    /// (supervisor id, name): the teams; empty for a supervisor (they see one).
    pub teams: Vec<(String, String)>,
    pub territories: Vec<String>,
    /// (id, "CODE name").
    pub stores: Vec<(String, String)>,
}

/// The queue page: one page of the listing (totals, counts per state), its rows' views and the
/// filter's choices.
pub struct QueueView {
    pub page: QueuePage,
    pub rows: ExceptionsView,
    pub choices: QueueChoices,
}

/// The queue page for `actor` under `filter`.
pub fn queue_view(
    c: &Connection,
    actor: &Actor,
    filter: &QueueFilter,
    cal: Calendar,
    lang: Lang,
) -> Result<QueueView, QueueError> {
    let mut page = queue::list_on(c, cal, actor, filter)?;
    let items = std::mem::take(&mut page.items);
    Ok(QueueView {
        page,
        rows: view_of(c, actor, items, lang)?,
        choices: choices(c, actor)?,
    })
}

/// Every exception of visit `visit_id` the actor sees, oldest first.
pub fn visit_exceptions(
    c: &Connection,
    actor: &Actor,
    visit_id: &str,
    cal: Calendar,
    lang: Lang,
) -> Result<ExceptionsView, QueueError> {
    let mut items = Vec::new();
    let mut filter = QueueFilter {
        visit: Some(visit_id.to_string()),
        status: Some(StatusFilter::All),
        per_page: Some(queue::MAX_PAGE_SIZE),
        ..QueueFilter::default()
    };
    // A visit has a handful; page through anyway rather than cut any off.
    for n in 1.. {
        filter.page = Some(n);
        let p = queue::list_on(c, cal, actor, &filter)?;
        items.extend(p.items);
        if n >= p.pages {
            break;
        }
    }
    items.sort_by_key(|i| i.id);
    view_of(c, actor, items, lang)
}

fn view_of(
    c: &Connection,
    actor: &Actor,
    items: Vec<QueueItem>,
    lang: Lang,
) -> Result<ExceptionsView, QueueError> {
    let mut history = HashMap::new();
    for i in &items {
        history.insert(i.id, queue::history(c, actor, i.id)?);
    }
    Ok(ExceptionsView {
        photos: photos_of(c, actor, &items, lang)?,
        items_labels: item_labels(c)?,
        history,
        items,
        assignees: assignees(c)?,
        supervisor_of: supervisors(c)?,
    })
}

/// The photo ids a message's parameters name (the photo itself, a reuse's matches).
fn photo_ids(params: &serde_json::Value) -> Vec<&str> {
    let mut out: Vec<&str> = params
        .get("photo_id")
        .and_then(|v| v.as_str())
        .into_iter()
        .collect();
    for m in params
        .get("matches")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        if let Some(id) = m.get("photo_id").and_then(|v| v.as_str()) {
            out.push(id);
        }
    }
    out
}

fn photos_of(
    c: &Connection,
    actor: &Actor,
    items: &[QueueItem],
    lang: Lang,
) -> Result<HashMap<String, PhotoName>, QueueError> {
    let mut st = c.prepare_cached(&format!(
        "SELECT sha256, photo_kind FROM photos WHERE photo_id = ?1 AND received = 1 AND {}",
        scope_sql("user_id", 2)
    ))?;
    let mut out = HashMap::new();
    for p in items.iter().filter_map(|i| i.params.as_ref()) {
        for id in photo_ids(p) {
            if out.contains_key(id) {
                continue;
            }
            let row: Option<(String, String)> = st
                .query_row(params![id, actor.scope], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some((sha, kind)) = row {
                let sha = url_enc(&sha);
                out.insert(
                    id.to_string(),
                    PhotoName {
                        thumb_url: format!("/app/thumbs/{sha}"),
                        full_url: format!("/app/photos/{sha}"),
                        kind: values::photo_kind(lang, &kind),
                    },
                );
            }
        }
    }
    Ok(out)
}

/// Every template's item labels (later versions win): a few templates of a few dozen items.
fn item_labels(c: &Connection) -> Result<HashMap<String, String>, QueueError> {
    let mut st = c.prepare_cached("SELECT body FROM templates ORDER BY id, version")?;
    let mut out = HashMap::new();
    let bodies = st.query_map([], |r| r.get::<_, String>(0))?;
    for b in bodies {
        if let Some(t) = TemplateLabels::from_body(&b?) {
            for i in t.sections.iter().flat_map(|s| s.items.iter()) {
                out.insert(i.id.clone(), i.label.clone());
            }
        }
    }
    Ok(out)
}

fn assignees(c: &Connection) -> Result<Vec<Assignee>, QueueError> {
    let mut st = c.prepare_cached(
        "SELECT id, name, CASE WHEN role = 'supervisor' THEN coalesce(supervisor_id, id) END
         FROM web_users ORDER BY name, id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Assignee {
            id: r.get(0)?,
            name: r.get(1)?,
            team: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn supervisors(c: &Connection) -> Result<HashMap<String, String>, QueueError> {
    let mut st = c.prepare_cached("SELECT id, supervisor_id FROM users WHERE supervisor_id IS NOT NULL")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn choices(c: &Connection, actor: &Actor) -> Result<QueueChoices, QueueError> {
    let name = "coalesce(json_extract(body, '$.name'), id)";
    let mut st = c.prepare_cached(&format!(
        "SELECT id, {name} FROM users WHERE {} ORDER BY 2, 1",
        scope_sql("id", 1)
    ))?;
    let reps = st
        .query_map([&actor.scope], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let teams = if actor.scope.is_some() {
        Vec::new()
    } else {
        let mut st = c.prepare_cached(&format!(
            "SELECT id, {name} FROM users WHERE role = 'supervisor' ORDER BY 2, 1"
        ))?;
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?
    };
    let mut st = c.prepare_cached(
        "SELECT territory FROM stores UNION SELECT territory FROM users WHERE territory IS NOT NULL ORDER BY 1",
    )?;
    let territories = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut st = c.prepare_cached(
        "SELECT id, coalesce(json_extract(body, '$.code') || ' ', '') || coalesce(json_extract(body, '$.name'), id)
         FROM stores ORDER BY 2, 1",
    )?;
    let stores = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(QueueChoices {
        reps,
        teams,
        territories,
        stores,
    })
}
