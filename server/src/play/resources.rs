//! The Play Developer API resources this server reads, typed. Int64 values arrive as JSON
//! strings and are parsed here; enum strings fall back to `Unknown` so a new value never
//! breaks parsing.

use serde::{Deserialize, Serialize};
use serde_with::{serde_as, DisplayFromStr};
use time::OffsetDateTime;

/// `purchases.products.get`: a one-time product purchase.
#[serde_as]
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductPurchase {
    /// `androidpublisher#productPurchase`.
    pub kind: Option<String>,
    /// 0 purchased, 1 canceled, 2 pending.
    pub purchase_state: Option<i32>,
    /// 0 yet to be consumed, 1 consumed.
    pub consumption_state: Option<i32>,
    /// 0 not yet acknowledged, 1 acknowledged.
    pub acknowledgement_state: Option<i32>,
    /// Only for non-standard purchases: 0 test, 1 promo, 2 rewarded.
    pub purchase_type: Option<i32>,
    /// Absent for promo codes.
    pub order_id: Option<String>,
    /// Absent means 1.
    pub quantity: Option<i64>,
    /// Refundable quantity.
    pub refundable_quantity: Option<i64>,
    /// Milliseconds since the epoch.
    #[serde_as(as = "Option<DisplayFromStr>")]
    pub purchase_time_millis: Option<i64>,
    /// The product id (sku).
    pub product_id: Option<String>,
    /// The token.
    pub purchase_token: Option<String>,
    /// Region of the buyer.
    pub region_code: Option<String>,
    /// Obfuscated account id set by the app at purchase.
    pub obfuscated_external_account_id: Option<String>,
}

/// The decoded `purchaseState` of a [`ProductPurchase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductPurchaseState {
    /// 0.
    Purchased,
    /// 1.
    Canceled,
    /// 2.
    Pending,
    /// Anything else.
    Unknown(i32),
}

impl ProductPurchase {
    /// The purchase state (absent reads as purchased, as Google omits zero values).
    pub fn state(&self) -> ProductPurchaseState {
        match self.purchase_state.unwrap_or(0) {
            0 => ProductPurchaseState::Purchased,
            1 => ProductPurchaseState::Canceled,
            2 => ProductPurchaseState::Pending,
            n => ProductPurchaseState::Unknown(n),
        }
    }

    /// Whether Google has it acknowledged.
    pub fn is_acknowledged(&self) -> bool {
        self.acknowledgement_state == Some(1)
    }

    /// Whether Google has it consumed.
    pub fn is_consumed(&self) -> bool {
        self.consumption_state == Some(1)
    }

    /// A test (license tester) purchase.
    pub fn is_test(&self) -> bool {
        self.purchase_type == Some(0)
    }

    /// The quantity bought (absent = 1).
    pub fn quantity(&self) -> i64 {
        self.quantity.filter(|q| *q > 0).unwrap_or(1)
    }
}

/// `SubscriptionPurchaseV2.subscriptionState`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum SubscriptionState {
    /// Not specified (also when absent).
    #[default]
    #[serde(rename = "SUBSCRIPTION_STATE_UNSPECIFIED")]
    Unspecified,
    /// Pending payment.
    #[serde(rename = "SUBSCRIPTION_STATE_PENDING")]
    Pending,
    /// Active.
    #[serde(rename = "SUBSCRIPTION_STATE_ACTIVE")]
    Active,
    /// Paused.
    #[serde(rename = "SUBSCRIPTION_STATE_PAUSED")]
    Paused,
    /// In grace period (still entitled).
    #[serde(rename = "SUBSCRIPTION_STATE_IN_GRACE_PERIOD")]
    InGracePeriod,
    /// On hold (not entitled).
    #[serde(rename = "SUBSCRIPTION_STATE_ON_HOLD")]
    OnHold,
    /// Auto-renew off, entitled until expiry.
    #[serde(rename = "SUBSCRIPTION_STATE_CANCELED")]
    Canceled,
    /// Expired.
    #[serde(rename = "SUBSCRIPTION_STATE_EXPIRED")]
    Expired,
    /// A pending purchase that was canceled.
    #[serde(rename = "SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED")]
    PendingPurchaseCanceled,
    /// A value this client does not know.
    #[serde(other)]
    Unknown,
}

/// `acknowledgementState` of subscriptionsv2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum AcknowledgementState {
    /// Not specified.
    #[serde(rename = "ACKNOWLEDGEMENT_STATE_UNSPECIFIED")]
    Unspecified,
    /// Not acknowledged yet.
    #[serde(rename = "ACKNOWLEDGEMENT_STATE_PENDING")]
    Pending,
    /// Acknowledged.
    #[serde(rename = "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED")]
    Acknowledged,
    /// A value this client does not know.
    #[serde(other)]
    Unknown,
}

/// `purchases.subscriptionsv2.get`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPurchaseV2 {
    /// The state.
    #[serde(default)]
    pub subscription_state: SubscriptionState,
    /// Acknowledgement.
    pub acknowledgement_state: Option<AcknowledgementState>,
    /// Start time.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub start_time: Option<OffsetDateTime>,
    /// Buyer's region.
    #[serde(default)]
    pub region_code: Option<String>,
    /// The token this one replaces (upgrade, downgrade, re-signup).
    #[serde(default)]
    pub linked_purchase_token: Option<String>,
    /// Present (empty) only for test purchases.
    #[serde(default)]
    pub test_purchase: Option<serde_json::Value>,
    /// The ids the app set at purchase.
    #[serde(default)]
    pub external_account_identifiers: Option<ExternalAccountIdentifiers>,
    /// One entry per subscribed product.
    #[serde(default)]
    pub line_items: Vec<SubscriptionLineItem>,
}

