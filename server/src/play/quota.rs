//! Google's quota, paced here: one budget per quota bucket of the Play Developer API, shared
//! by every replica through the database, in front of every call the server makes.
//!
//! Google counts calls per bucket (one-time purchases, subscriptions, subscription updates,
//! orders, external transactions, publishing and monetization: 3,000 a minute each by
//! default; voided purchases: 30 per 30 seconds). Each bucket is a GCRA [`Limiter`] over one
//! `rate_limits` row: one atomic `UPDATE … RETURNING` books the next slot, slots are
//! `interval` apart, so that every replica together starts at most the configured number of
//! calls in any window.
//!
//! Inside a bucket, callers have [`Priority`]: a slot may be booked only up to a *lead*
//! ahead of now, and the lead shrinks with the priority — a buyer's verification may queue
//! `verification_max_wait`, a notification's re-fetch ¾ of it, an acknowledgement or
//! consumption ½, voided sweeps, reconcile and the catalog ¼ (never less than one interval
//! of the bucket). In a burst the verifications
//! keep the queue longer than the lower priorities may book, so those wait (their jobs are
//! deferred) and every slot goes to a buyer; once the burst is over the queue empties and
//! the acknowledgements use the quota left over. A verification that cannot book a slot
//! within its lead is refused at once ([`PlayError::Throttled`]: `503` with a `Retry-After`
//! from the bucket's refill) without calling Google.
//!
//! Deadline safety: acknowledgements must reach Google within 3 days of the purchase. When
//! the unacknowledged backlog of a bucket, drained at the bucket's full rate, would end less
//! than `deadline_margin` before its oldest deadline, acknowledgements take the verification's
//! place at the head of the bucket (`pwa_billing_quota_deadline_priority` = 1, and a warning
//! in the log) until the backlog fits again.
//!
//! A Google `429` (or `403 rateLimitExceeded`) is not retried into the same exhausted
//! window: the bucket is held for Google's `Retry-After` (or `retry.retry_after_secs`) for
//! every replica.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use play_model::methods::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use super::PlayError;
use crate::config::quota::QuotaConfig;
use crate::db::{now_ms, rate_limits, Db};
use crate::metrics::Metrics;

/// Slots a caller that reached the database a few milliseconds late may catch up (the GCRA
/// tolerance); the interval is shortened so that these never add to a window's calls.
pub const TOLERANCE_SLOTS: i64 = 2;

/// Refused buyers are told to come back at most this many per slot of the bucket (each
/// replica): enough to keep every slot taken, few enough that retries do not multiply
/// with the crowd.
pub const RETURNS_PER_SLOT: i64 = 4;

/// How often the acknowledgement backlog is compared with its deadline.
pub const DEADLINE_CHECK_EVERY: Duration = Duration::from_secs(5);

/// Google's deadline to acknowledge a purchase.
pub const ACK_DEADLINE: Duration = Duration::from_secs(3 * 24 * 3600);

/// A quota bucket of the Play Developer API (developers.google.com/android-publisher/quotas).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// `purchases.products.*`, `purchases.productsv2.*`.
    OneTimePurchases,
    /// `purchases.subscriptionsv2.get`, `purchases.subscriptions.get` and `.acknowledge`.
    Subscriptions,
    /// Subscription cancel, defer, refund and revoke.
    SubscriptionUpdates,
    /// `orders.*`.
    Orders,
    /// `externaltransactions.*`.
    ExternalTransactions,
    /// Publishing and monetization: `inappproducts.*`, `monetization.*` and the rest.
    Monetization,
    /// `purchases.voidedpurchases.list` (its own quota, per 30 seconds).
    VoidedPurchases,
    /// External transaction creates and refunds together (Google's 1,200 a minute, on top of
    /// the external transactions bucket; `external_transactions.writes_per_minute`).
    ExternalTransactionWrites,
}

impl Bucket {
    /// Every bucket.
    pub const ALL: [Bucket; 8] = [
        Bucket::OneTimePurchases,
        Bucket::Subscriptions,
        Bucket::SubscriptionUpdates,
        Bucket::Orders,
        Bucket::ExternalTransactions,
        Bucket::Monetization,
        Bucket::VoidedPurchases,
        Bucket::ExternalTransactionWrites,
    ];

