//! `[retry]`: retries of Google calls made while a caller waits.

use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;

use super::types::{Millis, Positive, Secs};

/// Retry policy of Google calls made while a caller waits.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Attempts per call, the first included.
    #[default(NonZeroU32::new(3).expect("positive"))]
    pub max_attempts: NonZeroU32,
    /// First backoff ceiling (`base_delay_ms`).
    #[serde(rename = "base_delay_ms")]
    #[serde_as(as = "Millis")]
    #[default(Duration::from_millis(200))]
    pub base_delay: Duration,
    /// Largest backoff ceiling (`max_delay_ms`).
    #[serde(rename = "max_delay_ms")]
    #[serde_as(as = "Millis")]
    #[default(Duration::from_secs(5))]
    pub max_delay: Duration,
    /// Timeout of one HTTP request to Google (`request_timeout_secs`).
    #[serde(rename = "request_timeout_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(8))]
    pub request_timeout: Duration,
    /// `Retry-After` sent with a 503 when Google is unavailable (`retry_after_secs`).
    #[serde(rename = "retry_after_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(5))]
    pub retry_after: Duration,
}
