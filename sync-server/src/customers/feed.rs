//! Customers and leads down the change feed. Every write to `customers` or `leads` ends with
//! [`publish_customer`] or [`publish_lead`] in the same transaction, so a phone's copy follows
//! the row: the owner (or the rep a lead is assigned to) gets the whole record; the territory
//! gets a pooled record, and a status-only copy (no phones, no contacts) of an owned one, so
//! other reps see 已有负责人 without the customer's numbers (PIPL).

use fieldproof_core::customers::{Contact, CustomerState, LeadState, NewCustomer, PipelineConfig};
use fieldproof_core::sync::wire::code::Code;
use fieldproof_core::sync::wire::{CustomerChange, CustomerKeyChange, LeadChange, StoreKeyChange};

use crate::change_feed::{NewChange, append_changes};
use crate::db::{Connection, OptionalExtension};

fn json_or_default<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_default()
}

fn to_json<T: serde::Serialize>(v: &T) -> crate::db::Result<String> {
    serde_json::to_string(v).map_err(|e| crate::db::Error::ToSqlConversionFailure(e.into()))
}

fn customer_state(s: &str) -> CustomerState {
    match s {
        "pool" => CustomerState::Pool,
        "duplicate" => CustomerState::Duplicate,
        "closed" => CustomerState::Closed,
        _ => CustomerState::Owned,
    }
}

fn lead_state(s: &str) -> Code<LeadState> {
    Code::parse(s)
}

/// The customer as its row is now, with its owner and the rep who entered it; `None` when there
/// is no such customer.
pub(crate) fn customer_change(
    c: &Connection,
    id: &str,
) -> crate::db::Result<Option<(CustomerChange, Option<String>, String)>> {
    c.prepare_cached(
        "SELECT c.name, c.company, c.phones, c.contacts, c.industry, c.region, c.budget_cents, c.store_id,
                c.from_lead_id, c.owner_id, c.state, c.duplicate_of, c.stage, c.stage_entered_ms, c.claimed_ms,
                c.last_interaction_ms, c.release_due_ms, c.health_grade, c.health_score, c.created_ms,
                c.created_by, u.body
         FROM customers c LEFT JOIN users u ON u.id = c.owner_id WHERE c.id = ?1",
    )?
    .query_row([id], |r| {
        let phones: String = r.get(2)?;
        let contacts: String = r.get(3)?;
        let owner_id: Option<String> = r.get(9)?;
        let state: String = r.get(10)?;
        let owner_body: Option<String> = r.get(21)?;
        let owner_name = owner_body
            .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_string));
        let change = CustomerChange {
            id: id.to_string(),
            customer: NewCustomer {
                name: r.get(0)?,
                company: r.get(1)?,
                phones: json_or_default::<Vec<String>>(&phones),
                contacts: json_or_default::<Vec<Contact>>(&contacts),
                industry: r.get(4)?,
                region: r.get(5)?,
                budget_cents: r.get(6)?,
                store_id: r.get(7)?,
                from_lead_id: r.get(8)?,
            },
            owner_id: owner_id.clone(),
            owner_name,
            state: Code::Known(customer_state(&state)),
            duplicate_of: r.get(11)?,
            stage: r.get(12)?,
            stage_entered_ms: r.get(13)?,
            claimed_ms: r.get(14)?,
            last_interaction_ms: r.get(15)?,
            release_due_ms: r.get(16)?,
            health_grade: r.get(17)?,
            health_score: r.get(18)?,
            created_ms: r.get(19)?,
        };
        Ok((change, owner_id, r.get::<_, String>(20)?))
    })
    .optional()
}

/// Append the customer's current record to the feed: whole to its owner (and, for a duplicate,
/// to the rep who entered it), status-only to its territory.
pub fn publish_customer(tx: &Connection, id: &str, now_ms: i64) -> crate::db::Result<()> {
    publish_customer_parts(tx, id, true, false, now_ms)
}

