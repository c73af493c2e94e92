//! The control API, `/emulator/v1/…` (not Google's): make purchases, drive their lifecycles,
//! move the clock, inject faults, read call counts and notifications, reset.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::faults::Faults;
use crate::rtdn::{Forge, NotificationRecord};
use crate::state::{Kind, Model, NewPurchase, ProductState, Purchase, ReplacementMode};
use crate::{Quotas, SharedState};

/// The control routes.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/emulator/v1/service-account.json", get(service_account))
        .route("/emulator/v1/oidc/certs", get(certs))
        .route("/emulator/v1/purchases", post(create).get(list_purchases))
        .route(
            "/emulator/v1/purchases/{token_action}",
            get(show_purchase).post(action),
        )
        .route("/emulator/v1/clock", get(clock))
        .route("/emulator/v1/clock:advance", post(advance))
        .route(
            "/emulator/v1/faults",
            put(set_faults).delete(clear_faults).get(get_faults),
        )
        .route("/emulator/v1/faults/injected", get(faults_injected))
        .route("/emulator/v1/calls", get(calls).delete(clear_calls))
        .route(
            "/emulator/v1/external-transactions",
            get(crate::google::external_transactions::report_delays),
        )
        .route(
            "/emulator/v1/external-transaction-tokens",
            post(crate::google::external_transactions::issue_token),
        )
        .route("/emulator/v1/reset", post(reset))
        .route("/emulator/v1/notifications", get(notifications))
        .route("/emulator/v1/notifications:test", post(test_notification))
        .route("/emulator/v1/notifications/{id_action}", post(redeliver))
        .route("/emulator/v1/quotas", get(get_quotas).put(set_quotas))
        .route("/emulator/v1/rtdn", get(get_rtdn).put(set_rtdn))
        .route(
            "/emulator/v1/access-tokens:expire",
            post(expire_access_tokens),
        )
}

/// Parses a JSON body (empty = `{}`), refusing unknown fields, as `400 invalid_request`.
pub(crate) fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))?
    };
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))
}

async fn service_account(State(s): State<SharedState>) -> Json<Value> {
    Json(s.keys.service_account_json(&s.base_url))
}

async fn certs(State(s): State<SharedState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(s.keys.jwks()),
    )
        .into_response()
}

/// The body of `POST /emulator/v1/purchases`: a purchase made on Play's side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePurchase {
    /// Product id (one-time sku or subscription product id).
    pub product_id: String,
    /// `product` or `subscription`; default: whichever the catalog has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `purchased` (default) or `pending`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The Play account that owns it (device-side listing); default the device account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// A license-tester purchase (`purchaseType: 0`, `testPurchase {}`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// Quantity (one-time; default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// Base plan (subscriptions; default the backwards-compatible or first active one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// `obfuscatedExternalAccountId` as the app would have set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_account_id: Option<String>,
    /// `obfuscatedExternalProfileId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obfuscated_external_profile_id: Option<String>,
    /// Region (default `US`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
}

impl CreatePurchase {
    /// A purchase of `product_id` with every other field at its default.
    pub fn of(product_id: impl Into<String>) -> Self {
        CreatePurchase {
            product_id: product_id.into(),
            ..Self::default()
        }
    }
}

pub(crate) fn create_purchase(
    m: &mut Model,
    req: CreatePurchase,
) -> Result<(String, String), ApiError> {
    m.settle();
    let is_sub = m.subscriptions.contains_key(&req.product_id);
    let is_product = m.in_app_products.contains_key(&req.product_id)
        || m.one_time_products.contains_key(&req.product_id);
    let kind = match req.kind.as_deref() {
        Some("product") => Kind::Product,
        Some("subscription") => Kind::Subscription,
        None if is_sub => Kind::Subscription,
        None => Kind::Product,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "kind must be product or subscription, not {other:?}"
            )))
        }
    };
    if (kind == Kind::Product && !is_product) || (kind == Kind::Subscription && !is_sub) {
        return Err(ApiError::not_found(
            "unknown_product",
            format!("no {kind:?} {:?} in the catalog", req.product_id).to_lowercase(),
        ));
    }
    let pending = match req.state.as_deref() {
        None | Some("purchased") => false,
        Some("pending") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "state must be purchased or pending, not {other:?}"
            )))
        }
    };
    let quantity = req.quantity.unwrap_or(1);
    if quantity == 0 || (kind == Kind::Subscription && quantity != 1) {
        return Err(ApiError::bad_request(
            "quantity must be at least 1 (and 1 for subscriptions)",
        ));
    }
    let token = m
        .create_purchase(NewPurchase {
            kind,
            product_id: req.product_id,
            base_plan_id: req.base_plan_id,
            pending,
            account_id: req.account_id.unwrap_or_else(|| m.device_account.clone()),
            obfuscated_account_id: req.obfuscated_external_account_id,
            obfuscated_profile_id: req.obfuscated_external_profile_id,
            test: req.test,
            quantity,
            region_code: req.region_code.unwrap_or_else(|| "US".into()),
        })
        .map_err(|e| ApiError::conflict("product_unavailable", e))?;
    let order = m.purchases[&token].order_id.clone();
    Ok((token, order))
}

