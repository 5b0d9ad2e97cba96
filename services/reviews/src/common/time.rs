//! Timestamps without a date-time dependency: showtimes, bookings and reviews all need "now",
//! parsing of client input, the hour of day and the weekday (for fare rules), and age from a
//! birth date. Everything is UTC; the cinema's wall clock is treated as UTC to keep the sample
//! small.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

const SECONDS_PER_DAY: i64 = 86_400;

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(i64);

/// A calendar date (UTC), as used for birth dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    year: i64,
    month: i64,
    day: i64,
}

impl Timestamp {
    /// The current time of the system clock.
    pub fn now() -> Timestamp {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
    }

    /// Parses `YYYY-MM-DDTHH:MM[:SS][Z]` (a space may replace the `T`). Returns `None` for
    /// anything else, including impossible dates such as February 30th.
    pub fn parse(text: &str) -> Option<Timestamp> {
        let text = text.trim();
        let text = text.strip_suffix('Z').unwrap_or(text);
        let (date_part, time_part) = text.split_once(['T', ' '])?;
        let date = Date::parse(date_part)?;
        let mut fields = time_part.split(':');
        let hour = parse_number(fields.next()?, 2)?;
        let minute = parse_number(fields.next()?, 2)?;
        let second = match fields.next() {
            Some(s) => parse_number(s, 2)?,
            None => 0,
        };
        if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let days = days_from_civil(date.year, date.month, date.day);
        Some(Timestamp(
            days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second,
        ))
    }

    /// This time plus a number of minutes (negative goes back).
    pub fn plus_minutes(self, minutes: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(minutes.saturating_mul(60)))
    }

    /// Whole hours from `self` until `later` (negative when `later` is in the past).
    pub fn hours_until(self, later: Timestamp) -> i64 {
        (later.0 - self.0).div_euclid(3600)
    }

    /// Hour of the day, 0-23.
    pub fn hour(self) -> i64 {
        self.0.rem_euclid(SECONDS_PER_DAY) / 3600
    }

    /// ISO weekday: 1 is Monday, 7 is Sunday.
    pub fn iso_weekday(self) -> i64 {
        // 1970-01-01 was a Thursday (ISO day 4).
        (self.0.div_euclid(SECONDS_PER_DAY) + 3).rem_euclid(7) + 1
    }

    /// The calendar date of this time.
    pub fn date(self) -> Date {
        let (year, month, day) = civil_from_days(self.0.div_euclid(SECONDS_PER_DAY));
        Date { year, month, day }
    }
}

impl fmt::Display for Timestamp {
    /// Formats as `YYYY-MM-DDTHH:MM:SSZ`, which also sorts correctly as text in SQLite.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let date = self.date();
        let secs = self.0.rem_euclid(SECONDS_PER_DAY);
        write!(
            f,
            "{}T{:02}:{:02}:{:02}Z",
            date,
            secs / 3600,
            (secs % 3600) / 60,
            secs % 60
        )
    }
}

impl Date {
    /// Parses `YYYY-MM-DD`, rejecting impossible dates.
    pub fn parse(text: &str) -> Option<Date> {
        let mut fields = text.trim().split('-');
        let year = parse_number(fields.next()?, 4)?;
        let month = parse_number(fields.next()?, 2)?;
        let day = parse_number(fields.next()?, 2)?;
        if fields.next().is_some() || !(1..=12).contains(&month) {
            return None;
        }
        if day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Completed years between this date (a birth date) and `on`.
    pub fn years_until(self, on: Date) -> i64 {
        let mut years = on.year - self.year;
        if (on.month, on.day) < (self.month, self.day) {
            years -= 1;
        }
        years
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn parse_number(text: &str, width: usize) -> Option<i64> {
    if text.len() != width || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap_year(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap_year(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the classic era-based algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}
