//! The acknowledgement watchdog: keeps the metric of the oldest granted purchase Google
//! does not have acknowledged yet current, and warns past 24 hours (Google refunds
//! unacknowledged purchases after 3 days).

use std::time::Duration;

use tokio::sync::watch;

use crate::db::{now_ms, purchases, Db};
use crate::metrics::Metrics;

/// The age past which an unacknowledged grant is logged as a warning.
pub const WARN_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Checks once: sets the metric and returns the age of the oldest unacknowledged grant.
pub async fn check(db: &Db, metrics: &Metrics) -> Result<Option<Duration>, sqlx::Error> {
    let age = purchases::oldest_unacknowledged_ms(db, now_ms())
        .await?
        .map(|ms| Duration::from_millis(ms.max(0) as u64));
    metrics.set_oldest_unacknowledged(age.unwrap_or_default().as_secs_f64());
    if let Some(age) = age.filter(|a| *a >= WARN_AFTER) {
        tracing::warn!(
            age_hours = age.as_secs() / 3600,
            "a granted purchase is still not acknowledged on Google Play after 24 hours; Google refunds it after 3 days: check the outbox (failed jobs, Google errors)"
        );
    }
    Ok(age)
}

/// Checks every `every` until `shutdown` turns true.
pub async fn run(db: Db, metrics: Metrics, every: Duration, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(e) = check(&db, &metrics).await {
            tracing::warn!(error = %e, "acknowledgement watchdog check failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}
