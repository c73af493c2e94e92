//! Google's purchase resources, typed for both sides: the server reads them from Play, the
//! emulator writes them. `purchases.products.get` ([`ProductPurchase`]),
//! `purchases.productsv2.getproductpurchasev2` ([`ProductPurchaseV2`]) and
//! `purchases.subscriptionsv2.get` ([`SubscriptionPurchaseV2`]).
//!
//! Int64 values travel as JSON strings ([`DisplayFromStr`]), timestamps as RFC 3339, absent
//! fields stay absent (`None` is skipped when writing), and Google's enum strings read into
//! enums with an `Unknown` fallback so a new value never breaks parsing (an `Unknown` is read
//! only: writing one is an error rather than a made-up value).

use serde::{Deserialize, Serialize};
use serde_with::{serde_as, skip_serializing_none, DisplayFromStr};
use time::OffsetDateTime;

use crate::money::Money;

google_enum! {
    /// `SubscriptionPurchaseV2.subscriptionState`.
    #[derive(Default)]
    SubscriptionState {
        /// Not specified (also when absent).
        #[default]
        Unspecified = "SUBSCRIPTION_STATE_UNSPECIFIED",
        /// Pending payment.
        Pending = "SUBSCRIPTION_STATE_PENDING",
        /// Active.
        Active = "SUBSCRIPTION_STATE_ACTIVE",
        /// Paused.
        Paused = "SUBSCRIPTION_STATE_PAUSED",
        /// In grace period (still entitled).
        InGracePeriod = "SUBSCRIPTION_STATE_IN_GRACE_PERIOD",
        /// On hold (not entitled).
        OnHold = "SUBSCRIPTION_STATE_ON_HOLD",
        /// Auto-renew off, entitled until expiry.
        Canceled = "SUBSCRIPTION_STATE_CANCELED",
        /// Expired.
        Expired = "SUBSCRIPTION_STATE_EXPIRED",
        /// A pending purchase that was canceled.
        PendingPurchaseCanceled = "SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED",
    }
}

google_enum! {
    /// `acknowledgementState` of subscriptionsv2 and productsv2.
    AcknowledgementState {
        /// Not specified.
        Unspecified = "ACKNOWLEDGEMENT_STATE_UNSPECIFIED",
        /// Not acknowledged yet.
        Pending = "ACKNOWLEDGEMENT_STATE_PENDING",
        /// Acknowledged.
        Acknowledged = "ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED",
    }
}

impl AcknowledgementState {
    /// `Acknowledged` or `Pending`.
    pub fn of(acknowledged: bool) -> Self {
        if acknowledged {
            Self::Acknowledged
        } else {
            Self::Pending
        }
    }
}

google_enum! {
    /// `purchaseStateContext.purchaseState` of a [`ProductPurchaseV2`].
    PurchaseState {
        /// Not specified.
        Unspecified = "PURCHASE_STATE_UNSPECIFIED",
        /// Purchased.
        Purchased = "PURCHASED",
        /// Canceled (Google spells it with two l).
        Cancelled = "CANCELLED",
        /// Pending payment.
        Pending = "PENDING",
    }
}

google_enum! {
    /// `productOfferDetails.consumptionState` of a [`ProductPurchaseV2`].
    ConsumptionState {
        /// Not specified.
        Unspecified = "CONSUMPTION_STATE_UNSPECIFIED",
        /// Not consumed yet.
        YetToBeConsumed = "CONSUMPTION_STATE_YET_TO_BE_CONSUMED",
        /// Consumed.
        Consumed = "CONSUMPTION_STATE_CONSUMED",
    }
}

impl ConsumptionState {
    /// `Consumed` or `YetToBeConsumed`.
    pub fn of(consumed: bool) -> Self {
        if consumed {
            Self::Consumed
        } else {
            Self::YetToBeConsumed
        }
    }
}

/// The `purchaseState` of a [`ProductPurchase`] (an integer on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "i32", into = "i32")]
pub enum ProductPurchaseState {
    /// 0.
    Purchased,
    /// 1.
    Canceled,
    /// 2.
    Pending,
    /// Anything else, kept as read.
    Unknown(i32),
}

impl From<i32> for ProductPurchaseState {
    fn from(n: i32) -> Self {
        match n {
            0 => Self::Purchased,
            1 => Self::Canceled,
            2 => Self::Pending,
            n => Self::Unknown(n),
        }
    }
}

