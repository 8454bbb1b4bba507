//! Sign-in (password form, one-time link) and sign-out.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use maud::{PreEscaped, html};

use crate::web::layout::DOCTYPE_HTML;
use serde::Deserialize;

use super::set_cookie;
use crate::body::blocking;
use crate::clock::now_ms;
use crate::error::ApiResult;
use crate::store::Store;
use crate::web::auth::{self, LoginError};
use crate::web::extract::{OpenForm, PageQuery, SignedForm, Viewer};
use crate::web::layout::html_response;
use crate::web::{client_ip, cookie, redirect, safe_next, same_origin};

const LOGIN_CSRF_COOKIE: &str = "fp_login_csrf";

#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

/// A form without fields of its own (sign-out: only the CSRF token).
#[derive(Deserialize)]
pub struct NoFields {}

/// The sign-in form, with a fresh login-CSRF token in its cookie (double submit).
fn login_page(page: &Viewer, next: &str, error: Option<&str>, status: StatusCode) -> ApiResult<Response> {
    let token = auth::random_hex(16)?;
    let t = |k| page.t(k);
    let body = html! {
        @if let Some(e) = error {
            p.err id="login-error" { (e) }
        }
        form.login method="post" action="/app/login" {
            input type="hidden" name="csrf" value=(token);
            input type="hidden" name="next" value=(next);
            label { (t("user_id")) input name="user" id="user" autocomplete="username" required; }
            label { (t("password")) input name="password" id="password" type="password" autocomplete="current-password" required; }
            button type="submit" id="sign-in" { (t("sign_in")) }
        }
    };
    let mut resp = page.page(status, t("sign_in"), body);
    let secure = if page.secure { "; Secure" } else { "" };
    set_cookie(
        &mut resp,
        &format!(
            "{LOGIN_CSRF_COOKIE}={token}; Path=/app/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}"
        ),
    );
    Ok(resp)
}

fn session_cookie(page: &Viewer, token: &str) -> String {
    let secure = if page.secure { "; Secure" } else { "" };
    format!(
        "{}={token}; Path=/app; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        auth::SESSION_COOKIE,
        auth::SESSION_TTL_MS / 1000
    )
}

/// `GET /app/login`: the form, or straight on to `next` when already signed in.
pub async fn form(page: Viewer, PageQuery(q): PageQuery<NextQuery>) -> Response {
    let next = safe_next(q.next.trim());
    if page.user.is_some() {
        return redirect(next);
    }
    login_page(&page, next, None, StatusCode::OK).unwrap_or_else(|e| page.error(&e))
}

/// `POST /app/login`.
pub async fn sign_in(State(store): State<Arc<Store>>, f: OpenForm<LoginForm>) -> Response {
    let OpenForm { page, parts, form } = f;
    // Login CSRF: the form's token must match the cookie set with the form (double submit).
    let cookie_token = cookie(&parts.headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if !same_origin(&parts) || cookie_token.is_empty() || !auth::same_token(cookie_token, &form.csrf) {
        return page.forbidden();
    }
    let next = safe_next(&form.next).to_string();
    let user = form.user.trim().to_string();
    let attempt = auth::Attempt {
        user_id: &user,
        client: client_ip(&parts, store.limits().trust_forwarded_for),
    };
    let refused =
        |text: &str, status| login_page(&page, &next, Some(text), status).unwrap_or_else(|e| page.error(&e));
    match auth::login(&store, &attempt, form.password, now_ms()).await {
        Ok(Ok((token, _csrf))) => {
            let mut resp = redirect(&next);
            set_cookie(&mut resp, &session_cookie(&page, &token));
            set_cookie(
                &mut resp,
                &format!("{LOGIN_CSRF_COOKIE}=; Path=/app/login; Max-Age=0"),
            );
            resp
        }
        Ok(Err(LoginError::BadCredentials)) => refused(page.t("bad_login"), StatusCode::UNAUTHORIZED),
        Ok(Err(LoginError::TooManyAttempts { retry_after_s })) => {
            let text = page
                .t("too_many_logins")
                .replace("{minutes}", &retry_after_s.div_ceil(60).to_string());
            with_retry_after(refused(&text, StatusCode::TOO_MANY_REQUESTS), retry_after_s)
        }
        Ok(Err(LoginError::Busy)) => {
            with_retry_after(refused(page.t("login_busy"), StatusCode::TOO_MANY_REQUESTS), 2)
        }
        Err(e) => page.error(&e),
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
pub async fn link(
    State(store): State<Arc<Store>>,
    page: Viewer,
    PageQuery(q): PageQuery<LinkQuery>,
) -> Response {
    let next = safe_next(q.next.trim()).to_string();
    let token = q.token.trim().to_string();
    let s = store.clone();
    match blocking(move || auth::redeem_sign_in_link(&s, &token, now_ms())).await {
        Ok(Some((session, _csrf))) => {
            let markup = html! {
                (PreEscaped(DOCTYPE_HTML))
                meta charset="utf-8";
                meta http-equiv="refresh" content={ "0; url=" (next) };
                title { "Fieldproof" }
                p { a href=(next) { (page.t("link_signed_in")) } }
            };
            let mut resp = html_response(StatusCode::OK, markup);
            set_cookie(&mut resp, &session_cookie(&page, &session));
            resp
        }
        Ok(None) => login_page(
            &page,
            &next,
            Some(page.t("link_invalid")),
            StatusCode::UNAUTHORIZED,
        )
        .unwrap_or_else(|e| page.error(&e)),
        Err(e) => page.error(&e),
    }
}

/// `POST /app/logout`: ends the session (CSRF-checked like every signed-in form).
pub async fn sign_out(State(store): State<Arc<Store>>, f: SignedForm<NoFields>) -> Response {
    let page = f.who.page;
    if let Some(token) = page.token.clone() {
        let s = store.clone();
        if let Err(e) = blocking(move || auth::logout(&s, &token)).await {
            return page.error(&e);
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
