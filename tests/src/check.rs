//! Assertion helpers shared by the end-to-end tests: read typed values out of a
//! tool's structured content, and check text, with messages that show what was
//! there instead.

use anyhow::{Context, Result, ensure};
use serde_json::Value;

/// Every needle appears in `text`.
pub fn has(what: &str, text: &str, needles: &[&str]) -> Result<()> {
    for n in needles {
        ensure!(text.contains(n), "{what}: `{n}` missing from:\n{text}");
    }
    Ok(())
}

/// The integer at JSON `pointer` in `v`.
pub fn int(v: &Value, pointer: &str) -> Result<i64> {
    v.pointer(pointer)
        .and_then(Value::as_i64)
        .with_context(|| format!("{pointer} is not an integer in {v}"))
}

/// The number at JSON `pointer` in `v`.
pub fn num(v: &Value, pointer: &str) -> Result<f64> {
    v.pointer(pointer)
        .and_then(Value::as_f64)
        .with_context(|| format!("{pointer} is not a number in {v}"))
}

/// The element of the array at `pointer` whose `key` equals `want`.
pub fn find<'a>(v: &'a Value, pointer: &str, key: &str, want: &Value) -> Result<&'a Value> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .and_then(|items| items.iter().find(|i| &i[key] == want))
        .with_context(|| format!("no element with {key} = {want} in {pointer} of {v}"))
}

/// The named cases of one test. Each case runs whatever the others did; `finish`
/// fails naming every case that failed, with its message, so one broken answer
/// neither hides the rest nor leaves the reader guessing which case it was.
#[derive(Default)]
pub struct Cases {
    ran: usize,
    failed: Vec<String>,
}

impl Cases {
    pub fn new() -> Cases {
        Cases::default()
    }

    /// Record the outcome of the case `name`.
    pub fn record(&mut self, name: impl std::fmt::Display, outcome: Result<()>) {
        self.ran += 1;
        if let Err(e) = outcome {
            self.failed.push(format!("{name}: {e:#}"));
        }
    }

    /// Run the case `name` and record its outcome.
    pub async fn check(
        &mut self,
        name: impl std::fmt::Display,
        case: impl std::future::Future<Output = Result<()>>,
    ) {
        let outcome = case.await;
        self.record(name, outcome);
    }

    /// `Ok` when every case passed and at least one ran.
    pub fn finish(self) -> Result<()> {
        ensure!(self.ran > 0, "no case ran");
        ensure!(
            self.failed.is_empty(),
            "{} of {} cases failed:\n\n{}",
            self.failed.len(),
            self.ran,
            self.failed.join("\n\n")
        );
        Ok(())
    }
}
