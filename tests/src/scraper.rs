//! A real Prometheus that scrapes the targets a test names, every second (file-based
//! discovery, so targets can be named after Prometheus started): for tests of what a
//! service exports, such as `plue-mcp`'s own `/metrics`. Killed when dropped.

use std::path::Path;
use std::process::Child;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;

use crate::ports::free_port;
use crate::prometheus::{MISSING_BINARIES, find_binary, spawn_prometheus};

/// A running Prometheus scraping the targets of [`Scraper::set_targets`] as job `job`.
pub struct Scraper {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    job: String,
    http: reqwest::Client,
}

impl Scraper {
    /// Starts Prometheus scraping job `job` every second, evaluating the rule files
    /// `rules` every second too; waits until it is ready.
    pub async fn start(job: &str, rules: &[&Path]) -> Result<Scraper> {
        let binary = find_binary("prometheus").ok_or_else(|| anyhow!(MISSING_BINARIES))?;
        let dir = tempfile::Builder::new().prefix("plue-scraper-").tempdir()?;
        std::fs::create_dir(dir.path().join("data"))?;
        std::fs::write(dir.path().join("targets.json"), "[]")?;
        let rule_files: Vec<String> = rules.iter().map(|r| r.display().to_string()).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: {rule_files:?}\nscrape_configs:\n  - job_name: {job:?}\n    file_sd_configs:\n      - files: [{:?}]\n        refresh_interval: 1s\n",
            dir.path().join("targets.json").display().to_string()
        );
        std::fs::write(dir.path().join("prometheus.yml"), config)?;
        let port = free_port();
        let log = dir.path().join("prometheus.log");
        let child = spawn_prometheus(&binary, dir.path(), port, &log)?;
        let scraper = Scraper {
            child,
            port,
            dir,
            job: job.to_string(),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(5))
                .build()?,
        };
        for _ in 0..300 {
            let ready = scraper
                .http
                .get(format!("{}/-/ready", scraper.url()))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(scraper);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("Prometheus did not get ready:\n{}", scraper.log())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Scrape `targets` (`host:port`) from now on.
    pub fn set_targets(&self, targets: &[&str]) -> Result<()> {
        let json = serde_json::json!([{ "targets": targets }]);
        let tmp = self.dir.path().join("targets.json.tmp");
        std::fs::write(&tmp, json.to_string())?;
        std::fs::rename(&tmp, self.dir.path().join("targets.json"))?;
        Ok(())
    }

    /// An instant query's result vector, now.
    pub async fn query(&self, promql: &str) -> Result<Vec<Value>> {
        self.query_at(promql, None).await
    }

    /// An instant query's result vector at `time` (Unix seconds), or now.
    pub async fn query_at(&self, promql: &str, time: Option<f64>) -> Result<Vec<Value>> {
        let mut params = vec![("query", promql.to_string())];
        if let Some(time) = time {
            params.push(("time", format!("{time:.3}")));
        }
        let body: Value = self
            .http
            .get(format!("{}/api/v1/query", self.url()))
            .query(&params)
            .send()
            .await?
            .json()
            .await
            .context("Prometheus query")?;
        if body["status"] != "success" {
            bail!("query `{promql}` failed: {body}");
        }
        Ok(body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Waits (at most 30 s) for a successful scrape of every target that started after
    /// `after` (Unix seconds); returns that scrape's timestamp.
    pub async fn scraped_after(&self, after: f64) -> Result<f64> {
        // Prometheus moves a scrape's timestamp by up to 2 ms onto its schedule
        // (--scrape.timestamp-tolerance): a later one is surely a later scrape.
        let after = after + 0.05;
        // `timestamp()` of a plain selector is the sample's own time (of an
        // expression, it would be the query's).
        let times = format!("timestamp(up{{job={:?}}})", self.job);
        let up = format!("up{{job={:?}}}", self.job);
        for _ in 0..300 {
            let stamps: Vec<f64> = sample_values(&self.query(&times).await?);
            if !stamps.is_empty() && stamps.iter().all(|t| *t > after) {
                let at = stamps.iter().copied().fold(f64::MIN, f64::max);
                let up = sample_values(&self.query_at(&up, Some(at)).await?);
                if up.iter().all(|v| *v == 1.0) {
                    return Ok(at);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "no scrape of job {} after {after} within 30 s:\n{}",
            self.job,
            self.log()
        )
    }

    /// Prometheus's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Where its files are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The numbers of an instant query's samples.
fn sample_values(result: &[Value]) -> Vec<f64> {
    result
        .iter()
        .filter_map(|s| s["value"][1].as_str()?.parse().ok())
        .collect()
}

impl Drop for Scraper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
