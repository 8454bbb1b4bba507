//! Photo bytes: offered with their signed manifest, sent in chunks that append at the current
//! offset, checked against their SHA-256 when complete, then stored content-addressed.
//!
//! Durability (the photo store's, [`crate::blobs`]): a chunk is stored durably before it is
//! acknowledged, and the offset is what is stored, so after a crash (even SIGKILL) the server
//! resumes exactly where it said it was. A complete upload is stored as the photo before it is
//! recorded; a crash in between leaves a stored photo without a record, which the next offer
//! picks up again.

use crate::db::{OptionalExtension, TransactionBehavior, params};
use fieldproof_core::evidence::{self, KnownKey, SignedEntry, VerifyCode};
use fieldproof_core::imaging;
use fieldproof_core::sync::wire::{PhotoOffer, PhotoStatus};
use sha2::{Digest, Sha256};

use crate::blob_paths;
use crate::codes::{ExceptionParams, PhotoHashMismatch, PhotoRef, ReuseMatch, ReuseParams};
use crate::entry::{entry_wall_ms, parse_photo_manifest, problems_text};
use crate::error::{ApiError, ApiResult};
use crate::keys::{is_lower_hex, strict_public_key, verify_signature};
use crate::lock::lock;
use crate::store::{NewException, Store, publish_team_visits, raise, refresh_reuse, resolve, visit_day};

pub(crate) mod thumbs;

/// How many matches one `possible_reuse` exception lists (the closest); `matches_total` counts
/// them all. A scene photographed a thousand times is one exception per photo naming a
/// readable handful, not a thousand pairs.
pub(crate) const REUSE_LISTED: usize = 20;

struct Upload {
    size: u64,
    device_id: String,
    entry: String,
    signature: String,
}

fn partial_len(store: &Store, sha256: &str) -> ApiResult<u64> {
    Ok(store.blobs.upload_len(sha256)?)
}

fn blob_size(store: &Store, sha256: &str) -> ApiResult<Option<u64>> {
    let r = store.reader()?;
    let size: Option<i64> = r
        .prepare_cached("SELECT size FROM blobs WHERE sha256 = ?1")?
        .query_row([sha256], |row| row.get(0))
        .optional()?;
    Ok(size.map(|s| s.max(0) as u64))
}

fn upload_in_progress(store: &Store, sha256: &str) -> ApiResult<Option<Upload>> {
    let r = store.reader()?;
    Ok(
        r.prepare_cached("SELECT size, device_id, entry, signature FROM uploads WHERE sha256 = ?1")?
            .query_row([sha256], |row| {
                Ok(Upload {
                    size: row.get::<_, i64>(0)?.max(0) as u64,
                    device_id: row.get(1)?,
                    entry: row.get(2)?,
                    signature: row.get(3)?,
                })
            })
            .optional()?,
    )
}

fn answer(sha256: &str, size: u64, offset: u64, complete: bool, now_ms: i64) -> PhotoStatus {
    PhotoStatus {
        sha256: sha256.to_string(),
        size,
        offset,
        complete,
        server_time_ms: now_ms,
    }
}

/// What a sweep of abandoned uploads removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct UploadSweep {
    pub uploads: usize,
    /// Partial bytes removed (a disk file's length, or the S3 chunks').
    pub bytes: u64,
}

/// Uploads removed per sweep at most; the rest wait for the next one.
const SWEEP_BATCH: usize = 1000;

