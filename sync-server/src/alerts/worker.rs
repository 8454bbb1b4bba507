//! The delivery worker `serve` starts: every `poll` it claims the due messages — at most one per
//! channel, the oldest first — sends them, and marks each sent, or schedules its retry with
//! exponential backoff and jitter, or (after `max_attempts`, or when the channel's settings
//! cannot work) marks it failed for the alerts page. Once an hour of the digest's local hour it
//! writes the daily digests ([`super::digest`]).
//!
//! Claiming is a write transaction that sets the row's lease (`lease_until_ms`) and counts the
//! attempt, so a second server process on the same database never takes a row another one holds;
//! a lease that runs out (its process died mid-send) makes the row due again. Sending happens
//! outside any transaction, then one more transaction records the outcome. A process killed
//! between the receiver's acceptance and that commit sends the message again after the lease,
//! with the same key (at least once; receivers deduplicate by key).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::db::{OptionalExtension, TransactionBehavior, params};
use tokio::sync::watch;

use super::digest::DigestSources;
use super::send::{Outgoing, SendFailure, Sender};
use super::{Channel, channel_in};
use crate::body::blocking;
use crate::clock::now_ms;
use crate::error::ApiResult;
use crate::limits::AlertLimits;
use crate::store::Store;

/// A claimed message.
struct Claimed {
    id: i64,
    key: String,
    subject: String,
    body: String,
    link_path: String,
    attempts: u32,
    channel: Channel,
}

/// Start the worker; it stops when `stop` turns true (after the sends in flight).
pub fn spawn(
    store: Arc<Store>,
    sources: DigestSources,
    stop: watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    let limits = store.limits().alerts.clone();
    if limits.lease <= limits.send_timeout {
        tracing::warn!(
            lease_ms = limits.lease.as_millis() as u64,
            send_timeout_ms = limits.send_timeout.as_millis() as u64,
            "the alert lease is not longer than a send may take: a second server process could send a slow message twice"
        );
    }
    match Sender::new(limits.send_timeout) {
        Ok(sender) => Some(tokio::spawn(run(store, sender, limits, sources, stop))),
        Err(e) => {
            tracing::error!(error = %e, "alert worker not started: no HTTP client");
            None
        }
    }
}

async fn run(
    store: Arc<Store>,
    sender: Sender,
    limits: AlertLimits,
    sources: DigestSources,
    mut stop: watch::Receiver<bool>,
) {
    let mut digest_done_day: Option<i64> = None;
    let mut warned_no_url = false;
    loop {
        if *stop.borrow() {
            break;
        }
        if let Some(hour) = limits.digest_hour {
            let cal = store.calendar();
            let now = now_ms();
            let day = cal.day_of(now);
            let (midnight, _) = cal.day_bounds(day);
            if digest_done_day != Some(day) && now >= midnight + i64::from(hour) * 3_600_000 {
                let s = store.clone();
                match blocking(move || super::digest::write_day(&s, sources, day, now_ms())).await {
                    Ok(n) => {
                        tracing::info!(day, written = n, "daily alert digests written");
                        digest_done_day = Some(day);
                    }
                    Err(e) => tracing::warn!(error = %e, "daily alert digests not written; trying again"),
                }
            }
        }
        let s = store.clone();
        let lease = limits.lease;
        let claimed = match blocking(move || claim(&s, now_ms(), lease)).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "alert deliveries not claimed");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(limits.poll) => {}
                // Told to stop, or the server is gone without telling (its sender dropped).
                r = stop.changed() => if r.is_err() { break },
            }
            continue;
        }
        let public = store.limits().public_url.clone();
        if public.is_none() && !warned_no_url {
            tracing::warn!("alerts link to paths only: set --public-url so messages carry the full address");
            warned_no_url = true;
        }
        let sends = claimed.iter().map(|c| {
            let link = format!("{}{}", public.as_deref().unwrap_or(""), c.link_path);
            let sender = &sender;
            async move {
                let link_line = c
                    .channel
                    .lang
                    .message("alert_line_link", &[("link", link.clone())]);
                let m = Outgoing {
                    key: &c.key,
                    subject: &c.subject,
                    body: &c.body,
                    link: &link,
                    link_line: &link_line,
                };
                sender.send(&c.channel, &m, now_ms()).await
            }
        });
        let outcomes = futures_util::future::join_all(sends).await;
        let results: Vec<(i64, u32, Result<(), SendFailure>)> = claimed
            .iter()
            .zip(outcomes)
            .map(|(c, r)| (c.id, c.attempts, r))
            .collect();
        let s = store.clone();
        let l = limits.clone();
        if let Err(e) = blocking(move || finish(&s, &l, &results, now_ms())).await {
            tracing::warn!(error = %e, "alert outcomes not recorded; their leases run out and they are sent again");
        }
    }
    tracing::info!("alert worker stopped");
}

