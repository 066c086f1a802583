//! One JSON Schema made into what every MCP client accepts: an object schema
//! at the root, objects (never bare booleans) wherever a subschema goes, only
//! `format` values from JSON Schema's own vocabulary, no `$ref` leaving the
//! schema, and bounded size and depth. Pure: no I/O, no protocol types.

use serde_json::{Map, Value};

use super::SchemaProblem;

/// The largest schema (input or output) a tool may declare, serialised.
pub const MAX_SCHEMA_BYTES: usize = 64 * 1024;
/// The deepest nesting of subschemas a tool may declare.
pub const MAX_SCHEMA_DEPTH: usize = 32;

/// JSON Schema 2020-12's `format` vocabulary; anything else (`uint`, `int64`,
/// `double`, …) is dropped, since validating clients warn on every unknown one.
const STANDARD_FORMATS: &[&str] = &[
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
const ONE_SCHEMA: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "contentSchema",
];
/// Keywords where `false` ("nothing else") is the idiom every client knows.
const CLOSING: &[&str] = &["additionalProperties", "unevaluatedProperties"];
/// Keywords whose value is an array of subschemas.
const SCHEMA_LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to subschemas.
const SCHEMA_MAP: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
/// Reference keywords: only fragments into the same schema are allowed.
const REFERENCES: &[&str] = &["$ref", "$dynamicRef", "$recursiveRef"];

/// Normalise `schema` in place of a tool's input or output schema; the error
/// names the JSON path and the rule broken.
pub fn normalize(schema: Value) -> Result<Value, SchemaProblem> {
    let mut root = match schema {
        Value::Bool(true) => Value::Object(Map::new()),
        Value::Object(map) => Value::Object(map),
        other => {
            return Err(problem(
                "",
                format!("the root must be an object schema, not `{other}`"),
            ));
        }
    };
    let map = root.as_object_mut().expect("object root");
    match map.get("type") {
        None => {
            map.insert("type".into(), "object".into());
        }
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => {
            return Err(problem(
                "/type",
                format!("the root must have type `object`, not {other}"),
            ));
        }
    }
    let mut refs = Vec::new();
    walk(&mut root, &mut String::new(), 0, &mut refs)?;
    for (path, target) in refs {
        if root.pointer(&target).is_none() {
            return Err(problem(
                &path,
                format!("`$ref` points to `#{target}`, which is not in the schema"),
            ));
        }
    }
    let size = root.to_string().len();
    if size > MAX_SCHEMA_BYTES {
        return Err(problem(
            "",
            format!("the schema is {size} bytes, over the limit of {MAX_SCHEMA_BYTES} bytes"),
        ));
    }
    Ok(root)
}

fn problem(path: &str, rule: impl Into<String>) -> SchemaProblem {
    SchemaProblem {
        path: if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
        rule: rule.into(),
    }
}

/// Normalise the subschema at `path`; `refs` collects local references to
/// check once the whole schema is known.
fn walk(
    schema: &mut Value,
    path: &mut String,
    depth: usize,
    refs: &mut Vec<(String, String)>,
) -> Result<(), SchemaProblem> {
    if depth > MAX_SCHEMA_DEPTH {
        return Err(problem(
            path,
            format!("subschemas are nested deeper than {MAX_SCHEMA_DEPTH} levels"),
        ));
    }
    let map = match schema {
        Value::Bool(true) => {
            *schema = Value::Object(Map::new());
            return Ok(());
        }
        Value::Bool(false) => {
            *schema = serde_json::json!({ "not": {} });
            return Ok(());
        }
        Value::Object(map) => map,
        other => {
            return Err(problem(
                path,
                format!("a schema must be an object, not `{other}`"),
            ));
        }
    };
    if map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| !STANDARD_FORMATS.contains(&f))
        || map.get("format").is_some_and(|f| !f.is_string())
    {
        map.remove("format");
    }
    for key in REFERENCES {
        if let Some(reference) = map.get(*key) {
            let local = reference
                .as_str()
                .and_then(|r| r.strip_prefix('#'))
                .map(|fragment| fragment.replace("%25", "%"));
            match local {
                Some(target) if target.is_empty() || target.starts_with('/') => {
                    refs.push((format!("{path}/{key}"), target));
                }
                _ => {
                    return Err(problem(
                        &format!("{path}/{key}"),
                        format!("`{key}` must point inside the schema (`#/…`), not to {reference}"),
                    ));
                }
            }
        }
    }
    for (key, value) in map.iter_mut() {
        let len = path.len();
        path.push('/');
        path.push_str(&escape(key));
        let result = if CLOSING.contains(&key.as_str()) && *value == Value::Bool(false) {
            Ok(()) // the common `additionalProperties: false` idiom stays as written
        } else if ONE_SCHEMA.contains(&key.as_str()) {
            walk(value, path, depth + 1, refs)
        } else if key == "items" {
            match value {
                Value::Array(items) => walk_list(items, path, depth, refs),
                item => walk(item, path, depth + 1, refs),
            }
        } else if SCHEMA_LIST.contains(&key.as_str()) {
            match value {
                Value::Array(items) => walk_list(items, path, depth, refs),
                _ => Err(problem(
                    path,
                    format!("`{key}` must be an array of schemas"),
                )),
            }
        } else if SCHEMA_MAP.contains(&key.as_str()) {
            match value {
                Value::Object(entries) => walk_map(entries, path, depth, refs),
                _ => Err(problem(path, format!("`{key}` must map names to schemas"))),
            }
        } else {
            Ok(())
        };
        result?;
        path.truncate(len);
    }
    Ok(())
}

