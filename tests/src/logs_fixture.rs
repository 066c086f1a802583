//! The standard logs fixture: a realistic multi-service Plue stack (see [`streams`]),
//! with the facts a test can assert, each derived by hand from the lines below.

use crate::loki::Stream;
use std::collections::BTreeMap;

/// The four labelled services, each with a `stdout` and a `stderr` stream.
pub const SERVICES: [&str; 4] = ["api", "web", "runner", "agent"];
/// The request id followed across services by `trace_request`.
pub const REQUEST_ID: &str = "req-7f3a9c";
/// Services `REQUEST_ID` touches, in the order it first appears in each.
pub const REQUEST_ID_SERVICES: [&str; 3] = ["api", "runner", "agent"];
/// Lines containing `REQUEST_ID`: api 1, runner 3, agent 2 (about 37 min ago, over 15 s).
pub const REQUEST_ID_LINES: usize = 6;
/// A near-miss request id (one web line) that a substring search for `REQUEST_ID` must not hit.
pub const DECOY_REQUEST_ID: &str = "req-7f3a9d";
/// The workflow run followed by `workflow_logs`.
pub const RUN_ID: i64 = 42;
/// Lines about run 42: 4 runner logfmt lines with `run_id=42` and 1 api JSON line with
/// `"workflow_run_id":42` (a JSON number).
pub const RUN_ID_LINES: usize = 5;
/// Run 420 (2 runner lines, ~22 min ago): `|= "run_id=42"` also matches them.
pub const DECOY_RUN_ID: i64 = 420;
/// The agent session followed by `agent_logs` (7 agent lines, ~35-38 min ago).
pub const SESSION_ID: &str = "sess-a1b2c3";
pub const SESSION_ID_LINES: usize = 7;
/// A second session in the last hour (6 agent lines, ~11-17 min ago, 2 of them errors).
pub const OTHER_SESSION_ID: &str = "sess-d4e5f6";
pub const OTHER_SESSION_ID_LINES: usize = 6;
/// Every `duration_ms` of the routine (background) request lines is at most this.
pub const MAX_ROUTINE_DURATION_MS: i64 = 310;
/// Every request of the last hour that took longer than `MAX_ROUTINE_DURATION_MS`, in ms
/// as logged, fastest first: JSON `duration_ms` (api 499, 500, 501, 1000, 2500, 12950;
/// web 1500), logfmt `duration_ms` (runner 750, 3200) and plain text (api `(812ms)`,
/// web `(812ms)` in a JSON `msg`, runner `took 2.4s`).
pub const SLOW_LAST_HOUR: [(&str, i64); 12] = [
    ("api", 499),
    ("api", 500),
    ("api", 501),
    ("runner", 750),
    ("api", 812),
    ("web", 812),
    ("api", 1000),
    ("web", 1500),
    ("runner", 2400),
    ("api", 2500),
    ("runner", 3200),
    ("api", 12950),
];
/// One api JSON line 75 min ago: outside a 1 h window, inside a 2 h one.
pub const OLD_SLOW_JSON: (&str, i64) = ("api", 9000);

/// Per-service facts for the last hour (`[now-1h, now)`) and for the whole fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCounts {
    pub service: &'static str,
    pub lines_last_hour: usize,
    /// error-level lines: JSON `level`/`severity` "error", logfmt `level=error`, Zig
    /// `error(scope):`, Python `- ERROR -`, every whole stack trace / panic entry, and
    /// of a split trace its `Traceback` head and `Type: message` lines (runner 2), its
    /// first line otherwise (web 1, api 1, agent 1).
    pub errors_last_hour: usize,
    /// warn-level lines (JSON/logfmt `warn`, Zig `warn(scope):`, Python `- WARNING -`).
    pub warnings_last_hour: usize,
    pub lines_total: usize,
}

pub const SERVICE_COUNTS: [ServiceCounts; 4] = [
    ServiceCounts {
        service: "api",
        lines_last_hour: 67,
        errors_last_hour: 10,
        warnings_last_hour: 4,
        lines_total: 112,
    },
    ServiceCounts {
        service: "web",
        lines_last_hour: 35,
        errors_last_hour: 5,
        warnings_last_hour: 1,
        lines_total: 60,
    },
    ServiceCounts {
        service: "runner",
        lines_last_hour: 37,
        errors_last_hour: 8,
        warnings_last_hour: 2,
        lines_total: 56,
    },
    ServiceCounts {
        service: "agent",
        lines_last_hour: 28,
        errors_last_hour: 5,
        warnings_last_hour: 0,
        lines_total: 36,
    },
];
/// Lines in the last 5 minutes, all services together (for `tail_logs`).
pub const LINES_LAST_5_MIN: usize = 9;
/// The stream with no `service` label: `{job="containerlogs", container="plue-postgres-1",
/// stream="stderr"}`, 4 lines in the last hour, one of them `ERROR:`.
pub const POSTGRES_LINES: usize = 4;
/// Lines older than 2 h (api startup, 3 h ago).
pub const LINES_OLDER_THAN_2H: usize = 2;

