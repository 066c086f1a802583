//! `find_sessions`: Plue's cookie sessions (`auth_sessions`), live or expired.
//! A session key is a bearer secret: only its first characters leave the
//! database (the prefix is cut in SQL), enough to tell sessions apart.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;
use plue_plugin_sdk::text::count;

use crate::db::{self, Counted, NOW_UTC, Params};
use crate::format::{self, SECRET_PREFIX};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct FindSessionsArgs {
    /// ANDed with `username`.
    #[serde(default)]
    pub user_id: Option<i64>,
    /// Exact, case-insensitive.
    #[serde(default)]
    pub username: Option<String>,
    /// false includes expired sessions.
    #[serde(default = "yes")]
    pub active_only: bool,
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 500))]
    pub limit: u32,
}

fn yes() -> bool {
    true
}

fn default_limit() -> u32 {
    50
}

// One session in structured content. The key is never given whole.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct SessionOut {
    // The first 8 characters of the session key (the rest is a secret and never shown).
    pub key_prefix: String,
    #[serde(default)]
    pub user_id: Option<i64>,
    // The username stored with the session.
    #[serde(default)]
    pub username: Option<String>,
    // Whether the session carries admin rights.
    #[serde(default)]
    pub is_admin: Option<bool>,
    // Whether it has not expired yet.
    pub active: bool,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
}

/// What `find_sessions` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct FindSessionsOutput {
    // The sessions shown, newest first.
    pub sessions: Vec<SessionOut>,
    // How many sessions matched in all.
    pub total: i64,
}

/// The select list of a session row, with the key cut to its prefix in SQL.
pub fn session_columns() -> String {
    format!(
        "left(s.session_key, {SECRET_PREFIX}) AS key_prefix, s.user_id::int8 AS user_id, s.username::text AS username,
         s.is_admin AS is_admin, s.expires_at > {NOW_UTC} AS active,
         {} AS created_at, {} AS expires_at",
        db::utc("s.created_at"),
        db::utc("s.expires_at")
    )
}

/// Find sessions.
pub fn run(args: FindSessionsArgs) -> Result<Answer<FindSessionsOutput>, ToolError> {
    let mut p = Params::default();
    let mut filters = Vec::new();
    if let Some(id) = args.user_id {
        filters.push(format!("s.user_id = {}::int8", p.bind(id)));
    }
    if let Some(name) = args
        .username
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        filters.push(format!("lower(s.username) = lower({}::text)", p.bind(name)));
    }
    if args.active_only {
        filters.push(format!("s.expires_at > {NOW_UTC}"));
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let limit = p.bind(i64::from(args.limit.clamp(1, 500)));
    let statement = format!(
        "SELECT {}, count(*) OVER ()::int8 AS total
         FROM auth_sessions s {filter}
         ORDER BY s.created_at DESC NULLS LAST, s.expires_at DESC
         LIMIT {limit}",
        session_columns()
    );
    let rows: Vec<Counted<SessionOut>> = db::run("the sessions", &statement, &p)?.to_structs()?;
    let total = rows.first().map_or(0, |r| r.total);
    let sessions: Vec<SessionOut> = rows.into_iter().map(|r| r.item).collect();
    Ok(Answer::new(
        describe(&sessions, total, &args),
        FindSessionsOutput { sessions, total },
    ))
}

fn describe(sessions: &[SessionOut], total: i64, args: &FindSessionsArgs) -> String {
    let kind = if args.active_only {
        "active sessions"
    } else {
        "sessions"
    };
    let mut whose = String::new();
    if let Some(id) = args.user_id {
        whose.push_str(&format!(" of user id {id}"));
    }
    if let Some(name) = &args.username {
        whose.push_str(&format!(" of user {name}"));
    }
    if sessions.is_empty() {
        let hint = if args.active_only {
            " (active_only: false also shows expired ones)"
        } else {
            ""
        };
        return format!("No {kind}{whose}{hint}.");
    }
    let now = plue_plugin_sdk::time::now();
    let headers = [
        "key",
        "status",
        "user",
        "admin",
        "created (UTC)",
        "expires (UTC)",
    ];
    let cells: Vec<Vec<String>> = sessions.iter().map(|s| session_cells(s, now)).collect();
    let mut out = format!(
        "{}{whose}, newest first. Keys are shown as their first {SECRET_PREFIX} characters only.\n{}",
        count(total, kind.trim_end_matches('s')),
        text::table(&headers, &cells, 60)
    );
    if (sessions.len() as i64) < total {
        out.push_str(&format!(
            "\n\n{}",
            text::cut_note(
                sessions.len(),
                total as usize,
                "sessions",
                "give user_id or username, or raise limit"
            )
        ));
    }
    out
}

