//! Gallery previews: one small JPEG per stored photo, made once from the verified bytes and
//! kept content-addressed next to the photos (`<data>/thumbs/ab/<sha256>.jpg`). A day's gallery
//! of 60 photos is then ~0.6 MB of previews instead of ~30 MB of full photos.
//!
//! A thumbnail is a cache, never evidence: it is written without fsync (a crash loses at most
//! a file that is made again on the next request), and failing to make one never fails the
//! upload that stored the photo.

use fieldproof_core::imaging;

use crate::blob_paths;
use crate::blobs::{BlobError, BlobStore};

/// Long edge of a preview: a gallery card is at most 260 px wide, so 320 keeps it sharp on a
/// phone at 1.25x without paying for a high-DPI copy.
pub(crate) const EDGE: u32 = 320;
/// Previews show composition, not evidence detail (the full photo is one click away).
pub(crate) const QUALITY: u8 = 75;

#[derive(Debug, thiserror::Error)]
pub(crate) enum ThumbError {
    #[error("the photo's bytes are not stored")]
    NoPhoto,
    #[error("the photo cannot be decoded: {0}")]
    Image(#[from] imaging::ImageError),
    #[error("the image decoder panicked")]
    Panicked,
    #[error("{0}")]
    Store(#[from] BlobError),
}

/// Make the preview of stored photo `sha256` (a 64-hex name, checked by the caller), store it,
/// and return its bytes. Safe to run twice at once for the same photo: the store writes a key
/// whole or not at all, so a reader sees a whole preview or none.
pub(crate) fn make(blobs: &dyn BlobStore, sha256: &str) -> Result<Vec<u8>, ThumbError> {
    let photo = crate::blobs::read_photo(blobs, sha256)?.ok_or(ThumbError::NoPhoto)?;
    make_from(blobs, sha256, &photo)
}

/// As [`make`], from the photo's bytes already in hand (the upload that just stored them): no
/// second read from the store.
pub(crate) fn make_from(blobs: &dyn BlobStore, sha256: &str, photo: &[u8]) -> Result<Vec<u8>, ThumbError> {
    // The decoder is the core's, fuzzed there; should it still panic on some file, that photo
    // has no preview rather than taking its request down.
    let thumb = std::panic::catch_unwind(|| imaging::thumbnail(photo, EDGE, QUALITY))
        .map_err(|_| ThumbError::Panicked)??;
    blobs.put(&blob_paths::thumb(sha256), &thumb.jpeg, false)?;
    Ok(thumb.jpeg)
}

/// The stored preview of `sha256`, made now if it is missing (photos stored before previews
/// existed, or whose first attempt failed).
pub(crate) fn read_or_make(blobs: &dyn BlobStore, sha256: &str) -> Result<Vec<u8>, ThumbError> {
    match blobs.get(&blob_paths::thumb(sha256))? {
        Some(b) => Ok(b),
        None => make(blobs, sha256),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn undecodable_or_missing_photos_are_errors_and_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = crate::blobs::local::LocalBlobs::open(dir.path()).unwrap();
        let sha = "ab".repeat(32);
        assert!(matches!(make(&blobs, &sha), Err(ThumbError::NoPhoto)));
        blobs
            .put(&blob_paths::photo(&sha), b"\xff\xd8\xff\xd9", true)
            .unwrap();
        assert!(matches!(read_or_make(&blobs, &sha), Err(ThumbError::Image(_))));
        assert!(!blobs.exists(&blob_paths::thumb(&sha)).unwrap());
    }
}