/// Take the due messages, one per channel whose channel is enabled and has none in flight.
fn claim(store: &Store, now_ms: i64, lease: Duration) -> ApiResult<Vec<Claimed>> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let busy: HashSet<i64> = {
        let mut st = tx.prepare_cached(
            "SELECT DISTINCT channel_id FROM alert_deliveries WHERE state = 'pending' AND lease_until_ms > ?1",
        )?;
        let rows = st.query_map([now_ms], |r| r.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let due: Vec<(i64, i64)> = {
        let mut st = tx.prepare_cached(
            "SELECT min(d.id), d.channel_id FROM alert_deliveries d JOIN alert_channels c ON c.id = d.channel_id
             WHERE d.state = 'pending' AND d.next_attempt_ms <= ?1
               AND (d.lease_until_ms IS NULL OR d.lease_until_ms <= ?1) AND c.enabled = 1
             GROUP BY d.channel_id",
        )?;
        let rows = st.query_map([now_ms], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut taken: HashSet<i64> = HashSet::new();
    let mut out = Vec::new();
    let until = now_ms.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
    for (id, channel_id) in due {
        if busy.contains(&channel_id) || !taken.insert(channel_id) {
            continue;
        }
        let Some(channel) = channel_in(&tx, channel_id)? else {
            continue;
        };
        // Taken only if still free: the claim stays once-only even where two processes'
        // claims are not serialized by the writer lock (on PostgreSQL the second update waits
        // for the first's row lock, then finds the lease set and takes nothing).
        let row: Option<(String, String, String, String, u32)> = tx
            .prepare_cached(
                "UPDATE alert_deliveries SET lease_until_ms = ?1, attempts = attempts + 1
                 WHERE id = ?2 AND state = 'pending' AND (lease_until_ms IS NULL OR lease_until_ms <= ?3)
                 RETURNING idempotency_key, subject, body, link_path, attempts",
            )?
            .query_row(params![until, id, now_ms], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        let Some(row) = row else {
            continue;
        };
        out.push(Claimed {
            id,
            key: row.0,
            subject: row.1,
            body: row.2,
            link_path: row.3,
            attempts: row.4,
            channel,
        });
    }
    tx.commit()?;
    Ok(out)
}

/// The wait before attempt `attempts + 1`: base × 2^(attempts − 1), at most the cap, then a
/// random half to whole of it (so messages that failed together do not retry together).
pub fn backoff(l: &AlertLimits, attempts: u32, random: u64) -> Duration {
    let doubling = 2u32.saturating_pow(attempts.saturating_sub(1).min(30));
    let full = l.retry_base.saturating_mul(doubling).min(l.retry_cap);
    let half_ms = u64::try_from(full.as_millis() / 2).unwrap_or(u64::MAX / 2);
    Duration::from_millis(half_ms + random % (half_ms + 1))
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}

/// Record what each send did, in one transaction.
fn finish(
    store: &Store,
    l: &AlertLimits,
    results: &[(i64, u32, Result<(), SendFailure>)],
    now_ms: i64,
) -> ApiResult<()> {
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    for (id, attempts, r) in results {
        match r {
            Ok(()) => {
                tx.prepare_cached(
                    "UPDATE alert_deliveries SET state = 'sent', sent_ms = ?1, lease_until_ms = NULL,
                        held_quiet = 0, last_error_code = NULL, last_error_detail = NULL
                     WHERE id = ?2",
                )?
                .execute(params![now_ms, id])?;
                tracing::info!(delivery = id, attempts, "alert sent");
            }
            Err(f) if f.permanent || *attempts >= l.max_attempts => {
                tx.prepare_cached(
                    "UPDATE alert_deliveries SET state = 'failed', lease_until_ms = NULL, held_quiet = 0,
                        last_error_code = ?1, last_error_detail = ?2
                     WHERE id = ?3",
                )?
                .execute(params![f.code, f.params_json(), id])?;
                tracing::warn!(delivery = id, attempts, code = f.code, "alert failed for good");
            }
            Err(f) => {
                let wait = backoff(l, *attempts, random_u64());
                let next = now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX));
                tx.prepare_cached(
                    "UPDATE alert_deliveries SET next_attempt_ms = ?1, lease_until_ms = NULL, held_quiet = 0,
                        last_error_code = ?2, last_error_detail = ?3
                     WHERE id = ?4",
                )?
                .execute(params![next, f.code, f.params_json(), id])?;
                tracing::info!(
                    delivery = id,
                    attempts,
                    code = f.code,
                    wait_ms = wait.as_millis() as u64,
                    "alert retry scheduled"
                );
            }
        }
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter() {
        let l = AlertLimits::default();
        let s = |a, r| backoff(&l, a, r).as_secs();
        // First retry: 15 to 30 s; then 30–60, 60–120 …; never above the 1 h cap.
        assert_eq!((s(1, 0), s(1, u64::MAX)), (15, 15 + (u64::MAX % 15_001) / 1000));
        assert!((15..=30).contains(&s(1, 12_345)));
        assert!((30..=60).contains(&s(2, 987_654)));
        assert!((60..=120).contains(&s(3, 5)));
        assert!((1800..=3600).contains(&s(20, 77)));
        assert!(s(30, u64::MAX) <= 3600);
    }
}
