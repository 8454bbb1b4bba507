//! Reference data head office sends down: users, stores, products, check templates, plans.
//!
//! uniffi remote types: the core's own structs described field by field, so a core change that
//! is not mirrored here fails to compile.

use fieldproof_core::{
    AnswerValue, CheckItem, CheckSection, CheckTemplate, Choice, GeofenceMode, ItemKind, LoadSummary,
    PlannedVisit, Product, ReferenceData, Role, ShowIf, Store, TemplateKind, TemplateRules, User,
};

/// A user's role.
#[uniffi::remote(Enum)]
pub enum Role {
    Rep,
    Supervisor,
}

/// A rep or a supervisor.
#[uniffi::remote(Record)]
pub struct User {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// A rep's territory; a supervisor may leave it empty.
    #[uniffi(default)]
    pub territory: Option<String>,
    /// The supervisor whose team this rep is on.
    #[uniffi(default)]
    pub supervisor_id: Option<String>,
}

/// How a geofence miss is treated. Set by head office per store or per template.
#[uniffi::remote(Enum)]
pub enum GeofenceMode {
    /// No check at all.
    Off,
    /// Check in anyway, flag the visit (the default).
    Flag,
    /// Refuse the check-in.
    Block,
}

/// A store (门店).
#[uniffi::remote(Record)]
pub struct Store {
    pub id: String,
    pub code: String,
    /// Often Chinese (门店名称).
    pub name: String,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub geofence_radius_m: f64,
    pub territory: String,
    /// Overrides the template's geofence mode when set.
    #[uniffi(default)]
    pub geofence_mode: Option<GeofenceMode>,
}

/// A SKU, ours or a competitor's.
#[uniffi::remote(Record)]
pub struct Product {
    pub id: String,
    pub sku: String,
    pub name: String,
    pub brand: String,
    /// A competitor's SKU (竞品 SKU) rather than one of ours.
    #[uniffi(default)]
    pub is_competitor: bool,
    /// Reference shelf price in minor units (fen, cents).
    #[uniffi(default)]
    pub reference_price_cents: Option<i64>,
}

/// What a check template is for.
#[uniffi::remote(Enum)]
pub enum TemplateKind {
    /// A rep's store check (门店巡检) during a visit.
    StoreCheck,
    /// A supervisor's scored inspection of a store.
    Inspection,
}

/// The kind of a check item; an answer's kind must match it.
#[uniffi::remote(Enum)]
pub enum ItemKind {
    YesNo,
    Number,
    Price,
    Choice,
    Text,
    Photo,
}

/// One option of a choice item.
#[uniffi::remote(Record)]
pub struct Choice {
    pub id: String,
    pub label: String,
    /// Score of this choice in [0, 1].
    pub score: f64,
}

/// An item is shown only when an earlier item's answer equals `equals`.
#[uniffi::remote(Record)]
pub struct ShowIf {
    pub item_id: String,
    pub equals: AnswerValue,
}

/// One question of a check template.
#[uniffi::remote(Record)]
pub struct CheckItem {
    pub id: String,
    pub label: String,
    pub kind: ItemKind,
    pub required: bool,
    /// Weight in the section score; 0 means "recorded, not scored".
    pub weight: f64,
    #[uniffi(default)]
    pub show_if: Option<ShowIf>,
    /// For price items: the SKU being priced.
    #[uniffi(default)]
    pub product_id: Option<String>,
    /// For a competitor's price item: the item holding our own price to compare with.
    #[uniffi(default)]
    pub compare_to_item_id: Option<String>,
    /// For choice items.
    #[uniffi(default)]
    pub choices: Vec<Choice>,
    /// For number items: the value that scores full marks (e.g. facings on the shelf).
    #[uniffi(default)]
    pub target: Option<f64>,
    /// For photo items: how many photos complete the item (default 1).
    #[uniffi(default)]
    pub min_photos: Option<i32>,
}

/// A weighted section of a check template.
#[uniffi::remote(Record)]
pub struct CheckSection {
    pub id: String,
    pub title: String,
    pub weight: f64,
    pub items: Vec<CheckItem>,
}

/// Rule parameters head office sets per template.
#[uniffi::remote(Record)]
pub struct TemplateRules {
    /// Competitor price below own price by more than this fraction needs a negotiation note.
    pub price_gap_threshold: f64,
    #[uniffi(default)]
    pub geofence_mode: Option<GeofenceMode>,
    /// A fix less accurate than this is flagged `low_accuracy`.
    pub max_accuracy_m: f64,
    /// Whether the visit report must be written before the visit can be completed.
    pub require_report: bool,
}

/// A versioned check form. A published (id, version) never changes; visits pin the version.
#[uniffi::remote(Record)]
pub struct CheckTemplate {
    pub id: String,
    pub version: i32,
    pub name: String,
    pub kind: TemplateKind,
    /// The template used for an unplanned visit.
    pub is_default: bool,
    pub rules: TemplateRules,
    pub sections: Vec<CheckSection>,
}

/// One line of a rep's visit plan: who visits which store on which day.
#[uniffi::remote(Record)]
pub struct PlannedVisit {
    pub id: String,
    pub rep_id: String,
    pub store_id: String,
    /// Local date, `YYYY-MM-DD`.
    pub date: String,
    pub template_id: String,
    /// Position in the day's route.
    pub sequence: i32,
    /// The planned time window, local `HH:MM` start and end (both or neither).
    #[uniffi(default = None)]
    pub window_start: Option<String>,
    #[uniffi(default = None)]
    pub window_end: Option<String>,
}

/// Everything head office sends down in one load. Loaded as a whole or not at all.
#[uniffi::remote(Record)]
pub struct ReferenceData {
    #[uniffi(default)]
    pub users: Vec<User>,
    #[uniffi(default)]
    pub stores: Vec<Store>,
    #[uniffi(default)]
    pub products: Vec<Product>,
    #[uniffi(default)]
    pub templates: Vec<CheckTemplate>,
    #[uniffi(default)]
    pub plans: Vec<PlannedVisit>,
}

/// How many records of each kind a reference-data load wrote.
#[uniffi::remote(Record)]
pub struct LoadSummary {
    pub users: i32,
    pub stores: i32,
    pub products: i32,
    pub templates: i32,
    pub plans: i32,
}
