//! LogQL: a lexer and a recursive-descent parser for the subset this test server evaluates.
//!
//! Syntax follows Grafana Loki's documented LogQL. Anything Loki accepts that this server does
//! not evaluate is reported as [`ErrorKind::Unsupported`] (HTTP 501), never silently ignored,
//! so a test can tell "the plugin sent bad LogQL" (HTTP 400, like Loki) from "the test server
//! lacks a feature".

use regex::Regex;
use std::fmt;

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Loki would refuse it too (HTTP 400).
    Parse,
    /// Valid LogQL the test server does not implement (HTTP 501).
    Unsupported,
}

/// A refused query, with Loki's message shape (`parse error at line 1, col N: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogqlError {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for LogqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for LogqlError {}

fn parse_err_at(line: usize, col: usize, msg: impl fmt::Display) -> LogqlError {
    LogqlError {
        kind: ErrorKind::Parse,
        message: format!("parse error at line {line}, col {col}: {msg}"),
    }
}

fn parse_err(msg: impl fmt::Display) -> LogqlError {
    LogqlError {
        kind: ErrorKind::Parse,
        message: format!("parse error : {msg}"),
    }
}

fn unsupported(what: impl fmt::Display) -> LogqlError {
    LogqlError {
        kind: ErrorKind::Unsupported,
        message: format!("not implemented by the plue Loki test server: {what}"),
    }
}

// ---------------------------------------------------------------------------------------------
// AST

/// A parsed query: a log query or a metric query.
#[derive(Debug, Clone)]
pub enum Expr {
    Log(LogExpr),
    Metric(MetricExpr),
}

/// `{selector} | stage | stage ...`
#[derive(Debug, Clone)]
pub struct LogExpr {
    pub matchers: Vec<Matcher>,
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    Eq,
    Neq,
    Re,
    Nre,
}

/// A Prometheus-style label matcher; regular expressions are fully anchored.
#[derive(Debug, Clone)]
pub struct Matcher {
    pub name: String,
    pub op: MatchOp,
    pub value: String,
    re: Option<Regex>,
}

impl Matcher {
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, String> {
        let re = match op {
            MatchOp::Re | MatchOp::Nre => Some(
                Regex::new(&format!("^(?s:{value})$"))
                    .map_err(|e| format!("error parsing regexp: {}", one_line(&e.to_string())))?,
            ),
            _ => None,
        };
        Ok(Matcher {
            name: name.to_string(),
            op,
            value: value.to_string(),
            re,
        })
    }

