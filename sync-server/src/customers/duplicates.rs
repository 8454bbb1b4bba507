//! Duplicate keys across reps (一客一主): the hashed phone and company keys of every customer that
//! is not itself a duplicate (`customer_keys`). The first customer to hold a key keeps it; a later
//! entry with a held key is a duplicate of the holder (`apply`).

use std::collections::HashMap;

use fieldproof_core::customers::MatchOn;

use crate::db::{Connection, params};
use crate::error::ApiResult;

/// Which customer holds each of `keys` (those held), in one statement.
pub(crate) fn holders(c: &Connection, keys: &[(MatchOn, String)]) -> ApiResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    if keys.is_empty() {
        return Ok(out);
    }
    let list: Vec<&str> = keys.iter().map(|(_, k)| k.as_str()).collect();
    let sql = format!(
        "SELECT key, customer_id FROM customer_keys WHERE key IN {}",
        c.dialect().text_list("?1")
    );
    let mut st = c.prepare_cached(&sql)?;
    let mut rows = st.query(params![serde_json::to_string(&list)?])?;
    while let Some(r) = rows.next()? {
        out.insert(r.get(0)?, r.get(1)?);
    }
    Ok(out)
}

/// Give `customer_id` the keys no one holds yet.
pub(crate) fn hold(c: &Connection, customer_id: &str, keys: &[(MatchOn, String)]) -> ApiResult<()> {
    let mut st = c.prepare_cached(
        "INSERT INTO customer_keys (key, customer_id, matched_on) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    )?;
    for (on, key) in keys {
        let on = match on {
            MatchOn::Phone => "phone",
            MatchOn::Company => "company",
        };
        st.execute(params![key, customer_id, on])?;
    }
    Ok(())
}
