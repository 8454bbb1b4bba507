//! Head-office reference data checked as a whole, with no database: the one validation the
//! phone runs before it loads reference data and the server runs before `admin
//! load-reference`, an import or a change on the people pages. "Valid on the server" means
//! exactly "a phone will accept it".
//!
//! What is already held (earlier loads) is asked through [`HeldReference`]: the phone answers
//! from its database, the server from the reference data it holds ([`ReferenceData`] implements
//! it), so a load may refer to what an earlier one brought.

use std::collections::{HashMap, HashSet};

use crate::model::*;
use crate::rules::validate_date;

/// Why reference data was refused: the record is named so head office can fix its file; or
/// the held data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceCheckError<E> {
    #[error("{record}: {reason}")]
    Bad { record: String, reason: String },
    #[error("reading the held reference data: {0}")]
    Held(E),
}

/// What an earlier load left, as the validation needs to see it.
pub trait HeldReference {
    type Error;
    fn user_role(&self, id: &str) -> Result<Option<Role>, Self::Error>;
    /// The store that holds `code`, if any.
    fn store_with_code(&self, code: &str) -> Result<Option<String>, Self::Error>;
    fn store_exists(&self, id: &str) -> Result<bool, Self::Error>;
    /// The product that holds `sku`, if any.
    fn product_with_sku(&self, sku: &str) -> Result<Option<String>, Self::Error>;
    fn product_exists(&self, id: &str) -> Result<bool, Self::Error>;
    /// A published template version, as published.
    fn template(&self, id: &str, version: i32) -> Result<Option<CheckTemplate>, Self::Error>;
    /// The kind of a template id (any version).
    fn template_kind(&self, id: &str) -> Result<Option<TemplateKind>, Self::Error>;
}

impl HeldReference for ReferenceData {
    type Error = std::convert::Infallible;
    fn user_role(&self, id: &str) -> Result<Option<Role>, Self::Error> {
        Ok(self.users.iter().find(|u| u.id == id).map(|u| u.role))
    }
    fn store_with_code(&self, code: &str) -> Result<Option<String>, Self::Error> {
        Ok(self.stores.iter().find(|s| s.code == code).map(|s| s.id.clone()))
    }
    fn store_exists(&self, id: &str) -> Result<bool, Self::Error> {
        Ok(self.stores.iter().any(|s| s.id == id))
    }
    fn product_with_sku(&self, sku: &str) -> Result<Option<String>, Self::Error> {
        Ok(self.products.iter().find(|p| p.sku == sku).map(|p| p.id.clone()))
    }
    fn product_exists(&self, id: &str) -> Result<bool, Self::Error> {
        Ok(self.products.iter().any(|p| p.id == id))
    }
    fn template(&self, id: &str, version: i32) -> Result<Option<CheckTemplate>, Self::Error> {
        Ok(self
            .templates
            .iter()
            .find(|t| t.id == id && t.version == version)
            .cloned())
    }
    fn template_kind(&self, id: &str) -> Result<Option<TemplateKind>, Self::Error> {
        Ok(self.templates.iter().find(|t| t.id == id).map(|t| t.kind))
    }
}

type Checked<E> = Result<(), ReferenceCheckError<E>>;

fn bad<E>(record: String, reason: impl Into<String>) -> ReferenceCheckError<E> {
    ReferenceCheckError::Bad {
        record,
        reason: reason.into(),
    }
}

fn check_id<E>(record: &str, field: &str, value: &str) -> Checked<E> {
    if value.trim().is_empty() {
        return Err(bad(record.to_string(), format!("{field} is empty")));
    }
    if value.len() > 128 {
        return Err(bad(record.to_string(), format!("{field} longer than 128 bytes")));
    }
    Ok(())
}

fn check_finite<E>(record: &str, field: &str, v: f64, min: f64, max: f64) -> Checked<E> {
    if !v.is_finite() || v < min || v > max {
        return Err(bad(
            record.to_string(),
            format!("{field} {v} is out of range [{min}, {max}]"),
        ));
    }
    Ok(())
}

/// Check `data` as a whole against what is `held`. `Ok` means every record may be written.
pub fn validate_reference<H: HeldReference>(held: &H, data: &ReferenceData) -> Checked<H::Error> {
    let h = |e| ReferenceCheckError::Held(e);

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
                None => held.user_role(sup).map_err(h)?,
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
        let other = held.store_with_code(&s.code).map_err(h)?;
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
        let other = held.product_with_sku(&p.sku).map_err(h)?;
        if let Some(other) = other
            && other != p.id
        {
            return Err(bad(rec, format!("sku already belongs to product {other:?}")));
        }
    }
    let product_known = |id: &str| -> Result<bool, ReferenceCheckError<H::Error>> {
        Ok(product_ids.contains(id) || held.product_exists(id).map_err(h)?)
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
        if let Some(stored) = held.template(&t.id, t.version).map_err(h)?
            && &stored != t
        {
            return Err(bad(
                rec,
                "this version is already published with different content; publish a new version",
            ));
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
            None => held.user_role(&p.rep_id).map_err(h)?,
        };
        match role {
            Some(Role::Rep) => {}
            Some(Role::Supervisor) => return Err(bad(rec, format!("rep_id {:?} is a supervisor", p.rep_id))),
            None => return Err(bad(rec, format!("rep_id {:?} is unknown", p.rep_id))),
        }
        if !store_ids.contains(p.store_id.as_str()) && !held.store_exists(&p.store_id).map_err(h)? {
            return Err(bad(rec, format!("store_id {:?} is unknown", p.store_id)));
        }
        let kind = match template_kinds.get(p.template_id.as_str()) {
            Some(k) => Some(*k),
            None => held.template_kind(&p.template_id).map_err(h)?,
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

fn validate_template<E>(
    rec: &str,
    t: &CheckTemplate,
    product_known: &dyn Fn(&str) -> Result<bool, ReferenceCheckError<E>>,
) -> Checked<E> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const REFERENCE_JSON: &str = include_str!("../../tests/fixtures/reference.json");

    fn fixture() -> ReferenceData {
        serde_json::from_str(REFERENCE_JSON).unwrap()
    }

    fn refusal(held: &ReferenceData, data: &ReferenceData) -> String {
        match validate_reference(held, data) {
            Err(ReferenceCheckError::Bad { record, reason }) => format!("{record}: {reason}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_load_may_refer_to_what_is_held() {
        let held = fixture();
        assert!(validate_reference(&ReferenceData::default(), &held).is_ok());
        // Plans alone, against the held users, stores and templates.
        let plans = ReferenceData {
            plans: held.plans.clone(),
            ..ReferenceData::default()
        };
        assert!(validate_reference(&held, &plans).is_ok());
        let e = refusal(&ReferenceData::default(), &plans);
        assert!(e.starts_with("plans[0]") && e.contains("is unknown"), "{e}");
    }

    #[test]
    fn what_is_held_cannot_be_contradicted() {
        let held = fixture();
        let mut store = held.stores[0].clone();
        store.id = "another-store".into();
        let e = refusal(
            &held,
            &ReferenceData {
                stores: vec![store],
                ..ReferenceData::default()
            },
        );
        assert!(e.contains("code already belongs to store"), "{e}");

        let mut template = held.templates[0].clone();
        template.sections[0].title.push('!');
        let e = refusal(
            &held,
            &ReferenceData {
                templates: vec![template],
                ..ReferenceData::default()
            },
        );
        assert!(e.contains("already published with different content"), "{e}");
    }
}
