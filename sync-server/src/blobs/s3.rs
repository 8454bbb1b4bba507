//! Photo bytes in an S3-compatible bucket (AWS S3, MinIO, Alibaba OSS and Tencent COS in their
//! S3 modes, …) through the `object_store` crate, under `s3://bucket/prefix`.
//!
//! Object storage has no append, so an upload in progress is one object per chunk, named by
//! the offset it starts at ([`crate::blob_paths::upload_chunk`]). A PUT is atomic and durable
//! when it is answered, so the upload's offset is what the listed chunks cover from zero: a
//! chunk cut off by a crash either is whole in the bucket or is not there, and the client
//! resumes where the listing says. Completing an upload reads the chunks back (a photo is at
//! most the photo limit, which the server already holds whole to verify it), stores the photo
//! with one PUT, then deletes the chunks.
//!
//! Configuration, beside `--photos s3://bucket/prefix`:
//! - `FIELDPROOF_S3_ENDPOINT`: the service's address (`https://oss-cn-hangzhou.aliyuncs.com`,
//!   `http://127.0.0.1:9000`); absent: AWS, or `AWS_ENDPOINT_URL` / `AWS_ENDPOINT`.
//! - `FIELDPROOF_S3_REGION` (else `AWS_REGION` / `AWS_DEFAULT_REGION`, else `us-east-1`).
//! - `FIELDPROOF_S3_ALLOW_HTTP=true`: allow a plain-http endpoint (a bucket on the same host or
//!   a private network); otherwise only https (`AWS_ALLOW_HTTP` too).
//! - `FIELDPROOF_S3_VIRTUAL_HOSTED=true`: `bucket.endpoint/key` addressing (OSS and COS need
//!   it); the default is path style (`endpoint/bucket/key`), which MinIO and most others take.
//! - Credentials: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, or the
//!   other standard AWS sources (web identity, container or instance credentials).

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

use super::{BlobError, BlobResult, BlobStore};
use crate::blob_paths;

/// Where the bucket is and how to reach it; see the module's documentation.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Without leading or trailing `/`; empty: the bucket's root.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub allow_http: bool,
    pub virtual_hosted: bool,
    /// Access key id and secret; `None`: the standard AWS sources (`AWS_ACCESS_KEY_ID`, …).
    pub credentials: Option<(String, String)>,
}

fn env_flag(name: &str) -> Result<bool, String> {
    match std::env::var(name) {
        Err(_) => Ok(false),
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" => Ok(false),
            "1" | "true" | "yes" => Ok(true),
            other => Err(format!("{name}={other:?}: expected true or false")),
        },
    }
}

fn env_text(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl S3Settings {
    /// The settings of `s3://bucket/prefix` from the environment.
    pub fn from_env(bucket: &str, prefix: &str) -> Result<S3Settings, String> {
        Ok(S3Settings {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            endpoint: env_text("FIELDPROOF_S3_ENDPOINT"),
            region: env_text("FIELDPROOF_S3_REGION"),
            allow_http: env_flag("FIELDPROOF_S3_ALLOW_HTTP")?,
            virtual_hosted: env_flag("FIELDPROOF_S3_VIRTUAL_HOSTED")?,
            credentials: None,
        })
    }
}

/// Open the bucket's store (no request is made; [`BlobStore::check`] proves it answers).
pub fn open(settings: &S3Settings) -> BlobResult<std::sync::Arc<dyn BlobStore>> {
    Ok(std::sync::Arc::new(S3Blobs::open(settings)?))
}

/// The bucket's client and the small runtime its requests run on.
pub(crate) struct S3Blobs {
    store: std::sync::Arc<AmazonS3>,
    prefix: String,
    url: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for S3Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Blobs")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for S3Blobs {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside another runtime (a store dropped in
        // an async test or at the end of `serve`): let its threads wind down on their own.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> BlobError {
    BlobError::Unavailable(e.to_string())
}

impl S3Blobs {
    pub(crate) fn open(s: &S3Settings) -> BlobResult<S3Blobs> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&s.bucket)
            .with_virtual_hosted_style_request(s.virtual_hosted)
            // A bucket that stopped answering fails the request within seconds (503, the
            // client retries later) rather than holding a server thread for minutes.
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(15),
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(60))
                    .with_allow_http(s.allow_http || env_flag("AWS_ALLOW_HTTP").unwrap_or(false)),
            );
        if let Some(e) = &s.endpoint {
            b = b.with_endpoint(e);
        }
        if let Some((id, secret)) = &s.credentials {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        if let Some(r) = &s.region {
            b = b.with_region(r);
        } else if env_text("AWS_REGION").is_none() && env_text("AWS_DEFAULT_REGION").is_none() {
            b = b.with_region("us-east-1");
        }
        let store = b.build().map_err(unavailable)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("photo-store")
            .enable_all()
            .build()
            .map_err(BlobError::Io)?;
        let url = if s.prefix.is_empty() {
            format!("s3://{}", s.bucket)
        } else {
            format!("s3://{}/{}", s.bucket, s.prefix)
        };
        Ok(S3Blobs {
            store: std::sync::Arc::new(store),
            prefix: s.prefix.clone(),
            url,
            runtime: Some(runtime),
        })
    }

    /// Run one request on the store's runtime and wait for it, from any thread: the server's
    /// blocking threads, a test, or an admin command with no runtime at all.
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = BlobResult<T>> + Send + 'static,
    ) -> BlobResult<T> {
        let rt = self
            .runtime
            .as_ref()
            .ok_or_else(|| unavailable("the photo store is shut down"))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        rt.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| unavailable("the photo store's request was dropped"))?
    }

    fn path(&self, key: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(key)
        } else {
            ObjectPath::from(format!("{}/{key}", self.prefix))
        }
    }

    /// (offset, length) of each stored chunk of upload `sha256`, by offset.
    fn chunks(&self, sha256: &str) -> BlobResult<Vec<(u64, u64, ObjectPath)>> {
        let store = self.store.clone();
        let dir = self.path(blob_paths::upload_chunks(sha256).trim_end_matches('/'));
        let mut found = self.run(async move {
            let mut list = store.list(Some(&dir));
            let mut found = Vec::new();
            while let Some(meta) = list.next().await {
                let meta = meta.map_err(unavailable)?;
                if let Some(offset) = meta.location.filename().and_then(blob_paths::chunk_offset) {
                    found.push((offset, meta.size, meta.location));
                }
            }
            Ok(found)
        })?;
        found.sort_by_key(|c| c.0);
        Ok(found)
    }
}

