//! Every SQL statement of the workflows tools, with the row types they return.
//!
//! Rules kept by all of them: one read-only statement each; user input only as
//! typed parameters (`$1::bigint`, `$2::text`, `$3::float8`, never NULL: an
//! absent filter is `''` or `0`); Plue's `TIMESTAMP` columns are UTC, and "now"
//! is the database's (`now() AT TIME ZONE 'UTC'`, returned as `now_utc`);
//! durations and ages are computed in SQL as `float8` seconds; long text is
//! cut in SQL (`left(…)`) so one huge log row cannot flood an answer.
//! Column names follow Plue's real schema (`runner_pool.claimed_by_step_id`,
//! `repositories.user_id`); a run reaches its repository through its definition.

use plue_plugin_sdk::ToolError;
use plue_plugin_sdk::sql::{self, SqlError, Value};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;

use crate::logs::LogRow;
use crate::status::Status;

/// The database the plugin asks for.
pub const DB: &str = "plue";

/// Rows of one statement, and whether the host's row cap cut them.
pub struct Fetched<T> {
    pub rows: Vec<T>,
    pub truncated: bool,
}

/// Run `statement` and read its rows as `T`; `what` names it in errors.
pub fn fetch<T: DeserializeOwned>(
    what: &str,
    statement: &str,
    params: &[Value],
) -> Result<Fetched<T>, ToolError> {
    let rows = sql::query(DB, statement, params).map_err(|e| failed(what, &e))?;
    Ok(Fetched {
        truncated: rows.truncated,
        rows: rows.to_structs()?,
    })
}

/// Like [`fetch`], for statements that return at most one row.
pub fn fetch_one<T: DeserializeOwned>(
    what: &str,
    statement: &str,
    params: &[Value],
) -> Result<Option<T>, ToolError> {
    Ok(fetch(what, statement, params)?.rows.into_iter().next())
}

/// Like [`fetch_one`], but `None` when a table the statement reads does not
/// exist (an optional part of Plue's schema).
pub fn fetch_optional_table<T: DeserializeOwned>(
    what: &str,
    statement: &str,
    params: &[Value],
) -> Result<Option<Vec<T>>, ToolError> {
    match sql::query(DB, statement, params) {
        Ok(rows) => Ok(Some(rows.to_structs()?)),
        Err(SqlError::Database(e)) if e.code == "42P01" || e.code == "42703" => Ok(None),
        Err(e) => Err(failed(what, &e)),
    }
}

fn failed(what: &str, e: &SqlError) -> ToolError {
    ToolError::failed(format!(
        "reading {what} from database `{DB}` failed: {}",
        e.describe()
    ))
}

/// Whether a table (looked up on the search path) exists.
pub fn table_exists(name: &str) -> Result<bool, ToolError> {
    #[derive(Deserialize)]
    struct Present {
        present: bool,
    }
    let row: Option<Present> = fetch_one(
        "the table list",
        "SELECT to_regclass($1::text) IS NOT NULL AS present",
        &[name.into()],
    )?;
    Ok(row.is_some_and(|r| r.present))
}

/// `owner/name` of a definition's repository (aliases `rp` and `u`).
const REPOSITORY: &str =
    "CASE WHEN rp.id IS NULL THEN NULL ELSE COALESCE(u.username || '/', '') || rp.name END";
/// Joins from runs `r` to definitions `w`, repositories `rp` and owners `u`.
const RUN_JOINS: &str = "LEFT JOIN workflow_definitions w ON w.id = r.workflow_definition_id
  LEFT JOIN repositories rp ON rp.id = w.repository_id
  LEFT JOIN users u ON u.id = rp.user_id";
/// The database's now, in UTC.
const NOW: &str = "(now() AT TIME ZONE 'UTC')";
/// A step counts as failed (Plue: status failed, or an error message, or a non-zero exit code).
const STEP_FAILED: &str =
    "(s.status = 'failed' OR COALESCE(s.exit_code, 0) <> 0 OR s.error_message IS NOT NULL)";
/// Filters on the workflow name (`$n` a LIKE pattern or '') and repository (`$m`, `owner/name`, `name` or '').
fn name_and_repo_filter(name: usize, repo: usize) -> String {
    format!(
        "(${name}::text = '' OR w.name ILIKE ${name}::text ESCAPE '!')
     AND (${repo}::text = '' OR lower(rp.name) = lower(${repo}::text)
          OR lower(COALESCE(u.username, '') || '/' || rp.name) = lower(${repo}::text))"
    )
}
/// `r.created_at` within the last `$n` hours.
fn window(n: usize) -> String {
    format!("r.created_at >= {NOW} - ${n}::float8 * interval '1 hour'")
}

/// Seconds from `alias.started_at` to its `completed_at`, or to now while it runs.
fn duration(alias: &str) -> String {
    format!(
        "EXTRACT(EPOCH FROM (COALESCE({alias}.completed_at, {NOW}) - {alias}.started_at))::float8"
    )
}

