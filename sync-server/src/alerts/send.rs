//! One message over one channel: a WeCom group robot, a DingTalk custom robot, or SMTP.
//!
//! Both robots take `POST` JSON at their webhook address and answer `{"errcode":0,"errmsg":"ok"}`;
//! any other `errcode` is a refusal even with HTTP 200 (a wrong signature, a keyword the robot
//! requires, the robot's rate limit of about 20 messages a minute).
//! - WeCom (企业微信群机器人): `{"msgtype":"markdown","markdown":{"content":…}}`, content at most
//!   4096 bytes — https://developer.work.weixin.qq.com/document/path/91770
//! - DingTalk (钉钉自定义机器人) with 加签: the query gets `timestamp` (ms, within an hour of
//!   DingTalk's clock) and `sign` = urlencode(base64(HMAC-SHA256(key = secret,
//!   message = timestamp + "\n" + secret))); body `{"msgtype":"markdown","markdown":{"title":…,
//!   "text":…}}` — https://open.dingtalk.com/document/orgapp/customize-robot-security-settings
//!   and https://open.dingtalk.com/document/orgapp/custom-robot-access
//! - Email: plain text, the link on its own line, over SMTP (lettre) with the message's key as
//!   its `Message-ID`.
//!
//! Neither robot API has a field for a message id, so the key travels in the
//! `X-Fieldproof-Idempotency-Key` header (a relay or a test receiver deduplicates by it; the
//! robots themselves ignore it).

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sha2::Sha256;

use super::{Channel, ChannelKind, SmtpTls};

/// The header every webhook request carries its message's idempotency key in.
pub const KEY_HEADER: &str = "X-Fieldproof-Idempotency-Key";

/// WeCom's markdown content limit, bytes.
const WECOM_MAX_BYTES: usize = 4096;

/// What is sent.
pub struct Outgoing<'a> {
    pub key: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    /// The page, absolute (`--public-url` + path) or the path alone when no address is set.
    pub link: &'a str,
    /// The link's words in the channel's language (查看：…).
    pub link_line: &'a str,
}

/// Why a send failed: a message code (`crate::i18n::MESSAGES`) with its parameters, and whether
/// trying again can help (a channel missing its settings cannot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    pub code: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub permanent: bool,
}

