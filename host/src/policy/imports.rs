//! Which component imports a plugin may have. Everything else — sockets, HTTP
//! outside the host's `http` capability, unknown packages — is refused at load,
//! by name.

/// Interfaces a plugin may import: the host capabilities, and the WASI 0.2
/// interfaces Rust's standard library imports (which reach nothing here: no
/// preopens but granted directories, no environment, no arguments, no stdin).
const ALLOWED_PREFIXES: &[&str] = &[
    "plue:plugin/",
    "wasi:cli/environment@0.2",
    "wasi:cli/exit@0.2",
    "wasi:cli/stdin@0.2",
    "wasi:cli/stdout@0.2",
    "wasi:cli/stderr@0.2",
    "wasi:cli/terminal-",
    "wasi:io/",
    "wasi:clocks/",
    "wasi:random/",
    "wasi:filesystem/",
];

/// `Ok` when `import` may be linked; otherwise why not.
pub fn check_import(import: &str) -> Result<(), String> {
    if ALLOWED_PREFIXES.iter().any(|p| import.starts_with(p)) {
        return Ok(());
    }
    let why = if import.starts_with("wasi:sockets/") {
        "plugins get no sockets; use the host's `http` capability with a granted endpoint"
    } else if import.starts_with("wasi:http/") {
        "plugins reach HTTP only through the host's `http` capability with a granted endpoint"
    } else {
        "the host provides only the plue:plugin capabilities and basic WASI 0.2 (clocks, random, read-only files)"
    };
    Err(format!("imports `{import}`: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list() {
        for ok in [
            "plue:plugin/http@0.1.0",
            "wasi:io/streams@0.2.6",
            "wasi:filesystem/preopens@0.2.0",
            "wasi:cli/environment@0.2.3",
            "wasi:clocks/wall-clock@0.2.0",
        ] {
            assert!(check_import(ok).is_ok(), "{ok}");
        }
        for bad in [
            "wasi:sockets/tcp@0.2.0",
            "wasi:http/outgoing-handler@0.2.0",
            "acme:evil/x",
            "wasi:cli/run@0.2.0",
        ] {
            assert!(check_import(bad).is_err(), "{bad}");
        }
        assert!(
            check_import("wasi:sockets/tcp@0.2.0")
                .unwrap_err()
                .contains("no sockets")
        );
    }
}
