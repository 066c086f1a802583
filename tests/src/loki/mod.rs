//! A Loki-API-compatible test server, because Grafana Loki cannot be installed here.
//!
//! [`LokiServer::start`] serves, on a free loopback port, the parts of Loki's HTTP API the logs
//! tool group uses, answering in Loki's documented JSON:
//!
//! * `GET|POST /loki/api/v1/query_range` (`query`, `start`, `end`, `since`, `limit`,
//!   `direction`, `step`): `streams` for log queries, `matrix` for metric queries;
//! * `GET|POST /loki/api/v1/query` (`query`, `time`, `limit`, `direction`): `vector` for
//!   metric queries; log queries are refused with 400 as Loki 3.2+ does (Loki 2.x and 3.x
//!   both answer log queries on `query_range`);
//! * `/loki/api/v1/labels`, `/loki/api/v1/label/<name>/values` (`start`, `end`, `since`,
//!   `query`), `/loki/api/v1/series` (`match[]`, `start`, `end`), `/ready`.
//!
//! Times are Unix nanoseconds, Unix seconds (float, or integers of up to 10 digits) or
//! RFC 3339; defaults are Loki's (end = now, start = end − 1 h, or − 6 h for labels and
//! series; limit 100, at most 5000; direction backward). Bad parameters and bad LogQL get HTTP
//! 400 with a plain-text body such as `parse error at line 1, col 12: invalid char escape`.
//! Valid LogQL outside the subset in [`logql`] gets HTTP 501, so a gap in this server is never
//! mistaken for a bug in the query.
//!
//! Every request is recorded ([`LokiServer::requests`]) so tests can check the LogQL a tool
//! sent and that Loki would have accepted it.

mod eval;
mod fixture;
pub mod logql;

pub use eval::{Labels, labels_string};
pub use fixture::*;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// One log stream: its labels and its entries `(Unix ns, line)`, in any order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stream {
    pub labels: BTreeMap<String, String>,
    pub entries: Vec<(i64, String)>,
}

impl Stream {
    pub fn new<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        entries: Vec<(i64, String)>,
    ) -> Stream {
        Stream {
            labels: labels
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            entries,
        }
    }
}

/// A request the server answered.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// e.g. `/loki/api/v1/query_range`
    pub path: String,
    /// Body (form) parameters first, then query-string parameters, as Go's `r.Form`.
    pub params: Vec<(String, String)>,
    pub status: u16,
    /// The plain-text error body, for non-2xx answers.
    pub error: Option<String>,
}

impl RecordedRequest {
    /// The first value of a parameter, as Loki reads it.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `query` parameter (LogQL), if any.
    pub fn query(&self) -> Option<&str> {
        self.param("query")
    }
}

struct Shared {
    streams: RwLock<Vec<Stream>>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// A running test server; it stops when dropped.
pub struct LokiServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    stopped: std::sync::mpsc::Receiver<()>,
}

impl LokiServer {
    /// Starts serving `streams` on `127.0.0.1:<free port>`, on a thread of its own (so it keeps
    /// answering whatever the calling runtime does).
    pub async fn start(streams: Vec<Stream>) -> anyhow::Result<LokiServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            streams: RwLock::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
        });
        for s in streams {
            push_stream(&shared, s);
        }
        let app = router(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (stopped_tx, stopped) = std::sync::mpsc::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<()>>();
        std::thread::Builder::new()
            .name(format!("loki-test-{}", addr.port()))
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async move {
                            let _ = rx.await;
                        })
                        .await;
                });
                let _ = stopped_tx.send(());
            })?;
        ready_rx.recv()??;
        Ok(LokiServer {
            addr,
            shared,
            shutdown: Some(tx),
            stopped,
        })
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request answered so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The `query` parameter of every request that had one, oldest first.
    pub fn queries(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| r.query().map(str::to_string))
            .collect()
    }

    pub fn clear_requests(&self) {
        if let Ok(mut r) = self.shared.requests.lock() {
            r.clear();
        }
    }

    /// Adds entries while running (e.g. for a following `tail_logs`): merged into the stream
    /// with the same labels, or a new stream.
    pub fn push(&self, stream: Stream) {
        push_stream(&self.shared, stream);
    }
}

impl Drop for LokiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
            let _ = self.stopped.recv_timeout(Duration::from_secs(3));
        }
    }
}

