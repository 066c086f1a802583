//! PostgreSQL's `EXPLAIN (FORMAT JSON)` output read into a flat list of plan
//! nodes, each with its own ("self") share of the cost and, when the plan was
//! analyzed, of the time, so the costliest nodes can be listed first. Pure: no I/O.

use serde_json::Value as Json;

/// One node of a plan, in the order a depth-first walk meets it.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based position in the walk (the number shown in the plan tree).
    pub id: usize,
    // Nesting depth; the root is 0.
    pub depth: usize,
    /// `Seq Scan`, `Hash Join`, …
    pub node_type: String,
    /// The node type with what it works on: `Index Scan using idx on users u`.
    pub label: String,
    /// The planner's cost to return the first row.
    pub startup_cost: f64,
    /// The planner's cost to return every row, children included.
    pub total_cost: f64,
    /// `total_cost` minus the children's total costs.
    pub self_cost: f64,
    // Rows the planner expected, per loop.
    pub plan_rows: f64,
    /// Rows actually returned, per loop (analyzed plans only).
    pub actual_rows: Option<f64>,
    /// How many times the node ran (analyzed plans only).
    pub loops: Option<f64>,
    /// Milliseconds in this node and its children, all loops (analyzed plans only).
    pub total_ms: Option<f64>,
    /// Milliseconds in this node without its children (analyzed plans only).
    pub self_ms: Option<f64>,
    /// The condition or key that explains the node (filter, index condition, sort key, …).
    pub detail: Option<String>,
    /// Rows the node's filter threw away, per loop (analyzed plans only).
    pub rows_removed: Option<f64>,
}

impl Node {
    /// How far the estimate was from the actual rows, as a factor ≥ 1, when
    /// the node ran; `None` for plans not analyzed and nodes never executed.
    pub fn misestimate(&self) -> Option<f64> {
        let actual = self.actual_rows?;
        if self.loops? == 0.0 {
            return None;
        }
        let (lo, hi) = if actual < self.plan_rows {
            (actual, self.plan_rows)
        } else {
            (self.plan_rows, actual)
        };
        Some(hi.max(1.0) / lo.max(1.0))
    }
}

/// A whole plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Every node, depth first.
    pub nodes: Vec<Node>,
    // Whether the statement ran (EXPLAIN ANALYZE).
    pub analyzed: bool,
    /// Planning time in milliseconds, when reported.
    pub planning_ms: Option<f64>,
    /// Execution time in milliseconds (analyzed plans only).
    pub execution_ms: Option<f64>,
}

impl Plan {
    /// Read the JSON PostgreSQL returns: `[{"Plan": {…}, "Planning Time": …}]`.
    pub fn parse(json: &Json) -> Result<Plan, String> {
        let top = json.as_array().and_then(|a| a.first()).unwrap_or(json);
        let root = top
            .get("Plan")
            .ok_or("the EXPLAIN output has no \"Plan\"")?;
        let mut nodes = Vec::new();
        walk(root, 0, &mut nodes);
        let analyzed = nodes.iter().any(|n| n.actual_rows.is_some());
        Ok(Plan {
            nodes,
            analyzed,
            planning_ms: top.get("Planning Time").and_then(Json::as_f64),
            execution_ms: top.get("Execution Time").and_then(Json::as_f64),
        })
    }

    /// The nodes, costliest first: by self time when analyzed, else by self cost.
    pub fn ranked(&self) -> Vec<&Node> {
        let mut nodes: Vec<&Node> = self.nodes.iter().collect();
        let key = |n: &Node| (n.self_ms.unwrap_or(0.0), n.self_cost);
        nodes.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            kb.0.total_cmp(&ka.0)
                .then(kb.1.total_cmp(&ka.1))
                .then(a.id.cmp(&b.id))
        });
        nodes
    }

    /// The root's total cost.
    pub fn total_cost(&self) -> f64 {
        self.nodes.first().map_or(0.0, |n| n.total_cost)
    }
}

/// Add `node` and its children to `out`, depth first; return the node's
/// total cost and total time (all loops) for the parent's self figures.
fn walk(node: &Json, depth: usize, out: &mut Vec<Node>) -> (f64, Option<f64>) {
    let f = |key: &str| node.get(key).and_then(Json::as_f64);
    let s = |key: &str| node.get(key).and_then(Json::as_str).map(str::to_string);
    let index = out.len();
    let total_cost = f("Total Cost").unwrap_or(0.0);
    let loops = f("Actual Loops");
    let total_ms = match (f("Actual Total Time"), loops) {
        (Some(t), Some(l)) => Some(t * l),
        _ => None,
    };
    out.push(Node {
        id: index + 1,
        depth,
        node_type: s("Node Type").unwrap_or_else(|| "?".into()),
        label: label(node),
        startup_cost: f("Startup Cost").unwrap_or(0.0),
        total_cost,
        self_cost: total_cost,
        plan_rows: f("Plan Rows").unwrap_or(0.0),
        actual_rows: f("Actual Rows"),
        loops,
        total_ms,
        self_ms: total_ms,
        detail: detail(node),
        rows_removed: f("Rows Removed by Filter").or_else(|| f("Rows Removed by Join Filter")),
    });
    let mut children_cost = 0.0;
    let mut children_ms = 0.0;
    for child in node
        .get("Plans")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let (cost, ms) = walk(child, depth + 1, out);
        children_cost += cost;
        children_ms += ms.unwrap_or(0.0);
    }
    let me = &mut out[index];
    me.self_cost = (total_cost - children_cost).max(0.0);
    me.self_ms = total_ms.map(|t| (t - children_ms).max(0.0));
    (total_cost, total_ms)
}

