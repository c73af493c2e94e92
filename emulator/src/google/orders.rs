//! `orders.get` and `orders.batchGet`: the orders the emulator charged (the ledger of
//! [`crate::reports`]), with their refund state from the voided purchases.

use serde_json::{json, Value};

use super::{Call, Reply};
use crate::catalog::money_from_micros;
use crate::clock::rfc3339;
use crate::error::GoogleError;
use crate::reports::{money, title};
use crate::state::{Kind, Model, ProductState, SubState};

/// Most order ids in one `batchGet`.
pub const MAX_BATCH: usize = 1000;

/// The `Order` resource of an order id the emulator handed out: a charged order (its refund
/// state from the voided purchases), or the order of a pending purchase (`PENDING`, and
/// `CANCELED` once the pending purchase is canceled), which Play creates before the charge.
pub fn order(m: &Model, order_id: &str) -> Option<Value> {
    let uncharged;
    let (c, settled) = match m.ledger.charges.iter().find(|c| c.order_id == order_id) {
        Some(c) => (c, None),
        None => {
            let p = m
                .purchases
                .values()
                .find(|p| !p.charged && p.order_id == order_id)?;
            let state = match (p.kind, p.product_state, p.sub_state) {
                (Kind::Product, ProductState::Pending, _) => "PENDING",
                (Kind::Product, ProductState::Canceled, _) => "CANCELED",
                (Kind::Subscription, _, SubState::Pending) => "PENDING",
                (Kind::Subscription, _, SubState::PendingPurchaseCanceled) => "CANCELED",
                // The new token of a deferred replacement: no order until its first renewal.
                _ => return None,
            };
            uncharged = m.order_of(&p.token, p.created_ms)?;
            (&uncharged, Some(state))
        }
    };
    let (price, tax, fee) = money(c, c.quantity);
    let refunds: Vec<_> = m.voided.iter().filter(|v| v.order_id == order_id).collect();
    let state = match (settled, refunds.iter().any(|v| !v.partial)) {
        (Some(pending_or_canceled), _) => pending_or_canceled,
        (None, true) => "REFUNDED",
        (None, false) if !refunds.is_empty() => "PARTIALLY_REFUNDED",
        (None, false) => "PROCESSED",
    };
    let last_event = refunds
        .iter()
        .map(|v| v.voided_time_ms)
        .max()
        .unwrap_or(c.at_ms);
    let mut line = json!({
        "productId": c.product_id,
        "productTitle": title(m, c),
        "listingPrice": money_from_micros(c.unit_price_micros, &c.currency),
        "total": money_from_micros(price + tax, &c.currency),
        "tax": money_from_micros(tax, &c.currency),
    });
    match c.kind {
        Kind::Product => {
            let option = m
                .purchases
                .get(&c.token)
                .and_then(|p| p.purchase_option_id.clone());
            line["oneTimePurchaseDetails"] =
                json!({ "quantity": c.quantity, "purchaseOptionId": option });
        }
        Kind::Subscription => {
            line["subscriptionDetails"] = json!({
                "basePlanId": c.base_plan_id.clone().unwrap_or_default(),
                "offerPhase": "BASE",
            });
        }
    }
    Some(json!({
        "orderId": c.order_id,
        "purchaseToken": c.token,
        "state": state,
        "createTime": rfc3339(c.at_ms),
        "lastEventTime": rfc3339(last_event),
        "buyerAddress": { "buyerCountry": c.region_code },
        "total": money_from_micros(price + tax, &c.currency),
        "tax": money_from_micros(tax, &c.currency),
        "developerRevenueInBuyerCurrency": money_from_micros(price - fee, &c.currency),
        "orderDetails": { "taxInclusive": false },
        "salesChannel": "IN_APP",
        "lineItems": [line],
    }))
}

fn not_found(order_id: &str) -> GoogleError {
    GoogleError::not_found(format!("Order not found: {order_id}"))
}

/// `orders.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("orderId");
    order(m, id).map(Reply::Json).ok_or_else(|| not_found(id))
}

/// `orders.batchGet` (`orderIds` repeated, 1 to 1,000, distinct): every order or, if one is
/// unknown, `404` for the whole request, as Google documents.
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let ids = call.query_all("orderIds");
    if ids.is_empty() {
        return Err(GoogleError::required("orderIds"));
    }
    if ids.len() > MAX_BATCH {
        return Err(GoogleError::invalid(format!(
            "At most {MAX_BATCH} order IDs per request ({} given).",
            ids.len()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(GoogleError::invalid(format!("Duplicate order ID: {dup}")));
    }
    let orders = ids
        .iter()
        .map(|id| order(m, id).ok_or_else(|| not_found(id)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::Json(json!({ "orders": orders })))
}

/// `orders.refund` (`revoke` in the query): a charged order only; `404` for an order the
/// emulator never charged, `400` for one already refunded.
pub fn refund(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("orderId");
    if !m.ledger.charges.iter().any(|c| c.order_id == id) {
        return Err(not_found(id));
    }
    let revoke = call.query_bool("revoke")?;
    let now = m.now_ms();
    m.refund_order(id, now, revoke)
        .map_err(GoogleError::failed_precondition)?;
    Ok(Reply::Empty)
}
