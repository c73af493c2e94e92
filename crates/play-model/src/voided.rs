//! `purchases.voidedpurchases.list`: the purchases Google voided (refunds, chargebacks,
//! revocations, unacknowledged purchases refunded after 3 days).

use serde::{Deserialize, Serialize};
use serde_with::{serde_as, skip_serializing_none, DisplayFromStr};

pub use crate::paging::{PageInfo, TokenPagination};

/// `VoidedPurchase.kind`.
pub const VOIDED_PURCHASE_KIND: &str = "androidpublisher#voidedPurchase";

/// `VoidedPurchasesListResponse`: one page of voided purchases.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VoidedPurchasesListResponse {
    /// The voided purchases (absent when empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub voided_purchases: Vec<VoidedPurchase>,
    /// Index paging.
    pub page_info: Option<PageInfo>,
    /// Token paging.
    pub token_pagination: Option<TokenPagination>,
}

/// A voided purchase.
#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VoidedPurchase {
    /// [`VOIDED_PURCHASE_KIND`].
    pub kind: Option<String>,
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
    pub voided_quantity: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_and_writes() {
        let text = r#"{"voidedPurchases":[{"purchaseToken":"t","orderId":"GPA.1","purchaseTimeMillis":"1",
                "voidedTimeMillis":"2","voidedSource":2,"voidedReason":8,"voidedQuantity":1}],
                "tokenPagination":{"nextPageToken":"n"}}"#;
        let page: VoidedPurchasesListResponse = serde_json::from_str(text).unwrap();
        assert_eq!(page.voided_purchases[0].voided_time_millis, Some(2));
        assert_eq!(page.voided_purchases[0].voided_reason, Some(8));
        assert_eq!(
            page.token_pagination
                .as_ref()
                .unwrap()
                .next_page_token
                .as_deref(),
            Some("n")
        );
        assert_eq!(
            serde_json::to_value(&page).unwrap(),
            serde_json::from_str::<serde_json::Value>(text).unwrap()
        );
        let empty: VoidedPurchasesListResponse = serde_json::from_str("{}").unwrap();
        assert!(empty.voided_purchases.is_empty());
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    }
}
