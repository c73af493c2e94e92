//! The processes under test: `play-emulator` and `pwa-billing serve`, started from the built
//! binaries on 127.0.0.1 with their configuration files in a temporary directory.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use pwa_billing_test_kit::{announced_url, wait_healthy};

/// A shared secret of at least 32 bytes for the callers' HS256 JWTs.
pub const JWT_SECRET: &str = "reliability-jwt-secret-0123456789abcdef";
/// The server API key of `admin.api_keys`.
pub const ADMIN_KEY: &str = "reliability-admin-key-0123456789abcdef0123";
/// The app's package on Play.
pub const PACKAGE: &str = "com.example.pwa";
/// The catalog file both processes start from (`reliability/catalog.toml`): `coins_100`
/// (consumable), `premium_unlock` (non-consumable), `sub_monthly` and `sub_yearly`.
const CATALOG: &str = include_str!("../catalog.toml");
/// The RTDN push audience both sides agree on.
pub const RTDN_AUDIENCE: &str = "https://billing.reliability.test/v1/rtdn";
/// `retry.max_attempts` of the servers: attempts per Google call.
pub const MAX_ATTEMPTS: u64 = 4;
/// How long a process gets to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// Where the two binaries are.
#[derive(Debug, Clone)]
pub struct Bins {
    /// `pwa-billing`.
    pub server: PathBuf,
    /// `play-emulator`.
    pub emulator: PathBuf,
}

impl Bins {
    /// The binaries in `dir`, which must exist.
    pub fn in_dir(dir: &Path) -> anyhow::Result<Self> {
        let bins = Self {
            server: dir.join("pwa-billing"),
            emulator: dir.join("play-emulator"),
        };
        for bin in [&bins.server, &bins.emulator] {
            if !bin.is_file() {
                bail!(
                    "--bin-dir: {} does not exist; build it first (cargo build -p pwa-billing-server -p play-emulator)",
                    bin.display()
                );
            }
        }
        Ok(bins)
    }
}

/// Writes the suite's catalog file into `dir` (once) and returns its path.
pub fn catalog_file(dir: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("catalog.toml");
    if !path.exists() {
        std::fs::write(&path, CATALOG).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(path)
}

/// A running `play-emulator`; killed when dropped.
#[derive(Debug)]
pub struct EmulatorProcess {
    _child: tokio::process::Child,
    /// Its URL, `http://127.0.0.1:PORT`.
    pub url: String,
}

impl EmulatorProcess {
    /// Starts the emulator of `package` pushing RTDNs to `push_url`, and waits for its URL
    /// on stdout.
    pub async fn start(
        bins: &Bins,
        dir: &Path,
        package: &str,
        push_url: &str,
    ) -> anyhow::Result<Self> {
        let config = dir.join(format!("emulator-{package}.toml"));
        std::fs::write(
            &config,
            format!(
                "port = 0\npackage_name = \"{package}\"\n[rtdn]\npush_url = \"{push_url}\"\naudience = \"{RTDN_AUDIENCE}\"\nmin_backoff_ms = 100\nmax_backoff_ms = 2000\n"
            ),
        )?;
        let log_path = dir.join(format!("emulator-{package}.log"));
        let log = File::create(&log_path)?;
        let mut child = tokio::process::Command::new(&bins.emulator)
            .arg("--config")
            .arg(&config)
            .arg("--catalog")
            .arg(catalog_file(dir)?)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bins.emulator.display()))?;
        let stdout = child.stdout.take().context("emulator stdout")?;
        let url = announced_url(stdout, "play-emulator listening on ", READY_TIMEOUT)
            .await
            .with_context(|| format!("play-emulator (log: {})", log_path.display()))?;
        Ok(Self { _child: child, url })
    }
}

/// What a server configuration file says, beyond the fixed parts.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `database_url`.
    pub database_url: String,
    /// `cors.allowed_origins`.
    pub cors_origins: Vec<String>,
    /// `worker.lease_secs`.
    pub lease_secs: u64,
    /// More of the configuration file (TOML tables, e.g. `[webhooks…]`).
    pub extra_config: String,
}

/// One `pwa-billing serve` on a fixed port, which can be killed and started again on the
/// same port, database and log file.
#[derive(Debug)]
pub struct ServerProcess {
    bin: PathBuf,
    config: PathBuf,
    /// The log file (stderr of every run, appended).
    pub log: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Option<Child>,
    /// How many times it was started.
    pub starts: u32,
}

