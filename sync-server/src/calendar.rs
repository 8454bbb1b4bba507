//! The field's calendar: which local day an instant falls on, and how days and times are written.
//! Every page, export, import and admin command that speaks of a day goes through here, so "the
//! visit's day" means the same thing everywhere.
//!
//! The time zone is configuration (`serve --time-zone` / `FIELDPROOF_TIME_ZONE`, carried in
//! [`crate::Limits::calendar`]), default UTC+08:00, China Standard Time, where the field works.
//! It is a fixed offset from UTC: China has no daylight saving time, so one offset names every
//! day correctly. Zones with daylight saving time are refused rather than silently shifted by an
//! hour for half the year (a day's [start, end) would then depend on the date, and the day
//! numbers stored on exceptions would need the zone's rules to mean anything). A few IANA names
//! whose offset does not change are accepted as names for their offset.
//!
//! A day is a count of days since 1970-01-01 (the same numbering as the core's civil-date
//! functions); days are stored as such (`exceptions.visit_day`) and written `YYYY-MM-DD`.

pub const DAY_MS: i64 = 86_400_000;
/// Excel's serial day number of 1970-01-01 (its serials count days from 1899-12-30).
const EXCEL_EPOCH_SERIAL: i64 = 25_569;
/// Real time zones are within UTC-12:00 ... UTC+14:00.
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

/// A time zone as a fixed offset east of UTC, and every day/time conversion in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Calendar {
    offset_minutes: i32,
}

/// Why a time zone setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("time zone {0:?} is not understood: give a fixed offset from UTC such as +08:00, -05:30 or UTC")]
    Unknown(String),
    #[error("time zone offset {0:?} is outside UTC-12:00 ... UTC+14:00")]
    OutOfRange(String),
    #[error(
        "time zone {0:?} has daylight saving time, which this server does not support: give its fixed \
         offset from UTC (for example +01:00) if the field works in one"
    )]
    DaylightSaving(String),
}

/// IANA names accepted for their fixed offset (none of them has daylight saving time now).
const FIXED_ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("Etc/UTC", 0),
    ("GMT", 0),
    ("Z", 0),
    ("Asia/Shanghai", 480),
    ("Asia/Chongqing", 480),
    ("Asia/Harbin", 480),
    ("PRC", 480),
    ("Asia/Hong_Kong", 480),
    ("Asia/Macau", 480),
    ("Asia/Taipei", 480),
    ("Asia/Singapore", 480),
    ("Asia/Kuala_Lumpur", 480),
    ("Asia/Manila", 480),
    ("Asia/Tokyo", 540),
    ("Asia/Seoul", 540),
    ("Asia/Bangkok", 420),
    ("Asia/Ho_Chi_Minh", 420),
    ("Asia/Jakarta", 420),
    ("Asia/Kolkata", 330),
    ("Asia/Dubai", 240),
];

/// Common IANA names of zones with daylight saving time: refused with their own message (not a
/// generic "unknown"), so an operator knows why and what to give instead.
const DST_PREFIXES: &[&str] = &[
    "Europe/",
    "America/",
    "US/",
    "Canada/",
    "Australia/",
    "Pacific/Auckland",
    "NZ",
    "Asia/Jerusalem",
    "Asia/Tehran",
    "Africa/Cairo",
    "CET",
    "EET",
    "WET",
    "MET",
    "EST5EDT",
    "CST6CDT",
    "MST7MDT",
    "PST8PDT",
];

impl Default for Calendar {
    fn default() -> Self {
        Calendar::CHINA
    }
}

impl Calendar {
    /// UTC+08:00, China Standard Time.
    pub const CHINA: Calendar = Calendar { offset_minutes: 480 };
    pub const UTC: Calendar = Calendar { offset_minutes: 0 };

    /// A fixed offset, minutes east of UTC.
    pub fn fixed(offset_minutes: i32) -> Result<Calendar, CalendarError> {
        if !(-12 * 60..=MAX_OFFSET_MINUTES).contains(&offset_minutes) {
            return Err(CalendarError::OutOfRange(offset_minutes.to_string()));
        }
        Ok(Calendar { offset_minutes })
    }

