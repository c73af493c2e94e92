//! The integer codes of real-time developer notifications as named enums. Each keeps a code
//! it does not know (`Unknown(n)`) instead of failing, so that a type Google adds later is
//! still read, stored and passed on.

use serde::{Deserialize, Serialize};

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
}
