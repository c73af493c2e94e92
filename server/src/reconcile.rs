//! `pwa-billing reconcile`: the voided purchases sweep, then one re-check with Google of
//! every stored purchase that should have changed by now (live subscriptions past their
//! expiry or not checked for a day, pending purchases); then a summary.

use std::fmt;
use std::time::Duration;

use crate::db::{now_ms, purchases};
use crate::lifecycle::Change;
use crate::state::AppState;
use crate::voided::SweepSummary;

/// A live subscription not checked with Google for this long is re-checked.
pub const STALE_AFTER: Duration = Duration::from_secs(24 * 3600);

/// What a reconciliation did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The voided purchases sweep.
    pub voided: SweepSummary,
    /// Purchases re-checked with Google.
    pub checked: u64,
    /// Of those, changed.
    pub changed: u64,
    /// Of those, not checkable now (Google unavailable, token gone); named in the log.
    pub errors: u64,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.voided;
        if v.ran {
            write!(
                f,
                "voided purchases: {} listed in {} call(s), {} entitlement(s) revoked or reduced, {} error(s); ",
                v.listed, v.pages, v.changed, v.errors
            )?;
        } else {
            write!(
                f,
                "voided purchases: skipped (another replica is sweeping); "
            )?;
        }
        write!(
            f,
            "re-checked: {} purchase(s), {} changed, {} error(s)",
            self.checked, self.changed, self.errors
        )
    }
}

/// Runs one reconciliation.
pub async fn run(state: &AppState) -> anyhow::Result<Summary> {
    let mut summary = Summary {
        voided: state.voided_poller().sweep(true).await?,
        ..Summary::default()
    };
    let due = purchases::due_for_recheck(&state.db, now_ms(), STALE_AFTER).await?;
    for row in due {
        summary.checked += 1;
        match state.lifecycle.recheck(&row).await {
            Ok(Change::Changed | Change::Granted) => summary.changed += 1,
            Ok(_) => {}
            Err(e) => {
                summary.errors += 1;
                tracing::warn!(item = %row.item_id, entitlement = %row.id, error = %e, "re-check failed");
            }
        }
    }
    Ok(summary)
}
