//! `recent_activity`: what happened in the last hours: new users,
//! repositories and sessions, workflow runs by status, and a timeline of the
//! latest events. Plue's timestamps are UTC without a zone; the window is
//! computed in the database against `now()` in UTC.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;
use plue_plugin_sdk::time::trim_float;

use crate::db::{self, NOW_UTC, Params};
use crate::format;
use crate::tools::repos::StatusCount;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct RecentActivityArgs {
    /// Window back from now; fractions allowed.
    #[serde(default = "default_hours")]
    #[schemars(range(min = 0.01, max = 8760.0))]
    pub hours: f64,
    /// Latest events to list; 0 for none.
    #[serde(default = "default_limit")]
    #[schemars(range(max = 200))]
    pub limit: u32,
}

fn default_hours() -> f64 {
    24.0
}

fn default_limit() -> u32 {
    20
}

// One event of the timeline.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct EventOut {
    pub at: Option<String>,
    // `user`, `repository`, `session` or `workflow run`.
    pub kind: String,
    // What: a username, `owner/name`, `#id workflow`.
    pub what: String,
    // A word of state: active/inactive, public/private, the run's status.
    pub detail: Option<String>,
}

/// What `recent_activity` returns as structured content.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct RecentActivityOutput {
    // The window in hours.
    #[serde(default)]
    pub hours: f64,
    pub since: Option<String>,
    // Users created in the window.
    pub new_users: i64,
    // Repositories created in the window.
    pub new_repositories: i64,
    // Sessions (sign-ins) created in the window.
    pub new_sessions: i64,
    // Workflow runs created in the window.
    pub workflow_runs: i64,
    // Those runs by status.
    #[serde(default)]
    pub runs_by_status: Vec<StatusCount>,
    // The latest events, newest first.
    #[serde(default)]
    pub events: Vec<EventOut>,
    // How many events the window holds.
    pub event_count: i64,
}

