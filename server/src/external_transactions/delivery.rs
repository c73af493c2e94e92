//! The outbox jobs that report payments and refunds to Google. Each create or refund waits
//! for a slot of the shared limiter and makes one request; on an answer that leaves the
//! outcome unknown (timeout, 5xx) or says it exists already (409), the transaction is read
//! back from Google and compared before the job is marked done.

use play_model::external_transactions::{
    ExternalSubscription, ExternalTransaction, ExternalTransactionAddress,
    OneTimeExternalTransaction, PartialRefund, RecurringExternalTransaction,
    RefundExternalTransactionRequest, SubscriptionType, TransactionState,
};
use play_model::purchases::Empty;
use play_model::Price;

use super::limiter::Limiter;
use super::model::PaymentKind;
use crate::db::external_transactions::{
    self as store, GoogleView, JobPayload, RefundRow, ReportState, TransactionRow,
};
use crate::db::outbox::Job;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::play::{PlayClient, PlayError};
use crate::worker::{JobError, JobFuture, JobHandler};

/// Runs report and refund jobs.
#[derive(Debug, Clone)]
pub struct Delivery {
    db: Db,
    play: PlayClient,
    limiter: Limiter,
    metrics: Metrics,
    refund: bool,
}

impl Delivery {
    /// The handler of report jobs.
    pub fn report(db: Db, play: PlayClient, limiter: Limiter, metrics: Metrics) -> Self {
        Self {
            db,
            play,
            limiter,
            metrics,
            refund: false,
        }
    }

    /// The handler of refund jobs.
    pub fn refund(db: Db, play: PlayClient, limiter: Limiter, metrics: Metrics) -> Self {
        Self {
            refund: true,
            ..Self::report(db, play, limiter, metrics)
        }
    }

    async fn run_job(&self, job: &Job) -> Result<(), JobError> {
        let p: JobPayload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let result = match (&p.refund_id, self.refund) {
            (Some(refund_id), true) => self.deliver_refund(&p.id, refund_id).await,
            (None, false) => self.deliver_report(&p.id).await,
            _ => Err(JobError::Permanent(
                "payload does not match the job kind".into(),
            )),
        };
        let (event, error, failed) = match &result {
            Ok(()) => return Ok(()),
            Err(JobError::Transient(e)) => ("retry", e, false),
            Err(JobError::Permanent(e)) => ("failed", e, true),
            Err(JobError::Deferred(_)) => return result,
        };
        self.metrics
            .external_transaction(if self.refund { "refund" } else { "report" }, event);
        let mut conn = self.db.pool().acquire().await.map_err(db_error)?;
        store::mark_error(&mut conn, &p.id, p.refund_id.as_deref(), error, failed)
            .await
            .map_err(db_error)?;
        result
    }

    async fn deliver_report(&self, id: &str) -> Result<(), JobError> {
        let row = stored(store::get(&self.db, id).await, || {
            format!("external transaction {id}")
        })?;
        if row.state != ReportState::Pending {
            return Ok(());
        }
        if let Some(initial) = &row.initial_id {
            match store::get(&self.db, initial).await.map_err(db_error)? {
                Some(first) if first.state == ReportState::Reported => {}
                Some(first) if first.state == ReportState::Failed => {
                    return Err(JobError::Permanent(format!(
                        "the subscription's first payment ({initial}) was refused by Google"
                    )))
                }
                _ => {
                    return Err(JobError::Transient(format!(
                        "waiting for the subscription's first payment ({initial}) to be reported"
                    )))
                }
            }
        }
        let body = google_body(&row)?;
        self.acquire().await?;
        let result = self.play.create_external_transaction(id, &body).await;
        let reported = match result {
            Ok(t) => t,
            Err(e) => {
                let ambiguous = is_ambiguous(&e) || is_already_exists(&e);
                if !ambiguous {
                    return Err(classify(e));
                }
                // The create may have happened (timeout, 5xx) or happened before (409): read
                // it back and compare before calling it done.
                match self.play.get_external_transaction(id).await {
                    Ok(t) if same_transaction(&row, &t) => {
                        tracing::info!(id, error = %e, "external transaction found on Google after an unclear answer");
                        t
                    }
                    Ok(_) => {
                        return Err(JobError::Permanent(format!(
                            "Google has a different external transaction under id {id}"
                        )))
                    }
                    Err(get) if get.status().is_some_and(|s| s.code == 404) => {
                        return Err(classify(e))
                    }
                    Err(get) => return Err(JobError::Transient(get.to_string())),
                }
            }
        };
        store::mark_reported(&self.db, id, &view(&reported))
            .await
            .map_err(db_error)?;
        self.metrics.external_transaction("report", "done");
        tracing::info!(
            id,
            late_minutes = (crate::db::now_ms() - row.transaction_time) / 60_000,
            "external transaction reported"
        );
        Ok(())
    }

