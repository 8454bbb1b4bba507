//! Photo bytes at rest: every byte the server keeps for photos (originals, uploads in
//! progress, gallery previews) goes through one [`BlobStore`]. Two stores implement it: a
//! folder in the data directory (the default, the layout the server always had) and an
//! S3-compatible bucket (`--photos s3://bucket/prefix`). Names come from [`crate::blob_paths`].
//!
//! The interface is synchronous, like the database: the server calls it from its blocking
//! threads. The object store runs its requests on a small runtime of its own, so a call never
//! depends on which thread or runtime it came from.
//!
//! Resumable uploads keep one meaning on both stores: a chunk is stored durably before
//! [`BlobStore::upload_append`] returns, the upload's offset ([`BlobStore::upload_len`]) is
//! what is stored (so after a crash the server resumes exactly where it said it was), and the
//! bytes are read back whole and hashed before the photo counts.

use std::path::Path;
use std::sync::Arc;

pub(crate) mod local;
pub mod s3;

/// A photo store's failure. Both kinds are the store's fault, not the client's: the request is
/// answered 503 `storage_unavailable` and the client retries (an upload resumes at the stored
/// offset).
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The bucket did not answer, or answered with an error.
    #[error("photo storage unavailable: {0}")]
    Unavailable(String),
    /// The data folder's disk failed (full, read-only, I/O error).
    #[error("photo folder: {0}")]
    Io(#[from] std::io::Error),
}

pub type BlobResult<T> = Result<T, BlobError>;

/// One store of photo bytes. Keys are [`crate::blob_paths`] names; uploads are addressed by the
/// photo's SHA-256 (64 lower-case hex, checked by the caller).
pub trait BlobStore: Send + Sync + std::fmt::Debug {
    /// Where the bytes are, for logs and errors (`folder /srv/data`, `s3://bucket/prefix`).
    fn describe(&self) -> String;
    /// The object's bytes, or `None` when there is no such object.
    fn get(&self, key: &str) -> BlobResult<Option<Vec<u8>>>;
    /// Whether the object exists.
    fn exists(&self, key: &str) -> BlobResult<bool>;
    /// Store an object whole: a reader sees all of it or nothing. `durable`: stored on stable
    /// storage before returning (photos); a cache (previews) may skip that.
    fn put(&self, key: &str, bytes: &[u8], durable: bool) -> BlobResult<()>;
    /// Remove an object (absent is fine).
    fn delete(&self, key: &str) -> BlobResult<()>;
    /// Every stored photo's SHA-256 (`admin check-photos`, tests).
    fn photo_hashes(&self) -> BlobResult<Vec<String>>;

    /// How many bytes of upload `sha256` are stored: where the next chunk goes.
    fn upload_len(&self, sha256: &str) -> BlobResult<u64>;
    /// Store `bytes` at `offset` of upload `sha256`, durably before returning. The caller holds
    /// the upload's lock and has checked that `offset` is [`BlobStore::upload_len`].
    fn upload_append(&self, sha256: &str, offset: u64, bytes: &[u8]) -> BlobResult<()>;
    /// The upload's bytes, whole (at most the photo limit: the caller checked every chunk
    /// against the offered size).
    fn upload_read(&self, sha256: &str) -> BlobResult<Vec<u8>>;
    /// Forget upload `sha256` (absent is fine).
    fn upload_discard(&self, sha256: &str) -> BlobResult<()>;
    /// The complete upload `sha256`, whose bytes (`bytes`, just read and hashed) match its
    /// name, becomes the stored photo, durably; the upload is gone afterwards. A crash in
    /// between leaves the photo stored and perhaps the upload too, which the next offer of
    /// these bytes cleans up.
    fn upload_store(&self, sha256: &str, bytes: &[u8]) -> BlobResult<()>;

    /// Prove the store answers (readiness): the folder is readable, the bucket lists.
    fn check(&self) -> BlobResult<()>;
}

/// Where photos are kept: `--photos` / `FIELDPROOF_PHOTOS`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PhotoLocation {
    /// `photos/`, `uploads/`, `thumbs/` in the data directory.
    #[default]
    DataDir,
    /// `s3://bucket/prefix`: endpoint, region and credentials from the environment (see
    /// [`s3::S3Settings::from_env`]).
    S3 { bucket: String, prefix: String },
}

impl PhotoLocation {
    /// Parse `--photos`: empty or `data-dir` for the default, else `s3://bucket[/prefix]`.
    pub fn parse(s: &str) -> Result<PhotoLocation, String> {
        let s = s.trim();
        if s.is_empty() || s == "data-dir" {
            return Ok(PhotoLocation::DataDir);
        }
        let Some(rest) = s.strip_prefix("s3://") else {
            return Err(format!(
                "--photos {s:?}: expected s3://bucket/prefix (or data-dir, the default)"
            ));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
        if !bucket_ok {
            return Err(format!(
                "--photos {s:?}: the bucket name must be 3-63 lower-case letters, digits, '-' or '.'"
            ));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|p| p == "." || p == "..") || prefix.contains("//") {
            return Err(format!(
                "--photos {s:?}: the prefix has an empty, '.' or '..' part"
            ));
        }
        Ok(PhotoLocation::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// Open the store: the data folder's (creating its folders), or the bucket's (no request is
    /// made: [`BlobStore::check`] proves it answers).
    pub fn open(&self, data_dir: &Path) -> Result<Arc<dyn BlobStore>, BlobError> {
        Ok(match self {
            PhotoLocation::DataDir => Arc::new(local::LocalBlobs::open(data_dir)?),
            PhotoLocation::S3 { bucket, prefix } => {
                let settings = s3::S3Settings::from_env(bucket, prefix).map_err(BlobError::Unavailable)?;
                s3::open(&settings)?
            }
        })
    }
}

/// A stored photo's bytes, `None` when they are not stored.
pub(crate) fn read_photo(blobs: &dyn BlobStore, sha256: &str) -> BlobResult<Option<Vec<u8>>> {
    blobs.get(&crate::blob_paths::photo(sha256))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photo_locations_parse_or_say_why_not() {
        assert_eq!(PhotoLocation::parse(""), Ok(PhotoLocation::DataDir));
        assert_eq!(
            PhotoLocation::parse("s3://field-photos/prod/cn/"),
            Ok(PhotoLocation::S3 {
                bucket: "field-photos".into(),
                prefix: "prod/cn".into()
            })
        );
        assert_eq!(
            PhotoLocation::parse("s3://field-photos"),
            Ok(PhotoLocation::S3 {
                bucket: "field-photos".into(),
                prefix: String::new()
            })
        );
        for bad in [
            "/srv/photos",
            "s3://",
            "s3://Up/x",
            "s3://ok-bucket/a/../b",
            "gs://b/p",
        ] {
            assert!(PhotoLocation::parse(bad).is_err(), "{bad}");
        }
    }
}
