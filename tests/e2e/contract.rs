//! The schema contract end to end, with test plugins written against the WIT
//! without the SDK: loose schemas are served normalised (no bare `true`, no
//! non-standard `format`), structured content off its schema or missing never
//! reaches the client, undeclared arguments are refused before the plugin
//! runs, and a manifest flood is refused at load.

use std::path::Path;
use std::process::Command;

use plue_tests::mcp::{self, Host};
use serde_json::{Value, json};

fn test_plugin(file: &str) -> String {
    Path::new(env!("PLUE_TEST_PLUGINS_DIR"))
        .join(file)
        .display()
        .to_string()
}

async fn host() -> Host {
    let config = format!(
        "[plugins.contract]\npath = \"{}\"\n",
        test_plugin("plue_test_contract.wasm")
    );
    Host::start(super::example::binary(), &config)
        .await
        .unwrap()
}

/// Every subschema position in `schema` holds an object, and no `format`
/// outside JSON Schema's vocabulary appears anywhere.
fn assert_clean(schema: &Value, path: &str) {
    let text = schema.to_string();
    for bad in ["\"uint\"", "\"uint32\"", ":true", ":false"] {
        assert!(!text.contains(bad), "{path}: {bad} in {text}");
    }
}

#[tokio::test]
async fn loose_schemas_are_served_normalised() {
    let host = host().await;
    let tools = host.list_tools().await.unwrap();
    let shaped = tools.iter().find(|t| t.name == "shaped").unwrap();
    let output = Value::Object((**shaped.output_schema.as_ref().unwrap()).clone());
    let input = Value::Object((*shaped.input_schema).clone());
    assert_eq!(output["properties"]["inputs"], json!({}), "{output}");
    assert_eq!(output["properties"]["series"]["items"]["items"], json!({}));
    // The declared constraints survive normalisation.
    assert_eq!(output["properties"]["count"]["minimum"], json!(0));
    assert_clean(&output, "output");
    assert_clean(&input, "input");
    // And the normalised schema still accepts what the plugin answers.
    let result = host
        .call_ok("echo_limit", json!({"limit": 7}))
        .await
        .unwrap();
    assert_eq!(mcp::structured(&result)["count"], json!(7));
}

#[tokio::test]
async fn structured_content_off_its_schema_becomes_an_error_naming_path_and_rule() {
    let host = host().await;
    // (shape, what the error must say), each derived from the plugin's answer
    // and the declared output schema.
    let cases = [
        (
            "missing_field",
            vec![
                "at `/`",
                "\"series\" is a required property",
                "rule `required`",
            ],
        ),
        ("wrong_type", vec!["at `/count`", "rule `type`"]),
        (
            "no_structured",
            vec!["declares an output schema but returned no structured content"],
        ),
    ];
    for (shape, needles) in cases {
        let result = host.call("shaped", json!({"shape": shape})).await.unwrap();
        assert!(mcp::is_error(&result), "{shape}: {result:?}");
        assert!(result.structured_content.is_none(), "{shape}: withheld");
        let text = mcp::text(&result);
        assert!(
            text.contains(
                "`shaped` answered with structured content that breaks its output schema"
            ) || text.contains("breaks its output schema"),
            "{shape}: {text}"
        );
        assert!(
            text.contains("defect of plugin `contract`"),
            "{shape}: {text}"
        );
        assert!(
            text.contains("shaped answered"),
            "{shape}: the plugin's text is kept: {text}"
        );
        for needle in needles {
            assert!(text.contains(needle), "{shape}: `{needle}` not in {text}");
        }
    }
    // An error answer keeps its text; its off-schema structured content is dropped.
    let result = host
        .call("shaped", json!({"shape": "error_with_bad_structured"}))
        .await
        .unwrap();
    assert!(mcp::is_error(&result));
    assert!(result.structured_content.is_none());
    assert_eq!(mcp::text(&result), "shaped answered");
    // The host keeps serving: a valid answer passes.
    let ok = host
        .call_ok("shaped", json!({"shape": "valid"}))
        .await
        .unwrap();
    assert_eq!(mcp::structured(&ok)["count"], json!(2));
}

#[tokio::test]
async fn an_undeclared_argument_is_refused_before_the_plugin_runs() {
    let host = host().await;
    let err = host
        .call_err("echo_limit", json!({"limt": 5}))
        .await
        .unwrap();
    assert!(
        err.contains("unknown argument `limt` (did you mean `limit`?)"),
        "{err}"
    );
    assert!(
        err.contains("Parameters: limit (integer), shape (string)"),
        "{err}"
    );
    assert!(
        !err.contains("echo_limit answered"),
        "the plugin never ran: {err}"
    );
    // A string literal for an integer is still coerced, not refused.
    let ok = host
        .call_ok("echo_limit", json!({"limit": "4"}))
        .await
        .unwrap();
    assert_eq!(mcp::structured(&ok)["count"], json!(4));
}

#[test]
fn a_manifest_flood_is_refused_at_load_naming_the_bound() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plue-mcp.toml");
    std::fs::write(
        &path,
        format!(
            "[plugins.badmanifest]\npath = \"{}\"\n",
            test_plugin("plue_test_badmanifest.wasm")
        ),
    )
    .unwrap();
    let out = Command::new(super::example::binary())
        .args(["tools", "--json", "--config"])
        .arg(&path)
        .env("PLUE_MCP_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "plugin `badmanifest`: declares 10000 tools, over the limit of 128 tools per plugin"
        ),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing listed");
    assert!(
        err.len() < 4096,
        "the refusal is short: {} bytes",
        err.len()
    );
}
