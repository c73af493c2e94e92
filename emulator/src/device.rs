//! The device side, for the browser sandbox (`/emulator/v1/sandbox.js`): what the Play
//! Billing app on a phone would answer to the Digital Goods API and the Play payment sheet,
//! backed by the same state as Google's side. Every route answers CORS requests from any
//! origin.
//!
//! Errors are `{"error":{"code","message","name","domMessage"}}`: `name`/`domMessage` are the
//! DOMException the TWA would reject with (a failed or refused payment is always
//! `AbortError` "Payment app returned RESULT_CANCELED code"; Digital Goods failures are
//! `OperationError` with Chromium's messages, bad arguments `TypeError`).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use play_model::subscriptions::Subscription;
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::cors::CorsLayer;

use crate::catalog::{decimal_to_micros, micros_to_decimal};
use crate::control::parse;
use crate::error::ApiError;
use crate::state::{Kind, Model, NewPurchase, ProductState, ReplacementMode};
use crate::SharedState;

/// The sandbox script (written separately, served as is).
pub const SANDBOX_JS: &str = include_str!("../assets/sandbox.js");

const RESULT_CANCELED: &str = "Payment app returned RESULT_CANCELED code";

/// The device routes, with CORS.
pub fn router() -> Router<SharedState> {
    Router::new()
        .route("/emulator/v1/sandbox.js", get(sandbox_js))
        .route("/emulator/v1/device/items", get(items))
        .route(
            "/emulator/v1/device/purchases",
            post(purchase).get(purchases),
        )
        .route("/emulator/v1/device/history", get(history))
        .route("/emulator/v1/device/consume", post(consume))
        .layer(CorsLayer::permissive())
}

async fn sandbox_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SANDBOX_JS,
    )
        .into_response()
}

/// (title, description) of a `Subscription`'s listing: `en-US`, else the first.
fn listing(subscription: &Subscription) -> (String, String) {
    let listing = subscription
        .listing(Some("en-US"))
        .or_else(|| subscription.listing(None))
        .cloned()
        .unwrap_or_default();
    (
        listing.title.unwrap_or_default(),
        listing.description.unwrap_or_default(),
    )
}

/// The Digital Goods `ItemDetails` of a catalog item (active items only).
pub fn item_details(m: &Model, id: &str) -> Option<Value> {
    if m.product_is_active(id) {
        let p = &m.in_app_products[id];
        let listing = p.listing(None).cloned().unwrap_or_default();
        let price = p
            .default_price
            .clone()
            .unwrap_or_else(|| play_model::Price::new(0, "USD"));
        return Some(json!({
            "itemId": id,
            "title": listing.title.unwrap_or_default(),
            "description": listing.description.unwrap_or_default(),
            "price": { "currency": price.currency, "value": micros_to_decimal(price.price_micros) },
            "type": "product",
            "iconURLs": [],
        }));
    }
    let plan = m.plan(id, None)?;
    let (title, description) = listing(&m.subscriptions[id]);
    let mut item = json!({
        "itemId": id,
        "title": title,
        "description": description,
        "price": { "currency": plan.currency, "value": micros_to_decimal(plan.price_micros) },
        "type": "subscription",
        "subscriptionPeriod": plan.period,
        "iconURLs": [],
    });
    if let Some(offer) = m.intro_offers.get(id) {
        if let Some(trial) = &offer.free_trial_period {
            item["freeTrialPeriod"] = json!(trial);
        }
        if let Some(price) = offer
            .introductory_price
            .as_deref()
            .and_then(decimal_to_micros)
        {
            item["introductoryPrice"] =
                json!({ "currency": plan.currency, "value": micros_to_decimal(price) });
            item["introductoryPricePeriod"] = json!(offer.introductory_price_period);
            item["introductoryPriceCycles"] = json!(offer.introductory_price_cycles.unwrap_or(1));
        }
    }
    Some(item)
}

#[derive(Deserialize)]
struct ItemsQuery {
    ids: Option<String>,
}

