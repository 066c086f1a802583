//! `explain_query`: the plan of the agent's statement from
//! `EXPLAIN (FORMAT JSON[, ANALYZE])`, read by [`crate::plan`] and reported
//! costliest node first, with estimated against actual rows. The host accepts
//! EXPLAIN only of statements that read, so ANALYZE never runs a write.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::sql::Value;
use plue_plugin_sdk::text;
use plue_plugin_sdk::time::trim_float;

use crate::db;
use crate::plan::{Node, Plan};

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ExplainArgs {
    /// SELECT, WITH, VALUES or TABLE, without EXPLAIN.
    pub sql: String,
    /// Also run it (EXPLAIN ANALYZE): actual rows and times.
    #[serde(default)]
    pub analyze: bool,
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: u32,
}

fn default_limit() -> u32 {
    10
}

/// The plan tree is shown up to this many nodes.
const TREE_LINES: usize = 60;
/// The raw plan is left out of structured content beyond this size.
const RAW_PLAN_BYTES: usize = 60_000;
/// Estimates off by this factor or more are pointed out.
const MISESTIMATE: f64 = 10.0;

// One plan node in structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NodeOut {
    // Position in the plan tree, depth first from 1 (the `[n]` of the text).
    pub id: usize,
    // Nesting depth; the root is 0.
    pub depth: usize,
    // The node type and what it works on, e.g. `Index Scan using users_pkey on users u`.
    pub node: String,
    // The node type alone, e.g. `Index Scan`.
    pub node_type: String,
    // The planner's cost of this node without its children.
    pub self_cost: f64,
    // The planner's cost of this node with its children.
    pub total_cost: f64,
    // The planner's cost before the first row.
    pub startup_cost: f64,
    // Rows the planner expected, per loop.
    pub estimated_rows: f64,
    // Rows returned, per loop (analyze only).
    pub actual_rows: Option<f64>,
    // Times the node ran (analyze only).
    pub loops: Option<f64>,
    // Milliseconds in this node without its children, all loops (analyze only).
    pub self_ms: Option<f64>,
    /// Milliseconds in this node with its children, all loops (analyze only).
    pub total_ms: Option<f64>,
    // Filter, index condition, join condition, sort or group key.
    pub detail: Option<String>,
    // Rows its filter removed, per loop (analyze only).
    pub rows_removed_by_filter: Option<f64>,
}

/// What `explain_query` returns as structured content.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExplainOutput {
    // Whether the statement ran (EXPLAIN ANALYZE).
    pub analyzed: bool,
    // The root's total estimated cost.
    pub total_cost: f64,
    // Rows the planner expected the statement to return.
    pub estimated_rows: f64,
    // Rows the statement returned (analyze only).
    pub actual_rows: Option<f64>,
    /// Planning time in milliseconds.
    pub planning_ms: Option<f64>,
    /// Execution time in milliseconds (analyze only).
    pub execution_ms: Option<f64>,
    // How many nodes the plan has.
    pub node_count: usize,
    // The costliest nodes first (by self time when analyzed, else by self cost), at most `limit`.
    pub costliest: Vec<NodeOut>,
    /// PostgreSQL's JSON plan as returned; null when larger than 60 kB.
    pub plan: Option<Json>,
}

/// Explain the agent's statement.
pub fn run(args: ExplainArgs) -> Result<Answer<ExplainOutput>, ToolError> {
    if args.sql.trim().is_empty() {
        return Err(ToolError::invalid(
            "`sql` is empty: give the SELECT statement to explain",
        ));
    }
    let prefix = if args.analyze {
        "EXPLAIN (FORMAT JSON, ANALYZE) "
    } else {
        "EXPLAIN (FORMAT JSON) "
    };
    let rows = db::run_user(prefix, &args.sql)?;
    let raw = match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::Json(s) | Value::Text(s)) => s.clone(),
        other => {
            return Err(ToolError::failed(format!(
                "EXPLAIN returned no JSON plan (got {other:?})"
            )));
        }
    };
    let json: Json = serde_json::from_str(&raw)
        .map_err(|e| ToolError::failed(format!("EXPLAIN returned invalid JSON: {e}")))?;
    let plan = Plan::parse(&json).map_err(ToolError::failed)?;
    let limit = args.limit.clamp(1, 100) as usize;
    Ok(Answer::new(
        describe(&plan, limit),
        structured(&plan, limit, json, raw.len()),
    ))
}

