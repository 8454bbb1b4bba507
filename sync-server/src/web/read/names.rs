//! People's and stores' names, for showing ids as words.

use std::collections::HashMap;

use crate::db::Connection;

use crate::error::ApiResult;
use crate::messages::{NameTable, PhotoName};

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

    /// The user's name (people are named, not numbered), or the id of an unknown user.
    pub fn user(&self, id: &str) -> String {
        self.users.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// "CODE Name", or the id of an unknown store.
    pub fn store(&self, id: &str) -> String {
        match self.stores.get(id) {
            Some(s) => format!("{} {}", s.code, s.name),
            None => id.to_string(),
        }
    }

    /// The names a coded message (`crate::messages::render`) fills in: these stores and people,
    /// the photos given (those the viewer may see) and a template's items.
    pub fn table(&self, photos: HashMap<String, PhotoName>, items: HashMap<String, String>) -> NameTable {
        NameTable {
            stores: self
                .stores
                .keys()
                .map(|id| (id.clone(), self.store(id)))
                .collect(),
            users: self.users.clone(),
            photos,
            items,
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

/// What the export form offers to choose from, in the viewer's scope: its field users (reps
/// and supervisors) and the stores' territories, by id (the page shows names).
pub struct ExportChoices {
    pub users: Vec<String>,
    pub territories: Vec<String>,
}

pub fn export_choices(c: &Connection, scope: Option<&str>) -> ApiResult<ExportChoices> {
    let mut st = c.prepare(&format!(
        "SELECT id FROM users WHERE {} ORDER BY coalesce(json_extract(body, '$.name'), id)",
        crate::web::auth::scope_sql("id", 1)
    ))?;
    let users = st.query_map([scope], |r| r.get(0))?.collect::<Result<_, _>>()?;
    let mut st = c.prepare(
        // A select-list alias is not visible in WHERE in standard SQL (PostgreSQL): a subquery.
        "SELECT DISTINCT t FROM (SELECT json_extract(body, '$.territory') AS t FROM stores) s
         WHERE t IS NOT NULL AND t != '' ORDER BY t",
    )?;
    let territories = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ExportChoices { users, territories })
}
