//! `[voided]`: the voided purchases poller and the acknowledgement watchdog.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;

use super::types::{Positive, Secs};

/// The voided purchases poller.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct VoidedConfig {
    /// Whether this replica polls (replicas take turns through a lease either way).
    #[default(true)]
    pub enabled: bool,
    /// Time between two sweeps of `voidedpurchases.list` (`poll_interval_secs`).
    #[serde(rename = "poll_interval_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(600))]
    pub poll_interval: Duration,
    /// Most `voidedpurchases.list` calls in one sweep (Google allows 30 per 30 s).
    #[default(NonZeroU32::new(20).expect("positive"))]
    pub max_pages: NonZeroU32,
}