async fn create(State(s): State<SharedState>, body: Bytes) -> Result<Response, ApiError> {
    let req: CreatePurchase = parse(&body)?;
    let mut m = s.lock();
    let (token, order) = create_purchase(&mut m, req)?;
    let view = purchase_view(&m, &m.purchases[&token]);
    debug_assert_eq!((&view.purchase_token, &view.order_id), (&token, &order));
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// The control API's view of a purchase: the answer of `GET /emulator/v1/purchases/{token}`,
/// of `POST /emulator/v1/purchases` and of every purchase action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseView {
    /// The purchase token.
    pub purchase_token: String,
    /// `product` or `subscription`.
    pub kind: String,
    /// The product id.
    pub product_id: String,
    /// The Play account that owns it.
    pub account_id: String,
    /// The first order id (`GPA.…`).
    pub order_id: String,
    /// The latest successful order id (a renewal's `GPA.….N`); none before the first
    /// charge (a pending purchase, a deferred replacement).
    pub latest_order_id: Option<String>,
    /// One-time: `purchased`, `canceled` or `pending`; subscriptions: Google's
    /// `subscriptionState` (`SUBSCRIPTION_STATE_ACTIVE`, …).
    pub state: String,
    /// Acknowledged by the developer.
    pub acknowledged: bool,
    /// Consumed by the developer (one-time).
    pub consumed: bool,
    /// Voided (refunded or revoked).
    pub voided: bool,
    /// A license-tester purchase.
    pub test: bool,
    /// Quantity bought.
    pub quantity: u32,
    /// Quantity not yet voided.
    pub refundable_quantity: u32,
    /// Purchase time (virtual clock), RFC 3339.
    pub purchase_time: String,
    /// Whether the account owns it now (what the device-side listing shows).
    pub owned: bool,
    /// Subscriptions: expiry time, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry_time: Option<String>,
    /// Subscriptions: whether it renews.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_renewing: Option<bool>,
    /// Subscriptions: the base plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// The token this purchase replaced (upgrade, downgrade or resubscription).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked_purchase_token: Option<String>,
    /// The token that replaced this purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
}

/// The answer of `GET /emulator/v1/purchases`: every purchase, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseList {
    /// The purchases.
    pub purchases: Vec<PurchaseView>,
}

/// The control API's view of a purchase.
pub fn purchase_view(m: &Model, p: &Purchase) -> PurchaseView {
    let state = match p.kind {
        Kind::Product => match p.product_state {
            ProductState::Purchased => "purchased",
            ProductState::Canceled => "canceled",
            ProductState::Pending => "pending",
        }
        .to_string(),
        Kind::Subscription => p.sub_state.as_str().to_string(),
    };
    let sub = p.kind == Kind::Subscription;
    PurchaseView {
        purchase_token: p.token.clone(),
        kind: if sub { "subscription" } else { "product" }.into(),
        product_id: p.product_id.clone(),
        account_id: p.account_id.clone(),
        order_id: p.order_id.clone(),
        latest_order_id: p.latest_successful_order_id(),
        state,
        acknowledged: p.acknowledged,
        consumed: p.consumed,
        voided: p.voided,
        test: p.test,
        quantity: p.quantity,
        refundable_quantity: p.refundable_quantity(),
        purchase_time: rfc3339(p.created_ms),
        owned: p.is_owned(m.now_ms()),
        expiry_time: sub.then(|| rfc3339(p.expiry_ms)),
        auto_renewing: sub.then_some(p.auto_renew),
        base_plan_id: p
            .plan
            .as_ref()
            .filter(|_| sub)
            .map(|p| p.base_plan_id.clone()),
        linked_purchase_token: p.linked_purchase_token.clone(),
        replaced_by: p.replaced_by.clone(),
    }
}

async fn list_purchases(State(s): State<SharedState>) -> Json<PurchaseList> {
    let mut m = s.lock();
    m.settle();
    let purchases = m
        .purchase_order
        .iter()
        .map(|t| purchase_view(&m, &m.purchases[t]))
        .collect();
    Json(PurchaseList { purchases })
}