fn walk_list(
    items: &mut [Value],
    path: &mut String,
    depth: usize,
    refs: &mut Vec<(String, String)>,
) -> Result<(), SchemaProblem> {
    for (i, item) in items.iter_mut().enumerate() {
        let len = path.len();
        path.push_str(&format!("/{i}"));
        walk(item, path, depth + 1, refs)?;
        path.truncate(len);
    }
    Ok(())
}

fn walk_map(
    entries: &mut Map<String, Value>,
    path: &mut String,
    depth: usize,
    refs: &mut Vec<(String, String)>,
) -> Result<(), SchemaProblem> {
    for (name, item) in entries.iter_mut() {
        let len = path.len();
        path.push('/');
        path.push_str(&escape(name));
        walk(item, path, depth + 1, refs)?;
        path.truncate(len);
    }
    Ok(())
}

/// A JSON Pointer token (RFC 6901).
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bare_booleans_become_objects_wherever_a_schema_goes() {
        let schema = json!({
            "type": "object",
            "properties": {
                "inputs": true,
                "rows": {"type": "array", "items": {"type": "array", "items": true}},
                "never": false,
                "either": {"anyOf": [true, {"type": "string"}]},
                "extra": {"type": "object", "additionalProperties": true},
                "closed": {"type": "object", "additionalProperties": false}
            }
        });
        let out = normalize(schema).unwrap();
        assert_eq!(out["properties"]["inputs"], json!({}));
        assert_eq!(out["properties"]["rows"]["items"]["items"], json!({}));
        assert_eq!(out["properties"]["never"], json!({"not": {}}));
        assert_eq!(out["properties"]["either"]["anyOf"][0], json!({}));
        assert_eq!(
            out["properties"]["extra"]["additionalProperties"],
            json!({})
        );
        assert_eq!(
            out["properties"]["closed"]["additionalProperties"],
            json!(false)
        );
    }

    #[test]
    fn only_standard_formats_survive() {
        let schema = json!({
            "properties": {
                "n": {"type": "integer", "format": "uint32"},
                "x": {"type": "number", "format": "double"},
                "at": {"type": "string", "format": "date-time"},
                "odd": {"type": "string", "format": 7}
            }
        });
        let out = normalize(schema).unwrap();
        assert!(out["properties"]["n"].get("format").is_none());
        assert!(out["properties"]["x"].get("format").is_none());
        assert!(out["properties"]["odd"].get("format").is_none());
        assert_eq!(out["properties"]["at"]["format"], "date-time");
        assert_eq!(out["type"], "object", "a missing root type becomes object");
    }

    #[test]
    fn property_names_that_look_like_keywords_are_not_keywords() {
        // A property called `format` or `items` is data, not a keyword.
        let schema = json!({"properties": {"format": {"type": "string"}, "items": true}});
        let out = normalize(schema).unwrap();
        assert_eq!(out["properties"]["format"], json!({"type": "string"}));
        assert_eq!(out["properties"]["items"], json!({}));
    }

    #[test]
    fn references_must_stay_inside_and_resolve() {
        let ok =
            json!({"$defs": {"a": {"type": "string"}}, "properties": {"x": {"$ref": "#/$defs/a"}}});
        assert!(normalize(ok).is_ok());
        let cases = [
            (
                json!({"properties": {"x": {"$ref": "https://evil.example/s.json"}}}),
                "/properties/x/$ref",
            ),
            (
                json!({"properties": {"x": {"$ref": "other.json#/a"}}}),
                "/properties/x/$ref",
            ),
            (
                json!({"properties": {"x": {"$ref": "#/$defs/missing"}}}),
                "/properties/x/$ref",
            ),
        ];
        for (schema, path) in cases {
            let e = normalize(schema.clone()).unwrap_err();
            assert_eq!(e.path, path, "{schema}: {e:?}");
        }
    }

    #[test]
    fn the_root_is_an_object_schema() {
        assert_eq!(normalize(json!(true)).unwrap(), json!({"type": "object"}));
        assert!(normalize(json!(false)).is_err());
        assert!(normalize(json!([1])).is_err());
        let e = normalize(json!({"type": "string"})).unwrap_err();
        assert_eq!(e.path, "/type");
    }

    #[test]
    fn non_schemas_in_schema_positions_are_refused_with_their_path() {
        let e = normalize(json!({"properties": {"a": {"items": 5}}})).unwrap_err();
        assert_eq!(e.path, "/properties/a/items");
        let e = normalize(json!({"properties": {"a/b": 1}})).unwrap_err();
        assert_eq!(e.path, "/properties/a~1b");
    }

    #[test]
    fn depth_and_size_are_bounded() {
        let mut deep = json!({"type": "string"});
        for _ in 0..(MAX_SCHEMA_DEPTH + 2) {
            deep = json!({"type": "array", "items": deep});
        }
        let e = normalize(json!({"properties": {"d": deep}})).unwrap_err();
        assert!(e.rule.contains("nested deeper"), "{e:?}");

        let big = "x".repeat(MAX_SCHEMA_BYTES);
        let e = normalize(json!({"description": big})).unwrap_err();
        assert!(e.rule.contains("bytes"), "{e:?}");
    }
}