/// Declares a row shape once: each field beside the SQL expression that reads it.
/// Gives the struct (read from the host's rows by column name) and `columns()`,
/// the SELECT list in field order, so the two cannot drift apart.
macro_rules! row {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty = $sql:expr,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize)]
        pub struct $name { $($(#[$fmeta])* pub $field: $ty,)* }

        impl $name {
            /// The SELECT list that reads this row.
            fn columns() -> String {
                let columns: &[(&str, String)] = &[$((stringify!($field), String::from($sql)),)*];
                select_list(columns)
            }
        }
    };
}

/// `expr AS name, …`, leaving out `AS` where the expression is the column itself.
fn select_list(columns: &[(&str, String)]) -> String {
    columns
        .iter()
        .map(|(name, sql)| {
            if sql == name || sql.ends_with(&format!(".{name}")) {
                sql.clone()
            } else {
                format!("{sql} AS {name}")
            }
        })
        .collect::<Vec<_>>()
        .join(",\n       ")
}

// --- runs ---------------------------------------------------------------------

row! {
    /// One run with its workflow and repository.
    pub struct Run {
        id: i64 = "r.id",
        definition_id: Option<i64> = "r.workflow_definition_id",
        workflow: Option<String> = "w.name",
        file_path: Option<String> = "w.file_path",
        repository: Option<String> = REPOSITORY,
        trigger_type: String = "r.trigger_type",
        trigger_payload: Option<Json> = "r.trigger_payload",
        inputs: Option<Json> = "r.inputs",
        outputs: Option<Json> = "r.outputs",
        status: Status = "r.status",
        error_message: Option<String> = "left(r.error_message, 8000)",
        created_at: Option<String> = "r.created_at",
        started_at: Option<String> = "r.started_at",
        completed_at: Option<String> = "r.completed_at",
        duration_s: Option<f64> = duration("r"),
        now_utc: String = NOW,
    }
}

fn run_select(condition: &str) -> String {
    format!(
        "SELECT {}
  FROM workflow_runs r
  {RUN_JOINS}
 {condition}",
        Run::columns()
    )
}

/// The run `id`.
pub fn run(id: i64) -> Result<Option<Run>, ToolError> {
    fetch_one(
        "the run",
        &run_select("WHERE r.id = $1::bigint"),
        &[id.into()],
    )
}

/// The newest failed run.
pub fn latest_failed_run() -> Result<Option<Run>, ToolError> {
    fetch_one(
        "the newest failed run",
        &run_select(
            "WHERE r.status = 'failed' ORDER BY r.created_at DESC NULLS LAST, r.id DESC LIMIT 1",
        ),
        &[],
    )
}

/// The runs `a` and `b` (those that exist).
pub fn run_pair(a: i64, b: i64) -> Result<Vec<Run>, ToolError> {
    Ok(fetch(
        "the runs",
        &run_select("WHERE r.id IN ($1::bigint, $2::bigint)"),
        &[a.into(), b.into()],
    )?
    .rows)
}

row! {
    /// A run in a list, with the names of its failed and running steps.
    pub struct ListedRun {
        id: i64 = "r.id",
        definition_id: Option<i64> = "r.workflow_definition_id",
        workflow: Option<String> = "w.name",
        repository: Option<String> = REPOSITORY,
        trigger_type: String = "r.trigger_type",
        status: Status = "r.status",
        error_message: Option<String> = "left(r.error_message, 500)",
        created_at: Option<String> = "r.created_at",
        started_at: Option<String> = "r.started_at",
        completed_at: Option<String> = "r.completed_at",
        duration_s: Option<f64> = duration("r"),
        failed_steps: Option<String> = format!(
            "(SELECT string_agg(s.name, ', ' ORDER BY s.id) FROM workflow_steps s
         WHERE s.run_id = r.id AND {STEP_FAILED})"
        ),
        running_steps: Option<String> = "(SELECT string_agg(s.name, ', ' ORDER BY s.id) FROM workflow_steps s
         WHERE s.run_id = r.id AND s.status = 'running')",
        total: i64 = "count(*) OVER ()",
        now_utc: String = NOW,
    }
}

/// Filters of [`list_runs`]; empty strings and 0 mean "any".
pub struct RunFilter<'a> {
    pub status: &'a str,
    pub name_pattern: &'a str,
    pub repository: &'a str,
    pub hours: f64,
    pub limit: i64,
}

/// Runs matching `f`, newest first, with the total count of matches.
pub fn list_runs(f: &RunFilter) -> Result<Fetched<ListedRun>, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM workflow_runs r
  {RUN_JOINS}
 WHERE ($1::text = '' OR r.status = $1::text)
   AND {names}
   AND ($4::float8 <= 0 OR {window})
 ORDER BY r.created_at DESC NULLS LAST, r.id DESC
 LIMIT $5::bigint",
        columns = ListedRun::columns(),
        names = name_and_repo_filter(2, 3),
        window = window(4),
    );
    fetch(
        "workflow runs",
        &statement,
        &[
            f.status.into(),
            f.name_pattern.into(),
            f.repository.into(),
            f.hours.into(),
            f.limit.into(),
        ],
    )
}

// --- steps --------------------------------------------------------------------