impl From<ProductPurchaseState> for i32 {
    fn from(s: ProductPurchaseState) -> i32 {
        match s {
            ProductPurchaseState::Purchased => 0,
            ProductPurchaseState::Canceled => 1,
            ProductPurchaseState::Pending => 2,
            ProductPurchaseState::Unknown(n) => n,
        }
    }
}

/// `purchases.products.get`: a one-time product purchase.
#[serde_as]
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductPurchase {
    /// `androidpublisher#productPurchase`.
    pub kind: Option<String>,
    /// Absent reads as purchased, as Google omits zero values.
    pub purchase_state: Option<ProductPurchaseState>,
    /// 0 yet to be consumed, 1 consumed.
    pub consumption_state: Option<i32>,
    /// 0 not yet acknowledged, 1 acknowledged.
    pub acknowledgement_state: Option<i32>,
    /// Only for non-standard purchases: 0 test, 1 promo, 2 rewarded.
    pub purchase_type: Option<i32>,
    /// Payload the developer attached at acknowledgement.
    pub developer_payload: Option<String>,
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
    /// Obfuscated profile id set by the app at purchase.
    pub obfuscated_external_profile_id: Option<String>,
}

impl ProductPurchase {
    /// `kind` of this resource.
    pub const KIND: &'static str = "androidpublisher#productPurchase";

    /// The purchase state (absent reads as purchased).
    pub fn state(&self) -> ProductPurchaseState {
        self.purchase_state
            .unwrap_or(ProductPurchaseState::Purchased)
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

/// `purchases.productsv2.getproductpurchasev2`: a one-time purchase, line by line.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductPurchaseV2 {
    /// `androidpublisher#productPurchaseV2`.
    pub kind: Option<String>,
    /// Absent for promo codes.
    pub order_id: Option<String>,
    /// Region of the buyer.
    pub region_code: Option<String>,
    /// The purchase state.
    pub purchase_state_context: Option<PurchaseStateContext>,
    /// Acknowledgement.
    pub acknowledgement_state: Option<AcknowledgementState>,
    /// When the purchase completed (absent while pending).
    #[serde(with = "time::serde::rfc3339::option")]
    pub purchase_completion_time: Option<OffsetDateTime>,
    /// Present only for test purchases.
    pub test_purchase_context: Option<TestPurchaseContext>,
    /// Obfuscated account id set by the app at purchase.
    pub obfuscated_external_account_id: Option<String>,
    /// Obfuscated profile id set by the app at purchase.
    pub obfuscated_external_profile_id: Option<String>,
    /// One entry per product bought.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub product_line_item: Vec<ProductLineItem>,
}

impl ProductPurchaseV2 {
    /// `kind` of this resource.
    pub const KIND: &'static str = "androidpublisher#productPurchaseV2";
}

/// `purchaseStateContext` of a [`ProductPurchaseV2`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PurchaseStateContext {
    /// The state.
    pub purchase_state: Option<PurchaseState>,
}

/// `testPurchaseContext` of a [`ProductPurchaseV2`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TestPurchaseContext {
    /// Form of payment of the test purchase (`TEST`).
    pub fop_type: Option<String>,
}

/// A line of a [`ProductPurchaseV2`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductLineItem {
    /// The product id.
    pub product_id: Option<String>,
    /// Quantity, consumption and purchase option.
    pub product_offer_details: Option<ProductOfferDetails>,
}

/// `productOfferDetails` of a [`ProductLineItem`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProductOfferDetails {
    /// Quantity bought.
    pub quantity: Option<i64>,
    /// Quantity still refundable.
    pub refundable_quantity: Option<i64>,
    /// Consumption.
    pub consumption_state: Option<ConsumptionState>,
    /// The purchase option bought.
    pub purchase_option_id: Option<String>,
    /// The offer, if any.
    pub offer_id: Option<String>,
    /// The offer's tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_tags: Vec<String>,
}

