//! The tool groups carried inside the `plue-mcp` binary, built for
//! wasm32-wasip2 by the host's build script.

/// A bundled plugin: its component, the component's sha256 (hex, computed by the
/// build script, so loading never reads the component unless it must compile it),
/// and the same component compiled by the build script for this host's engine
/// settings (see `crate::codegen`).
#[derive(Debug, Clone, Copy)]
pub struct Bundled {
    pub component: &'static [u8],
    pub sha256: &'static str,
    pub artifact: &'static [u8],
}

/// The bundled plugin `name`.
pub fn get(name: &str) -> Option<Bundled> {
    BUNDLED
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, component, sha256, artifact)| Bundled {
            component,
            sha256,
            artifact,
        })
}

/// Names of the bundled plugins.
pub fn names() -> impl Iterator<Item = &'static str> {
    BUNDLED.iter().map(|(n, ..)| *n)
}

/// Hands the pages of `blob`, a part of this binary that has been read and will not be
/// needed again soon, back to the kernel, so they stop counting in the host's memory
/// (the five artifacts are 16 MB, and wasmtime keeps its own copy of each). Only whole
/// pages inside `blob`, and only when they are a read-only private mapping of a file (the
/// executable itself): a later read faults the same bytes in again from the file. Memory
/// that is anonymous (a packed binary) or writable is left alone.
pub fn release(blob: &'static [u8]) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(0);
        if page == 0 {
            return;
        }
        let start = (blob.as_ptr() as usize).next_multiple_of(page);
        let end = (blob.as_ptr() as usize + blob.len()) / page * page;
        if end <= start || !read_only_file_mapping(start, end) {
            return;
        }
        // SAFETY: [start, end) lies inside `blob`, in a read-only private file mapping
        // that nothing writes: MADV_DONTNEED only unmaps the pages, and the next access
        // reads the same contents from the file, so no Rust-visible byte changes.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED);
        }
    }
}

/// Whether [start, end) lies in one mapping of `/proc/self/maps` that is read-only,
/// private and backed by a file.
#[cfg(target_os = "linux")]
fn read_only_file_mapping(start: usize, end: usize) -> bool {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return false;
    };
    maps.lines().any(|line| {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms), Some(_offset), Some(_device), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return false;
        };
        let Some((lo, hi)) = range.split_once('-') else {
            return false;
        };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        else {
            return false;
        };
        lo <= start
            && end <= hi
            && perms.starts_with('r')
            && !perms.contains('w')
            && perms.ends_with('p')
            && inode != "0"
    })
}

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

#[cfg(test)]
mod tests {
    #[test]
    fn the_default_configuration_names_only_bundled_plugins() {
        let config = crate::config::Config::from_toml(
            crate::config::BUILT_IN_DEFAULT,
            std::path::Path::new("."),
            "default",
            &crate::config::resolve::ProcessEnv,
        )
        .unwrap();
        let bundled: Vec<&str> = super::names().collect();
        assert!(bundled.len() >= 6, "{bundled:?}");
        for plugin in &config.plugins {
            assert!(
                bundled.contains(&plugin.name.as_str()),
                "{} is not bundled",
                plugin.name
            );
        }
    }

    /// The host's engine and an empty cache directory.
    fn engine_and_cache() -> (crate::engine::Runtime, tempfile::TempDir) {
        (
            crate::engine::Runtime::new(2, 64 << 20).unwrap(),
            tempfile::tempdir().unwrap(),
        )
    }

    fn compiler<'a>(
        runtime: &'a crate::engine::Runtime,
        cache: &'a tempfile::TempDir,
    ) -> crate::engine::Compiler<'a> {
        crate::engine::Compiler {
            engine: &runtime.engine,
            cache_dir: cache.path(),
        }
    }

    /// The build script's artifacts fit the host's engine, so a first start
    /// compiles nothing: if `crate::codegen` and the engine drift apart, the
    /// host would silently fall back to compiling, and this test says so.
    #[test]
    fn every_bundled_artifact_loads_in_the_hosts_engine_without_compiling() {
        let (runtime, cache) = engine_and_cache();
        let compiler = compiler(&runtime, &cache);
        for name in super::names() {
            let bundled = super::get(name).unwrap();
            assert!(
                compiler.embedded(bundled).is_some(),
                "the embedded artifact of `{name}` does not fit the host's engine"
            );
        }
        // Nothing was compiled: the cache holds its key and one copy of each
        // artifact, byte for byte.
        let mut files: Vec<String> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        assert_eq!(files.len(), super::names().count() + 1, "{files:?}");
        assert!(files.contains(&"key".to_string()), "{files:?}");
        for name in super::names() {
            let bundled = super::get(name).unwrap();
            let copy = files
                .iter()
                .find(|f| f.starts_with(&format!("embedded-{}-", bundled.sha256)))
                .unwrap_or_else(|| panic!("no copy of `{name}`'s artifact in {files:?}"));
            assert!(
                std::fs::read(cache.path().join(copy)).unwrap() == bundled.artifact,
                "{name}"
            );
        }
    }

    /// A copy in the cache that is not byte for byte the binary's artifact (here:
    /// the same length, one byte changed) is never mapped: it is replaced.
    #[test]
    fn a_changed_copy_of_an_artifact_is_replaced_not_loaded() {
        let (runtime, cache) = engine_and_cache();
        let compiler = compiler(&runtime, &cache);
        let bundled = super::get("example").unwrap();
        assert!(compiler.embedded(bundled).is_some());
        let copy = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("embedded-")
            })
            .unwrap();
        let mut changed = std::fs::read(&copy).unwrap();
        let middle = changed.len() / 2;
        changed[middle] ^= 0xff;
        std::fs::write(&copy, &changed).unwrap();
        assert!(compiler.embedded(bundled).is_some());
        assert!(std::fs::read(&copy).unwrap() == bundled.artifact);
    }

    /// After `release`, the blob reads the same: its pages come back from the binary.
    #[test]
    fn a_released_blob_reads_the_same_afterwards() {
        let bundled = super::get("example").unwrap();
        let before = crate::engine::sha256_hex(bundled.artifact);
        super::release(bundled.artifact);
        assert_eq!(crate::engine::sha256_hex(bundled.artifact), before);
    }

    #[test]
    fn the_build_time_digest_is_the_components() {
        for name in super::names() {
            let bundled = super::get(name).unwrap();
            assert_eq!(
                bundled.sha256,
                crate::engine::sha256_hex(bundled.component),
                "{name}"
            );
        }
    }
}
