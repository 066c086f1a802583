//! `read_file`: a text file from a granted directory (the files capability).

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{files, text};

#[derive(Deserialize, JsonSchema)]
struct ReadFileArgs {
    /// Path relative to the granted directory.
    path: String,
    /// The directory; the manifest asks for `data`.
    #[serde(default = "data_dir")]
    directory: String,
}

fn data_dir() -> String {
    "data".into()
}

fn read_file(args: ReadFileArgs) -> Result<Output, ToolError> {
    let content = files::read_to_string(&args.directory, &args.path)?;
    let (shown, cut) = text::truncate_chars(&content, 8000);
    let mut out = shown;
    if cut > 0 {
        out.push_str(&format!("\n\n({cut} more characters left out)"));
    }
    Ok(Output::text(out))
}

pub fn def() -> ToolDef {
    tool(
        "read_file",
        "Read a text file from a granted directory.",
        read_file,
    )
    .title("Read file")
    .read_only()
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::prelude::*;
    use plue_plugin_sdk::testing;

    use crate::plugin;

    #[test]
    fn read_file_refuses_parent_paths() {
        let err = testing::call(&plugin(), "read_file", json!({"path": "../secret"})).unwrap_err();
        assert!(err.to_string().contains("`..` is not allowed"), "{err}");
    }
}
