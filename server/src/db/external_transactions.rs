//! The `external_transactions` and `external_transaction_refunds` tables: external
//! transactions and their refunds. A payment or refund is stored with
//! its delivery job in one database transaction, so that nothing accepted is ever lost and
//! nothing is reported twice.

use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Connection, FromRow};

use super::events::{self, EventType};
use super::outbox::{self, NewJob};
use super::{now_ms, sql, stored_as_text, Db};
use crate::external_transactions::model::{
    FieldError, Payment, PaymentKind, PaymentReport, Refund,
};
use crate::external_transactions::{JOB_REFUND, JOB_REPORT};

/// The `state` column of a payment or refund: whether Google has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Stored here, not reported to Google yet.
    Pending,
    /// Google has it.
    Reported,
    /// Google refused it for good.
    Failed,
}

impl ReportState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Reported => "reported",
            Self::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "reported" => Self::Reported,
            "failed" => Self::Failed,
            _ => return None,
        })
    }
}

stored_as_text!(ReportState, "report state");
stored_as_text!(PaymentKind, "payment kind");

const PENDING: ReportState = ReportState::Pending;
const REPORTED: ReportState = ReportState::Reported;
const FAILED: ReportState = ReportState::Failed;

/// A stored payment.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TransactionRow {
    /// External transaction id.
    pub id: String,
    /// The app's payment id.
    pub payment_id: String,
    /// Account.
    pub account_id: String,
    /// Product.
    pub product_id: String,
    /// What was paid for.
    #[sqlx(try_from = "String")]
    pub kind: PaymentKind,
    /// `RECURRING` / `PREPAID`.
    pub subscription_type: Option<String>,
    /// Renewals: the first payment's external transaction id.
    pub initial_id: Option<String>,
    /// ISO 4217.
    pub currency: String,
    /// Pre-tax micros.
    pub pre_tax_micros: i64,
    /// Tax micros.
    pub tax_micros: i64,
    /// Payment time (ms).
    pub transaction_time: i64,
    /// Region.
    pub region_code: String,
    /// India's state.
    pub administrative_area: Option<String>,
    /// The token, until the first successful report.
    #[serde(skip)]
    pub token: Option<String>,
    /// Test payment (0/1).
    pub test: i64,
    /// Program details (JSON).
    pub program: Option<String>,
    /// Fingerprint of the reported values.
    pub fingerprint: String,
    /// Whether Google has it.
    #[sqlx(try_from = "String")]
    pub state: ReportState,
    /// Google's `transactionState`.
    pub google_state: Option<String>,
    /// Google's `currentPreTaxAmount` (micros).
    pub current_pre_tax_micros: Option<i64>,
    /// Google's `currentTaxAmount` (micros).
    pub current_tax_micros: Option<i64>,
    /// Whether Google marked it a test purchase (0/1).
    pub google_test: Option<i64>,
    /// Google's `createTime`.
    pub google_create_time: Option<String>,
    /// When the report succeeded (ms).
    pub reported_at: Option<i64>,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// Stored at (ms).
    pub created_at: i64,
}

const COLUMNS: &str = "id, payment_id, account_id, product_id, kind, subscription_type, initial_id, currency, \
    pre_tax_micros, tax_micros, transaction_time, region_code, administrative_area, token, test, program, \
    fingerprint, state, google_state, current_pre_tax_micros, current_tax_micros, google_test, \
    google_create_time, reported_at, last_error, created_at";

/// A stored refund.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RefundRow {
    /// The refunded transaction.
    pub transaction_id: String,
    /// The app's refund id.
    pub refund_id: String,
    /// Google's refundId.
    pub google_refund_id: String,
    /// 1: full refund.
    pub full_refund: i64,
    /// Partial refunds: the pre-tax micros.
    pub pre_tax_micros: Option<i64>,
    /// Refund time (ms).
    pub refund_time: i64,
    /// Fingerprint of the values.
    pub fingerprint: String,
    /// Whether Google has it.
    #[sqlx(try_from = "String")]
    pub state: ReportState,
    /// When Google took it (ms).
    pub reported_at: Option<i64>,
    /// The last delivery error.
    pub last_error: Option<String>,
    /// Stored at (ms).
    pub created_at: i64,
}

const REFUND_COLUMNS: &str =
    "transaction_id, refund_id, google_refund_id, full_refund, pre_tax_micros, \
    refund_time, fingerprint, state, reported_at, last_error, created_at";

/// What storing a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// New: stored and queued for Google.
    Created,
    /// The same report was stored before (nothing queued again).
    Duplicate,
}

