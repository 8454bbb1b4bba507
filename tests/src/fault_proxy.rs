//! A fault-injecting TCP proxy for the sync tests: sits on loopback between the core's client and
//! the real server and breaks connections the ways a phone's network does.
//!
//! Each accepted connection draws one fate from the [`FaultPlan`] (seeded, so a failing run can
//! be repeated):
//! - `pass`: bytes flow both ways (with the plan's latency per chunk);
//! - `reset_before_request`: closed before a byte reaches the server;
//! - `cut_upload`: the request is cut after a random number of bytes (a photo chunk or a push
//!   half sent);
//! - `drop_response`: the whole request reaches the server, which handles and commits it, but
//!   its answer is thrown away and the connection closed: the client must retry and get
//!   `duplicate`;
//! - `truncate_response`: only the first bytes of the answer arrive.
//!
//! The proxy is HTTP-agnostic on purpose: with keep-alive, a fate hits whatever request is on
//! the connection at that moment (enrolment, push, photo chunk, pull), which is how a lift or a
//! tunnel treats them too. Closing is a FIN, not a TCP RST (std cannot set `SO_LINGER` without
//! unsafe code); for an HTTP client both are a connection that ended before the response.
//!
//! With several upstreams (server replicas behind a load balancer), each connection also draws
//! which one it goes to, so one phone's requests land on every replica in turn.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Probabilities of each fate (the rest is `pass`) and the latency range added per chunk.
#[derive(Debug, Clone, Copy)]
pub struct FaultPlan {
    pub reset_before_request: f64,
    pub cut_upload: f64,
    pub drop_response: f64,
    pub truncate_response: f64,
    /// Added before forwarding each chunk, in each direction: uniform in `[min, max]` ms.
    pub latency_ms: (u64, u64),
    pub seed: u64,
}

impl FaultPlan {
    /// No faults, no latency.
    pub fn clean() -> FaultPlan {
        FaultPlan {
            reset_before_request: 0.0,
            cut_upload: 0.0,
            drop_response: 0.0,
            truncate_response: 0.0,
            latency_ms: (0, 0),
            seed: 1,
        }
    }

