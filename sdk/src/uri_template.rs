//! Matching a URI against an RFC 6570 URI template, the subset resource
//! families use: `{name}` is one non-empty path segment (no `/`), `{+name}` is
//! the non-empty rest of the URI or up to the next literal, `/` included.
//! Dependency-free so the host includes this same file (`#[path]`) to route
//! reads, and the SDK's test helpers match exactly as the host does.

/// The template split into literals and variables.
#[derive(Debug, PartialEq, Eq)]
pub enum Part<'a> {
    /// Text that must appear as is.
    Literal(&'a str),
    /// A variable's name and whether it may span `/` (`{+name}`).
    Variable(&'a str, bool),
}

/// The parts of `template`, or why it is not one this subset accepts.
pub fn parse(template: &str) -> Result<Vec<Part<'_>>, String> {
    let mut parts = Vec::new();
    let mut rest = template;
    while !rest.is_empty() {
        match rest.find('{') {
            Some(0) => {
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("`{template}`: `{{` without `}}`"))?;
                let inner = &rest[1..end];
                let (name, reserved) = match inner.strip_prefix('+') {
                    Some(n) => (n, true),
                    None => (inner, false),
                };
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                {
                    return Err(format!(
                        "`{template}`: variable `{inner}` must be lowercase letters, digits and `_` (optionally after `+`)"
                    ));
                }
                if matches!(parts.last(), Some(Part::Variable(..))) {
                    return Err(format!(
                        "`{template}`: two variables need a literal between them"
                    ));
                }
                parts.push(Part::Variable(name, reserved));
                rest = &rest[end + 1..];
            }
            Some(i) => {
                parts.push(Part::Literal(&rest[..i]));
                rest = &rest[i..];
            }
            None => {
                parts.push(Part::Literal(rest));
                rest = "";
            }
        }
    }
    Ok(parts)
}

/// The variables' names, in order.
pub fn variables(template: &str) -> Vec<&str> {
    parse(template)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p {
            Part::Variable(name, _) => Some(name),
            Part::Literal(_) => None,
        })
        .collect()
}

/// The variables' values (percent-decoded) when `uri` is a member of `template`.
pub fn match_uri(template: &str, uri: &str) -> Option<Vec<(String, String)>> {
    let parts = parse(template).ok()?;
    let mut values = Vec::new();
    let mut rest = uri;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Literal(lit) => rest = rest.strip_prefix(lit)?,
            Part::Variable(name, reserved) => {
                let end = match parts.get(i + 1) {
                    Some(Part::Literal(next)) => rest.find(next)?,
                    _ => rest.len(),
                };
                let value = &rest[..end];
                if value.is_empty() || (!reserved && value.contains('/')) {
                    return None;
                }
                values.push((name.to_string(), percent_decode(value)?));
                rest = &rest[end..];
            }
        }
    }
    rest.is_empty().then_some(values)
}

/// `template` with each variable replaced by its value, percent-encoded
/// (`/` kept for `{+name}`); `None` when a value is missing.
pub fn expand(template: &str, values: &[(&str, &str)]) -> Option<String> {
    let mut out = String::new();
    for part in parse(template).ok()? {
        match part {
            Part::Literal(lit) => out.push_str(lit),
            Part::Variable(name, reserved) => {
                let (_, value) = values.iter().find(|(n, _)| *n == name)?;
                for b in value.bytes() {
                    let keep = b.is_ascii_alphanumeric()
                        || matches!(b, b'-' | b'.' | b'_' | b'~')
                        || (reserved && b == b'/');
                    if keep {
                        out.push(b as char);
                    } else {
                        out.push_str(&format!("%{b:02X}"));
                    }
                }
            }
        }
    }
    Some(out)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        )
    }

    #[test]
    fn members_match_and_others_do_not() {
        let cases: &[(&str, &str, Option<Vec<(String, String)>>)] = &[
            (
                "plue://runs/{run_id}",
                "plue://runs/13",
                pairs(&[("run_id", "13")]),
            ),
            ("plue://runs/{run_id}", "plue://runs/13/x", None),
            ("plue://runs/{run_id}", "plue://runs/", None),
            ("plue://runs/{run_id}", "plue://steps/13", None),
            (
                "plue://steps/{step_id}/logs",
                "plue://steps/7/logs",
                pairs(&[("step_id", "7")]),
            ),
            ("plue://steps/{step_id}/logs", "plue://steps/7/log", None),
            (
                "plue://playwright/{report}/attachments/{+path}",
                "plue://playwright/main/attachments/a/b%20c.png",
                pairs(&[("report", "main"), ("path", "a/b c.png")]),
            ),
            ("plue://queries", "plue://queries", pairs(&[])),
            ("plue://q/{name}", "plue://q/%zz", None),
        ];
        for (template, uri, want) in cases {
            assert_eq!(&match_uri(template, uri), want, "{template} vs {uri}");
        }
    }

    #[test]
    fn expansion_round_trips_through_matching() {
        let t = "plue://playwright/{report}/attachments/{+path}";
        let uri = expand(t, &[("report", "main run"), ("path", "dir/shot 1.png")]).unwrap();
        assert_eq!(
            uri,
            "plue://playwright/main%20run/attachments/dir/shot%201.png"
        );
        assert_eq!(
            match_uri(t, &uri),
            pairs(&[("report", "main run"), ("path", "dir/shot 1.png")])
        );
        assert_eq!(expand(t, &[("report", "x")]), None);
    }

    #[test]
    fn bad_templates_say_why() {
        assert!(
            parse("plue://x/{a}{b}")
                .unwrap_err()
                .contains("literal between")
        );
        assert!(parse("plue://x/{A}").unwrap_err().contains("lowercase"));
        assert!(parse("plue://x/{a").unwrap_err().contains("without"));
        assert_eq!(
            variables("plue://s/{step_id}/logs/{+rest}"),
            ["step_id", "rest"]
        );
    }
}
