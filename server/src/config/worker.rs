//! `[worker]`: the background worker that runs durable jobs (acknowledgements,
//! consumption, …).

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;

use super::types::{Millis, Positive, Secs};

/// The background worker.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Whether this replica runs jobs (at least one replica should).
    pub enabled: bool,
    /// How long a claimed job is reserved for this replica (`lease_secs`).
    #[serde(rename = "lease_secs")]
    #[serde_as(as = "Positive<Secs>")]
    pub lease: Duration,
    /// How often the outbox is polled when nothing wakes the worker (`poll_interval_ms`).
    #[serde(rename = "poll_interval_ms")]
    #[serde_as(as = "Positive<Millis>")]
    pub poll_interval: Duration,
    /// Jobs claimed at once.
    pub batch_size: NonZeroU32,
    /// First retry delay ceiling of a failed job (`backoff_base_ms`).
    #[serde(rename = "backoff_base_ms")]
    #[serde_as(as = "Millis")]
    pub backoff_base: Duration,
    /// Largest retry delay of a failed job (`backoff_max_secs`).
    #[serde(rename = "backoff_max_secs")]
    #[serde_as(as = "Secs")]
    pub backoff_max: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            batch_size: NonZeroU32::new(16).expect("positive"),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}
