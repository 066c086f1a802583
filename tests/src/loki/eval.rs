//! Evaluation of parsed LogQL over in-memory streams, with Loki's semantics.

use super::Stream;
use super::logql::{
    AggOp, Grouping, LabelFilter, LineFilter, LogExpr, Matcher, MetricExpr, RangeFn, Stage,
    parse_duration,
};
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

pub const ERROR_LABEL: &str = "__error__";
pub const ERROR_DETAILS_LABEL: &str = "__error_details__";

/// `{a="x", b="y"}`, the way Loki prints a label set.
pub fn labels_string(l: &Labels) -> String {
    let parts: Vec<String> = l
        .iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Do a stream's labels satisfy a selector? An absent label has the empty value.
pub fn selector_matches(ms: &[Matcher], labels: &Labels) -> bool {
    ms.iter()
        .all(|m| m.matches(labels.get(&m.name).map(String::as_str).unwrap_or("")))
}

/// The labels of one line while it goes through a pipeline (Loki's LabelsBuilder, reduced).
struct Builder<'a> {
    base: &'a Labels,
    added: Labels,
    err: Option<String>,
    details: Option<String>,
}

impl Builder<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        match name {
            ERROR_LABEL => self.err.as_deref(),
            ERROR_DETAILS_LABEL => self.details.as_deref(),
            _ => self
                .added
                .get(name)
                .or_else(|| self.base.get(name))
                .map(String::as_str),
        }
    }

    /// A label extracted by a parser: renamed `<name>_extracted` when a stream label has that name.
    fn extract(&mut self, key: String, value: String) {
        if key.is_empty() || key == ERROR_LABEL || key == ERROR_DETAILS_LABEL {
            return;
        }
        let key = if self.base.contains_key(&key) {
            format!("{key}_extracted")
        } else {
            key
        };
        self.added.insert(key, value);
    }

    fn set_err(&mut self, err: &str, details: String) {
        if self.err.is_none() {
            self.err = Some(err.to_string());
            self.details = Some(details);
        }
    }

    fn finish(self) -> Labels {
        let mut l = self.base.clone();
        l.extend(self.added);
        if let Some(e) = self.err {
            l.insert(ERROR_LABEL.into(), e);
            if let Some(d) = self.details {
                l.insert(ERROR_DETAILS_LABEL.into(), d);
            }
        }
        l
    }
}

/// Runs a line through the pipeline: `None` when a stage filters it out, otherwise the line's
/// full label set (stream labels, extracted labels, and `__error__`/`__error_details__`).
pub fn run_pipeline(stages: &[Stage], base: &Labels, line: &str) -> Option<Labels> {
    let mut b = Builder {
        base,
        added: Labels::new(),
        err: None,
        details: None,
    };
    for st in stages {
        match st {
            Stage::LineFilter { negate, filter } => {
                let hit = match filter {
                    LineFilter::Contains(s) => line.contains(s.as_str()),
                    LineFilter::Regex(r) => r.is_match(line),
                };
                if hit == *negate {
                    return None;
                }
            }
            Stage::Json => json_stage(line, &mut b),
            Stage::Logfmt { strict, keep_empty } => {
                logfmt_stage(line, *strict, *keep_empty, &mut b)
            }
            Stage::Labels(f) => {
                if !label_filter(f, &mut b) {
                    return None;
                }
            }
        }
    }
    Some(b.finish())
}

/// Loki's label-name sanitising: anything outside `[A-Za-z0-9_]` becomes `_`, and a leading digit
/// gets a `_` prefix.
fn sanitize_key(key: &str, first: bool) -> String {
    let key = key.trim();
    let mut out = String::with_capacity(key.len() + 1);
    if first && key.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(key.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    out
}

fn json_stage(line: &str, b: &mut Builder<'_>) {
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(serde_json::Value::Object(map)) => json_flatten("", &map, b),
        Ok(_) => b.set_err(
            "JSONParserErr",
            "Value looks like object, but can't find closing '}' symbol".into(),
        ),
        Err(e) => b.set_err("JSONParserErr", e.to_string()),
    }
}

fn json_flatten(
    prefix: &str,
    map: &serde_json::Map<String, serde_json::Value>,
    b: &mut Builder<'_>,
) {
    use serde_json::Value;
    for (k, v) in map {
        let key = if prefix.is_empty() {
            sanitize_key(k, true)
        } else {
            format!("{prefix}_{}", sanitize_key(k, false))
        };
        match v {
            Value::Object(m) => json_flatten(&key, m, b),
            // Loki's json parser skips arrays and nulls.
            Value::Array(_) | Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            Value::String(s) => b.extract(key, s.clone()),
            Value::Number(n) => b.extract(key, n.to_string()),
            Value::Bool(x) => b.extract(key, x.to_string()),
        }
    }
}

