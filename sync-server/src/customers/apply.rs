//! A rep's customer and lead ops applied in the push's transaction (under the write lock): the
//! ingest (`crate::ingest`) has already stored the op row and checked its signature, chain and
//! user; this module changes `customers`, `leads` and their history, and says what the server
//! found (`Finding`s the ingest raises as exceptions).
//!
//! Nothing a rep entered is dropped: an op that cannot take (a claim of a customer another rep
//! holds, a stage move from a stage the server does not have, a customer the server has not
//! got) is kept as the op row (and its history row, where it has one) with a finding that says
//! why. The rules are the core's (`fieldproof_core::customers`), so phone and server decide alike.
//!
//! Statements: the batch's customers are read once at its start ([`Batch::read`]). Follow-ups,
//! the bulk of what a rep logs, are held: their rows, and each customer's latest real
//! interaction, go in two statements when the next other op runs or the batch ends
//! ([`Batch::flush`]; on PostgreSQL as JSON record sets, like `ingest::held`). The rarer ops
//! write directly, and the feed rows go once per touched customer or lead at the batch's end
//! ([`Batch::publish`]).

use std::collections::{BTreeSet, HashMap};

use fieldproof_core::customers::{
    EvidenceOnHand, FollowUpChannel, FollowUpOutcome, MatchOn, PipelineConfig, RequirementKind, StageStep,
    counts_as_interaction, missing_for_stage, stage_move,
};
use fieldproof_core::sync::wire::payload::{
    CustomerClaimPayload, CustomerCreatePayload, CustomerPhotoManifest, CustomerReleasePayload,
    CustomerUpdatePayload, FollowUpPayload, LeadClaimPayload, LeadClosePayload, OpPayload,
    StageChangePayload,
};

use crate::codes::{self, ExceptionParams as P, NotApplied};
use crate::db::{Connection, OptionalExtension, params};
use crate::error::ApiResult;

use super::duplicates;
use super::feed;

use crate::calendar::DAY_MS;

/// The op being applied, as the ingest checked it.
pub(crate) struct OpInfo<'a> {
    pub(crate) op_id: &'a str,
    pub(crate) kind: &'a str,
    /// The device's user (the op's `user_id` was checked against it).
    pub(crate) user_id: &'a str,
    pub(crate) device_id: &'a str,
    /// When it happened: the device's wall time corrected by its server offset, never later
    /// than the server's clock.
    pub(crate) at_ms: i64,
    pub(crate) now_ms: i64,
}

/// Something the server found applying an op, raised by the ingest as an exception on the op.
pub(crate) struct Finding {
    pub(crate) code: &'static str,
    /// What the open exception is about (one open exception per code and subject).
    pub(crate) subject: String,
    pub(crate) detail: String,
    pub(crate) params: P,
}

/// What the batch needs of a customer row.
#[derive(Debug, Clone)]
struct Row {
    owner_id: Option<String>,
    state: String,
    stage: String,
    stage_entered_ms: i64,
    created_by: String,
    /// Customer fields that are filled in (a stage's `Field` requirement).
    fields: Vec<String>,
    /// What its duplicate keys come from besides the contacts.
    name: String,
    company: Option<String>,
    phones: Vec<String>,
}

/// A held row of `customer_follow_ups`.
#[derive(serde::Serialize)]
struct FollowUpRow {
    id: String,
    customer_id: Option<String>,
    lead_id: Option<String>,
    user_id: String,
    channel: String,
    outcome: String,
    note: String,
    next_step: Option<String>,
    next_date: Option<String>,
    visit_id: Option<String>,
    at_ms: i64,
    op_id: String,
}

/// A customer's latest real interaction in the batch, and the release date it sets.
#[derive(serde::Serialize)]
struct InteractionRow {
    id: String,
    at_ms: i64,
    due_ms: i64,
}

const INSERT_FOLLOW_UP: &str =
    "INSERT INTO customer_follow_ups (id, customer_id, lead_id, user_id, channel, outcome,
        note, next_step, next_date, visit_id, at_ms, op_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT DO NOTHING";

const INSERT_FOLLOW_UPS_JSON: &str = "INSERT INTO customer_follow_ups (id, customer_id, lead_id, user_id, channel,
        outcome, note, next_step, next_date, visit_id, at_ms, op_id)
     SELECT id, customer_id, lead_id, user_id, channel, outcome, note, next_step, next_date, visit_id, at_ms, op_id
     FROM json_to_recordset(?1::json) AS r(id text, customer_id text, lead_id text, user_id text, channel text,
        outcome text, note text, next_step text, next_date text, visit_id text, at_ms bigint, op_id text)
     ON CONFLICT DO NOTHING";

/// Only a later interaction moves the dates (ops may arrive out of order).
const UPDATE_INTERACTION: &str =
    "UPDATE customers SET last_interaction_ms = ?1, release_due_ms = ?2, updated_ms = ?3
     WHERE id = ?4 AND state = 'owned' AND (last_interaction_ms IS NULL OR last_interaction_ms < ?1)";

