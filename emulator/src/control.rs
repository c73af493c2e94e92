//! The control API, `/emulator/v1/…` (not Google's): make purchases, drive their lifecycles,
//! move the clock, inject faults, read call counts and notifications, reset.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::clock::rfc3339;
use crate::error::ApiError;
use crate::faults::Faults;
use crate::state::{Kind, Model, NewPurchase, ProductState, Purchase, ReplacementMode};
use crate::SharedState;

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

/// `POST /emulator/v1/purchases`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreatePurchase {
    /// Product id (one-time sku or subscription product id).
    pub product_id: String,
    /// `product` or `subscription`; default: whichever the catalog has.
    pub kind: Option<String>,
    /// `purchased` (default) or `pending`.
    pub state: Option<String>,
    /// The Play account that owns it (device-side listing); default the device account.
    pub account_id: Option<String>,
    /// A license-tester purchase (`purchaseType: 0`, `testPurchase {}`).
    #[serde(default)]
    pub test: bool,
    /// Quantity (one-time; default 1).
    pub quantity: Option<u32>,
    /// Base plan (subscriptions; default the backwards-compatible or first active one).
    pub base_plan_id: Option<String>,
    /// `obfuscatedExternalAccountId` as the app would have set it.
    pub obfuscated_external_account_id: Option<String>,
    /// `obfuscatedExternalProfileId`.
    pub obfuscated_external_profile_id: Option<String>,
    /// Region (default `US`).
    pub region_code: Option<String>,
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
    let mut body = json!({ "purchaseToken": token, "orderId": order });
    if let (Some(b), Value::Object(v)) = (body.as_object_mut(), view) {
        for (k, val) in v {
            b.entry(k).or_insert(val);
        }
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// The control API's view of a purchase.
pub fn purchase_view(m: &Model, p: &Purchase) -> Value {
    let state = match p.kind {
        Kind::Product => match p.product_state {
            ProductState::Purchased => "purchased",
            ProductState::Canceled => "canceled",
            ProductState::Pending => "pending",
        }
        .to_string(),
        Kind::Subscription => p.sub_state.as_str().to_string(),
    };
    let mut v = json!({
        "purchaseToken": p.token,
        "kind": if p.kind == Kind::Product { "product" } else { "subscription" },
        "productId": p.product_id,
        "accountId": p.account_id,
        "orderId": p.order_id,
        "latestOrderId": p.latest_successful_order_id(),
        "state": state,
        "acknowledged": p.acknowledged,
        "consumed": p.consumed,
        "voided": p.voided,
        "test": p.test,
        "quantity": p.quantity,
        "refundableQuantity": p.refundable_quantity(),
        "purchaseTime": rfc3339(p.created_ms),
        "owned": p.is_owned(m.now_ms()),
    });
    if p.kind == Kind::Subscription {
        v["expiryTime"] = json!(rfc3339(p.expiry_ms));
        v["autoRenewing"] = json!(p.auto_renew);
        v["basePlanId"] = json!(p.plan.as_ref().map(|p| p.base_plan_id.clone()));
    }
    if let Some(t) = &p.linked_purchase_token {
        v["linkedPurchaseToken"] = json!(t);
    }
    if let Some(t) = &p.replaced_by {
        v["replacedBy"] = json!(t);
    }
    v
}

async fn list_purchases(State(s): State<SharedState>) -> Json<Value> {
    let mut m = s.lock();
    m.settle();
    let list: Vec<Value> = m
        .purchase_order
        .iter()
        .map(|t| purchase_view(&m, &m.purchases[t]))
        .collect();
    Json(json!({ "purchases": list }))
}

async fn show_purchase(
    State(s): State<SharedState>,
    Path(token): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut m = s.lock();
    m.settle();
    let p = m
        .purchases
        .get(&token)
        .ok_or_else(|| ApiError::not_found("unknown_token", "no purchase with this token"))?;
    Ok(Json(purchase_view(&m, p)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct VoidRequest {
    reason: Option<i32>,
    source: Option<i32>,
    quantity: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ReplaceRequest {
    product_id: String,
    base_plan_id: Option<String>,
    mode: Option<String>,
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
            let p = &m.purchases[&new];
            let mut v = purchase_view(&m, p);
            v["mode"] = json!(mode.as_str());
            return Ok((StatusCode::CREATED, Json(v)).into_response());
        }
        "renew" | "cancel" | "expire" | "grace" | "hold" | "recover" | "pause" | "resume"
        | "revoke" | "restart" => {
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

fn clock_view(m: &Model) -> Value {
    let now = m.now_ms();
    json!({ "now": rfc3339(now), "nowMillis": now.to_string(), "offsetSeconds": m.clock_offset_ms / 1000 })
}

async fn clock(State(s): State<SharedState>) -> Json<Value> {
    Json(clock_view(&s.lock()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn advance(State(s): State<SharedState>, body: Bytes) -> Result<Json<Value>, ApiError> {
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

async fn faults_injected(State(s): State<SharedState>) -> Json<Value> {
    Json(json!(s.lock().faults_injected))
}

async fn calls(State(s): State<SharedState>) -> Json<Value> {
    Json(json!(crate::calls::snapshot(&s.lock())))
}

async fn clear_calls(State(s): State<SharedState>) -> StatusCode {
    s.lock().calls.clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(s): State<SharedState>) -> StatusCode {
    s.lock().reset(&s.config);
    StatusCode::NO_CONTENT
}

async fn notifications(State(s): State<SharedState>) -> Json<Value> {
    Json(json!({ "notifications": s.lock().notifications }))
}

async fn test_notification(State(s): State<SharedState>) -> Response {
    let mut m = s.lock();
    m.notify_test();
    let record = m.notifications.last().cloned();
    (StatusCode::CREATED, Json(json!(record))).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Redeliver {
    forge: Option<crate::rtdn::Forge>,
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
            Ok((
                StatusCode::ACCEPTED,
                Json(json!({ "messageId": record.message_id })),
            )
                .into_response())
        }
        Some(forge) => {
            let status = crate::rtdn::push_once(&s, &record, Some(forge))
                .await
                .map_err(|e| ApiError::conflict("no_push_url", e))?;
            Ok(Json(json!({ "messageId": record.message_id, "status": status })).into_response())
        }
    }
}

async fn get_quotas(State(s): State<SharedState>) -> Json<Value> {
    Json(json!(s.lock().quotas))
}

async fn set_quotas(State(s): State<SharedState>, body: Bytes) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!(quotas)))
}

async fn get_rtdn(State(s): State<SharedState>) -> Json<Value> {
    let r = s.rtdn.read().map(|r| r.clone()).unwrap_or_default();
    Json(json!({
        "pushUrl": r.push_url,
        "audience": r.audience.clone().or(r.push_url.clone()),
        "serviceAccountEmail": r.service_account_email,
        "subscription": r.subscription,
        "jwksUrl": format!("{}/emulator/v1/oidc/certs", s.base_url),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SetRtdn {
    push_url: Option<String>,
    audience: Option<String>,
}

async fn set_rtdn(State(s): State<SharedState>, body: Bytes) -> Result<Json<Value>, ApiError> {
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
