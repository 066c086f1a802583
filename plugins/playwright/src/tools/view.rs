//! `view_attachment`: one attachment or file of the granted directory. Images
//! come back as MCP image content (under a size cap) with their dimensions;
//! JSON is pretty-printed and text shown under a character cap; anything else
//! is described. Nothing outside the directory can be named.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{files, settings, text};

use crate::attachment::{self, INLINE};
use crate::report::{self, DIR};
use crate::{fmt, history};

/// Files larger than this are described, never read.
const MAX_READ_BYTES: u64 = 32 << 20;
/// Default cap on returned images, in KiB (the `max_image_kib` setting).
pub const DEFAULT_IMAGE_KIB: &str = "150";

#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// As test_details or test_artifacts show it.
    #[serde(rename = "attachmentPath")]
    pub attachment_path: String,
    #[serde(default)]
    #[schemars(range(min = 100, max = 100000))]
    #[schemars(extend("default" = 12000))]
    pub max_chars: Option<u32>,
    /// Report of an `inline:` name.
    #[serde(default)]
    pub report: Option<String>,
}

/// What `view_attachment` returns as structured content.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Viewed {
    // The path or `inline:` name viewed.
    pub path: String,
    pub content_type: String,
    // `screenshot`, `image`, `video`, `trace`, `json`, `markdown`, `text` or `file`.
    pub kind: String,
    pub size_bytes: u64,
    // Image width in pixels.
    pub width: Option<u32>,
    // Image height in pixels.
    pub height: Option<u32>,
    // The image is in the result's content.
    pub image_returned: bool,
    // The text shown (pretty-printed for JSON), when the content is text.
    pub text: Option<String>,
    // Characters of text left out.
    pub truncated_chars: usize,
}

pub fn run(args: Args) -> Result<Answer<Viewed>, ToolError> {
    let wanted = args.attachment_path.trim();
    let max_chars = args
        .max_chars
        .map_or(12_000, |m| (m as usize).clamp(100, 100_000));
    let (name, content_type, bytes) = if wanted.starts_with(INLINE) {
        inline(wanted, args.report.as_deref())?
    } else {
        let (bytes, content_type) = file(wanted)?;
        (String::new(), content_type, bytes)
    };
    let Some(bytes) = bytes else {
        let size = files::size(DIR, wanted)?;
        let kind = attachment::kind("", &content_type, wanted);
        let text = format!(
            "`{wanted}`: {content_type}, {} — too large to read here (over {}).",
            fmt::bytes(size),
            fmt::bytes(MAX_READ_BYTES)
        );
        return Ok(Answer::new(
            text,
            Viewed {
                path: wanted.into(),
                content_type,
                kind: kind.into(),
                size_bytes: size,
                ..Viewed::default()
            },
        ));
    };
    Ok(render(wanted, &name, &content_type, bytes, max_chars))
}

/// An `inline:` attachment's name, type and content.
pub(crate) fn inline(
    wanted: &str,
    report: Option<&str>,
) -> Result<(String, String, Option<Vec<u8>>), ToolError> {
    let first = report::load(report)?;
    let searched = first.path.clone();
    let runs = if report.is_some() {
        vec![first]
    } else {
        history::runs(first).into_iter().rev().collect()
    };
    for run in &runs {
        if let Some((a, bytes)) = attachment::find_inline(run, wanted) {
            let content_type = if a.content_type.is_empty() {
                "application/octet-stream".to_string()
            } else {
                a.content_type.clone()
            };
            return Ok((a.name, content_type, Some(bytes)));
        }
    }
    let place = if report.is_some() {
        searched
    } else {
        format!("{} reports of the directory", runs.len())
    };
    Err(ToolError::failed(format!(
        "no inline attachment `{wanted}` in {place}; test_details lists a test's attachments with their names"
    )))
}

/// A file's content (unless too large) and its type.
fn file(wanted: &str) -> Result<(Option<Vec<u8>>, String), ToolError> {
    if wanted.is_empty() {
        return Err(ToolError::invalid(
            "`attachmentPath` is empty: give a path from test_details or test_artifacts",
        ));
    }
    let full = files::path(DIR, wanted).map_err(|e| match e {
        ToolError::InvalidArguments(m) if wanted.contains("/test-results/") => {
            let suffix = &wanted[wanted.rfind("/test-results/").unwrap_or(0) + 1..];
            ToolError::invalid(format!(
                "{m} (for a report's attachment path, use `{suffix}`)"
            ))
        }
        other => other,
    })?;
    if full.is_dir() {
        return Err(ToolError::invalid(format!(
            "`{wanted}` is a directory; test_artifacts lists the files in it"
        )));
    }
    let size = files::size(DIR, wanted).map_err(not_found(wanted))?;
    let content_type = attachment::content_type_of(wanted).to_string();
    if size > MAX_READ_BYTES {
        return Ok((None, content_type));
    }
    let bytes = files::read(DIR, wanted).map_err(not_found(wanted))?;
    Ok((Some(bytes), content_type))
}

