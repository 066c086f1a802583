//! Prompts, resources and completions through the host, with the example plugin over a
//! real MCP client: what the plugin renders from its granted directory, reads that never
//! leave it (`..`, a symlink out), a PNG as a blob, the output cap, bad arguments as
//! protocol errors that say what to do, and completion from live data. The official
//! clients run the five groups' prompts and resources in `clients.rs`.

use plue_tests::mcp::Host;
use plue_tests::web::{TOKEN, WebServer};
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, ReadResourceRequestParams,
    Reference, ResourceContents,
};
use serde_json::json;

use crate::example::binary;

/// The first 8 bytes of every PNG file.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

struct Setup {
    host: Host,
    _data: tempfile::TempDir,
    png: Vec<u8>,
}

/// The example plugin with everything granted; `plugin_keys` go into `[plugins.example]`.
async fn setup(plugin_keys: &str) -> Setup {
    setup_with("", plugin_keys).await
}

/// Like [`setup`], with `sections` (TOML tables) before the example's configuration.
async fn setup_with(sections: &str, plugin_keys: &str) -> Setup {
    let web = WebServer::start().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("notes.txt"), "line one\nline two\n").unwrap();
    std::fs::create_dir(data.path().join("shots")).unwrap();
    let shot = plue_tests::stack::playwright_reports()
        .join("test-results/workflows-runs-workflow-runs-counts-queued-runs-chromium-mobile-retry1/test-failed-1.png");
    let png = std::fs::read(&shot).unwrap();
    std::fs::write(data.path().join("shots/failed.png"), &png).unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "secret outside the grant").unwrap();
    std::os::unix::fs::symlink(outside.path(), data.path().join("escape-link")).unwrap();
    let config = format!(
        "{sections}\n{}{plugin_keys}\n",
        crate::example::config(&web.url(), "${UNSET_DATABASE_URL_FOR_TEST}", data.path())
    );
    let host = Host::start_with_env(binary(), &config, &[("EXAMPLE_TOKEN", TOKEN)])
        .await
        .unwrap();
    Setup {
        host,
        _data: data,
        png,
    }
}

async fn read(host: &Host, uri: &str) -> Result<Vec<ResourceContents>, String> {
    host.client()
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .map(|r| r.contents)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn the_example_prompt_renders_live_data_and_refuses_bad_arguments() {
    let s = setup("").await;
    let prompts = s.host.client().list_all_prompts().await.unwrap();
    let brief = prompts.iter().find(|p| p.name == "example-brief").unwrap();
    let args = brief.arguments.as_ref().unwrap();
    assert_eq!(args.len(), 1);
    assert_eq!(
        (args[0].name.as_str(), args[0].required),
        ("path", Some(false))
    );

    let mut params = GetPromptRequestParams::new("example-brief");
    params.arguments = Some(json!({"path": "notes.txt"}).as_object().unwrap().clone());
    let got = s.host.client().get_prompt(params).await.unwrap();
    let text = serde_json::to_string(&got.messages).unwrap();
    // Three files in the directory: notes.txt, shots/failed.png and the symlink (not a file).
    assert!(text.contains("2 files"), "{text}");
    assert!(text.contains("line one"), "{text}");
    assert!(text.contains("plue://example/files/notes.txt"), "{text}");

    let mut params = GetPromptRequestParams::new("example-brief");
    params.arguments = Some(json!({"file": "x"}).as_object().unwrap().clone());
    let err = s
        .host
        .client()
        .get_prompt(params)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no argument `file`") && err.contains("path"),
        "{err}"
    );

    let err = s
        .host
        .client()
        .get_prompt(GetPromptRequestParams::new("nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("prompts/list"), "{err}");
}

#[tokio::test]
async fn reads_stay_inside_the_grant_and_binary_arrives_as_a_blob() {
    let s = setup("").await;
    let listed = s.host.client().list_all_resources().await.unwrap();
    let uris: Vec<&str> = listed.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "plue://example/files/notes.txt",
            "plue://example/files/shots/failed.png"
        ]
    );
    let png = listed.iter().find(|r| r.uri.ends_with(".png")).unwrap();
    assert_eq!(png.size, Some(s.png.len() as u64));

    match &read(&s.host, "plue://example/files/shots/failed.png")
        .await
        .unwrap()[..]
    {
        [
            ResourceContents::BlobResourceContents {
                blob, mime_type, ..
            },
        ] => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(blob)
                .unwrap();
            assert_eq!(bytes, s.png);
            assert_eq!(bytes[..8], PNG_SIGNATURE);
            assert_eq!(mime_type.as_deref(), Some("image/png"));
        }
        other => panic!("{other:?}"),
    }
    for (uri, why) in [
        (
            "plue://example/files/../../etc/passwd",
            "`..` is not allowed",
        ),
        ("plue://example/files/escape-link", "escape-link"),
        ("plue://example/files/%2E%2E/x", "`..` is not allowed"),
        ("plue://elsewhere/x", "resources/templates/list"),
    ] {
        let err = read(&s.host, uri).await.unwrap_err();
        assert!(err.contains(why), "{uri}: {err}");
        assert!(!err.contains("secret outside"), "{uri}: {err}");
    }
}

