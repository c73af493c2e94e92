//! Verification and granting. The purchase token is the key: it is verified with Google
//! (`products.get` or `subscriptionsv2.get`) once, granted once to the first account that
//! presented it, and its acknowledgement (or consumption) is enqueued in the same
//! transaction as the grant. Concurrent verifications of one token in this process, and the
//! processing of Play's notifications about it ([`crate::lifecycle`]), wait for the first
//! one (one Google call); across replicas the table's primary key decides. A purchase read
//! for Play's notification before any verification (`play_fetches`) serves the verification
//! that follows: a new purchase costs one get whatever comes first.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::config::{Config, Limits};
use crate::db::fetches;
use crate::db::grants::{Grant, GroupCommit};
use crate::db::outbox::NewJob;
use crate::db::purchases::{self, PurchaseRow, PurchaseState};
use crate::db::{now_ms, Db};
use crate::entitlement::{Entitlement, EntitlementState};
use crate::error::ApiError;
use crate::fingerprint::fingerprint;
use crate::metrics::Metrics;
use crate::play::{PlayClient, PlayError};
use crate::product::ProductKind;
use crate::single_flight::KeyedLocks;
use play_model::purchases::{
    ProductPurchase, ProductPurchaseState, SubscriptionPurchaseV2, SubscriptionState,
};

/// Job kind: acknowledge a purchase on Google Play.
pub const JOB_ACKNOWLEDGE: &str = "acknowledge";
/// Job kind: consume a consumable on Google Play (which acknowledges it too).
pub const JOB_CONSUME: &str = "consume";

/// Payload of the acknowledge and consume jobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettlePayload {
    /// The token.
    pub purchase_token: String,
    /// The product (or subscription) id.
    pub product_id: String,
    /// The product's kind.
    pub product_kind: ProductKind,
}

/// The outbox de-duplication key of a token's acknowledgement or consumption.
pub fn settle_key(token: &str) -> String {
    format!("{SETTLE_KEY_PREFIX}{token}")
}

/// What every [`settle_key`] starts with, the token following it.
pub const SETTLE_KEY_PREFIX: &str = "settle:";

/// The answer to a verification.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// Granted to the caller (now or before).
    Granted {
        /// The entitlement.
        entitlement: Entitlement,
        /// Whether Google has it acknowledged yet.
        acknowledged: bool,
    },
    /// A pending purchase: nothing granted yet.
    Pending,
}

/// What Google says about a token, in this server's terms.
#[derive(Debug)]
struct Observed {
    state: Observation,
    quantity: i64,
    expires_at: Option<i64>,
    test: bool,
    acknowledged: bool,
    order_id: Option<String>,
    linked_purchase_token: Option<String>,
    purchased_at: Option<i64>,
    /// The acknowledge or consume job the grant needs.
    settle: Option<&'static str>,
    /// The product id Google acknowledges the purchase under: the item asked, or the line
    /// item a deferred replacement still holds.
    settle_product_id: String,
}

#[derive(Debug)]
enum Observation {
    Pending,
    /// Recorded; a terminal state answers 422.
    State(EntitlementState),
    /// Nothing to record.
    Invalid(String),
}

/// Verifies and grants purchases.
#[derive(Debug)]
pub struct Verifier {
    db: Db,
    play: PlayClient,
    products: BTreeMap<String, ProductKind>,
    limits: Limits,
    retry_after: Duration,
    accept_test_purchases: bool,
    metrics: Metrics,
    wake: Arc<Notify>,
    locks: Arc<KeyedLocks>,
    grants: GroupCommit,
}

impl Verifier {
    /// A verifier; `wake` is notified when a job was enqueued; `locks` are the per-token
    /// locks it shares with the [`crate::lifecycle::Lifecycle`] of the same process. Starts
    /// the task that commits its grants ([`GroupCommit`]): call it inside a Tokio runtime.
    pub fn new(
        config: &Config,
        db: Db,
        play: PlayClient,
        metrics: Metrics,
        wake: Arc<Notify>,
        locks: Arc<KeyedLocks>,
    ) -> Self {
        Self {
            grants: GroupCommit::spawn(db.clone()),
            db,
            play,
            products: config.products.clone(),
            limits: config.limits.clone(),
            retry_after: config.retry.retry_after,
            accept_test_purchases: config.accept_test_purchases,
            metrics,
            wake,
            locks,
        }
    }

