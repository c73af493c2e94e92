//! The purchase lifecycle after the first verification. A notification (RTDN, a voided
//! purchase) is only a signal: the purchase is fetched again from Google
//! (`subscriptionsv2.get` / `products.get`) and what Google says now is applied, so
//! duplicates and out-of-order delivery converge to the truth. `revoked`, `refunded` and
//! `replaced` are final: a later notification never brings such a token back.
//!
//! Google's quota binds first, so a new purchase costs one get whatever comes first: the
//! processing of a notification holds the token's lock the verifier holds
//! ([`crate::single_flight`]), a "purchased" notification for a token already past pending
//! costs no call, and a purchase read for a token not stored yet is recorded
//! ([`crate::db::fetches`]) for the verification, or the redelivered "purchased"
//! notification, that follows.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::Config;
use crate::db::fetches::{self, Fetched};
use crate::db::outbox::{self, Job, NewJob};
use crate::db::purchases::{self, PurchaseRow, PurchaseState};
use crate::db::{now_ms, rtdn_messages, Db};
use crate::entitlement::EntitlementState::{
    Active, Canceled, Consumed, Expired, GracePeriod, OnHold, Paused, Replaced, Revoked,
};
use crate::fingerprint::fingerprint;
use crate::metrics::Metrics;
use crate::play::{PlayClient, PlayError};
use crate::product::ProductKind;
use crate::rtdn::coalesce::Refetches;
use crate::rtdn::{
    DeveloperNotification, OneTimeNotificationType, RefundType, SubscriptionNotificationType,
};
use crate::single_flight::KeyedLocks;
use crate::verify::{settle_key, SettlePayload, JOB_ACKNOWLEDGE, JOB_CONSUME};
use crate::worker::{JobError, JobFuture, JobHandler};
use play_model::purchases::{
    ProductPurchase, ProductPurchaseState, SubscriptionPurchaseV2, SubscriptionState,
};
use PurchaseState::Granted;

const PENDING: PurchaseState = PurchaseState::Pending;

/// Job kind: process a stored RTDN message (payload `{"messageId"}`).
pub const JOB_RTDN: &str = "rtdn";

/// What applying a signal did to the stored purchase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Nothing to change: the stored purchase already says what Google says.
    Unchanged,
    /// The stored purchase changed (state, expiry, quantity, acknowledgement).
    Changed,
    /// A purchase made outside the app was granted to a known account.
    Granted,
    /// Not this server's purchase (unknown token, unknown account or product): logged.
    Ignored,
}

/// The payload of an `rtdn` job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtdnJob {
    /// The Pub/Sub message id (key of `rtdn_messages`).
    pub message_id: String,
}

/// Applies lifecycle signals to stored purchases.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    db: Db,
    play: PlayClient,
    products: Arc<BTreeMap<String, ProductKind>>,
    metrics: Metrics,
    wake: Arc<Notify>,
    refetches: Refetches,
    locks: Arc<KeyedLocks>,
    fetch_reuse_ms: i64,
}

fn from_play(e: PlayError) -> JobError {
    if e.is_transient() {
        JobError::Transient(e.to_string())
    } else {
        JobError::Permanent(e.to_string())
    }
}

fn from_db(e: sqlx::Error) -> JobError {
    JobError::Transient(format!("database: {e}"))
}

fn ms(t: Option<time::OffsetDateTime>) -> Option<i64> {
    t.map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
}

impl Lifecycle {
    /// The lifecycle of the configuration's products; `wake` is notified on new jobs;
    /// `locks` are the per-token locks shared with the [`crate::verify::Verifier`].
    pub fn new(
        config: &Config,
        db: Db,
        play: PlayClient,
        metrics: Metrics,
        wake: Arc<Notify>,
        locks: Arc<KeyedLocks>,
    ) -> Self {
        Self {
            db,
            play,
            products: Arc::new(config.products.clone()),
            metrics,
            wake,
            refetches: Refetches::default(),
            locks,
            fetch_reuse_ms: config.limits.fetch_reuse.as_millis() as i64,
        }
    }

    /// Applies one notification.
    pub async fn apply(&self, n: &DeveloperNotification) -> Result<Change, JobError> {
        if let Some(s) = &n.subscription_notification {
            let purchased = s.notification_type == SubscriptionNotificationType::Purchased;
            return self
                .subscription(&s.purchase_token, Some(s.notification_type), purchased)
                .await;
        }
        if let Some(p) = &n.one_time_product_notification {
            let purchased = p.notification_type == OneTimeNotificationType::Purchased;
            return self.product(&p.sku, &p.purchase_token, purchased).await;
        }
        if let Some(v) = &n.voided_purchase_notification {
            return self
                .void(
                    &v.purchase_token,
                    v.refund_type == RefundType::QuantityBasedPartial,
                )
                .await;
        }
        tracing::info!(package = %n.package_name, "RTDN test notification received");
        Ok(Change::Unchanged)
    }

