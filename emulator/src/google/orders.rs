//! `orders.get` and `orders.batchGet`: the orders the emulator charged (the ledger of
//! [`crate::reports`]), with their refund state from the voided purchases.

use play_model::money::Money;
use play_model::orders::{
    BatchGetOrdersResponse, BuyerAddress, LineItem, OfferPhase, OneTimePurchaseDetails, Order,
    OrderDetails, OrderState, SalesChannel, SubscriptionDetails,
};

use super::{Call, Reply};
use crate::clock::datetime;
use crate::error::GoogleError;
use crate::reports::{money, title};
use crate::state::{Kind, Model, ProductState, SubState};

pub use play_model::orders::MAX_BATCH;

/// The `Order` resource of an order id the emulator handed out: a charged order (its refund
/// state from the voided purchases), or the order of a pending purchase (`PENDING`, and
/// `CANCELED` once the pending purchase is canceled), which Play creates before the charge.
pub fn order(m: &Model, order_id: &str) -> Option<Order> {
    let uncharged;
    let (c, settled) = match m.ledger.charges.iter().find(|c| c.order_id == order_id) {
        Some(c) => (c, None),
        None => {
            let p = m
                .purchases
                .values()
                .find(|p| !p.charged && p.order_id == order_id)?;
            let state = match (p.kind, p.product_state, p.sub_state) {
                (Kind::Product, ProductState::Pending, _) => OrderState::Pending,
                (Kind::Product, ProductState::Canceled, _) => OrderState::Canceled,
                (Kind::Subscription, _, SubState::Pending) => OrderState::Pending,
                (Kind::Subscription, _, SubState::PendingPurchaseCanceled) => OrderState::Canceled,
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
        (None, true) => OrderState::Refunded,
        (None, false) if !refunds.is_empty() => OrderState::PartiallyRefunded,
        (None, false) => OrderState::Processed,
    };
    let last_event = refunds
        .iter()
        .map(|v| v.voided_time_ms)
        .max()
        .unwrap_or(c.at_ms);
    let money = |micros: i64| Some(Money::from_micros(micros, &c.currency));
    let mut line = LineItem {
        product_id: Some(c.product_id.clone()),
        product_title: Some(title(m, c)),
        listing_price: money(c.unit_price_micros),
        total: money(price + tax),
        tax: money(tax),
        ..LineItem::default()
    };
    match c.kind {
        Kind::Product => {
            line.one_time_purchase_details = Some(OneTimePurchaseDetails {
                quantity: i32::try_from(c.quantity).ok(),
                purchase_option_id: m
                    .purchases
                    .get(&c.token)
                    .and_then(|p| p.purchase_option_id.clone()),
                offer_id: None,
            });
        }
        Kind::Subscription => {
            line.subscription_details = Some(SubscriptionDetails {
                base_plan_id: Some(c.base_plan_id.clone().unwrap_or_default()),
                offer_phase: Some(OfferPhase::Base),
                offer_id: None,
            });
        }
    }
    Some(Order {
        order_id: c.order_id.clone(),
        purchase_token: Some(c.token.clone()),
        state,
        create_time: datetime(c.at_ms),
        last_event_time: datetime(last_event),
        buyer_address: Some(BuyerAddress {
            buyer_country: Some(c.region_code.clone()),
            ..BuyerAddress::default()
        }),
        total: money(price + tax),
        tax: money(tax),
        developer_revenue_in_buyer_currency: money(price - fee),
        order_details: Some(OrderDetails {
            tax_inclusive: Some(false),
        }),
        sales_channel: Some(SalesChannel::InApp),
        line_items: vec![line],
    })
}

fn not_found(order_id: &str) -> GoogleError {
    GoogleError::not_found(format!("Order not found: {order_id}"))
}

/// `orders.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("orderId");
    order(m, id)
        .map(|o| Reply::resource(&o))
        .ok_or_else(|| not_found(id))
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
    Ok(Reply::resource(&BatchGetOrdersResponse { orders }))
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
