//! `find_user`: a Plue account by id, username or email, with what it owns
//! (repositories, through `repositories.user_id` and `is_public`), its recent
//! sessions (key prefixes only) and its API tokens (name and last eight
//! characters only; the hash is never read).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use crate::db::{self, Counted, NOW_UTC, Params};
use crate::format;
use crate::tools::sessions::{self, SessionOut};

/// Arguments of `find_user`. Give one of `id`, `username`, `email` (checked in that order).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FindUserArgs {
    /// Exact, else substring; case-insensitive.
    #[serde(default)]
    pub username: Option<String>,
    /// Exact, else substring; case-insensitive.
    #[serde(default)]
    pub email: Option<String>,
    /// Wins over `username` and `email`.
    #[serde(default)]
    pub id: Option<i64>,
    /// Repositories, sessions, tokens or matches.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

fn default_limit() -> u32 {
    10
}

// A user in structured content.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct UserOut {
    pub id: i64,
    // The username.
    pub username: String,
    // The display name.
    pub display_name: Option<String>,
    /// Null for wallet-only accounts.
    pub email: Option<String>,
    // The Ethereum address used for sign-in.
    pub wallet_address: Option<String>,
    // The profile text.
    pub bio: Option<String>,
    // Whether the account is active.
    pub is_active: bool,
    // Whether the user is an administrator.
    pub is_admin: bool,
    // Whether sign-in is forbidden.
    pub prohibit_login: bool,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// Null if never.
    pub last_login_at: Option<String>,
}

// A repository the user owns.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct OwnedRepo {
    pub id: i64,
    // Its name.
    pub name: String,
    // Public (true) or private (false).
    pub is_public: Option<bool>,
    // The default branch.
    pub default_branch: Option<String>,
    // The description.
    pub description: Option<String>,
    pub created_at: Option<String>,
}

// An API token: never the token or its hash, only what Plue shows.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct TokenOut {
    // The token's name.
    pub name: String,
    // The last eight characters of the token, as Plue stores them for recognition.
    pub last_eight: String,
    // Comma-separated scopes.
    pub scopes: Option<String>,
    pub created_at: Option<String>,
    /// Null if never.
    pub last_used_at: Option<String>,
}

/// What `find_user` returns as structured content.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct FindUserOutput {
    // The user, when exactly one matched.
    pub user: Option<UserOut>,
    // Repositories the user owns, by name.
    pub repositories: Vec<OwnedRepo>,
    // How many repositories the user owns.
    pub repository_count: i64,
    // The user's most recent sessions (key prefixes only).
    pub sessions: Vec<SessionOut>,
    // How many sessions the user has, active or expired.
    pub session_count: i64,
    // How many of them are active.
    pub active_session_count: i64,
    // The user's API tokens.
    pub access_tokens: Vec<TokenOut>,
    // When several users matched: the matches, by username.
    pub matches: Vec<UserOut>,
    // How many users matched.
    pub match_count: i64,
}

#[derive(Deserialize)]
struct SessionRow {
    #[serde(flatten)]
    session: SessionOut,
    total: i64,
    active_total: i64,
}

fn user_columns() -> String {
    format!(
        "u.id::int8 AS id, u.username::text AS username, u.display_name::text AS display_name, u.email::text AS email,
         u.wallet_address::text AS wallet_address, u.bio AS bio, u.is_active, u.is_admin, u.prohibit_login,
         {} AS created_at, {} AS updated_at, {} AS last_login_at, count(*) OVER ()::int8 AS total",
        db::utc("u.created_at"),
        db::utc("u.updated_at"),
        db::utc("u.last_login_at")
    )
}

/// Look up users by `condition` (with `p` holding its parameters).
fn users(condition: &str, mut p: Params, limit: u32) -> Result<(Vec<UserOut>, i64), ToolError> {
    let limit = p.bind(i64::from(limit));
    let statement = format!(
        "SELECT {} FROM users u WHERE {condition} ORDER BY u.username LIMIT {limit}",
        user_columns()
    );
    let rows: Vec<Counted<UserOut>> = db::run("the users", &statement, &p)?.to_structs()?;
    let total = rows.first().map_or(0, |r| r.total);
    Ok((rows.into_iter().map(|r| r.item).collect(), total))
}

