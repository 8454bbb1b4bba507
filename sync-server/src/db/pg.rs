//! The PostgreSQL back end's edges: the client behind `&self`, statements prepared once per SQL
//! string (placeholders rewritten), parameters encoded as whatever type the server inferred,
//! and columns folded onto the five kinds of [`ValueRef`].
//!
//! The `postgres` crate's client is synchronous (it drives its own small runtime), so it is
//! only ever called from blocking code: the server reaches the store through `spawn_blocking`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use postgres::types::{FromSql as PgFromSql, IsNull, ToSql as PgToSql, Type};

use super::error::{Error, Result};
use super::value::{ToSql as DbToSql, ValueRef};

/// Statements kept prepared per connection; past this the cache starts again (SQL built at run
/// time, e.g. an `IN` list per length, must not grow it without bound).
const STATEMENT_CACHE: usize = 512;

/// How long a new connection may take when the address sets no `connect_timeout`.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct PgConn {
    /// Always `Some` but in `Drop`.
    client: RefCell<Option<postgres::Client>>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    /// A statement failed because the server is gone ([`PgConn::is_closed`]).
    lost: std::cell::Cell<bool>,
}

/// Closing the client blocks on its own runtime, which panics on a thread that runs async
/// code (a store dropped at the end of `serve`, in-process tests): there it is closed on a
/// thread of its own.
impl Drop for PgConn {
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(client));
        }
    }
}

impl PgConn {
    pub fn connect(url: &str) -> Result<PgConn> {
        let mut config: postgres::Config = url.parse()?;
        // A database host that does not answer at all (a failover in progress, a dropped
        // route) must not hold the writer for the system's TCP timeout, minutes: the store
        // reconnects under the writer lock. The address may set its own `connect_timeout`.
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let client = config.connect(postgres::NoTls)?;
        Ok(PgConn {
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
            lost: std::cell::Cell::new(false),
        })
    }

    /// Whether the connection to the server is gone (the server restarted or failed over, or
    /// an administrator ended this session): every statement on it would fail. Known from a
    /// statement that failed so, not only from the client's own flag, which is set only once
    /// its background reader has seen the socket close (a moment later, or never while idle).
    pub fn is_closed(&self) -> bool {
        self.lost.get()
            || self
                .client
                .borrow()
                .as_ref()
                .is_none_or(postgres::Client::is_closed)
    }

    /// Pass a driver result on, remembering whether its error says the server is gone.
    fn seen<T>(&self, r: std::result::Result<T, postgres::Error>) -> Result<T> {
        r.map_err(|e| {
            let e = Error::from(e);
            if e.is_unreachable() {
                self.lost.set(true);
            }
            e
        })
    }

    fn client(&self) -> Result<std::cell::RefMut<'_, postgres::Client>> {
        std::cell::RefMut::filter_map(self.client.borrow_mut(), Option::as_mut).map_err(|_| Error::Closed)
    }

    /// The prepared statement for `sql` (written with SQLite's `?N` placeholders).
    pub fn prepare(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(st) = self.statements.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = self.seen(self.client()?.prepare(&rewrite_placeholders(sql)))?;
        let mut cache = self.statements.borrow_mut();
        if cache.len() >= STATEMENT_CACHE {
            cache.clear();
        }
        cache.insert(sql.to_string(), st.clone());
        Ok(st)
    }

    pub fn execute(&self, st: &postgres::Statement, params: &[&dyn DbToSql]) -> Result<usize> {
        let values = bind(st, params)?;
        let refs = refs(&values);
        let n = self.seen(self.client()?.execute(st, &refs))?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn query(&self, st: &postgres::Statement, params: &[&dyn DbToSql]) -> Result<Vec<postgres::Row>> {
        let values = bind(st, params)?;
        let refs = refs(&values);
        self.seen(self.client()?.query(st, &refs))
    }

    /// Several statements without parameters, in one round trip (schema steps, `BEGIN`…).
    pub fn batch(&self, sql: &str) -> Result<()> {
        self.seen(self.client()?.batch_execute(sql))
    }
}

