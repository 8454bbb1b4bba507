//! Photo bytes in the data folder: `photos/`, `uploads/`, `thumbs/` beside the database.
//!
//! Durability: a chunk is fsynced before it is acknowledged, and the offset is the partial
//! file's length, so after a crash (even SIGKILL) the server resumes exactly where it said it
//! was. A complete upload is renamed into `photos/` and both folders are fsynced before the
//! photo is recorded.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::{BlobResult, BlobStore};
use crate::blob_paths;

#[derive(Debug)]
pub(crate) struct LocalBlobs {
    root: PathBuf,
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn read_if_any(path: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

impl LocalBlobs {
    pub(crate) fn open(data_dir: &Path) -> BlobResult<LocalBlobs> {
        for dir in [blob_paths::PHOTOS, blob_paths::UPLOADS, blob_paths::THUMBS] {
            std::fs::create_dir_all(data_dir.join(dir))?;
        }
        Ok(LocalBlobs {
            root: data_dir.to_path_buf(),
        })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
}

impl BlobStore for LocalBlobs {
    fn describe(&self) -> String {
        format!("folder {}", self.root.display())
    }

    fn get(&self, key: &str) -> BlobResult<Option<Vec<u8>>> {
        Ok(read_if_any(&self.path(key))?)
    }

    fn exists(&self, key: &str) -> BlobResult<bool> {
        Ok(self.path(key).try_exists()?)
    }

    fn put(&self, key: &str, bytes: &[u8], durable: bool) -> BlobResult<()> {
        let path = self.path(key);
        let dir = path
            .parent()
            .ok_or_else(|| std::io::Error::other("a blob key without a folder"))?;
        std::fs::create_dir_all(dir)?;
        // Each writer its own temporary file, renamed over the name: readers see a whole file
        // or none, and two writers of the same key (same bytes) do not interleave.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let tmp = path.with_extension(format!(
            "{}-{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(bytes)?;
            if durable {
                f.sync_data()?;
            }
            std::fs::rename(&tmp, &path)?;
            if durable {
                sync_dir(dir)?;
            }
            Ok::<_, std::io::Error>(())
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
        Ok(())
    }

    fn delete(&self, key: &str) -> BlobResult<()> {
        match std::fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    fn photo_hashes(&self) -> BlobResult<Vec<String>> {
        let mut found = Vec::new();
        for shard in std::fs::read_dir(self.root.join(blob_paths::PHOTOS))? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            let shard_name = shard.file_name().to_string_lossy().into_owned();
            for file in std::fs::read_dir(shard.path())? {
                let name = file?.file_name().to_string_lossy().into_owned();
                let key = format!("{}/{shard_name}/{name}", blob_paths::PHOTOS);
                if let Some(sha) = blob_paths::photo_sha(&key) {
                    found.push(sha.to_string());
                }
            }
        }
        found.sort();
        Ok(found)
    }

    fn upload_len(&self, sha256: &str) -> BlobResult<u64> {
        match std::fs::metadata(self.path(&blob_paths::upload_file(sha256))) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    fn upload_append(&self, sha256: &str, offset: u64, bytes: &[u8]) -> BlobResult<()> {
        let path = self.path(&blob_paths::upload_file(sha256));
        let mut f = OpenOptions::new().create(true).append(true).open(&path)?;
        // Whatever part of a failed chunk landed is a correct prefix: the offset stays the
        // file's length, which the client reads back with GET.
        f.write_all(bytes)?;
        f.sync_data()?;
        if offset == 0 {
            // The file is new: its directory entry must survive a crash too.
            sync_dir(&self.root.join(blob_paths::UPLOADS))?;
        }
        Ok(())
    }

    fn upload_read(&self, sha256: &str) -> BlobResult<Vec<u8>> {
        Ok(read_if_any(&self.path(&blob_paths::upload_file(sha256)))?.unwrap_or_default())
    }

    fn upload_discard(&self, sha256: &str) -> BlobResult<()> {
        self.delete(&blob_paths::upload_file(sha256))
    }

    fn upload_store(&self, sha256: &str, _bytes: &[u8]) -> BlobResult<()> {
        // The partial file already holds these bytes, fsynced chunk by chunk: a rename is
        // enough, and both folders are synced so neither entry is lost.
        let stored = self.path(&blob_paths::photo(sha256));
        let dir = stored
            .parent()
            .ok_or_else(|| std::io::Error::other("a photo key without a folder"))?;
        std::fs::create_dir_all(dir)?;
        std::fs::rename(self.path(&blob_paths::upload_file(sha256)), &stored)?;
        sync_dir(dir)?;
        sync_dir(&self.root.join(blob_paths::UPLOADS))?;
        Ok(())
    }

    fn check(&self) -> BlobResult<()> {
        for dir in [blob_paths::PHOTOS, blob_paths::UPLOADS, blob_paths::THUMBS] {
            std::fs::read_dir(self.root.join(dir))?;
        }
        // The uploads folder (same volume, where chunks land) takes a small file: a full or
        // read-only disk fails here before it fails a phone's upload.
        static PROBES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let probe = self.root.join(blob_paths::UPLOADS).join(format!(
            ".ready-{}-{}",
            std::process::id(),
            PROBES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let written = std::fs::write(&probe, b"ready");
        let removed = std::fs::remove_file(&probe);
        written.and(removed)?;
        Ok(())
    }
}
