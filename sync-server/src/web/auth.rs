//! Web sign-in: Argon2id password hashes (PHC strings), sessions, CSRF tokens, roles.
//!
//! A session is a random 32-byte token in an `HttpOnly; SameSite=Strict` cookie (plus `Secure`
//! when the request came through HTTPS, told by the reverse proxy's `X-Forwarded-Proto`); the
//! database keeps only its SHA-256, with the user, the session's CSRF token and its expiry
//! (12 h). Every POST carries the CSRF token as a hidden field and is refused (403) without it.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rusqlite::{OptionalExtension, params};

use crate::error::{ApiError, ApiResult};
use crate::store::{AdminError, Store, lock};

pub const SESSION_COOKIE: &str = "fp_session";
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
/// Failed sign-ins per user id allowed in `LOGIN_WINDOW_MS` before further tries are refused.
const LOGIN_MAX_FAILURES: u32 = 10;
const LOGIN_WINDOW_MS: i64 = 15 * 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebRole {
    Admin,
    HeadOffice,
    Supervisor,
}

impl WebRole {
    pub fn parse(s: &str) -> Option<WebRole> {
        match s {
            "admin" => Some(WebRole::Admin),
            "head_office" => Some(WebRole::HeadOffice),
            "supervisor" => Some(WebRole::Supervisor),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WebRole::Admin => "admin",
            WebRole::HeadOffice => "head_office",
            WebRole::Supervisor => "supervisor",
        }
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub id: String,
    pub name: String,
    pub role: WebRole,
    /// For a supervisor: the reference-data user whose team (and own visits) they see.
    pub supervisor_id: Option<String>,
    pub csrf: String,
}

impl WebUser {
    /// `None`: sees everything. `Some(sup)`: only reps whose supervisor is `sup`, and `sup`.
    pub fn scope(&self) -> Option<&str> {
        match self.role {
            WebRole::Admin | WebRole::HeadOffice => None,
            // A supervisor row always has one (CHECK constraint); without it, see nothing.
            WebRole::Supervisor => Some(self.supervisor_id.as_deref().unwrap_or("\u{0}")),
        }
    }

    pub fn sees_all(&self) -> bool {
        self.scope().is_none()
    }
}

/// SQL: is the user in column `col` visible to scope parameter `?N`? (NULL scope = all.)
pub fn scope_sql(col: &str, n: usize) -> String {
    format!("(?{n} IS NULL OR {col} = ?{n} OR {col} IN (SELECT id FROM users WHERE supervisor_id = ?{n}))")
}

pub fn random_hex(n: usize) -> ApiResult<String> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("random: {e}")))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a session or sign-in-link token: the same hex SHA-256 as everywhere else.
pub fn sha256_hex(s: &str) -> String {
    fieldproof_core::evidence::sha256_hex(s.as_bytes())
}

pub fn hash_password(password: &str) -> Result<String, AdminError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AdminError::Invalid(format!("cannot hash the password: {e}")))
}

/// Constant-time comparison inside the crate; a malformed stored hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the user id is unknown, so both cases take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("fieldproof-dummy-password").unwrap_or_default())
}

/// `fieldproof-server admin create-user`: create a web user, or replace the name, role and
/// password of an existing one (and end its sessions).
pub fn create_user(
    store: &Store,
    id: &str,
    name: &str,
    role: &str,
    supervisor_id: Option<&str>,
    password: &str,
    now_ms: i64,
) -> Result<String, AdminError> {
    let role = WebRole::parse(role).ok_or_else(|| {
        AdminError::Invalid(format!("unknown role {role:?}: admin, head_office or supervisor"))
    })?;
    if id.trim().is_empty() || id.len() > 64 || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AdminError::Invalid(
            "the id must be 1 to 64 characters without spaces".into(),
        ));
    }
    if name.trim().is_empty() || name.len() > 200 {
        return Err(AdminError::Invalid("the name must be 1 to 200 characters".into()));
    }
    if password.chars().count() < 10 {
        return Err(AdminError::Invalid(
            "the password must be at least 10 characters".into(),
        ));
    }
    let sup = match role {
        WebRole::Supervisor => {
            let sup = supervisor_id.unwrap_or(id);
            let r = store.reader()?;
            let found: Option<String> = r
                .query_row("SELECT role FROM users WHERE id = ?1", [sup], |row| row.get(0))
                .optional()?;
            match found.as_deref() {
                Some("supervisor") => Some(sup.to_string()),
                Some(_) => {
                    return Err(AdminError::Invalid(format!(
                        "reference user {sup:?} is not a supervisor"
                    )));
                }
                None => return Err(AdminError::UnknownUser(sup.to_string())),
            }
        }
        _ => None,
    };
    let hash = hash_password(password)?;
    let w = store.writer();
    w.conn.execute(
        "INSERT INTO web_users (id, name, role, supervisor_id, password_hash, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET name = ?2, role = ?3, supervisor_id = ?4, password_hash = ?5",
        params![id, name, role.as_str(), sup, hash, now_ms],
    )?;
    w.conn
        .execute("DELETE FROM web_sessions WHERE user_id = ?1", [id])?;
    Ok(format!("web user {id} ({}) saved", role.as_str()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    BadCredentials,
    TooManyAttempts,
}

fn failures() -> &'static Mutex<HashMap<String, (u32, i64)>> {
    static F: OnceLock<Mutex<HashMap<String, (u32, i64)>>> = OnceLock::new();
    F.get_or_init(Default::default)
}

