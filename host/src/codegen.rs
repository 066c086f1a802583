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
    // The native-to-wasm address map only adds wasm offsets to trap backtraces, which
    // the host never shows (a trap is reported by its kind); without it each
    // artifact, and the copy of it the host keeps in memory, is about 10 % smaller.
    config.generate_address_map(false);
    config
}
