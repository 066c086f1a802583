//! `prometheus_alerts`: active alerts, firing apart from pending, most severe first,
//! each with its value, since when it is active and its summary; pending ones with
//! when they will fire if the condition holds.

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note};
use plue_plugin_sdk::time::{ago, human_duration, now, rfc3339};

use crate::api::{Alert, Api, Labels, RulesData};
use crate::format;

/// Which alerts to list.
#[derive(Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Firing,
    Pending,
    /// Both (default).
    #[default]
    Any,
}

#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Default `any`.
    #[serde(default)]
    pub state: State,
    /// Per state (default 50).
    #[serde(default)]
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
}

// One active alert.
#[derive(Serialize, JsonSchema)]
pub struct AlertOut {
    pub name: String,
    // `firing` or `pending`.
    pub state: String,
    // The `severity` label, if any.
    pub severity: Option<String>,
    pub labels: Labels,
    // The expression's value when the alert was last evaluated; null for NaN.
    pub value: Option<f64>,
    pub active_since: Option<String>,
    // Pending alerts: when they fire if the condition keeps holding, RFC 3339.
    pub fires_at: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
}

/// What `prometheus_alerts` returns.
#[derive(Serialize, JsonSchema)]
pub struct AlertsOut {
    pub firing: usize,
    pub pending: usize,
    // Firing first, then pending; each most severe first; at most `limit` of each.
    pub alerts: Vec<AlertOut>,
    pub truncated: bool,
}

fn severity_rank(alert: &Alert) -> u8 {
    match alert
        .labels
        .get("severity")
        .map(|s| s.to_ascii_lowercase())
        .as_deref()
    {
        Some("critical" | "page" | "error") => 0,
        Some("warning" | "warn") => 1,
        Some("info") => 2,
        Some(_) => 1,
        None => 3,
    }
}

fn alert_out(a: &Alert, hold: Option<f64>) -> AlertOut {
    let since = a.active_at.as_deref().and_then(format::timestamp);
    AlertOut {
        name: a.labels.get("alertname").cloned().unwrap_or_default(),
        state: a.state.clone(),
        severity: a.labels.get("severity").cloned(),
        labels: a.labels.clone(),
        value: format::parse_value(&a.value),
        active_since: since.map(rfc3339),
        fires_at: match (a.state.as_str(), since, hold) {
            ("pending", Some(s), Some(h)) => Some(rfc3339(s + h)),
            _ => None,
        },
        summary: a.annotations.get("summary").cloned(),
        description: a.annotations.get("description").cloned(),
    }
}

fn alert_text(a: &AlertOut, now: f64) -> String {
    let labels: Labels = a
        .labels
        .iter()
        .filter(|(k, _)| k.as_str() != "alertname")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let since = match a.active_since.as_deref().and_then(format::timestamp) {
        Some(t) => format!("since {} ({})", rfc3339(t), ago(t, now)),
        None => "since unknown".into(),
    };
    let mut line = format!(
        "- {} {} value {}, {since}",
        a.name,
        format::series(&labels),
        format::opt_number(a.value)
    );
    if let Some(at) = a.fires_at.as_deref().and_then(format::timestamp) {
        if at > now {
            line.push_str(&format!(
                "; fires in {} if it holds",
                human_duration(at - now)
            ));
        } else {
            line.push_str("; fires at the next evaluation if it holds");
        }
    }
    if let Some(text) = a.summary.as_ref().or(a.description.as_ref()) {
        line.push_str(&format!("\n  {}", format::one_line(text, 300)));
    }
    line
}

/// `for` durations of alerting rules by name, for pending alerts' firing time.
fn hold_durations(api: &Api) -> BTreeMap<String, f64> {
    match api.get::<RulesData>("/api/v1/rules", &[("type", "alert")]) {
        Ok(reply) => reply
            .data
            .groups
            .into_iter()
            .flat_map(|g| g.rules)
            .map(|r| (r.name, r.duration))
            .collect(),
        Err(e) => {
            plue_plugin_sdk::log::debug(&format!(
                "prometheus_alerts: rules unavailable: {}",
                e.message()
            ));
            BTreeMap::new()
        }
    }
}

