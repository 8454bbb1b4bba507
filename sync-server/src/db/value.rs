//! Values going into and out of SQL, the same for both back ends: five kinds, as SQLite has
//! them. A Rust value becomes one of them ([`ToSql`]); a column read back is one of them and
//! becomes the Rust type asked for ([`FromSql`]). PostgreSQL's richer types are folded onto
//! these five at the edge (`pg.rs`), so SQL and the code around it are written once.

use super::error::{Error, Result};

/// An owned SQL value (dynamic parameter lists, generic reads).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed SQL value: what a parameter is bound as and what a column is read as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ValueRef<'_> {
    /// The kind's name, for conversion errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ValueRef::Null => "null",
            ValueRef::Integer(_) => "integer",
            ValueRef::Real(_) => "real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "blob",
        }
    }
}

impl Value {
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Value {
        match v {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(s) => Value::Text(s.to_string()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

macro_rules! value_from_int {
    ($($t:ty)*) => {$(
        impl From<$t> for Value {
            fn from(i: $t) -> Value {
                Value::Integer(i64::from(i))
            }
        }
    )*};
}
value_from_int!(i8 i16 i32 i64 u8 u16 u32 bool);

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Real(f)
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Text(s)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Text(s.to_string())
    }
}
impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Text(s.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Blob(b)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// A Rust value usable as a statement parameter.
pub trait ToSql {
    fn to_sql(&self) -> Result<ValueRef<'_>>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        (**self).to_sql()
    }
}
impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        (**self).to_sql()
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        match self {
            Some(v) => v.to_sql(),
            None => Ok(ValueRef::Null),
        }
    }
}
impl ToSql for Value {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(self.as_ref())
    }
}
impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(*self)
    }
}
impl ToSql for str {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Text(self))
    }
}
impl ToSql for String {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Text(self))
    }
}
impl ToSql for [u8] {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Blob(self))
    }
}
impl ToSql for Vec<u8> {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Blob(self))
    }
}
impl ToSql for f64 {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Real(*self))
    }
}
impl ToSql for f32 {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Real(f64::from(*self)))
    }
}
impl ToSql for bool {
    fn to_sql(&self) -> Result<ValueRef<'_>> {
        Ok(ValueRef::Integer(i64::from(*self)))
    }
}
macro_rules! to_sql_int {
    ($($t:ty)*) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> Result<ValueRef<'_>> {
                i64::try_from(*self)
                    .map(ValueRef::Integer)
                    .map_err(|_| Error::ToSqlConversionFailure(format!("{self} does not fit a 64-bit integer").into()))
            }
        }
    )*};
}
to_sql_int!(i8 i16 i32 i64 isize u8 u16 u32 u64 usize);

/// A Rust type a column can be read as.
pub trait FromSql: Sized {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError>;
}

/// Why a column could not become the type asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromSqlError {
    /// The column holds another kind of value (e.g. text where an integer was asked).
    InvalidType(&'static str),
    OutOfRange(i64),
    Other(String),
}

impl std::fmt::Display for FromSqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FromSqlError::InvalidType(kind) => write!(f, "unexpected {kind} value"),
            FromSqlError::OutOfRange(i) => write!(f, "{i} is out of range"),
            FromSqlError::Other(s) => f.write_str(s),
        }
    }
}

impl FromSql for i64 {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        match v {
            ValueRef::Integer(i) => Ok(i),
            other => Err(FromSqlError::InvalidType(other.kind())),
        }
    }
}
macro_rules! from_sql_int {
    ($($t:ty)*) => {$(
        impl FromSql for $t {
            fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
                let i = i64::from_sql(v)?;
                <$t>::try_from(i).map_err(|_| FromSqlError::OutOfRange(i))
            }
        }
    )*};
}
from_sql_int!(i8 i16 i32 isize u8 u16 u32 u64 usize);

impl FromSql for f64 {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        match v {
            ValueRef::Real(f) => Ok(f),
            // As SQLite's own reading does: an integer column read as a float.
            ValueRef::Integer(i) => Ok(i as f64),
            other => Err(FromSqlError::InvalidType(other.kind())),
        }
    }
}
impl FromSql for f32 {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        f64::from_sql(v).map(|f| f as f32)
    }
}
impl FromSql for bool {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        i64::from_sql(v).map(|i| i != 0)
    }
}
impl FromSql for String {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        match v {
            ValueRef::Text(s) => Ok(s.to_string()),
            other => Err(FromSqlError::InvalidType(other.kind())),
        }
    }
}
impl FromSql for Vec<u8> {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            // SQLite hands text out as bytes too.
            ValueRef::Text(s) => Ok(s.as_bytes().to_vec()),
            other => Err(FromSqlError::InvalidType(other.kind())),
        }
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}
impl FromSql for Value {
    fn from_sql(v: ValueRef<'_>) -> std::result::Result<Self, FromSqlError> {
        Ok(v.into())
    }
}

/// A statement's parameters: what `params![…]`, `[a, b]`, `[]`, `()` and [`params_from_iter`]
/// give. The values are lent to `f` for the one call.
pub trait Params {
    fn with_values<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R;
}

impl Params for () {
    fn with_values<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(&[])
    }
}
impl Params for &[&dyn ToSql] {
    fn with_values<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(self)
    }
}
/// `[]`: no parameters (a separate impl, as in rusqlite, so `[]` needs no element type).
impl Params for [&(dyn ToSql + Send + Sync); 0] {
    fn with_values<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(&[])
    }
}
macro_rules! params_for_arrays {
    ($($n:literal)*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn with_values<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
                let refs: Vec<&dyn ToSql> = self.iter().map(|v| v as &dyn ToSql).collect();
                f(&refs)
            }
        }
        impl<T: ToSql + ?Sized> Params for &[&T; $n] {
            fn with_values<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
                let refs: Vec<&dyn ToSql> = self.iter().map(|v| v as &dyn ToSql).collect();
                f(&refs)
            }
        }
    )*};
}
params_for_arrays!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);

/// Parameters from an iterator (a list built at run time).
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn with_values<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let owned: Vec<I::Item> = self.0.into_iter().collect();
        let refs: Vec<&dyn ToSql> = owned.iter().map(|v| v as &dyn ToSql).collect();
        f(&refs)
    }
}

/// `params![a, b, c]`: a statement's parameters of mixed types, as with rusqlite.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::db::ToSql]
    };
    ($($param:expr),+ $(,)?) => {
        &[$(&$param as &dyn $crate::db::ToSql),+] as &[&dyn $crate::db::ToSql]
    };
}