fn bind<'a>(st: &postgres::Statement, params: &'a [&'a dyn DbToSql]) -> Result<Vec<Param<'a>>> {
    if params.len() != st.params().len() {
        return Err(Error::InvalidParameterCount {
            given: params.len(),
            expected: st.params().len(),
        });
    }
    params.iter().map(|p| DbToSql::to_sql(*p).map(Param)).collect()
}

fn refs<'a>(values: &'a [Param<'a>]) -> Vec<&'a (dyn PgToSql + Sync)> {
    values.iter().map(|v| v as &(dyn PgToSql + Sync)).collect()
}

/// `?N` → `$N`, a bare `?` → the next number, outside string literals, quoted names and
/// comments.
pub fn rewrite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next = 0u32;
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                out.push(c);
                for d in chars.by_ref() {
                    out.push(d);
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    next += 1;
                    out.push_str(&next.to_string());
                } else {
                    next = next.max(digits.parse().unwrap_or(0));
                    out.push_str(&digits);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A parameter, encoded as the type PostgreSQL inferred for its placeholder: SQL written for
/// SQLite's loose typing (an integer compared with a `bigint`, an `int` or a `float` column, a
/// flag bound as `0`/`1`) means the same here.
#[derive(Debug)]
struct Param<'a>(ValueRef<'a>);

type BoxError = Box<dyn StdError + Sync + Send>;

fn mismatch(v: &ValueRef<'_>, ty: &Type) -> BoxError {
    format!("cannot bind a {} value as {}", v.kind(), ty.name()).into()
}

impl PgToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        let v = &self.0;
        match *v {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => PgToSql::to_sql(&i, ty, out),
                Type::INT4 => PgToSql::to_sql(&i32::try_from(i)?, ty, out),
                Type::INT2 => PgToSql::to_sql(&i16::try_from(i)?, ty, out),
                Type::FLOAT8 => PgToSql::to_sql(&(i as f64), ty, out),
                Type::FLOAT4 => PgToSql::to_sql(&(i as f32), ty, out),
                Type::BOOL => PgToSql::to_sql(&(i != 0), ty, out),
                Type::NUMERIC => {
                    encode_numeric(i, out);
                    Ok(IsNull::No)
                }
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    PgToSql::to_sql(&i.to_string().as_str(), &Type::TEXT, out)
                }
                _ => Err(mismatch(v, ty)),
            },
            ValueRef::Real(f) => match *ty {
                Type::FLOAT8 => PgToSql::to_sql(&f, ty, out),
                Type::FLOAT4 => PgToSql::to_sql(&(f as f32), ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::UNKNOWN => {
                    PgToSql::to_sql(&f.to_string().as_str(), &Type::TEXT, out)
                }
                _ => Err(mismatch(v, ty)),
            },
            ValueRef::Text(s) => match *ty {
                // PostgreSQL text cannot hold U+0000 (SQLite's can): only hostile input has it (a
                // signed entry is JSON, where it is escaped), kept with U+FFFD in its place.
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
                    if s.contains('\0') =>
                {
                    PgToSql::to_sql(&s.replace('\0', "\u{fffd}").as_str(), &Type::TEXT, out)
                }
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                    PgToSql::to_sql(&s, &Type::TEXT, out)
                }
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::BYTEA => PgToSql::to_sql(&s.as_bytes(), ty, out),
                _ => Err(mismatch(v, ty)),
            },
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => PgToSql::to_sql(&b, ty, out),
                _ => Err(mismatch(v, ty)),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        PgToSql::to_sql(self, ty, out)
    }
}

/// An integer as PostgreSQL's binary `numeric`: base-10000 digits, most significant first.
fn encode_numeric(i: i64, out: &mut BytesMut) {
    let mut rest = i.unsigned_abs();
    let mut digits = Vec::new();
    while rest > 0 {
        digits.push((rest % 10_000) as i16);
        rest /= 10_000;
    }
    let weight = digits.len().saturating_sub(1) as i16;
    // Trailing zero groups need not be sent: the weight places the rest.
    let first_nonzero = digits.iter().position(|d| *d != 0).unwrap_or(digits.len());
    digits.drain(..first_nonzero);
    digits.reverse();
    out.put_i16(digits.len() as i16);
    out.put_i16(weight);
    out.put_u16(if i < 0 { 0x4000 } else { 0 });
    out.put_u16(0);
    for d in digits {
        out.put_i16(d);
    }
}

/// A column as one of the five kinds: every integer width, `bool` as 0/1, `numeric` (what
/// `SUM` and `AVG` of a `bigint` give) as an integer when it has no fraction, else a float.
pub struct Cell<'a>(pub ValueRef<'a>);

