//! `lanwatch report`: the daily (weekly, monthly) client-activity report,
//! computed from Prometheus with PromQL over its HTTP API.
//!
//! The report runs on the monitoring host, not on the router: the router
//! keeps only current counters, Prometheus keeps the history. Its parts:
//!
//! - [`http`]: a small HTTP/1.1 client (no TLS, one request per connection);
//! - [`promql`]: the API calls and their errors;
//! - [`time`]: local calendar days (the C library's time zone);
//! - [`queries`]: the PromQL, and exact counter growth over a window;
//! - [`figures`]: the report's data, gathered per client, protocol, domain;
//! - [`markdown`]: the rendering.
//!
//! A period is local calendar time: a day is midnight to midnight, a week
//! the seven days ending with the given date, a month the calendar month
//! holding it. A period that has not ended yet is reported up to now.

pub mod figures;
pub mod http;
pub mod markdown;
pub mod promql;
pub mod queries;
pub mod time;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use figures::{Period, Report};
use promql::{PromError, Prometheus};
use queries::{Queries, Window};
use time::{Date, TimeError};

/// How long one Prometheus call may take (a month of history is heavy).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(120);

/// What to report on, and where the report goes.
#[derive(Clone, Debug)]
pub struct Options {
    /// Base URL of Prometheus: `http://host:port[/prefix]`.
    pub prometheus: String,
    /// The day reported (a week's last day, any day of a month); None means
    /// yesterday.
    pub date: Option<Date>,
    pub period: Period,
    /// Write `client-activity-….md` (or `.json`) here instead of stdout.
    pub out: Option<PathBuf>,
    pub format: Format,
    /// Only this lanwatch (`instance` label) when several are scraped.
    pub instance: Option<String>,
}

/// The report's output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    /// The same figures as data, for scripts.
    Json,
}