fn label(node: &Json) -> String {
    let s = |key: &str| node.get(key).and_then(Json::as_str);
    let mut text = s("Node Type").unwrap_or("?").to_string();
    if text == "Aggregate" {
        match s("Strategy") {
            Some("Hashed") => text = "HashAggregate".into(),
            Some("Sorted") => text = "GroupAggregate".into(),
            Some("Mixed") => text = "MixedAggregate".into(),
            _ => {}
        }
    }
    if let Some(join) = s("Join Type").filter(|j| *j != "Inner") {
        text = match text.strip_suffix(" Join") {
            Some(base) => format!("{base} {join} Join"),
            None => format!("{text} ({join})"),
        };
    }
    if let Some(index) = s("Index Name") {
        text.push_str(&format!(" using {index}"));
    }
    let target = s("Relation Name")
        .map(|r| {
            let shown = match s("Schema") {
                Some(schema) if schema != "public" => format!("{schema}.{r}"),
                _ => r.to_string(),
            };
            (r, shown)
        })
        .or_else(|| s("CTE Name").map(|c| (c, c.to_string())))
        .or_else(|| s("Function Name").map(|f| (f, format!("{f}()"))));
    if let Some((name, shown)) = target {
        text.push_str(&format!(" on {shown}"));
        if let Some(alias) = s("Alias").filter(|a| *a != name) {
            text.push_str(&format!(" {alias}"));
        }
    }
    if let Some(sub) = s("Subplan Name") {
        text = format!("{sub}: {text}");
    }
    text
}

