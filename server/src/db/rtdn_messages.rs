//! The `rtdn_messages` table: the Real-time developer notifications received, by Pub/Sub
//! `messageId` (a redelivered message is stored once and counted), with the purchase token
//! each names (the operator console finds a purchase's notifications by it).

use sqlx::AnyConnection;

use super::{now_ms, Db};

/// Stores a received RTDN message; false if its `messageId` was stored before (then its
/// delivery count goes up).
pub async fn store_message(
    conn: &mut AnyConnection,
    message_id: &str,
    subscription: Option<&str>,
    publish_time: Option<&str>,
    notification: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO rtdn_messages (message_id, subscription, publish_time, notification, received_at, deliveries, purchase_token) \
         VALUES ($1, $2, $3, $4, $5, 1, $6) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(subscription)
    .bind(publish_time)
    .bind(notification)
    .bind(now_ms())
    .bind(token_named(notification))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 1 {
        return Ok(true);
    }
    sqlx::query("UPDATE rtdn_messages SET deliveries = deliveries + 1 WHERE message_id = $1")
        .bind(message_id)
        .execute(conn)
        .await?;
    Ok(false)
}

/// The purchase token a notification (JSON) names: its subscription, one-time product or
/// voided purchase notification's `purchaseToken`; `""` when it names none (a test
/// notification, or text that is not such JSON).
pub fn token_named(notification: &str) -> String {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(notification) else {
        return String::new();
    };
    [
        "subscriptionNotification",
        "oneTimeProductNotification",
        "voidedPurchaseNotification",
    ]
    .iter()
    .find_map(|k| v[k]["purchaseToken"].as_str())
    .unwrap_or_default()
    .to_string()
}

/// Writes the purchase token of the notifications stored before it had its column
/// (migration 0023), a batch at a time; returns how many were written. Run at start: once
/// they are all written, it finds none (an index of the rows without one).
pub async fn fill_tokens(db: &Db) -> Result<u64, sqlx::Error> {
    const BATCH: i64 = 1000;
    let mut filled = 0;
    loop {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT message_id, notification FROM rtdn_messages WHERE purchase_token IS NULL \
             ORDER BY message_id LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = db.begin_write().await?;
        for (id, notification) in &rows {
            sqlx::query("UPDATE rtdn_messages SET purchase_token = $1 WHERE message_id = $2")
                .bind(token_named(notification))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}

/// The stored notification (JSON) of a message.
pub async fn message(db: &Db, message_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT notification FROM rtdn_messages WHERE message_id = $1")
        .bind(message_id)
        .fetch_optional(db.pool())
        .await
}

/// When a stored message was first received (ms since the epoch).
pub async fn received_at(db: &Db, message_id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT received_at FROM rtdn_messages WHERE message_id = $1")
        .bind(message_id)
        .fetch_optional(db.pool())
        .await
}

/// How many times a message was delivered (for tests and operators).
pub async fn deliveries(db: &Db, message_id: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT deliveries FROM rtdn_messages WHERE message_id = $1")
        .bind(message_id)
        .fetch_optional(db.pool())
        .await
}

#[cfg(test)]
mod tests {
    use super::token_named;

    #[test]
    fn the_token_a_notification_names() {
        let cases = [
            (
                r#"{"subscriptionNotification":{"notificationType":2,"purchaseToken":"tok_1"}}"#,
                "tok_1",
            ),
            (
                r#"{"oneTimeProductNotification":{"notificationType":1,"purchaseToken":"t-2"}}"#,
                "t-2",
            ),
            (
                r#"{"voidedPurchaseNotification":{"purchaseToken":"v3","refundType":1}}"#,
                "v3",
            ),
            (r#"{"testNotification":{"version":"1.0"}}"#, ""),
            ("not json", ""),
        ];
        for (json, token) in cases {
            assert_eq!(token_named(json), token, "{json}");
        }
    }
}
