//! Calendar days in the local time zone, for the report's windows.
//!
//! A report covers local calendar days: midnight to midnight where the user
//! lives, 23 or 25 hours long on daylight-saving days. The C library already
//! knows the zone (the `TZ` variable, else `/etc/localtime`), so local
//! midnights come from `mktime` and local dates from `localtime_r` — no
//! time-zone database of our own. Dates themselves (parsing, adding days,
//! weekdays, month lengths) are plain proleptic-Gregorian arithmetic.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

/// Errors of dates and local times, each naming the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("{text:?} is not a date: expected YYYY-MM-DD")]
    Syntax { text: String },
    #[error("{text:?} is not a date: {what}")]
    OutOfRange { text: String, what: &'static str },
    #[error("cannot convert {what} to local time")]
    Local { what: String },
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Date {
    /// A valid date, or None.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let m = i64::from(self.month);
        let d = i64::from(self.day);
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days since 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> Date {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: i32::try_from(year).unwrap_or(i32::MAX),
            // Both are in range by construction (1..=12, 1..=31).
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(self, n: i64) -> Date {
        Date::from_days_since_epoch(self.days_since_epoch().saturating_add(n))
    }

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> usize {
        // 1970-01-01 was a Thursday (3).
        usize::try_from((self.days_since_epoch() + 3).rem_euclid(7)).unwrap_or(0)
    }

    pub fn weekday_name(self) -> &'static str {
        WEEKDAYS.get(self.weekday()).copied().unwrap_or("")
    }

    pub fn month_name(self) -> &'static str {
        MONTHS
            .get(usize::from(self.month).saturating_sub(1))
            .copied()
            .unwrap_or("")
    }

    /// The first day of this date's month.
    pub fn first_of_month(self) -> Date {
        Date { day: 1, ..self }
    }

    /// The first day of the next month.
    pub fn first_of_next_month(self) -> Date {
        if self.month >= 12 {
            Date {
                year: self.year.saturating_add(1),
                month: 1,
                day: 1,
            }
        } else {
            Date {
                year: self.year,
                month: self.month + 1,
                day: 1,
            }
        }
    }

    /// The first day of the previous month.
    pub fn first_of_previous_month(self) -> Date {
        self.first_of_month().add_days(-1).first_of_month()
    }
}

/// Days in a month of the proleptic Gregorian calendar.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = TimeError;

    fn from_str(text: &str) -> Result<Date, TimeError> {
        let syntax = || TimeError::Syntax {
            text: text.to_string(),
        };
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes.get(4) == Some(&b'-')
            && bytes.get(7) == Some(&b'-')
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shaped {
            return Err(syntax());
        }
        let field = |range: std::ops::Range<usize>| -> Result<u32, TimeError> {
            text.get(range)
                .and_then(|s| s.parse().ok())
                .ok_or_else(syntax)
        };
        let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
        let out_of_range = |what| TimeError::OutOfRange {
            text: text.to_string(),
            what,
        };
        let year = i32::try_from(year).map_err(|_| syntax())?;
        let month = u8::try_from(month)
            .ok()
            .filter(|m| (1..=12).contains(m))
            .ok_or_else(|| out_of_range("month is not 01-12"))?;
        let day = u8::try_from(day).map_err(|_| out_of_range("no such day"))?;
        Date::new(year, month, day).ok_or_else(|| out_of_range("no such day in that month"))
    }
}

/// A local wall-clock reading of an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalTime {
    pub date: Date,
    pub hour: u8,
    pub minute: u8,
    /// Offset from UTC, seconds east.
    pub utc_offset: i64,
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.utc_offset < 0 { '-' } else { '+' };
        let offset = self.utc_offset.unsigned_abs();
        write!(
            f,
            "{} {:02}:{:02} {sign}{:02}:{:02}",
            self.date,
            self.hour,
            self.minute,
            offset / 3600,
            (offset % 3600) / 60
        )
    }
}

/// The local reading of `unix_seconds`.
pub fn local_time(unix_seconds: i64) -> Result<LocalTime, TimeError> {
    let failed = || TimeError::Local {
        what: format!("Unix time {unix_seconds}"),
    };
    let t = libc::time_t::try_from(unix_seconds).map_err(|_| failed())?;
    // SAFETY: an all-zero `tm` is a valid value (integers and a null zone
    // pointer); localtime_r only writes into the struct we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the duration of the call.
    let result = unsafe { libc::localtime_r(&t, &mut tm) };
    if result.is_null() {
        return Err(failed());
    }
    let year = tm.tm_year.checked_add(1900).ok_or_else(failed)?;
    let month = u8::try_from(tm.tm_mon.saturating_add(1)).map_err(|_| failed())?;
    let day = u8::try_from(tm.tm_mday).map_err(|_| failed())?;
    // c_long and time_t are 32 bits wide on some router targets.
    #[allow(clippy::useless_conversion)]
    let utc_offset = i64::from(tm.tm_gmtoff);
    Ok(LocalTime {
        date: Date::new(year, month, day).ok_or_else(failed)?,
        hour: u8::try_from(tm.tm_hour).map_err(|_| failed())?,
        minute: u8::try_from(tm.tm_min).map_err(|_| failed())?,
        utc_offset,
    })
}

