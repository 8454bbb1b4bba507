//! Reads: the day's plan, visit detail, store history, open exceptions, the outbox. Reads never
//! write.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::{Error, Result};
use crate::model::*;
use crate::outbox::{self, AuditReport, OutboxSummary};
use crate::reference::parse_geofence_mode;
use crate::{Core, rules};

pub(crate) struct VisitRow {
    pub id: String,
    pub kind: TemplateKind,
    pub user_id: String,
    pub store_id: String,
    pub template_id: String,
    pub template_version: i32,
    pub plan_id: Option<String>,
    pub status: VisitStatus,
    pub time: EventTime,
    pub fix: Option<String>,
    pub geofence: String,
    pub distance_m: Option<f64>,
    pub completed_at_ms: Option<i64>,
    pub score: Option<f64>,
    pub checked_out_at_ms: Option<i64>,
    pub check_out_fix: Option<String>,
    pub cancel_reason: Option<String>,
}

impl<'a> From<&'a VisitRow> for crate::retakes::VisitOf<'a> {
    fn from(v: &'a VisitRow) -> Self {
        crate::retakes::VisitOf {
            id: &v.id,
            kind: v.kind,
            rep_id: &v.user_id,
            store_id: &v.store_id,
        }
    }
}

const VISIT_COLUMNS: &str = "id, kind, user_id, store_id, template_id, template_version, plan_id, status,
    check_in_wall_ms, check_in_boot_ms, check_in_hlc, server_offset_ms, check_in_fix, geofence, distance_m,
    completed_at_ms, score, checked_out_at_ms, check_out_fix, cancel_reason";

fn visit_from_row(r: &Row<'_>) -> rusqlite::Result<VisitRow> {
    let kind: String = r.get(1)?;
    let status: String = r.get(7)?;
    Ok(VisitRow {
        id: r.get(0)?,
        kind: if kind == "inspection" {
            TemplateKind::Inspection
        } else {
            TemplateKind::StoreCheck
        },
        user_id: r.get(2)?,
        store_id: r.get(3)?,
        template_id: r.get(4)?,
        template_version: r.get(5)?,
        plan_id: r.get(6)?,
        status: VisitStatus::parse(&status).unwrap_or(VisitStatus::InProgress),
        time: EventTime {
            wall_ms: r.get(8)?,
            boot_ms: r.get(9)?,
            hlc: r.get(10)?,
            server_offset_ms: r.get(11)?,
        },
        fix: r.get(12)?,
        geofence: r.get(13)?,
        distance_m: r.get(14)?,
        completed_at_ms: r.get(15)?,
        score: r.get(16)?,
        checked_out_at_ms: r.get(17)?,
        check_out_fix: r.get(18)?,
        cancel_reason: r.get(19)?,
    })
}

pub(crate) fn visit_row(conn: &Connection, visit_id: &str) -> Result<VisitRow> {
    conn.prepare_cached(&format!("SELECT {VISIT_COLUMNS} FROM visits WHERE id = ?1"))?
        .query_row([visit_id], visit_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("visit", visit_id))
}

fn geofence_from(s: &str) -> GeofenceVerdict {
    match s {
        "verified" => GeofenceVerdict::Verified,
        "outside" => GeofenceVerdict::Outside,
        "no_fix" => GeofenceVerdict::NoFix,
        _ => GeofenceVerdict::NotChecked,
    }
}

pub(crate) fn visit(conn: &Connection, visit_id: &str) -> Result<Visit> {
    let v = visit_row(conn, visit_id)?;
    Ok(Visit {
        flags: open_flags(conn, &v.id)?,
        check_in_fix: v.fix.as_deref().map(serde_json::from_str).transpose()?,
        check_out_fix: v.check_out_fix.as_deref().map(serde_json::from_str).transpose()?,
        geofence: geofence_from(&v.geofence),
        id: v.id,
        kind: v.kind,
        user_id: v.user_id,
        store_id: v.store_id,
        template_id: v.template_id,
        template_version: v.template_version,
        plan_id: v.plan_id,
        status: v.status,
        check_in_time: v.time,
        distance_m: v.distance_m,
        completed_at_ms: v.completed_at_ms,
        checked_out_at_ms: v.checked_out_at_ms,
        score: v.score,
        cancel_reason: v.cancel_reason,
    })
}