row! {
    /// One step of a run, with its log size and the runner that claimed it.
    pub struct Step {
        id: i64 = "s.id",
        run_id: i64 = "s.run_id",
        plan_id: String = "s.step_id",
        name: String = "s.name",
        step_type: String = "s.step_type",
        status: Status = "s.status",
        started_at: Option<String> = "s.started_at",
        completed_at: Option<String> = "s.completed_at",
        duration_s: Option<f64> = duration("s"),
        exit_code: Option<i64> = "s.exit_code",
        error_message: Option<String> = "left(s.error_message, 6000)",
        turns_used: Option<i64> = "s.turns_used",
        tokens_in: Option<i64> = "s.tokens_in",
        tokens_out: Option<i64> = "s.tokens_out",
        log_rows: i64 = "(SELECT count(*) FROM workflow_logs l WHERE l.step_id = s.id)",
        runner: Option<String> = "p.pod_name",
        runner_heartbeat_s: Option<f64> = format!("EXTRACT(EPOCH FROM ({NOW} - p.last_heartbeat))::float8"),
    }
}

impl Step {
    /// Plue's rule: failed status, an error message, or a non-zero exit code.
    pub fn failed(&self) -> bool {
        self.status == Status::Failed
            || self.exit_code.is_some_and(|c| c != 0)
            || self.error_message.is_some()
    }

    /// Failed only because a step it depends on failed.
    pub fn dependency_failure(&self) -> bool {
        self.error_message
            .as_deref()
            .is_some_and(|m| m.trim().to_lowercase().starts_with("dependency failed"))
    }
}

/// The steps of runs `a` and `b` (pass the same id twice for one run), by run then id.
pub fn steps(a: i64, b: i64) -> Result<Vec<Step>, ToolError> {
    let statement = format!(
        "SELECT {}
  FROM workflow_steps s
  LEFT JOIN LATERAL (SELECT rp.pod_name, rp.last_heartbeat FROM runner_pool rp
                      WHERE rp.claimed_by_step_id = s.id AND rp.status = 'claimed'
                      ORDER BY rp.claimed_at DESC NULLS LAST LIMIT 1) p ON true
 WHERE s.run_id IN ($1::bigint, $2::bigint)
 ORDER BY s.run_id, s.id",
        Step::columns()
    );
    Ok(fetch("the run's steps", &statement, &[a.into(), b.into()])?.rows)
}

/// A log row of a step, with its step id.
#[derive(Debug, Clone, Deserialize)]
pub struct StepLogRow {
    pub step_id: i64,
    /// When the row was written (only some queries read it).
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(flatten)]
    pub row: LogRow,
}

/// The log rows that can explain the failed steps of run `run` (or its running
/// steps, with `which = "running"`): per step, the last 300 rows and the first
/// 200 rows of each type other than stdout and token. In step, sequence order.
pub fn decisive_logs(run: i64, which: &str) -> Result<Fetched<StepLogRow>, ToolError> {
    let statement = format!(
        "SELECT step_id, log_type, content, sequence, row_index, created_at FROM (
  SELECT l.step_id, l.log_type, left(l.content, 4000) AS content, l.sequence, l.created_at,
         row_number() OVER (PARTITION BY l.step_id ORDER BY l.sequence, l.id) - 1 AS row_index,
         row_number() OVER (PARTITION BY l.step_id ORDER BY l.sequence DESC, l.id DESC) AS from_end,
         row_number() OVER (PARTITION BY l.step_id, l.log_type ORDER BY l.sequence, l.id) AS nth_of_type
    FROM workflow_logs l JOIN workflow_steps s ON s.id = l.step_id
   WHERE s.run_id = $1::bigint
     AND CASE WHEN $2::text = 'running' THEN s.status = 'running' ELSE {STEP_FAILED} END
) t
 WHERE from_end <= 300 OR (log_type NOT IN ('stdout', 'token') AND nth_of_type <= 200)
 ORDER BY step_id, row_index
 LIMIT 900"
    );
    fetch(
        "the failed steps' logs",
        &statement,
        &[run.into(), which.into()],
    )
}

row! {
    /// A step and the size of its logs, for `get_step_logs`.
    pub struct StepHeader {
        id: i64 = "s.id",
        run_id: Option<i64> = "s.run_id",
        name: String = "s.name",
        step_type: String = "s.step_type",
        status: Status = "s.status",
        exit_code: Option<i64> = "s.exit_code",
        workflow: Option<String> = "w.name",
        definition_id: Option<i64> = "r.workflow_definition_id",
        total_rows: i64 = "(SELECT count(*) FROM workflow_logs l WHERE l.step_id = s.id)",
        matching_rows: i64 = "(SELECT count(*) FROM workflow_logs l WHERE l.step_id = s.id
          AND ($2::text = 'all' OR l.log_type = $2::text))",
        by_type: Option<Json> = "(SELECT json_object_agg(t.log_type, t.n) FROM
          (SELECT l.log_type, count(*) AS n FROM workflow_logs l WHERE l.step_id = s.id GROUP BY l.log_type) t)",
    }
}

