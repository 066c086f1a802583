//! Loki's HTTP API through the host's `loki` endpoint: range and instant queries and
//! label values, answers decoded from Loki's JSON, and failures turned into messages
//! that say what Loki said (its LogQL parse errors verbatim) or what to check.

use std::collections::BTreeMap;
use std::rc::Rc;

use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::http::{Endpoint, HttpError};
use serde::Deserialize;
use serde_json::Value;

use crate::window::Window;

/// The endpoint name the plugin asks the operator for.
pub const ENDPOINT: &str = "loki";

/// Loki's default `max_entries_limit_per_query`: the most lines one query returns.
pub const MAX_LIMIT: usize = 5000;

/// Stream labels, shared by the entries of one stream.
pub type Labels = Rc<BTreeMap<String, String>>;

/// One log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Unix nanoseconds.
    pub ts: i64,
    pub line: String,
    /// The stream's labels (with any labels a parser extracted).
    pub labels: Labels,
}

/// Which end of the window Loki starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Newest first (Loki's default): the `limit` newest lines.
    Backward,
    /// Oldest first: the `limit` oldest lines.
    Forward,
}

/// One sample of a metric query.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// One series of a metric range query: labels and `(Unix seconds, value)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: BTreeMap<String, String>,
    pub points: Vec<(f64, f64)>,
}

/// The answer to a range query.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeAnswer {
    Streams(Vec<Entry>),
    Matrix(Vec<Series>),
}

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    #[serde(default)]
    error: Option<String>,
    data: Option<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryData {
    result_type: String,
    #[serde(default)]
    result: Vec<Value>,
}

/// The Loki client.
pub struct Loki {
    endpoint: Endpoint,
}

impl Default for Loki {
    fn default() -> Self {
        Loki {
            endpoint: Endpoint::new(ENDPOINT),
        }
    }
}

impl Loki {
    /// `GET /loki/api/v1/query_range` for a log query; entries in Loki's order.
    pub fn logs(
        &self,
        query: &str,
        window: &Window,
        limit: usize,
        direction: Direction,
    ) -> Result<Vec<Entry>, ToolError> {
        match self.range(query, window, limit, direction)? {
            RangeAnswer::Streams(entries) => Ok(entries),
            RangeAnswer::Matrix(_) => Err(ToolError::failed(format!(
                "Loki answered a metric result to a log query; LogQL: {query}"
            ))),
        }
    }

    /// `GET /loki/api/v1/query_range` for any query.
    pub fn range(
        &self,
        query: &str,
        window: &Window,
        limit: usize,
        direction: Direction,
    ) -> Result<RangeAnswer, ToolError> {
        let (start, end, limit) = (
            window.start_ns.to_string(),
            window.end_ns.to_string(),
            limit.clamp(1, MAX_LIMIT).to_string(),
        );
        let direction = match direction {
            Direction::Backward => "backward",
            Direction::Forward => "forward",
        };
        let params = [
            ("query", query),
            ("start", &start),
            ("end", &end),
            ("limit", &limit),
            ("direction", direction),
        ];
        self.query_range(query, &params)
    }

    /// `GET /loki/api/v1/query_range` for a metric query evaluated every `step`
    /// seconds over `window`.
    pub fn matrix(
        &self,
        query: &str,
        window: &Window,
        step: f64,
    ) -> Result<Vec<Series>, ToolError> {
        let (start, end, step) = (
            window.start_ns.to_string(),
            window.end_ns.to_string(),
            step.to_string(),
        );
        let params = [
            ("query", query),
            ("start", start.as_str()),
            ("end", end.as_str()),
            ("step", step.as_str()),
        ];
        match self.query_range(query, &params)? {
            RangeAnswer::Matrix(series) => Ok(series),
            RangeAnswer::Streams(_) => Err(ToolError::failed(format!(
                "Loki answered log lines to a metric query; LogQL: {query}"
            ))),
        }
    }

    fn query_range(&self, query: &str, params: &[(&str, &str)]) -> Result<RangeAnswer, ToolError> {
        let data: QueryData = self
            .get("/loki/api/v1/query_range", params, Some(query))?
            .ok_or_else(|| no_data(query))?;
        match data.result_type.as_str() {
            "streams" => Ok(RangeAnswer::Streams(streams(&data.result))),
            "matrix" => Ok(RangeAnswer::Matrix(
                data.result
                    .iter()
                    .map(|r| Series {
                        labels: labels(&r["metric"]),
                        points: r["values"]
                            .as_array()
                            .map(|vs| vs.iter().filter_map(point).collect())
                            .unwrap_or_default(),
                    })
                    .collect(),
            )),
            other => Err(ToolError::failed(format!(
                "Loki answered an unexpected result type `{other}`; LogQL: {query}"
            ))),
        }
    }

