//! The nine tools, one module per question an agent asks of the logs, and the
//! argument pieces they share.

pub mod agents;
pub mod errors;
pub mod exceptions;
pub mod search;
pub mod slow;
pub mod stats;
pub mod tail;
pub mod trace;
pub mod workflows;

use plue_plugin_sdk::text::cut_note;

/// Default look-back of most tools.
pub fn one_hour() -> String {
    "1h".into()
}

/// `Showing 20 of 153 lines (133 left out); to narrow: ….`, or nothing when all are shown.
pub fn note(shown: usize, total: usize, noun: &str, how: &str) -> Option<String> {
    (total > shown).then(|| cut_note(shown, total, noun, how))
}

/// The LogQL for the text answer: whole when short, else its start (the whole
/// query is always in the structured result's `query`).
pub fn shown_query(query: &str) -> String {
    if query.chars().count() <= 240 {
        query.to_string()
    } else {
        let start: String = query.chars().take(120).collect();
        format!("{start}… (whole query in the structured result's `query`)")
    }
}

/// Counts as `api 9, runner 6`, largest first (ties by name).
pub fn counts<'a>(counts: impl IntoIterator<Item = (&'a String, &'a usize)>) -> String {
    let mut v: Vec<(&String, &usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests;
