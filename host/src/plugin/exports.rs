//! What a plugin exports and how to ask it: tools always (0.1 or 0.2), and in
//! 0.2 optionally prompts, resources and completions. Every kind of request goes
//! through one [`Request`] → [`Reply`] path, so limits, fresh instances and
//! auditing apply to all of them alike (see `plugin::call`).

use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

use crate::bindings::{
    Completion, CompletionRef, Content, PluginManifest, PromptResult, ResourceBody,
    ResourceContents, ResourceInfo, ToolError, ToolResult, completions, prompts, resources, tools,
    v0_1,
};
use crate::capability::state::CallState;

/// The contract version a plugin was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    V0_1,
    V0_2,
}

impl Contract {
    pub fn as_str(self) -> &'static str {
        match self {
            Contract::V0_1 => "0.1",
            Contract::V0_2 => "0.2",
        }
    }
}

/// The export indices of one component, found once at load.
pub struct Exports {
    tools: ToolsExport,
    prompts: Option<prompts::GuestIndices>,
    resources: Option<resources::GuestIndices>,
    completions: Option<completions::GuestIndices>,
}

enum ToolsExport {
    Current(tools::GuestIndices),
    V0_1(v0_1::exports::plue::plugin::tools::GuestIndices),
}

/// One thing asked of a plugin.
#[derive(Debug, Clone)]
pub enum Request {
    Tool {
        name: String,
        arguments: String,
    },
    Prompt {
        name: String,
        arguments: Vec<(String, String)>,
    },
    ListResources,
    ReadResource {
        uri: String,
        template: String,
        variables: Vec<(String, String)>,
    },
    Complete {
        target: CompletionRef,
        argument: String,
        value: String,
        context: Vec<(String, String)>,
    },
}

impl Request {
    /// What the audit trail and metrics call it: the tool's name, or the method
    /// and what it names (`prompts/get observability`).
    pub fn label(&self) -> String {
        match self {
            Request::Tool { name, .. } => name.clone(),
            Request::Prompt { name, .. } => format!("prompts/get {name}"),
            Request::ListResources => "resources/list".into(),
            Request::ReadResource { template, .. } => format!("resources/read {template}"),
            Request::Complete { argument, .. } => format!("completion/complete {argument}"),
        }
    }
}

impl Request {
    /// The request's values as JSON, for the audit trail (hashed unless the
    /// operator opts in, like a tool's arguments).
    pub fn audit_arguments(&self) -> String {
        let pairs = |v: &[(String, String)]| {
            serde_json::Value::Object(
                v.iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect(),
            )
        };
        let value = match self {
            Request::Tool { arguments, .. } => return arguments.clone(),
            Request::Prompt { arguments, .. } => pairs(arguments),
            Request::ListResources => serde_json::json!({}),
            Request::ReadResource { uri, .. } => serde_json::json!({ "uri": uri }),
            Request::Complete { value, context, .. } => {
                serde_json::json!({ "value": value, "context": pairs(context) })
            }
        };
        value.to_string()
    }
}

/// A plugin's answer to a [`Request`].
#[derive(Debug, Clone)]
pub enum Reply {
    Tool(ToolResult),
    Prompt(PromptResult),
    Resources(Vec<ResourceInfo>),
    Contents(Vec<ResourceContents>),
    Completion(Completion),
}

impl Reply {
    /// Bytes of everything the client will receive (binary as base64).
    pub fn size(&self) -> u64 {
        let size = match self {
            Reply::Tool(r) => {
                r.content.iter().map(content_size).sum::<usize>()
                    + r.structured.as_ref().map_or(0, String::len)
            }
            Reply::Prompt(p) => {
                p.description.as_ref().map_or(0, String::len)
                    + p.messages
                        .iter()
                        .map(|m| content_size(&m.content))
                        .sum::<usize>()
            }
            Reply::Resources(list) => list.iter().map(info_size).sum(),
            Reply::Contents(list) => list.iter().map(contents_size).sum(),
            Reply::Completion(c) => c.values.iter().map(String::len).sum(),
        };
        size as u64
    }
}

fn content_size(c: &Content) -> usize {
    match c {
        Content::Text(t) => t.len(),
        // base64 grows bytes by a third
        Content::Image(i) => i.data.len() * 4 / 3 + i.mime_type.len(),
        Content::ResourceLink(l) => info_size(l),
        Content::Embedded(r) => contents_size(r),
    }
}

fn info_size(l: &ResourceInfo) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    l.uri.len() + l.name.len() + opt(&l.title) + opt(&l.description) + opt(&l.mime_type)
}

