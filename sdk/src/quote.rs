//! String literals for the query languages plugins build from what an agent typed.
//! PromQL and LogQL both take Go's double-quoted literal, so one function serves
//! both, and an agent's value can never end the string early.
//!
//! ```
//! use plue_plugin_sdk::quote::go_string;
//! assert_eq!(go_string(r#"say "hi""#), r#""say \"hi\"""#);
//! assert_eq!(go_string("bell\u{7}"), r#""bell\x07""#);
//! ```

use std::fmt::Write;

/// A Go double-quoted string literal holding exactly `s`: quotes, backslashes and
/// control characters escaped, everything else as it is.
pub fn go_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
