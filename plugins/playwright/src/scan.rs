//! Searching the granted directory for files (reports, spec files) without
//! descending into `node_modules`, `.git` or attachment folders, which can be
//! large and never hold what the tools look for. Symlinks are not followed.

use plue_plugin_sdk::files;

use crate::report::DIR;

/// Folders never searched.
const SKIPPED: [&str; 3] = ["node_modules", ".git", "attachments"];

/// Paths (relative to the directory, sorted) of the files for which `keep` is
/// true, looking at no more than `max_files` files in all.
pub fn find(max_files: usize, keep: impl Fn(&str) -> bool) -> Vec<String> {
    let (found, _) = files::walk_except(DIR, "", max_files, &SKIPPED).unwrap_or_default();
    found.into_iter().filter(|path| keep(path)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::testing::mount_fixtures;

    #[test]
    fn finds_reports_but_not_attachments() {
        mount_fixtures();
        let json = find(1000, |p| p.ends_with(".json"));
        assert_eq!(
            json,
            [
                "runs/run-1.json",
                "runs/run-2.json",
                "test-results/.last-run.json",
                "test-results/results.json",
                "test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-desktop/runs.json",
                "test-results/workflows-runs-workflow-runs-attaches-run-metadata-chromium-mobile/runs.json"
            ]
        );
        assert_eq!(find(2, |_| true).len(), 2);
    }
}