const UPDATE_INTERACTIONS_JSON: &str = "UPDATE customers c SET last_interaction_ms = r.at_ms, release_due_ms = r.due_ms,
        updated_ms = ?2
     FROM json_to_recordset(?1::json) AS r(id text, at_ms bigint, due_ms bigint)
     WHERE c.id = r.id AND c.state = 'owned' AND (c.last_interaction_ms IS NULL OR c.last_interaction_ms < r.at_ms)";

/// The batch's customer work: the rows it read or wrote, and what goes down the feed at its end.
#[derive(Default)]
pub(crate) struct Batch {
    cfg: Option<PipelineConfig>,
    rows: HashMap<String, Option<Row>>,
    /// Held follow-ups and interactions (see the module's header).
    follow_ups: Vec<FollowUpRow>,
    interactions: HashMap<String, InteractionRow>,
    /// Leads the batch asked about: whether the server has them.
    leads_known: HashMap<String, bool>,
    touched: BTreeSet<String>,
    keys_touched: BTreeSet<String>,
    leads_touched: BTreeSet<String>,
    /// (customer, rep): a claim that did not take sends the claimant the record as it is.
    status_to: Vec<(String, String)>,
}

const SELECT_ROW: &str =
    "SELECT id, owner_id, state, stage, stage_entered_ms, created_by, company, phones, contacts,
        industry, region, budget_cents, store_id, name FROM customers";

/// The fields of an entry that are filled in, as `read_row` finds them in its row.
fn filled_fields(n: &fieldproof_core::customers::NewCustomer) -> Vec<String> {
    let filled = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
    let mut fields = vec!["name".to_string()];
    for (name, on) in [
        ("company", filled(&n.company)),
        ("phones", !n.phones.is_empty()),
        ("contacts", !n.contacts.is_empty()),
        ("industry", filled(&n.industry)),
        ("region", filled(&n.region)),
        ("budget_cents", n.budget_cents.is_some()),
        ("store_id", filled(&n.store_id)),
    ] {
        if on {
            fields.push(name.to_string());
        }
    }
    fields
}

fn read_row(r: &crate::db::Row<'_>) -> crate::db::Result<(String, Row)> {
    let mut fields = vec!["name".to_string()];
    let company: Option<String> = r.get(6)?;
    let phones: String = r.get(7)?;
    let contacts: String = r.get(8)?;
    let industry: Option<String> = r.get(9)?;
    let region: Option<String> = r.get(10)?;
    let budget: Option<i64> = r.get(11)?;
    let store: Option<String> = r.get(12)?;
    let filled = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
    for (name, on) in [
        ("company", filled(&company)),
        ("phones", phones.trim() != "[]"),
        ("contacts", contacts.trim() != "[]"),
        ("industry", filled(&industry)),
        ("region", filled(&region)),
        ("budget_cents", budget.is_some()),
        ("store_id", filled(&store)),
    ] {
        if on {
            fields.push(name.to_string());
        }
    }
    Ok((
        r.get(0)?,
        Row {
            owner_id: r.get(1)?,
            state: r.get(2)?,
            stage: r.get(3)?,
            stage_entered_ms: r.get(4)?,
            created_by: r.get(5)?,
            fields,
            name: r.get(13)?,
            phones: serde_json::from_str(&phones).unwrap_or_default(),
            company,
        },
    ))
}

fn not_applied(info: &OpInfo<'_>, id: &str, why: NotApplied, refusal: Option<String>) -> Finding {
    Finding {
        code: "customer_op_not_applied",
        subject: info.op_id.to_string(),
        detail: format!("{} on {id} kept without effect: {why:?}", info.kind),
        params: P::CustomerOpNotApplied(codes::CustomerOpNotApplied {
            op_kind: info.kind.to_string(),
            id: id.to_string(),
            why,
            stage_refusal: refusal,
        }),
    }
}

fn json<T: serde::Serialize>(v: &T) -> ApiResult<String> {
    Ok(serde_json::to_string(v)?)
}

impl Batch {
    /// The customers a batch's ops name, in one statement (ids that are not customers, such as
    /// a follow-up's lead, simply are not found).
    pub(crate) fn read(c: &Connection, ids: &[&str]) -> ApiResult<Batch> {
        let mut b = Batch::default();
        if ids.is_empty() {
            return Ok(b);
        }
        let list = c.dialect().text_list("?1");
        let mut st = c.prepare_cached(&format!("{SELECT_ROW} WHERE id IN {list}"))?;
        let mut rows = st.query(params![serde_json::to_string(ids)?])?;
        for id in ids {
            b.rows.insert((*id).to_string(), None);
        }
        while let Some(r) = rows.next()? {
            let (id, row) = read_row(&r)?;
            b.rows.insert(id, Some(row));
        }
        Ok(b)
    }