impl<'a> PgFromSql<'a> for Cell<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        let v = match *ty {
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Integer(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => ValueRef::Integer(i64::from(i16::from_sql(ty, raw)?)),
            Type::OID => ValueRef::Integer(i64::from(u32::from_sql(ty, raw)?)),
            Type::BOOL => ValueRef::Integer(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::NUMERIC => decode_numeric(raw)?,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON => {
                ValueRef::Text(std::str::from_utf8(raw)?)
            }
            Type::JSONB => ValueRef::Text(std::str::from_utf8(raw.get(1..).unwrap_or_default())?),
            Type::BYTEA => ValueRef::Blob(raw),
            Type::VOID => ValueRef::Null,
            _ => return Err(format!("cannot read a {} column", ty.name()).into()),
        };
        Ok(Cell(v))
    }

    fn from_sql_null(_: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Cell(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

fn decode_numeric(raw: &[u8]) -> std::result::Result<ValueRef<'static>, BoxError> {
    let word = |i: usize| -> std::result::Result<i16, BoxError> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".into())
    };
    let ndigits = word(0)?;
    let weight = i32::from(word(1)?);
    let sign = word(2)? as u16;
    let dscale = word(3)?;
    if sign == 0xC000 {
        return Ok(ValueRef::Real(f64::NAN));
    }
    let negative = sign == 0x4000;
    let mut whole: i128 = 0;
    let mut value = 0f64;
    let mut integral = dscale == 0;
    for k in 0..ndigits.max(0) as usize {
        let d = word(4 + k)?;
        let power = weight - k as i32;
        value += f64::from(d) * 10_000f64.powi(power);
        if power >= 0 {
            whole = whole
                .checked_mul(10_000)
                .and_then(|w| w.checked_add(i128::from(d)))
                .ok_or("numeric out of range")?;
        } else if d != 0 {
            integral = false;
        }
    }
    if integral {
        // Groups left out at the end (trailing zeros) still count.
        let last_power = weight - i32::from(ndigits.max(0)) + 1;
        for _ in 0..last_power.max(0) {
            whole = whole.checked_mul(10_000).ok_or("numeric out of range")?;
        }
        let whole = if negative { -whole } else { whole };
        if let Ok(i) = i64::try_from(whole) {
            return Ok(ValueRef::Integer(i));
        }
    }
    Ok(ValueRef::Real(if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// A database nobody answers for is an outage (503, retried), not a bug: the store's
    /// reconnect after a restart meets exactly this while the database is still down.
    #[test]
    fn a_refused_connection_is_unreachable_and_a_bad_address_is_not() {
        // A port just freed: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = PgConn::connect(&format!("postgres://fieldproof@127.0.0.1:{port}/x"))
            .err()
            .expect("nothing listens there");
        assert!(e.is_unreachable(), "{e}");
        let e = PgConn::connect("postgres://[not an address")
            .err()
            .expect("bad address");
        assert!(!e.is_unreachable(), "{e}");
    }

    #[test]
    fn placeholders_are_numbered_outside_literals() {
        assert_eq!(
            rewrite_placeholders("SELECT '?1', \"a?\" FROM t WHERE a = ?1 AND b = ?12 -- ?3\n AND c = ?"),
            "SELECT '?1', \"a?\" FROM t WHERE a = $1 AND b = $12 -- ?3\n AND c = $13"
        );
        assert_eq!(rewrite_placeholders("VALUES (?, ?, ?)"), "VALUES ($1, $2, $3)");
    }

    fn roundtrip(i: i64) -> ValueRef<'static> {
        let mut out = BytesMut::new();
        encode_numeric(i, &mut out);
        decode_numeric(&out).unwrap()
    }

    #[test]
    fn numeric_integers_round_trip() {
        for i in [
            0,
            1,
            -1,
            9_999,
            10_000,
            10_001,
            100_000_000,
            -123_456_789,
            i64::MAX,
            i64::MIN + 1,
        ] {
            assert_eq!(roundtrip(i), ValueRef::Integer(i), "{i}");
        }
    }

    #[test]
    fn numeric_fractions_are_floats() {
        // 12.5: ndigits 2, weight 0, positive, dscale 1, digits [12, 5000].
        let raw = [0u8, 2, 0, 0, 0, 0, 0, 1, 0, 12, 0x13, 0x88];
        assert_eq!(decode_numeric(&raw).unwrap(), ValueRef::Real(12.5));
    }
}
