//! The example plugin's prompt, resources and completion: the smallest complete
//! use of each, over the granted `data` directory, for plugin authors to copy
//! and for the end-to-end tests of the host's prompts, resources and completions.

use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::{files, text};

const DIR: &str = "data";
/// The most files listed or suggested.
const MAX_FILES: usize = 50;
/// The largest file a read returns.
const MAX_READ_BYTES: u64 = 256 * 1024;

/// The files under the granted directory, sorted, and whether more existed.
fn data_files() -> Result<(Vec<String>, bool), ToolError> {
    let (mut found, cut) = files::walk(DIR, "", MAX_FILES)?;
    found.sort();
    Ok((found, cut))
}

fn file_uri(path: &str) -> String {
    plue_plugin_sdk::uri_template::expand(FILES, &[("path", path)]).unwrap_or_default()
}

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("md") => "text/markdown",
        _ => "text/plain",
    }
}

const FILES: &str = "plue://example/files/{+path}";

fn brief(args: &PromptArgs) -> Result<Briefing, ToolError> {
    let (found, cut) = data_files()?;
    let mut lines = vec![format!(
        "## Example: {}{} in `{DIR}`",
        text::count(found.len(), "file"),
        if cut { " (more not listed)" } else { "" }
    )];
    lines.extend(found.iter().map(|f| format!("- {f}")));
    let mut briefing = Briefing::text(lines.join("\n")).described("The granted directory, now");
    if let Some(path) = args.get("path") {
        let body = files::read_to_string(DIR, path)?;
        let (shown, _) = text::truncate_chars(&body, 2000);
        briefing = briefing
            .with_text(format!("### {path}\n{shown}"))
            .with_link(Link::new(file_uri(path), path).mime_type(mime(path)));
    }
    Ok(briefing.with_text("Next: read a file with `read_file`, or attach it as a resource."))
}

fn read(vars: &Vars) -> Result<Vec<Contents>, ToolError> {
    let path = vars.get("path")?;
    let size = files::size(DIR, path)?;
    if size > MAX_READ_BYTES {
        return Err(ToolError::invalid(format!(
            "`{path}` is {size} bytes, over the {MAX_READ_BYTES}-byte limit of a read"
        )));
    }
    let bytes = files::read(DIR, path)?;
    let mime = mime(path);
    Ok(vec![if mime == "image/png" {
        Contents::blob(vars.uri(), mime, bytes)
    } else {
        Contents::text(vars.uri(), mime, String::from_utf8_lossy(&bytes))
    }])
}

fn list() -> Result<Vec<Link>, ToolError> {
    let (found, _) = data_files()?;
    Ok(found
        .iter()
        .map(|f| {
            let link = Link::new(file_uri(f), f.as_str()).mime_type(mime(f));
            match files::size(DIR, f) {
                Ok(size) => link.size(size),
                Err(_) => link,
            }
        })
        .collect())
}

fn complete_path(c: &Completing) -> Result<Vec<String>, ToolError> {
    Ok(c.filter(data_files()?.0))
}

/// Add the prompt, the resource family and the completion to `plugin`.
pub fn add(plugin: Plugin) -> Plugin {
    plugin
        .prompt(
            prompt(
                "example-brief",
                "What the example plugin can see in its granted directory, and a file's head.",
                brief,
            )
            .argument(
                "path",
                "A file to show the head of, relative to the directory.",
            ),
        )
        .resources(
            resources(
                FILES,
                "data-file",
                "A file of the granted `data` directory (PNG as an image, the rest as text).",
                read,
            )
            .list(list),
        )
        .completion("path", complete_path)
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;

    use crate::plugin;

    fn data() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("a.txt"), "alpha\n").unwrap();
        std::fs::write(dir.path().join("sub/b.md"), "# beta\n").unwrap();
        testing::mount("data", dir.path());
        dir
    }

    #[test]
    fn the_prompt_lists_the_files_and_shows_one() {
        let _d = data();
        let b = testing::prompt(&plugin(), "example-brief", &[("path", "a.txt")]).unwrap();
        let texts = b.texts().join("\n");
        assert!(
            texts.contains("2 files") && texts.contains("- sub/b.md"),
            "{texts}"
        );
        assert!(texts.contains("### a.txt\nalpha"), "{texts}");
        assert_eq!(b.resource_uris(), ["plue://example/files/a.txt"]);
    }

    #[test]
    fn resources_list_read_and_complete() {
        let _d = data();
        let links = testing::list_resources(&plugin()).unwrap();
        let uris: Vec<&str> = links.iter().map(|l| l.uri()).collect();
        assert_eq!(
            uris,
            [
                "plue://example/files/a.txt",
                "plue://example/files/sub/b.md"
            ]
        );
        let read = testing::read(&plugin(), "plue://example/files/sub/b.md").unwrap();
        assert_eq!(read[0].as_text(), Some("# beta\n"));
        assert_eq!(read[0].mime(), Some("text/markdown"));
        let err = testing::read(&plugin(), "plue://example/files/../secret").unwrap_err();
        assert!(err.to_string().contains("`..` is not allowed"), "{err}");
        assert_eq!(
            testing::complete(&plugin(), "path", "s", &[]).unwrap(),
            ["sub/b.md"]
        );
    }
}
