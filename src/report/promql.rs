//! The Prometheus HTTP API, as far as the report uses it: instant queries
//! (`/api/v1/query` with `time=`) returning a vector or — for a bare range
//! selector — the raw samples, and range queries (`/api/v1/query_range`).
//!
//! Queries go as form POSTs, so long PromQL never meets a URL length limit.
//! Every error names the server and, where there is one, the query, and says
//! in one line what went wrong: unreachable, not Prometheus, or a PromQL
//! error in Prometheus's own words.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::http::{self, HttpError, Url};

/// A series' labels, metric name (`__name__`) included when Prometheus
/// returns it.
pub type Labels = BTreeMap<String, String>;

/// One element of an instant vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// One series of a matrix: (Unix time, value) points in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub labels: Labels,
    pub points: Vec<(f64, f64)>,
}

/// Errors talking to Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("--prometheus: {0}")]
    Url(HttpError),
    #[error("cannot reach Prometheus at {url}: {source}")]
    Unreachable { url: String, source: HttpError },
    #[error("{url}{path} answered {status} {reason}{detail}: is this a Prometheus server?")]
    NotPrometheus {
        url: String,
        path: &'static str,
        status: u16,
        reason: String,
        detail: String,
    },
    #[error("Prometheus at {url} rejected {query:?}: {error_type}: {error}")]
    Query {
        url: String,
        query: String,
        error_type: String,
        error: String,
    },
    #[error("Prometheus at {url} answered {query:?} with {what}")]
    Unexpected {
        url: String,
        query: String,
        what: String,
    },
}

/// A Prometheus server.
#[derive(Clone, Debug)]
pub struct Prometheus {
    url: Url,
    timeout: Duration,
}

impl Prometheus {
    /// A server at `url` (`http://host:port[/prefix]`).
    pub fn new(url: &str, timeout: Duration) -> Result<Prometheus, PromError> {
        let url = Url::parse(url).map_err(PromError::Url)?;
        Ok(Prometheus { url, timeout })
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// An instant query at `time` that must return an instant vector.
    pub fn vector(&self, query: &str, time: i64) -> Result<Vec<Sample>, PromError> {
        let data = self.call("/api/v1/query", query, &[("time", &time.to_string())])?;
        let result = self.result_of(query, &data, "vector")?;
        result
            .iter()
            .map(|item| {
                Ok(Sample {
                    labels: labels(item),
                    value: item
                        .get("value")
                        .and_then(point)
                        .map(|(_, v)| v)
                        .ok_or_else(|| self.unexpected(query, "a sample without a value"))?,
                })
            })
            .collect()
    }

    /// An instant query at `time` of a range selector (`metric{…}[1d]`):
    /// the raw samples of every matching series in the range.
    pub fn raw(&self, query: &str, time: i64) -> Result<Vec<Series>, PromError> {
        let data = self.call("/api/v1/query", query, &[("time", &time.to_string())])?;
        self.matrix(query, &data)
    }

    /// A range query: `query` evaluated every `step` seconds from `start` to
    /// `end`.
    pub fn range(
        &self,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Vec<Series>, PromError> {
        let data = self.call(
            "/api/v1/query_range",
            query,
            &[
                ("start", &start.to_string()),
                ("end", &end.to_string()),
                ("step", &step.to_string()),
            ],
        )?;
        self.matrix(query, &data)
    }

    fn matrix(&self, query: &str, data: &Value) -> Result<Vec<Series>, PromError> {
        let result = self.result_of(query, data, "matrix")?;
        result
            .iter()
            .map(|item| {
                let points = item
                    .get("values")
                    .and_then(Value::as_array)
                    .ok_or_else(|| self.unexpected(query, "a series without values"))?
                    .iter()
                    .map(|p| point(p).ok_or_else(|| self.unexpected(query, "a malformed point")))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Series {
                    labels: labels(item),
                    points,
                })
            })
            .collect()
    }

    /// `data.result` when `data.resultType` is `want`.
    fn result_of<'d>(
        &self,
        query: &str,
        data: &'d Value,
        want: &str,
    ) -> Result<&'d Vec<Value>, PromError> {
        let kind = data.get("resultType").and_then(Value::as_str).unwrap_or("");
        if kind != want {
            return Err(self.unexpected(query, &format!("a {kind:?} result, not a {want}")));
        }
        data.get("result")
            .and_then(Value::as_array)
            .ok_or_else(|| self.unexpected(query, "no result list"))
    }

    /// POSTs a query and returns the `data` of a successful answer.
    fn call(
        &self,
        path: &'static str,
        query: &str,
        extra: &[(&str, &str)],
    ) -> Result<Value, PromError> {
        let mut fields = vec![("query", query)];
        fields.extend_from_slice(extra);
        let response =
            http::post_form(&self.url, path, &fields, self.timeout).map_err(|source| {
                PromError::Unreachable {
                    url: self.url.to_string(),
                    source,
                }
            })?;
        let doc: Option<Value> = serde_json::from_slice(&response.body).ok();
        let status = doc
            .as_ref()
            .and_then(|d| d.get("status"))
            .and_then(Value::as_str);
        match (status, doc.as_ref()) {
            (Some("success"), Some(doc)) => doc
                .get("data")
                .cloned()
                .ok_or_else(|| self.unexpected(query, "success without data")),
            (Some("error"), Some(doc)) => Err(PromError::Query {
                url: self.url.to_string(),
                query: query.to_string(),
                error_type: text(doc, "errorType"),
                error: text(doc, "error"),
            }),
            _ => {
                let excerpt: String = String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(80)
                    .collect::<String>()
                    .replace(['\r', '\n'], " ");
                Err(PromError::NotPrometheus {
                    url: self.url.to_string(),
                    path,
                    status: response.status,
                    reason: response.reason,
                    detail: if excerpt.trim().is_empty() {
                        String::new()
                    } else {
                        format!(" ({:?})", excerpt.trim())
                    },
                })
            }
        }
    }

    fn unexpected(&self, query: &str, what: &str) -> PromError {
        PromError::Unexpected {
            url: self.url.to_string(),
            query: query.to_string(),
            what: what.to_string(),
        }
    }
}