/// Check the password; on success open a session and return its (token, csrf).
pub fn login(
    store: &Store,
    id: &str,
    password: &str,
    now_ms: i64,
) -> ApiResult<Result<(String, String), LoginError>> {
    // Keyed by data directory too, so two servers in one process (tests) do not share counts.
    let key = format!("{}\u{0}{id}", store.data_dir().display());
    {
        let mut f = lock(failures());
        f.retain(|_, (_, since)| now_ms - *since < LOGIN_WINDOW_MS);
        if f.get(&key).is_some_and(|(n, _)| *n >= LOGIN_MAX_FAILURES) {
            return Ok(Err(LoginError::TooManyAttempts));
        }
    }
    let stored: Option<String> = {
        let r = store.reader()?;
        r.query_row("SELECT password_hash FROM web_users WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?
    };
    let ok = match &stored {
        Some(h) => verify_password(password, h),
        None => {
            let _ = verify_password(password, dummy_hash());
            false
        }
    };
    if !ok {
        let mut f = lock(failures());
        let e = f.entry(key).or_insert((0, now_ms));
        e.0 += 1;
        return Ok(Err(LoginError::BadCredentials));
    }
    lock(failures()).remove(&key);
    let w = store.writer();
    Ok(Ok(open_session(&w.conn, id, now_ms)?))
}

/// A new session for `user_id`: (token for the cookie, CSRF token). Only the token's hash is
/// stored.
fn open_session(conn: &rusqlite::Connection, user_id: &str, now_ms: i64) -> ApiResult<(String, String)> {
    let token = random_hex(32)?;
    let csrf = random_hex(32)?;
    conn.execute("DELETE FROM web_sessions WHERE expires_ms <= ?1", [now_ms])?;
    conn.execute(
        "INSERT INTO web_sessions (token_sha256, user_id, csrf_token, created_ms, expires_ms)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![sha256_hex(&token), user_id, csrf, now_ms, now_ms + SESSION_TTL_MS],
    )?;
    Ok((token, csrf))
}

/// Longest a sign-in link may live.
pub const MAX_SIGN_IN_LINK_TTL_MS: i64 = 24 * 3_600_000;

/// A one-time sign-in link for a web user (`admin sign-in-link`): returns the path with its
/// token, `/app/login/link?token=...`. The token is random, stored hashed, works once and
/// expires after `ttl_ms`; it is as good as the user's password for that long, so it is for
/// handing over in person (the demo) or on a trusted channel.
pub fn issue_sign_in_link(
    store: &Store,
    user_id: &str,
    ttl_ms: i64,
    now_ms: i64,
) -> Result<String, AdminError> {
    if !(60_000..=MAX_SIGN_IN_LINK_TTL_MS).contains(&ttl_ms) {
        return Err(AdminError::Invalid(
            "a sign-in link lives between 1 minute and 24 hours".into(),
        ));
    }
    let token = random_hex(32)?;
    let w = store.writer();
    let known: Option<String> = w
        .conn
        .query_row("SELECT id FROM web_users WHERE id = ?1", [user_id], |r| r.get(0))
        .optional()?;
    if known.is_none() {
        return Err(AdminError::Invalid(format!(
            "unknown web user {user_id:?}: create it with admin create-user first"
        )));
    }
    w.conn
        .execute("DELETE FROM web_sign_in_links WHERE expires_ms <= ?1", [now_ms])?;
    w.conn.execute(
        "INSERT INTO web_sign_in_links (token_sha256, user_id, created_ms, expires_ms) VALUES (?1, ?2, ?3, ?4)",
        params![sha256_hex(&token), user_id, now_ms, now_ms + ttl_ms],
    )?;
    Ok(format!("/app/login/link?token={token}"))
}

/// Redeem a sign-in link: marks it used and opens a session, in one transaction, so a link
/// opened twice at once still signs in once. `None`: unknown, used or expired.
pub fn redeem_sign_in_link(store: &Store, token: &str, now_ms: i64) -> ApiResult<Option<(String, String)>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut w = store.writer();
    let tx = w.conn.transaction()?;
    let user: Option<String> = tx
        .query_row(
            "UPDATE web_sign_in_links SET used_ms = ?2
             WHERE token_sha256 = ?1 AND used_ms IS NULL AND expires_ms > ?2 RETURNING user_id",
            params![sha256_hex(token), now_ms],
            |r| r.get(0),
        )
        .optional()?;
    let Some(user) = user else {
        return Ok(None);
    };
    let session = open_session(&tx, &user, now_ms)?;
    tx.commit()?;
    Ok(Some(session))
}

/// The user of a live session token.
pub fn session_user(store: &Store, token: &str, now_ms: i64) -> ApiResult<Option<WebUser>> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let r = store.reader()?;
    let row = r
        .query_row(
            "SELECT u.id, u.name, u.role, u.supervisor_id, s.csrf_token FROM web_sessions s
             JOIN web_users u ON u.id = s.user_id WHERE s.token_sha256 = ?1 AND s.expires_ms > ?2",
            params![sha256_hex(token), now_ms],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, Option<String>>(3)?,
                    row.get::<_, String>(4)?,
                ))
            },
        )
        .optional()?;
    Ok(row.and_then(|(id, name, role, supervisor_id, csrf)| {
        Some(WebUser {
            id,
            name,
            role: WebRole::parse(&role)?,
            supervisor_id,
            csrf,
        })
    }))
}

pub fn logout(store: &Store, token: &str) -> ApiResult<()> {
    let w = store.writer();
    w.conn.execute(
        "DELETE FROM web_sessions WHERE token_sha256 = ?1",
        [sha256_hex(token)],
    )?;
    Ok(())
}

/// Constant-time equality for CSRF tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_phc_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterx", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[test]
    fn tokens_compare() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert_eq!(random_hex(32).unwrap().len(), 64);
    }
}