async fn show_purchase(
    State(s): State<SharedState>,
    Path(token): Path<String>,
) -> Result<Json<PurchaseView>, ApiError> {
    let mut m = s.lock();
    m.settle();
    let p = m
        .purchases
        .get(&token)
        .ok_or_else(|| ApiError::not_found("unknown_token", "no purchase with this token"))?;
    Ok(Json(purchase_view(&m, p)))
}

/// The body of `POST /emulator/v1/purchases/{token}:void`: a refund or revocation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VoidRequest {
    /// `voidedReason`, 0–8 (default 0, other).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<i32>,
    /// `voidedSource`: 0 user (default), 1 developer, 2 Google.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<i32>,
    /// Units to void of a multi-quantity purchase (default all that are left).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
}

/// The body of `POST /emulator/v1/purchases/{token}:replace`: an upgrade or downgrade.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplaceRequest {
    /// The new subscription product.
    pub product_id: String,
    /// Its base plan (default as for a new purchase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_plan_id: Option<String>,
    /// The replacement mode (Play Billing's names, e.g. `WITH_TIME_PRORATION`, the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
}

/// The answer of `:replace` (`201`): the new purchase and the mode applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The new purchase (its `linkedPurchaseToken` is the old token).
    #[serde(flatten)]
    pub purchase: PurchaseView,
    /// The replacement mode applied.
    pub mode: String,
}

/// A subscription lifecycle step, `POST /emulator/v1/purchases/{token}:{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionAction {
    /// `renew`: a renewal now (active, in grace or on hold).
    Renew,
    /// `cancel`: the user cancels (stays entitled until expiry).
    Cancel,
    /// `expire`: ends now.
    Expire,
    /// `grace`: a failed renewal, into the grace period.
    Grace,
    /// `hold`: into account hold.
    Hold,
    /// `recover`: payment fixed, out of grace or hold.
    Recover,
    /// `pause`: paused, resuming after `seconds` (default one month past expiry).
    Pause {
        /// Seconds until it resumes by itself.
        seconds: Option<i64>,
    },
    /// `resume`: a paused subscription resumes now.
    Resume,
    /// `revoke`: refunded and revoked by Google.
    Revoke,
    /// `restart`: a canceled, not yet expired subscription is restored.
    Restart,
}

impl SubscriptionAction {
    /// Every action's name as it appears in the path.
    pub const NAMES: [&'static str; 10] = [
        "renew", "cancel", "expire", "grace", "hold", "recover", "pause", "resume", "revoke",
        "restart",
    ];

    /// The name in the path.
    pub fn name(self) -> &'static str {
        let i = match self {
            Self::Renew => 0,
            Self::Cancel => 1,
            Self::Expire => 2,
            Self::Grace => 3,
            Self::Hold => 4,
            Self::Recover => 5,
            Self::Pause { .. } => 6,
            Self::Resume => 7,
            Self::Revoke => 8,
            Self::Restart => 9,
        };
        Self::NAMES[i]
    }

    /// The request body (`{"seconds": n}` for a pause with a duration, else `{}`).
    pub fn body(self) -> Value {
        match self {
            Self::Pause { seconds: Some(s) } => json!({ "seconds": s }),
            _ => json!({}),
        }
    }
}

async fn action(
    State(s): State<SharedState>,
    Path(token_action): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some((token, action)) = token_action.rsplit_once(':') else {
        return Err(ApiError::not_found(
            "unknown_action",
            "use POST /emulator/v1/purchases/{token}:{action}",
        ));
    };
    let mut m = s.lock();
    m.settle();
    if !m.purchases.contains_key(token) {
        return Err(ApiError::not_found(
            "unknown_token",
            "no purchase with this token",
        ));
    }
    let refused = |e: String| ApiError::conflict("invalid_state", e);
    match action {
        "complete" => m.complete(token).map_err(refused)?,
        "cancel-pending" => m.cancel_pending(token).map_err(refused)?,
        "void" => {
            let req: VoidRequest = parse(&body)?;
            let reason = req.reason.unwrap_or(0);
            if !(0..=8).contains(&reason) {
                return Err(ApiError::bad_request("reason must be between 0 and 8"));
            }
            let source = req.source.unwrap_or(0);
            if !(0..=2).contains(&source) {
                return Err(ApiError::bad_request(
                    "source must be 0 (user), 1 (developer) or 2 (Google)",
                ));
            }
            let now = m.now_ms();
            m.void(token, now, source, reason, req.quantity)
                .map_err(refused)?;
        }
        "replace" => {
            let req: ReplaceRequest = parse(&body)?;
            let mode = match req.mode.as_deref() {
                None => ReplacementMode::WithTimeProration,
                Some(s) => ReplacementMode::parse(s).ok_or_else(|| {
                    ApiError::bad_request(format!("unknown replacement mode {s:?}"))
                })?,
            };
            let new = m
                .replace(token, &req.product_id, req.base_plan_id.as_deref(), mode)
                .map_err(refused)?;
            let replacement = Replacement {
                purchase: purchase_view(&m, &m.purchases[&new]),
                mode: mode.as_str().to_string(),
            };
            return Ok((StatusCode::CREATED, Json(replacement)).into_response());
        }
        name if SubscriptionAction::NAMES.contains(&name) => {
            let body: Value = parse(&body)?;
            m.subscription_action(token, action, &body)
                .map_err(refused)?;
        }
        other => {
            return Err(ApiError::not_found(
                "unknown_action",
                format!("unknown action {other:?}"),
            ))
        }
    }
    let v = purchase_view(&m, &m.purchases[token]);
    Ok(Json(v).into_response())
}

