//! Accepting connections, with the bounds a public server needs (axum's own `serve` has none):
//!
//! - a request's headers must arrive within `header_timeout` (hyper's timer, which also runs
//!   while a kept-alive connection waits for its next request, so it is the idle timeout too);
//! - at most `max_connections` connections are served at once, and at most
//!   `max_connections_per_ip` from one address (IPv6: one /64); a connection past either cap is
//!   answered `503 too_many_connections` and closed at once, so slow or idle clients cannot use
//!   up the process's file descriptors and lock everyone else out;
//! - the cap is kept below the descriptor limit, which `serve` first raises to its hard limit;
//! - each request carries the peer address (`ConnectInfo`) for the sign-in throttle.
//!
//! Bodies have their own deadline (`body_timeout`, in `body::read_body` and the import).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::limits::Limits;
use crate::lock::lock;
use crate::metrics::Metrics;

/// Descriptors kept free for the database, photo files and the blocking pool when the
/// connection cap is derived from the descriptor limit.
const FD_RESERVE: u64 = 64;
/// Refusals being written at once; past this a refused connection is just closed.
const MAX_REFUSING: usize = 64;

/// Raise the soft open-file limit to the hard one (the kernel default soft limit, 1024 or
/// even 256, is far below what a server with many phones needs). Returns the limit in force.
pub fn raise_fd_limit() -> Option<u64> {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut lim = getrlimit(Resource::Nofile);
    if let Some(max) = lim.maximum
        && lim.current.is_some_and(|cur| cur < max)
    {
        lim.current = Some(max);
        if let Err(e) = setrlimit(Resource::Nofile, lim) {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
        }
    }
    getrlimit(Resource::Nofile).current
}

/// The connection cap in force: the configured one, below the descriptor limit.
pub fn connection_cap(configured: usize) -> usize {
    let fds = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    let by_fds = fds.map_or(usize::MAX, |n| n.saturating_sub(FD_RESERVE).max(1) as usize);
    configured.clamp(1, by_fds.max(1))
}

/// Serve `app` on `listener` until `shutdown` resolves, then finish the requests in flight
/// (each is bounded by the header and body timeouts; the wait is too).
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let cap = connection_cap(limits.max_connections);
    // When the descriptor limit lowers the cap, one address keeps the configured share of it
    // (a quarter by default), so one client still cannot take every place.
    let per_ip_cap = limits
        .max_connections_per_ip
        .min(cap.saturating_mul(limits.max_connections_per_ip) / limits.max_connections.max(1))
        .clamp(1, cap);
    tracing::info!(
        max_connections = cap,
        max_connections_per_ip = per_ip_cap,
        header_timeout_s = limits.header_timeout.as_secs_f64(),
        body_timeout_s = limits.body_timeout.as_secs_f64(),
        "connection limits"
    );
    let open = Arc::new(Semaphore::new(cap));
    let refusing = Arc::new(Semaphore::new(MAX_REFUSING));
    let per_ip = Arc::new(PerIp::default());
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or memory: back off instead of spinning; a reset by
                    // the peer before accept is nothing to wait for.
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionAborted | std::io::ErrorKind::ConnectionReset
                    ) {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            metrics.record_refused_connection();
            refuse(stream, &refusing, cap, "server");
            continue;
        };
        let Some(slot) = IpSlot::enter(&per_ip, peer.ip(), per_ip_cap) else {
            metrics.record_refused_connection();
            refuse(stream, &refusing, per_ip_cap, "client address");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(Body::new))
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
            drop(slot);
        });
    }
    drop(listener);
    let bound = limits.header_timeout + limits.body_timeout + Duration::from_secs(5);
    if tokio::time::timeout(bound, graceful.shutdown()).await.is_err() {
        tracing::warn!("connections still open after the shutdown wait; closing them");
    }
    Ok(())
}

/// Answer a connection past a cap with `503` and close it, without waiting for its request.
fn refuse(mut stream: TcpStream, refusing: &Arc<Semaphore>, cap: usize, per: &str) {
    let Ok(permit) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tracing::debug!(cap, per, "connection refused: at the connection cap");
    tokio::spawn(async move {
        let body = serde_json::to_string(&ApiError::TooManyConnections { cap }.body()).unwrap_or_default();
        let head = format!(
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n\
             connection: close\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let write = async {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body.as_bytes()).await?;
            stream.shutdown().await
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), write).await;
        drop(permit);
    });
}

/// Open connections per client address.
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One open connection counted against its address; dropping it gives the place back.
struct IpSlot {
    map: Arc<PerIp>,
    key: IpAddr,
}

impl IpSlot {
    fn enter(map: &Arc<PerIp>, ip: IpAddr, cap: usize) -> Option<IpSlot> {
        let key = address_key(ip);
        let mut m = lock(&map.0);
        let n = m.entry(key).or_insert(0);
        if *n >= cap {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            map: map.clone(),
            key,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut m = lock(&self.map.0);
        if let Some(n) = m.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

/// IPv4 as is; IPv6 by its /64 (one host usually holds a whole /64); IPv4-mapped IPv6 as IPv4.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn addresses_count_per_host_and_free_their_place() {
        let map = Arc::new(PerIp::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let s1 = IpSlot::enter(&map, a, 2).unwrap();
        let s2 = IpSlot::enter(&map, a, 2).unwrap();
        assert!(IpSlot::enter(&map, a, 2).is_none(), "third over the cap");
        assert!(IpSlot::enter(&map, "10.0.0.2".parse().unwrap(), 2).is_some());
        drop(s1);
        let s3 = IpSlot::enter(&map, a, 2).unwrap();
        drop((s2, s3));
        assert!(!lock(&map.0).contains_key(&a), "emptied entries are removed");
        // One /64 is one host.
        let v6a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let _h = IpSlot::enter(&map, v6a, 1).unwrap();
        assert!(IpSlot::enter(&map, v6b, 1).is_none());
        assert!(IpSlot::enter(&map, "2001:db8:1:3::1".parse().unwrap(), 1).is_some());
        assert_eq!(
            address_key("::ffff:10.0.0.1".parse().unwrap()),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        let fds = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        let cap = connection_cap(usize::MAX);
        assert!(
            (cap as u64) <= fds.saturating_sub(FD_RESERVE).max(1),
            "{cap} vs {fds}"
        );
        assert_eq!(connection_cap(3), 3.min(cap));
        assert_eq!(connection_cap(0), 1);
    }
}