/// Exact (case-insensitive) match on `column`, else a literal substring match.
fn by_text(column: &str, value: &str, limit: u32) -> Result<(Vec<UserOut>, i64, bool), ToolError> {
    let mut p = Params::default();
    let condition = format!("lower(u.{column}) = lower({}::text)", p.bind(value));
    let (found, total) = users(&condition, p, limit)?;
    if !found.is_empty() {
        return Ok((found, total, true));
    }
    let mut p = Params::default();
    let condition = format!(
        r"u.{column} ILIKE {}::text ESCAPE '\'",
        p.bind(db::contains_pattern(value))
    );
    let (found, total) = users(&condition, p, limit)?;
    Ok((found, total, false))
}

/// Find a user.
pub fn run(args: FindUserArgs) -> Result<Answer<FindUserOutput>, ToolError> {
    let limit = args.limit.clamp(1, 100);
    let text_arg = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (what, found, total, exact) = if let Some(id) = args.id {
        let mut p = Params::default();
        let condition = format!("u.id = {}::int8", p.bind(id));
        let (found, total) = users(&condition, p, limit)?;
        (format!("id {id}"), found, total, true)
    } else if let Some(name) = text_arg(&args.username) {
        let (found, total, exact) = by_text("username", &name, limit)?;
        (format!("username `{name}`"), found, total, exact)
    } else if let Some(email) = text_arg(&args.email) {
        let (found, total, exact) = by_text("email", &email, limit)?;
        (format!("email `{email}`"), found, total, exact)
    } else {
        return Err(ToolError::invalid(
            "give one of `id`, `username` or `email`",
        ));
    };

    if found.is_empty() {
        let out = FindUserOutput::default();
        return Ok(Answer::new(
            format!("No user with {what} (nor one containing it)."),
            out,
        ));
    }
    if total > 1 {
        let text = matches_text(&found, total, &what);
        let out = FindUserOutput {
            match_count: total,
            matches: found,
            ..Default::default()
        };
        return Ok(Answer::new(text, out));
    }
    let user = found.into_iter().next().expect("one user");
    let out = details(user, limit)?;
    let mut text = user_text(&out);
    if !exact {
        text = format!("No exact match for {what}; the only user containing it:\n\n{text}");
    }
    Ok(Answer::new(text, out))
}

fn details(user: UserOut, limit: u32) -> Result<FindUserOutput, ToolError> {
    let mut p = Params::default();
    let id = p.bind(user.id);
    let lim = p.bind(i64::from(limit));
    let repos: Vec<Counted<OwnedRepo>> = db::run(
        "the user's repositories",
        &format!(
            "SELECT r.id::int8 AS id, r.name::text AS name, r.is_public, r.default_branch::text AS default_branch,
                    r.description, {} AS created_at, count(*) OVER ()::int8 AS total
             FROM repositories r WHERE r.user_id = {id}::int8 ORDER BY r.name LIMIT {lim}",
            db::utc("r.created_at")
        ),
        &p,
    )?
    .to_structs()?;
    let sessions: Vec<SessionRow> = db::run(
        "the user's sessions",
        &format!(
            "SELECT {}, count(*) OVER ()::int8 AS total,
                    (count(*) FILTER (WHERE s.expires_at > {NOW_UTC}) OVER ())::int8 AS active_total
             FROM auth_sessions s WHERE s.user_id = {id}::int8
             ORDER BY s.created_at DESC NULLS LAST LIMIT {lim}",
            sessions::session_columns()
        ),
        &p,
    )?
    .to_structs()?;
    let tokens: Vec<TokenOut> = db::run(
        "the user's access tokens",
        &format!(
            "SELECT t.name::text AS name, t.token_last_eight::text AS last_eight, t.scopes::text AS scopes,
                    {} AS created_at, {} AS last_used_at
             FROM access_tokens t WHERE t.user_id = {id}::int8 ORDER BY t.created_at DESC LIMIT {lim}",
            db::utc("t.created_at"),
            db::utc("t.last_used_at")
        ),
        &p,
    )?
    .to_structs()?;
    Ok(FindUserOutput {
        repository_count: repos.first().map_or(0, |r| r.total),
        repositories: repos.into_iter().map(|r| r.item).collect(),
        session_count: sessions.first().map_or(0, |s| s.total),
        active_session_count: sessions.first().map_or(0, |s| s.active_total),
        sessions: sessions.into_iter().map(|s| s.session).collect(),
        access_tokens: tokens,
        user: Some(user),
        matches: Vec::new(),
        match_count: 1,
    })
}