/// The longest single `clock:advance`, ten years.
pub const MAX_ADVANCE_SECONDS: i64 = 10 * 366 * 24 * 3600;

/// The virtual clock, `GET /emulator/v1/clock` and the answer of `clock:advance`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockView {
    /// Now on the virtual clock, RFC 3339.
    pub now: String,
    /// Now in milliseconds since the epoch, as a decimal string (like Google's int64s).
    pub now_millis: String,
    /// How far the virtual clock is ahead of the real one, in seconds.
    pub offset_seconds: i64,
}

fn clock_view(m: &Model) -> ClockView {
    let now = m.now_ms();
    ClockView {
        now: rfc3339(now),
        now_millis: now.to_string(),
        offset_seconds: m.clock_offset_ms / 1000,
    }
}

async fn clock(State(s): State<SharedState>) -> Json<ClockView> {
    Json(clock_view(&s.lock()))
}

/// The body of `POST /emulator/v1/clock:advance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    /// Seconds to move the virtual clock forward (not negative, at most
    /// [`MAX_ADVANCE_SECONDS`] in one step).
    pub seconds: i64,
}

async fn advance(State(s): State<SharedState>, body: Bytes) -> Result<Json<ClockView>, ApiError> {
    let req: Advance = parse(&body)?;
    if req.seconds < 0 {
        return Err(ApiError::bad_request(
            "seconds must not be negative: time only moves forward",
        ));
    }
    let mut m = s.lock();
    m.settle();
    m.clock_offset_ms += req.seconds * 1000;
    m.settle();
    Ok(Json(clock_view(&m)))
}

async fn set_faults(State(s): State<SharedState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let faults: Faults = parse(&body)?;
    faults.validate().map_err(ApiError::bad_request)?;
    s.lock().faults = Some(faults.clone());
    Ok(Json(serde_json::to_value(faults).unwrap_or_default()))
}

async fn clear_faults(State(s): State<SharedState>) -> StatusCode {
    s.lock().faults = None;
    StatusCode::NO_CONTENT
}

async fn get_faults(State(s): State<SharedState>) -> Json<Value> {
    Json(
        s.lock()
            .faults
            .as_ref()
            .map(|f| serde_json::to_value(f).unwrap_or_default())
            .unwrap_or(json!({})),
    )
}

async fn faults_injected(State(s): State<SharedState>) -> Json<BTreeMap<String, u64>> {
    Json(s.lock().faults_injected.clone())
}

async fn calls(State(s): State<SharedState>) -> Json<BTreeMap<String, u64>> {
    Json(crate::calls::snapshot(&s.lock()))
}

async fn clear_calls(State(s): State<SharedState>) -> StatusCode {
    s.lock().calls.clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(s): State<SharedState>) -> StatusCode {
    s.lock().reset(&s.config);
    StatusCode::NO_CONTENT
}

/// The answer of `GET /emulator/v1/notifications`: every notification sent, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NotificationList {
    /// The notifications.
    pub notifications: Vec<NotificationRecord>,
}

async fn notifications(State(s): State<SharedState>) -> Json<NotificationList> {
    Json(NotificationList {
        notifications: s.lock().notifications.clone(),
    })
}

async fn test_notification(State(s): State<SharedState>) -> Response {
    let mut m = s.lock();
    m.notify_test();
    let record = m.notifications.last().cloned();
    (StatusCode::CREATED, Json(json!(record))).into_response()
}

/// The body of `POST /emulator/v1/notifications/{messageId}:redeliver`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redeliver {
    /// Push once with this spoiled OIDC token instead of redelivering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<Forge>,
}

