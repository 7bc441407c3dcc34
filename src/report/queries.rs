//! The PromQL behind the report, and how a counter's growth over a window is
//! counted exactly.
//!
//! Prometheus's `increase()` extrapolates to the window's edges and never
//! counts a series' first sample, so a client that appeared and did all its
//! traffic between two scrapes would show nothing, and daily figures would
//! not add up to weekly ones. The report wants the bytes lanwatch counted, so
//! it attributes each scraped delta to the window holding the later sample:
//!
//! growth over (start, end] = last value in the window − the series' last
//! value at or before `start` (0 for a series born inside the window),
//!
//! per client *identity*: the series' labels without `ip`, because lanwatch
//! keeps counting when a client's address changes and only the label moves.
//! Clients without a MAC keep `ip` (it is their identity). Four small instant
//! queries give last, first, resets and the number of address series for
//! every identity at once; only identities where the counter restarted
//! (lanwatch restarted, or evicted the client) or whose address changed in
//! the window are counted from their raw samples.

use std::collections::BTreeMap;

use super::promql::{quote, Labels, PromError, Prometheus, Sample, Series};
use crate::export::prometheus::{
    Description, CLIENT_BANDWIDTH_BYTES, CLIENT_INFO, LANWATCH_BUILD_INFO,
};

/// A report window: Unix seconds, `start` excluded, `end` included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: i64,
    pub end: i64,
}

impl Window {
    pub fn seconds(self) -> i64 {
        self.end.saturating_sub(self.start).max(1)
    }
}

/// How far before a window a counter's previous value is looked for.
pub const PREVIOUS_VALUE_LOOKBACK_SECONDS: i64 = 7 * 86_400;

/// How far before a window the raw samples of a restarted counter are read.
const RAW_MARGIN_SECONDS: i64 = 3_600;

/// How far back "seen before" looks for the first-seen check.
pub const FIRST_SEEN_LOOKBACK_SECONDS: i64 = 30 * 86_400;

/// The report's view of one Prometheus: queries restricted to one lanwatch
/// `instance` when asked.
pub struct Queries<'a> {
    prometheus: &'a Prometheus,
    instance: Option<String>,
}

/// What `growth` found for one identity before deciding how to count it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub last: f64,
    pub first: f64,
    pub resets: f64,
    pub address_series: f64,
    pub previous: Option<f64>,
}

impl Summary {
    /// The growth, when the summary alone determines it.
    pub fn growth(&self) -> Option<f64> {
        if self.resets > 0.0 || self.address_series > 1.0 {
            return None;
        }
        let previous = self.previous.unwrap_or(0.0);
        if self.first >= previous {
            Some(self.last - previous)
        } else {
            // Restarted between the last sample before the window and the
            // first one in it: it counted from zero.
            Some(self.last)
        }
    }
}