fn not_found(wanted: &str) -> impl Fn(ToolError) -> ToolError + '_ {
    move |e| match e {
        ToolError::Failed(m) if m.ends_with("not found in directory `playwright`") => {
            ToolError::failed(format!(
                "{m}; test_artifacts lists the files there, test_details a test's attachments (`{wanted}` must be relative to the directory)"
            ))
        }
        other => other,
    }
}

/// The answer for `bytes` of `content_type`, named `path` (and attachment `name`).
fn render(
    path: &str,
    name: &str,
    content_type: &str,
    bytes: Vec<u8>,
    max_chars: usize,
) -> Answer<Viewed> {
    let size = bytes.len() as u64;
    let dims = attachment::image_size(&bytes);
    let content_type = match (dims, bytes.starts_with(b"\x89PNG")) {
        (Some(_), true) => "image/png".to_string(),
        _ => content_type.to_string(),
    };
    let kind = attachment::kind(name, &content_type, path);
    let label = if name.is_empty() {
        format!("`{path}`")
    } else {
        format!("`{name}` ({path})")
    };
    let mut viewed = Viewed {
        path: path.into(),
        content_type: content_type.clone(),
        kind: kind.into(),
        size_bytes: size,
        width: dims.map(|d| d.0),
        height: dims.map(|d| d.1),
        ..Viewed::default()
    };
    if content_type.starts_with("image/") {
        let cap_kib: u64 = settings::get_or("max_image_kib", DEFAULT_IMAGE_KIB)
            .parse()
            .unwrap_or(150);
        let format = content_type.trim_start_matches("image/").to_uppercase();
        let px = dims
            .map(|(w, h)| format!(", {w}×{h} px"))
            .unwrap_or_default();
        let mut text = format!(
            "{} {label}: {format} image{px}, {}",
            capitalised(kind),
            fmt::bytes(size)
        );
        if size <= cap_kib * 1024 {
            text.push_str(" (the image follows).");
            viewed.image_returned = true;
            return Answer::new(text, viewed).with_image(bytes, content_type);
        }
        text.push_str(&format!(
            " — not returned: larger than the {cap_kib} KiB cap (setting `max_image_kib`); open it locally."
        ));
        return Answer::new(text, viewed);
    }
    let is_text = content_type.starts_with("text/")
        || content_type.contains("json")
        || content_type.contains("xml")
        || (content_type == "application/octet-stream" && looks_like_text(&bytes));
    if !is_text {
        let hint = match kind {
            "trace" => {
                format!(" — a Playwright trace: open it with `npx playwright show-trace {path}`.")
            }
            "video" => " — a video recording; it cannot be shown here.".to_string(),
            _ => " — binary content; it cannot be shown here.".to_string(),
        };
        let text = format!(
            "{} {label}: {content_type}, {}{hint}",
            capitalised(kind),
            fmt::bytes(size)
        );
        return Answer::new(text, viewed);
    }
    let raw = String::from_utf8_lossy(&bytes);
    let (body, note) = if content_type.contains("json") {
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(v) => (
                serde_json::to_string_pretty(&v).unwrap_or_else(|_| raw.to_string()),
                "",
            ),
            Err(_) => (raw.to_string(), " (not valid JSON, shown as text)"),
        }
    } else {
        (fmt::strip_ansi(&raw), "")
    };
    let (shown, cut) = text::truncate_chars(&body, max_chars);
    let mut text = format!(
        "{} {label}: {content_type}, {}{note}\n\n{shown}",
        capitalised(kind),
        fmt::bytes(size)
    );
    if cut > 0 {
        text.push_str(&format!(
            "\n\n(showing {} of {} characters; pass a larger `max_chars`, at most 100000, to see more)",
            body.chars().count() - cut,
            body.chars().count()
        ));
    }
    viewed.text = Some(shown);
    viewed.truncated_chars = cut;
    Answer::new(text, viewed)
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    !head.contains(&0) && std::str::from_utf8(head).is_ok()
}

/// How a kind starts a sentence.
fn capitalised(kind: &str) -> &'static str {
    match kind {
        "screenshot" => "Screenshot",
        "image" => "Image",
        "video" => "Video",
        "trace" => "Trace",
        "json" => "JSON",
        "markdown" => "Markdown",
        "text" => "Text",
        _ => "File",
    }
}

pub fn def() -> ToolDef {
    tool(
        "view_attachment",
        "Open a test attachment: screenshots as images, JSON and text as text.",
        run,
    )
    .title("View attachment")
    .read_only()
}

#[cfg(test)]
mod tests {
    use crate::tools::testing::call;
    use serde_json::json;

