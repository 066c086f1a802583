//! Every LogQL query the logs tools send, built in one pure place.
//!
//! User text never reaches Loki unquoted: plain strings become LogQL double-quoted
//! literals (Go's escaping rules), regular expressions become backtick raw strings
//! (no escaping at all) unless they hold a backtick or a carriage return, and text
//! searched for literally inside a regular expression is escaped first. Only syntax
//! that Loki 2.x and 3.x both accept is emitted: stream selectors, the four line
//! filters, `| json`, `| logfmt`, label filters (with `| __error__=""` after a numeric
//! one), `count_over_time` and `sum by`.

use std::fmt::Write;

/// The log levels the tools know, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warn,
    Info,
    Debug,
}

impl Level {
    /// Every level, most severe first (the order lines are classified in).
    pub const ALL: [Level; 4] = [Level::Error, Level::Warn, Level::Info, Level::Debug];

    /// `error`, `warn`, `info` or `debug`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }

    /// The regular expression that marks a line of this level, whatever its shape.
    pub fn pattern(self) -> &'static str {
        match self {
            Level::Error => ERROR_RE,
            Level::Warn => WARN_RE,
            Level::Info => INFO_RE,
            Level::Debug => DEBUG_RE,
        }
    }
}

/// An error line: JSON `level`/`severity` (words, or pino's 50/60), logfmt `level=`,
/// Zig `std.log` (`error(scope):`), upper-case level words (Python logging,
/// PostgreSQL, log4j), and the first line of a stack trace or panic. Path segments
/// such as `/api/error-reports` do not count.
pub const ERROR_RE: &str = concat!(
    r#""(?:level|severity|lvl)"\s*:\s*(?:"(?i:err|error|fatal|crit|critical|alert|emerg|emergency|panic)"|[56]0\b)"#,
    r#"|\b(?:level|severity|lvl)="?(?i:err|error|fatal|crit|critical|alert|emerg|panic)\b"#,
    r#"|^(?:err|error|fatal|crit)\("#,
    r#"|\b(?:ERROR|FATAL|CRITICAL|CRIT|PANIC|EMERG|ALERT)\b"#,
    r#"|^Traceback \(most recent call last\)"#,
    r#"|^[\w.$]*(?:Error|Exception)(?::|$)"#,
    r#"|\bpanic: |\bpanicked at\b"#,
);

/// A warning line, in the same shapes as [`ERROR_RE`].
pub const WARN_RE: &str = concat!(
    r#""(?:level|severity|lvl)"\s*:\s*(?:"(?i:warn|warning)"|40\b)"#,
    r#"|\b(?:level|severity|lvl)="?(?i:warn|warning)\b"#,
    r#"|^warn(?:ing)?\("#,
    r#"|\b(?:WARN|WARNING)\b"#,
);

/// An info line (PostgreSQL's `LOG:` included).
pub const INFO_RE: &str = concat!(
    r#""(?:level|severity|lvl)"\s*:\s*(?:"(?i:info|information|notice)"|30\b)"#,
    r#"|\b(?:level|severity|lvl)="?(?i:info|notice)\b"#,
    r#"|^info\("#,
    r#"|\b(?:INFO|NOTICE|LOG)\b"#,
);

/// A debug or trace line.
pub const DEBUG_RE: &str = concat!(
    r#""(?:level|severity|lvl)"\s*:\s*(?:"(?i:debug|trace)"|[12]0\b)"#,
    r#"|\b(?:level|severity|lvl)="?(?i:debug|trace)\b"#,
    r#"|^debug\("#,
    r#"|\b(?:DEBUG|TRACE)\b"#,
);

/// The languages whose stack traces `search_exceptions` recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Language {
    Python,
    Rust,
    Zig,
    Typescript,
}

impl Language {
    /// Every language, in the order an entry is classified in.
    pub const ALL: [Language; 4] = [
        Language::Python,
        Language::Rust,
        Language::Zig,
        Language::Typescript,
    ];

