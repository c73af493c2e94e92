//! Storage of the purchase lifecycle: received RTDN messages, leases of periodic work with
//! their cursor, and the purchase queries lifecycle changes need.

use std::time::Duration;

use sqlx::AnyConnection;

use super::purchases::PurchaseRow;
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

/// Claims the lease `name` for `owner` for `lease` if nobody holds it and, unless `force`,
/// its work was last done at least `every` ago. Returns the cursor when claimed.
pub async fn claim_lease(
    db: &Db,
    name: &str,
    owner: &str,
    lease: Duration,
    every: Duration,
    force: bool,
) -> Result<Option<Option<i64>>, sqlx::Error> {
    let now = now_ms();
    let due_before = if force {
        i64::MAX
    } else {
        now - every.as_millis() as i64
    };
    let claimed: Option<(Option<i64>,)> = sqlx::query_as(
        "UPDATE leases SET lease_owner = $1, lease_until = $2 \
         WHERE name = $3 AND (lease_until IS NULL OR lease_until <= $4) AND updated_at <= $5 \
         RETURNING cursor",
    )
    .bind(owner)
    .bind(now + lease.as_millis() as i64)
    .bind(name)
    .bind(now)
    .bind(due_before)
    .fetch_optional(db.pool())
    .await?;
    Ok(claimed.map(|(cursor,)| cursor))
}

/// Releases the lease `name` held by `owner`, recording the work as done now with its new
/// cursor.
pub async fn release_lease(
    db: &Db,
    name: &str,
    owner: &str,
    cursor: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE leases SET lease_owner = NULL, lease_until = NULL, cursor = $1, updated_at = $2 \
         WHERE name = $3 AND lease_owner = $4",
    )
    .bind(cursor)
    .bind(now_ms())
    .bind(name)
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether an account has any purchase here (a "known account").
pub async fn account_known(db: &Db, account_id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// Forgets a pending purchase whose payment was canceled (nothing was granted).
pub async fn delete_pending(db: &Db, token: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM purchases WHERE purchase_token = $1 AND state = 'pending'")
        .bind(token)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets the state and quantity of a token's row; true if anything changed.
pub async fn set_state_and_quantity(
    db: &Db,
    token: &str,
    state: &str,
    quantity: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE purchases SET state = $1, quantity = $2, updated_at = $3 \
         WHERE purchase_token = $4 AND (state <> $1 OR quantity <> $2)",
    )
    .bind(state)
    .bind(quantity)
    .bind(now_ms())
    .bind(token)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Purchases that should have changed by `now`: live subscriptions past their expiry,
/// pending purchases, and live subscriptions not checked for `stale`.
pub async fn due_for_recheck(
    db: &Db,
    now: i64,
    stale: Duration,
) -> Result<Vec<PurchaseRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT purchase_token, id, account_id, item_id, kind, state, quantity, expires_at, test, acknowledged, \
         order_id, linked_purchase_token, purchased_at, granted_at, created_at, updated_at FROM purchases \
         WHERE state = 'pending' OR (kind = 'subscription' \
           AND state IN ('active', 'grace_period', 'on_hold', 'paused', 'canceled') \
           AND (expires_at <= $1 OR updated_at <= $2)) \
         ORDER BY created_at, purchase_token",
    )
    .bind(now)
    .bind(now - stale.as_millis() as i64)
    .fetch_all(db.pool())
    .await
}
