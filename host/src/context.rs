//! Beyond tools: the [`App`]'s prompts, resources and completions. Each request
//! is asked of the plugin(s) that own it through the same path as a tool call
//! (`plugin::call::ask`: fresh instance, the plugin's limits, a slot of the
//! instance pool) and recorded in the audit trail and metrics like one.
//! Protocol-free: `mcp/` converts.

use std::sync::Arc;

use crate::app::App;
use crate::bindings::{
    Completion, CompletionRef, Content, PromptMessage, ResourceContents, ResourceInfo, Role,
};
use crate::caller::Caller;
use crate::capability::log::LogSink;
use crate::catalog::MergedPrompt;
use crate::outcome::OutcomeKind;
use crate::plugin::LoadedPlugin;
use crate::plugin::exports::{Reply, Request};
use crate::record::CallRecord;

/// The most resources one `resources/list` returns, all plugins together.
pub const MAX_LISTED: usize = 500;

/// Why a prompt, resource or completion request could not be served. The MCP
/// layer turns each into a protocol error with this message.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("unknown prompt `{0}`; call prompts/list to see the available prompts")]
    UnknownPrompt(String),
    #[error("prompt `{prompt}` needs argument `{argument}`")]
    MissingArgument { prompt: String, argument: String },
    #[error("prompt `{prompt}` has no argument `{argument}`; its arguments: {known}")]
    UnknownArgument {
        prompt: String,
        argument: String,
        known: String,
    },
    #[error(
        "no resource `{0}`: no resource family matches it; call resources/templates/list for the URI templates, or resources/list"
    )]
    UnknownResource(String),
    #[error("unknown resource template `{0}`; call resources/templates/list")]
    UnknownTemplate(String),
    /// The plugin refused the request's values (an unknown run id, a bad path).
    #[error("{0}")]
    Invalid(String),
    /// The plugin could not answer (a backend down, a limit).
    #[error("{0}")]
    Failed(String),
}

/// A rendered prompt.
pub struct RenderedPrompt {
    pub description: Option<String>,
    pub messages: Vec<PromptMessage>,
}

impl App {
    /// Whether `caller` may use what `plugin` offers beside tools: callers
    /// without a principal always; others when `[[access]]` lets them use at
    /// least one of its tools.
    pub fn may_use_plugin(&self, caller: &Caller, plugin: &LoadedPlugin) -> bool {
        caller.principal.is_none()
            || self
                .registry
                .entries()
                .iter()
                .any(|e| e.plugin.name == plugin.name && self.access(caller, e).is_ok())
    }

    /// The prompts `caller` may use, with only the parts it may use.
    pub fn prompts_for(&self, caller: &Caller) -> Vec<&MergedPrompt> {
        self.catalog
            .prompts()
            .iter()
            .filter(|p| p.plugins.iter().any(|pl| self.may_use_plugin(caller, pl)))
            .collect()
    }

    /// Ask `request` of `plugin`, audited and counted as one call named by the request.
    async fn ask(
        &self,
        plugin: &Arc<LoadedPlugin>,
        request: Request,
        caller: &Caller,
        log: &LogSink,
    ) -> Result<Reply, (OutcomeKind, String)> {
        let label = request.label();
        let record = CallRecord::start(
            &self.audit,
            caller,
            &label,
            plugin,
            request.audit_arguments(),
        );
        let Ok(_permit) = self.permits().acquire().await else {
            record.finish_with(OutcomeKind::Refused, 0, None);
            return Err((
                OutcomeKind::Refused,
                "the server is shutting down; retry on another instance or after it restarts"
                    .into(),
            ));
        };
        let log = LogSink {
            plugin: plugin.name.clone(),
            ..log.clone()
        };
        match crate::plugin::call::ask(&self.runtime, plugin, &request, log).await {
            Ok(reply) => {
                record.finish_with(OutcomeKind::Ok, reply.size() as usize, None);
                Ok(reply)
            }
            Err(e) => {
                record.finish_with(e.kind(), 0, e.limit());
                let mut message = e.to_string();
                if !plugin.unavailable.is_empty() {
                    message.push_str(&format!(" (note: {})", plugin.unavailable.join("; ")));
                }
                Err((e.kind(), message))
            }
        }
    }

