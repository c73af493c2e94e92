//! Group commit of the verifications' writes. Each verification that grants writes its
//! purchase row and enqueues the job that settles it with Google, in one transaction. Done
//! one by one, every grant costs a `BEGIN` and a `COMMIT` on the one SQLite writer (each a
//! round trip to its thread, the commit a write of every page it touched); on PostgreSQL a
//! commit waits for its WAL flush. So the grants queued while a transaction runs go
//! together in the next one: no grant waits for a timer, a lone grant commits alone, and
//! under load one commit carries many.
//!
//! A batch whose transaction fails is retried one grant per transaction, so that one
//! grant's error never becomes another's.

use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use super::outbox::{self, NewJob};
use super::purchases::{self, PurchaseRow, PurchaseState};
use super::Db;
use crate::entitlement::EntitlementState;

/// Most grants in one transaction.
pub const MAX_BATCH: usize = 64;

/// What one verification writes.
#[derive(Debug)]
pub struct Grant {
    /// The purchase as Google reported it.
    pub row: PurchaseRow,
    /// Whether the token is new here (inserted) or known (updated).
    pub new: bool,
    /// The job that acknowledges or consumes it, if due.
    pub settle: Option<NewJob>,
    /// The token of the purchase this one replaces (an upgrade or downgrade), if any.
    pub replaces: Option<String>,
}

/// What a [`Grant`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// False: nothing was written, the stored row decides (another replica stored the
    /// token first, or a final state was set meanwhile).
    pub stored: bool,
    /// Whether the settle job was enqueued now (false: it already was, or none).
    pub enqueued: bool,
    /// Whether the replaced purchase was marked replaced now.
    pub replaced: bool,
}

type Reply = oneshot::Sender<Result<Written, sqlx::Error>>;

/// The queue of grants waiting for their transaction; cloning shares it.
#[derive(Debug, Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<(Grant, Reply)>,
}

impl GroupCommit {
    /// Starts the task that commits the grants of `db` (on its writer). It ends when every
    /// clone of the returned queue is dropped.
    pub fn spawn(db: Db) -> Self {
        let (queue, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, receiver));
        Self { queue }
    }

    /// Writes `grant` in the next transaction; returns what it wrote once committed.
    pub async fn write(&self, grant: Grant) -> Result<Written, sqlx::Error> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((grant, reply))
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        answer.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn run(db: Db, mut receiver: mpsc::Receiver<(Grant, Reply)>) {
    let mut queued = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut queued, MAX_BATCH).await > 0 {
        let (grants, replies): (Vec<Grant>, Vec<Reply>) = queued.drain(..).unzip();
        match commit(&db, &grants).await {
            Ok(written) => {
                for (reply, w) in replies.into_iter().zip(written) {
                    let _ = reply.send(Ok(w));
                }
            }
            Err(e) if grants.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(e)));
            }
            Err(e) => {
                tracing::debug!(error = %e, grants = grants.len(), "grant batch failed; one transaction each");
                for (grant, reply) in grants.iter().zip(replies) {
                    let result = commit(&db, std::slice::from_ref(grant)).await;
                    let _ = reply.send(result.map(|w| w[0]));
                }
            }
        }
    }
}

/// Writes `grants` in one transaction.
async fn commit(db: &Db, grants: &[Grant]) -> Result<Vec<Written>, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let mut written = Vec::with_capacity(grants.len());
    for grant in grants {
        written.push(write(&mut tx, grant).await?);
    }
    tx.commit().await?;
    super::events::committed();
    Ok(written)
}

async fn write(conn: &mut AnyConnection, grant: &Grant) -> Result<Written, sqlx::Error> {
    let stored = if grant.new {
        purchases::insert(conn, &grant.row).await?
    } else {
        purchases::update_observed(conn, &grant.row).await?
    };
    if !stored {
        return Ok(Written {
            stored,
            enqueued: false,
            replaced: false,
        });
    }
    let enqueued = match &grant.settle {
        Some(job) => outbox::enqueue(conn, job).await?,
        None => false,
    };
    let replaced = match &grant.replaces {
        Some(old) => {
            purchases::set_state(
                conn,
                old,
                PurchaseState::Granted(EntitlementState::Replaced),
            )
            .await?
        }
        None => false,
    };
    Ok(Written {
        stored,
        enqueued,
        replaced,
    })
}