/// Remove the uploads started before `started_before_ms` that never finished: their partial
/// bytes (a file under the data folder, or chunk objects in the bucket) and their row. Without
/// this a phone that never came back would hold disk or bucket space forever. Nothing is lost
/// but the partial transfer: the photo's op and evidence are in the phone's chain, and its
/// next offer starts the upload again from zero.
///
/// Each upload is removed under its lock (which on PostgreSQL every server of the database
/// shares) and only if it is still that old there, so a chunk in flight on any replica
/// finishes first, and a sweep on several replicas at once removes each upload once. The bytes
/// go before the row: a crash between leaves a row whose offset is 0, which is what a resumed
/// upload then gets.
pub fn sweep_abandoned_uploads(store: &Store, started_before_ms: i64) -> ApiResult<UploadSweep> {
    let old: Vec<String> = {
        let r = store.reader()?;
        let mut st = r.prepare_cached(
            "SELECT sha256 FROM uploads WHERE started_ms < ?1 ORDER BY started_ms LIMIT ?2",
        )?;
        let rows = st.query_map(params![started_before_ms, SWEEP_BATCH as i64], |row| row.get(0))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut swept = UploadSweep::default();
    for sha256 in old {
        let guard = store.upload_lock(&sha256)?;
        let _held = lock(&guard);
        let still_old = {
            let r = store.reader()?;
            r.prepare_cached("SELECT 1 FROM uploads WHERE sha256 = ?1 AND started_ms < ?2")?
                .exists(params![sha256, started_before_ms])?
        };
        if !still_old {
            continue;
        }
        let bytes = partial_len(store, &sha256)?;
        store.blobs.upload_discard(&sha256)?;
        let w = store.writer();
        w.conn.execute(
            "DELETE FROM uploads WHERE sha256 = ?1 AND started_ms < ?2",
            params![sha256, started_before_ms],
        )?;
        swept.uploads += 1;
        swept.bytes += bytes;
    }
    if swept.uploads > 0 {
        tracing::info!(
            uploads = swept.uploads,
            bytes = swept.bytes,
            "abandoned photo uploads removed"
        );
    }
    Ok(swept)
}

/// `POST /v1/photos`: check the manifest before taking a byte.
pub fn offer(store: &Store, device_id: &str, offer: &PhotoOffer, now_ms: i64) -> ApiResult<PhotoStatus> {
    if !is_lower_hex(&offer.sha256, 64) {
        return Err(ApiError::InvalidInput(
            "sha256 must be 64 lowercase hex characters".into(),
        ));
    }
    if offer.size == 0 {
        return Err(ApiError::InvalidInput("size must be at least 1 byte".into()));
    }
    if offer.size > store.limits.max_photo_bytes {
        return Err(ApiError::PhotoTooLarge {
            size: offer.size,
            max: store.limits.max_photo_bytes,
        });
    }
    let manifest = parse_photo_manifest(&offer.entry)
        .map_err(|e| ApiError::ManifestMismatch(format!("manifest: {e}")))?;
    if manifest.device_id != device_id {
        return Err(ApiError::ManifestMismatch(
            "the manifest is another device's entry".into(),
        ));
    }
    if manifest.image_sha256 != offer.sha256 || u64::try_from(manifest.byte_len).ok() != Some(offer.size) {
        return Err(ApiError::ManifestMismatch(format!(
            "the manifest names {} ({} bytes), the offer {} ({} bytes)",
            manifest.image_sha256, manifest.byte_len, offer.sha256, offer.size
        )));
    }
    let key: String = {
        let r = store.reader()?;
        r.prepare_cached("SELECT public_key_hex FROM devices WHERE device_id = ?1")?
            .query_row([device_id], |row| row.get(0))
            .optional()?
            .ok_or(ApiError::UnknownDevice)?
    };
    if strict_public_key(&key).is_none() {
        return Err(ApiError::internal("stored device key is invalid"));
    }
    if !verify_signature(offer.entry.as_bytes(), &offer.signature_hex, &key) {
        return Err(ApiError::BadSignature);
    }

    let guard = store.upload_lock(&offer.sha256)?;
    let _held = lock(&guard);
    if let Some(size) = blob_size(store, &offer.sha256)? {
        return Ok(answer(&offer.sha256, size, size, true, now_ms));
    }
    let upload = Upload {
        size: offer.size,
        device_id: device_id.to_string(),
        entry: offer.entry.clone(),
        signature: offer.signature_hex.clone(),
    };
    // Stored but not recorded: a crash hit between the rename and the commit.
    if store.blobs.exists(&blob_paths::photo(&offer.sha256))? {
        finish(store, &offer.sha256, &upload, true, now_ms)?;
        return Ok(answer(&offer.sha256, offer.size, offer.size, true, now_ms));
    }
    let existing = upload_in_progress(store, &offer.sha256)?;
    let offset = match existing {
        Some(u) if u.size == offer.size && u.device_id == device_id => partial_len(store, &offer.sha256)?,
        Some(u) if u.size == offer.size => {
            // Another device offers the same bytes (an identical file: the reuse check will
            // say so). The bytes so far are the same content, so it takes over from there.
            let w = store.writer();
            w.conn.execute(
                "UPDATE uploads SET device_id = ?1, entry = ?2, signature = ?3 WHERE sha256 = ?4",
                params![device_id, offer.entry, offer.signature_hex, offer.sha256],
            )?;
            partial_len(store, &offer.sha256)?
        }
        _ => {
            // New, or re-offered with another size (one of the two manifests is wrong; the
            // hash check at the end decides): start from zero with the latest manifest.
            store.blobs.upload_discard(&offer.sha256)?;
            let w = store.writer();
            w.conn.execute(
                "INSERT INTO uploads (sha256, size, device_id, entry, signature, started_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (sha256) DO UPDATE SET size = excluded.size, device_id = excluded.device_id,
                   entry = excluded.entry, signature = excluded.signature, started_ms = excluded.started_ms",
                params![
                    offer.sha256,
                    offer.size as i64,
                    device_id,
                    offer.entry,
                    offer.signature_hex,
                    now_ms
                ],
            )?;
            0
        }
    };
    Ok(answer(&offer.sha256, offer.size, offset, false, now_ms))
}

/// `GET /v1/photos/{sha256}`.
pub fn status(store: &Store, sha256: &str, now_ms: i64) -> ApiResult<PhotoStatus> {
    if !is_lower_hex(sha256, 64) {
        return Err(ApiError::InvalidInput(
            "sha256 must be 64 lowercase hex characters".into(),
        ));
    }
    if let Some(size) = blob_size(store, sha256)? {
        return Ok(answer(sha256, size, size, true, now_ms));
    }
    let upload = upload_in_progress(store, sha256)?
        .ok_or_else(|| ApiError::NotFound("no photo and no upload with this hash; offer it first".into()))?;
    let guard = store.upload_lock(sha256)?;
    let _held = lock(&guard);
    Ok(answer(
        sha256,
        upload.size,
        partial_len(store, sha256)?,
        false,
        now_ms,
    ))
}

/// `PUT /v1/photos/{sha256}?offset=N`: append a chunk at exactly the current offset.
pub fn chunk(
    store: &Store,
    device_id: &str,
    sha256: &str,
    offset: u64,
    bytes: &[u8],
    now_ms: i64,
) -> ApiResult<PhotoStatus> {
    if !is_lower_hex(sha256, 64) {
        return Err(ApiError::InvalidInput(
            "sha256 must be 64 lowercase hex characters".into(),
        ));
    }
    let guard = store.upload_lock(sha256)?;
    let _held = lock(&guard);
    if let Some(size) = blob_size(store, sha256)? {
        return Ok(answer(sha256, size, size, true, now_ms));
    }
    let upload = match upload_in_progress(store, sha256)? {
        Some(u) if u.device_id == device_id => u,
        _ => {
            return Err(ApiError::NotFound(
                "this device has not offered a photo with this hash; POST /v1/photos first".into(),
            ));
        }
    };
    let current = partial_len(store, sha256)?;
    if offset != current {
        return Err(ApiError::OffsetMismatch {
            requested: offset,
            status: answer(sha256, upload.size, current, false, now_ms),
        });
    }
    if offset.saturating_add(bytes.len() as u64) > upload.size {
        return Err(ApiError::Unprocessable(format!(
            "a chunk of {} bytes at offset {offset} runs past the photo's {} bytes",
            bytes.len(),
            upload.size
        )));
    }
    if !bytes.is_empty() {
        // Durable when it returns; on failure the stored offset is still a correct prefix,
        // which the client reads back with GET.
        store.blobs.upload_append(sha256, offset, bytes)?;
        store.metrics.record_photo_bytes(bytes.len() as u64);
    }
    let now_at = offset + bytes.len() as u64;
    if now_at == upload.size {
        finish(store, sha256, &upload, false, now_ms)?;
        return Ok(answer(sha256, upload.size, upload.size, true, now_ms));
    }
    Ok(answer(sha256, upload.size, now_at, false, now_ms))
}

/// All bytes are in: check the hash, store, verify, hash the pixels, look for reuse, record.
/// `already_stored`: the photo is already in the store (crash recovery).
fn finish(store: &Store, sha256: &str, upload: &Upload, already_stored: bool, now_ms: i64) -> ApiResult<()> {
    // The whole photo, at most the photo limit: it is verified and hashed in memory below.
    let bytes = if already_stored {
        crate::blobs::read_photo(&*store.blobs, sha256)?
            .ok_or_else(|| ApiError::StorageUnavailable("the stored photo vanished".into()))?
    } else {
        store.blobs.upload_read(sha256)?
    };
    let actual = fieldproof_core::hex::encode(&Sha256::digest(&bytes));
    let manifest = parse_photo_manifest(&upload.entry).ok();
    if actual != sha256 {
        if already_stored {
            // Damaged at rest: the device still holds the photo and sends it again.
            store.blobs.delete(&blob_paths::photo(sha256))?;
        }
        store.blobs.upload_discard(sha256)?;
        let mut w = store.writer();
        let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let m = manifest.as_ref();
        let event_ms = entry_wall_ms(&upload.entry).unwrap_or(now_ms);
        let visit = m.map(|m| m.visit_id.as_str()).filter(|v| !v.is_empty());
        raise(
            &tx,
            store.calendar(),
            &NewException {
                event_ms,
                visit_day: visit_day(&tx, store.calendar(), visit, event_ms)?,
                // The same finding as verification's: bytes that are not the signed image.
                code: VerifyCode::ImageHashMismatch.as_str(),
                device_id: Some(&upload.device_id),
                user_id: m.map(|m| m.user_id.as_str()),
                visit_id: visit,
                store_id: m.and_then(|m| m.store_id.as_deref()),
                op_id: m.map(|m| m.op_id.as_str()),
                rejected_op: None,
                photo_sha256: Some(sha256),
                subject: sha256,
                detail: format!("uploaded bytes hash to {actual}; the upload starts again"),
                params: Some(
                    ExceptionParams::PhotoHashMismatch(PhotoHashMismatch {
                        photo_id: m.map(|m| m.photo_id.clone()),
                        expected_sha256: sha256.to_string(),
                        actual_sha256: actual.clone(),
                    })
                    .to_json(),
                ),
            },
            now_ms,
        )?;
        tx.commit()?;
        drop(w);
        store
            .metrics
            .record_exceptions(&[VerifyCode::ImageHashMismatch.as_str().to_string()]);
        return Err(ApiError::PhotoHashMismatch {
            expected: sha256.to_string(),
            actual,
        });
    }
    if already_stored {
        // A crash after storing left the upload behind: only garbage now.
        store.blobs.upload_discard(sha256)?;
    } else {
        store.blobs.upload_store(sha256, &bytes)?;
    }

    // The image work, before the write lock.
    // The stored verdict is the cryptographic one: revocation, which has a time and may be
    // set later, is applied where the verdict is shown (`photo_verdict::shown`).
    let key: String = {
        let r = store.reader()?;
        r.prepare_cached("SELECT public_key_hex FROM devices WHERE device_id = ?1")?
            .query_row([&upload.device_id], |row| row.get(0))
            .optional()?
            .unwrap_or_default()
    };
    let keys = [KnownKey {
        device_id: upload.device_id.clone(),
        public_key_hex: key,
        revoked_ms: None,
    }];
    let verdict = evidence::verify_photo(
        &bytes,
        &SignedEntry {
            entry: upload.entry.clone(),
            signature_hex: upload.signature.clone(),
        },
        &keys,
        None,
    );
    // The decoder is the core's, fuzzed there; should it still panic on some file, the
    // photo is flagged unreadable instead of failing every retry of this upload.
    let phash = std::panic::catch_unwind(|| imaging::phash_of_jpeg(&bytes))
        .ok()
        .and_then(Result::ok);
    let manifest_hash = evidence::sha256_hex(upload.entry.as_bytes());
    // A customer's photo (`customer.photo`) has no visit: its visit id is empty, as for a
    // manifest that cannot be read, and its reuse check compares it with every photo.
    let (visit_id, photo_id, user_id, store_id, op_id) = match &manifest {
        Some(m) => (
            m.visit_id.clone(),
            m.photo_id.clone(),
            Some(m.user_id.clone()),
            m.store_id.clone(),
            Some(m.op_id.clone()),
        ),
        None => (String::new(), String::new(), None, None, None),
    };

    let mut recorded = Vec::new();
    let mut w = store.writer();
    let crate::store::Writer {
        conn,
        reuse,
        reuse_seen,
        ..
    } = &mut *w;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Inside the writer transaction: every photo stored before, by any server process, is
    // in the index, and none is stored between this search and the insert below.
    let (matches_total, found) = match phash {
        Some(ph) => refresh_reuse(&tx, reuse, reuse_seen)?.matches(ph, sha256, &visit_id, REUSE_LISTED),
        None => (0, Vec::new()),
    };
    tx.execute(
        "INSERT INTO blobs (sha256, size, phash, visit_id, photo_id, device_id, manifest_hash, verified, problems,
            stored_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (sha256) DO NOTHING",
        params![
            sha256,
            upload.size as i64,
            phash.map(|p| format!("{p:016x}")),
            visit_id,
            photo_id,
            upload.device_id,
            manifest_hash,
            verdict.verified,
            problems_text(&verdict.problems),
            now_ms
        ],
    )?;
    // (code, detail, params) of each finding on these bytes; the subject is the bytes.
    let this_photo = || {
        ExceptionParams::Photo(PhotoRef {
            photo_id: photo_id.clone(),
            sha256: sha256.to_string(),
        })
        .to_json()
    };
    let mut findings: Vec<(&str, String, String)> = verdict
        .problems
        .iter()
        .map(|p| {
            (
                p.as_str(),
                format!("photo {photo_id}: {}", p.as_str()),
                this_photo(),
            )
        })
        .collect();
    if phash.is_none() {
        findings.push((
            "photo_unreadable",
            format!("photo {photo_id} could not be decoded for the perceptual hash"),
            this_photo(),
        ));
    }
    if matches_total > 0 {
        let mut matches = Vec::with_capacity(found.len());
        let mut st = tx.prepare_cached(
            "SELECT coalesce(b.photo_id, ''), coalesce(b.visit_id, ''), b.device_id,
                    coalesce((SELECT p.user_id FROM photos p WHERE p.sha256 = b.sha256 LIMIT 1), d.user_id)
             FROM blobs b LEFT JOIN devices d ON d.device_id = b.device_id WHERE b.sha256 = ?1",
        )?;
        for f in found {
            // Every indexed hash is a committed row (see `Writer::reuse`).
            let row = st
                .query_row([&f.sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .optional()?;
            if let Some((photo_id, visit_id, device_id, user_id)) = row {
                matches.push(ReuseMatch {
                    sha256: f.sha256,
                    distance: f.distance,
                    photo_id,
                    visit_id,
                    device_id,
                    user_id,
                });
            }
        }
        let params = ReuseParams {
            photo_id: photo_id.clone(),
            sha256: sha256.to_string(),
            threshold: imaging::REUSE_THRESHOLD,
            matches_total,
            matches,
        };
        findings.push((
            "possible_reuse",
            params.detail(),
            ExceptionParams::Reuse(params).to_json(),
        ));
    }
    // The photo's capture time (its op's device time), and the day of its visit.
    let event_ms = entry_wall_ms(&upload.entry).unwrap_or(now_ms);
    let day = visit_day(&tx, store.calendar(), Some(visit_id.as_str()), event_ms)?;
    for (code, detail, params) in findings {
        let e = NewException {
            event_ms,
            visit_day: day,
            code,
            device_id: Some(upload.device_id.as_str()),
            user_id: user_id.as_deref(),
            visit_id: Some(visit_id.as_str()),
            store_id: store_id.as_deref(),
            op_id: op_id.as_deref(),
            rejected_op: None,
            photo_sha256: Some(sha256),
            subject: sha256,
            detail,
            params: Some(params),
        };
        if raise(&tx, store.calendar(), &e, now_ms)? {
            recorded.push(code.to_string());
        }
    }
    // Photo ops that arrived first now have their bytes.
    let waiting: Vec<(String, String, String, String)> = {
        let mut st =
            tx.prepare_cached("SELECT photo_id, op_id, visit_id, device_id FROM photos WHERE sha256 = ?1")?;
        let rows = st.query_map([sha256], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut touched = std::collections::BTreeSet::new();
    if !visit_id.is_empty() {
        touched.insert(visit_id.clone());
    }
    for (pid, op, vid, dev) in waiting {
        let (verified, problems) = if op_id.as_deref() == Some(op.as_str()) {
            (verdict.verified, problems_text(&verdict.problems))
        } else {
            // Another op names the same bytes: verify its own manifest.
            let stored_op: Option<(String, String)> = tx
                .query_row("SELECT entry, signature FROM ops WHERE op_id = ?1", [&op], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let dev_key: Option<String> = tx
                .query_row(
                    "SELECT public_key_hex FROM devices WHERE device_id = ?1",
                    [&dev],
                    |r| r.get(0),
                )
                .optional()?;
            match (stored_op, dev_key) {
                (Some((entry, signature_hex)), Some(k)) => {
                    // Cryptographic, as above (revocation is applied when shown).
                    let v = evidence::verify_photo(
                        &bytes,
                        &SignedEntry { entry, signature_hex },
                        &[KnownKey {
                            device_id: dev.clone(),
                            public_key_hex: k,
                            revoked_ms: None,
                        }],
                        None,
                    );
                    (v.verified, problems_text(&v.problems))
                }
                _ => (false, Some("unknown_key".to_string())),
            }
        };
        tx.execute(
            "UPDATE photos SET received = 1, verified = ?1, problems = ?2 WHERE photo_id = ?3",
            params![verified, problems, pid],
        )?;
        crate::retakes::photo_received(&tx, &pid, now_ms)?;
        resolve(
            &tx,
            "photo_missing",
            &vid,
            &pid,
            "server",
            "the photo's bytes arrived",
            now_ms,
        )?;
        touched.insert(vid);
    }
    // Only visits the server knows get a summary (the op may still be on its way).
    publish_team_visits(&tx, &touched, now_ms)?;
    tx.execute("DELETE FROM uploads WHERE sha256 = ?1", [sha256])?;
    // The index learns of this photo from its committed row, at the next search (a
    // transaction that fails leaves nothing to learn).
    tx.commit()?;
    drop(w);
    store.metrics.record_photo_completed();
    store.metrics.record_exceptions(&recorded);
    tracing::info!(
        bytes = upload.size,
        verified = verdict.verified,
        reuse = matches_total,
        "photo stored"
    );
    // The gallery's preview, made once now that the bytes are stored and verified, outside
    // the writer lock. The photo is recorded whatever happens here: the web page makes a
    // missing preview on its first request.
    if let Err(e) = thumbs::make_from(&*store.blobs, sha256, &bytes) {
        tracing::warn!(sha256, error = %e, "no thumbnail for the stored photo");
    }
    Ok(())
}