/// Why a refund cannot be stored.
#[derive(Debug, thiserror::Error)]
pub enum RefundRefused {
    /// No such transaction.
    #[error("no such external transaction")]
    NotFound,
    /// The same refund id with other values.
    #[error("refund `{0}` of this payment was stored before with other values")]
    Conflict(String),
    /// More than what is left, or after a full refund.
    #[error("{0}")]
    TooMuch(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The delivery job's dedupe key for a payment.
pub fn report_key(id: &str) -> String {
    format!("{JOB_REPORT}:{id}")
}

/// The delivery job's dedupe key for a refund.
pub fn refund_key(id: &str, google_refund_id: &str) -> String {
    format!("{JOB_REFUND}:{id}:{google_refund_id}")
}

/// The job payload: which row.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct JobPayload {
    /// External transaction id.
    pub id: String,
    /// For refunds: the app's refund id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
}

/// Why a report was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ReportRefused {
    /// A field is invalid (`422`).
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The payment id was reported before with other values (`409`).
    #[error("paymentId `{0}` was reported before with other values (amounts, time, product, account or kind)")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Validates a report (a renewal's first payment must be stored as a subscription's
/// first payment), stores it and queues its report, in one database transaction: what the
/// API does.
pub async fn accept(
    db: &Db,
    report: &PaymentReport,
    now_ms: i64,
) -> Result<(Payment, Stored), ReportRefused> {
    let mut tx = begin_write(db).await?;
    let accepted = accept_on(&mut tx, report, now_ms).await;
    if accepted.is_ok() {
        tx.commit().await?;
    }
    accepted
}

/// Begins a transaction that writes. SQLite cannot turn a transaction that has read into a
/// writing one while another connection writes (it answers "database is locked" at once,
/// without waiting): a first statement that writes nothing but takes the write lock (with
/// the busy timeout) avoids that. On PostgreSQL it matches no row and locks nothing.
pub async fn begin_write(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    let mut tx = db.pool().begin().await?;
    super::rate_limits::take_write_lock(&mut tx).await?;
    Ok(tx)
}

/// [`accept`] on the caller's transaction (begun with [`begin_write`]) (the import stores a chunk of
/// payments in one transaction). Concurrent identical reports store one row and one job.
pub async fn accept_on(
    conn: &mut AnyConnection,
    report: &PaymentReport,
    now_ms: i64,
) -> Result<(Payment, Stored), ReportRefused> {
    let p = report.validate(now_ms)?;
    if let Some(initial) = &p.initial_id {
        let kind: Option<String> =
            sqlx::query_scalar("SELECT kind FROM external_transactions WHERE id = $1")
                .bind(initial)
                .fetch_optional(&mut *conn)
                .await?;
        if kind.as_deref() != Some(PaymentKind::SubscriptionFirst.as_str()) {
            return Err(FieldError {
                field: "initialPaymentId",
                message: "no subscription first payment was reported under this paymentId".into(),
            }
            .into());
        }
    }
    let now = now_ms;
    let fingerprint = p.fingerprint();
    let done = sqlx::query(sql!(
        "INSERT INTO external_transactions (id, payment_id, account_id, product_id, kind, subscription_type, \
         initial_id, currency, pre_tax_micros, tax_micros, transaction_time, region_code, administrative_area, \
         token, test, program, fingerprint, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, '{PENDING}', $18, $18) \
         ON CONFLICT (id) DO NOTHING",
    ))
    .bind(&p.id)
    .bind(&p.payment_id)
    .bind(&p.account_id)
    .bind(&p.product_id)
    .bind(p.kind.as_str())
    .bind(&p.subscription_type)
    .bind(&p.initial_id)
    .bind(&p.currency)
    .bind(p.pre_tax_micros)
    .bind(p.tax_micros)
    .bind(p.transaction_time)
    .bind(&p.region_code)
    .bind(&p.administrative_area)
    .bind(&p.token)
    .bind(i64::from(p.test))
    .bind(p.program.as_ref().map(|v| v.to_string()))
    .bind(&fingerprint)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        // Stored before (or just now by a concurrent report, which we waited for).
        let existing: Option<String> =
            sqlx::query_scalar("SELECT fingerprint FROM external_transactions WHERE id = $1")
                .bind(&p.id)
                .fetch_optional(&mut *conn)
                .await?;
        return if existing.as_deref() == Some(fingerprint.as_str()) {
            Ok((p, Stored::Duplicate))
        } else {
            Err(ReportRefused::Conflict(p.payment_id))
        };
    }
    let job = NewJob::new(
        JOB_REPORT,
        &JobPayload {
            id: p.id.clone(),
            refund_id: None,
        },
    )
    .dedupe(report_key(&p.id));
    outbox::enqueue(conn, &job).await?;
    Ok((p, Stored::Created))
}

