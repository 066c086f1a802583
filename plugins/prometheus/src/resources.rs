//! The resource family `plue://prometheus/queries/{name}`: each saved query
//! (see [`crate::saved`]) as markdown with its PromQL, its meaning and its value
//! evaluated now. Listed: every saved query.

use plue_plugin_sdk::TemplateDef;
use plue_plugin_sdk::prelude::*;
use plue_plugin_sdk::time::now;

use crate::api::Api;
use crate::saved;
use crate::tools::Metrics;

/// The URI template.
pub const QUERIES: &str = "plue://prometheus/queries/{name}";

/// The family.
pub fn queries() -> TemplateDef {
    resources(
        QUERIES,
        "saved-query",
        "A saved PromQL query (request rate, 5xx share, p95 latency, targets down, …): the query, what it means and its value now.",
        read,
    )
    .title("Saved Prometheus queries")
    .mime_type("text/markdown")
    .list(|| {
        Ok(saved::ALL
            .iter()
            .map(|q| {
                Link::new(saved::uri(q.name), q.name)
                    .title(q.title)
                    .description(q.meaning)
                    .mime_type("text/markdown")
            })
            .collect())
    })
}

fn read(vars: &Vars) -> Result<Vec<Contents>, ToolError> {
    let q = saved::find(vars.get("name")?)?;
    let m = Metrics::load();
    let at = now();
    let samples = saved::evaluate(&Api::new(), q, &m, at)?;
    Ok(vec![Contents::text(
        vars.uri(),
        "text/markdown",
        saved::markdown(q, &m, &samples, at),
    )])
}

#[cfg(test)]
mod tests {
    use plue_plugin_sdk::testing;

    use crate::plugin;
    use crate::saved;
    use crate::testutil::serve_stack;

    #[test]
    fn every_saved_query_is_listed() {
        let links = testing::list_resources(&plugin()).unwrap();
        assert_eq!(links.len(), saved::ALL.len());
        assert_eq!(links[0].uri(), "plue://prometheus/queries/targets-down");
        assert_eq!(links[1].name(), "request-rate");
        assert!(links.iter().all(|l| l.mime() == Some("text/markdown")));
    }

    #[test]
    fn a_saved_query_reads_with_its_value_now() {
        serve_stack();
        let read = testing::read(&plugin(), "plue://prometheus/queries/latency-p95").unwrap();
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].mime(), Some("text/markdown"));
        assert_eq!(read[0].uri(), "plue://prometheus/queries/latency-p95");
        let text = read[0].as_text().unwrap();
        assert!(
            text.starts_with(
                "# latency-p95: p95 latency per job\n\n```promql\nhistogram_quantile(0.95, sum by (job, le) (rate(plue_http_request_duration_ms_bucket[5m])))\n```\n\n95% of the requests"
            ),
            "{text}"
        );
        assert!(
            text.contains("- {job=\"api\"}: 480 ms\n- {job=\"web\"}: 120 ms\n"),
            "{text}"
        );
        let text = testing::read(&plugin(), "plue://prometheus/queries/top-5xx-endpoints").unwrap()
            [0]
        .as_text()
        .unwrap()
        .to_string();
        assert!(
            text.contains("- {job=\"api\", method=\"POST\", path=\"/api/:user/:repo/workflows/*\"}: 2880 5xx in 1h\n"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_answer_and_an_unknown_name_say_so() {
        serve_stack();
        let text = testing::read(&plugin(), "plue://prometheus/queries/client-error-ratio")
            .unwrap()[0]
            .as_text()
            .unwrap()
            .to_string();
        assert!(text.contains("No series: nothing matched"), "{text}");
        let err = testing::read(&plugin(), "plue://prometheus/queries/p95")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid arguments: no saved query `p95`; the saved queries are targets-down, request-rate,"),
            "{err}"
        );
    }

    #[test]
    fn many_series_are_cut_with_a_note() {
        let many: Vec<(String, String)> = (0..25)
            .map(|i| (format!(r#""job":"j{i:02}""#), format!("{i}")))
            .collect();
        let items: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let body = crate::testutil::vector(&items);
        testing::fake_http(move |_| Ok(testing::response(200, &body)));
        let text = testing::read(&plugin(), "plue://prometheus/queries/request-rate").unwrap()[0]
            .as_text()
            .unwrap()
            .to_string();
        assert!(text.contains("- {job=\"j24\"}: 24 req/s\n"), "{text}");
        assert!(!text.contains("j04"), "{text}");
        assert!(
            text.contains("Showing 20 of 25 series (5 left out)"),
            "{text}"
        );
    }
}