fn describe(plan: &Plan, limit: usize) -> String {
    let root = plan.nodes.first();
    let estimated_rows = root.map_or(0.0, |n| n.plan_rows);
    let mut out = Vec::new();
    let planning = plan.planning_ms.map(|p| format!("planning {} ms", ms(p)));
    if plan.analyzed {
        let actual = root
            .and_then(|n| n.actual_rows)
            .map_or_else(|| "?".into(), rows);
        let mut head = format!(
            "Executed with EXPLAIN ANALYZE (inside a read-only transaction): {} ms",
            plan.execution_ms.map_or_else(|| "?".into(), ms)
        );
        if let Some(p) = &planning {
            head.push_str(&format!(" + {p}"));
        }
        head.push_str(&format!(
            "; total cost {:.2}; rows: {actual} returned, {} estimated.",
            plan.total_cost(),
            rows(estimated_rows)
        ));
        out.push(head);
    } else {
        let mut head = format!(
            "Estimated plan (the statement did not run; pass analyze: true for actual rows and times): total cost {:.2}, {} rows expected",
            plan.total_cost(),
            rows(estimated_rows)
        );
        if let Some(p) = &planning {
            head.push_str(&format!("; {p}"));
        }
        head.push('.');
        out.push(head);
    }

    let ranked: Vec<&Node> = plan.ranked().into_iter().take(limit).collect();
    let by = if plan.analyzed {
        "self time"
    } else {
        "self cost"
    };
    out.push(format!(
        "Costliest nodes first, by {by} (self = the node without its children; rows are per loop):\n{}",
        node_table(&ranked, plan.analyzed)
    ));
    if plan.nodes.len() > ranked.len() {
        out.push(format!(
            "{} more nodes are in the plan tree below; raise `limit` to rank them too.",
            plan.nodes.len() - ranked.len()
        ));
    }

    let off: Vec<String> = plan
        .nodes
        .iter()
        .filter(|n| n.misestimate().is_some_and(|f| f >= MISESTIMATE))
        .map(|n| {
            format!(
                "[{}] {} (estimated {}, actual {})",
                n.id,
                n.label,
                rows(n.plan_rows),
                rows(n.actual_rows.unwrap_or(0.0))
            )
        })
        .collect();
    if !off.is_empty() {
        out.push(format!(
            "Row estimates off by {}× or more: {}. Stale or missing statistics are a common cause (ANALYZE the table), or a condition the planner cannot estimate.",
            MISESTIMATE,
            off.join("; ")
        ));
    }

    let mut tree: Vec<String> = plan.nodes.iter().take(TREE_LINES).map(tree_line).collect();
    if plan.nodes.len() > TREE_LINES {
        tree.push(format!(
            "… {} more nodes (structuredContent.plan has the whole plan)",
            plan.nodes.len() - TREE_LINES
        ));
    }
    out.push(format!("Plan tree:\n{}", tree.join("\n")));
    out.join("\n\n")
}