#[tokio::test]
async fn a_read_over_the_output_cap_is_refused_naming_the_limit() {
    let s = setup("max_output_bytes = 4096").await;
    let err = read(&s.host, "plue://example/files/shots/failed.png")
        .await
        .unwrap_err();
    assert!(err.contains("max_output_bytes"), "{err}");
    // The host keeps serving.
    let ok = read(&s.host, "plue://example/files/notes.txt")
        .await
        .unwrap();
    assert_eq!(ok.len(), 1);
}

#[tokio::test]
async fn completion_suggests_live_values_for_prompts_and_templates() {
    let s = setup("").await;
    let complete = |reference: Reference, value: &str| {
        let params = CompleteRequestParams::new(reference, ArgumentInfo::new("path", value));
        let client = s.host.client();
        async move { client.complete(params).await.unwrap().completion.values }
    };
    assert_eq!(
        complete(Reference::for_prompt("example-brief"), "sh").await,
        ["shots/failed.png"]
    );
    assert_eq!(
        complete(Reference::for_resource("plue://example/files/{+path}"), "").await,
        ["notes.txt", "shots/failed.png"]
    );
}

#[tokio::test]
async fn prompts_reads_and_completions_are_audited_like_calls() {
    let dir = tempfile::tempdir().unwrap();
    let trail = dir.path().join("audit.jsonl");
    let audit = format!(
        "[audit]\nfile = {:?}\ninclude_arguments = true\n",
        trail.display().to_string()
    );
    let s = setup_with(&audit, "").await;
    let mut params = GetPromptRequestParams::new("example-brief");
    params.arguments = Some(json!({"path": "notes.txt"}).as_object().unwrap().clone());
    s.host.client().get_prompt(params).await.unwrap();
    read(&s.host, "plue://example/files/notes.txt")
        .await
        .unwrap();
    read(&s.host, "plue://example/files/../x")
        .await
        .unwrap_err();
    s.host
        .client()
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("example-brief"),
            ArgumentInfo::new("path", "n"),
        ))
        .await
        .unwrap();
    let records: Vec<serde_json::Value> = std::fs::read_to_string(&trail)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seen: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            (
                r["tool"].as_str().unwrap_or_default().to_string(),
                r["outcome"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let template = "resources/read plue://example/files/{+path}";
    assert_eq!(
        seen,
        [
            ("prompts/get example-brief".to_string(), "ok".to_string()),
            (template.to_string(), "ok".to_string()),
            (template.to_string(), "invalid_arguments".to_string()),
            ("completion/complete path".to_string(), "ok".to_string()),
        ]
    );
    assert!(
        records.iter().all(|r| r["plugin"] == "example"),
        "{records:?}"
    );
    assert_eq!(
        records[1]["arguments"]["uri"],
        "plue://example/files/notes.txt"
    );
    assert_eq!(records[0]["arguments"]["path"], "notes.txt");
}
