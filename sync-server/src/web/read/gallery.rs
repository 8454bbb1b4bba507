//! The photo gallery of a day: one page of photos, and the day's possible-reuse findings.

use std::collections::HashMap;

use crate::db::{Connection, params};

use crate::codes::ReuseParams;
use crate::error::ApiResult;
use crate::i18n::Lang;
use crate::messages::PhotoName;
use crate::queue::Status;
use crate::web::auth::scope_sql;
use crate::web::read::photos::{photo_names, photo_visible};

/// Photos on one gallery page: a day of one rep's visits fits on the first, and the page with
/// its 60 previews is ~0.7 MB (`docs/PERFORMANCE.md`).
pub const GALLERY_PAGE: u64 = 60;

pub struct GalleryPhoto {
    pub store_id: String,
    pub sha256: String,
    pub visit_id: String,
    pub user_id: String,
    pub received: bool,
    /// As shown (`photo_verdict::shown`: the device's revocation applied).
    pub verified: bool,
    pub problems: Option<String>,
    /// Verified, and the device's key was revoked after the server received the photo.
    pub key_revoked_later: bool,
    /// `photos.photo_kind` (`shelf_overview`…).
    pub kind: String,
    pub visit_started: i64,
    /// The codes of the photo's open exceptions (reused, mock location…), for its badge.
    pub open_codes: Vec<String>,
}

/// A `possible_reuse` exception of the day, for [`crate::messages::render`].
pub struct ReuseFinding {
    pub visit_id: Option<String>,
    /// Its stored parameters (None: a row from before schema v4).
    pub params: Option<serde_json::Value>,
    /// A row from before schema v4: the two photos of its subject `<sha256>:<matched sha256>`
    /// that the viewer may see (sha256s), this one first.
    pub legacy_shas: Vec<String>,
    /// Listed matches left out because they are another team's photos.
    pub hidden: usize,
    /// The exception's state: a resolved or dismissed finding shows as closed.
    pub status: Status,
}

pub struct GalleryPage {
    pub photos: Vec<GalleryPhoto>,
    pub reuse: Vec<ReuseFinding>,
    /// The photos the reuse findings name that the viewer may see, by photo id.
    pub reuse_photos: HashMap<String, PhotoName>,
    /// Photos of the day (and store) in all.
    pub total: u64,
    /// The page shown: the one asked for, or the last one when that is past the end.
    pub page: u64,
}