/// How far chunks (offset, length), sorted by offset, cover an upload from byte zero without a
/// gap. Two chunks of the same bytes may overlap (two servers took the same retry); a chunk
/// past a gap does not count until the gap is filled.
pub(crate) fn covered(chunks: impl IntoIterator<Item = (u64, u64)>) -> u64 {
    let mut have = 0u64;
    for (offset, len) in chunks {
        if offset > have {
            break;
        }
        have = have.max(offset.saturating_add(len));
    }
    have
}

impl BlobStore for S3Blobs {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn get(&self, key: &str) -> BlobResult<Option<Vec<u8>>> {
        let (store, path) = (self.store.clone(), self.path(key));
        self.run(async move {
            match store.get(&path).await {
                Ok(r) => Ok(Some(r.bytes().await.map_err(unavailable)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn exists(&self, key: &str) -> BlobResult<bool> {
        let (store, path) = (self.store.clone(), self.path(key));
        self.run(async move {
            match store.head(&path).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn put(&self, key: &str, bytes: &[u8], _durable: bool) -> BlobResult<()> {
        // A PUT is atomic and stored when it is answered: durable either way.
        let (store, path) = (self.store.clone(), self.path(key));
        let payload = PutPayload::from(bytes.to_vec());
        self.run(async move { store.put(&path, payload).await.map(|_| ()).map_err(unavailable) })
    }

    fn delete(&self, key: &str) -> BlobResult<()> {
        let (store, path) = (self.store.clone(), self.path(key));
        self.run(async move {
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(unavailable(e)),
            }
        })
    }

    fn photo_hashes(&self) -> BlobResult<Vec<String>> {
        let store = self.store.clone();
        let dir = self.path(blob_paths::PHOTOS);
        let skip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut found = self.run(async move {
            let mut list = store.list(Some(&dir));
            let mut found = Vec::new();
            while let Some(meta) = list.next().await {
                let meta = meta.map_err(unavailable)?;
                let key = meta.location.as_ref().get(skip..).unwrap_or_default();
                if let Some(sha) = blob_paths::photo_sha(key) {
                    found.push(sha.to_string());
                }
            }
            Ok(found)
        })?;
        found.sort();
        Ok(found)
    }

    fn upload_len(&self, sha256: &str) -> BlobResult<u64> {
        Ok(covered(self.chunks(sha256)?.into_iter().map(|(o, l, _)| (o, l))))
    }

    fn upload_append(&self, sha256: &str, offset: u64, bytes: &[u8]) -> BlobResult<()> {
        self.put(&blob_paths::upload_chunk(sha256, offset), bytes, true)
    }

    fn upload_read(&self, sha256: &str) -> BlobResult<Vec<u8>> {
        let chunks = self.chunks(sha256)?;
        let store = self.store.clone();
        self.run(async move {
            let mut out = Vec::new();
            for (offset, _, path) in chunks {
                let have = out.len() as u64;
                if offset > have {
                    break;
                }
                let bytes = store
                    .get(&path)
                    .await
                    .map_err(unavailable)?
                    .bytes()
                    .await
                    .map_err(unavailable)?;
                // An overlap holds the same bytes (same name, same content): keep the first.
                let skip = usize::try_from(have - offset).unwrap_or(usize::MAX);
                if let Some(tail) = bytes.get(skip..) {
                    out.extend_from_slice(tail);
                }
            }
            Ok(out)
        })
    }

    fn upload_discard(&self, sha256: &str) -> BlobResult<()> {
        let chunks = self.chunks(sha256)?;
        let store = self.store.clone();
        self.run(async move {
            for (_, _, path) in chunks {
                match store.delete(&path).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(unavailable(e)),
                }
            }
            Ok(())
        })
    }

    fn upload_store(&self, sha256: &str, bytes: &[u8]) -> BlobResult<()> {
        self.put(&blob_paths::photo(sha256), bytes, true)?;
        // The photo is stored: leftover chunks are only garbage, removed again by the next
        // offer of these bytes if this fails.
        if let Err(e) = self.upload_discard(sha256) {
            tracing::warn!(sha256, error = %e, "stored photo's upload chunks not removed");
        }
        Ok(())
    }

    fn check(&self) -> BlobResult<()> {
        let store = self.store.clone();
        let root = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        self.run(async move {
            store
                .list_with_delimiter(root.as_ref())
                .await
                .map(|_| ())
                .map_err(unavailable)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::covered;

    #[test]
    fn the_offset_is_what_chunks_cover_from_zero() {
        assert_eq!(covered([]), 0);
        assert_eq!(covered([(0, 10), (10, 5)]), 15);
        // A gap: the chunk past it does not count.
        assert_eq!(covered([(0, 10), (12, 5)]), 10);
        assert_eq!(covered([(5, 10)]), 0);
        // Overlaps from a retried chunk.
        assert_eq!(covered([(0, 10), (0, 10), (5, 10), (15, 1)]), 16);
    }
}
