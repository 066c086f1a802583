//! Native stand-ins for the host, so plugin logic is unit-tested with plain
//! `cargo test`, and the checks an MCP client makes: [`call`] validates every
//! structured answer against the tool's output schema, and [`schema_problems`]
//! lists what a client would reject in the declared schemas. On `wasm32` the real
//! host serves every capability and nothing here is used.
//!
//! ```
//! use plue_plugin_sdk::{http, testing};
//! testing::fake_http(|req| {
//!     assert_eq!(req.endpoint, "api");
//!     Ok(testing::response(200, r#"{"ok":true}"#))
//! });
//! let body: serde_json::Value = http::Endpoint::new("api").get_json("/status", &[]).unwrap();
//! assert_eq!(body["ok"], true);
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use crate::http::{HttpError, Request, Response};
use crate::log::Level;
use crate::plugin::{Dispatch, Plugin, ToolDef, dispatch};
use crate::sql::{Column, Rows, SqlError, Value};
use crate::{Output, ToolError};

type FakeHttp = Box<dyn Fn(&Request) -> Result<Response, HttpError>>;
type FakeSql = Box<dyn Fn(&str, &str, &[Value]) -> Result<Rows, SqlError>>;

#[derive(Default)]
pub(crate) struct FakeHost {
    pub(crate) http: Option<FakeHttp>,
    pub(crate) sql: Option<FakeSql>,
    pub(crate) settings: BTreeMap<String, String>,
    pub(crate) defaults: BTreeMap<String, String>,
    pub(crate) mounts: BTreeMap<String, PathBuf>,
    pub(crate) logs: Vec<(Level, String)>,
}

thread_local! {
    pub(crate) static HOST: RefCell<FakeHost> = RefCell::new(FakeHost::default());
}

/// Serve `http::fetch` on this thread with `f`.
pub fn fake_http(f: impl Fn(&Request) -> Result<Response, HttpError> + 'static) {
    HOST.with(|h| h.borrow_mut().http = Some(Box::new(f)));
}

/// Serve `sql::query` on this thread with `f(database, statement, params)`.
pub fn fake_sql(f: impl Fn(&str, &str, &[Value]) -> Result<Rows, SqlError> + 'static) {
    HOST.with(|h| h.borrow_mut().sql = Some(Box::new(f)));
}

/// The statements and parameters a fake database received, in order.
pub type SqlLog = Rc<RefCell<Vec<(String, Vec<Value>)>>>;

/// Serve `database` on this thread by routes: the first route whose key occurs
/// in the statement answers. A statement for another database, or one no route
/// knows, fails the test. Returns the log of what was sent.
///
/// ```
/// use plue_plugin_sdk::{sql, testing};
/// let log = testing::sql_routes("main", vec![("FROM users", Ok(testing::json_rows(&[serde_json::json!({"n": 2})])))]);
/// let rows = sql::query("main", "SELECT count(*) AS n FROM users", &[]).unwrap();
/// assert_eq!(rows.rows[0][0].as_i64(), Some(2));
/// assert_eq!(log.borrow().len(), 1);
/// ```
pub fn sql_routes(
    database: &'static str,
    routes: Vec<(&'static str, Result<Rows, SqlError>)>,
) -> SqlLog {
    let log = SqlLog::default();
    let seen = log.clone();
    fake_sql(move |db, statement, params| {
        assert_eq!(db, database, "statement sent to another database");
        seen.borrow_mut()
            .push((statement.to_string(), params.to_vec()));
        routes
            .iter()
            .find(|(key, _)| statement.contains(key))
            .map(|(_, answer)| answer.clone())
            .unwrap_or_else(|| panic!("no fake answer for statement:\n{statement}"))
    });
    log
}

/// A result set with `columns` as (name, type) and `data`.
pub fn rows(columns: &[(&str, &str)], data: Vec<Vec<Value>>) -> Rows {
    Rows {
        columns: columns
            .iter()
            .map(|(name, type_name)| Column {
                name: name.to_string(),
                type_name: type_name.to_string(),
            })
            .collect(),
        rows: data,
        truncated: false,
    }
}

/// JSON objects as the rows the host would return: columns in order of first
/// appearance, typed as the host types PostgreSQL values (a string that looks
/// like an RFC 3339 time becomes a timestamp).
pub fn json_rows(objects: &[serde_json::Value]) -> Rows {
    use serde_json::Value as Json;
    let mut names: Vec<String> = Vec::new();
    for o in objects {
        for k in o.as_object().expect("rows are objects").keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
    }
    let cell = |v: Option<&Json>| match v {
        None | Some(Json::Null) => Value::Null,
        Some(Json::Bool(b)) => Value::Boolean(*b),
        Some(Json::Number(x)) => match x.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(x.as_f64().unwrap_or(f64::NAN)),
        },
        Some(Json::String(s))
            if s.len() >= 19 && s.as_bytes()[10] == b'T' && s[..4].parse::<u32>().is_ok() =>
        {
            Value::Timestamp(s.clone())
        }
        Some(Json::String(s)) => Value::Text(s.clone()),
        Some(other) => Value::Json(other.to_string()),
    };
    Rows {
        rows: objects
            .iter()
            .map(|o| names.iter().map(|n| cell(o.get(n))).collect())
            .collect(),
        columns: names
            .into_iter()
            .map(|name| Column {
                name,
                type_name: "text".into(),
            })
            .collect(),
        truncated: false,
    }
}