/// Report recent activity.
pub fn run(args: RecentActivityArgs) -> Result<Answer<RecentActivityOutput>, ToolError> {
    if !args.hours.is_finite() || args.hours <= 0.0 || args.hours > 8760.0 {
        return Err(ToolError::invalid(
            "`hours` must be more than 0 and at most 8760 (one year)",
        ));
    }
    let mut p = Params::default();
    let hours = p.bind(args.hours);
    let since =
        format!("WITH since AS (SELECT {NOW_UTC} - {hours}::float8 * interval '1 hour' AS t)");
    let counts = db::run(
        "the activity counts",
        &format!(
            "{since}
             SELECT {} AS since,
                    (SELECT count(*) FROM users u WHERE u.created_at >= (SELECT t FROM since))::int8 AS new_users,
                    (SELECT count(*) FROM repositories r WHERE r.created_at >= (SELECT t FROM since))::int8 AS new_repositories,
                    (SELECT count(*) FROM auth_sessions s WHERE s.created_at >= (SELECT t FROM since))::int8 AS new_sessions,
                    (SELECT count(*) FROM workflow_runs wr WHERE wr.created_at >= (SELECT t FROM since))::int8 AS workflow_runs,
                    (SELECT count(*) FROM users u WHERE u.created_at >= (SELECT t FROM since))::int8
                    + (SELECT count(*) FROM repositories r WHERE r.created_at >= (SELECT t FROM since))
                    + (SELECT count(*) FROM auth_sessions s WHERE s.created_at >= (SELECT t FROM since))
                    + (SELECT count(*) FROM workflow_runs wr WHERE wr.created_at >= (SELECT t FROM since)) AS event_count",
            db::utc("(SELECT t FROM since)")
        ),
        &p,
    )?;
    let mut out: RecentActivityOutput = counts
        .to_structs()?
        .into_iter()
        .next()
        .ok_or_else(|| ToolError::failed("the activity counts came back empty"))?;
    out.hours = args.hours;
    out.runs_by_status = db::run(
        "the workflow runs by status",
        &format!(
            "{since}
             SELECT wr.status::text AS status, count(*)::int8 AS count
             FROM workflow_runs wr WHERE wr.created_at >= (SELECT t FROM since)
             GROUP BY wr.status ORDER BY count(*) DESC, wr.status"
        ),
        &p,
    )?
    .to_structs()?;
    if args.limit > 0 {
        let mut p = p.clone();
        let limit = p.bind(i64::from(args.limit.min(200)));
        out.events = db::run(
            "the latest events",
            &format!(
                "{since}
                 SELECT {} AS at, e.kind, e.what, e.detail FROM (
                   SELECT u.created_at AS at, 'user' AS kind, u.username::text AS what,
                          CASE WHEN u.is_active THEN 'active' ELSE 'inactive' END AS detail
                   FROM users u WHERE u.created_at >= (SELECT t FROM since)
                   UNION ALL
                   SELECT r.created_at, 'repository', coalesce(u.username::text, '?') || '/' || r.name,
                          CASE WHEN r.is_public IS FALSE THEN 'private' ELSE 'public' END
                   FROM repositories r LEFT JOIN users u ON u.id = r.user_id
                   WHERE r.created_at >= (SELECT t FROM since)
                   UNION ALL
                   SELECT s.created_at, 'session', s.username::text,
                          CASE WHEN s.expires_at > {NOW_UTC} THEN 'active' ELSE 'expired' END
                   FROM auth_sessions s WHERE s.created_at >= (SELECT t FROM since)
                   UNION ALL
                   SELECT wr.created_at, 'workflow run', '#' || wr.id || ' ' || coalesce(d.name::text, '(definition deleted)'),
                          wr.status::text
                   FROM workflow_runs wr LEFT JOIN workflow_definitions d ON d.id = wr.workflow_definition_id
                   WHERE wr.created_at >= (SELECT t FROM since)
                 ) e
                 ORDER BY e.at DESC NULLS LAST, e.kind, e.what
                 LIMIT {limit}",
                db::utc("e.at")
            ),
            &p,
        )?
        .to_structs()?;
    }
    Ok(Answer::new(describe(&out), out))
}

fn describe(a: &RecentActivityOutput) -> String {
    let window = format!("{} h", trim_float(a.hours, 2));
    let since = a
        .since
        .as_deref()
        .map(format::utc)
        .unwrap_or_else(|| "?".into());
    let mut runs = a.workflow_runs.to_string();
    if !a.runs_by_status.is_empty() {
        let by: Vec<String> = a
            .runs_by_status
            .iter()
            .map(|s| format!("{} {}", s.count, s.status))
            .collect();
        runs.push_str(&format!(" ({})", by.join(", ")));
    }
    let mut out = format!(
        "Activity in the last {window} (since {since}):\n  new users: {}\n  new repositories: {}\n  new sessions: {}\n  workflow runs: {runs}",
        a.new_users, a.new_repositories, a.new_sessions
    );
    if !a.events.is_empty() {
        let now = plue_plugin_sdk::time::now();
        let headers = ["when (UTC)", "kind", "what", "detail"];
        let cells: Vec<Vec<String>> = a
            .events
            .iter()
            .map(|e| {
                vec![
                    format::when(e.at.as_deref(), now),
                    e.kind.clone(),
                    e.what.clone(),
                    format::or_dash(e.detail.as_deref()),
                ]
            })
            .collect();
        out.push_str(&format!(
            "\n\nLatest events, newest first:\n{}",
            text::table(&headers, &cells, 50)
        ));
        if (a.events.len() as i64) < a.event_count {
            out.push_str(&format!(
                "\n\n{}",
                text::cut_note(
                    a.events.len(),
                    a.event_count as usize,
                    "events",
                    "shorten hours or raise limit"
                )
            ));
        }
    }
    out
}

