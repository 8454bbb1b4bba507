#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Photo evidence end to end through the core: capture stamps, signs, stores and chains a real
//! camera photo; untouched evidence verifies; every kind of tampering gives its reason code;
//! a reused photo is flagged before upload; bad images write nothing.

mod common;

use common::*;
use fieldproof_core::evidence::*;
use fieldproof_core::*;

fn visit(h: &Harness) -> Visit {
    check_in(&h.core, "rep-li", "st-001", Some(fix_st001())).unwrap()
}

fn evidence_of(core: &Core, photo: &Photo) -> (Vec<u8>, SignedEntry, Vec<KnownKey>) {
    let ev = core.photo_evidence(&photo.id).unwrap();
    (
        std::fs::read(&ev.path).unwrap(),
        SignedEntry {
            entry: ev.manifest,
            signature_hex: ev.signature_hex,
        },
        vec![KnownKey {
            device_id: ev.device_id,
            public_key_hex: ev.public_key_hex,
            revoked_ms: None,
        }],
    )
}

fn problems(v: &PhotoVerdict) -> Vec<&'static str> {
    v.problems.iter().map(|c| c.as_str()).collect()
}

/// A JPEG of a scene unlike the test photo (coloured bands and blocks), made here.
fn other_scene(seed: u32) -> Vec<u8> {
    let (w, h) = (1280usize, 960usize);
    let mut px = vec![0u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            let band = ((y * 7 / h) as u32 + seed) % 5;
            let block = ((x / 97 + y / 61) as u32 * (seed + 3)) % 7;
            px[i] = (band * 50 + block * 9) as u8;
            px[i + 1] = ((x * 255 / w) as u32 ^ (block * 31)) as u8;
            px[i + 2] = (((y * 255 / h) as u32 + seed * 40) % 256) as u8;
        }
    }
    let image = turbojpeg::Image {
        pixels: px.as_slice(),
        width: w,
        pitch: w * 3,
        height: h,
        format: turbojpeg::PixelFormat::RGB,
    };
    turbojpeg::compress(image, 90, turbojpeg::Subsamp::Sub2x2)
        .unwrap()
        .to_vec()
}

both_backends!(a_captured_photo_is_stamped_signed_chained_and_verifies, |h| {
    let v = visit(&h);
    let out = h
        .core
        .capture_photo(
            &capture_request(&v.id, Some("shelf_photo"), PhotoKind::ShelfOverview),
            &photo_bytes(),
        )
        .unwrap();
    assert!(out.flags.is_empty(), "{:?}", out.flags);
    let p = &out.photo;
    assert_eq!((p.width, p.height), (Some(1920), Some(1080)));
    assert_eq!(
        p.original_sha256.as_deref(),
        Some(sha256_hex(&photo_bytes()).as_str())
    );
    let code = p.evidence_code.clone().unwrap();
    assert_eq!(
        code,
        evidence_code(p.original_sha256.as_deref().unwrap(), h.core.device_id(), &p.id)
    );

    let verdict = h.core.verify_photo(&p.id).unwrap();
    assert!(verdict.verified, "{:?}", verdict.problems);
    assert_eq!(verdict.evidence_code.as_deref(), Some(code.as_str()));

    let (image, signed, _) = evidence_of(&h.core, p);
    assert_ne!(image, photo_bytes(), "the stored photo carries the watermark");
    let m: serde_json::Value = serde_json::from_str(&signed.entry).unwrap();
    assert_eq!(m["kind"], "visit.photo");
    assert_eq!(m["payload"]["store_code"], "SH-E-001");
    assert_eq!(m["payload"]["location"]["lat_e7"], 312_304_000);
    assert_eq!(m["payload"]["image_sha256"].as_str(), Some(p.sha256.as_str()));
    // The photo is one link of the device's chain, like every other action.
    let ops = h.core.pending_ops(100).unwrap();
    let last = ops.last().unwrap();
    assert_eq!(last.entry.as_deref(), Some(signed.entry.as_str()));
    assert_eq!(m["prev_hash"].as_str(), ops[ops.len() - 2].entry_hash.as_deref());
    assert!(h.core.audit().unwrap().is_clean());
    // It also completes the required photo item.
    assert!(
        !h.core
            .visit_detail(&v.id)
            .unwrap()
            .missing
            .iter()
            .any(|m| m.kind == MissingKind::Photo)
    );
});

