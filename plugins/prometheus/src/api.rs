//! The Prometheus HTTP API (`/api/v1/...`) as the tools use it: one call helper that
//! unwraps Prometheus's `{"status": …, "data": …}` envelope and turns every failure
//! (Prometheus's own error JSON, an HTTP status without it, a transport error) into a
//! message an agent can act on; and the response types, lenient about fields that
//! older or Prometheus-compatible servers leave out.

use std::collections::BTreeMap;

use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::http::{Endpoint, HttpError};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// The endpoint the plugin asks for; the operator grants it under `[plugins.prometheus]`.
pub const ENDPOINT: &str = "prometheus";

/// Label name → value.
pub type Labels = BTreeMap<String, String>;

/// A successful answer: the `data` field and any warnings or infos Prometheus attached.
#[derive(Debug)]
pub struct Reply<T> {
    pub data: T,
    /// `warnings` and `infos` of the envelope, in that order.
    pub notes: Vec<String>,
}

/// Why a call failed. Converts into a [`ToolError`] whose text the agent reads.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// Prometheus answered with its error JSON.
    Prometheus {
        status: u16,
        kind: String,
        message: String,
    },
    /// An HTTP error status without Prometheus's error JSON.
    Http {
        status: u16,
        path: String,
        body: String,
    },
    /// The body was not the expected JSON.
    Decode { path: String, detail: String },
    /// The host could not complete the request.
    Transport(HttpError),
}

impl ApiError {
    /// The message, with a caret under the failing position when it is a PromQL
    /// parse error in `query`.
    pub fn for_query(self, query: &str) -> ToolError {
        let mut text = self.message();
        if let ApiError::Prometheus { message, .. } = &self
            && let Some(caret) = crate::promql::caret(query, message)
        {
            text.push_str("\n\n");
            text.push_str(&caret);
        }
        ToolError::failed(text)
    }

    /// Whether the server lacks this API (404, or Prometheus's `not_found`).
    pub fn is_missing_api(&self) -> bool {
        match self {
            ApiError::Http { status, .. } => *status == 404 || *status == 405,
            ApiError::Prometheus { kind, status, .. } => kind == "not_found" || *status == 404,
            _ => false,
        }
    }

    /// The message the agent reads.
    pub fn message(&self) -> String {
        match self {
            ApiError::Prometheus {
                status,
                kind,
                message,
            } => {
                let hint = match kind.as_str() {
                    "bad_data" => "Fix the query or parameter named above.",
                    "timeout" | "canceled" => {
                        "Narrow the query: a shorter range, a larger step or more selective label matchers."
                    }
                    "unavailable" => "Prometheus is starting or overloaded; try again shortly.",
                    "execution"
                        if message.contains("too many samples") || message.contains("limit") =>
                    {
                        "Narrow the query: a shorter range, a larger step or more selective label matchers."
                    }
                    _ => "",
                };
                let mut text =
                    format!("Prometheus rejected the request ({kind}, HTTP {status}): {message}");
                if !hint.is_empty() {
                    text.push('\n');
                    text.push_str(hint);
                }
                text
            }
            ApiError::Http { status, path, body } => {
                let hint = match status {
                    401 | 403 => {
                        "check the credentials (headers) configured for [endpoints.prometheus]."
                    }
                    404 | 405 => {
                        "check the url of [endpoints.prometheus]: it may need (or wrongly include) a path prefix such as /prometheus, or this Prometheus-compatible server does not offer this API."
                    }
                    502..=504 => {
                        "a proxy in front of Prometheus could not reach it; check that Prometheus is running."
                    }
                    _ => "check that [endpoints.prometheus] points at a Prometheus server.",
                };
                let body = plue_plugin_sdk::text::truncate_chars(body.trim(), 300).0;
                if body.is_empty() {
                    format!("Endpoint `{ENDPOINT}` answered HTTP {status} for {path}: {hint}")
                } else {
                    format!(
                        "Endpoint `{ENDPOINT}` answered HTTP {status} for {path}: {hint}\nBody: {body}"
                    )
                }
            }
            ApiError::Decode { path, detail } => format!(
                "Endpoint `{ENDPOINT}` did not answer {path} with Prometheus API JSON ({detail}); check that the url of [endpoints.prometheus] points at a Prometheus-compatible API."
            ),
            ApiError::Transport(error) => transport_message(error),
        }
    }
}