    /// The name in metrics and logs.
    pub const fn name(self) -> &'static str {
        match self {
            Bucket::OneTimePurchases => "one_time_purchases",
            Bucket::Subscriptions => "subscriptions",
            Bucket::SubscriptionUpdates => "subscription_updates",
            Bucket::Orders => "orders",
            Bucket::ExternalTransactions => "external_transactions",
            Bucket::Monetization => "monetization",
            Bucket::VoidedPurchases => "voided_purchases",
            Bucket::ExternalTransactionWrites => "external_transaction_writes",
        }
    }

    /// Its `rate_limits` row.
    pub const fn row(self) -> &'static str {
        match self {
            Bucket::OneTimePurchases => "quota:one_time_purchases",
            Bucket::Subscriptions => "quota:subscriptions",
            Bucket::SubscriptionUpdates => "quota:subscription_updates",
            Bucket::Orders => "quota:orders",
            Bucket::ExternalTransactions => "quota:external_transactions",
            Bucket::Monetization => "quota:monetization",
            Bucket::VoidedPurchases => "quota:voided_purchases",
            Bucket::ExternalTransactionWrites => "external_transaction_writes",
        }
    }

    /// The window Google counts the bucket's calls in.
    pub const fn window(self) -> Duration {
        match self {
            Bucket::VoidedPurchases => Duration::from_secs(30),
            _ => Duration::from_secs(60),
        }
    }

    /// The bucket a method of the method table is counted in.
    pub fn of(method: &Method) -> Bucket {
        let mut parts = method.id.split('.').skip(1);
        let (resource, sub) = (parts.next(), parts.next());
        let verb = method.id.rsplit('.').next().unwrap_or_default();
        match (resource, sub) {
            (Some("purchases"), Some("products" | "productsv2")) => Bucket::OneTimePurchases,
            (Some("purchases"), Some("subscriptions" | "subscriptionsv2")) => match verb {
                "get" | "acknowledge" => Bucket::Subscriptions,
                _ => Bucket::SubscriptionUpdates,
            },
            (Some("purchases"), Some("voidedpurchases")) => Bucket::VoidedPurchases,
            (Some("orders"), _) => Bucket::Orders,
            (Some("externaltransactions"), _) => Bucket::ExternalTransactions,
            _ => Bucket::Monetization,
        }
    }

    /// The configured calls per window (0: not paced).
    fn limit(self, config: &QuotaConfig, external_writes_per_minute: u32) -> u32 {
        match self {
            Bucket::OneTimePurchases => config.one_time_purchases_per_minute,
            Bucket::Subscriptions => config.subscriptions_per_minute,
            Bucket::SubscriptionUpdates => config.subscription_updates_per_minute,
            Bucket::Orders => config.orders_per_minute,
            Bucket::ExternalTransactions => config.external_transactions_per_minute,
            Bucket::Monetization => config.monetization_per_minute,
            Bucket::VoidedPurchases => config.voided_purchases_per_30s,
            Bucket::ExternalTransactionWrites => external_writes_per_minute,
        }
    }
}

/// Who is calling: decides how far ahead a caller may book a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Priority {
    /// A buyer waiting for the verification of a purchase.
    Verification,
    /// The re-fetch of a purchase Play notified about.
    Notification,
    /// An acknowledgement or consumption (3 days to do it).
    Settle,
    /// Voided purchase sweeps, reconcile, the catalog, reports.
    Background,
}

impl Priority {
    /// The name in metrics.
    pub const fn name(self) -> &'static str {
        match self {
            Priority::Verification => "verification",
            Priority::Notification => "notification",
            Priority::Settle => "settle",
            Priority::Background => "background",
        }
    }

    /// Rank 0 (first) to 3: the rank's lead is `(4 − rank)/4` of the verification's wait.
    /// Under deadline pressure acknowledgements go first, verifications second.
    fn rank(self, deadline_pressure: bool) -> u32 {
        match (self, deadline_pressure) {
            (Priority::Verification, false) | (Priority::Settle, true) => 0,
            (Priority::Notification, false) | (Priority::Verification, true) => 1,
            (Priority::Settle, false) | (Priority::Notification, true) => 2,
            (Priority::Background, _) => 3,
        }
    }

    /// How far ahead of now this caller may book a slot when verifications may wait `wait`.
    pub fn lead(self, wait: Duration, deadline_pressure: bool) -> Duration {
        wait * (4 - self.rank(deadline_pressure)) / 4
    }
}

