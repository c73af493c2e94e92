//! The jobs that settle a grant on Google Play: acknowledge (one-time products and
//! subscriptions) and consume (consumables; consuming acknowledges too). Idempotent: when
//! Google refuses because it is already done, the purchase is read back to confirm.
//!
//! They call Google at [`Priority::Settle`]: with the quota left over by buyers'
//! verifications and notifications; a job that finds no slot is deferred (not retried
//! with backoff) until its bucket's queue has drained. The worker claims due jobs oldest
//! first, so acknowledgements go out in the order of their deadlines (3 days after the
//! purchase); when the backlog threatens the oldest deadline they go before verifications
//! ([`crate::play::quota`]).

use crate::db::outbox::Job;
use crate::db::{purchases, Db};
use crate::play::quota::Priority;
use crate::play::{PlayClient, PlayError};
use crate::product::ProductKind;
use crate::verify::SettlePayload;
use crate::worker::{JobError, JobFuture, JobHandler};

/// Runs `acknowledge` and `consume` jobs.
#[derive(Debug, Clone)]
pub struct SettleHandler {
    db: Db,
    play: PlayClient,
    consume: bool,
}

impl SettleHandler {
    /// The handler of `acknowledge` jobs.
    pub fn acknowledge(db: Db, play: PlayClient) -> Self {
        Self {
            db,
            play: play.with_priority(Priority::Settle),
            consume: false,
        }
    }

    /// The handler of `consume` jobs.
    pub fn consume(db: Db, play: PlayClient) -> Self {
        Self {
            consume: true,
            ..Self::acknowledge(db, play)
        }
    }

    async fn settle(&self, job: &Job) -> Result<(), JobError> {
        let p: SettlePayload = serde_json::from_str(&job.payload)
            .map_err(|e| JobError::Permanent(format!("bad payload: {e}")))?;
        let token = p.purchase_token.as_str();
        let result = match (self.consume, p.product_kind) {
            (true, _) => self.play.consume_product(&p.product_id, token).await,
            (false, ProductKind::Subscription) => {
                self.play
                    .acknowledge_subscription(&p.product_id, token)
                    .await
            }
            (false, _) => self.play.acknowledge_product(&p.product_id, token).await,
        };
        match result {
            Ok(()) => {}
            Err(e) if e.is_transient() => return Err(job_error(e)),
            Err(e) => {
                // Refused: done already (by an earlier run of this job), or impossible.
                if !self.already_settled(&p).await? {
                    return Err(JobError::Permanent(e.to_string()));
                }
            }
        }
        purchases::mark_acknowledged(&self.db, token, self.consume)
            .await
            .map_err(|e| JobError::Transient(format!("database: {e}")))
    }

    async fn already_settled(&self, p: &SettlePayload) -> Result<bool, JobError> {
        let transient = |e: PlayError| {
            if e.is_transient() {
                job_error(e)
            } else {
                JobError::Permanent(e.to_string())
            }
        };
        Ok(match p.product_kind {
            ProductKind::Subscription => self
                .play
                .get_subscription_purchase_v2(&p.purchase_token)
                .await
                .map_err(transient)?
                .is_acknowledged(),
            _ => {
                let purchase = self
                    .play
                    .get_product_purchase(&p.product_id, &p.purchase_token)
                    .await
                    .map_err(transient)?;
                if self.consume {
                    purchase.is_consumed()
                } else {
                    purchase.is_acknowledged()
                }
            }
        })
    }
}

/// A transient Google failure: deferred when the quota had no slot, else retried.
fn job_error(e: PlayError) -> JobError {
    match e {
        PlayError::Throttled { retry_after, .. } => JobError::Deferred(retry_after),
        e => JobError::Transient(e.to_string()),
    }
}

impl JobHandler for SettleHandler {
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(self.settle(job))
    }
}