/// `purchases.subscriptionsv2.get`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionPurchaseV2 {
    /// `androidpublisher#subscriptionPurchaseV2`.
    pub kind: Option<String>,
    /// Buyer's region.
    pub region_code: Option<String>,
    /// Start time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_time: Option<OffsetDateTime>,
    /// The state (absent reads as unspecified).
    pub subscription_state: SubscriptionState,
    /// Acknowledgement.
    pub acknowledgement_state: Option<AcknowledgementState>,
    /// The etag `subscriptionsv2.defer` needs.
    pub etag: Option<String>,
    /// The token this one replaces (upgrade, downgrade, re-signup).
    pub linked_purchase_token: Option<String>,
    /// Present (empty) only for test purchases.
    pub test_purchase: Option<TestPurchase>,
    /// The ids the app set at purchase.
    pub external_account_identifiers: Option<ExternalAccountIdentifiers>,
    /// Why and when it was canceled (state CANCELED or EXPIRED after a cancellation).
    pub canceled_state_context: Option<CanceledStateContext>,
    /// When a paused subscription resumes (state PAUSED).
    pub paused_state_context: Option<PausedStateContext>,
    /// Present (empty) in state IN_GRACE_PERIOD.
    pub in_grace_period_state_context: Option<Empty>,
    /// Present (empty) in state ON_HOLD.
    pub on_hold_state_context: Option<Empty>,
    /// One entry per subscribed product.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<SubscriptionLineItem>,
}

/// `purchases.subscriptionsv2.defer`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeferSubscriptionPurchaseResponse {
    /// The new expiry time of each item.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub item_expiry_time_details: Vec<ItemExpiryTimeDetails>,
}

/// One item of a [`DeferSubscriptionPurchaseResponse`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ItemExpiryTimeDetails {
    /// The subscription.
    pub product_id: Option<String>,
    /// Its new expiry time.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expiry_time: Option<OffsetDateTime>,
}

/// An empty message (`{}`): present or absent is all it says; also the answer of
/// `subscriptionsv2.cancel` and `subscriptionsv2.revoke`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Empty {}

/// `testPurchase` of a [`SubscriptionPurchaseV2`] (empty).
pub type TestPurchase = Empty;

/// `externalAccountIdentifiers` of a subscription purchase.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExternalAccountIdentifiers {
    /// Obfuscated account id set by the app at purchase.
    pub obfuscated_external_account_id: Option<String>,
    /// Obfuscated profile id set by the app at purchase.
    pub obfuscated_external_profile_id: Option<String>,
}

impl ExternalAccountIdentifiers {
    /// The identifiers, or `None` when neither is set (Google leaves the field out).
    pub fn of(account: Option<String>, profile: Option<String>) -> Option<Self> {
        (account.is_some() || profile.is_some()).then_some(Self {
            obfuscated_external_account_id: account,
            obfuscated_external_profile_id: profile,
        })
    }
}

/// `canceledStateContext`: exactly one of its fields is set.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CanceledStateContext {
    /// The user canceled.
    pub user_initiated_cancellation: Option<UserInitiatedCancellation>,
    /// The developer canceled.
    pub developer_initiated_cancellation: Option<Empty>,
    /// Play canceled (for example a billing problem).
    pub system_initiated_cancellation: Option<Empty>,
    /// Replaced by another subscription.
    pub replacement_cancellation: Option<Empty>,
}

/// `userInitiatedCancellation` of a [`CanceledStateContext`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserInitiatedCancellation {
    /// When the user canceled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub cancel_time: Option<OffsetDateTime>,
}

/// `pausedStateContext` of a [`SubscriptionPurchaseV2`].
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PausedStateContext {
    /// When the subscription resumes.
    #[serde(with = "time::serde::rfc3339::option")]
    pub auto_resume_time: Option<OffsetDateTime>,
}

/// A line item of a subscription purchase.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionLineItem {
    /// The subscription product id.
    pub product_id: String,
    /// When this item's access ends (absent while pending).
    #[serde(with = "time::serde::rfc3339::option")]
    pub expiry_time: Option<OffsetDateTime>,
    /// Latest successful order.
    pub latest_successful_order_id: Option<String>,
    /// Renewal settings of an auto-renewing base plan.
    pub auto_renewing_plan: Option<AutoRenewingPlan>,
    /// Base plan and offer.
    pub offer_details: Option<OfferDetails>,
    /// A deferred replacement (downgrade): the product this item becomes at its next renewal.
    pub deferred_item_replacement: Option<DeferredItemReplacement>,
}

