//! The device key wrapped by the platform keystore: the app's [`KeySealer`] (Android Keystore,
//! iOS Keychain), passed to `FieldproofCore::open`, seen by the core as its `SeedSealer`.

use std::sync::Arc;

use fieldproof_core::{SealError, SeedSealer};

/// A key sealer's failure. Whatever the app's sealer throws (this or any other exception) makes
/// the open fail with `FieldproofError::Storage` and code `key_seal_failed` or
/// `key_unseal_failed`; nothing is written.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeySealerError {
    /// The keystore refused or failed; `detail` says how, for logs and support.
    #[error("{detail}")]
    Failed { detail: String },
}

/// An exception the sealer did not declare, so it never becomes a panic in the core.
impl From<uniffi::UnexpectedUniFFICallbackError> for KeySealerError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeySealerError::Failed {
            detail: format!("the key sealer threw: {}", e.reason),
        }
    }
}

/// Seals and unseals the device's 32-byte signing seed with a key the platform keeps. Called only
/// while a database is opened (once to unseal; on first open, or when sealing a plain key, once to
/// seal and once to check the sealed form opens), on the opening thread, never per action.
#[uniffi::export(with_foreign)]
pub trait KeySealer: Send + Sync {
    /// The sealed form of `seed`, stored as is: it carries its own nonce and format version.
    fn seal(&self, seed: Vec<u8>) -> Result<Vec<u8>, KeySealerError>;
    /// The seed back from what `seal` returned.
    fn unseal(&self, sealed: Vec<u8>) -> Result<Vec<u8>, KeySealerError>;
}

/// The app's sealer as the core's `SeedSealer`.
pub(crate) struct AppSealer(pub(crate) Arc<dyn KeySealer>);

impl AppSealer {
    pub(crate) fn for_core(sealer: Option<Arc<dyn KeySealer>>) -> Option<Arc<dyn SeedSealer>> {
        sealer.map(|s| Arc::new(AppSealer(s)) as Arc<dyn SeedSealer>)
    }
}

fn to_core(e: KeySealerError) -> SealError {
    let KeySealerError::Failed { detail } = e;
    SealError(detail)
}

impl SeedSealer for AppSealer {
    fn seal(&self, seed: &[u8]) -> Result<Vec<u8>, SealError> {
        self.0.seal(seed.to_vec()).map_err(to_core)
    }

    fn unseal(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        self.0.unseal(sealed.to_vec()).map_err(to_core)
    }
}