both_backends!(every_kind_of_tampering_has_its_code, |h| {
    let v = visit(&h);
    let p = h
        .core
        .add_photo(&v.id, None, PhotoKind::ShelfOverview, &photo_bytes())
        .unwrap();
    let q = h
        .core
        .add_photo(&v.id, None, PhotoKind::CompetitorCloseUp, &other_scene(1))
        .unwrap();
    let (image, signed, keys) = evidence_of(&h.core, &p);
    assert!(verify_photo(&image, &signed, &keys, None).verified);

    // One flipped byte in the image.
    let mut flipped = image.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    assert_eq!(
        problems(&verify_photo(&flipped, &signed, &keys, None)),
        ["image_hash_mismatch"]
    );

    // A swapped photo: another real capture's file under this manifest.
    let (other_image, other_signed, _) = evidence_of(&h.core, &q);
    assert_eq!(
        problems(&verify_photo(&other_image, &signed, &keys, None)),
        ["image_hash_mismatch"]
    );
    assert!(verify_photo(&other_image, &other_signed, &keys, None).verified);

    // One changed manifest field.
    let moved = SignedEntry {
        entry: signed
            .entry
            .replace("\"store_code\":\"SH-E-001\"", "\"store_code\":\"SH-E-002\""),
        signature_hex: signed.signature_hex.clone(),
    };
    assert_ne!(moved.entry, signed.entry);
    assert_eq!(
        problems(&verify_photo(&image, &moved, &keys, None)),
        ["bad_signature"]
    );

    // A manifest signed by another key that claims to be this device.
    let forger = Signer::from_seed(h.core.device_id().into(), [42u8; 32]);
    let forged = SignedEntry {
        entry: signed.entry.clone(),
        signature_hex: forger.sign_hex(signed.entry.as_bytes()),
    };
    assert_eq!(
        problems(&verify_photo(&image, &forged, &keys, None)),
        ["bad_signature"]
    );

    // A device the verifier never enrolled, and a revoked one.
    assert_eq!(
        problems(&verify_photo(&image, &signed, &[], None)),
        ["unknown_key"]
    );
    let revoked = vec![KnownKey {
        revoked_ms: Some(0),
        ..keys[0].clone()
    }];
    assert_eq!(
        problems(&verify_photo(&image, &signed, &revoked, None)),
        ["revoked_key"]
    );

    // A key holder re-signs the manifest with another evidence code than the one printed.
    let code = p.evidence_code.clone().unwrap();
    let recoded = signed.entry.replace(&code, "0000-0000");
    let holder_keys = vec![KnownKey {
        device_id: h.core.device_id().into(),
        public_key_hex: forger.public_key_hex(),
        revoked_ms: None,
    }];
    let resigned = SignedEntry {
        signature_hex: forger.sign_hex(recoded.as_bytes()),
        entry: recoded,
    };
    assert_eq!(
        problems(&verify_photo(&image, &resigned, &holder_keys, None)),
        ["code_mismatch"]
    );

    // A file changed on the device is caught by the device's own check too.
    let ev = h.core.photo_evidence(&p.id).unwrap();
    std::fs::write(&ev.path, &flipped).unwrap();
    assert_eq!(
        problems(&h.core.verify_photo(&p.id).unwrap()),
        ["image_hash_mismatch"]
    );
});

both_backends!(a_reused_photo_is_flagged_before_upload, |h| {
    let a = visit(&h);
    h.core
        .add_photo(
            &a.id,
            Some("shelf_photo"),
            PhotoKind::ShelfOverview,
            &photo_bytes(),
        )
        .unwrap();
    h.core.cancel_visit(&a.id, "test").unwrap();
    // The next visit, another store, the same shelf photo again, re-encoded by a gallery app.
    let b = check_in(&h.core, "rep-li", "st-002", None).unwrap();
    let reencoded = {
        let img = turbojpeg::decompress(&photo_bytes(), turbojpeg::PixelFormat::RGB).unwrap();
        turbojpeg::compress(img.as_deref(), 70, turbojpeg::Subsamp::Sub2x2)
            .unwrap()
            .to_vec()
    };
    let out = h
        .core
        .capture_photo(
            &capture_request(&b.id, Some("shelf_photo"), PhotoKind::ShelfOverview),
            &reencoded,
        )
        .unwrap();
    assert_eq!(
        out.flags.iter().map(|f| f.code).collect::<Vec<_>>(),
        [FlagCode::PossibleReuse]
    );
    assert!(out.flags[0].detail.contains(&a.id));
    let (_, signed, _) = evidence_of(&h.core, &out.photo);
    let m: serde_json::Value = serde_json::from_str(&signed.entry).unwrap();
    assert_eq!(m["payload"]["possible_reuse_of"][0]["visit_id"], a.id.as_str());
    assert!(
        h.core
            .open_exceptions(10)
            .unwrap()
            .iter()
            .any(|e| e.flag.code == FlagCode::PossibleReuse)
    );
    // A different scene in the same visit is not.
    let out = h
        .core
        .capture_photo(&capture_request(&b.id, None, PhotoKind::Other), &other_scene(2))
        .unwrap();
    assert!(out.flags.is_empty(), "{:?}", out.flags);
    // Two photos of the same shelf within one visit are normal, not reuse.
    let out = h
        .core
        .capture_photo(&capture_request(&b.id, None, PhotoKind::Other), &reencoded)
        .unwrap();
    assert!(out.flags.iter().all(|f| !f.detail.contains(&b.id)));
});