    /// Whether a "purchased" notification needs no Google call: the token is stored past
    /// pending, so the verification already read what the notification announces.
    fn already_purchased(purchased: bool, existing: Option<&PurchaseRow>) -> bool {
        purchased && existing.is_some_and(|r| r.state != PENDING)
    }

    /// The purchase read for a "purchased" notification about a token not stored yet,
    /// recorded less than `limits.fetch_reuse_ms` ago (a redelivery), if any.
    fn reusable(&self, purchased: bool, existing: Option<&PurchaseRow>) -> i64 {
        if purchased && existing.is_none() {
            self.fetch_reuse_ms
        } else {
            0
        }
    }

    /// Records a read of a token not stored yet for the verification that follows.
    async fn record(
        &self,
        existing: Option<&PurchaseRow>,
        token: &str,
        item_id: &str,
        fetched: Fetched<'_>,
    ) -> Result<(), JobError> {
        if existing.is_some() || self.fetch_reuse_ms <= 0 {
            return Ok(());
        }
        fetches::record(&self.db, token, item_id, &fetched, self.fetch_reuse_ms)
            .await
            .map_err(from_db)
    }

    /// Checks a stored purchase with Google again (reconcile).
    pub async fn recheck(&self, row: &PurchaseRow) -> Result<Change, JobError> {
        if row.kind == ProductKind::Subscription {
            self.subscription(&row.purchase_token, None, false).await
        } else {
            self.product(&row.item_id, &row.purchase_token, false).await
        }
    }

    /// A voided purchase: revoked at once, or, for a quantity-based partial refund, its
    /// quantity reduced to what stays refundable (read from Google).
    pub async fn void(&self, token: &str, partial: bool) -> Result<Change, JobError> {
        let Some(row) = purchases::find(&self.db, token).await.map_err(from_db)? else {
            // A read recorded before the refund must not grant it later.
            fetches::forget(&self.db, token).await.map_err(from_db)?;
            tracing::info!(
                token = %fingerprint(token),
                "voided purchase unknown here; ignored"
            );
            return Ok(Change::Ignored);
        };
        if partial && row.kind != ProductKind::Subscription {
            return self.product(&row.item_id, token, false).await;
        }
        if row.state.is_final() || row.state == PENDING {
            return Ok(Change::Unchanged);
        }
        let changed =
            purchases::set_state_and_quantity(&self.db, token, Granted(Revoked), row.quantity)
                .await
                .map_err(from_db)?;
        if changed {
            tracing::info!(account = %fingerprint(&row.account_id), item = %row.item_id, token = %fingerprint(token), "purchase voided: entitlement revoked");
            self.metrics.lifecycle(Revoked.as_str());
        }
        Ok(if changed {
            Change::Changed
        } else {
            Change::Unchanged
        })
    }

