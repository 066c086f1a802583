//! The one wasmtime engine of the process, and the on-disk cache of compiled
//! plugins (keyed by the component's sha256 and the engine's compatibility
//! hash, and sealed by [`crate::cache`]), so a warm start compiles nothing.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::cache::CacheKey;
use crate::plugin::bundled::Bundled;
use wasmtime::component::Component;
use wasmtime::{Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances: the granularity of call deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The engine plus its epoch ticker (stopped when the last handle drops).
#[derive(Clone)]
pub struct Runtime {
    pub engine: Engine,
    _ticker_stop: Arc<TickerStop>,
}

struct TickerStop(Arc<AtomicBool>);

impl Drop for TickerStop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Bytes of each linear memory slot kept resident between calls (the rest is
/// handed back to the kernel).
const MEMORY_KEPT_RESIDENT: usize = 2 << 20;

/// Bytes of each table slot kept resident between calls.
const TABLE_KEPT_RESIDENT: usize = 64 << 10;

impl Runtime {
    /// An engine for `max_concurrent` simultaneous calls, each with at most
    /// `max_memory_bytes` of linear memory.
    pub fn new(max_concurrent: u32, max_memory_bytes: u64) -> Result<Runtime> {
        let mut config = crate::codegen::config();
        config.parallel_compilation(true);
        let mut pool = PoolingAllocationConfig::default();
        // Each call instantiates one component: a Rust plugin has a few core
        // instances inside, a Python one (componentize-py: libc, libpython, the
        // runtime and their shims and stubs) about 40. The total is only a
        // counter in wasmtime (nothing is reserved per slot), so leave room.
        let instances = max_concurrent.max(1);
        pool.total_component_instances(instances)
            .total_core_instances(instances * 64)
            .total_memories(instances * 4)
            .total_tables(instances * 8)
            .total_stacks(instances)
            .max_memories_per_component(4)
            .max_memory_size(usize::try_from(max_memory_bytes.max(1 << 20)).unwrap_or(usize::MAX));
        // A freed slot keeps the pages its call touched and is reset in place:
        // PAGEMAP_SCAN (Linux 6.7+) finds the pages written and only those are
        // copied back from the module's image, so the next call neither faults
        // its working set in again nor waits on an madvise and the TLB
        // shootdown it sends the other cores. Older kernels reset the kept
        // bytes with a plain copy instead.
        pool.linear_memory_keep_resident(MEMORY_KEPT_RESIDENT)
            .table_keep_resident(TABLE_KEPT_RESIDENT)
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&config)
            .map_err(anyhow::Error::from)
            .context("create the wasmtime engine")?;
        let stop = Arc::new(AtomicBool::new(false));
        let ticker_engine = engine.clone();
        let ticker_flag = stop.clone();
        std::thread::Builder::new()
            .name("plue-epoch".into())
            .spawn(move || {
                while !ticker_flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticker_engine.increment_epoch();
                }
            })
            .context("start the epoch ticker")?;
        Ok(Runtime {
            engine,
            _ticker_stop: Arc::new(TickerStop(stop)),
        })
    }
}

/// The lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Compiles components, through an on-disk cache when one is usable.
pub struct Compiler<'a> {
    pub engine: &'a Engine,
    pub cache_dir: &'a Path,
}

/// How a component was obtained, for `check` and the benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CompileSource {
    /// Compiled by the build script and carried in the binary.
    Embedded,
    Cache,
    Compiled,
}

