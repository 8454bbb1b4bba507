//! The organisation's certificate authority for Content Credentials (C2PA): an Ed25519 key and a
//! self-signed X.509 CA certificate, kept as files on the server (`--org-ca-dir`, default
//! `org-ca/` in the data directory), made on first start when absent. At enrolment it issues
//! each device an end-entity certificate for the device's existing Ed25519 key, with the profile
//! C2PA asks of a claim signer (docs/content-credentials.md): the phone signs its photos' C2PA
//! manifests under it, and anyone who trusts the CA certificate can check them.
//!
//! The CA key never leaves the server; replicas must share the same files (docs/OPERATIONS.md).
//! Certificates are made with rcgen over ed25519-dalek (no OpenSSL, no second crypto library).

use std::path::{Path, PathBuf};

use ed25519_dalek::Signer as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyIdMethod, KeyUsagePurpose, PublicKeyData, SignatureAlgorithm, SigningKey,
};
use sha2::{Digest, Sha256};

use crate::db::{OptionalExtension, params};
use crate::error::{ApiError, ApiResult};
use crate::store::Store;

/// The one file that holds the CA: its private key (PKCS#8) and its certificate, written at once
/// so two replicas starting together never pair one's key with the other's certificate.
pub const CA_FILE: &str = "org-ca.pem";
/// A public copy of the CA certificate alone, to hand to whoever verifies photos.
pub const CA_CERT_FILE: &str = "org-ca-cert.pem";

/// The CA certificate's lifetime. Photos carry no time-stamp (the phone is offline), so C2PA
/// readers check the certificates against the time of reading: long lifetimes keep old photos
/// readable (see docs/content-credentials.md).
const CA_VALID_DAYS: i64 = 30 * 366;
/// A device certificate's lifetime.
const DEVICE_VALID_DAYS: i64 = 20 * 366;
/// Backdated by a day: a verifier whose clock is a little behind still sees a valid certificate.
const BACKDATE_DAYS: i64 = 1;
const DAY_MS: i64 = crate::calendar::DAY_MS;

/// id-kp-documentSigning (RFC 9336), one of the EKUs C2PA accepts for a claim signer.
const EKU_DOCUMENT_SIGNING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 36];

#[derive(Debug, thiserror::Error)]
pub enum OrgCaError {
    #[error("organisation CA folder {dir}: {source}")]
    Io {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("organisation CA file {file} is not a Fieldproof CA ({why})")]
    Invalid { file: String, why: String },
    #[error("no organisation CA in {0} (`fieldproof-server admin org-ca init` or `serve` makes one)")]
    Missing(String),
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("random source failed: {0}")]
    Random(String),
}

/// The loaded CA: key and certificate.
pub struct OrgCa {
    key: ed25519_dalek::SigningKey,
    cert_pem: String,
    cert_der: Vec<u8>,
}

impl std::fmt::Debug for OrgCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgCa")
            .field("fingerprint", &self.fingerprint_sha256())
            .finish_non_exhaustive()
    }
}

/// An Ed25519 key as rcgen wants it: the public half, and signing for the CA's own key.
struct Ed25519Key<'a> {
    public: [u8; 32],
    secret: Option<&'a ed25519_dalek::SigningKey>,
}

impl PublicKeyData for Ed25519Key<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

impl SigningKey for Ed25519Key<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        match self.secret {
            Some(k) => Ok(k.sign(msg).to_bytes().to_vec()),
            None => Err(rcgen::Error::RemoteKeyError),
        }
    }
}

/// SubjectKeyIdentifier: SHA-256 of the key, first 20 bytes (RFC 7093 method 1's length).
fn key_id(public: &[u8; 32]) -> KeyIdMethod {
    KeyIdMethod::PreSpecified(Sha256::digest(public)[..20].to_vec())
}

fn random_serial() -> Result<rcgen::SerialNumber, OrgCaError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| OrgCaError::Random(e.to_string()))?;
    b[0] &= 0x7f; // positive, and 16 bytes long as DER
    b[0] |= 0x01;
    Ok(rcgen::SerialNumber::from_slice(&b))
}

