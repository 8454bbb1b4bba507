//! The pages: sign-in, the day's visits, the exception queue, a visit, photos, the gallery.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode, request::Parts};
use axum::response::{IntoResponse, Response};
use rusqlite::{Connection, OptionalExtension, params};

use super::auth::{self, LoginError, WebUser, scope_sql};
use super::{Ctx, day_bounds, day_of, day_string, esc, fmt_datetime, fmt_time, parse_day, redirect, url_enc};
use crate::error::{ApiError, ApiResult};
use crate::http::{blocking, read_body};
use crate::now_ms;
use crate::photos::{ReuseParams, thumbs};
use crate::store::Store;

const FORM_LIMIT: u64 = 64 * 1024;
const LOGIN_CSRF_COOKIE: &str = "fp_login_csrf";

// --- shared lookups --------------------------------------------------------------------------

pub(super) struct Names {
    users: HashMap<String, String>,
    stores: HashMap<String, (String, String)>,
}

impl Names {
    pub(super) fn load(c: &Connection) -> ApiResult<Names> {
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
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (id, code, name) = r?;
            stores.insert(id, (code, name));
        }
        Ok(Names { users, stores })
    }

    pub(super) fn user(&self, id: &str) -> String {
        match self.users.get(id) {
            Some(n) => format!("{n} ({id})"),
            None => id.to_string(),
        }
    }

    pub(super) fn store(&self, id: &str) -> String {
        match self.stores.get(id) {
            Some((code, name)) => format!("{code} {name}"),
            None => id.to_string(),
        }
    }

    pub(super) fn store_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.stores.keys().cloned().collect();
        v.sort();
        v
    }
}

fn set_cookie(resp: &mut Response, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        resp.headers_mut().append(SET_COOKIE, v);
    }
}

fn code_chips(ctx: &Ctx, codes: &[String]) -> String {
    if codes.is_empty() {
        return format!("<span class=\"muted\">{}</span>", esc(ctx.t("none")));
    }
    codes
        .iter()
        .map(|c| {
            format!(
                "<span class=\"code\" title=\"{}\">{}</span>",
                esc(c),
                esc(&ctx.lang.code_words(c))
            )
        })
        .collect()
}

fn status_words(ctx: &Ctx, status: &str) -> String {
    let key = format!("vs_{status}");
    let w = ctx.t(&key);
    if w == key {
        status.to_string()
    } else {
        w.to_string()
    }
}

fn geofence_words(ctx: &Ctx, g: &str) -> String {
    let key = format!("gf_{g}");
    let w = ctx.t(&key);
    let text = if w == key { g.to_string() } else { w.to_string() };
    let class = if g == "verified" {
        "ok"
    } else if g == "outside" {
        "bad"
    } else {
        "muted"
    };
    format!("<span class=\"{class}\">{}</span>", esc(&text))
}

/// The selected day (`?date=`), today by default; `Err` for a malformed date.
fn selected_day(ctx: &Ctx, name: &str) -> Result<Option<i64>, Response> {
    match ctx.q(name) {
        "" => Ok(None),
        s => parse_day(s)
            .map(Some)
            .ok_or_else(|| ctx.bad_request(ctx.t("bad_date"))),
    }
}

async fn form_body(store: &Store, parts: &Parts, body: Body) -> ApiResult<HashMap<String, String>> {
    let bytes = read_body(body, &parts.headers, FORM_LIMIT, store.limits().body_timeout).await?;
    Ok(super::parse_form(&String::from_utf8_lossy(&bytes)))
}

/// The CSRF check of every signed-in POST: same origin and the session's token in the form.
fn csrf_ok(parts: &Parts, user: &WebUser, form: &HashMap<String, String>) -> bool {
    super::same_origin(parts) && form.get("csrf").is_some_and(|t| auth::same_token(t, &user.csrf))
}

/// The start of every signed-in form POST: the session, the form, the CSRF check. `Err` is the
/// answer to send (sign-in redirect, error page, 403).
async fn signed_in_form(
    store: &Arc<Store>,
    parts: &Parts,
    body: Body,
) -> Result<(Ctx, WebUser, HashMap<String, String>), Response> {
    let (ctx, user) = Ctx::signed_in(store, parts).await?;
    let form = match form_body(store, parts, body).await {
        Ok(f) => f,
        Err(e) => return Err(ctx.error(&e)),
    };
    if !csrf_ok(parts, &user, &form) {
        return Err(ctx.forbidden());
    }
    Ok((ctx, user, form))
}

// --- sign-in -----------------------------------------------------------------------------------

fn login_page(ctx: &Ctx, next: &str, error: Option<&str>, status: StatusCode) -> ApiResult<Response> {
    let token = auth::random_hex(16)?;
    let err = error.map_or(String::new(), |e| {
        format!("<p class=\"err\" id=\"login-error\">{}</p>", esc(e))
    });
    let body = format!(
        "{err}<form class=\"login\" method=\"post\" action=\"/app/login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\"><input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>{uid}<input name=\"user\" id=\"user\" autocomplete=\"username\" required></label>\
         <label>{pw}<input name=\"password\" id=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\" id=\"sign-in\">{sign_in}</button></form>",
        next = esc(next),
        uid = esc(ctx.t("user_id")),
        pw = esc(ctx.t("password")),
        sign_in = esc(ctx.t("sign_in")),
    );
    let mut resp = ctx.page(status, ctx.t("sign_in"), &body);
    let secure = if ctx.secure { "; Secure" } else { "" };
    set_cookie(
        &mut resp,
        &format!(
            "{LOGIN_CSRF_COOKIE}={token}; Path=/app/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
        ),
    );
    Ok(resp)
}

pub async fn login_form(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let ctx = match Ctx::new(&store, &parts).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let next = super::safe_next(ctx.q("next")).to_string();
    if ctx.user.is_some() {
        return redirect(&next);
    }
    login_page(&ctx, &next, None, StatusCode::OK).unwrap_or_else(|e| ctx.error(&e))
}

