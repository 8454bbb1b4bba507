//! `GET /app/devices`: every enrolled phone (whose, enrolled, last seen, revoked);
//! `GET /app/devices/{id}/revoke`: the confirmation; `POST` there: revoke (the phone's
//! requests are refused from then on; it enrols again with a new code). Admin and head office
//! only. Device ids show only in the technical section.

use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::people::{NoFields, device_table, run};
use crate::clock::now_ms;
use crate::people::{self, Manager};
use crate::store::Store;
use crate::web::extract::{PageQuery, SignedForm, SignedIn};
use crate::web::read::people::{device, devices};
use crate::web::{fmt_datetime, redirect, url_enc};

#[derive(Deserialize)]
pub struct DevicesQuery {
    #[serde(default)]
    done: String,
}

pub async fn list(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<DevicesQuery>,
) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    match run(&store, devices).await {
        Ok(list) => {
            let page = &who.page;
            let in_use = list.iter().filter(|d| d.revoked_ms.is_none()).count();
            let body = html! {
                @if q.done == "revoked" {
                    p.ok id="done" { (page.t("done_revoked")) }
                }
                p.muted id="device-count" {
                    (page.t("devices_count").replace("{in_use}", &in_use.to_string()).replace("{total}", &list.len().to_string()))
                }
                (device_table(page, &list, true))
            };
            page.page(StatusCode::OK, page.t("devices_title"), body)
        }
        Err(r) => r.page(&who.page),
    }
}

type DeviceId = Result<Path<String>, PathRejection>;

/// `GET /app/devices/{id}/revoke`: whose phone it is, and a button that revokes it.
pub async fn confirm(State(store): State<Arc<Store>>, id: DeviceId, who: SignedIn) -> Response {
    if let Err(r) = who.manager() {
        return r;
    }
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    let d = match run(&store, move |s| device(s, &id)).await {
        Ok(Some(d)) => d,
        Ok(None) => return who.page.not_found(),
        Err(r) => return r.page(&who.page),
    };
    let page = &who.page;
    let t = |k| page.t(k);
    let name = d.user_name.clone().unwrap_or_else(|| d.user_id.clone());
    let body = html! {
        @if let Some(ms) = d.revoked_ms {
            p.muted id="already-revoked" { (t("revoked")) " " (fmt_datetime(page.cal, ms)) }
        } @else {
            p id="revoke-question" {
                (t("revoke_question")
                    .replace("{name}", &name)
                    .replace("{enrolled}", &fmt_datetime(page.cal, d.enrolled_ms)))
            }
            form.inline method="post" action={ "/app/devices/" (url_enc(&d.device_id)) "/revoke" } id="revoke" {
                input type="hidden" name="csrf" value=(who.user.csrf);
                button.danger { (t("revoke")) }
            }
            " "
        }
        a href="/app/devices" { (t("cancel")) }
        details.tech { summary { (t("technical")) } code.long { (d.device_id) } }
    };
    page.page(StatusCode::OK, t("revoke_title"), body)
}

/// `POST /app/devices/{id}/revoke`.
pub async fn revoke(State(store): State<Arc<Store>>, id: DeviceId, f: SignedForm<NoFields>) -> Response {
    let who = f.who;
    let by = match who.manager() {
        Ok(m) => (m.id.to_string(), m.role),
        Err(r) => return r,
    };
    let Ok(Path(id)) = id else {
        return who.page.not_found();
    };
    match run(&store, move |s| {
        people::revoke_device(
            s,
            Manager {
                id: &by.0,
                role: by.1,
            },
            &id,
            now_ms(),
        )
    })
    .await
    {
        Ok(()) => {
            tracing::info!("device revoked on the web");
            redirect("/app/devices?done=revoked")
        }
        Err(r) => r.page(&who.page),
    }
}
