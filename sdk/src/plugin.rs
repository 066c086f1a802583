//! The plugin description ([`Plugin`], [`ToolDef`]) and the exports built from
//! it: the manifest, the dispatch of `call-tool` to a typed handler, and the
//! prompts, resources and completions exports.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::bindings::plue::plugin::types as wit;
use crate::complete::{Completer, Completing};
use crate::prompt::{PromptArgs, PromptDef};
use crate::resource::{TemplateDef, Vars};
use crate::{Output, Reply, ToolError};

type Handler = Box<dyn Fn(serde_json::Value) -> Result<Output, ToolError>>;
type SchemaFn = fn() -> serde_json::Value;

/// A tool group: its identity, the capabilities it asks for, its settings and its tools.
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// let p = Plugin::new("metrics", "0.1.0", "Reads metrics.")
///     .http("prometheus")
///     .setting("metric", "plue_http_requests_total", "Counter of HTTP requests.");
/// assert_eq!(p.name(), "metrics");
/// ```
pub struct Plugin {
    name: String,
    version: String,
    description: String,
    http: Vec<String>,
    sql: Vec<String>,
    directories: Vec<String>,
    settings: Vec<wit::Setting>,
    tools: Vec<ToolDef>,
    prompts: Vec<PromptDef>,
    templates: Vec<TemplateDef>,
    completers: Vec<(String, Completer)>,
}

impl Plugin {
    /// A plugin with no tools and no capabilities yet.
    pub fn new(name: &str, version: &str, description: &str) -> Self {
        Plugin {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            http: Vec::new(),
            sql: Vec::new(),
            directories: Vec::new(),
            settings: Vec::new(),
            tools: Vec::new(),
            prompts: Vec::new(),
            templates: Vec::new(),
            completers: Vec::new(),
        }
    }

    /// Ask for the HTTP endpoint `name` (see [`crate::http`]).
    pub fn http(mut self, name: &str) -> Self {
        self.http.push(name.into());
        self
    }

    /// Ask for the database `name` (see [`crate::sql`]).
    pub fn sql(mut self, name: &str) -> Self {
        self.sql.push(name.into());
        self
    }

    /// Ask for the directory `name`, mounted read-only at `/<name>` (see [`crate::files`]).
    pub fn directory(mut self, name: &str) -> Self {
        self.directories.push(name.into());
        self
    }

    /// Declare a setting the operator may set in `[plugins.<name>.settings]`,
    /// with its default (read it with [`crate::settings::get`]).
    pub fn setting(mut self, key: &str, default: &str, description: &str) -> Self {
        self.settings.push(wit::Setting {
            key: key.into(),
            description: description.into(),
            default_value: Some(default.into()),
        });
        self
    }

    /// Add a tool.
    pub fn tool(mut self, tool: ToolDef) -> Self {
        self.tools.push(tool);
        self
    }

    /// Add a prompt (see [`crate::prompt()`]).
    pub fn prompt(mut self, prompt: PromptDef) -> Self {
        self.prompts.push(prompt);
        self
    }

    /// Add a resource family (see [`crate::resources()`]).
    pub fn resources(mut self, template: TemplateDef) -> Self {
        self.templates.push(template);
        self
    }

    /// Suggest values for every prompt argument and template variable named
    /// `argument`: `completer` returns candidates best first (the SDK keeps the
    /// first 100 and reports how many there were).
    pub fn completion(
        mut self,
        argument: &str,
        completer: impl Fn(&Completing) -> Result<Vec<String>, ToolError> + 'static,
    ) -> Self {
        self.completers.push((argument.into(), Box::new(completer)));
        self
    }

    /// The plugin's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tools, in the order they were added.
    pub fn tools(&self) -> &[ToolDef] {
        &self.tools
    }

    pub(crate) fn find(&self, name: &str) -> Option<&ToolDef> {
        self.tools.iter().find(|t| t.name == name)
    }

    pub(crate) fn setting_default(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .and_then(|s| s.default_value.as_deref())
    }
}

