//! Completions of `run_id` (newest runs first) and `step_id` (the steps of the
//! run named in `run_id` when given, else the newest steps), matched on the
//! digits typed so far.

use plue_plugin_sdk::complete::MAX_VALUES;
use plue_plugin_sdk::prelude::*;

use crate::queries;

/// The digits typed so far (a leading `#` allowed), or `None` when the text
/// cannot start an id (then nothing matches).
fn digits(typed: &str) -> Option<&str> {
    let t = typed.trim().trim_start_matches('#');
    t.chars().all(|c| c.is_ascii_digit()).then_some(t)
}

/// Run ids starting with what was typed, newest run first.
pub fn run_id(c: &Completing) -> Result<Vec<String>, ToolError> {
    let Some(prefix) = digits(&c.value) else {
        return Ok(Vec::new());
    };
    Ok(queries::run_ids(prefix, MAX_VALUES as i64 + 1)?
        .into_iter()
        .map(|id| id.to_string())
        .collect())
}

/// Step ids starting with what was typed: of run `run_id` (context) in step
/// order, else the newest steps.
pub fn step_id(c: &Completing) -> Result<Vec<String>, ToolError> {
    let Some(prefix) = digits(&c.value) else {
        return Ok(Vec::new());
    };
    let run = c
        .context
        .get("run_id")
        .and_then(|r| r.trim().trim_start_matches('#').parse::<i64>().ok())
        .filter(|r| *r > 0);
    match run {
        Some(run) => Ok(queries::steps(run, run)?
            .iter()
            .map(|s| s.id.to_string())
            .filter(|id| id.starts_with(prefix))
            .collect()),
        None => Ok(queries::step_ids(prefix, MAX_VALUES as i64 + 1)?
            .into_iter()
            .map(|id| id.to_string())
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::prelude::*;
    use plue_plugin_sdk::testing;

    #[test]
    fn run_ids_come_newest_first_for_the_digits_typed() {
        let log = testing::sql_routes(
            crate::queries::DB,
            vec![(
                "r.id::text LIKE",
                Ok(testing::json_rows(&[
                    json!({"id": 13}),
                    json!({"id": 1}),
                    json!({"id": 10}),
                ])),
            )],
        );
        let values = testing::complete(&crate::plugin(), "run_id", "#1", &[]).unwrap();
        assert_eq!(values, ["13", "1", "10"]);
        let sent = &log.borrow()[0].1;
        assert_eq!(sent[0].as_str(), Some("1"));
        assert_eq!(sent[1].as_i64(), Some(101));
        // Text that cannot start an id asks nothing.
        assert!(
            testing::complete(&crate::plugin(), "run_id", "ab", &[])
                .unwrap()
                .is_empty()
        );
        assert_eq!(log.borrow().len(), 1);
    }

    #[test]
    fn step_ids_follow_the_run_in_context() {
        crate::tools::testing::serve(vec![(
            "FROM workflow_steps s\n  LEFT JOIN LATERAL",
            vec![
                json!({"id": 16, "run_id": 6, "plan_id": "step_1", "name": "install", "step_type": "shell", "status": "completed", "log_rows": 0}),
                json!({"id": 18, "run_id": 6, "plan_id": "step_3", "name": "test", "step_type": "shell", "status": "failed", "log_rows": 0}),
                json!({"id": 21, "run_id": 6, "plan_id": "step_4", "name": "e2e", "step_type": "shell", "status": "failed", "log_rows": 0}),
            ],
        )]);
        let p = crate::plugin();
        assert_eq!(
            testing::complete(&p, "step_id", "1", &[("run_id", "6")]).unwrap(),
            ["16", "18"]
        );
        assert_eq!(
            testing::complete(&p, "step_id", "", &[("run_id", "6")]).unwrap(),
            ["16", "18", "21"]
        );
    }

    #[test]
    fn step_ids_without_a_run_are_the_newest() {
        let log = testing::sql_routes(
            crate::queries::DB,
            vec![(
                "s.id::text LIKE",
                Ok(testing::json_rows(&[json!({"id": 22}), json!({"id": 2})])),
            )],
        );
        assert_eq!(
            testing::complete(&crate::plugin(), "step_id", "2", &[]).unwrap(),
            ["22", "2"]
        );
        assert_eq!(log.borrow()[0].1[0].as_str(), Some("2"));
    }
}