    /// Verifies `token` for `item_id` on behalf of `account`.
    pub async fn verify(
        &self,
        account: &str,
        item_id: &str,
        token: &str,
    ) -> Result<Verdict, ApiError> {
        let result = self.verify_counted(account, item_id, token).await;
        let outcome = match &result {
            Ok((Verdict::Granted { .. }, true)) => "granted",
            Ok((Verdict::Granted { .. }, false)) => "already_granted",
            Ok((Verdict::Pending, _)) => "pending",
            Err(e) => e.code(),
        };
        self.metrics.verification(outcome);
        // (The fingerprints, two SHA-256, are computed only if the line is logged.)
        match &result {
            Err(ApiError::Internal(_)) => {}
            Err(e) => {
                tracing::info!(account = %fingerprint(account), item_id, token = %fingerprint(token), outcome, reason = %e, "verification refused")
            }
            Ok(_) => {
                tracing::info!(account = %fingerprint(account), item_id, token = %fingerprint(token), outcome, "verified")
            }
        }
        result.map(|(verdict, _)| verdict)
    }

    /// Checks an item id and token against the limits.
    fn validate(&self, item_id: &str, token: &str) -> Result<(), ApiError> {
        let check = |name: &str, value: &str, max: usize| {
            if value.is_empty() {
                Err(ApiError::InvalidRequest(format!("{name} is empty")))
            } else if value.len() > max {
                Err(ApiError::InvalidRequest(format!(
                    "{name} is longer than {max} bytes"
                )))
            } else if value.chars().any(char::is_control) {
                Err(ApiError::InvalidRequest(format!(
                    "{name} contains control characters"
                )))
            } else {
                Ok(())
            }
        };
        check("itemId", item_id, self.limits.max_item_id_len.get())?;
        check("purchaseToken", token, self.limits.max_token_len.get())
    }

    /// The verdict and whether this call granted it.
    async fn verify_counted(
        &self,
        account: &str,
        item_id: &str,
        token: &str,
    ) -> Result<(Verdict, bool), ApiError> {
        self.validate(item_id, token)?;
        let kind = *self.products.get(item_id).ok_or_else(|| {
            ApiError::PurchaseInvalid(format!("`{item_id}` is not a product this server sells"))
        })?;
        if let Some(row) = purchases::find(&self.db, token).await? {
            if let Some(verdict) = known(&row, account, item_id, self.pending_recheck_ms())? {
                return Ok((verdict, false));
            }
        }
        let _flight = self.locks.lock(token).await;
        let existing = purchases::find(&self.db, token).await?;
        if let Some(row) = &existing {
            if let Some(verdict) = known(row, account, item_id, self.pending_recheck_ms())? {
                return Ok((verdict, false));
            }
        }
        // A token nobody presented yet may have been read for Play's notification.
        let reuse_ms = if existing.is_none() {
            self.limits.fetch_reuse.as_millis() as i64
        } else {
            0
        };
        let observed = match kind {
            ProductKind::Subscription => {
                let purchase = match fetches::fresh_subscription(&self.db, token, reuse_ms).await? {
                    Some(recorded) => recorded,
                    None => self
                        .play
                        .get_subscription_purchase_v2(token)
                        .await
                        .map_err(|e| self.upstream(e))?,
                };
                observe_subscription(&purchase, item_id)
            }
            ProductKind::Consumable | ProductKind::NonConsumable => {
                let recorded = fetches::fresh_product(&self.db, token, item_id, reuse_ms).await?;
                let purchase = match recorded {
                    Some(recorded) => recorded,
                    None => self
                        .play
                        .get_product_purchase(item_id, token)
                        .await
                        .map_err(|e| self.upstream(e))?,
                };
                observe_product(&purchase, kind, item_id)
            }
        };
        if observed.test && !self.accept_test_purchases {
            return Err(ApiError::PurchaseInvalid(
                "test purchases are not accepted (accept_test_purchases = false)".into(),
            ));
        }
        // A replacement belongs to the account of the purchase it replaces.
        if let Some(linked) = &observed.linked_purchase_token {
            if purchases::find(&self.db, linked)
                .await?
                .is_some_and(|r| r.account_id != account)
            {
                return Err(ApiError::TokenAlreadyClaimed);
            }
        }
        self.record(existing, account, item_id, kind, token, observed)
            .await
    }

    fn pending_recheck_ms(&self) -> i64 {
        self.limits.pending_recheck.as_millis() as i64
    }

