//! `pwa-billing external-transactions import FILE` and `… status`.
//!
//! Import reads a backlog of payments (CSV with a header row, or NDJSON: one JSON object a
//! line), with the same fields and checks as `POST /v1/external-transactions`; each valid
//! payment is stored with its delivery job (the same payment twice is stored once), then,
//! unless `--no-deliver`, this process runs a worker until every imported payment is
//! reported, paced by the limiter all replicas share. Progress: a bar on a terminal, plain
//! lines otherwise.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use super::model::PaymentReport;
use crate::db::external_transactions::{self as store, ReportState, Stored};
use crate::db::now_ms;
use crate::state::AppState;

/// The file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row of field names.
    Csv,
    /// One JSON object a line.
    Ndjson,
}

impl Format {
    /// By file extension: `.csv`, `.ndjson`/`.jsonl`/`.json`.
    pub fn from_path(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "ndjson" | "jsonl" | "json" => Some(Self::Ndjson),
            _ => None,
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Records read.
    pub read: u64,
    /// Newly stored.
    pub stored: u64,
    /// Stored before (same values): nothing new.
    pub duplicates: u64,
    /// Refused, with their line and reason.
    pub refused: Vec<(u64, String)>,
    /// Of the stored ones, reported to Google by the end (with delivery).
    pub reported: u64,
    /// Of the stored ones, refused by Google for good.
    pub failed: u64,
    /// Time spent delivering.
    pub delivery: Duration,
}

impl std::fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} read, {} stored, {} already stored, {} refused",
            self.read,
            self.stored,
            self.duplicates,
            self.refused.len()
        )?;
        if self.delivery > Duration::ZERO {
            write!(
                f,
                "; {} reported, {} failed in {:.1} s",
                self.reported,
                self.failed,
                self.delivery.as_secs_f64()
            )?;
        }
        Ok(())
    }
}

/// A progress display: an indicatif bar on a terminal, a plain line every 10 % otherwise.
#[derive(Debug)]
struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
    total: u64,
    last_tenth: u64,
}