/// The logfmt pairs of a line: `(key, None)` for a bare key. As in Loki 3.x, only strict mode
/// reports an error (and stops at the first malformed token); otherwise malformed tokens are
/// skipped and an unterminated quoted value ends decoding silently.
pub fn logfmt_decode(line: &str, strict: bool) -> (Vec<(String, Option<String>)>, Option<String>) {
    let c: Vec<char> = line.chars().collect();
    let n = c.len();
    let mut i = 0;
    let mut pairs = Vec::new();
    let mut first_err: Option<String> = None;
    let is_tok = |ch: char| ch > ' ' && ch != '=' && ch != '"';
    let skip_token = |i: &mut usize| {
        while *i < n && c[*i] > ' ' {
            *i += 1;
        }
    };
    loop {
        while i < n && c[i] <= ' ' {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        while i < n && is_tok(c[i]) {
            i += 1;
        }
        let key: String = c[start..i].iter().collect();
        if key.is_empty() || (i < n && c[i] == '"') {
            let e = format!(
                "logfmt syntax error at pos {}: unexpected {:?}",
                i + 1,
                c[i]
            );
            if strict {
                return (pairs, Some(e));
            }
            first_err.get_or_insert(e);
            skip_token(&mut i);
            continue;
        }
        if i >= n || c[i] <= ' ' {
            pairs.push((key, None));
            continue;
        }
        // c[i] == '='
        i += 1;
        if i >= n || c[i] <= ' ' {
            pairs.push((key, Some(String::new())));
            continue;
        }
        if c[i] == '"' {
            i += 1;
            let mut v = String::new();
            let mut closed = false;
            while i < n {
                match c[i] {
                    '"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    '\\' if i + 1 < n => {
                        i += 1;
                        match c[i] {
                            'n' => v.push('\n'),
                            't' => v.push('\t'),
                            'r' => v.push('\r'),
                            other => v.push(other),
                        }
                        i += 1;
                    }
                    ch => {
                        v.push(ch);
                        i += 1;
                    }
                }
            }
            if !closed {
                let e = format!(
                    "logfmt syntax error at pos {}: unterminated quoted value",
                    n + 1
                );
                return (pairs, strict.then_some(e));
            }
            pairs.push((key, Some(v)));
            if i < n && c[i] > ' ' {
                let e = format!(
                    "logfmt syntax error at pos {}: unexpected {:?}",
                    i + 1,
                    c[i]
                );
                if strict {
                    return (pairs, Some(e));
                }
                first_err.get_or_insert(e);
                skip_token(&mut i);
            }
            continue;
        }
        let vs = i;
        while i < n && is_tok(c[i]) {
            i += 1;
        }
        if i < n && c[i] > ' ' {
            let e = format!(
                "logfmt syntax error at pos {}: unexpected {:?}",
                i + 1,
                c[i]
            );
            if strict {
                return (pairs, Some(e));
            }
            first_err.get_or_insert(e);
            skip_token(&mut i);
            continue;
        }
        pairs.push((key, Some(c[vs..i].iter().collect())));
    }
    // Non-strict mode skips malformed tokens without reporting them (Loki 2.9+/3.x).
    let _ = first_err;
    (pairs, None)
}

fn logfmt_stage(line: &str, strict: bool, keep_empty: bool, b: &mut Builder<'_>) {
    let (pairs, err) = logfmt_decode(line, strict);
    for (k, v) in pairs {
        let key = sanitize_key(&k, true);
        match v {
            Some(v) if !v.is_empty() => b.extract(key, v),
            _ if keep_empty => b.extract(key, String::new()),
            _ => {}
        }
    }
    if let Some(e) = err {
        b.set_err("LogfmtParserErr", e);
    }
}