    /// Maps a failed Google call: transient → 503, "no such purchase" → 422, else 500.
    fn upstream(&self, e: PlayError) -> ApiError {
        if let PlayError::Throttled { retry_after, .. } = e {
            return ApiError::UpstreamUnavailable { retry_after };
        }
        if e.is_transient() {
            tracing::warn!(error = %e, "Google Play unavailable");
            return ApiError::UpstreamUnavailable {
                retry_after: self.retry_after,
            };
        }
        match e.status() {
            Some(s) if matches!(s.code, 400 | 404 | 410) => ApiError::PurchaseInvalid(format!(
                "Google Play does not know this purchase for this app and product ({})",
                s.reason().unwrap_or(&s.message)
            )),
            _ => ApiError::internal(e),
        }
    }

    /// Stores what Google said and answers.
    async fn record(
        &self,
        existing: Option<PurchaseRow>,
        account: &str,
        item_id: &str,
        kind: ProductKind,
        token: &str,
        observed: Observed,
    ) -> Result<(Verdict, bool), ApiError> {
        let state = match observed.state {
            Observation::Invalid(message) => return Err(ApiError::PurchaseInvalid(message)),
            Observation::Pending if existing.is_some() => {
                purchases::touch(&self.db, token).await?;
                return Ok((Verdict::Pending, false));
            }
            Observation::Pending => PurchaseState::Pending,
            Observation::State(state) => PurchaseState::Granted(state),
        };
        let now = now_ms();
        let terminal = matches!(observed.state, Observation::State(s) if s.is_terminal());
        let grants = matches!(observed.state, Observation::State(_)) && !terminal;
        let row = PurchaseRow {
            purchase_token: token.into(),
            id: existing
                .as_ref()
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), |r| r.id.clone()),
            account_id: account.into(),
            item_id: item_id.into(),
            kind,
            state,
            quantity: observed.quantity,
            expires_at: observed.expires_at,
            test: i64::from(observed.test),
            acknowledged: i64::from(observed.acknowledged),
            order_id: observed.order_id,
            linked_purchase_token: observed.linked_purchase_token,
            purchased_at: observed.purchased_at,
            granted_at: grants.then_some(now),
            created_at: now,
            updated_at: now,
        };
        let was_pending = existing
            .as_ref()
            .is_none_or(|r| r.state == PurchaseState::Pending);
        let settle = match (grants, observed.settle) {
            (true, Some(job_kind)) => Some(
                NewJob::new(
                    job_kind,
                    &SettlePayload {
                        purchase_token: token.into(),
                        product_id: observed.settle_product_id.clone(),
                        product_kind: kind,
                    },
                )
                .dedupe(settle_key(token)),
            ),
            _ => None,
        };
        let replaces = row.linked_purchase_token.clone().filter(|_| grants);
        let written = self
            .grants
            .write(Grant {
                row: row.clone(),
                new: existing.is_none(),
                settle,
                replaces: replaces.clone(),
            })
            .await?;
        if !written.stored {
            // Another replica recorded this token first: answer from its row.
            let row = purchases::find(&self.db, token)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("purchase row vanished")))?;
            // `None` here means the other replica recorded a pending purchase.
            return Ok((
                known(&row, account, item_id, self.pending_recheck_ms())?
                    .unwrap_or(Verdict::Pending),
                false,
            ));
        }
        if let Some(old) = replaces.filter(|_| written.replaced) {
            tracing::info!(token = %fingerprint(&old), "entitlement replaced by a linked purchase");
        }
        if written.enqueued {
            self.wake.notify_one();
        }
        if state == PurchaseState::Pending {
            return Ok((Verdict::Pending, false));
        }
        if terminal {
            return Err(ApiError::PurchaseInvalid(format!(
                "the purchase is {state}"
            )));
        }
        // A new row is what was inserted; an updated one is read back (the update keeps an
        // earlier acknowledgement and grant time).
        let row = match existing {
            None => row,
            Some(_) => purchases::find(&self.db, token)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("purchase row vanished")))?,
        };
        let entitlement = Entitlement::from_row(&row, now_ms()).ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("unreadable purchase row {}", row.id))
        })?;
        Ok((
            Verdict::Granted {
                entitlement,
                acknowledged: row.acknowledged != 0,
            },
            was_pending,
        ))
    }
}

