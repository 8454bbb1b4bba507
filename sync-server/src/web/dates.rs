//! Days and times as the pages show them, in the store's calendar ([`crate::calendar`]). Every
//! helper takes the calendar the request's [`super::extract::Viewer`] carries
//! (`Store::calendar`): one calendar, no process-wide copy of it. Days and bounds:
//! `page.cal.day_of(ms)`, `page.cal.day_bounds(day)`.

use crate::calendar::Calendar;

pub use crate::calendar::{day_string, parse_day};
/// `HH:MM`, local.
pub fn fmt_time(cal: Calendar, ms: i64) -> String {
    cal.time(ms)
}

/// `YYYY-MM-DD HH:MM`, local.
pub fn fmt_datetime(cal: Calendar, ms: i64) -> String {
    cal.datetime(ms)
}