/// A stored payment by external transaction id.
pub async fn get(db: &Db, id: &str) -> Result<Option<TransactionRow>, sqlx::Error> {
    get_on(db.pool(), id).await
}

async fn get_on<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    conn: E,
    id: &str,
) -> Result<Option<TransactionRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT {COLUMNS} FROM external_transactions WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// A payment's refunds, oldest first.
pub async fn refunds(db: &Db, id: &str) -> Result<Vec<RefundRow>, sqlx::Error> {
    refunds_on(db.pool(), id).await
}

async fn refunds_on<'c, E: sqlx::Executor<'c, Database = sqlx::Any>>(
    conn: E,
    id: &str,
) -> Result<Vec<RefundRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT {REFUND_COLUMNS} FROM external_transaction_refunds WHERE transaction_id = $1 \
         ORDER BY created_at, refund_id"
    ))
    .bind(id)
    .fetch_all(conn)
    .await
}

/// A stored payment and its refunds (oldest first), read from one snapshot: a refund
/// reported meanwhile shows in both or in neither (Google's amounts are written with the
/// refund's state, in one transaction).
pub async fn get_with_refunds(
    db: &Db,
    id: &str,
) -> Result<Option<(TransactionRow, Vec<RefundRow>)>, sqlx::Error> {
    let mut tx = db.read_snapshot().await?;
    let Some(row) = get_on(&mut *tx, id).await? else {
        return Ok(None);
    };
    let refunds = refunds_on(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Some((row, refunds)))
}

/// One refund.
pub async fn refund(db: &Db, id: &str, refund_id: &str) -> Result<Option<RefundRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT {REFUND_COLUMNS} FROM external_transaction_refunds WHERE transaction_id = $1 AND refund_id = $2"
    ))
    .bind(id)
    .bind(refund_id)
    .fetch_optional(db.pool())
    .await
}

/// Stores a refund and queues it, in one transaction, after checking it against what is
/// left of the payment. Returns false if the same refund was stored before.
pub async fn insert_refund(db: &Db, id: &str, r: &Refund) -> Result<bool, RefundRefused> {
    let mut tx = db.pool().begin().await?;
    // Serialises refunds of one payment (PostgreSQL: a row lock; SQLite: the write lock).
    let locked =
        sqlx::query("UPDATE external_transactions SET updated_at = updated_at WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    if locked.rows_affected() == 0 {
        return Err(RefundRefused::NotFound);
    }
    let pre_tax: i64 =
        sqlx::query_scalar("SELECT pre_tax_micros FROM external_transactions WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    let existing: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(sql!(
        "SELECT refund_id, fingerprint, full_refund, pre_tax_micros FROM external_transaction_refunds \
         WHERE transaction_id = $1 AND state <> '{FAILED}'",
    ))
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let fingerprint = r.fingerprint();
    if let Some((_, fp, _, _)) = existing.iter().find(|e| e.0 == r.refund_id) {
        tx.rollback().await?;
        return if *fp == fingerprint {
            Ok(false)
        } else {
            Err(RefundRefused::Conflict(r.refund_id.clone()))
        };
    }
    if existing.iter().any(|e| e.2 == 1) {
        return Err(RefundRefused::TooMuch(
            "the payment was fully refunded already".into(),
        ));
    }
    let refunded: i64 = existing.iter().filter_map(|e| e.3).sum();
    let left = pre_tax - refunded;
    if let Some(amount) = r.pre_tax_micros {
        if amount > left {
            return Err(RefundRefused::TooMuch(format!(
                "preTaxAmount: {amount} micros is more than the {left} micros not refunded yet"
            )));
        }
    } else if left == 0 && pre_tax > 0 {
        return Err(RefundRefused::TooMuch("nothing is left to refund".into()));
    }
    let now = now_ms();
    sqlx::query(sql!(
        "INSERT INTO external_transaction_refunds (transaction_id, refund_id, google_refund_id, full_refund, \
         pre_tax_micros, refund_time, fingerprint, state, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, '{PENDING}', $8, $8)",
    ))
    .bind(id)
    .bind(&r.refund_id)
    .bind(&r.google_refund_id)
    .bind(i64::from(r.pre_tax_micros.is_none()))
    .bind(r.pre_tax_micros)
    .bind(r.refund_time)
    .bind(&fingerprint)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let job = NewJob::new(
        JOB_REFUND,
        &JobPayload {
            id: id.to_string(),
            refund_id: Some(r.refund_id.clone()),
        },
    )
    .dedupe(refund_key(id, &r.google_refund_id));
    outbox::enqueue(&mut tx, &job).await?;
    tx.commit().await?;
    Ok(true)
}

