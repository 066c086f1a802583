//! Prompts: templates a user invokes (clients list them as slash commands) that
//! render a short briefing from live data. A [`PromptDef`] is declared like a
//! tool; its handler reads [`PromptArgs`] and returns a [`Briefing`].

use std::collections::BTreeMap;

use crate::ToolError;
use crate::bindings::plue::plugin::types as wit;
use crate::resource::{Contents, Link};

type Handler = Box<dyn Fn(&PromptArgs) -> Result<Briefing, ToolError>>;

/// A prompt: name, description, arguments and the handler that renders it.
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// let p = prompt("trace-request", "Follow one request through every service.", |args| {
///     Ok(Briefing::text(format!("Tracing {}", args.required("request_id")?)))
/// })
/// .required_argument("request_id", "The request id, as logged.");
/// assert_eq!(p.name(), "trace-request");
/// ```
pub struct PromptDef {
    pub(crate) name: String,
    title: Option<String>,
    description: String,
    arguments: Vec<wit::PromptArgument>,
    handler: Handler,
}

/// A prompt named `name` rendered by `handler`.
pub fn prompt(
    name: &str,
    description: &str,
    handler: impl Fn(&PromptArgs) -> Result<Briefing, ToolError> + 'static,
) -> PromptDef {
    PromptDef {
        name: name.into(),
        title: None,
        description: description.into(),
        arguments: Vec::new(),
        handler: Box::new(handler),
    }
}

impl PromptDef {
    /// A short human-readable title.
    pub fn title(mut self, title: &str) -> Self {
        self.title = Some(title.into());
        self
    }

    /// An optional argument: say its format and what leaving it out means.
    pub fn argument(mut self, name: &str, description: &str) -> Self {
        self.arguments.push(wit::PromptArgument {
            name: name.into(),
            description: description.into(),
            required: false,
        });
        self
    }

    /// An argument the user must give.
    pub fn required_argument(mut self, name: &str, description: &str) -> Self {
        self.arguments.push(wit::PromptArgument {
            name: name.into(),
            description: description.into(),
            required: true,
        });
        self
    }

    /// The prompt's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn wit(&self) -> wit::Prompt {
        wit::Prompt {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            arguments: self.arguments.clone(),
        }
    }

    pub(crate) fn render(&self, args: &PromptArgs) -> Result<Briefing, ToolError> {
        for a in self.arguments.iter().filter(|a| a.required) {
            args.required(&a.name)?;
        }
        if let Some(unknown) = args
            .0
            .keys()
            .find(|k| !self.arguments.iter().any(|a| &a.name == *k))
        {
            let known: Vec<&str> = self.arguments.iter().map(|a| a.name.as_str()).collect();
            return Err(ToolError::invalid(format!(
                "prompt `{}` has no argument `{unknown}`; its arguments: {}",
                self.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        (self.handler)(args)
    }
}

/// A prompt's arguments as the user gave them (text values).
#[derive(Debug, Clone, Default)]
pub struct PromptArgs(BTreeMap<String, String>);

impl PromptArgs {
    /// Arguments from (name, value) pairs; empty values count as absent.
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        PromptArgs(
            pairs
                .into_iter()
                .map(|(k, v)| (k, v.trim().to_string()))
                .filter(|(_, v)| !v.is_empty())
                .collect(),
        )
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name`, or an error that says it is needed.
    pub fn required(&self, name: &str) -> Result<&str, ToolError> {
        self.get(name)
            .ok_or_else(|| ToolError::invalid(format!("argument `{name}` is required")))
    }

    /// Whether the flag `name` is on: given as `true`, `yes`, `1` or `on`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| {
            matches!(
                v.to_ascii_lowercase().as_str(),
                "true" | "yes" | "1" | "on" | "y"
            )
        })
    }
}

/// A rendered prompt: messages for the model, most useful first.
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// let b = Briefing::text("2 targets down").with_text("Next: prometheus_get_targets");
/// assert_eq!(b.texts(), vec!["2 targets down", "Next: prometheus_get_targets"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Briefing {
    description: Option<String>,
    messages: Vec<wit::PromptMessage>,
}

impl Briefing {
    /// A briefing of one user message.
    pub fn text(text: impl Into<String>) -> Self {
        Briefing::default().with_text(text)
    }

    /// One line on what this rendering is about (clients show it).
    pub fn described(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Another user message of text.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.messages.push(wit::PromptMessage {
            role: wit::Role::User,
            content: wit::Content::Text(text.into()),
        });
        self
    }

    /// A resource's contents, embedded as a user message.
    pub fn with_resource(mut self, contents: Contents) -> Self {
        self.messages.push(wit::PromptMessage {
            role: wit::Role::User,
            content: wit::Content::Embedded(contents.into_wit()),
        });
        self
    }

    /// A link to a resource the client can read.
    pub fn with_link(mut self, link: Link) -> Self {
        self.messages.push(wit::PromptMessage {
            role: wit::Role::User,
            content: wit::Content::ResourceLink(link.into_wit()),
        });
        self
    }

    /// The text messages, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.messages
            .iter()
            .filter_map(|m| match &m.content {
                wit::Content::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The URIs of linked and embedded resources, in order.
    pub fn resource_uris(&self) -> Vec<&str> {
        self.messages
            .iter()
            .filter_map(|m| match &m.content {
                wit::Content::ResourceLink(l) => Some(l.uri.as_str()),
                wit::Content::Embedded(r) => Some(r.uri.as_str()),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn from_wit(r: wit::PromptResult) -> Self {
        Briefing {
            description: r.description,
            messages: r.messages,
        }
    }

    /// The description, if set.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub(crate) fn into_wit(self) -> wit::PromptResult {
        wit::PromptResult {
            description: self.description,
            messages: self.messages,
        }
    }
}
