//! Photo review with retakes, on the phone. A rep's phone keeps the retake requests the server
//! sends down the feed (change kind `retake`) and makes each open one a required photo of the
//! store's next visit: [`missing_for_visit`] adds it to what the milestone lock reports, and a
//! photo captured with the request's id clears it. A supervisor's phone reviews team photos
//! (approve / reject / ask for a retake) as one signed op each (`visit.photo_review`).
//!
//! Overdue is not stored: it is an open request whose due day is before the day the app asks
//! about (the same local `YYYY-MM-DD` the day plan takes).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::model::*;
use crate::sync::wire::RetakeChange;

/// What a retake check needs of a visit: below the visit queries, so they can ask this module.
pub(crate) struct VisitOf<'a> {
    pub id: &'a str,
    pub kind: TemplateKind,
    pub rep_id: &'a str,
    pub store_id: &'a str,
}

/// Keep the latest version of a pulled request (the feed re-sends it on each state change).
pub(crate) fn store_pulled(tx: &Transaction<'_>, seq: i64, r: &RetakeChange) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO retake_requests (id, rep_id, store_id, state, due_date, requested_at_ms, body, feed_seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET rep_id = excluded.rep_id, store_id = excluded.store_id,
           state = excluded.state, due_date = excluded.due_date, requested_at_ms = excluded.requested_at_ms,
           body = excluded.body, feed_seq = excluded.feed_seq
         WHERE excluded.feed_seq >= retake_requests.feed_seq",
    )?
    .execute(params![
        r.id,
        r.rep_id,
        r.store_id,
        r.state,
        r.due_date,
        r.requested_at_ms,
        serde_json::to_string(r)?,
        seq
    ])?;
    Ok(())
}

/// A pulled request as the apps see it: `today` (local `YYYY-MM-DD`) decides overdue; a photo
/// taken for it on this phone makes it done before the server says so.
fn request(body: &str, local_photo: Option<String>, today: Option<&str>) -> Result<RetakeRequest> {
    let r: RetakeChange = serde_json::from_str(body)?;
    let state = match (r.state.as_str(), &local_photo) {
        ("done", _) | (_, Some(_)) if r.state != "cancelled" => RetakeState::Done,
        ("cancelled", _) => RetakeState::Cancelled,
        _ if today.is_some_and(|t| r.due_date.as_str() < t) => RetakeState::Overdue,
        _ => RetakeState::Open,
    };
    Ok(RetakeRequest {
        photo_kind: PhotoKind::from_key(&r.photo_kind),
        new_photo_id: local_photo.or(r.fulfilled_photo_id),
        id: r.id,
        photo_id: r.photo_id,
        visit_id: r.visit_id,
        store_id: r.store_id,
        rep_id: r.rep_id,
        item_id: r.item_id,
        reason: r.reason,
        requested_by: r.requested_by,
        requested_at_ms: r.requested_at_ms,
        due_date: r.due_date,
        state,
    })
}

const SELECT: &str = "SELECT r.body, (SELECT p.id FROM photos p WHERE p.retake_request_id = r.id
                                      ORDER BY p.taken_at_ms LIMIT 1)
                      FROM retake_requests r";

/// The rep's requests, newest first; `store_id` narrows to one store; `owed` keeps only those
/// still waiting for a photo (open or overdue).
pub(crate) fn requests(
    conn: &Connection,
    rep_id: &str,
    store_id: Option<&str>,
    owed: bool,
    today: Option<&str>,
) -> Result<Vec<RetakeRequest>> {
    let mut st = conn.prepare_cached(&format!(
        "{SELECT} WHERE r.rep_id = ?1 AND (?2 IS NULL OR r.store_id = ?2)
         ORDER BY r.requested_at_ms DESC, r.id"
    ))?;
    let rows = st.query_map(params![rep_id, store_id], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (body, photo) = row?;
        let req = request(&body, photo, today)?;
        if !owed || matches!(req.state, RetakeState::Open | RetakeState::Overdue) {
            out.push(req);
        }
    }
    Ok(out)
}

/// The retakes a store check still owes: every open request of its rep at its store with no
/// photo taken for it yet. An inspection owes none (a supervisor is not the rep asked).
pub(crate) fn missing_for_visit(
    conn: &Connection,
    kind: TemplateKind,
    rep_id: &str,
    store_id: &str,
) -> Result<Vec<MissingItem>> {
    if kind != TemplateKind::StoreCheck {
        return Ok(Vec::new());
    }
    Ok(requests(conn, rep_id, Some(store_id), true, None)?
        .into_iter()
        .map(|r| MissingItem {
            kind: MissingKind::RetakePhoto,
            item_id: r.item_id,
            label: r.reason,
            retake_request_id: Some(r.id),
        })
        .collect())
}

/// A photo about to be captured for `request_id` in `visit`: the request must be this phone's,
/// for the visit's rep and store, and still waiting.
pub(crate) fn check_for_capture(conn: &Connection, request_id: &str, visit: &VisitOf<'_>) -> Result<()> {
    let row: Option<(String, Option<String>)> = conn
        .prepare_cached(&format!("{SELECT} WHERE r.id = ?1"))?
        .query_row([request_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (body, photo) = row.ok_or_else(|| Error::not_found("retake_request", request_id))?;
    let req = request(&body, photo, None)?;
    if req.rep_id != visit.rep_id || req.store_id != visit.store_id || visit.kind != TemplateKind::StoreCheck
    {
        return Err(Error::RetakeNotForVisit {
            request_id: request_id.into(),
            visit_id: visit.id.to_string(),
        });
    }
    match req.state {
        RetakeState::Open | RetakeState::Overdue => Ok(()),
        s => Err(Error::RetakeNotOpen {
            request_id: request_id.into(),
            state: if s == RetakeState::Done {
                "done"
            } else {
                "cancelled"
            },
        }),
    }
}