/// A session as table cells: key prefix, status, user, admin, created, expires.
pub fn session_cells(s: &SessionOut, now: f64) -> Vec<String> {
    let user = match (&s.username, s.user_id) {
        (Some(name), Some(id)) => format!("{name} ({id})"),
        (Some(name), None) => name.clone(),
        (None, Some(id)) => format!("id {id}"),
        (None, None) => "-".into(),
    };
    vec![
        format!("{}…", s.key_prefix),
        if s.active {
            "active".into()
        } else {
            "expired".into()
        },
        user,
        match s.is_admin {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => "-".into(),
        },
        format::when(s.created_at.as_deref(), now),
        format::when(s.expires_at.as_deref(), now),
    ]
}

pub fn def() -> ToolDef {
    tool(
        "find_sessions",
        "Cookie sessions, newest first, optionally of one user.",
        run,
    )
    .title("Find sessions")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::Value;
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{ago, fake, rows, t};

    use super::*;

    fn answer() -> plue_plugin_sdk::sql::Rows {
        rows(
            &[
                ("key_prefix", "text"),
                ("user_id", "int8"),
                ("username", "text"),
                ("is_admin", "bool"),
                ("active", "bool"),
                ("created_at", "timestamptz"),
                ("expires_at", "timestamptz"),
                ("total", "int8"),
            ],
            vec![
                vec![
                    t("67e1dccc"),
                    Value::Int(2),
                    t("bob"),
                    Value::Boolean(false),
                    Value::Boolean(true),
                    ago(1200.0),
                    ago(-30.0 * 86400.0 + 1200.0),
                    Value::Int(2),
                ],
                vec![
                    t("f62b922a"),
                    Value::Int(1),
                    t("alice"),
                    Value::Boolean(true),
                    Value::Boolean(true),
                    ago(7200.0),
                    ago(-30.0 * 86400.0 + 7200.0),
                    Value::Int(2),
                ],
            ],
        )
    }

    #[test]
    fn active_sessions_by_default_with_key_prefixes_only() {
        let log = fake(vec![("FROM auth_sessions", Ok(answer()))]);
        let out = testing::call(&plugin(), "find_sessions", json!({})).unwrap();
        let (statement, params) = log.borrow()[0].clone();
        assert!(
            statement.contains("left(s.session_key, 8) AS key_prefix"),
            "{statement}"
        );
        assert!(
            !statement
                .replace("left(s.session_key, 8)", "")
                .contains("session_key"),
            "the whole key is never selected"
        );
        assert!(
            statement.contains("WHERE s.expires_at > (now() AT TIME ZONE 'UTC')"),
            "{statement}"
        );
        assert_eq!(params, vec![Value::Int(50)]);
        let text = out.text_content();
        assert!(text.starts_with("2 active sessions, newest first. Keys are shown as their first 8 characters only.\nkey        status  user       admin  created (UTC)"), "{text}");
        assert!(
            text.contains("\n67e1dccc…  active  bob (2)    no     "),
            "{text}"
        );
        assert!(
            text.contains("(20m ago)") && text.contains("(in 29d 23h)"),
            "{text}"
        );
        assert_eq!(
            out.structured().unwrap()["sessions"][1]["key_prefix"],
            "f62b922a"
        );
    }

    #[test]
    fn filters_by_user_and_can_include_expired() {
        let log = fake(vec![("FROM auth_sessions", Ok(answer()))]);
        testing::call(
            &plugin(),
            "find_sessions",
            json!({"user_id": 1, "username": "Alice", "active_only": false, "limit": 5}),
        )
        .unwrap();
        let (statement, params) = log.borrow()[0].clone();
        assert!(
            statement
                .contains("WHERE s.user_id = $1::int8 AND lower(s.username) = lower($2::text)\n"),
            "{statement}"
        );
        assert!(!statement.contains("s.expires_at >  (now()"), "{statement}");
        assert_eq!(params, vec![Value::Int(1), t("Alice"), Value::Int(5)]);
    }

    #[test]
    fn none_found_says_how_to_widen() {
        fake(vec![(
            "FROM auth_sessions",
            Ok(rows(&[("key_prefix", "text")], vec![])),
        )]);
        let out = testing::call(&plugin(), "find_sessions", json!({"user_id": 4})).unwrap();
        assert_eq!(
            out.text_content(),
            "No active sessions of user id 4 (active_only: false also shows expired ones)."
        );
    }
}
