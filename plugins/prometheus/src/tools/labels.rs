//! `prometheus_labels`: label names, or one label's values, optionally only those of
//! series matching selectors (`match`), capped.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::text::{self, cut_note};
use plue_plugin_sdk::time::now;

use crate::api::{Api, unix};
use crate::promql::{label_path_segment, time_arg};
use crate::tools::notes_text;

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// List its values (`__name__`: metrics).
    #[serde(default)]
    pub label: Option<String>,
    /// Selectors, e.g. `["{job=\"plue-api\"}"]`.
    #[serde(
        default,
        rename = "match",
        deserialize_with = "crate::tools::selectors"
    )]
    #[schemars(with = "crate::tools::Selectors")]
    pub selectors: Vec<String>,
    /// Default: all data.
    #[serde(default)]
    pub start: Option<String>,
    /// Default now.
    #[serde(default)]
    pub end: Option<String>,
    /// Default 200; all are counted.
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<u32>,
}

/// What `prometheus_labels` returns.
#[derive(Serialize, JsonSchema)]
pub struct LabelsOut {
    /// The label whose values are listed; null when label names are listed.
    pub label: Option<String>,
    // How many names or values there are.
    pub total: usize,
    // The names or values listed, sorted, at most `limit`.
    pub values: Vec<String>,
    pub truncated: bool,
    pub warnings: Vec<String>,
}

fn run(args: Args) -> Result<Answer<LabelsOut>, ToolError> {
    let now = now();
    let mut params: Vec<(&str, String)> = args
        .selectors
        .iter()
        .map(|s| ("match[]", s.clone()))
        .collect();
    if let Some(start) = &args.start {
        params.push(("start", unix(time_arg("start", Some(start), now)?)));
    }
    if args.start.is_some() || args.end.is_some() {
        params.push(("end", unix(time_arg("end", args.end.as_deref(), now)?)));
    }
    let query: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let label = args
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let path = match label {
        Some(l) => format!("/api/v1/label/{}/values", label_path_segment(l)),
        None => "/api/v1/labels".to_string(),
    };
    let reply = Api::new()
        .get::<Vec<String>>(&path, &query)
        .map_err(|e| e.for_query(&args.selectors.join(" ")))?;
    let mut values = reply.data;
    values.sort();
    let total = values.len();
    let limit = text::limit(args.limit, 200, 1000);
    values.truncate(limit);
    let scope = if args.selectors.is_empty() {
        String::new()
    } else {
        format!(" of series matching {}", args.selectors.join(", "))
    };
    let body = match (label, total) {
        (Some(l), 0) => format!(
            "Label `{l}` has no values{scope}. Label names are listed by prometheus_labels without `label`."
        ),
        (None, 0) => format!("No labels{scope}: no series match."),
        (Some(l), n) => format!(
            "{} of label `{l}`{scope}:\n{}",
            text::plural(n, "value", "values"),
            values.join("\n")
        ),
        (None, n) => format!(
            "{}{scope}:\n{}",
            text::plural(n, "label name", "label names"),
            values.join("\n")
        ),
    };
    let note = (values.len() < total).then(|| {
        cut_note(
            values.len(),
            total,
            if label.is_some() {
                "values"
            } else {
                "label names"
            },
            "pass `match` selectors (e.g. {job=\"…\"}), set `start`, or raise `limit`",
        )
    });
    let out = LabelsOut {
        label: label.map(str::to_string),
        total,
        truncated: values.len() < total,
        values,
        warnings: reply.notes,
    };
    Ok(Answer::new(
        text::blocks(vec![Some(body), note, notes_text(&out.warnings)]),
        out,
    ))
}

/// The tool.
pub fn def() -> ToolDef {
    tool(
        "prometheus_labels",
        "Label names, or one `label`'s values (`__name__`: metric names).",
        run,
    )
    .title("Label names and values")
    .read_only()
    .open_world()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;
    use serde_json::json;

    use crate::plugin;

    #[test]
    fn values_with_match_are_encoded_and_capped() {
        testing::fake_http(|req| {
            assert_eq!(
                req.path_and_query,
                "/api/v1/label/job/values?match%5B%5D=up%7Binstance%3D~%22.%2A%3A9090%22%7D"
            );
            Ok(testing::response(
                200,
                r#"{"status":"success","data":["b","a","c"]}"#,
            ))
        });
        let out = testing::call(
            &plugin(),
            "prometheus_labels",
            json!({"label": "job", "match": ["up{instance=~\".*:9090\"}"], "limit": 2}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.starts_with("3 values of label `job` of series matching up{instance=~\".*:9090\"}:\na\nb\n\nShowing 2 of 3 values"), "{text}");
        assert_eq!(out.structured().unwrap()["values"], json!(["a", "b"]));
    }

    #[test]
    fn names_and_odd_label_names() {
        testing::fake_http(|req| {
            assert_eq!(req.path_and_query, "/api/v1/labels");
            Ok(testing::response(
                200,
                r#"{"status":"success","data":["job","__name__"]}"#,
            ))
        });
        let out = testing::call(&plugin(), "prometheus_labels", json!({})).unwrap();
        assert_eq!(out.text_content(), "2 label names:\n__name__\njob");
        testing::fake_http(|req| {
            assert_eq!(req.path_and_query, "/api/v1/label/U__a_2f_b/values");
            Ok(testing::response(200, r#"{"status":"success","data":[]}"#))
        });
        let out = testing::call(&plugin(), "prometheus_labels", json!({"label": "a/b"})).unwrap();
        assert!(
            out.text_content().starts_with("Label `a/b` has no values."),
            "{}",
            out.text_content()
        );
    }
}
