//! `purchases.voidedpurchases.list`: the purchases Google voided (refunds, chargebacks,
//! revocations, unacknowledged purchases refunded after 3 days).

use serde::Deserialize;
use serde_with::{serde_as, DisplayFromStr};

/// One page of voided purchases.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VoidedPurchaseList {
    /// The voided purchases (absent when empty).
    pub voided_purchases: Vec<VoidedPurchase>,
    /// Paging.
    pub token_pagination: Option<TokenPagination>,
}

/// `tokenPagination`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TokenPagination {
    /// The next page's token.
    pub next_page_token: Option<String>,
}

/// A voided purchase.
#[serde_as]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VoidedPurchase {
    /// The token.
    pub purchase_token: String,
    /// The order.
    pub order_id: Option<String>,
    /// When bought (ms).
    #[serde_as(as = "Option<DisplayFromStr>")]
    pub purchase_time_millis: Option<i64>,
    /// When voided (ms).
    #[serde_as(as = "Option<DisplayFromStr>")]
    pub voided_time_millis: Option<i64>,
    /// 0 user, 1 developer, 2 Google.
    pub voided_source: Option<i32>,
    /// 0 other … 7 chargeback, 8 unacknowledged purchase.
    pub voided_reason: Option<i32>,
    /// The refunded quantity of a quantity-based (partial) refund.
    pub voided_quantity: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_page() {
        let page: VoidedPurchaseList = serde_json::from_str(
            r#"{"voidedPurchases":[{"purchaseToken":"t","orderId":"GPA.1","purchaseTimeMillis":"1",
                "voidedTimeMillis":"2","voidedSource":2,"voidedReason":8,"voidedQuantity":1}],
                "tokenPagination":{"nextPageToken":"n"}}"#,
        )
        .unwrap();
        assert_eq!(page.voided_purchases[0].voided_time_millis, Some(2));
        assert_eq!(page.voided_purchases[0].voided_reason, Some(8));
        assert_eq!(
            page.token_pagination.unwrap().next_page_token.as_deref(),
            Some("n")
        );
        assert!(serde_json::from_str::<VoidedPurchaseList>("{}")
            .unwrap()
            .voided_purchases
            .is_empty());
    }
}
