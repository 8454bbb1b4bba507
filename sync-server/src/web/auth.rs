//! Web sign-in: Argon2id password hashes (PHC strings), sessions, CSRF tokens, roles.
//!
//! A session is a random 32-byte token in an `HttpOnly; SameSite=Strict` cookie (plus `Secure`
//! when the request came through HTTPS, told by the reverse proxy's `X-Forwarded-Proto`); the
//! database keeps only its SHA-256, with the user, the session's CSRF token and its expiry
//! (12 h). Every POST carries the CSRF token as a hidden field and is refused (403) without it.
//!
//! Sign-in throttling lives in the database (`web_login_throttle`), so it survives a restart and
//! holds across several server processes on one database: each attempt first *reserves* a
//! count against its user id and its client address in one write transaction, and only then is
//! the password checked (by the bounded pool in [`crate::password`]). Forty guesses sent at once
//! therefore get at most the limit's worth of checks; a success gives its reservation back.

use std::net::IpAddr;
use std::sync::Arc;

use crate::db::{OptionalExtension, TransactionBehavior, params};

use crate::body::blocking;
use crate::error::{ApiError, ApiResult};
use crate::password::Verdict;
use crate::store::{AdminError, Store};

pub const SESSION_COOKIE: &str = "fp_session";
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;

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
    crate::scope::scope_sql(col, n)
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
    use crate::people::{AccountRole, FirstSignIn, Manager, WebUserInput};
    let role = AccountRole::parse(role).ok_or_else(|| {
        AdminError::Invalid(format!("unknown role {role:?}: admin, head_office or supervisor"))
    })?;
    let input = WebUserInput {
        id: id.to_string(),
        name: name.to_string(),
        role,
        supervisor_id: supervisor_id.map(str::to_string),
    };
    // One implementation: the people pages' own (the CLI acts as an admin, and replaces).
    crate::people::create_web_user(
        store,
        Manager::CLI,
        &input,
        &FirstSignIn::Password(password.to_string()),
        true,
        now_ms,
    )
    .map_err(|e| AdminError::Invalid(e.to_string()))?;
    Ok(format!("web user {} ({}) saved", input.id.trim(), role.as_str()))
}

#[derive(Debug, PartialEq, Eq)]
pub enum LoginError {
    BadCredentials,
    /// The user id or the client address used up its failures for the window.
    TooManyAttempts {
        retry_after_s: u64,
    },
    /// Every password check is taken; try again in a moment (nothing was counted).
    Busy,
}

/// Who is signing in, for throttling: the user id typed and the client's address.
pub struct Attempt<'a> {
    pub user_id: &'a str,
    pub client: Option<IpAddr>,
}

impl Attempt<'_> {
    fn user_key(&self) -> String {
        format!("user:{}", self.user_id)
    }

    /// IPv6 clients are counted per /64: one host usually holds a whole /64.
    fn client_key(&self) -> Option<String> {
        self.client.map(|ip| match ip {
            IpAddr::V4(v4) => format!("ip:{v4}"),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        })
    }
}

/// Count one attempt against each `(key, limit)`, all or none, in one write transaction; `Err`
/// holds the milliseconds until the first full key's window ends.
fn reserve_attempt(store: &Store, keys: &[(String, u32)], now_ms: i64) -> ApiResult<Result<(), i64>> {
    let window = store.limits.login_window.as_millis() as i64;
    let mut w = store.writer();
    let tx = w.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(
        "DELETE FROM web_login_throttle WHERE window_start_ms <= ?1",
        [now_ms - window],
    )?;
    for (key, limit) in keys {
        let row: Option<(u32, i64)> = tx
            .query_row(
                "SELECT attempts, window_start_ms FROM web_login_throttle WHERE key = ?1",
                [key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((n, start)) = row
            && n >= *limit
        {
            return Ok(Err((start + window - now_ms).max(1000)));
        }
    }
    for (key, _) in keys {
        tx.execute(
            "INSERT INTO web_login_throttle (key, attempts, window_start_ms) VALUES (?1, 1, ?2)
             ON CONFLICT (key) DO UPDATE SET attempts = attempts + 1",
            params![key, now_ms],
        )?;
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// Give reservations back: after a success (the user's count starts again) or when the check
/// never ran (busy).
fn release_attempt(store: &Store, keys: &[String], forget: bool) -> ApiResult<()> {
    let w = store.writer();
    for key in keys {
        if forget {
            w.conn
                .execute("DELETE FROM web_login_throttle WHERE key = ?1", [key])?;
        } else {
            w.conn.execute(
                "UPDATE web_login_throttle SET attempts = max(attempts - 1, 0) WHERE key = ?1",
                [key],
            )?;
        }
    }
    Ok(())
}

/// Check the password; on success open a session and return its (token, csrf).
pub async fn login(
    store: &Arc<Store>,
    attempt: &Attempt<'_>,
    password: String,
    now_ms: i64,
) -> ApiResult<Result<(String, String), LoginError>> {
    let Some(_admitted) = store.passwords().admit() else {
        return Ok(Err(LoginError::Busy));
    };
    let user_key = attempt.user_key();
    let client_key = attempt.client_key();
    let mut keys = vec![(user_key.clone(), store.limits.login_failures_per_user)];
    if let Some(k) = &client_key {
        keys.push((k.clone(), store.limits.login_failures_per_ip));
    }
    let (s, id) = (store.clone(), attempt.user_id.to_string());
    let reserved = blocking(move || {
        if let Err(ms) = reserve_attempt(&s, &keys, now_ms)? {
            return Ok(Err(ms));
        }
        let r = s.reader()?;
        let stored: Option<String> = r
            .query_row(
                "SELECT password_hash FROM web_users WHERE id = ?1",
                [&id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(Ok(stored))
    })
    .await?;
    let stored = match reserved {
        Ok(stored) => stored,
        Err(ms) => {
            return Ok(Err(LoginError::TooManyAttempts {
                retry_after_s: (ms as u64).div_ceil(1000),
            }));
        }
    };
    let verdict = store.passwords().verify(password, stored).await;
    let (s, id) = (store.clone(), attempt.user_id.to_string());
    blocking(move || match verdict {
        Verdict::Match => {
            release_attempt(&s, &[user_key], true)?;
            if let Some(k) = client_key {
                release_attempt(&s, &[k], false)?;
            }
            let w = s.writer();
            Ok(Ok(open_session(&w.conn, &id, now_ms)?))
        }
        // The reservation stays: it was a failure.
        Verdict::NoMatch => Ok(Err(LoginError::BadCredentials)),
        Verdict::Busy => {
            let mut keys = vec![user_key];
            keys.extend(client_key);
            release_attempt(&s, &keys, false)?;
            Ok(Err(LoginError::Busy))
        }
    })
    .await
}

/// A new session for `user_id`: (token for the cookie, CSRF token). Only the token's hash is
/// stored.
fn open_session(conn: &crate::db::Connection, user_id: &str, now_ms: i64) -> ApiResult<(String, String)> {
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
pub use crate::people::MAX_SIGN_IN_LINK_TTL_MS;

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
    crate::people::issue_sign_in_link(store, crate::people::Manager::CLI, user_id, ttl_ms, now_ms)
        .map_err(|e| AdminError::Invalid(e.to_string()))
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
    fn tokens_compare() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert_eq!(random_hex(32).unwrap().len(), 64);
    }
}
