//! `echo`: the text sent back, repeated; logs what it did (the log capability).

use plue_plugin_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct EchoArgs {
    /// Text to send back.
    text: String,
    /// How many times to repeat it (1 to 10).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    times: u8,
}

fn one() -> u8 {
    1
}

#[derive(Serialize, JsonSchema)]
struct Echoed {
    text: String,
    times: u8,
}

fn echo(args: EchoArgs) -> Result<Answer<Echoed>, ToolError> {
    plue_plugin_sdk::log::info(&format!(
        "echoing {} character(s) {} time(s)",
        args.text.chars().count(),
        args.times
    ));
    let repeated = vec![args.text.as_str(); args.times as usize].join(" ");
    Ok(Answer::new(
        repeated,
        Echoed {
            text: args.text,
            times: args.times,
        },
    ))
}

pub fn def() -> ToolDef {
    tool("echo", "Send the text back, repeated `times` times.", echo)
        .title("Echo")
        .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::prelude::*;
    use plue_plugin_sdk::testing;

    use crate::plugin;

    #[test]
    fn echo_repeats() {
        let out = testing::call(&plugin(), "echo", json!({"text": "hi", "times": 3})).unwrap();
        assert_eq!(out.text_content(), "hi hi hi");
        assert_eq!(out.structured().unwrap()["times"], 3);
    }
}
