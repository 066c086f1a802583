//! The host's file sandbox, tested without the SDK's guest-side path check: the
//! `escape` test plugin hands each path to raw `std::fs`, so only the WASI mount
//! (read-only, cap-std below it) stands between it and the host's files. Every
//! way out (`..`, absolute paths, symlinks that lead out, `/proc/self`, writes)
//! must fail without showing what lies outside; the same calls inside the
//! mount must work, so a failure is the sandbox's and not a broken plugin.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Result, ensure};
use plue_tests::check::Cases;
use plue_tests::mcp::{self, Host};
use serde_json::json;

/// What lies outside the mount; no answer may contain it.
const SECRET: &str = "secret-outside-the-mount";
/// An environment variable of the host process (`/proc/self/environ`).
const HOST_ENV_SECRET: &str = "host-environment-secret";
const NOTES: &str = "inside the mount";

struct Layout {
    root: tempfile::TempDir,
}

impl Layout {
    /// `data/` (granted) beside `outside/` (not granted), with symlinks from one
    /// to the other and one that stays inside.
    fn new() -> Layout {
        let root = tempfile::tempdir().unwrap();
        let (data, outside) = (root.path().join("data"), root.path().join("outside"));
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(data.join("notes.txt"), NOTES).unwrap();
        std::fs::write(data.join("sub/deep.txt"), "deep").unwrap();
        std::fs::write(outside.join("secret.txt"), SECRET).unwrap();
        symlink("notes.txt", data.join("inner-link")).unwrap();
        symlink(outside.join("secret.txt"), data.join("abs-link")).unwrap();
        symlink("../outside/secret.txt", data.join("rel-link")).unwrap();
        symlink("../outside", data.join("dir-link")).unwrap();
        symlink("/", data.join("root-link")).unwrap();
        symlink("/proc/self/environ", data.join("proc-link")).unwrap();
        Layout { root }
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Every file below the root with its content, to show nothing changed.
    fn snapshot(&self) -> Vec<(PathBuf, Option<String>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Option<String>)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    out.push((path.clone(), None));
                    walk(&path, out);
                } else if meta.is_file() {
                    out.push((path.clone(), std::fs::read_to_string(&path).ok()));
                } else {
                    let target = std::fs::read_link(&path).unwrap();
                    out.push((path, Some(target.display().to_string())));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.root.path(), &mut out);
        out.sort();
        out
    }
}

async fn start(layout: &Layout) -> Host {
    let wasm = Path::new(env!("PLUE_TEST_PLUGINS_DIR")).join("plue_test_escape.wasm");
    let config = format!(
        "[directories.data]\npath = \"{}\"\n\n[plugins.escape]\npath = \"{}\"\ndirectories = [\"data\"]\n",
        layout.data().display(),
        wasm.display()
    );
    Host::start_with_env(
        super::example::binary(),
        &config,
        &[("PLUE_ESCAPE_TEST_SECRET", HOST_ENV_SECRET)],
    )
    .await
    .unwrap()
}

/// The host refused a path inside the mount (cap-std's answer to a way out, and
/// the read-only mount's to a change).
const DENIED: &str = "Operation not permitted";
/// The guest has no mount there: nothing outside `/data` exists for it.
const NO_MOUNT: &str = "No such file or directory";

/// The call fails as a file operation refused for `reason` and shows nothing
/// from outside.
async fn refused(host: &Host, op: &str, path: &str, to: &str, reason: &str) -> Result<()> {
    let result = host
        .call("attempt", json!({ "op": op, "path": path, "to": to }))
        .await?;
    let text = mcp::text(&result);
    ensure!(mcp::is_error(&result), "succeeded: {text}");
    ensure!(
        text.contains("failed: refused: "),
        "not an io error: {text}"
    );
    ensure!(text.contains(reason), "not `{reason}`: {text}");
    ensure!(
        !text.contains(SECRET) && !text.contains(HOST_ENV_SECRET),
        "leaked: {text}"
    );
    Ok(())
}