pub async fn login(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let ctx = match Ctx::new(&store, &parts).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let form = match form_body(&store, &parts, body).await {
        Ok(f) => f,
        Err(e) => return ctx.error(&e),
    };
    // Login CSRF: the form's token must match the cookie set with the form (double submit).
    let cookie_token = super::cookie(&parts, LOGIN_CSRF_COOKIE).unwrap_or("");
    let field = form.get("csrf").map_or("", String::as_str);
    if !super::same_origin(&parts) || cookie_token.is_empty() || !auth::same_token(cookie_token, field) {
        return ctx.forbidden();
    }
    let next = super::safe_next(form.get("next").map_or("", String::as_str)).to_string();
    let user = form.get("user").map_or("", |s| s.trim()).to_string();
    let password = form.get("password").cloned().unwrap_or_default();
    let attempt = auth::Attempt {
        user_id: &user,
        client: super::client_ip(&parts, store.limits().trust_forwarded_for),
    };
    match auth::login(&store, &attempt, password, now_ms()).await {
        Ok(Ok((token, _csrf))) => {
            let mut resp = redirect(&next);
            let secure = if ctx.secure { "; Secure" } else { "" };
            set_cookie(
                &mut resp,
                &format!(
                    "{}={token}; Path=/app; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                    auth::SESSION_COOKIE,
                    auth::SESSION_TTL_MS / 1000
                ),
            );
            set_cookie(
                &mut resp,
                &format!("{LOGIN_CSRF_COOKIE}=; Path=/app/login; Max-Age=0"),
            );
            resp
        }
        Ok(Err(LoginError::BadCredentials)) => {
            login_page(&ctx, &next, Some(ctx.t("bad_login")), StatusCode::UNAUTHORIZED)
                .unwrap_or_else(|e| ctx.error(&e))
        }
        Ok(Err(LoginError::TooManyAttempts { retry_after_s })) => {
            let text = ctx
                .t("too_many_logins")
                .replace("{minutes}", &retry_after_s.div_ceil(60).to_string());
            let resp = login_page(&ctx, &next, Some(&text), StatusCode::TOO_MANY_REQUESTS);
            with_retry_after(resp.unwrap_or_else(|e| ctx.error(&e)), retry_after_s)
        }
        Ok(Err(LoginError::Busy)) => {
            let resp = login_page(
                &ctx,
                &next,
                Some(ctx.t("login_busy")),
                StatusCode::TOO_MANY_REQUESTS,
            );
            with_retry_after(resp.unwrap_or_else(|e| ctx.error(&e)), 2)
        }
        Err(e) => ctx.error(&e),
    }
}

fn with_retry_after(mut resp: Response, seconds: u64) -> Response {
    resp.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from(seconds),
    );
    resp
}

/// `GET /app/login/link?token=...&next=...`: a one-time sign-in link (`admin sign-in-link`).
/// Answers with a page that moves on by itself rather than a redirect: a `SameSite=Strict`
/// cookie set while following a link from another site (a chat, a terminal) is not sent on that
/// same navigation's redirect, but it is on the next one the page starts.
pub async fn sign_in_link(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let ctx = match Ctx::new(&store, &parts).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let next = super::safe_next(ctx.q("next")).to_string();
    let token = ctx.q("token").to_string();
    let s = store.clone();
    match blocking(move || auth::redeem_sign_in_link(&s, &token, now_ms())).await {
        Ok(Some((session, _csrf))) => {
            let target = super::esc(&next);
            let mut resp = (
                StatusCode::OK,
                [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                format!(
                    "<!doctype html><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"0; url={target}\">\
                     <title>Fieldproof</title><p><a href=\"{target}\">{}</a></p>",
                    super::esc(ctx.t("link_signed_in"))
                ),
            )
                .into_response();
            let secure = if ctx.secure { "; Secure" } else { "" };
            set_cookie(
                &mut resp,
                &format!(
                    "{}={session}; Path=/app; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
                    auth::SESSION_COOKIE,
                    auth::SESSION_TTL_MS / 1000
                ),
            );
            resp
        }
        Ok(None) => login_page(&ctx, &next, Some(ctx.t("link_invalid")), StatusCode::UNAUTHORIZED)
            .unwrap_or_else(|e| ctx.error(&e)),
        Err(e) => ctx.error(&e),
    }
}

pub async fn logout(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (ctx, _, _) = match signed_in_form(&store, &parts, body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(token) = ctx.token.clone() {
        let s = store.clone();
        if let Err(e) = blocking(move || auth::logout(&s, &token)).await {
            return ctx.error(&e);
        }
    }
    let mut resp = redirect("/app/login");
    set_cookie(
        &mut resp,
        &format!(
            "{}=; Path=/app; HttpOnly; SameSite=Strict; Max-Age=0",
            auth::SESSION_COOKIE
        ),
    );
    resp
}

// --- the day's visits ----------------------------------------------------------------------------

pub(super) struct VisitRow {
    pub id: String,
    pub user_id: String,
    pub store_id: String,
    pub status: String,
    pub started: i64,
    pub ended: Option<i64>,
    pub geofence: String,
    pub score: Option<f64>,
    pub codes: Vec<String>,
}

pub(super) fn visits_between(
    c: &Connection,
    scope: Option<&str>,
    from: i64,
    to: i64,
) -> ApiResult<Vec<VisitRow>> {
    let sql = format!(
        "SELECT id, user_id, store_id, status, started_wall_ms, coalesce(ended_wall_ms, completed_wall_ms), geofence, score,
                (SELECT group_concat(code) FROM (SELECT DISTINCT code FROM exceptions e WHERE e.visit_id = v.id ORDER BY code))
         FROM visits v WHERE started_wall_ms >= ?1 AND started_wall_ms < ?2 AND {}
         ORDER BY started_wall_ms",
        scope_sql("user_id", 3)
    );
    let mut st = c.prepare(&sql)?;
    let rows = st.query_map(params![from, to, scope], |r| {
        let codes: Option<String> = r.get(8)?;
        Ok(VisitRow {
            id: r.get(0)?,
            user_id: r.get(1)?,
            store_id: r.get(2)?,
            status: r.get(3)?,
            started: r.get(4)?,
            ended: r.get(5)?,
            geofence: r.get(6)?,
            score: r.get(7)?,
            codes: codes
                .map(|s| s.split(',').map(str::to_string).collect())
                .unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn duration(ctx: &Ctx, v: &VisitRow) -> String {
    match v.ended {
        Some(e) if e >= v.started => format!("{} {}", (e - v.started) / 60_000, ctx.t("min")),
        _ => "–".to_string(),
    }
}

fn visit_table(ctx: &Ctx, names: &Names, visits: &[&VisitRow], first: &str) -> String {
    let mut h = format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
        esc(ctx.t(if first == "rep" { "rep" } else { "store" })),
        esc(ctx.t("time")),
        esc(ctx.t(if first == "rep" { "store" } else { "rep" })),
        esc(ctx.t("status")),
        esc(ctx.t("duration")),
        esc(ctx.t("geofence")),
        esc(ctx.t("flags")),
    );
    for v in visits {
        let (a, b) = if first == "rep" {
            (names.user(&v.user_id), names.store(&v.store_id))
        } else {
            (names.store(&v.store_id), names.user(&v.user_id))
        };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td><a href=\"/app/visits/{}\">{}</a></td></tr>",
            esc(&a),
            esc(&fmt_time(v.started)),
            esc(&b),
            esc(&status_words(ctx, &v.status)),
            esc(&duration(ctx, v)),
            geofence_words(ctx, &v.geofence),
            code_chips(ctx, &v.codes),
            esc(&url_enc(&v.id)),
            esc(ctx.t("open")),
        ));
    }
    h.push_str("</table>");
    h
}

pub async fn today(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let day = match selected_day(&ctx, "date") {
        Ok(d) => d.unwrap_or_else(|| day_of(now_ms())),
        Err(r) => return r,
    };
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let data = blocking(move || {
        let c = s.reader()?;
        let (from, to) = day_bounds(day);
        Ok((Names::load(&c)?, visits_between(&c, scope.as_deref(), from, to)?))
    })
    .await;
    let (names, visits) = match data {
        Ok(d) => d,
        Err(e) => return ctx.error(&e),
    };
    let date = day_string(day);
    let mut body = format!(
        "<form method=\"get\" action=\"/app\"><label>{} <input type=\"date\" name=\"date\" value=\"{}\"></label> \
         <button>{}</button></form>",
        esc(ctx.t("date")),
        esc(&date),
        esc(ctx.t("show"))
    );
    if visits.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("no_visits"))));
    } else {
        let done = visits
            .iter()
            .filter(|v| v.status == "completed" || v.status == "checked_out")
            .count();
        body.push_str(&format!(
            "<div class=\"cards\"><div class=\"card\">{}: <strong>{}</strong></div><div class=\"card\">{}: <strong>{}</strong></div>\
             <div class=\"card\">{}: <strong>{}</strong></div></div>",
            esc(ctx.t("visits")),
            visits.len(),
            esc(ctx.t("completed")),
            done,
            esc(ctx.t("flags")),
            visits.iter().filter(|v| !v.codes.is_empty()).count()
        ));
        let mut by_rep: Vec<&VisitRow> = visits.iter().collect();
        by_rep.sort_by_key(|v| (names.user(&v.user_id), v.started));
        body.push_str(&format!(
            "<h2>{}</h2>{}",
            esc(ctx.t("by_rep")),
            visit_table(&ctx, &names, &by_rep, "rep")
        ));
        let mut by_store: Vec<&VisitRow> = visits.iter().collect();
        by_store.sort_by_key(|v| (names.store(&v.store_id), v.started));
        body.push_str(&format!(
            "<h2>{}</h2>{}",
            esc(ctx.t("by_store")),
            visit_table(&ctx, &names, &by_store, "store")
        ));
    }
    let filter = crate::export::ExportFilter {
        from: Some(date.clone()),
        to: Some(date.clone()),
        ..Default::default()
    };
    body.push_str(&super::transfer::export_links(&ctx, &filter));
    let title = format!("{} {}", ctx.t("visits_on"), date);
    ctx.page(StatusCode::OK, &title, &body)
}