    async fn deliver_refund(&self, id: &str, refund_id: &str) -> Result<(), JobError> {
        let refund = stored(store::refund(&self.db, id, refund_id).await, || {
            format!("refund {refund_id} of {id}")
        })?;
        if refund.state != ReportState::Pending {
            return Ok(());
        }
        let row = stored(store::get(&self.db, id).await, || {
            format!("external transaction {id}")
        })?;
        match row.state {
            ReportState::Reported => {}
            ReportState::Failed => {
                return Err(JobError::Permanent(
                    "the refunded payment was refused by Google".into(),
                ))
            }
            ReportState::Pending => {
                return Err(JobError::Transient(
                    "waiting for the refunded payment to be reported".into(),
                ))
            }
        }
        if store::earlier_refund_pending(&self.db, id, &refund)
            .await
            .map_err(db_error)?
        {
            return Err(JobError::Transient(
                "waiting for an earlier refund of this payment".into(),
            ));
        }
        let body = refund_body(&row, &refund);
        self.acquire().await?;
        let refunded = match self.play.refund_external_transaction(id, &body).await {
            Ok(t) => t,
            Err(e) => {
                // A timeout or 5xx may hide a refund that happened; a 409 (refund id used)
                // or a refusal of a full refund may mean an earlier attempt did it.
                let check = is_ambiguous(&e)
                    || is_already_exists(&e)
                    || (refund.full_refund == 1
                        && e.status().is_some_and(|s| s.code == 400 || s.code == 412));
                if !check {
                    return Err(classify(e));
                }
                let t = self
                    .play
                    .get_external_transaction(id)
                    .await
                    .map_err(|g| JobError::Transient(g.to_string()))?;
                if !self.refund_applied(&row, &refund, &t).await? {
                    return Err(classify(e));
                }
                tracing::info!(id, refund_id, error = %e, "refund found applied on Google after an unclear answer");
                t
            }
        };
        store::mark_refunded(&self.db, id, refund_id, &view(&refunded))
            .await
            .map_err(db_error)?;
        self.metrics.external_transaction("refund", "done");
        Ok(())
    }

    /// Whether Google's amounts show this refund applied: what is left is at most the
    /// original minus every refund reported before and this one.
    async fn refund_applied(
        &self,
        row: &TransactionRow,
        refund: &RefundRow,
        t: &ExternalTransaction,
    ) -> Result<bool, JobError> {
        if refund.full_refund == 1 {
            return Ok(t.transaction_state == Some(TransactionState::Canceled));
        }
        let before: i64 = store::refunds(&self.db, &row.id)
            .await
            .map_err(db_error)?
            .iter()
            .filter(|r| r.state == ReportState::Reported)
            .filter_map(|r| r.pre_tax_micros)
            .sum();
        let expected = row.pre_tax_micros - before - refund.pre_tax_micros.unwrap_or(0);
        Ok(t.current_pre_tax_amount
            .as_ref()
            .is_some_and(|p| p.price_micros <= expected))
    }

    async fn acquire(&self) -> Result<(), JobError> {
        self.limiter.acquire().await.map_err(db_error)
    }
}

impl JobHandler for Delivery {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(self.run_job(job))
    }
}

/// A row the job needs: missing is permanent (the job outlived its row), a database error
/// transient.
fn stored<T>(
    row: Result<Option<T>, sqlx::Error>,
    what: impl FnOnce() -> String,
) -> Result<T, JobError> {
    row.map_err(db_error)?
        .ok_or_else(|| JobError::Permanent(format!("{} is not stored", what())))
}

fn db_error(e: sqlx::Error) -> JobError {
    JobError::Transient(format!("database: {e}"))
}

