//! What the operator console reads (and its sessions): the `console_sessions` and
//! `console_report_totals` tables, and read-only queries over `purchases`, `outbox`,
//! `rtdn_messages`, `play_fetches`, `leases` and `report_rows`.

use sqlx::FromRow;

use super::{sql, Db};
use crate::db::outbox::JobStatus;

const PENDING: JobStatus = JobStatus::Pending;
const FAILED: JobStatus = JobStatus::Failed;

/// A stored console session.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 (hex) of the server API key that signed in.
    pub key_digest: String,
    /// The anti-forgery token.
    pub csrf_token: String,
    /// When it ends (ms).
    pub expires_at: i64,
}

/// Stores a new session (and forgets the expired ones).
pub async fn insert_session(
    db: &Db,
    id_digest: &str,
    key_digest: &str,
    csrf_token: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db.writer())
        .await?;
    sqlx::query(
        "INSERT INTO console_sessions (id_digest, key_digest, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id_digest)
    .bind(key_digest)
    .bind(csrf_token)
    .bind(now)
    .bind(expires_at)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// The session with this cookie digest, unless it has expired at `now`.
pub async fn session(
    db: &Db,
    id_digest: &str,
    now: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT key_digest, csrf_token, expires_at FROM console_sessions \
         WHERE id_digest = $1 AND expires_at > $2",
    )
    .bind(id_digest)
    .bind(now)
    .fetch_optional(db.pool())
    .await
}

/// Ends a session; true if it existed.
pub async fn delete_session(db: &Db, id_digest: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM console_sessions WHERE id_digest = $1")
        .bind(id_digest)
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Purchases by stored state and test flag: `(state, test, count)`.
pub async fn purchases_by_state(db: &Db) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, test, COUNT(*) FROM purchases GROUP BY state, test ORDER BY state, test",
    )
    .fetch_all(db.pool())
    .await
}

/// Grants since `since` (ms) by UTC day number (days since the epoch) and test flag:
/// `(day, test, count)`.
pub async fn grants_per_day(db: &Db, since: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT granted_at / 86400000 AS day, test, COUNT(*) FROM purchases \
         WHERE granted_at >= $1 GROUP BY granted_at / 86400000, test ORDER BY day, test",
    )
    .bind(since)
    .fetch_all(db.pool())
    .await
}

/// Sums the rows of every imported report file whose current generation
/// `console_report_totals` does not hold yet, and drops the sums of files no longer
/// imported. Returns how many files were summed.
pub async fn refresh_report_totals(db: &Db) -> Result<usize, sqlx::Error> {
    let stale: Vec<(String, String)> = sqlx::query_as(
        "SELECT f.name, f.generation FROM report_files f WHERE NOT EXISTS \
         (SELECT 1 FROM console_report_totals t WHERE t.file_name = f.name AND t.generation = f.generation) \
         AND EXISTS (SELECT 1 FROM report_rows r WHERE r.file_name = f.name)",
    )
    .fetch_all(db.pool())
    .await?;
    const ORPHANS: &str = "NOT EXISTS (SELECT 1 FROM report_files f \
         WHERE f.name = console_report_totals.file_name AND f.generation = console_report_totals.generation)";
    let orphans: i64 = sqlx::query_scalar(sql!(
        "SELECT COUNT(*) FROM console_report_totals WHERE {ORPHANS}"
    ))
    .fetch_one(db.pool())
    .await?;
    if stale.is_empty() && orphans == 0 {
        // Nothing to write: the common case, read-only.
        return Ok(0);
    }
    let mut tx = db.writer().begin().await?;
    sqlx::query(sql!("DELETE FROM console_report_totals WHERE {ORPHANS}"))
        .execute(&mut *tx)
        .await?;
    for (name, generation) in &stale {
        sqlx::query("DELETE FROM console_report_totals WHERE file_name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO console_report_totals \
             (file_name, generation, kind, month, currency, transaction_type, row_count, amount_micros) \
             SELECT file_name, $2, kind, month, currency, transaction_type, COUNT(*), CAST(SUM(amount_micros) AS BIGINT) \
             FROM report_rows WHERE file_name = $1 GROUP BY file_name, kind, month, currency, transaction_type",
        )
        .bind(name)
        .bind(generation)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(stale.len())
}

/// The imported reports summed by report kind, month, currency and transaction type:
/// `(kind, month, currency, transaction_type, rows, micros)`.
pub async fn report_totals(
    db: &Db,
) -> Result<Vec<(String, String, String, String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, month, currency, transaction_type, CAST(SUM(row_count) AS BIGINT), CAST(SUM(amount_micros) AS BIGINT) \
         FROM console_report_totals GROUP BY kind, month, currency, transaction_type \
         ORDER BY month, kind, currency, transaction_type",
    )
    .fetch_all(db.pool())
    .await
}