/// Why a report could not be made, in one line.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Time(#[from] TimeError),
    #[error(transparent)]
    Prometheus(#[from] PromError),
    #[error("Prometheus at {url} has no lanwatch data for {what} ({from} → {to}){instance}: is lanwatch scraped, and is the date within Prometheus's retention?")]
    NoData {
        url: String,
        what: String,
        from: String,
        to: String,
        instance: String,
    },
    #[error("{what} has not started yet (it starts {from})")]
    NotStarted { what: String, from: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Gathers the report, renders it, and prints it or writes it to the
/// output directory (returning the path written).
pub fn run(options: &Options) -> Result<Option<PathBuf>, ReportError> {
    let report = generate(options)?;
    let (text, extension) = match options.format {
        Format::Markdown => (markdown::render(&report), "md"),
        Format::Json => (
            serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
            "json",
        ),
    };
    match &options.out {
        None => {
            print!("{text}");
            Ok(None)
        }
        Some(dir) => {
            let path = dir.join(format!("{}.{extension}", file_stem(&report, options)?));
            write_file(&path, &text)?;
            Ok(Some(path))
        }
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), ReportError> {
    let write = |source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(write)?;
    }
    // Write beside and rename, so a reader never sees half a report.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).map_err(write)?;
    std::fs::rename(&partial, path).map_err(write)
}

/// `client-activity-2026-01-01`, `client-activity-week-2026-01-07`,
/// `client-activity-2026-01`.
fn file_stem(report: &Report, options: &Options) -> Result<String, ReportError> {
    let date = report_date(options)?;
    Ok(match report.period {
        Period::Day => format!("client-activity-{date}"),
        Period::Week => format!("client-activity-week-{date}"),
        Period::Month => format!("client-activity-{:04}-{:02}", date.year, date.month),
    })
}

fn report_date(options: &Options) -> Result<Date, ReportError> {
    match options.date {
        Some(date) => Ok(date),
        None => Ok(time::today()?.add_days(-1)),
    }
}

/// The period's window, the window it is compared with, and their names.
pub struct Periods {
    pub title: String,
    pub what: String,
    pub current: Window,
    pub previous: Window,
    pub previous_label: String,
    pub previous_divisor: f64,
}

/// Local-time windows of `period` around `date`.
pub fn periods(period: Period, date: Date) -> Result<Periods, TimeError> {
    let midnight = time::local_midnight;
    Ok(match period {
        Period::Day => Periods {
            title: format!("{} {date}", date.weekday_name()),
            what: date.to_string(),
            current: Window {
                start: midnight(date)?,
                end: midnight(date.add_days(1))?,
            },
            previous: Window {
                start: midnight(date.add_days(-7))?,
                end: midnight(date)?,
            },
            previous_label: "the previous 7 days (daily average)".to_string(),
            previous_divisor: 7.0,
        },
        Period::Week => {
            let first = date.add_days(-6);
            Periods {
                title: format!("{first} – {date}"),
                what: format!("the week {first} – {date}"),
                current: Window {
                    start: midnight(first)?,
                    end: midnight(date.add_days(1))?,
                },
                previous: Window {
                    start: midnight(first.add_days(-7))?,
                    end: midnight(first)?,
                },
                previous_label: format!(
                    "the previous week ({} – {})",
                    first.add_days(-7),
                    first.add_days(-1)
                ),
                previous_divisor: 1.0,
            }
        }
        Period::Month => {
            let first = date.first_of_month();
            let before = date.first_of_previous_month();
            Periods {
                title: format!("{} {}", first.month_name(), first.year),
                what: format!("{} {}", first.month_name(), first.year),
                current: Window {
                    start: midnight(first)?,
                    end: midnight(date.first_of_next_month())?,
                },
                previous: Window {
                    start: midnight(before)?,
                    end: midnight(first)?,
                },
                previous_label: format!(
                    "the previous month ({} {})",
                    before.month_name(),
                    before.year
                ),
                previous_divisor: 1.0,
            }
        }
    })
}

/// Gathers the report's figures.
pub fn generate(options: &Options) -> Result<Report, ReportError> {
    let date = report_date(options)?;
    let periods = periods(options.period, date)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let local = |t: i64| {
        time::local_time(t)
            .map(|l| l.to_string())
            .unwrap_or_default()
    };
    if periods.current.start >= now {
        return Err(ReportError::NotStarted {
            what: periods.what,
            from: local(periods.current.start),
        });
    }
    let partial = periods.current.end > now;
    let mut window = periods.current;
    if partial {
        window.end = now;
    }

    let prometheus = Prometheus::new(&options.prometheus, QUERY_TIMEOUT)?;
    let queries = Queries::new(&prometheus, options.instance.clone());
    if !queries.has_lanwatch_data(window)? {
        return Err(ReportError::NoData {
            url: prometheus.url().to_string(),
            what: periods.what,
            from: local(window.start),
            to: local(window.end),
            instance: options
                .instance
                .as_ref()
                .map(|i| format!(" for instance {i:?}"))
                .unwrap_or_default(),
        });
    }
    let request = figures::Request {
        period: options.period,
        title: periods.title,
        window,
        partial,
        previous: periods.previous,
        previous_label: periods.previous_label,
        previous_divisor: periods.previous_divisor,
        generated: now,
        instance: options.instance.clone(),
    };
    Ok(figures::gather(
        &queries,
        &prometheus.url().to_string(),
        &request,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn a_day_is_compared_with_the_seven_days_before_it() {
        let p = periods(Period::Day, d("2026-01-09")).unwrap();
        assert_eq!(
            p.current.start,
            time::local_midnight(d("2026-01-09")).unwrap()
        );
        assert_eq!(
            p.current.end,
            time::local_midnight(d("2026-01-10")).unwrap()
        );
        assert_eq!(
            p.previous.start,
            time::local_midnight(d("2026-01-02")).unwrap()
        );
        assert_eq!(p.previous.end, p.current.start);
        assert_eq!(p.previous_divisor, 7.0);
        assert_eq!(p.title, "Friday 2026-01-09");
    }

    #[test]
    fn a_week_is_the_seven_days_ending_with_the_date() {
        let p = periods(Period::Week, d("2026-01-11")).unwrap();
        assert_eq!(
            p.current.start,
            time::local_midnight(d("2026-01-05")).unwrap()
        );
        assert_eq!(
            p.current.end,
            time::local_midnight(d("2026-01-12")).unwrap()
        );
        assert_eq!(
            p.previous.start,
            time::local_midnight(d("2025-12-29")).unwrap()
        );
        assert_eq!(p.previous.end, p.current.start);
    }

    #[test]
    fn a_month_is_the_calendar_month_against_the_one_before() {
        let p = periods(Period::Month, d("2026-03-17")).unwrap();
        assert_eq!(
            p.current.start,
            time::local_midnight(d("2026-03-01")).unwrap()
        );
        assert_eq!(
            p.current.end,
            time::local_midnight(d("2026-04-01")).unwrap()
        );
        assert_eq!(
            p.previous.start,
            time::local_midnight(d("2026-02-01")).unwrap()
        );
        assert_eq!(p.title, "March 2026");
        assert_eq!(p.previous_label, "the previous month (February 2026)");
    }
}
