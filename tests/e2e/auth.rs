//! Authorization of `serve --http` as the MCP specification (2025-11-25) describes it, and
//! per-identity tool access, against the real thing: a real OpenID provider on loopback
//! (`oidc-provider`, client-credentials grant, RS256 and ES256 keys, a key rotation) whose
//! JWT access tokens `plue-mcp` checks locally, hand-made tokens signed with the provider's
//! own keys for every refusal, static tokens from the environment, and MCP sessions over
//! streamable HTTP that send `Authorization: Bearer`. Each identity's `tools/list` and calls
//! follow the `[[access]]` rules; the audit trail names the identity and never the token.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use plue_tests::clients::{self, Sdk, Target};
use plue_tests::mcp::Host;
use plue_tests::mcp_http::HttpSession;
use plue_tests::oidc::{Client, OidcProvider, SigningKey};
use plue_tests::serve_http::HttpHost;
use serde_json::{Value, json};

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_plue-mcp"))
}

const CI_TOKEN: &str = "ci-0f3a9c2e7b1d4f6a8c0e2b4d6f8a1c3e";
const OPS_TOKEN: &str = "ops-7e5c3a1f9d7b5e3c1a9f7d5b3e1c9a7f";

/// The example plugin (`echo`, `http_get`, `sql_query`, `read_file`) and the misbehave test
/// plugin under the prefix `mb_`, with `[server.auth]` and `[[access]]` as given.
fn config(dir: &Path, auth: &str, access: &str) -> String {
    let misbehave = Path::new(env!("PLUE_TEST_PLUGINS_DIR")).join("plue_test_misbehave.wasm");
    format!(
        "{auth}\n{access}\n[audit]\nfile = \"{audit}\"\n\n[endpoints.web]\nurl = \"http://127.0.0.1:9\"\n[databases.main]\nurl = \"${{PLUE_AUTH_TEST_UNSET}}\"\n[directories.data]\npath = \"{dir}\"\n[plugins.example]\nhttp = [\"web\"]\nsql = [\"main\"]\ndirectories = [\"data\"]\n[plugins.misbehave]\npath = \"{wasm}\"\nprefix = \"mb_\"\n",
        audit = dir.join("audit.jsonl").display(),
        dir = dir.display(),
        wasm = misbehave.display(),
    )
}

/// Every tool name, as a caller without a principal (stdio) sees them.
async fn all_tools(config: &str) -> Result<Vec<String>> {
    let host = Host::start(binary(), config).await?;
    host.tool_names().await
}

/// What an `initialize` POST with `authorization` got: status, `WWW-Authenticate`, body.
async fn initialize_as(url: &str, authorization: Option<&str>) -> Result<(u16, String, String)> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request
        .json(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "auth-test", "version": "1"}}}),
        )
        .send()
        .await?;
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Ok((status, challenge, response.text().await?))
}

