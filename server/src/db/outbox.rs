//! The outbox: durable jobs stored in the database. A job is enqueued in the same
//! transaction as the change that needs it, claimed with a lease (so that several replicas
//! never run it at once, and a crashed replica's jobs are taken over once the lease
//! expires), and retried until it is done or fails for good.

use std::time::Duration;

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};

use super::{now_ms, sql, stored_as_text, Db};
use crate::product::ProductKind;

/// The `status` column of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// To run (again).
    Pending,
    /// Ran to completion.
    Done,
    /// Failed for good.
    Failed,
}

impl JobStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

stored_as_text!(JobStatus, "job status");

const PENDING: JobStatus = JobStatus::Pending;

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Which handler runs it.
    pub kind: String,
    /// Handler input (JSON).
    pub payload: serde_json::Value,
    /// At most one job per key, ever: enqueueing again is a no-op.
    pub dedupe_key: Option<String>,
    /// Earliest run time (ms); `None` = now.
    pub run_at: Option<i64>,
}

impl NewJob {
    /// A job of `kind` with a JSON payload, due now.
    pub fn new(kind: &str, payload: &impl Serialize) -> Self {
        Self {
            kind: kind.into(),
            payload: serde_json::to_value(payload).expect("job payloads serialize"),
            dedupe_key: None,
            run_at: None,
        }
    }

    /// Sets the de-duplication key.
    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// A claimed job.
#[derive(Debug, Clone, FromRow)]
pub struct Job {
    /// Job id.
    pub id: String,
    /// Handler kind.
    pub kind: String,
    /// JSON payload.
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// When enqueued (ms).
    pub created_at: i64,
}

/// Enqueues a job on a connection (usually inside the caller's transaction). Returns false
/// if a job with the same dedupe key already exists.
pub async fn enqueue(conn: &mut AnyConnection, job: &NewJob) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let done = sqlx::query(sql!(
        "INSERT INTO outbox (id, kind, payload, dedupe_key, status, attempts, run_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, '{PENDING}', 0, $5, $6, $6) ON CONFLICT (dedupe_key) DO NOTHING",
    ))
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(&job.dedupe_key)
    .bind(job.run_at.unwrap_or(now))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims up to `limit` due jobs for `owner` for `lease`. A job whose lease expired (its
/// owner crashed or is stuck) is due again.
pub async fn claim(
    db: &Db,
    owner: &str,
    lease: Duration,
    limit: u32,
) -> Result<Vec<Job>, sqlx::Error> {
    let now = now_ms();
    let until = now + lease.as_millis() as i64;
    // The outer WHERE repeats the conditions: under concurrent claims PostgreSQL re-checks
    // them on the latest row version, so a row claimed meanwhile is skipped.
    sqlx::query_as(sql!(
        "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id IN (SELECT id FROM outbox WHERE status = '{PENDING}' AND run_at <= $3 \
                      AND (lease_until IS NULL OR lease_until <= $3) ORDER BY run_at LIMIT $4) \
           AND status = '{PENDING}' AND (lease_until IS NULL OR lease_until <= $3) \
         RETURNING id, kind, payload, attempts, created_at",
    ))
    .bind(owner)
    .bind(until)
    .bind(now)
    .bind(i64::from(limit))
    .fetch_all(db.writer())
    .await
}

/// Marks a job done (if `owner` still holds it). False if the lease was lost.
pub async fn complete(db: &Db, id: &str, owner: &str) -> Result<bool, sqlx::Error> {
    finish(db, id, owner, JobStatus::Done, None).await
}

/// Marks the jobs `ids` done (those `owner` still holds) in one statement; returns how
/// many were. The worker completes a claimed batch at once: one write instead of one per
/// job.
pub async fn complete_all(db: &Db, ids: &[String], owner: &str) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
    let sql = format!(
        "UPDATE outbox SET status = '{}', last_error = NULL, lease_owner = NULL, lease_until = NULL, \
         updated_at = $1 WHERE lease_owner = $2 AND status = '{PENDING}' AND id IN ({})",
        JobStatus::Done,
        placeholders.join(", ")
    );
    // (Only placeholders are formatted in; the ids are bound.)
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now_ms())
        .bind(owner);
    for id in ids {
        query = query.bind(id);
    }
    Ok(query.execute(db.writer()).await?.rows_affected())
}

