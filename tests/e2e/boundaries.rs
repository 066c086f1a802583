//! ARCHITECTURE.md's boundaries, held by reading the source: only the MCP
//! front end (`host/src/mcp/`) names rmcp, and `policy/` (every access
//! decision) does no I/O and knows nothing of wasmtime or the runtime.

use std::path::{Path, PathBuf};

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The code of a file without its comments (`//` to the end of the line).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn host_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn only_the_mcp_front_end_names_rmcp() {
    let front_end = host_src().join("mcp");
    let offenders: Vec<PathBuf> = sources(&host_src())
        .into_iter()
        .filter(|p| !p.starts_with(&front_end))
        .filter(|p| code(p).contains("rmcp"))
        .collect();
    assert!(
        offenders.is_empty(),
        "rmcp outside host/src/mcp/: {offenders:?}"
    );
    assert!(
        sources(&front_end)
            .iter()
            .any(|p| code(p).contains("rmcp::")),
        "the check looks at the right folder"
    );
}

#[test]
fn policy_does_no_io_and_knows_no_runtime() {
    let files = sources(&host_src().join("policy"));
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let code = code(&file);
        for forbidden in [
            "wasmtime", "tokio", "std::fs", "std::net", "reqwest", "sqlx::",
        ] {
            assert!(
                !code.contains(forbidden),
                "{} uses {forbidden}",
                file.display()
            );
        }
    }
}
