//! Head-office reference data: validated as a whole, then upserted in one transaction.
//! A single bad record refuses the whole load and is named in the error, so a half-loaded
//! store list never reaches a rep. Sync will call the same function with what it downloads.

use rusqlite::{OptionalExtension, Transaction, params};

use crate::model::*;
use crate::reference_check::{HeldReference, ReferenceCheckError, validate_reference};

/// Why a load was refused; the record is named so head office can fix its file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReferenceError {
    #[error("{record}: {reason}")]
    Bad { record: String, reason: String },
    #[error(transparent)]
    Storage(#[from] rusqlite::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

impl From<ReferenceError> for crate::Error {
    fn from(e: ReferenceError) -> Self {
        match e {
            ReferenceError::Bad { record, reason } => crate::Error::BadReferenceData { record, reason },
            ReferenceError::Storage(e) => crate::Error::Storage(e),
            ReferenceError::Json(e) => crate::Error::BadReferenceData {
                record: "document".into(),
                reason: e.to_string(),
            },
        }
    }
}

fn bad(record: String, reason: impl Into<String>) -> ReferenceError {
    ReferenceError::Bad {
        record,
        reason: reason.into(),
    }
}

/// Parse the JSON form (what the server sends and the demo embeds).
pub(crate) fn parse(json: &str) -> Result<ReferenceData, ReferenceError> {
    // serde would also accept a JSON array as a struct; a document is an object or it is wrong.
    if !json.trim_start().starts_with('{') {
        return Err(bad("document".into(), "is not a JSON object"));
    }
    Ok(serde_json::from_str(json)?)
}

/// What earlier loads left in the phone's database, for [`validate_reference`].
struct Held<'a> {
    tx: &'a Transaction<'a>,
}

impl Held<'_> {
    fn exists(&self, sql: &str, id: &str) -> Result<bool, ReferenceError> {
        Ok(self.tx.query_row(sql, [id], |_| Ok(())).optional()?.is_some())
    }
}

impl HeldReference for Held<'_> {
    type Error = ReferenceError;
    fn user_role(&self, id: &str) -> Result<Option<Role>, ReferenceError> {
        let role: Option<String> = self
            .tx
            .query_row("SELECT role FROM users WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        Ok(role.map(|r| {
            if r == "supervisor" {
                Role::Supervisor
            } else {
                Role::Rep
            }
        }))
    }
    fn store_with_code(&self, code: &str) -> Result<Option<String>, ReferenceError> {
        Ok(self
            .tx
            .query_row("SELECT id FROM stores WHERE code = ?1", [code], |r| r.get(0))
            .optional()?)
    }
    fn store_exists(&self, id: &str) -> Result<bool, ReferenceError> {
        self.exists("SELECT 1 FROM stores WHERE id = ?1", id)
    }
    fn product_with_sku(&self, sku: &str) -> Result<Option<String>, ReferenceError> {
        Ok(self
            .tx
            .query_row("SELECT id FROM products WHERE sku = ?1", [sku], |r| r.get(0))
            .optional()?)
    }
    fn product_exists(&self, id: &str) -> Result<bool, ReferenceError> {
        self.exists("SELECT 1 FROM products WHERE id = ?1", id)
    }
    fn template(&self, id: &str, version: i32) -> Result<Option<CheckTemplate>, ReferenceError> {
        let stored: Option<String> = self
            .tx
            .query_row(
                "SELECT body FROM templates WHERE id = ?1 AND version = ?2",
                params![id, version],
                |r| r.get(0),
            )
            .optional()?;
        Ok(match stored {
            Some(body) => Some(serde_json::from_str(&body)?),
            None => None,
        })
    }
    fn template_kind(&self, id: &str) -> Result<Option<TemplateKind>, ReferenceError> {
        let kind: Option<String> = self
            .tx
            .query_row("SELECT kind FROM templates WHERE id = ?1 LIMIT 1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(kind.map(|k| {
            if k == "inspection" {
                TemplateKind::Inspection
            } else {
                TemplateKind::StoreCheck
            }
        }))
    }
}