    /// `python`, `rust`, `zig` or `typescript`.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Rust => "rust",
            Language::Zig => "zig",
            Language::Typescript => "typescript",
        }
    }

    /// What a stack trace of this language contains.
    pub fn pattern(self) -> &'static str {
        match self {
            Language::Python => r"Traceback \(most recent call last\):",
            Language::Rust => r"\bpanicked at\b",
            Language::Zig => r"\.zig:\d+:\d+: 0x[0-9a-fA-F]+ in |^thread \d+ panic: ",
            Language::Typescript => TYPESCRIPT_RE,
        }
    }
}

/// A JavaScript stack frame: V8's (`    at fn (/app/x.ts:1:2)`, `    at node:internal/x:1:2`,
/// `    at https://h/page.html:3:9`) or Firefox's and Safari's (`fn@https://h/app.js:1:2`),
/// on a line of its own or inside a JSON string after an escaped `\n`, as browser
/// telemetry (ui/telemetry) sends a `stack` field.
pub const TYPESCRIPT_RE: &str = concat!(
    r"(?m:^\s+at .*(?:\.[cm]?[jt]sx?|\.html?|node:[\w/]+):\d+:\d+\)?$)",
    r"|(?m:^[\w$.<>/]*@(?:https?|file)://\S+:\d+:\d+$)",
    r#"|\\n\s+at [^"\\]*(?:\.[cm]?[jt]sx?|\.html?|node:[\w/]+):\d+:\d+\)?(?:\\n|")"#,
    r#"|\\n[\w$.<>/]*@(?:https?|file)://[^"\\\s]+:\d+:\d+(?:\\n|")"#,
);

/// A LogQL double-quoted string literal holding exactly `s` (Go's rules, as PromQL).
pub use plue_plugin_sdk::quote::go_string as string;

/// A LogQL string literal for the regular expression `re`: a backtick raw string,
/// which needs no escaping, unless `re` holds a backtick or a carriage return (which
/// a raw string cannot carry); then a double-quoted literal.
pub fn regex(re: &str) -> String {
    if re.contains(['`', '\r']) {
        string(re)
    } else {
        format!("`{re}`")
    }
}

/// `text` escaped to match itself literally in a regular expression (RE2's `QuoteMeta`).
pub fn escape_regex(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A regular expression matching `token` as a whole token: not inside a longer word,
/// so `req-7` does not match `req-71` and `42` does not match `420`.
pub fn whole_token(token: &str) -> String {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::new();
    if is_word(token.chars().next()) {
        out.push_str(r"\b");
    }
    out.push_str(&escape_regex(token));
    if is_word(token.chars().last()) {
        out.push_str(r"\b");
    }
    out
}

/// `Ok(name)` when `name` is a valid label name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn label_name(name: &str) -> Result<&str, String> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(name)
    } else {
        Err(format!(
            "`{name}` is not a label name (letters, digits and `_`, not starting with a digit)"
        ))
    }
}

/// The stream selector for a query: the operator's `base` selector (such as
/// `{job="containerlogs"}`), narrowed by `service`, which is a value of
/// `service_label`, or `label=value` for another label; `all`, empty or `None` keep
/// every stream. An empty base selects streams that have `service_label`.
pub fn selector(base: &str, service_label: &str, service: Option<&str>) -> Result<String, String> {
    let inner = base
        .trim()
        .strip_prefix('{')
        .and_then(|b| b.strip_suffix('}'))
        .map(str::trim)
        .ok_or_else(|| format!("the `selector` setting `{base}` is not a stream selector like {{job=\"containerlogs\"}}"))?;
    label_name(service_label).map_err(|e| format!("the `service_label` setting: {e}"))?;
    let service = service
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("all"));
    let matcher = match service {
        None if inner.is_empty() => Some(format!("{service_label}=~\".+\"")),
        None => None,
        Some(s) => Some(match s.split_once('=') {
            Some((label, value)) => {
                let label = label_name(label.trim()).map_err(|e| format!("`service`: {e}"))?;
                format!("{label}={}", string(value.trim()))
            }
            None => format!("{service_label}={}", string(s)),
        }),
    };
    Ok(match (inner.is_empty(), matcher) {
        (_, None) => format!("{{{inner}}}"),
        (true, Some(m)) => format!("{{{m}}}"),
        (false, Some(m)) => format!("{{{inner}, {m}}}"),
    })
}

