//! Verifying a bundle offline, with nothing but the bundle: every photo against its manifest
//! entry and its phone's key (`evidence::verify_photo`, at the time the server received the
//! manifest), every phone's chain in receive order from its anchor (`evidence::verify_chain`),
//! the receive order itself, that every photo file the bundle lists is there, and that the
//! summary's counts are what the bundle holds. What cannot be read at all is a
//! [`BundleReadError`]; everything else is a [`Finding`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Seek};

use fieldproof_core::evidence::{
    KnownKey, Revocation, SignedEntry, VerifyCode, read_entry, revocation, verify_chain, verify_photo,
};
use serde::Serialize;

use super::format::*;

/// Why a file is not a bundle this verifier can read (nothing was checked).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BundleReadError {
    #[error("cannot open the file: {0}")]
    Open(String),
    #[error("not a ZIP file: {0}")]
    NotAZip(String),
    #[error("no bundle.json in the ZIP")]
    NoBundleJson,
    #[error("{name} is larger than {max} bytes")]
    TooLarge { name: String, max: u64 },
    #[error("cannot read {name} in the ZIP: {detail}")]
    Member { name: String, detail: String },
    #[error("bundle.json does not read: {0}")]
    BadJson(String),
    #[error("not a Fieldproof evidence bundle (format {0:?})")]
    NotABundle(String),
    #[error("bundle format version {0}, this verifier reads version {VERSION}")]
    UnsupportedVersion(i64),
}

impl BundleReadError {
    /// The code of the sentence a person reads ([`super::words`]).
    pub fn code(&self) -> &'static str {
        match self {
            BundleReadError::Open(_) => "read.open",
            BundleReadError::NotAZip(_) => "read.not_a_zip",
            BundleReadError::NoBundleJson => "read.no_bundle_json",
            BundleReadError::TooLarge { .. } => "read.too_large",
            BundleReadError::Member { .. } => "read.member",
            BundleReadError::BadJson(_) => "read.bad_json",
            BundleReadError::NotABundle(_) => "read.not_a_bundle",
            BundleReadError::UnsupportedVersion(_) => "read.unsupported_version",
        }
    }
}

/// What a finding says: one of the format's evidence findings, or one about the bundle itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FindingCode {
    Evidence(VerifyCode),
    /// A photo the bundle lists with a file, and the file is not in the ZIP.
    FileMissing,
    /// A photo whose manifest entry (its device and sequence number) is not in the bundle.
    ManifestMissing,
    /// A count in `summary` that is not what the bundle holds.
    SummaryMismatch,
}

impl FindingCode {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingCode::Evidence(c) => c.as_str(),
            FindingCode::FileMissing => "file_missing",
            FindingCode::ManifestMissing => "manifest_missing",
            FindingCode::SummaryMismatch => "summary_mismatch",
        }
    }
}

impl Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One finding, with what it concerns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub code: FindingCode,
    pub device_id: Option<String>,
    /// The entry's sequence number, when it concerns an entry.
    pub seq: Option<i64>,
    /// Its place in the device's chain in the bundle (0-based), when it concerns an entry.
    pub position: Option<usize>,
    pub photo_id: Option<String>,
    pub visit_id: Option<String>,
    /// For `summary_mismatch`: which count, what the summary says, what the bundle holds.
    pub count: Option<(String, usize, usize)>,
    /// When the finding is on an entry the bundle lists as rejected: the reason the server gave
    /// when it received it (the bundle's `reason`; the server's statement, not checked). Such a
    /// finding is still a finding, but one the server made and kept, not a change to the bundle.
    pub server_rejected: Option<String>,
}

impl Finding {
    fn new(code: FindingCode) -> Finding {
        Finding {
            code,
            device_id: None,
            seq: None,
            position: None,
            photo_id: None,
            visit_id: None,
            count: None,
            server_rejected: None,
        }
    }

    /// The server rejected the entry on receipt for this very finding (as against a finding
    /// this verifier makes that the server did not).
    pub fn found_on_receipt(&self) -> bool {
        self.server_rejected.as_deref() == Some(self.code.as_str())
    }
}