    fn cfg(&mut self, c: &Connection) -> ApiResult<&PipelineConfig> {
        if self.cfg.is_none() {
            self.cfg = Some(super::config::pipeline_config(c)?);
        }
        // Set just above.
        Ok(self.cfg.get_or_insert_with(PipelineConfig::default))
    }

    fn row(&mut self, c: &Connection, id: &str) -> ApiResult<Option<Row>> {
        if let Some(r) = self.rows.get(id) {
            return Ok(r.clone());
        }
        let r = c
            .prepare_cached(&format!("{SELECT_ROW} WHERE id = ?1"))?
            .query_row([id], read_row)
            .optional()?
            .map(|(_, r)| r);
        self.rows.insert(id.to_string(), r.clone());
        Ok(r)
    }

    /// Re-read a customer the batch changed, the next time an op needs it.
    fn changed(&mut self, id: &str) {
        self.rows.remove(id);
        self.touched.insert(id.to_string());
    }

    fn event(
        c: &Connection,
        customer_id: Option<&str>,
        lead_id: Option<&str>,
        kind: &str,
        info: &OpInfo<'_>,
        reason: Option<&str>,
    ) -> ApiResult<()> {
        c.prepare_cached(
            "INSERT INTO customer_events (customer_id, lead_id, kind, user_id, reason, at_ms, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            customer_id,
            lead_id,
            kind,
            info.user_id,
            reason,
            info.at_ms,
            info.op_id
        ])?;
        Ok(())
    }

    /// Apply one customer or lead op; visit ops are not this module's (nothing happens).
    pub(crate) fn apply(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        action: &OpPayload,
    ) -> ApiResult<Vec<Finding>> {
        // Every other op may read what the held follow-ups change (evidence, release dates).
        if !matches!(action, OpPayload::FollowUp(_)) {
            self.flush(c, info.now_ms)?;
        }
        match action {
            OpPayload::CustomerCreate(p) => self.create(c, info, p),
            OpPayload::CustomerUpdate(p) => self.update(c, info, p),
            OpPayload::FollowUp(p) => self.follow_up(c, info, p),
            OpPayload::StageChange(p) => self.stage(c, info, p),
            OpPayload::CustomerPhoto(p) => self.photo(c, info, p),
            OpPayload::CustomerClaim(p) => self.claim(c, info, p),
            OpPayload::CustomerRelease(p) => self.release(c, info, p),
            OpPayload::LeadClaim(p) => self.lead_claim(c, info, p),
            OpPayload::LeadClose(p) => self.lead_close(c, info, p),
            _ => Ok(Vec::new()),
        }
    }

    fn create(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &CustomerCreatePayload,
    ) -> ApiResult<Vec<Finding>> {
        if self.row(c, &p.customer_id)?.is_some() {
            // Another op already created this customer id: the first one stands.
            return Ok(Vec::new());
        }
        let cfg = self.cfg(c)?.clone();
        let stage = match cfg.stage(&p.stage) {
            Some(s) if !s.terminal => s.key.clone(),
            _ => cfg.first_stage().map(|s| s.key.clone()).unwrap_or_default(),
        };
        let n = &p.customer;
        let keys = fieldproof_core::customers::dedupe_keys(n);
        let held = duplicates::holders(c, &keys)?;
        let mut findings = Vec::new();
        // The first key (in the core's order: phones, then the company) already held decides.
        let original = keys
            .iter()
            .find_map(|(on, key)| held.get(key).map(|id| (*on, id.clone())));
        let (state, owner, duplicate_of, claimed, release_due) = match &original {
            Some((on, original_id)) => {
                let original_owner = self.row(c, original_id)?.and_then(|r| r.owner_id);
                findings.push(Finding {
                    code: "customer_duplicate",
                    subject: p.customer_id.clone(),
                    detail: format!(
                        "customer {} entered by {} matches customer {original_id} ({on:?}): kept as its duplicate",
                        p.customer_id, info.user_id
                    ),
                    params: P::CustomerDuplicate(codes::CustomerDuplicate {
                        customer_id: p.customer_id.clone(),
                        duplicate_of: original_id.clone(),
                        matched_on: match on {
                            MatchOn::Phone => codes::MatchedOn::Phone,
                            MatchOn::Company => codes::MatchedOn::Company,
                        },
                        entered_by: info.user_id.to_string(),
                        owner_id: original_owner.clone(),
                    }),
                });
                // The original's owner sees the entry whole (their own customer); the rep who
                // entered it gets it back as a duplicate (feed::publish_customer).
                ("duplicate", original_owner, Some(original_id.clone()), None, None)
            }
            None => (
                "owned",
                Some(info.user_id.to_string()),
                None,
                Some(info.at_ms),
                Some(info.at_ms + i64::from(cfg.release_days) * DAY_MS),
            ),
        };
        c.prepare_cached(
            "INSERT INTO customers (id, name, company, phones, contacts, industry, region, budget_cents, store_id,
                from_lead_id, owner_id, state, duplicate_of, stage, stage_entered_ms, claimed_ms, last_interaction_ms,
                release_due_ms, created_by, created_ms, updated_ms, create_op)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, NULL, ?17, ?18, ?19, ?20, ?21)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            p.customer_id,
            n.name,
            n.company,
            json(&n.phones)?,
            json(&n.contacts)?,
            n.industry,
            n.region,
            n.budget_cents,
            n.store_id,
            n.from_lead_id,
            owner,
            state,
            duplicate_of,
            stage,
            info.at_ms,
            claimed,
            release_due,
            info.user_id,
            info.at_ms,
            info.now_ms,
            info.op_id
        ])?;
        if original.is_some() {
            Self::event(c, Some(&p.customer_id), None, "duplicate", info, None)?;
        } else {
            duplicates::hold(c, &p.customer_id, &keys)?;
            self.keys_touched.insert(p.customer_id.clone());
        }
        // Just written with these values: later ops of the batch need not read it back.
        let row = Row {
            owner_id: owner.clone(),
            state: state.to_string(),
            stage: stage.clone(),
            stage_entered_ms: info.at_ms,
            created_by: info.user_id.to_string(),
            fields: filled_fields(n),
            name: n.name.clone(),
            company: n.company.clone(),
            phones: n.phones.clone(),
        };
        self.rows.insert(p.customer_id.clone(), Some(row));
        self.touched.insert(p.customer_id.clone());
        if let Some(lead_id) = &n.from_lead_id {
            // A lead the rep holds becomes this customer.
            let n = c
                .prepare_cached(
                    "UPDATE leads SET state = 'converted', customer_id = ?1, updated_ms = ?2
                     WHERE id = ?3 AND assigned_rep = ?4 AND state IN ('assigned', 'claimed')",
                )?
                .execute(params![p.customer_id, info.now_ms, lead_id, info.user_id])?;
            if n == 1 {
                self.leads_touched.insert(lead_id.clone());
            }
        }
        Ok(findings)
    }

    /// The customer, if the rep may change it: its owner, or the rep who entered a duplicate
    /// (their own entry).
    fn held_by(&mut self, c: &Connection, info: &OpInfo<'_>, id: &str) -> ApiResult<Result<Row, Finding>> {
        let Some(row) = self.row(c, id)? else {
            return Ok(Err(not_applied(info, id, NotApplied::Unknown, None)));
        };
        let mine = match row.state.as_str() {
            "duplicate" => row.created_by == info.user_id,
            _ => row.owner_id.as_deref() == Some(info.user_id),
        };
        Ok(if mine {
            Ok(row)
        } else {
            Err(not_applied(info, id, NotApplied::NotOwner, None))
        })
    }

    fn update(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &CustomerUpdatePayload,
    ) -> ApiResult<Vec<Finding>> {
        let row = match self.held_by(c, info, &p.customer_id)? {
            Ok(row) => row,
            Err(f) => return Ok(vec![f]),
        };
        // A new contact's number is a key of this customer from now on (unless another
        // customer holds it already: the first holder keeps a key).
        if row.state != "duplicate" {
            let keys = fieldproof_core::customers::dedupe_keys(&fieldproof_core::customers::NewCustomer {
                name: row.name.clone(),
                company: row.company.clone(),
                phones: row.phones.clone(),
                contacts: p.contacts.clone(),
                industry: None,
                region: None,
                budget_cents: None,
                store_id: None,
                from_lead_id: None,
            });
            duplicates::hold(c, &p.customer_id, &keys)?;
            self.keys_touched.insert(p.customer_id.clone());
        }
        c.prepare_cached(
            "UPDATE customers SET contacts = ?1, budget_cents = ?2, updated_ms = ?3 WHERE id = ?4",
        )?
        .execute(params![
            json(&p.contacts)?,
            p.budget_cents,
            info.now_ms,
            p.customer_id
        ])?;
        self.changed(&p.customer_id);
        Ok(Vec::new())
    }

    fn follow_up(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &FollowUpPayload,
    ) -> ApiResult<Vec<Finding>> {
        // Recorded whatever else is true of the customer: it happened.
        self.follow_ups.push(FollowUpRow {
            id: p.follow_up_id.clone(),
            customer_id: p.customer_id.clone(),
            lead_id: p.lead_id.clone(),
            user_id: info.user_id.to_string(),
            channel: p.channel.as_str().to_string(),
            outcome: p.outcome.as_str().to_string(),
            note: p.note.clone(),
            next_step: p.next_step.clone(),
            next_date: p.next_date.clone(),
            visit_id: p.visit_id.clone(),
            at_ms: info.at_ms,
            op_id: info.op_id.to_string(),
        });
        let Some(customer_id) = &p.customer_id else {
            let lead_id = p.lead_id.as_deref().unwrap_or("");
            let known = match self.leads_known.get(lead_id) {
                Some(k) => *k,
                None => {
                    let k = c
                        .prepare_cached("SELECT 1 FROM leads WHERE id = ?1")?
                        .query_row([lead_id], |r| r.get::<_, i64>(0))
                        .optional()?
                        .is_some();
                    self.leads_known.insert(lead_id.to_string(), k);
                    k
                }
            };
            return Ok(if known {
                Vec::new()
            } else {
                vec![not_applied(info, lead_id, NotApplied::Unknown, None)]
            });
        };
        let row = match self.held_by(c, info, customer_id)? {
            Ok(row) => row,
            // Another rep's (or the pool's) customer: the follow-up is kept and moves nothing.
            Err(f) if matches!(f.params, P::CustomerOpNotApplied(ref n) if n.why == NotApplied::Unknown) => {
                return Ok(vec![f]);
            }
            Err(_) => return Ok(Vec::new()),
        };
        // Only a real interaction (reached, met) keeps an owned customer from the pool.
        if row.state == "owned" && p.outcome.known().is_some_and(counts_as_interaction) {
            let due_ms = info.at_ms + i64::from(self.cfg(c)?.release_days) * DAY_MS;
            let later = self
                .interactions
                .get(customer_id)
                .is_none_or(|held| held.at_ms < info.at_ms);
            if later {
                self.interactions.insert(
                    customer_id.clone(),
                    InteractionRow {
                        id: customer_id.clone(),
                        at_ms: info.at_ms,
                        due_ms,
                    },
                );
            }
            // The row's owner, state and stage do not change: the cache stays.
            self.touched.insert(customer_id.clone());
        }
        Ok(Vec::new())
    }

    /// A check-in whose store code the server verified (扫码签到) is a real interaction with the
    /// rep's customers linked to that store: it moves their release dates like a meeting.
    pub(crate) fn verified_visit(
        &mut self,
        c: &Connection,
        user_id: &str,
        store_id: &str,
        at_ms: i64,
    ) -> ApiResult<()> {
        let ids: Vec<String> = {
            let mut st = c.prepare_cached(
                "SELECT id FROM customers WHERE store_id = ?1 AND owner_id = ?2 AND state = 'owned' ORDER BY id",
            )?;
            let rows = st.query_map(params![store_id, user_id], |r| r.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        if ids.is_empty() {
            return Ok(());
        }
        let due_ms = at_ms + i64::from(self.cfg(c)?.release_days) * DAY_MS;
        for id in ids {
            let later = self.interactions.get(&id).is_none_or(|held| held.at_ms < at_ms);
            if later {
                self.interactions.insert(
                    id.clone(),
                    InteractionRow {
                        id: id.clone(),
                        at_ms,
                        due_ms,
                    },
                );
            }
            self.touched.insert(id);
        }
        Ok(())
    }

    /// Write the held follow-ups and interactions (before anything reads them).
    pub(crate) fn flush(&mut self, c: &Connection, now_ms: i64) -> ApiResult<()> {
        let follow_ups = std::mem::take(&mut self.follow_ups);
        let mut interactions: Vec<InteractionRow> =
            std::mem::take(&mut self.interactions).into_values().collect();
        interactions.sort_by(|a, b| a.id.cmp(&b.id));
        match c.dialect() {
            crate::db::Dialect::Sqlite => {
                let mut st = c.prepare_cached(INSERT_FOLLOW_UP)?;
                for f in &follow_ups {
                    st.execute(params![
                        f.id,
                        f.customer_id,
                        f.lead_id,
                        f.user_id,
                        f.channel,
                        f.outcome,
                        f.note,
                        f.next_step,
                        f.next_date,
                        f.visit_id,
                        f.at_ms,
                        f.op_id
                    ])?;
                }
                let mut st = c.prepare_cached(UPDATE_INTERACTION)?;
                for i in &interactions {
                    st.execute(params![i.at_ms, i.due_ms, now_ms, i.id])?;
                }
            }
            crate::db::Dialect::Postgres => {
                if !follow_ups.is_empty() {
                    c.prepare_cached(INSERT_FOLLOW_UPS_JSON)?
                        .execute(params![serde_json::to_string(&follow_ups)?])?;
                }
                if !interactions.is_empty() {
                    c.prepare_cached(UPDATE_INTERACTIONS_JSON)?
                        .execute(params![serde_json::to_string(&interactions)?, now_ms])?;
                }
            }
        }
        Ok(())
    }

    fn stage(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &StageChangePayload,
    ) -> ApiResult<Vec<Finding>> {
        let row = match self.held_by(c, info, &p.customer_id)? {
            Ok(row) => row,
            Err(f) => return Ok(vec![f]),
        };
        let cfg = self.cfg(c)?.clone();
        // From the stage the server has: a move made from a stage it has left since is refused.
        let step = match stage_move(&cfg, &row.stage, &p.to, p.reason.as_deref()) {
            Ok(step) => step,
            Err(why) => {
                let refusal = serde_json::to_value(&why)
                    .ok()
                    .and_then(|v| v.get("why").and_then(|w| w.as_str()).map(str::to_string));
                return Ok(vec![not_applied(
                    info,
                    &p.customer_id,
                    NotApplied::StageMove,
                    refusal,
                )]);
            }
        };
        let missing = if step == StageStep::Forward {
            let needs = |kind: RequirementKind| {
                cfg.stage(&p.to)
                    .is_some_and(|s| s.requirements.iter().any(|r| r.kind == kind))
            };
            let mut on_hand = EvidenceOnHand {
                fields: row.fields.clone(),
                reason: p.reason.as_deref().is_some_and(|r| !r.trim().is_empty()),
                ..EvidenceOnHand::default()
            };
            if needs(RequirementKind::Photo) {
                let mut st = c.prepare_cached(
                    "SELECT DISTINCT requirement_id FROM customer_photos WHERE customer_id = ?1 ORDER BY requirement_id",
                )?;
                let rows = st.query_map([&p.customer_id], |r| r.get::<_, String>(0))?;
                on_hand.photos = rows.collect::<Result<_, _>>()?;
            }
            if needs(RequirementKind::FollowUp) {
                let mut st = c.prepare_cached(
                    "SELECT channel, outcome FROM customer_follow_ups WHERE customer_id = ?1 AND at_ms >= ?2",
                )?;
                let rows = st.query_map(params![p.customer_id, row.stage_entered_ms], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })?;
                for r in rows {
                    let (channel, outcome) = r?;
                    let channel: Option<FollowUpChannel> =
                        serde_json::from_value(serde_json::Value::String(channel)).ok();
                    let outcome: Option<FollowUpOutcome> =
                        serde_json::from_value(serde_json::Value::String(outcome)).ok();
                    if let (Some(ch), Some(out)) = (channel, outcome) {
                        on_hand.follow_ups.push((ch, out));
                    }
                }
            }
            missing_for_stage(&cfg, &p.to, &on_hand)
        } else {
            Vec::new()
        };
        let missing_ids: Vec<String> = missing.iter().filter_map(|m| m.item_id.clone()).collect();
        c.prepare_cached(
            "INSERT INTO customer_stage_changes (id, customer_id, from_stage, to_stage, reason, evidence, missing,
                user_id, at_ms, op_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            p.stage_change_id,
            p.customer_id,
            row.stage,
            p.to,
            p.reason,
            json(&p.evidence)?,
            json(&missing_ids)?,
            info.user_id,
            info.at_ms,
            info.op_id
        ])?;
        // A terminal stage (成交, 流失) closes the customer: nothing to release any more. A new
        // stage entry clears the stall raised for the previous one.
        let terminal = cfg.stage(&p.to).is_some_and(|s| s.terminal);
        c.prepare_cached(
            "UPDATE customers SET stage = ?1, stage_entered_ms = ?2, stall_raised_ms = NULL, updated_ms = ?3,
                state = CASE WHEN ?4 = 1 AND state = 'owned' THEN 'closed' ELSE state END,
                release_due_ms = CASE WHEN ?4 = 1 THEN NULL ELSE release_due_ms END
             WHERE id = ?5",
        )?
        .execute(params![
            p.to,
            info.at_ms,
            info.now_ms,
            i64::from(terminal),
            p.customer_id
        ])?;
        self.changed(&p.customer_id);
        if missing.is_empty() {
            return Ok(Vec::new());
        }
        let stage_label = cfg
            .stage(&p.to)
            .map(|s| s.label.clone())
            .unwrap_or_else(|| p.to.clone());
        Ok(vec![Finding {
            code: "stage_evidence_missing",
            subject: p.stage_change_id.clone(),
            detail: format!(
                "customer {} moved to {} without {}",
                p.customer_id,
                p.to,
                missing_ids.join(", ")
            ),
            params: P::StageEvidenceMissing(codes::StageEvidenceMissing {
                customer_id: p.customer_id.clone(),
                from_stage: row.stage.clone(),
                to_stage: p.to.clone(),
                to_label: stage_label,
                missing: missing_ids,
                missing_labels: missing.iter().map(|m| m.label.clone()).collect(),
            }),
        }])
    }

    fn photo(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &CustomerPhotoManifest,
    ) -> ApiResult<Vec<Finding>> {
        // The bytes come through the photo upload (`crate::photos`), verified there against
        // this same signed manifest; the row is the evidence a stage move looks for.
        c.prepare_cached(
            "INSERT INTO customer_photos (id, customer_id, requirement_id, kind, sha256, byte_len, taken_at_ms,
                original_sha256, width, height, phash, evidence_code, user_id, device_id, op_id, received_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            p.photo_id,
            p.customer_id,
            p.requirement_id,
            p.photo_kind.as_str(),
            p.image_sha256,
            p.byte_len,
            info.at_ms,
            (!p.original_sha256.is_empty()).then_some(&p.original_sha256),
            i64::from(p.width),
            i64::from(p.height),
            (!p.phash.is_empty()).then_some(&p.phash),
            p.evidence_code,
            info.user_id,
            info.device_id,
            info.op_id,
            info.now_ms
        ])?;
        Ok(match self.row(c, &p.customer_id)? {
            Some(_) => Vec::new(),
            None => vec![not_applied(info, &p.customer_id, NotApplied::Unknown, None)],
        })
    }

    fn claim(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &CustomerClaimPayload,
    ) -> ApiResult<Vec<Finding>> {
        let Some(row) = self.row(c, &p.customer_id)? else {
            return Ok(vec![not_applied(info, &p.customer_id, NotApplied::Unknown, None)]);
        };
        if row.state == "owned" && row.owner_id.as_deref() == Some(info.user_id) {
            return Ok(Vec::new());
        }
        if row.state == "pool" {
            // A rep who gave the customer up (or let it go) cannot take it back at once.
            let cooldown_ms = i64::from(self.cfg(c)?.reclaim_cooldown_days) * DAY_MS;
            let released: Option<i64> = c
                .prepare_cached(
                    "SELECT max(at_ms) FROM customer_events WHERE customer_id = ?1 AND user_id = ?2
                       AND kind IN ('release', 'auto_release')",
                )?
                .query_row(params![p.customer_id, info.user_id], |r| r.get(0))?;
            if released.is_some_and(|at| info.at_ms < at + cooldown_ms) {
                return Ok(vec![not_applied(
                    info,
                    &p.customer_id,
                    NotApplied::ReclaimCooldown,
                    None,
                )]);
            }
            // 保有量: the phone refuses a claim past the limit, but its copy of the settings may be
            // older than head office's (or the client altered); the server's count decides, and the
            // claimant gets the record back as it is (in the pool).
            if let Some(max) = self.cfg(c)?.max_customers_per_rep {
                let held: i64 = c
                    .prepare_cached("SELECT count(*) FROM customers WHERE owner_id = ?1 AND state = 'owned'")?
                    .query_row(params![info.user_id], |r| r.get(0))?;
                if held >= i64::from(max) {
                    self.status_to
                        .push((p.customer_id.clone(), info.user_id.to_string()));
                    return Ok(vec![not_applied(
                        info,
                        &p.customer_id,
                        NotApplied::LimitReached,
                        None,
                    )]);
                }
            }
            let release_days = i64::from(self.cfg(c)?.release_days);
            c.prepare_cached(
                "UPDATE customers SET owner_id = ?1, state = 'owned', claimed_ms = ?2, release_due_ms = ?3,
                    updated_ms = ?4 WHERE id = ?5 AND state = 'pool'",
            )?
            .execute(params![
                info.user_id,
                info.at_ms,
                info.at_ms + release_days * DAY_MS,
                info.now_ms,
                p.customer_id
            ])?;
            Self::event(c, Some(&p.customer_id), None, "claim", info, None)?;
            self.changed(&p.customer_id);
            self.keys_touched.insert(p.customer_id.clone());
            return Ok(Vec::new());
        }
        // Another rep holds it (or it is a duplicate or closed): the op is kept, the claim does
        // not take, and the claimant's phone gets the record as it is.
        Self::event(c, Some(&p.customer_id), None, "claim_conflict", info, None)?;
        self.status_to
            .push((p.customer_id.clone(), info.user_id.to_string()));
        Ok(vec![Finding {
            code: "customer_claim_conflict",
            subject: info.op_id.to_string(),
            detail: format!(
                "{} claimed customer {} held by {:?} ({})",
                info.user_id, p.customer_id, row.owner_id, row.state
            ),
            params: P::ClaimConflict(codes::ClaimConflict {
                what: "customer".into(),
                id: p.customer_id.clone(),
                claimant_id: info.user_id.to_string(),
                holder_id: row.owner_id.clone(),
            }),
        }])
    }

    fn release(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &CustomerReleasePayload,
    ) -> ApiResult<Vec<Finding>> {
        let row = match self.held_by(c, info, &p.customer_id)? {
            Ok(row) if row.state == "owned" => row,
            Ok(_) => {
                return Ok(vec![not_applied(
                    info,
                    &p.customer_id,
                    NotApplied::NotOwner,
                    None,
                )]);
            }
            Err(f) => return Ok(vec![f]),
        };
        c.prepare_cached(
            "UPDATE customers SET owner_id = NULL, state = 'pool', claimed_ms = NULL, release_due_ms = NULL,
                updated_ms = ?1 WHERE id = ?2 AND owner_id = ?3",
        )?
        .execute(params![info.now_ms, p.customer_id, row.owner_id])?;
        Self::event(c, Some(&p.customer_id), None, "release", info, Some(&p.reason))?;
        self.changed(&p.customer_id);
        self.keys_touched.insert(p.customer_id.clone());
        Ok(Vec::new())
    }

    fn lead_claim(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &LeadClaimPayload,
    ) -> ApiResult<Vec<Finding>> {
        let lead: Option<(String, Option<String>, Option<i64>)> = c
            .prepare_cached("SELECT state, assigned_rep, deadline_ms FROM leads WHERE id = ?1")?
            .query_row([&p.lead_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((state, rep, deadline)) = lead else {
            return Ok(vec![not_applied(info, &p.lead_id, NotApplied::Unknown, None)]);
        };
        let mine = rep.as_deref() == Some(info.user_id);
        let in_time = deadline.is_none_or(|d| info.at_ms <= d);
        // responded_in_time: the claim's time against the deadline. A lead the deadline job sent
        // to the pool while its rep's claim was on the way (made in time, offline) is theirs.
        let responded: Option<i64> = match (state.as_str(), mine) {
            ("claimed", true) => return Ok(Vec::new()),
            ("assigned", true) => Some(i64::from(in_time)),
            ("pool", true) if in_time && deadline.is_some() => Some(1),
            // From the pool: the response was already counted as missed (or never due).
            ("pool", _) => None,
            ("assigned" | "claimed", false) => {
                Self::event(c, None, Some(&p.lead_id), "claim_conflict", info, None)?;
                return Ok(vec![Finding {
                    code: "customer_claim_conflict",
                    subject: info.op_id.to_string(),
                    detail: format!("{} claimed lead {} held by {:?}", info.user_id, p.lead_id, rep),
                    params: P::ClaimConflict(codes::ClaimConflict {
                        what: "lead".into(),
                        id: p.lead_id.clone(),
                        claimant_id: info.user_id.to_string(),
                        holder_id: rep.clone(),
                    }),
                }]);
            }
            _ => return Ok(vec![not_applied(info, &p.lead_id, NotApplied::LeadClosed, None)]),
        };
        c.prepare_cached(
            "UPDATE leads SET state = 'claimed', assigned_rep = ?1, claimed_ms = ?2,
                responded_in_time = coalesce(?3, responded_in_time), updated_ms = ?4 WHERE id = ?5",
        )?
        .execute(params![
            info.user_id,
            info.at_ms,
            responded,
            info.now_ms,
            p.lead_id
        ])?;
        Self::event(c, None, Some(&p.lead_id), "lead_claim", info, None)?;
        self.leads_touched.insert(p.lead_id.clone());
        Ok(Vec::new())
    }

    fn lead_close(
        &mut self,
        c: &Connection,
        info: &OpInfo<'_>,
        p: &LeadClosePayload,
    ) -> ApiResult<Vec<Finding>> {
        let n = c
            .prepare_cached(
                "UPDATE leads SET state = 'lost', close_reason = ?1, updated_ms = ?2
                 WHERE id = ?3 AND assigned_rep = ?4 AND state IN ('assigned', 'claimed')",
            )?
            .execute(params![p.reason, info.now_ms, p.lead_id, info.user_id])?;
        if n == 1 {
            Self::event(c, None, Some(&p.lead_id), "lead_close", info, Some(&p.reason))?;
            self.leads_touched.insert(p.lead_id.clone());
            return Ok(Vec::new());
        }
        let known: Option<i64> = c
            .prepare_cached("SELECT 1 FROM leads WHERE id = ?1")?
            .query_row([&p.lead_id], |r| r.get(0))
            .optional()?;
        let why = if known.is_some() {
            NotApplied::LeadClosed
        } else {
            NotApplied::Unknown
        };
        Ok(vec![not_applied(info, &p.lead_id, why, None)])
    }

    /// The batch's end: every customer and lead it changed goes down the feed once, as it is
    /// now (and the duplicate keys of customers whose holder changed).
    pub(crate) fn publish(&mut self, c: &Connection, now_ms: i64) -> ApiResult<()> {
        self.flush(c, now_ms)?;
        let records = std::mem::take(&mut self.touched);
        let keys = std::mem::take(&mut self.keys_touched);
        for id in records.union(&keys) {
            feed::publish_customer_parts(c, id, records.contains(id), keys.contains(id), now_ms)?;
        }
        for id in std::mem::take(&mut self.leads_touched) {
            feed::publish_lead(c, &id, now_ms)?;
        }
        for (id, user) in std::mem::take(&mut self.status_to) {
            feed::publish_customer_status_to(c, &id, &user, now_ms)?;
        }
        Ok(())
    }
}