    /// Does a label value (empty when the label is absent) satisfy the matcher?
    pub fn matches(&self, v: &str) -> bool {
        match self.op {
            MatchOp::Eq => v == self.value,
            MatchOp::Neq => v != self.value,
            MatchOp::Re => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchOp::Nre => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }
}

/// One pipeline stage.
#[derive(Debug, Clone)]
pub enum Stage {
    /// `|= "s"`, `!= "s"`, `|~ "re"`, `!~ "re"` (regex unanchored, as in Loki).
    LineFilter { negate: bool, filter: LineFilter },
    /// `| json`
    Json,
    /// `| logfmt [--strict] [--keep-empty]`
    Logfmt { strict: bool, keep_empty: bool },
    /// `| label filter expression`
    Labels(LabelFilter),
}

#[derive(Debug, Clone)]
pub enum LineFilter {
    Contains(String),
    Regex(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl CmpOp {
    pub fn apply(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Gt => a > b,
            CmpOp::Gte => a >= b,
            CmpOp::Lt => a < b,
            CmpOp::Lte => a <= b,
            CmpOp::Eq => a == b,
            CmpOp::Neq => a != b,
        }
    }
}

/// A label filter expression (after a parser, or on stream labels).
#[derive(Debug, Clone)]
pub enum LabelFilter {
    And(Box<LabelFilter>, Box<LabelFilter>),
    Or(Box<LabelFilter>, Box<LabelFilter>),
    /// `name="v"`, `!=`, `=~`, `!~`
    Str(Matcher),
    /// `name > 500` etc.: the label value must parse as a float.
    Num {
        name: String,
        op: CmpOp,
        value: f64,
    },
    /// `name > 250ms` etc.: the label value must parse as a Go duration.
    Dur {
        name: String,
        op: CmpOp,
        value_ns: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeFn {
    CountOverTime,
    Rate,
    BytesOverTime,
    BytesRate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggOp {
    Sum,
    Avg,
    Min,
    Max,
    Count,
    Topk,
    Bottomk,
}

#[derive(Debug, Clone)]
pub struct Grouping {
    pub without: bool,
    pub labels: Vec<String>,
}

/// A metric query.
#[derive(Debug, Clone)]
pub enum MetricExpr {
    /// `count_over_time(<log query> [range] [offset d])`
    Range {
        func: RangeFn,
        log: LogExpr,
        range_ns: i64,
        offset_ns: i64,
    },
    /// `sum by (l) (<metric>)`, `topk(n, <metric>)`, ...
    Agg {
        op: AggOp,
        param: Option<usize>,
        grouping: Option<Grouping>,
        inner: Box<MetricExpr>,
    },
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LBrace,
    RBrace,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Eq,
    Neq,
    Re,
    Nre,
    PipeExact,
    PipeMatch,
    PipePattern,
    NotPipePattern,
    Pipe,
    Gt,
    Gte,
    Lt,
    Lte,
    CmpEq,
    Arith(char),
    Flag(String),
    Ident(String),
    Str(String),
    Num(f64),
    Dur(i64),
    Bytes(String),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    col: usize,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::LBrace => "{".into(),
            Tok::RBrace => "}".into(),
            Tok::LParen => "(".into(),
            Tok::RParen => ")".into(),
            Tok::LBracket => "[".into(),
            Tok::RBracket => "]".into(),
            Tok::Comma => ",".into(),
            Tok::Eq => "=".into(),
            Tok::Neq => "!=".into(),
            Tok::Re => "=~".into(),
            Tok::Nre => "!~".into(),
            Tok::PipeExact => "|=".into(),
            Tok::PipeMatch => "|~".into(),
            Tok::PipePattern => "|>".into(),
            Tok::NotPipePattern => "!>".into(),
            Tok::Pipe => "|".into(),
            Tok::Gt => ">".into(),
            Tok::Gte => ">=".into(),
            Tok::Lt => "<".into(),
            Tok::Lte => "<=".into(),
            Tok::CmpEq => "==".into(),
            Tok::Arith(c) => c.to_string(),
            Tok::Flag(f) => f.clone(),
            Tok::Ident(s) if is_keyword(s) => s.clone(),
            Tok::Ident(_) => "IDENTIFIER".into(),
            Tok::Str(_) => "STRING".into(),
            Tok::Num(_) => "NUMBER".into(),
            Tok::Dur(_) => "DURATION".into(),
            Tok::Bytes(_) => "BYTES".into(),
            Tok::Eof => "$end".into(),
        }
    }
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "by" | "without" | "and" | "or" | "unless" | "offset" | "json" | "logfmt" | "bool"
    ) || RANGE_FNS.contains(&s)
        || AGG_OPS.contains(&s)
}

const RANGE_FNS: &[&str] = &["count_over_time", "rate", "bytes_over_time", "bytes_rate"];
const UNSUPPORTED_RANGE_FNS: &[&str] = &[
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "stdvar_over_time",
    "stddev_over_time",
    "quantile_over_time",
    "first_over_time",
    "last_over_time",
    "absent_over_time",
    "rate_counter",
];
const AGG_OPS: &[&str] = &["sum", "avg", "min", "max", "count", "topk", "bottomk"];
const UNSUPPORTED_FNS: &[&str] = &[
    "stddev",
    "stdvar",
    "sort",
    "sort_desc",
    "approx_topk",
    "label_replace",
    "vector",
    "count_values",
];
const UNSUPPORTED_STAGES: &[&str] = &[
    "line_format",
    "label_format",
    "unwrap",
    "regexp",
    "pattern",
    "unpack",
    "drop",
    "keep",
    "decolorize",
    "distinct",
];

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    col: usize,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn tokens(mut self) -> Result<Vec<Token>, LogqlError> {
        let mut out = Vec::new();
        loop {
            // whitespace and `#` comments
            while let Some(c) = self.peek(0) {
                if c.is_whitespace() {
                    self.bump();
                } else if c == '#' {
                    while let Some(c) = self.peek(0) {
                        if c == '\n' {
                            break;
                        }
                        self.bump();
                    }
                } else {
                    break;
                }
            }
            let (line, col) = (self.line, self.col);
            let Some(c) = self.peek(0) else {
                out.push(Token {
                    tok: Tok::Eof,
                    line,
                    col,
                });
                return Ok(out);
            };
            let two = |s: &Lexer, n: char| s.peek(1) == Some(n);
            let tok = match c {
                '"' => Tok::Str(self.go_string()?),
                '`' => {
                    self.bump();
                    let mut s = String::new();
                    loop {
                        match self.bump() {
                            None => return Err(parse_err_at(line, col, "literal not terminated")),
                            Some('`') => break,
                            Some(c) => s.push(c),
                        }
                    }
                    Tok::Str(s)
                }
                '{' | '}' | '(' | ')' | '[' | ']' | ',' => {
                    self.bump();
                    match c {
                        '{' => Tok::LBrace,
                        '}' => Tok::RBrace,
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        '[' => Tok::LBracket,
                        ']' => Tok::RBracket,
                        _ => Tok::Comma,
                    }
                }
                '|' => {
                    let t = if two(&self, '=') {
                        Tok::PipeExact
                    } else if two(&self, '~') {
                        Tok::PipeMatch
                    } else if two(&self, '>') {
                        Tok::PipePattern
                    } else {
                        Tok::Pipe
                    };
                    self.bump();
                    if t != Tok::Pipe {
                        self.bump();
                    }
                    t
                }
                '!' => {
                    let t = if two(&self, '=') {
                        Tok::Neq
                    } else if two(&self, '~') {
                        Tok::Nre
                    } else if two(&self, '>') {
                        Tok::NotPipePattern
                    } else {
                        return Err(parse_err_at(
                            line,
                            col,
                            "syntax error: unexpected character '!'",
                        ));
                    };
                    self.bump();
                    self.bump();
                    t
                }
                '=' => {
                    let t = if two(&self, '~') {
                        Tok::Re
                    } else if two(&self, '=') {
                        Tok::CmpEq
                    } else {
                        Tok::Eq
                    };
                    self.bump();
                    if t != Tok::Eq {
                        self.bump();
                    }
                    t
                }
                '>' | '<' => {
                    let eq = two(&self, '=');
                    self.bump();
                    if eq {
                        self.bump();
                    }
                    match (c, eq) {
                        ('>', false) => Tok::Gt,
                        ('>', true) => Tok::Gte,
                        ('<', false) => Tok::Lt,
                        _ => Tok::Lte,
                    }
                }
                '-' if two(&self, '-') && self.peek(2).is_some_and(|c| c.is_ascii_alphabetic()) => {
                    let mut s = String::new();
                    while let Some(c) = self.peek(0) {
                        if c == '-' || c.is_ascii_alphanumeric() {
                            s.push(c);
                            self.bump();
                        } else {
                            break;
                        }
                    }
                    Tok::Flag(s)
                }
                '+' | '-' | '*' | '/' | '%' | '^' => {
                    self.bump();
                    Tok::Arith(c)
                }
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    let mut s = String::new();
                    while let Some(c) = self.peek(0) {
                        if c.is_ascii_alphanumeric() || c == '.' || c == 'µ' {
                            s.push(c);
                            self.bump();
                        } else {
                            break;
                        }
                    }
                    if s.chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == 'e' || c == 'E')
                        && let Ok(n) = s.parse::<f64>()
                    {
                        Tok::Num(n)
                    } else if let Some(ns) = parse_duration(&s, true) {
                        Tok::Dur(ns)
                    } else if is_bytes(&s) {
                        Tok::Bytes(s)
                    } else {
                        return Err(parse_err_at(
                            line,
                            col,
                            format!("syntax error: unexpected {s}"),
                        ));
                    }
                }
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let mut s = String::new();
                    while let Some(c) = self.peek(0) {
                        if c.is_ascii_alphanumeric() || c == '_' {
                            s.push(c);
                            self.bump();
                        } else {
                            break;
                        }
                    }
                    Tok::Ident(s)
                }
                other => {
                    return Err(parse_err_at(
                        line,
                        col,
                        format!("syntax error: unexpected character {other:?}"),
                    ));
                }
            };
            out.push(Token { tok, line, col });
        }
    }

    /// A double-quoted string with Go's escape rules (as Loki's lexer applies them).
    fn go_string(&mut self) -> Result<String, LogqlError> {
        let (line, col) = (self.line, self.col);
        self.bump(); // opening quote
        let mut s = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(parse_err_at(line, col, "literal not terminated"));
            };
            match c {
                '"' => return Ok(s),
                '\n' => return Err(parse_err_at(line, col, "literal not terminated")),
                '\\' => {
                    let (el, ec) = (self.line, self.col - 1);
                    let bad = || parse_err_at(el, ec, "invalid char escape");
                    let Some(e) = self.bump() else {
                        return Err(parse_err_at(line, col, "literal not terminated"));
                    };
                    match e {
                        'a' => s.push('\x07'),
                        'b' => s.push('\x08'),
                        'f' => s.push('\x0c'),
                        'n' => s.push('\n'),
                        'r' => s.push('\r'),
                        't' => s.push('\t'),
                        'v' => s.push('\x0b'),
                        '\\' => s.push('\\'),
                        '"' => s.push('"'),
                        '0'..='7' => {
                            let mut v = e.to_digit(8).unwrap_or(0);
                            for _ in 0..2 {
                                let d = self.bump().and_then(|d| d.to_digit(8)).ok_or_else(bad)?;
                                v = v * 8 + d;
                            }
                            if v > 255 {
                                return Err(bad());
                            }
                            s.push(char::from(v as u8));
                        }
                        'x' | 'u' | 'U' => {
                            let n = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let mut v: u32 = 0;
                            for _ in 0..n {
                                let d = self.bump().and_then(|d| d.to_digit(16)).ok_or_else(bad)?;
                                v = v * 16 + d;
                            }
                            if e == 'x' {
                                s.push(char::from(v as u8));
                            } else {
                                s.push(char::from_u32(v).ok_or_else(bad)?);
                            }
                        }
                        _ => return Err(bad()),
                    }
                }
                c => s.push(c),
            }
        }
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_bytes(s: &str) -> bool {
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    num.parse::<f64>().is_ok()
        && matches!(
            unit,
            "b" | "B"
                | "kB"
                | "KB"
                | "KiB"
                | "kb"
                | "ki"
                | "Ki"
                | "MB"
                | "MiB"
                | "mb"
                | "Mi"
                | "GB"
                | "GiB"
                | "gb"
                | "Gi"
                | "TB"
                | "TiB"
                | "tb"
                | "Ti"
                | "PB"
                | "PiB"
                | "pb"
                | "Pi"
        )
}