/// The customer's record (`record`) and its duplicate keys (`keys`) down the feed, read once and
/// appended in one go (a push batch's end: one read and one append per customer it touched).
pub(crate) fn publish_customer_parts(
    tx: &Connection,
    id: &str,
    record: bool,
    keys: bool,
    now_ms: i64,
) -> crate::db::Result<()> {
    let Some((change, owner, created_by)) = customer_change(tx, id)? else {
        return Ok(());
    };
    let mut rows = Vec::with_capacity(3);
    if record {
        customer_rows(id, &change, owner.as_deref(), &created_by, &mut rows)?;
    }
    if keys {
        key_rows(tx, id, &change, owner.as_deref(), &created_by, &mut rows)?;
    }
    append_changes(tx, &rows, now_ms)
}

fn customer_rows(
    id: &str,
    change: &CustomerChange,
    owner: Option<&str>,
    created_by: &str,
    rows: &mut Vec<NewChange>,
) -> crate::db::Result<()> {
    let whole = to_json(change)?;
    let mut to_users: Vec<String> = owner.map(str::to_string).into_iter().collect();
    if matches!(change.state, Code::Known(CustomerState::Duplicate))
        && !to_users.iter().any(|u| u == created_by)
    {
        to_users.push(created_by.to_string());
    }
    // The territory's copy first: the owner, who is in the territory too, applies the rows in
    // feed order, so the whole record is the last it reads.
    if let Some(territory) = change.customer.region.clone() {
        rows.push(NewChange {
            kind: "customer",
            id: id.to_string(),
            scope_user: None,
            scope_territory: Some(territory),
            body: to_json(&territory_copy(change))?,
        });
    }
    for user in to_users {
        rows.push(NewChange {
            kind: "customer",
            id: id.to_string(),
            scope_user: Some(user),
            scope_territory: None,
            body: whole.clone(),
        });
    }
    Ok(())
}

/// What a rep who does not hold the customer sees: the whole record while it is in the pool
/// (anyone may claim it), else its status only, without phones or contacts.
fn territory_copy(change: &CustomerChange) -> CustomerChange {
    let mut status = change.clone();
    if !matches!(status.state, Code::Known(CustomerState::Pool)) {
        status.customer.phones.clear();
        status.customer.contacts.clear();
    }
    status
}

/// Send one rep the customer as a rep who does not hold it sees it (a claim that did not take
/// must overwrite the claimant's own optimistic copy, even outside the customer's territory).
pub(crate) fn publish_customer_status_to(
    tx: &Connection,
    id: &str,
    user_id: &str,
    now_ms: i64,
) -> crate::db::Result<()> {
    let Some((change, _, _)) = customer_change(tx, id)? else {
        return Ok(());
    };
    let row = NewChange {
        kind: "customer",
        id: id.to_string(),
        scope_user: Some(user_id.to_string()),
        scope_territory: None,
        body: to_json(&territory_copy(&change))?,
    };
    append_changes(tx, &[row], now_ms)
}

/// Append the customer's duplicate keys (hashes only) to the feed for its territory (to its
/// owner, or the rep who entered it, when it has none), so phones find duplicates offline
/// without other reps' numbers.
pub fn publish_customer_keys(tx: &Connection, customer_id: &str, now_ms: i64) -> crate::db::Result<()> {
    publish_customer_parts(tx, customer_id, false, true, now_ms)
}

fn key_rows(
    tx: &Connection,
    customer_id: &str,
    change: &CustomerChange,
    owner: Option<&str>,
    created_by: &str,
    rows: &mut Vec<NewChange>,
) -> crate::db::Result<()> {
    let keys: Vec<String> = {
        let mut st =
            tx.prepare_cached("SELECT key FROM customer_keys WHERE customer_id = ?1 ORDER BY key")?;
        let found = st.query_map([customer_id], |r| r.get::<_, String>(0))?;
        found.collect::<Result<_, _>>()?
    };
    for key in keys {
        let body = to_json(&CustomerKeyChange {
            key: key.clone(),
            customer_id: customer_id.to_string(),
            owner_name: change.owner_name.clone(),
            state: change.state.clone(),
        })?;
        let (scope_user, scope_territory) = match &change.customer.region {
            Some(t) => (None, Some(t.clone())),
            None => (Some(owner.unwrap_or(created_by).to_string()), None),
        };
        rows.push(NewChange {
            kind: "customer_key",
            id: key,
            scope_user,
            scope_territory,
            body,
        });
    }
    Ok(())
}

