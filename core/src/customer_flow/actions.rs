//! The rep's actions on customers and leads: each checks everything, then writes its rows and
//! its signed op in one [`Action`].

use std::collections::HashSet;

use rusqlite::{Connection, params};

use super::{
    CustomerUpdate, check_text, customer, evidence_on_hand, lead, lead_state_str, now_days, pipeline_config,
    state_str, user,
};
use crate::customers::{
    Contact, Customer, CustomerState, DuplicateMatch, EvidenceRef, FollowUp, FollowUpRequest, Lead,
    LeadState, MatchOn, NewCustomer, RequirementKind, StageChange, StageStep, dedupe_keys, missing_for_stage,
    normalize_phone, stage_move,
};
use crate::error::{Error, Result};
use crate::model::User;
use crate::outbox::Action;
use crate::sync::wire::payload::{
    CustomerClaimPayload, CustomerCreatePayload, CustomerReleasePayload, CustomerUpdatePayload,
    FollowUpPayload, LeadClaimPayload, LeadClosePayload, OpPayload, StageChangePayload,
};
use crate::{Core, rules};

const MAX_NAME: usize = 200;
const MAX_NOTE: usize = 4_000;
const MAX_REASON: usize = 1_000;
const MAX_PHONES: usize = 20;
const MAX_CONTACTS: usize = 50;

fn check_contacts(contacts: &[Contact]) -> Result<()> {
    if contacts.len() > MAX_CONTACTS {
        return Err(Error::InvalidInput(format!("more than {MAX_CONTACTS} contacts")));
    }
    for c in contacts {
        if c.name.trim().is_empty() {
            return Err(Error::InvalidInput("a contact has no name".into()));
        }
        check_text("contact name", &c.name, MAX_NAME)?;
        if let Some(t) = &c.title {
            check_text("contact title", t, MAX_NAME)?;
        }
        check_phones(&c.phones)?;
    }
    Ok(())
}

fn check_phones(phones: &[String]) -> Result<()> {
    if phones.len() > MAX_PHONES {
        return Err(Error::InvalidInput(format!(
            "more than {MAX_PHONES} phone numbers"
        )));
    }
    for p in phones {
        check_text("phone number", p, 40)?;
        if normalize_phone(p).is_none() {
            return Err(Error::InvalidInput(format!("phone number {p:?} has no digits")));
        }
    }
    Ok(())
}

fn check_budget(budget_cents: Option<i64>) -> Result<()> {
    if let Some(b) = budget_cents
        && b < 0
    {
        return Err(Error::NegativeNumber {
            what: "budget_cents",
            value: b,
        });
    }
    Ok(())
}

fn check_new_customer(conn: &Connection, c: &NewCustomer) -> Result<()> {
    if c.name.trim().is_empty() {
        return Err(Error::InvalidInput("the customer has no name".into()));
    }
    check_text("customer name", &c.name, MAX_NAME)?;
    for (what, v) in [
        ("company", &c.company),
        ("industry", &c.industry),
        ("region", &c.region),
    ] {
        if let Some(v) = v {
            check_text(what, v, MAX_NAME)?;
        }
    }
    check_phones(&c.phones)?;
    check_contacts(&c.contacts)?;
    check_budget(c.budget_cents)?;
    if let Some(s) = &c.store_id {
        crate::queries::store(conn, s)?.ok_or_else(|| Error::not_found("store", s))?;
    }
    Ok(())
}

