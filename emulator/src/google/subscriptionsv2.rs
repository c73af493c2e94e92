//! `purchases.subscriptionsv2`: get, cancel, revoke, defer.

use play_model::purchases::{
    AcknowledgementState, AutoRenewingPlan, CanceledStateContext,
    DeferSubscriptionPurchaseResponse, DeferredItemReplacement, Empty, ExternalAccountIdentifiers,
    ItemExpiryTimeDetails, OfferDetails, PausedStateContext, SubscriptionLineItem,
    SubscriptionPurchaseV2, UserInitiatedCancellation,
};
use play_model::rtdn::SubscriptionNotificationType;
use play_model::Money;
use serde::Deserialize;
use serde_json::Value;

use super::{parse_body, Call, Reply};
use crate::clock::{datetime, parse_google_duration};
use crate::error::GoogleError;
use crate::state::{CancelKind, Kind, Model, Purchase, SubState, TOKEN_RETENTION_MS};

/// A subscription by token. A one-time token is unknown here (`400 invalid`); a token
/// expired for more than 60 days is `410 purchaseTokenNoLongerValid`.
pub(crate) fn subscription<'m>(m: &'m Model, token: &str) -> Result<&'m Purchase, GoogleError> {
    let p = m
        .purchases
        .get(token)
        .filter(|p| p.kind == Kind::Subscription)
        .ok_or_else(GoogleError::unknown_token)?;
    let over = matches!(
        p.sub_state,
        SubState::Expired | SubState::PendingPurchaseCanceled
    );
    if over && p.expiry_ms + TOKEN_RETENTION_MS < m.now_ms() {
        return Err(GoogleError::new(
            410,
            "androidpublisher",
            "purchaseTokenNoLongerValid",
            "The subscription purchase is no longer available for query because it has been expired for too long.",
        ));
    }
    Ok(p)
}

/// The `SubscriptionPurchaseV2` resource.
pub fn subscription_purchase_v2(p: &Purchase) -> SubscriptionPurchaseV2 {
    let pending = matches!(
        p.sub_state,
        SubState::Pending | SubState::PendingPurchaseCanceled
    );
    let item = SubscriptionLineItem {
        product_id: p.product_id.clone(),
        expiry_time: (!pending).then(|| datetime(p.expiry_ms)).flatten(),
        latest_successful_order_id: p.latest_successful_order_id(),
        auto_renewing_plan: p.plan.as_ref().map(|plan| AutoRenewingPlan {
            auto_renew_enabled: Some(p.auto_renew),
            recurring_price: Some(Money::from_micros(plan.price_micros, &plan.currency)),
        }),
        offer_details: p.plan.as_ref().map(|plan| OfferDetails {
            base_plan_id: Some(plan.base_plan_id.clone()),
            offer_id: None,
            offer_tags: plan.offer_tags.clone(),
        }),
        deferred_item_replacement: p
            .deferred_plan
            .as_ref()
            .map(|next| DeferredItemReplacement {
                product_id: next.product_id.clone(),
            }),
    };
    let canceled_state_context = p.cancel.map(|(kind, at)| {
        let mut c = CanceledStateContext::default();
        match kind {
            CancelKind::User => {
                c.user_initiated_cancellation = Some(UserInitiatedCancellation {
                    cancel_time: datetime(at),
                })
            }
            CancelKind::Developer => c.developer_initiated_cancellation = Some(Empty {}),
            CancelKind::System => c.system_initiated_cancellation = Some(Empty {}),
            CancelKind::Replacement => c.replacement_cancellation = Some(Empty {}),
        }
        c
    });
    SubscriptionPurchaseV2 {
        kind: Some(SubscriptionPurchaseV2::KIND.into()),
        region_code: Some(p.region_code.clone()),
        start_time: datetime(p.created_ms),
        subscription_state: p.sub_state.into(),
        acknowledgement_state: Some(AcknowledgementState::of(p.acknowledged)),
        etag: Some(p.etag()),
        line_items: vec![item],
        linked_purchase_token: p.linked_purchase_token.clone(),
        test_purchase: p.test.then_some(Empty {}),
        external_account_identifiers: ExternalAccountIdentifiers::of(
            p.obfuscated_account_id.clone(),
            p.obfuscated_profile_id.clone(),
        ),
        canceled_state_context,
        paused_state_context: match (p.sub_state, p.auto_resume_ms) {
            (SubState::Paused, Some(t)) => Some(PausedStateContext {
                auto_resume_time: datetime(t),
            }),
            _ => None,
        },
        in_grace_period_state_context: (p.sub_state == SubState::InGracePeriod).then_some(Empty {}),
        on_hold_state_context: (p.sub_state == SubState::OnHold).then_some(Empty {}),
    }
}