fn time_at(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// PKCS#8 v1 of an Ed25519 seed (RFC 8410): a fixed prefix, then the 32 bytes.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

fn key_pem(key: &ed25519_dalek::SigningKey) -> String {
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(key.as_bytes());
    pem_text(&pem::Pem::new("PRIVATE KEY", der))
}

/// PEM with LF line ends, as rcgen writes certificates (the `pem` crate's default is CRLF): the
/// CA certificate reads the same whether it was just made or read back.
fn pem_text(block: &pem::Pem) -> String {
    pem::encode_config(
        block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}

/// The CA folder a server uses: `--org-ca-dir`, or `org-ca/` in the data directory.
pub fn dir_for(data_dir: &Path, configured: Option<&Path>) -> PathBuf {
    configured.map_or_else(|| data_dir.join("org-ca"), Path::to_path_buf)
}

impl OrgCa {
    /// Read the CA from `dir`, or make one there if it has none (first start). Two processes
    /// doing this at once end up with the same CA: the file is linked into place only if absent.
    pub fn load_or_create(dir: &Path, organisation: &str) -> Result<OrgCa, OrgCaError> {
        match OrgCa::load(dir) {
            Err(OrgCaError::Missing(_)) => {}
            other => return other,
        }
        let io = |source| OrgCaError::Io {
            dir: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let ca = OrgCa::generate(organisation)?;
        let mut contents = key_pem(&ca.key);
        contents.push_str(&ca.cert_pem);
        let tmp = dir.join(format!(".{CA_FILE}.{}", std::process::id()));
        write_private(&tmp, contents.as_bytes()).map_err(io)?;
        let linked = std::fs::hard_link(&tmp, dir.join(CA_FILE));
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                tracing::info!(dir = %dir.display(), fingerprint = %ca.fingerprint_sha256(), "organisation CA created")
            }
            // Another process made one first: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return OrgCa::load(dir),
            Err(e) => return Err(io(e)),
        }
        ca.write_public_copy(dir);
        Ok(ca)
    }

    /// Read the CA from `dir` ([`OrgCaError::Missing`] when there is none).
    pub fn load(dir: &Path) -> Result<OrgCa, OrgCaError> {
        let file = dir.join(CA_FILE);
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(OrgCaError::Missing(dir.display().to_string()));
            }
            Err(source) => {
                return Err(OrgCaError::Io {
                    dir: dir.display().to_string(),
                    source,
                });
            }
        };
        let invalid = |why: &str| OrgCaError::Invalid {
            file: file.display().to_string(),
            why: why.to_string(),
        };
        let blocks = pem::parse_many(&text).map_err(|e| invalid(&e.to_string()))?;
        let key_der = blocks
            .iter()
            .find(|b| b.tag() == "PRIVATE KEY")
            .ok_or_else(|| invalid("no PRIVATE KEY block"))?
            .contents();
        let seed: [u8; 32] = key_der
            .strip_prefix(&PKCS8_ED25519_PREFIX[..])
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| invalid("the key is not an Ed25519 PKCS#8 key"))?;
        let cert = blocks
            .iter()
            .find(|b| b.tag() == "CERTIFICATE")
            .ok_or_else(|| invalid("no CERTIFICATE block"))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let ca = OrgCa {
            cert_pem: pem_text(cert),
            cert_der: cert.contents().to_vec(),
            key,
        };
        // The certificate must be the key's: parse it as an issuer and compare the public keys.
        let (_, parsed) = x509_parser::parse_x509_certificate(&ca.cert_der)
            .map_err(|e| invalid(&format!("certificate: {e}")))?;
        if parsed.public_key().subject_public_key.data.as_ref() != ca.key.verifying_key().as_bytes() {
            return Err(invalid("the certificate is not for the key beside it"));
        }
        Ok(ca)
    }

    fn generate(organisation: &str) -> Result<OrgCa, OrgCaError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| OrgCaError::Random(e.to_string()))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = key.verifying_key().to_bytes();
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            format!("{organisation} Content Credentials CA"),
        );
        dn.push(DnType::OrganizationName, organisation);
        params.distinguished_name = dn;
        // Devices only under it: no intermediate CA can be made from it.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.key_identifier_method = key_id(&public);
        params.serial_number = Some(random_serial()?);
        let now = crate::clock::now_ms();
        params.not_before = time_at(now - BACKDATE_DAYS * DAY_MS);
        params.not_after = time_at(now + CA_VALID_DAYS * DAY_MS);
        let cert = params.self_signed(&Ed25519Key {
            public,
            secret: Some(&key),
        })?;
        Ok(OrgCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key,
        })
    }

    /// Best effort: the public copy is a convenience, `admin org-ca show` prints the same.
    fn write_public_copy(&self, dir: &Path) {
        if let Err(e) = std::fs::write(dir.join(CA_CERT_FILE), &self.cert_pem) {
            tracing::warn!(dir = %dir.display(), error = %e, "CA certificate copy not written");
        }
    }

    /// The CA's subject as its certificate has it (the device certificates' issuer name must be
    /// the same). Only the attributes this module writes are expected: common and organisation
    /// name.
    fn subject(&self) -> Result<DistinguishedName, OrgCaError> {
        let invalid = |why: String| OrgCaError::Invalid {
            file: CA_FILE.to_string(),
            why,
        };
        let (_, cert) = x509_parser::parse_x509_certificate(&self.cert_der)
            .map_err(|e| invalid(format!("certificate: {e}")))?;
        let mut dn = DistinguishedName::new();
        for attr in cert.subject().iter_attributes() {
            let value = attr
                .as_str()
                .map_err(|e| invalid(format!("subject: {e}")))?
                .to_string();
            let oid = attr.attr_type();
            if *oid == x509_parser::oid_registry::OID_X509_COMMON_NAME {
                dn.push(DnType::CommonName, value);
            } else if *oid == x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME {
                dn.push(DnType::OrganizationName, value);
            } else {
                return Err(invalid(format!("unexpected subject attribute {oid}")));
            }
        }
        Ok(dn)
    }

    /// The CA certificate, PEM: the trust anchor a Content Credentials reader is given.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// SHA-256 of the CA certificate (DER), as `AB:CD:…`, the form certificate viewers show.
    pub fn fingerprint_sha256(&self) -> String {
        Sha256::digest(&self.cert_der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// An end-entity certificate (PEM) for a device's Ed25519 key, which the device signs its
    /// photos' Content Credentials under (with the CA certificate after it as the chain). The profile C2PA checks of a
    /// claim signer: v3, Ed25519, not a CA, key usage digitalSignature only, extended key usage
    /// emailProtection + documentSigning, subject and authority key identifiers.
    pub fn issue_device_certificate(
        &self,
        device_id: &str,
        public_key: &[u8; 32],
        organisation: &str,
        now_ms: i64,
    ) -> Result<String, OrgCaError> {
        let public = self.key.verifying_key().to_bytes();
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = self.subject()?;
        ca_params.key_identifier_method = key_id(&public);
        let issuer = Issuer::new(
            ca_params,
            Ed25519Key {
                public,
                secret: Some(&self.key),
            },
        );
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        // Device ids are printable ASCII up to 128; X.520 keeps a common name to 64.
        dn.push(DnType::CommonName, device_id.chars().take(64).collect::<String>());
        dn.push(DnType::OrganizationalUnitName, "Fieldproof devices");
        dn.push(DnType::OrganizationName, organisation);
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::EmailProtection,
            ExtendedKeyUsagePurpose::Other(EKU_DOCUMENT_SIGNING.to_vec()),
        ];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = key_id(public_key);
        params.serial_number = Some(random_serial()?);
        params.not_before = time_at(now_ms - BACKDATE_DAYS * DAY_MS);
        params.not_after = time_at(now_ms + DEVICE_VALID_DAYS * DAY_MS);
        let device_key = Ed25519Key {
            public: *public_key,
            secret: None,
        };
        Ok(params.signed_by(&device_key, &issuer)?.pem())
    }
}

