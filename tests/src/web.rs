//! A browser's part in the end-to-end tests: head office's pages over real HTTP/1.1 on a
//! `TcpStream` (one connection per request), signed in through the sign-in form, and form posts
//! carrying the session's CSRF token as the pages' forms do.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An answer: status, headers, body as text (and as the bytes sent, for images).
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Page {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .find_map(|(_, v)| {
                v.split(';')
                    .next()?
                    .strip_prefix(&format!("{name}="))
                    .map(str::to_string)
            })
    }

    /// The value of the first hidden field `name` on the page.
    pub fn hidden(&self, name: &str) -> Option<String> {
        let key = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&key)? + key.len();
        let len = self.body[start..].find('"')?;
        Some(self.body[start..start + len].to_string())
    }
}

/// Percent-encoding of a form or query value: the server's own encoder (a std-only leaf of the
/// server's source, included here as the test crate does not link the server).
#[path = "../../sync-server/src/url_text.rs"]
mod url_text;
pub use url_text::url_enc;

/// One request on its own connection.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Page, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(body.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of the response head")?;
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("no status")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"))
    {
        let mut out = Vec::new();
        let mut rest = &body[..];
        while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..end]).trim(), 16).unwrap_or(0);
            if size == 0 || rest.len() < end + 2 + size {
                break;
            }
            out.extend_from_slice(&rest[end + 2..end + 2 + size]);
            rest = &rest[(end + 4 + size).min(rest.len())..];
        }
        body = out;
    }
    Ok(Page {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
    })
}

/// A signed-in browser: its session cookie and the CSRF token its forms carry.
pub struct Browser {
    pub addr: SocketAddr,
    pub cookie: String,
    pub csrf: String,
}

impl Browser {
    /// Sign in through `/app/login` as a person would.
    pub fn sign_in(addr: SocketAddr, user: &str, password: &str) -> Result<Browser, String> {
        let form = request(addr, "GET", "/app/login", &[("Accept-Language", "zh-CN")], "")?;
        let token = form.cookie("fp_login_csrf").ok_or("no sign-in CSRF cookie")?;
        let body = format!(
            "csrf={token}&next=%2Fapp&user={}&password={}",
            url_enc(user),
            url_enc(password)
        );
        let cookie = format!("fp_login_csrf={token}");
        let r = request(
            addr,
            "POST",
            "/app/login",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )?;
        let session = r
            .cookie("fp_session")
            .ok_or(format!("not signed in: {}", r.status))?;
        let mut b = Browser {
            addr,
            cookie: format!("fp_session={session}; lang=zh-CN"),
            csrf: String::new(),
        };
        b.csrf = b.get("/app")?.hidden("csrf").ok_or("no CSRF token on /app")?;
        Ok(b)
    }

    pub fn get(&self, path: &str) -> Result<Page, String> {
        request(self.addr, "GET", path, &[("Cookie", &self.cookie)], "")
    }

    /// Post a form: `fields` are encoded, the CSRF token added.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> Result<Page, String> {
        let mut body = format!("csrf={}", url_enc(&self.csrf));
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", url_enc(v)));
        }
        request(
            self.addr,
            "POST",
            path,
            &[
                ("Cookie", &self.cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &body,
        )
    }
}