    /// Fetches a subscription and applies its state; `hint` is the notification type that
    /// prompted it (an expired subscription after SUBSCRIPTION_REVOKED is revoked);
    /// `purchased`: prompted by SUBSCRIPTION_PURCHASED.
    async fn subscription(
        &self,
        token: &str,
        hint: Option<SubscriptionNotificationType>,
        purchased: bool,
    ) -> Result<Change, JobError> {
        let _flight = self.locks.lock(token).await;
        let existing = purchases::find(&self.db, token).await.map_err(from_db)?;
        if existing.as_ref().is_some_and(|r| r.state.is_final())
            || Self::already_purchased(purchased, existing.as_ref())
        {
            return Ok(Change::Unchanged);
        }
        let reuse_ms = self.reusable(purchased, existing.as_ref());
        let s = match fetches::fresh_subscription(&self.db, token, reuse_ms)
            .await
            .map_err(from_db)?
        {
            Some(recorded) => recorded,
            None => {
                let started_at = now_ms();
                let s = self
                    .play
                    .get_subscription_purchase_v2(token)
                    .await
                    .map_err(from_play)?;
                self.refetches.read(token, started_at);
                let item = product_of(&s).unwrap_or_default();
                self.record(existing.as_ref(), token, &item, Fetched::Subscription(&s))
                    .await?;
                s
            }
        };
        let item_id = match &existing {
            Some(row) => row.item_id.clone(),
            None => match product_of(&s) {
                Some(id) => id,
                None => return Ok(Change::Ignored),
            },
        };
        if self.products.get(&item_id) != Some(&ProductKind::Subscription) {
            tracing::info!(item = %item_id, token = %fingerprint(token), "subscription of a product this server does not sell; ignored");
            return Ok(Change::Ignored);
        }
        let state = match s.subscription_state {
            SubscriptionState::Pending => PENDING,
            SubscriptionState::Active => Granted(Active),
            SubscriptionState::InGracePeriod => Granted(GracePeriod),
            SubscriptionState::OnHold => Granted(OnHold),
            SubscriptionState::Paused => Granted(Paused),
            SubscriptionState::Canceled => Granted(Canceled),
            SubscriptionState::Expired if hint == Some(SubscriptionNotificationType::Revoked) => {
                Granted(Revoked)
            }
            SubscriptionState::Expired => Granted(Expired),
            SubscriptionState::PendingPurchaseCanceled => return self.forget_pending(token).await,
            SubscriptionState::Unspecified | SubscriptionState::Unknown => {
                tracing::warn!(
                    token = %fingerprint(token),
                    "Google Play reports an unknown subscription state; left as is"
                );
                return Ok(Change::Unchanged);
            }
        };
        let item = s.line_item(&item_id);
        let observed = Observed {
            state,
            quantity: 1,
            expires_at: item.and_then(|i| ms(i.expiry_time)),
            test: s.is_test(),
            acknowledged: s.is_acknowledged(),
            order_id: item.and_then(|i| i.latest_successful_order_id.clone()),
            linked_purchase_token: s.linked_purchase_token.clone(),
            purchased_at: ms(s.start_time),
            settle: (!s.is_acknowledged()).then_some(JOB_ACKNOWLEDGE),
            settle_product_id: item.map_or(item_id.clone(), |i| i.product_id.clone()),
        };
        let account = match &existing {
            Some(row) => Some(row.account_id.clone()),
            None => self.account_of_new_subscription(&s).await?,
        };
        self.write(
            existing,
            account,
            &item_id,
            ProductKind::Subscription,
            token,
            observed,
        )
        .await
    }

    /// Fetches a one-time purchase and applies its state; `purchased`: prompted by
    /// ONE_TIME_PRODUCT_PURCHASED.
    async fn product(&self, sku: &str, token: &str, purchased: bool) -> Result<Change, JobError> {
        let _flight = self.locks.lock(token).await;
        let existing = purchases::find(&self.db, token).await.map_err(from_db)?;
        if existing.as_ref().is_some_and(|r| r.state.is_final())
            || Self::already_purchased(purchased, existing.as_ref())
        {
            return Ok(Change::Unchanged);
        }
        let item_id = existing
            .as_ref()
            .map_or(sku, |r| r.item_id.as_str())
            .to_string();
        let Some(kind) = self
            .products
            .get(&item_id)
            .copied()
            .filter(|k| *k != ProductKind::Subscription)
        else {
            tracing::info!(item = %item_id, token = %fingerprint(token), "one-time purchase of a product this server does not sell; ignored");
            return Ok(Change::Ignored);
        };
        let reuse_ms = self.reusable(purchased, existing.as_ref());
        let p = match fetches::fresh_product(&self.db, token, &item_id, reuse_ms)
            .await
            .map_err(from_db)?
        {
            Some(recorded) => recorded,
            None => {
                let p = self
                    .play
                    .get_product_purchase(&item_id, token)
                    .await
                    .map_err(from_play)?;
                self.record(existing.as_ref(), token, &item_id, Fetched::Product(&p))
                    .await?;
                p
            }
        };
        let (state, settle) = match p.state() {
            ProductPurchaseState::Pending => (PENDING, None),
            ProductPurchaseState::Canceled => match &existing {
                Some(row) if row.state == PENDING => return self.forget_pending(token).await,
                Some(_) => (Granted(Revoked), None),
                None => return Ok(Change::Ignored),
            },
            ProductPurchaseState::Unknown(n) => {
                tracing::warn!(
                    token = %fingerprint(token),
                    state = n,
                    "unknown purchase state; left as is"
                );
                return Ok(Change::Unchanged);
            }
            ProductPurchaseState::Purchased if kind == ProductKind::Consumable => {
                if p.is_consumed() {
                    (Granted(Consumed), None)
                } else {
                    (Granted(Active), Some(JOB_CONSUME))
                }
            }
            ProductPurchaseState::Purchased => (
                Granted(Active),
                (!p.is_acknowledged()).then_some(JOB_ACKNOWLEDGE),
            ),
        };
        let observed = Observed {
            state,
            quantity: remaining_quantity(&p),
            expires_at: None,
            test: p.is_test(),
            acknowledged: p.is_acknowledged() || p.is_consumed(),
            order_id: p.order_id.clone(),
            linked_purchase_token: None,
            purchased_at: p.purchase_time_millis,
            settle,
            settle_product_id: item_id.clone(),
        };
        let account = match &existing {
            Some(row) => Some(row.account_id.clone()),
            None => {
                self.known_account(p.obfuscated_external_account_id.as_deref())
                    .await?
            }
        };
        self.write(existing, account, &item_id, kind, token, observed)
            .await
    }