pub(crate) fn run(args: Args) -> Result<Answer<AlertsOut>, ToolError> {
    let now = now();
    let api = Api::new();
    let limit = text::limit(args.limit, 50, 200);
    let mut alerts = api
        .get::<crate::api::AlertsData>("/api/v1/alerts", &[])?
        .data
        .alerts;
    alerts.sort_by(|a, b| {
        severity_rank(a)
            .cmp(&severity_rank(b))
            .then_with(|| a.active_at.cmp(&b.active_at))
            .then_with(|| a.labels.cmp(&b.labels))
    });
    let of = |state: &str| {
        alerts
            .iter()
            .filter(|a| a.state == state)
            .collect::<Vec<_>>()
    };
    let (firing, pending) = (of("firing"), of("pending"));
    let holds = if !pending.is_empty() && args.state != State::Firing {
        hold_durations(&api)
    } else {
        BTreeMap::new()
    };

    let mut out = AlertsOut {
        firing: firing.len(),
        pending: pending.len(),
        alerts: Vec::new(),
        truncated: false,
    };
    let mut parts = vec![Some(format!(
        "{} firing, {} pending.",
        firing.len(),
        pending.len()
    ))];
    for (state, list, title) in [
        (State::Firing, &firing, "FIRING"),
        (State::Pending, &pending, "PENDING"),
    ] {
        if args.state != State::Any && args.state != state || list.is_empty() {
            continue;
        }
        let shown: Vec<AlertOut> = list
            .iter()
            .take(limit)
            .map(|a| {
                alert_out(
                    a,
                    a.labels
                        .get("alertname")
                        .and_then(|n| holds.get(n))
                        .copied(),
                )
            })
            .collect();
        let mut text = format!(
            "{title}\n{}",
            shown
                .iter()
                .map(|a| alert_text(a, now))
                .collect::<Vec<_>>()
                .join("\n")
        );
        if shown.len() < list.len() {
            out.truncated = true;
            text.push_str("\n\n");
            text.push_str(&cut_note(
                shown.len(),
                list.len(),
                &format!("{} alerts", title.to_lowercase()),
                "raise `limit`",
            ));
        }
        out.alerts.extend(shown);
        parts.push(Some(text));
    }
    if alerts.is_empty() {
        parts = vec![Some(
            "No alerts are firing or pending. Alerting rules and their state are listed by prometheus_rules.".into(),
        )];
    }
    Ok(Answer::new(text::blocks(parts), out))
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_alerts",
        "Active alerts, firing and most severe first.",
        run,
    )
    .title("Active alerts")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;

    const ALERTS: &str = r#"{"status":"success","data":{"alerts":[
      {"labels":{"alertname":"AuthFailures","severity":"warning"},"annotations":{"summary":"10% of authentication attempts fail"},"state":"pending","activeAt":"2023-11-14T22:13:20Z","value":"1e-01"},
      {"labels":{"alertname":"TargetDown","job":"runner","severity":"critical"},"annotations":{},"state":"firing","activeAt":"2023-11-14T22:00:00Z","value":"0e+00"},
      {"labels":{"alertname":"HighErrorRate","job":"api","severity":"critical"},"annotations":{"summary":"api answers 5% of requests with 5xx"},"state":"firing","activeAt":"2023-11-14T21:00:00Z","value":"5e-02"}]}}"#;
    const RULES: &str = r#"{"status":"success","data":{"groups":[{"name":"g","rules":[{"name":"AuthFailures","type":"alerting","duration":3600}]}]}}"#;

    fn serve() {
        testing::fake_http(|req| {
            Ok(testing::response(
                200,
                if req.path_and_query.starts_with("/api/v1/rules") {
                    RULES
                } else {
                    ALERTS
                },
            ))
        });
    }

    #[test]
    fn firing_then_pending() {
        serve();
        let out = testing::call(&plugin(), "prometheus_alerts", json!({})).unwrap();
        let text = out.text_content();
        assert!(text.starts_with("2 firing, 1 pending.\n\nFIRING\n- HighErrorRate {job=\"api\", severity=\"critical\"} value 0.05, since 2023-11-14T21:00:00Z"), "{text}");
        assert!(text.contains("\n  api answers 5% of requests with 5xx\n- TargetDown {job=\"runner\", severity=\"critical\"} value 0, since 2023-11-14T22:00:00Z"), "{text}");
        assert!(text.contains("PENDING\n- AuthFailures {severity=\"warning\"} value 0.1, since 2023-11-14T22:13:20Z"), "{text}");
        let s = out.structured().unwrap();
        assert_eq!(s["firing"], 2);
        assert_eq!(s["alerts"][2]["fires_at"], "2023-11-14T23:13:20Z");
        assert_eq!(s["alerts"][0]["value"], 0.05);
    }

    #[test]
    fn state_filter_and_none() {
        serve();
        let out =
            testing::call(&plugin(), "prometheus_alerts", json!({"state": "pending"})).unwrap();
        assert!(
            !out.text_content().contains("FIRING"),
            "{}",
            out.text_content()
        );
        assert_eq!(
            out.structured().unwrap()["alerts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        testing::fake_http(|_| {
            Ok(testing::response(
                200,
                r#"{"status":"success","data":{"alerts":[]}}"#,
            ))
        });
        let out = testing::call(&plugin(), "prometheus_alerts", json!({})).unwrap();
        assert!(
            out.text_content()
                .starts_with("No alerts are firing or pending.")
        );
    }
}