impl ServerProcess {
    /// Writes the configuration of a server on `port` talking to `emulator_url`; does not
    /// start it.
    pub fn configure(
        bins: &Bins,
        dir: &Path,
        name: &str,
        port: u16,
        emulator_url: &str,
        settings: &ServerSettings,
    ) -> anyhow::Result<Self> {
        let key = dir.join("service-account.json");
        let config = dir.join(format!("{name}.toml"));
        let origins: Vec<String> = settings
            .cors_origins
            .iter()
            .map(|o| format!("\"{o}\""))
            .collect();
        let text = format!(
            r#"listen = "127.0.0.1:{port}"
package_name = "{PACKAGE}"
service_account_key = "{key}"
play_api_base_url = "{emulator_url}"
database_url = "{db}"
catalog = "{catalog}"

[auth]
jwt_hs256_secret = "{JWT_SECRET}"

[admin]
api_keys = ["{ADMIN_KEY}"]

[limits]
pending_recheck_ms = 0
header_read_timeout_secs = 2

[cors]
allowed_origins = [{origins}]

[retry]
max_attempts = {MAX_ATTEMPTS}
base_delay_ms = 20
max_delay_ms = 200
request_timeout_secs = 2

[worker]
lease_secs = {lease}
poll_interval_ms = 200
backoff_base_ms = 50
backoff_max_secs = 1

[rtdn]
audience = "{RTDN_AUDIENCE}"
service_account_email = "rtdn-push@play-emulator.iam.gserviceaccount.com"
jwks_url = "{emulator_url}/emulator/v1/oidc/certs"

[voided]
enabled = false
{extra}"#,
            key = key.display(),
            catalog = catalog_file(dir)?.display(),
            db = settings.database_url,
            origins = origins.join(", "),
            lease = settings.lease_secs,
            extra = settings.extra_config,
        );
        std::fs::write(&config, text)?;
        Ok(Self {
            bin: bins.server.clone(),
            config,
            log: dir.join(format!("{name}.log")),
            url: format!("http://127.0.0.1:{port}"),
            child: None,
            starts: 0,
        })
    }

    /// Starts it and waits until `/healthz` answers 200.
    pub async fn start(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.bin)
            .arg("serve")
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        self.child = Some(child);
        self.starts += 1;
        let child = &mut self.child;
        let exited = || {
            let status = child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            status.map(|s| s.to_string())
        };
        let healthz = format!("{}/healthz", self.url);
        if let Err(e) = wait_healthy(http, &healthz, READY_TIMEOUT, exited).await {
            self.kill();
            bail!(
                "pwa-billing serve: {e}; log {}:\n{}",
                self.log.display(),
                tail(&self.log)
            );
        }
        // Started from the catalog file as a user's server is: nothing deprecated.
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        if let Some(line) = log.lines().find(|l| l.contains("deprecated")) {
            self.kill();
            bail!(
                "pwa-billing serve warned of a deprecation at start ({}): {line}",
                self.log.display()
            );
        }
        Ok(())
    }

    /// SIGKILL, then reaps it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Runs `pwa-billing serve` once more with the key file at `key_mode` and returns whether
    /// it exited by itself (`Some(success)`, or `None` when it kept running and was killed)
    /// and its stderr; the key file's mode is restored to 0600.
    pub fn refused_start(
        &self,
        key: &Path,
        key_mode: u32,
    ) -> anyhow::Result<(Option<bool>, String)> {
        std::fs::set_permissions(key, std::fs::Permissions::from_mode(key_mode))?;
        let stderr = self.log.with_extension("refused.log");
        let child = Command::new(&self.bin)
            .arg("serve")
            .arg("--config")
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&stderr)?)
            .spawn();
        let ended = child.map(|mut child| {
            let deadline = Instant::now() + READY_TIMEOUT;
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => return Some(status.success()),
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50))
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return None;
                    }
                }
            }
        });
        std::fs::set_permissions(key, std::fs::Permissions::from_mode(0o600))?;
        Ok((ended?, std::fs::read_to_string(&stderr).unwrap_or_default()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last lines of a log file, for error messages.
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
