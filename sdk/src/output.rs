//! What a tool handler returns: an [`Output`] for an answer, a [`ToolError`] when
//! it could not run. Both become MCP tool results; errors are flagged `isError`.

use serde::Serialize;

use crate::bindings::plue::plugin::types as wit;

/// A tool's answer: text for the agent (most useful first), optional structured
/// JSON matching the tool's output schema, optional images.
///
/// ```
/// use plue_plugin_sdk::Output;
/// let out = Output::text("3 targets down").with_structured(&serde_json::json!({"down": 3}));
/// assert_eq!(out.text_content(), "3 targets down");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Output {
    text: Vec<String>,
    images: Vec<(Vec<u8>, String)>,
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

    /// Attach structured content (serialised to JSON). Values that fail to
    /// serialise are dropped, never panicking.
    pub fn with_structured<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.structured = serde_json::to_value(value).ok();
        self
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

    /// The structured content, if any.
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