fn contents_size(r: &ResourceContents) -> usize {
    r.uri.len()
        + r.mime_type.as_ref().map_or(0, String::len)
        + match &r.body {
            ResourceBody::Text(t) => t.len(),
            ResourceBody::Blob(b) => b.len() * 4 / 3,
        }
}

impl Exports {
    /// The exports of `pre`: `tools` of 0.2 or of 0.1, and whichever optional
    /// 0.2 interfaces it has.
    pub fn find(pre: &InstancePre<CallState>) -> anyhow::Result<Exports> {
        if let Ok(tools) = tools::GuestIndices::new(pre) {
            return Ok(Exports {
                tools: ToolsExport::Current(tools),
                prompts: prompts::GuestIndices::new(pre).ok(),
                resources: resources::GuestIndices::new(pre).ok(),
                completions: completions::GuestIndices::new(pre).ok(),
            });
        }
        match v0_1::exports::plue::plugin::tools::GuestIndices::new(pre) {
            Ok(tools) => Ok(Exports {
                tools: ToolsExport::V0_1(tools),
                prompts: None,
                resources: None,
                completions: None,
            }),
            Err(_) => anyhow::bail!(
                "exports neither `plue:plugin/tools@0.2.0` nor `plue:plugin/tools@0.1.0`; build it against wit/plugin.wit"
            ),
        }
    }

    pub fn contract(&self) -> Contract {
        match self.tools {
            ToolsExport::Current(_) => Contract::V0_2,
            ToolsExport::V0_1(_) => Contract::V0_1,
        }
    }

    /// Which optional interfaces it exports, by name.
    pub fn optional(&self) -> Vec<&'static str> {
        [
            ("prompts", self.prompts.is_some()),
            ("resources", self.resources.is_some()),
            ("completions", self.completions.is_some()),
        ]
        .into_iter()
        .filter_map(|(n, present)| present.then_some(n))
        .collect()
    }

    pub fn has_resources(&self) -> bool {
        self.resources.is_some()
    }

    pub fn has_completions(&self) -> bool {
        self.completions.is_some()
    }

    /// Call `manifest()`.
    pub async fn manifest(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
    ) -> wasmtime::Result<PluginManifest> {
        match &self.tools {
            ToolsExport::Current(t) => t.load(&mut *store, instance)?.call_manifest(store).await,
            ToolsExport::V0_1(t) => Ok(super::compat::manifest(
                t.load(&mut *store, instance)?.call_manifest(store).await?,
            )),
        }
    }

    /// Ask `request` of the plugin in `instance`. A request for an interface the
    /// plugin lacks is its `unknown-tool` error (the host routes none there).
    pub async fn invoke(
        &self,
        store: &mut Store<CallState>,
        instance: &Instance,
        request: &Request,
    ) -> wasmtime::Result<Result<Reply, ToolError>> {
        let missing = |what: &str| Ok(Err(ToolError::UnknownTool(what.to_string())));
        match request {
            Request::Tool { name, arguments } => match &self.tools {
                ToolsExport::Current(t) => Ok(t
                    .load(&mut *store, instance)?
                    .call_call_tool(store, name, arguments)
                    .await?
                    .map(Reply::Tool)),
                ToolsExport::V0_1(t) => Ok(super::compat::answer(
                    t.load(&mut *store, instance)?
                        .call_call_tool(store, name, arguments)
                        .await?,
                )
                .map(Reply::Tool)),
            },
            Request::Prompt { name, arguments } => {
                let Some(p) = &self.prompts else {
                    return missing("prompts");
                };
                Ok(p.load(&mut *store, instance)?
                    .call_get_prompt(store, name, arguments)
                    .await?
                    .map(Reply::Prompt))
            }
            Request::ListResources => {
                let Some(r) = &self.resources else {
                    return missing("resources");
                };
                Ok(r.load(&mut *store, instance)?
                    .call_list_resources(store)
                    .await?
                    .map(Reply::Resources))
            }
            Request::ReadResource {
                uri,
                template,
                variables,
            } => {
                let Some(r) = &self.resources else {
                    return missing("resources");
                };
                Ok(r.load(&mut *store, instance)?
                    .call_read_resource(store, uri, template, variables)
                    .await?
                    .map(Reply::Contents))
            }
            Request::Complete {
                target,
                argument,
                value,
                context,
            } => {
                let Some(c) = &self.completions else {
                    return missing("completions");
                };
                Ok(c.load(&mut *store, instance)?
                    .call_complete(store, target, argument, value, context)
                    .await?
                    .map(Reply::Completion))
            }
        }
    }
}
