//! What the operator console reads (and its sessions): the `console_sessions`,
//! `console_report_totals`, `console_reconciliations`, `purchase_counts` and
//! `purchase_count_changes` tables, and read-only queries over `purchases`, `outbox`,
//! `rtdn_messages`, `play_fetches`, `leases` and `report_rows`.

use std::collections::BTreeMap;

use sqlx::{AnyConnection, FromRow};

use super::{sql, Db};
use crate::db::outbox::JobStatus;
use crate::db::purchases::PurchaseRow;
use crate::reports::file::{ReportKind, TransactionType};

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

const DAY_MS: i64 = 86_400_000;

/// The key a purchase is counted under in `purchase_counts`: its state, test flag and UTC
/// day of the grant (-1 while not granted).
fn count_key(p: &PurchaseRow) -> (&'static str, i64, i64) {
    (
        p.state.as_str(),
        p.test,
        p.granted_at.map_or(-1, |t| t.div_euclid(DAY_MS)),
    )
}

/// Counts a change of a purchase's row made on `conn` (`None`: no row, before an insert or
/// after a delete), in the same transaction: a -1 under its old key and a +1 under its new
/// one, appended to `purchase_count_changes` (nothing when the key stays).
pub async fn count_purchase_change(
    conn: &mut AnyConnection,
    before: Option<&PurchaseRow>,
    after: Option<&PurchaseRow>,
) -> Result<(), sqlx::Error> {
    let (old, new) = (before.map(count_key), after.map(count_key));
    if old == new {
        return Ok(());
    }
    let changes: Vec<((&str, i64, i64), i64)> = [old.map(|k| (k, -1)), new.map(|k| (k, 1))]
        .into_iter()
        .flatten()
        .collect();
    let mut sql = String::from(
        "INSERT INTO purchase_count_changes (state, test, granted_day, delta) VALUES ",
    );
    for i in 0..changes.len() {
        if i > 0 {
            sql.push_str(", ");
        }
        let b = i * 4;
        sql.push_str(&format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4));
    }
    // (Only placeholders are formatted in; the values are bound.)
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for ((state, test, day), delta) in changes {
        q = q.bind(state).bind(test).bind(day).bind(delta);
    }
    q.execute(conn).await?;
    Ok(())
}

/// Moves the appended purchase count changes into `purchase_counts`, in one transaction;
/// returns how many were moved. The read-only common case (none appended) is one query.
pub async fn fold_purchase_counts(db: &Db) -> Result<u64, sqlx::Error> {
    let any: Option<i64> = sqlx::query_scalar("SELECT 1 FROM purchase_count_changes LIMIT 1")
        .fetch_optional(db.pool())
        .await?;
    if any.is_none() {
        return Ok(0);
    }
    const UPSERT: &str =
        "INSERT INTO purchase_counts (state, test, granted_day, n) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (state, test, granted_day) DO UPDATE SET n = purchase_counts.n + excluded.n";
    let mut tx = db.begin_write().await?;
    // The rows deleted are the rows summed (an insert committed meanwhile stays for the
    // next fold), and two replicas folding at once each move their own rows.
    let moved: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "DELETE FROM purchase_count_changes RETURNING state, test, granted_day, delta",
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut sums: BTreeMap<(String, i64, i64), i64> = BTreeMap::new();
    for (state, test, day, delta) in &moved {
        *sums.entry((state.clone(), *test, *day)).or_default() += delta;
    }
    // In key order: two folds never wait for each other's rows in opposite orders.
    for ((state, test, day), n) in sums {
        if n != 0 {
            sqlx::query(UPSERT)
                .bind(state)
                .bind(test)
                .bind(day)
                .bind(n)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(moved.len() as u64)
}

/// Purchases by stored state and test flag: `(state, test, count)`.
pub async fn purchases_by_state(db: &Db) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT state, test, CAST(SUM(n) AS BIGINT) FROM (\
           SELECT state, test, n FROM purchase_counts \
           UNION ALL SELECT state, test, delta FROM purchase_count_changes) c \
         GROUP BY state, test HAVING SUM(n) <> 0 ORDER BY state, test",
    )
    .fetch_all(db.pool())
    .await
}