/// The answer for a token already stored, or `None` if Google must be asked again (pending,
/// or a subscription whose stored expiry has passed).
///
/// A pending purchase checked with Google less than `pending_recheck_ms` ago answers
/// pending again without a call: concurrent or hasty verifications of a pending token cost
/// one call per interval.
fn known(
    row: &PurchaseRow,
    account: &str,
    item_id: &str,
    pending_recheck_ms: i64,
) -> Result<Option<Verdict>, ApiError> {
    if row.account_id != account {
        return Err(ApiError::TokenAlreadyClaimed);
    }
    if row.item_id != item_id {
        return Err(ApiError::PurchaseInvalid(format!(
            "this purchase token is for another product than `{item_id}`"
        )));
    }
    if row.state == PurchaseState::Pending {
        let recent = now_ms() - row.updated_at < pending_recheck_ms;
        return Ok(recent.then_some(Verdict::Pending));
    }
    let entitlement = Entitlement::from_row(row, now_ms())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("unreadable purchase row {}", row.id)))?;
    if entitlement.state.is_terminal() {
        return Err(ApiError::PurchaseInvalid(format!(
            "the purchase is {}",
            entitlement.state.as_str()
        )));
    }
    let may_have_renewed = matches!(
        entitlement.state,
        EntitlementState::Active | EntitlementState::GracePeriod | EntitlementState::Canceled
    );
    if row.kind == ProductKind::Subscription && may_have_renewed && !entitlement.entitled {
        return Ok(None);
    }
    Ok(Some(Verdict::Granted {
        entitlement,
        acknowledged: row.acknowledged != 0,
    }))
}

fn observe_product(p: &ProductPurchase, kind: ProductKind, item_id: &str) -> Observed {
    let mut observed = Observed {
        state: Observation::Pending,
        quantity: p.quantity(),
        expires_at: None,
        test: p.is_test(),
        acknowledged: p.is_acknowledged(),
        order_id: p.order_id.clone(),
        linked_purchase_token: None,
        purchased_at: p.purchase_time_millis,
        settle: None,
        settle_product_id: item_id.into(),
    };
    if p.product_id.as_deref().is_some_and(|id| id != item_id) {
        observed.state = Observation::Invalid(format!(
            "this purchase token is for another product than `{item_id}`"
        ));
        return observed;
    }
    observed.state = match p.state() {
        ProductPurchaseState::Pending => Observation::Pending,
        ProductPurchaseState::Canceled => Observation::Invalid("the purchase was canceled".into()),
        ProductPurchaseState::Unknown(n) => {
            Observation::Invalid(format!("unknown purchase state {n}"))
        }
        ProductPurchaseState::Purchased if kind == ProductKind::Consumable => {
            if p.is_consumed() {
                observed.acknowledged = true;
                Observation::State(EntitlementState::Consumed)
            } else {
                observed.settle = Some(JOB_CONSUME);
                Observation::State(EntitlementState::Active)
            }
        }
        ProductPurchaseState::Purchased => {
            if !p.is_acknowledged() {
                observed.settle = Some(JOB_ACKNOWLEDGE);
            }
            Observation::State(EntitlementState::Active)
        }
    };
    observed
}

fn observe_subscription(s: &SubscriptionPurchaseV2, item_id: &str) -> Observed {
    let item = s.line_item(item_id);
    let mut observed = Observed {
        state: Observation::Pending,
        quantity: 1,
        expires_at: item
            .and_then(|i| i.expiry_time)
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64),
        test: s.is_test(),
        acknowledged: s.is_acknowledged(),
        order_id: item.and_then(|i| i.latest_successful_order_id.clone()),
        linked_purchase_token: s.linked_purchase_token.clone(),
        purchased_at: s
            .start_time
            .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64),
        settle: None,
        settle_product_id: item.map_or(item_id, |i| i.product_id.as_str()).into(),
    };
    if item.is_none() {
        observed.state = Observation::Invalid(format!(
            "this purchase token is for another product than `{item_id}`"
        ));
        return observed;
    }
    let state = match s.subscription_state {
        SubscriptionState::Pending => {
            observed.state = Observation::Pending;
            return observed;
        }
        SubscriptionState::Active => EntitlementState::Active,
        SubscriptionState::InGracePeriod => EntitlementState::GracePeriod,
        SubscriptionState::OnHold => EntitlementState::OnHold,
        SubscriptionState::Paused => EntitlementState::Paused,
        SubscriptionState::Canceled => EntitlementState::Canceled,
        SubscriptionState::Expired => EntitlementState::Expired,
        SubscriptionState::PendingPurchaseCanceled => {
            observed.state = Observation::Invalid("the pending purchase was canceled".into());
            return observed;
        }
        SubscriptionState::Unspecified | SubscriptionState::Unknown => {
            observed.state =
                Observation::Invalid("Google Play reports an unknown subscription state".into());
            return observed;
        }
    };
    if !state.is_terminal() && !s.is_acknowledged() {
        observed.settle = Some(JOB_ACKNOWLEDGE);
    }
    observed.state = Observation::State(state);
    observed
}
