//! Who may see a photo's bytes.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::ApiResult;
use crate::web::auth::scope_sql;

/// Whether the viewer may see photo `sha256`: an op of their scope names it, or a device of
/// their scope uploaded it (bytes whose op has not arrived). Another team's photo is "not
/// found", never "forbidden": its existence is not theirs to learn.
pub fn photo_visible(c: &Connection, sha: &str, scope: Option<&str>) -> ApiResult<bool> {
    let sql = format!(
        "SELECT 1 FROM photos WHERE sha256 = ?1 AND {} UNION ALL
         SELECT 1 FROM blobs b JOIN devices d ON d.device_id = b.device_id WHERE b.sha256 = ?1 AND {}",
        scope_sql("user_id", 2),
        scope_sql("d.user_id", 2)
    );
    Ok(c.query_row(&sql, params![sha, scope], |_| Ok(()))
        .optional()?
        .is_some())
}