/// One tool: name, description, annotations, schemas and its handler.
///
/// Build one with [`tool`].
pub struct ToolDef {
    name: String,
    title: Option<String>,
    description: String,
    input_schema: SchemaFn,
    output_schema: Option<SchemaFn>,
    annotations: wit::ToolAnnotations,
    handler: Handler,
}

/// A tool named `name` that deserialises its arguments into `A` (whose JSON
/// Schema, from `schemars`, becomes the tool's input schema) and runs `handler`.
///
/// The handler returns an [`Answer<T>`](crate::Answer) (text plus a `T` sent as
/// structured content; `T`'s schema becomes the output schema) or an [`Output`]
/// (text only, no output schema). Doc comments on `A`'s fields become the
/// parameter descriptions the agent reads: say units, formats and defaults, never
/// the type or the name. A doc comment on `A` itself is left out of the schema.
/// Doc comments on `T`'s fields become output-schema descriptions: write one only
/// where the field name does not explain itself. Keep doc comments off the
/// variants of a unit enum used as a parameter: schemars then describes it as
/// `oneOf` instead of a plain `enum` of names. Structured content is JSON, where
/// a non-finite float (NaN, infinity) becomes `null`: use `Option<f64>` in
/// output types for values that can be missing.
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// #[derive(Deserialize, JsonSchema)]
/// struct Args { /// Seconds to look back.
///     seconds: u32 }
/// #[derive(Serialize, JsonSchema)]
/// struct Window { seconds: u32 }
/// let t = tool("lookback", "Echo a look-back window.", |a: Args| {
///     Ok(Answer::new(format!("{}s", a.seconds), Window { seconds: a.seconds }))
/// })
/// .title("Look back")
/// .read_only();
/// assert_eq!(t.name(), "lookback");
/// assert_eq!(t.output_schema().unwrap()["required"], json!(["seconds"]));
/// ```
pub fn tool<A, R, F>(name: &str, description: &str, handler: F) -> ToolDef
where
    A: DeserializeOwned + JsonSchema,
    R: Reply,
    F: Fn(A) -> Result<R, ToolError> + 'static,
{
    ToolDef {
        name: name.into(),
        title: None,
        description: description.into(),
        input_schema: crate::schema::input_of::<A>,
        output_schema: R::output_schema(),
        annotations: wit::ToolAnnotations {
            read_only: false,
            destructive: false,
            idempotent: false,
            open_world: false,
        },
        handler: Box::new(move |value| {
            let args: A =
                serde_json::from_value(value).map_err(|e| ToolError::invalid(e.to_string()))?;
            handler(args)?.into_output()
        }),
    }
}

impl ToolDef {
    /// A short human-readable title.
    pub fn title(mut self, title: &str) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The tool only reads (and so is idempotent and not destructive).
    pub fn read_only(mut self) -> Self {
        self.annotations.read_only = true;
        self.annotations.idempotent = true;
        self.annotations.destructive = false;
        self
    }

