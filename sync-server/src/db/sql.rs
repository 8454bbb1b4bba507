//! SQL fragments that PostgreSQL and SQLite spell differently, written once here so a query
//! that needs one asks for it by name ([`Connection::dialect`](super::Connection::dialect)).
//! (Text fields of JSON need none: the PostgreSQL schema has a `json_extract` for them, and a
//! `group_concat` aggregate.)

use super::Dialect;

impl Dialect {
    /// A text field of a JSON document column (`path`: `$.a.b`, as SQLite writes it); NULL when
    /// absent.
    pub fn json_text(self, doc: &str, path: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({doc}, '{path}')"),
            Dialect::Postgres => format!("({doc}::json #>> '{}')", pg_path(path)),
        }
    }

    /// A number field of a JSON document column, as a float.
    pub fn json_number(self, doc: &str, path: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({doc}, '{path}')"),
            Dialect::Postgres => format!("({doc}::json #>> '{}')::double precision", pg_path(path)),
        }
    }

    /// An integer field of a JSON document column.
    pub fn json_integer(self, doc: &str, path: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({doc}, '{path}')"),
            Dialect::Postgres => format!("({doc}::json #>> '{}')::bigint", pg_path(path)),
        }
    }

    /// The texts of a JSON array parameter (`param` holds `["a","b"]`) as a subquery for `IN`:
    /// one statement text whatever the list's length, so it stays prepared.
    pub fn text_list(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("(SELECT value FROM json_each({param}))"),
            Dialect::Postgres => format!("(SELECT json_array_elements_text({param}::json))"),
        }
    }

    /// The integers of a JSON array parameter (`[1,2]`) as a subquery for `IN`.
    pub fn integer_list(self, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("(SELECT value FROM json_each({param}))"),
            Dialect::Postgres => format!("(SELECT json_array_elements_text({param}::json)::bigint)"),
        }
    }

    /// A true/false field of a JSON document column, as 1/0 (SQLite's reading of it).
    pub fn json_flag(self, doc: &str, path: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract({doc}, '{path}')"),
            Dialect::Postgres => format!("({doc}::json #>> '{}')::boolean::int", pg_path(path)),
        }
    }
}

/// `$.a.b` → `{a,b}`.
fn pg_path(path: &str) -> String {
    let keys: Vec<&str> = path
        .trim_start_matches('$')
        .split('.')
        .filter(|k| !k.is_empty())
        .collect();
    format!("{{{}}}", keys.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        assert_eq!(pg_path("$.payload.fix.latitude"), "{payload,fix,latitude}");
        assert_eq!(
            Dialect::Postgres.json_flag("o.entry", "$.payload.fix.is_mock"),
            "(o.entry::json #>> '{payload,fix,is_mock}')::boolean::int"
        );
        assert_eq!(
            Dialect::Sqlite.json_number("body", "$.latitude"),
            "json_extract(body, '$.latitude')"
        );
    }
}