/// The outbox at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct OutboxSummary {
    /// Jobs to run (again).
    pub pending: i64,
    /// When the oldest of them was enqueued (ms).
    pub oldest_created_at: Option<i64>,
    /// Jobs that failed for good.
    pub failed: i64,
}

/// The outbox's pending and failed jobs.
pub async fn outbox_summary(db: &Db) -> Result<OutboxSummary, sqlx::Error> {
    let (pending, oldest_created_at): (i64, Option<i64>) = sqlx::query_as(sql!(
        "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status = '{PENDING}'"
    ))
    .fetch_one(db.pool())
    .await?;
    let failed: i64 = sqlx::query_scalar(sql!(
        "SELECT COUNT(*) FROM outbox WHERE status = '{FAILED}'"
    ))
    .fetch_one(db.pool())
    .await?;
    Ok(OutboxSummary {
        pending,
        oldest_created_at,
        failed,
    })
}

/// Webhook deliveries to the app's backend: `(pending, oldest pending's creation ms,
/// failed)`.
pub async fn webhook_deliveries(db: &Db) -> Result<(i64, Option<i64>, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
         MIN(CASE WHEN status = 'pending' THEN created_at END), \
         COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM webhook_deliveries",
    )
    .fetch_one(db.pool())
    .await
}

/// When the last notification was received (ms), and how many are stored.
pub async fn last_notification(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT MAX(received_at) FROM rtdn_messages")
        .fetch_one(db.pool())
        .await
}

/// When the lease's work was last done (ms; 0: never), and whether a replica holds it now.
pub async fn lease_done_at(
    db: &Db,
    name: &str,
    now: i64,
) -> Result<Option<(i64, bool)>, sqlx::Error> {
    let row: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT updated_at, lease_until FROM leases WHERE name = $1")
            .bind(name)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(at, until)| (at, until.is_some_and(|u| u > now))))
}

/// The tokens of the purchases that replaced `token`.
pub async fn replaced_by(db: &Db, token: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT purchase_token, created_at FROM purchases WHERE linked_purchase_token = $1",
    )
    .bind(token)
    .fetch_all(db.pool())
    .await
}

/// An outbox job as the console shows it.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct JobRow {
    /// Its kind (`acknowledge`, `consume`, …).
    pub kind: String,
    /// pending, done or failed.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The last error.
    pub last_error: Option<String>,
    /// Enqueued (ms).
    pub created_at: i64,
    /// Last change (ms): when it was done, failed or last retried.
    pub updated_at: i64,
}

/// The job with this dedupe key.
pub async fn job_by_key(db: &Db, key: &str) -> Result<Option<JobRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, status, attempts, last_error, created_at, updated_at FROM outbox WHERE dedupe_key = $1",
    )
    .bind(key)
    .fetch_optional(db.pool())
    .await
}

/// The notifications received since `since` (ms) that name `token`: `(received_at,
/// deliveries, notification JSON)`, oldest first, at most `limit`.
pub async fn notifications_naming(
    db: &Db,
    token: &str,
    since: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    // A token is base64url-like text: no LIKE wildcard (`%`, `_` aside) to escape but `_`,
    // which only widens the match; the JSON is parsed and checked by the caller.
    let pattern = format!("%{token}%");
    sqlx::query_as(
        "SELECT received_at, deliveries, notification FROM rtdn_messages \
         WHERE received_at >= $1 AND notification LIKE $2 ORDER BY received_at LIMIT $3",
    )
    .bind(since)
    .bind(pattern)
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

/// When Google's purchase was read for `token` before any verification, and what for.
pub async fn play_fetch(db: &Db, token: &str) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT resource, fetched_at FROM play_fetches WHERE purchase_token = $1")
        .bind(token)
        .fetch_optional(db.pool())
        .await
}

/// A report row as the console shows it.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ReportRow {
    /// sales or earnings.
    pub kind: String,
    /// YYYY-MM.
    pub month: String,
    /// As written (renewals `GPA.….N`).
    pub order_id: String,
    /// charge, refund, google_fee, tax, …
    pub transaction_type: String,
    /// When (ms).
    pub occurred_at: Option<i64>,
    /// Currency of the amount.
    pub currency: String,
    /// Micros.
    pub amount_micros: i64,
}

/// The report rows of an order (its renewals included), in time order, at most `limit`.
pub async fn report_rows_of_order(
    db: &Db,
    base_order_id: &str,
    limit: i64,
) -> Result<Vec<ReportRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, month, order_id, transaction_type, occurred_at, currency, amount_micros \
         FROM report_rows WHERE base_order_id = $1 ORDER BY occurred_at, file_name, line LIMIT $2",
    )
    .bind(base_order_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

/// The imported months: `(month, files, rows, last import ms)`, newest first.
pub async fn report_months(db: &Db) -> Result<Vec<(String, i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT month, COUNT(*), CAST(SUM(row_count) AS BIGINT), MAX(imported_at) FROM report_files \
         GROUP BY month ORDER BY month DESC",
    )
    .fetch_all(db.pool())
    .await
}