/// Step `id` with its log counts (all rows, rows of `log_type`, per type).
pub fn step_header(id: i64, log_type: &str) -> Result<Option<StepHeader>, ToolError> {
    fetch_one(
        "the step",
        &format!(
            "SELECT {}
  FROM workflow_steps s
  LEFT JOIN workflow_runs r ON r.id = s.run_id
  LEFT JOIN workflow_definitions w ON w.id = r.workflow_definition_id
 WHERE s.id = $1::bigint",
            StepHeader::columns()
        ),
        &[id.into(), log_type.into()],
    )
}

/// Rows `offset..offset+limit` of step `id`'s logs of `log_type` ('all' for every type).
pub fn step_logs(
    id: i64,
    log_type: &str,
    offset: i64,
    limit: i64,
) -> Result<Fetched<LogRow>, ToolError> {
    fetch(
        "the step's logs",
        "SELECT l.log_type, left(l.content, 20000) AS content, l.sequence,
       row_number() OVER (ORDER BY l.sequence, l.id) - 1 AS row_index
  FROM workflow_logs l
 WHERE l.step_id = $1::bigint AND ($2::text = 'all' OR l.log_type = $2::text)
 ORDER BY l.sequence, l.id
 OFFSET $3::bigint LIMIT $4::bigint",
        &[id.into(), log_type.into(), offset.into(), limit.into()],
    )
}

/// The logs of run `run`, step by step: per step the first and last `per_step`
/// rows and every stderr, tool_call and tool_result row, at most `limit` rows in all.
pub fn run_logs(run: i64, per_step: i64, limit: i64) -> Result<Fetched<StepLogRow>, ToolError> {
    fetch(
        "the run's logs",
        "SELECT step_id, log_type, content, sequence, row_index FROM (
  SELECT l.step_id, l.log_type, left(l.content, 8000) AS content, l.sequence,
         row_number() OVER (PARTITION BY l.step_id ORDER BY l.sequence, l.id) - 1 AS row_index,
         count(*) OVER (PARTITION BY l.step_id) AS step_rows
    FROM workflow_logs l JOIN workflow_steps s ON s.id = l.step_id
   WHERE s.run_id = $1::bigint
) t
 WHERE row_index < $2::bigint OR step_rows - row_index <= $2::bigint
    OR log_type IN ('stderr', 'tool_call', 'tool_result')
 ORDER BY step_id, row_index
 LIMIT $3::bigint",
        &[run.into(), per_step.into(), limit.into()],
    )
}

// --- completions --------------------------------------------------------------

/// An id, for completions.
#[derive(Debug, Clone, Deserialize)]
pub struct Id {
    pub id: i64,
}

/// Ids of the newest runs whose id starts with `prefix` (digits, or '' for any), newest first.
pub fn run_ids(prefix: &str, limit: i64) -> Result<Vec<i64>, ToolError> {
    let rows: Vec<Id> = fetch(
        "run ids",
        "SELECT r.id FROM workflow_runs r
 WHERE ($1::text = '' OR r.id::text LIKE $1::text || '%')
 ORDER BY r.created_at DESC NULLS LAST, r.id DESC
 LIMIT $2::bigint",
        &[prefix.into(), limit.into()],
    )?
    .rows;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Ids of the newest steps whose id starts with `prefix` (digits, or '' for any), newest first.
pub fn step_ids(prefix: &str, limit: i64) -> Result<Vec<i64>, ToolError> {
    let rows: Vec<Id> = fetch(
        "step ids",
        "SELECT s.id FROM workflow_steps s
 WHERE ($1::text = '' OR s.id::text LIKE $1::text || '%')
 ORDER BY s.id DESC
 LIMIT $2::bigint",
        &[prefix.into(), limit.into()],
    )?
    .rows;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

// --- failures -----------------------------------------------------------------

row! {
    /// A failed run and its first failed step that is not a dependency failure.
    pub struct FailedRun {
        id: i64 = "r.id",
        definition_id: Option<i64> = "r.workflow_definition_id",
        workflow: Option<String> = "w.name",
        error_message: Option<String> = "left(r.error_message, 2000)",
        created_at: Option<String> = "r.created_at",
        completed_at: Option<String> = "r.completed_at",
        failed_step_id: Option<i64> = "fs.id",
        failed_step: Option<String> = "fs.name",
        step_type: Option<String> = "fs.step_type",
        step_error: Option<String> = "fs.error_message",
        exit_code: Option<i64> = "fs.exit_code",
        now_utc: String = NOW,
    }
}

fn failed_runs_select(condition: &str) -> String {
    format!(
        "SELECT {columns}
  FROM workflow_runs r
  {RUN_JOINS}
  LEFT JOIN LATERAL (SELECT s.id, s.name, s.step_type, left(s.error_message, 4000) AS error_message, s.exit_code
                       FROM workflow_steps s
                      WHERE s.run_id = r.id AND {STEP_FAILED}
                      ORDER BY (COALESCE(s.error_message, '') ILIKE 'dependency failed%'), s.id
                      LIMIT 1) fs ON true
 WHERE r.status = 'failed' AND {condition}",
        columns = FailedRun::columns()
    )
}

/// Failed runs created in the last `hours`, optionally of matching workflows,
/// newest first.
pub fn failed_runs(
    hours: f64,
    name_pattern: &str,
    repository: &str,
    limit: i64,
) -> Result<Fetched<FailedRun>, ToolError> {
    let statement = failed_runs_select(&format!(
        "{} AND {}
 ORDER BY COALESCE(r.completed_at, r.created_at) DESC NULLS LAST, r.id DESC
 LIMIT $4::bigint",
        window(1),
        name_and_repo_filter(2, 3)
    ));
    fetch(
        "failed runs",
        &statement,
        &[
            hours.into(),
            name_pattern.into(),
            repository.into(),
            limit.into(),
        ],
    )
}

/// Other failed runs of definition `definition` (0: runs whose definition was
/// deleted) in the last 7 days, newest first.
pub fn similar_failures(run: i64, definition: i64) -> Result<Vec<FailedRun>, ToolError> {
    let statement = failed_runs_select(&format!(
        "r.id <> $1::bigint AND r.created_at >= {NOW} - interval '7 days'
   AND (($2::bigint > 0 AND r.workflow_definition_id = $2::bigint)
        OR ($2::bigint = 0 AND r.workflow_definition_id IS NULL))
 ORDER BY r.created_at DESC NULLS LAST, r.id DESC
 LIMIT 20"
    ));
    Ok(fetch(
        "similar failures",
        &statement,
        &[run.into(), definition.into()],
    )?
    .rows)
}

/// A run referred to by id and time.
#[derive(Debug, Clone, Deserialize)]
pub struct RunRef {
    pub id: i64,
    pub created_at: Option<String>,
}

/// The newest completed run of definition `definition` created before run `run`.
pub fn last_success_before(definition: i64, run: i64) -> Result<Option<RunRef>, ToolError> {
    fetch_one(
        "the last successful run",
        "SELECT r.id, r.created_at FROM workflow_runs r
 WHERE r.workflow_definition_id = $1::bigint AND r.status = 'completed' AND r.id <> $2::bigint
   AND r.created_at <= (SELECT b.created_at FROM workflow_runs b WHERE b.id = $2::bigint)
 ORDER BY r.created_at DESC, r.id DESC LIMIT 1",
        &[definition.into(), run.into()],
    )
}

// --- counts -------------------------------------------------------------------

/// Run counts per status.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Counts {
    pub total: i64,
    pub completed: i64,
    pub failed: i64,
    pub running: i64,
    pub pending: i64,
    pub cancelled: i64,
}

impl Counts {
    /// The counts of several rows added up.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Counts>) -> Counts {
        let mut t = Counts::default();
        for c in all {
            t.total += c.total;
            t.completed += c.completed;
            t.failed += c.failed;
            t.running += c.running;
            t.pending += c.pending;
            t.cancelled += c.cancelled;
        }
        t
    }
}

