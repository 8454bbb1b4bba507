//! The capture pipeline on arbitrary bytes: `process` and `phash_of_jpeg` must return a typed
//! error or a valid result, never panic, hang or touch memory they should not (ASan).

#![no_main]

use std::sync::OnceLock;

use fieldproof_core::imaging::{self, Fonts, ProcessOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static FONTS: OnceLock<Fonts> = OnceLock::new();
    let fonts = FONTS.get_or_init(Fonts::bundled);
    // Small limits keep each run fast; the limit checks themselves are what is being fuzzed.
    let opts = ProcessOptions {
        max_long_edge: Some(256),
        max_pixels: 16_000_000,
        max_decoded_pixels: 1_000_000,
        ..ProcessOptions::default()
    };
    let lines = ["2026-11-23 09:14:05 UTC+08:00".to_string(), "SH-E-001 联华超市 · ±8 m".to_string()];
    if let Ok(p) = imaging::process(data, &lines, fonts, &opts) {
        assert!(p.width > 0 && p.height > 0 && (1..=8).contains(&p.orientation));
        assert!(p.jpeg.starts_with(&[0xFF, 0xD8]));
        assert!(p.width.max(p.height) <= p.source_width.max(p.source_height));
    }
    let _ = imaging::phash_of_jpeg(data);
});
