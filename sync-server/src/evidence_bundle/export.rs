//! Exporting a bundle: resolve the selection within the asker's scope, plan every entry,
//! device and photo it needs (bounded before a byte is written), then write the ZIP as a
//! stream: `README.txt`, `bundle.json`, then the photos one at a time, stored (JPEGs do not
//! compress), to a file or an HTTP response.
//!
//! Receive order: each phone's entries, applied and rejected, are ordered by `recv_index`
//! (migration 014). Entries without one (received by a server that did not number them yet)
//! follow the numbered ones, by receipt time, then applied before rejected, then sequence
//! number: the order in which a push applied them, as migration 014 numbered the old ones.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;

use crate::db::{Connection, OptionalExtension, Value, params, params_from_iter};
use fieldproof_core::evidence::{VerifyCode, sha256_hex};

use super::format::*;
use super::{BundleError, SizeLimit};
use crate::calendar::{Calendar, parse_day};
use crate::limits::BundleLimits;
use crate::store::Store;

/// Who asks, and so what they may export.
#[derive(Debug, Clone, PartialEq)]
pub enum Exporter {
    /// `fieldproof-server admin export-evidence`: the server's operator, everything.
    AdminCli,
    /// A head-office web user (admin or head office): everything.
    HeadOffice { user_id: String, role: String },
    /// A supervisor: their team's reps and their own work only.
    Supervisor { user_id: String, team_of: String },
}

impl Exporter {
    fn team_of(&self) -> Option<&str> {
        match self {
            Exporter::Supervisor { team_of, .. } => Some(team_of),
            _ => None,
        }
    }

    fn exported_by(&self) -> ExportedBy {
        match self {
            Exporter::AdminCli => ExportedBy {
                role: "admin_cli".into(),
                user_id: None,
                team_of: None,
            },
            Exporter::HeadOffice { user_id, role } => ExportedBy {
                role: role.clone(),
                user_id: Some(user_id.clone()),
                team_of: None,
            },
            Exporter::Supervisor { user_id, team_of } => ExportedBy {
                role: "supervisor".into(),
                user_id: Some(user_id.clone()),
                team_of: Some(team_of.clone()),
            },
        }
    }
}

