//! Builds the bundled plugins (and the test-only plugins) for wasm32-wasip2 and
//! embeds the bundled ones in the binary, so `cargo run -p plue-mcp -- serve`
//! and `cargo install --path host` need no extra step.
//!
//! rustc links a `cdylib` for wasm32-wasip2 straight into a component: no other
//! tool is needed. The nested cargo uses its own target directory because the
//! outer build holds the lock on the main one.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "src/codegen.rs"]
mod codegen;

/// Every crate under `folder` is a plugin: (folder name, package name).
/// `plugins/` holds the bundled ones, `tests/plugins/` the test-only ones, so
/// adding a folder is all it takes and the list is stated nowhere else.
fn plugins_in(folder: &Path) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("read {}: {e}", folder.display()))
        .filter_map(|entry| {
            let dir = entry.ok()?.path();
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
            let package = manifest.lines().find_map(|line| {
                let value = line.trim().strip_prefix("name")?.trim().strip_prefix('=')?;
                Some(value.trim().trim_matches('"').to_string())
            })?;
            Some((dir.file_name()?.to_str()?.to_string(), package))
        })
        .collect();
    found.sort();
    found
}

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

    let bundled = plugins_in(&root.join("plugins"));
    let test_only = plugins_in(&root.join("tests").join("plugins"));
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
    for (_, package) in bundled.iter().chain(&test_only) {
        command.args(["-p", package]);
    }
    let status = command.status().expect("run cargo to build the plugins");
    assert!(
        status.success(),
        "building the plugins for wasm32-wasip2 failed (see the errors above)"
    );

    let built = target_dir.join("wasm32-wasip2").join("plugin");
    let files: Vec<(&String, PathBuf)> = bundled
        .iter()
        .map(|(name, package)| (name, copy(&built, package, &out_dir)))
        .collect();
    let mut table = String::from(
        "/// (name, component bytes, its sha256, compiled artifact) of every bundled plugin.\nconst BUNDLED: &[(&str, &[u8], &str, &[u8])] = &[\n",
    );
    for ((name, file), artifact) in files.iter().zip(precompile(&files)) {
        let digest = hex::encode(Sha256::digest(std::fs::read(file).unwrap()));
        table.push_str(&format!(
            "    ({name:?}, include_bytes!({:?}), {digest:?}, include_bytes!({:?})),\n",
            file.display().to_string(),
            artifact.display().to_string()
        ));
    }
    table.push_str("];\n");
    std::fs::write(out_dir.join("bundled.rs"), table).unwrap();

    let test_dir = out_dir.join("test-plugins");
    std::fs::create_dir_all(&test_dir).unwrap();
    for (_, package) in &test_only {
        copy(&built, package, &test_dir);
    }
    println!(
        "cargo:rustc-env=PLUE_TEST_PLUGINS_DIR={}",
        test_dir.display()
    );
}

/// Compile each bundled component ahead of time with the host's code
/// settings (one thread each), so a first start deserialises instead of
/// compiling. Returns the artifacts' paths, in order.
fn precompile(files: &[(&String, PathBuf)]) -> Vec<PathBuf> {
    let engine = wasmtime::Engine::new(&codegen::config()).expect("create a wasmtime engine");
    std::thread::scope(|s| {
        let jobs: Vec<_> = files
            .iter()
            .map(|(_, wasm)| {
                let engine = &engine;
                s.spawn(move || {
                    let bytes = std::fs::read(wasm).expect("read a built plugin");
                    let artifact = engine
                        .precompile_component(&bytes)
                        .unwrap_or_else(|e| panic!("precompile {}: {e}", wasm.display()));
                    let path = wasm.with_extension("cwasm");
                    std::fs::write(&path, artifact).expect("write a precompiled plugin");
                    path
                })
            })
            .collect();
        jobs.into_iter()
            .map(|job| job.join().expect("a precompile thread panicked"))
            .collect()
    })
}

fn copy(built: &Path, package: &str, to: &Path) -> PathBuf {
    let file = format!("{}.wasm", package.replace('-', "_"));
    let dest = to.join(&file);
    std::fs::copy(built.join(&file), &dest).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    dest
}

/// Whether the active toolchain has the wasm32-wasip2 standard library.
fn target_installed() -> bool {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    Command::new(rustc)
        .args(["--print", "target-libdir", "--target", "wasm32-wasip2"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .is_some_and(|dir| Path::new(dir.trim()).exists())
}

/// Make sure the wasm32-wasip2 target is there: rustup does not add the
/// targets of `rust-toolchain.toml` when auto-install is off, so add it
/// through the rustup of the toolchain in use, saying so. Without rustup,
/// stop with the command to run.
fn check_target() {
    if target_installed() {
        return;
    }
    let rustup = std::env::var_os("CARGO_HOME")
        .map(|home| PathBuf::from(home).join("bin").join("rustup"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("rustup"));
    let mut command = Command::new(&rustup);
    command.args(["target", "add", "wasm32-wasip2"]);
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        command.args(["--toolchain", &toolchain]);
    }
    println!(
        "cargo:warning=the wasm32-wasip2 target is missing: installing it with `rustup target add wasm32-wasip2`"
    );
    let added = command.status().is_ok_and(|s| s.success());
    assert!(
        added && target_installed(),
        "the wasm32-wasip2 target is not installed and rustup could not add it; run: rustup target add wasm32-wasip2"
    );
}
