//! One scenario's world: a temporary directory, a `play-emulator` process, one or more
//! `pwa-billing serve` processes on one database, and an HTTP client that speaks to both as
//! browsers, Play's push and a test operator would.

use std::collections::BTreeMap;
use std::future::Future;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use play_emulator::control::{PurchaseView, ReplaceRequest};
use play_emulator::rtdn::NotificationRecord;
use play_emulator::ControlClient;
use pwa_billing_test_kit::free_port;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::procs::{Bins, EmulatorProcess, ServerProcess, ServerSettings, JWT_SECRET, PACKAGE};

/// What the suite was asked to run on.
#[derive(Debug, Clone)]
pub struct Env {
    /// The binaries.
    pub bins: Bins,
    /// A PostgreSQL URL to create databases with (`PWA_BILLING_TEST_DATABASE_URL`).
    pub postgres: Option<String>,
    /// The schemathesis executable (the malformed scenario's fuzzer).
    pub schemathesis: PathBuf,
}

/// Which database a world uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in the world's directory.
    Sqlite,
    /// A fresh database on the PostgreSQL cluster.
    Postgres,
}

/// A running emulator and `replicas` servers sharing one database.
#[derive(Debug)]
pub struct World {
    /// The temporary directory (configs, logs, SQLite file, key).
    pub dir: tempfile::TempDir,
    /// The emulator process, running as long as the world (reached through `control`).
    _emulator: EmulatorProcess,
    /// The servers (replicas of one database).
    pub servers: Vec<ServerProcess>,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The emulator's control API.
    pub control: ControlClient,
    /// The service-account key file the servers read.
    pub key_path: PathBuf,
}

impl World {
    /// Starts an emulator and `replicas` servers on `db`; the emulator pushes RTDNs to the
    /// first one.
    pub async fn start(
        env: &Env,
        db: Database,
        replicas: usize,
        cors_origins: &[&str],
    ) -> anyhow::Result<Self> {
        Self::start_configured(env, db, replicas, cors_origins, String::new()).await
    }