/// The store's CA folder.
pub(crate) fn store_dir(store: &Store) -> PathBuf {
    dir_for(&store.data_dir, store.limits.org_ca_dir.as_deref())
}

/// A device's certificate chain (its certificate, then the CA's, PEM): the one it was issued, or
/// a new one issued now (at enrolment, or for a device enrolled before this server issued
/// certificates). Kept in `devices.certificate_pem`, so every replica answers the same.
pub(crate) fn device_chain(store: &Store, device_id: &str, now_ms: i64) -> ApiResult<String> {
    let ca = OrgCa::load_or_create(&store_dir(store), &store.limits.org_name)
        .map_err(|e| ApiError::internal(format!("the organisation CA is not available: {e}")))?;
    let row: Option<(String, Option<String>)> = store
        .reader()?
        .prepare_cached("SELECT public_key_hex, certificate_pem FROM devices WHERE device_id = ?1")?
        .query_row([device_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((key_hex, existing)) = row else {
        return Err(ApiError::UnknownDevice);
    };
    let device_pem = match existing {
        Some(pem) => pem,
        None => {
            let public: [u8; 32] = fieldproof_core::hex::decode_array(&key_hex)
                .ok_or_else(|| ApiError::internal("stored device key is invalid"))?;
            let issued = ca
                .issue_device_certificate(device_id, &public, &store.limits.org_name, now_ms)
                .map_err(|e| ApiError::internal(format!("device certificate: {e}")))?;
            let w = store.writer();
            // Two requests at once: the first one stored wins, and both answer with it.
            w.conn.execute(
                "UPDATE devices SET certificate_pem = ?1 WHERE device_id = ?2 AND certificate_pem IS NULL",
                params![issued, device_id],
            )?;
            let stored: Option<String> = w
                .conn
                .query_row(
                    "SELECT certificate_pem FROM devices WHERE device_id = ?1",
                    [device_id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            tracing::info!("device certificate issued");
            stored.ok_or_else(|| ApiError::internal("device certificate not stored"))?
        }
    };
    let mut chain = device_pem.trim_end().to_string();
    chain.push('\n');
    chain.push_str(ca.cert_pem());
    Ok(chain)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn made_once_then_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let ca_dir = dir.path().join("ca");
        assert!(matches!(OrgCa::load(&ca_dir), Err(OrgCaError::Missing(_))));
        let made = OrgCa::load_or_create(&ca_dir, "Fieldproof").unwrap();
        let again = OrgCa::load_or_create(&ca_dir, "Other").unwrap();
        assert_eq!(made.cert_pem(), again.cert_pem());
        assert_eq!(made.fingerprint_sha256(), again.fingerprint_sha256());
        assert_eq!(
            std::fs::read_to_string(ca_dir.join(CA_CERT_FILE)).unwrap(),
            made.cert_pem()
        );
    }

    #[test]
    fn a_key_and_certificate_that_do_not_match_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        OrgCa::load_or_create(&a, "A").unwrap();
        OrgCa::load_or_create(&b, "B").unwrap();
        let ta = std::fs::read_to_string(a.join(CA_FILE)).unwrap();
        let tb = std::fs::read_to_string(b.join(CA_FILE)).unwrap();
        let key_a = &ta[..ta.find("-----BEGIN CERTIFICATE").unwrap()];
        let cert_b = &tb[tb.find("-----BEGIN CERTIFICATE").unwrap()..];
        std::fs::write(a.join(CA_FILE), format!("{key_a}{cert_b}")).unwrap();
        let err = OrgCa::load(&a).unwrap_err();
        assert!(matches!(err, OrgCaError::Invalid { .. }), "{err}");
    }

    #[test]
    fn device_certificate_has_the_c2pa_signer_profile() {
        let dir = tempfile::tempdir().unwrap();
        let ca = OrgCa::load_or_create(dir.path(), "Fieldproof").unwrap();
        let device = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let mut chain = ca
            .issue_device_certificate(
                "device-1",
                &device.verifying_key().to_bytes(),
                "Fieldproof",
                crate::clock::now_ms(),
            )
            .unwrap();
        chain.push_str(ca.cert_pem());
        let blocks = pem::parse_many(&chain).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(pem_text(&blocks[1]), ca.cert_pem());
        let (_, cert) = x509_parser::parse_x509_certificate(blocks[0].contents()).unwrap();
        assert_eq!(cert.version(), x509_parser::x509::X509Version::V3);
        assert!(!cert.is_ca());
        assert_eq!(
            cert.public_key().subject_public_key.data.as_ref(),
            device.verifying_key().as_bytes()
        );
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(ku.digital_signature() && !ku.key_cert_sign());
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.email_protection && !eku.any && !eku.time_stamping && !eku.ocsp_signing);
        assert!(
            cert.get_extension_unique(&x509_parser::oid_registry::OID_X509_EXT_AUTHORITY_KEY_IDENTIFIER)
                .unwrap()
                .is_some()
        );
        // Signed by the CA's key.
        let (_, ca_cert) = x509_parser::parse_x509_certificate(blocks[1].contents()).unwrap();
        assert_eq!(cert.issuer(), ca_cert.subject());
        let ca_key = ed25519_dalek::VerifyingKey::from_bytes(
            ca_cert
                .public_key()
                .subject_public_key
                .data
                .as_ref()
                .try_into()
                .unwrap(),
        )
        .unwrap();
        let sig = ed25519_dalek::Signature::from_slice(cert.signature_value.data.as_ref()).unwrap();
        ca_key.verify_strict(cert.tbs_certificate.as_ref(), &sig).unwrap();
    }
}
