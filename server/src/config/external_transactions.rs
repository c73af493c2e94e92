//! `[external_transactions]`: pacing of the reports to Google and the deadline watchdog.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;

use super::types::{Positive, Secs};
use super::ConfigError;

/// Google's limit of external transaction creates and refunds a minute.
pub const GOOGLE_WRITES_PER_MINUTE: u32 = 1200;

/// External transactions.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct ExternalTransactionsConfig {
    /// Creates and refunds a minute, all replicas together (Google allows 1,200; the default
    /// 1,188 leaves 1 % for network jitter and clock skew between replicas).
    #[default(NonZeroU32::new(1188).expect("positive"))]
    pub writes_per_minute: NonZeroU32,
    /// Age (since the payment) past which an unreported payment is logged as a warning
    /// (`warn_after_secs`).
    #[serde(rename = "warn_after_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(3600))]
    pub warn_after: Duration,
    /// How often the deadline watchdog looks (`watchdog_interval_secs`).
    #[serde(rename = "watchdog_interval_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(60))]
    pub watchdog_interval: Duration,
}

impl ExternalTransactionsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.writes_per_minute.get() <= GOOGLE_WRITES_PER_MINUTE {
            return Ok(());
        }
        Err(ConfigError::new(
            "external_transactions.writes_per_minute",
            format!("must be at most {GOOGLE_WRITES_PER_MINUTE}, Google's limit of external transaction creates and refunds a minute (ask Google for more quota first)"),
        ))
    }
}
