//! The voided purchases poller: lists `voidedpurchases` (subscriptions included, `type=1`)
//! from a stored high-water mark, page by page within a bounded number of calls, and
//! revokes what they void. Replicas take turns: a sweep holds a lease, and a replica sweeps
//! only when the last sweep (by any replica) is older than the poll interval.

use std::time::Duration;

use tokio::sync::watch;

use crate::config::VoidedConfig;
use crate::db::{leases, now_ms, purchases, Db};
use crate::lifecycle::{Change, Lifecycle};
use crate::metrics::Metrics;
use crate::play::voided::VoidedPurchase;
use crate::play::PlayClient;

/// The lease (and cursor) name of the voided purchases sweep.
pub const LEASE: &str = "voided_purchases";
/// How long a sweep may hold the lease before another replica may take over.
const SWEEP_LEASE: Duration = Duration::from_secs(300);
/// Google lists at most 30 days back; a cursor older than this restarts from the default.
const MAX_LOOKBACK_MS: i64 = 29 * 24 * 3600 * 1000;

/// What one sweep did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepSummary {
    /// Whether it ran (false: another replica holds the lease, or a sweep is not due yet).
    pub ran: bool,
    /// `voidedpurchases.list` calls made.
    pub pages: u32,
    /// Voided purchases read.
    pub listed: u64,
    /// Entitlements revoked or reduced by them.
    pub changed: u64,
    /// Entries that could not be applied (retried by the next sweep).
    pub errors: u64,
}

/// Sweeps voided purchases.
#[derive(Debug, Clone)]
pub struct VoidedPoller {
    db: Db,
    play: PlayClient,
    lifecycle: Lifecycle,
    config: VoidedConfig,
    metrics: Metrics,
    owner: String,
}

impl VoidedPoller {
    /// A poller.
    pub fn new(
        db: Db,
        play: PlayClient,
        lifecycle: Lifecycle,
        config: VoidedConfig,
        metrics: Metrics,
    ) -> Self {
        Self {
            db,
            play,
            lifecycle,
            config,
            metrics,
            owner: format!("voided-{}", uuid::Uuid::new_v4()),
        }
    }

    /// Sweeps every `poll_interval` until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        while !*shutdown.borrow() {
            if let Err(e) = self.sweep(false).await {
                tracing::warn!(error = %e, "voided purchases sweep failed; next interval retries");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// One sweep if due (`force`: now, unless another replica is sweeping).
    pub async fn sweep(&self, force: bool) -> anyhow::Result<SweepSummary> {
        let mut summary = SweepSummary::default();
        let Some(cursor) = leases::claim_lease(
            &self.db,
            LEASE,
            &self.owner,
            SWEEP_LEASE,
            self.config.poll_interval,
            force,
        )
        .await?
        else {
            self.metrics.voided_sweep("skipped", 0);
            return Ok(summary);
        };
        summary.ran = true;
        let result = self.pages(cursor, &mut summary).await;
        let high = match &result {
            Ok(high) => *high,
            Err(_) => cursor,
        };
        leases::release_lease(&self.db, LEASE, &self.owner, high).await?;
        self.metrics.voided_sweep(
            if result.is_ok() { "done" } else { "failed" },
            summary.listed,
        );
        result?;
        if summary.listed > 0 {
            tracing::info!(
                listed = summary.listed,
                changed = summary.changed,
                pages = summary.pages,
                "voided purchases swept"
            );
        }
        Ok(summary)
    }

    /// Reads the pages after `cursor`, applying each entry; returns the new high-water mark.
    async fn pages(
        &self,
        cursor: Option<i64>,
        summary: &mut SweepSummary,
    ) -> anyhow::Result<Option<i64>> {
        let start = cursor.filter(|c| *c > now_ms() - MAX_LOOKBACK_MS);
        let mut high = cursor;
        let mut page_token: Option<String> = None;
        while summary.pages < self.config.max_pages.get() {
            let page = self
                .play
                .list_voided_purchases(start, page_token.as_deref())
                .await?;
            summary.pages += 1;
            for v in &page.voided_purchases {
                summary.listed += 1;
                match self.apply(v).await {
                    Ok(Change::Changed | Change::Granted) => summary.changed += 1,
                    Ok(_) => {}
                    Err(e) => {
                        summary.errors += 1;
                        tracing::warn!(error = %e, "applying a voided purchase failed");
                        // Stay before this entry: the next sweep reads it again.
                        return Ok(high);
                    }
                }
                high = high.max(v.voided_time_millis);
            }
            page_token = page.token_pagination.and_then(|p| p.next_page_token);
            if page_token.is_none() {
                break;
            }
        }
        Ok(high)
    }

    /// Applies one voided purchase: a quantity below the stored quantity is a partial
    /// refund, anything else revokes.
    async fn apply(&self, v: &VoidedPurchase) -> Result<Change, crate::worker::JobError> {
        let row = purchases::find(&self.db, &v.purchase_token)
            .await
            .map_err(|e| crate::worker::JobError::Transient(format!("database: {e}")))?;
        let partial = match (&row, v.voided_quantity) {
            (Some(row), Some(q)) => i64::from(q) < row.quantity,
            _ => false,
        };
        self.lifecycle.void(&v.purchase_token, partial).await
    }
}
