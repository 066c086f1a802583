//! What every tool starts from: the operator's settings (the label that names a
//! service, the base stream selector, the duration field), the Loki client, the
//! clock, and the shared answers to "how many were there in all?" and "why is this
//! empty?".

use plue_plugin_sdk::{ToolError, settings};

use crate::logql;
use crate::loki::{Direction, Entry, Loki};
use crate::rejoin;
use crate::render::{self, Item};
use crate::window::Window;

/// Settings keys and their defaults.
pub const SERVICE_LABEL: (&str, &str) = ("service_label", "service");
pub const SELECTOR: (&str, &str) = ("selector", r#"{job="containerlogs"}"#);
pub const DURATION_FIELD: (&str, &str) = ("duration_field", "duration_ms");

/// Settings, client and clock for one call.
pub struct Ctx {
    pub loki: Loki,
    pub service_label: String,
    pub base_selector: String,
    pub duration_field: String,
    pub now_ns: i64,
}

impl Ctx {
    /// Read the settings (validated when used).
    pub fn from_settings() -> Ctx {
        Ctx {
            loki: Loki::default(),
            service_label: settings::get_or(SERVICE_LABEL.0, SERVICE_LABEL.1)
                .trim()
                .to_string(),
            base_selector: settings::get_or(SELECTOR.0, SELECTOR.1).trim().to_string(),
            duration_field: settings::get_or(DURATION_FIELD.0, DURATION_FIELD.1)
                .trim()
                .to_string(),
            now_ns: plue_plugin_sdk::time::now_nanos(),
        }
    }

    /// The stream selector for `service` (see [`logql::selector`]).
    pub fn selector(&self, service: Option<&str>) -> Result<String, ToolError> {
        logql::selector(&self.base_selector, &self.service_label, service)
            .map_err(ToolError::invalid)
    }

    /// The window from `start` to `end`.
    pub fn window(&self, start: &str, end: Option<&str>) -> Result<Window, ToolError> {
        Window::parse(start, end, self.now_ns)
    }

    /// Run a log query and parse its entries.
    pub fn items(
        &self,
        query: &str,
        window: &Window,
        limit: usize,
        direction: Direction,
    ) -> Result<Vec<Item>, ToolError> {
        Ok(render::items(
            self.loki.logs(query, window, limit, direction)?,
            &self.service_label,
        ))
    }

    /// Like [`Ctx::items`], with stack traces split one line per entry put back
    /// together ([`rejoin`]): the items, how many entries Loki returned, and a note
    /// when some parts were not looked up.
    pub fn joined_items(
        &self,
        query: &str,
        window: &Window,
        limit: usize,
        direction: Direction,
    ) -> Result<(Vec<Item>, usize, Option<String>), ToolError> {
        let entries = self.loki.logs(query, window, limit, direction)?;
        let returned = entries.len();
        let (entries, unjoined) = rejoin::rejoin(&self.loki, entries)?;
        let note = (unjoined > 0).then(|| {
            format!(
                "{unjoined} lines that may be parts of stack traces split one line per entry were not rejoined (at most {} look-ups per call); narrow the window or pick a `service`.",
                rejoin::MAX_LOOKUPS
            )
        });
        Ok((render::items(entries, &self.service_label), returned, note))
    }

    /// How many lines `log_query` matches in `window`, counted by Loki (`None` if
    /// Loki could not say).
    pub fn count(&self, log_query: &str, window: &Window) -> Option<usize> {
        let samples = self
            .loki
            .instant(&logql::count(log_query, &window.range()), window.end_ns)
            .ok()?;
        Some(samples.iter().map(|s| s.value).sum::<f64>().round() as usize)
    }

    /// Why a query for `service` found nothing: which services do have logs in the
    /// window, or that the service label does not exist at all.
    pub fn empty_hint(&self, service: Option<&str>, window: &Window) -> String {
        let Ok((services, any)) = self.services_with_lines(window) else {
            return String::new();
        };
        if services.is_empty() {
            if !any {
                return "Loki has no logs at all in this window; widen `start`.".into();
            }
            let labels = self.loki.labels(window).unwrap_or_default();
            return format!(
                "No stream selected by {} has a `{}` label in this window (labels seen: {}); if services are named by another label, set `service_label` under [plugins.logs.settings].",
                self.base_selector,
                self.service_label,
                if labels.is_empty() {
                    "none".to_string()
                } else {
                    labels.join(", ")
                }
            );
        }
        let listed = services.join(", ");
        match service
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("all"))
        {
            Some(s) if !services.iter().any(|v| v == s) && !s.contains('=') => {
                let mut hint = format!(
                    "No `{}` is named `{s}` in this window; services with logs: {listed}.",
                    self.service_label
                );
                let similar = self.unlabelled_streams_mentioning(s, window);
                if !similar.is_empty() {
                    hint.push_str(&format!(
                        " Streams without a `{}` label that mention it: {}; pass one as `service`.",
                        self.service_label,
                        similar.join(", ")
                    ));
                }
                hint
            }
            _ => format!(
                "Services with logs in this window: {listed}; widen `start` or loosen the filters."
            ),
        }
    }
}