const COUNT_COLUMNS: &str = "count(*) AS total,
       count(*) FILTER (WHERE r.status = 'completed') AS completed,
       count(*) FILTER (WHERE r.status = 'failed') AS failed,
       count(*) FILTER (WHERE r.status = 'running') AS running,
       count(*) FILTER (WHERE r.status = 'pending') AS pending,
       count(*) FILTER (WHERE r.status = 'cancelled') AS cancelled";

/// The window's run counts, LLM usage and the number of definitions.
#[derive(Debug, Clone, Deserialize)]
pub struct Overview {
    #[serde(flatten)]
    pub counts: Counts,
    pub avg_duration_s: Option<f64>,
    pub definitions: i64,
    pub llm_calls: i64,
    pub llm_tokens_in: i64,
    pub llm_tokens_out: i64,
    pub llm_avg_latency_ms: Option<f64>,
    pub now_utc: String,
}

/// Counts of the last `hours`.
pub fn overview(hours: f64) -> Result<Overview, ToolError> {
    let statement = format!(
        "SELECT {COUNT_COLUMNS},
       (avg(CASE WHEN r.status IN ('completed', 'failed')
                 THEN EXTRACT(EPOCH FROM (r.completed_at - r.started_at)) END))::float8 AS avg_duration_s,
       (SELECT count(*) FROM workflow_definitions) AS definitions,
       (SELECT count(*) FROM llm_usage g WHERE g.created_at >= {NOW} - $1::float8 * interval '1 hour') AS llm_calls,
       (SELECT COALESCE(sum(g.input_tokens), 0)::bigint FROM llm_usage g
         WHERE g.created_at >= {NOW} - $1::float8 * interval '1 hour') AS llm_tokens_in,
       (SELECT COALESCE(sum(g.output_tokens), 0)::bigint FROM llm_usage g
         WHERE g.created_at >= {NOW} - $1::float8 * interval '1 hour') AS llm_tokens_out,
       (SELECT avg(g.latency_ms)::float8 FROM llm_usage g
         WHERE g.created_at >= {NOW} - $1::float8 * interval '1 hour') AS llm_avg_latency_ms,
       {NOW} AS now_utc
  FROM workflow_runs r
 WHERE {}",
        window(1)
    );
    fetch_one("run counts", &statement, &[hours.into()])?
        .ok_or_else(|| ToolError::failed("the run counts query returned no row"))
}

