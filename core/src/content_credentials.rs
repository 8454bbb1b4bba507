//! Content Credentials (C2PA) on every stamped photo: a C2PA manifest embedded in the JPEG, signed
//! on the device by the device key, under the X.509 certificate the organisation's CA issued for
//! that key at enrolment. Any Content Credentials tool (c2patool, c2pa-python, the CAI's
//! inspector) can then read what the photo is: the capture action and time, where (exact, about
//! 1 km, or left out: [`CredentialLocation`]), the store or customer, and the evidence code.
//!
//! This is an extra beside the Fieldproof evidence, not a replacement: the signed `visit.photo` /
//! `customer.photo` chain entry still carries the stored file's SHA-256 (which now includes the
//! embedded C2PA manifest), and the server verifies that as before. See docs/content-credentials.md.
//!
//! The C2PA code itself is behind the core's `content-credentials` feature (it adds ~12 MiB to
//! the stripped mobile library, docs/PERFORMANCE.md); the device's certificate and the location
//! setting are kept either way, so a build without it keeps what the server sends.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::model::LocationFix;

/// How much of the capture location a photo's Content Credentials say. The Fieldproof manifest
/// (for head office) always keeps the exact fix; Content Credentials travel with the file to
/// whoever it is shared with, so by default they say only the neighbourhood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CredentialLocation {
    /// The fix as measured (latitude and longitude to 7 decimals, accuracy in metres).
    Exact,
    /// Latitude and longitude rounded to 0.01° (about 1 km), no accuracy.
    #[default]
    Coarse,
    /// No location at all.
    Omitted,
}

impl CredentialLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialLocation::Exact => "exact",
            CredentialLocation::Coarse => "coarse",
            CredentialLocation::Omitted => "omitted",
        }
    }
}

/// The label of Fieldproof's own assertion in the C2PA manifest.
pub const EVIDENCE_ASSERTION: &str = "cn.fieldproof.evidence";

/// The device's certificate chain as the server issued it (PEM: the device certificate, then the
/// organisation CA's), and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertificate {
    pub chain_pem: String,
    pub received_ms: i64,
}

/// Longest chain accepted from a server: two certificates are ~1.5 KB; this leaves room for an
/// intermediate CA without letting a broken server fill the phone's database.
pub const MAX_CHAIN_PEM_LEN: usize = 64 * 1024;