/// What the asker typed: a visit, a store (its id or its code), a rep (id or name), dates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub visit: Option<String>,
    pub store: Option<String>,
    pub rep: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Request {
    fn is_empty(&self) -> bool {
        [&self.visit, &self.store, &self.rep, &self.from, &self.to]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

fn set(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A bundle ready to write: everything but the photo bytes, already within the limits.
#[derive(Debug)]
pub struct Plan {
    pub bundle: Bundle,
    /// The photo files to write (distinct image hashes), in order.
    files: Vec<String>,
}

impl Plan {
    /// Bytes of photos to come (as the server recorded their sizes).
    pub fn photo_files(&self) -> usize {
        self.files.len()
    }

    /// A file name for the download: `fieldproof-evidence-<what>.zip`, ASCII.
    pub fn file_name(&self) -> String {
        let s = &self.bundle.selection;
        let mut parts = Vec::new();
        for v in [&s.visit_id, &s.store_id, &s.rep_id, &s.from, &s.to]
            .into_iter()
            .flatten()
        {
            let clean: String = v
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .take(40)
                .collect();
            parts.push(clean);
        }
        format!("fieldproof-evidence-{}.zip", parts.join("-"))
    }

    /// Write the ZIP to `out` as a stream (no seeking; entries carry data descriptors).
    /// `README.txt` and `bundle.json` first, then each photo as the store gives it.
    pub fn write<W: Write>(&self, store: &Store, out: W) -> Result<W, BundleError> {
        use zip::write::SimpleFileOptions;
        let mut zip = zip::ZipWriter::new_stream(out);
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true);
        zip.start_file(README, opts).map_err(write_err)?;
        zip.write_all(super::readme().as_bytes()).map_err(io_err)?;
        zip.start_file(BUNDLE_JSON, opts).map_err(write_err)?;
        serde_json::to_writer_pretty(&mut zip, &self.bundle)
            .map_err(|e| BundleError::Write(e.to_string()))?;
        for sha in &self.files {
            let bytes = crate::blobs::read_photo(&*store.blobs, sha)
                .map_err(|e| BundleError::Storage(e.to_string()))?
                .ok_or_else(|| BundleError::PhotoGone(sha.clone()))?;
            zip.start_file(photo_file(sha), opts).map_err(write_err)?;
            zip.write_all(&bytes).map_err(io_err)?;
        }
        let out = zip.finish().map_err(write_err)?;
        Ok(out.into_inner())
    }
}

fn write_err(e: zip::result::ZipError) -> BundleError {
    BundleError::Write(e.to_string())
}

fn io_err(e: std::io::Error) -> BundleError {
    BundleError::Write(e.to_string())
}

fn storage(e: impl std::fmt::Display) -> BundleError {
    BundleError::Storage(e.to_string())
}

/// Resolve `request` for `who` and plan the bundle: refused (typed, nothing written) when it
/// names nothing, names what the asker may not see, or is larger than the limits.
pub fn plan(store: &Store, who: &Exporter, request: &Request, now_ms: i64) -> Result<Plan, BundleError> {
    if request.is_empty() {
        return Err(BundleError::NothingAsked);
    }
    let cal = store.calendar();
    let c = store.reader().map_err(storage)?;
    let selection = resolve(&c, request)?;
    let visits = select_visits(&c, cal, &selection, who.team_of())?;
    if visits.is_empty() {
        return Err(match &selection.visit_id {
            Some(v) => BundleError::VisitNotFound(v.clone()),
            None => BundleError::NothingSelected,
        });
    }
    if visits.len() > MAX_VISITS {
        return Err(BundleError::TooLarge {
            limit: SizeLimit::Visits,
            count: visits.len() as u64,
            max: MAX_VISITS as u64,
        });
    }
    let photos = select_photos(&c, &visits, store.limits().evidence_bundle)?;
    let chains = plan_chains(&c, &visits)?;
    let devices = devices(&c, chains.keys())?;
    let mut summary = Summary {
        visits: visits.len(),
        photos: photos.len(),
        devices: devices.len(),
        ..Summary::default()
    };
    let chains: Vec<ChainRecord> = chains
        .into_iter()
        .map(|(device_id, entries)| ChainRecord { device_id, entries })
        .collect();
    for ch in &chains {
        summary.entries += ch.entries.len();
        summary.selected_entries += ch.entries.iter().filter(|e| e.selected).count();
    }
    let files: BTreeSet<String> = photos
        .iter()
        .filter(|p| p.file.is_some())
        .map(|p| p.image_sha256.clone())
        .collect();
    summary.photo_files = files.len();
    summary.server_findings = server_findings(&c, &visits, &photos, &chains)?;
    let bundle = Bundle {
        format: FORMAT.into(),
        version: VERSION,
        exported_ms: now_ms,
        utc_offset_minutes: cal.offset_minutes(),
        organisation: None,
        exported_by: who.exported_by(),
        selection,
        visits,
        devices,
        chains,
        photos,
        summary,
    };
    Ok(Plan {
        bundle,
        files: files.into_iter().collect(),
    })
}

/// The request in ids: a store by id or code, a rep by id or display name, dates checked.
fn resolve(c: &Connection, r: &Request) -> Result<Selection, BundleError> {
    let store_id = match set(&r.store) {
        None => None,
        Some(s) => {
            let found: Option<String> = c
                .query_row(
                    "SELECT id FROM stores WHERE id = ?1 OR json_extract(body, '$.code') = ?1 ORDER BY id LIMIT 1",
                    [&s],
                    |row| row.get(0),
                )
                .optional()
                .map_err(storage)?;
            Some(found.ok_or(BundleError::UnknownStore(s))?)
        }
    };
    let rep_id = match set(&r.rep) {
        None => None,
        Some(name) => {
            let mut st = c
                .prepare(
                    "SELECT id FROM users WHERE id = ?1 OR json_extract(body, '$.name') = ?1 ORDER BY id",
                )
                .map_err(storage)?;
            let ids: Vec<String> = st
                .query_map([&name], |row| row.get(0))
                .map_err(storage)?
                .collect::<Result<_, _>>()
                .map_err(storage)?;
            // An id wins over a name another user happens to have.
            match ids.iter().find(|i| **i == name) {
                Some(id) => Some(id.clone()),
                None if ids.len() == 1 => Some(ids[0].clone()),
                None if ids.is_empty() => return Err(BundleError::UnknownRep(name)),
                None => return Err(BundleError::AmbiguousRep(name, ids.len())),
            }
        }
    };
    let day = |d: &Option<String>| -> Result<Option<(String, i64)>, BundleError> {
        match set(d) {
            None => Ok(None),
            Some(s) => parse_day(&s)
                .map(|n| Some((s.clone(), n)))
                .ok_or(BundleError::BadDate(s)),
        }
    };
    let (from, to) = (day(&r.from)?, day(&r.to)?);
    if let (Some((_, a)), Some((_, b))) = (&from, &to)
        && a > b
    {
        return Err(BundleError::FromAfterTo);
    }
    Ok(Selection {
        visit_id: set(&r.visit),
        store_id,
        rep_id,
        from: from.map(|(s, _)| s),
        to: to.map(|(s, _)| s),
    })
}

fn select_visits(
    c: &Connection,
    cal: Calendar,
    s: &Selection,
    team_of: Option<&str>,
) -> Result<Vec<VisitRecord>, BundleError> {
    let mut cond = vec![crate::scope::scope_sql("v.user_id", 1)];
    let mut args: Vec<Value> = vec![team_of.map_or(Value::Null, |t| Value::Text(t.into()))];
    let mut push = |sql: &str, v: Value| {
        args.push(v);
        cond.push(sql.replace('#', &format!("?{}", args.len())));
    };
    if let Some(v) = &s.visit_id {
        push("v.id = #", Value::Text(v.clone()));
    }
    if let Some(v) = &s.store_id {
        push("v.store_id = #", Value::Text(v.clone()));
    }
    if let Some(v) = &s.rep_id {
        push("v.user_id = #", Value::Text(v.clone()));
    }
    if let Some(d) = s.from.as_deref().and_then(parse_day) {
        push("v.started_wall_ms >= #", Value::Integer(cal.day_bounds(d).0));
    }
    if let Some(d) = s.to.as_deref().and_then(parse_day) {
        push("v.started_wall_ms < #", Value::Integer(cal.day_bounds(d).1));
    }
    // One more than the limit tells "too many" without reading them all.
    let sql = format!(
        "SELECT v.id, v.device_id, v.user_id, coalesce(json_extract(u.body, '$.name'), v.user_id),
                v.store_id, coalesce(json_extract(st.body, '$.code'), v.store_id),
                coalesce(json_extract(st.body, '$.name'), v.store_id), v.started_wall_ms
         FROM visits v LEFT JOIN users u ON u.id = v.user_id LEFT JOIN stores st ON st.id = v.store_id
         WHERE {} ORDER BY v.started_wall_ms, v.id LIMIT {}",
        cond.join(" AND "),
        MAX_VISITS + 1
    );
    let mut st = c.prepare(&sql).map_err(storage)?;
    let rows = st
        .query_map(params_from_iter(args), |r| {
            Ok(VisitRecord {
                visit_id: r.get(0)?,
                device_id: r.get(1)?,
                rep_id: r.get(2)?,
                rep_name: r.get(3)?,
                store_id: r.get(4)?,
                store_code: r.get(5)?,
                store_name: r.get(6)?,
                started_ms: r.get(7)?,
            })
        })
        .map_err(storage)?;
    rows.collect::<Result<_, _>>().map_err(storage)
}

fn select_photos(
    c: &Connection,
    visits: &[VisitRecord],
    limits: BundleLimits,
) -> Result<Vec<PhotoRecord>, BundleError> {
    let mut st = c
        .prepare(
            "SELECT p.photo_id, p.visit_id, p.device_id, o.seq, p.op_id, p.sha256, p.evidence_code,
                    p.received, p.verified, p.problems, coalesce(b.size, p.byte_len)
             FROM photos p JOIN ops o ON o.op_id = p.op_id LEFT JOIN blobs b ON b.sha256 = p.sha256
             WHERE p.visit_id = ?1 ORDER BY p.rowid",
        )
        .map_err(storage)?;
    let mut out = Vec::new();
    let mut bytes: BTreeMap<String, u64> = BTreeMap::new();
    for v in visits {
        let rows = st
            .query_map([&v.visit_id], |r| {
                let received: bool = r.get(7)?;
                let sha: String = r.get(5)?;
                let problems: Option<String> = r.get(9)?;
                let size: i64 = r.get(10)?;
                Ok((
                    PhotoRecord {
                        photo_id: r.get(0)?,
                        visit_id: r.get(1)?,
                        device_id: r.get(2)?,
                        seq: r.get(3)?,
                        op_id: r.get(4)?,
                        file: received.then(|| photo_file(&sha)),
                        image_sha256: sha,
                        evidence_code: r.get(6)?,
                        server_verdict: ServerVerdict {
                            received,
                            verified: r.get(8)?,
                            problems: problems
                                .unwrap_or_default()
                                .split(',')
                                .map(str::trim)
                                .filter(|p| !p.is_empty())
                                .map(str::to_string)
                                .collect(),
                        },
                    },
                    size.max(0) as u64,
                ))
            })
            .map_err(storage)?;
        for row in rows {
            let (p, size) = row.map_err(storage)?;
            if p.file.is_some() {
                bytes.insert(p.image_sha256.clone(), size);
            }
            out.push(p);
            if out.len() > limits.max_photos {
                return Err(BundleError::TooLarge {
                    limit: SizeLimit::Photos,
                    count: out.len() as u64,
                    max: limits.max_photos as u64,
                });
            }
        }
    }
    let total: u64 = bytes.values().sum();
    if total > limits.max_photo_bytes {
        return Err(BundleError::TooLarge {
            limit: SizeLimit::PhotoBytes,
            count: total,
            max: limits.max_photo_bytes,
        });
    }
    Ok(out)
}

/// One received entry of a device, without its bytes: where it is in the receive order.
struct Received {
    rejected: bool,
    /// The op id of an applied entry, the row id of a rejected one.
    key: String,
    recv_index: Option<i64>,
    received_ms: i64,
    seq: Option<i64>,
    entity_id: Option<String>,
    len: i64,
}

impl Received {
    /// The receive order (see the module's note on entries without a `recv_index`).
    fn order(&self) -> (bool, i64, i64, bool, i64, &str) {
        (
            self.recv_index.is_none(),
            self.recv_index.unwrap_or(0),
            self.received_ms,
            self.rejected,
            self.seq.unwrap_or(i64::MAX),
            &self.key,
        )
    }
}

/// Per device of the selected visits, the window of its receive order from the entry before
/// the first selected one to the last selected one, whole.
fn plan_chains(
    c: &Connection,
    visits: &[VisitRecord],
) -> Result<BTreeMap<String, Vec<EntryRecord>>, BundleError> {
    let mut by_device: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for v in visits {
        by_device.entry(&v.device_id).or_default().insert(&v.visit_id);
    }
    let mut out = BTreeMap::new();
    let mut total_bytes: u64 = 0;
    for (device, visit_ids) in by_device {
        let mut all = received_of(c, device)?;
        all.sort_by(|a, b| a.order().cmp(&b.order()));
        let chosen = |r: &Received| r.entity_id.as_deref().is_some_and(|e| visit_ids.contains(e));
        let (Some(first), Some(last)) = (all.iter().position(chosen), all.iter().rposition(chosen)) else {
            continue;
        };
        let window = &all[first.saturating_sub(1)..=last];
        total_bytes += window.iter().map(|r| r.len.max(0) as u64).sum::<u64>();
        if total_bytes > MAX_ENTRY_BYTES {
            return Err(BundleError::TooLarge {
                limit: SizeLimit::EntryBytes,
                count: total_bytes,
                max: MAX_ENTRY_BYTES,
            });
        }
        let mut entries = Vec::with_capacity(window.len());
        for r in window {
            entries.push(entry_record(c, r, chosen(r))?);
        }
        out.insert(device.to_string(), entries);
    }
    Ok(out)
}

fn received_of(c: &Connection, device: &str) -> Result<Vec<Received>, BundleError> {
    let mut st = c
        .prepare(
            "SELECT 0, op_id, recv_index, received_ms, seq, entity_id, length(entry) FROM ops WHERE device_id = ?1
             UNION ALL
             SELECT 1, CAST(id AS TEXT), recv_index, received_ms, seq, entity_id, length(entry)
             FROM rejected_ops WHERE device_id = ?1",
        )
        .map_err(storage)?;
    let rows = st
        .query_map([device], |r| {
            Ok(Received {
                rejected: r.get::<_, i64>(0)? == 1,
                key: r.get(1)?,
                recv_index: r.get(2)?,
                received_ms: r.get(3)?,
                seq: r.get(4)?,
                entity_id: r.get(5)?,
                len: r.get(6)?,
            })
        })
        .map_err(storage)?;
    rows.collect::<Result<_, _>>().map_err(storage)
}

fn entry_record(c: &Connection, r: &Received, selected: bool) -> Result<EntryRecord, BundleError> {
    let (entry, signature_hex, reason, detail): (String, Option<String>, Option<String>, Option<String>) =
        if r.rejected {
            let id: i64 = r.key.parse().map_err(storage)?;
            c.query_row(
                "SELECT entry, signature, reason, detail FROM rejected_ops WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
        } else {
            c.query_row(
                "SELECT entry, signature, NULL, NULL FROM ops WHERE op_id = ?1",
                [&r.key],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
        }
        .map_err(storage)?;
    Ok(EntryRecord {
        entry_hash: sha256_hex(entry.as_bytes()),
        entry,
        signature_hex,
        recv_index: r.recv_index,
        received_ms: r.received_ms,
        seq: r.seq,
        status: if r.rejected {
            EntryStatus::Rejected
        } else {
            EntryStatus::Applied
        },
        reason,
        detail,
        selected,
    })
}

fn devices<'a>(
    c: &Connection,
    ids: impl Iterator<Item = &'a String>,
) -> Result<Vec<DeviceRecord>, BundleError> {
    let mut st = c
        .prepare(
            "SELECT d.device_id, d.user_id, coalesce(json_extract(u.body, '$.name'), d.user_id), d.public_key_hex,
                    d.enrolled_ms, d.revoked_ms, d.revoked_recorded_ms
             FROM devices d LEFT JOIN users u ON u.id = d.user_id WHERE d.device_id = ?1",
        )
        .map_err(storage)?;
    let mut out = Vec::new();
    for id in ids {
        let d = st
            .query_row([id], |r| {
                Ok(DeviceRecord {
                    device_id: r.get(0)?,
                    rep_id: r.get(1)?,
                    rep_name: r.get(2)?,
                    public_key_hex: r.get(3)?,
                    enrolled_ms: r.get(4)?,
                    revoked_ms: r.get(5)?,
                    revoked_recorded_ms: r.get(6)?,
                })
            })
            .optional()
            .map_err(storage)?;
        // A device the server does not know signed nothing it applied; its entries stay in
        // the chain and a verifier says `unknown_key`.
        if let Some(d) = d {
            out.push(d);
        }
    }
    Ok(out)
}

/// The server's own findings on the selection, per code: photo verdicts, the reasons of the
/// rejected entries in the chains and chain exceptions on the selected visits.
fn server_findings(
    c: &Connection,
    visits: &[VisitRecord],
    photos: &[PhotoRecord],
    chains: &[ChainRecord],
) -> Result<BTreeMap<String, usize>, BundleError> {
    let mut out: BTreeMap<String, usize> = BTreeMap::new();
    for p in photos {
        for code in &p.server_verdict.problems {
            *out.entry(code.clone()).or_default() += 1;
        }
    }
    // Every rejected entry the bundle carries, context included: a verifier checks them all,
    // so its findings on them and these counts are about the same entries.
    for e in chains.iter().flat_map(|c| &c.entries) {
        if let Some(r) = &e.reason {
            *out.entry(r.clone()).or_default() += 1;
        }
    }
    let chain_codes: HashMap<&str, ()> = [
        VerifyCode::ChainGap,
        VerifyCode::ChainFork,
        VerifyCode::Reordered,
        VerifyCode::Backdated,
    ]
    .iter()
    .map(|c| (c.as_str(), ()))
    .collect();
    let mut st = c
        .prepare("SELECT code FROM exceptions WHERE visit_id = ?1")
        .map_err(storage)?;
    for v in visits {
        let codes: Vec<String> = st
            .query_map(params![v.visit_id], |r| r.get(0))
            .map_err(storage)?
            .collect::<Result<_, _>>()
            .map_err(storage)?;
        for code in codes.into_iter().filter(|c| chain_codes.contains_key(c.as_str())) {
            *out.entry(code).or_default() += 1;
        }
    }
    Ok(out)
}