/// `text` percent-decoded (`%7B` → `{`), to read a request's query back; a `%`
/// not followed by two hex digits stays as it is.
///
/// ```
/// assert_eq!(plue_plugin_sdk::testing::percent_decode("up%7Bjob%3D%22a%22%7D"), "up{job=\"a\"}");
/// ```
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%').then(|| text.get(i + 1..i + 3)).flatten();
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The test every plugin has: `schema_test!(plugin)` adds a unit test that fails
/// with everything an MCP client would reject in the schemas of `plugin()` (see
/// [`schema_problems`]).
#[macro_export]
macro_rules! schema_test {
    ($plugin:path) => {
        #[cfg(test)]
        #[test]
        fn every_schema_is_clean() {
            let problems = $crate::testing::schema_problems(&$plugin());
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
    };
}

/// Set an operator setting on this thread.
pub fn set_setting(key: &str, value: &str) {
    HOST.with(|h| h.borrow_mut().settings.insert(key.into(), value.into()));
}

/// Make the granted directory `name` read from `path` on this thread.
pub fn mount(name: &str, path: impl Into<PathBuf>) {
    HOST.with(|h| h.borrow_mut().mounts.insert(name.into(), path.into()));
}

/// The messages logged on this thread so far.
pub fn logs() -> Vec<(Level, String)> {
    HOST.with(|h| h.borrow().logs.clone())
}

/// A response with `status` and a text body.
pub fn response(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: Vec::new(),
        body: body.as_bytes().to_vec(),
    }
}

/// Call tool `name` of `plugin` with `arguments`, as the host would (without the
/// host's validation of the arguments), and check the answer as an MCP client
/// does.
///
/// # Panics
///
/// When a tool with an output schema answers without structured content, or with
/// structured content that does not match the schema (naming the tool, the JSON
/// path and the rule broken): both are plugin bugs a client would reject.
pub fn call(
    plugin: &Plugin,
    name: &str,
    arguments: serde_json::Value,
) -> Result<Output, ToolError> {
    crate::settings::set_defaults(plugin);
    let out = dispatch(plugin, name, &arguments.to_string()).map_err(|e| match e {
        Dispatch::Unknown => ToolError::invalid(format!("unknown tool `{name}`")),
        Dispatch::Tool(e) => e,
    })?;
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(tool) = plugin.find(name) {
        check_output(tool, &out);
    }
    Ok(out)
}

/// Asserts the prompts `plugin` declares, in order, each with its arguments as
/// (name, required): prompts of one name are merged across plugins by the host, so their
/// signatures are a contract between plugins worth pinning in a test.
///
/// # Panics
///
/// When the declared prompts differ from `expected`.
pub fn assert_prompt_signatures(plugin: &Plugin, expected: &[(&str, &[(&str, bool)])]) {
    let declared: Vec<(String, Vec<(String, bool)>)> = crate::__private::manifest(plugin)
        .prompts
        .into_iter()
        .map(|p| {
            let args = p
                .arguments
                .into_iter()
                .map(|a| (a.name, a.required))
                .collect();
            (p.name, args)
        })
        .collect();
    let expected: Vec<(String, Vec<(String, bool)>)> = expected
        .iter()
        .map(|(name, args)| {
            let args = args.iter().map(|(a, r)| (a.to_string(), *r)).collect();
            (name.to_string(), args)
        })
        .collect();
    assert_eq!(
        declared, expected,
        "declared prompts (left) differ from the expected"
    );
}

/// Render prompt `name` of `plugin` with `arguments`, as the host would.
pub fn prompt(
    plugin: &Plugin,
    name: &str,
    arguments: &[(&str, &str)],
) -> Result<crate::Briefing, ToolError> {
    let args = arguments
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    crate::plugin::get_prompt(plugin, name, args)
        .map(crate::Briefing::from_wit)
        .map_err(ToolError::from_wit)
}

/// Every resource `plugin` lists now, each checked to belong to one of its
/// families (as the host checks).
///
/// # Panics
///
/// When a listed URI matches none of the plugin's URI templates.
pub fn list_resources(plugin: &Plugin) -> Result<Vec<crate::Link>, ToolError> {
    let links = crate::plugin::list_resources(plugin).map_err(ToolError::from_wit)?;
    let manifest = crate::plugin::manifest(plugin);
    for link in &links {
        assert!(
            manifest
                .resource_templates
                .iter()
                .any(|t| crate::uri_template::match_uri(&t.uri_template, &link.uri).is_some()),
            "listed resource `{}` matches none of the plugin's URI templates",
            link.uri
        );
    }
    Ok(links.into_iter().map(crate::Link::from_wit).collect())
}