    /// A pending purchase whose payment was canceled: nothing was granted; forget it.
    async fn forget_pending(&self, token: &str) -> Result<Change, JobError> {
        let deleted = purchases::delete_pending(&self.db, token)
            .await
            .map_err(from_db)?;
        if deleted {
            tracing::info!(token = %fingerprint(token), "pending purchase canceled");
            self.metrics.lifecycle("pending_canceled");
        }
        Ok(if deleted {
            Change::Changed
        } else {
            Change::Unchanged
        })
    }

    /// The account a subscription unknown here belongs to: the account of the token it
    /// replaces (upgrade, downgrade, re-subscription in the Play Store), else its obfuscated
    /// account id if that account has purchases here.
    async fn account_of_new_subscription(
        &self,
        s: &SubscriptionPurchaseV2,
    ) -> Result<Option<String>, JobError> {
        if let Some(linked) = &s.linked_purchase_token {
            if let Some(row) = purchases::find(&self.db, linked).await.map_err(from_db)? {
                return Ok(Some(row.account_id));
            }
        }
        let obfuscated = s
            .external_account_identifiers
            .as_ref()
            .and_then(|ids| ids.obfuscated_external_account_id.as_deref());
        self.known_account(obfuscated).await
    }

    /// `account` if it has purchases here.
    async fn known_account(&self, account: Option<&str>) -> Result<Option<String>, JobError> {
        match account {
            Some(a)
                if purchases::account_known(&self.db, a)
                    .await
                    .map_err(from_db)? =>
            {
                Ok(Some(a.to_string()))
            }
            _ => Ok(None),
        }
    }

    /// Stores what Google says: updates a known token, or grants a new one to `account`;
    /// enqueues its acknowledgement if a live purchase needs one and retires the token it
    /// replaces, all in one transaction.
    async fn write(
        &self,
        existing: Option<PurchaseRow>,
        account: Option<String>,
        item_id: &str,
        kind: ProductKind,
        token: &str,
        o: Observed,
    ) -> Result<Change, JobError> {
        let Some(account) = account else {
            tracing::info!(item = %item_id, token = %fingerprint(token), "a purchase for no known account; ignored (the app's restore() will claim it)");
            return Ok(Change::Ignored);
        };
        if existing.is_none() && o.state == PENDING {
            return Ok(Change::Ignored);
        }
        let live = !matches!(o.state, PENDING | Granted(Expired | Revoked));
        let now = now_ms();
        let row = PurchaseRow {
            purchase_token: token.into(),
            id: existing
                .as_ref()
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), |r| r.id.clone()),
            account_id: account,
            item_id: item_id.into(),
            kind,
            state: o.state,
            quantity: o.quantity,
            expires_at: o.expires_at,
            test: i64::from(o.test),
            acknowledged: i64::from(o.acknowledged),
            order_id: o.order_id,
            linked_purchase_token: o.linked_purchase_token,
            purchased_at: o.purchased_at,
            granted_at: (o.state != PENDING).then_some(now),
            created_at: now,
            updated_at: now,
        };
        let change = match &existing {
            None => Change::Granted,
            Some(old)
                if old.state == row.state
                    && old.quantity == row.quantity
                    && old.expires_at == row.expires_at
                    && (old.acknowledged != 0 || row.acknowledged == 0) =>
            {
                Change::Unchanged
            }
            Some(_) => Change::Changed,
        };
        let mut tx = self.db.begin_write().await.map_err(from_db)?;
        let written = match &existing {
            None => purchases::insert(&mut tx, &row).await,
            Some(_) => purchases::update_observed(&mut tx, &row).await,
        }
        .map_err(from_db)?;
        if !written {
            return Err(JobError::Transient(
                "the purchase changed meanwhile; applying again".into(),
            ));
        }
        let mut enqueued = false;
        if let (true, Some(job_kind)) = (live, o.settle) {
            let payload = SettlePayload {
                purchase_token: token.into(),
                product_id: o.settle_product_id,
                product_kind: kind,
            };
            enqueued = outbox::enqueue(
                &mut tx,
                &NewJob::new(job_kind, &payload).dedupe(settle_key(token)),
            )
            .await
            .map_err(from_db)?;
        }
        let mut retired = false;
        if let Some(linked) = row.linked_purchase_token.as_deref().filter(|_| live) {
            retired = purchases::set_state(&mut tx, linked, Granted(Replaced))
                .await
                .map_err(from_db)?;
        }
        tx.commit().await.map_err(from_db)?;
        crate::db::events::committed();
        if enqueued {
            self.wake.notify_one();
        }
        if retired {
            tracing::info!(
                token = %fingerprint(row.linked_purchase_token.as_deref().unwrap_or_default()),
                "entitlement replaced by a linked purchase"
            );
        }
        match change {
            Change::Granted => {
                tracing::info!(account = %fingerprint(&row.account_id), item = %item_id, token = %fingerprint(token), "purchase made outside the app granted");
                self.metrics.lifecycle("granted");
            }
            Change::Changed => {
                tracing::info!(account = %fingerprint(&row.account_id), item = %item_id, token = %fingerprint(token), state = %row.state, "purchase changed");
                self.metrics.lifecycle(o.state.as_str());
            }
            _ => {}
        }
        Ok(change)
    }
}