/// What became of one photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhotoOutcome {
    Verified,
    /// Verified; its phone's key was revoked after the server received the manifest.
    VerifiedKeyRevokedLater,
    /// One or more findings (in [`Report::findings`], with this photo's id).
    Findings,
    /// The server never received the bytes: there is nothing to check but the manifest entry.
    NotReceived,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhotoCheck {
    pub photo_id: String,
    /// The code stamped on the photo (防伪码): how a reader finds it.
    pub evidence_code: String,
    pub visit_id: String,
    pub device_id: String,
    pub seq: i64,
    pub outcome: PhotoOutcome,
    pub problems: Vec<FindingCode>,
}

/// Everything `verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub exported_ms: i64,
    pub utc_offset_minutes: i32,
    pub selection: Selection,
    pub exported_by: ExportedBy,
    pub organisation: Option<String>,
    pub visits: Vec<VisitRecord>,
    pub devices: Vec<DeviceRecord>,
    pub photos: Vec<PhotoCheck>,
    pub findings: Vec<Finding>,
    pub entries: usize,
    /// Per chain: its device and how many entries it holds.
    pub chains: Vec<(String, usize)>,
    pub server_findings: BTreeMap<String, usize>,
    /// How many of `findings` the server itself made when it received the entry, and so
    /// rejected it (see [`Finding::found_on_receipt`]).
    pub found_on_receipt: usize,
}

impl Report {
    /// How many entries the bundle holds for `device_id`.
    pub fn chain_len(&self, device_id: &str) -> usize {
        self.chains
            .iter()
            .filter(|(d, _)| d == device_id)
            .map(|(_, n)| n)
            .sum()
    }

    /// No finding at all (a photo verified with its key revoked later is no finding).
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Read and verify the bundle at `path`.
pub fn verify_file(path: &std::path::Path) -> Result<Report, BundleReadError> {
    let file = std::fs::File::open(path).map_err(|e| BundleReadError::Open(e.to_string()))?;
    verify_zip(std::io::BufReader::new(file))
}

/// Read and verify a bundle from any seekable reader.
pub fn verify_zip<R: Read + Seek>(reader: R) -> Result<Report, BundleReadError> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| BundleReadError::NotAZip(e.to_string()))?;
    let json = member(&mut zip, BUNDLE_JSON, MAX_BUNDLE_JSON_BYTES)?.ok_or(BundleReadError::NoBundleJson)?;
    let bundle = read_bundle(&json)?;
    drop(json);
    Ok(check(&bundle, |name| {
        member(&mut zip, name, MAX_PHOTO_FILE_BYTES)
    }))
}

/// `bundle.json` read: the format and version first, then the whole document.
pub fn read_bundle(bytes: &[u8]) -> Result<Bundle, BundleReadError> {
    #[derive(serde::Deserialize)]
    struct Head {
        format: Option<String>,
        version: Option<i64>,
    }
    let head: Head = serde_json::from_slice(bytes).map_err(|e| BundleReadError::BadJson(e.to_string()))?;
    let format = head.format.unwrap_or_default();
    if format != FORMAT {
        return Err(BundleReadError::NotABundle(format));
    }
    match head.version {
        Some(VERSION) => {}
        Some(v) => return Err(BundleReadError::UnsupportedVersion(v)),
        None => return Err(BundleReadError::BadJson("no version".into())),
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| BundleReadError::BadJson(e.to_string()))
}

/// A member's bytes, at most `max`; `None` if the ZIP has no member of that name.
fn member<R: Read + Seek>(
    zip: &mut zip::ZipArchive<R>,
    name: &str,
    max: u64,
) -> Result<Option<Vec<u8>>, BundleReadError> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => {
            return Err(BundleReadError::Member {
                name: name.into(),
                detail: e.to_string(),
            });
        }
    };
    if file.size() > max {
        return Err(BundleReadError::TooLarge {
            name: name.into(),
            max,
        });
    }
    let mut out = Vec::new();
    // The stated size can lie: read one byte past the limit at most.
    file.take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| BundleReadError::Member {
            name: name.into(),
            detail: e.to_string(),
        })?;
    if out.len() as u64 > max {
        return Err(BundleReadError::TooLarge {
            name: name.into(),
            max,
        });
    }
    Ok(Some(out))
}