/// Loki's label filter semantics: string matchers (`=`, `!=`, `=~`, `!~`, including on
/// `__error__`) compare the label's value, empty when absent; numeric and duration filters let
/// a line that already carries `__error__` through untouched, drop a line without the label,
/// and on an unparsable value set `__error__="LabelFilterErr"` and let the line through.
fn label_filter(f: &LabelFilter, b: &mut Builder<'_>) -> bool {
    match f {
        LabelFilter::And(l, r) => {
            let a = label_filter(l, b);
            let c = label_filter(r, b);
            a && c
        }
        LabelFilter::Or(l, r) => label_filter(l, b) || label_filter(r, b),
        LabelFilter::Str(m) => m.matches(b.get(&m.name).unwrap_or("")),
        LabelFilter::Num { name, op, value } => {
            if b.err.is_some() {
                return true;
            }
            let Some(v) = b.get(name).map(str::to_string) else {
                return false;
            };
            match v.parse::<f64>() {
                Ok(x) => op.apply(x, *value),
                Err(_) => {
                    b.set_err(
                        "LabelFilterErr",
                        format!(
                            "strconv.ParseFloat: parsing {}: invalid syntax",
                            go_quote(&v)
                        ),
                    );
                    true
                }
            }
        }
        LabelFilter::Dur { name, op, value_ns } => {
            if b.err.is_some() {
                return true;
            }
            let Some(v) = b.get(name).map(str::to_string) else {
                return false;
            };
            match parse_duration(&v, false) {
                Some(x) => op.apply(x as f64, *value_ns as f64),
                None => {
                    b.set_err(
                        "LabelFilterErr",
                        format!("time: invalid duration {}", go_quote(&v)),
                    );
                    true
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Log queries

/// The answer to a log query: streams in Loki's order (sorted by label string), each with its
/// entries in the query's direction.
pub struct LogResult {
    pub streams: Vec<(Labels, Vec<(i64, String)>)>,
    pub lines_processed: usize,
    pub bytes_processed: usize,
    pub entries: usize,
}

/// Entries with `start <= ts < end` that pass the pipeline; the `limit` newest (backward) or
/// oldest (forward) over all streams, grouped by their full label set.
pub fn eval_log(
    expr: &LogExpr,
    streams: &[Stream],
    start: i64,
    end: i64,
    limit: usize,
    forward: bool,
) -> LogResult {
    let mut hits: Vec<(i64, String, Labels, &str)> = Vec::new();
    let (mut lines, mut bytes) = (0, 0);
    for s in streams {
        if !selector_matches(&expr.matchers, &s.labels) {
            continue;
        }
        for (ts, line) in &s.entries {
            if *ts < start || *ts >= end {
                continue;
            }
            lines += 1;
            bytes += line.len();
            if let Some(l) = run_pipeline(&expr.stages, &s.labels, line) {
                hits.push((*ts, labels_string(&l), l, line.as_str()));
            }
        }
    }
    if forward {
        hits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    } else {
        hits.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    }
    hits.truncate(limit);
    let entries = hits.len();
    let mut grouped: BTreeMap<String, (Labels, Vec<(i64, String)>)> = BTreeMap::new();
    for (ts, key, labels, line) in hits {
        grouped
            .entry(key)
            .or_insert_with(|| (labels, Vec::new()))
            .1
            .push((ts, line.to_string()));
    }
    LogResult {
        streams: grouped.into_values().collect(),
        lines_processed: lines,
        bytes_processed: bytes,
        entries,
    }
}

// ---------------------------------------------------------------------------------------------
// Metric queries

#[derive(Debug, Clone)]
pub struct Sample {
    pub labels: Labels,
    pub value: f64,
}

fn pipeline_error(l: &Labels) -> String {
    let err = l.get(ERROR_LABEL).cloned().unwrap_or_default();
    format!(
        "pipeline error: '{err}' for series: '{}'.\n\
         Use a label filter to intentionally skip this error. (e.g | __error__!=\"{err}\").\n\
         To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n\
         The label filter can also be specified after unwrap. Eg: | unwrap latency | __error__=\"\"",
        labels_string(l)
    )
}

/// Evaluates a metric query at each step time (Unix ns). A range aggregation at time `t` covers
/// entries with `t - offset - range < ts <= t - offset`. A series still carrying `__error__`
/// fails the query (HTTP 400), as in Loki.
pub fn eval_metric(
    expr: &MetricExpr,
    streams: &[Stream],
    steps: &[i64],
) -> Result<Vec<Vec<Sample>>, String> {
    match expr {
        MetricExpr::Range {
            func,
            log,
            range_ns,
            offset_ns,
        } => {
            let (Some(first), Some(last)) = (steps.first(), steps.last()) else {
                return Ok(Vec::new());
            };
            let lo = first - offset_ns - range_ns;
            let hi = last - offset_ns;
            // series -> (labels, timestamps, prefix sums of bytes)
            let mut series: BTreeMap<String, (Labels, Vec<(i64, usize)>)> = BTreeMap::new();
            for s in streams {
                if !selector_matches(&log.matchers, &s.labels) {
                    continue;
                }
                for (ts, line) in &s.entries {
                    if *ts <= lo || *ts > hi {
                        continue;
                    }
                    if let Some(l) = run_pipeline(&log.stages, &s.labels, line) {
                        series
                            .entry(labels_string(&l))
                            .or_insert_with(|| (l, Vec::new()))
                            .1
                            .push((*ts, line.len()));
                    }
                }
            }
            let series: Vec<(Labels, Vec<i64>, Vec<usize>)> = series
                .into_values()
                .map(|(l, mut v)| {
                    v.sort();
                    let ts = v.iter().map(|x| x.0).collect();
                    let mut acc = 0;
                    let mut prefix = vec![0];
                    for (_, b) in &v {
                        acc += b;
                        prefix.push(acc);
                    }
                    (l, ts, prefix)
                })
                .collect();
            let secs = *range_ns as f64 / 1e9;
            let mut out = Vec::with_capacity(steps.len());
            for t in steps {
                let wlo = t - offset_ns - range_ns;
                let whi = t - offset_ns;
                let mut vec = Vec::new();
                for (l, ts, prefix) in &series {
                    let a = ts.partition_point(|x| *x <= wlo);
                    let b = ts.partition_point(|x| *x <= whi);
                    if b <= a {
                        continue;
                    }
                    if l.contains_key(ERROR_LABEL) {
                        return Err(pipeline_error(l));
                    }
                    let n = (b - a) as f64;
                    let bytes = (prefix[b] - prefix[a]) as f64;
                    let value = match func {
                        RangeFn::CountOverTime => n,
                        RangeFn::Rate => n / secs,
                        RangeFn::BytesOverTime => bytes,
                        RangeFn::BytesRate => bytes / secs,
                    };
                    vec.push(Sample {
                        labels: l.clone(),
                        value,
                    });
                }
                out.push(vec);
            }
            Ok(out)
        }
        MetricExpr::Agg {
            op,
            param,
            grouping,
            inner,
        } => {
            let inner = eval_metric(inner, streams, steps)?;
            Ok(inner
                .into_iter()
                .map(|v| aggregate(*op, *param, grouping.as_ref(), v))
                .collect())
        }
    }
}

fn group_labels(l: &Labels, g: Option<&Grouping>) -> Labels {
    match g {
        None => Labels::new(),
        Some(g) if g.without => l
            .iter()
            .filter(|(k, _)| !g.labels.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        Some(g) => l
            .iter()
            .filter(|(k, _)| g.labels.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn aggregate(
    op: AggOp,
    param: Option<usize>,
    g: Option<&Grouping>,
    samples: Vec<Sample>,
) -> Vec<Sample> {
    let mut groups: BTreeMap<String, (Labels, Vec<Sample>)> = BTreeMap::new();
    for s in samples {
        let gl = group_labels(&s.labels, g);
        groups
            .entry(labels_string(&gl))
            .or_insert_with(|| (gl, Vec::new()))
            .1
            .push(s);
    }
    let mut out = Vec::new();
    for (_, (gl, mut members)) in groups {
        let vals: Vec<f64> = members.iter().map(|s| s.value).collect();
        let value = match op {
            AggOp::Sum => vals.iter().sum(),
            AggOp::Avg => vals.iter().sum::<f64>() / vals.len() as f64,
            AggOp::Min => vals.iter().copied().fold(f64::INFINITY, f64::min),
            AggOp::Max => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            AggOp::Count => vals.len() as f64,
            AggOp::Topk | AggOp::Bottomk => {
                let k = param.unwrap_or(1);
                members.sort_by(|a, b| {
                    let ord = a
                        .value
                        .partial_cmp(&b.value)
                        .unwrap_or(std::cmp::Ordering::Equal);
                    let ord = if op == AggOp::Topk {
                        ord.reverse()
                    } else {
                        ord
                    };
                    ord.then_with(|| labels_string(&a.labels).cmp(&labels_string(&b.labels)))
                });
                members.truncate(k);
                out.extend(members);
                continue;
            }
        };
        out.push(Sample { labels: gl, value });
    }
    if matches!(op, AggOp::Topk) {
        out.sort_by(|a, b| {
            b.value
                .partial_cmp(&a.value)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    } else if matches!(op, AggOp::Bottomk) {
        out.sort_by(|a, b| {
            a.value
                .partial_cmp(&b.value)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    out
}
