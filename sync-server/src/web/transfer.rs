//! Export (XLSX, CSV) with the pages' filters, and import (multipart upload) of stores,
//! products and plans, over `crate::export` / `crate::import`.
//!
//! Export: everyone signed in; a supervisor's export is always restricted to their team
//! (`team_of` is forced). Import: admin and head office only.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::auth::WebUser;
use super::{Ctx, esc};
use crate::error::ApiError;
use crate::export::{self, ExportFilter, ExportKind};
use crate::http::blocking;
use crate::import::{self, ImportError, ImportKind, LimitError};
use crate::now_ms;
use crate::store::Store;

/// Room in an import upload's body, beyond the file itself, for the form's other field and
/// the multipart boundaries and headers.
const FORM_SLACK: u64 = 64 * 1024;
/// A declared body up to this much over the limit is read and thrown away, so the browser,
/// still sending, reads the 413 page instead of a reset connection.
const DRAIN_MAX: u64 = 16 * 1024 * 1024;

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

/// Export links for a page's filters.
pub fn export_links(ctx: &Ctx, filter: &ExportFilter) -> String {
    let q = filter.to_query();
    let sep = if q.is_empty() { "" } else { "?" };
    let mut h = format!(
        "<p class=\"exports\">{}: <a id=\"export-xlsx\" href=\"/app/export.xlsx{sep}{}\">XLSX</a>",
        esc(ctx.t("export")),
        esc(&q)
    );
    for k in ExportKind::ALL {
        h.push_str(&format!(
            " · <a href=\"/app/export/{}.csv{sep}{}\">{} CSV</a>",
            k.as_str(),
            esc(&q),
            k.sheet_name()
        ));
    }
    h.push_str("</p>");
    h
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

fn download(bytes: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    r
}

pub async fn export_xlsx(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let filter = match filter_for(&user, parts.uri.query().unwrap_or("")) {
        Ok(f) => f,
        Err(m) => return ctx.bad_request(&m),
    };
    let s = store.clone();
    match blocking(move || export::export_xlsx(&s, &filter).map_err(export_error)).await {
        Ok(bytes) => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "fieldproof-export.xlsx",
        ),
        Err(e) => ctx.error(&e),
    }
}

pub async fn export_csv(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let kind = parts
        .uri
        .path()
        .strip_prefix("/app/export/")
        .and_then(|k| k.strip_suffix(".csv"))
        .and_then(|k| ExportKind::parse(k).ok());
    let Some(kind) = kind else {
        return ctx.not_found();
    };
    let filter = match filter_for(&user, parts.uri.query().unwrap_or("")) {
        Ok(f) => f,
        Err(m) => return ctx.bad_request(&m),
    };
    let s = store.clone();
    match blocking(move || export::export_csv(&s, kind, &filter).map_err(export_error)).await {
        Ok(text) => download(
            text.into_bytes(),
            "text/csv; charset=utf-8",
            &format!("fieldproof-{}.csv", kind.as_str()),
        ),
        Err(e) => ctx.error(&e),
    }
}

fn data_page(ctx: &Ctx, user: &WebUser, result: &str, status: StatusCode) -> Response {
    let f = |name: &str, key: &str, kind: &str| {
        format!(
            "<label>{} <input type=\"{kind}\" name=\"{name}\" value=\"{}\"></label> ",
            esc(ctx.t(key)),
            esc(ctx.q(name))
        )
    };
    let mut body = format!(
        "<h2>{}</h2><p class=\"muted\">{}</p><form method=\"get\" action=\"/app/export.xlsx\" id=\"export-form\">{}{}{}{}{}<button>XLSX</button></form>",
        esc(ctx.t("export")),
        esc(ctx.t("export_note")),
        f("from", "from", "date"),
        f("to", "to", "date"),
        f("rep_id", "rep", "text"),
        f("store_id", "store", "text"),
        f("territory", "territory", "text"),
    );
    body.push_str(&export_links(ctx, &ExportFilter::default()));
    if !user.sees_all() {
        return ctx.page(status, ctx.t("nav_data"), &body);
    }
    body.push_str(&format!(
        "<h2>{}</h2>{result}<form method=\"post\" action=\"/app/import\" enctype=\"multipart/form-data\" id=\"import-form\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><label>{} <input type=\"file\" name=\"file\" accept=\".xlsx,.csv\" required></label> \
         <label>{} <select name=\"kind\"><option value=\"\">{}</option>{}</select></label> \
         <button>{}</button></form><p>{}: <a id=\"import-template-zh\" href=\"/app/import/template.xlsx?lang=zh-CN\">中文</a> · \
         <a id=\"import-template-en\" href=\"/app/import/template.xlsx?lang=en\">English</a></p>",
        esc(ctx.t("import")),
        esc(&user.csrf),
        esc(ctx.t("import_file")),
        esc(ctx.t("import_kind")),
        esc(ctx.t("import_kind_from_sheets")),
        ImportKind::ALL
            .into_iter()
            .map(|k| format!(
                "<option value=\"{}\">{}</option>",
                k.as_str(),
                esc(k.sheet_name_in(ctx.lang == super::i18n::Lang::Zh))
            ))
            .collect::<String>(),
        esc(ctx.t("import")),
        esc(ctx.t("import_template")),
    ));
    ctx.page(status, ctx.t("nav_data"), &body)
}

