//! The worker: claims due outbox jobs, runs each with the handler registered for its kind,
//! and completes, retries (truncated exponential backoff with full jitter) or fails it.
//! Any number of replicas may run one: leases keep them from running a job twice at once.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

use crate::config::WorkerConfig;
use crate::db::outbox::{self, Job, JobStatus};
use crate::db::{now_ms, Db};
use crate::metrics::Metrics;
use crate::play::retry::{backoff, Jitter};

/// How a job attempt ended badly.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// May succeed later: the job is retried with backoff.
    #[error("{0}")]
    Transient(String),
    /// Will never succeed: the job is marked failed.
    #[error("{0}")]
    Permanent(String),
    /// Not run now (its Google quota bucket has no slot for its priority): runs again after
    /// the delay, without backoff.
    #[error("deferred for {0:?}: no quota slot")]
    Deferred(std::time::Duration),
}

/// The future a handler returns.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// Runs the jobs of one kind. Handlers must be idempotent: after a crash, or a lease that
/// expired mid-run, a job may run again.
pub trait JobHandler: Send + Sync + 'static {
    /// Runs one attempt of `job`.
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a>;
}

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct Handlers(HashMap<String, Arc<dyn JobHandler>>);

impl std::fmt::Debug for Handlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Handlers {
    /// Registers the handler of `kind`.
    pub fn register(&mut self, kind: &str, handler: impl JobHandler) -> &mut Self {
        self.0.insert(kind.to_string(), Arc::new(handler));
        self
    }
}

/// A running worker.
#[derive(Debug)]
pub struct Worker {
    db: Db,
    config: WorkerConfig,
    handlers: Handlers,
    metrics: Metrics,
    wake: Arc<Notify>,
    jitter: Jitter,
    owner: String,
}

impl Worker {
    /// A worker over `db`; `wake` makes it look for jobs at once.
    pub fn new(
        db: Db,
        config: WorkerConfig,
        handlers: Handlers,
        metrics: Metrics,
        wake: Arc<Notify>,
        jitter: Jitter,
    ) -> Self {
        let owner = format!("worker-{}", uuid::Uuid::new_v4());
        Self {
            db,
            config,
            handlers,
            metrics,
            wake,
            jitter,
            owner,
        }
    }

    /// Runs until `shutdown` turns true; jobs running then finish and are settled (done,
    /// failed, or released for a retry), so no lease outlives a graceful stop.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let this = Arc::new(self);
        tracing::info!(owner = %this.owner, "worker started");
        while !*shutdown.borrow() {
            let claimed = match outbox::claim(
                &this.db,
                &this.owner,
                this.config.lease,
                this.config.batch_size.get(),
            )
            .await
            {
                Ok(jobs) => jobs,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming outbox jobs failed");
                    Vec::new()
                }
            };
            let full = claimed.len() as u32 == this.config.batch_size.get();
            let mut running = JoinSet::new();
            for job in claimed {
                let this = this.clone();
                running.spawn(async move { this.run_job(job).await });
            }
            // The jobs that succeeded are marked done together: one write per batch.
            let mut done = Vec::new();
            while let Some(finished) = running.join_next().await {
                if let Ok(Some(id)) = finished {
                    done.push(id);
                }
            }
            match outbox::complete_all(&this.db, &done, &this.owner).await {
                Ok(n) if n < done.len() as u64 => {
                    tracing::warn!(
                        lost = done.len() as u64 - n,
                        "lease lost before jobs were marked done; another worker has them"
                    )
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, jobs = done.len(), "marking jobs done failed; they run again after their lease")
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(this.config.poll_interval) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!(owner = %this.owner, "worker stopped");
    }

    /// Runs one job; returns its id if it succeeded (the caller marks it done), else
    /// settles it (failed, or released for a retry).
    async fn run_job(&self, job: Job) -> Option<String> {
        let Some(handler) = self.handlers.0.get(&job.kind) else {
            tracing::error!(job = %job.id, kind = %job.kind, "no handler for this job kind");
            self.metrics.job(&job.kind, JobStatus::Failed.as_str());
            self.settle(
                outbox::fail(
                    &self.db,
                    &job.id,
                    &self.owner,
                    "no handler for this job kind",
                )
                .await,
                &job,
            );
            return None;
        };
        match handler.run(&job).await {
            Ok(()) => {
                self.metrics.job(&job.kind, JobStatus::Done.as_str());
                return Some(job.id);
            }
            Err(JobError::Transient(e)) => {
                let retry = (job.attempts.max(1) - 1) as u32;
                let delay = backoff(
                    retry,
                    self.config.backoff_base,
                    self.config.backoff_max,
                    &self.jitter,
                );
                tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, ?delay, error = %e, "job failed, will retry");
                self.metrics.job(&job.kind, "retry");
                let run_at = now_ms() + delay.as_millis() as i64;
                self.settle(
                    outbox::retry_at(&self.db, &job.id, &self.owner, run_at, &e).await,
                    &job,
                );
            }
            Err(JobError::Deferred(delay)) => {
                tracing::debug!(job = %job.id, kind = %job.kind, ?delay, "job deferred: no quota slot");
                self.metrics.job(&job.kind, "deferred");
                let run_at = now_ms() + delay.as_millis() as i64;
                self.settle(
                    outbox::retry_at(
                        &self.db,
                        &job.id,
                        &self.owner,
                        run_at,
                        "deferred: no quota slot",
                    )
                    .await,
                    &job,
                );
            }
            Err(JobError::Permanent(e)) => {
                tracing::error!(job = %job.id, kind = %job.kind, error = %e, "job failed for good");
                self.metrics.job(&job.kind, JobStatus::Failed.as_str());
                self.settle(outbox::fail(&self.db, &job.id, &self.owner, &e).await, &job);
            }
        }
        None
    }

    fn settle(&self, result: Result<bool, sqlx::Error>, job: &Job) {
        match result {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %job.id, "lease lost before the job was settled; another worker has it")
            }
            Err(e) => {
                tracing::warn!(job = %job.id, error = %e, "settling the job failed; it runs again after its lease")
            }
        }
    }
}
