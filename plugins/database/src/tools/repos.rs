//! `find_repository`: a repository by id or by owner and name (the owner is
//! `repositories.user_id`, visibility `is_public`, as in Plue's schema), with
//! its workflow definitions and recent workflow runs (reached through the
//! definitions: runs have no repository column).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;
use plue_plugin_sdk::text::count;

use crate::db::{self, Counted, Params};
use crate::format;

/// Arguments of `find_repository`. Give `id`, or `owner` and `name` (`name` may also be
/// `owner/name`); `name` alone lists the repositories of that name, `owner` alone that
/// user's repositories.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct FindRepositoryArgs {
    /// Username, case-insensitive.
    #[serde(default)]
    pub owner: Option<String>,
    /// Case-insensitive, or `owner/name`.
    #[serde(default)]
    pub name: Option<String>,
    /// Wins over `owner` and `name`.
    #[serde(default)]
    pub id: Option<i64>,
    /// Recent runs (or matching repositories).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

fn default_limit() -> u32 {
    10
}

// A repository in structured content.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
pub struct RepoOut {
    pub id: i64,
    pub owner: Option<String>,
    // The owner's user id (`repositories.user_id`).
    pub owner_id: Option<i64>,
    // The repository's name.
    pub name: String,
    // The description.
    pub description: Option<String>,
    // Public (true) or private (false).
    pub is_public: Option<bool>,
    // The default branch.
    pub default_branch: Option<String>,
    // Topics.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

// A workflow definition of the repository.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct WorkflowOut {
    // The definition's id.
    pub id: i64,
    // The workflow's name.
    pub name: String,
    // Its file, e.g. `.plue/workflows/ci.py`.
    pub file_path: String,
    // How many runs it has.
    pub runs: i64,
    pub last_run_at: Option<String>,
}

// A workflow run of the repository.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct RunOut {
    pub id: i64,
    // The workflow's name.
    pub workflow: String,
    // `pending`, `running`, `completed`, `failed`, `cancelled`.
    pub status: String,
    // What triggered it (`push`, `pull_request`, `manual`, …).
    pub trigger_type: String,
    pub created_at: Option<String>,
    /// Seconds from start to completion, when finished.
    pub duration_seconds: Option<f64>,
    // The first line of the error message, when there is one.
    pub error: Option<String>,
}

/// What `find_repository` returns as structured content.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct FindRepositoryOutput {
    // The repository, when exactly one matched.
    pub repository: Option<RepoOut>,
    // Its workflow definitions.
    pub workflows: Vec<WorkflowOut>,
    // Its most recent runs, newest first.
    pub recent_runs: Vec<RunOut>,
    // Runs of the repository by status, over all time.
    pub runs_by_status: Vec<StatusCount>,
    // When several repositories matched: the matches.
    pub matches: Vec<RepoOut>,
    // How many repositories matched.
    pub match_count: i64,
}

// How many runs have a status.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct StatusCount {
    // The status.
    pub status: String,
    // How many runs.
    pub count: i64,
}

