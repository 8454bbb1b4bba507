//! Time as the device sees it. The wall clock can be changed by the user (the classic way to
//! back-date a visit); time since boot cannot. Each event keeps both plus a hybrid logical clock,
//! and a wall-clock jump against boot time is flagged.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Source of the two clocks. The app uses [`SystemClock`]; tests drive a [`ManualClock`].
pub trait Clock: Send + Sync {
    /// Unix milliseconds from the device's (settable) wall clock.
    fn wall_ms(&self) -> i64;
    /// Milliseconds since boot, including deep sleep.
    fn boot_ms(&self) -> i64;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn wall_ms(&self) -> i64 {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => d.as_millis() as i64,
            // A clock set before 1970 is itself a finding; report it as negative time.
            Err(e) => -(e.duration().as_millis() as i64),
        }
    }

    fn boot_ms(&self) -> i64 {
        boot_clock_ms()
    }
}

/// CLOCK_BOOTTIME on Linux/Android counts suspend; on Apple platforms CLOCK_MONOTONIC does
/// (it is mach_continuous_time). std's `Instant` uses CLOCK_MONOTONIC, which stops in suspend
/// on Linux, so it would report a phone left in a pocket overnight as a clock jump.
#[allow(unsafe_code)]
fn boot_clock_ms() -> i64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let id = libc::CLOCK_BOOTTIME;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let id = libc::CLOCK_MONOTONIC;
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec and `id` a clock id this platform defines.
    let rc = unsafe { libc::clock_gettime(id, &mut ts) };
    if rc != 0 {
        return 0;
    }
    // time_t and c_long are 32-bit on armv7 Android, 64-bit here: `from` widens where needed.
    #[allow(clippy::useless_conversion)]
    let (sec, nsec) = (i64::from(ts.tv_sec), i64::from(ts.tv_nsec));
    sec * 1000 + nsec / 1_000_000
}

/// A clock the tests (and the demo) set by hand.
#[derive(Debug, Clone)]
pub struct ManualClock {
    wall: Arc<AtomicI64>,
    boot: Arc<AtomicI64>,
}

impl ManualClock {
    pub fn new(wall_ms: i64, boot_ms: i64) -> Self {
        ManualClock {
            wall: Arc::new(AtomicI64::new(wall_ms)),
            boot: Arc::new(AtomicI64::new(boot_ms)),
        }
    }

    /// Time passes normally: both clocks move.
    pub fn advance(&self, ms: i64) {
        self.wall.fetch_add(ms, Ordering::SeqCst);
        self.boot.fetch_add(ms, Ordering::SeqCst);
    }

    /// The user changes the wall clock; boot time does not move.
    pub fn set_wall(&self, wall_ms: i64) {
        self.wall.store(wall_ms, Ordering::SeqCst);
    }