/// Error messages that differ only in numbers, ids, hex or quoted values: (service,
/// normalised form, occurrences in the last hour, occurrences in total).
pub const ERROR_GROUPS: [(&str, &str, usize, usize); 6] = [
    ("api", "failed to load repository <N>: not found", 3, 4),
    (
        "api",
        "database query timed out after <N>ms (conn <HEX>)",
        2,
        2,
    ),
    ("api", "error(db): connection refused (attempt <N>)", 2, 3),
    (
        "web",
        "SSR fetch failed for session <UUID>: status 502",
        2,
        3,
    ),
    ("runner", "task <N> failed: exit code 137", 2, 2),
    ("agent", "tool call <Q> failed: file <Q> not found", 2, 2),
];

/// Error entries `find_errors` reads per service in the last hour: error lines, less one
/// per split Python trace (its head and its exception line are one error).
pub const ERROR_ENTRIES_LAST_HOUR: [(&str, usize); 4] =
    [("api", 10), ("web", 5), ("runner", 7), ("agent", 5)];

/// A multi-line stack trace, stored as one entry or split one line per entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixtureTrace {
    pub language: &'static str,
    pub exception: &'static str,
    pub service: &'static str,
    pub seconds_ago: f64,
    pub first_line: &'static str,
    pub lines: usize,
}

/// All stack traces, oldest first, on the service's `stderr` stream: one entry each, but
/// for the `RangeError`, the `TimeoutError`, the `error.NoSpaceLeft` and the
/// `tokio-runtime-worker` panic, split one line per entry.
pub const TRACES: [FixtureTrace; 12] = [
    FixtureTrace {
        language: "python",
        exception: "ConnectionResetError",
        service: "runner",
        seconds_ago: 5400.0,
        first_line: "Traceback (most recent call last):",
        lines: 7,
    },
    FixtureTrace {
        language: "typescript",
        exception: "TypeError",
        service: "web",
        seconds_ago: 2800.0,
        first_line: "TypeError: Cannot read properties of undefined (reading 'owner')",
        lines: 4,
    },
    FixtureTrace {
        language: "python",
        exception: "subprocess.CalledProcessError",
        service: "runner",
        seconds_ago: 2210.9,
        first_line: "Traceback (most recent call last):",
        lines: 6,
    },
    FixtureTrace {
        language: "zig",
        exception: "panic: index out of bounds",
        service: "api",
        seconds_ago: 1900.0,
        first_line: "thread 4182 panic: index out of bounds: index 12, len 8",
        lines: 10,
    },
    FixtureTrace {
        language: "typescript",
        exception: "RangeError",
        service: "web",
        seconds_ago: 1450.0,
        first_line: "RangeError: Invalid time value",
        lines: 4,
    },
    FixtureTrace {
        language: "zig",
        exception: "error.FileNotFound",
        service: "api",
        seconds_ago: 1400.0,
        first_line: "error(git): failed to open repository /data/repos/alice/plue.git: error.FileNotFound",
        lines: 7,
    },
    FixtureTrace {
        language: "python",
        exception: "TimeoutError",
        service: "runner",
        seconds_ago: 1350.0,
        first_line: "Traceback (most recent call last):",
        lines: 6,
    },
    FixtureTrace {
        language: "zig",
        exception: "error.NoSpaceLeft",
        service: "api",
        seconds_ago: 1150.0,
        first_line: "error(storage): failed to write pack /data/repos/bob/zig-http.git/objects/pack/tmp_pack: error.NoSpaceLeft",
        lines: 7,
    },
    FixtureTrace {
        language: "rust",
        exception: "panicked: index out of bounds: the len is <N> but the index is <N>",
        service: "agent",
        seconds_ago: 1050.0,
        first_line: "thread 'tokio-runtime-worker' panicked at src/tools/bash.rs:57:22:",
        lines: 8,
    },
    FixtureTrace {
        language: "typescript",
        exception: "Error: fetch failed",
        service: "web",
        seconds_ago: 800.0,
        first_line: "Error: fetch failed",
        lines: 13,
    },
    FixtureTrace {
        language: "rust",
        exception: "panicked: called `Option::unwrap()` on a `None` value",
        service: "agent",
        seconds_ago: 500.0,
        first_line: "thread 'main' panicked at src/session.rs:88:14:",
        lines: 13,
    },
    FixtureTrace {
        language: "python",
        exception: "KeyError",
        service: "runner",
        seconds_ago: 400.0,
        first_line: "Traceback (most recent call last):",
        lines: 5,
    },
];

/// The window boundaries (seconds ago) no entry comes within 30 s of, so counts over the last
/// 5 m, 15 m, 30 m, 1 h, 2 h and 6 h stay exact however long a test takes to start.
pub const QUIET_BOUNDARIES_S: [f64; 6] = [300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lvl {
    Info,
    Warn,
    Error,
}

/// One fixture line with its ground truth, for the module's own tests.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub(crate) struct Annotated {
    pub service: Option<&'static str>,
    pub seconds_ago: f64,
    pub level: Lvl,
    pub line: String,
}

enum J {
    S(String),
    N(i64),
}

fn s(v: impl Into<String>) -> J {
    J::S(v.into())
}