/// Find a repository.
pub fn run(args: FindRepositoryArgs) -> Result<Answer<FindRepositoryOutput>, ToolError> {
    let limit = args.limit.clamp(1, 100);
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (mut owner, mut name) = (clean(&args.owner), clean(&args.name));
    if let Some((o, n)) = name.clone().as_deref().and_then(|n| n.split_once('/'))
        && (owner.is_none() || owner.as_deref() == Some(o))
    {
        owner = Some(o.to_string());
        name = Some(n.to_string());
    }
    let mut p = Params::default();
    let (condition, what) = match (args.id, &owner, &name) {
        (Some(id), _, _) => (format!("r.id = {}::int8", p.bind(id)), format!("id {id}")),
        (None, Some(o), Some(n)) => (
            format!(
                "lower(u.username) = lower({}::text) AND lower(r.name) = lower({}::text)",
                p.bind(o.as_str()),
                p.bind(n.as_str())
            ),
            format!("{o}/{n}"),
        ),
        (None, None, Some(n)) => (
            format!("lower(r.name) = lower({}::text)", p.bind(n.as_str())),
            format!("name `{n}`"),
        ),
        (None, Some(o), None) => (
            format!("lower(u.username) = lower({}::text)", p.bind(o.as_str())),
            format!("owner `{o}`"),
        ),
        (None, None, None) => {
            return Err(ToolError::invalid(
                "give `id`, or `owner` and `name` (or `name` as owner/name)",
            ));
        }
    };
    let lim = p.bind(i64::from(limit));
    let statement = format!(
        "SELECT r.id::int8 AS id, u.username::text AS owner, r.user_id::int8 AS owner_id, r.name::text AS name,
                r.description, r.is_public, r.default_branch::text AS default_branch, r.topics::text[] AS topics,
                {} AS created_at, {} AS updated_at, count(*) OVER ()::int8 AS total
         FROM repositories r LEFT JOIN users u ON u.id = r.user_id
         WHERE {condition}
         ORDER BY u.username, r.name LIMIT {lim}",
        db::utc("r.created_at"),
        db::utc("r.updated_at")
    );
    let found: Vec<Counted<RepoOut>> = db::run("the repositories", &statement, &p)?.to_structs()?;
    let total = found.first().map_or(0, |r| r.total);
    let mut repos: Vec<RepoOut> = found.into_iter().map(|r| r.item).collect();
    let single_lookup = args.id.is_some() || (owner.is_some() && name.is_some());

    if repos.is_empty() {
        let hint = if single_lookup {
            "; find_repository with `owner` alone lists a user's repositories"
        } else {
            ""
        };
        return Ok(Answer::new(
            format!("No repository with {what}{hint}."),
            FindRepositoryOutput::default(),
        ));
    }
    if total > 1 || (!single_lookup && owner.is_some()) {
        let text = matches_text(&repos, total, &what);
        return Ok(Answer::new(
            text,
            FindRepositoryOutput {
                match_count: total,
                matches: repos,
                ..Default::default()
            },
        ));
    }
    let repo = repos.remove(0);
    let out = details(repo, limit)?;
    Ok(Answer::new(repo_text(&out), out))
}

fn details(repo: RepoOut, limit: u32) -> Result<FindRepositoryOutput, ToolError> {
    let mut p = Params::default();
    let id = p.bind(repo.id);
    let workflows: Vec<WorkflowOut> = db::run(
        "the repository's workflows",
        &format!(
            "SELECT d.id::int8 AS id, d.name::text AS name, d.file_path::text AS file_path,
                    count(wr.id)::int8 AS runs, {} AS last_run_at
             FROM workflow_definitions d LEFT JOIN workflow_runs wr ON wr.workflow_definition_id = d.id
             WHERE d.repository_id = {id}::int8
             GROUP BY d.id ORDER BY d.name",
            db::utc("max(wr.created_at)")
        ),
        &p,
    )?
    .to_structs()?;
    let by_status: Vec<StatusCount> = db::run(
        "the repository's runs by status",
        &format!(
            "SELECT wr.status::text AS status, count(*)::int8 AS count
             FROM workflow_runs wr JOIN workflow_definitions d ON d.id = wr.workflow_definition_id
             WHERE d.repository_id = {id}::int8
             GROUP BY wr.status ORDER BY count(*) DESC, wr.status"
        ),
        &p,
    )?
    .to_structs()?;
    let lim = p.bind(i64::from(limit));
    let runs: Vec<RunOut> = db::run(
        "the repository's recent runs",
        &format!(
            "SELECT wr.id::int8 AS id, d.name::text AS workflow, wr.status::text AS status,
                    wr.trigger_type::text AS trigger_type, {} AS created_at,
                    extract(epoch FROM wr.completed_at - wr.started_at)::float8 AS duration_seconds,
                    split_part(wr.error_message, E'\\n', 1) AS error
             FROM workflow_runs wr JOIN workflow_definitions d ON d.id = wr.workflow_definition_id
             WHERE d.repository_id = {id}::int8
             ORDER BY wr.created_at DESC NULLS LAST, wr.id DESC LIMIT {lim}",
            db::utc("wr.created_at")
        ),
        &p,
    )?
    .to_structs()?;
    Ok(FindRepositoryOutput {
        repository: Some(repo),
        workflows,
        recent_runs: runs,
        runs_by_status: by_status,
        matches: Vec::new(),
        match_count: 1,
    })
}

