//! `orders.batchGet` / `orders.get`: an order's current state at Play (the financial
//! reconciliation confirms a discrepancy with it before reporting it).

use serde::Deserialize;

/// Most order ids in one `orders.batchGet`.
pub const MAX_BATCH: usize = 1000;

/// An `Order`, the fields this server reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Order {
    /// The order id.
    pub order_id: String,
    /// The purchase token it belongs to.
    pub purchase_token: Option<String>,
    /// Its state.
    pub state: OrderState,
}

/// `Order.state`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderState {
    /// Not specified (also when absent).
    #[default]
    StateUnspecified,
    /// Created, waiting to be processed.
    Pending,
    /// Processed (charged).
    Processed,
    /// Canceled before being processed.
    Canceled,
    /// A refund is being processed.
    PendingRefund,
    /// Part of the amount was refunded.
    PartiallyRefunded,
    /// Refunded in full.
    Refunded,
    /// A value this client does not know.
    #[serde(other)]
    Unknown,
}

impl OrderState {
    /// Google's enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StateUnspecified => "STATE_UNSPECIFIED",
            Self::Pending => "PENDING",
            Self::Processed => "PROCESSED",
            Self::Canceled => "CANCELED",
            Self::PendingRefund => "PENDING_REFUND",
            Self::PartiallyRefunded => "PARTIALLY_REFUNDED",
            Self::Refunded => "REFUNDED",
            Self::Unknown => "UNKNOWN",
        }
    }

    /// Whether the buyer got (or is getting) the whole amount back, or was never charged.
    pub fn money_returned(self) -> bool {
        matches!(self, Self::Canceled | Self::Refunded | Self::PendingRefund)
    }
}

/// `BatchGetOrdersResponse`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct BatchGetOrdersResponse {
    /// The orders asked for.
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
        assert_eq!(r.orders[1].state, OrderState::Unknown);
        assert_eq!(r.orders[2].state, OrderState::StateUnspecified);
        assert!(OrderState::Canceled.money_returned());
        assert!(!OrderState::PartiallyRefunded.money_returned());
    }
}