/// No answer, or a 5xx: the request may have taken effect.
fn is_ambiguous(e: &PlayError) -> bool {
    match e {
        PlayError::Transport(_) => true,
        PlayError::Api(s) => s.code >= 500,
        _ => false,
    }
}

fn is_already_exists(e: &PlayError) -> bool {
    e.status()
        .is_some_and(|s| s.code == 409 || s.status.as_deref() == Some("ALREADY_EXISTS"))
}

fn classify(e: PlayError) -> JobError {
    if e.is_transient() {
        JobError::Transient(e.to_string())
    } else {
        JobError::Permanent(e.to_string())
    }
}

/// The `ExternalTransaction` Google receives for a stored payment.
pub fn google_body(row: &TransactionRow) -> Result<ExternalTransaction, JobError> {
    let token = || {
        row.token.clone().ok_or_else(|| {
            JobError::Permanent(
                "the externalTransactionToken is gone before the first report".into(),
            )
        })
    };
    // The stored program details are the resource's own fields.
    let mut body: ExternalTransaction = match &row.program {
        Some(program) => serde_json::from_str(program)
            .map_err(|e| JobError::Permanent(format!("stored program details: {e}")))?,
        None => ExternalTransaction::default(),
    };
    body.original_pre_tax_amount = Some(Price::new(row.pre_tax_micros, &row.currency));
    body.original_tax_amount = Some(Price::new(row.tax_micros, &row.currency));
    body.transaction_time = crate::db::rfc3339(row.transaction_time);
    body.user_tax_address = Some(ExternalTransactionAddress {
        region_code: Some(row.region_code.clone()),
        administrative_area: row.administrative_area.clone(),
    });
    match row.kind {
        PaymentKind::OneTime => {
            body.one_time_transaction = Some(OneTimeExternalTransaction {
                external_transaction_token: Some(token()?),
            });
        }
        PaymentKind::SubscriptionFirst | PaymentKind::SubscriptionRenewal => {
            let kind = row.subscription_type.as_deref().unwrap_or("RECURRING");
            body.recurring_transaction = Some(RecurringExternalTransaction {
                external_subscription: Some(ExternalSubscription {
                    subscription_type: Some(SubscriptionType::from_wire(kind)),
                }),
                external_transaction_token: match row.initial_id {
                    Some(_) => None,
                    None => Some(token()?),
                },
                initial_external_transaction_id: row.initial_id.clone(),
                ..RecurringExternalTransaction::default()
            });
        }
    }
    Ok(body)
}

fn refund_body(row: &TransactionRow, refund: &RefundRow) -> RefundExternalTransactionRequest {
    let partial = match refund.pre_tax_micros {
        Some(micros) if refund.full_refund == 0 => Some(PartialRefund {
            refund_id: Some(refund.google_refund_id.clone()),
            refund_pre_tax_amount: Some(Price::new(micros, &row.currency)),
        }),
        _ => None,
    };
    RefundExternalTransactionRequest {
        refund_time: crate::db::rfc3339(refund.refund_time),
        full_refund: partial.is_none().then_some(Empty {}),
        partial_refund: partial,
    }
}

/// Whether Google's transaction is the one stored: same amounts, currency, payment time
/// and kind.
pub fn same_transaction(row: &TransactionRow, t: &ExternalTransaction) -> bool {
    let amount = |p: &Option<Price>, micros: i64| {
        p.as_ref()
            .is_some_and(|p| p.price_micros == micros && p.currency == row.currency)
    };
    let time = t
        .transaction_time
        .as_deref()
        .and_then(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        })
        .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64);
    let recurring = row.kind.is_recurring();
    amount(&t.original_pre_tax_amount, row.pre_tax_micros)
        && amount(&t.original_tax_amount, row.tax_micros)
        && time == Some(row.transaction_time)
        && t.recurring_transaction.is_some() == recurring
        && t.one_time_transaction.is_some() != recurring
}

/// What the server keeps of Google's answer.
pub fn view(t: &ExternalTransaction) -> GoogleView {
    GoogleView {
        state: t
            .transaction_state
            .and_then(|s| s.as_str())
            .map(String::from),
        current_pre_tax_micros: t.current_pre_tax_amount.as_ref().map(|p| p.price_micros),
        current_tax_micros: t.current_tax_amount.as_ref().map(|p| p.price_micros),
        test: t.test_purchase.is_some(),
        create_time: t.create_time.clone(),
    }
}
