//! The in-memory index behind the `possible_reuse` check: every stored photo's perceptual hash,
//! searchable for all hashes within [`REUSE_THRESHOLD`] bits without scanning them all.
//!
//! Multi-index hashing: the 64-bit hash is cut into four 16-bit chunks, and each chunk value
//! keys a table of the photos having it. Two hashes at most 12 bits apart differ in at most 3
//! bits of at least one chunk (pigeonhole: four chunks each 4 or more bits apart would be 16 or
//! more bits apart), so a search probes, in each table, the 697 chunk values within 3 bits of
//! the query's (1 + 16 + 120 + 560) and checks the full distance of the photos found there.
//! With uniformly spread hashes a search looks at about 697 × 4 / 65536 ≈ 4 % of the photos,
//! in buckets instead of one long pass, and near-duplicates cost only themselves. A BK-tree was
//! the alternative: at radius 12 of 64 it visits a large share of its nodes (measured in
//! `benches/reuse.rs`).
//!
//! Self-contained (std and the core's `hamming` only) so the benchmark compiles this very file.
//!
//! Memory per photo: 8 (hash) + 8 (visit key) + 32 (SHA-256) + 4 × 16 (table slots: hash and
//! row) = 112 bytes, plus the tables' 4 × 65536 bucket headers (6 MiB) once.

use std::hash::{DefaultHasher, Hash, Hasher};

use fieldproof_core::imaging::{REUSE_THRESHOLD, hamming};

const CHUNKS: usize = 4;
const CHUNK_BITS: u32 = 16;
const BUCKETS: usize = 1 << CHUNK_BITS;
/// The largest chunk distance a match can have in its closest chunk.
const CHUNK_RADIUS: u32 = REUSE_THRESHOLD / CHUNKS as u32;
// The pigeonhole argument needs the four chunks' radii + 1 to exceed the threshold.
const _: () = assert!(CHUNKS as u32 * (CHUNK_RADIUS + 1) > REUSE_THRESHOLD);

/// A photo the search found: its SHA-256 and its distance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub sha256: String,
    pub distance: u32,
}

pub(crate) struct ReuseIndex {
    /// Parallel columns, one row per stored photo. The hashes alone are read for every
    /// candidate, so they are kept dense.
    hashes: Vec<u64>,
    /// A 64-bit hash of the visit id: a match must come from another visit, and a visit id
    /// string per photo would cost more than the rest of the row. A collision (about 1 in
    /// 10^7 over a million visits) would hide matches between those two visits only.
    visits: Vec<u64>,
    shas: Vec<[u8; 32]>,
    /// `tables[c][chunk value]`: (hash, row) of the rows whose chunk `c` has that value. The
    /// hash is kept in the slot because a search checks ~40,000 candidates at a million
    /// photos: read from the bucket it is one sequential pass per bucket, read from `hashes`
    /// it was a cache miss per candidate (measured: 3 ms per search instead of well under 1).
    tables: Vec<Vec<Vec<(u64, u32)>>>,
    /// The chunk values within [`CHUNK_RADIUS`] bits of 0, as XOR masks.
    masks: Vec<u16>,
}

impl std::fmt::Debug for ReuseIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReuseIndex")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

fn chunk(hash: u64, c: usize) -> usize {
    ((hash >> (c as u32 * CHUNK_BITS)) & (BUCKETS as u64 - 1)) as usize
}

fn visit_key(visit_id: &str) -> u64 {
    // SipHash with fixed keys: stable for the life of the process, which is all the index is.
    let mut h = DefaultHasher::new();
    visit_id.hash(&mut h);
    h.finish()
}

fn sha_bytes(sha256: &str) -> Option<[u8; 32]> {
    fieldproof_core::hex::decode_array(sha256)
}

fn sha_hex(sha: &[u8; 32]) -> String {
    fieldproof_core::hex::encode(sha)
}

impl Default for ReuseIndex {
    fn default() -> Self {
        ReuseIndex::new()
    }
}

