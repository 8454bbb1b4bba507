//! The simulated days' photos must be told apart by the reuse check, or every sync test would be
//! full of false `possible_reuse` exceptions and could not tell a planted reuse from noise.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fieldproof_core::imaging::{REUSE_THRESHOLD, hamming, phash_of_jpeg};
use fieldproof_tests::day::distinct_photo;

#[test]
fn distinct_photos_are_not_reuse_of_each_other() {
    let hashes: Vec<u64> = (0..100)
        .map(|n| phash_of_jpeg(&distinct_photo(n)).expect("a JPEG the core can read"))
        .collect();
    let mut min = u32::MAX;
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            min = min.min(hamming(hashes[i], hashes[j]));
        }
    }
    println!("smallest distance between 100 simulated photos: {min}");
    assert!(min > REUSE_THRESHOLD, "{min}");
    assert!(min >= fieldproof_tests::day::MIN_SERIES_DISTANCE);
}
