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
