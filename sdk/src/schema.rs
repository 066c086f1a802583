//! The JSON Schemas a plugin declares, derived from Rust types so they cannot drift
//! from the values, and shaped so that every MCP client accepts them: an object at
//! the root, no `$ref`, no boolean schema where a client expects an object, only
//! `format` values of JSON Schema's own vocabulary, and an output schema that marks
//! required exactly the fields serde always writes. [`problems`] checks a schema for
//! all of that, so plugin tests (see [`crate::testing::schema_problems`]) catch a
//! schema written by hand or a type with a hand-written `JsonSchema`.

use schemars::JsonSchema;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value};

/// The `format` values JSON Schema 2020-12 defines; anything else (schemars'
/// `uint32`, `int64`, `double`, …) makes validating clients warn.
pub const STANDARD_FORMATS: &[&str] = &[
    "date-time",
    "date",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uuid",
    "uri-template",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Keywords whose value is one subschema.
const SINGLE: &[&str] = &[
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "additionalItems",
];
/// Keywords whose value is an array of subschemas.
const LISTS: &[&str] = &["anyOf", "oneOf", "allOf", "prefixItems"];
/// Keywords whose value maps names to subschemas.
const MAPS: &[&str] = &["properties", "patternProperties", "$defs", "definitions"];

/// The input schema of a tool whose arguments deserialise into `T`: a field serde
/// fills by default is optional.
pub(crate) fn input_of<T: JsonSchema>() -> Value {
    generate::<T>(Contract::Deserialize)
}

/// The output schema of a tool whose structured content serialises from `T`: a
/// field serde may skip (`skip_serializing_if`) is not required. Only the top
/// level lists `required`: nested objects give each field's type and nullability,
/// which is what a client checks, at a fraction of the bytes every agent pays for
/// in `tools/list`.
pub(crate) fn output_of<T: JsonSchema>() -> Value {
    let mut schema = generate::<T>(Contract::Serialize);
    if let Some(obj) = schema.as_object_mut() {
        for_each_subschema(obj, &mut |_, sub| drop_required(sub));
    }
    schema
}

fn drop_required(schema: &mut Value) {
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("required");
        for_each_subschema(obj, &mut |_, sub| drop_required(sub));
    }
}

fn generate<T: JsonSchema>(contract: Contract) -> Value {
    let settings = SchemaSettings::draft2020_12().with(|s| {
        s.inline_subschemas = true;
        s.contract = contract;
    });
    let mut schema = settings
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.remove("$schema");
        obj.remove("title");
        // A doc comment on the type describes it for Rust readers; in the schema it
        // only restates the tool's description.
        obj.remove("description");
        // MCP wants an object schema even for tools without parameters.
        obj.entry("type").or_insert_with(|| "object".into());
        if obj.get("type").and_then(Value::as_str) == Some("object") {
            obj.entry("properties")
                .or_insert_with(|| Value::Object(Map::new()));
        }
    }
    tidy(&mut schema);
    schema
}

/// What some client rejects: a boolean schema (`true` for a `serde_json::Value`
/// becomes `{}`, `false` becomes `{"not": {}}`, except `additionalProperties:
/// false`) and a `format` outside [`STANDARD_FORMATS`]. And what tells a client
/// nothing: `"default": null` (an omitted `Option`), `"additionalProperties":
/// true` (a map of anything) and `"minimum": 0` next to an integer (every count).
fn tidy(schema: &mut Value) {
    match schema {
        Value::Bool(true) => *schema = Value::Object(Map::new()),
        Value::Bool(false) => *schema = serde_json::json!({"not": {}}),
        _ => {}
    }
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    if obj
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| !STANDARD_FORMATS.contains(&f))
    {
        obj.remove("format");
    }
    if obj.get("default").is_some_and(Value::is_null) {
        obj.remove("default");
    }
    if obj.get("additionalProperties") == Some(&Value::Bool(true)) {
        obj.remove("additionalProperties");
    }
    if obj.get("minimum") == Some(&Value::from(0)) && is_integer(obj.get("type")) {
        obj.remove("minimum");
    }
    for_each_subschema(obj, &mut |path, sub| {
        if !(path == "/additionalProperties" && *sub == Value::Bool(false)) {
            tidy(sub);
        }
    });
}

fn is_integer(ty: Option<&Value>) -> bool {
    match ty {
        Some(Value::String(t)) => t == "integer",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "integer"),
        _ => false,
    }
}

/// Call `f(path_suffix, subschema)` for each direct subschema of `obj`.
fn for_each_subschema(obj: &mut Map<String, Value>, f: &mut dyn FnMut(String, &mut Value)) {
    for (key, value) in obj.iter_mut() {
        let key = key.as_str();
        if SINGLE.contains(&key) {
            f(format!("/{key}"), value);
        } else if LISTS.contains(&key) {
            if let Some(list) = value.as_array_mut() {
                for (i, sub) in list.iter_mut().enumerate() {
                    f(format!("/{key}/{i}"), sub);
                }
            }
        } else if MAPS.contains(&key)
            && let Some(map) = value.as_object_mut()
        {
            for (name, sub) in map.iter_mut() {
                f(format!("/{key}/{}", escape(name)), sub);
            }
        }
    }
}

