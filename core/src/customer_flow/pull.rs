//! The feed's customer records on the phone (change kinds `customer`, `lead`, `customer_key`,
//! `store_key`, `pipeline_config`), inside the pull page's transaction.
//!
//! The newest feed position wins. A customer or lead with a change of this phone's still
//! waiting in the outbox keeps the local copy: the server's copy was made before it saw that
//! change, and the copy it sends after applying it replaces the local one. A customer owned by
//! another rep replaces the whole row (its phones and contacts are not sent: status only), so
//! nothing of a customer that left this rep stays on the phone.

use rusqlite::{Transaction, params};

use crate::customers::{CustomerState, PipelineConfig, StoreKey};
use crate::error::{Error, Result};
use crate::sync::wire::code::Code;
use crate::sync::wire::{Change, ChangeKind, CustomerChange, CustomerKeyChange, LeadChange};

fn bad(change: &Change, reason: impl Into<String>) -> Error {
    Error::BadReferenceData {
        record: format!("change {} ({:?} {:?})", change.seq, change.kind, change.id),
        reason: reason.into(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(change: &Change) -> Result<T> {
    serde_json::from_value(change.body.clone()).map_err(|e| bad(change, e.to_string()))
}

fn code_str<T: crate::sync::wire::code::WireCode>(c: &Code<T>) -> String {
    c.as_str().to_string()
}

/// Whether this is one of the kinds kept here.
pub(crate) fn is_pipeline_kind(kind: ChangeKind) -> bool {
    matches!(
        kind,
        ChangeKind::Customer
            | ChangeKind::Lead
            | ChangeKind::CustomerKey
            | ChangeKind::StoreKey
            | ChangeKind::PipelineConfig
    )
}

/// Apply one change of a pipeline kind. `me`: the enrolled user (a customer owned by anyone
/// else is kept as status only).
pub(crate) fn apply(tx: &Transaction<'_>, change: &Change, me: Option<&str>) -> Result<()> {
    let seq = change.seq;
    match change.kind {
        ChangeKind::Customer => {
            let c: CustomerChange = parse(change)?;
            if c.id.trim().is_empty() || c.stage.trim().is_empty() {
                return Err(bad(change, "id or stage is empty"));
            }
            let others =
                c.state == Code::Known(CustomerState::Owned) && me.is_some() && c.owner_id.as_deref() != me;
            let (phones, contacts) = if others {
                (Vec::new(), Vec::new())
            } else {
                (c.customer.phones.clone(), c.customer.contacts.clone())
            };
            tx.prepare_cached(
                "INSERT INTO customers (id, name, company, phones, contacts, industry, region, budget_cents, store_id,
                    from_lead_id, owner_id, owner_name, state, duplicate_of, stage, stage_entered_ms, claimed_ms,
                    last_interaction_ms, release_due_ms, health_grade, health_score, created_ms, feed_seq, local_hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                    ?21, ?22, ?23, NULL)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, company = excluded.company,
                    phones = excluded.phones, contacts = excluded.contacts, industry = excluded.industry,
                    region = excluded.region, budget_cents = excluded.budget_cents, store_id = excluded.store_id,
                    from_lead_id = excluded.from_lead_id, owner_id = excluded.owner_id,
                    owner_name = excluded.owner_name, state = excluded.state, duplicate_of = excluded.duplicate_of,
                    stage = excluded.stage, stage_entered_ms = excluded.stage_entered_ms,
                    claimed_ms = excluded.claimed_ms, last_interaction_ms = excluded.last_interaction_ms,
                    release_due_ms = excluded.release_due_ms, health_grade = excluded.health_grade,
                    health_score = excluded.health_score, created_ms = excluded.created_ms,
                    feed_seq = excluded.feed_seq, local_hlc = NULL
                 WHERE (customers.feed_seq IS NULL OR excluded.feed_seq > customers.feed_seq)
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = customers.id AND o.state = 'pending')",
            )?
            .execute(params![
                c.id,
                c.customer.name,
                c.customer.company,
                serde_json::to_string(&phones)?,
                serde_json::to_string(&contacts)?,
                c.customer.industry,
                c.customer.region,
                c.customer.budget_cents,
                c.customer.store_id,
                c.customer.from_lead_id,
                c.owner_id,
                c.owner_name,
                code_str(&c.state),
                c.duplicate_of,
                c.stage,
                c.stage_entered_ms,
                c.claimed_ms,
                c.last_interaction_ms,
                c.release_due_ms,
                c.health_grade,
                c.health_score,
                c.created_ms,
                seq
            ])?;
        }
        ChangeKind::Lead => {
            let l: LeadChange = parse(change)?;
            if l.id.trim().is_empty() {
                return Err(bad(change, "id is empty"));
            }
            tx.prepare_cached(
                "INSERT INTO leads (id, state, assigned_rep, assigned_ms, deadline_ms, claimed_ms, customer_id, body,
                    feed_seq, local_hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)
                 ON CONFLICT (id) DO UPDATE SET state = excluded.state, assigned_rep = excluded.assigned_rep,
                    assigned_ms = excluded.assigned_ms, deadline_ms = excluded.deadline_ms,
                    claimed_ms = excluded.claimed_ms, customer_id = excluded.customer_id, body = excluded.body,
                    feed_seq = excluded.feed_seq, local_hlc = NULL
                 WHERE (leads.feed_seq IS NULL OR excluded.feed_seq > leads.feed_seq)
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_id = leads.id AND o.state = 'pending')",
            )?
            .execute(params![
                l.id,
                code_str(&l.state),
                l.assigned_rep,
                l.assigned_ms,
                l.deadline_ms,
                l.claimed_ms,
                l.customer_id,
                serde_json::to_string(&l)?,
                seq
            ])?;
        }
        ChangeKind::CustomerKey => {
            let k: CustomerKeyChange = parse(change)?;
            if k.key.len() != 64 || !k.key.bytes().all(|b| b.is_ascii_hexdigit()) || k.customer_id.is_empty()
            {
                return Err(bad(change, "key is not 64 hex or customer_id is empty"));
            }
            // The feed does not say what a key hashes; a match reports what the new entry's
            // matching key was (`duplicate_matches`), so the column only fills the NOT NULL.
            tx.prepare_cached(
                "INSERT INTO customer_keys (key, customer_id, matched_on, owner_name, state, feed_seq)
                 VALUES (?1, ?2, 'phone', ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET customer_id = excluded.customer_id,
                    owner_name = excluded.owner_name, state = excluded.state, feed_seq = excluded.feed_seq
                 WHERE customer_keys.feed_seq IS NULL OR excluded.feed_seq > customer_keys.feed_seq",
            )?
            .execute(params![
                k.key,
                k.customer_id,
                k.owner_name,
                code_str(&k.state),
                seq
            ])?;
        }
        ChangeKind::StoreKey => {
            let k: StoreKey = parse(change)?;
            if k.store_id.is_empty()
                || k.kid.is_empty()
                || crate::hex::decode_array::<32>(&k.public_key_hex).is_none()
            {
                return Err(bad(change, "store_id or kid is empty, or the key is not 64 hex"));
            }
            tx.prepare_cached(
                "INSERT INTO store_keys (store_id, kid, public_key_hex, retired, feed_seq) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (store_id, kid) DO UPDATE SET public_key_hex = excluded.public_key_hex,
                    retired = excluded.retired, feed_seq = excluded.feed_seq
                 WHERE store_keys.feed_seq IS NULL OR excluded.feed_seq > store_keys.feed_seq",
            )?
            .execute(params![
                k.store_id,
                k.kid,
                k.public_key_hex,
                k.retired,
                seq
            ])?;
        }
        ChangeKind::PipelineConfig => {
            let cfg: PipelineConfig = parse(change)?;
            if cfg.first_stage().is_none() {
                return Err(bad(change, "the pipeline has no open stage"));
            }
            tx.prepare_cached(
                "INSERT INTO pipeline_config (id, version, body, feed_seq) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET version = excluded.version, body = excluded.body,
                    feed_seq = excluded.feed_seq
                 WHERE pipeline_config.feed_seq IS NULL OR excluded.feed_seq > pipeline_config.feed_seq",
            )?
            .execute(params![cfg.version, serde_json::to_string(&cfg)?, seq])?;
        }
        _ => return Err(bad(change, "not a customer, lead, key or pipeline record")),
    }
    Ok(())
}

