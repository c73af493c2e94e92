//! `[quota]`: the pacing budgets of Google's quota buckets (see `docs/quota.md`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;

use super::types::{Millis, Positive, Secs};

/// Google's default quota of each per-minute bucket of the Play Developer API.
pub const GOOGLE_DEFAULT_PER_MINUTE: u32 = 3000;

/// Calls a minute allowed in each of Google's quota buckets, all replicas together (0: not
/// paced, e.g. against an emulator with its quotas off), and how verifications and
/// acknowledgements share them.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// One-time purchases (`purchases.products.*`, `purchases.productsv2.*`) a minute.
    #[default(GOOGLE_DEFAULT_PER_MINUTE)]
    pub one_time_purchases_per_minute: u32,
    /// Subscriptions (`purchases.subscriptionsv2.get`, `purchases.subscriptions.acknowledge`)
    /// a minute.
    #[default(GOOGLE_DEFAULT_PER_MINUTE)]
    pub subscriptions_per_minute: u32,
    /// Subscription updates (cancel, defer, revoke) a minute.
    #[default(GOOGLE_DEFAULT_PER_MINUTE)]
    pub subscription_updates_per_minute: u32,
    /// Orders (`orders.*`) a minute.
    #[default(GOOGLE_DEFAULT_PER_MINUTE)]
    pub orders_per_minute: u32,
    /// External transactions (`externaltransactions.*`) a minute; creates and refunds are
    /// also paced by `external_transactions.writes_per_minute`.
    #[default(GOOGLE_DEFAULT_PER_MINUTE)]
    pub external_transactions_per_minute: u32,
    /// Publishing and monetization (`inappproducts.*`, `monetization.*`) a minute.
    #[default(GOOGLE_DEFAULT_PER_MINUTE)]
    pub monetization_per_minute: u32,
    /// `purchases.voidedpurchases.list` per 30 seconds (Google allows 30).
    #[default(30)]
    pub voided_purchases_per_30s: u32,
    /// How long a buyer's verification may wait for a slot before it answers `503` with a
    /// `Retry-After` (`verification_max_wait_ms`); lower priorities queue less (see
    /// `docs/quota.md`).
    #[serde(rename = "verification_max_wait_ms")]
    #[serde_as(as = "Positive<Millis>")]
    #[default(Duration::from_secs(2))]
    pub verification_max_wait: Duration,
    /// Acknowledgements take priority over verifications once the backlog, drained at the
    /// bucket's full rate, would end less than this before the oldest purchase's 3-day
    /// deadline (`deadline_margin_secs`).
    #[serde(rename = "deadline_margin_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(24 * 3600))]
    pub deadline_margin: Duration,
}
