//! `orders.get` and `orders.batchGet`: the orders the emulator charged (the ledger of
//! [`crate::reports`]), with their refund state from the voided purchases.

use serde_json::{json, Value};

use super::{Call, Reply};
use crate::catalog::money_from_micros;
use crate::clock::rfc3339;
use crate::error::GoogleError;
use crate::reports::{money, title};
use crate::state::{Kind, Model};

/// Most order ids in one `batchGet`.
pub const MAX_BATCH: usize = 1000;

/// The `Order` resource of an order id, if the emulator charged it.
pub fn order(m: &Model, order_id: &str) -> Option<Value> {
    let c = m.ledger.charges.iter().find(|c| c.order_id == order_id)?;
    let (price, tax, fee) = money(c, c.quantity);
    let refunds: Vec<_> = m.voided.iter().filter(|v| v.order_id == order_id).collect();
    let state = match refunds.iter().any(|v| !v.partial) {
        true => "REFUNDED",
        false if !refunds.is_empty() => "PARTIALLY_REFUNDED",
        false => "PROCESSED",
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
            line["oneTimePurchaseDetails"] =
                json!({ "quantity": c.quantity, "purchaseOptionId": "legacy-base" });
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