// --- exceptions ----------------------------------------------------------------------------------

/// A `possible_reuse` exception's listed matches, each linked to its visit, and how many there
/// are in all: `None` for other codes and for rows from before schema v4 (their detail is the
/// whole story).
fn reuse_matches_html(ctx: &Ctx, params: Option<&str>) -> Option<String> {
    let p: ReuseParams = serde_json::from_str(params?).ok()?;
    let mut out = format!(
        "{}: {}<ul class=\"reuse\">",
        esc(ctx.t("reuse_total")),
        p.matches_total
    );
    for m in &p.matches {
        out.push_str(&format!(
            "<li><a href=\"/app/visits/{href}\">{photo}</a> ({visit}) · {dist}: {d}</li>",
            href = esc(&url_enc(&m.visit_id)),
            photo = esc(&m.photo_id),
            visit = esc(&m.visit_id),
            dist = esc(ctx.t("reuse_distance")),
            d = m.distance,
        ));
    }
    out.push_str("</ul>");
    Some(out)
}

struct ExRow {
    id: i64,
    code: String,
    user_id: Option<String>,
    visit_id: Option<String>,
    store_id: Option<String>,
    detail: String,
    created_ms: i64,
    resolved_by: Option<String>,
    resolved_ms: Option<i64>,
    comment: Option<String>,
}

