//! `prometheus_rules`: recording and alerting rules with their health, last error
//! and (for alerts) state; broken rules first, so an agent sees why a recorded series
//! or an alert is missing.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note};
use plue_plugin_sdk::time::{human_duration, now, rfc3339};

use crate::api::{Api, Rule, RulesData};
use crate::format;

/// Which rules to list.
#[derive(Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Alerting rules.
    Alert,
    /// Recording rules.
    Record,
}

#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Default both.
    #[serde(default, rename = "type")]
    pub kind: Option<Kind>,
    /// Default all.
    #[serde(default)]
    pub group: Option<String>,
    /// Substring, case-insensitive.
    #[serde(default)]
    pub name: Option<String>,
    /// Default 50.
    #[serde(default)]
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

// One rule.
#[derive(Serialize, JsonSchema)]
pub struct RuleOut {
    pub group: String,
    pub file: String,
    pub name: String,
    // `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: String,
    // `ok`, `err` or `unknown` (not evaluated yet).
    pub health: String,
    pub last_error: String,
    // Alerting rules: `firing`, `pending` or `inactive`.
    pub state: Option<String>,
    /// Alerting rules: the `for` duration in seconds.
    pub for_seconds: Option<f64>,
    // Alerting rules: how many alerts it has active.
    pub active_alerts: usize,
    pub query: String,
    pub last_evaluation: Option<String>,
    pub evaluation_seconds: f64,
}

/// What `prometheus_rules` returns.
#[derive(Serialize, JsonSchema)]
pub struct RulesOut {
    // Groups holding the rules that matched.
    pub groups: usize,
    pub rules_total: usize,
    // Rules whose last evaluation failed.
    pub with_errors: usize,
    // Rules listed: errors first, then by group and name; at most `limit`.
    pub rules: Vec<RuleOut>,
    pub truncated: bool,
}

fn rule_out(group: &str, file: &str, r: &Rule) -> RuleOut {
    let alerting = r.kind == "alerting";
    RuleOut {
        group: group.into(),
        file: file.into(),
        name: r.name.clone(),
        kind: r.kind.clone(),
        health: r.health.clone(),
        last_error: r.last_error.clone(),
        state: alerting.then(|| r.state.clone()),
        for_seconds: alerting.then_some(r.duration),
        active_alerts: r.alerts.len(),
        query: r.query.clone(),
        last_evaluation: format::timestamp(&r.last_evaluation).map(rfc3339),
        evaluation_seconds: r.evaluation_time,
    }
}

fn rule_text(r: &RuleOut, now: f64) -> String {
    let kind = if r.kind == "alerting" {
        "alert"
    } else {
        "record"
    };
    let mut head = format!("- {kind} {} [{}]", r.name, r.group);
    if let (Some(state), Some(hold)) = (&r.state, r.for_seconds) {
        head.push_str(&format!(" {state}"));
        if r.active_alerts > 0 {
            head.push_str(&format!(" ({} active)", r.active_alerts));
        }
        if hold > 0.0 {
            head.push_str(&format!(", for {}", human_duration(hold)));
        }
    }
    let evaluated = match r.last_evaluation.as_deref() {
        Some(t) => format!("evaluated {}", format::ago_text(t, now)),
        None => "not evaluated yet".into(),
    };
    head.push_str(&format!(", health {}, {evaluated}", r.health));
    let mut text = format!("{head}\n  expr: {}", format::one_line(&r.query, 200));
    if !r.last_error.is_empty() {
        text.push_str(&format!(
            "\n  error: {}",
            format::one_line(&r.last_error, 300)
        ));
    }
    text
}

