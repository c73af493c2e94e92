//! The `webhook_deliveries` table: one row per (event, endpoint), claimed with a lease by
//! that endpoint's sender (so that replicas never send one at once, and a crashed replica's
//! deliveries are sent again once the lease expires), until delivered or failed.

use std::time::Duration;

use sqlx::{AnyConnection, FromRow};

use super::{now_ms, sql, stored_as_text, Db};

/// The `status` of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// To send (again).
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up (older than `webhooks.max_age_secs`).
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

stored_as_text!(DeliveryStatus, "webhook delivery status");

const PENDING: DeliveryStatus = DeliveryStatus::Pending;
const DELIVERED: DeliveryStatus = DeliveryStatus::Delivered;
const FAILED: DeliveryStatus = DeliveryStatus::Failed;

/// A claimed delivery, with the body to send.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    /// The event.
    pub event_id: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// When the delivery was created (ms).
    pub created_at: i64,
    /// The body (JSON).
    pub payload: String,
}

/// A delivery as operators list it.
#[derive(Debug, Clone, FromRow, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRow {
    /// The event.
    pub event_id: String,
    /// The event's type.
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// The endpoint's name.
    pub endpoint: String,
    /// The status.
    #[sqlx(try_from = "String")]
    #[serde(serialize_with = "as_text")]
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
    /// The last answer's HTTP status.
    pub last_status: Option<i64>,
    /// The last error.
    pub last_error: Option<String>,
    /// When created (ms).
    pub created_at: i64,
    /// When delivered (ms).
    pub delivered_at: Option<i64>,
}

fn as_text<S: serde::Serializer>(s: &DeliveryStatus, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(s.as_str())
}

/// Adds a pending delivery of `event_id` to `endpoint` (nothing if it exists).
pub async fn insert(
    conn: &mut AnyConnection,
    event_id: &str,
    endpoint: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(sql!(
        "INSERT INTO webhook_deliveries (event_id, endpoint, status, attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, '{PENDING}', 0, $3, $3, $3) ON CONFLICT (event_id, endpoint) DO NOTHING"
    ))
    .bind(event_id)
    .bind(endpoint)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims up to `limit` deliveries of `endpoint` due at `now` (ms) for `owner` for
/// `lease`, with their bodies. A delivery whose lease expired (its sender crashed) is due again.
pub async fn claim(
    db: &Db,
    endpoint: &str,
    owner: &str,
    now: i64,
    lease: Duration,
    limit: u32,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let claimed: Vec<(String, i64, i64)> = sqlx::query_as(sql!(
        "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE endpoint = $4 AND event_id IN (SELECT event_id FROM webhook_deliveries \
               WHERE endpoint = $4 AND status = '{PENDING}' AND run_at <= $3 \
               AND (lease_until IS NULL OR lease_until <= $3) ORDER BY run_at LIMIT $5) \
           AND status = '{PENDING}' AND (lease_until IS NULL OR lease_until <= $3) \
         RETURNING event_id, attempts, created_at"
    ))
    .bind(owner)
    .bind(now + lease.as_millis() as i64)
    .bind(now)
    .bind(endpoint)
    .bind(i64::from(limit))
    .fetch_all(db.writer())
    .await?;
    let mut out = Vec::with_capacity(claimed.len());
    for (event_id, attempts, created_at) in claimed {
        let payload: Option<String> =
            sqlx::query_scalar("SELECT payload FROM events WHERE id = $1")
                .bind(&event_id)
                .fetch_optional(db.pool())
                .await?;
        if let Some(payload) = payload {
            out.push(Claimed {
                event_id,
                attempts,
                created_at,
                payload,
            });
        }
    }
    Ok(out)
}

/// Settles a claimed delivery at `now` (ms): `delivered`, `failed`, or pending again.
/// False if `owner` lost the lease meanwhile.
pub async fn settle(
    db: &Db,
    event_id: &str,
    endpoint: &str,
    owner: &str,
    now: i64,
    outcome: Settled<'_>,
) -> Result<bool, sqlx::Error> {
    let (status, run_at, last_status, error, delivered_at) = match outcome {
        Settled::Delivered { status } => (DELIVERED, now, Some(status), None, Some(now)),
        Settled::Retry { at, status, error } => (PENDING, at, status, Some(error), None),
        Settled::Failed { status, error } => (FAILED, now, status, Some(error), None),
    };
    let done = sqlx::query(sql!(
        "UPDATE webhook_deliveries SET status = $1, run_at = $2, last_status = $3, last_error = $4, \
         delivered_at = $5, lease_owner = NULL, lease_until = NULL, updated_at = $6 \
         WHERE event_id = $7 AND endpoint = $8 AND lease_owner = $9 AND status = '{PENDING}'"
    ))
    .bind(status.as_str())
    .bind(run_at)
    .bind(last_status)
    .bind(error)
    .bind(delivered_at)
    .bind(now)
    .bind(event_id)
    .bind(endpoint)
    .bind(owner)
    .execute(db.writer())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Settled<'a> {
    /// 2xx.
    Delivered {
        /// The status.
        status: i64,
    },
    /// To try again at `at` (ms).
    Retry {
        /// When.
        at: i64,
        /// The answer's status, if any.
        status: Option<i64>,
        /// What went wrong.
        error: &'a str,
    },
    /// Given up.
    Failed {
        /// The answer's status, if any.
        status: Option<i64>,
        /// What went wrong.
        error: &'a str,
    },
}

/// Deliveries, newest first (only failed ones if `failed`).
pub async fn list(db: &Db, failed: bool, limit: i64) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    const SELECT: &str = "SELECT d.event_id, e.type, d.endpoint, d.status, d.attempts, d.last_status, d.last_error, \
         d.created_at, d.delivered_at FROM webhook_deliveries d JOIN events e ON e.id = d.event_id";
    if failed {
        sqlx::query_as(sql!(
            "{SELECT} WHERE d.status = '{FAILED}' ORDER BY d.created_at DESC, d.event_id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(db.pool())
        .await
    } else {
        sqlx::query_as(sql!(
            "{SELECT} ORDER BY d.created_at DESC, d.event_id LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(db.pool())
        .await
    }
}

/// Makes the delivery of `event_id` to `endpoint` pending again, due now (a replay):
/// creates it if missing.
pub async fn replay(db: &Db, event_id: &str, endpoint: &str) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    if !insert(&mut tx, event_id, endpoint, now).await? {
        sqlx::query(sql!(
            "UPDATE webhook_deliveries SET status = '{PENDING}', run_at = $1, attempts = 0, \
             lease_owner = NULL, lease_until = NULL, updated_at = $1 WHERE event_id = $2 AND endpoint = $3"
        ))
        .bind(now)
        .bind(event_id)
        .bind(endpoint)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Creation time (ms) of the oldest delivery not delivered yet.
pub async fn oldest_pending(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(sql!(
        "SELECT MIN(created_at) FROM webhook_deliveries WHERE status = '{PENDING}'"
    ))
    .fetch_one(db.pool())
    .await
}
