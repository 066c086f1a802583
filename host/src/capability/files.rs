//! The files capability: granted directories preopened read-only (directory
//! and file permissions) at `/<name>` through WASI. cap-std refuses paths and
//! symlinks that lead out of a preopen; nothing else of the host's file system
//! is visible. Only regular files and directories open: a FIFO, socket or
//! device in a granted directory would block the host thread that opens it
//! (or stream forever), so `open-at` checks the type first and refuses them.

use std::path::PathBuf;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    self, DescriptorFlags, DescriptorType, ErrorCode, HostDescriptor, OpenFlags, PathFlags,
};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder, WasiView};

/// The WASI filesystem interface whose `open-at` [`guard_open`] replaces.
const TYPES_INTERFACE: &str = "wasi:filesystem/types@0.2.12";

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

/// Whether a file of this type may be opened: one that cannot block its opener.
fn openable(kind: DescriptorType) -> bool {
    matches!(
        kind,
        DescriptorType::RegularFile | DescriptorType::Directory | DescriptorType::SymbolicLink
    )
}

/// Replace WASI's `descriptor.open-at` in `linker` (after
/// `wasmtime_wasi::p2::add_to_linker_async`) with one that opens only what
/// [`openable`] allows; everything else is `access` denied.
pub fn guard_open<T: WasiView + 'static>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    type Params = (
        Resource<Descriptor>,
        PathFlags,
        String,
        OpenFlags,
        DescriptorFlags,
    );
    linker.allow_shadowing(true);
    let result = linker.instance(TYPES_INTERFACE).and_then(|mut instance| {
        instance.func_wrap_async(
            "[method]descriptor.open-at",
            |mut store, (fd, path_flags, path, oflags, flags): Params| {
                Box::new(async move {
                    let mut view = store.data_mut().filesystem();
                    let dir = Resource::<Descriptor>::new_borrow(fd.rep());
                    let stat = HostDescriptor::stat_at(&mut view, dir, path_flags, path.clone());
                    // A missing file falls through: open-at reports it (or creates
                    // nothing: the mounts are read-only).
                    if let Ok(stat) = stat.await
                        && !openable(stat.type_)
                    {
                        return Ok((Err(ErrorCode::Access),));
                    }
                    let opened =
                        HostDescriptor::open_at(&mut view, fd, path_flags, path, oflags, flags)
                            .await;
                    match opened {
                        Ok(descriptor) => Ok((Ok(descriptor),)),
                        Err(e) => Ok((Err(types::Host::convert_error_code(&mut view, e)?),)),
                    }
                })
            },
        )
    });
    linker.allow_shadowing(false);
    Ok(result?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_types_that_cannot_block_their_opener_open() {
        let cases = [
            (DescriptorType::RegularFile, true),
            (DescriptorType::Directory, true),
            (DescriptorType::SymbolicLink, true),
            (DescriptorType::Fifo, false),
            (DescriptorType::Socket, false),
            (DescriptorType::CharacterDevice, false),
            (DescriptorType::BlockDevice, false),
            (DescriptorType::Unknown, false),
        ];
        for (kind, want) in cases {
            assert_eq!(openable(kind), want, "{kind:?}");
        }
    }

    #[test]
    fn unavailable_directories_are_skipped_and_a_vanished_one_fails_the_mount() {
        let dir = tempfile::tempdir().unwrap();
        let grants = DirectoryGrants {
            dirs: vec![
                ("data".into(), Ok(dir.path().to_path_buf())),
                (
                    "unset".into(),
                    Err("directory `unset` is unavailable".into()),
                ),
            ],
        };
        assert!(grants.mount(&mut WasiCtxBuilder::new()).is_ok());

        // Resolved at start-up, removed since: mounting says so instead of
        // serving an empty directory.
        let vanished = DirectoryGrants {
            dirs: vec![("data".into(), Ok(dir.path().join("gone")))],
        };
        assert!(vanished.mount(&mut WasiCtxBuilder::new()).is_err());
    }
}
