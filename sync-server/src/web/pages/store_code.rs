//! `GET /app/stores/{id}/code`: the store's QR check-in code (扫码签到), for a screen at the
//! store: the current rotating code (`fieldproof_core::customers`, a new one every 30 s step)
//! signed with the store's newest unretired key, drawn as a QR code on the server (SVG, no
//! script), and the page reloads itself at the next step. A store without a key says so in
//! words; an unknown store is 404.
//!
//! The code proves presence only as far as the screen showing it stays at the store: a code
//! seen elsewhere (a photo sent on) works for the rest of its step and one more.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use fieldproof_core::customers::{STORE_CODE_STEP_MS, format_store_code, sign_store_code, store_code_step};
use maud::{PreEscaped, html};

use super::{WithNames, read_with_names};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::store::Store;
use crate::web::components::tech_details;
use crate::web::extract::SignedIn;
use crate::web::read::customers::current_store_key;
use crate::web::read::scorecards::store_exists;
use crate::web::{fmt_datetime, url_enc};

/// The code's text for `store_id` at `now_ms` with key (`kid`, `seed_hex`), and its step;
/// `None` when the seed is not 32 bytes of hex (a damaged row: the page says there is no key).
fn code_text(store_id: &str, kid: &str, seed_hex: &str, now_ms: i64) -> Option<(String, i64)> {
    let seed: [u8; 32] = fieldproof_core::hex::decode_array(seed_hex)?;
    let step = store_code_step(now_ms);
    let sig = sign_store_code(&seed, store_id, kid, step);
    Some((format_store_code(store_id, kid, step, &sig), step))
}

/// The code as an inline SVG QR code (medium error correction, as the enrolment codes).
fn qr_svg(text: &str) -> Result<String, ApiError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(match svg.find("<svg") {
        Some(at) => svg[at..].to_string(),
        None => svg,
    })
}

pub async fn page(State(store): State<Arc<Store>>, who: SignedIn, Path(id): Path<String>) -> Response {
    let SignedIn { user: _, page } = who;
    let sid = id.clone();
    let read = read_with_names(&store, move |c| {
        if !store_exists(c, &sid)? {
            return Err(ApiError::NotFound("store".into()));
        }
        current_store_key(c, &sid)
    })
    .await;
    let WithNames { names, data: key } = match read {
        Ok(d) => d,
        Err(e) => return page.error(&e),
    };
    let t = |k| page.t(k);
    let now = now_ms();
    let code = key
        .as_ref()
        .and_then(|(kid, seed)| code_text(&id, kid, seed, now).map(|(text, step)| (kid.clone(), text, step)));
    let qr = match &code {
        Some((_, text, _)) => match qr_svg(text) {
            Ok(svg) => Some(svg),
            Err(e) => return page.error(&e),
        },
        None => None,
    };
    let store_href = format!("/app/stores/{}", url_enc(&id));
    let body = html! {
        p { a href=(store_href) { (t("back_to_store")) } }
        @match (&code, &qr) {
            (Some((kid, text, step)), Some(svg)) => {
                @let next = (step + 1) * STORE_CODE_STEP_MS;
                // Reload at the next step (a second late, so the server is past it too).
                @let wait = ((next - now) / 1000 + 1).clamp(1, STORE_CODE_STEP_MS / 1000 + 1);
                meta http-equiv="refresh" content=(wait);
                p { (t("store_code_note")) }
                div.qr.store-qr id="store-code" data-step=(step) { (PreEscaped(svg)) }
                p.muted { (t("store_code_valid").replace("{time}", &fmt_datetime(page.cal, next))) }
                (tech_details(page.lang, &[
                    (t("store_code_text").to_string(), text.clone()),
                    (t("key_id").to_string(), kid.clone()),
                ]))
            },
            _ => {
                p.err id="no-store-key" { (t("store_no_key")) }
            },
        }
    };
    page.page(
        StatusCode::OK,
        &format!("{} · {}", names.store(&id), t("store_code_title")),
        body,
    )
}
