//! Files in directories the operator granted by name, mounted read-only at
//! `/<name>`. Paths are relative to that directory; absolute paths and `..` are
//! refused here, and the host's sandbox refuses anything that would still lead
//! out (symlinks included).
//!
//! ```
//! use plue_plugin_sdk::files;
//! let dir = std::env::temp_dir().join("plue-sdk-doc-files");
//! std::fs::create_dir_all(&dir).unwrap();
//! std::fs::write(dir.join("a.txt"), "hi").unwrap();
//! plue_plugin_sdk::testing::mount("reports", &dir);
//! assert_eq!(files::read_to_string("reports", "a.txt").unwrap(), "hi");
//! assert!(files::read_to_string("reports", "../etc/passwd").is_err());
//! ```

use std::path::{Component, Path, PathBuf};

use crate::ToolError;

/// Where `relative` lives inside the granted directory `dir`, after refusing
/// absolute paths, `..` and empty paths.
pub fn path(dir: &str, relative: &str) -> Result<PathBuf, ToolError> {
    let rel = Path::new(relative.trim());
    if rel.as_os_str().is_empty() {
        return Ok(root(dir));
    }
    for component in rel.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(ToolError::invalid(format!(
                    "path `{relative}` leaves the `{dir}` directory (`..` is not allowed); give a path relative to it"
                )));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ToolError::invalid(format!(
                    "path `{relative}` is absolute; give a path relative to the `{dir}` directory"
                )));
            }
        }
    }
    Ok(root(dir).join(rel))
}

/// The mount point of directory `dir`.
pub fn root(dir: &str) -> PathBuf {
    #[cfg(target_arch = "wasm32")]
    {
        PathBuf::from(format!("/{dir}"))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::HOST.with(|h| {
            h.borrow()
                .mounts
                .get(dir)
                .cloned()
                .unwrap_or_else(|| PathBuf::from(format!("/{dir}")))
        })
    }
}

fn io_error(dir: &str, relative: &str, e: std::io::Error) -> ToolError {
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            ToolError::failed(format!("`{relative}` not found in directory `{dir}`"))
        }
        std::io::ErrorKind::PermissionDenied => ToolError::failed(format!(
            "`{relative}` is outside directory `{dir}` or not readable (symlinks out of a granted directory are refused)"
        )),
        _ => ToolError::failed(format!(
            "cannot read `{relative}` in directory `{dir}`: {e}"
        )),
    }
}

/// Read a whole file.
pub fn read(dir: &str, relative: &str) -> Result<Vec<u8>, ToolError> {
    std::fs::read(path(dir, relative)?).map_err(|e| io_error(dir, relative, e))
}

/// Read a whole UTF-8 file (invalid bytes replaced).
pub fn read_to_string(dir: &str, relative: &str) -> Result<String, ToolError> {
    read(dir, relative).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// A file's size in bytes.
pub fn size(dir: &str, relative: &str) -> Result<u64, ToolError> {
    std::fs::metadata(path(dir, relative)?)
        .map(|m| m.len())
        .map_err(|e| io_error(dir, relative, e))
}

/// Whether `relative` exists in `dir`.
pub fn exists(dir: &str, relative: &str) -> bool {
    path(dir, relative).map(|p| p.exists()).unwrap_or(false)
}

/// Every file below `relative` (recursively, in sorted order), as paths relative
/// to `dir`, stopping after `max` files. Returns the files and whether it stopped early.
pub fn walk(dir: &str, relative: &str, max: usize) -> Result<(Vec<String>, bool), ToolError> {
    walk_except(dir, relative, max, &[])
}

/// Like [`walk`], without descending into folders named as one of `skip` (such
/// as `node_modules` or `.git`, large and never what a tool looks for).
pub fn walk_except(
    dir: &str,
    relative: &str,
    max: usize,
    skip: &[&str],
) -> Result<(Vec<String>, bool), ToolError> {
    let base = root(dir);
    let mut out = Vec::new();
    let mut stack = vec![path(dir, relative)?];
    while let Some(current) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&current)
            .map_err(|e| io_error(dir, relative, e))?
            .filter_map(Result::ok)
            .collect();
        entries.sort_by_key(|e| std::cmp::Reverse(e.file_name()));
        for entry in entries {
            let p = entry.path();
            let ty = entry.file_type().map_err(|e| io_error(dir, relative, e))?;
            if ty.is_dir() {
                if !skip.iter().any(|s| entry.file_name() == *s) {
                    stack.push(p);
                }
            } else if ty.is_file() {
                if out.len() >= max {
                    out.sort();
                    return Ok((out, true));
                }
                let rel = p
                    .strip_prefix(&base)
                    .unwrap_or(&p)
                    .to_string_lossy()
                    .into_owned();
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok((out, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_except_skips_named_folders() {
        let dir = std::env::temp_dir().join(format!("plue-sdk-walk-{}", std::process::id()));
        for sub in ["a", "node_modules/x", "b/node_modules"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
            std::fs::write(dir.join(sub).join("f.txt"), "x").unwrap();
        }
        crate::testing::mount("d", &dir);
        let all = walk("d", "", 10).unwrap();
        let kept = walk_except("d", "", 10, &["node_modules"]).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(all.0.len(), 3);
        assert_eq!(kept, (vec!["a/f.txt".to_string()], false));
    }
}