async fn items(
    State(s): State<SharedState>,
    Query(q): Query<ItemsQuery>,
) -> Result<Json<Value>, ApiError> {
    let ids: Vec<String> = q
        .ids
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if ids.is_empty() {
        return Err(ApiError::bad_request("ids must name at least one item")
            .dom("TypeError", "The itemIds list must not be empty."));
    }
    let m = s.lock();
    Ok(Json(json!(ids
        .iter()
        .filter_map(|id| item_details(&m, id))
        .collect::<Vec<_>>())))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DevicePurchase {
    sku: String,
    old_sku: Option<String>,
    purchase_token: Option<String>,
    replacement_mode: Option<String>,
    proration_mode: Option<String>,
    instrument: Option<String>,
    account_id: Option<String>,
    #[serde(default)]
    test: bool,
}

fn canceled(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message).dom("AbortError", RESULT_CANCELED)
}

async fn purchase(State(s): State<SharedState>, body: Bytes) -> Result<Response, ApiError> {
    let req: DevicePurchase = parse(&body)?;
    let mut m = s.lock();
    m.settle();
    let account = req
        .account_id
        .clone()
        .unwrap_or_else(|| m.device_account.clone());
    let kind = if m.product_is_active(&req.sku) {
        Kind::Product
    } else if m.plan(&req.sku, None).is_some() {
        Kind::Subscription
    } else {
        return Err(canceled(
            StatusCode::NOT_FOUND,
            "item_unavailable",
            format!("{:?} is not an active item", req.sku),
        ));
    };
    let mode_name = req.replacement_mode.clone().or(req.proration_mode.clone());
    let mode = match &mode_name {
        None => None,
        Some(name) => match ReplacementMode::parse(name) {
            Some(ReplacementMode::WithoutProration) => {
                return Err(canceled(
                    StatusCode::BAD_REQUEST,
                    "replacement_mode_refused",
                    "withoutProration is disabled by Play",
                ));
            }
            Some(mode) => Some(mode),
            None => None, // the TWA silently ignores unknown modes
        },
    };
    if mode_name.is_some() && req.purchase_token.is_none() {
        return Err(canceled(
            StatusCode::BAD_REQUEST,
            "missing_purchase_token",
            "a replacement mode needs the current subscription's purchaseToken",
        ));
    }
    let instrument = req.instrument.as_deref().unwrap_or("approve");
    match instrument {
        "approve" | "pending" => {}
        "decline" => {
            return Err(canceled(
                StatusCode::PAYMENT_REQUIRED,
                "declined",
                "the payment instrument was declined",
            ))
        }
        "cancel" => {
            return Err(canceled(
                StatusCode::BAD_REQUEST,
                "canceled",
                "the user canceled the payment sheet",
            ))
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "instrument must be approve, decline, pending or cancel, not {other:?}"
            )))
        }
    }
    let pending = instrument == "pending";

    // A replacement (upgrade / downgrade).
    if let Some(old) = &req.purchase_token {
        let p = m.purchases.get(old).filter(|p| {
            p.account_id == account && p.kind == Kind::Subscription && p.is_owned(m.now_ms())
        });
        let Some(p) = p else {
            return Err(canceled(
                StatusCode::NOT_FOUND,
                "item_not_owned",
                "the purchaseToken is not a subscription this account owns",
            ));
        };
        if req.old_sku.as_ref().is_some_and(|o| *o != p.product_id) {
            return Err(canceled(
                StatusCode::BAD_REQUEST,
                "old_sku_mismatch",
                "oldSku is not the product of purchaseToken",
            ));
        }
        if kind != Kind::Subscription {
            return Err(canceled(
                StatusCode::BAD_REQUEST,
                "not_a_subscription",
                "only a subscription can replace a subscription",
            ));
        }
        if pending {
            return Err(canceled(
                StatusCode::BAD_REQUEST,
                "pending_replacement",
                "a replacement cannot be paid with a pending instrument",
            ));
        }
        let mode = mode.unwrap_or(ReplacementMode::WithTimeProration);
        let token = m
            .replace(old, &req.sku, None, mode)
            .map_err(|e| canceled(StatusCode::CONFLICT, "replacement_refused", e))?;
        let p = &m.purchases[&token];
        return Ok(Json(json!({
            "itemId": req.sku, "purchaseToken": token, "token": token, "orderId": p.order_id,
            "state": "purchased", "linkedPurchaseToken": old, "replacementMode": mode.as_str(),
        }))
        .into_response());
    }

    let owned = m
        .purchases
        .values()
        .any(|p| p.account_id == account && p.product_id == req.sku && p.is_owned(m.now_ms()));
    if owned {
        return Err(canceled(
            StatusCode::CONFLICT,
            "item_already_owned",
            format!("{:?} is already owned", req.sku),
        ));
    }
    let token = m
        .create_purchase(NewPurchase {
            kind,
            product_id: req.sku.clone(),
            base_plan_id: None,
            pending,
            account_id: account,
            obfuscated_account_id: None,
            obfuscated_profile_id: None,
            test: req.test,
            quantity: 1,
            region_code: "US".into(),
        })
        .map_err(|e| canceled(StatusCode::NOT_FOUND, "item_unavailable", e))?;
    let order = m.purchases[&token].order_id.clone();
    Ok(Json(json!({
        "itemId": req.sku, "purchaseToken": token, "token": token, "orderId": order,
        "state": if pending { "pending" } else { "purchased" },
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountQuery {
    account_id: Option<String>,
}

async fn purchases(State(s): State<SharedState>, Query(q): Query<AccountQuery>) -> Json<Value> {
    let mut m = s.lock();
    m.settle();
    let account = q.account_id.unwrap_or_else(|| m.device_account.clone());
    let now = m.now_ms();
    let list: Vec<Value> = m
        .purchase_order
        .iter()
        .map(|t| &m.purchases[t])
        .filter(|p| p.account_id == account && p.is_owned(now))
        .map(|p| json!({ "itemId": p.product_id, "purchaseToken": p.token }))
        .collect();
    Json(json!(list))
}

async fn history(State(s): State<SharedState>, Query(q): Query<AccountQuery>) -> Json<Value> {
    let mut m = s.lock();
    m.settle();
    let account = q.account_id.unwrap_or_else(|| m.device_account.clone());
    let mut latest: Vec<Value> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in m.purchase_order.iter().rev() {
        let p = &m.purchases[t];
        let live =
            p.kind == Kind::Subscription || p.product_state != ProductState::Canceled || p.voided;
        if p.account_id == account && live && seen.insert(p.product_id.clone()) {
            latest.push(json!({ "itemId": p.product_id, "purchaseToken": p.token }));
        }
    }
    Json(json!(latest))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConsumeRequest {
    purchase_token: String,
    account_id: Option<String>,
}

async fn consume(State(s): State<SharedState>, body: Bytes) -> Result<StatusCode, ApiError> {
    let req: ConsumeRequest = parse(&body)?;
    if req.purchase_token.is_empty() {
        return Err(ApiError::bad_request("purchaseToken must not be empty")
            .dom("TypeError", "The purchaseToken must not be empty."));
    }
    let mut m = s.lock();
    m.settle();
    let account = req.account_id.unwrap_or_else(|| m.device_account.clone());
    let now = m.now_ms();
    let owned = m.purchases.get(&req.purchase_token).is_some_and(|p| {
        p.account_id == account
            && p.kind == Kind::Product
            && p.product_state == ProductState::Purchased
            && p.is_owned(now)
    });
    if !owned {
        return Err(ApiError::not_found(
            "item_not_owned",
            "no consumable purchase with this token",
        )
        .dom("OperationError", "itemNotOwned"));
    }
    let p = m.purchases.get_mut(&req.purchase_token).expect("checked");
    p.consumed = true;
    p.acknowledged = true;
    p.version += 1;
    Ok(StatusCode::NO_CONTENT)
}