/// Gives up on a job after a permanent error.
pub async fn fail(db: &Db, id: &str, owner: &str, error: &str) -> Result<bool, sqlx::Error> {
    finish(db, id, owner, JobStatus::Failed, Some(error)).await
}

async fn finish(
    db: &Db,
    id: &str,
    owner: &str,
    status: JobStatus,
    error: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(sql!(
        "UPDATE outbox SET status = $1, last_error = $2, lease_owner = NULL, lease_until = NULL, updated_at = $3 \
         WHERE id = $4 AND lease_owner = $5 AND status = '{PENDING}'",
    ))
    .bind(status.as_str())
    .bind(error)
    .bind(now_ms())
    .bind(id)
    .bind(owner)
    .execute(db.writer())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Releases a job to run again at `run_at` (ms) after a transient error.
pub async fn retry_at(
    db: &Db,
    id: &str,
    owner: &str,
    run_at: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(sql!(
        "UPDATE outbox SET run_at = $1, last_error = $2, lease_owner = NULL, lease_until = NULL, updated_at = $3 \
         WHERE id = $4 AND lease_owner = $5 AND status = '{PENDING}'",
    ))
    .bind(run_at)
    .bind(error)
    .bind(now_ms())
    .bind(id)
    .bind(owner)
    .execute(db.writer())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Jobs not done yet.
pub async fn depth(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(sql!(
        "SELECT COUNT(*) FROM outbox WHERE status = '{PENDING}'"
    ))
    .fetch_one(db.pool())
    .await
}

/// The pending acknowledgements and consumptions of one product kind.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PendingSettles {
    /// The purchases' kind.
    #[sqlx(try_from = "String")]
    pub kind: ProductKind,
    /// How many jobs.
    pub pending: i64,
    /// The earliest of their purchases' times (else grant times, else the jobs' enqueueing).
    pub oldest_ms: Option<i64>,
}

/// The pending jobs of the kinds `settles` (a purchase's acknowledgement and consumption),
/// whose dedupe key is `key_prefix` + the purchase's token (`crate::verify::settle_key`), by
/// their purchase's kind.
pub async fn pending_settles(
    db: &Db,
    settles: [&str; 2],
    key_prefix: &str,
) -> Result<Vec<PendingSettles>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT p.kind AS kind, COUNT(*) AS pending, \
         MIN(COALESCE(p.purchased_at, p.granted_at, o.created_at)) AS oldest_ms \
         FROM outbox o JOIN purchases p ON p.purchase_token = SUBSTR(o.dedupe_key, CAST($4 AS INTEGER)) \
         WHERE o.status = '{PENDING}' AND o.kind IN ($1, $2) AND o.dedupe_key LIKE $3 \
         GROUP BY p.kind"
    ))
    .bind(settles[0])
    .bind(settles[1])
    .bind(format!("{key_prefix}%"))
    .bind(key_prefix.len() as i64 + 1)
    .fetch_all(db.pool())
    .await
}

/// A job's status and attempts, by dedupe key (for tests and operators).
pub async fn status_by_key(
    db: &Db,
    dedupe_key: &str,
) -> Result<Option<(JobStatus, i64)>, sqlx::Error> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT status, attempts FROM outbox WHERE dedupe_key = $1")
            .bind(dedupe_key)
            .fetch_optional(db.pool())
            .await?;
    row.map(|(status, attempts)| {
        let status = JobStatus::try_from(status).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        Ok((status, attempts))
    })
    .transpose()
}
