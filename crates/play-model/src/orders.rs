//! `orders.get` and `orders.batchGet`: Google's `Order`, read by the server's financial
//! reconciliation and written by the emulator.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;
use time::OffsetDateTime;

use crate::money::Money;

/// Most order ids in one `orders.batchGet`.
pub const MAX_BATCH: usize = 1000;

google_enum! {
    /// `Order.state`.
    #[derive(Default)]
    OrderState {
        /// Not specified (also when absent).
        #[default]
        StateUnspecified = "STATE_UNSPECIFIED",
        /// Created, waiting to be processed.
        Pending = "PENDING",
        /// Processed (charged).
        Processed = "PROCESSED",
        /// Canceled before being processed.
        Canceled = "CANCELED",
        /// A refund is being processed.
        PendingRefund = "PENDING_REFUND",
        /// Part of the amount was refunded.
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        /// Refunded in full.
        Refunded = "REFUNDED",
    }
}

google_enum! {
    /// `Order.salesChannel`.
    SalesChannel {
        /// Not specified.
        Unspecified = "SALES_CHANNEL_UNSPECIFIED",
        /// Bought in the app.
        InApp = "IN_APP",
        /// Bought on a PC emulator.
        PcEmulator = "PC_EMULATOR",
        /// Bought in a native PC app.
        NativePc = "NATIVE_PC",
        /// Bought in the Play Store.
        PlayStore = "PLAY_STORE",
        /// Bought outside the Play Store.
        OutsidePlayStore = "OUTSIDE_PLAY_STORE",
    }
}

google_enum! {
    /// `SubscriptionDetails.offerPhase`.
    OfferPhase {
        /// Not specified.
        Unspecified = "OFFER_PHASE_UNSPECIFIED",
        /// The base plan's price.
        Base = "BASE",
        /// An introductory price.
        Introductory = "INTRODUCTORY",
        /// A free trial.
        FreeTrial = "FREE_TRIAL",
    }
}

/// Google's `Order`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Order {
    /// The order id.
    pub order_id: String,
    /// The purchase token it belongs to.
    pub purchase_token: Option<String>,
    /// Its state.
    pub state: OrderState,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339::option")]
    pub create_time: Option<OffsetDateTime>,
    /// When its state last changed.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_event_time: Option<OffsetDateTime>,
    /// The buyer's address.
    pub buyer_address: Option<BuyerAddress>,
    /// The amount paid, tax included.
    pub total: Option<Money>,
    /// The tax.
    pub tax: Option<Money>,
    /// What the developer receives, in the buyer's currency.
    pub developer_revenue_in_buyer_currency: Option<Money>,
    /// Details.
    pub order_details: Option<OrderDetails>,
    /// Where it was bought.
    pub sales_channel: Option<SalesChannel>,
    /// What was bought.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
}

/// `Order.buyerAddress`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BuyerAddress {
    /// ISO 3166 country code.
    pub buyer_country: Option<String>,
    /// Postcode.
    pub buyer_postcode: Option<String>,
    /// State or province.
    pub buyer_state: Option<String>,
}

/// `Order.orderDetails`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OrderDetails {
    /// Whether the listing price included tax.
    pub tax_inclusive: Option<bool>,
}

/// One item of an [`Order`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct LineItem {
    /// The product id.
    pub product_id: Option<String>,
    /// The product's title.
    pub product_title: Option<String>,
    /// The price of one item before tax.
    pub listing_price: Option<Money>,
    /// The item's total, tax included.
    pub total: Option<Money>,
    /// The item's tax.
    pub tax: Option<Money>,
    /// A one-time product's details.
    pub one_time_purchase_details: Option<OneTimePurchaseDetails>,
    /// A subscription's details.
    pub subscription_details: Option<SubscriptionDetails>,
}

/// `LineItem.oneTimePurchaseDetails`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimePurchaseDetails {
    /// How many were bought.
    pub quantity: Option<i32>,
    /// The purchase option bought.
    pub purchase_option_id: Option<String>,
    /// The offer, if any.
    pub offer_id: Option<String>,
}

/// `LineItem.subscriptionDetails`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionDetails {
    /// The base plan.
    pub base_plan_id: Option<String>,
    /// The offer, if any.
    pub offer_id: Option<String>,
    /// The phase the order paid for.
    pub offer_phase: Option<OfferPhase>,
}

/// `BatchGetOrdersResponse`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct BatchGetOrdersResponse {
    /// The orders asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub orders: Vec<Order>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_parse_with_unknown_states_tolerated() {
        let r: BatchGetOrdersResponse = serde_json::from_str(
            r#"{"orders":[{"orderId":"GPA.1","purchaseToken":"t","state":"REFUNDED","total":{"currencyCode":"USD","units":"1"}},
                {"orderId":"GPA.2","state":"SOMETHING_NEW"},{"orderId":"GPA.3"}]}"#,
        )
        .unwrap();
        assert_eq!(r.orders[0].state, OrderState::Refunded);
        assert_eq!(r.orders[0].purchase_token.as_deref(), Some("t"));
        assert_eq!(
            r.orders[0].total.as_ref().and_then(Money::micros),
            Some(1_000_000)
        );
        assert_eq!(r.orders[1].state, OrderState::Unknown);
        assert_eq!(r.orders[2].state, OrderState::StateUnspecified);
    }

    #[test]
    fn an_order_writes_google_json() {
        let order = Order {
            order_id: "GPA.1".into(),
            state: OrderState::Pending,
            create_time: OffsetDateTime::from_unix_timestamp(0).ok(),
            sales_channel: Some(SalesChannel::InApp),
            line_items: vec![LineItem {
                product_id: Some("coins".into()),
                one_time_purchase_details: Some(OneTimePurchaseDetails {
                    quantity: Some(2),
                    purchase_option_id: Some("legacy-base".into()),
                    offer_id: None,
                }),
                ..LineItem::default()
            }],
            ..Order::default()
        };
        assert_eq!(
            serde_json::to_value(&order).unwrap(),
            serde_json::json!({
                "orderId": "GPA.1", "state": "PENDING", "createTime": "1970-01-01T00:00:00Z",
                "salesChannel": "IN_APP",
                "lineItems": [{ "productId": "coins",
                    "oneTimePurchaseDetails": { "quantity": 2, "purchaseOptionId": "legacy-base" } }],
            })
        );
        let empty = BatchGetOrdersResponse::default();
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    }
}
