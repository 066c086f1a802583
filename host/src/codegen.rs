//! The engine settings that shape compiled code. The host's engine starts
//! from them, and the build script compiles the bundled plugins ahead of time
//! with them, so the embedded artifacts match the engine that loads them.
//! Only settings that change the generated code belong here; the allocator
//! and compile-time parallelism are the runtime's.

/// The code-shaping part of the engine configuration.
pub fn config() -> wasmtime::Config {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    // Call deadlines: generated code checks the epoch at loop heads and calls.
    config.epoch_interruption(true);
    config
}
