//! The `plue-mcp` command line. Parses arguments and hands over to
//! [`plue_mcp::cli`]; stdout belongs to MCP, so all logging goes to stderr.

use std::process::ExitCode;

fn main() -> ExitCode {
    plue_mcp::cli::main()
}