pub fn def() -> ToolDef {
    tool(
        "recent_activity",
        "New users, repositories, sessions and runs in the last `hours`.",
        run,
    )
    .title("Recent activity")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::Value;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{ago, fake, rows, t};

    use super::*;

    #[test]
    fn counts_runs_by_status_and_lists_events() {
        let log = fake(vec![
            (
                "AS event_count",
                Ok(rows(
                    &[
                        ("since", "timestamptz"),
                        ("new_users", "int8"),
                        ("new_repositories", "int8"),
                        ("new_sessions", "int8"),
                        ("workflow_runs", "int8"),
                        ("event_count", "int8"),
                    ],
                    vec![vec![
                        Value::Timestamptz("2026-11-23T23:00:00.5Z".into()),
                        Value::Int(1),
                        Value::Int(2),
                        Value::Int(4),
                        Value::Int(14),
                        Value::Int(21),
                    ]],
                )),
            ),
            (
                "GROUP BY wr.status",
                Ok(rows(
                    &[("status", "text"), ("count", "int8")],
                    vec![
                        vec![t("failed"), Value::Int(5)],
                        vec![t("completed"), Value::Int(4)],
                    ],
                )),
            ),
            (
                "UNION ALL",
                Ok(rows(
                    &[
                        ("at", "timestamptz"),
                        ("kind", "text"),
                        ("what", "text"),
                        ("detail", "text"),
                    ],
                    vec![
                        vec![ago(300.0), t("workflow run"), t("#14 ci"), t("pending")],
                        vec![ago(1200.0), t("session"), t("bob"), t("active")],
                    ],
                )),
            ),
        ]);
        let out = testing::call(&plugin(), "recent_activity", json!({"limit": 2})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with(
                "Activity in the last 24 h (since 2026-11-23 23:00:00 UTC):\n  new users: 1\n  new repositories: 2\n  new sessions: 4\n  workflow runs: 14 (5 failed, 4 completed)\n\nLatest events, newest first:\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("(5m ago)   workflow run  #14 ci  pending"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "Showing 2 of 21 events (19 left out); to narrow: shorten hours or raise limit."
            ),
            "{text}"
        );
        for (_, params) in log.borrow().iter().take(2) {
            assert_eq!(params, &vec![Value::Float(24.0)]);
        }
        assert_eq!(log.borrow()[2].1, vec![Value::Float(24.0), Value::Int(2)]);
        let s = out.structured().unwrap();
        assert_eq!(s["new_sessions"], 4);
        assert_eq!(s["hours"], 24.0);
        assert_eq!(
            s["runs_by_status"][0],
            json!({"status": "failed", "count": 5})
        );
    }

    #[test]
    fn fractional_hours_are_fine_and_nonsense_is_refused() {
        let log = fake(vec![
            (
                "AS event_count",
                Ok(rows(
                    &[
                        ("since", "timestamptz"),
                        ("new_users", "int8"),
                        ("new_repositories", "int8"),
                        ("new_sessions", "int8"),
                        ("workflow_runs", "int8"),
                        ("event_count", "int8"),
                    ],
                    vec![vec![
                        Value::Null,
                        Value::Int(0),
                        Value::Int(0),
                        Value::Int(0),
                        Value::Int(0),
                        Value::Int(0),
                    ]],
                )),
            ),
            (
                "GROUP BY",
                Ok(rows(&[("status", "text"), ("count", "int8")], vec![])),
            ),
        ]);
        let out = testing::call(
            &plugin(),
            "recent_activity",
            json!({"hours": 1.5, "limit": 0}),
        )
        .unwrap();
        assert!(
            out.text_content().starts_with("Activity in the last 1.5 h"),
            "{}",
            out.text_content()
        );
        assert_eq!(log.borrow().len(), 2);
        assert!(testing::call(&plugin(), "recent_activity", json!({"hours": 0})).is_err());
    }
}
