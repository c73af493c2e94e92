//! Webhooks (issue #21) under attack: a receiver written with the official
//! `standardwebhooks` npm package (`server/tests/it/webhook_receiver.mjs`) refuses forged
//! and replayed signatures; an endpoint at a private address is refused at start; a
//! redirect is never followed; kill -9 of the server while deliveries are in flight loses
//! none of them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use tokio::io::AsyncBufReadExt;

use crate::procs::{ServerProcess, ServerSettings, ADMIN_KEY};
use crate::report::Row;
use crate::world::{eventually, unique, Database, Env, World};

/// The product every purchase here is of.
const PRODUCT: &str = "premium_unlock";

/// The receiver process (killed when dropped) and its base URL.
struct Receiver {
    _process: tokio::process::Child,
    url: String,
    http: reqwest::Client,
}

impl Receiver {
    /// Starts `node webhook_receiver.mjs <secret>`.
    async fn start(secret: &str, http: &reqwest::Client) -> anyhow::Result<Self> {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../server/tests/it/webhook_receiver.mjs");
        let mut process = tokio::process::Command::new("node")
            .arg(&script)
            .arg(secret)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting node (scripts/install-tools.sh node)")?;
        let stdout = process.stdout.take().context("piped stdout")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .context("the receiver did not start")??
            .context("the receiver exited (is `standardwebhooks` installed? npm ci)")?;
        let port = line
            .strip_prefix("listening ")
            .context("the receiver says `listening <port>`")?;
        Ok(Self {
            _process: process,
            url: format!("http://127.0.0.1:{port}"),
            http: http.clone(),
        })
    }

    async fn mode(&self, mode: &str) -> anyhow::Result<()> {
        self.http
            .put(format!("{}/mode/{mode}", self.url))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    async fn received(&self) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}/received", self.url))
            .send()
            .await?
            .json()
            .await?)
    }

    /// Posts a delivery as it arrived, with `timestamp` instead of its own if given;
    /// returns the receiver's status.
    async fn post(
        &self,
        raw: &str,
        headers: &Value,
        timestamp: Option<i64>,
    ) -> anyhow::Result<u16> {
        let mut request = self
            .http
            .post(format!("{}/hook", self.url))
            .header("content-type", "application/json")
            .body(raw.to_string());
        for name in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            let value = match (name, timestamp) {
                ("webhook-timestamp", Some(t)) => t.to_string(),
                _ => headers[name].as_str().unwrap_or_default().to_string(),
            };
            request = request.header(name, value);
        }
        Ok(request.send().await?.status().as_u16())
    }
}

/// A `whsec_` secret of 32 random bytes.
fn secret() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// The `[webhooks]` tables of an endpoint at `url` signing with `secret`.
fn endpoint(url: &str, secret: &str) -> String {
    format!(
        "\n[webhooks]\ntimeout_ms = 1000\nbackoff_base_ms = 50\nbackoff_max_secs = 1\npoll_interval_ms = 100\n\n\
         [webhooks.endpoints.backend]\nurl = \"{url}\"\nsecrets = [\"{secret}\"]\n"
    )
}

/// Verifies `count` new purchases on the first server; returns their tokens.
async fn purchases(w: &World, count: usize) -> anyhow::Result<Vec<String>> {
    let mut tokens = Vec::new();
    for _ in 0..count {
        let token = w.buy(PRODUCT).await?;
        let (status, body) = w.verify(&unique("acct"), PRODUCT, &token).await?;
        anyhow::ensure!(status.is_success(), "verify: {status} {body}");
        tokens.push(token);
    }
    Ok(tokens)
}

/// The ids of every event in the server's feed.
async fn feed(w: &World) -> anyhow::Result<BTreeSet<String>> {
    let request = w
        .http
        .get(format!("{}/v1/events?limit=1000", w.url()))
        .bearer_auth(ADMIN_KEY);
    let (_, page) = w.send(request).await?;
    Ok(page["events"]
        .as_array()
        .context("an events page")?
        .iter()
        .filter_map(|e| e["id"].as_str().map(String::from))
        .collect())
}

/// The ids the receiver accepted.
async fn accepted(r: &Receiver) -> anyhow::Result<BTreeSet<String>> {
    Ok(r.received().await?["accepted"]
        .as_array()
        .context("accepted deliveries")?
        .iter()
        .filter_map(|d| d["id"].as_str().map(String::from))
        .collect())
}