pub async fn exceptions(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let day = match selected_day(&ctx, "date") {
        Ok(d) => d,
        Err(r) => return r,
    };
    let status = match ctx.q("status") {
        "" | "open" => "open",
        "resolved" => "resolved",
        "all" => "all",
        _ => return ctx.bad_request("status: open, resolved or all"),
    };
    let code = ctx.q("code").to_string();
    let rep = ctx.q("rep").to_string();
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let (code_q, rep_q) = (code.clone(), rep.clone());
    let data = blocking(move || {
        let c = s.reader()?;
        // The visit's day, not the day the server received it.
        let (from, to) = day.map_or((i64::MIN, i64::MAX), |d| (d, d + 1));
        let sql = format!(
            "SELECT id, code, user_id, visit_id, store_id, detail, created_ms, resolved_by, resolved_ms, resolution_comment
             FROM exceptions WHERE {} AND (?2 = '' OR code = ?2) AND (?3 = '' OR user_id = ?3)
               AND visit_day >= ?4 AND visit_day < ?5
               AND (?6 = 'all' OR (?6 = 'open') = (resolved_ms IS NULL))
             ORDER BY id DESC LIMIT 500",
            scope_sql("user_id", 1)
        );
        let mut st = c.prepare(&sql)?;
        let rows = st.query_map(params![scope, code_q, rep_q, from, to, status], |r| {
            Ok(ExRow {
                id: r.get(0)?,
                code: r.get(1)?,
                user_id: r.get(2)?,
                visit_id: r.get(3)?,
                store_id: r.get(4)?,
                detail: r.get(5)?,
                created_ms: r.get(6)?,
                resolved_by: r.get(7)?,
                resolved_ms: r.get(8)?,
                comment: r.get(9)?,
            })
        })?;
        let rows: Vec<ExRow> = rows.collect::<Result<_, _>>()?;
        let codes_sql = format!("SELECT DISTINCT code FROM exceptions WHERE {} ORDER BY code", scope_sql("user_id", 1));
        let mut st = c.prepare(&codes_sql)?;
        let codes: Vec<String> = st.query_map(params![scope], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let reps_sql = format!(
            "SELECT DISTINCT user_id FROM exceptions WHERE user_id IS NOT NULL AND {} ORDER BY user_id",
            scope_sql("user_id", 1)
        );
        let mut st = c.prepare(&reps_sql)?;
        let reps: Vec<String> = st.query_map(params![scope], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok((Names::load(&c)?, rows, codes, reps))
    })
    .await;
    let (names, rows, codes, reps) = match data {
        Ok(d) => d,
        Err(e) => return ctx.error(&e),
    };
    let opt = |value: &str, text: &str, cur: &str| {
        format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(value),
            if value == cur { " selected" } else { "" },
            esc(text)
        )
    };
    let mut f = format!(
        "<form method=\"get\" action=\"/app/exceptions\" id=\"filter\"><label>{} <select name=\"code\">",
        esc(ctx.t("code"))
    );
    f.push_str(&opt("", ctx.t("all"), &code));
    for c in &codes {
        f.push_str(&opt(c, &ctx.lang.code_words(c), &code));
    }
    f.push_str(&format!(
        "</select></label> <label>{} <select name=\"status\">",
        esc(ctx.t("status"))
    ));
    f.push_str(&opt("open", ctx.t("st_open"), status));
    f.push_str(&opt("resolved", ctx.t("st_resolved"), status));
    f.push_str(&opt("all", ctx.t("st_all"), status));
    f.push_str(&format!(
        "</select></label> <label>{} <select name=\"rep\">",
        esc(ctx.t("rep"))
    ));
    f.push_str(&opt("", ctx.t("all"), &rep));
    for r in &reps {
        f.push_str(&opt(r, &names.user(r), &rep));
    }
    f.push_str(&format!(
        "</select></label> <label>{} <input type=\"date\" name=\"date\" value=\"{}\"></label> <button>{}</button></form>",
        esc(ctx.t("date")),
        esc(ctx.q("date")),
        esc(ctx.t("filter"))
    ));
    let date_filter = day.map(day_string);
    let filter = crate::export::ExportFilter {
        from: date_filter.clone(),
        to: date_filter,
        rep_id: (!rep.is_empty()).then(|| rep.clone()),
        ..Default::default()
    };
    f.push_str(&super::transfer::export_links(&ctx, &filter));
    let back = parts
        .uri
        .path_and_query()
        .map_or("/app/exceptions", |p| p.as_str())
        .to_string();
    let mut body = f;
    if rows.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("no_exceptions"))));
    } else {
        body.push_str(&format!(
            "<table id=\"exceptions\"><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            esc(ctx.t("code")),
            esc(ctx.t("visit")),
            esc(ctx.t("rep")),
            esc(ctx.t("store")),
            esc(ctx.t("detail")),
            esc(ctx.t("created")),
            esc(ctx.t("resolution")),
        ));
        for e in &rows {
            let visit = e
                .visit_id
                .as_deref()
                .filter(|v| !v.is_empty())
                .map_or(String::new(), |v| {
                    format!(
                        "<a href=\"/app/visits/{}\">{}</a>",
                        esc(&url_enc(v)),
                        esc(v.get(v.len().saturating_sub(8)..).unwrap_or(v))
                    )
                });
            let resolution = match e.resolved_ms {
                Some(ms) => format!(
                    "<span class=\"ok\">{}</span> {} · {}<br><span class=\"muted\">{}</span>",
                    esc(ctx.t("st_resolved")),
                    esc(e.resolved_by.as_deref().unwrap_or("")),
                    esc(&fmt_datetime(ms)),
                    esc(e.comment.as_deref().unwrap_or(""))
                ),
                None => format!(
                    "<form method=\"post\" action=\"/app/exceptions/{id}/resolve\" class=\"resolve\">\
                     <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
                     <input name=\"comment\" required maxlength=\"2000\" placeholder=\"{ph}\" aria-label=\"{ph}\"> \
                     <button>{btn}</button></form>",
                    id = e.id,
                    csrf = esc(&user.csrf),
                    back = esc(&back),
                    ph = esc(ctx.t("comment")),
                    btn = esc(ctx.t("resolve")),
                ),
            };
            body.push_str(&format!(
                "<tr data-code=\"{code}\" id=\"ex-{id}\"><td><span class=\"code\">{words}</span><br><small class=\"muted\">{code}</small></td>\
                 <td>{visit}</td><td>{rep}</td><td>{store}</td><td>{detail}</td><td>{created}</td><td>{resolution}</td></tr>",
                code = esc(&e.code),
                id = e.id,
                words = esc(&ctx.lang.code_words(&e.code)),
                rep = esc(&e.user_id.as_deref().map(|u| names.user(u)).unwrap_or_default()),
                store = esc(&e.store_id.as_deref().map(|s| names.store(s)).unwrap_or_default()),
                detail = esc(&e.detail),
                created = esc(&fmt_datetime(e.created_ms)),
            ));
        }
        body.push_str("</table>");
    }
    ctx.page(StatusCode::OK, ctx.t("exceptions_queue"), &body)
}

