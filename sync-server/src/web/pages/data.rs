//! `GET /app/data`: export (XLSX, CSV) with filters, and for admin and head office the import
//! form; `GET /app/export.xlsx`, `GET /app/export/{kind}.csv`: the downloads; `POST
//! /app/import`: the upload (multipart), over `crate::export` / `crate::import`.
//!
//! Export: everyone signed in; a supervisor's export is always restricted to their team
//! (`team_of` is forced). Import: admin and head office only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::body::blocking;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::export::{self, ExportFilter, ExportKind};
use crate::i18n::Lang;
use crate::import::{self, ImportError, ImportKind, LimitError};
use crate::store::Store;
use crate::web::auth::WebUser;
use crate::web::components::{export_links, tech_details};
use crate::web::extract::{PageQuery, SignedIn, Viewer};
use crate::web::read::names::{ExportChoices, Names, export_choices};

/// Room in an import upload's body, beyond the file itself, for the form's other field and
/// the multipart boundaries and headers.
const FORM_SLACK: u64 = 64 * 1024;

/// The export form's fields, kept when the page is shown again.
#[derive(Deserialize, Default)]
pub struct DataQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    rep_id: String,
    #[serde(default)]
    store_id: String,
    #[serde(default)]
    territory: String,
}

/// The filter of `query`, restricted to what `user` may see.
fn filter_for(user: &WebUser, query: &str) -> Result<ExportFilter, String> {
    // The pages' own parameters (`lang`) are not export filters.
    let q: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    let mut f = ExportFilter::from_query(&q.join("&")).map_err(|e| e.to_string())?;
    if let Some(sup) = user.scope() {
        f.team_of = Some(sup.to_string());
    }
    Ok(f)
}

/// A filter or kind the user got wrong is their 400; only storage and writing are ours.
fn export_error(e: export::ExportError) -> ApiError {
    match e {
        export::ExportError::BadFilter(_) | export::ExportError::UnknownKind(_) => {
            ApiError::InvalidInput(e.to_string())
        }
        export::ExportError::Storage(_) | export::ExportError::Write(_) => ApiError::Internal(e.to_string()),
    }
}

/// `attachment` with an ASCII file name every client takes (`fieldproof-visits.csv`) and the
/// name in the reader's language (`拜访.csv`) as RFC 6266 / 5987 `filename*`, which browsers
/// prefer.
pub(super) fn disposition(ascii: &str, named: &str) -> String {
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        crate::web::url_enc(named)
    )
}

fn download(bytes: Vec<u8>, content_type: &'static str, ascii: &str, named: &str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition(ascii, named)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    r
}

pub async fn export_xlsx(State(store): State<Arc<Store>>, who: SignedIn, RawQuery(q): RawQuery) -> Response {
    let SignedIn { user, page } = who;
    let filter = match filter_for(&user, q.as_deref().unwrap_or("")) {
        Ok(f) => f,
        Err(m) => return page.bad_request(&m),
    };
    let s = store.clone();
    let lang = page.lang;
    match blocking(move || export::export_xlsx_in(&s, &filter, lang).map_err(export_error)).await {
        Ok(bytes) => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "fieldproof-export.xlsx",
            &format!("fieldproof-{}.xlsx", page.t("export")),
        ),
        Err(e) => page.error(&e),
    }
}

pub async fn export_csv(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    file: Result<Path<String>, PathRejection>,
    RawQuery(q): RawQuery,
) -> Response {
    let SignedIn { user, page } = who;
    let kind = file
        .ok()
        .and_then(|Path(f)| f.strip_suffix(".csv").and_then(|k| ExportKind::parse(k).ok()));
    let Some(kind) = kind else {
        return page.not_found();
    };
    let filter = match filter_for(&user, q.as_deref().unwrap_or("")) {
        Ok(f) => f,
        Err(m) => return page.bad_request(&m),
    };
    let s = store.clone();
    let lang = page.lang;
    match blocking(move || export::export_csv_in(&s, kind, &filter, lang).map_err(export_error)).await {
        Ok(text) => download(
            text.into_bytes(),
            "text/csv; charset=utf-8",
            &format!("fieldproof-{}.csv", kind.as_str()),
            &format!("{}.csv", kind.sheet_title(lang)),
        ),
        Err(e) => page.error(&e),
    }
}