/// What a bounded reservation came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// Booked: the call may start after this wait.
    Granted(Duration),
    /// Not booked: the next free slot is this far beyond the caller's lead.
    Refused(Duration),
}

/// A GCRA limiter over one `rate_limits` row, shared by every replica: at most `limit` calls
/// start in any window of its length (the tolerance included, by a slightly shorter
/// interval). A slot reserved by a replica that then crashes is simply lost.
#[derive(Debug, Clone)]
pub struct Limiter {
    db: Db,
    name: &'static str,
    step_us: i64,
    tolerance_us: i64,
}

impl Limiter {
    /// `per_minute` calls a minute, evenly spaced, shared through `db` in row `name`.
    pub fn new(db: Db, name: &'static str, per_minute: u32) -> Self {
        Self::per_window(db, name, per_minute, Duration::from_secs(60))
    }

    /// `limit` calls per `window`.
    pub fn per_window(db: Db, name: &'static str, limit: u32, window: Duration) -> Self {
        let limit = i64::from(limit.max(1));
        // Small limits get no tolerance: two slots would be a large share of them.
        let tolerance = TOLERANCE_SLOTS.min(limit / 10);
        let window_us = window.as_micros() as i64;
        let step_us = (window_us + limit - tolerance - 1) / (limit - tolerance);
        Self {
            db,
            name,
            step_us,
            tolerance_us: tolerance * step_us,
        }
    }

    /// The spacing between two calls.
    pub fn interval(&self) -> Duration {
        Duration::from_micros(self.step_us as u64)
    }

    /// Reserves the next slot however far ahead; returns how long to wait for it.
    pub async fn reserve(&self) -> Result<Duration, sqlx::Error> {
        let now_us = now_ms() * 1000;
        let tat = rate_limits::reserve(
            &self.db,
            self.name,
            now_us - self.tolerance_us,
            self.step_us,
        )
        .await?;
        Ok(Duration::from_micros(
            (tat - self.step_us - now_us).max(0) as u64
        ))
    }

    /// Reserves the next slot if it starts within `lead` of now. A caller refused is
    /// refused by a read (no write: a burst of refusals does not queue for the database's
    /// write lock); the reservation itself re-checks in its one atomic statement.
    pub async fn reserve_within(&self, lead: Duration) -> Result<Slot, sqlx::Error> {
        let now_us = now_ms() * 1000;
        let earliest = now_us - self.tolerance_us;
        let latest = now_us + lead.as_micros() as i64;
        let refused = |tat: i64| Slot::Refused(Duration::from_micros((tat - latest).max(0) as u64));
        let tat = rate_limits::tat(&self.db, self.name)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        if tat > latest {
            return Ok(refused(tat));
        }
        match rate_limits::reserve_before(&self.db, self.name, earliest, self.step_us, latest)
            .await?
        {
            Some(tat) => Ok(Slot::Granted(Duration::from_micros(
                (tat - self.step_us - now_us).max(0) as u64,
            ))),
            None => Ok(refused(
                rate_limits::tat(&self.db, self.name)
                    .await?
                    .ok_or(sqlx::Error::RowNotFound)?,
            )),
        }
    }

    /// Waits for the next slot.
    pub async fn acquire(&self) -> Result<(), sqlx::Error> {
        let wait = self.reserve().await?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }

    /// How far ahead of now the next free slot is (zero when the bucket is idle).
    pub async fn queue(&self) -> Result<Duration, sqlx::Error> {
        // The TAT is where the next free slot starts.
        let tat = rate_limits::tat(&self.db, self.name).await?.unwrap_or(0);
        Ok(Duration::from_micros((tat - now_ms() * 1000).max(0) as u64))
    }