fn detail(node: &Json) -> Option<String> {
    let s = |key: &str| node.get(key).and_then(Json::as_str);
    let list = |key: &str| {
        node.get(key).and_then(Json::as_array).map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let mut parts = Vec::new();
    for (key, name) in [
        ("Index Cond", "index cond"),
        ("Hash Cond", "hash cond"),
        ("Merge Cond", "merge cond"),
        ("Recheck Cond", "recheck"),
        ("Join Filter", "join filter"),
        ("Filter", "filter"),
    ] {
        if let Some(v) = s(key) {
            parts.push(format!("{name}: {v}"));
        }
    }
    for (key, name) in [("Sort Key", "sort key"), ("Group Key", "group key")] {
        if let Some(v) = list(key).filter(|v| !v.is_empty()) {
            parts.push(format!("{name}: {v}"));
        }
    }
    if let Some(method) = s("Sort Method") {
        let space = node.get("Sort Space Used").and_then(Json::as_f64);
        let kind = s("Sort Space Type").unwrap_or("");
        parts.push(match space {
            Some(kb) => format!("sort: {method}, {kb} kB {}", kind.to_lowercase()),
            None => format!("sort: {method}"),
        });
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// The shape PostgreSQL 16 returns for
    /// `EXPLAIN (FORMAT JSON, ANALYZE) SELECT … FROM workflow_runs r JOIN workflow_definitions d …`.
    pub(crate) fn analyzed_plan() -> Json {
        json!([{
            "Plan": {
                "Node Type": "Sort", "Parallel Aware": false, "Async Capable": false,
                "Startup Cost": 40.1, "Total Cost": 40.6, "Plan Rows": 200, "Plan Width": 72,
                "Actual Startup Time": 0.35, "Actual Total Time": 0.36, "Actual Rows": 18, "Actual Loops": 1,
                "Sort Key": ["r.created_at DESC"], "Sort Method": "quicksort", "Sort Space Type": "Memory", "Sort Space Used": 27,
                "Plans": [{
                    "Node Type": "Hash Join", "Parent Relationship": "Outer", "Join Type": "Left",
                    "Startup Cost": 12.0, "Total Cost": 30.0, "Plan Rows": 200, "Plan Width": 72,
                    "Actual Startup Time": 0.05, "Actual Total Time": 0.30, "Actual Rows": 18, "Actual Loops": 1,
                    "Hash Cond": "(r.workflow_definition_id = d.id)",
                    "Plans": [
                        {"Node Type": "Seq Scan", "Parent Relationship": "Outer", "Relation Name": "workflow_runs",
                         "Schema": "public", "Alias": "r", "Startup Cost": 0.0, "Total Cost": 15.0, "Plan Rows": 1,
                         "Plan Width": 40, "Actual Startup Time": 0.01, "Actual Total Time": 0.2, "Actual Rows": 18,
                         "Actual Loops": 1, "Filter": "((status)::text <> 'x'::text)", "Rows Removed by Filter": 0},
                        {"Node Type": "Hash", "Parent Relationship": "Inner", "Startup Cost": 11.0, "Total Cost": 11.0,
                         "Plan Rows": 100, "Plan Width": 36, "Actual Startup Time": 0.02, "Actual Total Time": 0.02,
                         "Actual Rows": 5, "Actual Loops": 1,
                         "Plans": [{"Node Type": "Seq Scan", "Parent Relationship": "Outer",
                                    "Relation Name": "workflow_definitions", "Schema": "public", "Alias": "d",
                                    "Startup Cost": 0.0, "Total Cost": 11.0, "Plan Rows": 100, "Plan Width": 36,
                                    "Actual Startup Time": 0.005, "Actual Total Time": 0.01, "Actual Rows": 5,
                                    "Actual Loops": 1}]}
                    ]
                }]
            },
            "Planning Time": 0.2, "Triggers": [], "Execution Time": 0.41
        }])
    }

    #[test]
    fn nodes_get_their_own_share_of_cost_and_time() {
        let plan = Plan::parse(&analyzed_plan()).unwrap();
        assert!(plan.analyzed);
        assert_eq!(
            (plan.planning_ms, plan.execution_ms),
            (Some(0.2), Some(0.41))
        );
        let labels: Vec<(&str, usize)> = plan
            .nodes
            .iter()
            .map(|n| (n.label.as_str(), n.depth))
            .collect();
        assert_eq!(
            labels,
            [
                ("Sort", 0),
                ("Hash Left Join", 1),
                ("Seq Scan on workflow_runs r", 2),
                ("Hash", 2),
                ("Seq Scan on workflow_definitions d", 3)
            ]
        );
        let join = &plan.nodes[1];
        assert!((join.self_cost - 4.0).abs() < 1e-9, "{}", join.self_cost);
        assert!((join.self_ms.unwrap() - 0.08).abs() < 1e-9);
        assert_eq!(
            plan.nodes[0].detail.as_deref(),
            Some("sort key: r.created_at DESC; sort: quicksort, 27 kB memory")
        );
        assert_eq!(
            plan.nodes[2].detail.as_deref(),
            Some("filter: ((status)::text <> 'x'::text)")
        );
        assert_eq!(plan.nodes[2].misestimate(), Some(18.0));
        assert_eq!(plan.total_cost(), 40.6);
    }

    #[test]
    fn ranking_uses_time_when_analyzed_else_cost() {
        let plan = Plan::parse(&analyzed_plan()).unwrap();
        let ids: Vec<usize> = plan.ranked().iter().map(|n| n.id).collect();
        assert_eq!(ids[0], 3, "the scan of workflow_runs took the most time");

        let mut estimated = analyzed_plan();
        strip_actuals(&mut estimated);
        let plan = Plan::parse(&estimated).unwrap();
        assert!(!plan.analyzed);
        let ids: Vec<usize> = plan.ranked().iter().map(|n| n.id).collect();
        assert_eq!(ids, [3, 5, 1, 2, 4], "self costs 15, 11, 10.6, 4, 0");
        assert_eq!(plan.nodes[2].misestimate(), None);
    }

    #[test]
    fn labels_name_indexes_ctes_functions_and_subplans() {
        let one = |node: Json| {
            Plan::parse(&json!([{ "Plan": node }])).unwrap().nodes[0]
                .label
                .clone()
        };
        assert_eq!(
            one(
                json!({"Node Type": "Index Scan", "Index Name": "users_pkey", "Relation Name": "users", "Alias": "u"})
            ),
            "Index Scan using users_pkey on users u"
        );
        assert_eq!(
            one(json!({"Node Type": "CTE Scan", "CTE Name": "x", "Alias": "x"})),
            "CTE Scan on x"
        );
        assert_eq!(
            one(
                json!({"Node Type": "Function Scan", "Function Name": "generate_series", "Alias": "g"})
            ),
            "Function Scan on generate_series() g"
        );
        assert_eq!(
            one(
                json!({"Node Type": "Aggregate", "Strategy": "Hashed", "Subplan Name": "InitPlan 1"})
            ),
            "InitPlan 1: HashAggregate"
        );
        assert_eq!(
            one(
                json!({"Node Type": "Seq Scan", "Relation Name": "t", "Schema": "audit", "Alias": "t"})
            ),
            "Seq Scan on audit.t"
        );
        assert_eq!(
            one(json!({"Node Type": "Seq Scan", "Relation Name": "users", "Alias": "s"})),
            "Seq Scan on users s"
        );
        assert!(Plan::parse(&json!([{"Nope": 1}])).is_err());
    }

    fn strip_actuals(v: &mut Json) {
        match v {
            Json::Object(map) => {
                map.retain(|k, _| {
                    !k.starts_with("Actual")
                        && k != "Execution Time"
                        && !k.starts_with("Rows Removed")
                });
                map.values_mut().for_each(strip_actuals);
            }
            Json::Array(items) => items.iter_mut().for_each(strip_actuals),
            _ => {}
        }
    }
}