/// JSON Pointer escaping of one path segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Everything in `schema` some MCP client rejects or warns about, each as
/// `JSON-pointer: problem`: a root that is not an object schema, a boolean schema
/// (other than `additionalProperties: false`), a `$ref`, a `format` outside
/// [`STANDARD_FORMATS`], a `required` name with no property (a field the value
/// can lack).
///
/// ```
/// let bad = serde_json::json!({"type": "object", "properties": {
///     "n": {"type": "integer", "format": "uint32"}, "any": true}, "required": ["gone"]});
/// let found = plue_plugin_sdk::schema::problems(&bad);
/// assert_eq!(found.len(), 3, "{found:?}");
/// assert!(found.iter().any(|p| p.starts_with("/properties/any:")));
/// ```
pub fn problems(schema: &Value) -> Vec<String> {
    let mut found = Vec::new();
    match schema {
        Value::Object(obj) if obj.get("type").and_then(Value::as_str) == Some("object") => {}
        _ => found.push("(root): not an object schema with \"type\": \"object\"".to_string()),
    }
    let mut schema = schema.clone();
    walk(String::new(), "", &mut schema, &mut found);
    found.sort();
    found
}

fn walk(path: String, keyword: &str, schema: &mut Value, found: &mut Vec<String>) {
    let at = if path.is_empty() { "(root)" } else { &path };
    let obj = match schema {
        Value::Bool(false) if keyword == "additionalProperties" => return,
        Value::Bool(b) => {
            found.push(format!(
                "{at}: bare `{b}` where a schema object is expected (use {{}} or a described object)"
            ));
            return;
        }
        Value::Object(obj) => obj,
        _ => return,
    };
    if obj.contains_key("$ref") || obj.contains_key("$dynamicRef") {
        found.push(format!("{at}: `$ref` (inline the subschema)"));
    }
    if let Some(format) = obj.get("format").and_then(Value::as_str)
        && !STANDARD_FORMATS.contains(&format)
    {
        found.push(format!(
            "{at}: format `{format}` is not a JSON Schema format (drop it)"
        ));
    }
    if let Some(required) = obj.get("required").and_then(Value::as_array) {
        let props = obj.get("properties").and_then(Value::as_object);
        for name in required.iter().filter_map(Value::as_str) {
            if !props.is_some_and(|p| p.contains_key(name)) {
                found.push(format!(
                    "{at}: `{name}` is required but not a property, so a value may omit it"
                ));
            }
        }
    }
    for_each_subschema(obj, &mut |suffix, sub| {
        let keyword = suffix.split('/').nth(1).unwrap_or_default().to_string();
        walk(format!("{path}{suffix}"), &keyword, sub, found);
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Deserialize, JsonSchema)]
    #[allow(dead_code)]
    /// Arguments of `t`.
    struct Args {
        /// Required.
        name: String,
        /// Optional.
        #[serde(default)]
        limit: Option<u32>,
        #[serde(default)]
        count: u64,
    }

    #[derive(Serialize, JsonSchema)]
    struct Inner {
        id: u32,
    }

    #[derive(Serialize, JsonSchema)]
    struct Out {
        inner: Inner,
        always: Vec<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        sometimes: Vec<String>,
        maybe: Option<i64>,
        ratio: f64,
        anything: serde_json::Value,
        rows: Vec<Vec<serde_json::Value>>,
    }

    #[test]
    fn input_schemas_are_self_contained_objects_without_noise() {
        let schema = input_of::<Args>();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(schema["properties"]["name"]["description"], "Required.");
        assert!(schema.get("description").is_none(), "{schema}");
        let limit = &schema["properties"]["limit"];
        assert!(
            limit.get("default").is_none() && limit.get("format").is_none(),
            "{schema}"
        );
        assert!(
            schema["properties"]["count"].get("minimum").is_none(),
            "{schema}"
        );
        assert!(schema.get("$schema").is_none() && schema.get("$defs").is_none());
        assert_eq!(problems(&schema), Vec::<String>::new());
    }

    #[test]
    fn output_schemas_require_only_what_serde_always_writes() {
        let schema = output_of::<Out>();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(!required.contains(&"sometimes"), "{schema}");
        for name in ["always", "maybe", "ratio", "anything", "rows"] {
            assert!(required.contains(&name), "{name} in {schema}");
        }
        assert_eq!(schema["properties"]["anything"], json!({}));
        assert!(
            schema["properties"]["inner"].get("required").is_none(),
            "{schema}"
        );
        assert_eq!(schema["properties"]["rows"]["items"]["items"], json!({}));
        assert!(
            schema["properties"]["ratio"].get("format").is_none(),
            "{schema}"
        );
        assert_eq!(problems(&schema), Vec::<String>::new());
    }

    #[test]
    fn problems_name_the_path_and_the_rule() {
        let bad = json!({"type": "object", "additionalProperties": false, "properties": {
            "a": {"type": "array", "items": {"anyOf": [true, {"$ref": "#/$defs/x"}]}},
            "b/c": {"type": "number", "format": "double"},
            "ok": {"type": "string", "format": "date-time"}
        }, "required": ["a", "z"]});
        assert_eq!(
            problems(&bad),
            vec![
                "(root): `z` is required but not a property, so a value may omit it",
                "/properties/a/items/anyOf/0: bare `true` where a schema object is expected (use {} or a described object)",
                "/properties/a/items/anyOf/1: `$ref` (inline the subschema)",
                "/properties/b~1c: format `double` is not a JSON Schema format (drop it)",
            ]
        );
        assert_eq!(problems(&json!(true)).len(), 2);
    }
}