    /// Starts no call for `pause` from now, in every replica.
    pub async fn hold(&self, pause: Duration) -> Result<(), sqlx::Error> {
        let until = now_ms() * 1000 + pause.as_micros() as i64;
        rate_limits::hold_until(&self.db, self.name, until).await
    }
}

/// The unacknowledged grants of one bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Grants Google does not have acknowledged (or consumed) yet.
    pub pending: i64,
    /// The oldest one's deadline (ms since the epoch): its purchase time + 3 days.
    pub oldest_deadline_ms: i64,
}

impl Backlog {
    /// Whether acknowledgements must go first: the backlog, at one call every `interval`,
    /// would end less than `margin` before the oldest deadline (`now_ms`).
    pub fn needs_priority(&self, interval: Duration, margin: Duration, now_ms: i64) -> bool {
        self.pending > 0
            && now_ms + self.drain_ms(interval) + margin.as_millis() as i64
                >= self.oldest_deadline_ms
    }

    /// How long draining it takes at one call every `interval` (ms).
    pub fn drain_ms(&self, interval: Duration) -> i64 {
        (interval.as_micros() as i64).saturating_mul(self.pending) / 1000
    }
}

/// Every bucket's budget, priorities and deadline state; cheap to clone.
#[derive(Debug, Clone)]
pub struct Quota(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    db: Db,
    limiters: Vec<(Bucket, Limiter)>,
    wait: Duration,
    margin: Duration,
    google_pause: Duration,
    pressure: [AtomicBool; Bucket::ALL.len()],
    /// Per bucket, the latest return time handed to a refused verification (µs).
    returns: [AtomicI64; Bucket::ALL.len()],
    checked_at_ms: AtomicI64,
    checking: AtomicBool,
    metrics: Metrics,
}

impl Quota {
    /// The budgets of `config` (and of external transaction writes), shared through `db`; a
    /// Google 429 without `Retry-After` holds its bucket for `google_pause`.
    pub fn new(
        db: Db,
        config: &QuotaConfig,
        external_writes_per_minute: u32,
        google_pause: Duration,
        metrics: Metrics,
    ) -> Self {
        let limiters = Bucket::ALL
            .into_iter()
            .filter_map(|b| {
                let limit = b.limit(config, external_writes_per_minute);
                (limit > 0).then(|| {
                    (
                        b,
                        Limiter::per_window(db.clone(), b.row(), limit, b.window()),
                    )
                })
            })
            .collect();
        Self(Arc::new(Inner {
            db,
            limiters,
            wait: config.verification_max_wait,
            margin: config.deadline_margin,
            google_pause,
            pressure: Default::default(),
            returns: Default::default(),
            checked_at_ms: AtomicI64::new(i64::MIN),
            checking: AtomicBool::new(false),
            metrics,
        }))
    }

    /// The limiter of `bucket`, if it is paced.
    pub fn limiter(&self, bucket: Bucket) -> Option<&Limiter> {
        self.0
            .limiters
            .iter()
            .find_map(|(b, l)| (*b == bucket).then_some(l))
    }

    /// Whether acknowledgements of `bucket` go first (as last checked).
    pub fn deadline_pressure(&self, bucket: Bucket) -> bool {
        self.0.pressure[bucket as usize].load(Ordering::Relaxed)
    }

