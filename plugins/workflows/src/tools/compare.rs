//! `compare_runs`: two runs side by side, step by step (paired by the plan's
//! step id and name, not by position): status, duration, exit code and first
//! error line of each; what newly fails in B, what B fixed, and what else
//! changed (commit, trigger, inputs, timings).

use std::collections::BTreeMap;

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text;

use super::debug::finding;
use super::{RunSummary, commit_of, exit_text, run_title};
use crate::args;
use crate::fmt::{self, Clock};
use crate::logs::LogRow;
use crate::queries::{self, Run, Step};
use crate::status::Status;

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CompareArgs {
    /// Usually the good run.
    pub run_id_a: i64,
    /// Usually the bad run.
    pub run_id_b: i64,
}

// One side of a step pair.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct StepSide {
    pub step_id: i64,
    pub step_type: String,
    pub status: Status,
    pub duration_seconds: Option<f64>,
    pub exit_code: Option<i64>,
    // The first error line, when the step failed.
    pub first_error: Option<String>,
}

// A step of A and its counterpart in B.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepPair {
    pub name: String,
    // The plan's step id (`step_3`).
    pub plan_id: String,
    pub a: Option<StepSide>,
    pub b: Option<StepSide>,
    // Status or exit code differ, or the step exists on one side only.
    pub changed: bool,
}

/// What `compare_runs` returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Comparison {
    pub a: RunSummary,
    pub b: RunSummary,
    // Both runs belong to the same workflow definition.
    pub same_workflow: bool,
    // The comparison in one sentence.
    pub verdict: String,
    pub steps: Vec<StepPair>,
    // Steps failing in B that did not fail in A.
    pub newly_failing: Vec<String>,
    // Steps failing in A that do not fail in B.
    pub fixed: Vec<String>,
    // Everything else that differs, one sentence each.
    pub differences: Vec<String>,
}