pub(crate) fn run(args: Args) -> Result<Answer<RulesOut>, ToolError> {
    let now = now();
    let limit = text::limit(args.limit, 50, 500);
    let kind = args.kind.map(|k| match k {
        Kind::Alert => "alert",
        Kind::Record => "record",
    });
    let query: Vec<(&str, &str)> = kind.map(|k| vec![("type", k)]).unwrap_or_default();
    let data = Api::new().get::<RulesData>("/api/v1/rules", &query)?.data;
    let name = args
        .name
        .as_deref()
        .map(str::to_lowercase)
        .filter(|n| !n.is_empty());
    let group = args.group.as_deref().filter(|g| !g.is_empty());
    let groups: Vec<_> = data
        .groups
        .iter()
        .filter(|g| group.is_none_or(|name| g.name == name))
        .collect();
    let mut rules: Vec<RuleOut> = groups
        .iter()
        .flat_map(|g| g.rules.iter().map(|r| rule_out(&g.name, &g.file, r)))
        .filter(|r| {
            name.as_ref()
                .is_none_or(|n| r.name.to_lowercase().contains(n))
        })
        .collect();
    let health_rank = |h: &str| match h {
        "err" => 0,
        "unknown" => 1,
        _ => 2,
    };
    rules.sort_by(|a, b| {
        health_rank(&a.health)
            .cmp(&health_rank(&b.health))
            .then_with(|| a.group.cmp(&b.group))
            .then_with(|| a.name.cmp(&b.name))
    });
    let total = rules.len();
    let with_errors = rules.iter().filter(|r| r.health == "err").count();
    let state_count = |s: &str| {
        rules
            .iter()
            .filter(|r| r.state.as_deref() == Some(s))
            .count()
    };
    let alerting = rules.iter().filter(|r| r.state.is_some()).count();
    let rule_groups = rules
        .iter()
        .map(|r| r.group.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let summary = if total == 0 {
        let mut text = "No rules match.".to_string();
        if groups.is_empty() && group.is_some() {
            let names: Vec<&str> = data.groups.iter().map(|g| g.name.as_str()).collect();
            text.push_str(&format!(" The groups are: {}.", names.join(", ")));
        }
        text
    } else {
        let mut text = format!(
            "{} in {}: {} recording, {alerting} alerting; {with_errors} with errors.",
            text::plural(total, "rule", "rules"),
            text::plural(rule_groups, "group", "groups"),
            total - alerting
        );
        if alerting > 0 {
            text.push_str(&format!(
                " Alerts: {} firing, {} pending, {} inactive.",
                state_count("firing"),
                state_count("pending"),
                state_count("inactive")
            ));
        }
        text
    };
    rules.truncate(limit);
    let list = (!rules.is_empty()).then(|| {
        rules
            .iter()
            .map(|r| rule_text(r, now))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let note = (rules.len() < total).then(|| {
        cut_note(
            rules.len(),
            total,
            "rules",
            "pass `type`, `group` or `name`, or raise `limit`",
        )
    });
    let out = RulesOut {
        groups: rule_groups,
        rules_total: total,
        with_errors,
        truncated: rules.len() < total,
        rules,
    };
    Ok(Answer::new(
        text::blocks(vec![Some(summary), list, note]),
        out,
    ))
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_rules",
        "Recording and alerting rules, broken first.",
        run,
    )
    .title("Rules")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;

    const RULES: &str = r#"{"status":"success","data":{"groups":[
      {"name":"alerts","file":"rules.yml","interval":1,"rules":[
        {"name":"HighErrorRate","query":"x > 0.01","type":"alerting","health":"ok","state":"firing","duration":0,"alerts":[{"labels":{},"state":"firing","value":"1"}],"lastError":"","lastEvaluation":"2023-11-14T22:13:19Z","evaluationTime":0.001},
        {"name":"AuthFailures","query":"y > 0.05","type":"alerting","health":"ok","state":"pending","duration":3600,"alerts":[],"lastError":"","lastEvaluation":"2023-11-14T22:13:19Z"}]},
      {"name":"broken","file":"rules.yml","rules":[
        {"name":"up:many","query":"up + on (job) up","type":"recording","health":"err","lastError":"found duplicate series for the match group; many-to-many matching not allowed: matching labels must be unique on one side","lastEvaluation":"2023-11-14T22:13:19Z"}]}]}}"#;

    #[test]
    fn errors_first_with_counts() {
        testing::fake_http(|req| {
            assert_eq!(req.path_and_query, "/api/v1/rules");
            Ok(testing::response(200, RULES))
        });
        let out = testing::call(&plugin(), "prometheus_rules", json!({})).unwrap();
        let text = out.text_content();
        assert!(text.starts_with("3 rules in 2 groups: 1 recording, 2 alerting; 1 with errors. Alerts: 1 firing, 1 pending, 0 inactive.\n\n- record up:many [broken], health err, evaluated "), "{text}");
        assert!(text.contains("  error: found duplicate series for the match group; many-to-many matching not allowed"), "{text}");
        assert!(
            text.contains("- alert AuthFailures [alerts] pending, for 1h, health ok"),
            "{text}"
        );
        assert!(
            text.contains("- alert HighErrorRate [alerts] firing (1 active), health ok"),
            "{text}"
        );
        let s = out.structured().unwrap();
        assert_eq!(s["with_errors"], 1);
        assert_eq!(s["rules"][0]["type"], "recording");
    }

    #[test]
    fn filters() {
        testing::fake_http(|req| {
            assert_eq!(req.path_and_query, "/api/v1/rules?type=alert");
            Ok(testing::response(200, RULES))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_rules",
            json!({"type": "alert", "name": "auth"}),
        )
        .unwrap();
        assert_eq!(out.structured().unwrap()["rules_total"], 1);
        let out = testing::call(
            &plugin(),
            "prometheus_rules",
            json!({"type": "alert", "group": "nope"}),
        )
        .unwrap();
        assert_eq!(
            out.text_content(),
            "No rules match. The groups are: alerts, broken."
        );
    }
}