    /// Books a slot of `bucket` for `priority` and waits for it; refused when the bucket's
    /// queue is longer than the priority's lead: [`PlayError::Throttled`] with the time after
    /// which trying again is worth it (when the queue has drained to half the verification's
    /// wait).
    pub async fn acquire(&self, bucket: Bucket, priority: Priority) -> Result<(), PlayError> {
        let Some(limiter) = self.limiter(bucket) else {
            return Ok(());
        };
        self.check_deadlines_soon();
        // Whatever the priority, a caller may wait for the next slot of a quiet bucket (a
        // bucket of 30 per 30 s has one a second).
        let lead = priority
            .lead(self.0.wait, self.deadline_pressure(bucket))
            .max(limiter.interval());
        let metrics = self.0.metrics.quota();
        match limiter.reserve_within(lead).await.map_err(database)? {
            Slot::Granted(wait) => {
                metrics.used(bucket, priority);
                if !wait.is_zero() {
                    tokio::time::sleep(wait).await;
                }
                Ok(())
            }
            Slot::Refused(beyond) => {
                metrics.refused(bucket, priority);
                // Worth trying again once the queue has drained to half the verification's
                // wait; buyers are also spread out, [`RETURNS_PER_SLOT`] a slot, so that a
                // crowd refused together does not come back together.
                let drained = beyond + self.0.wait / 2;
                let retry_after = match priority {
                    Priority::Verification => self.return_time(bucket, limiter, drained),
                    _ => drained,
                };
                Err(PlayError::Throttled {
                    bucket: bucket.name(),
                    retry_after,
                })
            }
        }
    }

    /// The next return time of `bucket`'s refused buyers, at least `at_least` from now:
    /// successive ones are an interval / [`RETURNS_PER_SLOT`] apart.
    fn return_time(&self, bucket: Bucket, limiter: &Limiter, at_least: Duration) -> Duration {
        let now = now_ms() * 1000;
        let earliest = now + at_least.as_micros() as i64;
        let spacing = limiter.step_us / RETURNS_PER_SLOT;
        let slot = &self.0.returns[bucket as usize];
        let previous = slot
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.max(earliest - spacing) + spacing)
            })
            .unwrap_or_else(|t| t);
        let at = previous.max(earliest - spacing) + spacing;
        Duration::from_micros((at - now).max(0) as u64)
    }

    /// Google answered `bucket`'s call with a rate limit: holds the bucket for Google's
    /// `retry_after` (or the configured pause) in every replica; returns the pause.
    pub async fn google_throttled(
        &self,
        bucket: Bucket,
        retry_after: Option<Duration>,
    ) -> Result<Duration, PlayError> {
        self.0.metrics.quota().google_throttled(bucket);
        let pause = retry_after.unwrap_or(self.0.google_pause);
        if let Some(limiter) = self.limiter(bucket) {
            limiter.hold(pause).await.map_err(database)?;
        }
        tracing::warn!(
            bucket = bucket.name(),
            ?pause,
            "Google's quota bucket is spent: holding it"
        );
        Ok(pause)
    }

    /// Starts a deadline check in the background when the last one is older than
    /// [`DEADLINE_CHECK_EVERY`] (one at a time).
    fn check_deadlines_soon(&self) {
        let now = now_ms();
        let last = self.0.checked_at_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) < DEADLINE_CHECK_EVERY.as_millis() as i64
            || self.0.checking.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            if let Err(e) = this.check_deadlines().await {
                tracing::warn!(error = %e, "checking the acknowledgement backlog failed");
            }
            this.0.checking.store(false, Ordering::Release);
        });
    }

    /// Compares each bucket's acknowledgement backlog with its oldest deadline now: sets
    /// which buckets' acknowledgements go first, the metrics, and logs each change.
    pub async fn check_deadlines(&self) -> Result<(), sqlx::Error> {
        let now = now_ms();
        self.0.checked_at_ms.store(now, Ordering::Relaxed);
        let backlogs = crate::watchdog::ack_backlog(&self.0.db).await?;
        for bucket in [Bucket::OneTimePurchases, Bucket::Subscriptions] {
            let backlog = backlogs
                .iter()
                .find_map(|(b, l)| (*b == bucket).then_some(*l))
                .unwrap_or(Backlog {
                    pending: 0,
                    oldest_deadline_ms: now + ACK_DEADLINE.as_millis() as i64,
                });
            let interval = self.limiter(bucket).map(Limiter::interval);
            let pressure = interval.is_some_and(|i| backlog.needs_priority(i, self.0.margin, now));
            let drain = interval.map_or(0, |i| backlog.drain_ms(i));
            self.0
                .metrics
                .quota()
                .backlog(bucket, &backlog, drain, pressure, now);
            let before = self.0.pressure[bucket as usize].swap(pressure, Ordering::AcqRel);
            if pressure && !before {
                tracing::warn!(
                    bucket = bucket.name(),
                    pending = backlog.pending,
                    drain_secs = drain / 1000,
                    deadline_in_secs = (backlog.oldest_deadline_ms - now) / 1000,
                    "acknowledgement backlog threatens Play's 3-day deadline: acknowledgements now go before verifications"
                );
            } else if before && !pressure {
                tracing::info!(bucket = bucket.name(), pending = backlog.pending, "acknowledgement backlog fits before its deadline again: verifications go first");
            }
        }
        Ok(())
    }
}