pub(crate) fn load(tx: &Transaction<'_>, data: &ReferenceData) -> Result<LoadSummary, ReferenceError> {
    validate_reference(&Held { tx }, data).map_err(|e| match e {
        ReferenceCheckError::Bad { record, reason } => ReferenceError::Bad { record, reason },
        ReferenceCheckError::Held(e) => e,
    })?;
    write(tx, data)?;
    Ok(LoadSummary {
        users: data.users.len() as i32,
        stores: data.stores.len() as i32,
        products: data.products.len() as i32,
        templates: data.templates.len() as i32,
        plans: data.plans.len() as i32,
    })
}

fn write(tx: &Transaction<'_>, data: &ReferenceData) -> Result<(), ReferenceError> {
    let mut st = tx.prepare_cached(
        "INSERT INTO users (id, name, role, territory, supervisor_id) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
           territory = excluded.territory, supervisor_id = excluded.supervisor_id",
    )?;
    for u in &data.users {
        let role = match u.role {
            Role::Rep => "rep",
            Role::Supervisor => "supervisor",
        };
        st.execute(params![u.id, u.name, role, u.territory, u.supervisor_id])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT INTO stores (id, code, name, address, latitude, longitude, geofence_radius_m, territory, geofence_mode)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET code = excluded.code, name = excluded.name, address = excluded.address,
           latitude = excluded.latitude, longitude = excluded.longitude,
           geofence_radius_m = excluded.geofence_radius_m, territory = excluded.territory,
           geofence_mode = excluded.geofence_mode",
    )?;
    for s in &data.stores {
        st.execute(params![
            s.id,
            s.code,
            s.name,
            s.address,
            s.latitude,
            s.longitude,
            s.geofence_radius_m,
            s.territory,
            s.geofence_mode.map(geofence_mode_str),
        ])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT INTO products (id, sku, name, brand, is_competitor, reference_price_cents) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, name = excluded.name, brand = excluded.brand,
           is_competitor = excluded.is_competitor, reference_price_cents = excluded.reference_price_cents",
    )?;
    for p in &data.products {
        st.execute(params![
            p.id,
            p.sku,
            p.name,
            p.brand,
            p.is_competitor,
            p.reference_price_cents
        ])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT INTO templates (id, version, kind, is_default, body) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id, version) DO NOTHING",
    )?;
    for t in &data.templates {
        let kind = match t.kind {
            TemplateKind::StoreCheck => "store_check",
            TemplateKind::Inspection => "inspection",
        };
        st.execute(params![
            t.id,
            t.version,
            kind,
            t.is_default,
            serde_json::to_string(t)?
        ])?;
    }
    let mut st = tx.prepare_cached(
        "INSERT INTO plans (id, rep_id, store_id, date, template_id, sequence, window_start, window_end)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET rep_id = excluded.rep_id, store_id = excluded.store_id,
           date = excluded.date, template_id = excluded.template_id, sequence = excluded.sequence,
           window_start = excluded.window_start, window_end = excluded.window_end",
    )?;
    for p in &data.plans {
        st.execute(params![
            p.id,
            p.rep_id,
            p.store_id,
            p.date,
            p.template_id,
            p.sequence,
            p.window_start,
            p.window_end
        ])?;
    }
    Ok(())
}

pub(crate) fn geofence_mode_str(m: GeofenceMode) -> &'static str {
    match m {
        GeofenceMode::Off => "off",
        GeofenceMode::Flag => "flag",
        GeofenceMode::Block => "block",
    }
}

pub(crate) fn parse_geofence_mode(s: &str) -> Option<GeofenceMode> {
    match s {
        "off" => Some(GeofenceMode::Off),
        "flag" => Some(GeofenceMode::Flag),
        "block" => Some(GeofenceMode::Block),
        _ => None,
    }
}
