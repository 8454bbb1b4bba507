//! The device's signing key at rest.
//!
//! The key is an Ed25519 seed made on first open from the OS random source. Without a sealer it
//! is kept as is in the `device` row (`signing_key_storage = 'plain'`), as before schema v7. With
//! a [`SeedSealer`] — the app's bridge to the Android Keystore or the iOS Keychain — only the
//! sealed form is kept (`'sealed'`): the raw seed never reaches the file. A plain database opened
//! with a sealer is sealed during that open, in one transaction, with the freed bytes zeroed and
//! the WAL truncated so the old seed does not linger on disk.
//!
//! The seed is unsealed once per open and the [`Signer`] stays in memory: the keystore is called
//! at open, never per action (a keystore call costs milliseconds and may need the phone unlocked
//! once since boot). Whatever goes wrong at open — no sealer for a sealed key, a sealer that
//! fails, or one that hands back some other key — is a typed error and writes nothing.

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use zeroize::Zeroizing;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::evidence::Signer;

/// Seals and unseals the device's signing seed with a key the platform keeps (Android Keystore,
/// iOS Keychain). Passed at open ([`crate::CoreOptions::sealer`]); called only while opening.
pub trait SeedSealer: Send + Sync {
    /// Seal the 32-byte seed. The result is stored as is, so it carries whatever `unseal` needs
    /// (nonce, format version).
    fn seal(&self, seed: &[u8]) -> std::result::Result<Vec<u8>, SealError>;
    /// The seed back from what `seal` returned.
    fn unseal(&self, sealed: &[u8]) -> std::result::Result<Vec<u8>, SealError>;
}

/// A sealer's failure, in its own words (for logs and support; the app matches on the core's
/// error code, `key_seal_failed` or `key_unseal_failed`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SealError(pub String);

const PLAIN: &str = "plain";
const SEALED: &str = "sealed";

type Seed = Zeroizing<[u8; 32]>;

/// Read (or make) the device row and its key, sealing or unsealing it through `sealer`.
pub(crate) fn open_device_key(
    conn: &Connection,
    clock: &dyn Clock,
    sealer: Option<&dyn SeedSealer>,
) -> Result<Signer> {
    // With a sealer the plain seed may be replaced below: zero the bytes the update frees, so the
    // old seed does not stay behind in the page's free space.
    if sealer.is_some() {
        conn.pragma_update(None, "secure_delete", true)?;
    }
    let opened = open_in_transaction(conn, clock, sealer);
    if sealer.is_some() {
        conn.pragma_update(None, "secure_delete", false)?;
    }
    let (signer, sealed_now) = opened?;
    if sealed_now {
        // The pre-upgrade pages (plain seed included) may still sit in the WAL file: copy the new
        // pages into the database and empty the WAL. A reader holding an old snapshot can keep
        // the checkpoint from finishing; the key is sealed either way, so that is only logged.
        let (busy, _, _): (i64, i64, i64) = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        if busy != 0 {
            tracing::warn!("WAL not truncated after sealing the device key (another connection reads)");
        }
        tracing::info!("device signing key sealed (was plain)");
    }
    Ok(signer)
}