/// A LogQL range such as `1h`, `90m` or `45s`, for `seconds` (rounded, at least 1 s).
pub fn range(seconds: f64) -> String {
    let s = (seconds.round() as i64).max(1);
    if s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// A number as a LogQL literal: no exponent, no trailing `.0`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Line filters keeping lines of `level` (and not of a more severe level, so each
/// line has exactly one level).
pub fn level_filter(level: Level) -> String {
    let mut out = String::new();
    for higher in Level::ALL.iter().take_while(|l| **l != level) {
        let _ = write!(out, " !~ {}", regex(higher.pattern()));
    }
    let _ = write!(out, " |~ {}", regex(level.pattern()));
    out
}

/// `search_logs`: the selector, an optional level and an optional literal substring.
pub fn search(selector: &str, level: Option<Level>, contains: Option<&str>) -> String {
    let mut q = selector.to_string();
    if let Some(level) = level {
        q.push_str(&level_filter(level));
    }
    if let Some(text) = contains.filter(|t| !t.is_empty()) {
        let _ = write!(q, " |= {}", string(text));
    }
    q
}

/// `find_errors`: lines of level error in any shape.
pub fn errors(selector: &str) -> String {
    format!("{selector} |~ {}", regex(ERROR_RE))
}

/// `trace_request` and `agent_logs` with a session: lines holding `token` as a whole
/// token (a fast substring filter first, then the token check).
pub fn token(selector: &str, token: &str) -> String {
    format!(
        "{selector} |= {} |~ {}",
        string(token),
        regex(&whole_token(token))
    )
}

/// A duration written in a plain-text line: `(812ms)`, `(1.5 s)`, `took 2.4s`,
/// `took 120 ms`. Group 1 is the number, group 2 the unit (`ms` or `s`).
pub const TEXT_DURATION_RE: &str = r"(?:\(|\btook )(\d+(?:\.\d+)?) ?(ms|s)\b";

/// The three `find_slow_requests` queries: JSON and logfmt lines whose numeric
/// `field` exceeds `threshold` (lines where it is missing or not a number are dropped
/// by `__error__=""`), then lines with a plain-text duration ([`TEXT_DURATION_RE`],
/// compared with the threshold by the tool, as LogQL cannot).
pub fn slow(selector: &str, field: &str, threshold: f64) -> [String; 3] {
    let t = number(threshold);
    [
        format!(
            "{selector} |= {} | json | {field} > {t} | __error__=\"\"",
            string(&format!("\"{field}\""))
        ),
        format!(
            "{selector} |= {} | logfmt | {field} > {t} | __error__=\"\"",
            string(&format!("{field}="))
        ),
        format!("{selector} |~ {}", regex(TEXT_DURATION_RE)),
    ]
}

/// `log_stats`: line counts over `range` per `label`, for all lines, error lines and
/// warning lines (a warning line is one that is not also an error line).
pub fn stats(selector: &str, label: &str, range: &str) -> [String; 3] {
    let count = |pipeline: String| {
        format!("sum by ({label}) (count_over_time({selector}{pipeline} [{range}]))")
    };
    [
        count(String::new()),
        count(level_filter(Level::Error)),
        count(level_filter(Level::Warn)),
    ]
}

/// How many lines a log query matches over `range`.
pub fn count(log_query: &str, range: &str) -> String {
    format!("sum(count_over_time({log_query} [{range}]))")
}

/// `search_exceptions`: entries holding a stack trace of `language` (any, when `None`).
pub fn exceptions(selector: &str, language: Option<Language>) -> String {
    let re = match language {
        Some(l) => l.pattern().to_string(),
        None => Language::ALL
            .iter()
            .map(|l| format!("(?:{})", l.pattern()))
            .collect::<Vec<_>>()
            .join("|"),
    };
    format!("{selector} |~ {}", regex(&re))
}

/// `workflow_logs`: lines of the given workflow runs (`run_id=42`, `"run_id":42`,
/// `"workflow_run_id":"42"`; not run 420), or of any run when `runs` is empty.
pub fn workflow_runs(selector: &str, runs: &[i64]) -> String {
    let ids = match runs {
        [] => r"\d+".to_string(),
        [one] => one.to_string(),
        many => format!(
            "(?:{})",
            many.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join("|")
        ),
    };
    format!(
        "{selector} |= \"run_id\" |~ {}",
        regex(&format!(r#"run_id"?\s*[=:]\s*"?{ids}\b"#))
    )
}

/// `workflow_logs` by name: lines whose `workflow` (or `workflow_name`) field is `name`.
pub fn workflow_name(selector: &str, name: &str) -> String {
    let re = format!(
        r#"\bworkflow(?:_name)?"?\s*[=:]\s*"?{}(?:[\s",}}]|$)"#,
        escape_regex(name)
    );
    format!("{selector} |= {} |~ {}", string(name), regex(&re))
}

/// `agent_logs` without a session: lines about agents, LLM calls, tool calls and sessions.
pub fn agent_activity(selector: &str) -> String {
    format!(
        "{selector} |~ {}",
        regex(r"(?i)agent|llm|claude|tool_call|tool_result|session_?id")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEL: &str = r#"{job="containerlogs"}"#;

    #[test]
    fn strings_follow_go_rules() {
        for (input, literal) in [
            ("plain", r#""plain""#),
            (r#"say "hi""#, r#""say \"hi\"""#),
            (r"C:\temp\x", r#""C:\\temp\\x""#),
            ("a\nb\tc\r", r#""a\nb\tc\r""#),
            ("bell\u{7}", r#""bell\x07""#),
            ("héllo ✓", r#""héllo ✓""#),
            (r"|= ~ `", r#""|= ~ `""#),
        ] {
            assert_eq!(string(input), literal, "{input:?}");
        }
    }

    #[test]
    fn regexes_are_raw_unless_they_cannot_be() {
        assert_eq!(regex(r"error\.\w+"), r"`error\.\w+`");
        assert_eq!(regex(r"a`b\d"), r#""a`b\\d""#);
        assert_eq!(regex("a\rb"), r#""a\rb""#);
        assert_eq!(
            escape_regex("a.b*c(d)[e]{f}|g^h$i+j?k\\"),
            r"a\.b\*c\(d\)\[e\]\{f\}\|g\^h\$i\+j\?k\\"
        );
        assert_eq!(whole_token("req-7f3a9c"), r"\breq-7f3a9c\b");
        assert_eq!(whole_token("[x]"), r"\[x\]");
        assert_eq!(whole_token("a.b"), r"\ba\.b\b");
    }

    #[test]
    fn selectors() {
        let ok = |base: &str, service: Option<&str>| selector(base, "service", service).unwrap();
        assert_eq!(ok(SEL, None), SEL);
        assert_eq!(ok(SEL, Some("all")), SEL);
        assert_eq!(ok(SEL, Some(" ")), SEL);
        assert_eq!(
            ok(SEL, Some("api")),
            r#"{job="containerlogs", service="api"}"#
        );
        assert_eq!(
            ok(SEL, Some(r#"a"b\"#)),
            r#"{job="containerlogs", service="a\"b\\"}"#
        );
        assert_eq!(
            ok(SEL, Some("container=plue-postgres-1")),
            r#"{job="containerlogs", container="plue-postgres-1"}"#
        );
        assert_eq!(ok(" { } ", None), r#"{service=~".+"}"#);
        assert_eq!(ok("{}", Some("web")), r#"{service="web"}"#);
        assert_eq!(
            selector(SEL, "app", Some("web")).unwrap(),
            r#"{job="containerlogs", app="web"}"#
        );
        assert!(
            selector("job=x", "service", None)
                .unwrap_err()
                .contains("`selector` setting")
        );
        assert!(
            selector(SEL, "bad-label", None)
                .unwrap_err()
                .contains("`service_label` setting")
        );
        assert!(
            selector(SEL, "service", Some("9x=y"))
                .unwrap_err()
                .contains("not a label name")
        );
    }

    #[test]
    fn ranges_and_numbers() {
        for (secs, text) in [
            (3600.0, "1h"),
            (5400.0, "90m"),
            (45.4, "45s"),
            (0.2, "1s"),
            (86400.0, "24h"),
        ] {
            assert_eq!(range(secs), text);
        }
        assert_eq!(number(500.0), "500");
        assert_eq!(number(0.5), "0.5");
    }

    #[test]
    fn search_queries() {
        assert_eq!(search(SEL, None, None), SEL);
        assert_eq!(search(SEL, None, Some("")), SEL);
        assert_eq!(
            search(SEL, None, Some(r#"user "bob" |= x"#)),
            r#"{job="containerlogs"} |= "user \"bob\" |= x""#
        );
        assert_eq!(
            search(SEL, Some(Level::Error), None),
            format!("{SEL} |~ `{ERROR_RE}`")
        );
        assert_eq!(
            search(SEL, Some(Level::Info), Some("GET")),
            format!("{SEL} !~ `{ERROR_RE}` !~ `{WARN_RE}` |~ `{INFO_RE}` |= \"GET\"")
        );
    }

    #[test]
    fn tool_queries() {
        assert_eq!(errors(SEL), format!("{SEL} |~ `{ERROR_RE}`"));
        assert_eq!(
            token(SEL, "req-7f3a9c"),
            r#"{job="containerlogs"} |= "req-7f3a9c" |~ `\breq-7f3a9c\b`"#
        );
        assert_eq!(
            token(SEL, "a`b"),
            r#"{job="containerlogs"} |= "a`b" |~ "\\ba`b\\b""#
        );
        assert_eq!(
            slow(SEL, "duration_ms", 500.0),
            [
                r#"{job="containerlogs"} |= "\"duration_ms\"" | json | duration_ms > 500 | __error__="""#.to_string(),
                r#"{job="containerlogs"} |= "duration_ms=" | logfmt | duration_ms > 500 | __error__="""#.to_string(),
                format!("{SEL} |~ `{TEXT_DURATION_RE}`"),
            ]
        );
        let [all, errs, warns] = stats(SEL, "service", "1h");
        assert_eq!(
            all,
            r#"sum by (service) (count_over_time({job="containerlogs"} [1h]))"#
        );
        assert_eq!(
            errs,
            format!("sum by (service) (count_over_time({SEL} |~ `{ERROR_RE}` [1h]))")
        );
        assert_eq!(
            warns,
            format!(
                "sum by (service) (count_over_time({SEL} !~ `{ERROR_RE}` |~ `{WARN_RE}` [1h]))"
            )
        );
        assert_eq!(
            count(r#"{a="b"} |= "x""#, "15m"),
            r#"sum(count_over_time({a="b"} |= "x" [15m]))"#
        );
        assert_eq!(
            exceptions(SEL, Some(Language::Python)),
            r#"{job="containerlogs"} |~ `Traceback \(most recent call last\):`"#
        );
        assert_eq!(
            exceptions(SEL, None),
            concat!(
                r#"{job="containerlogs"} |~ `(?:Traceback \(most recent call last\):)|(?:\bpanicked at\b)"#,
                r#"|(?:\.zig:\d+:\d+: 0x[0-9a-fA-F]+ in |^thread \d+ panic: )"#,
                r#"|(?:"#,
            )
            .to_string()
                + TYPESCRIPT_RE
                + ")`"
        );
        assert_eq!(
            workflow_runs(SEL, &[42]),
            r#"{job="containerlogs"} |= "run_id" |~ `run_id"?\s*[=:]\s*"?42\b`"#
        );
        assert_eq!(
            workflow_runs(SEL, &[42, 7]),
            r#"{job="containerlogs"} |= "run_id" |~ `run_id"?\s*[=:]\s*"?(?:42|7)\b`"#
        );
        assert_eq!(
            workflow_runs(SEL, &[]),
            r#"{job="containerlogs"} |= "run_id" |~ `run_id"?\s*[=:]\s*"?\d+\b`"#
        );
        assert_eq!(
            workflow_name(SEL, "ci.yml"),
            r#"{job="containerlogs"} |= "ci.yml" |~ `\bworkflow(?:_name)?"?\s*[=:]\s*"?ci\.yml(?:[\s",}]|$)`"#
        );
        assert_eq!(
            agent_activity(SEL),
            r#"{job="containerlogs"} |~ `(?i)agent|llm|claude|tool_call|tool_result|session_?id`"#
        );
    }

    /// The patterns compile (Rust's regex syntax is the RE2 subset Loki uses) and
    /// classify each line shape as intended.
    #[test]
    fn patterns_match_the_shapes_they_name() {
        let re = |p: &str| regex::Regex::new(p).unwrap();
        let cases: [(Level, &[&str], &[&str]); 4] = [
            (
                Level::Error,
                &[
                    r#"{"level":"error","message":"x"}"#,
                    r#"{"severity": "ERROR"}"#,
                    r#"{"level":50,"msg":"x"}"#,
                    r#"ts=1 level=error msg="x""#,
                    "error(db): connection refused",
                    "2026-01-02 10:00:00,123 - runner - ERROR - boom",
                    "2026-01-02 UTC [87] ERROR:  duplicate key",
                    "Traceback (most recent call last):\n  File \"x.py\"",
                    "TypeError: Cannot read properties of undefined",
                    "Error: fetch failed\n    at x (/a.ts:1:2)",
                    "thread 4182 panic: index out of bounds",
                    "thread 'main' panicked at src/main.rs:1:2:",
                ],
                &[
                    r#"{"level":"info","path":"/api/error-reports"}"#,
                    r#"ts=1 level=info msg="errors=0""#,
                    "info(http): GET /errors 200",
                    r#"{"level":"warn","message":"ErrorBoundary reset"}"#,
                ],
            ),
            (
                Level::Warn,
                &[
                    r#"{"level":"warn"}"#,
                    r#"{"severity":"warning"}"#,
                    "level=WARN x",
                    "warn(cache): x",
                    "x - WARNING - y",
                ],
                &[r#"{"level":"info","msg":"warned"}"#, "info(x): forewarned"],
            ),
            (
                Level::Info,
                &[
                    r#"{"level":"info"}"#,
                    "level=info",
                    "info(server): up",
                    "x - INFO - y",
                    "[1] LOG:  checkpoint",
                ],
                &[r#"{"level":"debug","msg":"information"}"#],
            ),
            (
                Level::Debug,
                &[
                    r#"{"level":"debug"}"#,
                    "level=trace",
                    "debug(x): y",
                    "DEBUG y",
                ],
                &[r#"{"level":"info"}"#],
            ),
        ];
        for (level, hits, misses) in cases {
            let r = re(level.pattern());
            for line in hits {
                assert!(r.is_match(line), "{level:?} should match {line:?}");
            }
            for line in misses {
                assert!(!r.is_match(line), "{level:?} should not match {line:?}");
            }
        }
        let runs = re(r#"run_id"?\s*[=:]\s*"?42\b"#);
        for line in [
            "run_id=42 x",
            r#"{"workflow_run_id":42}"#,
            r#"{"run_id":"42"}"#,
        ] {
            assert!(runs.is_match(line), "{line}");
        }
        for line in ["run_id=420", "for run 42", "run_id=4"] {
            assert!(!runs.is_match(line), "{line}");
        }
        for language in Language::ALL {
            re(language.pattern());
        }
        re(&whole_token("a.b(c)"));
    }
}