fn flag_from_row(r: &Row<'_>) -> rusqlite::Result<Flag> {
    let code: String = r.get(0)?;
    let item: String = r.get(1)?;
    Ok(Flag {
        code: FlagCode::parse(&code).unwrap_or(FlagCode::SupervisorFlag),
        item_id: (!item.is_empty()).then_some(item),
        detail: r.get(2)?,
    })
}

pub(crate) fn open_flags(conn: &Connection, visit_id: &str) -> Result<Vec<Flag>> {
    let mut st = conn.prepare_cached(
        "SELECT code, item_id, detail FROM visit_flags WHERE visit_id = ?1 AND cleared_at_ms IS NULL ORDER BY id",
    )?;
    let rows = st.query_map([visit_id], flag_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(crate) fn user(conn: &Connection, id: &str) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached("SELECT id, name, role, territory, supervisor_id FROM users WHERE id = ?1")?
        .query_row([id], |r| {
            let role: String = r.get(2)?;
            Ok(User {
                id: r.get(0)?,
                name: r.get(1)?,
                role: if role == "supervisor" {
                    Role::Supervisor
                } else {
                    Role::Rep
                },
                territory: r.get(3)?,
                supervisor_id: r.get(4)?,
            })
        })
        .optional()?)
}

const STORE_COLUMNS: &str = "s.id, s.code, s.name, s.address, s.latitude, s.longitude, s.geofence_radius_m, s.territory, s.geofence_mode";

fn store_from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<Store> {
    let mode: Option<String> = r.get(at + 8)?;
    Ok(Store {
        id: r.get(at)?,
        code: r.get(at + 1)?,
        name: r.get(at + 2)?,
        address: r.get(at + 3)?,
        latitude: r.get(at + 4)?,
        longitude: r.get(at + 5)?,
        geofence_radius_m: r.get(at + 6)?,
        territory: r.get(at + 7)?,
        geofence_mode: mode.as_deref().and_then(parse_geofence_mode),
    })
}

pub(crate) fn store(conn: &Connection, id: &str) -> Result<Option<Store>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {STORE_COLUMNS} FROM stores s WHERE s.id = ?1"))?
        .query_row([id], |r| store_from_row(r, 0))
        .optional()?)
}

pub(crate) fn plan(conn: &Connection, id: &str) -> Result<Option<PlannedVisit>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, rep_id, store_id, date, template_id, sequence, window_start, window_end FROM plans WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(PlannedVisit {
                id: r.get(0)?,
                rep_id: r.get(1)?,
                store_id: r.get(2)?,
                date: r.get(3)?,
                template_id: r.get(4)?,
                sequence: r.get(5)?,
                window_start: r.get(6)?,
                window_end: r.get(7)?,
            })
        })
        .optional()?)
}

pub(crate) fn default_template(conn: &Connection, kind: TemplateKind) -> Result<Option<String>> {
    let kind = match kind {
        TemplateKind::StoreCheck => "store_check",
        TemplateKind::Inspection => "inspection",
    };
    Ok(conn
        .query_row(
            "SELECT id FROM templates WHERE kind = ?1 AND is_default = 1 ORDER BY version DESC, id LIMIT 1",
            [kind],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn open_visit_id(conn: &Connection, user_id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM visits WHERE user_id = ?1 AND status IN ('in_progress', 'completed') LIMIT 1",
        )?
        .query_row([user_id], |r| r.get(0))
        .optional()?)
}

pub(crate) fn answers_with_notes(
    conn: &Connection,
    visit_id: &str,
) -> Result<HashMap<String, (AnswerValue, Option<String>)>> {
    let mut st = conn.prepare_cached("SELECT item_id, value, note FROM answers WHERE visit_id = ?1")?;
    let mut rows = st.query([visit_id])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let value: String = r.get(1)?;
        out.insert(r.get(0)?, (serde_json::from_str(&value)?, r.get(2)?));
    }
    Ok(out)
}

