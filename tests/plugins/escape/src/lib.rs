//! A test-only plugin that tries to leave its granted directory with raw
//! `std::fs` calls (no SDK path check in between): `..`, absolute paths,
//! symlinks out of the mount, `/proc/self`, writes to a read-only mount. What
//! stops it is the host's WASI sandbox, which the end-to-end tests exercise
//! through it (`tests/e2e/escapes.rs`).

use plue_plugin_sdk::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Attempt {
    /// One of `read`, `list`, `stat`, `read_link`, `write`,
    /// `create_dir`, `remove`, `rename`, `hard_link`.
    op: String,
    /// The guest path, passed to `std::fs` unchanged.
    path: String,
    /// Second path of `rename` and `hard_link`.
    #[serde(default)]
    to: String,
}

/// What `op` did on success, as text the test can compare with the host's files.
fn run(args: &Attempt) -> std::io::Result<String> {
    let (path, to) = (args.path.as_str(), args.to.as_str());
    Ok(match args.op.as_str() {
        "read" => String::from_utf8_lossy(&std::fs::read(path)?).into_owned(),
        "list" => {
            let mut names = std::fs::read_dir(path)?
                .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect::<std::io::Result<Vec<_>>>()?;
            names.sort();
            names.join("\n")
        }
        "stat" => format!("{} bytes", std::fs::metadata(path)?.len()),
        "read_link" => std::fs::read_link(path)?.display().to_string(),
        "write" => {
            std::fs::write(path, "written by the escape plugin").map(|_| "written".into())?
        }
        "create_dir" => std::fs::create_dir(path).map(|_| "created".into())?,
        "remove" => std::fs::remove_file(path).map(|_| "removed".into())?,
        "rename" => std::fs::rename(path, to).map(|_| "renamed".into())?,
        "hard_link" => std::fs::hard_link(path, to).map(|_| "linked".into())?,
        other => return Err(std::io::Error::other(format!("unknown op {other}"))),
    })
}

fn attempt(args: Attempt) -> Result<Output, ToolError> {
    run(&args)
        .map(Output::text)
        .map_err(|e| ToolError::failed(format!("refused: {} {}: {e}", args.op, args.path)))
}

/// The plugin description.
pub fn plugin() -> Plugin {
    Plugin::new(
        "escape",
        "0.1.0",
        "Tries to leave its granted directory (tests only).",
    )
    .directory("data")
    .tool(tool(
        "attempt",
        "Run one raw file-system operation on a guest path.",
        attempt,
    ))
}

plue_plugin_sdk::export_plugin!(plugin);