/// The call succeeds with exactly `want`.
async fn answers(host: &Host, op: &str, path: &str, want: &str) -> Result<()> {
    let result = host
        .call("attempt", json!({ "op": op, "path": path }))
        .await?;
    let text = mcp::text(&result);
    ensure!(!mcp::is_error(&result), "failed: {text}");
    ensure!(text == want, "answered {text:?}, want {want:?}");
    Ok(())
}

#[tokio::test]
async fn raw_file_calls_cannot_leave_the_granted_directory() {
    let layout = Layout::new();
    let before = layout.snapshot();
    let host = start(&layout).await;
    let mut cases = Cases::new();

    // Inside the mount the same calls work, symlinks included.
    let listing = {
        let mut names: Vec<String> = std::fs::read_dir(layout.data())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.join("\n")
    };
    let notes_size = format!("{} bytes", NOTES.len());
    let inside: &[(&str, &str, &str)] = &[
        ("read", "/data/notes.txt", NOTES),
        ("read", "/data/sub/deep.txt", "deep"),
        ("read", "/data/sub/../notes.txt", NOTES),
        ("read", "/data/inner-link", NOTES),
        ("list", "/data", &listing),
        ("read_link", "/data/rel-link", "../outside/secret.txt"),
        ("stat", "/data/notes.txt", &notes_size),
    ];
    for (op, path, want) in inside {
        cases
            .check(format!("{op} {path}"), answers(&host, op, path, want))
            .await;
    }

    let secret = layout.root.path().join("outside/secret.txt");
    let secret = secret.display().to_string();
    let escapes: &[(&str, &str, &str, &str)] = &[
        ("read", "/data/../outside/secret.txt", "", DENIED),
        ("read", "/data/sub/../../outside/secret.txt", "", DENIED),
        ("read", "/data/./../outside/secret.txt", "", DENIED),
        ("read", "../outside/secret.txt", "", NO_MOUNT),
        ("read", &secret, "", NO_MOUNT),
        ("read", "/etc/passwd", "", NO_MOUNT),
        ("read", "/proc/self/environ", "", NO_MOUNT),
        ("read", "/proc/self/cmdline", "", NO_MOUNT),
        ("read", "/data/abs-link", "", DENIED),
        ("read", "/data/rel-link", "", DENIED),
        ("read", "/data/dir-link/secret.txt", "", DENIED),
        ("read", "/data/root-link/etc/passwd", "", DENIED),
        ("read", "/data/proc-link", "", DENIED),
        ("list", "/", "", NO_MOUNT),
        ("list", "/data/..", "", DENIED),
        ("list", "/data/dir-link", "", DENIED),
        ("list", "/data/root-link", "", DENIED),
        ("list", "/proc/self/fd", "", NO_MOUNT),
        ("stat", "/data/../outside/secret.txt", "", DENIED),
        ("stat", "/data/abs-link", "", DENIED),
        ("write", "/data/new.txt", "", DENIED),
        ("write", "/data/notes.txt", "", DENIED),
        ("write", "/data/dir-link/secret.txt", "", DENIED),
        ("create_dir", "/data/new-dir", "", DENIED),
        ("remove", "/data/notes.txt", "", DENIED),
        ("remove", "/data/abs-link", "", DENIED),
        ("rename", "/data/notes.txt", "/data/moved.txt", DENIED),
        ("hard_link", "/data/notes.txt", "/data/linked.txt", DENIED),
        ("hard_link", "/data/rel-link", "/data/linked.txt", DENIED),
    ];
    for (op, path, to, reason) in escapes {
        cases
            .check(
                format!("{op} {path} {to}"),
                refused(&host, op, path, to, reason),
            )
            .await;
    }

    cases.record(
        "nothing changed on the host",
        (|| {
            ensure!(layout.snapshot() == before, "files changed");
            Ok(())
        })(),
    );
    cases.finish().unwrap();
}
