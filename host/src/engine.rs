//! The one wasmtime engine of the process, and the on-disk cache of compiled
//! plugins (keyed by the component's sha256 and the engine's compatibility
//! hash), so a warm start compiles nothing.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

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

impl Runtime {
    /// An engine for `max_concurrent` simultaneous calls, each with at most
    /// `max_memory_bytes` of linear memory.
    pub fn new(max_concurrent: u32, max_memory_bytes: u64) -> Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.parallel_compilation(true);
        let mut pool = PoolingAllocationConfig::default();
        // Each call instantiates one component (a few core instances inside).
        let instances = max_concurrent.max(1);
        pool.total_component_instances(instances)
            .total_core_instances(instances * 16)
            .total_memories(instances * 4)
            .total_tables(instances * 8)
            .total_stacks(instances)
            .max_memories_per_component(4)
            .max_memory_size(usize::try_from(max_memory_bytes.max(1 << 20)).unwrap_or(usize::MAX));
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileSource {
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

    /// The compiled form of `bytes` (whose sha256 is `digest`).
    pub fn compile(&self, bytes: &[u8], digest: &str) -> Result<(Component, CompileSource)> {
        let path = self.cache_path(digest);
        if path.exists() {
            // SAFETY: the file was written by `Component::serialize` of an
            // engine with the same compatibility hash, into a cache directory
            // created with mode 0700 (see `store`); its name binds it to the
            // component's sha256 and this engine.
            match unsafe { Component::deserialize_file(self.engine, &path) } {
                Ok(c) => return Ok((c, CompileSource::Cache)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), "ignoring unusable cache entry: {e}")
                }
            }
        }
        let component = Component::new(self.engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compile the component")?;
        if let Err(e) = self.store(&component, &path) {
            tracing::debug!(dir = %self.cache_dir.display(), "compile cache not written: {e:#}");
        }
        Ok((component, CompileSource::Compiled))
    }

    fn store(&self, component: &Component, path: &Path) -> Result<()> {
        create_private_dir(self.cache_dir)?;
        let bytes = component.serialize()?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)?;
    Ok(())
}