impl From<ApiError> for ToolError {
    fn from(e: ApiError) -> Self {
        ToolError::failed(e.message())
    }
}

fn transport_message(error: &HttpError) -> String {
    let (HttpError::Unreachable(m)
    | HttpError::Timeout(m)
    | HttpError::AccessDenied(m)
    | HttpError::InvalidRequest(m)
    | HttpError::ResponseTooLarge(m)) = error;
    let m = m.trim().trim_end_matches('.');
    // The host's message may already say what to check; add advice only when it does not.
    let advice = |text: &str| {
        if m.contains("[endpoints.") || m.contains("[plugins.") {
            String::new()
        } else {
            format!(" {text}")
        }
    };
    match error {
        HttpError::Unreachable(_) => format!(
            "Prometheus could not be reached (endpoint `{ENDPOINT}`): {m}.{}",
            advice(
                "Check that Prometheus is running and that `url` under [endpoints.prometheus] in the plue-mcp configuration points at it, including any path prefix such as /prometheus."
            )
        ),
        HttpError::Timeout(_) => format!(
            "Prometheus did not answer in time (endpoint `{ENDPOINT}`): {m}. Narrow the query (a shorter range, a larger step, more selective label matchers) or raise the endpoint's timeout."
        ),
        HttpError::AccessDenied(_) => format!(
            "Endpoint `{ENDPOINT}` is not usable by this plugin: {m}.{}",
            advice(
                "Grant it with `http = [\"prometheus\"]` under [plugins.prometheus], and allow GET on it."
            )
        ),
        HttpError::InvalidRequest(_) => {
            format!("The request to endpoint `{ENDPOINT}` was refused before it was sent: {m}.")
        }
        HttpError::ResponseTooLarge(_) => format!(
            "Prometheus's answer is larger than the size cap of endpoint `{ENDPOINT}`: {m}. Narrow the request: more selective label matchers, a shorter range or a larger step."
        ),
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    status: String,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    infos: Vec<String>,
}

/// The Prometheus API behind the granted endpoint.
pub struct Api {
    endpoint: Endpoint,
}

impl Default for Api {
    fn default() -> Self {
        Api::new()
    }
}

impl Api {
    /// The API behind endpoint [`ENDPOINT`].
    pub fn new() -> Self {
        Api {
            endpoint: Endpoint::new(ENDPOINT),
        }
    }

    /// `GET path?query` and decode `data` as `T`.
    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Reply<T>, ApiError> {
        let response = self
            .endpoint
            .get(path, query)
            .map_err(ApiError::Transport)?;
        let envelope: Option<Envelope> = response.json().ok();
        let ok_status = (200..300).contains(&response.status);
        match envelope {
            Some(env) if env.status == "error" || env.error.is_some() => {
                Err(ApiError::Prometheus {
                    status: response.status,
                    kind: env.error_type.unwrap_or_else(|| "error".into()),
                    message: env.error.unwrap_or_else(|| "no error message".into()),
                })
            }
            Some(env) if ok_status => {
                let data = env.data.ok_or_else(|| ApiError::Decode {
                    path: path.into(),
                    detail: "no `data` field".into(),
                })?;
                let data = serde_json::from_value(data).map_err(|e| ApiError::Decode {
                    path: path.into(),
                    detail: e.to_string(),
                })?;
                let mut notes = env.warnings;
                notes.extend(env.infos);
                Ok(Reply { data, notes })
            }
            _ if !ok_status => Err(ApiError::Http {
                status: response.status,
                path: path.into(),
                body: response.text(),
            }),
            _ => Err(ApiError::Decode {
                path: path.into(),
                detail: "not JSON".into(),
            }),
        }
    }

    /// An instant query at `time` (Unix seconds).
    pub fn query(&self, query: &str, time: f64) -> Result<Reply<QueryData>, ToolError> {
        let time = unix(time);
        self.get("/api/v1/query", &[("query", query), ("time", &time)])
            .map_err(|e| e.for_query(query))
    }

    /// A range query.
    pub fn query_range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Reply<QueryData>, ToolError> {
        let (start, end, step) = (unix(start), unix(end), unix(step));
        self.get(
            "/api/v1/query_range",
            &[
                ("query", query),
                ("start", &start),
                ("end", &end),
                ("step", &step),
            ],
        )
        .map_err(|e| e.for_query(query))
    }

    /// An instant query that must give a vector (the analysis tools' queries).
    pub fn vector(&self, query: &str, time: f64) -> Result<Vec<InstantSample>, ToolError> {
        match self.query(query, time)?.data {
            QueryData::Vector(v) => Ok(v),
            QueryData::Scalar(p) => Ok(vec![InstantSample {
                metric: Labels::new(),
                value: Some(p),
                histogram: None,
            }]),
            other => Err(ToolError::failed(format!(
                "Prometheus answered `{query}` with a {} instead of a vector",
                other.kind()
            ))),
        }
    }
}

/// Unix seconds as Prometheus takes them (millisecond precision).
pub fn unix(seconds: f64) -> String {
    plue_plugin_sdk::time::trim_float(seconds, 3)
}

/// `[timestamp, "value"]`: one sample as Prometheus encodes it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RawPoint(pub f64, pub String);

impl RawPoint {
    /// The value, `None` for NaN, ±Inf or text that is not a number.
    pub fn value(&self) -> Option<f64> {
        crate::format::parse_value(&self.1)
    }
}

/// `[timestamp, {count, sum, buckets}]`: a native histogram sample.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct HistogramPoint(pub f64, pub NativeHistogram);

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
pub struct NativeHistogram {
    #[serde(default)]
    pub count: String,
    #[serde(default)]
    pub sum: String,
}

// One series of an instant vector.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct InstantSample {
    #[serde(default)]
    pub metric: Labels,
    #[serde(default)]
    pub value: Option<RawPoint>,
    #[serde(default)]
    pub histogram: Option<HistogramPoint>,
}