pub(crate) fn device_certificate(conn: &Connection) -> Result<Option<DeviceCertificate>> {
    Ok(conn
        .query_row(
            "SELECT chain_pem, received_ms FROM device_certificate WHERE id = 1",
            [],
            |r| {
                Ok(DeviceCertificate {
                    chain_pem: r.get(0)?,
                    received_ms: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// Keep the chain the server sent. An empty chain (a server without the CA, or an older one) is
/// not stored: the device keeps any chain it already has and asks again at the next sync.
#[cfg_attr(not(feature = "sync-client"), allow(dead_code))]
pub(crate) fn store_device_certificate(conn: &Connection, chain_pem: &str, now_ms: i64) -> Result<bool> {
    let chain_pem = chain_pem.trim();
    if chain_pem.is_empty() {
        return Ok(false);
    }
    if chain_pem.len() > MAX_CHAIN_PEM_LEN || !chain_pem.starts_with("-----BEGIN CERTIFICATE-----") {
        return Err(Error::SyncProtocol(
            "the server's device certificate is not a PEM certificate chain".into(),
        ));
    }
    conn.execute(
        "INSERT INTO device_certificate (id, chain_pem, received_ms) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET chain_pem = excluded.chain_pem, received_ms = excluded.received_ms",
        params![chain_pem, now_ms],
    )?;
    Ok(true)
}

/// What a photo's Content Credentials say about it, gathered by the capture (read only when
/// the feature is on).
#[cfg_attr(not(feature = "content-credentials"), allow(dead_code))]
pub(crate) struct PhotoFacts<'a> {
    pub photo_id: &'a str,
    pub device_id: &'a str,
    pub user_id: &'a str,
    pub captured_at_ms: i64,
    pub utc_offset_minutes: i32,
    pub fix: Option<&'a LocationFix>,
    pub place: Place<'a>,
    pub evidence_code: &'a str,
}

/// Where the photo is of: a store visit, or a customer's stage evidence.
#[cfg_attr(not(feature = "content-credentials"), allow(dead_code))]
pub(crate) enum Place<'a> {
    Store {
        id: &'a str,
        code: &'a str,
        name: &'a str,
    },
    Customer {
        id: &'a str,
        name: &'a str,
    },
}

/// The `cn.fieldproof.evidence` assertion: everything a reader needs to match the photo to
/// Fieldproof's own records, with the location as [`CredentialLocation`] allows.
#[cfg_attr(not(feature = "content-credentials"), allow(dead_code))]
pub(crate) fn evidence_assertion(f: &PhotoFacts<'_>, location: CredentialLocation) -> serde_json::Value {
    let mut v = serde_json::json!({
        "evidence_code": f.evidence_code,
        "photo_id": f.photo_id,
        "device_id": f.device_id,
        "user_id": f.user_id,
        "captured_at": crate::clock::format_rfc3339_utc(f.captured_at_ms),
        "captured_at_ms": f.captured_at_ms,
        "utc_offset_minutes": f.utc_offset_minutes,
        "location_detail": location.as_str(),
    });
    v["place"] = match f.place {
        Place::Store { id, code, name } => serde_json::json!({
            "kind": "store", "store_id": id, "store_code": code, "store_name": name,
        }),
        Place::Customer { id, name } => serde_json::json!({
            "kind": "customer", "customer_id": id, "customer_name": name,
        }),
    };
    if let Some(loc) = f.fix.and_then(|fix| location_json(fix, location)) {
        v["location"] = loc;
    }
    v
}

#[cfg_attr(not(feature = "content-credentials"), allow(dead_code))]
fn location_json(fix: &LocationFix, detail: CredentialLocation) -> Option<serde_json::Value> {
    match detail {
        CredentialLocation::Omitted => None,
        CredentialLocation::Exact => Some(serde_json::json!({
            "latitude": (fix.latitude * 1e7).round() / 1e7,
            "longitude": (fix.longitude * 1e7).round() / 1e7,
            "accuracy_m": fix.accuracy_m,
            "is_mock": fix.is_mock,
        })),
        CredentialLocation::Coarse => Some(serde_json::json!({
            "latitude": (fix.latitude * 100.0).round() / 100.0,
            "longitude": (fix.longitude * 100.0).round() / 100.0,
            "is_mock": fix.is_mock,
        })),
    }
}

#[cfg(feature = "content-credentials")]
pub(crate) use signing::embed;

#[cfg(feature = "content-credentials")]
mod signing {
    use std::io::Cursor;

    use super::{CredentialLocation, EVIDENCE_ASSERTION, PhotoFacts};
    use crate::evidence;

    /// Why a photo got no Content Credentials (it is stored without them; see
    /// [`crate::Core::with_content_credentials`]).
    #[derive(Debug, thiserror::Error)]
    pub(crate) enum EmbedError {
        #[error("the device certificate chain cannot be read: {0}")]
        Chain(String),
        #[error("C2PA signing failed: {0}")]
        C2pa(#[from] c2pa::Error),
        #[error("C2PA manifest definition: {0}")]
        Json(#[from] serde_json::Error),
    }

    /// c2pa's signer over the core's device key: Ed25519, the device certificate in `x5chain`,
    /// no time-stamp authority (the phone is often offline; the capture time is in the signed
    /// claim and in the Fieldproof chain).
    struct DeviceSigner<'a> {
        key: &'a evidence::Signer,
        /// DER, the device's own certificate first.
        certs: Vec<Vec<u8>>,
    }

    impl c2pa::Signer for DeviceSigner<'_> {
        fn sign(&self, data: &[u8]) -> c2pa::Result<Vec<u8>> {
            Ok(self.key.sign_bytes(data).to_vec())
        }
        fn alg(&self) -> c2pa::SigningAlg {
            c2pa::SigningAlg::Ed25519
        }
        fn certs(&self) -> c2pa::Result<Vec<Vec<u8>>> {
            Ok(self.certs.clone())
        }
        fn reserve_size(&self) -> usize {
            // The COSE signature structure: the certificates, a 64-byte signature and headers.
            1024 + self.certs.iter().map(Vec::len).sum::<usize>()
        }
    }

    /// The certificates to put in `x5chain`: the device certificate and any intermediates, not
    /// the organisation's root (a reader brings its own trust anchor; C2PA leaves it out).
    fn chain_der(chain_pem: &str) -> Result<Vec<Vec<u8>>, EmbedError> {
        let certs = pem::parse_many(chain_pem).map_err(|e| EmbedError::Chain(e.to_string()))?;
        let mut der: Vec<Vec<u8>> = certs
            .into_iter()
            .filter(|p| p.tag() == "CERTIFICATE")
            .map(|p| p.into_contents())
            .collect();
        if der.is_empty() {
            return Err(EmbedError::Chain("no certificate in it".into()));
        }
        // The last one is the organisation CA when the chain has more than the device's own.
        if der.len() > 1 {
            der.pop();
        }
        Ok(der)
    }

    /// The stamped JPEG with a signed C2PA manifest embedded (a new APP11 segment; the image data
    /// is untouched).
    pub(crate) fn embed(
        jpeg: &[u8],
        key: &evidence::Signer,
        chain_pem: &str,
        facts: &PhotoFacts<'_>,
        location: CredentialLocation,
    ) -> Result<Vec<u8>, EmbedError> {
        let signer = DeviceSigner {
            key,
            certs: chain_der(chain_pem)?,
        };
        let when = crate::clock::format_rfc3339_utc(facts.captured_at_ms);
        let definition = serde_json::json!({
            "claim_generator_info": [{"name": "Fieldproof", "version": env!("CARGO_PKG_VERSION")}],
            "title": format!("{}.jpg", facts.photo_id),
            "format": "image/jpeg",
            "assertions": [
                {
                    "label": "c2pa.actions",
                    "data": {"actions": [{
                        "action": "c2pa.created",
                        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                        "when": when,
                        "softwareAgent": {"name": "Fieldproof", "version": env!("CARGO_PKG_VERSION")},
                    }]},
                },
                {
                    "label": EVIDENCE_ASSERTION,
                    "data": super::evidence_assertion(facts, location),
                },
            ],
        });
        // Settings of this call only (no process-wide state): no verification of our own output
        // (the tests do that), nothing fetched from a network.
        let context = c2pa::Context::new().with_settings(serde_json::json!({
            "verify": {"verify_after_sign": false, "remote_manifest_fetch": false, "ocsp_fetch": false},
        }))?;
        let mut builder = c2pa::Builder::from_context(context).with_definition(definition)?;
        let mut source = Cursor::new(jpeg);
        let mut dest = Cursor::new(Vec::with_capacity(jpeg.len() + 16 * 1024));
        builder.sign(&signer, "image/jpeg", &mut source, &mut dest)?;
        Ok(dest.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LocationProvider;

    fn facts(fix: &LocationFix) -> PhotoFacts<'_> {
        PhotoFacts {
            photo_id: "p1",
            device_id: "d1",
            user_id: "u1",
            captured_at_ms: 1_795_395_600_000,
            utc_offset_minutes: 480,
            fix: Some(fix),
            place: Place::Store {
                id: "s1",
                code: "S001",
                name: "华联超市",
            },
            evidence_code: "ABCD-EFGH",
        }
    }

    #[test]
    fn location_detail_is_as_configured() {
        let fix = LocationFix {
            latitude: 31.2304567,
            longitude: 121.4737012,
            accuracy_m: 8.0,
            provider: LocationProvider::Gps,
            is_mock: false,
            fix_time_ms: 1_795_395_600_000,
        };
        let exact = evidence_assertion(&facts(&fix), CredentialLocation::Exact);
        assert_eq!(exact["location"]["latitude"], 31.2304567);
        assert_eq!(exact["location"]["accuracy_m"], 8.0);
        let coarse = evidence_assertion(&facts(&fix), CredentialLocation::Coarse);
        assert_eq!(coarse["location"]["latitude"], 31.23);
        assert_eq!(coarse["location"]["longitude"], 121.47);
        assert!(coarse["location"].get("accuracy_m").is_none());
        let none = evidence_assertion(&facts(&fix), CredentialLocation::Omitted);
        assert!(none.get("location").is_none());
        assert_eq!(none["location_detail"], "omitted");
        assert_eq!(none["captured_at"], "2026-11-23T01:00:00Z");
        assert_eq!(none["place"]["store_code"], "S001");
        assert_eq!(none["evidence_code"], "ABCD-EFGH");
    }
}
