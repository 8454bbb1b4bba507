//! The one migration runner, shared by the phone's database (`db.rs`, rusqlite) and
//! fieldproof-server's (SQLite and PostgreSQL): numbered SQL steps, each applied once in its own
//! transaction under the back end's writer lock, after re-reading the version under that lock
//! (another process — a second app process, a second server, the admin CLI — may have migrated
//! while this one waited). A database a newer release migrated is refused, never downgraded.
//!
//! A leaf: the back end (where the version lives, how a step is locked) and its error type are
//! the caller's, through [`Migrate`]; nothing here knows SQLite or PostgreSQL.

/// What the runner needs of a back end.
pub trait Migrate {
    type Error: From<TooNew>;
    /// The schema version now (read without the lock).
    fn version(&self) -> Result<i64, Self::Error>;
    /// Apply `sql`, taking the version from `from` to `from + 1`, in one transaction under the
    /// writer lock; `false` (nothing done) if the version was no longer `from` under the lock.
    fn step(&self, from: i64, sql: &str) -> Result<bool, Self::Error>;
}

/// The database is at a schema version newer than the steps this build knows: each side turns
/// it into its own error (the core's `database_too_new`, the server's refusal to start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooNew {
    pub found: i64,
    pub supported: i64,
}

/// Bring the schema to `steps.len()`: step `i` takes version `i` to `i + 1`.
pub fn migrate<M: Migrate>(m: &M, steps: &[&str]) -> Result<(), M::Error> {
    migrate_to(m, steps, steps.len() as i64)
}

/// Bring the schema up to `target` (capped at `steps.len()`; tests build old-version databases
/// with it). A database already past `target` but within `steps` is left as it is.
pub fn migrate_to<M: Migrate>(m: &M, steps: &[&str], target: i64) -> Result<(), M::Error> {
    let supported = steps.len() as i64;
    let found = m.version()?;
    if found > supported {
        return Err(TooNew { found, supported }.into());
    }
    // `found` is in 0..=supported here (a negative version would be a foreign database).
    let first = found.max(0);
    for version in first..target.min(supported) {
        if m.step(version, steps[version as usize])? {
            tracing::info!(from = version, to = version + 1, "database migrated");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::cell::{Cell, RefCell};

    use super::*;

    /// A back end whose version another process may move between the unlocked read and the
    /// locked one (the race the re-read exists for), recording which steps it applied.
    struct Racing {
        version: Cell<i64>,
        /// Where "another process" moves the version just before the first step takes the lock.
        other_process_reaches: Option<i64>,
        applied: RefCell<Vec<String>>,
    }

    #[derive(Debug, PartialEq)]
    enum TestError {
        TooNew(TooNew),
    }

    impl From<TooNew> for TestError {
        fn from(e: TooNew) -> Self {
            TestError::TooNew(e)
        }
    }

    impl Migrate for Racing {
        type Error = TestError;
        fn version(&self) -> Result<i64, TestError> {
            Ok(self.version.get())
        }
        fn step(&self, from: i64, sql: &str) -> Result<bool, TestError> {
            if let Some(v) = self.other_process_reaches {
                self.version.set(self.version.get().max(v));
            }
            if self.version.get() != from {
                return Ok(false);
            }
            self.applied.borrow_mut().push(sql.to_owned());
            self.version.set(from + 1);
            Ok(true)
        }
    }

    fn racing(version: i64, other: Option<i64>) -> Racing {
        Racing {
            version: Cell::new(version),
            other_process_reaches: other,
            applied: RefCell::new(Vec::new()),
        }
    }

    const STEPS: &[&str] = &["one", "two", "three"];

    #[test]
    fn applies_each_missing_step_once_in_order() {
        let m = racing(1, None);
        migrate(&m, STEPS).unwrap();
        assert_eq!(*m.applied.borrow(), ["two", "three"]);
        assert_eq!(m.version.get(), 3);
    }

    #[test]
    fn stops_at_the_target() {
        let m = racing(0, None);
        migrate_to(&m, STEPS, 2).unwrap();
        assert_eq!(*m.applied.borrow(), ["one", "two"]);
        migrate_to(&m, STEPS, 1).unwrap();
        assert_eq!(m.version.get(), 2);
    }

    #[test]
    fn skips_steps_another_process_applied_while_this_one_waited() {
        let m = racing(0, Some(2));
        migrate(&m, STEPS).unwrap();
        assert_eq!(*m.applied.borrow(), ["three"]);
        assert_eq!(m.version.get(), 3);
    }

    #[test]
    fn refuses_a_newer_database_and_changes_nothing() {
        let m = racing(5, None);
        let err = migrate(&m, STEPS).unwrap_err();
        assert_eq!(
            err,
            TestError::TooNew(TooNew {
                found: 5,
                supported: 3
            })
        );
        assert!(m.applied.borrow().is_empty());
        assert_eq!(m.version.get(), 5);
    }
}
