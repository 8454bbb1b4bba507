//! Content Credentials (C2PA) end to end: the real `fieldproof-server` binary issues the device a
//! certificate from the organisation CA at enrolment, the core stamps a photo and embeds a C2PA
//! manifest signed by the device key, and the c2pa crate's own Reader, given only the CA
//! certificate from `admin org-ca show` as its trust anchor, finds it valid and trusted, signed by
//! the device's certificate, with the capture assertions. One flipped pixel byte gives the
//! data-hash mismatch. A photo taken while the device has no certificate carries no manifest,
//! and the next sync fetches one (`GET /v1/device/certificate`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::Path;

use fieldproof_core::content_credentials::{CredentialLocation, EVIDENCE_ASSERTION};
use fieldproof_core::*;
use fieldproof_tests::day::{self, DayClock, Trouble};
use fieldproof_tests::server::ServerProcess;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// The fixture with its plans on today (Shanghai time).
fn reference(dir: &Path) -> std::path::PathBuf {
    let mut r: ReferenceData = serde_json::from_str(fieldproof_tests::REFERENCE_JSON).expect("fixture");
    let today = clock::civil_date(SystemClock.wall_ms(), 480);
    for p in &mut r.plans {
        p.date = today.clone();
    }
    let file = dir.join("reference.json");
    std::fs::write(&file, serde_json::to_string(&r).expect("json")).expect("write");
    file
}

/// The first PEM certificate block of a text.
fn first_pem(text: &str) -> String {
    let start = text.find("-----BEGIN CERTIFICATE-----").expect("a certificate");
    let end_marker = "-----END CERTIFICATE-----";
    let end = text[start..].find(end_marker).expect("its end") + start + end_marker.len();
    format!("{}\n", &text[start..end])
}

/// Read a JPEG's Content Credentials with the org CA as the only trust anchor (`None`: none).
fn read_with(jpeg: &[u8], ca_pem: Option<&str>) -> c2pa::Result<c2pa::Reader> {
    let mut settings = serde_json::json!({
        "verify": {"verify_trust": true, "remote_manifest_fetch": false, "ocsp_fetch": false},
    });
    if let Some(ca) = ca_pem {
        settings["trust"] = serde_json::json!({ "trust_anchors": ca });
    }
    let context = c2pa::Context::new().with_settings(settings)?;
    c2pa::Reader::from_context(context).with_stream("image/jpeg", Cursor::new(jpeg))
}

fn read(jpeg: &[u8], ca_pem: &str) -> c2pa::Result<c2pa::Reader> {
    read_with(jpeg, Some(ca_pem))
}

fn codes(reader: &c2pa::Reader) -> Vec<String> {
    reader
        .validation_status()
        .unwrap_or_default()
        .iter()
        .map(|s| s.code().to_string())
        .collect()
}

/// Flip the lowest bit of one byte of the entropy-coded image data (after the last SOS marker's
/// header), choosing a byte where the flip cannot make or break a JPEG marker.
fn flip_pixel_byte(jpeg: &mut [u8]) {
    let sos = jpeg
        .windows(2)
        .rposition(|w| w == [0xFF, 0xDA])
        .expect("an SOS marker");
    let header_len = usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]));
    let data = sos + 2 + header_len;
    let mut i = data + (jpeg.len() - data) / 2;
    while jpeg[i] == 0xFF || jpeg[i] ^ 1 == 0xFF || jpeg[i - 1] == 0xFF {
        i += 1;
    }
    jpeg[i] ^= 1;
}

