//! The server's clock. A leaf: everything that stamps a time reads it here, so no module has to
//! reach up to the crate root for it.

/// Server time, Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