fn node_table(nodes: &[&Node], analyzed: bool) -> String {
    let mut headers = vec!["#", "node", "self cost", "total cost", "est rows"];
    if analyzed {
        headers.extend(["actual rows", "loops", "self ms"]);
    }
    headers.push("detail");
    let cells: Vec<Vec<String>> = nodes
        .iter()
        .map(|n| {
            let mut row = vec![
                format!("[{}]", n.id),
                n.label.clone(),
                format!("{:.2}", n.self_cost),
                format!("{:.2}", n.total_cost),
                rows(n.plan_rows),
            ];
            if analyzed {
                if n.loops == Some(0.0) {
                    row.extend(["never ran".to_string(), "0".into(), "-".into()]);
                } else {
                    row.push(n.actual_rows.map_or_else(|| "-".into(), rows));
                    row.push(n.loops.map_or_else(|| "-".into(), rows));
                    row.push(n.self_ms.map_or_else(|| "-".into(), ms));
                }
            }
            let mut detail = n.detail.clone().unwrap_or_default();
            if let Some(removed) = n.rows_removed.filter(|r| *r > 0.0) {
                detail = format!(
                    "{detail}{}removed {} rows",
                    if detail.is_empty() { "" } else { "; " },
                    rows(removed)
                );
            }
            row.push(if detail.is_empty() {
                "-".into()
            } else {
                detail
            });
            row
        })
        .collect();
    text::table(&headers, &cells, 70)
}

fn tree_line(n: &Node) -> String {
    let mut line = format!(
        "{}[{}] {}  (cost={:.2}..{:.2} rows={})",
        "  ".repeat(n.depth),
        n.id,
        n.label,
        n.startup_cost,
        n.total_cost,
        rows(n.plan_rows)
    );
    match (n.actual_rows, n.loops, n.total_ms) {
        (_, Some(0.0), _) => line.push_str(" (never executed)"),
        (Some(r), Some(l), Some(t)) => line.push_str(&format!(
            " (actual rows={} loops={} time={} ms)",
            rows(r),
            rows(l),
            ms(t)
        )),
        _ => {}
    }
    line
}

fn rows(n: f64) -> String {
    trim_float(n, 2)
}

fn ms(n: f64) -> String {
    format!("{n:.3}")
}

fn structured(plan: &Plan, limit: usize, json: Json, raw_len: usize) -> ExplainOutput {
    let root = plan.nodes.first();
    ExplainOutput {
        analyzed: plan.analyzed,
        total_cost: plan.total_cost(),
        estimated_rows: root.map_or(0.0, |n| n.plan_rows),
        actual_rows: root.and_then(|n| n.actual_rows),
        planning_ms: plan.planning_ms,
        execution_ms: plan.execution_ms,
        node_count: plan.nodes.len(),
        costliest: plan
            .ranked()
            .into_iter()
            .take(limit)
            .map(|n| NodeOut {
                id: n.id,
                depth: n.depth,
                node: n.label.clone(),
                node_type: n.node_type.clone(),
                self_cost: n.self_cost,
                total_cost: n.total_cost,
                startup_cost: n.startup_cost,
                estimated_rows: n.plan_rows,
                actual_rows: n.actual_rows,
                loops: n.loops,
                self_ms: n.self_ms,
                total_ms: n.total_ms,
                detail: n.detail.clone(),
                rows_removed_by_filter: n.rows_removed,
            })
            .collect(),
        plan: (raw_len <= RAW_PLAN_BYTES).then_some(json),
    }
}

