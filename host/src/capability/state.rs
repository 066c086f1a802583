//! The data of one call's store: a WASI context with nothing but the granted
//! read-only directories, the memory limiter, and the plugin's capability
//! grants. It implements the generated host traits by delegating to the
//! capability modules.

use std::sync::Arc;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::files::DirectoryGrants;
use super::http::HttpGrants;
use super::log::{CallBudget, LogSink, PluginRate};
use super::settings::Settings;
use super::sql::SqlGrants;
use crate::bindings::{http, log, settings, sql};

/// Everything a plugin was granted, resolved once when it loads.
#[derive(Clone, Default)]
pub struct Grants {
    pub http: HttpGrants,
    pub sql: SqlGrants,
    pub directories: DirectoryGrants,
    pub settings: Settings,
    /// The plugin's log rate, shared by all its calls.
    pub log_rate: PluginRate,
}

/// Bytes of stderr kept per call (a panic message fits; more is a trap).
pub const STDERR_CAPACITY: usize = 64 << 10;

pub struct CallState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limits: CallLimiter,
    pub grants: Arc<Grants>,
    pub log: LogSink,
    pub log_budget: CallBudget,
    pub stderr: MemoryOutputPipe,
}

impl CallState {
    /// A fresh state: no environment, arguments, stdin or sockets; stdout
    /// discarded; stderr kept for error messages; granted directories read-only.
    pub fn new(grants: Arc<Grants>, log: LogSink, memory_bytes: u64) -> anyhow::Result<CallState> {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let mut builder = WasiCtx::builder();
        builder.stderr(stderr.clone());
        builder.allow_blocking_current_thread(false);
        grants.directories.mount(&mut builder)?;
        let limits = CallLimiter {
            inner: wasmtime::StoreLimitsBuilder::new()
                .memory_size(usize::try_from(memory_bytes).unwrap_or(usize::MAX))
                .instances(64)
                .tables(64)
                .memories(16)
                .trap_on_grow_failure(true)
                .build(),
            memory_denied: false,
        };
        Ok(CallState {
            wasi: builder.build(),
            table: ResourceTable::new(),
            limits,
            grants,
            log,
            log_budget: CallBudget::default(),
            stderr,
        })
    }

    /// What the plugin wrote to stderr (a panic message, usually).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string()
    }
}

/// The store's limits, remembering whether a memory growth was refused, so a
/// trap that follows is known to be the memory cap without reading its text.
pub struct CallLimiter {
    inner: StoreLimits,
    memory_denied: bool,
}

impl CallLimiter {
    /// Whether the plugin asked for more memory than its cap allows.
    pub fn memory_denied(&self) -> bool {
        self.memory_denied
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum);
        if !matches!(allowed, Ok(true)) {
            self.memory_denied = true;
        }
        allowed
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_denied = true;
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl crate::bindings::plue::plugin::types::Host for CallState {}

impl http::Host for CallState {
    async fn fetch(&mut self, request: http::Request) -> Result<http::Response, http::HttpError> {
        self.grants.http.fetch(request).await
    }
}

impl sql::Host for CallState {
    async fn query(
        &mut self,
        database: String,
        statement: String,
        params: Vec<sql::Value>,
    ) -> Result<sql::Rows, sql::SqlError> {
        self.grants.sql.query(&database, &statement, params).await
    }
}

impl log::Host for CallState {
    async fn log(&mut self, level: log::Level, message: String) {
        if self
            .log_budget
            .admit(message.len(), level, &self.grants.log_rate)
        {
            self.log.log(level, message).await
        }
    }
}

impl settings::Host for CallState {
    async fn get(&mut self, key: String) -> Option<String> {
        self.grants.settings.get(&key)
    }
}