pub fn compare_runs(a: CompareArgs) -> Result<Answer<Comparison>, ToolError> {
    let (ida, idb) = (
        args::id("run_id_a", a.run_id_a)?,
        args::id("run_id_b", a.run_id_b)?,
    );
    if ida == idb {
        return Err(ToolError::invalid(format!(
            "run_id_a and run_id_b are both {ida}; pass two different runs (list_workflow_runs shows them)"
        )));
    }
    let runs = queries::run_pair(ida, idb)?;
    let find = |id: i64| runs.iter().find(|r| r.id == id);
    let (Some(ra), Some(rb)) = (find(ida), find(idb)) else {
        let state = |id: i64| {
            if find(id).is_some() {
                "found"
            } else {
                "missing"
            }
        };
        return Err(ToolError::failed(format!(
            "cannot compare: run A #{ida} {}, run B #{idb} {}; list_workflow_runs shows existing runs",
            state(ida),
            state(idb)
        )));
    };
    let clock = Clock::from_db(&ra.now_utc);
    let all_steps = queries::steps(ida, idb)?;
    let steps_a: Vec<&Step> = all_steps.iter().filter(|s| s.run_id == ida).collect();
    let steps_b: Vec<&Step> = all_steps.iter().filter(|s| s.run_id == idb).collect();
    let errors_a = first_errors(ra, &steps_a)?;
    let errors_b = first_errors(rb, &steps_b)?;
    let same_workflow = ra.definition_id.is_some() && ra.definition_id == rb.definition_id;

    let pairs = pair_steps(&steps_a, &steps_b, same_workflow);

    let side = |s: &Step, errors: &BTreeMap<i64, String>| StepSide {
        step_id: s.id,
        step_type: s.step_type.clone(),
        status: s.status.clone(),
        duration_seconds: s.started_at.as_ref().and(s.duration_s),
        exit_code: s.exit_code,
        first_error: errors.get(&s.id).cloned(),
    };
    let mut newly_failing = Vec::new();
    let mut fixed = Vec::new();
    let mut differences = Vec::new();
    if ra.status != rb.status {
        differences.push(format!("status: {} → {}", ra.status, rb.status));
    }
    let mut step_pairs = Vec::new();
    for (sa, sb) in &pairs {
        let name = sa.or(*sb).map(|s| s.name.clone()).unwrap_or_default();
        let failed_a = sa.is_some_and(|s| s.failed());
        let failed_b = sb.is_some_and(|s| s.failed());
        match (sa, sb) {
            (Some(x), Some(y)) => {
                if failed_b && !failed_a {
                    let e = errors_b
                        .get(&y.id)
                        .map(|e| format!(": {}", fmt::cut(e, 160)))
                        .unwrap_or_default();
                    newly_failing.push(name.clone());
                    differences.push(format!("newly failing in B: '{name}' (#{}){e}", y.id));
                } else if failed_a && !failed_b {
                    fixed.push(name.clone());
                    differences.push(format!(
                        "fixed in B: '{name}' failed in A (#{}), {} in B",
                        x.id, y.status
                    ));
                } else if failed_a && failed_b {
                    let (ea, eb) = (errors_a.get(&x.id), errors_b.get(&y.id));
                    if ea.map(|e| crate::logs::normalize_error(e))
                        != eb.map(|e| crate::logs::normalize_error(e))
                    {
                        differences.push(format!(
                            "'{name}' fails in both, differently: A {} / B {}",
                            fmt::cut(ea.map_or("(no error line)", String::as_str), 90),
                            fmt::cut(eb.map_or("(no error line)", String::as_str), 90)
                        ));
                    }
                } else if x.status != y.status {
                    differences.push(format!("'{name}': {} → {}", x.status, y.status));
                }
                if x.exit_code != y.exit_code && failed_a == failed_b {
                    differences.push(format!(
                        "'{name}' exit code: {} → {}",
                        code(x.exit_code),
                        code(y.exit_code)
                    ));
                }
                if let (Some(da), Some(db)) = (
                    x.started_at.as_ref().and(x.duration_s),
                    y.started_at.as_ref().and(y.duration_s),
                ) && notable(da, db)
                {
                    differences.push(format!(
                        "'{name}' took {} → {}",
                        fmt::duration(Some(da)),
                        fmt::duration(Some(db))
                    ));
                }
            }
            (Some(x), None) => {
                differences.push(format!("'{name}' (#{}) only in A ({})", x.id, x.status))
            }
            (None, Some(y)) => {
                differences.push(format!("'{name}' (#{}) only in B ({})", y.id, y.status));
                if failed_b {
                    newly_failing.push(name.clone());
                }
            }
            (None, None) => {}
        }
        let a_side = sa.map(|s| side(s, &errors_a));
        let b_side = sb.map(|s| side(s, &errors_b));
        let changed = match (&a_side, &b_side) {
            (Some(x), Some(y)) => x.status != y.status || x.exit_code != y.exit_code,
            _ => true,
        };
        step_pairs.push(StepPair {
            name,
            plan_id: sa.or(*sb).map(|s| s.plan_id.clone()).unwrap_or_default(),
            a: a_side,
            b: b_side,
            changed,
        });
    }
    run_differences(ra, rb, same_workflow, &mut differences);
    let verdict = verdict(ra, rb, &newly_failing, &fixed, &step_pairs, &errors_b);

    let result = Comparison {
        a: RunSummary::of(ra),
        b: RunSummary::of(rb),
        same_workflow,
        verdict,
        steps: step_pairs,
        newly_failing,
        fixed,
        differences,
    };
    let text = comparison_text(ra, rb, &clock, &result);
    Ok(Answer::new(text, result)
        .with_link(crate::resources::run_link(ra.id, "run A"))
        .with_link(crate::resources::run_link(rb.id, "run B")))
}