fn full_name(r: &RepoOut) -> String {
    match &r.owner {
        Some(o) => format!("{o}/{}", r.name),
        None => format!(
            "(owner {})/{}",
            r.owner_id.map_or_else(|| "?".into(), |i| i.to_string()),
            r.name
        ),
    }
}

fn visibility(r: &RepoOut) -> &'static str {
    if r.is_public == Some(false) {
        "private"
    } else {
        "public"
    }
}

fn matches_text(repos: &[RepoOut], total: i64, what: &str) -> String {
    let now = plue_plugin_sdk::time::now();
    let headers = [
        "id",
        "repository",
        "visibility",
        "default branch",
        "created (UTC)",
        "description",
    ];
    let cells: Vec<Vec<String>> = repos
        .iter()
        .map(|r| {
            vec![
                r.id.to_string(),
                full_name(r),
                visibility(r).into(),
                format::or_dash(r.default_branch.as_deref()),
                format::when(r.created_at.as_deref(), now),
                format::or_dash(r.description.as_deref()),
            ]
        })
        .collect();
    let mut out = format!(
        "{total} {} with {what}; pass `id` (or owner and name) for workflows and runs.\n{}",
        if total == 1 {
            "repository"
        } else {
            "repositories"
        },
        text::table(&headers, &cells, 50)
    );
    if (repos.len() as i64) < total {
        out.push_str(&format!(
            "\n\n{}",
            text::cut_note(repos.len(), total as usize, "repositories", "raise limit")
        ));
    }
    out
}

fn repo_text(out: &FindRepositoryOutput) -> String {
    let now = plue_plugin_sdk::time::now();
    let Some(r) = &out.repository else {
        return String::new();
    };
    let mut head = vec![format!(
        "Repository {} (id {}), {}",
        full_name(r),
        r.id,
        visibility(r)
    )];
    if let Some(d) = r.description.as_deref().filter(|d| !d.is_empty()) {
        head.push(format!("Description: {}", text::truncate_chars(d, 300).0));
    }
    head.push(format!(
        "Default branch: {}",
        format::or_dash(r.default_branch.as_deref())
    ));
    if let Some(topics) = r.topics.as_ref().filter(|t| !t.is_empty()) {
        head.push(format!("Topics: {}", topics.join(", ")));
    }
    head.push(format!(
        "Created: {}",
        format::when(r.created_at.as_deref(), now)
    ));
    head.push(format!(
        "Updated: {}",
        format::when(r.updated_at.as_deref(), now)
    ));
    let mut sections = vec![head.join("\n")];

    if out.workflows.is_empty() {
        sections.push("Workflows: none.".into());
    } else {
        let lines: Vec<String> = out
            .workflows
            .iter()
            .map(|w| {
                let last = w
                    .last_run_at
                    .as_deref()
                    .map(|t| format!(", last {}", format::when(Some(t), now)))
                    .unwrap_or_default();
                format!(
                    "  {} (id {}, {}): {}{last}",
                    w.name,
                    w.id,
                    w.file_path,
                    count(w.runs, "run")
                )
            })
            .collect();
        sections.push(format!(
            "Workflows ({}):\n{}",
            out.workflows.len(),
            lines.join("\n")
        ));
    }

    let run_total: i64 = out.runs_by_status.iter().map(|s| s.count).sum();
    if run_total == 0 {
        sections.push("Runs: none.".into());
    } else {
        let counts: Vec<String> = out
            .runs_by_status
            .iter()
            .map(|s| format!("{} {}", s.count, s.status))
            .collect();
        let headers = [
            "run",
            "workflow",
            "status",
            "trigger",
            "created (UTC)",
            "duration",
            "error",
        ];
        let cells: Vec<Vec<String>> = out
            .recent_runs
            .iter()
            .map(|run| {
                vec![
                    format!("#{}", run.id),
                    run.workflow.clone(),
                    run.status.clone(),
                    run.trigger_type.clone(),
                    format::when(run.created_at.as_deref(), now),
                    format::duration(run.duration_seconds),
                    format::or_dash(run.error.as_deref()),
                ]
            })
            .collect();
        let mut section = format!(
            "Runs: {run_total} ({}). Most recent first:\n{}",
            counts.join(", "),
            text::table(&headers, &cells, 50)
        );
        if (out.recent_runs.len() as i64) < run_total {
            section.push_str(&format!(
                "\n{} left out; raise limit, or use the workflows tools for run details.",
                count(run_total - out.recent_runs.len() as i64, "older run")
            ));
        }
        sections.push(section);
    }
    sections.join("\n\n")
}