/// The scenario's rows.
pub async fn run(env: &Env) -> anyhow::Result<Vec<Row>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut rows = Vec::new();

    // Forged: the server signs with a secret the receiver does not hold.
    let receiver_secret = secret();
    let r = Receiver::start(&receiver_secret, &http).await?;
    let forged = World::start_configured(
        env,
        Database::Sqlite,
        1,
        &[],
        endpoint(&format!("{}/hook", r.url), &secret()),
    )
    .await?;
    purchases(&forged, 3).await?;
    eventually(
        "forged deliveries refused",
        Duration::from_secs(20),
        || async { Ok(r.received().await?["rejected"].as_u64().unwrap_or(0) >= 3) },
    )
    .await?;
    let seen = r.received().await?;
    rows.push(Row::new(
        "webhooks: forged signature",
        "3 purchases, each delivery retried",
        "endpoint secret ≠ receiver's",
        "standardwebhooks refuses every delivery",
        format!(
            "{} refused, {} accepted",
            seen["rejected"],
            seen["accepted"].as_array().map_or(0, Vec::len)
        ),
        seen["accepted"].as_array().is_some_and(Vec::is_empty),
    ));
    drop(forged);

    // Replayed: a genuine delivery sent again with another timestamp (its signature covers
    // the timestamp) or another body.
    let world = World::start_configured(
        env,
        Database::Sqlite,
        1,
        &[],
        endpoint(&format!("{}/hook", r.url), &receiver_secret),
    )
    .await?;
    purchases(&world, 1).await?;
    eventually("a genuine delivery", Duration::from_secs(20), || async {
        Ok(!accepted(&r).await?.is_empty())
    })
    .await?;
    let genuine = r.received().await?["accepted"][0].clone();
    let raw = genuine["raw"].as_str().context("the raw body")?;
    let headers = &genuine["headers"];
    let stamp: i64 = headers["webhook-timestamp"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .context("a timestamp")?;
    let as_is = r.post(raw, headers, None).await?;
    let later = r.post(raw, headers, Some(stamp + 600)).await?;
    let earlier = r.post(raw, headers, Some(stamp - 600)).await?;
    let altered = r
        .post(
            &raw.replacen("entitlement", "entitlemenT", 1),
            headers,
            None,
        )
        .await?;
    rows.push(Row::new(
        "webhooks: replayed signature",
        "1 genuine delivery, sent again 4 ways",
        "timestamp ±10 min, body altered",
        "same bytes verify; other timestamp or body refused",
        format!("as is {as_is}, +10 min {later}, −10 min {earlier}, altered body {altered}"),
        as_is == 204 && later == 400 && earlier == 400 && altered == 400,
    ));

    // A redirect is never followed.
    r.mode("redirect").await?;
    let before = r.received().await?;
    purchases(&world, 1).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = r.received().await?;
    rows.push(Row::new(
        "webhooks: redirect",
        "1 purchase",
        "the endpoint answers 307 to another path",
        "the redirect is not followed (retried later instead)",
        format!(
            "{} attempt(s) redirected, target reached {} time(s), new deliveries accepted {}",
            after["redirected"],
            after["elsewhere"],
            after["accepted"].as_array().map_or(0, Vec::len)
                - before["accepted"].as_array().map_or(0, Vec::len)
        ),
        after["elsewhere"] == 0 && after["redirected"].as_u64().unwrap_or(0) >= 1,
    ));

    // A private address is refused at start.
    let private = ServerProcess::configure(
        &env.bins,
        world.dir.path(),
        "private",
        1,
        "http://127.0.0.1:1",
        &ServerSettings {
            database_url: format!("sqlite://{}", world.dir.path().join("private.db").display()),
            cors_origins: Vec::new(),
            lease_secs: 2,
            extra_config: endpoint("https://169.254.169.254/latest/meta-data", &secret()),
        },
    )?;
    let (ended, stderr) = private.refused_start(&world.key_path, 0o600)?;
    rows.push(Row::new(
        "webhooks: private address",
        "pwa-billing serve",
        "endpoint https://169.254.169.254/…",
        "refused at start, naming the key",
        stderr.lines().last().unwrap_or_default().to_string(),
        ended == Some(false) && stderr.contains("webhooks.endpoints.backend.url"),
    ));
    drop(world);

    // kill -9 while deliveries are in flight (the receiver holds them open).
    r.mode("hang").await?;
    let mut crash = World::start_configured(
        env,
        Database::Sqlite,
        1,
        &[],
        endpoint(&format!("{}/hook", r.url), &receiver_secret),
    )
    .await?;
    let before = accepted(&r).await?;
    purchases(&crash, 5).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    crash.servers[0].kill();
    r.mode("up").await?;
    let http2 = crash.http.clone();
    crash.servers[0].start(&http2).await?;
    let events = feed(&crash).await?;
    eventually(
        "every event delivered after the restart",
        Duration::from_secs(30),
        || async { Ok(events.is_subset(&accepted(&r).await?)) },
    )
    .await?;
    let delivered = accepted(&r).await?;
    let lost = events.difference(&delivered).count();
    rows.push(Row::new(
        "webhooks: kill -9 during deliveries",
        "5 purchases, deliveries in flight",
        "SIGKILL, restart on the same database",
        "every event delivered after the restart",
        format!(
            "{} event(s), {} delivered, {lost} lost",
            events.len(),
            events.intersection(&delivered).count()
        ),
        lost == 0 && events.len() == 5 && before.is_disjoint(&events),
    ));
    Ok(rows)
}