/// Page `page` (from 1) of the photos of visits started in [from, to), of store `store` (""
/// = all), and the reuse findings of those days and store with the photos they name.
pub fn gallery(
    c: &Connection,
    lang: Lang,
    scope: Option<&str>,
    (from, to): (i64, i64),
    store: &str,
    page: u64,
) -> ApiResult<GalleryPage> {
    let matching = format!(
        "FROM photos p JOIN visits v ON v.id = p.visit_id
         WHERE v.started_wall_ms >= ?1 AND v.started_wall_ms < ?2 AND (?3 = '' OR p.store_id = ?3) AND {}",
        scope_sql("p.user_id", 4)
    );
    let total: i64 = c.query_row(
        &format!("SELECT count(*) {matching}"),
        params![from, to, store, scope],
        |r| r.get(0),
    )?;
    let total = total.max(0) as u64;
    // Past the end shows the last page: a link from a day that has since shrunk still lands
    // on photos.
    let last = total.div_ceil(GALLERY_PAGE).max(1);
    let page = page.clamp(1, last);
    let sql = format!(
        "SELECT p.store_id, p.sha256, p.visit_id, p.user_id, p.received, p.verified, p.problems, v.started_wall_ms, p.photo_kind,
                (SELECT group_concat(DISTINCT e.code) FROM exceptions e
                 WHERE e.visit_id = p.visit_id AND e.photo_sha256 = p.sha256 AND e.resolved_ms IS NULL),
                (SELECT d.revoked_ms FROM devices d WHERE d.device_id = p.device_id),
                (SELECT o.received_ms FROM ops o WHERE o.op_id = p.op_id)
         {matching} ORDER BY p.store_id, v.started_wall_ms, p.photo_id LIMIT ?5 OFFSET ?6"
    );
    let mut st = c.prepare(&sql)?;
    let photos = st
        .query_map(
            params![
                from,
                to,
                store,
                scope,
                GALLERY_PAGE as i64,
                ((page - 1) * GALLERY_PAGE) as i64
            ],
            |r| {
                let problems: Option<String> = r.get(6)?;
                let shown =
                    crate::photo_verdict::shown(r.get(5)?, problems.as_deref(), r.get(10)?, r.get(11)?);
                Ok(GalleryPhoto {
                    store_id: r.get(0)?,
                    sha256: r.get(1)?,
                    visit_id: r.get(2)?,
                    user_id: r.get(3)?,
                    received: r.get(4)?,
                    verified: shown.verified,
                    problems: shown.problems,
                    key_revoked_later: shown.key_revoked_later,
                    visit_started: r.get(7)?,
                    kind: r.get(8)?,
                    open_codes: r
                        .get::<_, Option<String>>(9)?
                        .map(|c| c.split(',').map(str::to_string).collect())
                        .unwrap_or_default(),
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    let reuse = reuse_findings(c, scope, (from, to), store)?;
    let ids = reuse
        .iter()
        .filter_map(|f| f.params.as_ref())
        .filter_map(|p| serde_json::from_value::<ReuseParams>(p.clone()).ok())
        .flat_map(|p| std::iter::once(p.photo_id).chain(p.matches.into_iter().map(|m| m.photo_id)));
    let reuse_photos = photo_names(c, lang, scope, ids.collect::<Vec<_>>())?;
    Ok(GalleryPage {
        photos,
        reuse,
        reuse_photos,
        total,
        page,
    })
}

/// The day's `possible_reuse` exceptions (by their visit's day; one without a visit by the day
/// its photo was taken), of store `store` ("" = all).
fn reuse_findings(
    c: &Connection,
    scope: Option<&str>,
    (from, to): (i64, i64),
    store: &str,
) -> ApiResult<Vec<ReuseFinding>> {
    struct Raised {
        subject: String,
        visit_id: Option<String>,
        params: Option<String>,
        status: Status,
    }
    let sql = format!(
        "SELECT e.subject, e.visit_id, e.status, e.params
         FROM exceptions e LEFT JOIN visits v ON v.id = e.visit_id
         WHERE e.code = 'possible_reuse' AND {}
           AND ((v.started_wall_ms >= ?2 AND v.started_wall_ms < ?3) OR (v.id IS NULL AND e.event_ms >= ?2 AND e.event_ms < ?3))
           AND (?4 = '' OR e.store_id = ?4)
         ORDER BY e.id",
        scope_sql("e.user_id", 1),
    );
    let mut st = c.prepare(&sql)?;
    let raised: Vec<Raised> = st
        .query_map(params![scope, from, to, store], |r| {
            Ok(Raised {
                subject: r.get(0)?,
                visit_id: r.get(1)?,
                status: Status::parse(&r.get::<_, String>(2)?).unwrap_or(Status::Open),
                params: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    // A supervisor learns nothing of another team's photos: matches outside the scope are left
    // out (their ids, hashes and devices too); the total still counts them.
    let mut in_scope = c.prepare(&format!(
        "SELECT 1 FROM photos WHERE photo_id = ?1 AND {}",
        scope_sql("user_id", 2)
    ))?;
    let mut out = Vec::new();
    for e in raised {
        let mut hidden = 0;
        let mut parsed = e
            .params
            .as_deref()
            .and_then(|p| serde_json::from_str::<ReuseParams>(p).ok());
        if let Some(p) = parsed.as_mut()
            && scope.is_some()
        {
            let mut kept = Vec::new();
            for m in std::mem::take(&mut p.matches) {
                if in_scope.exists(params![m.photo_id, scope])? {
                    kept.push(m);
                } else {
                    hidden += 1;
                }
            }
            p.matches = kept;
        }
        let params = parsed.and_then(|p| serde_json::to_value(p).ok());
        let mut legacy_shas = Vec::new();
        if params.is_none() {
            for sha in e.subject.split(':') {
                if crate::keys::is_lower_hex(sha, 64) && photo_visible(c, sha, scope)? {
                    legacy_shas.push(sha.to_string());
                }
            }
        }
        out.push(ReuseFinding {
            visit_id: e.visit_id,
            params,
            legacy_shas,
            hidden,
            status: e.status,
        });
    }
    Ok(out)
}
