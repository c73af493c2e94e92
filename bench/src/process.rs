//! The server under test as a child process (`pwa-billing sandbox` on 127.0.0.1, port 0),
//! and what Linux's `/proc` says about processes: CPU time and peak resident memory.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// `/proc/<pid>/stat` counts CPU time in clock ticks of 1/100 s (USER_HZ) on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

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

/// A running `pwa-billing sandbox`, stopped on drop.
#[derive(Debug)]
pub struct Sandbox {
    child: Child,
    /// The server's base URL.
    pub url: String,
    /// The embedded emulator's base URL.
    pub emulator_url: String,
    /// Its process id.
    pub pid: String,
    _data: tempfile::TempDir,
}

impl Sandbox {
    /// Starts `binary sandbox` on free loopback ports with a fresh data directory (SQLite),
    /// or the database `database_url` names (`sandbox --database-url`).
    pub async fn start(binary: &Path, database_url: Option<&str>) -> anyhow::Result<Self> {
        let data = tempfile::tempdir().context("a data directory")?;
        let mut command = Command::new(binary);
        command
            .args([
                "sandbox",
                "--port",
                "0",
                "--emulator-port",
                "0",
                "--data-dir",
            ])
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child
            .id()
            .ok_or_else(|| anyhow!("the sandbox exited at once"))?
            .to_string();
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut url, mut emulator_url) = (None, None);
        let deadline = Instant::now() + Duration::from_secs(30);
        while url.is_none() || emulator_url.is_none() {
            let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
                .await
                .map_err(|_| anyhow!("the sandbox did not say where it listens within 30 s"))??;
            let Some(line) = line else {
                bail!("the sandbox exited before listening (see its log above)");
            };
            if let Some(u) = line.strip_prefix("pwa-billing sandbox listening on ") {
                url = Some(u.trim().to_string());
            } else if let Some(u) = line.strip_prefix("play emulator on ") {
                emulator_url = Some(u.trim().to_string());
            }
        }
        // Keep reading its stdout so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            url: url.expect("read above"),
            emulator_url: emulator_url.expect("read above"),
            pid,
            _data: data,
        })
    }

    /// Stops the sandbox (SIGKILL: nothing of it is kept).
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.child.kill().await.context("stopping the sandbox")
    }
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
