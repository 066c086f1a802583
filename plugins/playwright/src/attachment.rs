//! Where an attachment is and what it is. Report paths are absolute paths of
//! the machine that ran the tests: they are mapped into the granted directory
//! by their suffix below the project's output directory (`test-results/...`).
//! Inline attachments (a base64 `body`, no path) are named `inline:<spec
//! id>/<project>/<retry>/<name>` so `view_attachment` can find them again.

use base64::Engine;
use plue_plugin_sdk::files;

use crate::raw;
use crate::report::{self, Attempt, Case, DIR, Report};

/// Prefix of the names given to inline attachments.
pub const INLINE: &str = "inline:";

/// Where an attachment's content is.
#[derive(Debug, Clone, PartialEq)]
pub enum Location {
    /// A file in the granted directory (relative path) and its size in bytes.
    File(String, u64),
    /// The report names a file that cannot be shown: where it was looked for, and why.
    Missing(String, String),
    /// Content inside the report: its `inline:` name and the decoded bytes.
    Inline(String, Vec<u8>),
    /// Neither a path nor a body.
    Empty,
}

impl Location {
    /// What to pass to `view_attachment`, if anything can be viewed.
    pub fn viewable(&self) -> Option<&str> {
        match self {
            Location::File(p, _) | Location::Inline(p, _) => Some(p),
            _ => None,
        }
    }

    /// The size in bytes, when known.
    pub fn size(&self) -> Option<u64> {
        match self {
            Location::File(_, size) => Some(*size),
            Location::Inline(_, bytes) => Some(bytes.len() as u64),
            _ => None,
        }
    }
}

/// Finds the attachments of one report. Playwright reuses attachment paths from
/// run to run, so a file an older report names may hold a later run's content:
/// such files are reported as replaced, never shown as the older run's.
pub struct Resolver<'a> {
    report: &'a Report,
    /// The default (latest) report when `report` is an older one, and the
    /// original paths of its attachments.
    newer: Option<(String, Vec<String>)>,
}

impl<'a> Resolver<'a> {
    /// A resolver for `report`.
    pub fn new(report: &'a Report) -> Self {
        let newer = report::locate(None)
            .ok()
            .filter(|latest| *latest != report.path)
            .and_then(|latest| report::load(Some(&latest)).ok())
            .filter(|latest| latest.start_time > report.start_time)
            .map(|latest| {
                let paths = latest
                    .cases
                    .iter()
                    .flat_map(|c| c.attempts.iter())
                    .flat_map(|a| a.attachments.iter())
                    .filter_map(|a| a.path.clone())
                    .collect();
                (latest.path, paths)
            });
        Resolver { report, newer }
    }

    /// Where attachment `a` of `case`'s `attempt` is.
    pub fn locate(&self, case: &Case, attempt: &Attempt, a: &raw::Attachment) -> Location {
        if let Some(body) = &a.body {
            let name = format!(
                "{INLINE}{}/{}/{}/{}",
                case.spec_id, case.project, attempt.retry, a.name
            );
            return match decode(body) {
                Some(bytes) => Location::Inline(name, bytes),
                None => Location::Empty,
            };
        }
        let Some(path) = a.path.as_deref().filter(|p| !p.is_empty()) else {
            return Location::Empty;
        };
        let candidates = candidates(self.report, path);
        let guess = candidates
            .first()
            .cloned()
            .unwrap_or_else(|| path.to_string());
        if let Some((latest, paths)) = &self.newer
            && paths.iter().any(|p| p == path)
        {
            return Location::Missing(
                guess.clone(),
                format!("replaced: {guess} now holds the file of the later run {latest}"),
            );
        }
        for candidate in &candidates {
            if let Ok(size) = files::size(DIR, candidate) {
                return Location::File(candidate.clone(), size);
            }
        }
        Location::Missing(
            guess.clone(),
            format!("missing from the directory (looked for {guess})"),
        )
    }
}

