#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The device key at rest: plain without a sealer (as before), sealed by the platform keystore
//! with one. A sealed database holds no raw seed anywhere in its files, reopens with the same
//! key, refuses to open without its sealer or with a failing or lying one (typed error, nothing
//! written), and a plain database is sealed in place by the first open with a sealer.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use fieldproof_core::evidence::{SignedEntry, verify_chain};
use fieldproof_core::*;
use rusqlite::Connection;
use sha2::{Digest, Sha256};

/// What a test sealer does wrong, if anything.
#[derive(Clone, Copy, PartialEq)]
enum Fault {
    None,
    SealFails,
    UnsealFails,
    /// Returns the seed unchanged as its "sealed" form.
    SealsInTheClear,
    /// Unseals every blob to 32 bytes of its own: a sealer for some other device.
    UnsealsAnotherKey,
    UnsealsShort,
}

/// A stand-in for the platform keystore: an authenticated stream cipher from SHA-256 under a
/// secret key (a real app uses AES-GCM in the Android Keystore or the Keychain; the JVM and
/// Python tests do). A blob sealed under another key fails its tag, as AES-GCM would.
struct TestSealer {
    key: [u8; 32],
    fault: Fault,
    /// The seeds handed to `seal`, so a test can look for them in the files.
    sealed_seeds: Mutex<Vec<Vec<u8>>>,
    unseals: AtomicUsize,
}

impl TestSealer {
    fn new(key_byte: u8) -> Arc<TestSealer> {
        TestSealer::faulty(key_byte, Fault::None)
    }

    fn faulty(key_byte: u8, fault: Fault) -> Arc<TestSealer> {
        Arc::new(TestSealer {
            key: [key_byte; 32],
            fault,
            sealed_seeds: Mutex::new(Vec::new()),
            unseals: AtomicUsize::new(0),
        })
    }

    fn stream(&self, nonce: &[u8]) -> [u8; 32] {
        Sha256::new()
            .chain_update(b"stream")
            .chain_update(self.key)
            .chain_update(nonce)
            .finalize()
            .into()
    }

    fn tag(&self, nonce: &[u8], ct: &[u8]) -> Vec<u8> {
        Sha256::new()
            .chain_update(b"tag")
            .chain_update(self.key)
            .chain_update(nonce)
            .chain_update(ct)
            .finalize()[..16]
            .to_vec()
    }
}

impl SeedSealer for TestSealer {
    fn seal(&self, seed: &[u8]) -> Result<Vec<u8>, SealError> {
        match self.fault {
            Fault::SealFails => return Err(SealError("keystore unavailable".into())),
            Fault::SealsInTheClear => return Ok(seed.to_vec()),
            _ => {}
        }
        self.sealed_seeds.lock().unwrap().push(seed.to_vec());
        let nonce = *uuid::Uuid::new_v4().as_bytes();
        let ct: Vec<u8> = seed.iter().zip(self.stream(&nonce)).map(|(a, b)| a ^ b).collect();
        let tag = self.tag(&nonce, &ct);
        Ok([&nonce[..], &ct, &tag].concat())
    }

    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        self.unseals.fetch_add(1, Ordering::SeqCst);
        match self.fault {
            Fault::UnsealFails => return Err(SealError("user not authenticated".into())),
            Fault::UnsealsAnotherKey => return Ok(vec![7u8; 32]),
            Fault::UnsealsShort => return Ok(vec![7u8; 16]),
            Fault::SealsInTheClear => return Ok(sealed.to_vec()),
            _ => {}
        }
        if sealed.len() != 16 + 32 + 16 {
            return Err(SealError(format!("sealed key of {} bytes", sealed.len())));
        }
        let (nonce, rest) = sealed.split_at(16);
        let (ct, tag) = rest.split_at(32);
        if self.tag(nonce, ct) != tag {
            return Err(SealError("authentication tag mismatch".into()));
        }
        Ok(ct.iter().zip(self.stream(nonce)).map(|(a, b)| a ^ b).collect())
    }
}

fn open(path: &Path, sealer: Option<Arc<TestSealer>>) -> Result<Core> {
    Core::open_with(
        Some(path),
        CoreOptions {
            clock: Arc::new(ManualClock::new(T0, 3_600_000)),
            sealer: sealer.map(|s| s as Arc<dyn SeedSealer>),
            ..CoreOptions::default()
        },
    )
}

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("fieldproof.db")
}

