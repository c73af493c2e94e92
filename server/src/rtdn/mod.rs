//! Real-time developer notifications: the Pub/Sub push envelope, the notification it
//! carries, and the OIDC check of the push ([`oidc`]).

pub mod coalesce;
pub mod oidc;

use base64::Engine;
pub use play_model::rtdn::{
    DeveloperNotification, NotificationKind, OneTimeNotificationType, OneTimeProductNotification,
    RefundType, SubscriptionNotification, SubscriptionNotificationType, TestNotification,
    VoidedProductType, VoidedPurchaseNotification,
};
use serde::Deserialize;
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