/// Parses a duration: Go's `time.ParseDuration` units (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`),
/// plus `d`, `w`, `y` when `extended` (as Loki's lexer accepts in ranges). Returns nanoseconds.
pub fn parse_duration(s: &str, extended: bool) -> Option<i64> {
    let (neg, mut rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let mult: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" if extended => 86400e9,
            "w" if extended => 7.0 * 86400e9,
            "y" if extended => 365.0 * 86400e9,
            _ => return None,
        };
        total += n * mult;
    }
    let ns = total.round() as i64;
    Some(if neg { -ns } else { ns })
}

// ---------------------------------------------------------------------------------------------
// Parser

/// Parses a LogQL query.
pub fn parse(query: &str) -> Result<Expr, LogqlError> {
    let toks = Lexer {
        chars: query.chars().collect(),
        pos: 0,
        line: 1,
        col: 1,
    }
    .tokens()?;
    let mut p = Parser { toks, pos: 0 };
    let e = p.expr()?;
    match &p.peek().tok {
        Tok::Eof => Ok(e),
        Tok::Arith(_) | Tok::Gt | Tok::Gte | Tok::Lt | Tok::Lte | Tok::CmpEq => {
            Err(unsupported("binary operations between expressions"))
        }
        Tok::Neq if matches!(e, Expr::Metric(_)) => {
            Err(unsupported("binary operations between expressions"))
        }
        Tok::Ident(s)
            if matches!(s.as_str(), "or" | "and" | "unless") && matches!(e, Expr::Metric(_)) =>
        {
            Err(unsupported("binary operations between expressions"))
        }
        _ => Err(p.unexpected(None)),
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

type PResult<T> = Result<T, LogqlError>;

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.toks[(self.pos + ahead).min(self.toks.len() - 1)].tok
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn unexpected(&self, expecting: Option<&str>) -> LogqlError {
        let t = self.peek();
        let mut msg = format!("syntax error: unexpected {}", t.tok.describe());
        if let Some(e) = expecting {
            msg.push_str(", expecting ");
            msg.push_str(e);
        }
        parse_err_at(t.line, t.col, msg)
    }

    fn expect(&mut self, tok: Tok, what: &str) -> PResult<()> {
        if self.peek().tok == tok {
            self.next();
            Ok(())
        } else {
            Err(self.unexpected(Some(what)))
        }
    }

    fn peek_ident(&self) -> Option<&str> {
        match &self.peek().tok {
            Tok::Ident(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn expr(&mut self) -> PResult<Expr> {
        match self.peek().tok.clone() {
            Tok::LBrace => Ok(Expr::Log(self.log_expr()?)),
            Tok::LParen => {
                self.next();
                let e = self.expr()?;
                self.expect(Tok::RParen, ")")?;
                Ok(e)
            }
            Tok::Ident(_) => Ok(Expr::Metric(self.metric()?)),
            Tok::Num(_) => Err(unsupported("number literals and binary operations")),
            _ => Err(self.unexpected(Some("{ or a function"))),
        }
    }

    fn metric(&mut self) -> PResult<MetricExpr> {
        if self.peek().tok == Tok::LParen {
            self.next();
            let m = self.metric()?;
            self.expect(Tok::RParen, ")")?;
            return Ok(m);
        }
        let Some(name) = self.peek_ident().map(str::to_string) else {
            return Err(self.unexpected(Some("a metric function")));
        };
        if let Some(func) = match name.as_str() {
            "count_over_time" => Some(RangeFn::CountOverTime),
            "rate" => Some(RangeFn::Rate),
            "bytes_over_time" => Some(RangeFn::BytesOverTime),
            "bytes_rate" => Some(RangeFn::BytesRate),
            _ => None,
        } {
            self.next();
            return self.range_agg(func);
        }
        let op = match name.as_str() {
            "sum" => AggOp::Sum,
            "avg" => AggOp::Avg,
            "min" => AggOp::Min,
            "max" => AggOp::Max,
            "count" => AggOp::Count,
            "topk" => AggOp::Topk,
            "bottomk" => AggOp::Bottomk,
            n if UNSUPPORTED_RANGE_FNS.contains(&n) || UNSUPPORTED_FNS.contains(&n) => {
                return Err(unsupported(format!("function {n}")));
            }
            _ => return Err(self.unexpected(Some("a metric function"))),
        };
        self.next();
        self.vector_agg(op)
    }

    fn range_agg(&mut self, func: RangeFn) -> PResult<MetricExpr> {
        self.expect(Tok::LParen, "(")?;
        let (log, range_ns) = self.log_range()?;
        let mut offset_ns = 0;
        if self.peek_ident() == Some("offset") {
            self.next();
            match self.next().tok {
                Tok::Dur(d) => offset_ns = d,
                _ => {
                    self.pos -= 1;
                    return Err(self.unexpected(Some("DURATION")));
                }
            }
        }
        self.expect(Tok::RParen, ")")?;
        if matches!(self.peek_ident(), Some("by" | "without")) {
            return Err(parse_err(format!(
                "grouping not allowed for {} aggregation",
                match func {
                    RangeFn::CountOverTime => "count_over_time",
                    RangeFn::Rate => "rate",
                    RangeFn::BytesOverTime => "bytes_over_time",
                    RangeFn::BytesRate => "bytes_rate",
                }
            )));
        }
        Ok(MetricExpr::Range {
            func,
            log,
            range_ns,
            offset_ns,
        })
    }

    fn range(&mut self) -> PResult<i64> {
        self.expect(Tok::LBracket, "[")?;
        let d = match self.peek().tok {
            Tok::Dur(d) => d,
            _ => return Err(self.unexpected(Some("DURATION"))),
        };
        self.next();
        self.expect(Tok::RBracket, "]")?;
        if d <= 0 {
            return Err(parse_err("range must be greater than 0"));
        }
        Ok(d)
    }

    /// `{sel} [5m] | stages`, `{sel} | stages [5m]`, or `({sel} | stages) [5m]`.
    fn log_range(&mut self) -> PResult<(LogExpr, i64)> {
        if self.peek().tok == Tok::LParen {
            self.next();
            let l = self.log_expr()?;
            self.expect(Tok::RParen, ")")?;
            let r = self.range()?;
            return Ok((l, r));
        }
        let matchers = self.selector()?;
        let mut range = None;
        if self.peek().tok == Tok::LBracket {
            range = Some(self.range()?);
        }
        let stages = self.stages()?;
        let range = match range {
            Some(r) => r,
            None => self.range()?,
        };
        Ok((LogExpr { matchers, stages }, range))
    }

    fn vector_agg(&mut self, op: AggOp) -> PResult<MetricExpr> {
        let mut grouping = None;
        if matches!(self.peek_ident(), Some("by" | "without")) {
            grouping = Some(self.grouping()?);
        }
        self.expect(Tok::LParen, "(")?;
        let mut param = None;
        if matches!(op, AggOp::Topk | AggOp::Bottomk) {
            let t = self.peek().clone();
            let Tok::Num(n) = t.tok else {
                return Err(self.unexpected(Some("NUMBER")));
            };
            self.next();
            if n.fract() != 0.0 || n <= 0.0 {
                return Err(parse_err_at(
                    t.line,
                    t.col,
                    format!("invalid parameter {n}: must be a positive integer"),
                ));
            }
            param = Some(n as usize);
            self.expect(Tok::Comma, ",")?;
        }
        let inner = self.metric()?;
        self.expect(Tok::RParen, ")")?;
        if grouping.is_none() && matches!(self.peek_ident(), Some("by" | "without")) {
            grouping = Some(self.grouping()?);
        }
        Ok(MetricExpr::Agg {
            op,
            param,
            grouping,
            inner: Box::new(inner),
        })
    }

    fn grouping(&mut self) -> PResult<Grouping> {
        let without = self.next().tok == Tok::Ident("without".into());
        self.expect(Tok::LParen, "(")?;
        let mut labels = Vec::new();
        if self.peek().tok != Tok::RParen {
            loop {
                match self.next().tok {
                    Tok::Ident(s) => labels.push(s),
                    _ => {
                        self.pos -= 1;
                        return Err(self.unexpected(Some("IDENTIFIER")));
                    }
                }
                if self.peek().tok == Tok::Comma {
                    self.next();
                } else {
                    break;
                }
            }
        }
        self.expect(Tok::RParen, ")")?;
        Ok(Grouping { without, labels })
    }

    fn log_expr(&mut self) -> PResult<LogExpr> {
        if self.peek().tok == Tok::LParen {
            self.next();
            let l = self.log_expr()?;
            self.expect(Tok::RParen, ")")?;
            return Ok(l);
        }
        let matchers = self.selector()?;
        let stages = self.stages()?;
        Ok(LogExpr { matchers, stages })
    }

    fn selector(&mut self) -> PResult<Vec<Matcher>> {
        self.expect(Tok::LBrace, "{")?;
        let mut ms = Vec::new();
        loop {
            let name = match self.peek().tok.clone() {
                Tok::Ident(s) => s,
                _ => return Err(self.unexpected(Some("IDENTIFIER"))),
            };
            self.next();
            let op = match self.peek().tok {
                Tok::Eq => MatchOp::Eq,
                Tok::Neq => MatchOp::Neq,
                Tok::Re => MatchOp::Re,
                Tok::Nre => MatchOp::Nre,
                _ => return Err(self.unexpected(Some("= or != or =~ or !~"))),
            };
            self.next();
            let t = self.peek().clone();
            let Tok::Str(value) = t.tok else {
                return Err(self.unexpected(Some("STRING")));
            };
            self.next();
            ms.push(Matcher::new(&name, op, &value).map_err(|e| parse_err_at(t.line, t.col, e))?);
            match self.peek().tok {
                Tok::Comma => {
                    self.next();
                }
                Tok::RBrace => {
                    self.next();
                    break;
                }
                _ => return Err(self.unexpected(Some("} or ,"))),
            }
        }
        if ms.iter().all(|m| m.matches("")) {
            return Err(parse_err(
                "queries require at least one regexp or equality matcher that does not have an empty-compatible value. \
                 For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will",
            ));
        }
        Ok(ms)
    }

    fn stages(&mut self) -> PResult<Vec<Stage>> {
        let mut stages = Vec::new();
        loop {
            let t = self.peek().clone();
            match t.tok {
                Tok::PipeExact | Tok::PipeMatch | Tok::Neq | Tok::Nre => {
                    self.next();
                    let negate = matches!(t.tok, Tok::Neq | Tok::Nre);
                    let regex = matches!(t.tok, Tok::PipeMatch | Tok::Nre);
                    let st = self.peek().clone();
                    let s = match st.tok {
                        Tok::Str(s) => s,
                        Tok::Ident(ref f) if f == "ip" => {
                            return Err(unsupported("ip() line filters"));
                        }
                        _ => return Err(self.unexpected(Some("STRING"))),
                    };
                    self.next();
                    let filter = if regex {
                        LineFilter::Regex(Regex::new(&s).map_err(|e| {
                            parse_err_at(
                                st.line,
                                st.col,
                                format!("error parsing regexp: {}", one_line(&e.to_string())),
                            )
                        })?)
                    } else {
                        LineFilter::Contains(s)
                    };
                    if self.peek_ident() == Some("or") && matches!(self.peek_at(1), Tok::Str(_)) {
                        return Err(unsupported(
                            "`or` between line filter strings (Loki 3.x only)",
                        ));
                    }
                    stages.push(Stage::LineFilter { negate, filter });
                }
                Tok::PipePattern | Tok::NotPipePattern => {
                    return Err(unsupported("pattern line filters |> and !>"));
                }
                Tok::Pipe => {
                    self.next();
                    let nt = self.peek().clone();
                    match &nt.tok {
                        Tok::Ident(s) if s == "json" => {
                            self.next();
                            if matches!(self.peek().tok, Tok::Ident(_))
                                && !matches!(self.peek_ident(), Some("or" | "and" | "offset"))
                            {
                                return Err(unsupported("json with parameters"));
                            }
                            stages.push(Stage::Json);
                        }
                        Tok::Ident(s) if s == "logfmt" => {
                            self.next();
                            let (mut strict, mut keep_empty) = (false, false);
                            while let Tok::Flag(f) = self.peek().tok.clone() {
                                match f.as_str() {
                                    "--strict" => strict = true,
                                    "--keep-empty" => keep_empty = true,
                                    _ => return Err(self.unexpected(None)),
                                }
                                self.next();
                            }
                            if matches!(self.peek().tok, Tok::Ident(_))
                                && !matches!(self.peek_ident(), Some("or" | "and" | "offset"))
                            {
                                return Err(unsupported("logfmt with parameters"));
                            }
                            stages.push(Stage::Logfmt { strict, keep_empty });
                        }
                        Tok::Ident(s) if UNSUPPORTED_STAGES.contains(&s.as_str()) => {
                            return Err(unsupported(format!("the `{s}` stage")));
                        }
                        Tok::Ident(_) | Tok::LParen => {
                            stages.push(Stage::Labels(self.label_filter_or()?))
                        }
                        _ => {
                            return Err(
                                self.unexpected(Some("a parser, a formatter or a label filter"))
                            );
                        }
                    }
                }
                _ => return Ok(stages),
            }
        }
    }

    fn label_filter_or(&mut self) -> PResult<LabelFilter> {
        let mut left = self.label_filter_and()?;
        while self.peek_ident() == Some("or") {
            self.next();
            let right = self.label_filter_and()?;
            left = LabelFilter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn label_filter_and(&mut self) -> PResult<LabelFilter> {
        let mut left = self.label_filter_atom()?;
        loop {
            let explicit = self.peek_ident() == Some("and") || self.peek().tok == Tok::Comma;
            let implicit = matches!(&self.peek().tok, Tok::Ident(s) if !matches!(s.as_str(), "or" | "and" | "offset"))
                && matches!(
                    self.peek_at(1),
                    Tok::Eq
                        | Tok::Neq
                        | Tok::Re
                        | Tok::Nre
                        | Tok::Gt
                        | Tok::Gte
                        | Tok::Lt
                        | Tok::Lte
                        | Tok::CmpEq
                );
            if explicit {
                self.next();
            } else if !implicit {
                return Ok(left);
            }
            let right = self.label_filter_atom()?;
            left = LabelFilter::And(Box::new(left), Box::new(right));
        }
    }

    fn label_filter_atom(&mut self) -> PResult<LabelFilter> {
        if self.peek().tok == Tok::LParen {
            self.next();
            let f = self.label_filter_or()?;
            self.expect(Tok::RParen, ")")?;
            return Ok(f);
        }
        let name = match self.peek().tok.clone() {
            Tok::Ident(s) => s,
            _ => return Err(self.unexpected(Some("IDENTIFIER"))),
        };
        self.next();
        let op_tok = self.peek().tok.clone();
        self.next();
        let vt = self.peek().clone();
        // optional sign for numbers
        let mut sign = 1.0;
        if vt.tok == Tok::Arith('-') && matches!(self.peek_at(1), Tok::Num(_) | Tok::Dur(_)) {
            sign = -1.0;
            self.next();
        }
        let value = self.peek().tok.clone();
        let cmp = match op_tok {
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Gte => Some(CmpOp::Gte),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Lte => Some(CmpOp::Lte),
            Tok::CmpEq => Some(CmpOp::Eq),
            Tok::Eq if !matches!(value, Tok::Str(_)) => Some(CmpOp::Eq),
            Tok::Neq if !matches!(value, Tok::Str(_)) => Some(CmpOp::Neq),
            Tok::Eq | Tok::Neq | Tok::Re | Tok::Nre => None,
            _ => {
                self.pos -= 1;
                return Err(self.unexpected(Some("a comparison operator")));
            }
        };
        match cmp {
            Some(op) => match value {
                Tok::Num(n) => {
                    self.next();
                    Ok(LabelFilter::Num {
                        name,
                        op,
                        value: sign * n,
                    })
                }
                Tok::Dur(d) => {
                    self.next();
                    Ok(LabelFilter::Dur {
                        name,
                        op,
                        value_ns: if sign < 0.0 { -d } else { d },
                    })
                }
                Tok::Bytes(_) => Err(unsupported("bytes label filters")),
                _ => Err(self.unexpected(Some("NUMBER or DURATION or BYTES"))),
            },
            None => {
                let Tok::Str(s) = value else {
                    return Err(self.unexpected(Some("STRING")));
                };
                self.next();
                let op = match op_tok {
                    Tok::Eq => MatchOp::Eq,
                    Tok::Neq => MatchOp::Neq,
                    Tok::Re => MatchOp::Re,
                    _ => MatchOp::Nre,
                };
                Ok(LabelFilter::Str(
                    Matcher::new(&name, op, &s).map_err(|e| parse_err_at(vt.line, vt.col, e))?,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> LogqlError {
        match parse(q) {
            Ok(e) => panic!("{q:?} parsed: {e:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn parses_the_supported_subset() {
        for q in [
            r#"{job="containerlogs"}"#,
            r#"{job="containerlogs", service!="web", container=~"plue-.*", stream!~"std(err)?"}"#,
            r#"{job="x"} |= "a" != "b" |~ "(?i)error" !~ `\d+ms`"#,
            r#"{job="x"} | json | level="error" | duration_ms > 500 | __error__="""#,
            r#"{job="x"} | logfmt --strict --keep-empty | level=~"err.*" and duration_ms >= 1.5"#,
            r#"{job="x"} | json | (level="error" or severity="error"), status != 200"#,
            r#"{job="x"} | json | level="error" status>=500"#,
            r#"{job="x"} | logfmt | took > 250ms"#,
            r#"count_over_time({job="x"} |= "error" [5m])"#,
            r#"count_over_time({job="x"}[5m] |= "error")"#,
            r#"rate(({job="x"} | json)[1h] offset 5m)"#,
            r#"sum by (service) (count_over_time({job="x"} | json | __error__="" [1h]))"#,
            r#"sum(count_over_time({job="x"}[1h])) by (service, level)"#,
            r#"topk(3, sum by (service) (rate({job="x"}[5m])))"#,
            "{job=\"x\"}\n  |= \"a\" # comment\n  | json",
        ] {
            parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
        }
    }

    #[test]
    fn go_string_escapes() {
        let Expr::Log(l) = parse(r#"{a="x"} |= "tab\there \"q\" \\ \x41\u00e9""#).unwrap() else {
            panic!()
        };
        let Stage::LineFilter {
            filter: LineFilter::Contains(s),
            ..
        } = &l.stages[0]
        else {
            panic!()
        };
        assert_eq!(s, "tab\there \"q\" \\ Aé");
        // `\.` is not a Go escape: Loki refuses it (the original server's bug).
        let e = err(r#"{service="api"} |~ "(panic|error\.)""#);
        assert_eq!(e.kind, ErrorKind::Parse);
        assert_eq!(
            e.message,
            "parse error at line 1, col 33: invalid char escape"
        );
        // In a backtick string it is fine, and so is a doubled backslash.
        parse(r#"{service="api"} |~ `(panic|error\.)`"#).unwrap();
        parse(r#"{service="api"} |~ "(panic|error\\.)""#).unwrap();
        assert!(
            err(r#"{a="x"} |= "open"#)
                .message
                .contains("literal not terminated")
        );
    }

    #[test]
    fn syntax_errors_look_like_lokis() {
        assert_eq!(
            err(r#"{service=api}"#).message,
            "parse error at line 1, col 10: syntax error: unexpected IDENTIFIER, expecting STRING"
        );
        assert!(
            err("{}")
                .message
                .starts_with("parse error at line 1, col 2: syntax error: unexpected }")
        );
        assert!(err(r#"{a="b""#).message.contains("unexpected $end"));
        assert!(err("").message.contains("unexpected $end"));
        assert!(
            err(r#"{a="b"} |= foo"#)
                .message
                .contains("expecting STRING")
        );
        // The original server's `or` between line filters: Loki 2.x refuses it.
        assert_eq!(err(r#"{a="b"} |= "x" or |= "y""#).kind, ErrorKind::Parse);
        assert_eq!(err(r#"{a="b"} |= "x" or "y""#).kind, ErrorKind::Unsupported);
        // Regex errors.
        assert!(err(r#"{a=~"("}"#).message.contains("error parsing regexp"));
        assert!(
            err(r#"{a="b"} |~ "(""#)
                .message
                .contains("error parsing regexp")
        );
        // A range is required inside range aggregations, and is refused on log queries.
        assert!(
            err(r#"count_over_time({a="b"})"#)
                .message
                .contains("expecting [")
        );
        assert_eq!(err(r#"{a="b"}[5m]"#).kind, ErrorKind::Parse);
        assert_eq!(
            err(r#"sum(5, count_over_time({a="b"}[5m]))"#).kind,
            ErrorKind::Parse
        );
        assert_eq!(
            err(r#"topk(count_over_time({a="b"}[5m]))"#).kind,
            ErrorKind::Parse
        );
        // Numeric comparisons need a number; string ones a string.
        assert_eq!(err(r#"{a="b"} | json | d > "5""#).kind, ErrorKind::Parse);
        assert_eq!(err(r#"{a="b"} | json | d =~ 5"#).kind, ErrorKind::Parse);
    }

    #[test]
    fn empty_compatible_selectors_are_refused() {
        let e = err(r#"{service=~".*"}"#);
        assert!(
            e.message.starts_with(
                "parse error : queries require at least one regexp or equality matcher"
            )
        );
        err(r#"{service=""}"#);
        err(r#"{service!="api"}"#);
        parse(r#"{service=~".+"}"#).unwrap();
        parse(r#"{service!=""}"#).unwrap();
        parse(r#"{service=~".*", job="x"}"#).unwrap();
    }

    #[test]
    fn unsupported_is_distinct_from_invalid() {
        for q in [
            r#"{a="b"} | line_format "{{.msg}}""#,
            r#"{a="b"} | json msg="message""#,
            r#"sum_over_time({a="b"} | logfmt | unwrap d [5m])"#,
            r#"sum(count_over_time({a="b"}[5m])) / 2"#,
            r#"{a="b"} |> "<_> error <_>""#,
        ] {
            assert_eq!(err(q).kind, ErrorKind::Unsupported, "{q}");
        }
    }

    #[test]
    fn selector_regexes_are_anchored() {
        let m = Matcher::new("s", MatchOp::Re, "api|web").unwrap();
        assert!(m.matches("api") && m.matches("web"));
        assert!(!m.matches("api2") && !m.matches("xweb") && !m.matches(""));
        let m = Matcher::new("s", MatchOp::Nre, "run.*").unwrap();
        assert!(!m.matches("runner") && m.matches("xrunner"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m", false), Some(5_400_000_000_000));
        assert_eq!(parse_duration("250ms", false), Some(250_000_000));
        assert_eq!(parse_duration("1.5s", false), Some(1_500_000_000));
        assert_eq!(parse_duration("2d", true), Some(172_800_000_000_000));
        assert_eq!(parse_duration("2d", false), None);
        assert_eq!(parse_duration("500", false), None);
        assert_eq!(parse_duration("0", false), Some(0));
    }
}