/// (signing_key, signing_key_storage, signing_public_key) as stored.
fn stored_key(path: &Path) -> (Vec<u8>, String, Option<String>) {
    Connection::open(path)
        .unwrap()
        .query_row(
            "SELECT signing_key, signing_key_storage, signing_public_key FROM device WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap()
}

/// Every byte of the database's files on disk (main file, WAL, shared memory, journal).
fn files_of(path: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        if let Ok(bytes) = std::fs::read(PathBuf::from(p)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A day's worth of signed actions: check in, answers, a photo, report, complete, check out.
fn a_visit(core: &Core) {
    core.load_reference_json(REFERENCE_JSON).unwrap();
    let v = check_in(core, "rep-li", "st-001", Some(fix_st001())).unwrap();
    fill_store_check(core, &v.id);
    core.complete_visit(&v.id).unwrap();
    core.check_out(&v.id, Some(&fix_st001())).unwrap();
}

fn signed(core: &Core) -> Vec<SignedEntry> {
    core.pending_ops(10_000)
        .unwrap()
        .into_iter()
        .map(|o| SignedEntry {
            entry: o.entry.unwrap(),
            signature_hex: o.signature_hex.unwrap(),
        })
        .collect()
}

fn code(r: Result<Core>) -> &'static str {
    r.expect_err("the open should be refused").code()
}

#[test]
fn without_a_sealer_the_key_is_plain_and_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let core = open(&path, None).unwrap();
    let public_key = core.device_public_key();
    a_visit(&core);
    drop(core);
    let (key, storage, stored_public) = stored_key(&path);
    assert_eq!((key.len(), storage.as_str()), (32, "plain"));
    assert_eq!(stored_public.as_deref(), Some(public_key.as_str()));

    let core = open(&path, None).unwrap();
    assert_eq!(core.device_public_key(), public_key);
    assert!(core.audit().unwrap().is_clean());
}

#[test]
fn a_sealed_database_holds_no_raw_seed_and_reopens_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let sealer = TestSealer::new(1);
    let core = open(&path, Some(sealer.clone())).unwrap();
    let public_key = core.device_public_key();
    a_visit(&core);
    drop(core);

    let seeds = sealer.sealed_seeds.lock().unwrap().clone();
    assert_eq!(seeds.len(), 1, "one key made, sealed once");
    let (blob, storage, stored_public) = stored_key(&path);
    assert_eq!(storage, "sealed");
    assert_eq!(stored_public.as_deref(), Some(public_key.as_str()));
    assert!(!contains(&blob, &seeds[0]));
    let files = files_of(&path);
    assert!(contains(&files, &blob), "the scan reads the device row's bytes");
    assert!(
        !contains(&files, &seeds[0]),
        "raw seed found in the database files"
    );

    // Reopened with the same keystore key: the same identity, the chain goes on under it, and
    // the keystore is asked once per open, not per action.
    let again = TestSealer::new(1);
    let core = open(&path, Some(again.clone())).unwrap();
    assert_eq!(core.device_public_key(), public_key);
    a_visit(&core);
    assert_eq!(again.unseals.load(Ordering::SeqCst), 1);
    assert!(again.sealed_seeds.lock().unwrap().is_empty(), "nothing resealed");
    assert!(core.audit().unwrap().is_clean());
    let entries = signed(&core);
    assert!(entries.len() > 10);
    assert_eq!(verify_chain(&entries, &public_key, None), []);
    drop(core);
    assert!(!contains(&files_of(&path), &seeds[0]));
}

#[test]
fn an_in_memory_database_works_with_a_sealer() {
    let sealer = TestSealer::new(2);
    let core = Core::open_with(
        None,
        CoreOptions {
            sealer: Some(sealer.clone()),
            ..CoreOptions::default()
        },
    )
    .unwrap();
    a_visit(&core);
    assert!(core.audit().unwrap().is_clean());
    assert_eq!(sealer.sealed_seeds.lock().unwrap().len(), 1);
}

/// A sealed database, closed; its files' bytes.
fn sealed_db(dir: &tempfile::TempDir) -> (PathBuf, String, Vec<u8>) {
    let path = db_in(dir);
    let core = open(&path, Some(TestSealer::new(1))).unwrap();
    a_visit(&core);
    let public_key = core.device_public_key();
    drop(core);
    let bytes = files_of(&path);
    (path, public_key, bytes)
}

#[test]
fn a_sealed_database_without_its_sealer_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (path, public_key, before) = sealed_db(&dir);
    assert_eq!(code(open(&path, None)), "key_sealer_required");
    assert_eq!(code(Core::open(&path)), "key_sealer_required");
    assert!(files_of(&path) == before, "a refused open changed the files");
    assert_eq!(stored_key(&path).1, "sealed");
    assert_eq!(
        open(&path, Some(TestSealer::new(1))).unwrap().device_public_key(),
        public_key
    );
}

#[test]
fn a_failing_or_lying_sealer_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, public_key, before) = sealed_db(&dir);
    for (sealer, why) in [
        (TestSealer::faulty(1, Fault::UnsealFails), "keystore refuses"),
        (TestSealer::new(9), "another keystore key: the tag does not match"),
        (
            TestSealer::faulty(1, Fault::UnsealsAnotherKey),
            "hands back another device's key",
        ),
        (TestSealer::faulty(1, Fault::UnsealsShort), "hands back 16 bytes"),
    ] {
        let err = open(&path, Some(sealer.clone())).expect_err(why);
        assert_eq!(err.code(), "key_unseal_failed", "{why}: {err}");
        assert_eq!(sealer.unseals.load(Ordering::SeqCst), 1, "{why}");
        assert!(
            sealer.sealed_seeds.lock().unwrap().is_empty(),
            "{why}: nothing resealed"
        );
        assert!(
            files_of(&path) == before,
            "{why}: a refused open changed the files"
        );
    }
    assert_eq!(
        open(&path, Some(TestSealer::new(1))).unwrap().device_public_key(),
        public_key
    );
}