/// Google's view of a transaction, as read from its answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoogleView {
    /// `transactionState`.
    pub state: Option<String>,
    /// `currentPreTaxAmount` micros.
    pub current_pre_tax_micros: Option<i64>,
    /// `currentTaxAmount` micros.
    pub current_tax_micros: Option<i64>,
    /// `testPurchase` present.
    pub test: bool,
    /// `createTime`.
    pub create_time: Option<String>,
}

/// Marks a payment reported with Google's view, and drops its token.
pub async fn mark_reported(db: &Db, id: &str, view: &GoogleView) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let before: Option<String> =
        sqlx::query_scalar("SELECT state FROM external_transactions WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let done = sqlx::query(sql!(
        "UPDATE external_transactions SET state = '{REPORTED}', token = NULL, google_state = $1, \
         current_pre_tax_micros = $2, current_tax_micros = $3, google_test = $4, google_create_time = $5, \
         reported_at = COALESCE(reported_at, $6), last_error = NULL, updated_at = $6 WHERE id = $7",
    ))
    .bind(&view.state)
    .bind(view.current_pre_tax_micros)
    .bind(view.current_tax_micros)
    .bind(i64::from(view.test))
    .bind(&view.create_time)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 && before.as_deref() != Some(REPORTED.as_str()) {
        events::external_transaction(&mut tx, EventType::ExternalReported, id, json!({})).await?;
    }
    tx.commit().await?;
    events::committed();
    Ok(())
}

/// Updates Google's view after a refund and marks the refund reported.
pub async fn mark_refunded(
    db: &Db,
    id: &str,
    refund_id: &str,
    view: &GoogleView,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "UPDATE external_transactions SET google_state = $1, current_pre_tax_micros = $2, \
         current_tax_micros = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(&view.state)
    .bind(view.current_pre_tax_micros)
    .bind(view.current_tax_micros)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(sql!(
        "UPDATE external_transaction_refunds SET state = '{REPORTED}', reported_at = COALESCE(reported_at, $1), \
         last_error = NULL, updated_at = $1 WHERE transaction_id = $2 AND refund_id = $3",
    ))
    .bind(now)
    .bind(id)
    .bind(refund_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Records a delivery error; `failed` marks the row failed for good.
pub async fn mark_error(
    conn: &mut AnyConnection,
    id: &str,
    refund_id: Option<&str>,
    error: &str,
    failed: bool,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let (table, extra) = match refund_id {
        None => ("external_transactions", ""),
        Some(_) => ("external_transaction_refunds", " AND refund_id = $5"),
    };
    let id_column = if refund_id.is_some() {
        "transaction_id"
    } else {
        "id"
    };
    let sql = format!(
        "UPDATE {table} SET last_error = $1, state = CASE WHEN $2 = 1 THEN '{FAILED}' ELSE state END, \
         updated_at = $3 WHERE {id_column} = $4 AND state = '{PENDING}'{extra}"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(error)
        .bind(i64::from(failed))
        .bind(now)
        .bind(id);
    if let Some(r) = refund_id {
        q = q.bind(r);
    }
    let mut tx = conn.begin().await?;
    let done = q.execute(&mut *tx).await?;
    if failed && done.rows_affected() == 1 {
        let extra = json!({ "refundId": refund_id, "error": error });
        events::external_transaction(&mut tx, EventType::ExternalFailed, id, extra).await?;
    }
    tx.commit().await?;
    events::committed();
    Ok(())
}

/// Whether an earlier refund of the same payment (stored before `refund_id`) is still
/// pending: refunds reach Google in the order they were made.
pub async fn earlier_refund_pending(
    db: &Db,
    id: &str,
    refund: &RefundRow,
) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(sql!(
        "SELECT COUNT(*) FROM external_transaction_refunds WHERE transaction_id = $1 AND state = '{PENDING}' \
         AND (created_at < $2 OR (created_at = $2 AND refund_id < $3))",
    ))
    .bind(id)
    .bind(refund.created_at)
    .bind(&refund.refund_id)
    .fetch_one(db.pool())
    .await?;
    Ok(n > 0)
}

/// The payment time (ms) of the oldest payment not reported yet, and how many are pending.
pub async fn oldest_unreported(db: &Db) -> Result<(Option<i64>, i64), sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT MIN(transaction_time), COUNT(*) FROM external_transactions WHERE state = '{PENDING}'",
    ))
    .fetch_one(db.pool())
    .await
}