/// `autoRenewingPlan` of a line item.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AutoRenewingPlan {
    /// Whether it renews at expiry.
    pub auto_renew_enabled: Option<bool>,
    /// The price of the next renewal.
    pub recurring_price: Option<Money>,
}

/// `deferredItemReplacement` of a line item.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeferredItemReplacement {
    /// The product the item is replaced by.
    pub product_id: String,
}

/// Base plan and offer of a line item.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OfferDetails {
    /// The base plan.
    pub base_plan_id: Option<String>,
    /// The offer, if any.
    pub offer_id: Option<String>,
    /// The base plan's and offer's tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_tags: Vec<String>,
}

impl SubscriptionPurchaseV2 {
    /// `kind` of this resource.
    pub const KIND: &'static str = "androidpublisher#subscriptionPurchaseV2";

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

    #[test]
    fn absent_stays_absent_and_written_values_read_back() {
        assert_eq!(
            serde_json::to_string(&ProductPurchase::default()).unwrap(),
            "{}"
        );
        assert_eq!(
            serde_json::to_string(&ProductPurchaseV2::default()).unwrap(),
            "{}"
        );
        assert_eq!(
            serde_json::to_string(&SubscriptionPurchaseV2::default()).unwrap(),
            r#"{"subscriptionState":"SUBSCRIPTION_STATE_UNSPECIFIED"}"#
        );
        let p = ProductPurchase {
            purchase_state: Some(ProductPurchaseState::Pending),
            purchase_time_millis: Some(1_700_000_000_123),
            ..Default::default()
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({ "purchaseState": 2, "purchaseTimeMillis": "1700000000123" })
        );
        assert_eq!(serde_json::from_value::<ProductPurchase>(v).unwrap(), p);
        let s = SubscriptionPurchaseV2 {
            subscription_state: SubscriptionState::Paused,
            acknowledgement_state: Some(AcknowledgementState::of(true)),
            test_purchase: Some(Empty {}),
            paused_state_context: Some(PausedStateContext {
                auto_resume_time: Some(OffsetDateTime::from_unix_timestamp(1_769_904_000).unwrap()),
            }),
            line_items: vec![SubscriptionLineItem {
                product_id: "sub_monthly".into(),
                auto_renewing_plan: Some(AutoRenewingPlan {
                    auto_renew_enabled: Some(true),
                    recurring_price: Some(Money::from_micros(4_990_000, "EUR")),
                }),
                ..Default::default()
            }],
            ..Default::default()
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v["pausedStateContext"]["autoResumeTime"],
            "2026-02-01T00:00:00Z"
        );
        assert_eq!(v["testPurchase"], serde_json::json!({}));
        assert_eq!(
            v["lineItems"][0]["autoRenewingPlan"]["recurringPrice"]["units"],
            "4"
        );
        assert!(v["lineItems"][0].get("offerDetails").is_none());
        assert_eq!(
            serde_json::from_value::<SubscriptionPurchaseV2>(v).unwrap(),
            s
        );
    }

    #[test]
    fn every_enum_string_reads_back_and_unknown_is_not_written() {
        for state in [
            SubscriptionState::Unspecified,
            SubscriptionState::Pending,
            SubscriptionState::Active,
            SubscriptionState::Paused,
            SubscriptionState::InGracePeriod,
            SubscriptionState::OnHold,
            SubscriptionState::Canceled,
            SubscriptionState::Expired,
            SubscriptionState::PendingPurchaseCanceled,
        ] {
            let v = serde_json::to_value(state).unwrap();
            assert_eq!(v, state.as_str().unwrap());
            assert_eq!(
                serde_json::from_value::<SubscriptionState>(v).unwrap(),
                state
            );
        }
        assert_eq!(
            serde_json::from_str::<ConsumptionState>(r#""CONSUMPTION_STATE_CONSUMED""#).unwrap(),
            ConsumptionState::of(true)
        );
        assert_eq!(
            serde_json::from_str::<PurchaseState>(r#""REFUNDED_SOMEDAY""#).unwrap(),
            PurchaseState::Unknown
        );
        assert!(serde_json::to_value(AcknowledgementState::Unknown).is_err());
        assert_eq!(
            serde_json::to_value(ProductPurchaseState::Unknown(7)).unwrap(),
            7
        );
    }
}