/// `subscriptionsv2.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let p = subscription(m, call.param("token"))?;
    Ok(Reply::resource(&subscription_purchase_v2(p)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancelRequest {
    cancellation_context: Option<CancellationContext>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancellationContext {
    cancellation_type: Option<String>,
}

/// `subscriptionsv2.cancel`: stops renewal (CANCELED, entitled until expiry; SUBSCRIPTION_CANCELED).
/// Harmless on an already canceled subscription; `400 invalidPurchaseState` when it is over.
pub fn cancel(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let req: CancelRequest = parse_body(&call.body)?;
    let kind = match req
        .cancellation_context
        .and_then(|c| c.cancellation_type)
        .as_deref()
    {
        None | Some("CANCELLATION_TYPE_UNSPECIFIED") | Some("USER_REQUESTED_STOP_RENEWALS") => {
            CancelKind::User
        }
        Some("DEVELOPER_REQUESTED_STOP_PAYMENTS") => CancelKind::Developer,
        Some(other) => {
            return Err(GoogleError::invalid(format!(
                "Invalid value at 'cancellation_context.cancellation_type', \"{other}\""
            )))
        }
    };
    let token = call.param("token");
    let p = subscription(m, token)?;
    match p.sub_state {
        SubState::Canceled => Ok(Reply::resource(&Empty {})),
        SubState::Active | SubState::InGracePeriod | SubState::OnHold | SubState::Paused => {
            let now = m.now_ms();
            m.cancel_subscription(token, kind, now);
            Ok(Reply::resource(&Empty {}))
        }
        _ => Err(GoogleError::invalid_purchase_state()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevokeRequest {
    revocation_context: Option<RevocationContext>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RevocationContext {
    full_refund: Option<Value>,
    prorated_refund: Option<Value>,
    item_based_refund: Option<ItemBasedRefund>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ItemBasedRefund {
    product_id: Option<String>,
}

/// `subscriptionsv2.revoke`: ends the subscription now with a refund (EXPIRED, a voided
/// purchase with source developer, SUBSCRIPTION_REVOKED and a voidedPurchaseNotification).
pub fn revoke(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let req: RevokeRequest = parse_body(&call.body)?;
    let ctx = req
        .revocation_context
        .ok_or_else(|| GoogleError::required("revocationContext"))?;
    let kinds = ctx.full_refund.is_some() as u8
        + ctx.prorated_refund.is_some() as u8
        + ctx.item_based_refund.is_some() as u8;
    if kinds != 1 {
        return Err(GoogleError::invalid(
            "Exactly one of fullRefund, proratedRefund or itemBasedRefund must be set.",
        ));
    }
    let token = call.param("token");
    let p = subscription(m, token)?;
    if let Some(item) = &ctx.item_based_refund {
        match &item.product_id {
            Some(id) if *id == p.product_id => {}
            Some(_) => {
                return Err(GoogleError::invalid(
                    "itemBasedRefund.productId is not an item of this subscription.",
                ))
            }
            None => {
                return Err(GoogleError::required(
                    "revocationContext.itemBasedRefund.productId",
                ))
            }
        }
    }
    if !p.sub_state.is_live() {
        return Err(GoogleError::invalid_purchase_state());
    }
    let now = m.now_ms();
    m.revoke(token, now, 1).map_err(GoogleError::invalid)?;
    Ok(Reply::resource(&Empty {}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeferRequest {
    deferral_context: Option<DeferralContext>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeferralContext {
    defer_duration: Option<String>,
    etag: Option<String>,
    #[serde(default)]
    validate_only: bool,
}

/// `subscriptionsv2.defer`: moves the expiry (and next renewal) later. The `etag` must be
/// the current one (`409 concurrentUpdate` otherwise). Emits SUBSCRIPTION_DEFERRED.
pub fn defer(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let req: DeferRequest = parse_body(&call.body)?;
    let ctx = req
        .deferral_context
        .ok_or_else(|| GoogleError::required("deferralContext"))?;
    let duration = ctx
        .defer_duration
        .ok_or_else(|| GoogleError::required("deferralContext.deferDuration"))?;
    let ms = parse_google_duration(&duration)
        .filter(|ms| *ms > 0)
        .ok_or_else(|| {
            GoogleError::invalid(format!(
                "Invalid value at 'deferral_context.defer_duration', \"{duration}\""
            ))
        })?;
    if ms > 365 * 24 * 3600 * 1000 {
        return Err(GoogleError::invalid(
            "The deferral must be at most one year.",
        ));
    }
    let etag = ctx
        .etag
        .ok_or_else(|| GoogleError::required("deferralContext.etag"))?;
    let token = call.param("token");
    let p = subscription(m, token)?;
    if !matches!(
        p.sub_state,
        SubState::Active | SubState::Canceled | SubState::InGracePeriod
    ) {
        return Err(GoogleError::invalid_purchase_state());
    }
    if etag != p.etag() {
        return Err(GoogleError::new(
            409,
            "androidpublisher",
            "concurrentUpdate",
            "The etag does not match the subscription's current etag.",
        ));
    }
    let new_expiry = p.expiry_ms + ms;
    let product_id = p.product_id.clone();
    if !ctx.validate_only {
        let now = m.now_ms();
        let p = m.purchases.get_mut(token).expect("checked");
        p.expiry_ms = new_expiry;
        p.version += 1;
        m.notify_subscription(now, token, SubscriptionNotificationType::Deferred);
    }
    Ok(Reply::resource(&DeferSubscriptionPurchaseResponse {
        item_expiry_time_details: vec![ItemExpiryTimeDetails {
            product_id: Some(product_id),
            expiry_time: datetime(new_expiry),
        }],
    }))
}