/// How many of the payments `ids` are in each state (a state may come more than once).
pub async fn count_by_state(
    db: &Db,
    ids: &[String],
) -> Result<Vec<(ReportState, i64)>, sqlx::Error> {
    let mut counts = Vec::new();
    // (At most 500 placeholders per statement.)
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT state, COUNT(*) FROM external_transactions WHERE id IN ({}) GROUP BY state",
            placeholders.join(", ")
        );
        // (Only placeholders are formatted in; the ids are bound.)
        let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for (state, n) in q.fetch_all(db.pool()).await? {
            let state =
                ReportState::try_from(state).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            counts.push((state, n));
        }
    }
    Ok(counts)
}

/// Counts for `external-transactions status`.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Payments not reported yet.
    pub pending: i64,
    /// Of those, past the 24-hour deadline.
    pub late: i64,
    /// Payments Google refused for good.
    pub failed: i64,
    /// Payments reported.
    pub reported: i64,
    /// Reported, but more than 24 hours after the payment.
    pub reported_late: i64,
    /// Refunds not reported yet.
    pub refunds_pending: i64,
    /// Refunds Google refused for good.
    pub refunds_failed: i64,
}

/// The 24-hour reporting deadline, in ms.
pub const DEADLINE_MS: i64 = 24 * 3600 * 1000;

/// Counts by state at `now` (ms).
pub async fn counts(db: &Db, now: i64) -> Result<Counts, sqlx::Error> {
    // One statement (one snapshot), each count read from its partial index
    // (`external_transactions_unreported`, `…_failed`, `…_reported_late`,
    // `external_transaction_refunds_pending`, `…_failed`); the reported payments are the rest
    // of the table (every payment is pending, reported or failed).
    let (total, pending, late, failed, reported_late, refunds_pending, refunds_failed): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = sqlx::query_as(sql!(
        "SELECT \
           (SELECT COUNT(*) FROM external_transactions), \
           (SELECT COUNT(*) FROM external_transactions WHERE state = '{PENDING}'), \
           (SELECT COUNT(*) FROM external_transactions WHERE state = '{PENDING}' AND transaction_time < $1), \
           (SELECT COUNT(*) FROM external_transactions WHERE state = '{FAILED}'), \
           (SELECT COUNT(*) FROM external_transactions \
             WHERE state = '{REPORTED}' AND reported_at - transaction_time > {DEADLINE_MS}), \
           (SELECT COUNT(*) FROM external_transaction_refunds WHERE state = '{PENDING}'), \
           (SELECT COUNT(*) FROM external_transaction_refunds WHERE state = '{FAILED}')",
    ))
    .bind(now - DEADLINE_MS)
    .fetch_one(db.pool())
    .await?;
    let reported = total - pending - failed;
    Ok(Counts {
        pending,
        late,
        failed,
        reported,
        reported_late,
        refunds_pending,
        refunds_failed,
    })
}

/// Payments in `state`, oldest payment first, at most `limit`.
pub async fn list(
    db: &Db,
    state: ReportState,
    limit: i64,
) -> Result<Vec<TransactionRow>, sqlx::Error> {
    // The state written into the statement, so that a pending or failed list reads its
    // partial index in time order (a bound state matches no partial index).
    let sql = match state {
        PENDING => sql!(
            "SELECT {COLUMNS} FROM external_transactions WHERE state = '{PENDING}' ORDER BY transaction_time LIMIT $1"
        ),
        FAILED => sql!(
            "SELECT {COLUMNS} FROM external_transactions WHERE state = '{FAILED}' ORDER BY transaction_time LIMIT $1"
        ),
        REPORTED => sql!(
            "SELECT {COLUMNS} FROM external_transactions WHERE state = '{REPORTED}' ORDER BY transaction_time LIMIT $1"
        ),
    };
    sqlx::query_as(sql).bind(limit).fetch_all(db.pool()).await
}

/// Refunds in `state`, oldest first, at most `limit`.
pub async fn list_refunds(
    db: &Db,
    state: ReportState,
    limit: i64,
) -> Result<Vec<RefundRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT {REFUND_COLUMNS} FROM external_transaction_refunds WHERE state = $1 ORDER BY refund_time LIMIT $2"
    ))
    .bind(state.as_str())
    .bind(limit)
    .fetch_all(db.pool())
    .await
}
