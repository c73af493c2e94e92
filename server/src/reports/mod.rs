//! Play's financial reports: the estimated sales and earnings reports that Play Console
//! writes to a Cloud Storage bucket (`pubsite_prod_rev_…`), imported into the server's
//! database ([`import`]) and reconciled with the purchases it granted ([`reconcile`]).
//!
//! - [`storage`]: the Cloud Storage JSON API client (list by prefix with paging, download
//!   by generation), with the service account's tokens for `devstorage.read_only`;
//! - [`file`]: one object's CSV (zip, gzip or bare; UTF-8 or UTF-16 with a BOM; columns by
//!   header name and alias) as rows;
//! - [`import`]: incremental, idempotent import (one transaction per object);
//! - [`reconcile`]: charged but never granted, granted but never charged, refunded but
//!   still entitled, totals per product and currency.

pub mod file;
pub mod import;
pub mod reconcile;
pub mod storage;

use anyhow::Context;

use crate::config::Config;
use crate::play::auth::STORAGE_SCOPE;
use crate::play::retry::Jitter;
use crate::play::{PlayClient, ServiceAccountKey, TokenSource};
use crate::state::AppState;
pub use storage::Bucket;
use storage::StorageClient;

/// The timeout of one download: a year of sales can be tens of megabytes.
const DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// A calendar month (`YYYY-MM`), the unit of Play's reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u8,
}

impl Month {
    /// `YYYYMM`, as in object names.
    pub fn compact(self) -> String {
        format!("{:04}{:02}", self.year, self.month)
    }

    /// The month's first and the next month's first instant, in epoch ms (UTC).
    pub fn range_ms(self) -> (i64, i64) {
        let start = |y: i32, m: u8| {
            time::Month::try_from(m)
                .ok()
                .and_then(|m| time::Date::from_calendar_date(y, m, 1).ok())
                .map(|d| d.midnight().assume_utc().unix_timestamp() * 1000)
                .unwrap_or(0)
        };
        let (ny, nm) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        (start(self.year, self.month), start(ny, nm))
    }

    /// The month of an epoch-ms instant (UTC).
    pub fn of_ms(ms: i64) -> Month {
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Month {
            year: t.year(),
            month: u8::from(t.month()),
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a month like 2026-12 (YYYY-MM)");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }
}

/// The error `pwa-billing reports reconcile` ends with when something does not add up
/// (exit code 3, for cron).
#[derive(Debug, thiserror::Error)]
#[error("{0} discrepancy(ies) between the reports and the granted purchases")]
pub struct Discrepancies(pub u64);

/// The storage client of the configuration: the bucket (`--bucket` wins over
/// `reports.bucket`), the base URL, the service-account key with the storage scope.
pub fn storage_client(config: &Config, bucket: Option<&Bucket>) -> anyhow::Result<StorageClient> {
    let bucket = match bucket.or(config.reports.bucket.as_ref()) {
        Some(b) => b.to_string(),
        None => anyhow::bail!(
            "configuration key `reports.bucket` is required (or --bucket): the bucket Play Console \
             shows under Download reports → Financial → Copy Cloud Storage URI, e.g. \
             pubsite_prod_rev_01234567890987654321 (PWA_BILLING_REPORTS_BUCKET)"
        ),
    };
    let key = ServiceAccountKey::from_file(&config.service_account_key).with_context(|| {
        format!(
            "configuration key `service_account_key` ({})",
            config.service_account_key.display()
        )
    })?;
    let email = key.client_email.clone();
    let metrics = crate::metrics::Metrics::new();
    let http = crate::play::http_client(config.retry.request_timeout.max(DOWNLOAD_TIMEOUT));
    let tokens = TokenSource::new(key, http.clone(), metrics.clone())
        .context("configuration key `service_account_key`")?
        .with_scope(STORAGE_SCOPE);
    let play = PlayClient::new(
        http,
        config.reports.storage_base_url.clone(),
        config.package_name.clone(),
        tokens,
        config.retry.clone(),
        Jitter::random(),
        metrics,
    );
    Ok(StorageClient::new(
        play,
        config.reports.storage_base_url.clone(),
        bucket,
        email,
    ))
}

/// `pwa-billing reports import`: imports, prints the summary line; fails when an object
/// could not be imported (the others are).
pub async fn import_command(
    state: &AppState,
    bucket: Option<&Bucket>,
    months: import::MonthFilter,
) -> anyhow::Result<import::ImportSummary> {
    let client = storage_client(&state.config, bucket)?;
    let summary = import::run(&state.db, &client, months, import::Progress::for_stderr()).await?;
    println!("reports import (bucket {}): {summary}", client.bucket());
    if !summary.failed.is_empty() {
        anyhow::bail!(
            "{} report file(s) not imported (earlier imports are intact):\n  {}",
            summary.failed.len(),
            summary.failed.join("\n  ")
        );
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_print_and_span() {
        let m: Month = "2026-12".parse().unwrap();
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.compact(), "202612");
        let (start, end) = m.range_ms();
        assert_eq!(start, 1_796_083_200_000);
        assert_eq!(end, 1_798_761_600_000);
        assert_eq!(Month::of_ms(end - 1), m);
        assert_eq!(Month::of_ms(end).to_string(), "2027-01");
        for bad in ["2026-13", "2026-1", "202612", "26-12", "2026-00", "x"] {
            let e = bad.parse::<Month>().unwrap_err();
            assert!(e.contains("YYYY-MM"), "{bad}: {e}");
        }
    }
}
