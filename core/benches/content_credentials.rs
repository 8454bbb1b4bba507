#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What Content Credentials (C2PA) add to a capture, with a same-run reference: the same photo
//! captured into the same visit, alternately with the device certificate present (a C2PA
//! manifest is built, signed by the device key and embedded) and absent (the capture as before).
//!
//! `cargo bench -p fieldproof-core --features content-credentials --bench content_credentials`
//! (`BENCH_QUICK=1`: a short run). Figures: docs/PERFORMANCE.md, "Content Credentials".
//!
//! The certificate chain is made here with rcgen for the core's own key (a bench CA, as the
//! server's `org_ca` makes one), so the manifests are real ones a reader would accept.

use std::time::{Duration, Instant};

use ed25519_dalek::Signer as _;
use fieldproof_core::*;

struct Key<'a> {
    public: [u8; 32],
    secret: Option<&'a ed25519_dalek::SigningKey>,
}

impl rcgen::PublicKeyData for Key<'_> {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }
    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ED25519
    }
}

impl rcgen::SigningKey for Key<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.secret.unwrap().sign(msg).to_bytes().to_vec())
    }
}

/// A device certificate for `device_public` under a fresh bench CA, then the CA's (PEM).
fn chain_for(device_public: [u8; 32]) -> String {
    let ca_key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let ca = Key {
        public: ca_key.verifying_key().to_bytes(),
        secret: Some(&ca_key),
    };
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name.push(rcgen::DnType::CommonName, "Bench CA");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    p.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    p.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![1; 20]);
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&[1, 2, 3]));
    let ca_cert = p.self_signed(&ca).unwrap();
    let issuer = rcgen::Issuer::new(p, ca);
    let mut d = rcgen::CertificateParams::default();
    d.distinguished_name
        .push(rcgen::DnType::CommonName, "bench device");
    d.is_ca = rcgen::IsCa::ExplicitNoCa;
    d.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    d.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::EmailProtection];
    d.use_authority_key_identifier_extension = true;
    d.key_identifier_method = rcgen::KeyIdMethod::PreSpecified(vec![2; 20]);
    d.serial_number = Some(rcgen::SerialNumber::from_slice(&[4, 5, 6]));
    let device = Key {
        public: device_public,
        secret: None,
    };
    let cert = d.signed_by(&device, &issuer).unwrap();
    format!("{}{}", cert.pem(), ca_cert.pem())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    let rounds = if quick { 3 } else { 15 };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("bench.db");
    let core = Core::open(&db).unwrap();
    let reference: ReferenceData =
        serde_json::from_str(include_str!("../../tests/fixtures/reference.json")).unwrap();
    core.load_reference_data(&reference).unwrap();
    let public: [u8; 32] = fieldproof_core::hex::decode_array(&core.device_public_key()).unwrap();
    let chain = chain_for(public);
    let side = rusqlite::Connection::open(&db).unwrap();
    let fix = LocationFix {
        latitude: 31.2305,
        longitude: 121.52,
        accuracy_m: 8.0,
        provider: LocationProvider::Gps,
        is_mock: false,
        fix_time_ms: SystemClock.wall_ms(),
    };
    let visit = core
        .check_in(&CheckInRequest {
            user_id: "rep-li".into(),
            store_id: "st-001".into(),
            plan_id: None,
            template_id: Some("tpl-store-check".into()),
            fix: Some(fix.clone()),
        })
        .unwrap();
    let request = CaptureRequest {
        visit_id: visit.id.clone(),
        item_id: None,
        kind: PhotoKind::ShelfOverview,
        fix: Some(fix),
        utc_offset_minutes: 480,
        retake_request_id: None,
    };
    println!("\n## Content Credentials: capture with and without a C2PA manifest ({rounds} rounds each)");
    println!("| photo | without C2PA | with C2PA | added | ratio | bytes added |");
    println!("|---|---|---|---|---|---|");
    for (name, file) in [
        ("12 MP, long edge ≤ 2048 px (default)", "photo-4000x3000.jpg"),
        ("1920×1080", "photo-1920x1080.jpg"),
    ] {
        let jpeg = std::fs::read(format!("{}/../tests/data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let (mut with, mut without) = (Vec::new(), Vec::new());
        let (mut with_len, mut without_len) = (0, 0);
        for _ in 0..rounds {
            for c2pa in [false, true] {
                side.execute("DELETE FROM device_certificate", []).unwrap();
                if c2pa {
                    side.execute(
                        "INSERT INTO device_certificate (id, chain_pem, received_ms) VALUES (1, ?1, 0)",
                        [&chain],
                    )
                    .unwrap();
                }
                let t = Instant::now();
                let out = core.capture_photo(&request, &jpeg).unwrap();
                let took = t.elapsed();
                if c2pa {
                    with.push(took);
                    with_len = out.photo.byte_len;
                } else {
                    without.push(took);
                    without_len = out.photo.byte_len;
                }
            }
        }
        assert!(with_len > without_len, "the manifest was embedded");
        let (w, wo) = (median(with), median(without));
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:+.1} ms | {:.2}× | {} |",
            ms(wo),
            ms(w),
            ms(w) - ms(wo),
            w.as_secs_f64() / wo.as_secs_f64(),
            with_len - without_len
        );
    }
}
