//! Real-time developer notifications: the `DeveloperNotification` Play publishes (written by
//! the emulator, read by the server) and its integer codes as named enums. Each enum keeps a
//! code it does not know (`Unknown(n)`) instead of failing, so that a type Google adds later
//! is still read, stored and passed on.

use serde::{Deserialize, Serialize};
use serde_with::{serde_as, DisplayFromStr, PickFirst};

macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $( $(#[$vdoc:meta])* $variant:ident = $code:literal, )* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "i32", into = "i32")]
        pub enum $name {
            $( $(#[$vdoc])* $variant, )*
            /// A code this version does not know.
            Unknown(i32),
        }

        impl From<i32> for $name {
            fn from(code: i32) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                match value {
                    $( $name::$variant => $code, )*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl $name {
            /// The integer Google sends.
            pub fn code(self) -> i32 {
                self.into()
            }
        }
    };
}

codes! {
    /// `subscriptionNotification.notificationType`.
    SubscriptionNotificationType {
        /// `SUBSCRIPTION_RECOVERED`: recovered from account hold.
        Recovered = 1,
        /// `SUBSCRIPTION_RENEWED`: an active subscription renewed.
        Renewed = 2,
        /// `SUBSCRIPTION_CANCELED`: cancelled (voluntarily or not).
        Canceled = 3,
        /// `SUBSCRIPTION_PURCHASED`: a new subscription was bought.
        Purchased = 4,
        /// `SUBSCRIPTION_ON_HOLD`: entered account hold.
        OnHold = 5,
        /// `SUBSCRIPTION_IN_GRACE_PERIOD`: entered the grace period.
        InGracePeriod = 6,
        /// `SUBSCRIPTION_RESTARTED`: the user restored it before it expired.
        Restarted = 7,
        /// `SUBSCRIPTION_PRICE_CHANGE_CONFIRMED` (deprecated).
        PriceChangeConfirmed = 8,
        /// `SUBSCRIPTION_DEFERRED`: the renewal time was extended.
        Deferred = 9,
        /// `SUBSCRIPTION_PAUSED`: paused.
        Paused = 10,
        /// `SUBSCRIPTION_PAUSE_SCHEDULE_CHANGED`: a pause was scheduled or changed.
        PauseScheduleChanged = 11,
        /// `SUBSCRIPTION_REVOKED`: revoked before it expired.
        Revoked = 12,
        /// `SUBSCRIPTION_EXPIRED`: expired.
        Expired = 13,
        /// `SUBSCRIPTION_ITEMS_CHANGED`: its items changed (add-ons).
        ItemsChanged = 17,
        /// `SUBSCRIPTION_CANCELLATION_SCHEDULED`: will end at a later time.
        CancellationScheduled = 18,
        /// `SUBSCRIPTION_PRICE_CHANGE_UPDATED`: a price change's details changed.
        PriceChangeUpdated = 19,
        /// `SUBSCRIPTION_PENDING_PURCHASE_CANCELED`: a pending purchase was cancelled.
        PendingPurchaseCanceled = 20,
        /// `SUBSCRIPTION_PRICE_STEP_UP_CONSENT_UPDATED`: the user's consent to a price
        /// step-up changed.
        PriceStepUpConsentUpdated = 22,
    }
}

codes! {
    /// `oneTimeProductNotification.notificationType`.
    OneTimeNotificationType {
        /// `ONE_TIME_PRODUCT_PURCHASED`: a purchase completed.
        Purchased = 1,
        /// `ONE_TIME_PRODUCT_CANCELED`: a pending purchase was cancelled.
        Canceled = 2,
    }
}

codes! {
    /// `voidedPurchaseNotification.productType`.
    VoidedProductType {
        /// `PRODUCT_TYPE_SUBSCRIPTION`.
        Subscription = 1,
        /// `PRODUCT_TYPE_ONE_TIME`.
        OneTime = 2,
    }
}

codes! {
    /// `voidedPurchaseNotification.refundType`.
    RefundType {
        /// `REFUND_TYPE_FULL_REFUND`.
        Full = 1,
        /// `REFUND_TYPE_QUANTITY_BASED_PARTIAL_REFUND`.
        QuantityBasedPartial = 2,
    }
}

/// The `DeveloperNotification` Play publishes.
#[serde_as]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeveloperNotification {
    /// `1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The app.
    pub package_name: String,
    /// When it happened (int64 as a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde_as(as = "Option<PickFirst<(DisplayFromStr, _)>>")]
    pub event_time_millis: Option<i64>,
    /// A subscription changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_notification: Option<SubscriptionNotification>,
    /// A one-time purchase changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_time_product_notification: Option<OneTimeProductNotification>,
    /// A purchase was voided (refund, chargeback, revocation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided_purchase_notification: Option<VoidedPurchaseNotification>,
    /// A test from the Play Console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_notification: Option<TestNotification>,
}

impl DeveloperNotification {
    /// A notification of `package` at `at_ms` (version `1.0`), carrying nothing yet.
    pub fn new(package: &str, at_ms: i64) -> Self {
        DeveloperNotification {
            version: Some(VERSION.into()),
            package_name: package.into(),
            event_time_millis: Some(at_ms),
            subscription_notification: None,
            one_time_product_notification: None,
            voided_purchase_notification: None,
            test_notification: None,
        }
    }
}

/// The `version` Play writes in a notification.
pub const VERSION: &str = "1.0";

/// `testNotification`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestNotification {
    /// `1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `subscriptionNotification`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionNotification {
    /// `1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// 1 RECOVERED … 22 PRICE_STEP_UP_CONSENT_UPDATED (unknown codes kept).
    pub notification_type: SubscriptionNotificationType,
    /// The token.
    pub purchase_token: String,
}

/// `oneTimeProductNotification`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductNotification {
    /// `1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// 1 purchased, 2 canceled (a pending purchase).
    pub notification_type: OneTimeNotificationType,
    /// The token.
    pub purchase_token: String,
    /// The product id.
    pub sku: String,
}

/// `voidedPurchaseNotification`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoidedPurchaseNotification {
    /// The token.
    pub purchase_token: String,
    /// The voided order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// 1 subscription, 2 one-time.
    #[serde(default = "unknown_product_type")]
    pub product_type: VoidedProductType,
    /// 1 full, 2 quantity-based partial.
    #[serde(default = "unknown_refund_type")]
    pub refund_type: RefundType,
}

