//! Error messages reduced to their shape, so that `failed to load repository 98`
//! and `failed to load repository 1234` count as one kind of error: UUIDs, hex
//! values and ids, quoted values and numbers are replaced by `<UUID>`, `<HEX>`,
//! `<Q>` and `<N>`. Numbers that name a kind of failure (after `status`, `code`,
//! `HTTP` or `errno`, as in `status 502` or `exit code 137`) are kept.

use std::sync::OnceLock;

use regex::{Captures, Regex};

struct Patterns {
    uuid: Regex,
    double_quoted: Regex,
    single_quoted: Regex,
    hex_prefixed: Regex,
    hex_id: Regex,
    number: Regex,
    spaces: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| {
        let re = |p: &str| Regex::new(p).expect("static pattern");
        Patterns {
            uuid: re(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
            double_quoted: re(r#""(?:[^"\\]|\\.)*""#),
            // An opening quote not inside a word, so "can't" and "Bob's" are left alone.
            single_quoted: re(r"(^|[^\w])'[^'\n]*'"),
            hex_prefixed: re(r"\b0[xX][0-9a-fA-F]+\b"),
            // Lower-case hex of 6+ characters with at least one digit and one letter.
            hex_id: re(r"\b(?:[0-9a-f]*[0-9][0-9a-f]*[a-f][0-9a-f]*|[0-9a-f]*[a-f][0-9a-f]*[0-9][0-9a-f]*)\b"),
            number: re(r"\d+(?:\.\d+)*"),
            spaces: re(r"\s+"),
        }
    })
}

/// Words after which a number is kept: it names the failure rather than an instance.
const KEEP_AFTER: [&str; 4] = ["status", "code", "http", "errno"];

/// The shape of `message`: one line, variable parts replaced, at most 300 characters.
pub fn normalize(message: &str) -> String {
    let p = patterns();
    let s = p.uuid.replace_all(message, "<UUID>");
    let s = p.double_quoted.replace_all(&s, "<Q>");
    let s = p.single_quoted.replace_all(&s, "${1}<Q>");
    let s = p.hex_prefixed.replace_all(&s, "<HEX>");
    let s = p.hex_id.replace_all(&s, |c: &Captures| {
        if c[0].len() >= 6 {
            "<HEX>".to_string()
        } else {
            c[0].to_string()
        }
    });
    let s = replace_numbers(&s, &p.number);
    let s = p.spaces.replace_all(s.trim(), " ");
    plue_plugin_sdk::text::truncate_chars(&s, 300).0
}

/// Numbers not glued to a preceding word character (`v2`, `sha256` stay), except
/// after one of [`KEEP_AFTER`].
fn replace_numbers(s: &str, number: &Regex) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for m in number.find_iter(s) {
        let before = &s[..m.start()];
        let glued = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let word = before
            .trim_end_matches([' ', '=', ':', '-'])
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        let keep = glued || KEEP_AFTER.iter().any(|k| word.eq_ignore_ascii_case(k));
        out.push_str(&s[last..m.start()]);
        out.push_str(if keep { m.as_str() } else { "<N>" });
        last = m.end();
    }
    out.push_str(&s[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        for (message, shape) in [
            (
                "failed to load repository 1234: not found",
                "failed to load repository <N>: not found",
            ),
            (
                "database query timed out after 5003ms (conn 0x7f3a2b10)",
                "database query timed out after <N>ms (conn <HEX>)",
            ),
            (
                "error(db): connection refused (attempt 3)",
                "error(db): connection refused (attempt <N>)",
            ),
            (
                "SSR fetch failed for session 0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f: status 502",
                "SSR fetch failed for session <UUID>: status 502",
            ),
            (
                "task 981 failed: exit code 137",
                "task <N> failed: exit code 137",
            ),
            (
                r#"tool call "read_file" failed: file "src/main.zig" not found"#,
                "tool call <Q> failed: file <Q> not found",
            ),
            ("KeyError: 'workflow_id'", "KeyError: <Q>"),
            ("can't open Bob's file 'x.txt'", "can't open Bob's file <Q>"),
            (
                "request req-7f3a9c took 12.5s, errno=-111",
                "request req-<HEX> took <N>s, errno=-111",
            ),
            (
                "commit a1b2c3d4e5f60718 on sha256 v2 HTTP 404",
                "commit <HEX> on sha256 v2 HTTP 404",
            ),
            ("  many   spaces\nand lines ", "many spaces and lines"),
            (
                "deadbeef 1.2.3.4:80 on 2026-11-24 runner-1",
                "deadbeef <N>:<N> on <N>-<N>-<N> runner-<N>",
            ),
        ] {
            assert_eq!(normalize(message), shape, "{message}");
        }
    }
}
