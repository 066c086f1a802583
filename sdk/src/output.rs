//! What a tool handler returns: an [`Answer<T>`] (text plus a typed value that is
//! the structured content, whose JSON Schema is the tool's output schema) or an
//! [`Output`] (text only), and a [`ToolError`] when it could not run. Both become
//! MCP tool results; errors are flagged `isError`. Structured content can only come
//! from an `Answer<T>`, so a tool's output schema and its values cannot drift.

use schemars::JsonSchema;
use serde::Serialize;

use crate::bindings::plue::plugin::types as wit;

/// A tool's answer with structured content: text for the agent (most useful first)
/// and `value`, sent as `structuredContent`. The tool's output schema is `T`'s
/// (see [`tool`](crate::tool)).
///
/// ```
/// use plue_plugin_sdk::prelude::*;
/// #[derive(Serialize, JsonSchema)]
/// struct Down { down: u32 }
/// let answer = Answer::new("3 targets down", Down { down: 3 });
/// assert_eq!(answer.value().down, 3);
/// ```
#[derive(Debug, Clone)]
pub struct Answer<T> {
    output: Output,
    value: T,
}

impl<T> Answer<T> {
    /// An answer made of one text block and its structured value.
    pub fn new(text: impl Into<String>, value: T) -> Self {
        Answer {
            output: Output::text(text),
            value,
        }
    }

    /// Append another text block.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.output = self.output.with_text(text);
        self
    }

    /// Append an image (raw bytes; the host base64-encodes them for MCP).
    pub fn with_image(mut self, data: Vec<u8>, mime_type: impl Into<String>) -> Self {
        self.output = self.output.with_image(data, mime_type);
        self
    }

    /// Append a link to a resource the answer mentions (a report, a log, a screenshot).
    pub fn with_link(mut self, link: crate::Link) -> Self {
        self.output = self.output.with_link(link);
        self
    }

    /// The structured value.
    pub fn value(&self) -> &T {
        &self.value
    }
}

/// What a handler may return: [`Output`] (no output schema, no structured
/// content) or [`Answer<T>`] (output schema `T`'s, structured content a `T`).
/// Sealed: no other type can declare one schema and send another value.
pub trait Reply: sealed::Sealed {
    #[doc(hidden)]
    fn output_schema() -> Option<fn() -> serde_json::Value>;
    #[doc(hidden)]
    fn into_output(self) -> Result<Output, ToolError>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Output {}
    impl<T> Sealed for super::Answer<T> {}
}

impl Reply for Output {
    fn output_schema() -> Option<fn() -> serde_json::Value> {
        None
    }

    fn into_output(self) -> Result<Output, ToolError> {
        Ok(self)
    }
}

impl<T: Serialize + JsonSchema> Reply for Answer<T> {
    fn output_schema() -> Option<fn() -> serde_json::Value> {
        Some(crate::schema::output_of::<T>)
    }

    fn into_output(self) -> Result<Output, ToolError> {
        let value = serde_json::to_value(&self.value).map_err(|e| {
            ToolError::failed(format!("the answer could not be written as JSON: {e}"))
        })?;
        let mut output = self.output;
        output.structured = Some(value);
        Ok(output)
    }
}

/// A tool's answer without structured content: text for the agent (most useful
/// first) and optional images. For structured content, return an [`Answer<T>`].
///
/// ```
/// use plue_plugin_sdk::Output;
/// let out = Output::text("3 targets down").with_text("2 of them since 1h");
/// assert_eq!(out.text_content(), "3 targets down\n\n2 of them since 1h");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Output {
    text: Vec<String>,
    images: Vec<(Vec<u8>, String)>,
    links: Vec<crate::Link>,
    structured: Option<serde_json::Value>,
    is_error: bool,
}

impl Output {
    /// An answer made of one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Output {
            text: vec![text.into()],
            ..Default::default()
        }
    }

    /// Append another text block.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text.push(text.into());
        self
    }

    /// Append an image (raw bytes; the host base64-encodes them for MCP).
    pub fn with_image(mut self, data: Vec<u8>, mime_type: impl Into<String>) -> Self {
        self.images.push((data, mime_type.into()));
        self
    }

    /// Append a link to a resource the answer mentions (a report, a log, a screenshot).
    pub fn with_link(mut self, link: crate::Link) -> Self {
        self.links.push(link);
        self
    }

    /// The resource links, in order.
    pub fn links(&self) -> &[crate::Link] {
        &self.links
    }

    /// Mark the answer as an error the agent should read (for example a backend
    /// that answered with an error payload). Prefer returning [`ToolError`].
    pub fn as_error(mut self) -> Self {
        self.is_error = true;
        self
    }

    /// All text blocks joined by blank lines.
    pub fn text_content(&self) -> String {
        self.text.join("\n\n")
    }

    /// The structured content (present when the tool returned an [`Answer<T>`]).
    pub fn structured(&self) -> Option<&serde_json::Value> {
        self.structured.as_ref()
    }

    /// The images, as (bytes, MIME type).
    pub fn images(&self) -> &[(Vec<u8>, String)] {
        &self.images
    }

    /// Whether the answer is flagged as an error.
    pub fn is_error(&self) -> bool {
        self.is_error
    }

    pub(crate) fn into_wit(self) -> wit::ToolResult {
        let mut content: Vec<wit::Content> =
            self.text.into_iter().map(wit::Content::Text).collect();
        content.extend(
            self.images
                .into_iter()
                .map(|(data, mime_type)| wit::Content::Image(wit::Image { data, mime_type })),
        );
        content.extend(
            self.links
                .into_iter()
                .map(|l| wit::Content::ResourceLink(l.into_wit())),
        );
        wit::ToolResult {
            content,
            structured: self.structured.map(|v| v.to_string()),
            is_error: self.is_error,
        }
    }
}

impl From<String> for Output {
    fn from(text: String) -> Self {
        Output::text(text)
    }
}

impl From<&str> for Output {
    fn from(text: &str) -> Self {
        Output::text(text)
    }
}

/// Why a tool could not answer. The message is shown to the agent: say what
/// went wrong and what to do about it.
///
/// ```
/// use plue_plugin_sdk::ToolError;
/// let e = ToolError::invalid("`duration` must look like 15m, 2h or 7d");
/// assert!(e.to_string().contains("duration"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The arguments were not acceptable.
    InvalidArguments(String),
    /// The tool ran and failed (a backend error, a missing file, …).
    Failed(String),
}

impl ToolError {
    /// An argument problem: name the argument and what was expected.
    pub fn invalid(message: impl Into<String>) -> Self {
        ToolError::InvalidArguments(message.into())
    }

    /// A failure: say what failed and what to check.
    pub fn failed(message: impl Into<String>) -> Self {
        ToolError::Failed(message.into())
    }

    pub(crate) fn into_wit(self) -> wit::ToolError {
        match self {
            ToolError::InvalidArguments(m) => wit::ToolError::InvalidArguments(m),
            ToolError::Failed(m) => wit::ToolError::Failed(m),
        }
    }

    pub(crate) fn from_wit(e: wit::ToolError) -> Self {
        match e {
            wit::ToolError::InvalidArguments(m) => ToolError::InvalidArguments(m),
            wit::ToolError::Failed(m) => ToolError::Failed(m),
            wit::ToolError::UnknownTool(name) => {
                ToolError::InvalidArguments(format!("unknown name `{name}`"))
            }
        }
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::InvalidArguments(m) => write!(f, "invalid arguments: {m}"),
            ToolError::Failed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ToolError {}
