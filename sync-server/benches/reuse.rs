//! The `possible_reuse` check at scale: one search of the multi-index hash the server keeps
//! (`src/photo_reuse.rs`, compiled here from the same file) against N stored photos, with two
//! references measured in the same run on the same hashes: comparing with every stored hash
//! (the linear scan, over the index's own dense columns) and a BK-tree.
//!
//!     cargo bench -p fieldproof-server --bench reuse [-- PHOTOS QUERIES]
//!
//! Defaults: 1,000,000 photos, 2,000 queries. The hashes look like real pHashes: 63 bits, 31 of
//! them set. 90 % are unrelated photos; 10 % are 1,000 scenes photographed 100 times each
//! (re-encoded, rescaled, cropped: each copy 2 to 8 bits from its scene). Half the queries are
//! new unrelated photos (nearly always no match), half a new copy of a stored scene (about
//! 100 matches). Every answer of the index is checked against the scan's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// The server's own index, compiled from its file: the search measured is the one the server
// runs. Its unit tests belong to the library (`cargo test`); a bench checked in test mode
// (`clippy --all-targets`) compiles the module without them, leaving its import unused.
#[allow(dead_code, unused_imports)]
#[path = "../src/photo_reuse.rs"]
mod reuse;

use std::time::{Duration, Instant};

use fieldproof_core::imaging::{REUSE_THRESHOLD, hamming};
use reuse::ReuseIndex;

#[path = "../tests/support/seeded.rs"]
mod seeded;
use seeded::Rng;

/// Draws of this file on the shared seeded generator.
impl Rng {
    /// A pHash-like value: 63 bits, exactly 31 set (the core's hash sets the bits above the
    /// median of 63 coefficients).
    fn phash(&mut self) -> u64 {
        let mut h = self.next() >> 1;
        while h.count_ones() > 31 {
            h &= !(1 << self.below(63));
        }
        while h.count_ones() < 31 {
            h |= 1 << self.below(63);
        }
        h
    }

    /// A copy of `h` `swaps` × 2 bits away, still 31 bits set (one bit on, one off per swap).
    fn near(&mut self, h: u64, swaps: u32) -> u64 {
        let mut out = h;
        for _ in 0..swaps {
            let on = loop {
                let b = self.below(63);
                if out & (1 << b) == 0 {
                    break b;
                }
            };
            let off = loop {
                let b = self.below(63);
                if out & (1 << b) != 0 {
                    break b;
                }
            };
            out ^= (1 << on) | (1 << off);
        }
        out
    }
}

/// The alternative index: a BK-tree over the Hamming metric. Node = (hash, children by edge
/// distance).
struct BkTree {
    nodes: Vec<(u64, Vec<(u8, u32)>)>,
}

impl BkTree {
    fn insert(&mut self, h: u64) {
        if self.nodes.is_empty() {
            self.nodes.push((h, Vec::new()));
            return;
        }
        let new = self.nodes.len() as u32;
        let mut at = 0usize;
        loop {
            let d = hamming(h, self.nodes[at].0) as u8;
            match self.nodes[at].1.iter().find(|(e, _)| *e == d) {
                Some(&(_, child)) => at = child as usize,
                None => {
                    self.nodes[at].1.push((d, new));
                    break;
                }
            }
        }
        self.nodes.push((h, Vec::new()));
    }

    /// How many stored hashes are within the threshold, and how many nodes the search visited.
    fn count_within(&self, h: u64) -> (usize, usize) {
        let (mut found, mut visited) = (0, 0);
        let mut stack = vec![0u32];
        while let Some(at) = stack.pop() {
            let (node, children) = &self.nodes[at as usize];
            visited += 1;
            let d = hamming(h, *node);
            if d <= REUSE_THRESHOLD {
                found += 1;
            }
            let (lo, hi) = (d.saturating_sub(REUSE_THRESHOLD), d + REUSE_THRESHOLD);
            stack.extend(
                children
                    .iter()
                    .filter(|(e, _)| (lo..=hi).contains(&u32::from(*e)))
                    .map(|(_, c)| *c),
            );
        }
        (found, visited)
    }
}

/// Searches of the BK-tree per kind of query.
const BK_QUERIES: usize = 50;

