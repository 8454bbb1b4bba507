//! Who may see a photo's bytes, and photos as the pages link them.

use std::collections::HashMap;

use crate::db::{Connection, OptionalExtension, params};

use crate::error::ApiResult;
use crate::i18n::Lang;
use crate::messages::PhotoName;
use crate::values::photo_kind;
use crate::web::auth::scope_sql;
use crate::web::url_enc;

/// The photos `ids` (photo ids) the viewer may see and whose bytes have arrived, as links to
/// their preview and full photo with their kind in words. The others are left out: a message
/// then names them with a generic word.
pub fn photo_names(
    c: &Connection,
    lang: Lang,
    scope: Option<&str>,
    ids: impl IntoIterator<Item = String>,
) -> ApiResult<HashMap<String, PhotoName>> {
    let mut st = c.prepare(&format!(
        "SELECT sha256, photo_kind FROM photos WHERE photo_id = ?1 AND received = 1 AND {} LIMIT 1",
        scope_sql("user_id", 2)
    ))?;
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        let found: Option<(String, String)> = st
            .query_row(params![id, scope], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((sha, kind)) = found {
            let sha = url_enc(&sha);
            out.insert(
                id,
                PhotoName {
                    thumb_url: format!("/app/thumbs/{sha}"),
                    full_url: format!("/app/photos/{sha}"),
                    kind: photo_kind(lang, &kind),
                },
            );
        }
    }
    Ok(out)
}

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
