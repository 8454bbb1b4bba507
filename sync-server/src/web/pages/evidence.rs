//! `GET /app/evidence`: the evidence-bundle form (store, rep, dates; or the visit a visit page
//! linked from); `GET /app/evidence.zip`: the bundle itself (docs/evidence-bundle.md),
//! written as a stream while it is sent, over `crate::evidence_bundle`.
//!
//! Head office and admins export anything; a supervisor only their team's visits (a visit of
//! another team is "not found", as on the visit page). Reps have no web sign-in. A selection
//! the asker got wrong or that is too large comes back as the form with the reason, before a
//! byte of the bundle is sent.

use std::io::Write;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::data::disposition;
use crate::body::blocking;
use crate::clock::now_ms;
use crate::evidence_bundle::{BundleError, Exporter, Plan, Request, plan};
use crate::store::Store;
use crate::web::auth::{WebRole, WebUser};
use crate::web::extract::{PageQuery, SignedIn, Viewer, trimmed};
use crate::web::read::names::{Names, export_choices};

/// The form's fields (and the download's query).
#[derive(Deserialize, Default, Clone)]
pub struct EvidenceQuery {
    #[serde(default, deserialize_with = "trimmed")]
    visit: String,
    #[serde(default, deserialize_with = "trimmed")]
    store: String,
    #[serde(default, deserialize_with = "trimmed")]
    rep: String,
    #[serde(default, deserialize_with = "trimmed")]
    from: String,
    #[serde(default, deserialize_with = "trimmed")]
    to: String,
}

impl EvidenceQuery {
    fn request(&self) -> Request {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Request {
            visit: opt(&self.visit),
            store: opt(&self.store),
            rep: opt(&self.rep),
            from: opt(&self.from),
            to: opt(&self.to),
        }
    }
}

fn exporter_of(user: &WebUser) -> Exporter {
    match (user.role, user.scope()) {
        (WebRole::Supervisor, team) => Exporter::Supervisor {
            user_id: user.id.clone(),
            team_of: team.unwrap_or("\u{0}").to_string(),
        },
        (role, _) => Exporter::HeadOffice {
            user_id: user.id.clone(),
            role: role.as_str().to_string(),
        },
    }
}

/// The form, its choices in the user's scope (names, not ids), and `problem` above it.
async fn form_page(
    store: &Arc<Store>,
    page: &Viewer,
    user: &WebUser,
    q: &EvidenceQuery,
    problem: Option<String>,
    status: StatusCode,
) -> Response {
    let t = |k| page.t(k);
    let scope = user.scope().map(str::to_string);
    let s = store.clone();
    let choices = blocking(move || {
        let c = s.reader()?;
        Ok((Names::load(&c)?, export_choices(&c, scope.as_deref())?))
    })
    .await;
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
    let fields: Markup = match &choices {
        Ok((names, choices)) => html! {
            (select("store", "store", &q.store, names.store_ids().into_iter().map(|s| { let l = names.store(&s); (s, l) }).collect()))
            (select("rep", "rep", &q.rep, choices.users.iter().map(|u| (u.clone(), names.user(u))).collect()))
        },
        Err(e) => {
            tracing::warn!(error = %e, "evidence form without choices");
            html! {
                label { (t("store")) " " input type="text" name="store" value=(q.store); }
                label { (t("rep")) " " input type="text" name="rep" value=(q.rep); }
            }
        }
    };
    let body = html! {
        p.muted { (t("evidence_note")) }
        @if let Some(p) = &problem {
            p.err id="evidence-problem" { (p) }
        }
        form.filters method="get" action="/app/evidence.zip" id="evidence-form" {
            @if !q.visit.is_empty() {
                input type="hidden" name="visit" value=(q.visit);
            }
            label { (t("from")) " " input type="date" name="from" value=(q.from); }
            label { (t("to")) " " input type="date" name="to" value=(q.to); }
            (fields)
            button { (t("download_evidence_bundle")) }
        }
        p.muted { (t("evidence_verify_hint")) }
        p { code { "fieldproof-server verify FILE.zip" } }
    };
    page.page(status, t("evidence_page"), body)
}

pub async fn page(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<EvidenceQuery>,
) -> Response {
    form_page(&store, &who.page, &who.user, &q, None, StatusCode::OK).await
}

fn status_of(e: &BundleError) -> StatusCode {
    match e {
        BundleError::VisitNotFound(_) => StatusCode::NOT_FOUND,
        BundleError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        BundleError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
        e if e.is_askers() => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub async fn download(
    State(store): State<Arc<Store>>,
    who: SignedIn,
    PageQuery(q): PageQuery<EvidenceQuery>,
) -> Response {
    let SignedIn { user, page } = who;
    let (s, exporter, request) = (store.clone(), exporter_of(&user), q.request());
    let planned = blocking(move || Ok(plan(&s, &exporter, &request, now_ms()))).await;
    let planned = match planned {
        Ok(p) => p,
        Err(e) => return page.error(&e),
    };
    match planned {
        Ok(plan) => stream(store, plan),
        Err(e) => {
            if !e.is_askers() {
                tracing::warn!(error = %e, "evidence bundle not exported");
            }
            let text = e.words(page.lang);
            form_page(&store, &page, &user, &q, Some(text), status_of(&e)).await
        }
    }
}

/// Chunks of the ZIP on their way to the response.
type Chunk = Result<Bytes, std::io::Error>;

/// The bundle written on the blocking pool into a bounded channel the response body reads:
/// at most a few chunks and one photo are in memory at once, whatever the bundle's size. A
/// client that goes away closes the channel, which stops the writing.
fn stream(store: Arc<Store>, plan: Plan) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
    let name = plan.file_name();
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(CHUNK),
        };
        let done = plan
            .write(&store, out)
            .and_then(|mut w| w.flush().map_err(|e| BundleError::Write(e.to_string())));
        if let Err(e) = done {
            tracing::warn!(error = %e, "evidence bundle broken off");
            // The download then ends in an error, not in a ZIP that looks whole.
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    let mut r = Response::new(Body::from_stream(body));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition(&name, &name)) {
        h.insert(CONTENT_DISPOSITION, v);
    }
    r
}

const CHUNK: usize = 256 * 1024;

struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was cancelled"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