#[test]
fn opening_a_plain_database_with_a_sealer_seals_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let core = open(&path, None).unwrap();
    let public_key = core.device_public_key();
    a_visit(&core);
    drop(core);
    let (plain_seed, storage, _) = stored_key(&path);
    assert_eq!((plain_seed.len(), storage.as_str()), (32, "plain"));
    assert!(contains(&files_of(&path), &plain_seed));

    let sealer = TestSealer::new(3);
    let core = open(&path, Some(sealer.clone())).unwrap();
    assert_eq!(core.device_public_key(), public_key);
    assert_eq!(*sealer.sealed_seeds.lock().unwrap(), vec![plain_seed.clone()]);
    // The old seed is gone from the files even while the core is still open.
    assert!(
        !contains(&files_of(&path), &plain_seed),
        "plain seed left after sealing"
    );
    a_visit(&core);
    assert!(core.audit().unwrap().is_clean());
    // One chain, one key, across the upgrade.
    assert_eq!(verify_chain(&signed(&core), &public_key, None), []);
    drop(core);

    let (_, storage, _) = stored_key(&path);
    assert_eq!(storage, "sealed");
    assert!(!contains(&files_of(&path), &plain_seed));
    assert_eq!(code(open(&path, None)), "key_sealer_required");
    assert_eq!(
        open(&path, Some(TestSealer::new(3))).unwrap().device_public_key(),
        public_key
    );
}

#[test]
fn a_database_from_before_sealing_existed_is_sealed_on_upgrade() {
    // Schema v6 with a plain key, as every phone has it today.
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let seed = [42u8; 32];
    {
        let c = Connection::open(&path).unwrap();
        db::migrate_to(&c, 6).unwrap();
        c.execute(
            "INSERT INTO device (id, device_id, created_at_ms, next_seq, last_hlc, signing_key)
             VALUES (1, 'dev-v6', 0, 1, 0, ?1)",
            [&seed[..]],
        )
        .unwrap();
    }
    let expected = evidence::Signer::from_seed("dev-v6".into(), seed).public_key_hex();
    let core = open(&path, Some(TestSealer::new(4))).unwrap();
    assert_eq!(
        (core.device_id(), core.device_public_key()),
        ("dev-v6", expected.clone())
    );
    drop(core);
    let (_, storage, stored_public) = stored_key(&path);
    assert_eq!((storage.as_str(), stored_public), ("sealed", Some(expected)));
    assert!(!contains(&files_of(&path), &seed));
}

#[test]
fn a_sealer_that_cannot_seal_leaves_the_plain_key_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let core = open(&path, None).unwrap();
    let public_key = core.device_public_key();
    a_visit(&core);
    drop(core);
    let before = files_of(&path);
    for (sealer, why) in [
        (TestSealer::faulty(5, Fault::SealFails), "keystore refuses"),
        (
            TestSealer::faulty(5, Fault::SealsInTheClear),
            "returns the key in the clear",
        ),
        (
            TestSealer::faulty(5, Fault::UnsealFails),
            "sealed form does not unseal",
        ),
        (
            TestSealer::faulty(5, Fault::UnsealsAnotherKey),
            "sealed form unseals to another key",
        ),
    ] {
        let err = open(&path, Some(sealer)).expect_err(why);
        assert_eq!(err.code(), "key_seal_failed", "{why}: {err}");
        assert!(
            files_of(&path) == before,
            "{why}: a refused open changed the files"
        );
    }
    assert_eq!(stored_key(&path).1, "plain");
    assert_eq!(open(&path, None).unwrap().device_public_key(), public_key);
}

#[test]
fn a_new_database_whose_sealer_fails_makes_no_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = db_in(&dir);
    let err = open(&path, Some(TestSealer::faulty(6, Fault::SealFails))).unwrap_err();
    assert_eq!(err.code(), "key_seal_failed");
    let devices: i64 = Connection::open(&path)
        .unwrap()
        .query_row("SELECT count(*) FROM device", [], |r| r.get(0))
        .unwrap();
    assert_eq!(devices, 0, "no half-made device row");
    // The next open with a working sealer makes the key, sealed.
    let sealer = TestSealer::new(6);
    drop(open(&path, Some(sealer.clone())).unwrap());
    assert_eq!(stored_key(&path).1, "sealed");
    assert!(!contains(
        &files_of(&path),
        &sealer.sealed_seeds.lock().unwrap()[0]
    ));
}