impl SendFailure {
    fn new(code: &'static str, params: Vec<(&'static str, String)>) -> SendFailure {
        SendFailure {
            code,
            params,
            permanent: false,
        }
    }

    fn config(detail: &str) -> SendFailure {
        SendFailure {
            code: "alert_err_config",
            params: vec![("detail", detail.to_string())],
            permanent: true,
        }
    }

    /// The parameters as a JSON object (`alert_deliveries.last_error_detail`).
    pub fn params_json(&self) -> String {
        let m: serde_json::Map<String, serde_json::Value> = self
            .params
            .iter()
            .map(|(k, v)| ((*k).to_string(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(m).to_string()
    }
}

/// DingTalk's `sign` before URL encoding: base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")).
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Cut `s` to at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The sender: one HTTP client (connection reuse, rustls) with the send timeout.
pub struct Sender {
    http: reqwest::Client,
    timeout: Duration,
}

impl Sender {
    pub fn new(timeout: Duration) -> Result<Sender, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A robot's webhook answers itself; a redirect would carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Sender { http, timeout })
    }

    pub async fn send(&self, ch: &Channel, m: &Outgoing<'_>, now_ms: i64) -> Result<(), SendFailure> {
        match ch.kind {
            ChannelKind::WeCom => {
                let content = format!("**{}**\n{}\n[{}]({})", m.subject, m.body, m.link_line, m.link);
                let body = serde_json::json!({
                    "msgtype": "markdown",
                    "markdown": { "content": cut(&content, WECOM_MAX_BYTES) },
                });
                let url = ch
                    .webhook_url
                    .as_deref()
                    .ok_or_else(|| SendFailure::config("webhook"))?;
                let url = reqwest::Url::parse(url).map_err(|_| SendFailure::config("webhook"))?;
                self.post_robot(url, &body, m.key).await
            }
            ChannelKind::DingTalk => {
                let text = format!(
                    "#### {}\n\n{}\n\n[{}]({})",
                    m.subject,
                    m.body.replace('\n', "\n\n"),
                    m.link_line,
                    m.link
                );
                let body = serde_json::json!({
                    "msgtype": "markdown",
                    "markdown": { "title": m.subject, "text": text },
                });
                let url = ch
                    .webhook_url
                    .as_deref()
                    .ok_or_else(|| SendFailure::config("webhook"))?;
                let mut url = reqwest::Url::parse(url).map_err(|_| SendFailure::config("webhook"))?;
                if let Some(secret) = ch.secret.as_deref().filter(|s| !s.is_empty()) {
                    // `append_pair` form-encodes: base64's + / = become %2B %2F %3D, as
                    // DingTalk's urlencode step asks.
                    url.query_pairs_mut()
                        .append_pair("timestamp", &now_ms.to_string())
                        .append_pair("sign", &dingtalk_sign(secret, now_ms));
                }
                self.post_robot(url, &body, m.key).await
            }
            ChannelKind::Email => self.mail(ch, m).await,
        }
    }

    async fn post_robot(
        &self,
        url: reqwest::Url,
        body: &serde_json::Value,
        key: &str,
    ) -> Result<(), SendFailure> {
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json; charset=utf-8")
            .header(KEY_HEADER, key)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(SendFailure::new(
                "alert_err_http_status",
                vec![("status", status.as_u16().to_string())],
            ));
        }
        let bytes = resp.bytes().await.map_err(|e| self.transport(e))?;
        let answer: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
        let errcode = answer
            .as_ref()
            .and_then(|a| a.get("errcode"))
            .and_then(|c| c.as_i64());
        match errcode {
            Some(0) => Ok(()),
            other => {
                let errmsg = answer
                    .as_ref()
                    .and_then(|a| a.get("errmsg"))
                    .and_then(|m| m.as_str())
                    .map_or_else(
                        || cut(&String::from_utf8_lossy(&bytes), 100).to_string(),
                        str::to_string,
                    );
                Err(SendFailure::new(
                    "alert_err_robot",
                    vec![
                        ("errcode", other.map_or_else(|| "-".into(), |c| c.to_string())),
                        ("errmsg", cut(&errmsg, 200).to_string()),
                    ],
                ))
            }
        }
    }

    /// A transport error in words, without the URL (it carries the robot's key).
    fn transport(&self, e: reqwest::Error) -> SendFailure {
        if e.is_timeout() {
            return SendFailure::new(
                "alert_err_timeout",
                vec![("secs", self.timeout.as_secs().to_string())],
            );
        }
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            detail = format!("{detail}: {s}");
            src = s.source();
        }
        SendFailure::new(
            "alert_err_connect",
            vec![("detail", cut(&detail, 300).to_string())],
        )
    }

    async fn mail(&self, ch: &Channel, m: &Outgoing<'_>) -> Result<(), SendFailure> {
        let host = ch
            .smtp_host
            .as_deref()
            .ok_or_else(|| SendFailure::config("smtp_host"))?;
        let from: Mailbox = ch
            .mail_from
            .as_deref()
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| SendFailure::config("mail_from"))?;
        let mut builder = Message::builder()
            .from(from)
            .subject(m.subject)
            // The key, as the `Message-ID` a mail system deduplicates by.
            .message_id(Some(format!("<{}@fieldproof>", m.key)));
        let mut any = false;
        for to in ch.mail_to.as_deref().unwrap_or("").split(',') {
            if let Ok(mb) = to.trim().parse::<Mailbox>() {
                builder = builder.to(mb);
                any = true;
            }
        }
        if !any {
            return Err(SendFailure::config("mail_to"));
        }
        let text = format!("{}\n\n{}", m.body, m.link_line);
        let msg = builder
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| SendFailure::config(&e.to_string()))?;
        let port = ch.smtp_port.unwrap_or(25);
        let smtp_err = |e: lettre::transport::smtp::Error| {
            SendFailure::new(
                "alert_err_smtp",
                vec![("detail", cut(&e.to_string(), 300).to_string())],
            )
        };
        let builder = match ch.smtp_tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host).map_err(smtp_err)?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(smtp_err)?,
        };
        let mut builder = builder.port(port).timeout(Some(self.timeout));
        if let (Some(u), Some(p)) = (ch.smtp_user.as_deref(), ch.smtp_password.as_deref()) {
            builder = builder.credentials(Credentials::new(u.to_string(), p.to_string()));
        }
        let transport = builder.build();
        match tokio::time::timeout(self.timeout * 2, transport.send(msg)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(smtp_err(e)),
            Err(_) => Err(SendFailure::new(
                "alert_err_timeout",
                vec![("secs", self.timeout.as_secs().to_string())],
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn dingtalk_signature_matches_a_known_value() {
        // Python: base64.b64encode(hmac.new(b"SECtest", b"1700000000000\nSECtest", sha256).digest())
        // (computed independently with Python's hmac module).
        let s = dingtalk_sign("SECtest", 1_700_000_000_000);
        assert_eq!(s, "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=");
        assert_ne!(s, dingtalk_sign("SECtest", 1_700_000_000_001));
    }

    #[test]
    fn cuts_on_character_boundaries() {
        assert_eq!(cut("门店门店", 4), "门");
        assert_eq!(cut("abc", 10), "abc");
    }
}
