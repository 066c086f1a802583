//! Small text helpers for messages the host writes.

/// `text` cut to at most `max` characters, with `…` when cut; and whether it was cut.
pub fn truncate(text: &str, max: usize) -> (String, bool) {
    if text.chars().count() <= max {
        return (text.to_string(), false);
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    (cut, true)
}

/// Characters that can change how a terminal or a log reader shows text
/// without being visible: C0/C1 controls (line breaks, ESC, DEL) and Unicode
/// line separators and bidirectional overrides.
fn is_disguising(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
        )
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// `text` with every disguising character written as an escape (`\n`, `\r`,
/// `\t`, `\u{1b}`), so text a plugin supplies stays on one line and cannot pass
/// for a host log line or drive a terminal.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_disguising) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_disguising(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `text` fit for a terminal: ANSI escape sequences (CSI, OSC and two-byte
/// ones) removed whole, and every other disguising character dropped, except
/// line breaks and tabs when `multiline`.
pub fn printable(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape_sequence(&mut chars),
            '\u{9b}' => skip_until(&mut chars, |c| ('\u{40}'..='\u{7e}').contains(&c)),
            '\u{9d}' => skip_until(&mut chars, |c| c == '\u{7}' || c == '\u{9c}'),
            '\n' | '\t' if multiline => out.push(c),
            '\n' | '\t' | '\r' if !multiline => out.push(' '),
            c if is_disguising(c) => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        // CSI: parameters and intermediates, then one final byte.
        Some('[') => skip_until(chars, |c| ('\u{40}'..='\u{7e}').contains(&c)),
        // OSC, DCS, SOS, PM, APC: a string ended by BEL or ESC \.
        Some(']' | 'P' | 'X' | '^' | '_') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        // Two- or three-byte sequences (charset selection, keypad modes…).
        Some('(' | ')' | '*' | '+' | '#' | '%') => {
            chars.next();
        }
        _ => {}
    }
}

fn skip_until(chars: &mut impl Iterator<Item = char>, end: impl Fn(char) -> bool) {
    for c in chars.by_ref() {
        if end(c) {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_text_is_escaped_for_logs() {
        assert_eq!(escape_controls("plain text"), "plain text");
        assert_eq!(
            escape_controls("ok\n2026-01-01T00:00:00Z  INFO plue_mcp::audit: call\r"),
            "ok\\n2026-01-01T00:00:00Z  INFO plue_mcp::audit: call\\r"
        );
        assert_eq!(
            escape_controls("\u{1b}[2J\u{202e}x"),
            "\\u{1b}[2J\\u{202e}x"
        );
    }

    #[test]
    fn terminal_sequences_are_stripped() {
        let cases = [
            ("clear \u{1b}[2J\u{1b}[Hscreen", "clear screen"),
            ("\u{1b}]0;evil title\u{7}name", "name"),
            ("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\", "link"),
            ("hid\u{1b}[8mden\u{1b}[0m", "hidden"),
            ("a\u{9b}31mb", "ab"),
            ("bell\u{7}\u{8}\u{7f}", "bell"),
            ("rtl\u{202e}txt", "rtltxt"),
            ("two\nlines\tand\rcr", "two lines and cr"),
        ];
        for (input, want) in cases {
            assert_eq!(printable(input, false), want, "{input:?}");
        }
        assert_eq!(printable("a\nb\tc\rd", true), "a\nb\tcd");
    }
}
