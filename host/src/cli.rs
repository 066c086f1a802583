//! Command-line front end: `serve`, `tools`, `call`, `check`, `inspect`.
//! Exit codes: 0 ok, 1 a tool (or backend) reported an error, 2 bad usage or
//! configuration.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::app::App;
use crate::capability::log::LogSink;
use crate::config::Config;
use crate::text::printable;

#[derive(Parser)]
#[command(
    name = "plue-mcp",
    version,
    about = "MCP server for observability tools that run as sandboxed WebAssembly plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve MCP over stdio (the default for MCP clients such as Claude Code), or over
    /// streamable HTTP with --http
    Serve {
        /// Configuration file (default: ./plue-mcp.toml, else the built-in default)
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Serve streamable HTTP at http://ADDR/mcp instead of stdio, e.g. 127.0.0.1:8808
        #[arg(long, value_name = "ADDR")]
        http: Option<std::net::SocketAddr>,
        /// With stdio, also serve /metrics, /healthz and /readyz at http://ADDR
        /// (with --http they are on its listener)
        #[arg(long, value_name = "ADDR", conflicts_with = "http")]
        metrics: Option<std::net::SocketAddr>,
        /// With --http, keep no session between requests, so any replica behind a load
        /// balancer can answer any request (no server-initiated messages between calls)
        #[arg(long, requires = "http")]
        stateless: bool,
    },
    /// List every tool with its plugin
    Tools {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Run one tool and print its result; exit 1 when the tool reports an error
    Call {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print the whole result as JSON (content, structuredContent, isError)
        #[arg(long)]
        json: bool,
        /// The tool's name, as `tools` lists it
        tool: String,
        /// Arguments as a JSON object, e.g. '{"query":"up"}'
        #[arg(default_value = "{}")]
        args: String,
    },
    /// Check configuration, digests, grants and whether each backend can be reached
    Check {
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a plugin's manifest, imports and requested capabilities
    Inspect {
        /// A WebAssembly component implementing plue:plugin
        plugin: PathBuf,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// Parse the command line, run the command, map the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve { .. }) {
        "plue_mcp=info"
    } else {
        "plue_mcp=warn"
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(run(cli.command));
    // Never wait for work still in flight (a plugin call past its deadline, a
    // client that went away): the command is over, and so is the process.
    runtime.shutdown_background();
    code
}

async fn load(config: Option<&Path>) -> Result<Arc<App>, ExitCode> {
    let config = Config::load(config).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    App::load(config).await.map(Arc::new).map_err(|e| {
        // Load errors quote manifests: no terminal sequences from plugins.
        eprintln!("error: {}", printable(&format!("{e:#}"), true));
        ExitCode::from(2)
    })
}

async fn run(command: Command) -> ExitCode {
    match command {
        Command::Serve {
            config,
            http,
            metrics,
            stateless,
        } => {
            let app = match load(config.as_deref()).await {
                Ok(app) => app,
                Err(code) => return code,
            };
            if let Some(addr) = metrics
                && let Err(e) = crate::health::serve(app.clone(), addr).await
            {
                eprintln!("error: {e:#}");
                return ExitCode::from(2);
            }
            let served = match http {
                Some(addr) => crate::mcp::McpServer::serve_http(app, addr, stateless).await,
                None => {
                    crate::mcp::McpServer::new(app, crate::caller::Transport::Stdio)
                        .serve_stdio()
                        .await
                }
            };
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Tools { config, json } => match load(config.as_deref()).await {
            Ok(app) => {
                print_tools(&app, json);
                ExitCode::SUCCESS
            }
            Err(code) => code,
        },
        Command::Call {
            config,
            json,
            tool,
            args,
        } => {
            let arguments: serde_json::Value = match serde_json::from_str(&args) {
                Ok(v @ serde_json::Value::Object(_)) => v,
                Ok(_) | Err(_) => {
                    eprintln!(
                        "error: ARGS must be a JSON object, for example '{{\"query\":\"up\"}}'"
                    );
                    return ExitCode::from(2);
                }
            };
            let app = match load(config.as_deref()).await {
                Ok(app) => app,
                Err(code) => return code,
            };
            match app
                .call(
                    &tool,
                    arguments,
                    &crate::caller::Caller::default(),
                    LogSink::default(),
                )
                .await
            {
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
                Ok(outcome) => {
                    let is_error = outcome.is_error;
                    if json {
                        let result = crate::mcp::result::result_json(outcome);
                        println!(
                            "{}",
                            serde_json::to_string_pretty(&result).unwrap_or_default()
                        );
                    } else {
                        for block in &outcome.content {
                            match block {
                                crate::bindings::Content::Text(t) => {
                                    println!("{}", printable(t, true))
                                }
                                crate::bindings::Content::Image(i) => {
                                    println!("[image, {}, {} bytes]", i.mime_type, i.data.len())
                                }
                                crate::bindings::Content::ResourceLink(l) => {
                                    println!("[resource {}]", printable(&l.uri, true))
                                }
                                crate::bindings::Content::Embedded(r) => {
                                    println!("[embedded resource {}]", printable(&r.uri, true))
                                }
                            }
                        }
                    }
                    if is_error {
                        ExitCode::from(1)
                    } else {
                        ExitCode::SUCCESS
                    }
                }
            }
        }
        Command::Check { config, json } => crate::cli_check::check(config.as_deref(), json).await,
        Command::Inspect { plugin, json } => crate::cli_inspect::inspect(&plugin, json).await,
    }
}

fn print_tools(app: &App, json: bool) {
    if json {
        let list: Vec<serde_json::Value> = app
            .registry
            .entries()
            .iter()
            .map(|e| serde_json::json!({ "plugin": e.plugin.name, "tool": crate::mcp::result::tool_json(e) }))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
        return;
    }
    let width = app
        .registry
        .entries()
        .iter()
        .map(|e| e.name.len())
        .max()
        .unwrap_or(4);
    for e in app.registry.entries() {
        let first_line = e.description.lines().next().unwrap_or("").to_string();
        let (desc, _) = crate::text::truncate(&printable(&first_line, false), 90);
        println!(
            "{:width$}  {:10}  {desc}",
            printable(&e.name, false),
            e.plugin.name
        );
    }
    println!(
        "\n{} tools from {} plugins",
        app.registry.entries().len(),
        app.plugins.len()
    );
}
