//! Quotas: fixed windows on the virtual clock, one per bucket.
//!
//! Windows are aligned on the virtual clock (`floor(now / window)`), so a test can open a
//! fresh window with `clock:advance`. A refused call consumes nothing. Per-minute and
//! per-30-second buckets answer `429 rateLimitExceeded`; hourly buckets `403 quotaExceeded`;
//! daily buckets `403 dailyLimitExceeded` (all in domain `usageLimits`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Quotas;
use crate::error::GoogleError;

/// A quota bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    /// One-time purchases, per minute.
    Purchases,
    /// Subscription purchases, per minute.
    Subscriptions,
    /// External transactions (all methods), per minute.
    ExternalTransactions,
    /// Catalog reads and writes (`inappproducts`, `monetization`), per minute.
    Monetization,
    /// Catalog modifications, per hour (a batch counts once).
    CatalogModifications,
    /// Latency-sensitive catalog changes, per hour (each entry counts).
    LatencySensitiveChanges,
    /// External transaction create + refund, per minute.
    ExternalTransactionWrites,
    /// Voided purchases, per 30 seconds.
    VoidedPurchases30s,
    /// Voided purchases, per day.
    VoidedPurchasesDaily,
    /// Every call, per day.
    Daily,
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

impl Bucket {
    /// The configured limit (0: unlimited).
    pub fn limit(self, q: &Quotas) -> u64 {
        match self {
            Bucket::Purchases => q.purchases_per_minute,
            Bucket::Subscriptions => q.subscriptions_per_minute,
            Bucket::ExternalTransactions => q.external_transactions_per_minute,
            Bucket::Monetization => q.monetization_per_minute,
            Bucket::CatalogModifications => q.catalog_modifications_per_hour,
            Bucket::LatencySensitiveChanges => q.latency_sensitive_changes_per_hour,
            Bucket::ExternalTransactionWrites => q.external_transaction_writes_per_minute,
            Bucket::VoidedPurchases30s => q.voided_purchases_per_30s,
            Bucket::VoidedPurchasesDaily => q.voided_purchases_per_day,
            Bucket::Daily => q.queries_per_day,
        }
    }

    /// The window length in ms.
    pub fn window_ms(self) -> i64 {
        match self {
            Bucket::CatalogModifications | Bucket::LatencySensitiveChanges => HOUR,
            Bucket::VoidedPurchases30s => 30_000,
            Bucket::VoidedPurchasesDaily | Bucket::Daily => DAY,
            _ => MINUTE,
        }
    }

    fn error(self) -> GoogleError {
        let what = match self {
            Bucket::Purchases => "purchases requests per minute",
            Bucket::Subscriptions => "subscriptions requests per minute",
            Bucket::ExternalTransactions => "external transactions requests per minute",
            Bucket::Monetization => "monetization requests per minute",
            Bucket::CatalogModifications => "product modifications per hour",
            Bucket::LatencySensitiveChanges => "latency-sensitive product changes per hour",
            Bucket::ExternalTransactionWrites => {
                "external transaction create and refund requests per minute"
            }
            Bucket::VoidedPurchases30s => "voided purchases requests per 30 seconds",
            Bucket::VoidedPurchasesDaily => "voided purchases requests per day",
            Bucket::Daily => "queries per day",
        };
        match self.window_ms() {
            HOUR => GoogleError::new(403, "usageLimits", "quotaExceeded", format!("Quota exceeded for quota metric '{what}'.")),
            DAY => GoogleError::new(
                403,
                "usageLimits",
                "dailyLimitExceeded",
                format!("Daily Limit Exceeded: quota '{what}'. The quota will be reset at midnight Pacific Time."),
            ),
            _ => GoogleError::new(429, "usageLimits", "rateLimitExceeded", format!("Rate Limit Exceeded: quota '{what}'.")),
        }
    }
}

/// Usage per bucket: (window start, used).
#[derive(Debug, Default, Clone)]
pub struct QuotaWindows(BTreeMap<Bucket, (i64, u64)>);

impl QuotaWindows {
    /// Charges `cost` to each bucket, all or nothing. Errors with the first bucket that would
    /// go over its limit.
    pub fn charge(
        &mut self,
        quotas: &Quotas,
        now_ms: i64,
        charges: &[(Bucket, u64)],
    ) -> Result<(), GoogleError> {
        for &(bucket, cost) in charges {
            let limit = bucket.limit(quotas);
            if limit == 0 || cost == 0 {
                continue;
            }
            if self.used(bucket, now_ms) + cost > limit {
                return Err(bucket.error());
            }
        }
        for &(bucket, cost) in charges {
            let start = now_ms.div_euclid(bucket.window_ms()) * bucket.window_ms();
            let slot = self.0.entry(bucket).or_insert((start, 0));
            if slot.0 != start {
                *slot = (start, 0);
            }
            slot.1 += cost;
        }
        Ok(())
    }

    /// Used in the current window.
    pub fn used(&self, bucket: Bucket, now_ms: i64) -> u64 {
        let start = now_ms.div_euclid(bucket.window_ms()) * bucket.window_ms();
        match self.0.get(&bucket) {
            Some((s, used)) if *s == start => *used,
            _ => 0,
        }
    }
}