impl InstantSample {
    /// The float value, `None` when it is NaN, ±Inf or a native histogram.
    pub fn number(&self) -> Option<f64> {
        self.value.as_ref().and_then(RawPoint::value)
    }

    /// A label's value, empty when absent.
    pub fn label(&self, name: &str) -> &str {
        self.metric.get(name).map(String::as_str).unwrap_or("")
    }
}

/// One series of a range vector.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RangeSeries {
    #[serde(default)]
    pub metric: Labels,
    #[serde(default)]
    pub values: Vec<RawPoint>,
    #[serde(default)]
    pub histograms: Vec<HistogramPoint>,
}

/// `data` of `/api/v1/query` and `/api/v1/query_range`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum QueryData {
    Vector(Vec<InstantSample>),
    Matrix(Vec<RangeSeries>),
    Scalar(RawPoint),
    String(RawPoint),
}

impl QueryData {
    /// Prometheus's name for the result type.
    pub fn kind(&self) -> &'static str {
        match self {
            QueryData::Vector(_) => "vector",
            QueryData::Matrix(_) => "matrix",
            QueryData::Scalar(_) => "scalar",
            QueryData::String(_) => "string",
        }
    }
}

/// `data` of `/api/v1/targets`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct TargetsData {
    #[serde(default)]
    pub active_targets: Vec<ActiveTarget>,
    #[serde(default)]
    pub dropped_targets: Vec<DroppedTarget>,
    #[serde(default)]
    pub dropped_target_counts: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct ActiveTarget {
    #[serde(default)]
    pub discovered_labels: Labels,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub scrape_pool: String,
    #[serde(default)]
    pub scrape_url: String,
    #[serde(default)]
    pub last_error: String,
    #[serde(default)]
    pub last_scrape: String,
    #[serde(default)]
    pub last_scrape_duration: f64,
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub scrape_interval: String,
}

impl ActiveTarget {
    /// The `job` label, else the scrape pool.
    pub fn job(&self) -> &str {
        self.labels
            .get("job")
            .map(String::as_str)
            .unwrap_or(&self.scrape_pool)
    }

