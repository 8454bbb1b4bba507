//! Customers and leads down the change feed. Every write to `customers` or `leads` ends with
//! [`publish_customer`] or [`publish_lead`] in the same transaction, so a phone's copy follows
//! the row: the owner (or the rep a lead is assigned to) gets the whole record; the territory
//! gets a pooled record, and a status-only copy (no phones, no contacts) of an owned one, so
//! other reps see 已有负责人 without the customer's numbers (PIPL).

use fieldproof_core::customers::{Contact, CustomerState, LeadState, NewCustomer};
use fieldproof_core::sync::wire::code::Code;
use fieldproof_core::sync::wire::{CustomerChange, LeadChange};

use crate::db::{Connection, OptionalExtension};
use crate::store::{NewChange, append_changes};

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
pub(crate) fn publish_customer(tx: &Connection, id: &str, now_ms: i64) -> crate::db::Result<()> {
    let Some((change, owner, created_by)) = customer_change(tx, id)? else {
        return Ok(());
    };
    let mut rows = Vec::with_capacity(3);
    let whole = to_json(&change)?;
    let mut to_users: Vec<String> = owner.into_iter().collect();
    if matches!(change.state, Code::Known(CustomerState::Duplicate)) && !to_users.contains(&created_by) {
        to_users.push(created_by);
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
    if let Some(territory) = change.customer.region.clone() {
        let mut status = change;
        if !matches!(status.state, Code::Known(CustomerState::Pool)) {
            status.customer.phones.clear();
            status.customer.contacts.clear();
        }
        rows.push(NewChange {
            kind: "customer",
            id: id.to_string(),
            scope_user: None,
            scope_territory: Some(territory),
            body: to_json(&status)?,
        });
    }
    append_changes(tx, &rows, now_ms)
}

/// Append the lead's current record to the feed: to the rep it is assigned to, and to its
/// territory while in the pool.
pub(crate) fn publish_lead(tx: &Connection, id: &str, now_ms: i64) -> crate::db::Result<()> {
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