    /// `+08:00`, `-05:30`, `+0800`, `+8`, `UTC+8`, `UTC`, `Z`, or one of a few IANA names whose
    /// offset does not change (`Asia/Shanghai`).
    pub fn parse(s: &str) -> Result<Calendar, CalendarError> {
        let t = s.trim();
        if let Some((_, m)) = FIXED_ZONES.iter().find(|(name, _)| name.eq_ignore_ascii_case(t)) {
            return Calendar::fixed(*m);
        }
        if DST_PREFIXES.iter().any(|p| t.starts_with(p)) {
            return Err(CalendarError::DaylightSaving(t.to_string()));
        }
        let offset = t
            .strip_prefix("UTC")
            .or_else(|| t.strip_prefix("GMT"))
            .unwrap_or(t);
        let unknown = || CalendarError::Unknown(s.to_string());
        let (sign, rest) = match offset.as_bytes().first() {
            Some(b'+') => (1, &offset[1..]),
            Some(b'-') => (-1, &offset[1..]),
            _ => return Err(unknown()),
        };
        let digits = |p: &str| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_digit());
        let (h, m) = match rest.split_once(':') {
            Some((h, m)) if digits(h) && m.len() == 2 && digits(m) => (h, m),
            None if digits(rest) => (rest, "00"),
            None if rest.len() == 4 && rest.bytes().all(|b| b.is_ascii_digit()) => (&rest[..2], &rest[2..]),
            _ => return Err(unknown()),
        };
        let (h, m): (i32, i32) = (
            h.parse().map_err(|_| unknown())?,
            m.parse().map_err(|_| unknown())?,
        );
        if m >= 60 {
            return Err(unknown());
        }
        Calendar::fixed(sign * (h * 60 + m)).map_err(|_| CalendarError::OutOfRange(s.to_string()))
    }

    pub fn offset_minutes(self) -> i32 {
        self.offset_minutes
    }

    pub fn offset_ms(self) -> i64 {
        i64::from(self.offset_minutes) * 60_000
    }

    /// The local day (days since 1970-01-01) of a Unix-ms instant.
    pub fn day_of(self, ms: i64) -> i64 {
        ms.saturating_add(self.offset_ms()).div_euclid(DAY_MS)
    }

    /// [start, end) Unix ms of a local day.
    pub fn day_bounds(self, day: i64) -> (i64, i64) {
        let start = day.saturating_mul(DAY_MS).saturating_sub(self.offset_ms());
        (start, start.saturating_add(DAY_MS))
    }

    /// Milliseconds since local midnight of a Unix-ms instant.
    fn ms_of_day(self, ms: i64) -> i64 {
        ms.saturating_add(self.offset_ms()).rem_euclid(DAY_MS)
    }

    /// `YYYY-MM-DD`, the local date of an instant.
    pub fn date(self, ms: i64) -> String {
        day_string(self.day_of(ms))
    }

    /// `HH:MM`, local.
    pub fn time(self, ms: i64) -> String {
        let min = self.ms_of_day(ms) / 60_000;
        format!("{:02}:{:02}", min / 60, min % 60)
    }

    /// `YYYY-MM-DD HH:MM`, local.
    pub fn datetime(self, ms: i64) -> String {
        format!("{} {}", self.date(ms), self.time(ms))
    }

    /// `YYYY-MM-DD HH:MM`, local, to Unix ms ([`Calendar::datetime`] read back); `None` for
    /// another shape or an impossible date or time.
    pub fn parse_datetime(self, s: &str) -> Option<i64> {
        let (date, time) = s.trim().split_once(' ')?;
        let day = parse_day(date)?;
        let (h, m) = time.trim().split_once(':')?;
        let num = |t: &str| -> Option<i64> {
            (t.len() == 2 && t.bytes().all(|c| c.is_ascii_digit())).then(|| t.parse().ok())?
        };
        let (h, m) = (num(h)?, num(m)?);
        if h > 23 || m > 59 {
            return None;
        }
        Some(self.day_bounds(day).0 + (h * 60 + m) * 60_000)
    }

    /// `YYYY-MM-DD HH:MM:SS`, local.
    pub fn datetime_secs(self, ms: i64) -> String {
        let secs = self.ms_of_day(ms) / 1000;
        format!(
            "{} {:02}:{:02}:{:02}",
            self.date(ms),
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }

    /// The Excel serial date-time (days since 1899-12-30, fraction = time of day) of an
    /// instant, local: Excel has no time zones, so a sheet shows what a clock here showed.
    pub fn excel_serial(self, ms: i64) -> f64 {
        ms.saturating_add(self.offset_ms()) as f64 / DAY_MS as f64 + EXCEL_EPOCH_SERIAL as f64
    }

    /// SQL for the local day of a Unix-ms expression, for queries that group or filter by day
    /// (`offset` is the SQL placeholder bound to [`Calendar::offset_ms`]). Integer division
    /// rounds toward zero in SQLite, so instants before 1970 are floored by hand.
    pub fn sql_day(expr: &str, offset: &str) -> String {
        format!(
            "(CASE WHEN ({expr}) + {offset} >= 0 THEN (({expr}) + {offset}) / {DAY_MS} \
             ELSE -((-(({expr}) + {offset}) + {DAY_MS} - 1) / {DAY_MS}) END)"
        )
    }
}

