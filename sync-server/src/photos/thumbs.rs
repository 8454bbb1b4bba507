//! Gallery previews: one small JPEG per stored photo, made once from the verified bytes and
//! kept content-addressed next to the photos (`<data>/thumbs/ab/<sha256>.jpg`). A day's gallery
//! of 60 photos is then ~0.6 MB of previews instead of ~30 MB of full photos.
//!
//! A thumbnail is a cache, never evidence: it is written without fsync (a crash loses at most
//! a file that is made again on the next request), and failing to make one never fails the
//! upload that stored the photo.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fieldproof_core::imaging;

/// Long edge of a preview: a gallery card is at most 260 px wide, so 320 keeps it sharp on a
/// phone at 1.25x without paying for a high-DPI copy.
pub(crate) const EDGE: u32 = 320;
/// Previews show composition, not evidence detail (the full photo is one click away).
pub(crate) const QUALITY: u8 = 75;

/// `<thumbs>/<first two hex>/<sha256>.jpg`, the photos' fan-out.
pub(crate) fn thumb_path(thumb_dir: &Path, sha256: &str) -> PathBuf {
    super::photo_path(thumb_dir, sha256)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ThumbError {
    #[error("the photo's bytes are not stored")]
    NoPhoto,
    #[error("the photo cannot be decoded: {0}")]
    Image(#[from] imaging::ImageError),
    #[error("the image decoder panicked")]
    Panicked,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Make the preview of stored photo `sha256` (a 64-hex name, checked by the caller), store it,
/// and return its bytes. Safe to run twice at once for the same photo: each run writes its own
/// temporary file and the rename is atomic, so a reader sees a whole file or none.
pub(crate) fn make(photo_dir: &Path, thumb_dir: &Path, sha256: &str) -> Result<Vec<u8>, ThumbError> {
    let photo = match std::fs::read(super::photo_path(photo_dir, sha256)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(ThumbError::NoPhoto),
        Err(e) => return Err(e.into()),
    };
    // The decoder is the core's, fuzzed there; should it still panic on some file, that photo
    // has no preview rather than taking its request down.
    let thumb = std::panic::catch_unwind(|| imaging::thumbnail(&photo, EDGE, QUALITY))
        .map_err(|_| ThumbError::Panicked)??;
    let path = thumb_path(thumb_dir, sha256);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let tmp = path.with_extension(format!(
        "{}-{}.tmp",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let written = std::fs::write(&tmp, &thumb.jpeg).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(thumb.jpeg)
}

/// The stored preview of `sha256`, made now if it is missing (photos stored before previews
/// existed, or whose first attempt failed).
pub(crate) fn read_or_make(photo_dir: &Path, thumb_dir: &Path, sha256: &str) -> Result<Vec<u8>, ThumbError> {
    match std::fs::read(thumb_path(thumb_dir, sha256)) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => make(photo_dir, thumb_dir, sha256),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn undecodable_or_missing_photos_are_errors_and_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let (photos, thumbs) = (dir.path().join("photos"), dir.path().join("thumbs"));
        let sha = "ab".repeat(32);
        assert!(matches!(make(&photos, &thumbs, &sha), Err(ThumbError::NoPhoto)));
        let p = super::super::photo_path(&photos, &sha);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, b"\xff\xd8\xff\xd9").unwrap();
        assert!(matches!(
            read_or_make(&photos, &thumbs, &sha),
            Err(ThumbError::Image(_))
        ));
        assert!(!thumb_path(&thumbs, &sha).exists());
    }
}
