//! The resources' addresses: a report is `plue://playwright/reports/{report}`
//! (its path in the granted directory, or `latest`), an attachment
//! `plue://playwright/attachments/{+path}` (its path there, or its `inline:`
//! name). Tool answers, prompts and listings link to attachments through here,
//! with the MIME type a read returns.

use plue_plugin_sdk::Link;
use plue_plugin_sdk::uri_template::expand;

use crate::attachment;
use crate::tools::details::AttachmentInfo;

/// The report family's URI template.
pub const REPORTS: &str = "plue://playwright/reports/{report}";
/// The attachment family's URI template.
pub const ATTACHMENTS: &str = "plue://playwright/attachments/{+path}";
/// Largest attachment a resource read returns, in bytes.
pub const MAX_READ_BYTES: u64 = 1 << 20;
/// At most this many attachment links per tool answer.
pub const MAX_LINKS: usize = 5;

/// The URI of the report at `path` (or `latest`).
pub fn report_uri(path: &str) -> String {
    expand(REPORTS, &[("report", path)]).unwrap_or_default()
}

/// The URI of the attachment at `path` (or an `inline:` name).
pub fn attachment_uri(path: &str) -> String {
    expand(ATTACHMENTS, &[("path", path)]).unwrap_or_default()
}

/// The MIME type a read of the file at `path` returns.
pub fn file_mime(path: &str) -> &'static str {
    attachment::content_type_of(path)
}

/// Whether contents of `mime` are returned as text (else as a blob).
pub fn is_text(mime: &str) -> bool {
    mime.starts_with("text/") || mime.contains("json") || mime.contains("xml")
}

/// A link to a report.
pub fn report(path: &str, description: String) -> Link {
    Link::new(report_uri(path), format!("report {path}"))
        .title(format!("Playwright report {path}"))
        .description(description)
        .mime_type("text/markdown")
}

/// A link to an attachment that can be read (one with a path or an `inline:`
/// name and, for files, not over [`MAX_READ_BYTES`]); `about` says whose it is.
pub fn attachment(info: &AttachmentInfo, about: &str) -> Option<Link> {
    let path = info.path.as_deref()?;
    if info.size_bytes.is_some_and(|s| s > MAX_READ_BYTES) {
        return None;
    }
    let mime = if path.starts_with(attachment::INLINE) || info.content_type.is_empty() {
        if info.content_type.is_empty() {
            "application/octet-stream".to_string()
        } else {
            info.content_type.clone()
        }
    } else {
        file_mime(path).to_string()
    };
    let mut link = Link::new(attachment_uri(path), format!("{}: {about}", info.name))
        .description(format!("{} attachment of {about}", info.kind))
        .mime_type(mime);
    if let Some(size) = info.size_bytes {
        link = link.size(size);
    }
    Some(link)
}

/// Links to the first readable attachments of `infos` (with whose they are),
/// screenshots and error contexts first, at most `max`.
pub fn attachments<'a>(
    infos: impl IntoIterator<Item = (&'a AttachmentInfo, String)>,
    max: usize,
) -> Vec<Link> {
    let mut all: Vec<(&AttachmentInfo, String)> = infos.into_iter().collect();
    let rank = |i: &AttachmentInfo| match i.kind.as_str() {
        "screenshot" => 0,
        "markdown" => 1,
        "trace" => 2,
        _ => 3,
    };
    // Stable: within a kind, the order given (failing attempts first).
    all.sort_by_key(|(i, _)| rank(i));
    all.iter()
        .filter_map(|(i, about)| attachment(i, about))
        .take(max)
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The size a link declares (the SDK's `Link` has no getter for it; its
    /// `Debug` shows the WIT record).
    pub(crate) fn size_of(link: &Link) -> Option<u64> {
        let debug = format!("{link:?}");
        let at = debug.find("size: Some(")? + "size: Some(".len();
        debug[at..].split(')').next()?.parse().ok()
    }

    #[test]
    fn uris_round_trip_through_the_templates() {
        use plue_plugin_sdk::uri_template::match_uri;
        let uri = report_uri("runs/run-1.json");
        assert_eq!(uri, "plue://playwright/reports/runs%2Frun-1.json");
        assert_eq!(
            match_uri(REPORTS, &uri),
            Some(vec![("report".into(), "runs/run-1.json".into())])
        );
        let uri = attachment_uri("test-results/a b/test-failed-1.png");
        assert_eq!(
            uri,
            "plue://playwright/attachments/test-results/a%20b/test-failed-1.png"
        );
        assert_eq!(
            match_uri(ATTACHMENTS, &uri),
            Some(vec![(
                "path".into(),
                "test-results/a b/test-failed-1.png".into()
            )])
        );
    }
}
