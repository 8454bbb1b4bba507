//! The visit flow: check in → answer the store check, add photos, write the report → complete
//! (locked while anything required is missing) → check out; or cancel. A supervisor's inspection
//! is the same flow over an inspection template; a supervisor's review of a rep's visit is one
//! more action.
//!
//! Every method validates everything first, then performs the action through one [`Action`]
//! (one transaction). A refused action writes nothing.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::model::*;
use crate::outbox::Action;
use crate::queries::{self, VisitRow};
use crate::sync::wire::payload::{
    self as wire, CancelPayload, CheckInPayload, CheckOutPayload, CompletePayload, OpPayload, ReportPayload,
    ReviewPayload, StoreCodeProof,
};
use crate::{Core, Inner, rules};

#[derive(Debug, Clone, PartialEq)]
pub struct CheckInRequest {
    pub user_id: String,
    pub store_id: String,
    /// The plan line being visited, if any.
    pub plan_id: Option<String>,
    /// Overrides the plan's or the default template.
    pub template_id: Option<String>,
    pub fix: Option<LocationFix>,
}

/// What the visit screen needs after an answer: what is still missing, which items are hidden,
/// and the visit's open flags (a price gap shows at once).
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerOutcome {
    pub missing: Vec<MissingItem>,
    pub hidden_item_ids: Vec<String>,
    pub flags: Vec<Flag>,
}

impl Inner {
    pub(crate) fn template(&mut self, id: &str, version: i32) -> Result<Arc<CheckTemplate>> {
        if let Some(t) = self.templates.get(&(id.to_string(), version)) {
            return Ok(t.clone());
        }
        let body: String = self
            .conn
            .query_row(
                "SELECT body FROM templates WHERE id = ?1 AND version = ?2",
                params![id, version],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::not_found("template", format!("{id} v{version}")))?;
        let t = Arc::new(serde_json::from_str::<CheckTemplate>(&body)?);
        self.templates.insert((id.to_string(), version), t.clone());
        Ok(t)
    }

    fn latest_template_version(&self, id: &str) -> Result<i32> {
        self.conn
            .query_row("SELECT max(version) FROM templates WHERE id = ?1", [id], |r| {
                r.get::<_, Option<i32>>(0)
            })?
            .ok_or_else(|| Error::not_found("template", id))
    }

    /// A visit that may still change, with its template.
    pub(crate) fn editable_visit(&mut self, visit_id: &str) -> Result<(VisitRow, Arc<CheckTemplate>)> {
        let v = queries::visit_row(&self.conn, visit_id)?;
        if v.status != VisitStatus::InProgress {
            return Err(Error::VisitNotEditable {
                visit_id: visit_id.into(),
                status: v.status.as_str(),
            });
        }
        let t = self.template(&v.template_id, v.template_version)?;
        Ok((v, t))
    }
}

fn user(conn: &Connection, id: &str) -> Result<User> {
    queries::user(conn, id)?.ok_or_else(|| Error::not_found("user", id))
}

fn check_text(what: &str, s: &str, max: usize) -> Result<()> {
    if s.len() > max {
        return Err(Error::InvalidInput(format!("{what} longer than {max} bytes")));
    }
    Ok(())
}

fn validated_fix(fix: Option<&LocationFix>) -> Result<()> {
    if let Some(f) = fix {
        rules::validate_fix(f).map_err(Error::InvalidLocation)?;
    }
    Ok(())
}

impl Core {
    /// Check in at a store: resolves the template (explicit, the plan's, or the default), runs
    /// the location rules, and opens the visit. Refused when the user already has an open visit,
    /// or when the geofence is in block mode and the fix is outside or missing.
    pub fn check_in(&self, req: &CheckInRequest) -> Result<Visit> {
        self.check_in_with(req, None)
    }

    /// Check in with the store's rotating code scanned (扫码签到): the code is verified offline
    /// against the store's keys at the device's time (corrected by the server's clock when
    /// known) and refused with its `store_code_*` error, nothing written, when it is malformed,
    /// another store's, signed by a key the phone does not know, forged, or not current (a
    /// photographed code is stale a minute later). A valid code goes into the check-in's
    /// signed op, so the server verifies it again. Otherwise as [`Core::check_in`].
    pub fn check_in_scanned(&self, req: &CheckInRequest, store_code: &str) -> Result<Visit> {
        self.check_in_with(req, Some(store_code))
    }

