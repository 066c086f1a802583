//! The status of a run or step as Plue stores it. Plue's `status` columns are
//! free text (no CHECK), so besides the five values Plue writes, any other is
//! kept as it is rather than refused; in structured content a status is the
//! same plain string as in the database.

use std::fmt;

use plue_plugin_sdk::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pending,
    Running,
    Completed,
    Failed,
    Cancelled,
    /// A value Plue does not usually write, as stored.
    Other(String),
}

impl Status {
    pub fn as_str(&self) -> &str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
            Status::Other(s) => s,
        }
    }

    /// A four-letter badge for aligned lists.
    pub fn badge(&self) -> String {
        match self {
            Status::Pending => "PEND".into(),
            Status::Running => "RUN".into(),
            Status::Completed => "OK".into(),
            Status::Other(s) if s == "succeeded" => "OK".into(),
            Status::Failed => "FAIL".into(),
            Status::Cancelled => "CANC".into(),
            Status::Other(s) => s.chars().take(4).collect::<String>().to_uppercase(),
        }
    }
}

impl From<&str> for Status {
    fn from(s: &str) -> Status {
        match s {
            "pending" => Status::Pending,
            "running" => Status::Running,
            "completed" => Status::Completed,
            "failed" => Status::Failed,
            "cancelled" => Status::Cancelled,
            other => Status::Other(other.to_string()),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Status, D::Error> {
        Ok(Status::from(String::deserialize(d)?.as_str()))
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl JsonSchema for Status {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Status".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_other_values_round_trip() {
        for s in [
            "pending",
            "running",
            "completed",
            "failed",
            "cancelled",
            "queued",
        ] {
            assert_eq!(Status::from(s).as_str(), s);
            assert_eq!(serde_json::to_value(Status::from(s)).unwrap(), s);
        }
        assert_eq!(Status::from("queued"), Status::Other("queued".into()));
        assert_eq!(Status::from("succeeded").badge(), "OK");
        assert_eq!(Status::from("queued").badge(), "QUEU");
    }
}
