//! The head-office web pages, served by the sync server itself under `/app/...`:
//! server-rendered HTML (maud templates, which escape every value; no JS; inline CSS; charts as
//! inline SVG), every string in English and Simplified Chinese ([`i18n`]), everything behind
//! sign-in ([`auth`]) except `/app/login`.
//!
//! Layers, top down (each only uses the ones below it):
//! - [`pages`]: one file per page; a handler takes its extractors, asks the read models, renders.
//! - [`layout`] (the page frame, CSS, the menu by role, error pages) and [`components`] (chips,
//!   badges, pager, export links) build HTML; [`exception_view`]: an exception's row (message,
//!   state, history, actions), the same on the queue and a visit's page.
//! - [`extract`]: who is asking ([`extract::SignedIn`]), typed query strings and forms (CSRF,
//!   64 KiB) whose bad input is a page in the reader's language.
//! - [`request`] (links, cookies, redirects, the same-origin check) and [`dates`] (days and
//!   times in the store's calendar): leaves every page and extractor uses.
//! - [`read`]: the read models, `&Connection` + scope → named structs; all the pages' SQL.
//!   [`actions`]: the pages' writes (resolving an exception); the queue's own go through
//!   [`crate::queue`].
//!
//! These routes are not in [`crate::ROUTES`] / `openapi.json`: those describe the phones' JSON
//! sync contract, which this HTML is no part of. [`WEB_ROUTES`] lists them instead (a test checks
//! that the router serves each one); metrics count them under `route="other"`.

// Page handlers and extractors return the finished error page as their `Err` (a `Response`):
// it is built once per failed request, so its size does not matter.
#![allow(clippy::result_large_err)]

mod actions;
pub mod auth;
mod charts;
mod components;
mod dates;
mod exception_view;
mod extract;
pub mod i18n;
mod layout;
mod pages;
mod period;
pub mod read;
mod request;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::store::Store;

/// The alert digest's figures from the pages' read models ([`read::alerts::digest_sources`]).
pub use read::alerts::digest_sources;
// The pages' helpers live in leaves below them; their short names stay (`crate::web::url_enc`).
pub use dates::{day_string, fmt_datetime, fmt_time, parse_day};
pub(crate) use request::cookie;
pub use request::{client_ip, redirect, safe_next, same_origin, url_enc};

