//! People's and stores' names, for showing ids as words.

use std::collections::HashMap;

use rusqlite::Connection;

use crate::error::ApiResult;

/// A store as the pages name it: its code and its name.
pub struct StoreName {
    pub code: String,
    pub name: String,
}

/// Every user's and store's name (reference data: hundreds of rows, read once per page).
pub struct Names {
    users: HashMap<String, String>,
    stores: HashMap<String, StoreName>,
}

impl Names {
    pub fn load(c: &Connection) -> ApiResult<Names> {
        let mut users = HashMap::new();
        let mut st = c.prepare("SELECT id, coalesce(json_extract(body, '$.name'), id) FROM users")?;
        for r in st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (id, name) = r?;
            users.insert(id, name);
        }
        let mut stores = HashMap::new();
        let mut st = c.prepare(
            "SELECT id, coalesce(json_extract(body, '$.code'), id), coalesce(json_extract(body, '$.name'), id) FROM stores",
        )?;
        for r in st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                StoreName {
                    code: r.get(1)?,
                    name: r.get(2)?,
                },
            ))
        })? {
            let (id, store) = r?;
            stores.insert(id, store);
        }
        Ok(Names { users, stores })
    }

    /// "Name (id)", or the id of an unknown user.
    pub fn user(&self, id: &str) -> String {
        match self.users.get(id) {
            Some(n) => format!("{n} ({id})"),
            None => id.to_string(),
        }
    }

    /// "CODE Name", or the id of an unknown store.
    pub fn store(&self, id: &str) -> String {
        match self.stores.get(id) {
            Some(s) => format!("{} {}", s.code, s.name),
            None => id.to_string(),
        }
    }

    /// A user's name alone, when known (for sentences; the id stays out of them).
    pub fn user_name(&self, id: &str) -> Option<&str> {
        self.users.get(id).map(String::as_str)
    }

    /// A store's name alone, when known.
    pub fn store_name(&self, id: &str) -> Option<&str> {
        self.stores.get(id).map(|s| s.name.as_str())
    }

    pub fn store_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.stores.keys().cloned().collect();
        v.sort();
        v
    }
}
