//! The device's sync client (`sync-client` feature): `Core::enrol` and `Core::sync` (or
//! `Core::sync_with`, which reports progress and can be cancelled), exactly the steps of
//! `docs/sync-protocol.md` ("The client's sync").
//!
//! The database lock is never held across an `.await`: each step reads what it needs under the
//! lock, talks to the server without it (the rep keeps working meanwhile), then writes the
//! server's answer in one transaction. Those transactions (one per pushed batch, one per pull
//! page, one for the photo backlog) are the only writes besides the learned clock offset, so a
//! kill at any point loses nothing; at worst a batch is pushed again and comes back `duplicate`.
//! Cancelling (or dropping the future) is the same as a kill, minus the kill: photo uploads the
//! server confirmed are recorded before the error returns.

mod http;
mod progress;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use self::http::{Net, NetError};
use self::progress::Progress;
pub use self::progress::{SyncCancel, SyncObserver};
use super::local::{self, PhotoToSend, PhotoUploadOutcome, UploadState};
use super::wire::{
    self, DeviceCertificateResponse, EnrolRequest, EnrolResponse, Health, PhotoOffer, PhotoStatus,
    PullResponse, PushOp, PushRequest, PushResponse,
};
use super::{SyncPhase, SyncReport, local::BatchOutcome};
use crate::error::{Error, Result};
use crate::model::{OutboxOp, User};
use crate::{Core, content_credentials, evidence, outbox};

/// Knobs of the client. The defaults are the protocol's; tests shorten the waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// First retry delay; doubles per retry up to `max_backoff_ms`, with jitter.
    pub initial_backoff_ms: i64,
    pub max_backoff_ms: i64,
    /// Tries per request, the first included.
    pub max_attempts: i32,
    pub connect_timeout_ms: i64,
    /// Whole request, body included.
    pub request_timeout_ms: i64,
    /// Ops per push (1..=500).
    pub push_batch: i32,
    /// Changes per pull page (1..=1000).
    pub pull_limit: i32,
    /// Photo bytes per chunk (1 byte..=4 MiB).
    pub photo_chunk_bytes: i32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            initial_backoff_ms: 200,
            max_backoff_ms: 5_000,
            max_attempts: 8,
            connect_timeout_ms: 10_000,
            // A 1 MiB chunk at 100 kbit/s (a bad rural link) takes ~85 s.
            request_timeout_ms: 120_000,
            push_batch: 200,
            pull_limit: 500,
            photo_chunk_bytes: 1024 * 1024,
        }
    }
}

impl SyncOptions {
    fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::InvalidInput(format!("sync options: {what}")));
        if self.max_attempts < 1 {
            return bad("max_attempts must be at least 1");
        }
        if self.initial_backoff_ms < 0 {
            return bad("initial_backoff_ms must not be negative");
        }
        if self.initial_backoff_ms > self.max_backoff_ms {
            return bad("initial_backoff_ms is above max_backoff_ms");
        }
        if self.connect_timeout_ms < 1 || self.request_timeout_ms < 1 {
            return bad("timeouts must be positive");
        }
        if !(1..=wire::MAX_PUSH_OPS as i32).contains(&self.push_batch) {
            return bad("push_batch must be 1..=500");
        }
        if !(1..=wire::MAX_PULL_LIMIT as i32).contains(&self.pull_limit) {
            return bad("pull_limit must be 1..=1000");
        }
        if !(1..=wire::MAX_PHOTO_CHUNK as i32).contains(&self.photo_chunk_bytes) {
            return bad("photo_chunk_bytes must be 1..=4 MiB");
        }
        Ok(())
    }

    /// The wait before retry number `retry` (1 = the first retry): `initial × 2^(retry-1)`, capped
    /// at `max`, of which a random half is dropped ("equal jitter": the schedule still grows,
    /// but phones that lost the network together do not come back in lockstep). `jitter` is
    /// uniform in [0, 1).
    pub fn backoff(&self, retry: i32, jitter: f64) -> Duration {
        let exp = retry.saturating_sub(1).clamp(0, 30);
        let base = self
            .initial_backoff_ms
            .max(0)
            .saturating_mul(1i64 << exp)
            .min(self.max_backoff_ms.max(0));
        let jitter = jitter.clamp(0.0, 1.0);
        millis(base / 2 + ((base - base / 2) as f64 * jitter) as i64)
    }
}