pub(crate) fn answers(conn: &Connection, visit_id: &str) -> Result<HashMap<String, AnswerValue>> {
    Ok(answers_with_notes(conn, visit_id)?
        .into_iter()
        .map(|(k, (v, _))| (k, v))
        .collect())
}

pub(crate) fn photo_counts(conn: &Connection, visit_id: &str) -> Result<HashMap<String, i32>> {
    let mut st = conn.prepare_cached(
        "SELECT item_id, count(*) FROM photos WHERE visit_id = ?1 AND item_id IS NOT NULL GROUP BY item_id",
    )?;
    let rows = st.query_map([visit_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
}

pub(crate) fn report(conn: &Connection, visit_id: &str) -> Result<Option<VisitReport>> {
    let body: Option<String> = conn
        .prepare_cached("SELECT body FROM report_revisions WHERE visit_id = ?1 ORDER BY id DESC LIMIT 1")?
        .query_row([visit_id], |r| r.get(0))
        .optional()?;
    Ok(body.as_deref().map(serde_json::from_str).transpose()?)
}

impl Core {
    /// A rep's plan for one local date (`YYYY-MM-DD`), in route order, with each stop's status,
    /// the retakes the rep owes at its store (open, or overdue on `date`) and the follow-ups due
    /// with the rep's customers linked to the store (the rest: `pipeline_day`).
    pub fn day_plan(&self, rep_id: &str, date: &str) -> Result<Vec<DayPlanEntry>> {
        rules::validate_date(date).map_err(Error::InvalidInput)?;
        let inner = self.lock();
        user(&inner.conn, rep_id)?.ok_or_else(|| Error::not_found("user", rep_id))?;
        let mut st = inner.conn.prepare_cached(&format!(
            "SELECT p.id, p.sequence, p.template_id,
                (SELECT v.id FROM visits v WHERE v.plan_id = p.id ORDER BY v.check_in_hlc DESC LIMIT 1) AS vid,
                (SELECT v.status FROM visits v WHERE v.plan_id = p.id ORDER BY v.check_in_hlc DESC LIMIT 1),
                p.window_start, p.window_end,
                {STORE_COLUMNS}
             FROM plans p JOIN stores s ON s.id = p.store_id
             WHERE p.rep_id = ?1 AND p.date = ?2 ORDER BY p.sequence, p.id"
        ))?;
        let rows = st.query_map(params![rep_id, date], |r| {
            let status: Option<String> = r.get(4)?;
            Ok(DayPlanEntry {
                plan_id: r.get(0)?,
                sequence: r.get(1)?,
                template_id: r.get(2)?,
                visit_id: r.get(3)?,
                status: match status.as_deref().and_then(VisitStatus::parse) {
                    None => PlanStatus::NotStarted,
                    Some(VisitStatus::InProgress) => PlanStatus::InProgress,
                    Some(VisitStatus::Completed | VisitStatus::CheckedOut) => PlanStatus::Completed,
                    Some(VisitStatus::Cancelled) => PlanStatus::Cancelled,
                },
                window_start: r.get(5)?,
                window_end: r.get(6)?,
                store: store_from_row(r, 7)?,
                retakes: Vec::new(),
                follow_ups_due: Vec::new(),
            })
        })?;
        let mut entries = rows.collect::<Result<Vec<_>, _>>()?;
        for e in &mut entries {
            e.retakes = crate::retakes::requests(&inner.conn, rep_id, Some(&e.store.id), true, Some(date))?;
            e.follow_ups_due =
                crate::customer_flow::due_follow_ups(&inner.conn, rep_id, date, Some(&e.store.id))?;
        }
        Ok(entries)
    }

    /// Stores in a territory (all stores when `None`), by code.
    pub fn stores(&self, territory: Option<&str>) -> Result<Vec<Store>> {
        let inner = self.lock();
        let mut st = inner.conn.prepare_cached(&format!(
            "SELECT {STORE_COLUMNS} FROM stores s WHERE ?1 IS NULL OR s.territory = ?1 ORDER BY s.code"
        ))?;
        let rows = st.query_map([territory], |r| store_from_row(r, 0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    pub fn visit(&self, visit_id: &str) -> Result<Visit> {
        visit(&self.lock().conn, visit_id)
    }

    /// The user's open visit (in progress or completed, not yet checked out), if any.
    pub fn open_visit(&self, user_id: &str) -> Result<Option<Visit>> {
        let inner = self.lock();
        match open_visit_id(&inner.conn, user_id)? {
            Some(id) => Ok(Some(visit(&inner.conn, &id)?)),
            None => Ok(None),
        }
    }

    pub fn visit_detail(&self, visit_id: &str) -> Result<VisitDetail> {
        let mut inner = self.lock();
        let v = visit(&inner.conn, visit_id)?;
        let template = inner.template(&v.template_id, v.template_version)?;
        let conn = &inner.conn;
        let store = store(conn, &v.store_id)?.ok_or_else(|| Error::not_found("store", &v.store_id))?;
        let mut st = conn.prepare_cached(
            "SELECT item_id, value, note, answered_at_ms, revision FROM answers WHERE visit_id = ?1",
        )?;
        let mut rows = st.query([visit_id])?;
        let mut by_item = HashMap::new();
        while let Some(r) = rows.next()? {
            let value: String = r.get(1)?;
            let a = Answer {
                item_id: r.get(0)?,
                value: serde_json::from_str(&value)?,
                note: r.get(2)?,
                answered_at_ms: r.get(3)?,
                revision: r.get(4)?,
            };
            by_item.insert(a.item_id.clone(), a);
        }
        // Template order, as the form shows them.
        let answers: Vec<Answer> = template
            .items()
            .filter_map(|(_, i)| by_item.remove(&i.id))
            .collect();
        let plain: HashMap<String, AnswerValue> = answers
            .iter()
            .map(|a| (a.item_id.clone(), a.value.clone()))
            .collect();
        let mut st = conn.prepare_cached(
            "SELECT id, visit_id, item_id, kind, sha256, byte_len, path, taken_at_ms,
                original_sha256, width, height, phash, evidence_code
             FROM photos WHERE visit_id = ?1 ORDER BY taken_at_ms, id",
        )?;
        let photos = st
            .query_map([visit_id], |r| {
                let kind: String = r.get(3)?;
                Ok(Photo {
                    id: r.get(0)?,
                    visit_id: r.get(1)?,
                    item_id: r.get(2)?,
                    kind: PhotoKind::from_key(&kind),
                    sha256: r.get(4)?,
                    byte_len: r.get(5)?,
                    path: self
                        .photo_dir
                        .join(r.get::<_, String>(6)?)
                        .to_string_lossy()
                        .into_owned(),
                    taken_at_ms: r.get(7)?,
                    original_sha256: r.get(8)?,
                    width: r.get(9)?,
                    height: r.get(10)?,
                    phash: r.get(11)?,
                    evidence_code: r.get(12)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let counts = photo_counts(conn, visit_id)?;
        let report = report(conn, visit_id)?;
        let mut st = conn.prepare_cached(
            "SELECT id, visit_id, reviewer_id, verdict, comment, reviewed_at_ms FROM reviews
             WHERE visit_id = ?1 ORDER BY reviewed_at_ms, id",
        )?;
        let reviews = st
            .query_map([visit_id], |r| {
                let verdict: String = r.get(3)?;
                Ok(Review {
                    id: r.get(0)?,
                    visit_id: r.get(1)?,
                    reviewer_id: r.get(2)?,
                    verdict: if verdict == "flag" {
                        ReviewVerdict::Flag
                    } else {
                        ReviewVerdict::Accept
                    },
                    comment: r.get(4)?,
                    reviewed_at_ms: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut hidden: Vec<String> = rules::hidden_items(&template, &plain).into_iter().collect();
        hidden.sort();
        let missing = if v.status == VisitStatus::InProgress {
            let mut m = rules::missing_for_completion(&template, &plain, &counts, report.is_some());
            let visit = visit_row(conn, visit_id)?;
            m.extend(crate::retakes::missing_for_visit(
                conn,
                visit.kind,
                &visit.user_id,
                &visit.store_id,
            )?);
            m
        } else {
            Vec::new()
        };
        Ok(VisitDetail {
            score: rules::score(&template, &plain, &counts),
            missing,
            hidden_item_ids: hidden,
            visit: v,
            store,
            template: (*template).clone(),
            answers,
            photos,
            report,
            reviews,
        })
    }

    /// Past and current visits at a store, newest first.
    pub fn store_history(&self, store_id: &str, limit: i32) -> Result<Vec<VisitSummary>> {
        let limit = Error::non_negative("limit", limit)?;
        let inner = self.lock();
        store(&inner.conn, store_id)?.ok_or_else(|| Error::not_found("store", store_id))?;
        let mut st = inner.conn.prepare_cached(
            "SELECT v.id, v.kind, v.user_id, v.status, v.check_in_wall_ms, v.geofence, v.score,
                (SELECT group_concat(code, ',') FROM (SELECT DISTINCT f.code FROM visit_flags f
                    WHERE f.visit_id = v.id AND f.cleared_at_ms IS NULL ORDER BY f.code))
             FROM visits v WHERE v.store_id = ?1 ORDER BY v.check_in_wall_ms DESC, v.id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![store_id, limit], |r| {
            let kind: String = r.get(1)?;
            let status: String = r.get(3)?;
            let geofence: String = r.get(5)?;
            let codes: Option<String> = r.get(7)?;
            Ok(VisitSummary {
                visit_id: r.get(0)?,
                kind: if kind == "inspection" {
                    TemplateKind::Inspection
                } else {
                    TemplateKind::StoreCheck
                },
                user_id: r.get(2)?,
                status: VisitStatus::parse(&status).unwrap_or(VisitStatus::InProgress),
                checked_in_at_ms: r.get(4)?,
                geofence: geofence_from(&geofence),
                score: r.get(6)?,
                flag_codes: codes
                    .map(|c| c.split(',').filter_map(FlagCode::parse).collect())
                    .unwrap_or_default(),
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Every open flag on this device, newest first (异常).
    pub fn open_exceptions(&self, limit: i32) -> Result<Vec<OpenException>> {
        let limit = Error::non_negative("limit", limit)?;
        let inner = self.lock();
        let mut st = inner.conn.prepare_cached(
            "SELECT f.code, f.item_id, f.detail, f.visit_id, v.store_id, v.user_id, f.raised_at_ms
             FROM visit_flags f JOIN visits v ON v.id = f.visit_id
             WHERE f.cleared_at_ms IS NULL ORDER BY f.raised_at_ms DESC, f.id DESC LIMIT ?1",
        )?;
        let rows = st.query_map([limit], |r| {
            Ok(OpenException {
                flag: flag_from_row(r)?,
                visit_id: r.get(3)?,
                store_id: r.get(4)?,
                user_id: r.get(5)?,
                raised_at_ms: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Ops waiting for the server, oldest first.
    pub fn pending_ops(&self, limit: i32) -> Result<Vec<OutboxOp>> {
        let limit = Error::non_negative("limit", limit)?;
        outbox::pending(&self.lock().conn, limit)
    }

    pub fn outbox_summary(&self) -> Result<OutboxSummary> {
        outbox::summary(&self.lock().conn)
    }

    /// SQLite's full consistency check of the database file: `["ok"]` when healthy.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let inner = self.lock();
        let mut st = inner.conn.prepare("PRAGMA integrity_check")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Rows per table, by table name: for diagnostics screens, and for tests that prove a refused
    /// action wrote nothing.
    pub fn table_row_counts(&self) -> Result<Vec<(String, i64)>> {
        let inner = self.lock();
        let mut st = inner.conn.prepare_cached(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?;
        let names = st
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            // Table names come from sqlite_master, not from the caller.
            let n: i64 = inner
                .conn
                .query_row(&format!("SELECT count(*) FROM \"{name}\""), [], |r| r.get(0))?;
            out.push((name, n));
        }
        Ok(out)
    }

    /// Check the invariants that make "nothing is lost" provable: contiguous outbox sequence,
    /// every action's rows with its op and every op with its rows. Used by the crash and property
    /// tests; cheap enough for a support screen.
    pub fn audit(&self) -> Result<AuditReport> {
        outbox::audit(&self.lock().conn, &self.signer.public_key_hex())
    }
}
