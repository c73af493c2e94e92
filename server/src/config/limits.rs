//! `[limits]`: request limits.

use std::num::NonZeroUsize;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;

use super::types::{Millis, Positive, Secs};

/// Request limits.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest accepted request body (413 above).
    #[default(NonZeroUsize::new(64 * 1024).expect("positive"))]
    pub max_body_bytes: NonZeroUsize,
    /// Per-request timeout (`request_timeout_secs`).
    #[serde(rename = "request_timeout_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(30))]
    pub request_timeout: Duration,
    /// Longest accepted purchase token.
    #[default(NonZeroUsize::new(2048).expect("positive"))]
    pub max_token_len: NonZeroUsize,
    /// Longest accepted item id.
    #[default(NonZeroUsize::new(256).expect("positive"))]
    pub max_item_id_len: NonZeroUsize,
    /// Most purchases in one sync request.
    #[default(NonZeroUsize::new(100).expect("positive"))]
    pub max_sync_purchases: NonZeroUsize,
    /// How long a pending purchase's last check with Google stands before a verification
    /// asks Google again (`pending_recheck_ms`).
    #[serde(rename = "pending_recheck_ms")]
    #[serde_as(as = "Millis")]
    #[default(Duration::from_secs(1))]
    pub pending_recheck: Duration,
    /// How long a connection may take to send a complete request head (also when idle
    /// between keep-alive requests) before it is closed (`header_read_timeout_secs`).
    #[serde(rename = "header_read_timeout_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(10))]
    pub header_read_timeout: Duration,
    /// How long a purchase read from Google for a token not stored yet (Play's notification
    /// came first) serves the verification that follows (`fetch_reuse_ms`).
    #[serde(rename = "fetch_reuse_ms")]
    #[serde_as(as = "Millis")]
    #[default(Duration::from_secs(60))]
    pub fetch_reuse: Duration,
}