fn unknown_product_type() -> VoidedProductType {
    VoidedProductType::Unknown(0)
}

fn unknown_refund_type() -> RefundType {
    RefundType::Unknown(0)
}

/// What a notification is about, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// `subscriptionNotification`.
    Subscription,
    /// `oneTimeProductNotification`.
    OneTimeProduct,
    /// `voidedPurchaseNotification`.
    Voided,
    /// `testNotification`.
    Test,
}

impl NotificationKind {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Subscription => "subscription",
            Self::OneTimeProduct => "one_time_product",
            Self::Voided => "voided",
            Self::Test => "test",
        }
    }
}

impl DeveloperNotification {
    /// Which one of the four notifications this is (exactly one must be present).
    pub fn kind(&self) -> Result<NotificationKind, String> {
        let present = [
            self.subscription_notification
                .as_ref()
                .map(|_| NotificationKind::Subscription),
            self.one_time_product_notification
                .as_ref()
                .map(|_| NotificationKind::OneTimeProduct),
            self.voided_purchase_notification
                .as_ref()
                .map(|_| NotificationKind::Voided),
            self.test_notification
                .as_ref()
                .map(|_| NotificationKind::Test),
        ];
        let mut kinds = present.into_iter().flatten();
        match (kinds.next(), kinds.next()) {
            (Some(kind), None) => Ok(kind),
            _ => Err("a DeveloperNotification carries exactly one notification".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_survive() {
        for code in 0..30 {
            let t = SubscriptionNotificationType::from(code);
            assert_eq!(t.code(), code);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, code.to_string());
            assert_eq!(
                serde_json::from_str::<SubscriptionNotificationType>(&json).unwrap(),
                t
            );
        }
        assert_eq!(
            SubscriptionNotificationType::from(4),
            SubscriptionNotificationType::Purchased
        );
        assert_eq!(
            SubscriptionNotificationType::from(21),
            SubscriptionNotificationType::Unknown(21)
        );
        assert_eq!(
            OneTimeNotificationType::from(2),
            OneTimeNotificationType::Canceled
        );
        assert_eq!(VoidedProductType::OneTime.code(), 2);
        assert_eq!(RefundType::from(2), RefundType::QuantityBasedPartial);
        assert_eq!(RefundType::from(0), RefundType::Unknown(0));
    }

    #[test]
    fn a_notification_writes_as_play_publishes_it() {
        let mut n = DeveloperNotification::new("com.example", 1_700_000_000_000);
        n.subscription_notification = Some(SubscriptionNotification {
            version: Some(VERSION.into()),
            notification_type: SubscriptionNotificationType::Deferred,
            purchase_token: "t".into(),
        });
        let json = serde_json::to_value(&n).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "version": "1.0", "packageName": "com.example",
                "eventTimeMillis": "1700000000000",
                "subscriptionNotification": { "version": "1.0", "notificationType": 9, "purchaseToken": "t" } })
        );
        let back: DeveloperNotification = serde_json::from_value(json).unwrap();
        assert_eq!(back.kind(), Ok(NotificationKind::Subscription));
        let lenient: DeveloperNotification = serde_json::from_str(
            r#"{"packageName":"p","eventTimeMillis":5,"testNotification":{}}"#,
        )
        .unwrap();
        assert_eq!(lenient.event_time_millis, Some(5));
        assert_eq!(lenient.kind(), Ok(NotificationKind::Test));
    }
}
