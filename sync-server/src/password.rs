//! Web passwords: Argon2id hashes (PHC strings) and the bounded pool that verifies them.
//!
//! One verification costs ~19 MiB and ~40 ms of a core, so sign-ins are never verified on the
//! request's own task or the unbounded blocking pool: a fixed set of worker threads (one per
//! core by default) takes them from a short queue. A sign-in that cannot be queued, or that
//! waited longer than its budget, is answered "busy" (429) without being verified. Memory stays
//! at workers × one Argon2 buffer however many sign-ins arrive, and, because the same threads
//! (and so the same allocator arenas) do every check, it does not grow after a burst.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::PasswordHasher;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Queued checks per worker, beyond the one it is running.
const QUEUE_PER_WORKER: usize = 16;
/// The most Argon2 memory a stored hash may ask for (64 MiB; ours use 19 MiB): a hash with a
/// larger cost, from a hand-edited database, never matches rather than exhausting memory.
const MAX_ARGON2_BLOCKS: usize = 64 * 1024;

pub fn hash_password(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Check `password` against a PHC string. A malformed stored hash never matches.
#[cfg(test)]
pub fn verify_password(password: &str, phc: &str) -> bool {
    verify_with_memory(password, phc, &mut Vec::new())
}

/// [`verify_password`] with the Argon2 memory supplied by the caller: a worker keeps one
/// buffer for every check instead of allocating ~19 MiB each time, so memory does not depend
/// on how the allocator treats large blocks freed and taken again across threads.
fn verify_with_memory(password: &str, phc: &str, blocks: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let n = params.block_count();
    if n > MAX_ARGON2_BLOCKS {
        return false;
    }
    if blocks.len() < n {
        blocks.resize(n, Block::default());
    }
    let mut out = [0u8; 64];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), out, &mut blocks[..n])
        .is_ok()
        && constant_time_eq(out, expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A hash to verify against when the user id is unknown, so both cases take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("fieldproof-dummy-password").unwrap_or_default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Match,
    NoMatch,
    /// Not checked: the queue was full or the check could not start within the wait budget.
    Busy,
}

struct Job {
    password: String,
    /// `None`: unknown user; a dummy hash is verified so the answer takes as long.
    phc: Option<String>,
    /// A job still queued at its deadline is answered `Busy` unchecked.
    deadline: Instant,
    reply: tokio::sync::oneshot::Sender<Verdict>,
}

/// The password-check pool. Dropping it ends its threads once they finish their job.
pub struct Checker {
    jobs: SyncSender<Job>,
    wait: Duration,
    /// Sign-ins in progress (from the throttle to the session), bounded like the queue: a
    /// sign-in holds database work and buffers too, so a storm is refused at the door rather
    /// than piling up threads and connections behind the pool.
    admission: Arc<tokio::sync::Semaphore>,
}

impl Checker {
    pub fn start(workers: usize, wait: Duration) -> Checker {
        let workers = workers.clamp(1, 64);
        let (jobs, rx) = sync_channel(workers * QUEUE_PER_WORKER);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers {
            let rx = rx.clone();
            if let Err(e) = std::thread::Builder::new()
                .name(format!("password-check-{i}"))
                .spawn(move || work(&rx))
            {
                // With no worker every sign-in answers 429 after `wait`: degraded, not down.
                tracing::error!(error = %e, "cannot start a password-check thread");
            }
        }
        let admission = Arc::new(tokio::sync::Semaphore::new(workers * (QUEUE_PER_WORKER + 1)));
        Checker {
            jobs,
            wait,
            admission,
        }
    }

    /// A place for one sign-in, to hold until it is answered; `None` when the pool is full.
    pub fn admit(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.admission.clone().try_acquire_owned().ok()
    }

    /// Verify `password` against `phc` (or a dummy hash when the user is unknown), waiting at
    /// most the configured budget for a free worker.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Verdict {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            password,
            phc,
            deadline: Instant::now() + self.wait,
            reply,
        };
        match self.jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return Verdict::Busy,
        }
        // The worker answers Busy itself past the deadline; the extra second covers a check
        // that started just before it.
        match tokio::time::timeout(self.wait + Duration::from_secs(1), answer).await {
            Ok(Ok(v)) => v,
            _ => Verdict::Busy,
        }
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    let mut blocks = Vec::new();
    loop {
        // A poisoned lock only means another worker panicked while waiting: the receiver is fine.
        let job = match rx.lock().unwrap_or_else(|p| p.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        if Instant::now() >= job.deadline || job.reply.is_closed() {
            let _ = job.reply.send(Verdict::Busy);
            continue;
        }
        let ok = match &job.phc {
            Some(h) => verify_with_memory(&job.password, h, &mut blocks),
            None => {
                let _ = verify_with_memory(&job.password, dummy_hash(), &mut blocks);
                false
            }
        };
        let _ = job.reply.send(if ok { Verdict::Match } else { Verdict::NoMatch });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_phc_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterx", &h));
        assert!(!verify_password("x", "not a phc string"));
        // Hashes made elsewhere with other costs verify too (the cost comes from the string).
        let other = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password("pw-1234567".as_bytes())
        .unwrap()
        .to_string();
        assert!(verify_password("pw-1234567", &other));
        assert!(!verify_password("pw-1234568", &other));
        // A stored hash asking for more memory than the bound never matches.
        let greedy = other.replace("m=8", "m=1048576");
        assert!(!verify_password("pw-1234567", &greedy));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[tokio::test]
    async fn the_pool_verifies_and_refuses_past_its_queue() {
        let h = hash_password("correct horse battery").unwrap();
        // A budget long enough that a loaded machine (other suites running beside this one)
        // still starts the checks below in time: the refusals counted are the full queue's.
        let pool = Checker::start(1, Duration::from_secs(5));
        assert_eq!(
            pool.verify("correct horse battery".into(), Some(h.clone())).await,
            Verdict::Match
        );
        assert_eq!(
            pool.verify("nope".into(), Some(h.clone())).await,
            Verdict::NoMatch
        );
        assert_eq!(pool.verify("nope".into(), None).await, Verdict::NoMatch);
        // One worker and a queue of 16: of 60 at once, those past the queue (at least 40) are
        // refused unchecked at once, and the queued ones are checked.
        let pool = Arc::new(pool);
        let mut tasks = Vec::new();
        for _ in 0..60 {
            let (pool, h) = (pool.clone(), h.clone());
            tasks.push(tokio::spawn(
                async move { pool.verify("nope".into(), Some(h)).await },
            ));
        }
        let mut busy = 0;
        let mut checked = 0;
        for t in tasks {
            match t.await.unwrap() {
                Verdict::Busy => busy += 1,
                Verdict::NoMatch => checked += 1,
                Verdict::Match => panic!("wrong password matched"),
            }
        }
        assert!(busy >= 40, "{busy} busy, {checked} checked");
        assert!(checked >= 1, "{busy} busy, {checked} checked");
    }
}
