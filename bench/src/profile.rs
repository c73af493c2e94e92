//! Instruction counts per request: the processes run under `valgrind --tool=callgrind`, and
//! around each scenario the bench zeroes their counters and asks for a dump
//! (`callgrind_control`), then reads the dump's total. Unlike wall-clock figures, these do
//! not move when other builds load the machine; `callgrind_annotate` on a dump shows where
//! the instructions go.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// `callgrind_control` over the processes started with [`crate::process::Launch::callgrind`].
#[derive(Debug, Clone)]
pub struct Callgrind {
    dir: PathBuf,
}

impl Callgrind {
    /// The dumps land in `dir`.
    pub fn new(dir: &Path) -> Self {
        Self { dir: dir.into() }
    }

    fn control(&self, args: &[&str]) -> anyhow::Result<()> {
        let status = std::process::Command::new("callgrind_control")
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .context("running callgrind_control (valgrind installed?)")?;
        if !status.success() {
            bail!("callgrind_control {} failed: {status}", args.join(" "));
        }
        Ok(())
    }

    /// Zeroes the counters of `pid`.
    pub fn zero(&self, pid: &str) -> anyhow::Result<()> {
        self.control(&["-z", pid])
    }

    /// Dumps the counters of `pid` (described as `what`) and returns its instructions
    /// since the last zero, and the dump's path.
    pub fn dump(&self, pid: &str, what: &str) -> anyhow::Result<(u64, PathBuf)> {
        let before = self.dumps(pid)?;
        // callgrind_control hands the description to a shell: letters, digits and dashes.
        let what: String = what
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        self.control(&[&format!("--dump={what}"), pid])?;
        let path = self
            .dumps(pid)?
            .into_iter()
            .find(|p| !before.contains(p))
            .with_context(|| format!("no new callgrind dump of {pid} in {}", self.dir.display()))?;
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        Ok((
            total(&text).with_context(|| format!("no totals in {}", path.display()))?,
            path,
        ))
    }

    /// The dump files of `pid` so far.
    fn dumps(&self, pid: &str) -> anyhow::Result<Vec<PathBuf>> {
        let marker = format!(".{pid}.out.");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains(&marker))
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

/// The instruction total of a callgrind dump (`totals:` or `summary:` line, first event).
pub fn total(dump: &str) -> Option<u64> {
    dump.lines()
        .find_map(|l| {
            l.strip_prefix("totals:")
                .or_else(|| l.strip_prefix("summary:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_total_of_a_dump() {
        let dump =
            "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfn=main\n3 12\ntotals: 123456\n";
        assert_eq!(total(dump), Some(123456));
        assert_eq!(total("summary: 42 7\n"), Some(42));
        assert_eq!(total("events: Ir\n"), None);
    }
}