fn text(doc: &Value, key: &str) -> String {
    doc.get(key)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

fn labels(item: &Value) -> Labels {
    item.get("metric")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// `[1767225600.5, "42"]` → (time, value). Values are strings so that NaN
/// and ±Inf survive JSON; Rust parses Prometheus's spellings of them.
fn point(p: &Value) -> Option<(f64, f64)> {
    let pair = p.as_array()?;
    let time = pair.first()?.as_f64()?;
    let value = pair.get(1)?.as_str()?.parse::<f64>().ok()?;
    Some((time, value))
}

/// Quotes a label value for a PromQL selector.
pub fn quote(value: &str) -> String {
    // PromQL string literals escape like label values in the exposition.
    let mut out = String::with_capacity(value.len().saturating_add(2));
    out.push('"');
    crate::export::prometheus::push_escaped_label_value(&mut out, value);
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_read_prometheus_number_spellings() {
        let p = |s: &str| point(&serde_json::json!([1.5, s])).map(|(_, v)| v);
        assert_eq!(p("471913"), Some(471_913.0));
        assert_eq!(p("1.5e+06"), Some(1.5e6));
        assert_eq!(p("+Inf"), Some(f64::INFINITY));
        assert_eq!(p("-Inf"), Some(f64::NEG_INFINITY));
        assert!(p("NaN").is_some_and(f64::is_nan));
        assert_eq!(p("x"), None);
        assert_eq!(point(&serde_json::json!([1.5])), None);
    }

    #[test]
    fn label_values_are_quoted_for_promql() {
        assert_eq!(quote("a8:23:fe:4d:91:0e"), r#""a8:23:fe:4d:91:0e""#);
        assert_eq!(quote(r#"Anna's "phone" \ 2"#), r#""Anna's \"phone\" \\ 2""#);
    }
}