/// The page: the export form (people and stores chosen by name), and for those who may import,
/// the import form with `result` (the last upload's outcome) above it. `names` and `choices`
/// are None when they could not be read: the form then takes ids as text.
fn data_page(
    page: &Viewer,
    user: &WebUser,
    form: &ExportForm,
    result: Markup,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let q = &form.query;
    let date = |name: &str, key: &str, value: &str| {
        html! { label { (page.t(key)) " " input type="date" name=(name) value=(value); } }
    };
    let select = |name: &str, key: &str, chosen: &str, options: Vec<(String, String)>| {
        html! {
            label { (page.t(key)) " "
                select name=(name) {
                    option value="" { (page.t("all")) }
                    @for (value, label) in &options {
                        option value=(value) selected[value == chosen] { (label) }
                    }
                }
            }
        }
    };
    let fields = match (&form.names, &form.choices) {
        (Some(names), Some(choices)) => html! {
            (select("rep_id", "rep", &q.rep_id, choices.users.iter().map(|u| (u.clone(), names.user(u))).collect()))
            (select("store_id", "store", &q.store_id, names.store_ids().into_iter().map(|s| { let l = names.store(&s); (s, l) }).collect()))
            (select("territory", "territory", &q.territory, choices.territories.iter().map(|x| (x.clone(), x.clone())).collect()))
        },
        _ => html! {
            label { (t("rep")) " " input type="text" name="rep_id" value=(q.rep_id); }
            label { (t("store")) " " input type="text" name="store_id" value=(q.store_id); }
            label { (t("territory")) " " input type="text" name="territory" value=(q.territory); }
        },
    };
    let body = html! {
        h2 { (t("export")) }
        p.muted { (t("export_note")) }
        form.filters method="get" action="/app/export.xlsx" id="export-form" {
            (date("from", "from", &q.from))
            (date("to", "to", &q.to))
            (fields)
            button { (t("download_xlsx")) }
        }
        (export_links(page.lang, &ExportFilter::default()))
        p { a id="evidence-link" href="/app/evidence" { (t("evidence_page")) } " · " (t("evidence_short_note")) }
        @if user.sees_all() {
            h2 { (t("import")) }
            (result)
            form.filters method="post" action="/app/import" enctype="multipart/form-data" id="import-form" {
                input type="hidden" name="csrf" value=(user.csrf);
                label { (t("import_file")) " " input type="file" name="file" accept=".xlsx,.csv" required; }
                label {
                    (t("import_kind")) " "
                    select name="kind" {
                        option value="" { (t("import_kind_from_sheets")) }
                        @for k in ImportKind::ALL {
                            option value=(k.as_str()) { (k.sheet_name_in(page.lang == Lang::Zh)) }
                        }
                    }
                }
                button { (t("import")) }
            }
            p {
                (t("import_template")) ": "
                a id="import-template-zh" href="/app/import/template.xlsx?lang=zh-CN" { "中文" }
                " · "
                a id="import-template-en" href="/app/import/template.xlsx?lang=en" { "English" }
            }
            p {
                (t("import_template_pipeline")) ": "
                a id="import-pipeline-template-zh" href="/app/import/template.xlsx?set=pipeline&lang=zh-CN" { "中文" }
                " · "
                a id="import-pipeline-template-en" href="/app/import/template.xlsx?set=pipeline&lang=en" { "English" }
            }
        }
    };
    page.page(status, t("nav_data"), body)
}

/// The export form's values and what it offers.
#[derive(Default)]
struct ExportForm {
    query: DataQuery,
    names: Option<Names>,
    choices: Option<ExportChoices>,
}

impl ExportForm {
    /// The choices in `user`'s scope; without them (a storage error) the form takes ids as text.
    async fn read(store: &Arc<Store>, user: &WebUser, query: DataQuery) -> ExportForm {
        let scope = user.scope().map(str::to_string);
        let s = store.clone();
        let read = blocking(move || {
            let c = s.reader()?;
            Ok((Names::load(&c)?, export_choices(&c, scope.as_deref())?))
        })
        .await;
        match read {
            Ok((names, choices)) => ExportForm {
                query,
                names: Some(names),
                choices: Some(choices),
            },
            Err(e) => {
                tracing::warn!(error = %e, "export form without choices");
                ExportForm {
                    query,
                    ..ExportForm::default()
                }
            }
        }
    }
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<DataQuery>,
) -> Response {
    let form = ExportForm::read(&store, &who.user, q).await;
    data_page(&who.page, &who.user, &form, html! {}, StatusCode::OK)
}

