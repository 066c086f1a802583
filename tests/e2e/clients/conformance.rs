//! The official conformance suite against `serve --http`: which of its server scenarios
//! apply to this server and why the others do not, checked against the capabilities the
//! server advertises, and the verdict on each scenario in scope.

use std::path::Path;

use anyhow::{Context, Result};
use plue_tests::clients::{self, ConformanceCheck};
use serde_json::Value;

use super::{Outcome, one_line, tail};

/// Scenarios that apply: (name, what it proves, the server capability it needs).
const IN_SCOPE: &[(&str, &str, Option<&str>)] = &[
    ("server-initialize", "the initialize handshake", None),
    ("ping", "ping answers {}", None),
    ("logging-set-level", "logging/setLevel", Some("logging")),
    (
        "tools-list",
        "tools/list as the suite's SDK client validates it",
        Some("tools"),
    ),
    (
        "dns-rebinding-protection",
        "a non-loopback Host/Origin is refused",
        None,
    ),
    (
        "server-sse-polling",
        "SSE priming event and retry field on POST streams",
        None,
    ),
    (
        "server-sse-multiple-streams",
        "concurrent POST SSE streams in one session",
        None,
    ),
];

/// Why a scenario does not apply.
#[derive(Clone, Copy)]
enum Reason {
    /// It calls or looks for a tool only the suite's reference server has.
    SuiteTool(&'static str),
    /// It needs a capability the server does not advertise (checked).
    NotAdvertised(&'static str),
    /// It reads the suite's reference content (prompts, resources, completions named
    /// `test_*` / `test://`); the same protocol paths run with the official SDK clients on
    /// this server's own content (`plan::context`), as issue 16 asks.
    SuiteContent(&'static str),
}

const OUT_OF_SCOPE: &[(&str, Reason)] = &[
    ("completion-complete", Reason::SuiteContent("completions")),
    (
        "tools-call-simple-text",
        Reason::SuiteTool("test_simple_text"),
    ),
    ("tools-call-image", Reason::SuiteTool("test_image_content")),
    ("tools-call-audio", Reason::SuiteTool("test_audio_content")),
    (
        "tools-call-embedded-resource",
        Reason::SuiteTool("test_embedded_resource"),
    ),
    (
        "tools-call-mixed-content",
        Reason::SuiteTool("test_multiple_content_types"),
    ),
    (
        "tools-call-with-logging",
        Reason::SuiteTool("test_tool_with_logging"),
    ),
    ("tools-call-error", Reason::SuiteTool("test_error_handling")),
    (
        "tools-call-with-progress",
        Reason::SuiteTool("test_tool_with_progress"),
    ),
    ("tools-call-sampling", Reason::SuiteTool("test_sampling")),
    (
        "tools-call-elicitation",
        Reason::SuiteTool("test_elicitation"),
    ),
    (
        "json-schema-2020-12",
        Reason::SuiteTool("json_schema_2020_12_tool"),
    ),
    (
        "elicitation-sep1034-defaults",
        Reason::SuiteTool("test_elicitation_sep1034_defaults"),
    ),
    (
        "elicitation-sep1330-enums",
        Reason::SuiteTool("test_elicitation_sep1330_enums"),
    ),
    ("resources-list", Reason::SuiteContent("resources")),
    ("resources-read-text", Reason::SuiteContent("resources")),
    ("resources-read-binary", Reason::SuiteContent("resources")),
    (
        "resources-templates-read",
        Reason::SuiteContent("resources"),
    ),
    (
        "resources-subscribe",
        Reason::NotAdvertised("resources.subscribe"),
    ),
    (
        "resources-unsubscribe",
        Reason::NotAdvertised("resources.subscribe"),
    ),
    ("prompts-list", Reason::SuiteContent("prompts")),
    ("prompts-get-simple", Reason::SuiteContent("prompts")),
    ("prompts-get-with-args", Reason::SuiteContent("prompts")),
    (
        "prompts-get-embedded-resource",
        Reason::SuiteContent("prompts"),
    ),
    ("prompts-get-with-image", Reason::SuiteContent("prompts")),
];

/// Warnings of in-scope scenarios that say nothing about this server: (scenario, check, why).
const TOLERATED_WARNINGS: &[(&str, &str, &str)] = &[(
    "server-sse-polling",
    "server-sse-disconnect-resume",
    "needs the suite's `test_reconnection` tool, which closes the stream mid-call",
)];

impl Reason {
    fn text(self) -> String {
        match self {
            Reason::SuiteTool(tool) => format!("needs the suite's own tool `{tool}`"),
            Reason::NotAdvertised(cap) => format!("the server does not advertise `{cap}`"),
            Reason::SuiteContent(cap) => format!(
                "reads the suite's reference {cap}; tested with the official SDK clients on this server's own"
            ),
        }
    }
}

/// Runs every in-scope scenario against `url`. `capabilities` is what the server advertised
/// at initialize: the scope tables must agree with it, and cover the suite's scenarios exactly.
pub async fn run(url: &str, capabilities: &Value, home: &Path) -> Result<Outcome> {
    let scenarios = clients::conformance_scenarios(home).await?;
    let mut problems = scope_problems(&scenarios, capabilities);
    let mut output = String::new();
    for (name, reason) in OUT_OF_SCOPE {
        output.push_str(&format!("out of scope  {name}: {}\n", reason.text()));
    }
    for (name, what, _) in IN_SCOPE {
        if !scenarios.iter().any(|s| s == name) {
            continue; // reported by scope_problems
        }
        let (run, checks) = clients::conformance_scenario(url, name, home)
            .await
            .with_context(|| format!("conformance scenario {name}"))?;
        let mut bad: Vec<String> = checks.iter().filter_map(|c| verdict(name, c)).collect();
        if bad.is_empty() && !checks.iter().any(|c| c.status == "SUCCESS") {
            bad.push(format!("no successful check:\n{}", tail(&run.stdout)));
        }
        let mark = if bad.is_empty() { "ok  " } else { "FAIL" };
        output.push_str(&format!(
            "{mark}  {name}: {what} ({} checks)\n",
            checks.len()
        ));
        problems.extend(bad.into_iter().map(|b| format!("{name}: {b}")));
    }
    Ok(Outcome {
        client: "conformance suite (streamable HTTP)".into(),
        problems,
        output,
    })
}

/// What is wrong with one check of an in-scope scenario, if anything.
fn verdict(scenario: &str, check: &ConformanceCheck) -> Option<String> {
    let tolerated = TOLERATED_WARNINGS
        .iter()
        .any(|(s, c, _)| *s == scenario && *c == check.id);
    let failed = check.status == "FAILURE" || (check.status == "WARNING" && !tolerated);
    failed.then(|| {
        let message = check.error_message.as_deref().unwrap_or("");
        format!("{} {}: {}", check.status, check.id, one_line(message))
    })
}

/// Scenarios the tables do not cover or that left the suite, and scope decisions the
/// advertised capabilities contradict.
fn scope_problems(scenarios: &[String], capabilities: &Value) -> Vec<String> {
    // `resources.subscribe` names a flag inside a capability.
    let advertised = |cap: &str| {
        cap.split('.')
            .try_fold(capabilities, |v, key| v.get(key))
            .is_some_and(|v| !v.is_null() && *v != Value::Bool(false))
    };
    let mut problems = Vec::new();
    let tabled: Vec<&str> = IN_SCOPE
        .iter()
        .map(|(n, _, _)| *n)
        .chain(OUT_OF_SCOPE.iter().map(|(n, _)| *n))
        .collect();
    for name in scenarios.iter().filter(|n| !tabled.contains(&n.as_str())) {
        problems.push(format!(
            "new scenario `{name}`: add it to IN_SCOPE or OUT_OF_SCOPE in tests/e2e/clients/conformance.rs"
        ));
    }
    for name in tabled.iter().filter(|n| !scenarios.iter().any(|s| s == *n)) {
        problems.push(format!("scenario `{name}` is no longer in the suite"));
    }
    for (name, _, needs) in IN_SCOPE {
        if let Some(cap) = needs.filter(|cap| !advertised(cap)) {
            problems.push(format!(
                "`{name}` is in scope but the server does not advertise `{cap}`"
            ));
        }
    }
    for (name, reason) in OUT_OF_SCOPE {
        if let Reason::NotAdvertised(cap) = reason
            && advertised(cap)
        {
            problems.push(format!(
                "the server advertises `{cap}`: `{name}` belongs in IN_SCOPE"
            ));
        }
    }
    problems
}