#[test]
fn stamped_photos_carry_content_credentials_signed_by_the_device_under_the_org_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(&dir.path().join("data")).expect("server starts");
    let file = reference(dir.path());
    server
        .admin(&["load-reference", file.to_str().expect("utf-8")])
        .expect("reference");
    // The CA was made by the server's first start; `show` prints it and its fingerprint.
    let shown = server.admin(&["org-ca", "show"]).expect("org-ca show");
    assert!(shown.contains("SHA-256 fingerprint: "), "{shown}");
    let ca_pem = first_pem(&shown);

    let rt = runtime();
    let clock = DayClock::real_time();
    let core = day::open_core(&dir.path().join("rep-li.db"), &clock).expect("core");
    assert!(core.device_certificate().unwrap().is_none());
    let code = server.enrol_code("rep-li").expect("code");
    rt.block_on(core.enrol(&server.url(), &code)).expect("enrols");
    let chain = core
        .device_certificate()
        .unwrap()
        .expect("a certificate with the enrolment")
        .chain_pem;
    assert!(
        chain.trim_end().ends_with(ca_pem.trim_end()),
        "the chain ends with the org CA"
    );
    rt.block_on(core.sync()).expect("first sync");

    let store = core
        .stores(None)
        .unwrap()
        .into_iter()
        .find(|s| s.id == "st-001")
        .unwrap();
    core.set_credential_location(CredentialLocation::Coarse);
    let visit = day::store_check(
        &core,
        &clock,
        "rep-li",
        &store,
        Some("plan-li-1"),
        &[day::distinct_photo(1)],
        Trouble::default(),
    )
    .expect("a visit with a photo");
    let photo = &visit.photos[0];
    let jpeg = std::fs::read(&photo.path).unwrap();

    // Valid and trusted: the manifest's signature, the data hash, and the device certificate
    // chaining to the org CA.
    let reader = read(&jpeg, &ca_pem).expect("a manifest");
    assert_eq!(
        reader.validation_state(),
        c2pa::ValidationState::Trusted,
        "{:?}",
        codes(&reader)
    );
    let manifest = reader.active_manifest().expect("an active manifest");
    let sig = manifest.signature_info().expect("signature info");
    assert_eq!(sig.alg, Some(c2pa::SigningAlg::Ed25519));
    assert_eq!(sig.common_name.as_deref(), Some(core.device_id()));
    assert_eq!(sig.issuer.as_deref(), Some("Fieldproof"));
    assert_eq!(
        first_pem(sig.cert_chain()),
        first_pem(&chain),
        "signed by the device's certificate"
    );
    // The capture assertions.
    let actions = manifest
        .assertions()
        .iter()
        .find(|a| a.label() == "c2pa.actions" || a.label() == "c2pa.actions.v2")
        .expect("actions")
        .value()
        .unwrap()
        .clone();
    let created = &actions["actions"][0];
    assert_eq!(created["action"], "c2pa.created");
    assert_eq!(
        created["digitalSourceType"],
        "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
    );
    assert!(created["when"].as_str().is_some_and(|w| w.ends_with('Z')));
    let evidence: serde_json::Value = manifest.find_assertion(EVIDENCE_ASSERTION).expect("evidence");
    assert_eq!(evidence["evidence_code"].as_str(), photo.evidence_code.as_deref());
    assert_eq!(evidence["photo_id"], photo.id.as_str());
    assert_eq!(evidence["device_id"], core.device_id());
    assert_eq!(evidence["place"]["store_code"], store.code.as_str());
    assert_eq!(evidence["location_detail"], "coarse");
    let lat = evidence["location"]["latitude"]
        .as_f64()
        .expect("a coarse latitude");
    assert_eq!((lat * 100.0).round() / 100.0, lat, "rounded to 0.01°");
    assert!(evidence["location"].get("accuracy_m").is_none());

    // Without the org CA as anchor the same photo is valid but not trusted.
    let untrusted = read_with(&jpeg, None).expect("a manifest");
    assert_eq!(untrusted.validation_state(), c2pa::ValidationState::Valid);
    assert!(
        codes(&untrusted)
            .iter()
            .any(|c| c == "signingCredential.untrusted")
    );

    // One flipped bit in the image data: the data hash no longer matches.
    let mut tampered = jpeg.clone();
    flip_pixel_byte(&mut tampered);
    let reader = read(&tampered, &ca_pem).expect("still a manifest");
    let found = codes(&reader);
    assert!(
        found.iter().any(|c| c == "assertion.dataHash.mismatch"),
        "{found:?}"
    );
    assert_eq!(reader.validation_state(), c2pa::ValidationState::Invalid);

    // The Fieldproof evidence is as before: the server took the photo and its signed manifest,
    // whose image hash is the stored file's (C2PA included).
    let report = rt.block_on(core.sync()).expect("sync");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let verdict = core.verify_photo(&photo.id).unwrap();
    assert!(verdict.verified, "{:?}", verdict.problems);

    // A device without a certificate (as one enrolled before this release): photos carry no
    // manifest, the photo is kept, and the next sync fetches the certificate.
    {
        let db = rusqlite::Connection::open(dir.path().join("rep-li.db")).unwrap();
        db.execute("DELETE FROM device_certificate", []).unwrap();
    }
    assert!(core.device_certificate().unwrap().is_none());
    let bare = day::store_check(
        &core,
        &clock,
        "rep-li",
        &store,
        None,
        &[day::distinct_photo(2)],
        Trouble::default(),
    )
    .expect("a visit without a certificate");
    let bare_jpeg = std::fs::read(&bare.photos[0].path).unwrap();
    assert!(
        read(&bare_jpeg, &ca_pem).is_err(),
        "no manifest without a certificate"
    );
    let report = rt.block_on(core.sync()).expect("sync fetches the certificate");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let fetched = core
        .device_certificate()
        .unwrap()
        .expect("fetched by the sync")
        .chain_pem;
    assert_eq!(
        fetched, chain,
        "the same certificate the server issued at enrolment"
    );
}