/// Steps of A and B paired: same plan id and name first, then same name, then
/// (in one workflow) same plan id; unpaired steps of B last.
fn pair_steps<'s>(
    a: &[&'s Step],
    b: &[&'s Step],
    same_workflow: bool,
) -> Vec<(Option<&'s Step>, Option<&'s Step>)> {
    let mut used = vec![false; b.len()];
    let mut pairs: Vec<(Option<&Step>, Option<&Step>)> = Vec::new();
    for sa in a {
        let pick =
            |f: &dyn Fn(&Step) -> bool, used: &[bool]| (0..b.len()).find(|&i| !used[i] && f(b[i]));
        let j = pick(&|sb| sb.plan_id == sa.plan_id && sb.name == sa.name, &used)
            .or_else(|| pick(&|sb| sb.name == sa.name, &used))
            .or_else(|| {
                if same_workflow {
                    pick(&|sb| sb.plan_id == sa.plan_id, &used)
                } else {
                    None
                }
            });
        if let Some(j) = j {
            used[j] = true;
        }
        pairs.push((Some(*sa), j.map(|j| b[j])));
    }
    for (j, sb) in b.iter().enumerate() {
        if !used[j] {
            pairs.push((None, Some(*sb)));
        }
    }
    pairs
}

/// What differs between the runs themselves (workflow first, then commit, trigger,
/// inputs, run error and a notable change in duration), after the step differences.
fn run_differences(ra: &Run, rb: &Run, same_workflow: bool, differences: &mut Vec<String>) {
    if !same_workflow {
        differences.insert(
            0,
            format!(
                "different workflows: A is {}, B is {}",
                super::run_workflow(ra),
                super::run_workflow(rb)
            ),
        );
    }
    match (commit_of(ra), commit_of(rb)) {
        (Some(ca), Some(cb)) if ca != cb => {
            differences.push(format!("commit: {} → {}", short(&ca), short(&cb)))
        }
        _ => {}
    }
    if ra.trigger_type != rb.trigger_type {
        differences.push(format!(
            "trigger: {} → {}",
            ra.trigger_type, rb.trigger_type
        ));
    }
    if ra.inputs != rb.inputs {
        let show = |v: &Option<Json>| {
            v.as_ref()
                .map_or("none".into(), |v| super::json_line(v, 120))
        };
        differences.push(format!(
            "inputs: {} → {}",
            show(&ra.inputs),
            show(&rb.inputs)
        ));
    }
    if ra.error_message != rb.error_message {
        let show = |e: &Option<String>| {
            e.as_deref()
                .map_or("none".into(), |e| fmt::first_line(e, 100))
        };
        differences.push(format!(
            "run error: {} → {}",
            show(&ra.error_message),
            show(&rb.error_message)
        ));
    }
    if let (Some(da), Some(db)) = (
        ra.started_at.as_ref().and(ra.duration_s),
        rb.started_at.as_ref().and(rb.duration_s),
    ) && notable(da, db)
    {
        differences.push(format!(
            "run took {} → {}",
            fmt::duration(Some(da)),
            fmt::duration(Some(db))
        ));
    }
}

/// The text answer: both runs, the verdict, the steps side by side with their
/// first errors, every difference, and what to call next.
fn comparison_text(ra: &Run, rb: &Run, clock: &Clock, c: &Comparison) -> String {
    let describe = |r: &Run| {
        format!(
            "run #{} {}: {}, {}, created {}",
            r.id,
            run_title(r),
            r.status,
            fmt::took(&r.status, r.started_at.as_deref(), r.duration_s),
            clock.ago(r.created_at.as_deref())
        )
    };
    let mut out = vec![
        format!("compare_runs: A = {}", describe(ra)),
        format!("          vs  B = {}", describe(rb)),
        format!("Verdict: {}", c.verdict),
        String::new(),
    ];
    if c.steps.is_empty() {
        out.push("Neither run has steps.".into());
    } else {
        let cell = |s: &Option<StepSide>| match s {
            None => "—".to_string(),
            Some(s) => {
                let exit = exit_text(s.exit_code);
                let took = fmt::duration(s.duration_seconds);
                [s.status.badge(), took, exit]
                    .iter()
                    .filter(|x| !x.is_empty() && *x != "-")
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        };
        let mut rows = vec![vec![
            "step".to_string(),
            format!("A #{}", ra.id),
            format!("B #{}", rb.id),
            String::new(),
        ]];
        let mut notes: Vec<(usize, String)> = Vec::new();
        for p in &c.steps {
            rows.push(vec![
                p.name.clone(),
                cell(&p.a),
                cell(&p.b),
                if p.changed {
                    "≠".into()
                } else {
                    String::new()
                },
            ]);
            for (label, s) in [("A", &p.a), ("B", &p.b)] {
                if let Some(e) = s.as_ref().and_then(|s| s.first_error.as_ref()) {
                    notes.push((
                        rows.len() - 1,
                        format!("      {label}: {}", fmt::cut(e, 150)),
                    ));
                }
            }
        }
        let lines = text::columns(&rows, "  ");
        for (i, line) in lines.into_iter().enumerate() {
            out.push(line);
            out.extend(
                notes
                    .iter()
                    .filter(|(r, _)| *r == i)
                    .map(|(_, n)| n.clone()),
            );
        }
    }
    out.push(String::new());
    if c.differences.is_empty() {
        out.push(
            "Differences: none in status, steps, exit codes, commit, trigger or inputs.".into(),
        );
    } else {
        out.push("Differences:".into());
        out.extend(c.differences.iter().map(|d| format!("  - {d}")));
    }
    let older = if ra.created_at <= rb.created_at {
        "A"
    } else {
        "B"
    };
    out.push(format!("{older} is the older run."));
    let mut next = Vec::new();
    for r in [rb, ra] {
        if r.status == Status::Failed {
            next.push(format!("quick_debug(run_id={})", r.id));
        }
    }
    if let Some(p) = c.steps.iter().find(|p| c.newly_failing.contains(&p.name))
        && let Some(b) = &p.b
    {
        let log_type = if b.step_type == "shell" {
            ", log_type=\"stderr\""
        } else {
            ""
        };
        next.push(format!("get_step_logs(step_id={}{log_type})", b.step_id));
    }
    if !next.is_empty() {
        out.push(format!("Next: {}", next.join("; ")));
    }
    out.join("\n")
}

/// A duration change worth mentioning: at least 5 s and 25 %.
fn notable(before: f64, after: f64) -> bool {
    (after - before).abs() >= 5.0 && (after > before * 1.25 || after < before * 0.8)
}

fn code(c: Option<i64>) -> String {
    c.map_or("none".into(), |c| c.to_string())
}

fn short(sha: &str) -> String {
    sha.chars().take(10).collect()
}

/// The first error line of each failed step of `run`.
fn first_errors(run: &Run, steps: &[&Step]) -> Result<BTreeMap<i64, String>, ToolError> {
    let failed: Vec<&Step> = steps.iter().copied().filter(|s| s.failed()).collect();
    if failed.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut rows: BTreeMap<i64, Vec<LogRow>> = BTreeMap::new();
    if failed
        .iter()
        .any(|s| s.log_rows > 0 && !s.dependency_failure())
    {
        for r in queries::decisive_logs(run.id, "failed")?.rows {
            rows.entry(r.step_id).or_default().push(r.row);
        }
    }
    Ok(failed
        .iter()
        .filter_map(|s| {
            let f = finding(s, rows.get(&s.id).map(Vec::as_slice).unwrap_or(&[]), 8);
            f.first_error.or(f.error_message).map(|e| (s.id, e))
        })
        .collect())
}

// The comparison in one sentence.
fn verdict(
    a: &Run,
    b: &Run,
    newly: &[String],
    fixed: &[String],
    pairs: &[StepPair],
    errors_b: &BTreeMap<i64, String>,
) -> String {
    let first_new_error = pairs
        .iter()
        .find(|p| newly.contains(&p.name))
        .and_then(|p| p.b.as_ref())
        .and_then(|b| errors_b.get(&b.step_id))
        .map(|e| format!(": {}", fmt::cut(e, 160)))
        .unwrap_or_default();
    let names = |v: &[String]| {
        v.iter()
            .map(|n| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (&a.status, &b.status) {
        (Status::Completed, Status::Failed) if !newly.is_empty() => {
            format!(
                "B fails where A passed: {} newly fail{}{first_new_error}",
                names(newly),
                if newly.len() == 1 { "s" } else { "" }
            )
        }
        (Status::Completed, Status::Failed) => format!(
            "B fails where A passed, but no step newly fails{}",
            b.error_message
                .as_deref()
                .map(|e| format!(": run error {}", fmt::first_line(e, 160)))
                .unwrap_or_default()
        ),
        (Status::Failed, Status::Completed) => format!(
            "B passes where A failed{}",
            if fixed.is_empty() {
                String::new()
            } else {
                format!(": {} fixed", names(fixed))
            }
        ),
        (Status::Failed, Status::Failed) if !newly.is_empty() => format!(
            "both failed; B has new failures: {}{first_new_error}",
            names(newly)
        ),
        (Status::Failed, Status::Failed) => "both failed, in the same steps".to_string(),
        (x, y) if x == y && newly.is_empty() && fixed.is_empty() => {
            format!("same outcome: both {x}")
        }
        (_, Status::Running) | (_, Status::Pending) => {
            format!("B is still {}; compare again when it finishes", b.status)
        }
        (x, y) => format!(
            "A {x}, B {y}{}",
            if newly.is_empty() {
                String::new()
            } else {
                format!("; newly failing in B: {}{first_new_error}", names(newly))
            }
        ),
    }
}

pub fn def() -> ToolDef {
    tool(
        "compare_runs",
        "Two runs step by step: what B broke or fixed, and what else changed.",
        compare_runs,
    )
    .title("Compare two runs")
    .read_only()
}