/// Append the pipeline's settings to the feed, for everyone (`id` is the version). Called when
/// head office changes them (`crate::pipeline_jobs`).
pub fn publish_pipeline_config(tx: &Connection, cfg: &PipelineConfig, now_ms: i64) -> crate::db::Result<()> {
    let row = NewChange {
        kind: "pipeline_config",
        id: cfg.version.to_string(),
        scope_user: None,
        scope_territory: None,
        body: to_json(cfg)?,
    };
    append_changes(tx, &[row], now_ms)
}

/// Append a store's public check-in key to the feed, scoped like the store itself (its
/// territory; the pull adds the stores of a rep's plans). `id` is `{store_id}:{kid}`.
pub(crate) fn publish_store_key(
    tx: &Connection,
    store_id: &str,
    kid: &str,
    now_ms: i64,
) -> crate::db::Result<()> {
    let row: Option<(String, Option<i64>, Option<String>)> = tx
        .prepare_cached(
            "SELECT k.public_key_hex, k.retired_ms, s.territory FROM store_keys k
             LEFT JOIN stores s ON s.id = k.store_id WHERE k.store_id = ?1 AND k.kid = ?2",
        )?
        .query_row([store_id, kid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((public_key_hex, retired_ms, territory)) = row else {
        return Ok(());
    };
    let body = to_json(&StoreKeyChange {
        store_id: store_id.to_string(),
        kid: kid.to_string(),
        public_key_hex,
        retired: retired_ms.is_some(),
    })?;
    let row = NewChange {
        kind: "store_key",
        id: format!("{store_id}:{kid}"),
        scope_user: None,
        scope_territory: territory,
        body,
    };
    append_changes(tx, &[row], now_ms)
}

/// Append the lead's current record to the feed: to the rep it is assigned to, and to its
/// territory while in the pool.
pub fn publish_lead(tx: &Connection, id: &str, now_ms: i64) -> crate::db::Result<()> {
    let row = tx
        .prepare_cached(
            "SELECT name, company, phones, industry, region, budget_cents, source, state, assigned_rep, assigned_ms,
                    deadline_ms, claimed_ms, customer_id, created_ms
             FROM leads WHERE id = ?1",
        )?
        .query_row([id], |r| {
            let phones: String = r.get(2)?;
            let state: String = r.get(7)?;
            Ok(LeadChange {
                id: id.to_string(),
                name: r.get(0)?,
                company: r.get(1)?,
                phones: json_or_default::<Vec<String>>(&phones),
                industry: r.get(3)?,
                region: r.get(4)?,
                budget_cents: r.get(5)?,
                source: r.get(6)?,
                state: lead_state(&state),
                assigned_rep: r.get(8)?,
                assigned_ms: r.get(9)?,
                deadline_ms: r.get(10)?,
                claimed_ms: r.get(11)?,
                customer_id: r.get(12)?,
                created_ms: r.get(13)?,
            })
        })
        .optional()?;
    let Some(lead) = row else {
        return Ok(());
    };
    let body = to_json(&lead)?;
    let mut rows = Vec::with_capacity(2);
    if let Some(rep) = &lead.assigned_rep {
        rows.push(NewChange {
            kind: "lead",
            id: id.to_string(),
            scope_user: Some(rep.clone()),
            scope_territory: None,
            body: body.clone(),
        });
    }
    if matches!(lead.state, Code::Known(LeadState::Pool))
        && let Some(territory) = &lead.region
    {
        rows.push(NewChange {
            kind: "lead",
            id: id.to_string(),
            scope_user: None,
            scope_territory: Some(territory.clone()),
            body,
        });
    }
    append_changes(tx, &rows, now_ms)
}
