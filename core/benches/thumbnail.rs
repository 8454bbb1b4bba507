#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The server's gallery preview (`imaging::thumbnail`, ≤ 320 px, quality 75) on the camera test
//! photos, with a floor measured in the same run: libjpeg-turbo alone decoding at the same n/8
//! DCT scale and encoding that at quality 75 (no orientation, no exact resize).
//!
//! `cargo bench -p fieldproof-core --bench thumbnail` (`BENCH_QUICK=1` for a short run).

use std::time::{Duration, Instant};

use fieldproof_core::imaging::thumbnail;
use turbojpeg::{Decompressor, Image, PixelFormat, ScalingFactor, Subsamp};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data");

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1_000.0
}

/// Decode at `n`/8 and encode at q75: what any libjpeg-based preview costs at least.
fn floor(jpeg: &[u8], n: usize) -> usize {
    let scale = ScalingFactor::new(n, 8);
    let mut d = Decompressor::new().unwrap();
    d.set_scaling_factor(scale).unwrap();
    let h = d.read_header(jpeg).unwrap().scaled(scale);
    let mut rgb = vec![0u8; h.width * h.height * 3];
    let image = Image {
        pixels: rgb.as_mut_slice(),
        width: h.width,
        pitch: h.width * 3,
        height: h.height,
        format: PixelFormat::RGB,
    };
    d.decompress(jpeg, image).unwrap();
    let image = Image {
        pixels: rgb.as_slice(),
        width: h.width,
        pitch: h.width * 3,
        height: h.height,
        format: PixelFormat::RGB,
    };
    turbojpeg::compress(image, 75, Subsamp::Sub2x2).unwrap().len()
}

fn main() {
    let runs = if std::env::var_os("BENCH_QUICK").is_some() {
        5
    } else {
        41
    };
    // (file, the n/8 scale `thumbnail` decodes at: the smallest whose long edge is ≥ 320)
    for (name, n) in [("photo-1920x1080.jpg", 2), ("photo-4000x3000.jpg", 1)] {
        let photo = std::fs::read(format!("{TESTDATA}/{name}")).expect("the shared test data");
        let (mut ours, mut base) = (Vec::new(), Vec::new());
        let (mut bytes, mut size, mut floor_bytes) = (0, (0, 0), 0);
        for _ in 0..runs {
            let t = Instant::now();
            let th = thumbnail(&photo, 320, 75).unwrap();
            ours.push(t.elapsed());
            (bytes, size) = (th.jpeg.len(), (th.width, th.height));
            let t = Instant::now();
            floor_bytes = floor(&photo, n);
            base.push(t.elapsed());
        }
        let (a, b) = (median(ours), median(base));
        println!(
            "{name} ({} B): thumbnail {}x{} {bytes} B, median {a:.2} ms; floor (decode 1/{} + encode q75, {floor_bytes} B) {b:.2} ms; {:.2}x floor",
            photo.len(),
            size.0,
            size.1,
            8 / n,
            a / b
        );
    }
}