fn database(e: sqlx::Error) -> PlayError {
    PlayError::Transport(format!("quota limiter: database: {e}"))
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UseLabels {
    bucket: &'static str,
    priority: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BucketLabels {
    bucket: &'static str,
}

/// The quota metrics (`pwa_billing_quota_*`, `pwa_billing_ack_backlog*`).
#[derive(Debug, Default)]
pub struct QuotaMetrics {
    used: Family<UseLabels, Counter>,
    refused: Family<UseLabels, Counter>,
    google_throttled: Family<BucketLabels, Counter>,
    deadline_priority: Family<BucketLabels, Gauge>,
    backlog: Family<BucketLabels, Gauge>,
    backlog_drain_seconds: Family<BucketLabels, Gauge>,
    deadline_seconds: Family<BucketLabels, Gauge>,
}

impl QuotaMetrics {
    /// Registers every quota metric in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "quota_slots_used",
            "Slots of Google's quota buckets booked, by bucket and priority",
            m.used.clone(),
        );
        registry.register(
            "quota_refused",
            "Google calls refused here (no slot within the priority's lead), by bucket and priority",
            m.refused.clone(),
        );
        registry.register(
            "quota_google_throttled",
            "Google's own rate-limit answers (429, 403 rateLimitExceeded), by bucket",
            m.google_throttled.clone(),
        );
        registry.register(
            "quota_deadline_priority",
            "1 while a bucket's acknowledgements go before verifications because the backlog threatens the 3-day deadline (alert on it)",
            m.deadline_priority.clone(),
        );
        registry.register(
            "ack_backlog",
            "Grants not acknowledged (or consumed) on Google Play yet, by bucket",
            m.backlog.clone(),
        );
        registry.register(
            "ack_backlog_drain_seconds",
            "Time to acknowledge the backlog at the bucket's full rate",
            m.backlog_drain_seconds.clone(),
        );
        registry.register(
            "ack_deadline_seconds",
            "Time left before the oldest unacknowledged grant's 3-day deadline",
            m.deadline_seconds.clone(),
        );
        m
    }

    fn used(&self, bucket: Bucket, priority: Priority) {
        self.used.get_or_create(&labels(bucket, priority)).inc();
    }

    fn refused(&self, bucket: Bucket, priority: Priority) {
        self.refused.get_or_create(&labels(bucket, priority)).inc();
    }

    fn google_throttled(&self, bucket: Bucket) {
        self.google_throttled
            .get_or_create(&BucketLabels {
                bucket: bucket.name(),
            })
            .inc();
    }

    fn backlog(&self, bucket: Bucket, backlog: &Backlog, drain_ms: i64, pressure: bool, now: i64) {
        let l = BucketLabels {
            bucket: bucket.name(),
        };
        self.deadline_priority
            .get_or_create(&l)
            .set(i64::from(pressure));
        self.backlog.get_or_create(&l).set(backlog.pending);
        self.backlog_drain_seconds
            .get_or_create(&l)
            .set(drain_ms / 1000);
        self.deadline_seconds
            .get_or_create(&l)
            .set((backlog.oldest_deadline_ms - now) / 1000);
    }
}

