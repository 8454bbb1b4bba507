//! What the customer and lead screens read, and the pipeline's part of the rep's day. Reads
//! never write.

use rusqlite::params;

use super::{
    CustomerDetail, CustomerList, DueFollowUp, LeadList, PipelineDay, customer, customers_where,
    evidence_on_hand, follow_ups_of, leads_where, next_stage, now_days, photos_of, pipeline_config,
    stage_changes_of, user,
};
use crate::Core;
use crate::customers::{Customer, Lead, PipelineConfig, missing_for_stage};
use crate::error::{Error, Result};
use crate::rules;

impl Core {
    /// The pipeline settings this phone follows (the server's last copy, else the defaults).
    pub fn pipeline_config(&self) -> Result<PipelineConfig> {
        pipeline_config(&self.lock().conn)
    }

    /// A list of customers for `user_id`, by name: their own, the pool, or the duplicates
    /// linked to them.
    pub fn customers(&self, user_id: &str, list: CustomerList) -> Result<Vec<Customer>> {
        let inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        match list {
            CustomerList::Mine => customers_where(
                &inner.conn,
                "c.owner_id = ?1 AND c.state = 'owned' ORDER BY c.name, c.id",
                [&me.id],
            ),
            CustomerList::Pool => customers_where(&inner.conn, "c.state = 'pool' ORDER BY c.name, c.id", []),
            // The rep's own entries are those entered on this phone (`create_op`): the server
            // gives a linked duplicate the original's owner, not the rep who entered it.
            CustomerList::Duplicates => customers_where(
                &inner.conn,
                "c.state = 'duplicate' AND (c.owner_id = ?1 OR c.create_op IS NOT NULL OR c.duplicate_of IN
                    (SELECT o.id FROM customers o WHERE o.owner_id = ?1)) ORDER BY c.name, c.id",
                [&me.id],
            ),
        }
    }

    /// One customer with its follow-ups, stage moves and photos, and what its next stage still
    /// needs.
    pub fn customer_detail(&self, customer_id: &str) -> Result<CustomerDetail> {
        let inner = self.lock();
        let c = customer(&inner.conn, customer_id)?;
        let cfg = pipeline_config(&inner.conn)?;
        let next = next_stage(&cfg, &c.stage);
        let missing_for_next = match &next {
            Some(to) => {
                let (on_hand, _, _) = evidence_on_hand(&inner.conn, &c, None)?;
                missing_for_stage(&cfg, to, &on_hand)
            }
            None => Vec::new(),
        };
        Ok(CustomerDetail {
            follow_ups: follow_ups_of(&inner.conn, &c.id)?,
            stage_changes: stage_changes_of(&inner.conn, &c.id)?,
            photos: photos_of(&inner.conn, &self.photo_dir, &c.id)?,
            customer: c,
            next_stage: next,
            missing_for_next,
        })
    }

    /// Leads for `user_id`: routed to them or claimed by them (soonest deadline first), or the
    /// pool (newest first).
    pub fn leads(&self, user_id: &str, list: LeadList) -> Result<Vec<Lead>> {
        let inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        match list {
            LeadList::Mine => leads_where(
                &inner.conn,
                "l.assigned_rep = ?1 AND l.state IN ('assigned', 'claimed')
                 ORDER BY l.state, coalesce(l.deadline_ms, 1 << 62), l.id",
                [&me.id],
            ),
            LeadList::Pool => leads_where(&inner.conn, "l.state = 'pool' ORDER BY l.id DESC", []),
        }
    }

    /// The pipeline's part of `user_id`'s day (`YYYY-MM-DD`, local): follow-ups due on or before
    /// it, customers stalled in a stage, leads waiting for the claim with their deadlines, and
    /// customers about to go back to the pool. Stalls and releases are counted from now.
    pub fn pipeline_day(&self, user_id: &str, day: &str) -> Result<PipelineDay> {
        rules::validate_date(day).map_err(Error::InvalidInput)?;
        let inner = self.lock();
        let me = user(&inner.conn, user_id)?;
        let cfg = pipeline_config(&inner.conn)?;
        let now = self.clock.wall_ms();
        let follow_ups_due = due_follow_ups(&inner.conn, &me.id, day, None)?;
        let open_stages: Vec<String> = cfg
            .stages
            .iter()
            .filter(|s| !s.terminal)
            .map(|s| s.key.clone())
            .collect();
        let stalled = customers_where(
            &inner.conn,
            "c.owner_id = ?1 AND c.state = 'owned' AND c.stage_entered_ms < ?2
               AND c.stage IN (SELECT value FROM json_each(?3)) ORDER BY c.stage_entered_ms, c.id",
            params![
                me.id,
                now - now_days(cfg.stall_days),
                serde_json::to_string(&open_stages)?
            ],
        )?;
        let leads_waiting = leads_where(
            &inner.conn,
            "l.assigned_rep = ?1 AND l.state = 'assigned' ORDER BY coalesce(l.deadline_ms, 1 << 62), l.id",
            [&me.id],
        )?;
        let near_release = customers_where(
            &inner.conn,
            "c.owner_id = ?1 AND c.state = 'owned' AND c.release_due_ms IS NOT NULL AND c.release_due_ms <= ?2
             ORDER BY c.release_due_ms, c.id",
            params![me.id, now + now_days(cfg.release_warning_days)],
        )?;
        Ok(PipelineDay {
            follow_ups_due,
            stalled,
            leads_waiting,
            near_release,
        })
    }
}

/// The follow-ups `user_id` planned on or before `day` (`YYYY-MM-DD`): the latest follow-up of
/// each of their customers and open leads, when it set a next date. With `store_id`, only
/// customers linked to that store (the day plan's stop).
pub(crate) fn due_follow_ups(
    conn: &rusqlite::Connection,
    user_id: &str,
    day: &str,
    store_id: Option<&str>,
) -> Result<Vec<DueFollowUp>> {
    let mut st = conn.prepare_cached(
        "SELECT f.id, f.customer_id, f.lead_id, coalesce(c.name, json_extract(l.body, '$.name'), ''),
                f.next_step, f.next_date
         FROM follow_ups f
         LEFT JOIN customers c ON c.id = f.customer_id
         LEFT JOIN leads l ON l.id = f.lead_id
         WHERE f.user_id = ?1 AND f.next_date IS NOT NULL AND f.next_date <= ?2
           AND NOT EXISTS (SELECT 1 FROM follow_ups g WHERE g.user_id = f.user_id
               AND coalesce(g.customer_id, '') = coalesce(f.customer_id, '')
               AND coalesce(g.lead_id, '') = coalesce(f.lead_id, '')
               AND (g.at_ms > f.at_ms OR (g.at_ms = f.at_ms AND g.id > f.id)))
           AND (f.customer_id IS NULL OR (c.owner_id = ?1 AND c.state = 'owned'))
           AND (f.lead_id IS NULL OR l.state IN ('assigned', 'claimed'))
           AND (?3 IS NULL OR c.store_id = ?3)
         ORDER BY f.next_date, f.at_ms",
    )?;
    let rows = st.query_map(params![user_id, day, store_id], |r| {
        let next_date: String = r.get(5)?;
        Ok(DueFollowUp {
            follow_up_id: r.get(0)?,
            customer_id: r.get(1)?,
            lead_id: r.get(2)?,
            name: r.get(3)?,
            next_step: r.get(4)?,
            overdue: next_date.as_str() < day,
            next_date,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
