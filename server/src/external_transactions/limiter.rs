//! One rate limiter for every replica: Google allows 1,200 external transaction creates
//! and refunds together a minute per app, however many servers call.
//!
//! The limiter is GCRA kept in the database (`rate_limits`): one row holds the theoretical
//! arrival time (TAT) of the next call. A caller reserves the next slot with one atomic
//! `UPDATE … RETURNING` (`tat = max(tat, now − tolerance) + interval`) and sleeps until its
//! slot, so slots are never shared between replicas and are `interval` apart. The tolerance
//! (two intervals) lets a caller that reached the database a few milliseconds late (a busy
//! connection pool) still use the slot it would have had, instead of losing it: any 60 s
//! then holds at most `per_minute + 2` calls, which the default of 1,188 a minute keeps
//! under Google's 1,200. A slot reserved by a replica that then crashes is simply lost.

use std::time::Duration;

use crate::db::{now_ms, rate_limits, Db};

/// Slots a late caller may catch up.
pub const TOLERANCE_SLOTS: i64 = 2;

/// The shared limit of external transaction writes (create + refund).
pub const WRITES: &str = "external_transaction_writes";

/// A limiter over one `rate_limits` row.
#[derive(Debug, Clone)]
pub struct Limiter {
    db: Db,
    name: &'static str,
    interval_ms: f64,
}

impl Limiter {
    /// `per_minute` calls a minute, evenly spaced, shared through `db`.
    pub fn new(db: Db, name: &'static str, per_minute: u32) -> Self {
        Self {
            db,
            name,
            interval_ms: 60_000.0 / f64::from(per_minute.max(1)),
        }
    }

    /// The spacing between two calls.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(self.interval_ms / 1000.0)
    }

    /// Reserves the next slot; returns how long to wait for it. The TAT is kept in
    /// microseconds so that intervals like 50.5 ms do not round.
    pub async fn reserve(&self) -> Result<Duration, sqlx::Error> {
        let now_us = now_ms() * 1000;
        let step = (self.interval_ms * 1000.0).round() as i64;
        let earliest = now_us - TOLERANCE_SLOTS * step;
        let tat = rate_limits::reserve(&self.db, self.name, earliest, step).await?;
        let slot = tat - step;
        Ok(Duration::from_micros((slot - now_us).max(0) as u64))
    }

    /// Waits for the next slot.
    pub async fn acquire(&self) -> Result<(), sqlx::Error> {
        let wait = self.reserve().await?;
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Ok(())
    }
}