fn json_line(fields: &[(&str, J)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| {
            let v = match v {
                J::S(s) => serde_json::to_string(s).unwrap_or_default(),
                J::N(n) => n.to_string(),
            };
            format!("{}:{v}", serde_json::to_string(k).unwrap_or_default())
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn near_boundary(off: f64) -> bool {
    QUIET_BOUNDARIES_S.iter().any(|b| (off - b).abs() < 30.0)
}

struct Fx {
    now: i64,
    lines: Vec<(&'static str, &'static str, Annotated)>,
}

impl Fx {
    fn ts(&self, off: f64) -> i64 {
        self.now - (off * 1e9).round() as i64
    }

    fn time(&self, off: f64, fmt: &str) -> String {
        chrono::DateTime::from_timestamp_nanos(self.ts(off))
            .format(fmt)
            .to_string()
    }

    fn iso(&self, off: f64) -> String {
        self.time(off, "%Y-%m-%dT%H:%M:%S%.3fZ")
    }

    fn add(&mut self, svc: &'static str, stream: &'static str, off: f64, level: Lvl, line: String) {
        let service = if svc == "postgres" { None } else { Some(svc) };
        self.lines.push((
            svc,
            stream,
            Annotated {
                service,
                seconds_ago: off,
                level,
                line,
            },
        ));
    }

    /// An api (Zig, structured logger) JSON line with `message` and `level`.
    #[allow(clippy::too_many_arguments)]
    fn api(
        &mut self,
        off: f64,
        level: Lvl,
        msg: &str,
        rid: &str,
        method: &str,
        path: &str,
        status: i64,
        dur: Option<J>,
    ) {
        let lvl = match level {
            Lvl::Info => "info",
            Lvl::Warn => "warn",
            Lvl::Error => "error",
        };
        let mut f = vec![
            ("time", s(self.iso(off))),
            ("level", s(lvl)),
            ("message", s(msg)),
            ("request_id", s(rid)),
            ("method", s(method)),
            ("path", s(path)),
            ("status", J::N(status)),
        ];
        if let Some(d) = dur {
            f.push(("duration_ms", d));
        }
        let line = json_line(&f);
        self.add("api", "stdout", off, level, line);
    }

    /// A web (Node/Astro, pino-style) JSON line with `msg` and `level`.
    #[allow(clippy::too_many_arguments)]
    fn web(
        &mut self,
        off: f64,
        level: Lvl,
        msg: &str,
        rid: &str,
        path: &str,
        status: i64,
        dur: Option<i64>,
    ) {
        let lvl = match level {
            Lvl::Info => "info",
            Lvl::Warn => "warn",
            Lvl::Error => "error",
        };
        let mut f = vec![
            ("level", s(lvl)),
            ("time", s(self.iso(off))),
            ("msg", s(msg)),
            ("request_id", s(rid)),
            ("path", s(path)),
            ("status", J::N(status)),
        ];
        if let Some(d) = dur {
            f.push(("duration_ms", J::N(d)));
        }
        let line = json_line(&f);
        self.add("web", "stdout", off, level, line);
    }

    /// An agent JSON line with `message` and `severity`.
    fn agent(&mut self, off: f64, level: Lvl, msg: &str, extra: Vec<(&str, J)>) {
        let sev = match level {
            Lvl::Info => "info",
            Lvl::Warn => "warning",
            Lvl::Error => "error",
        };
        let mut f = vec![
            ("ts", s(self.iso(off))),
            ("severity", s(sev)),
            ("message", s(msg)),
        ];
        f.extend(extra);
        let line = json_line(&f);
        self.add("agent", "stdout", off, level, line);
    }

    fn runner(&mut self, off: f64, level: Lvl, logfmt: &str) {
        let lvl = match level {
            Lvl::Info => "info",
            Lvl::Warn => "warn",
            Lvl::Error => "error",
        };
        let line = format!("ts={} level={lvl} {logfmt}", self.iso(off));
        self.add("runner", "stdout", off, level, line);
    }

    /// A multi-line trace as a shipper without a multiline stage sends it: one entry
    /// per line, each 1 µs after the one before.
    fn split(&mut self, svc: &'static str, off: f64, trace: &str) {
        for (i, line) in trace.lines().enumerate() {
            let level = if i == 0 { Lvl::Error } else { Lvl::Info };
            self.add(
                svc,
                "stderr",
                off - 1e-6 * i as f64,
                level,
                line.to_string(),
            );
        }
    }

    fn python(&mut self, off: f64, level: Lvl, logger: &str, msg: &str) {
        let lvl = match level {
            Lvl::Info => "INFO",
            Lvl::Warn => "WARNING",
            Lvl::Error => "ERROR",
        };
        let line = format!(
            "{} - {logger} - {lvl} - {msg}",
            self.time(off, "%Y-%m-%d %H:%M:%S,%3f")
        );
        self.add("runner", "stderr", off, level, line);
    }

    fn postgres(&mut self, off: f64, level: Lvl, msg: &str) {
        let line = format!("{} UTC {msg}", self.time(off, "%Y-%m-%d %H:%M:%S%.3f"));
        self.add("postgres", "stderr", off, level, line);
    }
}

fn bg_request_id(service: u32, k: u32) -> String {
    format!(
        "req-{:06x}",
        (0x1a2b3c_u32
            .wrapping_add(service * 0x51ed27)
            .wrapping_add(k * 0x9e3779))
            & 0xffffff
    )
}

pub(crate) fn annotated(now_ns: i64) -> Vec<(&'static str, &'static str, Annotated)> {
    use Lvl::*;
    let mut fx = Fx {
        now: now_ns,
        lines: Vec::new(),
    };

    // ---- api: routine requests every 90 s (JSON), plus the events below -------------------
    const API_PATHS: [&str; 6] = [
        "/api/repos/alice/plue",
        "/api/user",
        "/api/repos/alice/plue/issues",
        "/api/health",
        "/api/repos/bob/zig-http/tree/main",
        "/api/workflows/runs",
    ];
    const API_DURS: [i64; 12] = [12, 35, 8, 120, 64, 230, 18, 97, 41, 150, 27, 310];
    for k in 0..80u32 {
        let off = 45.0 + 90.0 * f64::from(k);
        if near_boundary(off) {
            continue;
        }
        let i = k as usize;
        let method = if k % 7 == 3 { "POST" } else { "GET" };
        let rid = bg_request_id(1, k);
        fx.api(
            off,
            Info,
            "request completed",
            &rid,
            method,
            API_PATHS[i % 6],
            200,
            Some(J::N(API_DURS[i % 12])),
        );
    }
    fx.api(
        3450.0,
        Info,
        "request completed",
        "req-0e1a01",
        "GET",
        "/api/error-reports",
        200,
        Some(J::N(31)),
    );
    fx.api(
        3300.0,
        Error,
        "failed to load repository 1234: not found",
        "req-0e1a02",
        "GET",
        "/api/repos/1234",
        404,
        None,
    );
    fx.api(
        3100.0,
        Warn,
        "rate limit approaching for user 17",
        "req-0e1a03",
        "GET",
        "/api/user",
        200,
        None,
    );
    fx.api(
        2700.0,
        Error,
        "failed to load repository 98: not found",
        "req-0e1a04",
        "GET",
        "/api/repos/98",
        404,
        None,
    );
    fx.api(
        2400.0,
        Warn,
        "request aborted by client",
        "req-0e1a05",
        "GET",
        "/api/repos/alice/plue/archive",
        499,
        Some(s("n/a")),
    );
    {
        let line = json_line(&[
            ("time", s(fx.iso(2220.0))),
            ("level", s("info")),
            ("message", s("workflow dispatch requested")),
            ("request_id", s(REQUEST_ID)),
            ("method", s("POST")),
            ("path", s("/api/repos/alice/plue/actions/dispatch")),
            ("status", J::N(202)),
            ("duration_ms", J::N(87)),
            ("workflow_run_id", J::N(RUN_ID)),
        ]);
        fx.add("api", "stdout", 2220.0, Info, line);
    }
    fx.api(
        2000.0,
        Error,
        "database query timed out after 5003ms (conn 0x7f3a2b10)",
        "req-0e1a06",
        "GET",
        "/api/repos/alice/plue/issues",
        500,
        None,
    );
    fx.api(
        1500.0,
        Info,
        "request completed",
        "req-0e1a07",
        "GET",
        "/api/repos/alice/plue/archive",
        200,
        Some(J::N(499)),
    );
    fx.api(
        1260.0,
        Info,
        "request completed",
        "req-0e1a08",
        "GET",
        "/api/repos/bob/zig-http/archive",
        200,
        Some(J::N(500)),
    );
    fx.api(
        1100.0,
        Error,
        "database query timed out after 5017ms (conn 0x7f3a2c44)",
        "req-0e1a09",
        "GET",
        "/api/search",
        500,
        None,
    );
    fx.api(
        1020.0,
        Info,
        "request completed",
        "req-0e1a0a",
        "GET",
        "/api/repos/alice/plue/compare/main...dev",
        200,
        Some(J::N(501)),
    );
    fx.api(
        780.0,
        Warn,
        "slow request",
        "req-0e1a0b",
        "GET",
        "/api/search",
        200,
        Some(J::N(2500)),
    );
    fx.api(
        600.0,
        Error,
        "failed to load repository 5521: not found",
        "req-0e1a0c",
        "GET",
        "/api/repos/5521",
        404,
        None,
    );
    fx.api(
        4500.0,
        Warn,
        "slow request",
        "req-0e1a0d",
        "GET",
        "/api/repos/bob/big/archive",
        504,
        Some(J::N(9000)),
    );
    fx.api(
        4000.0,
        Error,
        "failed to load repository 77: not found",
        "req-0e1a0e",
        "GET",
        "/api/repos/77",
        404,
        None,
    );
    // api stderr: Zig std.log plain text and traces
    let zig = |fx: &mut Fx, off: f64, lvl: Lvl, line: &str| {
        fx.add("api", "stderr", off, lvl, line.to_string())
    };
    zig(
        &mut fx,
        10800.0,
        Info,
        "info(server): Starting server on 0.0.0.0:4000",
    );
    zig(
        &mut fx,
        10799.5,
        Info,
        "info(db): connected to postgres (pool size 10)",
    );
    zig(
        &mut fx,
        6000.0,
        Error,
        "error(db): connection refused (attempt 1)",
    );
    zig(
        &mut fx,
        2500.0,
        Error,
        "error(db): connection refused (attempt 3)",
    );
    zig(
        &mut fx,
        2450.0,
        Error,
        "error(db): connection refused (attempt 4)",
    );
    zig(
        &mut fx,
        2300.0,
        Info,
        "info(http): [a1b2c3d4e5f60718] GET /api/user 200 (812ms)",
    );
    zig(
        &mut fx,
        1900.0,
        Error,
        "thread 4182 panic: index out of bounds: index 12, len 8\n\
         /app/server/src/routes/tree.zig:214:31: 0x10d3c2a in handleTree (server)\n\
         \x20           const entry = entries[idx];\n\
         \x20                             ^\n\
         /app/server/src/router.zig:88:25: 0x10b1f40 in dispatch (server)\n\
         \x20       return route.handler(ctx);\n\
         \x20                       ^\n\
         /usr/lib/zig/std/start.zig:524:22: 0x10a2b11 in main (server)\n\
         \x20   root.main() catch |err| {\n\
         \x20                    ^",
    );
    zig(
        &mut fx,
        1400.0,
        Error,
        "error(git): failed to open repository /data/repos/alice/plue.git: error.FileNotFound\n\
         /app/server/src/git/repo.zig:57:13: 0x10c4410 in open (server)\n\
         \x20           return error.FileNotFound;\n\
         \x20           ^\n\
         /app/server/src/routes/repos.zig:131:21: 0x10c9e02 in handleRepo (server)\n\
         \x20   const repo = try Repo.open(alloc, path);\n\
         \x20                   ^",
    );
    zig(
        &mut fx,
        200.0,
        Warn,
        "warn(cache): cache miss ratio 0.42 above threshold 0.30",
    );

    // ---- web: routine page views every 150 s (JSON with `msg`) -----------------------------
    const WEB_PATHS: [&str; 4] = [
        "/repos/alice/plue",
        "/",
        "/repos/alice/plue/issues",
        "/explore",
    ];
    const WEB_DURS: [i64; 6] = [45, 88, 130, 22, 67, 210];
    for k in 0..48u32 {
        let off = 60.0 + 150.0 * f64::from(k);
        if near_boundary(off) {
            continue;
        }
        let i = k as usize;
        let path = WEB_PATHS[i % 4];
        fx.web(
            off,
            Info,
            &format!("GET {path} 200"),
            &bg_request_id(2, k),
            path,
            200,
            Some(WEB_DURS[i % 6]),
        );
    }
    fx.web(
        5200.0,
        Error,
        "SSR fetch failed for session 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f: status 502",
        "req-0e1b01",
        "/repos/alice/plue",
        502,
        None,
    );
    fx.web(
        3000.0,
        Error,
        "SSR fetch failed for session 3f2a9c1e-8b7d-4e21-9f3a-2b1c0d9e8f7a: status 502",
        "req-0e1b02",
        "/repos/alice/plue/issues",
        502,
        None,
    );
    fx.web(
        2219.0,
        Info,
        "GET /repos/alice/plue/actions 200",
        DECOY_REQUEST_ID,
        "/repos/alice/plue/actions",
        200,
        Some(64),
    );
    fx.web(
        2100.0,
        Info,
        "GET /repos/alice/plue/blame/main/src/server.zig 200",
        "req-0e1b03",
        "/repos/alice/plue/blame/main/src/server.zig",
        200,
        Some(1500),
    );
    fx.web(
        1600.0,
        Error,
        "SSR fetch failed for session a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d: status 502",
        "req-0e1b04",
        "/explore",
        502,
        None,
    );
    fx.web(
        1200.0,
        Warn,
        "slow render for /repos/alice/plue (812ms)",
        "req-0e1b05",
        "/repos/alice/plue",
        200,
        None,
    );
    fx.add(
        "web",
        "stderr",
        2800.0,
        Error,
        "TypeError: Cannot read properties of undefined (reading 'owner')\n\
         \x20   at RepoHeader (/app/ui/components/RepoHeader.tsx:42:31)\n\
         \x20   at renderPage (/app/ui/lib/render.ts:118:12)\n\
         \x20   at async handleRequest (/app/ui/server/entry.ts:77:5)"
            .to_string(),
    );
    fx.add(
        "web",
        "stderr",
        800.0,
        Error,
        "Error: fetch failed\n\
         \x20   at node:internal/deps/undici/undici:13502:13\n\
         \x20   at async apiFetch (/app/ui/lib/api.ts:54:17)\n\
         \x20   at async getRepository (/app/ui/lib/repos.ts:21:10) {\n\
         \x20 [cause]: Error: connect ECONNREFUSED 127.0.0.1:4000\n\
         \x20     at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16) {\n\
         \x20   errno: -111,\n\
         \x20   code: 'ECONNREFUSED',\n\
         \x20   syscall: 'connect',\n\
         \x20   address: '127.0.0.1',\n\
         \x20   port: 4000\n\
         \x20 }\n\
         }"
        .to_string(),
    );

    // ---- runner: logfmt on stdout, Python logging on stderr --------------------------------
    for k in 0..30u32 {
        let off = 100.0 + 240.0 * f64::from(k);
        if near_boundary(off) {
            continue;
        }
        fx.runner(
            off,
            Info,
            &format!(
                "msg=\"polling for jobs\" queue=default pending={} worker=runner-1",
                k % 3
            ),
        );
    }
    fx.runner(
        5000.0,
        Info,
        "msg=\"workflow run started\" run_id=43 workflow=ci",
    );
    fx.runner(4990.0, Info, "msg=\"step started\" run_id=43 step=build");
    fx.runner(
        4980.0,
        Info,
        "msg=\"workflow run finished\" run_id=43 status=success elapsed=9s",
    );
    fx.runner(
        3200.0,
        Error,
        "msg=\"task 981 failed: exit code 137\" task_id=981 worker=runner-1",
    );
    fx.runner(
        2218.5,
        Info,
        &format!("msg=\"workflow run started\" run_id=42 workflow=ci request_id={REQUEST_ID}"),
    );
    fx.runner(
        2215.0,
        Info,
        &format!("msg=\"step started\" run_id=42 step=build request_id={REQUEST_ID}"),
    );
    fx.runner(
        2212.0,
        Error,
        &format!("msg=\"step failed\" run_id=42 step=build exit_code=1 request_id={REQUEST_ID}"),
    );
    fx.runner(
        2190.0,
        Info,
        "msg=\"workflow run finished\" run_id=42 status=failure elapsed=28s",
    );
    fx.runner(
        1850.0,
        Info,
        "msg=\"artifact upload started path=/tmp/out/build.tar.gz",
    );
    fx.runner(
        1700.0,
        Info,
        "msg=\"step finished\" run_id=44 step=test duration_ms=750",
    );
    fx.runner(
        1300.0,
        Info,
        "msg=\"workflow run started\" run_id=420 workflow=nightly",
    );
    fx.runner(
        1290.0,
        Info,
        "msg=\"workflow run finished\" run_id=420 status=success elapsed=12s",
    );
    fx.runner(
        1150.0,
        Error,
        "msg=\"task 982 failed: exit code 137\" task_id=982 worker=runner-2",
    );
    fx.runner(
        960.0,
        Warn,
        "msg=\"step finished\" run_id=45 step=build duration_ms=3200",
    );
    fx.add(
        "runner",
        "stderr",
        5400.0,
        Error,
        "Traceback (most recent call last):\n\
         \x20 File \"/app/runner/client.py\", line 41, in poll\n\
         \x20   resp = self.session.get(url, timeout=30)\n\
         \x20 File \"/usr/lib/python3.12/site-packages/requests/sessions.py\", line 602, in get\n\
         \x20   return self.request(\"GET\", url, **kwargs)\n\
         \x20 ...\n\
         ConnectionResetError: [Errno 104] Connection reset by peer"
            .to_string(),
    );
    fx.python(2600.0, Info, "runner.main", "Runner started with 4 workers");
    fx.python(
        2211.0,
        Error,
        "runner.executor",
        "Step 'build' failed for run 42 with exit code 1",
    );
    fx.add(
        "runner",
        "stderr",
        2210.9,
        Error,
        "Traceback (most recent call last):\n\
         \x20 File \"/app/runner/executor.py\", line 212, in run_step\n\
         \x20   result = subprocess.run(cmd, check=True, timeout=step.timeout)\n\
         \x20 File \"/usr/lib/python3.12/subprocess.py\", line 571, in run\n\
         \x20   raise CalledProcessError(retcode, process.args,\n\
         subprocess.CalledProcessError: Command '['zig', 'build', 'test']' returned non-zero exit status 1."
            .to_string(),
    );
    fx.add(
        "runner",
        "stderr",
        400.0,
        Error,
        "Traceback (most recent call last):\n\
         \x20 File \"/app/runner/queue.py\", line 88, in handle_message\n\
         \x20   workflow_id = payload[\"workflow_id\"]\n\
         \x20                 ~~~~~~~^^^^^^^^^^^^^^^\n\
         KeyError: 'workflow_id'"
            .to_string(),
    );
    fx.python(
        150.0,
        Warn,
        "runner.cache",
        "cache directory /tmp/runner-cache is 91% full",
    );

    // ---- agent: JSON with `message` and `severity` ----------------------------------------
    for k in 0..12u32 {
        let off = 30.0 + 600.0 * f64::from(k);
        if near_boundary(off) {
            continue;
        }
        fx.agent(off, Info, "heartbeat", vec![("active_sessions", J::N(0))]);
    }
    let sess = |id: &str| ("session_id", s(id));
    fx.agent(
        6500.0,
        Info,
        "session started",
        vec![sess("sess-0a0b0c"), ("model", s("claude-sonnet-4"))],
    );
    fx.agent(
        6490.0,
        Info,
        "session ended",
        vec![sess("sess-0a0b0c"), ("tool_calls", J::N(0))],
    );
    fx.agent(
        2300.0,
        Info,
        "session started",
        vec![sess(SESSION_ID), ("model", s("claude-sonnet-4"))],
    );
    fx.agent(
        2290.0,
        Info,
        "llm request",
        vec![
            sess(SESSION_ID),
            ("model", s("claude-sonnet-4")),
            ("input_tokens", J::N(1834)),
        ],
    );
    fx.agent(
        2250.0,
        Info,
        "tool_call read_file",
        vec![sess(SESSION_ID), ("tool", s("read_file"))],
    );
    fx.agent(
        2245.0,
        Info,
        "tool_result read_file",
        vec![
            sess(SESSION_ID),
            ("tool", s("read_file")),
            ("ok", s("true")),
        ],
    );
    fx.agent(
        2210.0,
        Info,
        "tool_call run_workflow_step",
        vec![
            sess(SESSION_ID),
            ("tool", s("run_workflow_step")),
            ("request_id", s(REQUEST_ID)),
        ],
    );
    fx.agent(
        2205.0,
        Error,
        "tool call \"bash\" failed: exit status 2",
        vec![
            sess(SESSION_ID),
            ("tool", s("bash")),
            ("request_id", s(REQUEST_ID)),
        ],
    );
    fx.agent(
        2100.0,
        Info,
        "session ended",
        vec![sess(SESSION_ID), ("tool_calls", J::N(3))],
    );
    fx.agent(
        1000.0,
        Info,
        "session started",
        vec![sess(OTHER_SESSION_ID), ("model", s("claude-sonnet-4"))],
    );
    fx.agent(
        990.0,
        Info,
        "tool_call grep",
        vec![sess(OTHER_SESSION_ID), ("tool", s("grep"))],
    );
    fx.agent(
        985.0,
        Info,
        "tool_result grep",
        vec![
            sess(OTHER_SESSION_ID),
            ("tool", s("grep")),
            ("ok", s("true")),
        ],
    );
    fx.agent(
        700.0,
        Error,
        "tool call \"read_file\" failed: file \"src/main.zig\" not found",
        vec![sess(OTHER_SESSION_ID), ("tool", s("read_file"))],
    );
    fx.agent(
        650.0,
        Error,
        "tool call \"read_file\" failed: file \"build.zig\" not found",
        vec![sess(OTHER_SESSION_ID), ("tool", s("read_file"))],
    );
    fx.agent(
        640.0,
        Info,
        "session ended",
        vec![sess(OTHER_SESSION_ID), ("tool_calls", J::N(3))],
    );
    fx.add(
        "agent",
        "stderr",
        500.0,
        Error,
        "thread 'main' panicked at src/session.rs:88:14:\n\
         called `Option::unwrap()` on a `None` value\n\
         stack backtrace:\n\
         \x20  0: rust_begin_unwind\n\
         \x20            at /rustc/4eb161250e340c8f48f66e2b929ef4a5bed7c181/library/std/src/panicking.rs:665:5\n\
         \x20  1: core::panicking::panic_fmt\n\
         \x20  2: core::panicking::panic\n\
         \x20  3: core::option::unwrap_failed\n\
         \x20  4: plue_agent::session::Session::resume\n\
         \x20            at ./src/session.rs:88:14\n\
         \x20  5: plue_agent::main\n\
         \x20            at ./src/main.rs:41:5\n\
         note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace."
            .to_string(),
    );

    // ---- added for the real Loki: boundaries, plain-text durations, split traces -----------
    fx.api(
        1750.0,
        Info,
        "request completed",
        "req-0e1a10",
        "GET",
        "/api/repos/alice/plue/commits",
        200,
        Some(J::N(1000)),
    );
    fx.api(
        1650.0,
        Info,
        "request completed",
        "req-0e1a11",
        "GET",
        "/api/search",
        200,
        Some(J::N(12950)),
    );
    fx.python(
        1720.0,
        Info,
        "runner.executor",
        "step 'test' of run 44 took 2.4s",
    );
    fx.split(
        "web",
        1450.0,
        "RangeError: Invalid time value\n\
         \x20   at Date.toISOString (<anonymous>)\n\
         \x20   at formatDate (/app/ui/lib/time.ts:12:25)\n\
         \x20   at IssueRow (/app/ui/components/IssueRow.tsx:31:14)",
    );
    fx.split(
        "runner",
        1350.0,
        "Traceback (most recent call last):\n\
         \x20 File \"/app/runner/artifacts.py\", line 57, in upload\n\
         \x20   blob = storage.put(path, data)\n\
         \x20 File \"/app/runner/storage.py\", line 112, in put\n\
         \x20   raise TimeoutError(f\"upload of {path} timed out after {timeout}s\")\n\
         TimeoutError: upload of /tmp/out/build.tar.gz timed out after 30s",
    );
    fx.split(
        "api",
        1150.0,
        "error(storage): failed to write pack /data/repos/bob/zig-http.git/objects/pack/tmp_pack: error.NoSpaceLeft\n\
         /app/server/src/git/pack.zig:311:17: 0x10e2f10 in writePack (server)\n\
         \x20           return error.NoSpaceLeft;\n\
         \x20           ^\n\
         /app/server/src/routes/push.zig:96:9: 0x10e7a33 in handlePush (server)\n\
         \x20       try pack.writePack(alloc, body);\n\
         \x20       ^",
    );
    fx.split(
        "agent",
        1050.0,
        "thread 'tokio-runtime-worker' panicked at src/tools/bash.rs:57:22:\n\
         index out of bounds: the len is 0 but the index is 0\n\
         stack backtrace:\n\
         \x20  0: rust_begin_unwind\n\
         \x20  1: core::panicking::panic_bounds_check\n\
         \x20  2: plue_agent::tools::bash::run\n\
         \x20            at ./src/tools/bash.rs:57:22\n\
         note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.",
    );

    // ---- postgres: no `service` label ------------------------------------------------------
    fx.postgres(3400.0, Info, "[1] LOG:  checkpoint starting: time");
    fx.postgres(
        2460.0,
        Error,
        "[87] ERROR:  duplicate key value violates unique constraint \"users_email_key\"",
    );
    fx.postgres(
        2459.9,
        Info,
        "[87] DETAIL:  Key (email)=(alice@example.com) already exists.",
    );
    fx.postgres(
        1000.0,
        Info,
        "[1] LOG:  checkpoint complete: wrote 42 buffers (0.3%)",
    );

    fx.lines
}

/// The Plue fixture: about 280 entries over the last ~2 hours before `now_ns` (plus two api
/// startup lines 3 h ago), in nine streams:
///
/// * `{job="containerlogs", service="<svc>", container="plue-<svc>-1", stream="stdout"|"stderr"}`
///   for `svc` in api, web, runner, agent, and
/// * `{job="containerlogs", container="plue-postgres-1", stream="stderr"}` (no `service` label).
///
/// Line shapes:
/// * api stdout: JSON `{"time","level","message","request_id","method","path","status","duration_ms"}`
///   every 90 s, plus events; api stderr: Zig `std.log` text (`error(db): ...`), a Zig panic
///   trace and a Zig error-return trace.
/// * web stdout: JSON with `msg` (not `message`); web stderr: Node `TypeError`/`Error` stacks.
/// * runner stdout: logfmt `ts=... level=... msg="..." ...`, including one malformed line
///   (unterminated quote: `| logfmt --strict` marks it `__error__="LogfmtParserErr"`; plain
///   `| logfmt` skips the bad pair, as Loki 3.x does); runner stderr:
///   Python `logging` text and three `Traceback (most recent call last):` entries.
/// * agent stdout: JSON with `message` and `severity` and `session_id`; agent stderr: a Rust
///   `thread 'main' panicked at` with a backtrace.
/// * postgres: plain `LOG:`/`ERROR:`/`DETAIL:` lines.
///
/// Assertable facts (exact as long as a test queries within 30 s of `now_ns`, see
/// [`QUIET_BOUNDARIES_S`]): [`SERVICE_COUNTS`] (lines, errors and warnings per service in the
/// last hour, lines in total), [`LINES_LAST_5_MIN`], [`POSTGRES_LINES`],
/// [`LINES_OLDER_THAN_2H`]; [`REQUEST_ID`] in [`REQUEST_ID_LINES`] lines across
/// [`REQUEST_ID_SERVICES`] (api 37m00s ago, runner 36m58.5s/36m55s/36m52s, agent
/// 36m50s/36m45s), with [`DECOY_REQUEST_ID`] once in web; run [`RUN_ID`] in [`RUN_ID_LINES`]
/// lines and the decoy run [`DECOY_RUN_ID`]; sessions [`SESSION_ID`] and [`OTHER_SESSION_ID`];
/// [`ERROR_GROUPS`]; the twelve [`TRACES`]; durations: routine requests never exceed
/// [`MAX_ROUTINE_DURATION_MS`], the last hour's slow JSON requests are exactly
/// [`SLOW_LAST_HOUR`], [`OLD_SLOW_JSON`] 75 min ago; one api JSON line
/// (40 min ago, `warn`, "request aborted by client") has `"duration_ms":"n/a"`, so
/// `| json | duration_ms > 500` without `| __error__=""` lets it through with
/// `__error__="LabelFilterErr"`, and every non-JSON line through with `JSONParserErr`. One
/// info line has the path `/api/error-reports` (a naive `|~ "(?i)error"` counts it).
pub fn streams(now_ns: i64) -> Vec<Stream> {
    let mut map: BTreeMap<(&str, &str), Vec<(i64, String)>> = BTreeMap::new();
    for (svc, stream, a) in annotated(now_ns) {
        let ts = now_ns - (a.seconds_ago * 1e9).round() as i64;
        map.entry((svc, stream)).or_default().push((ts, a.line));
    }
    map.into_iter()
        .map(|((svc, stream), mut entries)| {
            entries.sort_by_key(|e| e.0);
            let mut labels = vec![
                ("job".to_string(), "containerlogs".to_string()),
                ("container".to_string(), format!("plue-{svc}-1")),
                ("stream".to_string(), stream.to_string()),
            ];
            if svc != "postgres" {
                labels.push(("service".to_string(), svc.to_string()));
            }
            Stream { labels, entries }
        })
        .collect()
}
