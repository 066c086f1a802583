//! Arguments checked against a tool's input schema before the plugin runs:
//! literals sent as strings coerced to the declared type (`"20"` → 20), names
//! the tool does not declare refused with a "did you mean", then JSON Schema
//! validation. Every message names the field and lists the parameters.

use serde_json::{Map, Value};

use super::contract::ToolContract;

/// The most validation problems one message lists.
const MAX_LISTED: usize = 5;

impl ToolContract {
    /// Agents often send `"20"` for an integer or `"true"` for a boolean: turn
    /// such top-level values into the type the schema asks for when the text
    /// is exactly that type's literal. Anything else is left for
    /// [`ToolContract::check_arguments`] to report.
    pub fn coerce(&self, arguments: &mut Value) {
        let (Some(props), Some(args)) = (
            self.input.get("properties").and_then(Value::as_object),
            arguments.as_object_mut(),
        ) else {
            return;
        };
        for (name, value) in args.iter_mut() {
            if let Some(schema) = props.get(name) {
                coerce_value(schema, value);
            }
        }
    }

    /// Check `arguments` of tool `tool` (its exposed name): undeclared names
    /// first, then the schema. The message says what to send instead.
    pub fn check_arguments(&self, tool: &str, arguments: &Value) -> Result<(), String> {
        let parameters = || describe_parameters(&self.input);
        if let Some(unknown) = self.undeclared(arguments) {
            let hints: Vec<String> = unknown
                .iter()
                .map(|name| match self.closest(name) {
                    Some(known) => format!("`{name}` (did you mean `{known}`?)"),
                    None => format!("`{name}`"),
                })
                .collect();
            return Err(format!(
                "invalid arguments for `{tool}`: unknown argument{} {}. Parameters: {}",
                if unknown.len() == 1 { "" } else { "s" },
                hints.join(", "),
                parameters()
            ));
        }
        // The common case first: `is_valid` stops at the first failure and
        // builds no errors.
        let validator = self.input_validator();
        if validator.is_valid(arguments) {
            return Ok(());
        }
        let problems: Vec<String> = validator
            .iter_errors(arguments)
            .take(MAX_LISTED)
            .map(|e| {
                let path = e.instance_path().as_str();
                if path.is_empty() || path == "/" {
                    e.to_string()
                } else {
                    format!("`{}`: {e}", path.trim_start_matches('/').replace('/', "."))
                }
            })
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        Err(format!(
            "invalid arguments for `{tool}`: {}. Parameters: {}",
            problems.join("; "),
            parameters()
        ))
    }

    /// Top-level argument names the schema does not declare, unless it
    /// explicitly accepts others (`additionalProperties` or
    /// `patternProperties`).
    fn undeclared(&self, arguments: &Value) -> Option<Vec<String>> {
        let args = arguments.as_object()?;
        let open = self
            .input
            .get("additionalProperties")
            .is_some_and(|a| a != &Value::Bool(false) && a != &serde_json::json!({"not": {}}))
            || self.input.contains_key("patternProperties");
        if open {
            return None;
        }
        let declared = self.input.get("properties").and_then(Value::as_object);
        let unknown: Vec<String> = args
            .keys()
            .filter(|k| !declared.is_some_and(|d| d.contains_key(*k)))
            .cloned()
            .collect();
        (!unknown.is_empty()).then_some(unknown)
    }

    /// The declared parameter closest to a mistyped `name`, if any is close.
    fn closest(&self, name: &str) -> Option<&str> {
        let declared = self.input.get("properties").and_then(Value::as_object)?;
        let wanted = name.to_ascii_lowercase();
        declared
            .keys()
            .map(|k| (edit_distance(&wanted, &k.to_ascii_lowercase()), k.as_str()))
            .filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(1))
            .min_by_key(|(d, _)| *d)
            .map(|(_, k)| k)
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and transpositions of neighbours (`limt` → `limit` is 1).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

/// The JSON types a property schema allows (`"type": "x"` or `["x", "null"]`).
fn allowed_types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn coerce_value(schema: &Value, value: &mut Value) {
    let types = allowed_types(schema);
    let replacement = match &*value {
        Value::String(text) if !types.contains(&"string") => {
            let text = text.trim();
            if types.contains(&"integer") {
                text.parse::<i64>().ok().map(Value::from)
            } else if types.contains(&"number") {
                text.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Value::from)
            } else if types.contains(&"boolean") {
                match text {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    _ => None,
                }
            } else {
                None
            }
        }
        // 6.0 for an integer parameter.
        Value::Number(n) if types.contains(&"integer") && !n.is_i64() && !n.is_u64() => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
            .map(|f| Value::from(f as i64)),
        _ => None,
    };
    if let Some(v) = replacement {
        *value = v;
    }
}