async fn get_json(url: &str) -> Result<(u16, Value)> {
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(url)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// One refusal to check: what was sent, and what must come back.
struct Refused {
    case: &'static str,
    authorization: Option<String>,
    status: u16,
    /// Must all appear in `WWW-Authenticate`.
    challenge: Vec<String>,
}

/// Checks every refusal, collecting every mismatch before failing.
async fn check_refusals(url: &str, cases: &[Refused]) -> Result<()> {
    let mut problems = Vec::new();
    for case in cases {
        let (status, challenge, body) = initialize_as(url, case.authorization.as_deref()).await?;
        if status != case.status {
            problems.push(format!(
                "{}: HTTP {status}, expected {} ({body})",
                case.case, case.status
            ));
        }
        for want in &case.challenge {
            if !challenge.contains(want.as_str()) {
                problems.push(format!(
                    "{}: WWW-Authenticate `{challenge}` lacks `{want}`",
                    case.case
                ));
            }
        }
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

fn audit_records(dir: &Path) -> Result<Vec<Value>> {
    std::fs::read_to_string(dir.join("audit.jsonl"))?
        .lines()
        .map(|l| serde_json::from_str(l).with_context(|| format!("not JSON: {l}")))
        .collect()
}

fn is_error(answer: &Value) -> bool {
    answer["result"]["isError"] == true
}

fn text(answer: &Value) -> String {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_tokens_authenticate_and_access_rules_narrow_each_identity() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let port = plue_tests::ports::free_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let auth = format!(
        "[server.auth]\nresource = \"{resource}\"\nscopes = [\"mcp:tools\"]\n[[server.auth.tokens]]\nname = \"ci\"\nenv = \"PLUE_CI_TOKEN\"\n[[server.auth.tokens]]\nname = \"ops\"\nenv = \"PLUE_OPS_TOKEN\"\nscopes = [\"ops\"]\n"
    );
    let access = "[[access]]\nidentities = [\"token:ci\"]\nallow = [\"example/echo\", \"misbehave/ok\"]\n\n[[access]]\nidentities = [\"scope:ops\"]\nallow = [\"*\"]\ndeny = [\"example/sql_query\", \"misbehave/crash\"]\n";
    let text_config = config(dir.path(), &auth, access);
    let config_path = dir.path().join("plue-mcp.toml");
    std::fs::write(&config_path, &text_config)?;
    let all = all_tools(&text_config).await?;
    ensure!(all.len() >= 6, "stdio lists every tool: {all:?}");
    let log = dir.path().join("serve.log");
    let env = [
        ("PLUE_CI_TOKEN", CI_TOKEN),
        ("PLUE_OPS_TOKEN", OPS_TOKEN),
        ("RUST_LOG", "plue_mcp=debug"),
    ];
    let host = HttpHost::start_with(binary(), &config_path, &log, port, &env, &[]).await?;
    let url = host.url();
    let metadata = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp");

    // Refusals: no token, an unknown one, a near miss, another scheme.
    let challenge = |extra: &[&str]| -> Vec<String> {
        let mut c = vec![format!("resource_metadata=\"{metadata}\"")];
        c.extend(extra.iter().map(|s| s.to_string()));
        c
    };
    check_refusals(
        url,
        &[
            Refused {
                case: "no token",
                authorization: None,
                status: 401,
                challenge: challenge(&["Bearer ", "scope=\"mcp:tools\""]),
            },
            Refused {
                case: "unknown token",
                authorization: Some("Bearer not-a-token-of-this-server-at-all".into()),
                status: 401,
                challenge: challenge(&["error=\"invalid_token\""]),
            },
            Refused {
                case: "token cut short",
                authorization: Some(format!("Bearer {}", &CI_TOKEN[..CI_TOKEN.len() - 1])),
                status: 401,
                challenge: challenge(&["error=\"invalid_token\""]),
            },
            Refused {
                case: "basic scheme",
                authorization: Some(format!("Basic {CI_TOKEN}")),
                status: 401,
                challenge: challenge(&[]),
            },
        ],
    )
    .await?;

    // The metadata, at the path-suffixed and the bare well-known URL; operator endpoints open.
    for at in [
        metadata.clone(),
        format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource"),
    ] {
        let (status, doc) = get_json(&at).await?;
        ensure!(status == 200, "{at}: {status}");
        ensure!(doc["resource"] == resource, "{at}: {doc}");
        ensure!(
            doc["scopes_supported"] == json!(["mcp:tools"]),
            "{at}: {doc}"
        );
        ensure!(
            doc["bearer_methods_supported"] == json!(["header"]),
            "{at}: {doc}"
        );
    }
    for open in ["healthz", "readyz", "metrics"] {
        let status = reqwest::Client::builder()
            .no_proxy()
            .build()?
            .get(format!("http://127.0.0.1:{port}/{open}"))
            .send()
            .await?
            .status();
        ensure!(status.as_u16() == 200, "/{open} without a token: {status}");
    }

    // Each identity sees its own tools: derived from stdio's full list and the rules.
    let ci = HttpSession::open_with(url, "ci-agent", Some(CI_TOKEN)).await?;
    let ops = HttpSession::open_with(url, "ops-agent", Some(OPS_TOKEN)).await?;
    let ci_expected: Vec<String> = all
        .iter()
        .filter(|t| *t == "echo" || *t == "mb_ok")
        .cloned()
        .collect();
    let ops_expected: Vec<String> = all
        .iter()
        .filter(|t| *t != "sql_query" && *t != "mb_crash")
        .cloned()
        .collect();
    ensure!(ci_expected.len() == 2 && ops_expected.len() == all.len() - 2);
    ensure!(ci.tool_names().await? == ci_expected, "token:ci's tools");
    ensure!(ops.tool_names().await? == ops_expected, "token:ops's tools");

    // A session is bound to the identity that opened it: another token cannot use its id.
    let hijack = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .post(url)
        .bearer_auth(CI_TOKEN)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .header("mcp-session-id", ops.id().unwrap_or_default())
        .json(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}))
        .send()
        .await?
        .text()
        .await?;
    ensure!(
        hijack.contains("belongs to another identity") && !hijack.contains("\"tools\""),
        "token:ci used token:ops's session: {hijack}"
    );

    // Calls inside the rules run; outside them they are refused, naming who and what.
    let echoed = ci.call("echo", json!({"text": "hi"})).await?;
    ensure!(!is_error(&echoed), "{echoed}");
    let denied = ci.call("sql_query", json!({"sql": "select 1"})).await?;
    ensure!(is_error(&denied), "{denied}");
    let message = text(&denied);
    for want in ["`token:ci`", "`example/sql_query`", "no [[access]] rule"] {
        ensure!(message.contains(want), "`{want}` not in: {message}");
    }
    let denied = ops.call("mb_crash", json!({})).await?;
    ensure!(is_error(&denied), "{denied}");
    let message = text(&denied);
    for want in ["`token:ops`", "`misbehave/crash`", "rule #2 denies it"] {
        ensure!(message.contains(want), "`{want}` not in: {message}");
    }
    let ok = ops.call("mb_ok", json!({})).await?;
    ensure!(!is_error(&ok), "{ok}");

    // The trail names each identity and counts the denials; no token anywhere.
    let records = audit_records(dir.path())?;
    let seen: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r["identity"].as_str().unwrap_or("-").to_string(),
                r["tool"].as_str().unwrap_or("-").to_string(),
                r["outcome"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    let expected = [
        ("token:ci", "echo", "ok"),
        ("token:ci", "sql_query", "denied"),
        ("token:ops", "mb_crash", "denied"),
        ("token:ops", "mb_ok", "ok"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    ensure!(seen == expected, "audit: {seen:?}");
    let metrics = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await?
        .text()
        .await?;
    ensure!(
        metrics.contains(r#"plue_mcp_calls_total{plugin="example",tool="sql_query",outcome="denied",status="403"} 1"#),
        "no denied call in the metrics"
    );
    let everything = format!(
        "{}{}",
        std::fs::read_to_string(dir.path().join("audit.jsonl"))?,
        host.log()
    );
    for token in [CI_TOKEN, OPS_TOKEN] {
        ensure!(
            !everything.contains(token),
            "a token leaked into the audit trail or the log"
        );
    }
    official_clients_with_a_static_token(dir.path(), url).await
}

/// The official TypeScript and Python SDK clients over streamable HTTP: with `token:ci` they
/// list and call its tools; with a wrong token they cannot connect.
async fn official_clients_with_a_static_token(dir: &Path, url: &str) -> Result<()> {
    let plan = dir.join("plan.json");
    std::fs::write(
        &plan,
        json!({"calls": [
            {"tool": "echo", "arguments": {"text": "hi", "times": 2}, "expect": "ok"},
            {"tool": "mb_ok", "arguments": {}, "expect": "ok", "contains": ["still fine"]},
        ]})
        .to_string(),
    )?;
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    let target = Target::Http {
        url: url.to_string(),
    };
    let mut problems = Vec::new();
    for sdk in Sdk::ALL {
        let good = clients::sdk_client_with_env(
            sdk,
            &plan,
            &target,
            &home,
            &[("MCP_BEARER_TOKEN", CI_TOKEN)],
        )
        .await?;
        if !good.success {
            problems.push(format!(
                "{} with token:ci failed:\n{}\n{}",
                sdk.name(),
                good.stdout,
                good.stderr
            ));
        }
        let bad = clients::sdk_client_with_env(
            sdk,
            &plan,
            &target,
            &home,
            &[("MCP_BEARER_TOKEN", "wrong-token-wrong-token-wrong")],
        )
        .await?;
        if bad.success {
            problems.push(format!(
                "{} with a wrong token succeeded:\n{}",
                sdk.name(),
                bad.stdout
            ));
        }
    }
    ensure!(problems.is_empty(), "{}", problems.join("\n"));
    Ok(())
}

/// Claims for a hand-made token, valid unless the case changes them.
fn claims(issuer: &str, resource: &str) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": issuer, "aud": resource, "sub": "hand-made", "client_id": "hand",
           "scope": "mcp:tools", "iat": now, "exp": now + 300})
}

fn mint(key: &SigningKey, kid: &str, claims: &Value) -> Result<String> {
    let (alg, encoding) = match key.alg.as_str() {
        "RS256" => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(key.pem.as_bytes())?,
        ),
        "ES256" => (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(key.pem.as_bytes())?,
        ),
        other => bail!("no signer for {other}"),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_string());
    header.typ = Some("at+jwt".into());
    Ok(jsonwebtoken::encode(&header, claims, &encoding)?)
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_access_tokens_are_checked_locally_against_the_issuers_keys() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let rs = Client::new("rs-client", "mcp:tools logs:read", "RS256");
    let es = Client::new("es-client", "mcp:tools", "ES256");
    let narrow = Client::new("narrow-client", "logs:read", "RS256");
    let opaque = Client::opaque("opaque-client", "mcp:tools");
    let introspector = Client::new("plue-mcp", "mcp:tools", "RS256");
    let mut provider = OidcProvider::start(
        dir.path(),
        &[
            rs.clone(),
            es.clone(),
            narrow.clone(),
            opaque.clone(),
            introspector.clone(),
        ],
    )
    .await?;
    let issuer = provider.issuer();
    let port = plue_tests::ports::free_port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let auth = format!(
        "[server.auth]\nresource = \"{resource}\"\nauthorization_servers = [\"{issuer}\"]\nscopes = [\"mcp:tools\"]\nleeway_s = 5\n[server.auth.introspection]\nendpoint = \"{issuer}/token/introspection\"\nclient_id = \"plue-mcp\"\nclient_secret_env = \"PLUE_INTROSPECTION_SECRET\"\n"
    );
    let access = "[[access]]\nidentities = [\"scope:logs:read\"]\nallow = [\"example\"]\n\n[[access]]\nidentities = [\"client:es-client\"]\nallow = [\"misbehave/ok\"]\n";
    let text_config = config(dir.path(), &auth, access);
    let config_path = dir.path().join("plue-mcp.toml");
    std::fs::write(&config_path, &text_config)?;
    let all = all_tools(&text_config).await?;
    let secret = introspector.client_secret.clone();
    let host = HttpHost::start_with(
        binary(),
        &config_path,
        &dir.path().join("serve.log"),
        port,
        &[("PLUE_INTROSPECTION_SECRET", &secret)],
        &[],
    )
    .await?;
    let url = host.url();

    // The metadata names the provider; clients find its token endpoint from there.
    let (_, doc) = get_json(&format!(
        "http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"
    ))
    .await?;
    ensure!(doc["authorization_servers"] == json!([issuer]), "{doc}");

    // Real tokens from the provider: RS256 and ES256, each identity with its tools.
    let rs_token = provider
        .token(&rs, "mcp:tools logs:read", &resource)
        .await?;
    let es_token = provider.token(&es, "mcp:tools", &resource).await?;
    let first_fetch = Instant::now();
    let rs_session = HttpSession::open_with(url, "rs-agent", Some(&rs_token)).await?;
    let es_session = HttpSession::open_with(url, "es-agent", Some(&es_token)).await?;
    let example_tools: Vec<String> = all
        .iter()
        .filter(|t| !t.starts_with("mb_"))
        .cloned()
        .collect();
    ensure!(
        rs_session.tool_names().await? == example_tools,
        "rs-client (scope logs:read)"
    );
    ensure!(es_session.tool_names().await? == ["mb_ok"], "es-client");
    // Prompts and resources follow the same rules: a plugin's are visible to an identity
    // that may use one of its tools (`example` offers one of each, `misbehave` none).
    ensure!(
        rs_session.listed("prompts/list", "prompts", "name").await? == ["example-brief"],
        "rs-client's prompts"
    );
    ensure!(
        es_session
            .listed("prompts/list", "prompts", "name")
            .await?
            .is_empty(),
        "es-client's prompts"
    );
    ensure!(
        es_session
            .listed(
                "resources/templates/list",
                "resourceTemplates",
                "uriTemplate"
            )
            .await?
            .is_empty(),
        "es-client's resource templates"
    );
    ensure!(
        rs_session
            .listed(
                "resources/templates/list",
                "resourceTemplates",
                "uriTemplate"
            )
            .await?
            == ["plue://example/files/{+path}"],
        "rs-client's resource templates"
    );
    let answer = rs_session.call("echo", json!({"text": "signed"})).await?;
    ensure!(!is_error(&answer), "{answer}");
    let answer = es_session.call("mb_ok", json!({})).await?;
    ensure!(!is_error(&answer), "{answer}");
    let answer = es_session.call("echo", json!({"text": "x"})).await?;
    ensure!(
        is_error(&answer) && text(&answer).contains("`sub:es-client`"),
        "{answer}"
    );
    let identities: Vec<String> = audit_records(dir.path())?
        .iter()
        .map(|r| format!("{} {} {}", r["identity"], r["tool"], r["outcome"]))
        .collect();
    ensure!(
        identities
            == [
                r#""sub:rs-client" "echo" "ok""#,
                r#""sub:es-client" "mb_ok" "ok""#,
                r#""sub:es-client" "echo" "denied""#,
            ],
        "{identities:?}"
    );
    ensure!(
        provider.jwks_fetches() == 1,
        "the key set is cached: {}",
        provider.log()
    );

    // An opaque token, checked through introspection (once: the answer is cached).
    let opaque_token = provider.token(&opaque, "mcp:tools", &resource).await?;
    ensure!(
        opaque_token.split('.').count() != 3,
        "the provider issued an opaque token"
    );
    let opaque_session = HttpSession::open_with(url, "opaque-agent", Some(&opaque_token)).await?;
    ensure!(
        opaque_session.tool_names().await?.is_empty(),
        "no rule names opaque-client"
    );
    let answer = opaque_session.call("mb_ok", json!({})).await?;
    ensure!(text(&answer).contains("`client:opaque-client`"), "{answer}");
    let introspections = || {
        provider
            .log()
            .lines()
            .filter(|l| l.trim() == "POST /token/introspection")
            .count()
    };
    ensure!(
        introspections() == 1,
        "introspection answers are cached: {}",
        introspections()
    );
    let opaque_elsewhere = provider
        .token(&opaque, "mcp:tools", "https://other.example/mcp")
        .await?;

    // Refusals: real tokens for another audience or without the scope, then hand-made ones
    // signed with the provider's own keys, each wrong in one way.
    let elsewhere = provider
        .token(&rs, "mcp:tools", "https://other.example/mcp")
        .await?;
    let unscoped = provider.token(&narrow, "logs:read", &resource).await?;
    let rs_key = provider.key("RS256")?;
    let es_key = provider.key("ES256")?;
    let valid = claims(&issuer, &resource);
    let with = |patch: Value| -> Value {
        let mut c = valid.clone();
        for (k, v) in patch.as_object().into_iter().flatten() {
            if v.is_null() {
                if let Some(o) = c.as_object_mut() {
                    o.remove(k);
                }
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let now = chrono::Utc::now().timestamp();
    let good = mint(&es_key, &es_key.kid, &valid)?;
    ensure!(
        initialize_as(url, Some(&format!("Bearer {good}"))).await?.0 == 200,
        "the hand-made token itself is valid"
    );
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let payload = b64(with(json!({"sub": "admin"})).to_string().as_bytes());
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let alg_none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(valid.to_string().as_bytes())
    );
    let hs_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(rs_key.kid.clone());
        let jwks = reqwest::get(format!("{issuer}/jwks")).await?.text().await?;
        jsonwebtoken::encode(&header, &valid, &EncodingKey::from_secret(jwks.as_bytes()))?
    };
    let invalid = |case: &'static str, token: String, why: &str| Refused {
        case,
        authorization: Some(format!("Bearer {token}")),
        status: 401,
        challenge: vec![
            "error=\"invalid_token\"".into(),
            why.to_string(),
            "resource_metadata=".into(),
        ],
    };
    check_refusals(
        url,
        &[
            invalid("token for another resource", elsewhere, "another audience"),
            invalid(
                "opaque token for another resource",
                opaque_elsewhere,
                "another audience",
            ),
            invalid(
                "unknown opaque token",
                "0paque-but-unknown-token-value".into(),
                "not active",
            ),
            invalid(
                "expired",
                mint(
                    &rs_key,
                    &rs_key.kid,
                    &with(json!({"iat": now - 900, "exp": now - 600})),
                )?,
                "expired",
            ),
            invalid(
                "not yet valid",
                mint(&rs_key, &rs_key.kid, &with(json!({"nbf": now + 600})))?,
                "not valid yet",
            ),
            invalid(
                "wrong audience",
                mint(
                    &es_key,
                    &es_key.kid,
                    &with(json!({"aud": "https://other.example/mcp"})),
                )?,
                "another audience",
            ),
            invalid(
                "no audience",
                mint(&es_key, &es_key.kid, &with(json!({"aud": null})))?,
                "lacks the `aud` claim",
            ),
            invalid(
                "wrong issuer",
                mint(
                    &es_key,
                    &es_key.kid,
                    &with(json!({"iss": "http://127.0.0.1:1"})),
                )?,
                "issuer is not accepted",
            ),
            invalid("alg none", alg_none, "not a well-formed JWT"),
            invalid("tampered payload", tampered, "signature does not verify"),
            invalid(
                "HS256 keyed with the public keys",
                hs_with_public_key,
                "algorithm is not accepted",
            ),
            invalid(
                "ES256 signature under the RSA key's id",
                mint(&es_key, &rs_key.kid, &valid)?,
                "algorithm is not accepted",
            ),
            Refused {
                case: "real token without the scope",
                authorization: Some(format!("Bearer {unscoped}")),
                status: 403,
                challenge: vec![
                    "error=\"insufficient_scope\"".into(),
                    "scope=\"mcp:tools\"".into(),
                    "resource_metadata=".into(),
                ],
            },
            Refused {
                case: "hand-made token with another scope",
                authorization: Some(format!(
                    "Bearer {}",
                    mint(&rs_key, &rs_key.kid, &with(json!({"scope": "logs:read"})))?
                )),
                status: 403,
                challenge: vec!["error=\"insufficient_scope\"".into()],
            },
        ],
    )
    .await?;
    ensure!(
        provider.jwks_fetches() == 2,
        "no refusal fetched the keys again (one GET is the test's own, for the HS256 case)"
    );

    // Key rotation: the provider signs with new keys; the first token naming one makes the
    // server fetch the set again (once the refresh interval since the last fetch is over).
    let interval = plue_mcp::auth::jwks::MIN_REFRESH;
    tokio::time::sleep(
        interval.saturating_sub(first_fetch.elapsed()) + Duration::from_millis(1500),
    )
    .await;
    provider.rotate_keys().await?;
    let rotated_rs = provider.key("RS256")?;
    ensure!(
        rotated_rs.kid != rs_key.kid,
        "the provider has a new RS256 key"
    );
    let new_token = provider
        .token(&rs, "mcp:tools logs:read", &resource)
        .await?;
    let session = HttpSession::open_with(url, "rotated", Some(&new_token)).await?;
    ensure!(
        session.tool_names().await? == example_tools,
        "a token signed with the new key"
    );
    ensure!(provider.jwks_fetches() == 3, "one fetch for the new key");
    ensure!(
        rs_session.tool_names().await? == example_tools,
        "a token signed with the old key, still published, still works"
    );

    // Made-up key ids right after a fetch: refused without asking the provider again.
    for n in 0..5 {
        let token = mint(&rotated_rs, &format!("made-up-{n}"), &valid)?;
        let (status, challenge, _) = initialize_as(url, Some(&format!("Bearer {token}"))).await?;
        ensure!(
            status == 401 && challenge.contains("is not in the issuer"),
            "{status} {challenge}"
        );
    }
    ensure!(
        provider.jwks_fetches() == 3,
        "unknown key ids are rate limited"
    );
    Ok(())
}