/// A duration from one of the options' millisecond counts (validated non-negative; a negative
/// one would be no wait at all).
pub(crate) fn millis(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// A byte count as the report's signed number (a phone never moves 2^63 bytes).
fn report_bytes(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// Per-core client state: the options, and the flag that keeps two syncs from running at once.
#[derive(Debug, Default)]
pub(crate) struct SyncRuntime {
    running: AtomicBool,
    options: std::sync::RwLock<SyncOptions>,
}

/// Clears the running flag however the sync ends: returned, failed, or its future dropped (a
/// cancelled coroutine).
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl SyncRuntime {
    /// A second caller gets `sync_in_progress` at once rather than waiting: the first sync will
    /// take its ops anyway, and a UI button or a background job can simply try later.
    fn begin(&self) -> Result<Running<'_>> {
        self.running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .map_err(|_| Error::SyncInProgress)?;
        Ok(Running(&self.running))
    }
}

/// Check and normalise a server URL: https, or plain http only to this machine (tests, a
/// developer's server behind `adb reverse`). Requests are signed but not encrypted by us, and
/// visit data is personal.
pub(crate) fn normalize_server_url(url: &str) -> Result<String> {
    let bad = |why: &str| Err(Error::InvalidInput(format!("server URL {url:?}: {why}")));
    let trimmed = url.trim().trim_end_matches('/');
    let Ok(parsed) = reqwest::Url::parse(trimmed) else {
        return bad("not a URL");
    };
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return bad("must not have a query or fragment");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return bad("must not carry credentials");
    }
    let host = parsed.host_str().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return bad("plain http is only allowed to a loopback address; use https"),
        _ => return bad("scheme must be https"),
    }
    if host.is_empty() {
        return bad("has no host");
    }
    Ok(trimmed.to_string())
}