/// The answer of `:redeliver`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redelivery {
    /// The notification's `messageId`.
    pub message_id: String,
    /// With `forge`: the push endpoint's status (none when it did not answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
}

/// `POST /emulator/v1/notifications/{messageId}:redeliver` `{forge?}`: sends a notification
/// again with the same `messageId` (Pub/Sub's at-least-once duplicates; retried until
/// acknowledged, `202`), or, with `forge`, once with a spoiled OIDC token, answering the
/// endpoint's status (`{"status": 401}`).
async fn redeliver(
    State(s): State<SharedState>,
    Path(id_action): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Some((id, "redeliver")) = id_action.rsplit_once(':') else {
        return Err(ApiError::not_found(
            "unknown_action",
            "use POST /emulator/v1/notifications/{messageId}:redeliver",
        ));
    };
    let req: Redeliver = parse(&body)?;
    let record = {
        let mut m = s.lock();
        let generation = m.generation;
        let r = m
            .notifications
            .iter_mut()
            .find(|r| r.message_id == id)
            .ok_or_else(|| {
                ApiError::not_found(
                    "unknown_notification",
                    "no notification with this messageId",
                )
            })?;
        if req.forge.is_none() {
            r.delivered = false;
        }
        r.generation = generation;
        r.clone()
    };
    if s.rtdn.read().map(|r| r.push_url.is_none()).unwrap_or(true) {
        return Err(ApiError::conflict(
            "no_push_url",
            "no RTDN push URL is configured",
        ));
    }
    match req.forge {
        None => {
            s.lock().outbox.send(&record);
            let answer = Redelivery {
                message_id: record.message_id,
                status: None,
            };
            Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
        }
        Some(forge) => {
            let status = crate::rtdn::push_once(&s, &record, Some(forge))
                .await
                .map_err(|e| ApiError::conflict("no_push_url", e))?;
            Ok(Json(Redelivery {
                message_id: record.message_id,
                status,
            })
            .into_response())
        }
    }
}

async fn get_quotas(State(s): State<SharedState>) -> Json<Quotas> {
    Json(s.lock().quotas)
}

async fn set_quotas(State(s): State<SharedState>, body: Bytes) -> Result<Json<Quotas>, ApiError> {
    let patch: serde_json::Map<String, Value> = parse(&body)?;
    let mut m = s.lock();
    let mut quotas = m.quotas;
    for (name, value) in patch {
        let n = value.as_u64().ok_or_else(|| {
            ApiError::bad_request(format!("{name} must be a non-negative integer"))
        })?;
        quotas.set(&name, n).map_err(ApiError::bad_request)?;
    }
    m.quotas = quotas;
    Ok(Json(quotas))
}

/// Where and how notifications are pushed, `GET /emulator/v1/rtdn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RtdnView {
    /// The push endpoint (none: notifications are only recorded).
    pub push_url: Option<String>,
    /// The OIDC token's `aud` (default the push URL).
    pub audience: Option<String>,
    /// The push service account (`email` claim).
    pub service_account_email: String,
    /// The Pub/Sub subscription name in the envelope.
    pub subscription: String,
    /// Where the push tokens' signing keys are published.
    pub jwks_url: String,
}

async fn get_rtdn(State(s): State<SharedState>) -> Json<RtdnView> {
    let r = s.rtdn.read().map(|r| r.clone()).unwrap_or_default();
    Json(RtdnView {
        audience: r.audience.clone().or(r.push_url.clone()),
        push_url: r.push_url,
        service_account_email: r.service_account_email,
        subscription: r.subscription,
        jwks_url: format!("{}/emulator/v1/oidc/certs", s.base_url),
    })
}

/// The body of `PUT /emulator/v1/rtdn`: replaces the push endpoint and audience.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SetRtdn {
    /// The push endpoint (none: stop pushing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_url: Option<String>,
    /// The OIDC token's `aud` (none: the push URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

async fn set_rtdn(State(s): State<SharedState>, body: Bytes) -> Result<Json<RtdnView>, ApiError> {
    let req: SetRtdn = parse(&body)?;
    if let Some(u) = &req.push_url {
        url::Url::parse(u).map_err(|e| ApiError::bad_request(format!("pushUrl: {e}")))?;
    }
    if let Ok(mut r) = s.rtdn.write() {
        r.push_url = req.push_url;
        r.audience = req.audience;
    }
    Ok(get_rtdn(State(s)).await)
}

async fn expire_access_tokens(State(s): State<SharedState>) -> StatusCode {
    if let Ok(mut t) = s.access_tokens.lock() {
        t.clear();
    }
    StatusCode::NO_CONTENT
}