    /// `GET /loki/api/v1/query`: an instant metric query evaluated at `time_ns`.
    pub fn instant(&self, query: &str, time_ns: i64) -> Result<Vec<Sample>, ToolError> {
        let time = time_ns.to_string();
        let data: QueryData = self
            .get(
                "/loki/api/v1/query",
                &[("query", query), ("time", &time)],
                Some(query),
            )?
            .ok_or_else(|| no_data(query))?;
        if data.result_type != "vector" {
            return Err(ToolError::failed(format!(
                "Loki answered `{}` where a vector was expected; LogQL: {query}",
                data.result_type
            )));
        }
        Ok(data
            .result
            .iter()
            .filter_map(|r| {
                Some(Sample {
                    labels: labels(&r["metric"]),
                    value: point(&r["value"])?.1,
                })
            })
            .collect())
    }

    /// `GET /loki/api/v1/labels` over `window`.
    pub fn labels(&self, window: &Window) -> Result<Vec<String>, ToolError> {
        let (start, end) = (window.start_ns.to_string(), window.end_ns.to_string());
        Ok(self
            .get::<Vec<String>>(
                "/loki/api/v1/labels",
                &[("start", &start), ("end", &end)],
                None,
            )?
            .unwrap_or_default())
    }

    /// `GET /loki/api/v1/label/<name>/values`: the values of label `name` on the
    /// streams `selector` picks in `window`, sorted. Read from the index, so cheap
    /// however many lines there are, but a value whose lines all lie just outside
    /// the window may be named too (an ingester answers for whole chunks).
    pub fn label_values(
        &self,
        name: &str,
        selector: &str,
        window: &Window,
    ) -> Result<Vec<String>, ToolError> {
        let (start, end) = (window.start_ns.to_string(), window.end_ns.to_string());
        let path = format!(
            "/loki/api/v1/label/{}/values",
            plue_plugin_sdk::http::encode(name)
        );
        let params = [("query", selector), ("start", &start), ("end", &end)];
        let mut values = self
            .get::<Vec<String>>(&path, &params, None)?
            .unwrap_or_default();
        values.retain(|v| !v.is_empty());
        values.sort();
        values.dedup();
        Ok(values)
    }

    /// `GET /loki/api/v1/series`: the label sets of the streams matching `selector` in `window`.
    pub fn series(
        &self,
        selector: &str,
        window: &Window,
    ) -> Result<Vec<BTreeMap<String, String>>, ToolError> {
        let (start, end) = (window.start_ns.to_string(), window.end_ns.to_string());
        let params = [("match[]", selector), ("start", &start), ("end", &end)];
        let data = self.get::<Vec<Value>>("/loki/api/v1/series", &params, None)?;
        Ok(data.unwrap_or_default().iter().map(labels).collect())
    }

    /// `GET path?params` and the `data` of Loki's answer (`None` when it has none).
    fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, &str)],
        query: Option<&str>,
    ) -> Result<Option<T>, ToolError> {
        let response = self.endpoint.get(path, params).map_err(transport_error)?;
        let body = response.text();
        if !(200..300).contains(&response.status) {
            return Err(http_error(response.status, &body, query));
        }
        let envelope: Envelope<T> = serde_json::from_str(&body).map_err(|e| {
            ToolError::failed(format!("Loki's answer to {path} is not the JSON Loki sends ({e}); is endpoint `{ENDPOINT}` a Loki server?"))
        })?;
        if envelope.status != "success" {
            return Err(ToolError::failed(format!(
                "Loki query failed: {}{}",
                envelope
                    .error
                    .unwrap_or_else(|| format!("status `{}`", envelope.status)),
                query.map(|q| format!("\nLogQL: {q}")).unwrap_or_default()
            )));
        }
        Ok(envelope.data)
    }
}

fn no_data(query: &str) -> ToolError {
    ToolError::failed(format!("Loki's answer has no `data`; LogQL: {query}"))
}

/// A refused or failed request: Loki's own message first (for a 400, its LogQL parse
/// error), then the query.
fn http_error(status: u16, body: &str, query: Option<&str>) -> ToolError {
    let said = plue_plugin_sdk::text::truncate_chars(body.trim(), 1000).0;
    let what = match status {
        400 => "Loki rejected the query",
        404 => "Loki has no such API path (is endpoint `loki` a Loki server, with no path prefix?)",
        401 | 403 => "Loki refused access (check the credentials configured for endpoint `loki`)",
        429 => "Loki is rate-limiting queries (try again shortly, or narrow the window)",
        s if s >= 500 => "Loki failed to answer",
        _ => "Loki answered an error",
    };
    let query = query.map(|q| format!("\nLogQL: {q}")).unwrap_or_default();
    ToolError::failed(format!("{what} (HTTP {status}): {said}{query}"))
}

