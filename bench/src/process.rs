//! The processes under test, each on its own: `play-emulator` and `pwa-billing serve`
//! (configured for it, SQLite in a fresh directory or the PostgreSQL database given), on
//! 127.0.0.1, measured apart (with `pwa_billing_test_kit`'s `/proc` readings) so that the
//! server's memory and CPU are its own, not the emulator's. The server may run under
//! `valgrind --tool=callgrind` (instructions counted, see [`crate::profile`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, Context};
use play_emulator::ControlClient;
use pwa_billing_test_kit::{announced_url, free_port, fresh_postgres_database, wait_healthy};
use tokio::process::{Child, Command};

/// The shared secret of the callers' HS256 tokens (the bench signs its own).
pub const JWT_SECRET: &str = "pwa-billing-bench-secret-0123456789abcdef";
/// The server API key (`admin.api_keys`) of the benchmarked server.
pub const ADMIN_KEY: &str = "pwa-billing-bench-admin-key-0123456789abcdef";
/// A bearer token for `account` (HS256 with [`JWT_SECRET`], valid 1 h).
pub fn bearer(account: &str) -> anyhow::Result<String> {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        + 3600;
    Ok(jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({ "sub": account, "exp": exp }),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )?)
}

/// The app's package (the emulator's default).
const PACKAGE: &str = "com.example.pwa";
/// The service account the emulator signs its RTDN pushes as.
const RTDN_SERVICE_ACCOUNT: &str = "rtdn-push@play-emulator.iam.gserviceaccount.com";
/// The demo's catalog (the repository's `catalog.toml`): what both processes sell.
const CATALOG: &str = include_str!("../../catalog.toml");
/// How long a process gets to become ready (longer under valgrind).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// How to start the two processes.
#[derive(Debug, Clone)]
pub struct Launch {
    /// `pwa-billing`.
    pub server: PathBuf,
    /// `play-emulator`.
    pub emulator: PathBuf,
    /// `None`: SQLite in the run's directory; else a PostgreSQL cluster's URL, on which
    /// each start creates a new database.
    pub database_url: Option<String>,
    /// Run the server under `valgrind --tool=callgrind`, writing its files here.
    pub callgrind: Option<PathBuf>,
    /// More of the server's configuration file (TOML tables, e.g. `[webhooks…]`, `[quota]`).
    pub server_config: String,
    /// More arguments of `play-emulator` (`--quota NAME=N`).
    pub emulator_args: Vec<String>,
    /// The server's `RUST_LOG`.
    pub server_log: &'static str,
}

/// The emulator and the server, killed on drop.
#[derive(Debug)]
pub struct Processes {
    emulator: Child,
    server: Child,
    /// The server's base URL.
    pub url: String,
    /// The emulator's base URL.
    pub emulator_url: String,
    /// The server's process id.
    pub server_pid: u32,
    /// The emulator's process id.
    pub emulator_pid: u32,
    /// The server's database.
    pub database_url: String,
    _dir: tempfile::TempDir,
}

/// A command, under callgrind if asked (instrumentation off until the bench zeroes it).
fn command(binary: &Path, callgrind: Option<&Path>, name: &str) -> Command {
    match callgrind {
        None => Command::new(binary),
        Some(dir) => {
            let mut c = Command::new("valgrind");
            c.arg("--tool=callgrind")
                .arg(format!(
                    "--callgrind-out-file={}/{name}.%p.out",
                    dir.display()
                ))
                .arg("--dump-instr=no")
                // Every dump names its functions in full, so each one reads on its own.
                .arg("--compress-strings=no")
                .arg("--compress-pos=no")
                .arg(binary);
            c
        }
    }
}

impl Processes {
    /// Starts `play-emulator` on a free port, then `pwa-billing serve` configured for it,
    /// and waits until the server's `/healthz` answers.
    pub async fn start(launch: &Launch, http: &reqwest::Client) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("a run directory")?;
        let callgrind = launch.callgrind.as_deref();
        // Both processes sell the demo's catalog, read from the same file (as a user's do).
        let catalog = dir.path().join("catalog.toml");
        std::fs::write(&catalog, CATALOG)?;
        let emulator_config = dir.path().join("emulator.toml");
        std::fs::write(
            &emulator_config,
            format!("port = 0\npackage_name = \"{PACKAGE}\"\n"),
        )?;
        // (The emulator itself never runs under valgrind: its RSA key generation at start
        // takes minutes there.)
        let mut emulator = Command::new(&launch.emulator);
        emulator
            .arg("--config")
            .arg(&emulator_config)
            .arg("--catalog")
            .arg(&catalog)
            .args(&launch.emulator_args)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut emulator = emulator
            .spawn()
            .with_context(|| format!("starting {}", launch.emulator.display()))?;
        let emulator_pid = pid(&emulator)?;
        let stdout = emulator.stdout.take().expect("piped stdout");
        let emulator_url = announced_url(stdout, "play-emulator listening on ", READY_TIMEOUT)
            .await
            .context("play-emulator did not say where it listens (see its log)")?;

        let key = ControlClient::with_http(http.clone(), &emulator_url)
            .service_account()
            .await?;
        let key_path = dir.path().join("service-account.json");
        std::fs::write(&key_path, key.to_string())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
        }
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        // Each server starts on an empty database, as with SQLite's file in the run's
        // directory: no run delivers, settles or counts another's rows.
        let database_url = match &launch.database_url {
            Some(cluster) => fresh_postgres_database(cluster, "pwa_bench").await?,
            None => format!("sqlite://{}", dir.path().join("pwa-billing.db").display()),
        };
        let server_config = dir.path().join("server.toml");
        std::fs::write(
            &server_config,
            format!(
                r#"listen = "127.0.0.1:{port}"
package_name = "{PACKAGE}"
service_account_key = "{key}"
play_api_base_url = "{emulator_url}"
database_url = "{database_url}"
accept_test_purchases = true
catalog = "{catalog}"

[auth]
jwt_hs256_secret = "{JWT_SECRET}"

[admin]
api_keys = ["{ADMIN_KEY}"]

[rtdn]
audience = "{url}/v1/rtdn"
service_account_email = "{RTDN_SERVICE_ACCOUNT}"
jwks_url = "{emulator_url}/emulator/v1/oidc/certs"

[voided]
poll_interval_secs = 30
{extra}"#,
                key = key_path.display(),
                catalog = catalog.display(),
                extra = launch.server_config,
            ),
        )?;
        let server = command(&launch.server, callgrind, "server")
            .arg("serve")
            .arg("--config")
            .arg(&server_config)
            .env("RUST_LOG", launch.server_log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", launch.server.display()))?;
        let server_pid = pid(&server)?;
        let mut this = Self {
            emulator,
            server,
            url,
            emulator_url,
            server_pid,
            emulator_pid,
            database_url,
            _dir: dir,
        };
        this.ready(http).await?;
        Ok(this)
    }

    /// Waits until the server's `/healthz` answers 200.
    async fn ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let server = &mut self.server;
        let exited = || server.try_wait().ok().flatten().map(|s| s.to_string());
        wait_healthy(
            http,
            &format!("{}/healthz", self.url),
            READY_TIMEOUT,
            exited,
        )
        .await
        .context("pwa-billing serve did not become ready (see its log above)")
    }

    /// Stops both (SIGKILL: nothing of them is kept).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.server.kill().await.context("stopping the server")?;
        self.emulator.kill().await.context("stopping the emulator")
    }
}

fn pid(child: &Child) -> anyhow::Result<u32> {
    child
        .id()
        .ok_or_else(|| anyhow!("the process exited at once"))
}
