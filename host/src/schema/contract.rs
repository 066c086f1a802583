//! One tool's contract, compiled once at load: its normalised input and
//! output schemas and their validators. Arguments are checked before the
//! plugin runs (see [`super::arguments`]); structured content after, so an
//! answer off its schema never reaches a client.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::SchemaProblem;
use super::normalize::normalize;

/// The most schema violations one message lists.
const MAX_LISTED: usize = 3;

/// A tool's schemas, normalised and compiled.
#[derive(Debug)]
pub struct ToolContract {
    pub input: Arc<Map<String, Value>>,
    pub output: Option<Arc<Map<String, Value>>>,
    input_validator: jsonschema::Validator,
    output_validator: Option<jsonschema::Validator>,
}

/// Structured content that breaks the tool's output schema: a plugin defect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputViolation {
    /// What is wrong, with JSON paths and rules.
    pub problems: Vec<String>,
}

impl std::fmt::Display for OutputViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problems.join("; "))
    }
}

impl ToolContract {
    /// Normalise and compile `input` and `output` (JSON Schema texts). The
    /// error says which of the two failed, where and why.
    pub fn compile(
        input: &str,
        output: Option<&str>,
    ) -> Result<ToolContract, (&'static str, SchemaProblem)> {
        let (input, input_validator) = compile_one(input).map_err(|p| ("input", p))?;
        let (output, output_validator) = match output {
            Some(text) => {
                let (schema, validator) = compile_one(text).map_err(|p| ("output", p))?;
                (Some(schema), Some(validator))
            }
            None => (None, None),
        };
        Ok(ToolContract {
            input,
            output,
            input_validator,
            output_validator,
        })
    }

    /// The normalised input schema as JSON text.
    pub fn input_text(&self) -> String {
        Value::Object((*self.input).clone()).to_string()
    }

    /// The normalised output schema as JSON text, if declared.
    pub fn output_text(&self) -> Option<String> {
        self.output
            .as_ref()
            .map(|o| Value::Object((**o).clone()).to_string())
    }

    pub(super) fn input_validator(&self) -> &jsonschema::Validator {
        &self.input_validator
    }

    /// Check an answer's structured content. A successful answer of a tool
    /// with an output schema must carry content matching it; an error answer
    /// may carry none.
    pub fn check_output(
        &self,
        structured: Option<&Value>,
        is_error: bool,
    ) -> Result<(), OutputViolation> {
        let Some(validator) = &self.output_validator else {
            return Ok(());
        };
        let Some(value) = structured else {
            return if is_error {
                Ok(())
            } else {
                Err(OutputViolation {
                    problems: vec![
                        "the tool declares an output schema but returned no structured content"
                            .into(),
                    ],
                })
            };
        };
        if validator.is_valid(value) {
            return Ok(());
        }
        let problems: Vec<String> = validator
            .iter_errors(value)
            .take(MAX_LISTED)
            .map(|e| {
                let at = e.instance_path().as_str();
                let rule = e
                    .schema_path()
                    .as_str()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_string();
                format!(
                    "at `{}`: {} (rule `{rule}`)",
                    if at.is_empty() { "/" } else { at },
                    clip(&e.to_string(), 200)
                )
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(OutputViolation { problems })
        }
    }
}

fn compile_one(
    text: &str,
) -> Result<(Arc<Map<String, Value>>, jsonschema::Validator), SchemaProblem> {
    let value: Value = serde_json::from_str(text).map_err(|e| SchemaProblem {
        path: "/".into(),
        rule: format!("is not JSON: {e}"),
    })?;
    let normalised = normalize(value)?;
    let validator = jsonschema::validator_for(&normalised).map_err(|e| SchemaProblem {
        path: {
            let p = e.instance_path().as_str().to_string();
            if p.is_empty() { "/".into() } else { p }
        },
        rule: format!("is not a valid JSON Schema: {}", clip(&e.to_string(), 200)),
    })?;
    let Value::Object(map) = normalised else {
        unreachable!("normalize returns an object schema");
    };
    Ok((Arc::new(map), validator))
}

/// `text` cut to at most `max` bytes (on a character boundary), marked `…`.
fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract(output: Value) -> ToolContract {
        ToolContract::compile("{}", Some(&output.to_string())).unwrap()
    }

    #[test]
    fn structured_content_is_checked_against_the_output_schema() {
        let c = contract(json!({
            "type": "object",
            "required": ["groups"],
            "properties": {"groups": {"type": "array", "items": {
                "type": "object", "required": ["fields"],
                "properties": {"fields": {"type": "object"}, "count": {"type": "integer", "minimum": 0}}
            }}}
        }));
        assert!(
            c.check_output(Some(&json!({"groups": [{"fields": {}}]})), false)
                .is_ok()
        );
        let e = c
            .check_output(
                Some(&json!({"groups": [{"fields": {}}, {"count": -1}]})),
                false,
            )
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("at `/groups/1`") && text.contains("rule `required`"),
            "{text}"
        );
        assert!(
            text.contains("at `/groups/1/count`") && text.contains("rule `minimum`"),
            "{text}"
        );
    }

    #[test]
    fn a_successful_answer_must_carry_structured_content() {
        let c = contract(json!({"type": "object"}));
        let e = c.check_output(None, false).unwrap_err();
        assert!(e.to_string().contains("no structured content"), "{e}");
        assert!(
            c.check_output(None, true).is_ok(),
            "error answers may omit it"
        );
        let plain = ToolContract::compile("{}", None).unwrap();
        assert!(plain.check_output(None, false).is_ok());
        assert!(plain.check_output(Some(&json!([1])), false).is_ok());
    }

    #[test]
    fn invalid_schemas_are_refused_saying_which_one() {
        let (which, p) =
            ToolContract::compile("{}", Some(r#"{"properties":{"a":{"minimum":"x"}}}"#))
                .err()
                .unwrap();
        assert_eq!(which, "output");
        assert!(p.rule.contains("not a valid JSON Schema"), "{p:?}");
        let (which, p) = ToolContract::compile("not json", None).err().unwrap();
        assert_eq!(which, "input");
        assert!(p.rule.contains("not JSON"), "{p:?}");
    }
}