    /// The phone reboots: boot time starts again near zero.
    pub fn reboot(&self, boot_ms: i64) {
        self.boot.store(boot_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn wall_ms(&self) -> i64 {
        self.wall.load(Ordering::SeqCst)
    }
    fn boot_ms(&self) -> i64 {
        self.boot.load(Ordering::SeqCst)
    }
}

/// HLC packed in an i64: 48 bits of milliseconds, 16 bits of counter. Sorts as an integer.
pub const HLC_COUNTER_BITS: u32 = 16;
const HLC_COUNTER_MASK: i64 = (1 << HLC_COUNTER_BITS) - 1;

pub fn hlc_pack(ms: i64, counter: i64) -> i64 {
    (ms << HLC_COUNTER_BITS) | (counter & HLC_COUNTER_MASK)
}

pub fn hlc_unpack(hlc: i64) -> (i64, i64) {
    (hlc >> HLC_COUNTER_BITS, hlc & HLC_COUNTER_MASK)
}

/// Next local HLC after `last`, given the wall clock now.
pub fn hlc_next(last: i64, wall_ms: i64) -> i64 {
    let (last_ms, last_counter) = hlc_unpack(last);
    let wall_ms = wall_ms.max(0);
    if wall_ms > last_ms {
        hlc_pack(wall_ms, 0)
    } else if last_counter < HLC_COUNTER_MASK {
        hlc_pack(last_ms, last_counter + 1)
    } else {
        // Counter exhausted within one millisecond: borrow the next millisecond.
        hlc_pack(last_ms + 1, 0)
    }
}

/// How far the wall clock may drift against boot time between two events before it is
/// `clock_jump`. NTP corrections are sub-second; time-zone changes do not move Unix time.
pub const CLOCK_JUMP_TOLERANCE_MS: i64 = 120_000;

/// Wall-clock movement not explained by elapsed boot time, if both events are in the same boot.
pub fn clock_drift_ms(last_wall: i64, last_boot: i64, wall: i64, boot: i64) -> Option<i64> {
    if boot < last_boot {
        return None; // rebooted: boot time restarted, nothing to compare against
    }
    Some((wall - last_wall) - (boot - last_boot))
}

/// `YYYY-MM-DD` of a Unix-millisecond instant shifted by `offset_minutes` (Howard Hinnant's
/// days-from-civil inverse; no time-zone database needed).
pub fn civil_date(ms: i64, offset_minutes: i32) -> String {
    let (y, m, d, _) = civil(ms, offset_minutes);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `YYYY-MM-DD HH:MM:SS UTC+HH:MM`: the device's local time as the watermark shows it.
pub fn format_local(ms: i64, offset_minutes: i32) -> String {
    let (y, m, d, secs) = civil(ms, offset_minutes);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC{sign}{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// `YYYY-MM-DDTHH:MM:SSZ`: an instant in UTC as RFC 3339 (and C2PA's `when`) writes it.
pub fn format_rfc3339_utc(ms: i64) -> String {
    let (y, m, d, secs) = civil(ms, 0);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn civil(ms: i64, offset_minutes: i32) -> (i64, i64, i64, i64) {
    let local = ms.div_euclid(1000) + i64::from(offset_minutes) * 60;
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(local.div_euclid(86_400));
    (y, m, d, secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
/// Month and day are not checked: round-trip through [`civil_from_days`] to validate a date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a count of days since 1970-01-01 (Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_is_formatted_with_its_offset() {
        // 2026-11-23 01:00:00 UTC
        let t = 1_795_395_600_000;
        assert_eq!(format_local(t, 480), "2026-11-23 09:00:00 UTC+08:00");
        assert_eq!(format_local(t, -330), "2026-11-22 19:30:00 UTC-05:30");
        assert_eq!(civil_date(t, 0), "2026-11-23");
        assert_eq!(civil_date(951_782_400_000, 0), "2000-02-29");
        for days in [-800_000, -1, 0, 11_016, 20_415, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(20_415), (2025, 11, 23));
    }

    #[test]
    fn hlc_is_monotonic_when_the_wall_clock_goes_back() {
        let a = hlc_next(0, 1_000);
        let b = hlc_next(a, 500);
        let c = hlc_next(b, 500);
        let d = hlc_next(c, 2_000);
        assert!(a < b && b < c && c < d);
        assert_eq!(hlc_unpack(c), (1_000, 2));
        assert_eq!(hlc_unpack(d), (2_000, 0));
    }

    #[test]
    fn hlc_counter_overflow_borrows_a_millisecond() {
        let last = hlc_pack(10, HLC_COUNTER_MASK);
        assert_eq!(hlc_unpack(hlc_next(last, 10)), (11, 0));
    }

    #[test]
    fn drift_is_measured_within_one_boot_only() {
        assert_eq!(clock_drift_ms(1000, 100, 2000, 1100), Some(0));
        assert_eq!(clock_drift_ms(1000, 100, 1000 + 3_600_000, 200), Some(3_599_900));
        assert_eq!(clock_drift_ms(1000, 100_000, 5000, 50), None);
    }

    #[test]
    fn system_boot_clock_moves_forward() {
        let c = SystemClock;
        let a = c.boot_ms();
        std::thread::sleep(std::time::Duration::from_millis(5));
        assert!(c.boot_ms() >= a + 4, "boot clock must advance");
        assert!(c.wall_ms() > 1_600_000_000_000);
    }
}