    /// [`World::start`] with `extra_config` added to each server's configuration file.
    pub async fn start_configured(
        env: &Env,
        db: Database,
        replicas: usize,
        cors_origins: &[&str],
        extra_config: String,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("pwa-billing-reliability-")
            .tempdir()?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let ports = (0..replicas)
            .map(|_| free_port())
            .collect::<anyhow::Result<Vec<_>>>()?;
        let emulator = EmulatorProcess::start(
            &env.bins,
            dir.path(),
            PACKAGE,
            &format!("http://127.0.0.1:{}/v1/rtdn", ports[0]),
        )
        .await?;
        let control = ControlClient::with_http(http.clone(), &emulator.url);
        let key = control.service_account().await?;
        let key_path = dir.path().join("service-account.json");
        std::fs::write(&key_path, key.to_string())?;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
        let database_url = match db {
            Database::Sqlite => format!("sqlite://{}", dir.path().join("billing.db").display()),
            Database::Postgres => {
                let admin = env
                    .postgres
                    .as_deref()
                    .context("PostgreSQL asked for but PWA_BILLING_TEST_DATABASE_URL is not set")?;
                pwa_billing_test_kit::fresh_postgres_database(admin, "pwa_reliability").await?
            }
        };
        let settings = ServerSettings {
            database_url,
            cors_origins: cors_origins.iter().map(|o| o.to_string()).collect(),
            lease_secs: 2,
            extra_config,
        };
        let mut servers = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            servers.push(ServerProcess::configure(
                &env.bins,
                dir.path(),
                &format!("server-{i}"),
                *port,
                &emulator.url,
                &settings,
            )?);
        }
        let mut world = Self {
            dir,
            _emulator: emulator,
            servers,
            http,
            control,
            key_path,
        };
        for i in 0..world.servers.len() {
            let http = world.http.clone();
            world.servers[i].start(&http).await?;
        }
        Ok(world)
    }

    /// The first server's URL.
    pub fn url(&self) -> &str {
        &self.servers[0].url
    }

    /// Every server log's text so far.
    pub fn server_logs(&self) -> String {
        self.servers
            .iter()
            .map(|s| std::fs::read_to_string(&s.log).unwrap_or_default())
            .collect()
    }

    /// A purchase made on Google's side (`POST /emulator/v1/purchases`); returns its token.
    pub async fn buy(&self, product_id: &str) -> anyhow::Result<String> {
        Ok(self.control.buy(product_id).await?)
    }

    /// Replaces a subscription on Play's side (`purchases/{token}:replace`); returns the new
    /// token, whose `linkedPurchaseToken` is `token`.
    pub async fn replace(&self, token: &str, product_id: &str) -> anyhow::Result<String> {
        let request = ReplaceRequest {
            product_id: product_id.into(),
            ..ReplaceRequest::default()
        };
        let replacement = self.control.replace(token, &request).await?;
        Ok(replacement.purchase.purchase_token)
    }

    /// `POST /v1/purchases/verify` on server `replica` as `account`.
    pub async fn verify_on(
        &self,
        replica: usize,
        account: &str,
        item_id: &str,
        token: &str,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.send(
            self.http
                .post(format!("{}/v1/purchases/verify", self.servers[replica].url))
                .bearer_auth(user_jwt(account))
                .json(&json!({ "itemId": item_id, "purchaseToken": token })),
        )
        .await
    }

    /// `POST /v1/purchases/verify` on the first server.
    pub async fn verify(
        &self,
        account: &str,
        item_id: &str,
        token: &str,
    ) -> anyhow::Result<(StatusCode, Value)> {
        self.verify_on(0, account, item_id, token).await
    }

    /// `GET /v1/entitlements` of `account`.
    pub async fn entitlements(&self, account: &str) -> anyhow::Result<Vec<Value>> {
        let (status, body) = self
            .send(
                self.http
                    .get(format!("{}/v1/entitlements", self.url()))
                    .bearer_auth(user_jwt(account)),
            )
            .await?;
        if status != StatusCode::OK {
            bail!("GET /v1/entitlements answered {status}: {body}");
        }
        Ok(body["entitlements"].as_array().cloned().unwrap_or_default())
    }

    /// Google calls so far by discovery method id (`GET /emulator/v1/calls`).
    pub async fn calls(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        Ok(self.control.calls().await?)
    }

    /// Every purchase as the emulator's control view (`GET /emulator/v1/purchases`).
    pub async fn purchases(&self) -> anyhow::Result<Vec<PurchaseView>> {
        Ok(self.control.purchases().await?)
    }

    /// Every RTDN the emulator sent (`GET /emulator/v1/notifications`).
    pub async fn notifications(&self) -> anyhow::Result<Vec<NotificationRecord>> {
        Ok(self.control.notifications().await?)
    }

    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> anyhow::Result<String> {
        Ok(self
            .http
            .get(format!("{}/metrics", self.url()))
            .send()
            .await?
            .text()
            .await?)
    }

    /// Waits until every RTDN the emulator sent was acknowledged and every server's outbox
    /// is empty (what Play pushed has been applied, every acknowledgement made).
    pub async fn quiesce(&self, timeout: Duration) -> anyhow::Result<()> {
        eventually(
            "every notification delivered and the outbox empty",
            timeout,
            || async {
                let notes = self.notifications().await?;
                if !notes.iter().all(|m| m.delivered) {
                    return Ok(false);
                }
                for server in &self.servers {
                    let metrics = self
                        .http
                        .get(format!("{}/metrics", server.url))
                        .send()
                        .await?
                        .text()
                        .await?;
                    let depth_zero = metrics
                        .lines()
                        .filter(|l| l.starts_with("pwa_billing_outbox_depth"))
                        .all(|l| l.ends_with(" 0"));
                    if !depth_zero {
                        return Ok(false);
                    }
                }
                Ok(true)
            },
        )
        .await
    }

    /// Sends a request and reads its JSON answer (`null` when empty or not JSON).
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}

/// A caller's bearer JWT for `account` (HS256 with the configured secret, one hour).
pub fn user_jwt(account: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "sub": account, "exp": exp }),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap_or_default()
}

/// A random id with a prefix, distinct enough to be searched for in logs.
pub fn unique(prefix: &str) -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().gen();
    format!("{prefix}-{n:016x}")
}

/// Polls `condition` every 100 ms until it holds, or fails after `timeout` naming `what`.
pub async fn eventually<F, Fut>(
    what: &str,
    timeout: Duration,
    mut condition: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if condition().await? {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{what}: not reached within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The sum of one metric's samples (OpenMetrics text) whose labels contain `label`.
pub fn metric_sum(text: &str, name: &str, label: &str) -> u64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l.contains(label))
        .filter_map(|l| l.rsplit(' ').next())
        .filter_map(|v| v.parse::<f64>().ok())
        .sum::<f64>() as u64
}