row! {
    /// A run that is pending or running now, whatever its age.
    pub struct ActiveRun {
        id: i64 = "r.id",
        definition_id: Option<i64> = "r.workflow_definition_id",
        workflow: Option<String> = "w.name",
        status: Status = "r.status",
        trigger_type: String = "r.trigger_type",
        created_at: Option<String> = "r.created_at",
        started_at: Option<String> = "r.started_at",
        /// Since created (pending) or started (running).
        age_s: Option<f64> = format!("EXTRACT(EPOCH FROM ({NOW} - COALESCE(r.started_at, r.created_at)))::float8"),
        /// From creation to start (or to now when not started).
        queued_s: Option<f64> = format!("EXTRACT(EPOCH FROM (COALESCE(r.started_at, {NOW}) - r.created_at))::float8"),
        open_steps: Option<Json> = "(SELECT json_agg(json_build_object('id', s.id, 'name', s.name, 'status', s.status,
                 'runner', (SELECT p.pod_name FROM runner_pool p WHERE p.claimed_by_step_id = s.id
                             ORDER BY p.claimed_at DESC NULLS LAST LIMIT 1)) ORDER BY s.id)
          FROM workflow_steps s WHERE s.run_id = r.id AND s.status IN ('pending', 'running'))",
        total: i64 = "count(*) OVER ()",
        now_utc: String = NOW,
    }
}

/// Pending and running runs, oldest first, with their pending and running steps.
pub fn active_runs(limit: i64) -> Result<Fetched<ActiveRun>, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM workflow_runs r
  {RUN_JOINS}
 WHERE r.status IN ('pending', 'running')
 ORDER BY r.created_at, r.id
 LIMIT $1::bigint",
        columns = ActiveRun::columns()
    );
    fetch("pending and running runs", &statement, &[limit.into()])
}

// --- statistics ---------------------------------------------------------------

/// Per-workflow statistics over a window.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowStat {
    pub definition_id: Option<i64>,
    pub workflow: Option<String>,
    pub repository: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    pub avg_s: Option<f64>,
    pub p50_s: Option<f64>,
    pub p95_s: Option<f64>,
    pub min_s: Option<f64>,
    pub max_s: Option<f64>,
    pub last_run_at: Option<String>,
    pub now_utc: String,
}

/// Runs created in the last `hours` grouped by workflow; durations over
/// finished runs (completed or failed).
pub fn workflow_stats(
    hours: f64,
    name_pattern: &str,
    repository: &str,
) -> Result<Fetched<WorkflowStat>, ToolError> {
    let statement = format!(
        "WITH runs AS (
  SELECT r.id, r.status, r.created_at, r.workflow_definition_id, w.name AS workflow, {REPOSITORY} AS repository,
         CASE WHEN r.status IN ('completed', 'failed')
              THEN EXTRACT(EPOCH FROM (r.completed_at - r.started_at))::float8 END AS dur
    FROM workflow_runs r
    {RUN_JOINS}
   WHERE {} AND {}
)
SELECT r.workflow_definition_id AS definition_id, r.workflow, r.repository, {COUNT_COLUMNS},
       avg(r.dur)::float8 AS avg_s,
       (percentile_cont(0.5) WITHIN GROUP (ORDER BY r.dur))::float8 AS p50_s,
       (percentile_cont(0.95) WITHIN GROUP (ORDER BY r.dur))::float8 AS p95_s,
       min(r.dur) AS min_s, max(r.dur) AS max_s, max(r.created_at) AS last_run_at, {NOW} AS now_utc
  FROM runs r
 GROUP BY r.workflow_definition_id, r.workflow, r.repository
 ORDER BY count(*) DESC, r.workflow NULLS LAST
 LIMIT 200",
        window(1),
        name_and_repo_filter(2, 3)
    );
    fetch(
        "workflow statistics",
        &statement,
        &[hours.into(), name_pattern.into(), repository.into()],
    )
}

// --- definitions --------------------------------------------------------------

row! {
    /// A workflow definition, with its recent runs.
    pub struct Definition {
        id: i64 = "w.id",
        name: String = "w.name",
        file_path: String = "w.file_path",
        repository: Option<String> = REPOSITORY,
        triggers: Option<Json> = "w.triggers",
        image: Option<String> = "w.image",
        dockerfile: Option<String> = "w.dockerfile",
        plan: Option<Json> = "w.plan",
        content_hash: Option<String> = "w.content_hash",
        parsed_at: Option<String> = "w.parsed_at",
        runs_total: i64 = "(SELECT count(*) FROM workflow_runs r WHERE r.workflow_definition_id = w.id)",
        recent_runs: Option<Json> = "(SELECT json_agg(x ORDER BY x.created_at DESC) FROM
          (SELECT r.id, r.status, r.created_at FROM workflow_runs r WHERE r.workflow_definition_id = w.id
            ORDER BY r.created_at DESC LIMIT 5) x)",
        matches: i64 = "count(*) OVER ()",
        now_utc: String = NOW,
    }
}