/// A transport failure, naming the endpoint and what to check.
fn transport_error(e: HttpError) -> ToolError {
    let advice = match &e {
        HttpError::Unreachable(_) => {
            "check that Loki is running and that `[endpoints.loki] url` in the plue-mcp configuration points at it (`plue-mcp check` tests it)"
        }
        HttpError::Timeout(_) => {
            "narrow the time window or the filters, or raise the endpoint's timeout"
        }
        HttpError::ResponseTooLarge(_) => "lower `limit` or narrow the time window",
        HttpError::AccessDenied(_) => "grant it with `http = [\"loki\"]` under `[plugins.logs]`",
        HttpError::InvalidRequest(_) => "this is a bug in the logs plugin; please report it",
    };
    ToolError::failed(format!("endpoint `{ENDPOINT}`: {}; {advice}", e.describe()))
}

fn labels(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `[time, "value"]` with time in (fractional) Unix seconds.
fn point(v: &Value) -> Option<(f64, f64)> {
    let t = v.get(0)?;
    let t = t.as_f64().or_else(|| t.as_str()?.parse().ok())?;
    let value = v.get(1)?.as_str()?.parse().ok()?;
    Some((t, value))
}

/// The entries of a `streams` result (values are `[ns, line]`, or `[ns, line, metadata]`).
fn streams(result: &[Value]) -> Vec<Entry> {
    let mut out = Vec::new();
    for stream in result {
        let labels: Labels = Rc::new(labels(&stream["stream"]));
        for v in stream["values"].as_array().into_iter().flatten() {
            let ts = v.get(0).and_then(|t| {
                t.as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| t.as_i64())
            });
            if let (Some(ts), Some(line)) = (ts, v.get(1).and_then(Value::as_str)) {
                out.push(Entry {
                    ts,
                    line: line.to_string(),
                    labels: labels.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use plue_plugin_sdk::testing;

    fn window() -> Window {
        Window::parse("2025-11-24T15:00:00Z", Some("2025-11-24T16:00:00Z"), 0).unwrap()
    }

    #[test]
    fn range_query_sends_nanoseconds_and_decodes_streams() {
        testing::fake_http(|req| {
            assert_eq!(req.endpoint, "loki");
            assert_eq!(
                req.path_and_query,
                "/loki/api/v1/query_range?query=%7Ba%3D%22b%22%7D&start=1763996400000000000&end=1764000000000000000&limit=5&direction=forward"
            );
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"streams","result":[
                    {"stream":{"service":"api"},"values":[["1763996400000000001","one"],["1763996400000000002","two",{"k":"v"}]]}],
                    "stats":{}}}"#,
            ))
        });
        let entries = Loki::default()
            .logs(r#"{a="b"}"#, &window(), 5, Direction::Forward)
            .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[1].ts, entries[1].line.as_str()),
            (1_763_996_400_000_000_002, "two")
        );
        assert_eq!(entries[0].labels["service"], "api");
    }

    #[test]
    fn instant_query_decodes_vectors() {
        testing::fake_http(|req| {
            assert!(
                req.path_and_query.starts_with("/loki/api/v1/query?query="),
                "{}",
                req.path_and_query
            );
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"resultType":"vector","result":[
                    {"metric":{"service":"api"},"value":[1764000000,"53"]},{"metric":{},"value":[1764000000.5,"4"]}]}}"#,
            ))
        });
        let samples = Loki::default().instant("sum(x)", 1).unwrap();
        assert_eq!(samples[0].value, 53.0);
        assert!(samples[1].labels.is_empty());
    }

    #[test]
    fn errors_carry_lokis_message_and_the_query() {
        testing::fake_http(|_| {
            Ok(testing::response(
                400,
                "parse error at line 1, col 5: syntax error: unexpected IDENTIFIER\n",
            ))
        });
        let e = Loki::default()
            .logs("{a=b}", &window(), 5, Direction::Backward)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Loki rejected the query (HTTP 400): parse error at line 1, col 5: syntax error: unexpected IDENTIFIER\nLogQL: {a=b}"
        );
        testing::fake_http(|_| Err(HttpError::Unreachable("connection refused".into())));
        let e = Loki::default().labels(&window()).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "endpoint `loki`: unreachable: connection refused; check that Loki is running"
            ),
            "{e}"
        );
        testing::fake_http(|_| {
            Ok(testing::response(
                200,
                r#"{"status":"error","error":"too many outstanding requests"}"#,
            ))
        });
        let e = Loki::default()
            .instant("sum(x)", 1)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "Loki query failed: too many outstanding requests\nLogQL: sum(x)"
        );
        testing::fake_http(|_| Ok(testing::response(200, "<html>")));
        let e = Loki::default().labels(&window()).unwrap_err().to_string();
        assert!(e.contains("is endpoint `loki` a Loki server?"), "{e}");
    }
}