/// Every web route, as (method, path template).
pub const WEB_ROUTES: &[(&str, &str)] = &[
    ("GET", "/app"),
    ("GET", "/app/login"),
    ("POST", "/app/login"),
    ("GET", "/app/login/link"),
    ("POST", "/app/logout"),
    ("GET", "/app/exceptions"),
    ("POST", "/app/exceptions/act"),
    ("POST", "/app/exceptions/{id}/resolve"),
    ("GET", "/app/visits/{id}"),
    ("GET", "/app/photos/{sha256}"),
    ("GET", "/app/thumbs/{sha256}"),
    ("GET", "/app/gallery"),
    ("GET", "/app/map"),
    ("GET", "/app/health"),
    // Planned versus done, scorecards, a rep's and a store's pages.
    ("GET", "/app/plan"),
    ("GET", "/app/ranking"),
    ("GET", "/app/reps/{id}"),
    ("GET", "/app/stores/{id}"),
    ("GET", "/app/data"),
    ("GET", "/app/export.xlsx"),
    ("GET", "/app/export/{file}"),
    // Evidence bundles (issue 16).
    ("GET", "/app/evidence"),
    ("GET", "/app/evidence.zip"),
    ("POST", "/app/import"),
    ("GET", "/app/import/template.xlsx"),
    // People and structure (admin and head office).
    ("GET", "/app/people"),
    ("POST", "/app/people"),
    ("GET", "/app/people/{id}"),
    ("POST", "/app/people/{id}"),
    ("POST", "/app/people/{id}/deactivate"),
    ("POST", "/app/people/{id}/reactivate"),
    ("POST", "/app/people/{id}/enrol-code"),
    ("GET", "/app/accounts"),
    ("POST", "/app/accounts"),
    ("GET", "/app/accounts/{id}"),
    ("POST", "/app/accounts/{id}/role"),
    ("POST", "/app/accounts/{id}/link"),
    ("POST", "/app/accounts/{id}/deactivate"),
    ("GET", "/app/structure"),
    ("POST", "/app/structure/territories"),
    ("POST", "/app/structure/teams"),
    ("GET", "/app/devices"),
    ("GET", "/app/devices/{id}/revoke"),
    ("POST", "/app/devices/{id}/revoke"),
    ("GET", "/app/password"),
    ("POST", "/app/password"),
    // Photo review with retakes.
    ("POST", "/app/photo-reviews"),
    ("GET", "/app/retakes"),
    // Alerts (admin and head office).
    ("GET", "/app/alerts"),
    ("POST", "/app/alerts/channels"),
    ("GET", "/app/alerts/channels/{id}"),
    ("POST", "/app/alerts/channels/{id}"),
    ("POST", "/app/alerts/channels/{id}/enable"),
    ("POST", "/app/alerts/channels/{id}/test"),
    ("POST", "/app/alerts/rules"),
    ("GET", "/app/alerts/rules/{id}"),
    ("POST", "/app/alerts/rules/{id}"),
    ("POST", "/app/alerts/rules/{id}/enable"),
    ("POST", "/app/alerts/deliveries/{id}/retry"),
    // Customers and leads (issue 15).
    ("GET", "/app/leads"),
    ("GET", "/app/pipeline"),
    ("GET", "/app/customers"),
    ("GET", "/app/customers/{id}"),
    ("GET", "/app/pool"),
    ("GET", "/app/stores/{id}/code"),
    // Customers and leads: routing rules and pipeline settings (admin and head office).
    ("GET", "/app/routing"),
    ("POST", "/app/routing/rule"),
    ("POST", "/app/routing/rules"),
    ("POST", "/app/routing/dry-run"),
    ("POST", "/app/routing/go-live"),
    ("POST", "/app/routing/pause"),
    ("GET", "/app/pipeline-settings"),
    ("POST", "/app/pipeline-settings/rules"),
    ("POST", "/app/pipeline-settings/stages"),
    ("POST", "/app/pipeline-settings/health"),
];

