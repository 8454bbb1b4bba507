//! The named structure under the reference data (`migrations/007_people_and_structure.sql`):
//! territory rows for the territory codes users and stores carry, a team for every supervisor.
//! A leaf: plain SQL on the caller's transaction, used by `store::write_reference` (so data
//! loaded any way keeps the structure whole) and by `people`.

use crate::db::{Connection, params};
use fieldproof_core::model::{Role, User};

/// A territory row for each code not yet known, named as its code (head office renames it).
pub(crate) fn ensure_territories<'a>(
    tx: &Connection,
    codes: impl IntoIterator<Item = &'a str>,
    now_ms: i64,
) -> crate::db::Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO territories (code, name, created_ms, updated_ms) VALUES (?1, ?1, ?2, ?2)
         ON CONFLICT (code) DO NOTHING",
    )?;
    for code in codes {
        if !code.trim().is_empty() {
            st.execute(params![code, now_ms])?;
        }
    }
    Ok(())
}

/// Territories of `users`, and a team (coded by the supervisor's id, named by their name) for
/// each supervisor who leads none. A team code already taken by another team leaves that
/// supervisor without one rather than failing the load: the people pages can give them one.
pub(crate) fn ensure_for_users(tx: &Connection, users: &[User], now_ms: i64) -> crate::db::Result<()> {
    ensure_territories(tx, users.iter().filter_map(|u| u.territory.as_deref()), now_ms)?;
    let mut st = tx.prepare_cached(
        "INSERT INTO teams (code, name, supervisor_id, created_ms, updated_ms)
         SELECT ?1, ?2, ?1, ?3, ?3 WHERE NOT EXISTS (SELECT 1 FROM teams WHERE supervisor_id = ?1)
         ON CONFLICT DO NOTHING",
    )?;
    for u in users.iter().filter(|u| u.role == Role::Supervisor) {
        st.execute(params![u.id, u.name, now_ms])?;
    }
    Ok(())
}