fn matches_text(found: &[UserOut], total: i64, what: &str) -> String {
    let now = plue_plugin_sdk::time::now();
    let headers = [
        "id",
        "username",
        "display name",
        "email",
        "active",
        "admin",
        "created (UTC)",
    ];
    let cells: Vec<Vec<String>> = found
        .iter()
        .map(|u| {
            vec![
                u.id.to_string(),
                u.username.clone(),
                format::or_dash(u.display_name.as_deref()),
                format::or_dash(u.email.as_deref()),
                yes_no(u.is_active),
                yes_no(u.is_admin),
                format::when(u.created_at.as_deref(), now),
            ]
        })
        .collect();
    let mut out = format!(
        "{total} users match {what}; pass `id` to see one in full.\n{}",
        text::table(&headers, &cells, 50)
    );
    if (found.len() as i64) < total {
        out.push_str(&format!(
            "\n\n{}",
            text::cut_note(
                found.len(),
                total as usize,
                "users",
                "give a longer name or raise limit"
            )
        ));
    }
    out
}

fn user_text(out: &FindUserOutput) -> String {
    let now = plue_plugin_sdk::time::now();
    let Some(u) = &out.user else {
        return String::new();
    };
    let mut lines = vec![match &u.display_name {
        Some(d) if !d.is_empty() => format!("User {} (id {}) — {d}", u.username, u.id),
        _ => format!("User {} (id {})", u.username, u.id),
    }];
    let mut status = vec![if u.is_active { "active" } else { "inactive" }];
    if u.is_admin {
        status.push("admin");
    }
    if u.prohibit_login {
        status.push("login prohibited");
    }
    lines.push(format!("Status: {}", status.join(", ")));
    lines.push(format!(
        "Email: {}",
        u.email.as_deref().unwrap_or("none (wallet-only account)")
    ));
    if let Some(w) = &u.wallet_address {
        lines.push(format!("Wallet: {w}"));
    }
    lines.push(format!(
        "Created: {}",
        format::when(u.created_at.as_deref(), now)
    ));
    lines.push(format!(
        "Last login: {}",
        format::when(u.last_login_at.as_deref(), now)
    ));
    if let Some(bio) = u.bio.as_deref().filter(|b| !b.is_empty()) {
        lines.push(format!("Bio: {}", text::truncate_chars(bio, 300).0));
    }
    let mut sections = vec![lines.join("\n")];

    if out.repositories.is_empty() {
        sections.push("Repositories: none.".into());
    } else {
        let repo_lines: Vec<String> = out
            .repositories
            .iter()
            .map(|r| {
                let visibility = match r.is_public {
                    Some(false) => "private",
                    _ => "public",
                };
                let desc = r
                    .description
                    .as_deref()
                    .map(|d| format!(" — {}", text::truncate_chars(d, 80).0))
                    .unwrap_or_default();
                format!(
                    "  {}/{} (id {}) {visibility}, default branch {}{desc}",
                    u.username,
                    r.name,
                    r.id,
                    r.default_branch.as_deref().unwrap_or("-")
                )
            })
            .collect();
        sections.push(format!(
            "Repositories ({}):\n{}{}",
            out.repository_count,
            repo_lines.join("\n"),
            more(out.repositories.len(), out.repository_count)
        ));
    }

    if out.sessions.is_empty() {
        sections.push("Sessions: none.".into());
    } else {
        let cells: Vec<Vec<String>> = out
            .sessions
            .iter()
            .map(|s| sessions::session_cells(s, now))
            .collect();
        let headers = [
            "key",
            "status",
            "user",
            "admin",
            "created (UTC)",
            "expires (UTC)",
        ];
        sections.push(format!(
            "Sessions ({}, {} active; newest first, keys shown as their first {} characters):\n{}{}",
            out.session_count,
            out.active_session_count,
            format::SECRET_PREFIX,
            text::table(&headers, &cells, 60),
            more(out.sessions.len(), out.session_count)
        ));
    }

    if !out.access_tokens.is_empty() {
        let token_lines: Vec<String> = out
            .access_tokens
            .iter()
            .map(|t| {
                let used = match &t.last_used_at {
                    Some(ts) => format!("last used {}", format::when(Some(ts), now)),
                    None => "never used".into(),
                };
                format!(
                    "  {} (…{}) scopes {}; created {}; {used}",
                    t.name,
                    t.last_eight,
                    t.scopes.as_deref().unwrap_or("-"),
                    format::when(t.created_at.as_deref(), now)
                )
            })
            .collect();
        sections.push(format!(
            "API tokens ({}; only their last eight characters are stored):\n{}",
            out.access_tokens.len(),
            token_lines.join("\n")
        ));
    }
    sections.join("\n\n")
}