pub fn def() -> ToolDef {
    tool(
        "explain_query",
        "Why a read-only query is slow: costliest plan nodes and misestimates.",
        run,
    )
    .title("Explain a query")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::sql::{DatabaseError, SqlError};
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::testkit::{fake, rows as result};

    use super::*;

    fn plan_rows(plan: &Json) -> plue_plugin_sdk::sql::Rows {
        result(
            &[("QUERY PLAN", "json")],
            vec![vec![Value::Json(plan.to_string())]],
        )
    }

    #[test]
    fn analyze_wraps_the_statement_and_ranks_nodes_with_actual_rows() {
        let log = fake(vec![(
            "EXPLAIN",
            Ok(plan_rows(&crate::plan::tests::analyzed_plan())),
        )]);
        let sql = "SELECT * FROM workflow_runs r LEFT JOIN workflow_definitions d ON r.workflow_definition_id = d.id ORDER BY r.created_at DESC";
        let out = testing::call(
            &plugin(),
            "explain_query",
            json!({"sql": sql, "analyze": true, "limit": 2}),
        )
        .unwrap();
        assert_eq!(
            log.borrow()[0].0,
            format!("EXPLAIN (FORMAT JSON, ANALYZE) {sql}")
        );
        let text = out.text_content();
        assert!(text.starts_with("Executed with EXPLAIN ANALYZE (inside a read-only transaction): 0.410 ms + planning 0.200 ms; total cost 40.60; rows: 18 returned, 200 estimated."), "{text}");
        let table: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("#  "))
            .take(4)
            .collect();
        assert!(table[0].starts_with("#    node"), "{text}");
        assert!(
            table[2].starts_with("[3]  Seq Scan on workflow_runs r"),
            "{text}"
        );
        assert!(
            table[2].contains("15.00")
                && table[2].contains("0.200")
                && table[2].contains("filter: ((status)"),
            "{text}"
        );
        assert!(table[3].starts_with("[2]  Hash Left Join"), "{text}");
        assert!(
            text.contains("3 more nodes are in the plan tree below"),
            "{text}"
        );
        assert!(
            text.contains(
                "Row estimates off by 10× or more: [1] Sort (estimated 200, actual 18); "
            ),
            "{text}"
        );
        assert!(
            text.contains("; [3] Seq Scan on workflow_runs r (estimated 1, actual 18); "),
            "{text}"
        );
        assert!(text.contains("Plan tree:\n[1] Sort  (cost=40.10..40.60 rows=200) (actual rows=18 loops=1 time=0.360 ms)\n  [2] Hash Left Join"), "{text}");
        let s = out.structured().unwrap();
        assert_eq!(s["analyzed"], true);
        assert_eq!(s["node_count"], 5);
        assert_eq!(s["costliest"][0]["node"], "Seq Scan on workflow_runs r");
        assert_eq!(s["costliest"][0]["actual_rows"], 18.0);
        assert_eq!(s["plan"][0]["Execution Time"], 0.41);
    }

    #[test]
    fn without_analyze_only_plans() {
        let plan = json!([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "users", "Alias": "users",
                                    "Startup Cost": 0.0, "Total Cost": 1.11, "Plan Rows": 11, "Plan Width": 4}}]);
        let log = fake(vec![("EXPLAIN", Ok(plan_rows(&plan)))]);
        let out = testing::call(
            &plugin(),
            "explain_query",
            json!({"sql": "SELECT id FROM users"}),
        )
        .unwrap();
        assert_eq!(
            log.borrow()[0].0,
            "EXPLAIN (FORMAT JSON) SELECT id FROM users"
        );
        let text = out.text_content();
        assert!(text.starts_with("Estimated plan (the statement did not run; pass analyze: true for actual rows and times): total cost 1.11, 11 rows expected."), "{text}");
        assert!(!text.contains("loops"), "{text}");
        assert!(
            text.ends_with("Plan tree:\n[1] Seq Scan on users  (cost=0.00..1.11 rows=11)"),
            "{text}"
        );
    }

    #[test]
    fn error_positions_point_into_the_agents_statement() {
        let prefix_len = "EXPLAIN (FORMAT JSON) ".len() as u32;
        fake(vec![(
            "EXPLAIN",
            Err(SqlError::Database(DatabaseError {
                code: "42P01".into(),
                message: "relation \"userz\" does not exist".into(),
                detail: None,
                hint: None,
                position: Some(prefix_len + 15),
            })),
        )]);
        let err = testing::call(
            &plugin(),
            "explain_query",
            json!({"sql": "SELECT 1 FROM userz"}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "PostgreSQL error 42P01: relation \"userz\" does not exist (at character 15)\n  SELECT 1 FROM userz\n                ^"
        );
    }
}