    /// The tool talks to an external service whose contents are open-ended.
    pub fn open_world(mut self) -> Self {
        self.annotations.open_world = true;
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tool's input JSON Schema.
    pub fn input_schema(&self) -> serde_json::Value {
        (self.input_schema)()
    }

    /// The tool's output JSON Schema, if declared.
    pub fn output_schema(&self) -> Option<serde_json::Value> {
        self.output_schema.map(|f| f())
    }

    pub(crate) fn run(&self, arguments: serde_json::Value) -> Result<Output, ToolError> {
        (self.handler)(arguments)
    }
}

/// The manifest export.
#[doc(hidden)]
pub fn manifest(plugin: &Plugin) -> wit::PluginManifest {
    wit::PluginManifest {
        name: plugin.name.clone(),
        version: plugin.version.clone(),
        description: plugin.description.clone(),
        tools: plugin
            .tools
            .iter()
            .map(|t| wit::Tool {
                name: t.name.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                input_schema: t.input_schema().to_string(),
                output_schema: t.output_schema().map(|s| s.to_string()),
                annotations: t.annotations,
            })
            .collect(),
        capabilities: wit::Capabilities {
            http: plugin.http.clone(),
            sql: plugin.sql.clone(),
            directories: plugin.directories.clone(),
        },
        settings: plugin.settings.clone(),
        prompts: plugin.prompts.iter().map(PromptDef::wit).collect(),
        resource_templates: plugin.templates.iter().map(TemplateDef::wit).collect(),
    }
}

/// The call-tool export.
#[doc(hidden)]
pub fn call_tool(
    plugin: &Plugin,
    name: &str,
    arguments: &str,
) -> Result<wit::ToolResult, wit::ToolError> {
    crate::settings::set_defaults(plugin);
    dispatch(plugin, name, arguments)
        .map(Output::into_wit)
        .map_err(|e| match e {
            Dispatch::Unknown => wit::ToolError::UnknownTool(name.into()),
            Dispatch::Tool(e) => e.into_wit(),
        })
}

pub(crate) enum Dispatch {
    Unknown,
    Tool(ToolError),
}

pub(crate) fn dispatch(plugin: &Plugin, name: &str, arguments: &str) -> Result<Output, Dispatch> {
    let tool = plugin.find(name).ok_or(Dispatch::Unknown)?;
    let value = match arguments.trim() {
        "" | "null" => serde_json::json!({}),
        text => serde_json::from_str(text).map_err(|e| {
            Dispatch::Tool(ToolError::invalid(format!("arguments are not JSON: {e}")))
        })?,
    };
    tool.run(value).map_err(Dispatch::Tool)
}

/// The get-prompt export.
#[doc(hidden)]
pub fn get_prompt(
    plugin: &Plugin,
    name: &str,
    arguments: Vec<(String, String)>,
) -> Result<wit::PromptResult, wit::ToolError> {
    crate::settings::set_defaults(plugin);
    let prompt = plugin
        .prompts
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| wit::ToolError::UnknownTool(name.into()))?;
    prompt
        .render(&PromptArgs::new(arguments))
        .map(crate::Briefing::into_wit)
        .map_err(ToolError::into_wit)
}

/// The list-resources export: every family's members, in declaration order.
#[doc(hidden)]
pub fn list_resources(plugin: &Plugin) -> Result<Vec<wit::ResourceInfo>, wit::ToolError> {
    crate::settings::set_defaults(plugin);
    let mut all = Vec::new();
    for t in &plugin.templates {
        all.extend(
            t.list_members()
                .map_err(ToolError::into_wit)?
                .into_iter()
                .map(crate::Link::into_wit),
        );
    }
    Ok(all)
}

/// The read-resource export.
#[doc(hidden)]
pub fn read_resource(
    plugin: &Plugin,
    uri: &str,
    uri_template: &str,
    variables: Vec<(String, String)>,
) -> Result<Vec<wit::ResourceContents>, wit::ToolError> {
    crate::settings::set_defaults(plugin);
    let template = plugin
        .templates
        .iter()
        .find(|t| t.uri_template() == uri_template)
        .ok_or_else(|| wit::ToolError::UnknownTool(uri_template.into()))?;
    template
        .read(&Vars::new(uri, variables))
        .map(|c| c.into_iter().map(crate::Contents::into_wit).collect())
        .map_err(ToolError::into_wit)
}

/// The complete export: the completer for `argument`, or no suggestions.
#[doc(hidden)]
pub fn complete(
    plugin: &Plugin,
    argument: &str,
    value: String,
    context: Vec<(String, String)>,
) -> Result<wit::Completion, wit::ToolError> {
    crate::settings::set_defaults(plugin);
    let Some((_, completer)) = plugin.completers.iter().find(|(a, _)| a == argument) else {
        return Ok(crate::complete::into_wit(Vec::new()));
    };
    let completing = Completing {
        value,
        context: context.into_iter().collect(),
    };
    completer(&completing)
        .map(crate::complete::into_wit)
        .map_err(ToolError::into_wit)
}