pub async fn data(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    data_page(&ctx, &user, "", StatusCode::OK)
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
fn upload_refused(
    ctx: &Ctx,
    user: &WebUser,
    status: StatusCode,
    code: &str,
    params: &[(&str, String)],
) -> Response {
    let html = format!(
        "<p class=\"err\" id=\"import-result\" data-code=\"{}\">{}</p>",
        esc(code),
        esc(&ctx.lang.message(code, params))
    );
    let mut r = data_page(ctx, user, &html, status);
    r.headers_mut()
        .insert(axum::http::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

fn too_large(ctx: &Ctx, user: &WebUser, limit: u64) -> Response {
    let e = LimitError::FileTooLarge { limit };
    upload_refused(ctx, user, StatusCode::PAYLOAD_TOO_LARGE, e.code(), &e.params())
}

pub async fn import(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !super::same_origin(&parts) {
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
        if n <= body_limit.saturating_add(DRAIN_MAX) {
            crate::http::drain(body).await;
        }
        return too_large(&ctx, &user, limits.max_file_bytes);
    }
    // 409, not 503: nothing is wrong with the server, the user's other import is running.
    let Some(slot) = ImportSlot::take() else {
        if declared.is_some_and(|n| n <= body_limit) {
            crate::http::drain(body).await;
        }
        return upload_refused(&ctx, &user, StatusCode::CONFLICT, "import_busy", &[]);
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
        let too_large = || too_large(&ctx, &user, limits.max_file_bytes);
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
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                        Err(e) => return Err(ctx.bad_request(&e.body_text())),
                    }
                }
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
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
                &ctx,
                &user,
                StatusCode::REQUEST_TIMEOUT,
                "import_body_timeout",
                &[("seconds", seconds)],
            );
        }
    };
    // The token is checked before anything in the file is looked at.
    if !super::auth::same_token(&csrf, &user.csrf) {
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
    let (html, status) = match result {
        Ok(Ok(report)) => (
            {
                let zh = ctx.lang == super::i18n::Lang::Zh;
                let counts: Vec<String> = [
                    (ImportKind::Territories, report.territories),
                    (ImportKind::Supervisors, report.supervisors),
                    (ImportKind::Teams, report.teams),
                    (ImportKind::Reps, report.reps),
                    (ImportKind::Stores, report.stores),
                    (ImportKind::Products, report.products),
                    (ImportKind::Plans, report.plans),
                ]
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| format!("{} {n}", k.sheet_name_in(zh)))
                .collect();
                format!(
                    "<p class=\"ok\" id=\"import-result\">{} {}</p>",
                    esc(ctx.t("import_done")),
                    esc(&counts.join(" · "))
                )
            },
            StatusCode::OK,
        ),
        Ok(Err(ImportError::Refused(problems))) => {
            let mut h = format!(
                "<div class=\"err\" id=\"import-result\"><p>{}</p><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
                esc(ctx.t("import_refused")),
                esc(ctx.t("sheet")),
                esc(ctx.t("row")),
                esc(ctx.t("column")),
                esc(ctx.t("message"))
            );
            for p in &problems {
                h.push_str(&format!(
                    "<tr data-code=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(p.code),
                    esc(&p.sheet),
                    p.row,
                    esc(&p.column),
                    esc(&ctx.lang.message(p.code, &p.params))
                ));
            }
            h.push_str("</table></div>");
            (h, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Ok(Err(ImportError::Limit(LimitError::FileTooLarge { limit }))) => {
            return too_large(&ctx, &user, limit);
        }
        // A limit is a message for the person: its code, in their language.
        Ok(Err(ImportError::Limit(e))) => (
            format!(
                "<div class=\"err\" id=\"import-result\" data-code=\"{}\"><p>{}</p><p>{}</p></div>",
                esc(e.code()),
                esc(ctx.t("import_refused_limit")),
                esc(&ctx.lang.message(e.code(), &e.params()))
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(ImportError::Unreadable(u))) => (
            format!(
                "<div class=\"err\" id=\"import-result\" data-code=\"{}\"><p>{} {}</p><details><summary>{}</summary><p>{}</p></details></div>",
                esc(u.code),
                esc(ctx.t("import_unreadable")),
                esc(&ctx.lang.message(u.code, &[])),
                esc(ctx.t("technical")),
                esc(&u.detail)
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(Err(ImportError::Storage(m))) => return ctx.error(&ApiError::Internal(m)),
        Err(e) => return ctx.error(&e),
    };
    data_page(&ctx, &user, &html, status)
}

/// `GET /app/import/template.xlsx?lang=zh-CN|en`: the import's template workbook (one sheet per
/// kind with headers and an example row, and a notes sheet), in the chosen language.
pub async fn import_template(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, _user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let zh = ctx.lang == super::i18n::Lang::Zh;
    match blocking(move || import::template_xlsx(zh).map_err(|e| ApiError::Internal(e.to_string()))).await {
        Ok(bytes) => download(
            bytes,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            if zh {
                "fieldproof-import-template-zh.xlsx"
            } else {
                "fieldproof-import-template-en.xlsx"
            },
        ),
        Err(e) => ctx.error(&e),
    }
}