fn random_unit() -> f64 {
    let mut b = [0u8; 8];
    // Jitter only spreads retries; if the OS source fails, no jitter is fine.
    let _ = getrandom::fill(&mut b);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

impl Core {
    /// The options the next `enrol`/`sync` uses.
    pub fn sync_options(&self) -> SyncOptions {
        self.sync_rt
            .options
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Change the client's options (refused with `invalid_input` when out of range).
    pub fn set_sync_options(&self, options: SyncOptions) -> Result<()> {
        options.validate()?;
        *self.sync_rt.options.write().unwrap_or_else(|p| p.into_inner()) = options;
        Ok(())
    }

    /// Enrol this device with a server using the one-time code head office issued for a user:
    /// proves the device holds its key, binds device and key to the user on the server, and
    /// remembers server and user. Enrolling again as the same user keeps the change-feed
    /// position; another user or server starts it over.
    pub async fn enrol(&self, server_url: &str, code: &str) -> Result<User> {
        let server_url = normalize_server_url(server_url)?;
        let code = code.trim();
        if code.is_empty() || code.len() > 128 {
            return Err(Error::InvalidInput("enrolment code is empty or too long".into()));
        }
        let _running = self.sync_rt.begin()?;
        let options = self.sync_options();
        let mut net = Net::new(&server_url, &options, &self.signer, self.clock.as_ref(), None)?;
        let public_key_hex = self.signer.public_key_hex();
        let proof = wire::enrol_signing_bytes(code, self.device_id(), &public_key_hex);
        let request = EnrolRequest {
            code: code.to_string(),
            device_id: self.device_id().to_string(),
            signature_hex: self.signer.sign_hex(proof.as_bytes()),
            public_key_hex,
        };
        let body = serde_json::to_vec(&request)?;
        let (answer, midpoint): (EnrolResponse, i64) = net
            .call_timed("enrol", reqwest::Method::POST, "/v1/enrol", Some(body), false)
            .await
            .map_err(Error::from)?;
        let now = self.clock.wall_ms();
        {
            let mut inner = self.lock();
            let tx = inner
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            local::store_enrolment(&tx, &server_url, &answer.user, now)?;
            local::set_server_offset(&tx, answer.server_time_ms - midpoint)?;
            content_credentials::store_device_certificate(&tx, &answer.certificate_chain_pem, now)?;
            tx.commit()?;
        }
        tracing::info!(role = ?answer.user.role, "device enrolled");
        tracing::debug!(user = %answer.user.id, "enrolled as");
        Ok(answer.user)
    }

    /// Sync with the server: learn its clock, push every pending op (photos first), then pull
    /// the user's changes. See the module docs for what survives a crash; on an error, what was
    /// done before it stays done and the next sync carries on from there.
    ///
    /// Errors: `not_enrolled`; `sync_in_progress` (another sync or enrolment is running on this
    /// core, nothing done); `network` (retries exhausted); the server's refusal codes
    /// (`device_revoked`, `unknown_device`, `stale_request`, ...); `sync_protocol`;
    /// `bad_reference_data` (a pull page failed validation; nothing of it was applied).
    pub async fn sync(&self) -> Result<SyncReport> {
        self.sync_with(None, None).await
    }

    /// [`Core::sync`], telling `observer` where it stands after each step (a push batch
    /// answered, a photo chunk confirmed, a pull page applied, then once `Done` with the final
    /// counts), and stopping with `sync_cancelled` as soon as `cancel` fires (see
    /// [`SyncCancel`]). A cancel that comes after the last request lets the sync finish.
    pub async fn sync_with(
        &self,
        observer: Option<&dyn SyncObserver>,
        cancel: Option<&SyncCancel>,
    ) -> Result<SyncReport> {
        let _running = self.sync_rt.begin()?;
        if cancel.is_some_and(SyncCancel::is_cancelled) {
            return Err(Error::SyncCancelled);
        }
        let options = self.sync_options();
        let (enrolment, totals) = {
            let inner = self.lock();
            (
                local::enrolment(&inner.conn)?.ok_or(Error::NotEnrolled)?,
                local::sync_totals(&inner.conn)?,
            )
        };
        let mut net = Net::new(
            &enrolment.server_url,
            &options,
            &self.signer,
            self.clock.as_ref(),
            cancel,
        )?;
        let mut report = SyncReport::default();
        let mut progress = Progress::new(observer, totals);
        let started = std::time::Instant::now();
        tracing::info!("sync started");
        progress.emit(SyncPhase::Pushing);
        let result = self
            .sync_steps(&mut net, &options, &mut report, &mut progress)
            .await;
        report.bytes_up = report_bytes(net.bytes_up);
        report.bytes_down = report_bytes(net.bytes_down);
        match result {
            Ok(()) => {
                let state = local::sync_state(&self.lock().conn)?;
                report.pending = state.pending_ops;
                report.photos_not_uploaded = state.photos_not_uploaded;
                tracing::info!(
                    pushed = report.pushed,
                    duplicates = report.duplicates,
                    rejected = report.rejected.len(),
                    exceptions = report.exceptions.len(),
                    pulled = report.pulled,
                    photos = report.photos_sent,
                    bytes_up = report.bytes_up,
                    bytes_down = report.bytes_down,
                    ms = started.elapsed().as_millis() as u64,
                    "sync finished"
                );
                progress.emit(SyncPhase::Done);
                Ok(report)
            }
            Err(e) => {
                tracing::warn!(
                    code = e.code(),
                    pushed = report.pushed,
                    pulled = report.pulled,
                    "sync stopped: {e}"
                );
                Err(e)
            }
        }
    }

    async fn sync_steps(
        &self,
        net: &mut Net<'_>,
        options: &SyncOptions,
        report: &mut SyncReport,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        // 1. The server's clock: requests are signed with it, and the offset feeds clock checks.
        let (health, midpoint): (Health, i64) = net
            .call_timed("healthz", reqwest::Method::GET, "/healthz", None, false)
            .await?;
        net.offset_ms = health.server_time_ms - midpoint;
        local::set_server_offset(&self.lock().conn, net.offset_ms)?;
        report.server_time_ms = health.server_time_ms;

        // 2. The outbox, oldest first, in batches.
        let mut tried_photos = std::collections::HashSet::new();
        loop {
            let ops = outbox::pending(&self.lock().conn, options.push_batch.unsigned_abs())?;
            if ops.is_empty() {
                break;
            }
            progress.batch(ops.len());
            let (signed, unsigned): (Vec<OutboxOp>, Vec<OutboxOp>) = ops
                .into_iter()
                .partition(|o| o.entry.is_some() && o.signature_hex.is_some());
            let photos = local::photos_of_ops(&self.lock().conn, &signed)?;
            tried_photos.extend(photos.iter().map(|p| p.op_id.clone()));
            let mut photo_outcomes = Vec::new();
            let sent = async {
                self.upload_photos(net, options, &photos, report, progress, &mut photo_outcomes)
                    .await?;
                if signed.is_empty() {
                    Ok(None)
                } else {
                    Ok(Some(push(net, &signed).await?))
                }
            }
            .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    self.keep_photo_outcomes(&photo_outcomes);
                    return Err(e);
                }
            };
            let outcome = self.apply_push_answer(&signed, response.as_ref(), &unsigned, &photo_outcomes)?;
            if let Some(r) = &response {
                report.server_time_ms = r.server_time_ms;
            }
            add_batch(report, outcome);
            progress.batch_answered(signed.len() + unsigned.len());
            progress.emit(SyncPhase::Pushing);
        }

        // 2b. Photos whose op went through but whose bytes did not (a transient failure, this
        // sync or an earlier one): the photo channel never blocks ops, so it catches up here.
        let backlog: Vec<PhotoToSend> = local::photo_backlog(&self.lock().conn)?
            .into_iter()
            .filter(|p| !tried_photos.contains(&p.op_id))
            .collect();
        if !backlog.is_empty() {
            let mut outcomes = Vec::new();
            let sent = self
                .upload_photos(net, options, &backlog, report, progress, &mut outcomes)
                .await;
            if let Err(e) = sent {
                self.keep_photo_outcomes(&outcomes);
                return Err(e);
            }
            let now = self.clock.wall_ms();
            let mut inner = self.lock();
            let tx = inner
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            local::record_photo_outcomes(&tx, &outcomes, now)?;
            tx.commit()?;
        }

        // 3. Pull until the feed is drained, one transaction per page.
        let mut cursor = local::enrolment(&self.lock().conn)?
            .ok_or(Error::NotEnrolled)?
            .pull_cursor;
        loop {
            let path = format!("/v1/pull?cursor={cursor}&limit={}", options.pull_limit);
            let page: PullResponse = net.call("pull", reqwest::Method::GET, &path, None, true).await?;
            let applied = self.apply_pull_page(&page)?;
            report.pulled += applied.changes;
            report.server_time_ms = page.server_time_ms;
            tracing::debug!(
                changes = applied.changes,
                cursor = page.cursor,
                "pull page applied"
            );
            progress.page(applied.changes);
            progress.emit(SyncPhase::Pulling);
            if !page.has_more {
                break;
            }
            if page.cursor <= cursor {
                return Err(Error::SyncProtocol(format!(
                    "pull says has_more but the cursor did not move from {cursor}"
                )));
            }
            cursor = page.cursor;
        }

        // 4. The device certificate, once, for a device enrolled before the server issued them.
        self.fetch_device_certificate(net).await;
        Ok(())
    }

    /// Ask the server for this device's certificate if the core has none. Best effort: until it
    /// arrives photos are stored without Content Credentials, which the sync must not hold up
    /// (an older server answers 404; the next sync asks again).
    async fn fetch_device_certificate(&self, net: &mut Net<'_>) {
        match content_credentials::device_certificate(&self.lock().conn) {
            Ok(None) => {}
            Ok(Some(_)) => return,
            Err(e) => {
                tracing::warn!(code = e.code(), "device certificate not read: {e}");
                return;
            }
        }
        let answer: std::result::Result<DeviceCertificateResponse, _> = net
            .call(
                "device certificate",
                reqwest::Method::GET,
                wire::DEVICE_CERTIFICATE_PATH,
                None,
                true,
            )
            .await;
        let stored = answer.map_err(Error::from).and_then(|a| {
            content_credentials::store_device_certificate(
                &self.lock().conn,
                &a.certificate_chain_pem,
                self.clock.wall_ms(),
            )
        });
        match stored {
            Ok(true) => tracing::info!("device certificate received"),
            Ok(false) => tracing::info!("the server has no device certificate to give yet"),
            Err(e) => tracing::warn!(code = e.code(), "device certificate not received: {e}"),
        }
    }

    /// The sync stops with an error (cancelled, refused, network gone) after some photos went
    /// up: record what the server confirmed, so the next sync does not offer them again. Best
    /// effort: without it the server answers `complete` to the next offer, nothing is lost.
    fn keep_photo_outcomes(&self, outcomes: &[PhotoUploadOutcome]) {
        if outcomes.is_empty() {
            return;
        }
        let now = self.clock.wall_ms();
        let kept = (|| -> Result<()> {
            let mut inner = self.lock();
            let tx = inner
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            local::record_photo_outcomes(&tx, outcomes, now)?;
            tx.commit()?;
            Ok(())
        })();
        if let Err(e) = kept {
            tracing::warn!(code = e.code(), "photo upload outcomes not recorded: {e}");
        }
    }

    /// Upload these photos one by one. Never fails for one photo's sake: each outcome is
    /// recorded with the batch. Stops early (the rest stay pending) when the server is
    /// unreachable, since then the push will tell; fails only on a refusal of the device itself.
    async fn upload_photos(
        &self,
        net: &mut Net<'_>,
        options: &SyncOptions,
        photos: &[PhotoToSend],
        report: &mut SyncReport,
        progress: &mut Progress<'_>,
        outcomes: &mut Vec<PhotoUploadOutcome>,
    ) -> Result<()> {
        for p in photos {
            let (state, error, sent) = match self.upload_photo(net, options, p, progress).await? {
                Upload::Complete { bytes_sent } => (UploadState::Complete, None, bytes_sent),
                Upload::Failed(why) => (UploadState::Failed, Some(why), 0),
                Upload::Later(why) => (UploadState::Pending, Some(why), 0),
                Upload::Unreachable(why) => {
                    tracing::info!("photo upload stopped, server unreachable: {why}");
                    outcomes.push(outcome(p, UploadState::Pending, Some(why)));
                    break;
                }
            };
            if state == UploadState::Complete && sent > 0 {
                report.photos_sent += 1;
                report.photo_bytes_sent += report_bytes(sent);
            }
            if let Some(why) = &error {
                tracing::warn!(sha256 = %p.sha256, state = ?state, "photo not uploaded: {why}");
            }
            outcomes.push(outcome(p, state, error));
        }
        Ok(())
    }

    /// One photo: offer it with its manifest, then send chunks from wherever the server stands,
    /// asking it after every failure, so bytes it has are never sent twice.
    async fn upload_photo(
        &self,
        net: &mut Net<'_>,
        options: &SyncOptions,
        p: &PhotoToSend,
        progress: &mut Progress<'_>,
    ) -> Result<Upload> {
        let path = self.photo_dir.join(&p.file);
        // Photos are ≤ 32 MiB and usually ~1 MB after downscaling: read whole, checked once.
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Upload::Later("photo_file_missing".into()));
            }
            Err(e) => return Ok(Upload::Later(format!("photo_file_unreadable: {e}"))),
        };
        // The server would refuse a changed file only after every byte arrived.
        if bytes.len() as u64 != p.size || evidence::sha256_hex(&bytes) != p.sha256 {
            return Ok(Upload::Failed("photo_file_changed".into()));
        }
        let offer = serde_json::to_vec(&PhotoOffer {
            sha256: p.sha256.clone(),
            size: p.size,
            entry: p.entry.clone(),
            signature_hex: p.signature_hex.clone(),
        })?;
        let mut status: PhotoStatus = match net
            .call(
                "photo offer",
                reqwest::Method::POST,
                "/v1/photos",
                Some(offer.clone()),
                true,
            )
            .await
        {
            Ok(s) => s,
            Err(e) => return photo_failure(e),
        };
        let status_path = format!("/v1/photos/{}", p.sha256);
        // Bytes the server had before: what this upload delivered is the rest (a chunk whose
        // answer was lost counts once it shows in the server's offset; resends show in bytes_up).
        let had = if status.complete { p.size } else { status.offset };
        progress.photo_offered(p.size, had);
        let base = progress.now.photo_bytes_sent;
        let mut failures = 0i32;
        let mut reoffered = false;
        while !status.complete {
            if status.sha256 != p.sha256 || status.size != p.size || status.offset > p.size {
                return Err(Error::SyncProtocol(format!(
                    "photo status for {} does not match the photo offered",
                    p.sha256
                )));
            }
            let start = status.offset;
            let mut counted = false;
            // When the server holds every byte but has not completed the upload (it died after
            // the last chunk was durable, before the hash check), this is an empty chunk at the
            // end, which makes it complete: asking for the status again would never move it.
            let chunk_result = {
                let end = (start + u64::from(options.photo_chunk_bytes.unsigned_abs())).min(p.size);
                let chunk = bytes[start as usize..end as usize].to_vec();
                let path = format!("{status_path}?offset={start}");
                match net.once(reqwest::Method::PUT, &path, Some(chunk), true).await {
                    Ok(reply) => serde_json::from_slice::<PhotoStatus>(&reply.body)
                        .map_err(|e| NetError::Transient(format!("unparsable photo status: {e}"))),
                    Err(e) => Err(e),
                }
            };
            let next = match chunk_result {
                Ok(s) => Some(s),
                Err(NetError::Refused {
                    status: 409, body, ..
                }) => status_from_conflict(&body),
                Err(NetError::Refused { status: 404, .. }) if !reoffered => {
                    // The server forgot the upload (restarted, expired): offer it again.
                    reoffered = true;
                    match net
                        .call(
                            "photo offer",
                            reqwest::Method::POST,
                            "/v1/photos",
                            Some(offer.clone()),
                            true,
                        )
                        .await
                    {
                        Ok(s) => Some(s),
                        Err(e) => return photo_failure(e),
                    }
                }
                Err(NetError::Transient(why)) => {
                    failures += 1;
                    counted = true;
                    if failures >= options.max_attempts {
                        return Ok(Upload::Unreachable(why));
                    }
                    tracing::debug!(
                        failures,
                        "photo chunk failed, resuming from the server's offset: {why}"
                    );
                    net.pause(options.backoff(failures, random_unit())).await?;
                    None
                }
                Err(e) => return photo_failure(e),
            };
            status = match next {
                Some(s) => s,
                // Whatever happened, the server knows where the upload stands.
                None => match net
                    .call("photo status", reqwest::Method::GET, &status_path, None, true)
                    .await
                {
                    Ok(s) => s,
                    Err(e) => return photo_failure(e),
                },
            };
            if status.offset > start || status.complete {
                // The budget is for failures in a row: a big photo on a flaky link that keeps
                // moving forward is never given up.
                failures = 0;
                let delivered = if status.complete {
                    p.size
                } else {
                    status.offset.min(p.size)
                };
                progress.photo_bytes(base, delivered.saturating_sub(had));
                if status.complete {
                    progress.photo_done();
                }
                progress.emit(SyncPhase::UploadingPhotos);
            } else if !counted {
                // No progress (a 409 pointing back, a server that lost bytes): bounded.
                failures += 1;
                if failures >= options.max_attempts {
                    return Ok(Upload::Later(format!("photo upload made no progress at {start}")));
                }
            }
        }
        Ok(Upload::Complete {
            bytes_sent: p.size.saturating_sub(had),
        })
    }
}

