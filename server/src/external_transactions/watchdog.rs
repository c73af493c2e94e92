//! The 24-hour deadline watchdog: keeps the age of the oldest payment not reported yet in a
//! metric, warns once one waits longer than `external_transactions.warn_after_secs`, and
//! raises the alert level when one is within 2 hours of Google's 24-hour deadline (or
//! past it: it is still reported, late).

use std::time::Duration;

use tokio::sync::watch;

use crate::db::external_transactions::{self as store, DEADLINE_MS};
use crate::db::{now_ms, Db};
use crate::metrics::Metrics;

/// How long before the deadline the alert level is raised.
pub const ALERT_BEFORE_DEADLINE: Duration = Duration::from_secs(2 * 3600);

/// The watchdog's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Nothing waits longer than the warning age.
    Ok = 0,
    /// A payment waits longer than the warning age.
    Warning = 1,
    /// A payment is within 2 hours of the 24-hour deadline, or past it.
    Alert = 2,
}

/// What one check saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// Age of the oldest unreported payment (since its payment time).
    pub oldest: Option<Duration>,
    /// Payments not reported yet.
    pub pending: i64,
    /// The level.
    pub level: Level,
}

/// The level of an oldest unreported payment of age `age`.
pub fn level(age: Option<Duration>, warn_after: Duration) -> Level {
    let alert_at = Duration::from_millis(DEADLINE_MS as u64) - ALERT_BEFORE_DEADLINE;
    match age {
        Some(a) if a >= alert_at => Level::Alert,
        Some(a) if a >= warn_after => Level::Warning,
        _ => Level::Ok,
    }
}

/// Checks once: sets the metrics, logs a warning or an error, returns what it saw.
pub async fn check(db: &Db, metrics: &Metrics, warn_after: Duration) -> Result<Check, sqlx::Error> {
    let (oldest, pending) = store::oldest_unreported(db).await?;
    let oldest = oldest.map(|t| Duration::from_millis((now_ms() - t).max(0) as u64));
    let level = level(oldest, warn_after);
    metrics.set_external_transactions_unreported(
        pending,
        oldest.unwrap_or_default().as_secs_f64(),
        level as i64,
    );
    if level == Level::Alert {
        let alert_at = DEADLINE_MS - ALERT_BEFORE_DEADLINE.as_millis() as i64;
        crate::db::events::deadline_warnings(db, now_ms() - alert_at).await?;
    }
    let minutes = oldest.unwrap_or_default().as_secs() / 60;
    match level {
        Level::Ok => {}
        Level::Warning => tracing::warn!(
            pending,
            oldest_minutes = minutes,
            "external transactions wait to be reported to Google (deadline: 24 hours after the payment); check Google's answers in `pwa-billing external-transactions status`"
        ),
        Level::Alert => tracing::error!(
            pending,
            oldest_minutes = minutes,
            "ALERT: an external transaction is within 2 hours of Google's 24-hour reporting deadline (or past it) and still not reported; check `pwa-billing external-transactions status`"
        ),
    }
    Ok(Check {
        oldest,
        pending,
        level,
    })
}

/// Checks every `every` until `shutdown` turns true.
pub async fn run(
    db: Db,
    metrics: Metrics,
    every: Duration,
    warn_after: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        if let Err(e) = check(&db, &metrics, warn_after).await {
            tracing::warn!(error = %e, "external transactions watchdog check failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        let h = |n: u64| Some(Duration::from_secs(n * 3600));
        let warn = Duration::from_secs(3600);
        assert_eq!(level(None, warn), Level::Ok);
        assert_eq!(level(Some(Duration::from_secs(59 * 60)), warn), Level::Ok);
        assert_eq!(level(h(1), warn), Level::Warning);
        assert_eq!(level(h(21), warn), Level::Warning);
        assert_eq!(level(h(22), warn), Level::Alert);
        assert_eq!(level(h(30), warn), Level::Alert);
    }
}