/// `query (string, required), limit (integer)` from an object schema,
/// required parameters first.
fn describe_parameters(schema: &Map<String, Value>) -> String {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return "none".into();
    };
    if props.is_empty() {
        return "none".into();
    }
    let mut props: Vec<(&String, &Value)> = props.iter().collect();
    props.sort_by_key(|(name, _)| !required.contains(&name.as_str()));
    props
        .into_iter()
        .map(|(name, p)| {
            let ty = match p.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t != "null")
                    .collect::<Vec<_>>()
                    .join("|"),
                _ if p.get("enum").is_some() => "enum".into(),
                _ => "any".into(),
            };
            let req = if required.contains(&name.as_str()) {
                ", required"
            } else {
                ""
            };
            format!("{name} ({ty}{req})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(schema: Value, input: Value, expected: Value) {
        let mut value = input.clone();
        coerce_value(&schema, &mut value);
        assert_eq!(value, expected, "{schema} {input}");
    }

    #[test]
    fn literals_become_the_declared_type_and_nothing_else_changes() {
        let int = json!({"type": "integer"});
        let opt_int = json!({"type": ["integer", "null"]});
        let num = json!({"type": "number"});
        let boolean = json!({"type": "boolean"});
        let text = json!({"type": "string"});
        check(int.clone(), json!("20"), json!(20));
        check(opt_int.clone(), json!(" 7 "), json!(7));
        check(int.clone(), json!(6.0), json!(6));
        check(int.clone(), json!(6.5), json!(6.5));
        check(int.clone(), json!("twenty"), json!("twenty"));
        check(int, json!("2.5"), json!("2.5"));
        check(num.clone(), json!("0.25"), json!(0.25));
        check(num, json!("NaN"), json!("NaN"));
        check(boolean.clone(), json!("true"), json!(true));
        check(boolean, json!("yes"), json!("yes"));
        check(text, json!("20"), json!("20"));
        check(opt_int, json!(null), json!(null));
    }

    fn query_tool() -> ToolContract {
        let input = json!({
            "type": "object",
            "required": ["query"],
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 1}, "time": {"type": "string"}}
        });
        ToolContract::compile(&input.to_string(), None).unwrap()
    }

    #[test]
    fn an_undeclared_argument_is_refused_with_a_suggestion() {
        let c = query_tool();
        let e = c
            .check_arguments("q", &json!({"query": "up", "limt": 5}))
            .unwrap_err();
        assert!(
            e.contains("unknown argument `limt` (did you mean `limit`?)"),
            "{e}"
        );
        assert!(
            e.contains("Parameters: query (string, required), limit (integer), time (string)"),
            "{e}"
        );
        let e = c
            .check_arguments("q", &json!({"query": "up", "banana": 1, "Time": "1h"}))
            .unwrap_err();
        assert!(
            e.contains("unknown arguments `Time` (did you mean `time`?), `banana`"),
            "{e}"
        );
        assert!(
            c.check_arguments("q", &json!({"query": "up", "limit": 5}))
                .is_ok()
        );
    }

    #[test]
    fn schema_violations_name_the_field() {
        let c = query_tool();
        let e = c.check_arguments("q", &json!({"limit": 0})).unwrap_err();
        assert!(e.contains("\"query\" is a required property"), "{e}");
        assert!(
            e.contains("`limit`: 0 is less than the minimum of 1"),
            "{e}"
        );
    }

    #[test]
    fn schemas_that_accept_other_names_keep_accepting_them() {
        let input = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}});
        let c = ToolContract::compile(&input.to_string(), None).unwrap();
        assert!(c.check_arguments("t", &json!({"b": "x"})).is_ok());
        let input =
            json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false});
        let c = ToolContract::compile(&input.to_string(), None).unwrap();
        assert!(c.check_arguments("t", &json!({"b": "x"})).is_err());
    }

    #[test]
    fn edit_distance_counts_transpositions_once() {
        assert_eq!(edit_distance("limt", "limit"), 1);
        assert_eq!(edit_distance("lmiit", "limit"), 1);
        assert_eq!(edit_distance("query", "query"), 0);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