pub async fn resolve(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let (ctx, user, form) = match signed_in_form(&store, &parts, body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id: i64 = match parts
        .uri
        .path()
        .strip_prefix("/app/exceptions/")
        .and_then(|r| r.strip_suffix("/resolve"))
        .and_then(|n| n.parse().ok())
    {
        Some(id) => id,
        None => return ctx.not_found(),
    };
    let comment = form.get("comment").map_or("", |c| c.trim()).to_string();
    if comment.is_empty() || comment.chars().count() > 2000 {
        return ctx.bad_request(ctx.t("comment_required"));
    }
    let back = super::safe_next(form.get("back").map_or("", String::as_str)).to_string();
    let s = store.clone();
    let actor = crate::queue::Actor {
        id: user.id.clone(),
        scope: user.scope().map(str::to_string),
    };
    let result = blocking(move || {
        match crate::queue::act(
            &s,
            &actor,
            &[id],
            &crate::queue::QueueAction::Resolve,
            &comment,
            now_ms(),
        ) {
            Ok(_) => Ok(true),
            Err(crate::queue::QueueError::WrongState { .. }) => Ok(false),
            Err(e) => Err(ApiError::from(e)),
        }
    })
    .await;
    match result {
        Ok(true) => {
            tracing::info!(exception = id, "exception resolved on the web");
            redirect(&back)
        }
        Ok(false) => ctx.bad_request(ctx.t("already_resolved")),
        Err(e) => ctx.error(&e),
    }
}

// --- a visit -------------------------------------------------------------------------------------

/// The badge of a photo: (class, i18n key).
pub(super) fn badge(received: bool, verified: bool, problems: Option<&str>) -> (&'static str, &'static str) {
    if !received {
        return ("not_received", "badge_not_received");
    }
    if verified {
        return ("verified", "badge_verified");
    }
    let problems = problems.unwrap_or("");
    let list: Vec<&str> = problems
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if list.iter().any(|p| {
        matches!(
            *p,
            "bad_signature" | "image_hash_mismatch" | "code_mismatch" | "not_a_photo" | "malformed_entry"
        )
    }) {
        ("tampered", "badge_tampered")
    } else if list.iter().any(|p| matches!(*p, "unknown_key" | "revoked_key")) {
        ("unknown_key", "badge_unknown_key")
    } else {
        ("unverified", "badge_unverified")
    }
}

fn badge_html(ctx: &Ctx, received: bool, verified: bool, problems: Option<&str>) -> String {
    let (class, key) = badge(received, verified, problems);
    format!(
        "<span class=\"badge b-{class}\" data-badge=\"{class}\">{}</span>",
        esc(ctx.t(key))
    )
}

fn json_value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Array(a) => a.iter().map(json_value_text).collect::<Vec<_>>().join("; "),
        serde_json::Value::Object(o) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", json_value_text(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

/// An answer value as the phone stored it (`{"kind":"price","cents":400}` …) in words.
fn answer_text(raw: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
        return raw.to_string();
    };
    match v.get("kind").and_then(|k| k.as_str()) {
        Some("price") => v
            .get("cents")
            .and_then(serde_json::Value::as_i64)
            .map_or_else(|| raw.to_string(), |c| format!("¥{}.{:02}", c / 100, c % 100)),
        Some("choice") => v
            .get("choice_id")
            .map_or_else(|| raw.to_string(), json_value_text),
        Some(_) => v.get("value").map_or_else(|| raw.to_string(), json_value_text),
        None => json_value_text(&v),
    }
}

/// Template item labels by id, from the stored template JSON.
fn item_labels(c: &Connection, template: &str, version: i64) -> ApiResult<HashMap<String, String>> {
    let body: Option<String> = c
        .query_row(
            "SELECT body FROM templates WHERE id = ?1 AND version = ?2",
            params![template, version],
            |r| r.get(0),
        )
        .optional()?;
    let mut out = HashMap::new();
    if let Some(v) = body.and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok()) {
        for s in v["sections"].as_array().into_iter().flatten() {
            for i in s["items"].as_array().into_iter().flatten() {
                if let (Some(id), Some(label)) = (i["id"].as_str(), i["label"].as_str()) {
                    out.insert(id.to_string(), label.to_string());
                }
            }
        }
    }
    Ok(out)
}

