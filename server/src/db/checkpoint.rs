//! SQLite's WAL checkpoints, off the writer. By default the connection whose commit pushes
//! the WAL past 1,000 pages copies it back into the database file and syncs both, inside
//! that commit: with one writer connection ([`super::Db::writer`]) every grant and outbox
//! write queued behind it waits for those syncs. So the writer does not checkpoint
//! (`wal_autocheckpoint = 0` on it) and this task does, from a pooled connection, in
//! PASSIVE mode: it copies what no reader still needs and never blocks a writer or a reader.

use std::time::Duration;

use sqlx::AnyPool;

/// How often the WAL is checkpointed (a quiet database costs one cheap statement).
pub const INTERVAL: Duration = Duration::from_millis(250);

/// Checkpoints the WAL of `pool`'s database every [`INTERVAL`] until the pool is closed.
pub fn spawn(pool: AnyPool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                if pool.is_closed() {
                    break;
                }
                tracing::warn!(error = %e, "WAL checkpoint failed; the next one retries");
            }
        }
    });
}