    const SHOT: &str =
        "test-results/auth-login-login-remembers-the-session-chromium-desktop/test-failed-1.png";

    #[test]
    fn screenshots_come_back_as_images_with_their_size() {
        let out = call("view_attachment", json!({"attachmentPath": SHOT})).unwrap();
        assert_eq!(
            out.text_content(),
            format!("Screenshot `{SHOT}`: PNG image, 480×320 px, 7.0 KiB (the image follows).")
        );
        assert_eq!(out.images().len(), 1);
        assert_eq!(out.images()[0].1, "image/png");
        assert_eq!(out.images()[0].0.len(), 7208);
        let s = out.structured().unwrap();
        assert_eq!(
            (&s["width"], &s["height"], &s["image_returned"]),
            (&json!(480), &json!(320), &json!(true))
        );
    }

    #[test]
    fn large_images_are_described_not_returned() {
        plue_plugin_sdk::testing::set_setting("max_image_kib", "4");
        let out = call("view_attachment", json!({"attachmentPath": SHOT})).unwrap();
        assert_eq!(
            out.text_content(),
            format!(
                "Screenshot `{SHOT}`: PNG image, 480×320 px, 7.0 KiB — not returned: larger than the 4 KiB cap (setting `max_image_kib`); open it locally."
            )
        );
        assert!(out.images().is_empty());
    }

    #[test]
    fn json_is_pretty_printed_and_text_capped() {
        let name =
            "inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/0/console-logs";
        let out = call("view_attachment", json!({"attachmentPath": name})).unwrap();
        assert_eq!(
            out.text_content(),
            format!(
                "JSON `console-logs` ({name}): application/json, 139 B\n\n[\n  {{\n    \"text\": \"runs page loaded\",\n    \"timestamp\": 1700000000000,\n    \"type\": \"log\"\n  }},\n  {{\n    \"text\": \"11 runs rendered\",\n    \"timestamp\": 1700000000150,\n    \"type\": \"warning\"\n  }}\n]"
            )
        );
        let out = call(
            "view_attachment",
            json!({"attachmentPath": "test-results/auth-login-login-remembers-the-session-chromium-desktop/error-context.md", "max_chars": 100}),
        )
        .unwrap();
        let text = out.text_content();
        assert!(text.starts_with("Markdown `test-results/auth-login-login-remembers-the-session-chromium-desktop/error-context.md`: text/markdown, 2.6 KiB\n\n# "), "{text}");
        assert!(text.ends_with("(showing 99 of 2636 characters; pass a larger `max_chars`, at most 100000, to see more)"), "{text}");
        assert_eq!(out.structured().unwrap()["truncated_chars"], 2537);
    }

    #[test]
    fn traces_are_described() {
        let path = "test-results/workflows-logs-workflow-run-logs-shows-the-build-log-chromium-desktop/attachments/trace-d0d24a35cc79951ff241c4abfc84a58cb6aa5a82.zip";
        let out = call("view_attachment", json!({"attachmentPath": path})).unwrap();
        assert!(
            out.text_content()
                .starts_with(&format!("Trace `{path}`: application/zip, ")),
            "{}",
            out.text_content()
        );
        assert!(out.text_content().ends_with(&format!(
            " — a Playwright trace: open it with `npx playwright show-trace {path}`."
        )));
    }

    #[test]
    fn escapes_and_missing_files_are_refused_clearly() {
        let err = call(
            "view_attachment",
            json!({"attachmentPath": "../../etc/passwd"}),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "invalid arguments: path `../../etc/passwd` leaves the `playwright` directory (`..` is not allowed); give a path relative to it"
        );
        let err = call("view_attachment", json!({"attachmentPath": "/etc/passwd"}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid arguments: path `/etc/passwd` is absolute; give a path relative to the `playwright` directory"
        );
        let err = call(
            "view_attachment",
            json!({"attachmentPath": format!("/home/ci/project/{SHOT}")}),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            format!(
                "invalid arguments: path `/home/ci/project/{SHOT}` is absolute; give a path relative to the `playwright` directory (for a report's attachment path, use `{SHOT}`)"
            )
        );
        let err = call(
            "view_attachment",
            json!({"attachmentPath": "test-results/nope.png"}),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "`test-results/nope.png` not found in directory `playwright`; test_artifacts lists the files there, test_details a test's attachments (`test-results/nope.png` must be relative to the directory)"
        );
        let err = call("view_attachment", json!({"attachmentPath": "test-results"}))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid arguments: `test-results` is a directory; test_artifacts lists the files in it"
        );
        let err = call(
            "view_attachment",
            json!({"attachmentPath": "inline:nope/chromium-desktop/0/x"}),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "no inline attachment `inline:nope/chromium-desktop/0/x` in 3 reports of the directory; test_details lists a test's attachments with their names"
        );
    }
}