pub async fn visit(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let id = super::url_dec(parts.uri.path().strip_prefix("/app/visits/").unwrap_or(""));
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let data = blocking(move || {
        let c = s.reader()?;
        let sql = format!(
            "SELECT id, user_id, store_id, status, started_wall_ms, coalesce(ended_wall_ms, completed_wall_ms), geofence, score,
                    '', distance_m, kind, template_id, template_version, plan_id, cancel_reason
             FROM visits WHERE id = ?1 AND {}",
            scope_sql("user_id", 2)
        );
        type Extra = (Option<f64>, String, String, i64, Option<String>, Option<String>);
        let row: Option<(VisitRow, Extra)> = c
            .query_row(&sql, params![id, scope], |r| {
                Ok((
                    VisitRow {
                        id: r.get(0)?,
                        user_id: r.get(1)?,
                        store_id: r.get(2)?,
                        status: r.get(3)?,
                        started: r.get(4)?,
                        ended: r.get(5)?,
                        geofence: r.get(6)?,
                        score: r.get(7)?,
                        codes: Vec::new(),
                    },
                    (r.get(9)?, r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?, r.get(14)?),
                ))
            })
            .optional()?;
        let Some((visit, extra)) = row else {
            return Err(ApiError::NotFound("visit".into()));
        };
        let labels = item_labels(&c, &extra.2, extra.3)?;
        let mut st = c.prepare("SELECT item_id, value, note FROM answers WHERE visit_id = ?1 ORDER BY rowid")?;
        let answers: Vec<(String, String, Option<String>)> = st
            .query_map([&visit.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let report: Option<String> = c
            .query_row(
                "SELECT body FROM reports WHERE visit_id = ?1 ORDER BY saved_ms DESC LIMIT 1",
                [&visit.id],
                |r| r.get(0),
            )
            .optional()?;
        let mut st = c.prepare(
            "SELECT p.photo_id, p.sha256, p.evidence_code, p.photo_kind, p.received, p.verified, p.problems, o.entry, o.device_id
             FROM photos p LEFT JOIN ops o ON o.op_id = p.op_id WHERE p.visit_id = ?1 ORDER BY p.rowid",
        )?;
        type Photo = (String, String, String, String, bool, bool, Option<String>, Option<String>, Option<String>);
        let photos: Vec<Photo> = st
            .query_map([&visit.id], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })?
            .collect::<Result<_, _>>()?;
        let mut st = c.prepare(
            "SELECT code, detail, created_ms, resolved_by, resolved_ms, params FROM exceptions WHERE visit_id = ?1
             ORDER BY id",
        )?;
        type Ex = (String, String, i64, Option<String>, Option<i64>, Option<String>);
        let exs: Vec<Ex> = st
            .query_map([&visit.id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok((Names::load(&c)?, visit, extra, labels, answers, report, photos, exs))
    })
    .await;
    let (names, v, extra, labels, answers, report, photos, exs) = match data {
        Ok(d) => d,
        Err(e) => return ctx.error(&e),
    };
    let dash = "–".to_string();
    let mut body = String::from("<dl>");
    let mut dl = |k: &str, val: String| body.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), val));
    dl(ctx.t("rep"), esc(&names.user(&v.user_id)));
    dl(ctx.t("store"), esc(&names.store(&v.store_id)));
    dl(ctx.t("kind"), esc(&extra.1));
    dl(ctx.t("status"), esc(&status_words(&ctx, &v.status)));
    dl(ctx.t("started"), esc(&fmt_datetime(v.started)));
    dl(ctx.t("ended"), esc(&v.ended.map_or(dash.clone(), fmt_datetime)));
    dl(ctx.t("duration"), esc(&duration(&ctx, &v)));
    dl(ctx.t("geofence"), geofence_words(&ctx, &v.geofence));
    dl(
        ctx.t("distance"),
        esc(&extra.0.map_or(dash.clone(), |d| format!("{d:.0} m"))),
    );
    dl(
        ctx.t("score"),
        esc(&v.score.map_or(dash.clone(), |s| format!("{s:.1}"))),
    );
    body.push_str("</dl>");

    body.push_str(&format!("<h2>{}</h2>", esc(ctx.t("flags"))));
    if exs.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("none"))));
    } else {
        body.push_str("<table>");
        for (code, detail, created, by, at, params) in &exs {
            let res = match at {
                Some(ms) => format!(
                    "<span class=\"ok\">{}</span> {} · {}",
                    esc(ctx.t("st_resolved")),
                    esc(by.as_deref().unwrap_or("")),
                    esc(&fmt_datetime(*ms))
                ),
                None => format!("<span class=\"bad\">{}</span>", esc(ctx.t("st_open"))),
            };
            body.push_str(&format!(
                "<tr><td><span class=\"code\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&ctx.lang.code_words(code)),
                reuse_matches_html(&ctx, params.as_deref()).unwrap_or_else(|| esc(detail)),
                esc(&fmt_datetime(*created)),
                res
            ));
        }
        body.push_str("</table>");
    }

    body.push_str(&format!("<h2>{}</h2>", esc(ctx.t("answers"))));
    body.push_str(&format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th></tr>",
        esc(ctx.t("item")),
        esc(ctx.t("value")),
        esc(ctx.t("note"))
    ));
    for (item, value, note) in &answers {
        let label = labels.get(item).map_or(item.clone(), |l| format!("{l} ({item})"));
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&label),
            esc(&answer_text(value)),
            esc(note.as_deref().unwrap_or(""))
        ));
    }
    body.push_str("</table>");

    body.push_str(&format!("<h2>{}</h2>", esc(ctx.t("report"))));
    match report.and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok()) {
        Some(serde_json::Value::Object(o)) => {
            body.push_str("<dl>");
            for (k, val) in &o {
                body.push_str(&format!(
                    "<dt>{}</dt><dd>{}</dd>",
                    esc(k),
                    esc(&json_value_text(val))
                ));
            }
            body.push_str("</dl>");
        }
        _ => body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("no_report")))),
    }

    body.push_str(&format!("<h2>{}</h2>", esc(ctx.t("photos"))));
    if photos.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("no_photos"))));
    }
    body.push_str("<div class=\"cards\">");
    for (photo_id, sha, code, kind, received, verified, problems, entry, device) in &photos {
        let img = if *received {
            thumb_link(sha, photo_id)
        } else {
            String::new()
        };
        let mut dlh = String::from("<dl>");
        let mut add = |k: &str, v: String| dlh.push_str(&format!("<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v)));
        add(ctx.t("evidence_code"), code.clone());
        add("sha256", sha.clone());
        add(ctx.t("kind"), kind.clone());
        add(ctx.t("device"), device.clone().unwrap_or_default());
        if let Some(p) = problems {
            add(
                ctx.t("problems"),
                p.split(',')
                    .map(|c| ctx.lang.code_words(c))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
        if let Some(m) = entry
            .as_deref()
            .and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok())
        {
            if let Some(t) = m["time"]["wall_ms"].as_i64() {
                add(ctx.t("time"), fmt_datetime(t));
            }
            let loc = &m["payload"]["location"];
            if let (Some(lat), Some(lon)) = (loc["lat_e7"].as_i64(), loc["lon_e7"].as_i64()) {
                let acc = loc["accuracy_cm"]
                    .as_i64()
                    .map_or(String::new(), |a| format!(" ±{} m", a / 100));
                let mock = if loc["is_mock"].as_bool() == Some(true) {
                    " (mock)"
                } else {
                    ""
                };
                add(
                    ctx.t("location"),
                    format!("{:.5}, {:.5}{acc}{mock}", lat as f64 / 1e7, lon as f64 / 1e7),
                );
            }
        }
        dlh.push_str("</dl>");
        body.push_str(&format!(
            "<div class=\"card photo\" data-sha=\"{}\">{}<p>{}</p><details open><summary>{}</summary>{}</details></div>",
            esc(sha),
            img,
            badge_html(&ctx, *received, *verified, problems.as_deref()),
            esc(ctx.t("manifest")),
            dlh
        ));
    }
    body.push_str("</div>");
    let title = format!("{} · {}", ctx.t("visit_page"), names.store(&v.store_id));
    ctx.page(StatusCode::OK, &title, &body)
}

// --- photo bytes and previews -------------------------------------------------------------------

/// Both image routes name their bytes by content hash, so a browser may keep them for good
/// (`private`: they are behind sign-in, so no shared cache may store them).
const IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// A received photo as a preview linking to the full photo (which opens on click). The
/// preview's size is bounded by the `img.thumb` CSS; `loading="lazy"` fetches only the
/// previews scrolled into view.
fn thumb_link(sha: &str, alt: &str) -> String {
    format!(
        "<a href=\"/app/photos/{sha}\"><img class=\"thumb\" src=\"/app/thumbs/{sha}\" alt=\"{}\" loading=\"lazy\"></a>",
        esc(alt),
        sha = esc(&url_enc(sha))
    )
}

/// Whether the viewer may see photo `sha256`: an op of their scope names it, or a device of
/// their scope uploaded it (bytes whose op has not arrived). Another team's photo is "not
/// found", never "forbidden": its existence is not theirs to learn.
fn photo_visible(c: &Connection, sha: &str, scope: Option<&str>) -> ApiResult<bool> {
    let sql = format!(
        "SELECT 1 FROM photos WHERE sha256 = ?1 AND {} UNION ALL
         SELECT 1 FROM blobs b JOIN devices d ON d.device_id = b.device_id WHERE b.sha256 = ?1 AND {}",
        scope_sql("user_id", 2),
        scope_sql("d.user_id", 2)
    );
    Ok(c.query_row(&sql, params![sha, scope], |_| Ok(()))
        .optional()?
        .is_some())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ImageKind {
    Photo,
    Thumb,
}

enum Served {
    Bytes(Vec<u8>),
    /// The browser's copy is current (`If-None-Match`).
    NotModified,
    /// No preview can be made of these bytes (the decoder refuses them): show the photo
    /// itself, which a browser may still render.
    Full,
}

/// `GET /app/photos/{sha256}` and `GET /app/thumbs/{sha256}`.
async fn image(store: Arc<Store>, req: Request, kind: ImageKind) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let prefix = match kind {
        ImageKind::Photo => "/app/photos/",
        ImageKind::Thumb => "/app/thumbs/",
    };
    let sha = parts.uri.path().strip_prefix(prefix).unwrap_or("").to_string();
    if !crate::auth::is_lower_hex(&sha, 64) {
        return ctx.not_found();
    }
    // A preview's tag names its size too, so previews made another way never match.
    let etag = match kind {
        ImageKind::Photo => format!("\"{sha}\""),
        ImageKind::Thumb => format!("\"t{}-{sha}\"", thumbs::EDGE),
    };
    let fresh = parts
        .headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let sha2 = sha.clone();
    let data = blocking(move || {
        let visible = photo_visible(&*s.reader()?, &sha2, scope.as_deref())?;
        if !visible {
            return Err(ApiError::NotFound("photo".into()));
        }
        if fresh {
            return Ok(Served::NotModified);
        }
        match kind {
            ImageKind::Photo => match std::fs::read(crate::photos::photo_path(&s.photo_dir, &sha2)) {
                Ok(b) => Ok(Served::Bytes(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(ApiError::NotFound("photo bytes".into()))
                }
                Err(e) => Err(e.into()),
            },
            ImageKind::Thumb => match thumbs::read_or_make(&s.photo_dir, &s.thumb_dir, &sha2) {
                Ok(b) => Ok(Served::Bytes(b)),
                Err(thumbs::ThumbError::NoPhoto) => Err(ApiError::NotFound("photo bytes".into())),
                Err(thumbs::ThumbError::Io(e)) => Err(e.into()),
                Err(e) => {
                    tracing::warn!(sha256 = %sha2, error = %e, "no thumbnail: sending the photo");
                    Ok(Served::Full)
                }
            },
        }
    })
    .await;
    let cached = |mut r: Response| {
        let h = r.headers_mut();
        h.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(ETAG, v);
        }
        h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        r
    };
    match data {
        Ok(Served::Bytes(bytes)) => {
            cached(([(CONTENT_TYPE, HeaderValue::from_static("image/jpeg"))], bytes).into_response())
        }
        Ok(Served::NotModified) => cached(StatusCode::NOT_MODIFIED.into_response()),
        Ok(Served::Full) => {
            // Not cached: a later preview (a better decoder) replaces it.
            let mut r = redirect(&format!("/app/photos/{sha}"));
            r.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => ctx.error(&e),
    }
}

pub async fn photo(State(store): State<Arc<Store>>, req: Request) -> Response {
    image(store, req, ImageKind::Photo).await
}

pub async fn thumb(State(store): State<Arc<Store>>, req: Request) -> Response {
    image(store, req, ImageKind::Thumb).await
}

// --- gallery -------------------------------------------------------------------------------------

pub async fn gallery(State(store): State<Arc<Store>>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let (ctx, user) = match Ctx::signed_in(&store, &parts).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let day = match selected_day(&ctx, "date") {
        Ok(d) => d.unwrap_or_else(|| day_of(now_ms())),
        Err(r) => return r,
    };
    let page: u32 = match ctx.q("page") {
        "" => 1,
        p => match p.parse::<u32>() {
            Ok(n) if n >= 1 => n,
            _ => return ctx.bad_request(ctx.t("bad_page")),
        },
    };
    let store_filter = ctx.q("store").to_string();
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let sf = store_filter.clone();
    let reuse_words = (
        ctx.t("reuse_distance").to_string(),
        ctx.t("reuse_total").to_string(),
    );
    let data = blocking(move || {
        let c = s.reader()?;
        let (from, to) = day_bounds(day);
        let matching = format!(
            "FROM photos p JOIN visits v ON v.id = p.visit_id
             WHERE v.started_wall_ms >= ?1 AND v.started_wall_ms < ?2 AND (?3 = '' OR p.store_id = ?3) AND {}",
            scope_sql("p.user_id", 4)
        );
        let total: i64 = c.query_row(
            &format!("SELECT count(*) {matching}"),
            params![from, to, sf, scope],
            |r| r.get(0),
        )?;
        let total = total.max(0) as u64;
        // Past the end shows the last page: a link from a day that has since shrunk still
        // lands on photos.
        let last = total.div_ceil(GALLERY_PAGE).max(1);
        let page = u64::from(page).min(last);
        let sql = format!(
            "SELECT p.store_id, p.sha256, p.visit_id, p.user_id, p.received, p.verified, p.problems, v.started_wall_ms
             {matching} ORDER BY p.store_id, v.started_wall_ms, p.photo_id LIMIT ?5 OFFSET ?6"
        );
        let mut st = c.prepare(&sql)?;
        type P = (String, String, String, String, bool, bool, Option<String>, i64);
        let photos: Vec<P> = st
            .query_map(
                params![from, to, sf, scope, GALLERY_PAGE as i64, ((page - 1) * GALLERY_PAGE) as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
            )?
            .collect::<Result<_, _>>()?;
        // Reuse pairs: one per match a `possible_reuse` exception lists (rows from before
        // schema v4 are one pair each, subject "<this sha256>:<matched sha256>"). The matched
        // photo shows only when it is in the viewer's scope.
        let sql = format!(
            "SELECT e.subject, e.visit_id, e.user_id, e.detail, e.params
             FROM exceptions e LEFT JOIN visits v ON v.id = e.visit_id
             WHERE e.code = 'possible_reuse' AND {s1}
               AND ((v.started_wall_ms >= ?2 AND v.started_wall_ms < ?3) OR (v.id IS NULL AND e.event_ms >= ?2 AND e.event_ms < ?3))
               AND (?4 = '' OR e.store_id = ?4)
             ORDER BY e.id",
            s1 = scope_sql("e.user_id", 1),
        );
        let mut st = c.prepare(&sql)?;
        type Ex = (String, Option<String>, Option<String>, String, Option<String>);
        let exs: Vec<Ex> = st
            .query_map(params![scope, from, to, sf], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        let mut visible = c.prepare(&format!(
            "SELECT p2.visit_id FROM photos p2 WHERE p2.sha256 = ?2 AND {} LIMIT 1",
            scope_sql("p2.user_id", 1)
        ))?;
        // (this sha256, matched sha256, visit, rep, words, matched photo's visit if visible)
        type Pair = (String, String, Option<String>, Option<String>, String, Option<String>);
        let mut pairs: Vec<Pair> = Vec::new();
        for (subject, visit, rep, detail, params) in exs {
            // (this sha256, matched sha256, the words under the pair)
            let listed: Vec<(String, String, String)> =
                match params.and_then(|p| serde_json::from_str::<ReuseParams>(&p).ok()) {
                    Some(p) => p
                        .matches
                        .iter()
                        .map(|m| {
                            let words = format!(
                                "{}: {} · {}: {}",
                                reuse_words.0, m.distance, reuse_words.1, p.matches_total
                            );
                            (p.sha256.clone(), m.sha256.clone(), words)
                        })
                        .collect(),
                    None => {
                        let (this, other) = subject.split_once(':').unwrap_or((subject.as_str(), ""));
                        vec![(this.to_string(), other.to_string(), detail)]
                    }
                };
            for (this, other, words) in listed {
                let other_visit: Option<String> = visible
                    .query_row(params![scope, other], |r| r.get(0))
                    .optional()?;
                pairs.push((this, other, visit.clone(), rep.clone(), words, other_visit));
            }
        }
        Ok((Names::load(&c)?, photos, pairs, total, page))
    })
    .await;
    let (names, photos, pairs, total, page) = match data {
        Ok(d) => d,
        Err(e) => return ctx.error(&e),
    };
    let mut body = format!(
        "<form method=\"get\" action=\"/app/gallery\"><label>{} <input type=\"date\" name=\"date\" value=\"{}\"></label> \
         <label>{} <select name=\"store\"><option value=\"\">{}</option>",
        esc(ctx.t("date")),
        esc(&day_string(day)),
        esc(ctx.t("store")),
        esc(ctx.t("all"))
    );
    for id in names.store_ids() {
        body.push_str(&format!(
            "<option value=\"{}\"{}>{}</option>",
            esc(&id),
            if id == store_filter { " selected" } else { "" },
            esc(&names.store(&id))
        ));
    }
    body.push_str(&format!(
        "</select></label> <button>{}</button></form>",
        esc(ctx.t("show"))
    ));

    body.push_str(&format!("<h2>{}</h2>", esc(ctx.t("reuse_pairs"))));
    if pairs.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("none"))));
    }
    for (this, other, visit, rep, detail, other_visit) in &pairs {
        let side = |sha: &str, visit: Option<&str>, label: &str, visible: bool| {
            let img = if visible && crate::auth::is_lower_hex(sha, 64) {
                thumb_link(sha, sha)
            } else {
                format!("<p class=\"muted\">{}</p>", esc(ctx.t("other_team")))
            };
            let link = visit.map_or(String::new(), |v| {
                format!(
                    "<a href=\"/app/visits/{}\">{}</a>",
                    esc(&url_enc(v)),
                    esc(ctx.t("visit"))
                )
            });
            format!("<div><strong>{}</strong>{img}{link}</div>", esc(label))
        };
        body.push_str(&format!(
            "<div class=\"pair\">{}{}<div><p>{}</p><p class=\"muted\">{}</p></div></div>",
            side(this, visit.as_deref(), ctx.t("this_photo"), true),
            side(
                other,
                other_visit.as_deref(),
                ctx.t("looks_like"),
                other_visit.is_some()
            ),
            esc(&rep.as_deref().map(|r| names.user(r)).unwrap_or_default()),
            esc(detail)
        ));
    }

    let mut by_store: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (store_id, sha, visit, rep, received, verified, problems, started) in &photos {
        let img = if *received {
            thumb_link(sha, sha)
        } else {
            String::new()
        };
        by_store.entry(names.store(store_id)).or_default().push(format!(
            "<div class=\"card\">{img}<p><a href=\"/app/visits/{}\">{}</a> · {} {}</p></div>",
            esc(&url_enc(visit)),
            esc(&fmt_time(*started)),
            esc(&names.user(rep)),
            badge_html(&ctx, *received, *verified, problems.as_deref())
        ));
    }
    body.push_str(&format!("<h2>{}</h2>", esc(ctx.t("photos"))));
    let pager = gallery_pager(&ctx, day, &store_filter, page, total, photos.len() as u64);
    body.push_str(&pager);
    if by_store.is_empty() {
        body.push_str(&format!("<p class=\"muted\">{}</p>", esc(ctx.t("no_photos"))));
    }
    for (store_name, cards) in by_store {
        body.push_str(&format!(
            "<h3>{}</h3><div class=\"cards\">{}</div>",
            esc(&store_name),
            cards.join("")
        ));
    }
    if photos.len() > 12 {
        // A long page repeats the links at its foot.
        body.push_str(&pager);
    }
    ctx.page(StatusCode::OK, ctx.t("gallery"), &body)
}

/// Photos on one gallery page: a day of one rep's visits fits on the first, and the page with
/// its 60 previews is ~0.7 MB (`docs/PERFORMANCE.md`).
const GALLERY_PAGE: u64 = 60;

/// "Photos 1–60 of 134" with the previous / next links (none when everything fits on one).
fn gallery_pager(ctx: &Ctx, day: i64, store_filter: &str, page: u64, total: u64, shown: u64) -> String {
    if total == 0 {
        return String::new();
    }
    let first = (page - 1) * GALLERY_PAGE + 1;
    let range = ctx
        .t("photos_range")
        .replace("{from}", &first.to_string())
        .replace("{to}", &(first + shown.max(1) - 1).to_string())
        .replace("{total}", &total.to_string());
    let href = |p: u64| {
        let store = if store_filter.is_empty() {
            String::new()
        } else {
            format!("&store={}", url_enc(store_filter))
        };
        format!("/app/gallery?date={}{store}&page={p}", day_string(day))
    };
    let mut h = format!("<p class=\"pager\"><span class=\"range\">{}</span>", esc(&range));
    if page > 1 {
        h.push_str(&format!(
            " <a rel=\"prev\" href=\"{}\">{}</a>",
            esc(&href(page - 1)),
            esc(ctx.t("prev_page"))
        ));
    }
    if page * GALLERY_PAGE < total {
        h.push_str(&format!(
            " <a rel=\"next\" href=\"{}\">{}</a>",
            esc(&href(page + 1)),
            esc(ctx.t("next_page"))
        ));
    }
    h.push_str("</p>");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_follow_the_verdict() {
        assert_eq!(badge(false, false, None).0, "not_received");
        assert_eq!(badge(true, true, None).0, "verified");
        assert_eq!(badge(true, false, Some("image_hash_mismatch")).0, "tampered");
        assert_eq!(badge(true, false, Some("chain_gap,bad_signature")).0, "tampered");
        assert_eq!(badge(true, false, Some("code_mismatch")).0, "tampered");
        assert_eq!(badge(true, false, Some("unknown_key")).0, "unknown_key");
        assert_eq!(badge(true, false, Some("chain_gap")).0, "unverified");
    }

    #[test]
    fn answers_read_as_words() {
        assert_eq!(answer_text(r#"{"cents":405,"kind":"price"}"#), "¥4.05");
        assert_eq!(answer_text(r#"{"kind":"yes_no","value":true}"#), "true");
        assert_eq!(answer_text(r#"{"choice_id":"low","kind":"choice"}"#), "low");
        assert_eq!(answer_text("not json"), "not json");
    }
}