/// The signer, and whether a plain key was sealed in this open.
fn open_in_transaction(
    conn: &Connection,
    clock: &dyn Clock,
    sealer: Option<&dyn SeedSealer>,
) -> Result<(Signer, bool)> {
    // `new_unchecked` because only `&Connection` is at hand; nothing else uses it during open.
    // Dropped without commit on any error: the open writes nothing then.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    type Row = (String, Option<Vec<u8>>, String, Option<String>);
    let row: Option<Row> = tx
        .query_row(
            "SELECT device_id, signing_key, signing_key_storage, signing_public_key FROM device WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let (device_id, key, storage, public_key) = match row {
        Some(row) => row,
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            tx.execute(
                "INSERT INTO device (id, device_id, created_at_ms, next_seq, last_hlc) VALUES (1, ?1, ?2, 1, 0)",
                params![id, clock.wall_ms()],
            )?;
            (id, None, PLAIN.to_string(), None)
        }
    };
    let mut sealed_now = false;
    let signer = match (key, storage.as_str(), sealer) {
        // First open, or the first after the upgrade that introduced signing.
        (None, _, _) => {
            let seed: Seed = Zeroizing::new(Signer::generate_seed()?);
            let signer = Signer::from_seed(device_id, *seed);
            store(&tx, &seed, &signer, sealer)?;
            tracing::info!(sealed = sealer.is_some(), "device signing key created");
            signer
        }
        (Some(key), PLAIN, None) => {
            let (seed, signer) = plain_key(device_id, &key, public_key.as_deref())?;
            if public_key.is_none() {
                store(&tx, &seed, &signer, None)?;
            }
            signer
        }
        (Some(key), PLAIN, Some(sealer)) => {
            let (seed, signer) = plain_key(device_id, &key, public_key.as_deref())?;
            store(&tx, &seed, &signer, Some(sealer))?;
            sealed_now = true;
            signer
        }
        (Some(_), SEALED, None) => return Err(Error::KeySealerRequired),
        (Some(sealed), SEALED, Some(sealer)) => {
            let expected = public_key
                .ok_or_else(|| Error::Internal("sealed signing key stored without its public key".into()))?;
            unseal_checked(sealer, &sealed, device_id, &expected)?
        }
        (Some(_), other, _) => {
            return Err(Error::Internal(format!("unknown signing key storage {other:?}")));
        }
    };
    tx.commit()?;
    Ok((signer, sealed_now))
}

/// A stored plain seed, checked against its public key when one is stored.
fn plain_key(device_id: String, key: &[u8], public_key: Option<&str>) -> Result<(Seed, Signer)> {
    let seed: Seed = Zeroizing::new(
        key.try_into()
            .map_err(|_| Error::Internal("stored signing key is not 32 bytes".into()))?,
    );
    let signer = Signer::from_seed(device_id, *seed);
    if public_key.is_some_and(|p| p != signer.public_key_hex()) {
        return Err(Error::Internal(
            "stored signing key does not match its public key".into(),
        ));
    }
    Ok((seed, signer))
}

/// Write the key (plain, or sealed through `sealer`) with its public key.
fn store(tx: &Transaction<'_>, seed: &Seed, signer: &Signer, sealer: Option<&dyn SeedSealer>) -> Result<()> {
    let public_key = signer.public_key_hex();
    let Some(sealer) = sealer else {
        tx.execute(
            "UPDATE device SET signing_key = ?1, signing_key_storage = 'plain', signing_public_key = ?2
             WHERE id = 1",
            params![&seed[..], public_key],
        )?;
        return Ok(());
    };
    let sealed = sealer.seal(&seed[..]).map_err(|e| Error::KeySealFailed(e.0))?;
    if sealed.windows(seed.len()).any(|w| w == &seed[..]) {
        return Err(Error::KeySealFailed(
            "the sealer returned the key in the clear".into(),
        ));
    }
    // Only the sealed form will be kept: prove it opens before the plain seed is gone for good.
    let back = Zeroizing::new(
        sealer
            .unseal(&sealed)
            .map_err(|e| Error::KeySealFailed(format!("the sealed key does not unseal: {e}")))?,
    );
    if back.as_slice() != &seed[..] {
        return Err(Error::KeySealFailed(
            "the sealed key unseals to a different key".into(),
        ));
    }
    tx.execute(
        "UPDATE device SET signing_key = ?1, signing_key_storage = 'sealed', signing_public_key = ?2
         WHERE id = 1",
        params![sealed, public_key],
    )?;
    Ok(())
}

/// Unseal and check the result is this device's key (the stored public key), so a sealer that
/// hands back another key never signs as this device.
fn unseal_checked(
    sealer: &dyn SeedSealer,
    sealed: &[u8],
    device_id: String,
    expected: &str,
) -> Result<Signer> {
    let seed = Zeroizing::new(sealer.unseal(sealed).map_err(|e| Error::KeyUnsealFailed(e.0))?);
    let seed: Seed = Zeroizing::new(seed.as_slice().try_into().map_err(|_| {
        Error::KeyUnsealFailed(format!(
            "the sealer returned {} bytes, not a 32-byte key",
            seed.len()
        ))
    })?);
    let signer = Signer::from_seed(device_id, *seed);
    if signer.public_key_hex() != expected {
        return Err(Error::KeyUnsealFailed(
            "the unsealed key is not this device's key (its public key differs)".into(),
        ));
    }
    Ok(signer)
}
