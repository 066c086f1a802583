//! Completions: suggested values for a prompt argument or a resource template
//! variable, from the plugin's granted backends. One completer per argument name
//! serves every prompt and template that uses that name (`run_id` is a run id
//! wherever it appears).

use std::collections::BTreeMap;

use crate::ToolError;
use crate::bindings::plue::plugin::types as wit;

/// The most values one completion returns (MCP's cap).
pub const MAX_VALUES: usize = 100;

pub(crate) type Completer = Box<dyn Fn(&Completing) -> Result<Vec<String>, ToolError>>;

/// What is being completed: the text typed so far and the other arguments.
#[derive(Debug, Clone, Default)]
pub struct Completing {
    /// What the user typed so far (a prefix).
    pub value: String,
    /// The other arguments already given, by name.
    pub context: BTreeMap<String, String>,
}

impl Completing {
    /// Whether `candidate` continues what was typed (case-insensitive prefix).
    pub fn matches(&self, candidate: &str) -> bool {
        candidate
            .to_lowercase()
            .starts_with(&self.value.to_lowercase())
    }

    /// `candidates` that continue what was typed, in their order.
    pub fn filter(&self, candidates: impl IntoIterator<Item = String>) -> Vec<String> {
        candidates.into_iter().filter(|c| self.matches(c)).collect()
    }
}

/// Values cut to [`MAX_VALUES`], with the total and whether more exist.
pub(crate) fn into_wit(mut values: Vec<String>) -> wit::Completion {
    let total = values.len();
    values.truncate(MAX_VALUES);
    wit::Completion {
        has_more: total > values.len(),
        total: u32::try_from(total).ok(),
        values,
    }
}