    fn check_in_with(&self, req: &CheckInRequest, store_code: Option<&str>) -> Result<Visit> {
        validated_fix(req.fix.as_ref())?;
        let mut inner = self.lock();
        let user = user(&inner.conn, &req.user_id)?;
        let store = queries::store(&inner.conn, &req.store_id)?
            .ok_or_else(|| Error::not_found("store", &req.store_id))?;
        let plan = match &req.plan_id {
            Some(pid) => {
                let p = queries::plan(&inner.conn, pid)?.ok_or_else(|| Error::not_found("plan", pid))?;
                if p.rep_id != user.id || p.store_id != store.id {
                    return Err(Error::NotAllowed(format!(
                        "plan {pid} is for another rep or store"
                    )));
                }
                Some(p)
            }
            None => None,
        };
        let wanted_kind = match user.role {
            Role::Rep => TemplateKind::StoreCheck,
            Role::Supervisor => TemplateKind::Inspection,
        };
        let template_id = match (&req.template_id, &plan) {
            (Some(t), _) => t.clone(),
            (None, Some(p)) => p.template_id.clone(),
            (None, None) => queries::default_template(&inner.conn, wanted_kind)?.ok_or_else(|| {
                Error::NoTemplate(format!("no default {} template is loaded", kind_str(wanted_kind)))
            })?,
        };
        let version = inner.latest_template_version(&template_id)?;
        let template = inner.template(&template_id, version)?;
        if template.kind != wanted_kind {
            return Err(Error::NotAllowed(format!(
                "a {} cannot start a {} visit",
                if user.role == Role::Rep {
                    "rep"
                } else {
                    "supervisor"
                },
                kind_str(template.kind)
            )));
        }
        if user.role == Role::Rep
            && plan.is_none()
            && user.territory.as_deref() != Some(store.territory.as_str())
        {
            return Err(Error::NotAllowed("store is outside the rep's territory".into()));
        }
        if let Some(open) = queries::open_visit_id(&inner.conn, &user.id)? {
            return Err(Error::VisitAlreadyOpen {
                user_id: user.id,
                visit_id: open,
            });
        }
        let mode = rules::effective_geofence_mode(&store, &template);
        let outcome = rules::check_location(
            &store,
            &template.rules,
            mode,
            req.fix.as_ref(),
            self.clock.wall_ms(),
        );
        if mode == GeofenceMode::Block {
            match outcome.verdict {
                GeofenceVerdict::Outside => {
                    return Err(Error::OutsideGeofence {
                        distance_m: outcome.distance_m.unwrap_or(f64::NAN),
                    });
                }
                GeofenceVerdict::NoFix => return Err(Error::FixRequired),
                _ => {}
            }
        }

        let scanned = match store_code {
            Some(text) => {
                let offset: Option<i64> =
                    inner
                        .conn
                        .query_row("SELECT server_offset_ms FROM device WHERE id = 1", [], |r| {
                            r.get(0)
                        })?;
                let now = self.clock.wall_ms() + offset.unwrap_or(0);
                let keys = crate::customer_flow::pull::store_keys(&inner.conn, &store.id)?;
                Some(
                    crate::customers::verify_store_code(text, &store.id, &keys, now)
                        .map_err(Error::StoreCode)?,
                )
            }
            None => None,
        };

        let visit_id = uuid::Uuid::now_v7().to_string();
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "INSERT INTO visits (id, kind, user_id, store_id, template_id, template_version, plan_id, status,
                check_in_wall_ms, check_in_boot_ms, check_in_hlc, server_offset_ms, check_in_fix, geofence,
                distance_m, check_in_op, store_code)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'in_progress', ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                visit_id,
                kind_str(template.kind),
                user.id,
                store.id,
                template.id,
                template.version,
                plan.as_ref().map(|p| &p.id),
                action.time.wall_ms,
                action.time.boot_ms,
                action.time.hlc,
                action.time.server_offset_ms,
                req.fix.as_ref().map(serde_json::to_string).transpose()?,
                outcome.verdict.as_str(),
                outcome.distance_m,
                action.op_id,
                scanned.as_ref().map(|c| c.text.clone()),
            ],
        )?;
        let mut flags = outcome.flags.clone();
        for f in &flags {
            action.raise_flag(&visit_id, f)?;
        }
        if let Some(f) = action.flag_clock_jump(&visit_id)? {
            flags.push(f);
        }
        let payload = OpPayload::CheckIn(CheckInPayload {
            visit_id: visit_id.clone(),
            kind: template.kind.into(),
            user_id: user.id.clone(),
            store_id: store.id.clone(),
            template_id: template.id.clone(),
            template_version: wire_count("template version", template.version)?,
            plan_id: plan.as_ref().map(|p| p.id.clone()),
            fix: req.fix.clone(),
            geofence: Some(outcome.verdict.into()),
            distance_m: outcome.distance_m,
            flags: flags.iter().map(wire::DeviceFlag::from).collect(),
            time: Some(action.time),
            store_code: scanned.as_ref().map(StoreCodeProof::from),
        });
        action.finish(&self.signer, &visit_id, &payload)?;
        tracing::info!(
            geofence = outcome.verdict.as_str(),
            flags = flags.len(),
            "checked in"
        );
        queries::visit(&inner.conn, &visit_id)
    }

    /// Answer (or correct) one item. Corrections are kept in the history until completion.
    pub fn answer(
        &self,
        visit_id: &str,
        item_id: &str,
        value: &AnswerValue,
        note: Option<&str>,
    ) -> Result<AnswerOutcome> {
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if let Some(n) = note {
            check_text("note", n, 4_000)?;
        }
        let mut inner = self.lock();
        let (visit, template) = inner.editable_visit(visit_id)?;
        let item = template
            .item(item_id)
            .ok_or_else(|| Error::not_found("item", item_id))?;
        let value = rules::validate_answer(item, value)?;
        let mut answers = queries::answers_with_notes(&inner.conn, visit_id)?;
        let plain: HashMap<String, AnswerValue> =
            answers.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect();
        if rules::hidden_items(&template, &plain).contains(item_id) {
            return Err(Error::ItemHidden {
                item_id: item_id.into(),
            });
        }
        let unchanged = answers
            .get(item_id)
            .is_some_and(|(v, n)| v == &value && n.as_deref() == note);
        if !unchanged {
            let before = rules::price_gaps(&template, &answers);
            answers.insert(item_id.to_string(), (value.clone(), note.map(str::to_string)));
            let after = rules::price_gaps(&template, &answers);
            let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
            let revision: i32 = action.tx.query_row(
                "SELECT count(*) + 1 FROM answer_history WHERE visit_id = ?1 AND item_id = ?2",
                params![visit_id, item_id],
                |r| r.get(0),
            )?;
            let value_json = serde_json::to_string(&value)?;
            action.tx.execute(
                "INSERT INTO answer_history (visit_id, item_id, value, note, answered_at_ms, op_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    visit_id,
                    item_id,
                    value_json,
                    note,
                    action.time.wall_ms,
                    action.op_id
                ],
            )?;
            action.tx.execute(
                "INSERT INTO answers (visit_id, item_id, value, note, answered_at_ms, revision, op_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (visit_id, item_id) DO UPDATE SET value = excluded.value, note = excluded.note,
                   answered_at_ms = excluded.answered_at_ms, revision = excluded.revision, op_id = excluded.op_id",
                params![visit_id, item_id, value_json, note, action.time.wall_ms, revision, action.op_id],
            )?;
            let mut raised = Vec::new();
            for f in after.iter().filter(|f| !before.contains(f)) {
                if action.raise_flag(visit_id, f)? {
                    raised.push(f.clone());
                }
            }
            let mut cleared = Vec::new();
            for f in before
                .iter()
                .filter(|f| !after.iter().any(|a| a.item_id == f.item_id))
            {
                let subject = f.item_id.as_deref().unwrap_or("");
                if action.clear_flag(visit_id, f.code, subject)? {
                    cleared.push(subject.to_string());
                }
            }
            if let Some(f) = action.flag_clock_jump(visit_id)? {
                raised.push(f);
            }
            let payload = OpPayload::Answer(wire::AnswerPayload {
                visit_id: visit_id.to_string(),
                item_id: item_id.to_string(),
                value: wire::AnswerBody::Known(value.clone()),
                note: note.map(str::to_string),
                revision: wire_count("answer revision", revision)?,
                raised: raised.iter().map(wire::DeviceFlag::from).collect(),
                cleared: cleared.clone(),
                time: Some(action.time),
            });
            action.finish(&self.signer, &visit.id, &payload)?;
        }
        let plain: HashMap<String, AnswerValue> = answers.into_iter().map(|(k, (v, _))| (k, v)).collect();
        let photos = queries::photo_counts(&inner.conn, visit_id)?;
        let has_report = queries::report(&inner.conn, visit_id)?.is_some();
        let mut hidden: Vec<String> = rules::hidden_items(&template, &plain).into_iter().collect();
        hidden.sort();
        let mut missing = rules::missing_for_completion(&template, &plain, &photos, has_report);
        missing.extend(crate::retakes::missing_for_visit(
            &inner.conn,
            visit.kind,
            &visit.user_id,
            &visit.store_id,
        )?);
        Ok(AnswerOutcome {
            missing,
            hidden_item_ids: hidden,
            flags: queries::open_flags(&inner.conn, visit_id)?,
        })
    }

    /// Save (or revise) the visit report. The latest revision is the report; all are kept.
    pub fn save_report(&self, visit_id: &str, report: &VisitReport) -> Result<()> {
        let notes = report.notes.trim();
        if notes.is_empty() {
            return Err(Error::InvalidInput("report notes are empty".into()));
        }
        check_text("report notes", notes, 10_000)?;
        for o in &report.objections {
            if o.detail.trim().is_empty() {
                return Err(Error::InvalidInput("an objection has no detail".into()));
            }
            check_text("objection detail", &o.detail, 2_000)?;
        }
        if report.objections.len() > 50 || report.next_steps.len() > 50 {
            return Err(Error::InvalidInput(
                "more than 50 objections or next steps".into(),
            ));
        }
        for s in &report.next_steps {
            if s.trim().is_empty() {
                return Err(Error::InvalidInput("a next step is empty".into()));
            }
            check_text("next step", s, 2_000)?;
        }
        if let Some(d) = &report.follow_up_date {
            rules::validate_date(d).map_err(|e| Error::InvalidInput(format!("follow-up date: {e}")))?;
        }
        let clean = VisitReport {
            notes: notes.to_string(),
            objections: report
                .objections
                .iter()
                .map(|o| Objection {
                    kind: o.kind,
                    detail: o.detail.trim().to_string(),
                })
                .collect(),
            next_steps: report.next_steps.iter().map(|s| s.trim().to_string()).collect(),
            follow_up_date: report.follow_up_date.clone(),
        };
        let mut inner = self.lock();
        let (visit, _) = inner.editable_visit(visit_id)?;
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "INSERT INTO report_revisions (visit_id, body, saved_at_ms, op_id) VALUES (?1, ?2, ?3, ?4)",
            params![
                visit.id,
                serde_json::to_string(&clean)?,
                action.time.wall_ms,
                action.op_id
            ],
        )?;
        action.flag_clock_jump(visit_id)?;
        let payload = OpPayload::Report(ReportPayload {
            visit_id: visit_id.to_string(),
            report: (&clean).into(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &visit.id, &payload)?;
        Ok(())
    }

    /// Complete the store check. Refused, with the exact list, while a required answer, photo,
    /// the report or a retake photo a supervisor asked for at this store
    /// ([`MissingKind::RetakePhoto`]) is missing. Fixes the score.
    pub fn complete_visit(&self, visit_id: &str) -> Result<Visit> {
        let mut inner = self.lock();
        let (visit, template) = inner.editable_visit(visit_id)?;
        let answers = queries::answers(&inner.conn, visit_id)?;
        let photos = queries::photo_counts(&inner.conn, visit_id)?;
        let has_report = queries::report(&inner.conn, visit_id)?.is_some();
        let mut missing = rules::missing_for_completion(&template, &answers, &photos, has_report);
        // A retake a supervisor asked for at this store is a required photo of this visit.
        missing.extend(crate::retakes::missing_for_visit(
            &inner.conn,
            visit.kind,
            &visit.user_id,
            &visit.store_id,
        )?);
        if !missing.is_empty() {
            return Err(Error::CompletionLocked {
                visit_id: visit_id.into(),
                missing,
            });
        }
        let score = rules::score(&template, &answers, &photos);
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "UPDATE visits SET status = 'completed', completed_at_ms = ?1, score = ?2, complete_op = ?3 WHERE id = ?4",
            params![action.time.wall_ms, score.total, action.op_id, visit.id],
        )?;
        action.flag_clock_jump(visit_id)?;
        let payload = OpPayload::Complete(CompletePayload {
            visit_id: visit_id.to_string(),
            score: Some(wire::ScoreBody {
                total: score.total,
                sections: score.sections.clone(),
            }),
            time: Some(action.time),
        });
        action.finish(&self.signer, &visit.id, &payload)?;
        queries::visit(&inner.conn, visit_id)
    }

    /// Leave the store. Only a completed visit can be checked out; an unfinished one is cancelled.
    pub fn check_out(&self, visit_id: &str, fix: Option<&LocationFix>) -> Result<Visit> {
        validated_fix(fix)?;
        let mut inner = self.lock();
        let visit = queries::visit_row(&inner.conn, visit_id)?;
        match visit.status {
            VisitStatus::Completed => {}
            VisitStatus::InProgress => {
                return Err(Error::NotCompleted {
                    visit_id: visit_id.into(),
                });
            }
            s => {
                return Err(Error::VisitNotEditable {
                    visit_id: visit_id.into(),
                    status: s.as_str(),
                });
            }
        }
        let store = queries::store(&inner.conn, &visit.store_id)?
            .ok_or_else(|| Error::not_found("store", &visit.store_id))?;
        let template = inner.template(&visit.template_id, visit.template_version)?;
        let mode = rules::effective_geofence_mode(&store, &template);
        let distance = fix.map(|f| {
            rules::distance_m(store.latitude, store.longitude, f.latitude, f.longitude) - f.accuracy_m
        });
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "UPDATE visits SET status = 'checked_out', checked_out_at_ms = ?1, check_out_fix = ?2, check_out_op = ?3
             WHERE id = ?4",
            params![action.time.wall_ms, fix.map(serde_json::to_string).transpose()?, action.op_id, visit.id],
        )?;
        if let Some(d) = distance
            && mode != GeofenceMode::Off
            && d > store.geofence_radius_m
        {
            action.raise_flag(
                visit_id,
                &Flag {
                    code: FlagCode::OutsideGeofence,
                    item_id: Some("check_out".into()),
                    detail: format!(
                        "checked out {:.0} m from the store, radius {:.0} m",
                        d, store.geofence_radius_m
                    ),
                },
            )?;
        }
        if fix.is_some_and(|f| f.is_mock) {
            action.raise_flag(
                visit_id,
                &Flag {
                    code: FlagCode::MockLocation,
                    item_id: Some("check_out".into()),
                    detail: "mock location at check-out".into(),
                },
            )?;
        }
        action.flag_clock_jump(visit_id)?;
        let payload = OpPayload::CheckOut(CheckOutPayload {
            visit_id: visit_id.to_string(),
            fix: fix.cloned(),
            distance_m: distance,
            time: Some(action.time),
        });
        action.finish(&self.signer, &visit.id, &payload)?;
        queries::visit(&inner.conn, visit_id)
    }

    /// Abandon a visit (store closed, manager absent…). The reason is required.
    pub fn cancel_visit(&self, visit_id: &str, reason: &str) -> Result<Visit> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::InvalidInput("a cancellation needs a reason".into()));
        }
        check_text("reason", reason, 2_000)?;
        let mut inner = self.lock();
        let visit = queries::visit_row(&inner.conn, visit_id)?;
        // A completed visit has its score fixed: it is checked out, not thrown away.
        if visit.status != VisitStatus::InProgress {
            return Err(Error::VisitNotEditable {
                visit_id: visit_id.into(),
                status: visit.status.as_str(),
            });
        }
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "UPDATE visits SET status = 'cancelled', cancel_reason = ?1, cancel_op = ?2 WHERE id = ?3",
            params![reason, action.op_id, visit.id],
        )?;
        action.flag_clock_jump(visit_id)?;
        let payload = OpPayload::Cancel(CancelPayload {
            visit_id: visit_id.to_string(),
            reason: reason.to_string(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &visit.id, &payload)?;
        queries::visit(&inner.conn, visit_id)
    }

    /// A supervisor accepts or flags a rep's finished visit. Flagging needs a comment and raises
    /// `supervisor_flag`; a later acceptance clears it.
    pub fn review_visit(
        &self,
        reviewer_id: &str,
        visit_id: &str,
        verdict: ReviewVerdict,
        comment: &str,
    ) -> Result<Review> {
        let comment = comment.trim();
        check_text("comment", comment, 4_000)?;
        if verdict == ReviewVerdict::Flag && comment.is_empty() {
            return Err(Error::InvalidInput("flagging a visit needs a comment".into()));
        }
        let mut inner = self.lock();
        let reviewer = user(&inner.conn, reviewer_id)?;
        let visit = queries::visit_row(&inner.conn, visit_id)?;
        if reviewer.role != Role::Supervisor {
            return Err(Error::NotAllowed("only a supervisor reviews visits".into()));
        }
        let rep = user(&inner.conn, &visit.user_id)?;
        if rep.supervisor_id.as_deref() != Some(reviewer.id.as_str()) {
            return Err(Error::NotAllowed(
                "the visit's rep is not on this supervisor's team".into(),
            ));
        }
        match visit.status {
            VisitStatus::Completed | VisitStatus::CheckedOut => {}
            VisitStatus::InProgress => {
                return Err(Error::NotCompleted {
                    visit_id: visit_id.into(),
                });
            }
            VisitStatus::Cancelled => {
                return Err(Error::VisitNotEditable {
                    visit_id: visit_id.into(),
                    status: VisitStatus::Cancelled.as_str(),
                });
            }
        }
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let review = Review {
            id: uuid::Uuid::now_v7().to_string(),
            visit_id: visit.id.clone(),
            reviewer_id: reviewer.id.clone(),
            verdict,
            comment: comment.to_string(),
            reviewed_at_ms: action.time.wall_ms,
        };
        action.tx.execute(
            "INSERT INTO reviews (id, visit_id, reviewer_id, verdict, comment, reviewed_at_ms, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                review.id,
                review.visit_id,
                review.reviewer_id,
                if verdict == ReviewVerdict::Accept {
                    "accept"
                } else {
                    "flag"
                },
                review.comment,
                review.reviewed_at_ms,
                action.op_id
            ],
        )?;
        match verdict {
            ReviewVerdict::Flag => {
                action.raise_flag(
                    visit_id,
                    &Flag {
                        code: FlagCode::SupervisorFlag,
                        item_id: None,
                        detail: format!("flagged by supervisor: {comment}"),
                    },
                )?;
            }
            ReviewVerdict::Accept => {
                action.clear_flag(visit_id, FlagCode::SupervisorFlag, "")?;
            }
        }
        let payload = OpPayload::Review(ReviewPayload {
            review: (&review).into(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &visit.id, &payload)?;
        Ok(review)
    }
}

fn kind_str(k: TemplateKind) -> &'static str {
    match k {
        TemplateKind::StoreCheck => "store_check",
        TemplateKind::Inspection => "inspection",
    }
}

pub(crate) fn photo_kind_str(k: PhotoKind) -> &'static str {
    match k {
        PhotoKind::ShelfOverview => "shelf_overview",
        PhotoKind::CompetitorCloseUp => "competitor_close_up",
        PhotoKind::DisplayMeasurement => "display_measurement",
        PhotoKind::Other => "other",
        PhotoKind::Document => "document",
    }
}

/// Content-addressed write: temp file, fsync, rename, fsync the folder. An existing file with
/// the same name already has these bytes.
pub(crate) fn write_durably(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let dir = path
        .parent()
        .ok_or_else(|| Error::Internal("photo path has no folder".into()))?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}

/// A count the model keeps signed (`i32`, as the apps see it) as the payload carries it. The
/// model never holds a negative one; if it did, the op is not written.
fn wire_count(what: &str, n: i32) -> Result<u32> {
    u32::try_from(n).map_err(|_| Error::Internal(format!("{what} {n} is negative")))
}
