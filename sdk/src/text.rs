//! Bounded output for agents: cut lists and text with a note that says how much
//! was left out and how to narrow, plain aligned tables, counted nouns, answers
//! joined from blocks, and the one way a tool resolves its `limit` argument.
//!
//! ```
//! use plue_plugin_sdk::text::{blocks, count, take, table};
//! assert_eq!(count(3, "run"), "3 runs");
//! assert_eq!(blocks([Some("a".to_string()), None, Some("b".into())]), "a\n\nb");
//! let cut = take(1..=10, 3);
//! assert_eq!(cut.items, vec![1, 2, 3]);
//! assert_eq!(cut.note("series", "add a label matcher").unwrap(),
//!            "Showing 3 of 10 series (7 left out); to narrow: add a label matcher.");
//! assert_eq!(table(&["a", "bb"], &[vec!["1".into(), "2".into()]], 20), "a  bb\n-  --\n1  2");
//! ```

/// `1 run`, `2 runs`: `n` and `noun`, with an `s` unless `n` is 1.
pub fn count<N: std::fmt::Display + PartialEq + From<u8>>(n: N, noun: &str) -> String {
    if n == N::from(1) {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `1 series`, `2 series`: `n` and `one` or `many`, for nouns that do not take an `s`.
pub fn plural<N: std::fmt::Display + PartialEq + From<u8>>(n: N, one: &str, many: &str) -> String {
    format!("{n} {}", if n == N::from(1) { one } else { many })
}

/// The blocks of an answer that are present and not empty, joined by blank lines.
pub fn blocks(parts: impl IntoIterator<Item = Option<String>>) -> String {
    parts
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The `limit` a tool works with: what the agent asked for, else `default`, kept
/// within 1..=`max` (the input schema's `range` already makes the host refuse
/// values outside it; this only guards native calls).
pub fn limit(asked: Option<u32>, default: usize, max: usize) -> usize {
    asked.map_or(default, |n| n as usize).clamp(1, max)
}

/// The first items of a sequence and how many there were in all.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken<T> {
    /// The items kept.
    pub items: Vec<T>,
    /// How many items there were before cutting.
    pub total: usize,
}

/// Keep the first `limit` items of `items`, counting the rest.
pub fn take<T>(items: impl IntoIterator<Item = T>, limit: usize) -> Taken<T> {
    let mut kept = Vec::new();
    let mut total = 0;
    for item in items {
        if kept.len() < limit {
            kept.push(item);
        }
        total += 1;
    }
    Taken { items: kept, total }
}

impl<T> Taken<T> {
    /// How many items were left out.
    pub fn left_out(&self) -> usize {
        self.total - self.items.len()
    }

    /// `None` when nothing was cut; else a note naming the `noun` and how to narrow.
    pub fn note(&self, noun: &str, how_to_narrow: &str) -> Option<String> {
        (self.left_out() > 0).then(|| cut_note(self.items.len(), self.total, noun, how_to_narrow))
    }
}

/// "Showing 20 of 153 series (133 left out); to narrow: …."
pub fn cut_note(shown: usize, total: usize, noun: &str, how_to_narrow: &str) -> String {
    format!(
        "Showing {shown} of {total} {noun} ({} left out); to narrow: {}.",
        total.saturating_sub(shown),
        how_to_narrow.trim_end_matches('.')
    )
}

/// `text` cut to at most `max_chars` characters (on a character boundary, with
/// `…` appended when cut), and how many characters were cut.
pub fn truncate_chars(text: &str, max_chars: usize) -> (String, usize) {
    let count = text.chars().count();
    if count <= max_chars {
        return (text.to_string(), 0);
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    (format!("{kept}…"), count - kept.chars().count())
}

/// At most `max_lines` lines of `text`, and how many lines were left out.
pub fn head_lines(text: &str, max_lines: usize) -> (String, usize) {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= max_lines {
        return (text.to_string(), 0);
    }
    (lines[..max_lines].join("\n"), lines.len() - max_lines)
}

/// An aligned plain-text table; cells longer than `max_width` characters are cut
/// with `…`, and newlines in cells are shown as `⏎`.
pub fn table(headers: &[&str], rows: &[Vec<String>], max_width: usize) -> String {
    let clean = |s: &str| truncate_chars(&s.replace('\n', "⏎"), max_width.max(1)).0;
    let headers: Vec<String> = headers.iter().map(|h| clean(h)).collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    let mut lines = vec![headers, Vec::new()];
    for row in rows {
        let row: Vec<String> = row.iter().map(|c| clean(c)).collect();
        for (w, cell) in widths.iter_mut().zip(&row) {
            *w = (*w).max(cell.chars().count());
        }
        lines.push(row);
    }
    lines[1] = widths.iter().map(|w| "-".repeat(*w)).collect();
    columns(&lines, "").join("\n")
}

/// Rows of cells as left-aligned columns two spaces apart, without a header or
/// any cutting, each line prefixed by `indent` and without trailing blanks.
pub fn columns(rows: &[Vec<String>], indent: &str) -> Vec<String> {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let n = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(n),
                None => widths.push(n),
            }
        }
    }
    rows.iter()
        .map(|row| {
            let padded: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            format!("{indent}{}", padded.join("  ").trim_end())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_what_was_cut() {
        assert_eq!(truncate_chars("abcdef", 4), ("abc…".to_string(), 3));
        assert_eq!(truncate_chars("abc", 4), ("abc".to_string(), 0));
        assert_eq!(truncate_chars("héllo wörld", 6).1, 6);
        assert_eq!(head_lines("a\nb\nc", 2), ("a\nb".to_string(), 1));
        assert_eq!(take(Vec::<u8>::new(), 3).note("rows", "x"), None);
    }

    #[test]
    fn counts_blocks_and_limits() {
        assert_eq!(count(1_i64, "row"), "1 row");
        assert_eq!(count(0_usize, "row"), "0 rows");
        assert_eq!(plural(2_u32, "series", "series"), "2 series");
        assert_eq!(blocks([Some(String::new()), Some("x".into())]), "x");
        assert_eq!(
            (
                limit(None, 20, 100),
                limit(Some(0), 20, 100),
                limit(Some(500), 20, 100)
            ),
            (20, 1, 100)
        );
    }

    #[test]
    fn table_cuts_wide_cells() {
        let t = table(&["k"], &[vec!["line1\nline2".into()]], 6);
        assert_eq!(t.lines().nth(2), Some("line1…"));
        let rows = [
            vec!["a".into(), "1".into()],
            vec!["bbb".into(), "22".into()],
        ];
        assert_eq!(columns(&rows, "  "), ["  a    1", "  bbb  22"]);
    }
}
