//! Where each photo byte the server keeps lives, as a key relative to the photo store's root
//! (the data folder on disk, `s3://bucket/prefix` in object storage). A leaf: the one place
//! that spells these names, for both stores and for the tools that read a store directly.
//!
//! Callers pass a checked 64-hex SHA-256; a shorter string still gets a name (never a panic),
//! just not one any photo has.

/// Original photos: `photos/<first two hex>/<sha256>.jpg`. The fan-out keeps folders small at
/// millions of photos on disk; object stores do not need it, but one layout keeps a data
/// folder copyable into a bucket as it is.
pub(crate) const PHOTOS: &str = "photos";
/// Gallery previews, the photos' layout under their own folder.
pub(crate) const THUMBS: &str = "thumbs";
/// Uploads in progress.
pub(crate) const UPLOADS: &str = "uploads";

fn fan_out(sha256: &str) -> &str {
    sha256.get(..2).unwrap_or("00")
}

/// The stored photo with these bytes.
pub(crate) fn photo(sha256: &str) -> String {
    format!("{PHOTOS}/{}/{sha256}.jpg", fan_out(sha256))
}

/// The gallery preview of the photo with these bytes.
pub(crate) fn thumb(sha256: &str) -> String {
    format!("{THUMBS}/{}/{sha256}.jpg", fan_out(sha256))
}

/// On disk, an upload in progress is one file appended chunk by chunk: its length is the
/// upload's offset.
pub(crate) fn upload_file(sha256: &str) -> String {
    format!("{UPLOADS}/{sha256}.part")
}

/// In object storage, which has no append, an upload in progress is one object per chunk
/// under this prefix, each named by the offset it starts at.
pub(crate) fn upload_chunks(sha256: &str) -> String {
    format!("{UPLOADS}/{sha256}/")
}

/// The chunk of upload `sha256` that starts at `offset`: zero-padded so names sort by offset.
pub(crate) fn upload_chunk(sha256: &str, offset: u64) -> String {
    format!("{}{offset:020}", upload_chunks(sha256))
}

/// The offset a chunk's name (the part after [`upload_chunks`]) starts at; `None` for anything
/// else found under the prefix.
pub(crate) fn chunk_offset(name: &str) -> Option<u64> {
    if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
        name.parse().ok()
    } else {
        None
    }
}

/// The hash a stored photo's key names (`photos/ab/<sha256>.jpg`), for listing a store.
pub(crate) fn photo_sha(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(PHOTOS)?.strip_prefix('/')?;
    let (shard, file) = rest.split_once('/')?;
    let sha = file.strip_suffix(".jpg")?;
    (shard.len() == 2 && sha.starts_with(shard)).then_some(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sort_by_offset() {
        let sha = "ab".repeat(32);
        assert_eq!(photo(&sha), format!("photos/ab/{sha}.jpg"));
        assert_eq!(thumb(&sha), format!("thumbs/ab/{sha}.jpg"));
        assert_eq!(photo_sha(&photo(&sha)), Some(sha.as_str()));
        assert_eq!(photo_sha(&thumb(&sha)), None);
        let (a, b) = (upload_chunk(&sha, 9), upload_chunk(&sha, 10));
        assert!(a < b, "{a} sorts before {b}");
        let name = b.strip_prefix(&upload_chunks(&sha)).unwrap_or_default();
        assert_eq!(chunk_offset(name), Some(10));
        assert_eq!(chunk_offset("10"), None);
        // Never a panic on a short name.
        assert_eq!(photo("a"), "photos/00/a.jpg");
    }
}