    /// Render prompt `name`: each contributing plugin's part, concurrently,
    /// joined in plugin order. A part that fails says so in its place;
    /// the prompt fails only when every part does.
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Vec<(String, String)>,
        caller: &Caller,
        log: LogSink,
    ) -> Result<RenderedPrompt, ContextError> {
        let prompt = self
            .catalog
            .prompt(name)
            .filter(|p| p.plugins.iter().any(|pl| self.may_use_plugin(caller, pl)))
            .ok_or_else(|| ContextError::UnknownPrompt(name.into()))?;
        let arguments: Vec<(String, String)> = arguments
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        if let Some(a) = prompt
            .arguments
            .iter()
            .find(|a| a.required && !arguments.iter().any(|(k, _)| *k == a.name))
        {
            return Err(ContextError::MissingArgument {
                prompt: name.into(),
                argument: a.name.clone(),
            });
        }
        if let Some((unknown, _)) = arguments
            .iter()
            .find(|(k, _)| !prompt.arguments.iter().any(|a| a.name == *k))
        {
            let known: Vec<&str> = prompt.arguments.iter().map(|a| a.name.as_str()).collect();
            return Err(ContextError::UnknownArgument {
                prompt: name.into(),
                argument: unknown.clone(),
                known: if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
            });
        }
        let parts = prompt
            .plugins
            .iter()
            .filter(|pl| self.may_use_plugin(caller, pl))
            .map(|plugin| {
                // Each plugin gets only the arguments its own prompt declares.
                let declared = &plugin
                    .manifest
                    .prompts
                    .iter()
                    .find(|p| p.name == name)
                    .expect("the catalog lists only declared prompts")
                    .arguments;
                let own = arguments
                    .iter()
                    .filter(|(k, _)| declared.iter().any(|a| a.name == *k))
                    .cloned()
                    .collect();
                let request = Request::Prompt {
                    name: name.into(),
                    arguments: own,
                };
                let log = &log;
                async move { (plugin, self.ask(plugin, request, caller, log).await) }
            });
        let parts = futures::future::join_all(parts).await;
        let mut description = None;
        let mut messages = Vec::new();
        let mut failures = Vec::new();
        let mut invalid = Vec::new();
        for (plugin, part) in parts {
            match part {
                Ok(Reply::Prompt(p)) => {
                    description = description.or(p.description);
                    messages.extend(p.messages);
                }
                Ok(other) => failures.push(format!("plugin `{}` answered {other:?}", plugin.name)),
                Err((OutcomeKind::InvalidArguments, why)) => invalid.push(why),
                Err((_, why)) => {
                    messages.push(PromptMessage {
                        role: Role::User,
                        content: Content::Text(format!("## {}: unavailable\n{why}", plugin.name)),
                    });
                    failures.push(why);
                }
            }
        }
        if !invalid.is_empty() {
            return Err(ContextError::Invalid(invalid.join("; ")));
        }
        if messages.len() == failures.len() && !failures.is_empty() {
            return Err(ContextError::Failed(failures.join("; ")));
        }
        Ok(RenderedPrompt {
            description,
            messages,
        })
    }

    /// The resources there are now, from every plugin with resources the
    /// caller may use (concurrently), each checked to belong to a family of
    /// its plugin; at most [`MAX_LISTED`]. A plugin that fails is left out
    /// and logged.
    pub async fn list_resources(&self, caller: &Caller, log: LogSink) -> Vec<ResourceInfo> {
        let owners: Vec<&Arc<LoadedPlugin>> = {
            let mut seen: Vec<&Arc<LoadedPlugin>> = Vec::new();
            for f in self.catalog.families() {
                if !seen.iter().any(|p| p.name == f.plugin.name)
                    && self.may_use_plugin(caller, &f.plugin)
                {
                    seen.push(&f.plugin);
                }
            }
            seen
        };
        let asks = owners.iter().map(|plugin| {
            let log = &log;
            async move {
                (
                    *plugin,
                    self.ask(plugin, Request::ListResources, caller, log).await,
                )
            }
        });
        let mut all = Vec::new();
        for (plugin, listed) in futures::future::join_all(asks).await {
            match listed {
                Ok(Reply::Resources(list)) => {
                    for info in list {
                        match self.catalog.route(&info.uri) {
                            Some((family, _)) if family.plugin.name == plugin.name => {
                                all.push(info)
                            }
                            _ => tracing::warn!(
                                plugin = %plugin.name,
                                uri = %info.uri.escape_debug(),
                                "listed a resource outside its own URI templates; left out"
                            ),
                        }
                    }
                }
                Ok(_) => {}
                Err((_, why)) => {
                    tracing::warn!(plugin = %plugin.name, "resources/list: {why}");
                }
            }
        }
        all.truncate(MAX_LISTED);
        all
    }

    /// Read `uri`, from the plugin whose family it belongs to.
    pub async fn read_resource(
        &self,
        uri: &str,
        caller: &Caller,
        log: LogSink,
    ) -> Result<Vec<ResourceContents>, ContextError> {
        let (family, variables) = self
            .catalog
            .route(uri)
            .filter(|(f, _)| self.may_use_plugin(caller, &f.plugin))
            .ok_or_else(|| ContextError::UnknownResource(uri.into()))?;
        let request = Request::ReadResource {
            uri: uri.into(),
            template: family.template.uri_template.clone(),
            variables,
        };
        match self.ask(&family.plugin, request, caller, &log).await {
            Ok(Reply::Contents(contents)) => Ok(contents),
            Ok(other) => Err(ContextError::Failed(format!(
                "plugin `{}` answered a read with {other:?}",
                family.plugin.name
            ))),
            Err((OutcomeKind::InvalidArguments | OutcomeKind::ToolError, why)) => {
                Err(ContextError::Invalid(why))
            }
            Err((_, why)) => Err(ContextError::Failed(why)),
        }
    }

    /// Suggest values for `argument` of a prompt (asked of every contributor
    /// with completions, merged without duplicates) or of a resource template
    /// (asked of its owner). A plugin that fails contributes nothing.
    pub async fn complete(
        &self,
        target: CompletionRef,
        argument: &str,
        value: &str,
        context: Vec<(String, String)>,
        caller: &Caller,
        log: LogSink,
    ) -> Result<Completion, ContextError> {
        let plugins: Vec<&Arc<LoadedPlugin>> = match &target {
            CompletionRef::Prompt(name) => self
                .catalog
                .prompt(name)
                .ok_or_else(|| ContextError::UnknownPrompt(name.clone()))?
                .plugins
                .iter()
                .collect(),
            CompletionRef::ResourceTemplate(t) => vec![
                &self
                    .catalog
                    .family(t)
                    .ok_or_else(|| ContextError::UnknownTemplate(t.clone()))?
                    .plugin,
            ],
        };
        let asks = plugins
            .into_iter()
            .filter(|p| p.exports.has_completions() && self.may_use_plugin(caller, p))
            .map(|plugin| {
                let request = Request::Complete {
                    target: target.clone(),
                    argument: argument.into(),
                    value: value.into(),
                    context: context.clone(),
                };
                let log = &log;
                async move { self.ask(plugin, request, caller, log).await }
            });
        let mut values: Vec<String> = Vec::new();
        let mut total = 0u32;
        let mut has_more = false;
        for answer in futures::future::join_all(asks).await {
            if let Ok(Reply::Completion(c)) = answer {
                total = total.saturating_add(c.total.unwrap_or(c.values.len() as u32));
                has_more |= c.has_more;
                for v in c.values {
                    if !values.contains(&v) {
                        values.push(v);
                    }
                }
            }
        }
        has_more |= values.len() > 100;
        values.truncate(100);
        Ok(Completion {
            total: Some(total.max(values.len() as u32)),
            has_more,
            values,
        })
    }
}
