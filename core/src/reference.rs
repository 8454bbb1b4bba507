//! Head-office reference data: validated as a whole, then upserted in one transaction.
//! A single bad record refuses the whole load and is named in the error, so a half-loaded
//! store list never reaches a rep. Sync will call the same function with what it downloads.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, Transaction, params};

use crate::model::*;
use crate::rules::validate_date;

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

fn check_id(record: &str, field: &str, value: &str) -> Result<(), ReferenceError> {
    if value.trim().is_empty() {
        return Err(bad(record.to_string(), format!("{field} is empty")));
    }
    if value.len() > 128 {
        return Err(bad(record.to_string(), format!("{field} longer than 128 bytes")));
    }
    Ok(())
}

fn check_finite(record: &str, field: &str, v: f64, min: f64, max: f64) -> Result<(), ReferenceError> {
    if !v.is_finite() || v < min || v > max {
        return Err(bad(
            record.to_string(),
            format!("{field} {v} is out of range [{min}, {max}]"),
        ));
    }
    Ok(())
}

/// Ids already in the database, so a load may refer to what an earlier load brought.
struct Known<'a> {
    tx: &'a Transaction<'a>,
}

impl Known<'_> {
    fn exists(&self, sql: &str, id: &str) -> Result<bool, ReferenceError> {
        Ok(self.tx.query_row(sql, [id], |_| Ok(())).optional()?.is_some())
    }
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
}

pub(crate) fn load(tx: &Transaction<'_>, data: &ReferenceData) -> Result<LoadSummary, ReferenceError> {
    validate(tx, data)?;
    write(tx, data)?;
    Ok(LoadSummary {
        users: data.users.len() as i32,
        stores: data.stores.len() as i32,
        products: data.products.len() as i32,
        templates: data.templates.len() as i32,
        plans: data.plans.len() as i32,
    })
}

