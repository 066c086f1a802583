//! Resources: addressable content (a run's summary, a step's log, a screenshot)
//! in families named by URI templates. A [`TemplateDef`] declares a family, lists
//! its current members ([`Link`]s) and reads one ([`Contents`]); tool answers
//! carry [`Link`]s to the artifacts they mention.

use std::collections::BTreeMap;

use crate::ToolError;
use crate::bindings::plue::plugin::types as wit;

type Reader = Box<dyn Fn(&Vars) -> Result<Vec<Contents>, ToolError>>;
type Lister = Box<dyn Fn() -> Result<Vec<Link>, ToolError>>;

/// A resource family: its URI template, description, lister and reader.
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// let t = resources("plue://runs/{run_id}", "run", "A workflow run's summary.", |vars| {
///     let id = vars.get("run_id")?;
///     Ok(vec![Contents::text(vars.uri(), "text/markdown", format!("# Run {id}"))])
/// })
/// .mime_type("text/markdown");
/// assert_eq!(t.uri_template(), "plue://runs/{run_id}");
/// ```
pub struct TemplateDef {
    uri_template: String,
    name: String,
    title: Option<String>,
    description: String,
    mime_type: Option<String>,
    reader: Reader,
    lister: Option<Lister>,
}

/// The resource family `uri_template` (RFC 6570: `{name}` is one path segment,
/// `{+name}` the rest of the URI), read by `reader`.
pub fn resources(
    uri_template: &str,
    name: &str,
    description: &str,
    reader: impl Fn(&Vars) -> Result<Vec<Contents>, ToolError> + 'static,
) -> TemplateDef {
    TemplateDef {
        uri_template: uri_template.into(),
        name: name.into(),
        title: None,
        description: description.into(),
        mime_type: None,
        reader: Box::new(reader),
        lister: None,
    }
}

impl TemplateDef {
    /// A short human-readable title.
    pub fn title(mut self, title: &str) -> Self {
        self.title = Some(title.into());
        self
    }

    /// The MIME type every member has.
    pub fn mime_type(mut self, mime_type: &str) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// List the family's current members (most useful first) on `resources/list`.
    pub fn list(mut self, lister: impl Fn() -> Result<Vec<Link>, ToolError> + 'static) -> Self {
        self.lister = Some(Box::new(lister));
        self
    }

    /// The URI template.
    pub fn uri_template(&self) -> &str {
        &self.uri_template
    }

    pub(crate) fn wit(&self) -> wit::ResourceTemplate {
        wit::ResourceTemplate {
            uri_template: self.uri_template.clone(),
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            mime_type: self.mime_type.clone(),
        }
    }

    pub(crate) fn list_members(&self) -> Result<Vec<Link>, ToolError> {
        self.lister.as_ref().map_or(Ok(Vec::new()), |l| l())
    }

    pub(crate) fn read(&self, vars: &Vars) -> Result<Vec<Contents>, ToolError> {
        (self.reader)(vars)
    }
}

/// The URI being read and its template variables' values (percent-decoded).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    uri: String,
    values: BTreeMap<String, String>,
}

impl Vars {
    /// Variables of `uri`.
    pub fn new(uri: &str, values: impl IntoIterator<Item = (String, String)>) -> Self {
        Vars {
            uri: uri.into(),
            values: values.into_iter().collect(),
        }
    }

    /// The URI being read.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The value of variable `name`, or an error naming it.
    pub fn get(&self, name: &str) -> Result<&str, ToolError> {
        self.values
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ToolError::invalid(format!("the URI has no `{name}`")))
    }
}

/// A link to one resource, in a listing or in an answer.
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// let l = Link::new("plue://runs/13", "run 13").mime_type("text/markdown").size(812);
/// assert_eq!(l.uri(), "plue://runs/13");
/// ```
#[derive(Debug, Clone)]
pub struct Link(wit::ResourceInfo);

impl Link {
    /// A link to `uri`, shown as `name`.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Link(wit::ResourceInfo {
            uri: uri.into(),
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
            size: None,
        })
    }

    /// What the resource holds.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.0.description = Some(description.into());
        self
    }

    /// A human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.0.title = Some(title.into());
        self
    }

    /// Its MIME type.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.0.mime_type = Some(mime_type.into());
        self
    }

    /// Its size in bytes.
    pub fn size(mut self, bytes: u64) -> Self {
        self.0.size = Some(bytes);
        self
    }

    /// The URI.
    pub fn uri(&self) -> &str {
        &self.0.uri
    }

    pub(crate) fn into_wit(self) -> wit::ResourceInfo {
        self.0
    }

    pub(crate) fn from_wit(info: wit::ResourceInfo) -> Self {
        Link(info)
    }

    /// The MIME type, if set.
    pub fn mime(&self) -> Option<&str> {
        self.0.mime_type.as_deref()
    }

    /// The name shown for it.
    pub fn name(&self) -> &str {
        &self.0.name
    }
}

/// A resource's contents: text or bytes, with a MIME type.
#[derive(Debug, Clone)]
pub struct Contents(wit::ResourceContents);

impl Contents {
    /// Text contents.
    pub fn text(uri: &str, mime_type: &str, text: impl Into<String>) -> Self {
        Contents(wit::ResourceContents {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            body: wit::ResourceBody::Text(text.into()),
        })
    }

    /// Binary contents (the host base64-encodes them for MCP).
    pub fn blob(uri: &str, mime_type: &str, bytes: Vec<u8>) -> Self {
        Contents(wit::ResourceContents {
            uri: uri.into(),
            mime_type: Some(mime_type.into()),
            body: wit::ResourceBody::Blob(bytes),
        })
    }

    /// The URI.
    pub fn uri(&self) -> &str {
        &self.0.uri
    }

    /// The text, when the contents are text.
    pub fn as_text(&self) -> Option<&str> {
        match &self.0.body {
            wit::ResourceBody::Text(t) => Some(t),
            wit::ResourceBody::Blob(_) => None,
        }
    }

    /// The bytes, when the contents are binary.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match &self.0.body {
            wit::ResourceBody::Blob(b) => Some(b),
            wit::ResourceBody::Text(_) => None,
        }
    }

    /// The MIME type.
    pub fn mime(&self) -> Option<&str> {
        self.0.mime_type.as_deref()
    }

    pub(crate) fn into_wit(self) -> wit::ResourceContents {
        self.0
    }

    pub(crate) fn from_wit(c: wit::ResourceContents) -> Self {
        Contents(c)
    }
}
