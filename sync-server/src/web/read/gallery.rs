//! The photo gallery of a day: one page of photos, and the day's possible-reuse pairs.

use rusqlite::{Connection, OptionalExtension, params};

use crate::codes::ReuseParams;
use crate::error::ApiResult;
use crate::queue::Status;
use crate::web::auth::scope_sql;

/// Photos on one gallery page: a day of one rep's visits fits on the first, and the page with
/// its 60 previews is ~0.7 MB (`docs/PERFORMANCE.md`).
pub const GALLERY_PAGE: u64 = 60;

pub struct GalleryPhoto {
    pub store_id: String,
    pub sha256: String,
    pub visit_id: String,
    pub user_id: String,
    pub received: bool,
    pub verified: bool,
    pub problems: Option<String>,
    pub visit_started: i64,
    /// The codes of the photo's open exceptions (reused, mock location…), for its badge.
    pub open_codes: Vec<String>,
}

/// What a reuse pair says under its two photos.
pub enum PairNote {
    /// From the exception's params: this match's perceptual distance, and how many matches
    /// the photo has in all.
    Match { distance: u32, matches_total: usize },
    /// A row from before schema v4: no distance kept.
    Legacy,
}

/// A photo that looks like an earlier one of another visit.
pub struct ReusePair {
    pub this_sha256: String,
    pub other_sha256: String,
    pub visit_id: Option<String>,
    pub user_id: Option<String>,
    pub note: PairNote,
    /// The matched photo's visit, when the viewer's scope sees it (else it is not shown).
    pub other_visit_id: Option<String>,
    /// The exception's state: a resolved or dismissed pair shows as closed.
    pub status: Status,
}

pub struct GalleryPage {
    pub photos: Vec<GalleryPhoto>,
    pub pairs: Vec<ReusePair>,
    /// Photos of the day (and store) in all.
    pub total: u64,
    /// The page shown: the one asked for, or the last one when that is past the end.
    pub page: u64,
}

/// Page `page` (from 1) of the photos of visits started in [from, to), of store `store` (""
/// = all), and the reuse pairs of those days and store.
pub fn gallery(
    c: &Connection,
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
        "SELECT p.store_id, p.sha256, p.visit_id, p.user_id, p.received, p.verified, p.problems, v.started_wall_ms,
                (SELECT group_concat(DISTINCT e.code) FROM exceptions e
                 WHERE e.visit_id = p.visit_id AND e.photo_sha256 = p.sha256 AND e.resolved_ms IS NULL)
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
                Ok(GalleryPhoto {
                    store_id: r.get(0)?,
                    sha256: r.get(1)?,
                    visit_id: r.get(2)?,
                    user_id: r.get(3)?,
                    received: r.get(4)?,
                    verified: r.get(5)?,
                    problems: r.get(6)?,
                    visit_started: r.get(7)?,
                    open_codes: r
                        .get::<_, Option<String>>(8)?
                        .map(|c| c.split(',').map(str::to_string).collect())
                        .unwrap_or_default(),
                })
            },
        )?
        .collect::<Result<_, _>>()?;
    Ok(GalleryPage {
        photos,
        pairs: reuse_pairs(c, scope, (from, to), store)?,
        total,
        page,
    })
}

/// One pair per match a `possible_reuse` exception lists (rows from before schema v4 are one
/// pair each, subject "<this sha256>:<matched sha256>").
fn reuse_pairs(
    c: &Connection,
    scope: Option<&str>,
    (from, to): (i64, i64),
    store: &str,
) -> ApiResult<Vec<ReusePair>> {
    struct Raised {
        subject: String,
        visit_id: Option<String>,
        user_id: Option<String>,
        params: Option<String>,
        status: Status,
    }
    let sql = format!(
        "SELECT e.subject, e.visit_id, e.user_id, e.status, e.params
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
                user_id: r.get(2)?,
                status: Status::parse(&r.get::<_, String>(3)?).unwrap_or(Status::Open),
                params: r.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut visible = c.prepare(&format!(
        "SELECT p2.visit_id FROM photos p2 WHERE p2.sha256 = ?2 AND {} LIMIT 1",
        scope_sql("p2.user_id", 1)
    ))?;
    let mut pairs = Vec::new();
    for e in raised {
        // (this sha256, matched sha256, note)
        let listed: Vec<(String, String, PairNote)> = match e
            .params
            .and_then(|p| serde_json::from_str::<ReuseParams>(&p).ok())
        {
            Some(p) => p
                .matches
                .iter()
                .map(|m| {
                    let note = PairNote::Match {
                        distance: m.distance,
                        matches_total: p.matches_total,
                    };
                    (p.sha256.clone(), m.sha256.clone(), note)
                })
                .collect(),
            None => {
                let (this, other) = e.subject.split_once(':').unwrap_or((e.subject.as_str(), ""));
                vec![(this.to_string(), other.to_string(), PairNote::Legacy)]
            }
        };
        for (this, other, note) in listed {
            let other_visit_id: Option<String> = visible
                .query_row(params![scope, other], |r| r.get(0))
                .optional()?;
            pairs.push(ReusePair {
                this_sha256: this,
                other_sha256: other,
                visit_id: e.visit_id.clone(),
                user_id: e.user_id.clone(),
                note,
                other_visit_id,
                status: e.status,
            });
        }
    }
    Ok(pairs)
}
