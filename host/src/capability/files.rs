//! The files capability: granted directories preopened read-only (directory
//! and file permissions) at `/<name>` through WASI. cap-std refuses paths and
//! symlinks that lead out of a preopen; nothing else of the host's file system
//! is visible.

use std::path::PathBuf;

use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// The directories one plugin may read, by the names its manifest declares.
#[derive(Debug, Clone, Default)]
pub struct DirectoryGrants {
    /// (guest name, host path or why it is unavailable).
    pub dirs: Vec<(String, Result<PathBuf, String>)>,
}

impl DirectoryGrants {
    /// Mount every available directory read-only at `/<name>`.
    pub fn mount(&self, builder: &mut WasiCtxBuilder) -> anyhow::Result<()> {
        for (name, path) in &self.dirs {
            if let Ok(path) = path {
                builder.preopened_dir(path, format!("/{name}"), FsPerms::ReadOnly)?;
            }
        }
        Ok(())
    }
}