impl ReuseIndex {
    pub fn new() -> ReuseIndex {
        let masks = (0..=u16::MAX)
            .filter(|m| m.count_ones() <= CHUNK_RADIUS)
            .collect();
        ReuseIndex {
            hashes: Vec::new(),
            visits: Vec::new(),
            shas: Vec::new(),
            tables: (0..CHUNKS).map(|_| vec![Vec::new(); BUCKETS]).collect(),
            masks,
        }
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Add a stored photo. Returns false (and adds nothing) for a malformed SHA-256, which the
    /// store never holds, or past 4 billion photos.
    ///
    /// The columns are appended before the tables: should this ever stop half-way, a row no
    /// table points at is merely unfindable, never a slot pointing past the columns.
    pub fn insert(&mut self, phash: u64, sha256: &str, visit_id: &str) -> bool {
        let (Some(sha), Ok(row)) = (sha_bytes(sha256), u32::try_from(self.hashes.len())) else {
            return false;
        };
        self.hashes.push(phash);
        self.visits.push(visit_key(visit_id));
        self.shas.push(sha);
        for (c, table) in self.tables.iter_mut().enumerate() {
            table[chunk(phash, c)].push((phash, row));
        }
        true
    }

    /// Every row within the threshold of `phash`, each once, with its distance.
    fn each_within(&self, phash: u64, mut f: impl FnMut(usize, u32)) {
        let query: [usize; CHUNKS] = std::array::from_fn(|c| chunk(phash, c));
        for (c, table) in self.tables.iter().enumerate() {
            for &mask in &self.masks {
                for &(other, row) in &table[query[c] ^ usize::from(mask)] {
                    let d = hamming(phash, other);
                    // A row is near in several chunks at once; it counts in the first table
                    // where it is (the earlier tables' chunks are all further than the radius).
                    if d <= REUSE_THRESHOLD
                        && (0..c).all(|e| (query[e] ^ chunk(other, e)).count_ones() > CHUNK_RADIUS)
                    {
                        f(row as usize, d);
                    }
                }
            }
        }
    }

    /// The stored photos of visits other than `visit_id`, other than `sha256` itself, within
    /// the threshold: how many there are, and the `limit` closest (by distance, then SHA-256).
    pub fn matches(&self, phash: u64, sha256: &str, visit_id: &str, limit: usize) -> (usize, Vec<Found>) {
        let visit = visit_key(visit_id);
        let own = sha_bytes(sha256);
        let mut rows: Vec<(u32, &[u8; 32])> = Vec::new();
        self.each_within(phash, |row, d| {
            if let (Some(&v), Some(sha)) = (self.visits.get(row), self.shas.get(row))
                && v != visit
                && Some(sha) != own.as_ref()
            {
                rows.push((d, sha));
            }
        });
        closest(rows, limit)
    }

    /// The same answer as [`ReuseIndex::matches`] by comparing with every row: the reference
    /// for the tests and the benchmark.
    #[allow(dead_code)] // the server itself only ever uses the index
    pub fn matches_by_scan(
        &self,
        phash: u64,
        sha256: &str,
        visit_id: &str,
        limit: usize,
    ) -> (usize, Vec<Found>) {
        let visit = visit_key(visit_id);
        let own = sha_bytes(sha256);
        let rows: Vec<(u32, &[u8; 32])> = self
            .hashes
            .iter()
            .zip(&self.visits)
            .zip(&self.shas)
            .filter_map(|((&h, &v), sha)| {
                let d = hamming(phash, h);
                (d <= REUSE_THRESHOLD && v != visit && Some(sha) != own.as_ref()).then_some((d, sha))
            })
            .collect();
        closest(rows, limit)
    }

    /// Bytes held (the columns' and tables' allocations).
    pub fn heap_bytes(&self) -> usize {
        let slots: usize = self
            .tables
            .iter()
            .flatten()
            .map(|b| b.capacity() * std::mem::size_of::<(u64, u32)>())
            .sum();
        let headers = self.tables.len() * BUCKETS * std::mem::size_of::<Vec<(u64, u32)>>();
        self.hashes.capacity() * 8 + self.visits.capacity() * 8 + self.shas.capacity() * 32 + slots + headers
    }
}

/// (all matches, the `limit` closest, closest first): the one ordering of the index's answer and
/// the scan's, so the two can be compared exactly.
fn closest(mut rows: Vec<(u32, &[u8; 32])>, limit: usize) -> (usize, Vec<Found>) {
    let total = rows.len();
    rows.sort_unstable();
    let found = rows
        .into_iter()
        .take(limit)
        .map(|(distance, sha)| Found {
            sha256: sha_hex(sha),
            distance,
        })
        .collect();
    (total, found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64: a seeded, reproducible stream for the property tests.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        /// `hash` with exactly `bits` distinct bits flipped.
        fn flip(&mut self, hash: u64, bits: u32) -> u64 {
            let mut out = hash;
            while (out ^ hash).count_ones() < bits {
                out ^= 1 << self.below(64);
            }
            out
        }
    }

    fn sha(i: u64) -> String {
        format!("{i:064x}")
    }

    #[test]
    fn sha256_round_trips_and_malformed_ones_are_refused() {
        let s = "00ff10a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8";
        assert_eq!(sha_bytes(s).map(|b| sha_hex(&b)).as_deref(), Some(s));
        let mut index = ReuseIndex::new();
        assert!(!index.insert(1, "abc", "v"));
        assert!(!index.insert(1, &"zz".repeat(32), "v"));
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn there_are_697_probes_per_chunk() {
        assert_eq!(ReuseIndex::new().masks.len(), 1 + 16 + 120 + 560);
    }

    /// Random hashes plus scenes photographed many times (hashes a few bits apart), queried
    /// with stored hashes, their near copies and hashes exactly 12 and 13 bits from a stored
    /// one: the index finds exactly what comparing with every row finds.
    #[test]
    fn the_index_finds_what_a_scan_finds() {
        let mut rng = Rng(0x5eed);
        let mut index = ReuseIndex::new();
        // (hash, sha256, visit) of every stored row.
        let mut stored: Vec<(u64, String, String)> = Vec::new();
        for i in 0..10_000u64 {
            let row = (rng.next() >> 1, sha(i), format!("v{}", rng.below(5_000)));
            assert!(index.insert(row.0, &row.1, &row.2));
            stored.push(row);
        }
        for scene in 0..40u64 {
            let centre = rng.next() >> 1;
            for k in 0..(5 + scene * 3) {
                let bits = rng.below(9) as u32;
                let row = (
                    rng.flip(centre, bits),
                    sha(1_000_000 + scene * 1000 + k),
                    format!("s{scene}-{k}"),
                );
                assert!(index.insert(row.0, &row.1, &row.2));
                stored.push(row);
            }
        }
        let mut boundary = [0usize; 2];
        for q in 0..2_000u64 {
            let (base, base_sha, base_visit) = &stored[rng.below(stored.len() as u64) as usize];
            let query = match q % 4 {
                0 => *base,
                1 => {
                    let bits = rng.below(12) as u32 + 1;
                    rng.flip(*base, bits)
                }
                2 => rng.flip(*base, 12),
                _ => rng.flip(*base, 13),
            };
            let visit = format!("v{}", rng.below(5_000));
            let by_index = index.matches(query, &sha(u64::MAX - q), &visit, usize::MAX);
            let by_scan = index.matches_by_scan(query, &sha(u64::MAX - q), &visit, usize::MAX);
            assert_eq!(by_index, by_scan, "query {query:016x}");
            assert_eq!(by_index.0, by_index.1.len());
            let has_base = by_index.1.iter().any(|f| &f.sha256 == base_sha);
            if q % 4 == 2 && *base_visit != visit {
                assert!(has_base, "12 bits away is a match");
                boundary[0] += 1;
            }
            if q % 4 == 3 {
                assert!(!has_base, "13 bits away is not");
                boundary[1] += 1;
            }
        }
        assert!(boundary.iter().all(|&n| n > 450), "{boundary:?}");
    }

    #[test]
    fn distance_12_matches_and_13_does_not() {
        let mut index = ReuseIndex::new();
        let base = 0x0123_4567_89ab_cdef_u64 >> 1;
        index.insert(base, &sha(1), "earlier");
        // Spread the flipped bits so every chunk sees 3 (at 12) or some chunk 4 (at 13).
        let at_12 = base ^ 0x0007_0007_0007_0007;
        let at_13 = base ^ 0x000f_0007_0007_0007;
        assert_eq!(hamming(base, at_12), 12);
        assert_eq!(hamming(base, at_13), 13);
        let (n, found) = index.matches(at_12, &sha(2), "later", 20);
        assert_eq!(
            (n, found[0].distance, found[0].sha256.as_str()),
            (1, 12, sha(1).as_str())
        );
        assert_eq!(index.matches(at_13, &sha(2), "later", 20), (0, vec![]));
        // The same visit, or the same bytes, are not reuse.
        assert_eq!(index.matches(base, &sha(2), "earlier", 20), (0, vec![]));
        assert_eq!(index.matches(base, &sha(1), "later", 20), (0, vec![]));
    }

    #[test]
    fn the_closest_come_first_up_to_the_limit_with_the_total() {
        let mut index = ReuseIndex::new();
        let base = 0x2222_4444_8888_1111_u64;
        let mut rng = Rng(7);
        for i in 0..50u64 {
            index.insert(rng.flip(base, (i % 7) as u32), &sha(i), &format!("v{i}"));
        }
        let (n, found) = index.matches(base, &sha(999), "new", 20);
        assert_eq!((n, found.len()), (50, 20));
        assert!(
            found.windows(2).all(|w| w[0].distance <= w[1].distance),
            "{found:?}"
        );
        // 8 rows (i = 0, 7, ..., 49) are the hash itself.
        assert_eq!(found.iter().filter(|f| f.distance == 0).count(), 8);
    }
}