impl<'a> Queries<'a> {
    pub fn new(prometheus: &'a Prometheus, instance: Option<String>) -> Queries<'a> {
        Queries {
            prometheus,
            instance,
        }
    }

    /// `metric{extra,instance="…"}` (extra may be empty).
    pub fn selector(&self, metric: &str, extra: &str) -> String {
        let mut matchers: Vec<String> = Vec::new();
        if !extra.is_empty() {
            matchers.push(extra.to_string());
        }
        if let Some(instance) = &self.instance {
            matchers.push(format!("instance={}", quote(instance)));
        }
        format!("{metric}{{{}}}", matchers.join(","))
    }

    /// Whether any lanwatch series has samples in the window.
    pub fn has_lanwatch_data(&self, window: Window) -> Result<bool, PromError> {
        let names = format!(
            "__name__=~\"{}|{}\"",
            LANWATCH_BUILD_INFO.name, CLIENT_INFO.name
        );
        let query = format!(
            "count(last_over_time({}[{}s]))",
            self.selector("", &names),
            window.seconds()
        );
        Ok(!self.prometheus.vector(&query, window.end)?.is_empty())
    }

    /// Each identity's counter growth over the window (identities with no
    /// sample in the window are left out). Labels are the series' labels
    /// without `__name__`, and without `ip` where there is a MAC.
    pub fn growth(
        &self,
        family: &Description,
        window: Window,
    ) -> Result<Vec<(Labels, f64)>, PromError> {
        let summaries = self.summaries(family, window)?;
        let mut out = Vec::with_capacity(summaries.len());
        for (identity, summary) in summaries {
            let growth = match summary.growth() {
                Some(growth) => growth,
                None => self.raw_growth(family, &identity, summary.previous, window)?,
            };
            if growth.is_finite() {
                out.push((identity, growth.max(0.0)));
            }
        }
        Ok(out)
    }

    /// Last, first, resets, address series and previous value per identity.
    pub fn summaries(
        &self,
        family: &Description,
        window: Window,
    ) -> Result<BTreeMap<Labels, Summary>, PromError> {
        let with_mac = self.selector(family.name, "mac!=\"\"");
        let without_mac = self.selector(family.name, "mac=\"\"");
        let w = window.seconds();
        let per_identity = |function: &str, aggregation: &str, range: &str| {
            format!(
                "{aggregation} without (ip) ({function}({with_mac}{range})) or {function}({without_mac}{range})"
            )
        };
        let in_window = format!("[{w}s]");
        let before = format!("[{PREVIOUS_VALUE_LOOKBACK_SECONDS}s] offset {w}s");
        let previous_query = per_identity("last_over_time", "max", &before);
        let last = self.by_labels(&per_identity("last_over_time", "max", &in_window), window)?;
        if last.is_empty() {
            return Ok(BTreeMap::new());
        }
        let first = self.by_labels(&per_identity("min_over_time", "min", &in_window), window)?;
        let resets = self.by_labels(&per_identity("resets", "sum", &in_window), window)?;
        let addresses = self.by_labels(
            &format!("count without (ip) (last_over_time({with_mac}{in_window}))"),
            window,
        )?;
        let previous = self.by_labels(&previous_query, window)?;
        Ok(last
            .into_iter()
            .map(|(identity, last)| {
                let summary = Summary {
                    last,
                    first: first.get(&identity).copied().unwrap_or(last),
                    resets: resets.get(&identity).copied().unwrap_or(0.0),
                    address_series: addresses.get(&identity).copied().unwrap_or(1.0),
                    previous: previous.get(&identity).copied(),
                };
                (identity, summary)
            })
            .collect())
    }

    /// Growth of one identity counted from its raw samples.
    fn raw_growth(
        &self,
        family: &Description,
        identity: &Labels,
        previous: Option<f64>,
        window: Window,
    ) -> Result<f64, PromError> {
        let mut matchers: Vec<String> = identity
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        if !identity.contains_key("mac") {
            matchers.push("mac=\"\"".to_string());
        }
        let range = window.seconds().saturating_add(RAW_MARGIN_SECONDS);
        let query = format!("{}{{{}}}[{range}s]", family.name, matchers.join(","));
        let series = self.prometheus.raw(&query, window.end)?;
        Ok(growth_from_samples(&series, window, previous))
    }

    /// An instant query at the window's end, keyed by label set.
    fn by_labels(&self, query: &str, window: Window) -> Result<BTreeMap<Labels, f64>, PromError> {
        Ok(self
            .prometheus
            .vector(query, window.end)?
            .into_iter()
            .map(|s| (without_name(s.labels), s.value))
            .collect())
    }

    /// `function(family[window])` per series, e.g. the highest value of a
    /// gauge or the last value of an info metric.
    pub fn over_window(
        &self,
        function: &str,
        family: &Description,
        window: Window,
    ) -> Result<Vec<Sample>, PromError> {
        let query = format!(
            "{function}({}[{}s])",
            self.selector(family.name, ""),
            window.seconds()
        );
        self.prometheus.vector(&query, window.end)
    }

    /// Series of the family that had a sample in the `lookback` seconds before
    /// the window.
    pub fn seen_before(
        &self,
        family: &Description,
        window: Window,
        lookback: i64,
    ) -> Result<Vec<Sample>, PromError> {
        let query = format!(
            "last_over_time({}[{lookback}s] offset {}s)",
            self.selector(family.name, ""),
            window.seconds()
        );
        self.prometheus.vector(&query, window.end)
    }

    /// Bandwidth (both directions) per client address series and hour:
    /// points at the end of each hour of the window.
    pub fn hourly_bandwidth(&self, window: Window) -> Result<Vec<Series>, PromError> {
        let query = format!(
            "sum by (mac, ip) (increase({}[1h]))",
            self.selector(CLIENT_BANDWIDTH_BYTES.name, "")
        );
        let first = window.start.saturating_add(3_600);
        if first > window.end {
            return Ok(Vec::new());
        }
        self.prometheus.range(&query, first, window.end, 3_600)
    }
}

fn without_name(mut labels: Labels) -> Labels {
    labels.remove("__name__");
    labels
}

/// A counter's growth over the window from raw samples of one identity
/// (possibly several address series): the samples are merged in time order;
/// the starting value is the last sample at or before the window's start,
/// else `previous`, else 0; a drop means the counter restarted from zero.
pub fn growth_from_samples(series: &[Series], window: Window, previous: Option<f64>) -> f64 {
    let mut points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied())
        .filter(|(_, v)| v.is_finite())
        .collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (start, end) = (window.start as f64, window.end as f64);
    let mut current = points
        .iter()
        .rev()
        .find(|(t, _)| *t <= start)
        .map(|(_, v)| *v)
        .or(previous)
        .unwrap_or(0.0);
    let mut growth = 0.0;
    for &(_, value) in points.iter().filter(|(t, _)| *t > start && *t <= end) {
        growth += if value >= current {
            value - current
        } else {
            value
        };
        current = value;
    }
    growth
}