/// Paths in the granted directory where the report's `path` may be, most likely first.
pub fn candidates(report: &Report, path: &str) -> Vec<String> {
    let path = path.replace('\\', "/");
    let report_dir = report.path.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut out: Vec<String> = Vec::new();
    let absolute = path.starts_with('/') || path.get(1..3) == Some(":/");
    if !absolute {
        if !report_dir.is_empty() {
            out.push(format!("{report_dir}/{path}"));
        }
        out.push(path.clone());
    }
    for output_dir in &report.output_dirs {
        let output_dir = output_dir.replace('\\', "/");
        let output_dir = output_dir.trim_end_matches('/');
        if let Some(rest) = path
            .strip_prefix(output_dir)
            .and_then(|r| r.strip_prefix('/'))
        {
            let base = output_dir.rsplit('/').next().unwrap_or("");
            out.push(format!("{base}/{rest}"));
            if !report_dir.is_empty() {
                out.push(format!("{report_dir}/{rest}"));
            }
            out.push(rest.to_string());
        }
    }
    if let Some(at) = path.rfind("/test-results/") {
        let rest = &path[at + "/test-results/".len()..];
        out.push(format!("test-results/{rest}"));
        out.push(rest.to_string());
    }
    let mut unique: Vec<String> = Vec::new();
    for candidate in out {
        if files::path(DIR, &candidate).is_ok() && !unique.contains(&candidate) {
            unique.push(candidate);
        }
    }
    unique
}

/// The content behind an `inline:` name, from `report`.
pub fn find_inline(report: &Report, name: &str) -> Option<(raw::Attachment, Vec<u8>)> {
    let rest = name.strip_prefix(INLINE)?;
    let (spec_id, rest) = rest.split_once('/')?;
    // Project names may contain `/`: the retry and attachment name come last.
    for case in report.cases.iter().filter(|c| c.spec_id == spec_id) {
        let Some(after) = rest.strip_prefix(&format!("{}/", case.project)) else {
            continue;
        };
        let Some((retry, attachment)) = after.split_once('/') else {
            continue;
        };
        let Some(attempt) = case.attempts.iter().find(|a| a.retry.to_string() == retry) else {
            continue;
        };
        if let Some(a) = attempt
            .attachments
            .iter()
            .find(|a| a.name == attachment && a.body.is_some())
        {
            return decode(a.body.as_deref()?).map(|bytes| (a.clone(), bytes));
        }
    }
    None
}

fn decode(body: &str) -> Option<Vec<u8>> {
    let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// The MIME type from a file name's extension.
pub fn content_type_of(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "webm" => "video/webm",
        "zip" => "application/zip",
        "json" => "application/json",
        "md" => "text/markdown",
        "txt" | "log" => "text/plain",
        "html" | "htm" => "text/html",
        "xml" => "application/xml",
        _ => "application/octet-stream",
    }
}

/// A short kind: `screenshot`, `image`, `video`, `trace`, `json`, `markdown`, `text` or `file`.
pub fn kind(name: &str, content_type: &str, path: &str) -> &'static str {
    let file = path.rsplit('/').next().unwrap_or(path);
    if content_type.starts_with("image/") {
        if name == "screenshot" || file.starts_with("test-failed-") {
            "screenshot"
        } else {
            "image"
        }
    } else if content_type.starts_with("video/") {
        "video"
    } else if content_type == "application/zip" {
        if name == "trace" || file.starts_with("trace") {
            "trace"
        } else {
            "file"
        }
    } else if content_type.contains("json") {
        "json"
    } else if content_type == "text/markdown" {
        "markdown"
    } else if content_type.starts_with("text/") || content_type.contains("xml") {
        "text"
    } else {
        "file"
    }
}

/// Width and height of a PNG, GIF or JPEG image, in pixels.
pub fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if bytes.len() >= 24 && bytes.starts_with(b"\x89PNG\r\n\x1a\n") && &bytes[12..16] == b"IHDR" {
        return Some((be(&bytes[16..20]), be(&bytes[20..24])));
    }
    if bytes.len() >= 10 && (bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
        let le = |i: usize| u32::from(u16::from_le_bytes([bytes[i], bytes[i + 1]]));
        return Some((le(6), le(8)));
    }
    if bytes.starts_with(&[0xff, 0xd8]) {
        return jpeg_size(bytes);
    }
    None
}