impl Progress {
    fn new(what: &'static str, total: u64, show: bool) -> Self {
        let bar = (show && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.set_message(what);
            bar
        });
        Self {
            bar,
            what,
            total,
            last_tenth: 0,
        }
    }

    fn set(&mut self, done: u64, show: bool) {
        match &self.bar {
            Some(bar) => bar.set_position(done),
            None if show && self.total > 0 => {
                let tenth = done * 10 / self.total;
                if tenth > self.last_tenth {
                    self.last_tenth = tenth;
                    eprintln!("{}: {done}/{}", self.what, self.total);
                }
            }
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// One CSV row (header → value) as the API's JSON: empty cells left out, `test` a boolean,
/// `transactionProgramCode` a number, the program details JSON objects.
fn csv_record(row: BTreeMap<String, String>) -> Result<Value, String> {
    let mut object = serde_json::Map::new();
    for (key, value) in row {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        let v = match key.as_str() {
            "test" => Value::Bool(match value.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => return Err(format!("test: `{other}` is not true or false")),
            }),
            "transactionProgramCode" => Value::from(
                value
                    .parse::<i32>()
                    .map_err(|_| format!("transactionProgramCode: `{value}` is not an integer"))?,
            ),
            "externalOfferDetails" | "externalContentLinkDetails" => serde_json::from_str(value)
                .map_err(|e| format!("{key}: not a JSON object ({e})"))?,
            _ => Value::String(value.to_string()),
        };
        object.insert(key, v);
    }
    Ok(Value::Object(object))
}

/// Reads every record of the file: (line, JSON or the reason it is unreadable).
pub fn read_records(
    path: &Path,
    format: Format,
) -> anyhow::Result<Vec<(u64, Result<Value, String>)>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    match format {
        Format::Ndjson => {
            for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
                let line = line.with_context(|| format!("{}: line {}", path.display(), i + 1))?;
                if line.trim().is_empty() {
                    continue;
                }
                out.push((
                    i as u64 + 1,
                    serde_json::from_str::<Value>(&line).map_err(|e| format!("not JSON: {e}")),
                ));
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(file);
            let headers = reader
                .headers()
                .with_context(|| format!("{}: the header row", path.display()))?
                .clone();
            for record in reader.records() {
                out.push(match record {
                    Ok(r) => (
                        r.position().map_or(0, |p| p.line()),
                        csv_record(
                            headers
                                .iter()
                                .zip(r.iter())
                                .map(|(h, v)| (h.to_string(), v.to_string()))
                                .collect(),
                        ),
                    ),
                    Err(e) => (
                        e.position().map_or(0, |p| p.line()),
                        Err(format!("not CSV: {e}")),
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// Payments stored per database transaction.
const CHUNK: usize = 250;

/// Imports `path`; with `deliver`, reports every stored payment before returning.
pub async fn import(
    state: &AppState,
    path: &Path,
    format: Format,
    deliver: bool,
    progress: bool,
) -> anyhow::Result<ImportSummary> {
    let records = read_records(path, format)?;
    let mut summary = ImportSummary {
        read: records.len() as u64,
        ..Default::default()
    };
    let mut bar = Progress::new("stored", summary.read, progress);
    let mut ids = Vec::new();
    let mut done = 0;
    for chunk in records.chunks(CHUNK) {
        // One transaction a chunk: thousands of payments store in seconds, and a crash
        // loses at most the chunk being written (the file can be imported again).
        let mut tx = store::begin_write(&state.db).await?;
        for (line, record) in chunk {
            let report = record.clone().and_then(|r| {
                serde_json::from_value::<PaymentReport>(r)
                    .map_err(|e| format!("invalid record: {e}"))
            });
            let accepted = match report {
                Ok(report) => store::accept_on(&mut tx, &report, now_ms()).await,
                Err(e) => {
                    summary.refused.push((*line, e));
                    continue;
                }
            };
            match accepted {
                Ok((payment, stored)) => {
                    match stored {
                        Stored::Created => summary.stored += 1,
                        Stored::Duplicate => summary.duplicates += 1,
                    }
                    ids.push(payment.id);
                }
                Err(store::ReportRefused::Db(e)) => {
                    return Err(e).with_context(|| format!("{}:{line}", path.display()))
                }
                Err(e) => summary.refused.push((*line, e.to_string())),
            }
        }
        tx.commit().await?;
        state.wake.notify_one();
        done += chunk.len() as u64;
        bar.set(done, progress);
    }
    bar.finish();
    if !deliver || ids.is_empty() {
        return Ok(summary);
    }
    let clock = Instant::now();
    let (stop, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(state.worker().run(rx));
    state.wake.notify_one();
    let total = ids.len() as u64;
    let mut bar = Progress::new("reported", total, progress);
    loop {
        let (pending, reported, failed) = tally(state, &ids).await?;
        summary.reported = reported;
        summary.failed = failed;
        bar.set(reported + failed, progress);
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    bar.finish();
    let _ = stop.send(true);
    let _ = worker.await;
    summary.delivery = clock.elapsed();
    Ok(summary)
}

/// (pending, reported, failed) among `ids`.
async fn tally(state: &AppState, ids: &[String]) -> anyhow::Result<(u64, u64, u64)> {
    let mut counts = (0, 0, 0);
    for (report_state, n) in store::count_by_state(&state.db, ids).await? {
        match report_state {
            ReportState::Pending => counts.0 += n as u64,
            ReportState::Reported => counts.1 += n as u64,
            ReportState::Failed => counts.2 += n as u64,
        }
    }
    Ok(counts)
}

/// `external-transactions status`: what is pending, late and failed, as text.
pub async fn status(state: &AppState, limit: i64) -> anyhow::Result<String> {
    use std::fmt::Write;
    let now = now_ms();
    let c = store::counts(&state.db, now).await?;
    let mut out = String::new();
    writeln!(
        out,
        "payments: {} pending ({} past the 24 h deadline), {} reported ({} of them late), {} failed",
        c.pending, c.late, c.reported, c.reported_late, c.failed
    )?;
    writeln!(
        out,
        "refunds: {} pending, {} failed",
        c.refunds_pending, c.refunds_failed
    )?;
    let age = |t: i64| {
        let minutes = (now - t).max(0) / 60_000;
        format!("{}h{:02}m", minutes / 60, minutes % 60)
    };
    for (title, rows) in [
        (
            ReportState::Pending,
            store::list(&state.db, ReportState::Pending, limit).await?,
        ),
        (
            ReportState::Failed,
            store::list(&state.db, ReportState::Failed, limit).await?,
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "\n{title} payments (oldest first):")?;
        for r in rows {
            let late = if now - r.transaction_time > store::DEADLINE_MS {
                " LATE"
            } else {
                ""
            };
            writeln!(
                out,
                "  {}  payment {}  paid {} ago{late}  {}",
                r.id,
                r.payment_id,
                age(r.transaction_time),
                r.last_error.as_deref().unwrap_or("")
            )?;
        }
    }
    for (title, rows) in [
        (
            ReportState::Pending,
            store::list_refunds(&state.db, ReportState::Pending, limit).await?,
        ),
        (
            ReportState::Failed,
            store::list_refunds(&state.db, ReportState::Failed, limit).await?,
        ),
    ] {
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "\n{title} refunds:")?;
        for r in rows {
            writeln!(
                out,
                "  {}  refund {}  made {} ago  {}",
                r.transaction_id,
                r.refund_id,
                age(r.refund_time),
                r.last_error.as_deref().unwrap_or("")
            )?;
        }
    }
    Ok(out)
}
