//! `[worker]`: the background worker of durable jobs (acknowledgements, consumption, …).

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;

use super::types::{Millis, Positive, Secs};

/// The background worker.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Whether this replica runs jobs (at least one replica should).
    #[default(true)]
    pub enabled: bool,
    /// How long a claimed job is reserved for this replica (`lease_secs`).
    #[serde(rename = "lease_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(60))]
    pub lease: Duration,
    /// How often the outbox is polled when nothing wakes the worker (`poll_interval_ms`).
    #[serde(rename = "poll_interval_ms")]
    #[serde_as(as = "Positive<Millis>")]
    #[default(Duration::from_secs(5))]
    pub poll_interval: Duration,
    /// Jobs claimed at once.
    #[default(NonZeroU32::new(16).expect("positive"))]
    pub batch_size: NonZeroU32,
    /// First retry delay ceiling of a failed job (`backoff_base_ms`).
    #[serde(rename = "backoff_base_ms")]
    #[serde_as(as = "Millis")]
    #[default(Duration::from_secs(1))]
    pub backoff_base: Duration,
    /// Largest retry delay of a failed job (`backoff_max_secs`).
    #[serde(rename = "backoff_max_secs")]
    #[serde_as(as = "Secs")]
    #[default(Duration::from_secs(300))]
    pub backoff_max: Duration,
}