    /// A bad mobile network: about one connection in two meets a fault.
    pub fn hostile(seed: u64) -> FaultPlan {
        FaultPlan {
            reset_before_request: 0.12,
            cut_upload: 0.12,
            drop_response: 0.14,
            truncate_response: 0.12,
            latency_ms: (0, 15),
            seed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Pass,
    ResetBeforeRequest,
    CutUpload { after: u64 },
    DropResponse,
    TruncateResponse { keep: u64 },
}

/// How many connections met each fate.
#[derive(Debug)]
pub struct FaultStats {
    pub connections: AtomicU64,
    pub passed: AtomicU64,
    pub reset_before_request: AtomicU64,
    pub cut_upload: AtomicU64,
    pub drop_response: AtomicU64,
    pub truncate_response: AtomicU64,
    pub bytes_up: AtomicU64,
    pub bytes_down: AtomicU64,
    /// Connections forwarded to each upstream, in [`FaultProxy::start_spread`]'s order.
    pub per_upstream: Vec<AtomicU64>,
}

impl FaultStats {
    fn new(upstreams: usize) -> FaultStats {
        FaultStats {
            connections: AtomicU64::new(0),
            passed: AtomicU64::new(0),
            reset_before_request: AtomicU64::new(0),
            cut_upload: AtomicU64::new(0),
            drop_response: AtomicU64::new(0),
            truncate_response: AtomicU64::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            per_upstream: (0..upstreams).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Connections forwarded to each upstream.
    pub fn per_upstream(&self) -> Vec<u64> {
        self.per_upstream
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect()
    }

    pub fn summary(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "{} connections: {} passed, {} reset before request, {} cut mid-upload, {} answer dropped after commit, {} answer truncated; {} bytes up, {} down",
            g(&self.connections),
            g(&self.passed),
            g(&self.reset_before_request),
            g(&self.cut_upload),
            g(&self.drop_response),
            g(&self.truncate_response),
            g(&self.bytes_up),
            g(&self.bytes_down)
        )
    }

    pub fn faults(&self) -> u64 {
        [
            &self.reset_before_request,
            &self.cut_upload,
            &self.drop_response,
            &self.truncate_response,
        ]
        .iter()
        .map(|a| a.load(Ordering::Relaxed))
        .sum()
    }
}

struct Shared {
    plan: Mutex<(FaultPlan, u64)>,
    /// Connections drawn since the plan was set (see [`Shared::draw`]).
    drawn_under_plan: AtomicU64,
    upstreams: Mutex<Vec<SocketAddr>>,
    stats: FaultStats,
    stopped: AtomicBool,
}

pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listen on an ephemeral loopback port and forward to `upstream`.
    pub fn start(upstream: SocketAddr, plan: FaultPlan) -> io::Result<FaultProxy> {
        FaultProxy::start_spread(&[upstream], plan)
    }

    /// Listen on an ephemeral loopback port and forward each connection to one of
    /// `upstreams`, drawn at random (seeded by the plan) per connection.
    pub fn start_spread(upstreams: &[SocketAddr], plan: FaultPlan) -> io::Result<FaultProxy> {
        if upstreams.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "no upstream"));
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            plan: Mutex::new((plan, plan.seed.max(1))),
            drawn_under_plan: AtomicU64::new(0),
            upstreams: Mutex::new(upstreams.to_vec()),
            stats: FaultStats::new(upstreams.len()),
            stopped: AtomicBool::new(false),
        });
        let s = shared.clone();
        thread::spawn(move || {
            for client in listener.incoming() {
                if s.stopped.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = client else { continue };
                let fate = s.draw();
                let (_, r) = s.next();
                let s = s.clone();
                thread::spawn(move || handle(client, fate, r, &s));
            }
        });
        Ok(FaultProxy { addr, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn set_plan(&self, plan: FaultPlan) {
        if let Ok(mut p) = self.shared.plan.lock() {
            *p = (plan, plan.seed.max(1));
            self.shared.drawn_under_plan.store(0, Ordering::Relaxed);
        }
    }

    /// Point at a restarted server (the only upstream from now on).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        if let Ok(mut u) = self.shared.upstreams.lock() {
            *u = vec![upstream];
        }
    }

    pub fn stats(&self) -> &FaultStats {
        &self.shared.stats
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

impl Shared {
    /// xorshift64*: deterministic per seed, no dependency.
    fn next(&self) -> (FaultPlan, u64) {
        let Ok(mut g) = self.plan.lock() else {
            return (FaultPlan::clean(), 0);
        };
        let mut x = g.1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        g.1 = x;
        (g.0, x.wrapping_mul(0x2545_F491_4F6C_DD1D))
    }

    fn unit(&self) -> (FaultPlan, f64) {
        let (p, r) = self.next();
        (p, (r >> 11) as f64 / (1u64 << 53) as f64)
    }

    /// The fate of the next connection. The first connections under a plan meet each kind of
    /// fault the plan has once, in the order below, and the rest are drawn at random: a run
    /// that opens few connections (clients keep theirs alive, or the phones drain fast)
    /// still meets every kind.
    fn draw(&self) -> Fate {
        let (plan, u) = self.unit();
        let (_, r) = self.next();
        let forced = [
            (plan.reset_before_request, Fate::ResetBeforeRequest),
            (
                plan.cut_upload,
                Fate::CutUpload {
                    after: 1 + r % 300_000,
                },
            ),
            (plan.drop_response, Fate::DropResponse),
            (plan.truncate_response, Fate::TruncateResponse { keep: r % 400 }),
        ];
        let n = self.drawn_under_plan.fetch_add(1, Ordering::Relaxed) as usize;
        if let Some((_, fate)) = forced.iter().filter(|(p, _)| *p > 0.0).nth(n) {
            return *fate;
        }
        let mut edge = plan.reset_before_request;
        if u < edge {
            return Fate::ResetBeforeRequest;
        }
        edge += plan.cut_upload;
        if u < edge {
            // Somewhere in the first request: inside the headers or inside the body.
            return Fate::CutUpload {
                after: 1 + r % 300_000,
            };
        }
        edge += plan.drop_response;
        if u < edge {
            return Fate::DropResponse;
        }
        edge += plan.truncate_response;
        if u < edge {
            return Fate::TruncateResponse { keep: r % 400 };
        }
        Fate::Pass
    }

    fn latency(&self) -> Duration {
        let (plan, r) = self.next();
        let (lo, hi) = plan.latency_ms;
        if hi == 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(lo + r % (hi - lo.min(hi) + 1))
    }
}

/// `pick`: a random number choosing the upstream.
fn handle(client: TcpStream, fate: Fate, pick: u64, s: &Arc<Shared>) {
    let st = &s.stats;
    st.connections.fetch_add(1, Ordering::Relaxed);
    let counter = match fate {
        Fate::Pass => &st.passed,
        Fate::ResetBeforeRequest => &st.reset_before_request,
        Fate::CutUpload { .. } => &st.cut_upload,
        Fate::DropResponse => &st.drop_response,
        Fate::TruncateResponse { .. } => &st.truncate_response,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    if fate == Fate::ResetBeforeRequest {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let (upstream, index) = match s.upstreams.lock() {
        Ok(u) if !u.is_empty() => {
            let i = (pick % u.len() as u64) as usize;
            (u[i], i)
        }
        _ => return,
    };
    if let Some(n) = st.per_upstream.get(index) {
        n.fetch_add(1, Ordering::Relaxed);
    }
    let Ok(server) = TcpStream::connect(upstream) else {
        // The server is down (killed, restarting): the client sees a closed connection.
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up_limit = match fate {
        Fate::CutUpload { after } => Some(after),
        _ => None,
    };
    let down_limit = match fate {
        Fate::DropResponse => Some(0),
        Fate::TruncateResponse { keep } => Some(keep),
        _ => None,
    };
    let s_up = s.clone();
    let up = thread::spawn(move || {
        pump(client, server, up_limit, &s_up, true);
    });
    pump(s2, c2, down_limit, s, false);
    let _ = up.join();
}

/// Copy `from` → `to` until EOF or `limit` bytes, then close both directions of both sockets so
/// the other pump ends too.
fn pump(mut from: TcpStream, mut to: TcpStream, limit: Option<u64>, s: &Arc<Shared>, up: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent: u64 = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let delay = s.latency();
        if !delay.is_zero() {
            thread::sleep(delay);
        }
        let take = match limit {
            Some(l) => (l.saturating_sub(sent)).min(n as u64) as usize,
            None => n,
        };
        if take > 0 && to.write_all(&buf[..take]).is_err() {
            break;
        }
        sent += take as u64;
        let counter = if up {
            &s.stats.bytes_up
        } else {
            &s.stats.bytes_down
        };
        counter.fetch_add(take as u64, Ordering::Relaxed);
        if limit.is_some_and(|l| sent >= l) {
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