/// The Unix time of local midnight at the start of `date` (or of the first
/// moment of that day, where the zone skips midnight).
pub fn local_midnight(date: Date) -> Result<i64, TimeError> {
    let failed = || TimeError::Local {
        what: format!("midnight of {date}"),
    };
    // SAFETY: as in `local_time`.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = date.year.checked_sub(1900).ok_or_else(failed)?;
    tm.tm_mon = i32::from(date.month) - 1;
    tm.tm_mday = i32::from(date.day);
    // Let the C library decide whether daylight saving is in force.
    tm.tm_isdst = -1;
    // SAFETY: the pointer is valid for the duration of the call.
    let t = unsafe { libc::mktime(&mut tm) };
    if t == -1 {
        // -1 is also one second before the epoch; check it really is.
        let epoch_minus_one = local_time(-1).ok().map(|l| l.date);
        if epoch_minus_one != Some(date) {
            return Err(failed());
        }
    }
    #[allow(clippy::useless_conversion)]
    let t = i64::from(t);
    Ok(t)
}

/// Today's local date.
pub fn today() -> Result<Date, TimeError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    local_time(i64::try_from(now).unwrap_or(i64::MAX)).map(|l| l.date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn dates_parse_only_as_yyyy_mm_dd() {
        assert_eq!(
            d("2026-01-31"),
            Date {
                year: 2026,
                month: 1,
                day: 31
            }
        );
        for bad in [
            "2026-1-31",
            "26-01-31",
            "2026/01/31",
            "2026-01-3x",
            "",
            "2026-01-31 ",
        ] {
            assert!(matches!(bad.parse::<Date>(), Err(TimeError::Syntax { .. })));
        }
        for bad in [
            "2026-13-01",
            "2026-00-10",
            "2026-02-29",
            "2026-04-31",
            "2026-01-00",
        ] {
            assert!(matches!(
                bad.parse::<Date>(),
                Err(TimeError::OutOfRange { .. })
            ));
        }
        assert_eq!(d("2024-02-29").to_string(), "2024-02-29");
    }

    #[test]
    fn day_numbers_round_trip_across_leap_years_and_centuries() {
        assert_eq!(d("1970-01-01").days_since_epoch(), 0);
        assert_eq!(d("2000-03-01").days_since_epoch(), 11_017);
        assert_eq!(d("1969-12-31").days_since_epoch(), -1);
        let mut date = d("1899-12-25");
        for _ in 0..100_000 {
            let next = date.add_days(1);
            assert_eq!(next.days_since_epoch(), date.days_since_epoch() + 1);
            assert!(next > date);
            date = next;
        }
        assert_eq!(d("2024-02-28").add_days(1), d("2024-02-29"));
        assert_eq!(d("2100-02-28").add_days(1), d("2100-03-01"));
        assert_eq!(d("2026-01-01").add_days(-1), d("2025-12-31"));
    }

    #[test]
    fn weekdays_and_months() {
        assert_eq!(d("2026-01-01").weekday_name(), "Thursday");
        assert_eq!(d("2026-11-30").weekday_name(), "Monday");
        assert_eq!(d("2026-03-15").first_of_next_month(), d("2026-04-01"));
        assert_eq!(d("2026-12-15").first_of_next_month(), d("2027-01-01"));
        assert_eq!(d("2026-01-15").first_of_previous_month(), d("2025-12-01"));
        assert_eq!(d("2026-03-31").first_of_previous_month(), d("2026-02-01"));
        assert_eq!(d("2026-02-10").month_name(), "February");
    }

    /// The zone is the machine's here (the integration tests run the report
    /// with TZ set), so only relations that hold in every zone are checked.
    #[test]
    fn local_midnight_is_the_start_of_the_local_day() {
        for date in [
            d("2026-01-01"),
            d("2026-03-29"),
            d("2026-10-25"),
            d("2026-07-04"),
        ] {
            let midnight = local_midnight(date).unwrap();
            let local = local_time(midnight).unwrap();
            assert_eq!(local.date, date);
            assert_eq!((local.hour, local.minute), (0, 0));
            let before = local_time(midnight - 1).unwrap();
            assert_eq!(before.date, date.add_days(-1));
            let next = local_midnight(date.add_days(1)).unwrap();
            assert!((23 * 3600..=25 * 3600).contains(&(next - midnight)));
        }
    }
}