enum Upload {
    Complete {
        bytes_sent: u64,
    },
    /// Refused for good; recorded, never retried.
    Failed(String),
    /// Not now; the next sync tries again.
    Later(String),
    /// Transient failures outlasted the retries: the network is probably gone.
    Unreachable(String),
}

fn outcome(p: &PhotoToSend, state: UploadState, error: Option<String>) -> PhotoUploadOutcome {
    PhotoUploadOutcome {
        op_id: p.op_id.clone(),
        sha256: p.sha256.clone(),
        size: p.size,
        state,
        error,
    }
}

/// How a failed photo request ends this photo's upload.
fn photo_failure(e: NetError) -> Result<Upload> {
    match e {
        // The device itself is refused: the whole sync stops.
        NetError::Refused {
            status: 401 | 403, ..
        } => Err(e.into()),
        // The photo is refused (manifest mismatch, bad signature, hash mismatch, too large).
        NetError::Refused {
            status: 413 | 422,
            code,
            ..
        } => Ok(Upload::Failed(code)),
        NetError::Refused { status, code, .. } => Ok(Upload::Later(format!("HTTP {status} {code}"))),
        NetError::Transient(why) | NetError::Exhausted(why) => Ok(Upload::Unreachable(why)),
        NetError::Fatal(e) => Err(e),
        NetError::Cancelled => Err(Error::SyncCancelled),
    }
}