    /// The `instance` label, else the scrape URL.
    pub fn instance(&self) -> &str {
        self.labels
            .get("instance")
            .map(String::as_str)
            .unwrap_or(&self.scrape_url)
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct DroppedTarget {
    #[serde(default)]
    pub discovered_labels: Labels,
}

/// `data` of `/api/v1/alerts`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct AlertsData {
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub active_at: Option<String>,
    #[serde(default)]
    pub value: String,
}

/// `data` of `/api/v1/rules`.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RulesData {
    #[serde(default)]
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct RuleGroup {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub file: String,
    #[serde(default)]
    pub interval: f64,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub last_evaluation: String,
    #[serde(default)]
    pub evaluation_time: f64,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub query: String,
    // `alerting` or `recording`.
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub last_error: String,
    // Alerting rules: `firing`, `pending` or `inactive`.
    #[serde(default)]
    pub state: String,
    /// Alerting rules: the `for` duration in seconds.
    #[serde(default)]
    pub duration: f64,
    #[serde(default)]
    pub labels: Labels,
    #[serde(default)]
    pub annotations: Labels,
    #[serde(default)]
    pub alerts: Vec<Alert>,
    #[serde(default)]
    pub last_evaluation: String,
    #[serde(default)]
    pub evaluation_time: f64,
}

/// `data` of `/api/v1/metadata`: metric name → its metadata (one per distinct help/type).
pub type MetadataData = BTreeMap<String, Vec<MetricMetadata>>;

#[derive(Debug, Clone, Deserialize, Default)]
pub struct MetricMetadata {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub unit: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use plue_plugin_sdk::testing;

    fn serve(status: u16, body: &'static str) {
        testing::fake_http(move |_| Ok(testing::response(status, body)));
    }

    #[test]
    fn prometheus_error_json_becomes_the_message() {
        serve(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:6: parse error: unexpected end of input"}"#,
        );
        let err = Api::new().query("rate(", 0.0).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "Prometheus rejected the request (bad_data, HTTP 400): invalid parameter"
            ),
            "{err}"
        );
        assert!(
            err.contains("1:6: parse error: unexpected end of input"),
            "{err}"
        );
        assert!(err.contains("rate(\n     ^"), "{err}");
    }

    #[test]
    fn http_errors_without_json_name_the_endpoint_and_what_to_check() {
        serve(404, "404 page not found");
        let err = Api::new()
            .get::<Labels>("/api/v1/labels", &[])
            .unwrap_err()
            .message();
        assert!(
            err.contains("Endpoint `prometheus` answered HTTP 404 for /api/v1/labels"),
            "{err}"
        );
        assert!(err.contains("path prefix"), "{err}");
        serve(401, "");
        let err = Api::new()
            .get::<Labels>("/api/v1/labels", &[])
            .unwrap_err()
            .message();
        assert!(err.contains("credentials"), "{err}");
    }

    #[test]
    fn transport_errors_say_what_to_check() {
        testing::fake_http(|_| Err(HttpError::Unreachable("connection refused".into())));
        let err = Api::new()
            .get::<Labels>("/api/v1/labels", &[])
            .unwrap_err()
            .message();
        assert!(
            err.starts_with(
                "Prometheus could not be reached (endpoint `prometheus`): connection refused. Check"
            ),
            "{err}"
        );
        assert!(err.contains("[endpoints.prometheus]"), "{err}");
        // Advice the host already gave is not repeated.
        testing::fake_http(|_| {
            Err(HttpError::Unreachable(
                "refused; check the url in [endpoints.prometheus].".into(),
            ))
        });
        let err = Api::new()
            .get::<Labels>("/api/v1/labels", &[])
            .unwrap_err()
            .message();
        assert_eq!(
            err,
            "Prometheus could not be reached (endpoint `prometheus`): refused; check the url in [endpoints.prometheus]."
        );
    }

    #[test]
    fn warnings_and_decoding() {
        serve(
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2"]},"warnings":["w"],"infos":["i"]}"#,
        );
        let reply = Api::new().query("2", 0.0).unwrap();
        assert_eq!(
            reply.data,
            QueryData::Scalar(RawPoint(1_700_000_000.0, "2".into()))
        );
        assert_eq!(reply.notes, vec!["w".to_string(), "i".to_string()]);
        serve(200, "<html>grafana</html>");
        let err = Api::new().query("2", 0.0).unwrap_err().to_string();
        assert!(
            err.contains("did not answer /api/v1/query with Prometheus API JSON"),
            "{err}"
        );
    }
}
