//! Argument types and checks shared by the tools: ids, limits, time windows in
//! fractional hours, and the status and log-type enumerations of Plue's schema.
//! (`6.0` or `"6"` for a whole number is the host's to accept: it coerces
//! arguments to the input schema before the plugin runs.)

use plue_plugin_sdk::prelude::*;

/// Longest time window a tool accepts, in hours (one year).
pub const MAX_HOURS: f64 = 8760.0;

/// A look-back window in hours (fractions allowed), or `default` when absent.
pub fn hours(value: Option<f64>, default: f64) -> Result<f64, ToolError> {
    let h = value.unwrap_or(default);
    if !h.is_finite() || h <= 0.0 {
        return Err(ToolError::invalid(format!(
            "`hours` must be more than 0 (fractions such as 0.5 are fine), got {h}"
        )));
    }
    if h > MAX_HOURS {
        return Err(ToolError::invalid(format!(
            "`hours` must be at most {MAX_HOURS} (one year), got {h}"
        )));
    }
    Ok(h)
}

/// A row limit between 1 and `max`, or `default` when absent.
pub fn limit(name: &str, value: Option<i64>, default: i64, max: i64) -> Result<i64, ToolError> {
    let n = value.unwrap_or(default);
    if n < 1 || n > max {
        return Err(ToolError::invalid(format!(
            "`{name}` must be between 1 and {max}, got {n}"
        )));
    }
    Ok(n)
}

/// A positive database id.
pub fn id(name: &str, value: i64) -> Result<i64, ToolError> {
    if value < 1 {
        return Err(ToolError::invalid(format!(
            "`{name}` must be a positive id, got {value}"
        )));
    }
    Ok(value)
}

/// An optional text filter: `None` when absent or blank.
pub fn filter(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl RunStatus {
    /// The value in `workflow_runs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
        }
    }
}

// Which log rows of a step to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogType {
    // `all`: every row; `token`: an agent's streamed text, one row per chunk.
    #[default]
    All,
    Stdout,
    Stderr,
    Token,
    ToolCall,
    ToolResult,
}

impl LogType {
    /// The value in `workflow_logs.log_type` (`all` matches every row).
    pub fn as_str(self) -> &'static str {
        match self {
            LogType::All => "all",
            LogType::Stdout => "stdout",
            LogType::Stderr => "stderr",
            LogType::Token => "token",
            LogType::ToolCall => "tool_call",
            LogType::ToolResult => "tool_result",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks() {
        assert_eq!(hours(Some(0.5), 1.0), Ok(0.5));
        assert_eq!(hours(None, 24.0), Ok(24.0));
        assert!(
            hours(Some(0.0), 1.0)
                .unwrap_err()
                .to_string()
                .contains("more than 0")
        );
        assert!(limit("limit", Some(0), 20, 200).is_err());
        assert_eq!(limit("limit", None, 20, 200), Ok(20));
        assert_eq!(filter(&Some("  ".into())), None);
    }
}