fn labels(bucket: Bucket, priority: Priority) -> UseLabels {
    UseLabels {
        bucket: bucket.name(),
        priority: priority.name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use play_model::methods::{self, ROUTES};

    #[test]
    fn every_method_has_its_googles_bucket() {
        let b = |m: &Method| Bucket::of(m);
        assert_eq!(
            b(&methods::PURCHASES_PRODUCTS_GET),
            Bucket::OneTimePurchases
        );
        assert_eq!(
            b(&methods::PURCHASES_PRODUCTS_ACKNOWLEDGE),
            Bucket::OneTimePurchases
        );
        assert_eq!(
            b(&methods::PURCHASES_PRODUCTS_CONSUME),
            Bucket::OneTimePurchases
        );
        assert_eq!(
            b(&methods::PURCHASES_PRODUCTSV2_GETPRODUCTPURCHASEV2),
            Bucket::OneTimePurchases
        );
        assert_eq!(
            b(&methods::PURCHASES_SUBSCRIPTIONSV2_GET),
            Bucket::Subscriptions
        );
        assert_eq!(
            b(&methods::PURCHASES_SUBSCRIPTIONS_ACKNOWLEDGE),
            Bucket::Subscriptions
        );
        for m in [
            methods::PURCHASES_SUBSCRIPTIONSV2_CANCEL,
            methods::PURCHASES_SUBSCRIPTIONSV2_DEFER,
            methods::PURCHASES_SUBSCRIPTIONSV2_REVOKE,
        ] {
            assert_eq!(b(&m), Bucket::SubscriptionUpdates, "{}", m.id);
        }
        assert_eq!(b(&methods::ORDERS_GET), Bucket::Orders);
        assert_eq!(b(&methods::ORDERS_BATCHGET), Bucket::Orders);
        assert_eq!(b(&methods::ORDERS_REFUND), Bucket::Orders);
        assert_eq!(
            b(&methods::PURCHASES_VOIDEDPURCHASES_LIST),
            Bucket::VoidedPurchases
        );
        assert_eq!(
            b(&methods::EXTERNALTRANSACTIONS_CREATEEXTERNALTRANSACTION),
            Bucket::ExternalTransactions
        );
        assert_eq!(b(&methods::INAPPPRODUCTS_BATCHUPDATE), Bucket::Monetization);
        assert_eq!(
            b(&methods::MONETIZATION_SUBSCRIPTIONS_LIST),
            Bucket::Monetization
        );
        // No method lands in the writes bucket: the external transaction worker books it.
        assert!(ROUTES
            .iter()
            .all(|m| b(m) != Bucket::ExternalTransactionWrites));
        // Every purchase method is in a purchase bucket, never in monetization.
        for m in ROUTES.iter().filter(|m| m.id.contains(".purchases.")) {
            assert_ne!(b(m), Bucket::Monetization, "{}", m.id);
        }
    }

    #[test]
    fn priorities_book_less_far_ahead_in_order_and_swap_under_deadline_pressure() {
        let w = Duration::from_secs(2);
        let lead = |p: Priority, d| p.lead(w, d);
        assert_eq!(lead(Priority::Verification, false), w);
        assert_eq!(lead(Priority::Notification, false), w * 3 / 4);
        assert_eq!(lead(Priority::Settle, false), w / 2);
        assert_eq!(lead(Priority::Background, false), w / 4);
        assert_eq!(lead(Priority::Settle, true), w);
        assert_eq!(lead(Priority::Verification, true), w * 3 / 4);
        assert_eq!(lead(Priority::Notification, true), w / 2);
        assert_eq!(lead(Priority::Background, true), w / 4);
    }

    #[test]
    fn the_backlog_threatens_the_deadline_when_draining_it_ends_within_the_margin() {
        let now = 1_000_000_000;
        let hour = 3_600_000;
        let interval = Duration::from_millis(20); // 3,000 a minute
        let margin = Duration::from_secs(3600);
        let backlog = |pending, deadline_in_hours: i64| Backlog {
            pending,
            oldest_deadline_ms: now + deadline_in_hours * hour,
        };
        // 180,000 acknowledgements take an hour at 3,000 a minute.
        assert!(!backlog(180_000, 3).needs_priority(interval, margin, now));
        assert!(backlog(180_000, 2).needs_priority(interval, margin, now));
        assert!(backlog(1, 1).needs_priority(interval, margin, now));
        assert!(
            !backlog(0, 0).needs_priority(interval, margin, now),
            "nothing to do"
        );
        assert_eq!(backlog(180_000, 3).drain_ms(interval), hour);
    }
}
