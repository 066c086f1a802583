//! Argument types and checks shared by the tools: ids and limits that accept
//! `6`, `6.0` or `"6"` (agents send all three), time windows in fractional
//! hours, and the status and log-type enumerations of Plue's schema.

use plue_plugin_sdk::prelude::*;
use serde::Deserializer;

/// Longest time window a tool accepts, in hours (one year).
pub const MAX_HOURS: f64 = 8760.0;

/// A whole number from an integer, a float without fraction or a numeric string.
fn whole(value: Json) -> Result<Option<i64>, String> {
    match value {
        Json::Null => Ok(None),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Some(i)),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(Some(f as i64)),
            _ => Err(format!("expected a whole number, got {n}")),
        },
        Json::String(s) => s
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| format!("expected a whole number, got {s:?}")),
        other => Err(format!("expected a whole number, got {other}")),
    }
}

/// Deserialize a required whole number leniently.
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    whole(Json::deserialize(d)?)
        .map_err(serde::de::Error::custom)?
        .ok_or_else(|| serde::de::Error::custom("expected a whole number, got null"))
}

/// Deserialize an optional whole number leniently.
pub fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    whole(Json::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// Deserialize an optional number (hours) from a number or a numeric string.
pub fn opt_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Json::deserialize(d)? {
        Json::Null => Ok(None),
        Json::Number(n) => Ok(n.as_f64()),
        Json::String(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected a number, got {s:?}"))),
        other => Err(serde::de::Error::custom(format!(
            "expected a number, got {other}"
        ))),
    }
}

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

    #[derive(Deserialize)]
    struct A {
        #[serde(deserialize_with = "int")]
        id: i64,
        #[serde(default, deserialize_with = "opt_int")]
        limit: Option<i64>,
        #[serde(default, deserialize_with = "opt_number")]
        hours: Option<f64>,
    }

    #[test]
    fn lenient_numbers() {
        let a: A =
            serde_json::from_value(json!({"id": 6.0, "limit": "20", "hours": "0.5"})).unwrap();
        assert_eq!((a.id, a.limit, a.hours), (6, Some(20), Some(0.5)));
        let a: A = serde_json::from_value(json!({"id": "7"})).unwrap();
        assert_eq!((a.id, a.limit, a.hours), (7, None, None));
        assert!(serde_json::from_value::<A>(json!({"id": 6.5})).is_err());
    }

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