/// A `409 offset_mismatch` carries the current status: as the body itself, under `status`, or
/// beside the error. `None` when it cannot be read; the caller then asks with a GET.
fn status_from_conflict(body: &[u8]) -> Option<PhotoStatus> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    if let Ok(s) = serde_json::from_value::<PhotoStatus>(v.clone()) {
        return Some(s);
    }
    v.get("status")
        .or_else(|| v.get("photo"))
        .and_then(|s| serde_json::from_value(s.clone()).ok())
}

async fn push(net: &mut Net<'_>, ops: &[OutboxOp]) -> Result<PushResponse> {
    let request = PushRequest {
        ops: ops
            .iter()
            .map(|o| PushOp {
                entry: o.entry.clone().unwrap_or_default(),
                signature_hex: o.signature_hex.clone().unwrap_or_default(),
            })
            .collect(),
    };
    let body = serde_json::to_vec(&request)?;
    tracing::debug!(ops = ops.len(), bytes = body.len(), "push");
    Ok(net
        .call("push", reqwest::Method::POST, "/v1/push", Some(body), true)
        .await?)
}

fn add_batch(report: &mut SyncReport, b: BatchOutcome) {
    report.pushed += b.applied;
    report.duplicates += b.duplicates;
    report.rejected.extend(b.rejected);
    report.exceptions.extend(b.exceptions);
}

#[cfg(test)]
mod tests;