fn push_stream(shared: &Shared, stream: Stream) {
    let Ok(mut streams) = shared.streams.write() else {
        return;
    };
    let target = match streams.iter().position(|s| s.labels == stream.labels) {
        Some(i) => &mut streams[i],
        None => {
            streams.push(Stream {
                labels: stream.labels.clone(),
                entries: Vec::new(),
            });
            streams.last_mut().expect("just pushed")
        }
    };
    target.entries.extend(stream.entries);
    target.entries.sort_by_key(|e| e.0);
}

/// Now, in Unix nanoseconds.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or_default()
}

/// Parses LogQL the way the server does: `Ok` if Loki would accept it and this server can
/// evaluate it.
pub fn check_logql(query: &str) -> Result<(), logql::LogqlError> {
    logql::parse(query).map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// HTTP

#[derive(Debug, Clone)]
enum Endpoint {
    QueryRange,
    Query,
    Labels,
    LabelValues(String),
    Series,
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            "/loki/api/v1/query_range",
            get(h_query_range).post(h_query_range),
        )
        .route("/loki/api/v1/query", get(h_query).post(h_query))
        .route("/loki/api/v1/labels", get(h_labels).post(h_labels))
        .route("/loki/api/v1/label", get(h_labels).post(h_labels))
        .route(
            "/loki/api/v1/label/{name}/values",
            get(h_label_values).post(h_label_values),
        )
        .route("/loki/api/v1/series", get(h_series).post(h_series))
        .route("/ready", get(|| async { "ready\n" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 page not found\n") })
        .with_state(shared)
}

async fn h_query_range(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    serve(sh, req, Endpoint::QueryRange).await
}

async fn h_query(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    serve(sh, req, Endpoint::Query).await
}

async fn h_labels(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    serve(sh, req, Endpoint::Labels).await
}

async fn h_label_values(
    State(sh): State<Arc<Shared>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    serve(sh, req, Endpoint::LabelValues(name)).await
}

async fn h_series(State(sh): State<Arc<Shared>>, req: Request) -> Response {
    serve(sh, req, Endpoint::Series).await
}

async fn serve(sh: Arc<Shared>, req: Request, ep: Endpoint) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query_string = req.uri().query().unwrap_or("").to_string();
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body: Bytes = axum::body::to_bytes(req.into_body(), 16 << 20)
        .await
        .unwrap_or_default();
    let mut params = Vec::new();
    if is_form {
        params.extend(decode_form(&String::from_utf8_lossy(&body)));
    }
    params.extend(decode_form(&query_string));
    let p = Params(params.clone());
    let result = {
        let streams = sh.streams.read().map(|s| s.clone()).unwrap_or_default();
        answer(&streams, &ep, &p, now_ns())
    };
    let (status, error, response) = match result {
        Ok(v) => {
            let mut r = (StatusCode::OK, v.to_string()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=UTF-8"),
            );
            (200, None, r)
        }
        Err((code, msg)) => {
            let mut r = (code, format!("{msg}\n")).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            (code.as_u16(), Some(msg), r)
        }
    };
    if let Ok(mut r) = sh.requests.lock() {
        r.push(RecordedRequest {
            method,
            path,
            params,
            status,
            error,
        });
    }
    response
}

fn decode_form(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct Params(Vec<(String, String)>);

impl Params {
    /// The first value, like Go's `Form.Get`; an empty value counts as absent.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

type Answer = Result<Value, (StatusCode, String)>;

fn bad(msg: impl Into<String>) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, msg.into())
}

fn logql_status(e: logql::LogqlError) -> (StatusCode, String) {
    match e.kind {
        logql::ErrorKind::Parse => (StatusCode::BAD_REQUEST, e.message),
        logql::ErrorKind::Unsupported => (StatusCode::NOT_IMPLEMENTED, e.message),
    }
}

const HOUR_NS: i64 = 3_600_000_000_000;
const MAX_ENTRIES: usize = 5000;
const MAX_QUERY_LENGTH_NS: i64 = 721 * HOUR_NS;

/// Loki's timestamp parsing: a float with a dot is seconds (fraction rounded to ms), an
/// integer of up to 10 digits is seconds, a longer one nanoseconds, anything else RFC 3339.
pub fn parse_time(v: &str) -> Result<i64, String> {
    if v.contains('.')
        && let Ok(f) = v.parse::<f64>()
        && f.is_finite()
    {
        let secs = f.trunc();
        let frac = ((f - secs) * 1000.0).round() / 1000.0;
        return Ok(secs as i64 * 1_000_000_000 + (frac * 1e9).round() as i64);
    }
    if let Ok(n) = v.parse::<i64>() {
        return Ok(if v.len() <= 10 {
            n.saturating_mul(1_000_000_000)
        } else {
            n
        });
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .ok_or_else(|| format!("cannot parse {v:?} to a valid timestamp"))
}

fn time_param(p: &Params, name: &str, default: i64) -> Result<i64, (StatusCode, String)> {
    match p.get(name) {
        None => Ok(default),
        Some(v) => parse_time(v).map_err(|e| bad(format!("invalid {name} parameter: {e}"))),
    }
}

/// `start`/`end`, with `since` (a duration) or `default_since` giving the default start.
fn bounds(p: &Params, now: i64, default_since: i64) -> Result<(i64, i64), (StatusCode, String)> {
    let end = time_param(p, "end", now)?;
    let since = match p.get("since") {
        None => default_since,
        Some(v) => logql::parse_duration(v, true).ok_or_else(|| {
            bad(format!(
                "invalid since parameter: cannot parse {v:?} to a valid duration"
            ))
        })?,
    };
    let start = time_param(p, "start", end - since)?;
    if end < start {
        return Err(bad(
            "end timestamp must not be before or equal to start time",
        ));
    }
    Ok((start, end))
}

fn limit_param(p: &Params) -> Result<usize, (StatusCode, String)> {
    let Some(v) = p.get("limit") else {
        return Ok(100);
    };
    let n: i64 = v.parse().map_err(|_| {
        bad(format!(
            "invalid limit parameter: cannot parse {v:?} as an integer"
        ))
    })?;
    if n <= 0 {
        return Err(bad("limit must be a positive value"));
    }
    if n as usize > MAX_ENTRIES {
        return Err(bad(format!(
            "max entries limit per query exceeded, limit > max_entries_limit ({n} > {MAX_ENTRIES})"
        )));
    }
    Ok(n as usize)
}

fn forward_param(p: &Params) -> Result<bool, (StatusCode, String)> {
    match p.get("direction").map(str::to_ascii_lowercase).as_deref() {
        None | Some("backward") => Ok(false),
        Some("forward") => Ok(true),
        Some(_) => Err(bad("invalid direction")),
    }
}

fn step_param(p: &Params, start: i64, end: i64) -> Result<i64, (StatusCode, String)> {
    let step = match p.get("step") {
        None => ((end - start) / 1_000_000_000 / 250).max(1) * 1_000_000_000,
        Some(v) => match v.parse::<f64>() {
            Ok(f) if f.is_finite() => (f * 1e9).round() as i64,
            _ => logql::parse_duration(v, true).ok_or_else(|| {
                bad(format!(
                    "invalid step parameter: cannot parse {v:?} to a valid duration"
                ))
            })?,
        },
    };
    if step <= 0 {
        return Err(bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > 11_000 {
        return Err(bad(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    Ok(step)
}

/// A Prometheus-style sample time: whole seconds as an integer, else seconds with ms precision.
fn secs_json(ns: i64) -> Value {
    if ns % 1_000_000_000 == 0 {
        json!(ns / 1_000_000_000)
    } else {
        json!((ns as f64 / 1e6).round() / 1e3)
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
fn float_string(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

fn stats(entries: usize, lines: usize, bytes: usize) -> Value {
    json!({"summary": {
        "bytesProcessedPerSecond": 0, "linesProcessedPerSecond": 0,
        "totalBytesProcessed": bytes, "totalLinesProcessed": lines,
        "execTime": 0.001, "queueTime": 0, "subqueries": 0,
        "totalEntriesReturned": entries, "splits": 0, "shards": 0
    }})
}

fn labels_json(l: &Labels) -> Value {
    Value::Object(
        l.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn answer(streams: &[Stream], ep: &Endpoint, p: &Params, now: i64) -> Answer {
    match ep {
        Endpoint::QueryRange => {
            let (start, end) = bounds(p, now, HOUR_NS)?;
            let limit = limit_param(p)?;
            let forward = forward_param(p)?;
            let expr = logql::parse(p.get("query").unwrap_or("")).map_err(logql_status)?;
            if end - start > MAX_QUERY_LENGTH_NS {
                return Err(bad(format!(
                    "the query time range exceeds the limit (query length: {}h, limit: 721h)",
                    (end - start) / HOUR_NS
                )));
            }
            match expr {
                logql::Expr::Log(l) => {
                    let r = eval::eval_log(&l, streams, start, end, limit, forward);
                    let result: Vec<Value> = r
                        .streams
                        .iter()
                        .map(|(labels, entries)| {
                            json!({
                                "stream": labels_json(labels),
                                "values": entries.iter().map(|(ts, line)| json!([ts.to_string(), line])).collect::<Vec<_>>()
                            })
                        })
                        .collect();
                    Ok(json!({"status": "success", "data": {
                        "resultType": "streams", "result": result,
                        "stats": stats(r.entries, r.lines_processed, r.bytes_processed)}}))
                }
                logql::Expr::Metric(m) => {
                    let step = step_param(p, start, end)?;
                    let mut steps = Vec::new();
                    let mut t = start;
                    while t <= end {
                        steps.push(t);
                        t += step;
                    }
                    let vecs = eval::eval_metric(&m, streams, &steps).map_err(bad)?;
                    let mut series: BTreeMap<String, (Labels, Vec<Value>)> = BTreeMap::new();
                    for (t, vec) in steps.iter().zip(vecs) {
                        for s in vec {
                            series
                                .entry(labels_string(&s.labels))
                                .or_insert_with(|| (s.labels.clone(), Vec::new()))
                                .1
                                .push(json!([secs_json(*t), float_string(s.value)]));
                        }
                    }
                    let result: Vec<Value> = series
                        .into_values()
                        .map(|(l, values)| json!({"metric": labels_json(&l), "values": values}))
                        .collect();
                    Ok(json!({"status": "success", "data": {
                        "resultType": "matrix", "result": result, "stats": stats(0, 0, 0)}}))
                }
            }
        }
        Endpoint::Query => {
            let t = time_param(p, "time", now)?;
            limit_param(p)?;
            forward_param(p)?;
            let expr = logql::parse(p.get("query").unwrap_or("")).map_err(logql_status)?;
            match expr {
                logql::Expr::Log(_) => Err(bad(
                    "log queries are not supported as an instant query type, please change your query to a range query type",
                )),
                logql::Expr::Metric(m) => {
                    let vec = eval::eval_metric(&m, streams, &[t])
                        .map_err(bad)?
                        .pop()
                        .unwrap_or_default();
                    let result: Vec<Value> = vec
                        .iter()
                        .map(|s| json!({"metric": labels_json(&s.labels), "value": [secs_json(t), float_string(s.value)]}))
                        .collect();
                    Ok(json!({"status": "success", "data": {
                        "resultType": "vector", "result": result, "stats": stats(0, 0, 0)}}))
                }
            }
        }
        Endpoint::Labels | Endpoint::LabelValues(_) | Endpoint::Series => {
            let (start, end) = bounds(p, now, 6 * HOUR_NS)?;
            let selectors: Vec<Vec<logql::Matcher>> = if let Endpoint::Series = ep {
                let matches = p.all("match[]");
                if matches.is_empty() {
                    return Err(bad("at least one match[] argument is required"));
                }
                matches
                    .into_iter()
                    .map(selector)
                    .collect::<Result<_, _>>()?
            } else {
                match p.get("query") {
                    Some(q) => vec![selector(q)?],
                    None => Vec::new(),
                }
            };
            let live = streams.iter().filter(|s| {
                s.entries.iter().any(|(ts, _)| *ts >= start && *ts <= end)
                    && (selectors.is_empty()
                        || selectors
                            .iter()
                            .any(|m| eval::selector_matches(m, &s.labels)))
            });
            let data: Value = match ep {
                Endpoint::Labels => {
                    let names: BTreeSet<&String> = live.flat_map(|s| s.labels.keys()).collect();
                    json!(names)
                }
                Endpoint::LabelValues(name) => {
                    let values: BTreeSet<&String> =
                        live.filter_map(|s| s.labels.get(name)).collect();
                    json!(values)
                }
                _ => {
                    let set: BTreeSet<&Labels> = live.map(|s| &s.labels).collect();
                    Value::Array(set.into_iter().map(labels_json).collect())
                }
            };
            Ok(json!({"status": "success", "data": data}))
        }
    }
}

/// A stream selector (`match[]` or `query` on the label endpoints); a pipeline is ignored.
fn selector(q: &str) -> Result<Vec<logql::Matcher>, (StatusCode, String)> {
    match logql::parse(q).map_err(logql_status)? {
        logql::Expr::Log(l) => Ok(l.matchers),
        logql::Expr::Metric(_) => Err(bad(format!(
            "parse error : only log stream selectors are accepted here: {q}"
        ))),
    }
}

#[cfg(test)]
mod tests;
