//! Real-time developer notifications: the Pub/Sub push envelope, the notification it
//! carries, and the OIDC check of the push ([`oidc`]).

pub mod coalesce;
pub mod oidc;

use base64::Engine;
pub use play_model::rtdn::{
    OneTimeNotificationType, RefundType, SubscriptionNotificationType, VoidedProductType,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A Pub/Sub push request body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PushEnvelope {
    /// The message.
    pub message: PushMessage,
    /// `projects/P/subscriptions/S`.
    #[serde(default)]
    pub subscription: Option<String>,
}

/// The Pub/Sub message of a push (Pub/Sub sends camelCase and snake_case duplicates).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PushMessage {
    /// Base64 of the JSON DeveloperNotification.
    pub data: String,
    /// The message id (de-duplication key).
    #[serde(default, rename = "messageId")]
    pub message_id: Option<String>,
    /// `message_id`, as Pub/Sub also sends it.
    #[serde(default, rename = "message_id")]
    pub message_id_snake: Option<String>,
    /// When Pub/Sub published it.
    #[serde(default, rename = "publishTime")]
    pub publish_time: Option<String>,
    /// `publish_time`, as Pub/Sub also sends it.
    #[serde(default, rename = "publish_time")]
    pub publish_time_snake: Option<String>,
    /// Message attributes (unused by RTDN).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Value>,
}

impl PushMessage {
    /// The message id, whichever spelling carried it.
    pub fn id(&self) -> Option<&str> {
        self.message_id
            .as_deref()
            .or(self.message_id_snake.as_deref())
            .filter(|id| !id.is_empty())
    }

    /// The publish time, whichever spelling carried it.
    pub fn published(&self) -> Option<&str> {
        self.publish_time
            .as_deref()
            .or(self.publish_time_snake.as_deref())
    }

    /// Decodes `data`.
    pub fn notification(&self) -> Result<DeveloperNotification, String> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.data.trim())
            .map_err(|e| format!("message.data is not base64: {e}"))?;
        let n: DeveloperNotification = serde_json::from_slice(&bytes)
            .map_err(|e| format!("message.data is not a DeveloperNotification: {e}"))?;
        n.kind()?;
        Ok(n)
    }
}

/// The `DeveloperNotification` Play publishes.
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
    pub event_time_millis: Option<serde_json::Value>,
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
    pub test_notification: Option<serde_json::Value>,
}

/// `subscriptionNotification`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionNotification {
    /// 1 RECOVERED … 22 PRICE_STEP_UP_CONSENT_UPDATED (unknown codes kept).
    pub notification_type: SubscriptionNotificationType,
    /// The token.
    pub purchase_token: String,
}

/// `oneTimeProductNotification`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimeProductNotification {
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

    fn message(data: &serde_json::Value) -> PushMessage {
        let body = serde_json::json!({
            "message": {
                "data": base64::engine::general_purpose::STANDARD.encode(data.to_string()),
                "messageId": "1", "message_id": "1",
                "publishTime": "2026-01-01T00:00:00Z", "publish_time": "2026-01-01T00:00:00Z",
                "attributes": {}
            },
            "subscription": "projects/p/subscriptions/s"
        });
        serde_json::from_value::<PushEnvelope>(body)
            .unwrap()
            .message
    }

    #[test]
    fn decodes_both_spellings_and_one_notification() {
        let m = message(
            &serde_json::json!({"version":"1.0","packageName":"com.example",
            "eventTimeMillis":"1","subscriptionNotification":{"version":"1.0","notificationType":12,"purchaseToken":"t"}}),
        );
        assert_eq!(m.id(), Some("1"));
        assert_eq!(m.published(), Some("2026-01-01T00:00:00Z"));
        let n = m.notification().unwrap();
        assert_eq!(n.kind(), Ok(NotificationKind::Subscription));
        assert_eq!(
            n.subscription_notification.unwrap().notification_type,
            SubscriptionNotificationType::Revoked
        );
        let none = message(&serde_json::json!({"packageName":"com.example"}));
        assert!(none.notification().is_err());
        let two = message(
            &serde_json::json!({"packageName":"com.example","testNotification":{},
            "voidedPurchaseNotification":{"purchaseToken":"t","productType":2,"refundType":1}}),
        );
        assert!(two.notification().is_err());
        let voided = message(&serde_json::json!({"packageName":"com.example",
            "voidedPurchaseNotification":{"purchaseToken":"t","productType":2,"refundType":2}}));
        let v = voided
            .notification()
            .unwrap()
            .voided_purchase_notification
            .unwrap();
        assert_eq!(
            (v.product_type, v.refund_type),
            (VoidedProductType::OneTime, RefundType::QuantityBasedPartial)
        );
        let future = message(&serde_json::json!({"packageName":"com.example",
            "subscriptionNotification":{"notificationType":99,"purchaseToken":"t"}}));
        let s = future
            .notification()
            .unwrap()
            .subscription_notification
            .unwrap();
        assert_eq!(
            s.notification_type,
            SubscriptionNotificationType::Unknown(99)
        );
        let mut bad = message(&serde_json::json!({}));
        bad.data = "***".into();
        assert!(bad.notification().unwrap_err().contains("base64"));
    }
}