/// Definitions by id (0: any), name pattern ('' any) and repository ('' any);
/// exact name matches (`exact`) first, then shorter names. At most 5.
pub fn definitions(
    id: i64,
    name_pattern: &str,
    exact: &str,
    repository: &str,
) -> Result<Vec<Definition>, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM workflow_definitions w
  LEFT JOIN repositories rp ON rp.id = w.repository_id
  LEFT JOIN users u ON u.id = rp.user_id
 WHERE ($1::bigint = 0 OR w.id = $1::bigint) AND {}
 ORDER BY (lower(w.name) = lower($4::text)) DESC, length(w.name), w.id
 LIMIT 5",
        name_and_repo_filter(2, 3),
        columns = Definition::columns()
    );
    Ok(fetch(
        "workflow definitions",
        &statement,
        &[
            id.into(),
            name_pattern.into(),
            repository.into(),
            exact.into(),
        ],
    )?
    .rows)
}

// --- agents -------------------------------------------------------------------

row! {
    /// LLM usage over a window, whole window.
    pub struct UsageTotals {
        calls: i64 = "count(*)",
        tokens_in: i64 = "COALESCE(sum(g.input_tokens), 0)::bigint",
        tokens_out: i64 = "COALESCE(sum(g.output_tokens), 0)::bigint",
        avg_latency_ms: Option<f64> = "avg(g.latency_ms)::float8",
        max_latency_ms: Option<i64> = "max(g.latency_ms)",
        by_model: Option<Json> = format!("(SELECT json_agg(m ORDER BY m.calls DESC, m.model) FROM
          (SELECT x.model, count(*) AS calls, sum(x.input_tokens)::bigint AS tokens_in,
                  sum(x.output_tokens)::bigint AS tokens_out
             FROM llm_usage x WHERE x.created_at >= {NOW} - $1::float8 * interval '1 hour'
            GROUP BY x.model) m)"),
        now_utc: String = NOW,
    }
}

/// Totals of `llm_usage` rows created in the last `hours`.
pub fn usage_totals(hours: f64) -> Result<UsageTotals, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM llm_usage g
 WHERE g.created_at >= {NOW} - $1::float8 * interval '1 hour'",
        columns = UsageTotals::columns()
    );
    fetch_one("LLM usage totals", &statement, &[hours.into()])?
        .ok_or_else(|| ToolError::failed("the LLM usage query returned no row"))
}

row! {
    // One LLM call (one llm/agent step, or a chat call without a step): an
    // `llm_usage` row with its step and run, read and answered in one shape.
    #[derive(serde::Serialize, schemars::JsonSchema)]
    pub struct Usage {
        id: i64 = "g.id",
        prompt_name: Option<String> = "g.prompt_name",
        model: String = "g.model",
        input_tokens: i64 = "g.input_tokens",
        output_tokens: i64 = "g.output_tokens",
        latency_ms: i64 = "g.latency_ms",
        #[serde(serialize_with = "crate::fmt::rfc3339_field")]
        created_at: Option<String> = "g.created_at",
        step_id: Option<i64> = "g.step_id",
        step_name: Option<String> = "s.name",
        step_status: Option<Status> = "s.status",
        turns_used: Option<i64> = "s.turns_used",
        run_id: Option<i64> = "r.id",
        workflow: Option<String> = "w.name",
    }
}

/// The newest `limit` usage rows of the last `hours`.
pub fn usage_rows(hours: f64, limit: i64) -> Result<Vec<Usage>, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM llm_usage g
  LEFT JOIN workflow_steps s ON s.id = g.step_id
  LEFT JOIN workflow_runs r ON r.id = s.run_id
  LEFT JOIN workflow_definitions w ON w.id = r.workflow_definition_id
 WHERE g.created_at >= {NOW} - $1::float8 * interval '1 hour'
 ORDER BY g.created_at DESC, g.id DESC
 LIMIT $2::bigint",
        columns = Usage::columns()
    );
    Ok(fetch("LLM usage", &statement, &[hours.into(), limit.into()])?.rows)
}

// Tool calls of one tool by agent steps.
#[derive(Debug, Clone, Deserialize, serde::Serialize, schemars::JsonSchema)]
pub struct ToolUse {
    pub tool: String,
    pub calls: i64,
    pub errors: i64,
}

/// Tool calls and failing results, per tool, of the steps with LLM usage in the
/// last `hours` and of agent steps running now.
pub fn tool_use(hours: f64) -> Result<Vec<ToolUse>, ToolError> {
    let statement = format!(
        "SELECT COALESCE((regexp_match(l.content, '\"name\"\\s*:\\s*\"([^\"]+)\"'))[1], '?') AS tool,
       count(*) FILTER (WHERE l.log_type = 'tool_call') AS calls,
       count(*) FILTER (WHERE l.log_type = 'tool_result'
                          AND l.content ~ '\"is_error\"\\s*:\\s*true') AS errors
  FROM workflow_logs l
 WHERE l.log_type IN ('tool_call', 'tool_result')
   AND l.step_id IN (SELECT g.step_id FROM llm_usage g
                      WHERE g.step_id IS NOT NULL AND g.created_at >= {NOW} - $1::float8 * interval '1 hour'
                     UNION
                     SELECT s.id FROM workflow_steps s
                      WHERE s.status = 'running' AND s.step_type IN ('agent', 'llm'))
 GROUP BY 1
 ORDER BY 2 DESC, 1
 LIMIT 50"
    );
    Ok(fetch("tool calls", &statement, &[hours.into()])?.rows)
}