/// One import at a time in this process: the memory bound of `import::ImportLimits` holds
/// for the server, not for each of however many uploads a signed-in user starts at once.
/// Taken before the body is read, released when the import (or its refusal) is done.
static IMPORT_RUNNING: AtomicBool = AtomicBool::new(false);

struct ImportSlot;

impl ImportSlot {
    fn take() -> Option<ImportSlot> {
        IMPORT_RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| ImportSlot)
    }
}

impl Drop for ImportSlot {
    fn drop(&mut self) {
        IMPORT_RUNNING.store(false, Ordering::Release);
    }
}

/// The import form's page with a refusal of the upload itself: too large (413), too slow
/// (408) or another import running (409). The connection is closed: the rest of the body is
/// not read.
async fn upload_refused(
    store: &Arc<Store>,
    page: &Viewer,
    user: &WebUser,
    status: StatusCode,
    code: &str,
    params: &[(&str, String)],
) -> Response {
    let result = html! { p.err id="import-result" data-code=(code) { (page.lang.message(code, params)) } };
    let form = ExportForm::read(store, user, DataQuery::default()).await;
    let mut r = data_page(page, user, &form, result, status);
    r.headers_mut()
        .insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

async fn too_large(store: &Arc<Store>, page: &Viewer, user: &WebUser, limit: u64) -> Response {
    let e = LimitError::FileTooLarge { limit };
    upload_refused(
        store,
        page,
        user,
        StatusCode::PAYLOAD_TOO_LARGE,
        e.code(),
        &e.params(),
    )
    .await
}

pub async fn import(State(store): State<Arc<Store>>, who: SignedIn, req: Request) -> Response {
    let SignedIn { user, page: ctx } = who;
    let (parts, body) = req.into_parts();
    if !crate::web::same_origin(&parts) {
        return ctx.forbidden();
    }
    if !user.sees_all() {
        return ctx.not_found();
    }
    let limits = store.limits().import.clone();
    let body_limit = limits.max_file_bytes.saturating_add(FORM_SLACK);
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.parse::<u64>().ok());
    if let Some(n) = declared
        && n > body_limit
    {
        if n <= body_limit.saturating_add(crate::body::DRAIN_MAX) {
            crate::body::drain(body).await;
        }
        return too_large(&store, &ctx, &user, limits.max_file_bytes).await;
    }
    // 409, not 503: nothing is wrong with the server, the user's other import is running.
    let Some(slot) = ImportSlot::take() else {
        if declared.is_some_and(|n| n <= body_limit) {
            crate::body::drain(body).await;
        }
        return upload_refused(&store, &ctx, &user, StatusCode::CONFLICT, "import_busy", &[]).await;
    };
    let req = Request::from_parts(
        parts,
        axum::body::Body::new(http_body_util::Limited::new(
            body,
            usize::try_from(body_limit).unwrap_or(usize::MAX),
        )),
    );
    // The whole form within the body timeout: a client that stalls or trickles its upload
    // gets a 408 instead of holding the connection and its buffers indefinitely.
    let read = async {
        let too_large = || too_large(&store, &ctx, &user, limits.max_file_bytes);
        let mut mp = match Multipart::from_request(req, &()).await {
            Ok(m) => m,
            Err(e) => return Err(ctx.bad_request(&e.body_text())),
        };
        let (mut csrf, mut file, mut kind) = (String::new(), None, None);
        loop {
            match mp.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or("").to_string();
                    let file_name = field.file_name().unwrap_or("upload").to_string();
                    match field.bytes().await {
                        Ok(b) if name == "csrf" => csrf = String::from_utf8_lossy(&b).into_owned(),
                        Ok(b) if name == "file" => file = Some((file_name, b)),
                        // What a CSV holds, chosen on the form (blank: a workbook's sheet names say).
                        Ok(b) if name == "kind" => kind = ImportKind::parse(&String::from_utf8_lossy(&b)),
                        Ok(_) => {}
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return Err(too_large().await);
                        }
                        Err(e) => return Err(ctx.bad_request(&e.body_text())),
                    }
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large().await),
                Err(e) => return Err(ctx.bad_request(&e.body_text())),
            }
        }
        Ok((csrf, file, kind))
    };
    let (csrf, file, kind) = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(v)) => v,
        Ok(Err(r)) => return r,
        Err(_) => {
            let seconds = limits.body_timeout.as_secs().to_string();
            return upload_refused(
                &store,
                &ctx,
                &user,
                StatusCode::REQUEST_TIMEOUT,
                "import_body_timeout",
                &[("seconds", seconds)],
            )
            .await;
        }
    };
    // The token is checked before anything in the file is looked at.
    if !crate::web::auth::same_token(&csrf, &user.csrf) {
        return ctx.forbidden();
    }
    let Some((name, bytes)) = file else {
        return ctx.bad_request(ctx.t("import_unreadable"));
    };
    let s = store.clone();
    let result = blocking(move || {
        let _slot = slot;
        Ok(import::import_file(&s, &name, &bytes, kind, now_ms()))
    })
    .await;
    let t = |k| ctx.t(k);
    let (html, status) = match result {
        Ok(Ok(report)) => (
            {
                let zh = ctx.lang == Lang::Zh;
                let counts: Vec<String> = [
                    (ImportKind::Territories, report.territories),
                    (ImportKind::Supervisors, report.supervisors),
                    (ImportKind::Teams, report.teams),
                    (ImportKind::Reps, report.reps),
                    (ImportKind::Stores, report.stores),
                    (ImportKind::Products, report.products),
                    (ImportKind::Plans, report.plans),
                    (ImportKind::Customers, report.customers),
                    (ImportKind::Activities, report.activities),
                    (ImportKind::Leads, report.leads),
                ]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| format!("{} {n}", k.sheet_name_in(zh)))
                .collect();
                html! { p.ok id="import-result" { (t("import_done")) " " (counts.join(" · ")) } }
            },
            StatusCode::OK,
        ),
        Ok(Err(ImportError::Refused(problems))) => (
            html! {
                div.err id="import-result" {
                    p { (t("import_refused")) }
                    table.rows {
                        thead { tr { th { (t("sheet")) } th { (t("row")) } th { (t("column")) } th { (t("message")) } } }
                        tbody {
                            @for p in &problems {
                                tr data-code=(p.code) {
                                    td data-label=(t("sheet")) { (p.sheet) }
                                    td data-label=(t("row")) { @if p.row > 0 { (p.row) } }
                                    td data-label=(t("column")) { (p.column) }
                                    td.long data-label=(t("message")) { (ctx.lang.message(p.code, &p.params)) }
                                }
                            }
                        }
                    }
                }
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(ImportError::Limit(LimitError::FileTooLarge { limit }))) => {
            return too_large(&store, &ctx, &user, limit).await;
        }
        // A limit is a message for the person: its code, in their language.
        Ok(Err(ImportError::Limit(e))) => (
            html! {
                div.err id="import-result" data-code=(e.code()) {
                    p { (t("import_refused_limit")) }
                    p { (ctx.lang.message(e.code(), &e.params())) }
                }
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(ImportError::Unreadable(u))) => (
            html! {
                div.err id="import-result" data-code=(u.code) {
                    p { (t("import_unreadable")) " " (ctx.lang.message(u.code, &[])) }
                    (tech_details(ctx.lang, &[(t("message").to_string(), u.detail)]))
                }
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(ImportError::Storage(m))) => return ctx.error(&ApiError::Internal(m)),
        Err(e) => return ctx.error(&e),
    };
    let form = ExportForm::read(&store, &user, DataQuery::default()).await;
    data_page(&ctx, &user, &form, html, status)
}

/// `GET /app/import/template.xlsx?lang=zh-CN|en`: the import's template workbook (one sheet per
/// kind with headers and an example row, and a notes sheet), in the chosen language.
pub async fn import_template(who: SignedIn, RawQuery(query): RawQuery) -> Response {
    let zh = who.page.lang == Lang::Zh;
    // `set=pipeline`: the customers-and-leads workbook, imported on its own.
    let pipeline = query
        .unwrap_or_default()
        .split('&')
        .any(|kv| kv == "set=pipeline");
    let make = move || {
        if pipeline {
            import::pipeline_template_xlsx(zh)
        } else {
            import::template_xlsx(zh)
        }
    };
    match blocking(move || make().map_err(|e| ApiError::Internal(e.to_string()))).await {
        Ok(bytes) => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            match (pipeline, zh) {
                (false, true) => "fieldproof-import-template-zh.xlsx",
                (false, false) => "fieldproof-import-template-en.xlsx",
                (true, true) => "fieldproof-customers-template-zh.xlsx",
                (true, false) => "fieldproof-customers-template-en.xlsx",
            },
            match (pipeline, zh) {
                (false, true) => "导入模板.xlsx",
                (false, false) => "import-template.xlsx",
                (true, true) => "客户与线索导入模板.xlsx",
                (true, false) => "customers-and-leads-template.xlsx",
            },
        ),
        Err(e) => who.page.error(&e),
    }
}
