//! The Python and JavaScript example plugins (`examples/python-plugin`,
//! `examples/js-plugin`), built from source by their own `build.sh` with the
//! registries' toolchains (componentize-py from PyPI, componentize-js from npm).
//! Each script skips the build when its inputs have not changed, so calling
//! [`build`] from every test is cheap after the first; builds are serialised
//! within the process, and `build.sh` itself holds a lock across processes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, Result, bail};

/// A plugin written in another language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Python,
    JavaScript,
}

impl Language {
    /// Its folder under `examples/`.
    pub fn folder(self) -> &'static str {
        match self {
            Language::Python => "python-plugin",
            Language::JavaScript => "js-plugin",
        }
    }

    /// The component `build.sh` writes.
    pub fn component(self) -> &'static str {
        match self {
            Language::Python => "slo.wasm",
            Language::JavaScript => "flaky.wasm",
        }
    }

    /// The plugin's name in its manifest.
    pub fn plugin_name(self) -> &'static str {
        match self {
            Language::Python => "slo",
            Language::JavaScript => "flaky",
        }
    }
}

static BUILDING: Mutex<()> = Mutex::new(());

/// The repository's root (this crate is `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Build the plugin (or find it up to date) and return the component's path.
/// Fails with the script's output when the toolchain cannot be installed or the
/// build fails: no test runs without the real component.
pub fn build(language: Language) -> Result<PathBuf> {
    let _guard = BUILDING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = repo_root().join("examples").join(language.folder());
    let output = Command::new("bash")
        .arg(dir.join("build.sh"))
        .output()
        .with_context(|| format!("run {}/build.sh", dir.display()))?;
    if !output.status.success() {
        bail!(
            "{}/build.sh failed ({}); it needs python3 with venv and PyPI (Python) or npm (JavaScript), as .ci/install-deps sets up:\n{}\n{}",
            dir.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let component = dir.join(language.component());
    if !component.is_file() {
        bail!("{} did not write {}", dir.display(), component.display());
    }
    Ok(component)
}
