//! Pure text helpers shared by the tools: Playwright's ANSI colours removed,
//! error messages reduced to comparable patterns, durations and sizes with units.

/// `text` without ANSI escape sequences (Playwright colours its error messages).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI: parameters and intermediates, then one final byte in @..~.
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC (hyperlinks): up to BEL or ESC \.
            Some(']') => {
                chars.next();
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            Some(_) => {
                chars.next();
            }
            None => {}
        }
    }
    out
}

/// The first non-blank line of `text`, trimmed.
pub fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// The shape of an error line, so that failures that differ only in numbers or
/// quoted values group together: numbers become `N`, quoted strings `"…"`,
/// runs of blanks one space; at most 160 characters.
///
/// `expected 3 items, got 5` and `expected 7 items, got 9` both become
/// `expected N items, got N`.
pub fn error_pattern(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            // One number: digits, with `.` or `_` only between digits.
            loop {
                let mut ahead = chars.clone();
                match ahead.next() {
                    Some(d) if d.is_ascii_digit() => {
                        chars.next();
                    }
                    Some('.' | '_') if ahead.next().is_some_and(|d| d.is_ascii_digit()) => {
                        chars.next();
                        chars.next();
                    }
                    _ => break,
                }
            }
            out.push('N');
        } else if (c == '"' || c == '\'' || c == '`')
            && !out.chars().last().is_some_and(char::is_alphanumeric)
        {
            let quote = c;
            let mut closed = false;
            let mut ahead = chars.clone();
            for d in ahead.by_ref() {
                if d == quote {
                    closed = true;
                    break;
                }
            }
            if closed {
                chars = ahead;
                out.push(quote);
                out.push('…');
                out.push(quote);
            } else {
                out.push(c);
            }
        } else if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    let out = out.trim().to_string();
    plue_plugin_sdk::text::truncate_chars(&out, 160).0
}

/// `text` lowercased with every run of other characters than letters and digits
/// made one `-`, as Playwright names a test's output folder.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out
}

/// A duration in milliseconds with its unit: `850 ms`, `7063 ms`, `40.4 s`, `12m 5s`.
pub fn ms(value: f64) -> String {
    if !value.is_finite() {
        return "unknown".into();
    }
    if value < 10_000.0 {
        format!("{} ms", value.round() as i64)
    } else if value < 600_000.0 {
        format!("{:.1} s", value / 1000.0)
    } else {
        plue_plugin_sdk::time::human_duration(value / 1000.0)
    }
}

/// A size with its unit: `370 B`, `7.0 KiB`, `1.2 MiB`.
pub fn bytes(size: u64) -> String {
    if size < 1024 {
        format!("{size} B")
    } else if size < 1024 * 1024 {
        format!("{:.1} KiB", size as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", size as f64 / (1024.0 * 1024.0))
    }
}

/// A Playwright result status as a person writes it: `timedOut` → `timed out`.
pub fn status(status: &str) -> &str {
    match status {
        "timedOut" => "timed out",
        other => other,
    }
}

/// An RFC 3339 time cut to whole seconds: `2026-11-24T23:14:07.004Z` → `2026-11-24T23:14:07Z`.
pub fn time(rfc3339: &str) -> String {
    match (rfc3339.find('.'), rfc3339.ends_with('Z')) {
        (Some(dot), true) => format!("{}Z", &rfc3339[..dot]),
        _ => rfc3339.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_is_removed() {
        let colored =
            "Error: \u{1b}[2mexpect(\u{1b}[22m\u{1b}[31mlocator\u{1b}[39m\u{1b}[2m)\u{1b}[22m";
        assert_eq!(strip_ansi(colored), "Error: expect(locator)");
        assert_eq!(
            strip_ansi("\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\ ok"),
            "link ok"
        );
    }

    #[test]
    fn patterns_ignore_numbers_and_quoted_values() {
        for (line, pattern) in [
            (
                "Error: expected 3 items, got 5",
                "Error: expected N items, got N",
            ),
            (
                "Error: expected 7 items, got 9",
                "Error: expected N items, got N",
            ),
            (
                "Test timeout of 1500ms exceeded.",
                "Test timeout of Nms exceeded.",
            ),
            ("Expected: \"Welcome back, alice\"", "Expected: \"…\""),
            ("took 2.5s  and   3_000 ms", "took Ns and N ms"),
            ("it's unbalanced", "it's unbalanced"),
            ("don't match 'a b'", "don't match '…'"),
        ] {
            assert_eq!(error_pattern(line), pattern, "{line}");
        }
    }

    #[test]
    fn units() {
        assert_eq!(ms(1160.6), "1161 ms");
        assert_eq!(
            (status("timedOut"), status("failed")),
            ("timed out", "failed")
        );
        assert_eq!(
            slug("workflow runs › attaches run metadata"),
            "workflow-runs-attaches-run-metadata"
        );
        assert_eq!(ms(40389.416), "40.4 s");
        assert_eq!(ms(725_000.0), "12m 5s");
        assert_eq!(bytes(370), "370 B");
        assert_eq!(bytes(7208), "7.0 KiB");
        assert_eq!(time("2026-11-24T23:14:07.004Z"), "2026-11-24T23:14:07Z");
    }
}