fn sha(i: u64) -> String {
    format!("{i:064x}")
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 and p99 in milliseconds.
fn percentiles(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort_unstable();
    let at = |p: f64| ms(v[((v.len() - 1) as f64 * p).round() as usize]);
    (at(0.50), at(0.99))
}

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let photos = args.first().copied().unwrap_or(1_000_000);
    let queries = args.get(1).copied().unwrap_or(2_000);
    let scenes = (photos / 1_000).max(1);
    let per_scene = (photos / 10 / scenes).max(1);

    let mut rng = Rng(0x00f1_e1d9_700f);
    let centres: Vec<u64> = (0..scenes).map(|_| rng.phash()).collect();
    let mut hashes = Vec::with_capacity(photos);
    for i in 0..photos {
        let h = if i % 10 == 0 {
            let swaps = 1 + rng.below(4) as u32;
            rng.near(centres[(i / 10) % scenes], swaps)
        } else {
            rng.phash()
        };
        hashes.push(h);
    }

    let rss_before = rss_kib();
    let started = Instant::now();
    let mut index = ReuseIndex::new();
    for (i, &h) in hashes.iter().enumerate() {
        // Every photo in its own visit: nothing is filtered out for being the same visit.
        index.insert(h, &sha(i as u64), &format!("visit-{i}"));
    }
    let build = started.elapsed();
    let rss_index = rss_kib().saturating_sub(rss_before);

    let started = Instant::now();
    let mut bk = BkTree { nodes: Vec::new() };
    for &h in &hashes {
        bk.insert(h);
    }
    let bk_build = started.elapsed();

    println!(
        "{photos} stored photos ({scenes} scenes x ~{per_scene} copies + unrelated), {queries} queries, threshold {REUSE_THRESHOLD}"
    );
    println!(
        "multi-index build: {:.0} ms, {:.1} MiB held (RSS grew {:.1} MiB); BK-tree build: {:.0} ms",
        ms(build),
        index.heap_bytes() as f64 / 1_048_576.0,
        rss_index as f64 / 1024.0,
        ms(bk_build)
    );

    for kind in ["unrelated photo", "copy of a stored scene"] {
        let (mut t_index, mut t_scan, mut t_bk) = (Vec::new(), Vec::new(), Vec::new());
        let (mut matched, mut visited) = (0usize, 0usize);
        for q in 0..queries / 2 {
            let query = if kind == "unrelated photo" {
                rng.phash()
            } else {
                let swaps = 1 + rng.below(4) as u32;
                let scene = centres[rng.below(scenes as u64) as usize];
                rng.near(scene, swaps)
            };
            let own = sha(u64::MAX - q as u64);
            let t = Instant::now();
            let by_index = index.matches(query, &own, "new-visit", 20);
            t_index.push(t.elapsed());
            let t = Instant::now();
            let by_scan = index.matches_by_scan(query, &own, "new-visit", 20);
            t_scan.push(t.elapsed());
            assert_eq!(
                by_index, by_scan,
                "the index and the scan disagree on {query:016x}"
            );
            matched += by_index.0;
            // The BK-tree takes ~200 ms a search: a sample says enough.
            if q < BK_QUERIES {
                let t = Instant::now();
                let (bk_found, bk_visited) = bk.count_within(query);
                t_bk.push(t.elapsed());
                assert_eq!(
                    bk_found, by_scan.0,
                    "the BK-tree and the scan disagree on {query:016x}"
                );
                visited += bk_visited;
            }
        }
        let n = (queries / 2).max(1);
        let (i50, i99) = percentiles(t_index);
        let (s50, s99) = percentiles(t_scan);
        let (b50, b99) = percentiles(t_bk);
        println!(
            "{kind}: {:.1} matches on average; per check p50 / p99: multi-index {i50:.3} / {i99:.3} ms, \
             linear scan {s50:.3} / {s99:.3} ms, BK-tree {b50:.3} / {b99:.3} ms ({BK_QUERIES} searches, {:.0} % of nodes visited)",
            matched as f64 / n as f64,
            visited as f64 * 100.0 / (n.min(BK_QUERIES) * photos.max(1)) as f64
        );
    }
}
