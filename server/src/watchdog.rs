//! The acknowledgement watchdog: keeps the metric of the oldest granted purchase Google
//! does not have acknowledged yet current, and warns past 24 hours (Google refunds
//! unacknowledged purchases after 3 days). It also folds the console's purchase counts
//! ([`crate::db::console::fold_purchase_counts`]).

use std::time::Duration;

use tokio::sync::watch;

use crate::db::{now_ms, outbox, purchases, Db};
use crate::metrics::Metrics;
use crate::play::quota::{Backlog, Bucket, ACK_DEADLINE};
use crate::product::ProductKind;
use crate::verify::{JOB_ACKNOWLEDGE, JOB_CONSUME, SETTLE_KEY_PREFIX};

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
        // The operator console's purchase counts, folded here too: the changes appended as
        // purchases are written stay few when no one opens the console.
        if let Err(e) = crate::db::console::fold_purchase_counts(&db).await {
            tracing::debug!(error = %e, "purchase counts not folded");
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The acknowledgements and consumptions still to do, by Google quota bucket: how many,
/// and the oldest one's deadline (its purchase time, else its grant, + 3 days).
pub async fn ack_backlog(db: &Db) -> Result<Vec<(Bucket, Backlog)>, sqlx::Error> {
    let rows =
        outbox::pending_settles(db, [JOB_ACKNOWLEDGE, JOB_CONSUME], SETTLE_KEY_PREFIX).await?;
    let deadline = ACK_DEADLINE.as_millis() as i64;
    let mut out: Vec<(Bucket, Backlog)> = Vec::new();
    for row in rows {
        let pending = row.pending;
        let bucket = if row.kind == ProductKind::Subscription {
            Bucket::Subscriptions
        } else {
            Bucket::OneTimePurchases
        };
        let oldest_deadline_ms = row.oldest_ms.unwrap_or_else(now_ms) + deadline;
        match out.iter_mut().find(|(b, _)| *b == bucket) {
            Some((_, b)) => {
                b.pending += pending;
                b.oldest_deadline_ms = b.oldest_deadline_ms.min(oldest_deadline_ms);
            }
            None => out.push((
                bucket,
                Backlog {
                    pending,
                    oldest_deadline_ms,
                },
            )),
        }
    }
    Ok(out)
}
