//! Plugins built against `plue:plugin@0.1.0` keep loading unchanged. Their
//! imports are the 0.2 capabilities under 0.1 names: the component model checks
//! types structurally and the shapes did not change, so the same host functions
//! serve both. Their answers convert into the 0.2 types the rest of the host uses
//! (0.1 has no prompts, resources or completions).

use wasmtime::component::Linker;

use crate::bindings::{self, http, log, settings, sql, v0_1};
use crate::capability::state::CallState;

/// Serve the 0.1 names of the host capabilities with the 0.2 implementations.
pub fn add_imports(linker: &mut Linker<CallState>) -> anyhow::Result<()> {
    linker.instance("plue:plugin/http@0.1.0")?.func_wrap_async(
        "fetch",
        |mut store, (request,): (http::Request,)| {
            Box::new(async move {
                Ok((<CallState as http::Host>::fetch(store.data_mut(), request).await,))
            })
        },
    )?;
    linker.instance("plue:plugin/sql@0.1.0")?.func_wrap_async(
        "query",
        |mut store, (database, statement, params): (String, String, Vec<sql::Value>)| {
            Box::new(async move {
                Ok((
                    <CallState as sql::Host>::query(store.data_mut(), database, statement, params)
                        .await,
                ))
            })
        },
    )?;
    linker.instance("plue:plugin/log@0.1.0")?.func_wrap_async(
        "log",
        |mut store, (level, message): (log::Level, String)| {
            Box::new(async move {
                <CallState as log::Host>::log(store.data_mut(), level, message).await;
                Ok(())
            })
        },
    )?;
    linker
        .instance("plue:plugin/settings@0.1.0")?
        .func_wrap_async("get", |mut store, (key,): (String,)| {
            Box::new(async move {
                Ok((<CallState as settings::Host>::get(store.data_mut(), key).await,))
            })
        })?;
    Ok(())
}

use v0_1::plue::plugin::types as old;

/// A 0.1 manifest: the same, with no prompts and no resources.
pub fn manifest(m: old::PluginManifest) -> bindings::PluginManifest {
    use bindings::plue::plugin::types as new;
    bindings::PluginManifest {
        name: m.name,
        version: m.version,
        description: m.description,
        tools: m
            .tools
            .into_iter()
            .map(|t| new::Tool {
                name: t.name,
                title: t.title,
                description: t.description,
                input_schema: t.input_schema,
                output_schema: t.output_schema,
                annotations: bindings::ToolAnnotations {
                    read_only: t.annotations.read_only,
                    destructive: t.annotations.destructive,
                    idempotent: t.annotations.idempotent,
                    open_world: t.annotations.open_world,
                },
            })
            .collect(),
        capabilities: new::Capabilities {
            http: m.capabilities.http,
            sql: m.capabilities.sql,
            directories: m.capabilities.directories,
        },
        settings: m
            .settings
            .into_iter()
            .map(|s| new::Setting {
                key: s.key,
                description: s.description,
                default_value: s.default_value,
            })
            .collect(),
        prompts: Vec::new(),
        resource_templates: Vec::new(),
    }
}

/// A 0.1 tool answer (text and images only).
pub fn answer(
    r: Result<old::ToolResult, old::ToolError>,
) -> Result<bindings::ToolResult, bindings::ToolError> {
    match r {
        Ok(r) => Ok(bindings::ToolResult {
            content: r
                .content
                .into_iter()
                .map(|c| match c {
                    old::Content::Text(t) => bindings::Content::Text(t),
                    old::Content::Image(i) => bindings::Content::Image(bindings::Image {
                        data: i.data,
                        mime_type: i.mime_type,
                    }),
                })
                .collect(),
            structured: r.structured,
            is_error: r.is_error,
        }),
        Err(old::ToolError::UnknownTool(t)) => Err(bindings::ToolError::UnknownTool(t)),
        Err(old::ToolError::InvalidArguments(m)) => Err(bindings::ToolError::InvalidArguments(m)),
        Err(old::ToolError::Failed(m)) => Err(bindings::ToolError::Failed(m)),
    }
}