impl std::fmt::Display for Calendar {
    /// `+08:00`: the form `--time-zone` takes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.unsigned_abs();
        write!(f, "{sign}{:02}:{:02}", m / 60, m % 60)
    }
}

impl std::str::FromStr for Calendar {
    type Err = CalendarError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Calendar::parse(s)
    }
}

/// `YYYY-MM-DD` → the day number, refusing impossible dates, other shapes and years outside
/// 1970-9999 (this system holds nothing from before 1970).
pub fn parse_day(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let n = fieldproof_core::clock::days_from_civil(y, m, d);
    (fieldproof_core::clock::civil_from_days(n) == (y, m, d)).then_some(n)
}

/// `YYYY-MM-DD` of a day number.
pub fn day_string(day: i64) -> String {
    let (y, m, d) = fieldproof_core::clock::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Excel's serial number of a day (a date cell's value).
pub fn excel_day_serial(day: i64) -> f64 {
    (day + EXCEL_EPOCH_SERIAL) as f64
}

/// The day of an Excel date serial (a date cell read back; the time of day is dropped).
pub fn day_of_excel_serial(serial: f64) -> i64 {
    serial.floor() as i64 - EXCEL_EPOCH_SERIAL
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn local_times_read_back() {
        let cal = Calendar::CHINA;
        let ms = cal.parse_datetime("2026-03-01 14:30").unwrap();
        assert_eq!(cal.datetime(ms), "2026-03-01 14:30");
        // 14:30 in Shanghai is 06:30 UTC.
        assert_eq!(Calendar::UTC.datetime(ms), "2026-03-01 06:30");
        for bad in [
            "2026-03-01",
            "2026-03-01 24:00",
            "2026-02-30 10:00",
            "2026-03-01 9:00",
            "x y",
        ] {
            assert_eq!(cal.parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn zones_parse_and_print() {
        for (s, m) in [
            ("+08:00", 480),
            ("+8", 480),
            ("+0800", 480),
            ("UTC+8", 480),
            ("UTC+08:00", 480),
            ("-05:30", -330),
            ("UTC", 0),
            ("z", 0),
            ("+00:00", 0),
            ("Asia/Shanghai", 480),
            ("asia/shanghai", 480),
            (" +14:00 ", 840),
            ("-12:00", -720),
        ] {
            assert_eq!(Calendar::parse(s).unwrap().offset_minutes(), m, "{s}");
        }
        assert_eq!(Calendar::CHINA.to_string(), "+08:00");
        assert_eq!(Calendar::fixed(-330).unwrap().to_string(), "-05:30");
        assert_eq!(Calendar::UTC.to_string(), "+00:00");
        for s in [
            "",
            "8",
            "+",
            "+8:0",
            "+08:60",
            "+123",
            "08:00",
            "+08:00x",
            "Mars/Olympus",
            "+٨",
        ] {
            assert!(
                matches!(Calendar::parse(s), Err(CalendarError::Unknown(_))),
                "{s}: {:?}",
                Calendar::parse(s)
            );
        }
        assert!(matches!(
            Calendar::parse("+15:00"),
            Err(CalendarError::OutOfRange(_))
        ));
        assert!(matches!(
            Calendar::parse("-13"),
            Err(CalendarError::OutOfRange(_))
        ));
        assert!(matches!(
            Calendar::parse("Europe/Berlin"),
            Err(CalendarError::DaylightSaving(_))
        ));
        assert!(matches!(
            Calendar::parse("America/New_York"),
            Err(CalendarError::DaylightSaving(_))
        ));
    }

    #[test]
    fn days_round_trip_and_refuse_nonsense() {
        assert_eq!(parse_day("1970-01-01"), Some(0));
        let d = parse_day("2026-11-23").unwrap();
        assert_eq!(day_string(d), "2026-11-23");
        assert_eq!(
            parse_day("2000-02-29").map(day_string).as_deref(),
            Some("2000-02-29")
        );
        for bad in [
            "2026-02-29",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "20261123",
            "2026-1-23",
            "26-1-1",
            "",
            "abcd-ef-gh",
            "2026-11-2x",
            "2026-+1-23",
            "1969-12-31",
            "２０２６-11-23",
        ] {
            assert_eq!(parse_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_day_is_local() {
        let cn = Calendar::CHINA;
        let d = parse_day("2026-11-23").unwrap();
        let (s, e) = cn.day_bounds(d);
        assert_eq!(e - s, DAY_MS);
        assert_eq!(cn.day_of(s), d);
        assert_eq!(cn.day_of(e - 1), d);
        assert_eq!(cn.day_of(e), d + 1);
        // 2026-11-23T16:30:00Z is 2026-11-24 00:30 in Shanghai, still the 23rd in UTC.
        let ms = d * DAY_MS + 16 * 3_600_000 + 30 * 60_000;
        assert_eq!(cn.datetime_secs(ms), "2026-11-24 00:30:00");
        assert_eq!(cn.datetime(ms), "2026-11-24 00:30");
        assert_eq!(cn.time(ms), "00:30");
        assert_eq!(Calendar::UTC.date(ms), "2026-11-23");
        assert_eq!(Calendar::fixed(-330).unwrap().datetime(ms), "2026-11-23 11:00");
        // Excel: 1970-01-01 00:00 local is serial 25569.
        assert_eq!(cn.excel_serial(cn.day_bounds(0).0), 25_569.0);
        assert_eq!(excel_day_serial(d), cn.excel_serial(s));
        assert_eq!(day_of_excel_serial(cn.excel_serial(ms)), cn.day_of(ms));
        // Before 1970 the day still floors.
        assert_eq!(Calendar::UTC.day_of(-1), -1);
    }

    #[test]
    fn sql_day_matches_day_of() {
        let c = crate::db::Connection::open_in_memory().unwrap();
        for cal in [Calendar::CHINA, Calendar::UTC, Calendar::fixed(-330).unwrap()] {
            for ms in [
                0,
                -1,
                -DAY_MS,
                1_795_395_600_000,
                1_795_395_600_000 + 15 * 3_600_000,
                -8 * 3_600_000 - 1,
            ] {
                let sql = format!("SELECT {}", Calendar::sql_day("?1", "?2"));
                let got: i64 = c.query_row(&sql, [ms, cal.offset_ms()], |r| r.get(0)).unwrap();
                assert_eq!(got, cal.day_of(ms), "{cal} {ms}");
            }
        }
    }
}
