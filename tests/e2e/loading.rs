//! What the host refuses at start-up, with messages that say what to change:
//! ungranted imports, digests that do not match, missing grants, tool clashes,
//! unknown configuration keys.

use std::path::Path;
use std::process::Command;

fn test_plugin(name: &str) -> String {
    Path::new(env!("PLUE_TEST_PLUGINS_DIR"))
        .join(name)
        .display()
        .to_string()
}

/// Run `plue-mcp tools --config` on `config`; (exit code, stdout, stderr).
fn tools(config: &str) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plue-mcp.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(super::example::binary())
        .args(["tools", "--config"])
        .arg(&path)
        .env("PLUE_MCP_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_plugin_importing_sockets_is_refused_naming_the_import() {
    let (code, _, err) = tools(&format!(
        "[plugins.sockets]\npath = \"{}\"\n",
        test_plugin("plue_test_sockets.wasm")
    ));
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("plugin `sockets` imports `wasi:sockets/") && err.contains("no sockets"),
        "{err}"
    );
}

#[test]
fn digests_are_checked_and_can_be_required() {
    let wasm = test_plugin("plue_test_misbehave.wasm");
    let (code, _, err) = tools(&format!(
        "[plugins.misbehave]\npath = \"{wasm}\"\nsha256 = \"{}\"\n",
        "0".repeat(64)
    ));
    assert_eq!(code, 2);
    assert!(err.contains("sha256 mismatch"), "{err}");

    let (code, _, err) = tools(&format!(
        "[server]\nrequire_digests = true\n[plugins.misbehave]\npath = \"{wasm}\"\n"
    ));
    assert_eq!(code, 2);
    assert!(
        err.contains("require_digests is on") && err.contains("has no sha256"),
        "{err}"
    );

    let digest = {
        use std::io::Read;
        let mut bytes = Vec::new();
        std::fs::File::open(&wasm)
            .unwrap()
            .read_to_end(&mut bytes)
            .unwrap();
        let out = Command::new("sha256sum").arg(&wasm).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let (code, out, err) = tools(&format!(
        "[server]\nrequire_digests = true\n[plugins.misbehave]\npath = \"{wasm}\"\nsha256 = \"{digest}\"\n"
    ));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("spin") && out.contains("misbehave"), "{out}");
}

#[test]
fn every_missing_grant_is_named_in_one_error() {
    let (code, _, err) = tools("[plugins.example]\nhttp = [\"web\"]\n");
    assert_eq!(code, 2);
    assert!(
        err.contains("grants `web`, but there is no [endpoints.web]"),
        "{err}"
    );

    let (code, _, err) = tools(
        "[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[plugins.example]\nhttp = [\"web\"]\n",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("needs sql `main`, which is not granted"),
        "{err}"
    );
    assert!(
        err.contains("needs directories `data`, which is not granted"),
        "{err}"
    );
}

#[test]
fn unknown_keys_are_rejected_by_name() {
    let (code, _, err) = tools("[limits]\ncall_timeout = 5\n");
    assert_eq!(code, 2);
    assert!(err.contains("unknown field `call_timeout`"), "{err}");
}

#[test]
fn tool_clashes_need_a_prefix() {
    let wasm = test_plugin("plue_test_misbehave.wasm");
    let (code, _, err) = tools(&format!(
        "[plugins.one]\npath = \"{wasm}\"\n[plugins.two]\npath = \"{wasm}\"\n"
    ));
    assert_eq!(code, 2);
    assert!(
        err.contains("tool `spin` is exported by plugins `one` and `two`")
            && err.contains("prefix"),
        "{err}"
    );

    let (code, out, err) = tools(&format!(
        "[plugins.one]\npath = \"{wasm}\"\ntools = {{ deny = [\"crash\"] }}\n[plugins.two]\npath = \"{wasm}\"\nprefix = \"two_\"\n"
    ));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("two_spin") && out.lines().any(|l| l.starts_with("spin ")),
        "{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("crash ")), "{out}");
}

/// Run `plue-mcp check --config` on `config`; (exit code, stdout).
fn check(config: &str) -> (i32, String) {
    check_with(config, &[])
}

/// `plue-mcp check --json`'s report of the first plugin's first grant.
fn first_grant_json(config: &str) -> serde_json::Value {
    let (_, out) = check_with(config, &["--json"]);
    let report: serde_json::Value = serde_json::from_str(&out).expect(&out);
    report["plugins"][0]["grants"][0].clone()
}

fn check_with(config: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plue-mcp.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(super::example::binary())
        .args(["check", "--config"])
        .arg(&path)
        .args(extra)
        .env(
            "PLUE_MCP_CACHE_DIR",
            plue_tests::mcp::cache_dir(super::example::binary()),
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_reports_database_roles_and_what_to_change() {
    let pg = plue_tests::postgres::PgServer::start().unwrap();
    let config = |url: &str| {
        format!("[databases.plue]\nurl = \"{url}\"\n[plugins.database]\nsql = [\"plue\"]\n")
    };

    let (code, out) = check(&config(&pg.reader_url()));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("reachable as role `plue_reader` (superuser: false, pg_read_all_data: true, writable tables: 0)"), "{out}");
    assert!(
        !out.contains(plue_tests::postgres::READER_PASSWORD),
        "{out}"
    );

    let grant = first_grant_json(&config(&pg.reader_url()));
    assert_eq!(grant["state"], "sql_role", "{grant}");
    assert_eq!(grant["role"], "plue_reader", "{grant}");
    assert_eq!(grant["writable_tables"], 0, "{grant}");
    assert_eq!(grant["advice"], serde_json::json!([]), "{grant}");

    let (_, out) = check(&config(&pg.superuser_url()));
    assert!(
        out.contains("is a superuser") && out.contains("allow_superuser"),
        "{out}"
    );
    assert!(
        !out.contains(plue_tests::postgres::SUPERUSER_PASSWORD),
        "{out}"
    );

    let port = plue_tests::ports::free_port();
    let (code, out) = check(&config(&format!("postgres://u:p@127.0.0.1:{port}/plue")));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("UNAVAILABLE: cannot connect to database `plue`")
            && out.contains("1 backend(s) unavailable"),
        "{out}"
    );
    let grant = first_grant_json(&config(&format!("postgres://u:p@127.0.0.1:{port}/plue")));
    assert_eq!(
        (&grant["state"], &grant["kind"]),
        (&"unavailable".into(), &"sql".into()),
        "{grant}"
    );
}