/// The stores' keys, for verifying a scanned store code.
pub(crate) fn store_keys(conn: &rusqlite::Connection, store_id: &str) -> Result<Vec<StoreKey>> {
    let mut st = conn.prepare_cached(
        "SELECT store_id, kid, public_key_hex, retired FROM store_keys WHERE store_id = ?1 ORDER BY kid",
    )?;
    let rows = st.query_map([store_id], |r| {
        Ok(StoreKey {
            store_id: r.get(0)?,
            kid: r.get(1)?,
            public_key_hex: r.get(2)?,
            retired: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

impl crate::Core {
    /// Load customer and lead records, customer keys, store keys and the pipeline settings as
    /// the server's feed carries them (a JSON array of `{seq, kind, id, body}` changes), for a
    /// phone set up from a file, tools and tests. The same rules as a pull; all or nothing.
    /// Returns how many changes were applied.
    pub fn load_pipeline_records(&self, json: &str) -> Result<i32> {
        let changes: Vec<Change> =
            serde_json::from_str(json).map_err(|e| Error::InvalidInput(format!("feed records: {e}")))?;
        let mut inner = self.lock();
        let tx = inner
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let me: Option<String> = rusqlite::OptionalExtension::optional(tx.query_row(
            "SELECT user_id FROM sync_state WHERE id = 1",
            [],
            |r| r.get(0),
        ))?;
        for c in &changes {
            apply(&tx, c, me.as_deref())?;
        }
        tx.commit()?;
        Ok(changes.len() as i32)
    }
}