row! {
    /// An agent or LLM step running now.
    pub struct RunningAgent {
        id: i64 = "s.id",
        name: String = "s.name",
        step_type: String = "s.step_type",
        run_id: i64 = "s.run_id",
        workflow: Option<String> = "w.name",
        running_s: Option<f64> = format!("EXTRACT(EPOCH FROM ({NOW} - s.started_at))::float8"),
        tool_calls: i64 = "(SELECT count(*) FROM workflow_logs l WHERE l.step_id = s.id AND l.log_type = 'tool_call')",
        log_rows: i64 = "(SELECT count(*) FROM workflow_logs l WHERE l.step_id = s.id)",
    }
}

/// Agent and LLM steps running now, longest running first.
pub fn running_agents() -> Result<Vec<RunningAgent>, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM workflow_steps s
  JOIN workflow_runs r ON r.id = s.run_id
  LEFT JOIN workflow_definitions w ON w.id = r.workflow_definition_id
 WHERE s.status = 'running' AND s.step_type IN ('agent', 'llm')
 ORDER BY s.started_at NULLS LAST, s.id
 LIMIT 20",
        columns = RunningAgent::columns()
    );
    Ok(fetch("running agent steps", &statement, &[])?.rows)
}

// --- runners and tasks --------------------------------------------------------

row! {
    /// One runner pod, with the step it claimed.
    pub struct Runner {
        id: i64 = "p.id",
        pod_name: String = "p.pod_name",
        pod_ip: Option<String> = "p.pod_ip",
        node_name: Option<String> = "to_jsonb(p) ->> 'node_name'",
        status: String = "p.status",
        registered_at: Option<String> = "p.registered_at",
        last_heartbeat: Option<String> = "p.last_heartbeat",
        claimed_at: Option<String> = "p.claimed_at",
        heartbeat_age_s: Option<f64> = format!("EXTRACT(EPOCH FROM ({NOW} - p.last_heartbeat))::float8"),
        claimed_by_step_id: Option<i64> = "(to_jsonb(p) ->> 'claimed_by_step_id')::bigint",
        claimed_by_task_id: Option<i64> = "(to_jsonb(p) ->> 'claimed_by_task_id')::bigint",
        step_name: Option<String> = "s.name",
        step_status: Option<Status> = "s.status",
        run_id: Option<i64> = "s.run_id",
        run_status: Option<Status> = "r.status",
        workflow: Option<String> = "w.name",
        now_utc: String = NOW,
    }
}

/// Every runner: claimed first, then available, then terminated. The claim
/// column is read through `to_jsonb` so both Plue's `claimed_by_step_id` and the
/// older `claimed_by_task_id` work. `None` when there is no `runner_pool` table.
pub fn runners() -> Result<Option<Vec<Runner>>, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM runner_pool p
  LEFT JOIN workflow_steps s ON s.id = (to_jsonb(p) ->> 'claimed_by_step_id')::bigint
  LEFT JOIN workflow_runs r ON r.id = s.run_id
  LEFT JOIN workflow_definitions w ON w.id = r.workflow_definition_id
 ORDER BY CASE p.status WHEN 'claimed' THEN 0 WHEN 'available' THEN 1 ELSE 2 END, p.registered_at, p.id
 LIMIT 500",
        columns = Runner::columns()
    );
    fetch_optional_table("the runner pool", &statement, &[])
}

row! {
    /// A row of a `workflow_tasks` table, whatever its exact columns.
    pub struct Task {
        task: Json = "to_jsonb(t)",
        wait_s: Option<f64> = format!("EXTRACT(EPOCH FROM ({NOW} - (to_jsonb(t) ->> 'created_at')::timestamp))::float8"),
        total: i64 = "count(*) OVER ()",
        now_utc: String = NOW,
    }
}

/// Tasks waiting for a runner (`waiting`, `pending`, `assigned`), highest
/// priority first, then oldest. Columns are read through `to_jsonb`, so a table
/// without `priority` or `session_id` still works.
pub fn pending_tasks(limit: i64) -> Result<Option<Vec<Task>>, ToolError> {
    let statement = format!(
        "SELECT {columns}
  FROM workflow_tasks t
 WHERE to_jsonb(t) ->> 'status' IN ('waiting', 'pending', 'assigned')
 ORDER BY (to_jsonb(t) ->> 'priority')::numeric DESC NULLS LAST, (to_jsonb(t) ->> 'created_at')::timestamp, to_jsonb(t) ->> 'id'
 LIMIT $1::bigint",
        columns = Task::columns()
    );
    fetch_optional_table("workflow tasks", &statement, &[limit.into()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_lists_come_from_the_row_shapes() {
        let run = Run::columns();
        assert!(
            run.starts_with("r.id,\n       r.workflow_definition_id AS definition_id,"),
            "{run}"
        );
        assert!(run.ends_with(&format!("{NOW} AS now_utc")), "{run}");
        assert_eq!(run.matches(",\n       ").count() + 1, 16);
        assert!(Step::columns().contains("s.step_id AS plan_id"));
        assert!(ListedRun::columns().contains("count(*) OVER () AS total"));
    }
}
