//! `pwa-billing reports import`: lists the bucket by prefix (`sales/`, `earnings/`; an
//! earnings name is never built), skips each object whose generation and `md5Hash` were
//! imported already, downloads the others once, reads them ([`super::file`]) and stores
//! their rows. One transaction per object replaces that object's rows and records its
//! generation: importing the same object twice changes nothing, a crash or a bad file
//! leaves every earlier import as it was.

use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::Row;

use super::file::{self, ReportKind, ReportRow};
use super::storage::{ObjectMeta, StorageClient};
use super::Month;
use crate::db::{now_ms, Db};

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

/// The stored generation and md5 of an imported object.
async fn imported_version(db: &Db, name: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query("SELECT generation, md5_hash FROM report_files WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| (r.get(0), r.get(1))))
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
        let current = imported_version(db, &object.name)
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
    sqlx::query("DELETE FROM report_rows WHERE file_name = $1")
        .bind(&object.name)
        .execute(&mut *tx)
        .await
        .context("replacing the object's rows")?;
    for (n, chunk) in rows.chunks(BATCH).enumerate() {
        insert(&mut tx, &object.name, kind, month, n * BATCH, chunk)
            .await
            .context("storing rows")?;
        bar.inc(chunk.len() as u64);
    }
    sqlx::query(
        "INSERT INTO report_files (name, kind, month, generation, md5_hash, size, row_count, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, month = excluded.month, \
         generation = excluded.generation, md5_hash = excluded.md5_hash, size = excluded.size, \
         row_count = excluded.row_count, imported_at = excluded.imported_at",
    )
    .bind(&object.name)
    .bind(kind.as_str())
    .bind(month)
    .bind(&object.generation)
    .bind(object.md5_hash.clone().unwrap_or_default())
    .bind(object.size as i64)
    .bind(rows.len() as i64)
    .bind(now_ms())
    .execute(&mut *tx)
    .await
    .context("recording the object")?;
    tx.commit().await.context("committing")?;
    Ok(rows.len() as u64)
}

/// One multi-row INSERT of a chunk of rows (`first` = the chunk's 0-based offset).
async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    file_name: &str,
    kind: ReportKind,
    month: &str,
    first: usize,
    rows: &[ReportRow],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 18;
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("${}", r * COLUMNS + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO report_rows (file_name, line, kind, month, order_id, base_order_id, \
         transaction_type, refund_type, occurred_at, package_name, product_id, product_type, \
         country, currency, amount_micros, tax_micros, merchant_currency, merchant_amount_micros) \
         VALUES {}",
        values.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (i, row) in rows.iter().enumerate() {
        query = query
            .bind(file_name.to_string())
            .bind((first + i + 1) as i64)
            .bind(kind.as_str())
            .bind(month.to_string())
            .bind(row.order_id.clone())
            .bind(row.base_order_id.clone())
            .bind(row.transaction_type.clone())
            .bind(row.refund_type.clone())
            .bind(row.occurred_at)
            .bind(row.package_name.clone())
            .bind(row.product_id.clone())
            .bind(row.product_type.clone())
            .bind(row.country.clone())
            .bind(row.currency.clone())
            .bind(row.amount_micros)
            .bind(row.tax_micros)
            .bind(row.merchant_currency.clone())
            .bind(row.merchant_amount_micros);
    }
    query.execute(&mut **tx).await?;
    Ok(())
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
