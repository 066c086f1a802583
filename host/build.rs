//! Builds the bundled plugins (and the test-only plugins) for wasm32-wasip2 and
//! embeds the bundled ones in the binary, so `cargo run -p plue-mcp -- serve`
//! and `cargo install --path host` need no extra step.
//!
//! rustc links a `cdylib` for wasm32-wasip2 straight into a component: no other
//! tool is needed. The nested cargo uses its own target directory because the
//! outer build holds the lock on the main one.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (plugin name, package) of the plugins carried inside the binary.
const BUNDLED: &[(&str, &str)] = &[
    ("prometheus", "plue-plugin-prometheus"),
    ("workflows", "plue-plugin-workflows"),
    ("logs", "plue-plugin-logs"),
    ("database", "plue-plugin-database"),
    ("playwright", "plue-plugin-playwright"),
    ("example", "plue-plugin-example"),
];

/// Plugins only the end-to-end tests load (from a path).
const TEST_ONLY: &[(&str, &str)] = &[
    ("misbehave", "plue-test-misbehave"),
    ("sockets", "plue-test-sockets"),
    ("hostile", "plue-test-hostile"),
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root")
        .to_path_buf();
    for dir in ["plugins", "sdk", "wit", "tests/plugins"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.lock").display()
    );
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let target_dir = root.join("target").join("plugins");

    check_target();
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(&root)
        .args([
            "build",
            "--profile",
            "plugin",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER");
    for (_, package) in BUNDLED.iter().chain(TEST_ONLY) {
        command.args(["-p", package]);
    }
    let status = command.status().expect("run cargo to build the plugins");
    assert!(
        status.success(),
        "building the plugins for wasm32-wasip2 failed (see the errors above)"
    );

    let built = target_dir.join("wasm32-wasip2").join("plugin");
    let mut bundled = String::from(
        "/// (name, component bytes) of every bundled plugin.\nconst BUNDLED: &[(&str, &[u8])] = &[\n",
    );
    for (name, package) in BUNDLED {
        let file = copy(&built, package, &out_dir);
        bundled.push_str(&format!(
            "    ({name:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    bundled.push_str("];\n");
    std::fs::write(out_dir.join("bundled.rs"), bundled).unwrap();

    let test_dir = out_dir.join("test-plugins");
    std::fs::create_dir_all(&test_dir).unwrap();
    for (_, package) in TEST_ONLY {
        copy(&built, package, &test_dir);
    }
    println!(
        "cargo:rustc-env=PLUE_TEST_PLUGINS_DIR={}",
        test_dir.display()
    );
}

fn copy(built: &Path, package: &str, to: &Path) -> PathBuf {
    let file = format!("{}.wasm", package.replace('-', "_"));
    let dest = to.join(&file);
    std::fs::copy(built.join(&file), &dest).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    dest
}

fn check_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip2"])
        .output();
    let present = out
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|dir| Path::new(dir.trim()).exists());
    assert!(
        present,
        "the wasm32-wasip2 target is not installed; run: rustup target add wasm32-wasip2"
    );
}