/// The client a series belongs to: its MAC, or its IP where it has none.
pub fn client_key(labels: &Labels) -> String {
    labels
        .get("mac")
        .filter(|m| !m.is_empty())
        .or_else(|| labels.get("ip"))
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(i64, f64)]) -> Series {
        Series {
            labels: Labels::new(),
            points: points.iter().map(|&(t, v)| (t as f64, v)).collect(),
        }
    }

    const W: Window = Window {
        start: 1_000,
        end: 2_000,
    };

    #[test]
    fn a_series_born_in_the_window_counts_its_first_sample() {
        let s = series(&[(1_100, 500.0), (1_200, 700.0)]);
        assert_eq!(growth_from_samples(&[s], W, None), 700.0);
    }

    #[test]
    fn the_delta_across_the_start_belongs_to_the_window_of_the_later_sample() {
        // 400 counted by the sample at 1000 (previous window), 100 + 50 here.
        let s = series(&[
            (900, 300.0),
            (1_000, 400.0),
            (1_030, 500.0),
            (2_000, 550.0),
            (2_030, 900.0),
        ]);
        assert_eq!(growth_from_samples(&[s], W, None), 150.0);
    }

    #[test]
    fn a_restart_counts_from_zero() {
        let s = series(&[
            (990, 1_000.0),
            (1_100, 1_200.0),
            (1_200, 30.0),
            (1_300, 80.0),
        ]);
        assert_eq!(growth_from_samples(&[s], W, None), 200.0 + 30.0 + 50.0);
    }

    #[test]
    fn address_series_of_one_client_merge_in_time_order() {
        let old_ip = series(&[(990, 100.0), (1_100, 150.0)]);
        let new_ip = series(&[(1_200, 180.0), (1_300, 200.0)]);
        assert_eq!(growth_from_samples(&[new_ip, old_ip], W, None), 100.0);
    }

    #[test]
    fn without_a_sample_before_the_window_the_previous_value_is_the_start() {
        let s = series(&[(1_100, 150.0)]);
        assert_eq!(
            growth_from_samples(std::slice::from_ref(&s), W, Some(100.0)),
            50.0
        );
        assert_eq!(growth_from_samples(&[s], W, None), 150.0);
    }

    #[test]
    fn summaries_decide_the_common_cases_alone() {
        let quiet = Summary {
            last: 500.0,
            first: 400.0,
            resets: 0.0,
            address_series: 1.0,
            previous: Some(400.0),
        };
        assert_eq!(quiet.growth(), Some(100.0));
        let born = Summary {
            previous: None,
            ..quiet
        };
        assert_eq!(born.growth(), Some(500.0));
        let restarted_at_the_start = Summary {
            first: 20.0,
            previous: Some(9_000.0),
            ..quiet
        };
        assert_eq!(restarted_at_the_start.growth(), Some(500.0));
        let restarted_inside = Summary {
            resets: 1.0,
            ..quiet
        };
        assert_eq!(restarted_inside.growth(), None);
        let moved = Summary {
            address_series: 2.0,
            ..quiet
        };
        assert_eq!(moved.growth(), None);
    }

    #[test]
    fn clients_are_keyed_by_mac_else_ip() {
        let mut l = Labels::new();
        l.insert("ip".into(), "10.0.0.2".into());
        assert_eq!(client_key(&l), "10.0.0.2");
        l.insert("mac".into(), "".into());
        assert_eq!(client_key(&l), "10.0.0.2");
        l.insert("mac".into(), "02:00:00:00:00:01".into());
        assert_eq!(client_key(&l), "02:00:00:00:00:01");
    }
}