fn validate(tx: &Transaction<'_>, data: &ReferenceData) -> Result<(), ReferenceError> {
    let known = Known { tx };

    let mut user_roles: HashMap<&str, Role> = HashMap::new();
    for (i, u) in data.users.iter().enumerate() {
        let rec = format!("users[{i}] (id {:?})", u.id);
        check_id(&rec, "id", &u.id)?;
        if u.name.trim().is_empty() {
            return Err(bad(rec, "name is empty"));
        }
        if u.role == Role::Rep && u.territory.as_deref().is_none_or(|t| t.trim().is_empty()) {
            return Err(bad(rec, "a rep needs a territory"));
        }
        if user_roles.insert(&u.id, u.role).is_some() {
            return Err(bad(rec, "duplicate id"));
        }
    }
    for (i, u) in data.users.iter().enumerate() {
        if let Some(sup) = &u.supervisor_id {
            let rec = format!("users[{i}] (id {:?})", u.id);
            let role = match user_roles.get(sup.as_str()) {
                Some(r) => Some(*r),
                None => known.user_role(sup)?,
            };
            match role {
                Some(Role::Supervisor) => {}
                Some(Role::Rep) => return Err(bad(rec, format!("supervisor_id {sup:?} is a rep"))),
                None => return Err(bad(rec, format!("supervisor_id {sup:?} is unknown"))),
            }
        }
    }

    let mut store_ids = HashSet::new();
    let mut store_codes = HashSet::new();
    for (i, s) in data.stores.iter().enumerate() {
        let rec = format!("stores[{i}] (code {:?})", s.code);
        check_id(&rec, "id", &s.id)?;
        check_id(&rec, "code", &s.code)?;
        check_id(&rec, "territory", &s.territory)?;
        if s.name.trim().is_empty() {
            return Err(bad(rec, "name is empty"));
        }
        check_finite(&rec, "latitude", s.latitude, -90.0, 90.0)?;
        check_finite(&rec, "longitude", s.longitude, -180.0, 180.0)?;
        check_finite(&rec, "geofence_radius_m", s.geofence_radius_m, 1.0, 50_000.0)?;
        if !store_ids.insert(s.id.as_str()) {
            return Err(bad(rec, "duplicate id"));
        }
        if !store_codes.insert(s.code.as_str()) {
            return Err(bad(rec, "duplicate code"));
        }
        // A code already used by a different store id in the database would break the UNIQUE index.
        let other: Option<String> = tx
            .query_row("SELECT id FROM stores WHERE code = ?1", [&s.code], |r| r.get(0))
            .optional()?;
        if let Some(other) = other
            && other != s.id
        {
            return Err(bad(rec, format!("code already belongs to store {other:?}")));
        }
    }

    let mut product_ids = HashSet::new();
    let mut skus = HashSet::new();
    for (i, p) in data.products.iter().enumerate() {
        let rec = format!("products[{i}] (sku {:?})", p.sku);
        check_id(&rec, "id", &p.id)?;
        check_id(&rec, "sku", &p.sku)?;
        if p.name.trim().is_empty() {
            return Err(bad(rec, "name is empty"));
        }
        if let Some(price) = p.reference_price_cents
            && price < 0
        {
            return Err(bad(rec, "reference_price_cents is negative"));
        }
        if !product_ids.insert(p.id.as_str()) {
            return Err(bad(rec, "duplicate id"));
        }
        if !skus.insert(p.sku.as_str()) {
            return Err(bad(rec, "duplicate sku"));
        }
        let other: Option<String> = tx
            .query_row("SELECT id FROM products WHERE sku = ?1", [&p.sku], |r| r.get(0))
            .optional()?;
        if let Some(other) = other
            && other != p.id
        {
            return Err(bad(rec, format!("sku already belongs to product {other:?}")));
        }
    }
    let product_known = |id: &str| -> Result<bool, ReferenceError> {
        Ok(product_ids.contains(id) || known.exists("SELECT 1 FROM products WHERE id = ?1", id)?)
    };

    let mut template_keys = HashSet::new();
    let mut template_kinds: HashMap<&str, TemplateKind> = HashMap::new();
    for (i, t) in data.templates.iter().enumerate() {
        let rec = format!("templates[{i}] (id {:?} v{})", t.id, t.version);
        validate_template(&rec, t, &product_known)?;
        if !template_keys.insert((t.id.as_str(), t.version)) {
            return Err(bad(rec, "duplicate id and version"));
        }
        template_kinds.insert(&t.id, t.kind);
        // A published version is immutable: visits already pinned to it must keep meaning the same.
        let stored: Option<String> = tx
            .query_row(
                "SELECT body FROM templates WHERE id = ?1 AND version = ?2",
                params![t.id, t.version],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(stored) = stored {
            let stored: CheckTemplate = serde_json::from_str(&stored)?;
            if &stored != t {
                return Err(bad(
                    rec,
                    "this version is already published with different content; publish a new version",
                ));
            }
        }
    }

    let mut plan_ids = HashSet::new();
    for (i, p) in data.plans.iter().enumerate() {
        let rec = format!("plans[{i}] (id {:?})", p.id);
        check_id(&rec, "id", &p.id)?;
        if !plan_ids.insert(p.id.as_str()) {
            return Err(bad(rec, "duplicate id"));
        }
        if p.sequence < 0 {
            return Err(bad(rec, "sequence must not be negative"));
        }
        validate_date(&p.date).map_err(|reason| bad(rec.clone(), format!("date: {reason}")))?;
        crate::rules::plan_window(p.window_start.as_deref(), p.window_end.as_deref())
            .map_err(|reason| bad(rec.clone(), format!("window: {reason}")))?;
        let role = match user_roles.get(p.rep_id.as_str()) {
            Some(r) => Some(*r),
            None => known.user_role(&p.rep_id)?,
        };
        match role {
            Some(Role::Rep) => {}
            Some(Role::Supervisor) => return Err(bad(rec, format!("rep_id {:?} is a supervisor", p.rep_id))),
            None => return Err(bad(rec, format!("rep_id {:?} is unknown", p.rep_id))),
        }
        if !store_ids.contains(p.store_id.as_str())
            && !known.exists("SELECT 1 FROM stores WHERE id = ?1", &p.store_id)?
        {
            return Err(bad(rec, format!("store_id {:?} is unknown", p.store_id)));
        }
        let kind = match template_kinds.get(p.template_id.as_str()) {
            Some(k) => Some(*k),
            None => tx
                .query_row(
                    "SELECT kind FROM templates WHERE id = ?1 LIMIT 1",
                    [&p.template_id],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .map(|k| {
                    if k == "inspection" {
                        TemplateKind::Inspection
                    } else {
                        TemplateKind::StoreCheck
                    }
                }),
        };
        match kind {
            Some(TemplateKind::StoreCheck) => {}
            Some(TemplateKind::Inspection) => {
                return Err(bad(
                    rec,
                    format!("template_id {:?} is an inspection template", p.template_id),
                ));
            }
            None => return Err(bad(rec, format!("template_id {:?} is unknown", p.template_id))),
        }
    }
    Ok(())
}

fn validate_template(
    rec: &str,
    t: &CheckTemplate,
    product_known: &dyn Fn(&str) -> Result<bool, ReferenceError>,
) -> Result<(), ReferenceError> {
    check_id(rec, "id", &t.id)?;
    if t.version < 1 {
        return Err(bad(rec.to_string(), "version must be 1 or more"));
    }
    if t.sections.is_empty() {
        return Err(bad(rec.to_string(), "has no sections"));
    }
    check_finite(
        rec,
        "rules.price_gap_threshold",
        t.rules.price_gap_threshold,
        0.0,
        1.0,
    )?;
    check_finite(
        rec,
        "rules.max_accuracy_m",
        t.rules.max_accuracy_m,
        1.0,
        100_000.0,
    )?;
    let mut seen: HashMap<&str, &CheckItem> = HashMap::new();
    let mut section_ids = HashSet::new();
    for (si, section) in t.sections.iter().enumerate() {
        let srec = format!("{rec} sections[{si}] (id {:?})", section.id);
        check_id(&srec, "id", &section.id)?;
        if !section_ids.insert(section.id.as_str()) {
            return Err(bad(srec, "duplicate section id"));
        }
        check_finite(&srec, "weight", section.weight, 0.0, 1_000.0)?;
        for (ii, item) in section.items.iter().enumerate() {
            let irec = format!("{srec} items[{ii}] (id {:?})", item.id);
            check_id(&irec, "id", &item.id)?;
            if item.label.trim().is_empty() {
                return Err(bad(irec, "label is empty"));
            }
            check_finite(&irec, "weight", item.weight, 0.0, 1_000.0)?;
            match item.kind {
                ItemKind::Choice => {
                    if item.choices.is_empty() {
                        return Err(bad(irec, "a choice item needs choices"));
                    }
                    let mut ids = HashSet::new();
                    for c in &item.choices {
                        check_id(&irec, "choice id", &c.id)?;
                        check_finite(&irec, "choice score", c.score, 0.0, 1.0)?;
                        if !ids.insert(c.id.as_str()) {
                            return Err(bad(irec, format!("duplicate choice {:?}", c.id)));
                        }
                    }
                }
                _ if !item.choices.is_empty() => {
                    return Err(bad(irec, "only choice items have choices"));
                }
                _ => {}
            }
            if let Some(target) = item.target {
                if item.kind != ItemKind::Number {
                    return Err(bad(irec, "only number items have a target"));
                }
                check_finite(&irec, "target", target, f64::MIN_POSITIVE, 1e12)?;
            }
            if item.min_photos.is_some() && item.kind != ItemKind::Photo {
                return Err(bad(irec, "only photo items have min_photos"));
            }
            if item.min_photos.is_some_and(|n| n < 0) {
                return Err(bad(irec, "min_photos must not be negative"));
            }
            if let Some(pid) = &item.product_id
                && !product_known(pid)?
            {
                return Err(bad(irec, format!("product_id {pid:?} is unknown")));
            }
            if let Some(other) = &item.compare_to_item_id {
                if item.kind != ItemKind::Price {
                    return Err(bad(irec, "only price items compare prices"));
                }
                match seen.get(other.as_str()) {
                    Some(o) if o.kind == ItemKind::Price => {}
                    Some(_) => {
                        return Err(bad(
                            irec,
                            format!("compare_to_item_id {other:?} is not a price item"),
                        ));
                    }
                    None => {
                        return Err(bad(
                            irec,
                            format!("compare_to_item_id {other:?} is not an earlier item"),
                        ));
                    }
                }
            }
            if let Some(cond) = &item.show_if {
                // Only earlier items: no cycles, and the form reads top to bottom.
                let Some(target) = seen.get(cond.item_id.as_str()) else {
                    return Err(bad(
                        irec,
                        format!("show_if refers to {:?}, not an earlier item", cond.item_id),
                    ));
                };
                if cond.equals.kind() != target.kind {
                    return Err(bad(
                        irec,
                        format!(
                            "show_if value is {} but item {:?} is {}",
                            cond.equals.kind().as_str(),
                            cond.item_id,
                            target.kind.as_str()
                        ),
                    ));
                }
                if let AnswerValue::Choice { choice_id } = &cond.equals
                    && !target.choices.iter().any(|c| &c.id == choice_id)
                {
                    return Err(bad(irec, format!("show_if choice {choice_id:?} does not exist")));
                }
            }
            if seen.insert(&item.id, item).is_some() {
                return Err(bad(irec, "duplicate item id in template"));
            }
        }
    }
    Ok(())
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