/// Read `uri` from `plugin`, routed to the first template it matches, as the
/// host routes it.
pub fn read(plugin: &Plugin, uri: &str) -> Result<Vec<crate::Contents>, ToolError> {
    let manifest = crate::plugin::manifest(plugin);
    let (template, vars) = manifest
        .resource_templates
        .iter()
        .find_map(|t| {
            crate::uri_template::match_uri(&t.uri_template, uri)
                .map(|v| (t.uri_template.clone(), v))
        })
        .ok_or_else(|| ToolError::invalid(format!("no resource family matches `{uri}`")))?;
    crate::plugin::read_resource(plugin, uri, &template, vars)
        .map(|c| c.into_iter().map(crate::Contents::from_wit).collect())
        .map_err(ToolError::from_wit)
}

/// Complete `argument` from `value` with `context`, as the host asks: the
/// suggested values, at most [`crate::complete::MAX_VALUES`].
pub fn complete(
    plugin: &Plugin,
    argument: &str,
    value: &str,
    context: &[(&str, &str)],
) -> Result<Vec<String>, ToolError> {
    let context = context
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    crate::plugin::complete(plugin, argument, value.into(), context)
        .map(|c| c.values)
        .map_err(ToolError::from_wit)
}

/// What a client checks in a tool's answer: structured content present when an
/// output schema is declared, and valid against it.
#[cfg(not(target_arch = "wasm32"))]
fn check_output(tool: &ToolDef, out: &Output) {
    let name = tool.name();
    let Some(schema) = tool.output_schema() else {
        return;
    };
    if out.is_error() {
        return;
    }
    let Some(value) = out.structured() else {
        panic!("tool `{name}` has an output schema but answered without structured content");
    };
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("tool `{name}`: its output schema does not compile: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(10)
        .map(|e| {
            let path = e.instance_path().to_string();
            let path = if path.is_empty() {
                "(root)".into()
            } else {
                path
            };
            format!("{path}: {e} (schema {})", e.schema_path())
        })
        .collect();
    assert!(
        errors.is_empty(),
        "tool `{name}`: structured content does not match its output schema:\n  {}\nstructured content: {value}",
        errors.join("\n  ")
    );
}

/// Everything an MCP client would reject or warn about in the schemas `plugin`
/// declares (see [`crate::schema::problems`]), each as
/// `tool (input|output) JSON-pointer: problem`. A plugin's tests assert it is empty:
///
/// ```
/// use plue_plugin_sdk::{prelude::*, testing};
/// let p = Plugin::new("p", "0.1.0", "Says hi.")
///     .tool(tool("hi", "Say hi.", |_: Json| Ok(Output::text("hi"))));
/// assert_eq!(testing::schema_problems(&p), Vec::<String>::new());
/// ```
pub fn schema_problems(plugin: &Plugin) -> Vec<String> {
    let mut found = Vec::new();
    for tool in plugin.tools() {
        let schemas = [
            ("input", Some(tool.input_schema())),
            ("output", tool.output_schema()),
        ];
        for (which, schema) in schemas {
            if let Some(schema) = schema {
                found.extend(
                    crate::schema::problems(&schema)
                        .into_iter()
                        .map(|p| format!("{} {which} {p}", tool.name())),
                );
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    /// Serialises as a number while its schema says string: the drift a
    /// hand-written `JsonSchema` can still introduce.
    struct Drifted;

    impl Serialize for Drifted {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_u32(7)
        }
    }

    impl JsonSchema for Drifted {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Drifted".into()
        }
        fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
            schemars::json_schema!({"type": "object", "properties": {"n": {"type": "string"}}})
        }
    }

    fn drifting() -> Plugin {
        Plugin::new("d", "0.1.0", "Drifts.").tool(tool("drift", "Drift.", |_: Json| {
            Ok(Answer::new("7", Drifted))
        }))
    }

    #[test]
    #[should_panic(expected = "tool `drift`: structured content does not match its output schema")]
    fn answers_off_their_schema_fail_the_test() {
        let _ = call(&drifting(), "drift", json!({}));
    }

    #[test]
    fn hand_written_schemas_are_checked() {
        #[derive(Serialize)]
        struct Loose;
        impl JsonSchema for Loose {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                "Loose".into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({"type": "object", "properties": {"n": {"$ref": "#/x"}}, "required": ["m"]})
            }
        }
        let p = Plugin::new("l", "0.1.0", "Loose.").tool(tool("loose", "Loose.", |_: Json| {
            Ok(Answer::new("", Loose))
        }));
        assert_eq!(
            schema_problems(&p),
            vec![
                "loose output (root): `m` is required but not a property, so a value may omit it",
                "loose output /properties/n: `$ref` (inline the subschema)",
            ]
        );
    }
}