pub fn def() -> ToolDef {
    tool(
        "find_repository",
        "A repository by id or owner/name, with workflows and recent runs.",
        run,
    )
    .title("Find a repository")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::{Element, Rows, Value};
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{ago, fake, rows, t};

    use super::*;

    const REPO_COLS: [(&str, &str); 11] = [
        ("id", "int8"),
        ("owner", "text"),
        ("owner_id", "int8"),
        ("name", "text"),
        ("description", "text"),
        ("is_public", "bool"),
        ("default_branch", "text"),
        ("topics", "_text"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("total", "int8"),
    ];

    fn repo(id: i64, owner: &str, name: &str, public: bool, total: i64) -> Vec<Value> {
        vec![
            Value::Int(id),
            t(owner),
            Value::Int(1),
            t(name),
            t("The Plue platform"),
            Value::Boolean(public),
            t("main"),
            Value::Array(vec![
                Element::Text("jj".into()),
                Element::Text("forge".into()),
            ]),
            ago(300.0 * 86400.0),
            ago(1500.0),
            Value::Int(total),
        ]
    }

    fn detail_answers(
        repo_rows: Rows,
    ) -> Vec<(&'static str, Result<Rows, plue_plugin_sdk::sql::SqlError>)> {
        vec![
            ("FROM repositories r", Ok(repo_rows)),
            (
                "GROUP BY d.id",
                Ok(rows(
                    &[
                        ("id", "int8"),
                        ("name", "text"),
                        ("file_path", "text"),
                        ("runs", "int8"),
                        ("last_run_at", "timestamptz"),
                    ],
                    vec![
                        vec![
                            Value::Int(1),
                            t("ci"),
                            t(".plue/workflows/ci.py"),
                            Value::Int(9),
                            ago(300.0),
                        ],
                        vec![
                            Value::Int(2),
                            t("code-review"),
                            t(".plue/workflows/code_review.py"),
                            Value::Int(2),
                            ago(600.0),
                        ],
                    ],
                )),
            ),
            (
                "GROUP BY wr.status",
                Ok(rows(
                    &[("status", "text"), ("count", "int8")],
                    vec![
                        vec![t("completed"), Value::Int(6)],
                        vec![t("failed"), Value::Int(5)],
                    ],
                )),
            ),
            (
                "ORDER BY wr.created_at DESC",
                Ok(rows(
                    &[
                        ("id", "int8"),
                        ("workflow", "text"),
                        ("status", "text"),
                        ("trigger_type", "text"),
                        ("created_at", "timestamptz"),
                        ("duration_seconds", "float8"),
                        ("error", "text"),
                    ],
                    vec![
                        vec![
                            Value::Int(14),
                            t("ci"),
                            t("pending"),
                            t("push"),
                            ago(300.0),
                            Value::Null,
                            Value::Null,
                        ],
                        vec![
                            Value::Int(6),
                            t("ci"),
                            t("failed"),
                            t("push"),
                            ago(1500.0),
                            Value::Float(85.0),
                            Value::Null,
                        ],
                    ],
                )),
            ),
        ]
    }

    #[test]
    fn owner_and_name_show_workflows_and_runs() {
        let log = fake(detail_answers(rows(
            &REPO_COLS,
            vec![repo(1, "alice", "plue", true, 1)],
        )));
        let out = testing::call(
            &plugin(),
            "find_repository",
            json!({"owner": "alice", "name": "plue", "limit": 2}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.starts_with("Repository alice/plue (id 1), public\nDescription: The Plue platform\nDefault branch: main\nTopics: jj, forge\nCreated: "), "{text}");
        assert!(
            text.contains("Workflows (2):\n  ci (id 1, .plue/workflows/ci.py): 9 runs, last "),
            "{text}"
        );
        assert!(
            text.contains("Runs: 11 (6 completed, 5 failed). Most recent first:\nrun  workflow"),
            "{text}"
        );
        assert!(
            text.contains("\n#6   ci        failed   push     "),
            "{text}"
        );
        assert!(text.contains("1m 25s"), "{text}");
        assert!(text.contains("9 older runs left out"), "{text}");
        let (statement, params) = log.borrow()[0].clone();
        assert!(
            statement.contains("LEFT JOIN users u ON u.id = r.user_id")
                && statement.contains("r.is_public"),
            "{statement}"
        );
        assert_eq!(params, vec![t("alice"), t("plue"), Value::Int(2)]);
        let s = out.structured().unwrap();
        assert_eq!(s["repository"]["topics"], json!(["jj", "forge"]));
        assert_eq!(s["recent_runs"][1]["duration_seconds"], 85.0);
    }

    #[test]
    fn owner_slash_name_in_name_is_split() {
        let log = fake(detail_answers(rows(
            &REPO_COLS,
            vec![repo(2, "alice", "secret-infra", false, 1)],
        )));
        let out = testing::call(
            &plugin(),
            "find_repository",
            json!({"name": "alice/secret-infra"}),
        )
        .unwrap();
        assert_eq!(
            log.borrow()[0].1,
            vec![t("alice"), t("secret-infra"), Value::Int(10)]
        );
        assert!(
            out.text_content()
                .starts_with("Repository alice/secret-infra (id 2), private")
        );
    }

    #[test]
    fn an_owner_alone_lists_repositories() {
        fake(vec![(
            "FROM repositories r",
            Ok(rows(
                &REPO_COLS,
                vec![
                    repo(1, "alice", "plue", true, 2),
                    repo(2, "alice", "secret-infra", false, 2),
                ],
            )),
        )]);
        let out = testing::call(&plugin(), "find_repository", json!({"owner": "alice"})).unwrap();
        let text = out.text_content();
        assert!(
            text.starts_with("2 repositories with owner `alice`; pass `id`"),
            "{text}"
        );
        assert!(text.contains("alice/secret-infra  private"), "{text}");
        assert_eq!(out.structured().unwrap()["match_count"], 2);
    }

    #[test]
    fn missing_repositories_and_arguments() {
        fake(vec![("FROM repositories r", Ok(rows(&REPO_COLS, vec![])))]);
        let out = testing::call(&plugin(), "find_repository", json!({"id": 42})).unwrap();
        assert_eq!(
            out.text_content(),
            "No repository with id 42; find_repository with `owner` alone lists a user's repositories."
        );
        let err = testing::call(&plugin(), "find_repository", json!({})).unwrap_err();
        assert!(err.to_string().contains("give `id`, or `owner` and `name`"));
    }
}