/// Grants since `since` (ms, the start of a UTC day) by UTC day number (days since the
/// epoch) and test flag: `(day, test, count)`.
pub async fn grants_per_day(db: &Db, since: i64) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT granted_day, test, CAST(SUM(n) AS BIGINT) FROM (\
           SELECT granted_day, test, n FROM purchase_counts WHERE granted_day >= $1 \
           UNION ALL SELECT granted_day, test, delta FROM purchase_count_changes WHERE granted_day >= $1) c \
         GROUP BY granted_day, test ORDER BY granted_day, test",
    )
    .bind(since.div_euclid(DAY_MS))
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

/// The rows of the imported reports of one kind, month, currency and transaction type.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ReportTotal {
    /// Sales or earnings.
    #[sqlx(try_from = "String")]
    pub kind: ReportKind,
    /// YYYY-MM.
    pub month: String,
    /// The currency of the amounts.
    pub currency: String,
    /// What the rows record.
    #[sqlx(try_from = "String")]
    pub transaction_type: TransactionType,
    /// How many rows.
    pub row_count: i64,
    /// Their amounts' sum, in micros.
    pub amount_micros: i64,
}

/// The imported reports summed by report kind, month, currency and transaction type.
pub async fn report_totals(db: &Db) -> Result<Vec<ReportTotal>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, month, currency, transaction_type, CAST(SUM(row_count) AS BIGINT) AS row_count, \
         CAST(SUM(amount_micros) AS BIGINT) AS amount_micros \
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
    // Each from `webhook_deliveries_by_status` (status, created_at), in one snapshot.
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'), \
         (SELECT MIN(created_at) FROM webhook_deliveries WHERE status = 'pending'), \
         (SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'failed')",
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
    /// Pending, done or failed.
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
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

/// The notifications received since `since` (ms) that name `token` (`rtdn_messages_by_token`):
/// `(received_at, deliveries, notification JSON)`, oldest first, at most `limit`.
pub async fn notifications_naming(
    db: &Db,
    token: &str,
    since: i64,
    limit: i64,
) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT received_at, deliveries, notification FROM rtdn_messages \
         WHERE purchase_token = $1 AND received_at >= $2 ORDER BY received_at LIMIT $3",
    )
    .bind(token)
    .bind(since)
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

/// The imported months: `(month, files, rows, last import ms)`, newest first.
pub async fn report_months(db: &Db) -> Result<Vec<(String, i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT month, COUNT(*), CAST(SUM(row_count) AS BIGINT), MAX(imported_at) FROM report_files \
         GROUP BY month ORDER BY month DESC",
    )
    .fetch_all(db.pool())
    .await
}

/// The imported report files a reconciliation reads (every month's: a grant may be charged
/// in the next month's report): their names and generations, a line each, in name order.
/// A stored reconciliation read from other files is computed again.
pub async fn report_inputs(db: &Db) -> Result<String, sqlx::Error> {
    let files: Vec<(String, String)> =
        sqlx::query_as("SELECT name, generation FROM report_files ORDER BY name")
            .fetch_all(db.pool())
            .await?;
    Ok(files
        .into_iter()
        .map(|(name, generation)| format!("{name}\t{generation}\n"))
        .collect())
}

/// A month's reconciliation as last computed: `(inputs, computed_at ms, JSON)`.
pub async fn stored_reconciliation(
    db: &Db,
    month: &str,
) -> Result<Option<(String, i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT inputs, computed_at, result FROM console_reconciliations WHERE month = $1",
    )
    .bind(month)
    .fetch_optional(db.pool())
    .await
}

/// Stores a month's reconciliation (replacing the one before).
pub async fn store_reconciliation(
    db: &Db,
    month: &str,
    inputs: &str,
    computed_at: i64,
    result: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO console_reconciliations (month, inputs, computed_at, result) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (month) DO UPDATE SET inputs = excluded.inputs, computed_at = excluded.computed_at, \
         result = excluded.result",
    )
    .bind(month)
    .bind(inputs)
    .bind(computed_at)
    .bind(result)
    .execute(db.writer())
    .await?;
    Ok(())
}