/// The frame size from a JPEG's first start-of-frame marker.
fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    while i + 9 < bytes.len() {
        if bytes[i] != 0xff {
            return None;
        }
        let marker = bytes[i + 1];
        let len = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let is_frame = (0xc0..=0xcf).contains(&marker) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
        if is_frame {
            let h = u16::from_be_bytes([bytes[i + 5], bytes[i + 6]]);
            let w = u16::from_be_bytes([bytes[i + 7], bytes[i + 8]]);
            return Some((u32::from(w), u32::from(h)));
        }
        i += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report;
    use crate::tools::testing::mount_fixtures;

    #[test]
    fn report_paths_map_into_the_granted_directory() {
        mount_fixtures();
        let report = report::load(None).unwrap();
        let case = &report.cases[4];
        let attempt = &case.attempts[0];
        let shot = Resolver::new(&report).locate(case, attempt, &attempt.attachments[0]);
        assert_eq!(
            shot,
            Location::File(
                "test-results/auth-login-login-remembers-the-session-chromium-desktop/test-failed-1.png".into(),
                7208
            )
        );
        let old = report::load(Some("runs/run-1.json")).unwrap();
        let case = &old.cases[4];
        let attempt = &case.attempts[0];
        let resolver = Resolver::new(&old);
        let path = "test-results/auth-login-login-remembers-the-session-chromium-desktop/test-failed-1.png";
        assert_eq!(
            resolver.locate(case, attempt, &attempt.attachments[0]),
            Location::Missing(
                path.into(),
                format!(
                    "replaced: {path} now holds the file of the later run test-results/results.json"
                )
            )
        );
        // Run 1's failure of `cancels a queued run` wrote files no later run wrote.
        let case = old
            .cases
            .iter()
            .find(|c| c.title.ends_with("cancels a queued run"))
            .unwrap();
        let attempt = &case.attempts[0];
        let path = "test-results/workflows-runs-workflow-runs-cancels-a-queued-run-chromium-desktop/test-failed-1.png";
        assert_eq!(
            resolver.locate(case, attempt, &attempt.attachments[0]),
            Location::Missing(
                path.into(),
                format!("missing from the directory (looked for {path})")
            )
        );
    }

    #[test]
    fn inline_bodies_are_named_and_found_again() {
        mount_fixtures();
        let report = report::load(None).unwrap();
        let case = report
            .cases
            .iter()
            .find(|c| c.title.ends_with("attaches run metadata"))
            .unwrap();
        let attempt = &case.attempts[0];
        let logs = Resolver::new(&report).locate(case, attempt, &attempt.attachments[1]);
        let name =
            "inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/0/console-logs";
        assert_eq!(logs.viewable(), Some(name));
        assert_eq!(logs.size(), Some(139));
        let (a, bytes) = find_inline(&report, name).unwrap();
        assert_eq!(a.content_type, "application/json");
        assert!(bytes.starts_with(b"[{\"type\":\"log\",\"text\":\"runs page loaded\""));
        assert!(
            find_inline(
                &report,
                "inline:f3eea7468f7e80799e41-dc4d808d15b896431321/chromium-desktop/1/console-logs"
            )
            .is_none()
        );
    }

    #[test]
    fn kinds_and_image_sizes() {
        assert_eq!(
            kind("screenshot", "image/png", "a/test-failed-1.png"),
            "screenshot"
        );
        assert_eq!(kind("runs-page", "image/png", "a/runs-page.png"), "image");
        assert_eq!(kind("trace", "application/zip", "a/trace.zip"), "trace");
        assert_eq!(kind("build-log", "text/plain", ""), "text");
        assert_eq!(content_type_of("x/error-context.md"), "text/markdown");
        let png = files_bytes(
            "test-results/auth-login-login-remembers-the-session-chromium-mobile/test-failed-1.png",
        );
        assert_eq!(image_size(&png), Some((240, 320)));
        assert_eq!(image_size(b"GIF89a\x10\x00\x20\x00"), Some((16, 32)));
        assert_eq!(image_size(b"not an image"), None);
    }

    fn files_bytes(path: &str) -> Vec<u8> {
        mount_fixtures();
        files::read(DIR, path).unwrap()
    }
}