impl Compiler<'_> {
    fn engine_key(&self) -> String {
        let mut h = DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        env!("CARGO_PKG_VERSION").hash(&mut h);
        format!("{:016x}", h.finish())
    }

    fn cache_path(&self, digest: &str) -> PathBuf {
        self.cache_dir
            .join(format!("{digest}-{}.cwasm", self.engine_key()))
    }

    /// A bundled plugin's artifact, compiled by the build script, when it
    /// fits this engine (wasmtime checks its version, settings and the CPU
    /// features it needs); `None` means compile as for any other plugin.
    ///
    /// With a usable cache directory the artifact is loaded from a copy there,
    /// mapped rather than read: only the pages of code a plugin runs become
    /// resident, where a deserialised copy holds all of it (five groups: 14 MB).
    /// The copy is used only when it is byte for byte the artifact this binary
    /// carries, and written (whole, then renamed into place) when it is not.
    pub fn embedded(&self, bundled: Bundled) -> Option<Component> {
        let loaded = match self.mapped(bundled) {
            Some(Ok(component)) => Ok(component),
            // SAFETY: the artifact is part of this binary: the build script wrote
            // it with `Engine::precompile_component` from the bundled component.
            _ => unsafe { Component::deserialize(self.engine, bundled.artifact) },
        };
        // Wasmtime mapped or copied what it needs: the artifact's pages of the
        // binary go back.
        crate::plugin::bundled::release(bundled.artifact);
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::debug!(
                    "the embedded artifact does not fit this machine, compiling instead: {e}"
                );
                None
            }
        }
    }

    /// The bundled artifact mapped from its copy in the cache directory, or
    /// `None` when the directory is not one this host trusts or cannot hold it.
    fn mapped(&self, bundled: Bundled) -> Option<wasmtime::Result<Component>> {
        CacheKey::open(self.cache_dir).ok()?;
        let path = self.cache_dir.join(format!(
            "embedded-{}-{}.cwasm",
            bundled.sha256,
            self.engine_key()
        ));
        if !same_contents(&path, bundled.artifact) {
            let tmp = path.with_extension(format!("tmp{}", std::process::id()));
            if let Err(e) =
                std::fs::write(&tmp, bundled.artifact).and_then(|()| std::fs::rename(&tmp, &path))
            {
                let _ = std::fs::remove_file(&tmp);
                tracing::debug!(path = %path.display(), "embedded artifact not copied to the cache: {e}");
                return None;
            }
        }
        // SAFETY: the file holds exactly the bytes of this binary's artifact
        // (compared above, or just written), which the build script produced with
        // `Engine::precompile_component`. The directory is this user's alone
        // (`CacheKey::open` refused it otherwise) and files in it are only ever
        // replaced by rename, never rewritten in place.
        Some(unsafe { Component::deserialize_file(self.engine, &path) })
    }

    /// The compiled form of `bytes` (whose sha256 is `digest`).
    pub fn compile(&self, bytes: &[u8], digest: &str) -> Result<(Component, CompileSource)> {
        let key = match CacheKey::open(self.cache_dir) {
            Ok(key) => Some(key),
            Err(e) => {
                static WARNED: AtomicBool = AtomicBool::new(false);
                if !WARNED.swap(true, Ordering::Relaxed) {
                    tracing::warn!("{e}");
                }
                None
            }
        };
        let engine_key = self.engine_key();
        let context: [&[u8]; 2] = [digest.as_bytes(), engine_key.as_bytes()];
        let path = self.cache_path(digest);
        if let Some(key) = &key
            && let Ok(sealed) = std::fs::read(&path)
        {
            match key.unseal(&context, &sealed) {
                // SAFETY: this host sealed the artifact with its private key for
                // this component's sha256 and this engine's compatibility hash,
                // after `Component::serialize` wrote it (see `store`).
                Some(artifact) => match unsafe { Component::deserialize(self.engine, artifact) } {
                    Ok(c) => return Ok((c, CompileSource::Cache)),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), "ignoring unusable cache entry: {e}")
                    }
                },
                None => tracing::warn!(
                    path = %path.display(),
                    "ignoring a cache entry this host did not seal for this plugin; compiling it again"
                ),
            }
        }
        let component = Component::new(self.engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compile the component")?;
        if let Some(key) = &key
            && let Err(e) = self.store(key, &context, &component, &path)
        {
            tracing::debug!(dir = %self.cache_dir.display(), "compile cache not written: {e:#}");
        }
        Ok((component, CompileSource::Compiled))
    }

    fn store(
        &self,
        key: &CacheKey,
        context: &[&[u8]],
        component: &Component,
        path: &Path,
    ) -> Result<()> {
        let sealed = key.seal(context, &component.serialize()?);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, sealed)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

/// Whether the file at `path` holds exactly `expected`, read in chunks (so the
/// file's pages are never mapped into this process by the check).
fn same_contents(path: &Path, expected: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    if file.metadata().map(|m| m.len()).ok() != u64::try_from(expected.len()).ok() {
        return false;
    }
    let mut buffer = vec![0u8; 256 << 10];
    let mut offset = 0;
    while offset < expected.len() {
        let want = buffer.len().min(expected.len() - offset);
        if file.read_exact(&mut buffer[..want]).is_err()
            || buffer[..want] != expected[offset..offset + want]
        {
            return false;
        }
        offset += want;
    }
    true
}

/// Whether the compile cache at `dir` is used, and if not, why and how to fix it.
pub fn cache_status(dir: &Path) -> Result<(), String> {
    CacheKey::open(dir).map(|_| ()).map_err(|e| e.to_string())
}