/// Offset of the frame header (SOF0/SOF2) of the main image, walking the segments so that an
/// EXIF thumbnail's own SOF is skipped.
fn sof_offset(jpeg: &[u8]) -> usize {
    let mut i = 2;
    loop {
        let (marker, len) = (
            jpeg[i + 1],
            usize::from(u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]])),
        );
        if marker == 0xC0 || marker == 0xC2 {
            return i;
        }
        i += 2 + len;
    }
}

both_backends!(bad_images_are_refused_and_write_nothing, |h| {
    let v = visit(&h);
    let photo_dir = h.core.photo_dir().to_path_buf();
    let files = || std::fs::read_dir(&photo_dir).map(|d| d.count()).unwrap_or(0);
    let before_files = files();
    let mut truncated = photo_bytes();
    truncated.truncate(truncated.len() / 3);
    let mut random = vec![0u8; 50_000];
    for (i, b) in random.iter_mut().enumerate() {
        *b = (i.wrapping_mul(2_654_435_761) >> 7) as u8;
    }
    // A valid SOI and SOF claiming 60000×60000: must be refused before any allocation.
    let mut bomb = photo_bytes();
    let sof = sof_offset(&bomb);
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xEA, 0x60, 0xEA, 0x60]);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0".to_vec();
    for (bytes, code) in [
        (Vec::new(), "image_empty"),
        (png, "not_jpeg"),
        (random, "not_jpeg"),
        (truncated, "image_corrupt"),
        (bomb, "image_too_large"),
    ] {
        let before = fingerprint(&h.core);
        let err = h
            .core
            .capture_photo(&capture_request(&v.id, None, PhotoKind::Other), &bytes)
            .expect_err(code);
        assert_eq!(err.code(), code, "{err}");
        assert_eq!(fingerprint(&h.core), before);
    }
    assert_eq!(files(), before_files, "no file written for a refused image");
    let mut bad_fix = capture_request(&v.id, None, PhotoKind::Other);
    bad_fix.fix.as_mut().unwrap().latitude = f64::NAN;
    assert_eq!(
        h.core.capture_photo(&bad_fix, &photo_bytes()).unwrap_err().code(),
        "invalid_location"
    );
    let mut bad_tz = capture_request(&v.id, None, PhotoKind::Other);
    bad_tz.utc_offset_minutes = 24 * 60;
    assert_eq!(
        h.core.capture_photo(&bad_tz, &photo_bytes()).unwrap_err().code(),
        "invalid_input"
    );
    assert!(h.core.audit().unwrap().is_clean());
});

both_backends!(photos_are_downscaled_to_the_long_edge_limit, |h| {
    let v = visit(&h);
    h.core.set_photo_max_long_edge(Some(1024)).unwrap();
    let p = h
        .core
        .add_photo(&v.id, None, PhotoKind::Other, &photo_bytes())
        .unwrap();
    assert_eq!(
        (p.width, p.height),
        (Some(960), Some(540)),
        "DCT-domain 1/2 scale"
    );
    assert!(h.core.verify_photo(&p.id).unwrap().verified);
    h.core.set_photo_max_long_edge(None).unwrap();
    let p = h
        .core
        .add_photo(&v.id, None, PhotoKind::Other, &photo_bytes())
        .unwrap();
    assert_eq!((p.width, p.height), (Some(1920), Some(1080)));
});

#[test]
fn evidence_survives_reopening_the_database() {
    let h = harness(Backend::File);
    let v = visit(&h);
    let p = h
        .core
        .add_photo(&v.id, None, PhotoKind::Other, &photo_bytes())
        .unwrap();
    let key = h.core.device_public_key();
    let db = h.db_path().unwrap();
    drop(h.core);
    let core = Core::open(&db).unwrap();
    assert_eq!(core.device_public_key(), key, "the device key is kept");
    assert!(core.verify_photo(&p.id).unwrap().verified);
    assert_eq!(core.verify_photo("nope").unwrap_err().code(), "unknown_photo");
}
