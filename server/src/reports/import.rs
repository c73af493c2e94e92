//! `pwa-billing reports import`: lists the bucket by prefix (`sales/`, `earnings/`; an
//! earnings name is never built), skips each object whose generation and `md5Hash` were
//! imported already, downloads the others once, reads them ([`super::file`]) and stores
//! their rows. One transaction per object replaces that object's rows and records its
//! generation: importing the same object twice changes nothing, a crash or a bad file
//! leaves every earlier import as it was.

use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::file::{self, ReportKind};
use super::storage::{ObjectMeta, StorageClient};
use super::Month;
use crate::db::report_files::{self, ReportFile};
use crate::db::{report_rows, Db};

/// Rows inserted per statement (18 parameters each, well under SQLite's 32,766).
const BATCH: usize = 200;

/// Which months to import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonthFilter {
    /// Every report in the bucket.
    All,
    /// One month.
    Only(Month),
    /// This month and every later one.
    Since(Month),
}

impl MonthFilter {
    fn accepts(self, month: &str) -> bool {
        match self {
            Self::All => true,
            Self::Only(m) => m.to_string() == month,
            Self::Since(m) => m.to_string().as_str() <= month,
        }
    }

    /// The narrowest listing prefixes for this filter.
    fn prefixes(self) -> Vec<String> {
        match self {
            Self::Only(m) => vec![
                format!("sales/salesreport_{}", m.compact()),
                format!("earnings/earnings_{}", m.compact()),
            ],
            _ => vec!["sales/".into(), "earnings/".into()],
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Report objects listed (within the months asked for).
    pub listed: usize,
    /// Objects downloaded and stored.
    pub imported: usize,
    /// Objects whose generation was imported already.
    pub unchanged: usize,
    /// Rows stored by this run.
    pub rows: u64,
    /// Bytes downloaded.
    pub bytes: u64,
    /// Objects that could not be imported, with the reason (earlier imports stay).
    pub failed: Vec<String>,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} report file(s) listed: {} imported ({} rows, {}), {} unchanged, {} failed",
            self.listed,
            self.imported,
            self.rows,
            human_bytes(self.bytes),
            self.unchanged,
            self.failed.len()
        )
    }
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1u32 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

/// Progress: an indicatif bar per file on a terminal, one plain line per file otherwise.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Bars on stderr.
    Bars,
    /// Plain lines on stderr.
    Lines,
    /// Nothing (library callers, tests).
    Quiet,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Self::Bars
        } else {
            Self::Lines
        }
    }

    fn bar(self, name: &str) -> ProgressBar {
        let bar = match self {
            Self::Bars => ProgressBar::new(0),
            _ => ProgressBar::hidden(),
        };
        bar.set_style(
            ProgressStyle::with_template("{msg:48} [{bar:30}] {pos}/{len} rows {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(name.to_string());
        bar
    }

    fn done(self, bar: &ProgressBar, line: String) {
        match self {
            Self::Bars => bar.finish_with_message(line),
            Self::Lines => eprintln!("{line}"),
            Self::Quiet => {}
        }
    }
}

/// Imports the reports of `months` from the bucket.
pub async fn run(
    db: &Db,
    storage: &StorageClient,
    months: MonthFilter,
    progress: Progress,
) -> anyhow::Result<ImportSummary> {
    let mut objects: Vec<(ObjectMeta, ReportKind, String)> = Vec::new();
    for prefix in months.prefixes() {
        for object in storage.list(&prefix).await? {
            if let Some((kind, month)) = ReportKind::of(&object.name) {
                if months.accepts(&month) {
                    objects.push((object, kind, month));
                }
            }
        }
    }
    let mut summary = ImportSummary {
        listed: objects.len(),
        ..ImportSummary::default()
    };
    for (object, kind, month) in objects {
        let stored_md5 = object.md5_hash.clone().unwrap_or_default();
        let current = report_files::version(db, &object.name)
            .await
            .context("reading the imported report files")?;
        if current == Some((object.generation.clone(), stored_md5.clone())) {
            summary.unchanged += 1;
            continue;
        }
        let bar = progress.bar(&object.name);
        let result = import_one(db, storage, &object, kind, &month, &bar).await;
        match result {
            Ok(rows) => {
                summary.imported += 1;
                summary.rows += rows;
                summary.bytes += object.size;
                progress.done(
                    &bar,
                    format!(
                        "{}: {rows} rows ({}, generation {})",
                        object.name,
                        human_bytes(object.size),
                        object.generation
                    ),
                );
            }
            Err(e) => {
                let message = format!("{e:#}");
                progress.done(&bar, format!("{}: FAILED", object.name));
                tracing::error!(object = %object.name, error = %message, "report not imported");
                summary.failed.push(message);
            }
        }
    }
    Ok(summary)
}

async fn import_one(
    db: &Db,
    storage: &StorageClient,
    object: &ObjectMeta,
    kind: ReportKind,
    month: &str,
    bar: &ProgressBar,
) -> anyhow::Result<u64> {
    let bytes = storage.download(object).await?;
    let rows = file::read(&object.name, kind, &bytes)?;
    bar.set_length(rows.len() as u64);
    let mut tx = db.pool().begin().await.context("opening a transaction")?;
    report_rows::delete_of_file(&mut tx, &object.name)
        .await
        .context("replacing the object's rows")?;
    for (n, chunk) in rows.chunks(BATCH).enumerate() {
        report_rows::insert(&mut tx, &object.name, kind, month, n * BATCH, chunk)
            .await
            .context("storing rows")?;
        bar.inc(chunk.len() as u64);
    }
    let file = ReportFile {
        name: &object.name,
        kind,
        month,
        generation: &object.generation,
        md5_hash: object.md5_hash.as_deref().unwrap_or_default(),
        size: object.size,
        row_count: rows.len() as u64,
    };
    report_files::record(&mut tx, &file)
        .await
        .context("recording the object")?;
    tx.commit().await.context("committing")?;
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_filters_choose_months_and_listing_prefixes() {
        let dec: Month = "2026-12".parse().unwrap();
        assert!(MonthFilter::All.accepts("2019-01"));
        assert!(MonthFilter::Only(dec).accepts("2026-12"));
        assert!(!MonthFilter::Only(dec).accepts("2027-01"));
        assert!(MonthFilter::Since(dec).accepts("2027-01"));
        assert!(MonthFilter::Since(dec).accepts("2026-12"));
        assert!(!MonthFilter::Since(dec).accepts("2026-11"));
        assert_eq!(
            MonthFilter::Only(dec).prefixes(),
            ["sales/salesreport_202612", "earnings/earnings_202612"]
        );
        assert_eq!(MonthFilter::Since(dec).prefixes(), ["sales/", "earnings/"]);
    }

    #[test]
    fn the_summary_line_reads_well() {
        let s = ImportSummary {
            listed: 3,
            imported: 2,
            unchanged: 1,
            rows: 1234,
            bytes: 3 * 1024 + 100,
            failed: vec!["x: bad".into()],
        };
        assert_eq!(
            s.to_string(),
            "3 report file(s) listed: 2 imported (1234 rows, 3.1 KiB), 1 unchanged, 1 failed"
        );
    }
}