/// The customers this phone knows that a new entry matches, one per customer (a phone match
/// before a company match), by the hashed keys only: the match names the owner, never another
/// rep's phone numbers. Entries already linked as duplicates are not matched again.
pub(crate) fn duplicate_matches(conn: &Connection, c: &NewCustomer) -> Result<Vec<DuplicateMatch>> {
    let mut st = conn.prepare_cached(
        "SELECT customer_id, owner_name, state FROM customer_keys WHERE key = ?1 AND state <> 'duplicate'",
    )?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (on, key) in dedupe_keys(c) {
        let rows: Vec<(String, Option<String>, String)> = st
            .query_map([&key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (customer_id, owner_name, state) in rows {
            if seen.insert(customer_id.clone()) {
                out.push(DuplicateMatch {
                    customer_id,
                    owner_name,
                    state: super::parse_state(&state),
                    matched_on: on,
                });
            }
        }
    }
    Ok(out)
}

fn match_on_str(m: MatchOn) -> &'static str {
    match m {
        MatchOn::Phone => "phone",
        MatchOn::Company => "company",
    }
}

/// The rep's own customer, or the typed refusal.
fn owned_by(c: &Customer, me: &User) -> Result<()> {
    if c.state == CustomerState::Owned && c.owner_id.as_deref() == Some(me.id.as_str()) {
        return Ok(());
    }
    Err(Error::NotCustomerOwner {
        customer_id: c.id.clone(),
    })
}

fn record_event(
    action: &Action<'_>,
    kind: &str,
    customer_id: Option<&str>,
    lead_id: Option<&str>,
    user_id: &str,
    reason: Option<&str>,
    body: &serde_json::Value,
) -> Result<()> {
    action.tx.execute(
        "INSERT INTO customer_events (op_id, kind, customer_id, lead_id, user_id, reason, at_ms, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            action.op_id,
            kind,
            customer_id,
            lead_id,
            user_id,
            reason,
            action.time.wall_ms,
            body.to_string()
        ],
    )?;
    Ok(())
}

fn mark_local(action: &Action<'_>, table: &str, id: &str) -> Result<()> {
    action.tx.execute(
        &format!("UPDATE {table} SET local_hlc = ?1 WHERE id = ?2"),
        params![action.time.hlc, id],
    )?;
    Ok(())
}

fn required_reason<'a>(reason: &'a str, verdict: &'static str) -> Result<&'a str> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(Error::ReasonRequired { verdict });
    }
    check_text("reason", r, MAX_REASON)?;
    Ok(r)
}

impl Core {
    /// The customers this phone knows that `customer` would duplicate (for the entry screen, as
    /// the rep types). Reads only.
    pub fn check_customer_duplicates(&self, customer: &NewCustomer) -> Result<Vec<DuplicateMatch>> {
        duplicate_matches(&self.lock().conn, customer)
    }