/// What Google says about a token, in this server's terms.
#[derive(Debug)]
struct Observed {
    state: PurchaseState,
    quantity: i64,
    expires_at: Option<i64>,
    test: bool,
    acknowledged: bool,
    order_id: Option<String>,
    linked_purchase_token: Option<String>,
    purchased_at: Option<i64>,
    settle: Option<&'static str>,
    settle_product_id: String,
}

/// The product a client names a subscription by: a deferred replacement's new product,
/// else the first line item's product.
fn product_of(s: &SubscriptionPurchaseV2) -> Option<String> {
    let item = s.line_items.first()?;
    Some(
        item.deferred_item_replacement
            .as_ref()
            .map_or(&item.product_id, |d| &d.product_id)
            .clone(),
    )
}

/// The quantity still credited: what stays refundable after quantity-based partial refunds.
fn remaining_quantity(p: &ProductPurchase) -> i64 {
    match p.refundable_quantity {
        Some(q) if q > 0 => q.min(p.quantity()),
        _ => p.quantity(),
    }
}

/// Runs `rtdn` jobs: reads the stored notification and applies it.
#[derive(Debug, Clone)]
pub struct RtdnHandler(pub Lifecycle);

impl RtdnHandler {
    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let p: RtdnJob = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let text = rtdn_messages::message(&self.0.db, &p.message_id)
            .await
            .map_err(from_db)?
            .ok_or_else(|| JobError::Permanent(format!("no stored message {}", p.message_id)))?;
        let n: DeveloperNotification = serde_json::from_str(&text)
            .map_err(|e| JobError::Permanent(format!("stored notification unreadable: {e}")))?;
        // A subscription notification only says "look again" (a revocation also says how
        // it ended): one re-fetch answers every such notification stored before it started.
        let token = n
            .subscription_notification
            .as_ref()
            .filter(|s| s.notification_type != SubscriptionNotificationType::Revoked)
            .map(|s| s.purchase_token.as_str());
        let mut _turn = None;
        if let Some(token) = token {
            let received_at = rtdn_messages::received_at(&self.0.db, &p.message_id)
                .await
                .map_err(from_db)?
                .unwrap_or(i64::MAX);
            match self.0.refetches.turn(token, received_at).await {
                Some(t) => _turn = Some(t),
                None => {
                    tracing::debug!(message = %p.message_id, "RTDN answered by a newer re-fetch");
                    return Ok(());
                }
            }
        }
        let change = self.0.apply(&n).await?;
        tracing::debug!(message = %p.message_id, ?change, "RTDN processed");
        Ok(())
    }
}

impl JobHandler for RtdnHandler {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(self.handle(job))
    }
}

/// Enqueues the processing of a stored message (inside the caller's transaction).
pub async fn enqueue_rtdn(
    conn: &mut sqlx::AnyConnection,
    message_id: &str,
) -> Result<bool, sqlx::Error> {
    let job = NewJob::new(
        JOB_RTDN,
        &RtdnJob {
            message_id: message_id.into(),
        },
    )
    .dedupe(format!("rtdn:{message_id}"));
    outbox::enqueue(conn, &job).await
}
