//! One HTTP exchange with the server, signed, classified, and retried.
//!
//! Classification is the protocol's: connection refused/reset, timeouts, a truncated or
//! unparsable answer, 5xx (and 408/429) are transient and retried with backoff; any other 4xx
//! is a refusal and ends the request with the server's code. Every try is signed anew (a fresh
//! nonce and time), so a retry is never mistaken for a replay.

use reqwest::Method;
use serde::de::DeserializeOwned;

use super::{SyncOptions, random_unit};
use crate::clock::Clock;
use crate::error::Error;
use crate::evidence::{self, Signer};
use crate::sync::wire::{self, ErrorBody};

/// Largest answer read: a pull page of 1000 templates stays far below; a runaway body does not
/// get to fill the phone's memory.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug)]
pub(crate) enum NetError {
    /// This try failed in a way worth retrying.
    Transient(String),
    /// Transient failures outlasted the tries.
    Exhausted(String),
    /// A 4xx (or an unexpected 3xx). `body` is kept: a 409 on a chunk carries the status.
    Refused {
        status: u16,
        code: String,
        message: String,
        body: Vec<u8>,
    },
    Fatal(Error),
}

impl From<NetError> for Error {
    fn from(e: NetError) -> Error {
        match e {
            NetError::Transient(detail) | NetError::Exhausted(detail) => Error::Network { detail },
            NetError::Refused {
                status,
                code,
                message,
                ..
            } => Error::ServerRefused {
                status,
                code,
                message,
            },
            NetError::Fatal(e) => e,
        }
    }
}

pub(crate) struct Reply {
    pub body: Vec<u8>,
}

pub(crate) struct Net<'a> {
    client: reqwest::Client,
    base: String,
    options: SyncOptions,
    signer: &'a Signer,
    clock: &'a dyn Clock,
    /// Server clock minus device clock: requests carry server-corrected time.
    pub offset_ms: i64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

impl<'a> Net<'a> {
    pub fn new(
        base: &str,
        options: &SyncOptions,
        signer: &'a Signer,
        clock: &'a dyn Clock,
    ) -> Result<Net<'a>, Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(super::millis(options.connect_timeout_ms))
            .timeout(super::millis(options.request_timeout_ms))
            // A redirected request would no longer match what was signed; the server never
            // redirects, so a 3xx is someone else (a captive portal) and is refused.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("fieldproof-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Internal(format!("HTTP client: {e}")))?;
        Ok(Net {
            client,
            base: base.trim_end_matches('/').to_string(),
            options: options.clone(),
            signer,
            clock,
            offset_ms: 0,
            bytes_up: 0,
            bytes_down: 0,
        })
    }

    /// The four signing headers for one try.
    pub fn sign(
        &self,
        method: &Method,
        path_and_query: &str,
        body: &[u8],
    ) -> Result<[(&'static str, String); 4], Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).map_err(|e| Error::Internal(format!("random nonce: {e}")))?;
        let nonce = evidence::hex(&nonce);
        let time = self.clock.wall_ms() + self.offset_ms;
        let text = wire::request_signing_bytes(
            method.as_str(),
            path_and_query,
            time,
            &nonce,
            &evidence::sha256_hex(body),
        );
        Ok([
            (wire::HEADER_DEVICE, self.signer.device_id.clone()),
            (wire::HEADER_TIME, time.to_string()),
            (wire::HEADER_NONCE, nonce),
            (wire::HEADER_SIGNATURE, self.signer.sign_hex(text.as_bytes())),
        ])
    }

    /// One try. `Ok` only for a 2xx with its whole body.
    pub async fn once(
        &mut self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        signed: bool,
    ) -> Result<Reply, NetError> {
        let url = format!("{}{path_and_query}", self.base);
        let parsed = reqwest::Url::parse(&url)
            .map_err(|e| NetError::Fatal(Error::Internal(format!("URL {url}: {e}"))))?;
        // Sign exactly what goes on the request line (a base URL may carry a path prefix).
        let line = match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let body = body.unwrap_or_default();
        let mut request = self.client.request(method.clone(), parsed);
        if signed {
            for (name, value) in self.sign(&method, &line, &body).map_err(NetError::Fatal)? {
                request = request.header(name, value);
            }
        }
        if method != Method::GET {
            let content_type = if method == Method::PUT {
                "application/octet-stream"
            } else {
                "application/json"
            };
            request = request.header(reqwest::header::CONTENT_TYPE, content_type);
            self.bytes_up += body.len() as u64;
            request = request.body(body);
        }
        let mut response = request.send().await.map_err(|e| {
            if e.is_builder() {
                NetError::Fatal(Error::Internal(format!("HTTP request: {e}")))
            } else {
                NetError::Transient(describe(&e))
            }
        })?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    self.bytes_down += chunk.len() as u64;
                    if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                        return Err(NetError::Fatal(Error::SyncProtocol(format!(
                            "answer larger than {MAX_RESPONSE_BYTES} bytes"
                        ))));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(NetError::Transient(format!("answer cut off: {}", describe(&e)))),
            }
        }
        match status {
            200..=299 => Ok(Reply { body: bytes }),
            408 | 429 | 500..=599 => Err(NetError::Transient(format!("HTTP {status}"))),
            _ => Err(refusal(status, bytes)),
        }
    }

    /// Tries until a 2xx whose body parses as `T`, a refusal, or `max_attempts`.
    pub async fn call<T: DeserializeOwned>(
        &mut self,
        what: &str,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        signed: bool,
    ) -> Result<T, NetError> {
        Ok(self
            .call_timed(what, method, path_and_query, body, signed)
            .await?
            .0)
    }

    /// [`Net::call`], also returning the device time halfway through the successful try (to
    /// turn a server time into a clock offset).
    pub async fn call_timed<T: DeserializeOwned>(
        &mut self,
        what: &str,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
        signed: bool,
    ) -> Result<(T, i64), NetError> {
        let mut last = String::new();
        for attempt in 1..=self.options.max_attempts {
            if attempt > 1 {
                let wait = self.options.backoff(attempt - 1, random_unit());
                tracing::debug!(
                    what,
                    attempt,
                    wait_ms = wait.as_millis() as u64,
                    "retrying: {last}"
                );
                tokio::time::sleep(wait).await;
            }
            let sent = self.clock.wall_ms();
            match self
                .once(method.clone(), path_and_query, body.clone(), signed)
                .await
            {
                Ok(reply) => match serde_json::from_slice::<T>(&reply.body) {
                    Ok(value) => {
                        let received = self.clock.wall_ms();
                        return Ok((value, sent + (received - sent) / 2));
                    }
                    Err(e) => last = format!("unparsable answer: {e}"),
                },
                Err(NetError::Transient(why)) => last = why,
                Err(other) => return Err(other),
            }
        }
        tracing::info!(what, tries = self.options.max_attempts, "giving up: {last}");
        Err(NetError::Exhausted(format!(
            "{what}: gave up after {} tries: {last}",
            self.options.max_attempts
        )))
    }
}

/// A transport error in a few words (reqwest's Display hides the cause: "error sending request").
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "broken answer"
    } else {
        "request failed"
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    format!("{kind} ({detail})")
}

fn refusal(status: u16, body: Vec<u8>) -> NetError {
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(e) => NetError::Refused {
            status,
            code: e.error.code,
            message: e.error.message,
            body,
        },
        Err(_) => {
            let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            NetError::Refused {
                status,
                code: format!("http_{status}"),
                message: text,
                body,
            }
        }
    }
}