/// `externalAccountIdentifiers` of a subscription purchase.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExternalAccountIdentifiers {
    /// Obfuscated account id set by the app at purchase.
    pub obfuscated_external_account_id: Option<String>,
    /// Obfuscated profile id set by the app at purchase.
    pub obfuscated_external_profile_id: Option<String>,
}

/// A line item of a subscription purchase.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionLineItem {
    /// The subscription product id.
    pub product_id: String,
    /// When this item's access ends.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expiry_time: Option<OffsetDateTime>,
    /// Latest successful order.
    #[serde(default)]
    pub latest_successful_order_id: Option<String>,
    /// Base plan and offer.
    #[serde(default)]
    pub offer_details: Option<OfferDetails>,
    /// A deferred replacement (downgrade): the product this item becomes at its next renewal.
    #[serde(default)]
    pub deferred_item_replacement: Option<DeferredItemReplacement>,
}

/// `deferredItemReplacement` of a line item.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeferredItemReplacement {
    /// The product the item is replaced by.
    pub product_id: String,
}

/// Base plan and offer of a line item.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferDetails {
    /// The base plan.
    #[serde(default)]
    pub base_plan_id: Option<String>,
    /// The offer, if any.
    #[serde(default)]
    pub offer_id: Option<String>,
}

impl SubscriptionPurchaseV2 {
    /// Whether Google has it acknowledged.
    pub fn is_acknowledged(&self) -> bool {
        self.acknowledgement_state == Some(AcknowledgementState::Acknowledged)
    }

    /// A test purchase.
    pub fn is_test(&self) -> bool {
        self.test_purchase.is_some()
    }

    /// The line item of `product_id`, or else the one a deferred replacement turns into
    /// `product_id` at its next renewal (a downgrade's new token keeps the old item until then).
    pub fn line_item(&self, product_id: &str) -> Option<&SubscriptionLineItem> {
        self.line_items
            .iter()
            .find(|l| l.product_id == product_id)
            .or_else(|| {
                self.line_items.iter().find(|l| {
                    l.deferred_item_replacement
                        .as_ref()
                        .is_some_and(|d| d.product_id == product_id)
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_purchase_parses_int64_strings() {
        let p: ProductPurchase = serde_json::from_str(
            r#"{"kind":"androidpublisher#productPurchase","purchaseTimeMillis":"1700000000123",
                "purchaseState":0,"consumptionState":0,"acknowledgementState":1,"purchaseType":0,
                "orderId":"GPA.1","quantity":3,"productId":"coins_100","regionCode":"US"}"#,
        )
        .unwrap();
        assert_eq!(p.purchase_time_millis, Some(1_700_000_000_123));
        assert_eq!(p.state(), ProductPurchaseState::Purchased);
        assert!(p.is_acknowledged() && !p.is_consumed() && p.is_test());
        assert_eq!(p.quantity(), 3);
        let bad = serde_json::from_str::<ProductPurchase>(r#"{"purchaseTimeMillis":"soon"}"#);
        assert!(bad.is_err());
    }

    #[test]
    fn absent_fields_take_google_defaults() {
        let p: ProductPurchase = serde_json::from_str("{}").unwrap();
        assert_eq!(p.state(), ProductPurchaseState::Purchased);
        assert_eq!(p.quantity(), 1);
        assert!(!p.is_test());
        let p: ProductPurchase = serde_json::from_str(r#"{"purchaseState":7}"#).unwrap();
        assert_eq!(p.state(), ProductPurchaseState::Unknown(7));
    }

    #[test]
    fn subscription_v2_parses_and_tolerates_new_enum_values() {
        let s: SubscriptionPurchaseV2 = serde_json::from_str(
            r#"{"kind":"androidpublisher#subscriptionPurchaseV2","subscriptionState":"SUBSCRIPTION_STATE_ACTIVE",
                "acknowledgementState":"ACKNOWLEDGEMENT_STATE_PENDING","startTime":"2026-01-01T00:00:00Z",
                "testPurchase":{},"linkedPurchaseToken":"old",
                "lineItems":[{"productId":"sub_monthly","expiryTime":"2026-02-01T00:00:00.5Z",
                "autoRenewingPlan":{"autoRenewEnabled":true},"offerDetails":{"basePlanId":"monthly"}}]}"#,
        )
        .unwrap();
        assert_eq!(s.subscription_state, SubscriptionState::Active);
        assert!(!s.is_acknowledged() && s.is_test());
        assert_eq!(s.linked_purchase_token.as_deref(), Some("old"));
        let item = s.line_item("sub_monthly").unwrap();
        assert_eq!(item.expiry_time.unwrap().unix_timestamp(), 1_769_904_000);
        assert!(s.line_item("sub_yearly").is_none());
        let deferred: SubscriptionPurchaseV2 = serde_json::from_str(
            r#"{"subscriptionState":"SUBSCRIPTION_STATE_ACTIVE","lineItems":[{"productId":"sub_yearly",
                "deferredItemReplacement":{"productId":"sub_monthly"}}]}"#,
        )
        .unwrap();
        assert_eq!(
            deferred.line_item("sub_monthly").unwrap().product_id,
            "sub_yearly",
            "a downgrade in waiting"
        );
        let s: SubscriptionPurchaseV2 = serde_json::from_str(
            r#"{"subscriptionState":"SUBSCRIPTION_STATE_SOMETHING_NEW","acknowledgementState":"ACK_NEW"}"#,
        )
        .unwrap();
        assert_eq!(s.subscription_state, SubscriptionState::Unknown);
        assert_eq!(s.acknowledgement_state, Some(AcknowledgementState::Unknown));
    }
}