impl Ctx {
    /// The services with at least one line in `window`, and whether any stream the base
    /// selector picks has one, or why Loki could not say. Counted with
    /// `count_over_time`, which is exact: Loki's label-values API also names streams
    /// whose lines all lie outside the window (an ingester answers for whole chunks).
    pub fn services_with_lines(&self, window: &Window) -> Result<(Vec<String>, bool), ToolError> {
        let selector = self.selector(None)?;
        let query = format!(
            "sum by ({}) (count_over_time({selector} [{}]))",
            self.service_label,
            window.range()
        );
        let samples = self.loki.instant(&query, window.end_ns)?;
        let any = samples.iter().any(|s| s.value > 0.0);
        let mut services: Vec<String> = samples
            .into_iter()
            .filter(|s| s.value > 0.0)
            .filter_map(|s| s.labels.get(&self.service_label).cloned())
            .filter(|v| !v.is_empty())
            .collect();
        services.sort();
        services.dedup();
        Ok((services, any))
    }

    /// The services named in `window`, from Loki's index: cheap enough for a
    /// listing or a completion on every keystroke, where the exact
    /// [`Ctx::services_with_lines`] would count every line of the window.
    pub fn services_named(&self, window: &Window) -> Result<Vec<String>, ToolError> {
        self.loki
            .label_values(&self.service_label, &self.selector(None)?, window)
    }

    /// `label=value` of streams that lack the service label but have a label value
    /// containing `name` (such as `container=plue-postgres-1` for `postgres`).
    fn unlabelled_streams_mentioning(&self, name: &str, window: &Window) -> Vec<String> {
        let Ok(series) = self.loki.series(&self.base_selector, window) else {
            return Vec::new();
        };
        let mut found: Vec<String> = series
            .iter()
            .filter(|l| !l.contains_key(&self.service_label))
            .flat_map(|l| {
                l.iter()
                    .filter(|(_, v)| v.contains(name))
                    .map(|(k, v)| format!("{k}={v}"))
            })
            .collect();
        found.sort();
        found.dedup();
        found.truncate(10);
        found
    }
}

/// Sort entries oldest first (ties by stream, then line), whatever order Loki sent.
pub fn oldest_first(items: &mut [Item]) {
    items.sort_by(|a, b| key(&a.entry).cmp(&key(&b.entry)));
}

/// Sort entries newest first.
pub fn newest_first(items: &mut [Item]) {
    items.sort_by(|a, b| {
        b.entry
            .ts
            .cmp(&a.entry.ts)
            .then_with(|| key(&a.entry).cmp(&key(&b.entry)))
    });
}

fn key(e: &Entry) -> (i64, &std::collections::BTreeMap<String, String>, &str) {
    (e.ts, &*e.labels, e.line.as_str())
}