/// The checks, given a way to read a photo file by its name in the ZIP.
pub fn check(
    bundle: &Bundle,
    mut file: impl FnMut(&str) -> Result<Option<Vec<u8>>, BundleReadError>,
) -> Report {
    let mut findings = Vec::new();
    let keys: Vec<KnownKey> = bundle
        .devices
        .iter()
        .map(|d| KnownKey {
            device_id: d.device_id.clone(),
            public_key_hex: d.public_key_hex.clone(),
            revoked_ms: d.revoked_ms,
        })
        .collect();
    // Photo manifests are reported on their photo's line, not again as entries.
    let manifests: BTreeSet<(&str, i64)> = bundle
        .photos
        .iter()
        .map(|p| (p.device_id.as_str(), p.seq))
        .collect();
    for chain in &bundle.chains {
        check_chain(chain, &keys, &manifests, &mut findings);
    }
    let photos = bundle
        .photos
        .iter()
        .map(|p| check_photo(bundle, p, &keys, &mut file, &mut findings))
        .collect();
    check_summary(bundle, &mut findings);
    let found_on_receipt = findings.iter().filter(|f| f.found_on_receipt()).count();
    Report {
        found_on_receipt,
        exported_ms: bundle.exported_ms,
        utc_offset_minutes: bundle.utc_offset_minutes,
        selection: bundle.selection.clone(),
        exported_by: bundle.exported_by.clone(),
        organisation: bundle.organisation.clone(),
        visits: bundle.visits.clone(),
        devices: bundle.devices.clone(),
        photos,
        findings,
        entries: bundle.chains.iter().map(|c| c.entries.len()).sum(),
        chains: bundle
            .chains
            .iter()
            .map(|c| (c.device_id.clone(), c.entries.len()))
            .collect(),
        server_findings: bundle.summary.server_findings.clone(),
    }
}

/// The visit an entry is about, if it reads.
fn entity_of(entry: &str) -> Option<String> {
    read_entry(entry).ok().map(|e| e.entity_id)
}

fn check_chain(
    chain: &ChainRecord,
    keys: &[KnownKey],
    manifests: &BTreeSet<(&str, i64)>,
    findings: &mut Vec<Finding>,
) {
    let at = |code: VerifyCode, i: usize, seq: Option<i64>| Finding {
        device_id: Some(chain.device_id.clone()),
        seq,
        position: Some(i),
        visit_id: chain.entries.get(i).and_then(|e| entity_of(&e.entry)),
        server_rejected: chain
            .entries
            .get(i)
            .filter(|e| e.status == EntryStatus::Rejected)
            .map(|e| e.reason.clone().unwrap_or_default()),
        ..Finding::new(FindingCode::Evidence(code))
    };
    let Some(key) = keys.iter().find(|k| k.device_id == chain.device_id) else {
        findings.push(Finding {
            device_id: Some(chain.device_id.clone()),
            ..Finding::new(FindingCode::Evidence(VerifyCode::UnknownKey))
        });
        return;
    };
    // The bundle's order is the receive order; its numbers must agree with it.
    let mut last: Option<i64> = None;
    let mut unnumbered = false;
    for (i, e) in chain.entries.iter().enumerate() {
        match e.recv_index {
            Some(n) if unnumbered || last.is_some_and(|l| n <= l) => {
                findings.push(at(VerifyCode::Reordered, i, e.seq));
            }
            Some(n) => last = Some(n),
            None => unnumbered = true,
        }
    }
    let signed: Vec<SignedEntry> = chain
        .entries
        .iter()
        .map(|e| SignedEntry {
            entry: e.entry.clone(),
            signature_hex: e.signature_hex.clone().unwrap_or_default(),
        })
        .collect();
    for f in verify_chain(&signed, &key.public_key_hex, None) {
        let i = usize::try_from(f.index).unwrap_or(0);
        findings.push(at(f.code, i, f.seq));
    }
    // Entries received once the key counted as revoked (photos say it on their own line).
    for (i, e) in chain.entries.iter().enumerate() {
        let Ok(read) = read_entry(&e.entry) else {
            continue;
        };
        if revocation(key.revoked_ms, Some(e.received_ms)) == Revocation::Revoked
            && !manifests.contains(&(chain.device_id.as_str(), read.seq))
        {
            findings.push(at(VerifyCode::RevokedKey, i, Some(read.seq)));
        }
    }
}

