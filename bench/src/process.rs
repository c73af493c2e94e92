//! The processes under test, each on its own: `play-emulator` and `pwa-billing serve`
//! (configured for it, SQLite in a fresh directory or the PostgreSQL database given), on
//! 127.0.0.1; and what Linux's `/proc` says about a process: CPU time and peak resident
//! memory. Apart, the server's memory and CPU are its own, not the emulator's. The server
//! may run under `valgrind --tool=callgrind` (instructions counted, see [`crate::profile`]).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `/proc/<pid>/stat` counts CPU time in clock ticks of 1/100 s (USER_HZ) on Linux.
const TICKS_PER_SECOND: f64 = 100.0;
/// The shared secret of the callers' HS256 tokens (the bench signs its own).
pub const JWT_SECRET: &str = "pwa-billing-bench-secret-0123456789abcdef";
/// The app's package (the emulator's default).
const PACKAGE: &str = "com.example.pwa";
/// The service account the emulator signs its RTDN pushes as.
const RTDN_SERVICE_ACCOUNT: &str = "rtdn-push@play-emulator.iam.gserviceaccount.com";
/// The demo's catalog (the repository's `catalog.toml`): what both processes sell.
const CATALOG: &str = include_str!("../../catalog.toml");
/// How long a process gets to become ready (longer under valgrind).
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// CPU seconds (user + system) a process used so far.
pub fn cpu_seconds(pid: &str) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let after = stat
        .rsplit_once(')')
        .ok_or_else(|| anyhow!("unreadable /proc/{pid}/stat"))?
        .1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: f64 = fields
        .get(11..13)
        .ok_or_else(|| anyhow!("short /proc/{pid}/stat"))?
        .iter()
        .map(|f| f.parse::<f64>().unwrap_or(0.0))
        .sum();
    Ok(ticks / TICKS_PER_SECOND)
}

/// Peak resident memory of a process in MiB (`VmHWM`).
pub fn peak_rss_mib(pid: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmHWM in /proc/{pid}/status"))?;
    Ok(kib / 1024.0)
}

/// A process's CPU use from a start point, as a share of one core.
#[derive(Debug, Clone)]
pub struct CpuClock {
    pid: String,
    cpu: f64,
    wall: Instant,
}

impl CpuClock {
    /// From now, for this process.
    pub fn start() -> Self {
        Self::of("self")
    }

    /// From now, for process `pid` (`self` for this one).
    pub fn of(pid: &str) -> Self {
        Self {
            pid: pid.into(),
            cpu: cpu_seconds(pid).unwrap_or(0.0),
            wall: Instant::now(),
        }
    }

    /// CPU seconds used since the start over wall seconds (1.0 = one core busy).
    pub fn share_of_one_core(&self) -> f64 {
        let cpu = cpu_seconds(&self.pid).unwrap_or(self.cpu) - self.cpu;
        cpu / self.wall.elapsed().as_secs_f64().max(1e-9)
    }
}

/// How to start the two processes.
#[derive(Debug, Clone)]
pub struct Launch {
    /// `pwa-billing`.
    pub server: PathBuf,
    /// `play-emulator`.
    pub emulator: PathBuf,
    /// `None`: SQLite in the run's directory.
    pub database_url: Option<String>,
    /// Run the server under `valgrind --tool=callgrind`, writing its files here.
    pub callgrind: Option<PathBuf>,
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
    pub server_pid: String,
    /// The emulator's process id.
    pub emulator_pid: String,
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

/// A free TCP port on 127.0.0.1 (bound, read, released).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
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
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + READY_TIMEOUT;
        let emulator_url = loop {
            let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
                .await
                .map_err(|_| anyhow!("play-emulator did not say where it listens in time"))??
                .ok_or_else(|| anyhow!("play-emulator exited before listening (see its log)"))?;
            if let Some(rest) = line.strip_prefix("play-emulator listening on ") {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        };
        // Keep reading its stdout so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let key = http
            .get(format!("{emulator_url}/emulator/v1/service-account.json"))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let key_path = dir.path().join("service-account.json");
        std::fs::write(&key_path, key)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
        }
        let port = free_port()?;
        let url = format!("http://127.0.0.1:{port}");
        let database_url = launch
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("pwa-billing.db").display()));
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

[rtdn]
audience = "{url}/v1/rtdn"
service_account_email = "{RTDN_SERVICE_ACCOUNT}"
jwks_url = "{emulator_url}/emulator/v1/oidc/certs"

[voided]
poll_interval_secs = 30
"#,
                key = key_path.display(),
                catalog = catalog.display(),
            ),
        )?;
        let server = command(&launch.server, callgrind, "server")
            .arg("serve")
            .arg("--config")
            .arg(&server_config)
            .env("RUST_LOG", "warn")
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
            _dir: dir,
        };
        this.ready(http).await?;
        Ok(this)
    }

    /// Waits until the server's `/healthz` answers 200.
    async fn ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.server.try_wait()? {
                bail!("pwa-billing serve exited ({status}) before answering (see its log above)");
            }
            let answered = http.get(format!("{}/healthz", self.url)).send().await;
            if answered.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("pwa-billing serve did not answer /healthz within {READY_TIMEOUT:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops both (SIGKILL: nothing of them is kept).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.server.kill().await.context("stopping the server")?;
        self.emulator.kill().await.context("stopping the emulator")
    }
}

fn pid(child: &Child) -> anyhow::Result<String> {
    Ok(child
        .id()
        .ok_or_else(|| anyhow!("the process exited at once"))?
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_cpu_and_memory() {
        let clock = CpuClock::start();
        let mut x = 0u64;
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(200) {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        assert!(x != 1);
        let share = clock.share_of_one_core();
        // Up to one core; well below at times on a machine other builds share.
        assert!(
            share > 0.05 && share < 1.5,
            "a busy loop uses up to one core: {share}"
        );
        let rss = peak_rss_mib("self").unwrap();
        assert!(rss > 0.5 && rss < 1024.0, "{rss}");
    }
}
