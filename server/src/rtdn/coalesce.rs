//! Coalesced re-fetches: Play may push many notifications for one purchase in a burst
//! (renewals, duplicates, retries). Each notification only says "look again"; a fetch from
//! Google that *started* after a notification was stored already answers it. So the jobs of
//! one token take turns (in this process), and a job whose notification is older than the
//! start of the last successful fetch of its token costs no Google call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::db::now_ms;
use crate::single_flight::KeyedLocks;

/// Most tokens remembered; older entries are dropped beyond it (they only cost a re-fetch).
const MAX_TOKENS: usize = 10_000;

/// The start times of the last successful fetch of each token, and the per-token turns.
#[derive(Debug, Default, Clone)]
pub struct Refetches {
    locks: Arc<KeyedLocks>,
    fetched: Arc<Mutex<HashMap<String, i64>>>,
}

/// A fetch in progress: holds the token's turn; [`Flight::succeeded`] records it.
#[derive(Debug)]
pub struct Flight {
    _turn: OwnedMutexGuard<()>,
    token: String,
    started_at: i64,
    fetched: Arc<Mutex<HashMap<String, i64>>>,
}

impl Refetches {
    /// Waits for the token's turn. `None`: a fetch that started at or after `received_at`
    /// (ms) succeeded meanwhile, nothing to do; else the caller fetches and reports success.
    pub async fn begin(&self, token: &str, received_at: i64) -> Option<Flight> {
        let turn = self.locks.lock(token).await;
        let fetched = self.fetched.lock().expect("refetch map poisoned");
        if fetched.get(token).is_some_and(|&at| at >= received_at) {
            return None;
        }
        drop(fetched);
        Some(Flight {
            _turn: turn,
            token: token.to_string(),
            started_at: now_ms(),
            fetched: self.fetched.clone(),
        })
    }
}

impl Flight {
    /// The fetch succeeded: notifications stored before it started are answered.
    pub fn succeeded(self) {
        let mut fetched = self.fetched.lock().expect("refetch map poisoned");
        if fetched.len() >= MAX_TOKENS {
            let oldest = self.started_at - 600_000;
            fetched.retain(|_, at| *at > oldest);
            if fetched.len() >= MAX_TOKENS {
                fetched.clear();
            }
        }
        let at = fetched.entry(self.token.clone()).or_insert(self.started_at);
        *at = (*at).max(self.started_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_notification_older_than_a_successful_fetch_costs_nothing() {
        let refetches = Refetches::default();
        let received = now_ms();
        let flight = refetches.begin("t", received).await.expect("first fetch");
        // A failed fetch answers nothing.
        drop(flight);
        let flight = refetches
            .begin("t", received)
            .await
            .expect("after a failure");
        flight.succeeded();
        assert!(refetches.begin("t", received).await.is_none(), "answered");
        assert!(
            refetches.begin("other", received).await.is_some(),
            "per token"
        );
        let later = now_ms() + 1;
        assert!(
            refetches.begin("t", later).await.is_some(),
            "a newer notification fetches"
        );
    }
}