fn more(shown: usize, total: i64) -> String {
    if (shown as i64) < total {
        format!(
            "\n  … {} more (raise limit to list them)",
            total - shown as i64
        )
    } else {
        String::new()
    }
}

fn yes_no(b: bool) -> String {
    if b { "yes".into() } else { "no".into() }
}

pub fn def() -> ToolDef {
    tool(
        "find_user",
        "A Plue user by id, username or email, with repositories, sessions and tokens.",
        run,
    )
    .title("Find a user")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::{Rows, SqlError, Value};
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{ago, fake, rows, t};

    use super::*;

    const USER_COLS: [(&str, &str); 13] = [
        ("id", "int8"),
        ("username", "text"),
        ("display_name", "text"),
        ("email", "text"),
        ("wallet_address", "text"),
        ("bio", "text"),
        ("is_active", "bool"),
        ("is_admin", "bool"),
        ("prohibit_login", "bool"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("last_login_at", "timestamptz"),
        ("total", "int8"),
    ];

    fn user(id: i64, name: &str, total: i64) -> Vec<Value> {
        let b = Value::Boolean;
        vec![
            Value::Int(id),
            t(name),
            Value::Null,
            t(&format!("{name}@example.com")),
            Value::Null,
            Value::Null,
            b(true),
            b(false),
            b(false),
            ago(20.0 * 86400.0),
            ago(3600.0),
            Value::Null,
            Value::Int(total),
        ]
    }

    fn empty() -> Result<Rows, SqlError> {
        Ok(rows(&[("total", "int8")], vec![]))
    }

    #[test]
    fn an_exact_username_shows_the_user_with_repos_sessions_and_tokens() {
        let log = fake(vec![
            (
                "FROM users u WHERE lower(u.username)",
                Ok(rows(&USER_COLS, vec![user(2, "bob", 1)])),
            ),
            (
                "FROM repositories r",
                Ok(rows(
                    &[
                        ("id", "int8"),
                        ("name", "text"),
                        ("is_public", "bool"),
                        ("default_branch", "text"),
                        ("description", "text"),
                        ("created_at", "timestamptz"),
                        ("total", "int8"),
                    ],
                    vec![
                        vec![
                            Value::Int(3),
                            t("dotfiles"),
                            Value::Boolean(true),
                            t("master"),
                            t("My shell setup"),
                            ago(60.0 * 86400.0),
                            Value::Int(2),
                        ],
                        vec![
                            Value::Int(4),
                            t("private-notes"),
                            Value::Boolean(false),
                            t("main"),
                            Value::Null,
                            ago(36000.0),
                            Value::Int(2),
                        ],
                    ],
                )),
            ),
            (
                "FROM auth_sessions s",
                Ok(rows(
                    &[
                        ("key_prefix", "text"),
                        ("user_id", "int8"),
                        ("username", "text"),
                        ("is_admin", "bool"),
                        ("active", "bool"),
                        ("created_at", "timestamptz"),
                        ("expires_at", "timestamptz"),
                        ("total", "int8"),
                        ("active_total", "int8"),
                    ],
                    vec![vec![
                        t("67e1dccc"),
                        Value::Int(2),
                        t("bob"),
                        Value::Boolean(false),
                        Value::Boolean(true),
                        ago(1200.0),
                        ago(-86400.0 * 29.0),
                        Value::Int(2),
                        Value::Int(1),
                    ]],
                )),
            ),
            (
                "FROM access_tokens t",
                Ok(rows(
                    &[
                        ("name", "text"),
                        ("last_eight", "text"),
                        ("scopes", "text"),
                        ("created_at", "timestamptz"),
                        ("last_used_at", "timestamptz"),
                    ],
                    vec![vec![
                        t("laptop-cli"),
                        t("0b7d22aa"),
                        t("all"),
                        ago(10.0 * 86400.0),
                        Value::Null,
                    ]],
                )),
            ),
        ]);
        let out = testing::call(
            &plugin(),
            "find_user",
            json!({"username": "BOB", "limit": 1}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with("User bob (id 2)\nStatus: active\nEmail: bob@example.com\nCreated: "),
            "{text}"
        );
        assert!(text.contains("(20d ago)\nLast login: never"), "{text}");
        assert!(text.contains("Repositories (2):\n  bob/dotfiles (id 3) public, default branch master — My shell setup\n  bob/private-notes (id 4) private"), "{text}");
        assert!(
            text.contains(
                "Sessions (2, 1 active; newest first, keys shown as their first 8 characters):"
            ),
            "{text}"
        );
        assert!(text.contains("67e1dccc…  active"), "{text}");
        assert!(
            text.contains("  … 1 more (raise limit to list them)"),
            "{text}"
        );
        assert!(
            text.contains("laptop-cli (…0b7d22aa) scopes all; created"),
            "{text}"
        );
        assert_eq!(log.borrow()[0].1, vec![t("BOB"), Value::Int(1)]);
        assert!(log.borrow().iter().all(|(s, _)| !s.contains("owner_id")
            && !s.contains("is_private")
            && !s.contains("token_hash")));
        let s = out.structured().unwrap();
        assert_eq!(s["user"]["username"], "bob");
        assert_eq!(s["repository_count"], 2);
        assert_eq!(s["repositories"][1]["is_public"], false);
        assert_eq!(s["active_session_count"], 1);
    }

    #[test]
    fn a_partial_username_is_matched_literally_and_lists_candidates() {
        let log = fake(vec![
            ("lower(u.username)", empty()),
            (
                "ILIKE",
                Ok(rows(
                    &USER_COLS,
                    vec![user(2, "bob", 2), user(10, "bob_smith", 2)],
                )),
            ),
        ]);
        let out = testing::call(&plugin(), "find_user", json!({"username": "bo"})).unwrap();
        assert_eq!(log.borrow()[1].1[0], t("%bo%"));
        let text = out.text_content();
        assert!(
            text.starts_with(
                "2 users match username `bo`; pass `id` to see one in full.\nid  username"
            ),
            "{text}"
        );
        assert_eq!(out.structured().unwrap()["match_count"], 2);

        let log = fake(vec![("lower(u.username)", empty()), ("ILIKE", empty())]);
        let out = testing::call(&plugin(), "find_user", json!({"username": "bob_smith_"})).unwrap();
        assert_eq!(log.borrow()[1].1[0], t(r"%bob\_smith\_%"));
        assert_eq!(
            out.text_content(),
            "No user with username `bob_smith_` (nor one containing it)."
        );
    }

    #[test]
    fn id_wins_and_nothing_given_is_an_argument_error() {
        let log = fake(vec![("u.id = $1::int8", empty())]);
        testing::call(&plugin(), "find_user", json!({"id": 99, "username": "bob"})).unwrap();
        assert_eq!(log.borrow()[0].1[0], Value::Int(99));
        let err = testing::call(&plugin(), "find_user", json!({})).unwrap_err();
        assert_eq!(
            err,
            ToolError::invalid("give one of `id`, `username` or `email`")
        );
    }
}
