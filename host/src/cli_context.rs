//! `plue-mcp prompt` and `plue-mcp read`: a prompt rendered and a resource read
//! from the command line, through the same `App` methods MCP uses, so an
//! operator can see what an agent would get. Everything printed comes from a
//! plugin, so it is printed without terminal sequences.

use std::path::Path;
use std::process::ExitCode;

use crate::app::App;
use crate::bindings::{Content, ResourceBody};
use crate::caller::Caller;
use crate::capability::log::LogSink;
use crate::text::printable;

/// Render prompt `name` with `NAME=VALUE` arguments and print its messages.
pub async fn prompt(app: &App, name: &str, args: &[String]) -> ExitCode {
    let mut arguments = Vec::new();
    for arg in args {
        let Some((k, v)) = arg.split_once('=') else {
            eprintln!("error: arguments are NAME=VALUE, e.g. run_id=13; got `{arg}`");
            return ExitCode::from(2);
        };
        arguments.push((k.to_string(), v.to_string()));
    }
    match app
        .get_prompt(name, arguments, &Caller::default(), LogSink::default())
        .await
    {
        Ok(rendered) => {
            if let Some(d) = &rendered.description {
                println!("# {}\n", printable(d, false));
            }
            for m in &rendered.messages {
                println!("{}\n", content_line(&m.content));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}", printable(&e.to_string(), true));
            ExitCode::from(1)
        }
    }
}

/// Read `uri` and print text contents; binary contents go to `out` or are described.
pub async fn read(app: &App, uri: &str, out: Option<&Path>) -> ExitCode {
    let contents = match app
        .read_resource(uri, &Caller::default(), LogSink::default())
        .await
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}", printable(&e.to_string(), true));
            return ExitCode::from(1);
        }
    };
    for c in contents {
        let mime = c.mime_type.unwrap_or_default();
        match c.body {
            ResourceBody::Text(t) => println!("{}", printable(&t, true)),
            ResourceBody::Blob(bytes) => match out {
                Some(path) => {
                    if let Err(e) = std::fs::write(path, &bytes) {
                        eprintln!("error: write {}: {e}", path.display());
                        return ExitCode::from(2);
                    }
                    println!(
                        "[{mime}, {} bytes written to {}]",
                        bytes.len(),
                        path.display()
                    );
                }
                None => println!(
                    "[{}, {} bytes; add --out FILE to save it]",
                    printable(&mime, false),
                    bytes.len()
                ),
            },
        }
    }
    ExitCode::SUCCESS
}

/// One block of a prompt message as a terminal line.
fn content_line(c: &Content) -> String {
    match c {
        Content::Text(t) => printable(t, true),
        Content::Image(i) => format!(
            "[image, {}, {} bytes]",
            printable(&i.mime_type, false),
            i.data.len()
        ),
        Content::ResourceLink(l) => format!("[resource {}]", printable(&l.uri, false)),
        Content::Embedded(r) => format!("[embedded resource {}]", printable(&r.uri, false)),
    }
}