    /// Enter a customer (or convert a lead: `from_lead_id`). Refused with `duplicate_customer`
    /// when the phone knows a customer with the same phone or company (its own, or another
    /// rep's by hashed key); when it cannot know (both reps offline) the customer is created and
    /// the server links the later entry as a duplicate. Starts in the first open stage, owned by
    /// the rep.
    pub fn create_customer(&self, user_id: &str, customer: &NewCustomer) -> Result<Customer> {
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        check_new_customer(&inner.conn, customer)?;
        let lead = match &customer.from_lead_id {
            Some(id) => {
                let l = lead(&inner.conn, id)?;
                let mine = l.assigned_rep.as_deref() == Some(me.id.as_str());
                if !mine || !matches!(l.state, LeadState::Assigned | LeadState::Claimed) {
                    return Err(Error::LeadNotClaimable { lead_id: l.id });
                }
                Some(l)
            }
            None => None,
        };
        if let Some(m) = duplicate_matches(&inner.conn, customer)?.into_iter().next() {
            return Err(Error::DuplicateCustomer { matched: m });
        }
        let cfg = pipeline_config(&inner.conn)?;
        let stage = cfg
            .first_stage()
            .ok_or_else(|| Error::Internal("the pipeline has no open stage".into()))?
            .key
            .clone();
        let mut entered = customer.clone();
        entered.name = entered.name.trim().to_string();
        let id = uuid::Uuid::now_v7().to_string();
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let now = action.time.wall_ms;
        action.tx.execute(
            "INSERT INTO customers (id, name, company, phones, contacts, industry, region, budget_cents, store_id,
                from_lead_id, owner_id, owner_name, state, stage, stage_entered_ms, claimed_ms, release_due_ms,
                created_ms, create_op, local_hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'owned', ?13, ?14, ?14, ?15, ?14, ?16, ?17)",
            params![
                id,
                entered.name,
                entered.company,
                serde_json::to_string(&entered.phones)?,
                serde_json::to_string(&entered.contacts)?,
                entered.industry,
                entered.region,
                entered.budget_cents,
                entered.store_id,
                entered.from_lead_id,
                me.id,
                me.name,
                stage,
                now,
                now + now_days(cfg.release_days),
                action.op_id,
                action.time.hlc,
            ],
        )?;
        for (on, key) in dedupe_keys(&entered) {
            action.tx.execute(
                "INSERT INTO customer_keys (key, customer_id, matched_on, owner_name, state)
                 VALUES (?1, ?2, ?3, ?4, 'owned') ON CONFLICT (key) DO NOTHING",
                params![key, id, match_on_str(on), me.name],
            )?;
        }
        if let Some(l) = &lead {
            action.tx.execute(
                "UPDATE leads SET state = 'converted', customer_id = ?1, local_hlc = ?2 WHERE id = ?3",
                params![id, action.time.hlc, l.id],
            )?;
        }
        let payload = OpPayload::CustomerCreate(CustomerCreatePayload {
            customer_id: id.clone(),
            user_id: me.id.clone(),
            customer: entered,
            stage,
            time: Some(action.time),
        });
        action.finish(&self.signer, &id, &payload)?;
        tracing::info!(lead = lead.is_some(), "customer created");
        super::customer(&inner.conn, &id)
    }

    /// Replace a customer's contacts and budget. Only its owner may.
    pub fn update_customer(
        &self,
        user_id: &str,
        customer_id: &str,
        update: &CustomerUpdate,
    ) -> Result<Customer> {
        check_contacts(&update.contacts)?;
        check_budget(update.budget_cents)?;
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let c = customer(&inner.conn, customer_id)?;
        owned_by(&c, &me)?;
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "UPDATE customers SET contacts = ?1, budget_cents = ?2, local_hlc = ?3 WHERE id = ?4",
            params![
                serde_json::to_string(&update.contacts)?,
                update.budget_cents,
                action.time.hlc,
                c.id
            ],
        )?;
        // New contact phones find the customer too.
        let keyed = NewCustomer {
            name: c.name.clone(),
            company: None,
            phones: Vec::new(),
            contacts: update.contacts.clone(),
            industry: None,
            region: None,
            budget_cents: None,
            store_id: None,
            from_lead_id: None,
        };
        for (on, key) in dedupe_keys(&keyed) {
            action.tx.execute(
                "INSERT INTO customer_keys (key, customer_id, matched_on, owner_name, state)
                 VALUES (?1, ?2, ?3, ?4, 'owned') ON CONFLICT (key) DO NOTHING",
                params![key, c.id, match_on_str(on), me.name],
            )?;
        }
        let body = serde_json::json!({"contacts": update.contacts, "budget_cents": update.budget_cents});
        record_event(&action, "customer.update", Some(&c.id), None, &me.id, None, &body)?;
        let payload = OpPayload::CustomerUpdate(CustomerUpdatePayload {
            customer_id: c.id.clone(),
            user_id: me.id.clone(),
            contacts: update.contacts.clone(),
            budget_cents: update.budget_cents,
            time: Some(action.time),
        });
        action.finish(&self.signer, &c.id, &payload)?;
        customer(&inner.conn, customer_id)
    }

    /// Log a call, visit or message (跟进) on one of the rep's customers or leads, with its
    /// outcome and the next step. A reached or met customer (a real interaction) moves its
    /// release to the pool `release_days` later.
    pub fn log_follow_up(&self, user_id: &str, request: &FollowUpRequest) -> Result<FollowUp> {
        let note = request.note.trim();
        check_text("note", note, MAX_NOTE)?;
        let next_step = request
            .next_step
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if let Some(s) = next_step {
            check_text("next step", s, MAX_NAME)?;
        }
        if let Some(d) = &request.next_date {
            rules::validate_date(d).map_err(Error::InvalidInput)?;
        }
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let (customer_id, lead_id) = match (&request.customer_id, &request.lead_id) {
            (Some(c), None) => {
                let c = customer(&inner.conn, c)?;
                owned_by(&c, &me)?;
                (Some(c.id), None)
            }
            (None, Some(l)) => {
                let l = lead(&inner.conn, l)?;
                let mine = l.assigned_rep.as_deref() == Some(me.id.as_str());
                if !mine || !matches!(l.state, LeadState::Assigned | LeadState::Claimed) {
                    return Err(Error::LeadNotClaimable { lead_id: l.id });
                }
                (None, Some(l.id))
            }
            _ => {
                return Err(Error::InvalidInput(
                    "a follow-up is about one customer or one lead".into(),
                ));
            }
        };
        if let Some(v) = &request.visit_id {
            crate::queries::visit_row(&inner.conn, v)?;
        }
        let cfg = pipeline_config(&inner.conn)?;
        let id = uuid::Uuid::now_v7().to_string();
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let now = action.time.wall_ms;
        let text = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
        action.tx.execute(
            "INSERT INTO follow_ups (id, customer_id, lead_id, user_id, channel, outcome, note, next_step, next_date,
                visit_id, at_ms, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                customer_id,
                lead_id,
                me.id,
                text(serde_json::to_value(request.channel)?),
                text(serde_json::to_value(request.outcome)?),
                note,
                next_step,
                request.next_date,
                request.visit_id,
                now,
                action.op_id
            ],
        )?;
        if let Some(c) = &customer_id {
            if crate::customers::counts_as_interaction(request.outcome) {
                action.tx.execute(
                    "UPDATE customers SET last_interaction_ms = ?1, release_due_ms = ?2, local_hlc = ?3 WHERE id = ?4",
                    params![now, now + now_days(cfg.release_days), action.time.hlc, c],
                )?;
            } else {
                mark_local(&action, "customers", c)?;
            }
        }
        let payload = OpPayload::FollowUp(FollowUpPayload {
            follow_up_id: id.clone(),
            customer_id: customer_id.clone(),
            lead_id: lead_id.clone(),
            user_id: me.id.clone(),
            channel: request.channel.into(),
            outcome: request.outcome.into(),
            note: note.to_string(),
            next_step: next_step.map(str::to_string),
            next_date: request.next_date.clone(),
            visit_id: request.visit_id.clone(),
            time: Some(action.time),
        });
        let entity = customer_id.clone().or(lead_id.clone()).unwrap_or_default();
        action.finish(&self.signer, &entity, &payload)?;
        Ok(FollowUp {
            id,
            customer_id,
            lead_id,
            user_id: me.id,
            channel: request.channel,
            outcome: request.outcome,
            note: note.to_string(),
            next_step: next_step.map(str::to_string),
            next_date: request.next_date.clone(),
            visit_id: request.visit_id.clone(),
            at_ms: now,
            pending_sync: true,
        })
    }

    /// Move one of the rep's customers to another stage. The move must be allowed
    /// (`stage_not_allowed`: one stage forward; back or to 流失 with a reason; nothing leaves
    /// 成交/流失), and the stage's evidence must be on the phone (`stage_locked` with the
    /// missing list, offline: e.g. the signed 技术参数确认单 photo before 报价谈判). The move
    /// records what satisfied each requirement.
    pub fn move_customer_stage(
        &self,
        user_id: &str,
        customer_id: &str,
        to_stage: &str,
        reason: Option<&str>,
    ) -> Result<StageChange> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reason {
            check_text("reason", r, MAX_REASON)?;
        }
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let c = customer(&inner.conn, customer_id)?;
        owned_by(&c, &me)?;
        let cfg = pipeline_config(&inner.conn)?;
        let step = stage_move(&cfg, &c.stage, to_stage, reason).map_err(|why| Error::StageNotAllowed {
            customer_id: c.id.clone(),
            why,
        })?;
        let (on_hand, photos, follow_ups) = evidence_on_hand(&inner.conn, &c, reason)?;
        // Going back asks for nothing: the evidence was given on the way up.
        if step != StageStep::Backward {
            let missing = missing_for_stage(&cfg, to_stage, &on_hand);
            if !missing.is_empty() {
                return Err(Error::StageLocked {
                    customer_id: c.id.clone(),
                    to: to_stage.to_string(),
                    missing,
                });
            }
        }
        let evidence: Vec<EvidenceRef> = match (step, cfg.stage(to_stage)) {
            (StageStep::Backward, _) | (_, None) => Vec::new(),
            (_, Some(stage)) => stage
                .requirements
                .iter()
                .map(|req| EvidenceRef {
                    requirement_id: req.id.clone(),
                    photo_id: (req.kind == RequirementKind::Photo)
                        .then(|| photos.iter().find(|(r, _)| *r == req.id).map(|(_, p)| p.clone()))
                        .flatten(),
                    follow_up_id: (req.kind == RequirementKind::FollowUp)
                        .then(|| {
                            follow_ups
                                .iter()
                                .find(|f| {
                                    (req.channels.is_empty() || req.channels.contains(&f.channel))
                                        && (req.outcomes.is_empty() || req.outcomes.contains(&f.outcome))
                                })
                                .map(|f| f.id.clone())
                        })
                        .flatten(),
                })
                .collect(),
        };
        let id = uuid::Uuid::now_v7().to_string();
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let now = action.time.wall_ms;
        action.tx.execute(
            "INSERT INTO stage_changes (id, customer_id, from_stage, to_stage, reason, evidence, user_id, at_ms, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                c.id,
                c.stage,
                to_stage,
                reason,
                serde_json::to_string(&evidence)?,
                me.id,
                now,
                action.op_id
            ],
        )?;
        action.tx.execute(
            "UPDATE customers SET stage = ?1, stage_entered_ms = ?2, local_hlc = ?3 WHERE id = ?4",
            params![to_stage, now, action.time.hlc, c.id],
        )?;
        let payload = OpPayload::StageChange(StageChangePayload {
            stage_change_id: id.clone(),
            customer_id: c.id.clone(),
            user_id: me.id.clone(),
            from: c.stage.clone(),
            to: to_stage.to_string(),
            reason: reason.map(str::to_string),
            evidence: evidence.clone(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &c.id, &payload)?;
        tracing::info!(from = %c.stage, to = to_stage, "customer stage moved");
        Ok(StageChange {
            id,
            customer_id: c.id,
            from: c.stage,
            to: to_stage.to_string(),
            reason: reason.map(str::to_string),
            evidence,
            user_id: me.id,
            at_ms: now,
        })
    }

    /// Take a customer from the pool (公海). Refused when another rep owns it
    /// (`customer_owned_by_other`), when this rep released it less than `reclaim_cooldown_days`
    /// ago (`claim_cooldown`), and when the rep already holds `max_customers_per_rep`
    /// (`customer_limit_reached`).
    pub fn claim_customer(&self, user_id: &str, customer_id: &str) -> Result<Customer> {
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let c = customer(&inner.conn, customer_id)?;
        match c.state {
            CustomerState::Pool => {}
            CustomerState::Owned if c.owner_id.as_deref() == Some(me.id.as_str()) => {
                return Err(Error::NotAllowed("the customer is already this rep's".into()));
            }
            CustomerState::Owned => {
                return Err(Error::CustomerOwnedByOther {
                    customer_id: c.id,
                    owner_name: c.owner_name,
                });
            }
            CustomerState::Duplicate | CustomerState::Closed => {
                return Err(Error::NotAllowed(
                    "a duplicate or closed customer cannot be claimed".into(),
                ));
            }
        }
        let cfg = pipeline_config(&inner.conn)?;
        let now = self.clock.wall_ms();
        let released: Option<i64> = inner.conn.query_row(
            "SELECT max(at_ms) FROM customer_events WHERE customer_id = ?1 AND user_id = ?2
               AND kind = 'customer.release'",
            params![c.id, me.id],
            |r| r.get(0),
        )?;
        if let Some(at) = released {
            let until_ms = at + now_days(cfg.reclaim_cooldown_days);
            if now < until_ms {
                return Err(Error::ClaimCooldown {
                    customer_id: c.id,
                    until_ms,
                });
            }
        }
        if let Some(max) = cfg.max_customers_per_rep {
            let held: i64 = inner.conn.query_row(
                "SELECT count(*) FROM customers WHERE owner_id = ?1 AND state = 'owned'",
                [&me.id],
                |r| r.get(0),
            )?;
            if held >= i64::from(max) {
                return Err(Error::CustomerLimit { held, max });
            }
        }
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        let now = action.time.wall_ms;
        action.tx.execute(
            "UPDATE customers SET owner_id = ?1, owner_name = ?2, state = 'owned', claimed_ms = ?3,
                release_due_ms = ?4, local_hlc = ?5 WHERE id = ?6",
            params![
                me.id,
                me.name,
                now,
                now + now_days(cfg.release_days),
                action.time.hlc,
                c.id
            ],
        )?;
        action.tx.execute(
            "UPDATE customer_keys SET owner_name = ?1, state = 'owned' WHERE customer_id = ?2",
            params![me.name, c.id],
        )?;
        record_event(
            &action,
            "customer.claim",
            Some(&c.id),
            None,
            &me.id,
            None,
            &serde_json::json!({}),
        )?;
        let payload = OpPayload::CustomerClaim(CustomerClaimPayload {
            customer_id: c.id.clone(),
            user_id: me.id.clone(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &c.id, &payload)?;
        customer(&inner.conn, customer_id)
    }

    /// Give one of the rep's customers back to the pool, with a reason.
    pub fn release_customer(&self, user_id: &str, customer_id: &str, reason: &str) -> Result<Customer> {
        let reason = required_reason(reason, "release")?;
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let c = customer(&inner.conn, customer_id)?;
        owned_by(&c, &me)?;
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "UPDATE customers SET owner_id = NULL, owner_name = NULL, state = ?1, claimed_ms = NULL,
                release_due_ms = NULL, local_hlc = ?2 WHERE id = ?3",
            params![state_str(CustomerState::Pool), action.time.hlc, c.id],
        )?;
        action.tx.execute(
            "UPDATE customer_keys SET owner_name = NULL, state = 'pool' WHERE customer_id = ?1",
            [&c.id],
        )?;
        record_event(
            &action,
            "customer.release",
            Some(&c.id),
            None,
            &me.id,
            Some(reason),
            &serde_json::json!({}),
        )?;
        let payload = OpPayload::CustomerRelease(CustomerReleasePayload {
            customer_id: c.id.clone(),
            user_id: me.id.clone(),
            reason: reason.to_string(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &c.id, &payload)?;
        customer(&inner.conn, customer_id)
    }

    /// Claim a lead routed to the rep (before its deadline, for the response rate) or one from
    /// the pool. Refused (`lead_not_claimable`) for another rep's, a claimed or a closed lead.
    pub fn claim_lead(&self, user_id: &str, lead_id: &str) -> Result<Lead> {
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let l = lead(&inner.conn, lead_id)?;
        let claimable = match l.state {
            LeadState::Pool => true,
            LeadState::Assigned => l.assigned_rep.as_deref() == Some(me.id.as_str()),
            _ => false,
        };
        if !claimable {
            return Err(Error::LeadNotClaimable { lead_id: l.id });
        }
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "UPDATE leads SET state = ?1, assigned_rep = ?2, claimed_ms = ?3, local_hlc = ?4 WHERE id = ?5",
            params![
                lead_state_str(LeadState::Claimed),
                me.id,
                action.time.wall_ms,
                action.time.hlc,
                l.id
            ],
        )?;
        record_event(
            &action,
            "lead.claim",
            None,
            Some(&l.id),
            &me.id,
            None,
            &serde_json::json!({}),
        )?;
        let payload = OpPayload::LeadClaim(LeadClaimPayload {
            lead_id: l.id.clone(),
            user_id: me.id.clone(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &l.id, &payload)?;
        lead(&inner.conn, lead_id)
    }

    /// Close one of the rep's leads that came to nothing, with a reason (a lead that became a
    /// customer is converted by `create_customer` with `from_lead_id`).
    pub fn close_lead(&self, user_id: &str, lead_id: &str, reason: &str) -> Result<Lead> {
        let reason = required_reason(reason, "close")?;
        let mut inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let l = lead(&inner.conn, lead_id)?;
        let mine = l.assigned_rep.as_deref() == Some(me.id.as_str());
        if !mine || !matches!(l.state, LeadState::Assigned | LeadState::Claimed) {
            return Err(Error::LeadNotClaimable { lead_id: l.id });
        }
        let action = Action::begin(&mut inner.conn, self.clock.as_ref())?;
        action.tx.execute(
            "UPDATE leads SET state = ?1, local_hlc = ?2 WHERE id = ?3",
            params![lead_state_str(LeadState::Lost), action.time.hlc, l.id],
        )?;
        record_event(
            &action,
            "lead.close",
            None,
            Some(&l.id),
            &me.id,
            Some(reason),
            &serde_json::json!({}),
        )?;
        let payload = OpPayload::LeadClose(LeadClosePayload {
            lead_id: l.id.clone(),
            user_id: me.id.clone(),
            reason: reason.to_string(),
            time: Some(action.time),
        });
        action.finish(&self.signer, &l.id, &payload)?;
        lead(&inner.conn, lead_id)
    }
}
