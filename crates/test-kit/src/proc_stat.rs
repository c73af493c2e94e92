//! A process's peak resident memory and CPU time, from Linux's `/proc/<pid>/status` and
//! `/proc/<pid>/stat`.

use std::fmt;
use std::time::Instant;

use anyhow::{anyhow, Context};

/// `/proc/<pid>/stat` counts CPU time in clock ticks of 1/100 s (USER_HZ) on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// Which process to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pid {
    /// This process (`/proc/self`).
    This,
    /// Another process by id.
    Of(u32),
}

impl From<u32> for Pid {
    fn from(pid: u32) -> Self {
        Pid::Of(pid)
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pid::This => f.write_str("self"),
            Pid::Of(pid) => write!(f, "{pid}"),
        }
    }
}

/// Peak resident memory of a process in KiB (`VmHWM` of `/proc/<pid>/status`).
pub fn peak_rss_kib(pid: impl Into<Pid>) -> anyhow::Result<u64> {
    let pid = pid.into();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmHWM in /proc/{pid}/status"))
}

/// Peak resident memory of a process in MiB.
pub fn peak_rss_mib(pid: impl Into<Pid>) -> anyhow::Result<f64> {
    Ok(peak_rss_kib(pid)? as f64 / 1024.0)
}

/// CPU seconds (user + system) a process used so far.
pub fn cpu_seconds(pid: impl Into<Pid>) -> anyhow::Result<f64> {
    let pid = pid.into();
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

/// A process's CPU use from a start point, as a share of one core.
#[derive(Debug, Clone)]
pub struct CpuClock {
    pid: Pid,
    cpu: f64,
    wall: Instant,
}

impl CpuClock {
    /// From now, for this process.
    pub fn start() -> Self {
        Self::of(Pid::This)
    }

    /// From now, for process `pid`.
    pub fn of(pid: impl Into<Pid>) -> Self {
        let pid = pid.into();
        Self {
            pid,
            cpu: cpu_seconds(pid).unwrap_or(0.0),
            wall: Instant::now(),
        }
    }

    /// CPU seconds used since the start over wall seconds (1.0 = one core busy).
    pub fn share_of_one_core(&self) -> f64 {
        let cpu = cpu_seconds(self.pid).unwrap_or(self.cpu) - self.cpu;
        cpu / self.wall.elapsed().as_secs_f64().max(1e-9)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

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
        let rss = peak_rss_mib(Pid::This).unwrap();
        assert!(rss > 0.5 && rss < 1024.0, "{rss}");
        let own = peak_rss_kib(std::process::id()).unwrap();
        assert!(own >= 512, "{own} KiB");
    }

    #[test]
    fn a_process_that_is_gone_is_an_error() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let err = peak_rss_kib(pid).unwrap_err().to_string();
        assert!(err.contains(&format!("/proc/{pid}/status")), "{err}");
        assert!(cpu_seconds(pid).is_err());
    }
}