fn check_photo(
    bundle: &Bundle,
    p: &PhotoRecord,
    keys: &[KnownKey],
    file: &mut impl FnMut(&str) -> Result<Option<Vec<u8>>, BundleReadError>,
    findings: &mut Vec<Finding>,
) -> PhotoCheck {
    let mut check = PhotoCheck {
        photo_id: p.photo_id.clone(),
        evidence_code: p.evidence_code.clone(),
        visit_id: p.visit_id.clone(),
        device_id: p.device_id.clone(),
        seq: p.seq,
        outcome: PhotoOutcome::Findings,
        problems: Vec::new(),
    };
    let mut found = |code: FindingCode, check: &mut PhotoCheck| {
        check.problems.push(code);
        findings.push(Finding {
            device_id: Some(p.device_id.clone()),
            seq: Some(p.seq),
            photo_id: Some(p.photo_id.clone()),
            visit_id: Some(p.visit_id.clone()),
            ..Finding::new(code)
        });
    };
    // The manifest: the applied entry of this device with the photo's sequence number and op.
    let manifest = bundle
        .chains
        .iter()
        .filter(|c| c.device_id == p.device_id)
        .flat_map(|c| &c.entries)
        .filter(|e| e.status == EntryStatus::Applied)
        .find(|e| {
            read_entry(&e.entry)
                .ok()
                .is_some_and(|r| r.seq == p.seq && r.op_id == p.op_id)
        });
    let Some(manifest) = manifest else {
        found(FindingCode::ManifestMissing, &mut check);
        return check;
    };
    let Some(name) = &p.file else {
        check.outcome = PhotoOutcome::NotReceived;
        return check;
    };
    let bytes = match file(name) {
        Ok(Some(b)) => b,
        Ok(None) | Err(_) => {
            found(FindingCode::FileMissing, &mut check);
            return check;
        }
    };
    let signed = SignedEntry {
        entry: manifest.entry.clone(),
        signature_hex: manifest.signature_hex.clone().unwrap_or_default(),
    };
    let verdict = verify_photo(&bytes, &signed, keys, Some(manifest.received_ms));
    for code in &verdict.problems {
        found(FindingCode::Evidence(*code), &mut check);
    }
    check.outcome = match (verdict.verified, verdict.key_revoked_later) {
        (true, true) => PhotoOutcome::VerifiedKeyRevokedLater,
        (true, false) => PhotoOutcome::Verified,
        (false, _) => PhotoOutcome::Findings,
    };
    check
}

fn check_summary(bundle: &Bundle, findings: &mut Vec<Finding>) {
    let files: BTreeSet<&str> = bundle.photos.iter().filter_map(|p| p.file.as_deref()).collect();
    let s = &bundle.summary;
    let counted = [
        ("visits", s.visits, bundle.visits.len()),
        ("photos", s.photos, bundle.photos.len()),
        ("photo_files", s.photo_files, files.len()),
        (
            "entries",
            s.entries,
            bundle.chains.iter().map(|c| c.entries.len()).sum(),
        ),
        (
            "selected_entries",
            s.selected_entries,
            bundle
                .chains
                .iter()
                .flat_map(|c| &c.entries)
                .filter(|e| e.selected)
                .count(),
        ),
        ("devices", s.devices, bundle.devices.len()),
    ];
    for (what, stated, holds) in counted {
        if stated != holds {
            findings.push(Finding {
                count: Some((what.to_string(), stated, holds)),
                ..Finding::new(FindingCode::SummaryMismatch)
            });
        }
    }
}

/// Findings per code, in the format's order, then the bundle's own.
pub fn counts(findings: &[Finding]) -> Vec<(FindingCode, usize)> {
    let mut by: HashMap<FindingCode, usize> = HashMap::new();
    for f in findings {
        *by.entry(f.code).or_default() += 1;
    }
    let order = VerifyCode::ALL.into_iter().map(FindingCode::Evidence).chain([
        FindingCode::ManifestMissing,
        FindingCode::FileMissing,
        FindingCode::SummaryMismatch,
    ]);
    order.filter_map(|c| by.get(&c).map(|n| (c, *n))).collect()
}

/// The short form of a hash or id for a reader: its first 8 characters.
pub fn short(s: &str) -> &str {
    s.get(..8).unwrap_or(s)
}