pub fn routes() -> Router<Arc<Store>> {
    use pages::{data, exceptions, gallery, health, login, map, photo, today, visit};
    Router::new()
        .route("/app", get(today::page))
        .route("/app/login", get(login::form).post(login::sign_in))
        .route("/app/login/link", get(login::link))
        .route("/app/logout", post(login::sign_out))
        .route("/app/exceptions", get(exceptions::page))
        .route("/app/exceptions/act", post(exceptions::act))
        .route("/app/exceptions/{id}/resolve", post(exceptions::resolve))
        .route("/app/visits/{id}", get(visit::page))
        .route("/app/photos/{sha256}", get(photo::full))
        .route("/app/thumbs/{sha256}", get(photo::thumb))
        .route("/app/gallery", get(gallery::page))
        .route("/app/map", get(map::page))
        .route("/app/health", get(health::page))
        .merge(figures_routes())
        .route("/app/data", get(data::page))
        .route("/app/export.xlsx", get(data::export_xlsx))
        .route("/app/export/{file}", get(data::export_csv))
        .route("/app/evidence", get(pages::evidence::page))
        .route("/app/evidence.zip", get(pages::evidence::download))
        .route("/app/import/template.xlsx", get(data::import_template))
        .merge(people_routes())
        .route("/app/photo-reviews", post(pages::retakes::review))
        .route("/app/retakes", get(pages::retakes::list))
        .merge(alert_routes())
        .merge(customer_routes())
        .merge(pipeline_admin_routes())
        // The import handler bounds its own body (size and time); axum's default 2 MB cap on
        // Multipart would refuse uploads long before the import's limit.
        .route(
            "/app/import",
            post(data::import).layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

/// Planned versus done, the ranking, a rep's and a store's pages.
fn figures_routes() -> Router<Arc<Store>> {
    use pages::{plan, ranking, rep, store_profile};
    Router::new()
        .route("/app/plan", get(plan::page))
        .route("/app/ranking", get(ranking::page))
        .route("/app/reps/{id}", get(rep::page))
        .route("/app/stores/{id}", get(store_profile::page))
}

/// The people and structure pages' routes (admin and head office; see [`pages::people`]).
fn people_routes() -> Router<Arc<Store>> {
    use pages::{accounts, devices, password, people, structure};
    Router::new()
        .route("/app/people", get(people::list).post(people::create))
        .route("/app/people/{id}", get(people::show).post(people::update))
        .route("/app/people/{id}/deactivate", post(people::deactivate))
        .route("/app/people/{id}/reactivate", post(people::reactivate))
        .route("/app/people/{id}/enrol-code", post(people::issue_code))
        .route("/app/accounts", get(accounts::list).post(accounts::create))
        .route("/app/accounts/{id}", get(accounts::show))
        .route("/app/accounts/{id}/role", post(accounts::change_role))
        .route("/app/accounts/{id}/link", post(accounts::new_link))
        .route("/app/accounts/{id}/deactivate", post(accounts::deactivate))
        .route("/app/structure", get(structure::page))
        .route("/app/structure/territories", post(structure::save_territory))
        .route("/app/structure/teams", post(structure::save_team))
        .route("/app/devices", get(devices::list))
        .route(
            "/app/devices/{id}/revoke",
            get(devices::confirm).post(devices::revoke),
        )
        .route("/app/password", get(password::form).post(password::set))
}

/// The routing rules and pipeline settings pages (admin and head office; see
/// [`pages::routing`], [`pages::pipeline_settings`]).
fn pipeline_admin_routes() -> Router<Arc<Store>> {
    use pages::{pipeline_settings, routing};
    Router::new()
        .route("/app/routing", get(routing::page))
        .route("/app/routing/rule", post(routing::save_rule))
        .route("/app/routing/rules", post(routing::save_json))
        .route("/app/routing/dry-run", post(routing::dry_run))
        .route("/app/routing/go-live", post(routing::go_live))
        .route("/app/routing/pause", post(routing::pause))
        .route("/app/pipeline-settings", get(pipeline_settings::page))
        .route(
            "/app/pipeline-settings/rules",
            post(pipeline_settings::save_rules),
        )
        .route(
            "/app/pipeline-settings/stages",
            post(pipeline_settings::save_stages),
        )
        .route(
            "/app/pipeline-settings/health",
            post(pipeline_settings::save_health),
        )
}

/// The alerts page's routes (admin and head office; see [`pages::alerts`]).
fn alert_routes() -> Router<Arc<Store>> {
    use pages::alerts;
    Router::new()
        .route("/app/alerts", get(alerts::page))
        .route("/app/alerts/channels", post(alerts::create_channel))
        .route(
            "/app/alerts/channels/{id}",
            get(alerts::edit_channel).post(alerts::update_channel),
        )
        .route("/app/alerts/channels/{id}/enable", post(alerts::toggle_channel))
        .route("/app/alerts/channels/{id}/test", post(alerts::test_channel))
        .route("/app/alerts/rules", post(alerts::create_rule))
        .route(
            "/app/alerts/rules/{id}",
            get(alerts::edit_rule).post(alerts::update_rule),
        )
        .route("/app/alerts/rules/{id}/enable", post(alerts::toggle_rule))
        .route("/app/alerts/deliveries/{id}/retry", post(alerts::retry))
}

/// Customers and leads (see [`pages::leads`], [`pages::customers`]).
fn customer_routes() -> Router<Arc<Store>> {
    use pages::{customers, leads, pipeline, pool, store_code};
    Router::new()
        .route("/app/leads", get(leads::page))
        .route("/app/pipeline", get(pipeline::page))
        .route("/app/customers", get(customers::list))
        .route("/app/customers/{id}", get(customers::show))
        .route("/app/pool", get(pool::page))
        .route("/app/stores/{id}/code", get(store_code::page))
}
