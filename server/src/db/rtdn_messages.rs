//! The `rtdn_messages` table: the Real-time developer notifications received, by Pub/Sub
//! `messageId` (a redelivered message is stored once and counted).

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
        "INSERT INTO rtdn_messages (message_id, subscription, publish_time, notification, received_at, deliveries) \
         VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(subscription)
    .bind(publish_time)
    .bind(notification)
    .bind(now_ms())
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
