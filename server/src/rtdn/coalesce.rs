//! Coalesced re-fetches: Play may push many notifications for one purchase in a burst
//! (renewals, duplicates, retries). Each notification only says "look again"; a read from
//! Google that *started* after a notification was stored already answers it. So the jobs of
//! one token take turns (in this process), and a job whose notification is older than the
//! start of the last successful read of its token costs no Google call.
//!
//! Only a real read counts: a job that answers its notification without asking Google (a
//! "purchased" notification the verification already covered) answers no other one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::single_flight::KeyedLocks;

/// Most tokens remembered; older entries are dropped beyond it (they only cost a re-fetch).
const MAX_TOKENS: usize = 10_000;

/// The start times of the last successful read of each token, and the per-token turns.
#[derive(Debug, Default, Clone)]
pub struct Refetches {
    locks: Arc<KeyedLocks>,
    read: Arc<Mutex<HashMap<String, i64>>>,
}

/// A token's turn: the notification it was taken for still needs an answer.
pub type Turn = OwnedMutexGuard<()>;

impl Refetches {
    /// Waits for the token's turn. `None`: a read that started after `received_at` (ms)
    /// succeeded meanwhile, nothing to do; else the caller applies its notification
    /// holding the turn. A read in the same millisecond answers nothing: it may have
    /// reached Google before the change the notification announces.
    pub async fn turn(&self, token: &str, received_at: i64) -> Option<Turn> {
        let turn = self.locks.lock(token).await;
        let read = self.read.lock().expect("refetch map poisoned");
        if read.get(token).is_some_and(|&at| at > received_at) {
            return None;
        }
        drop(read);
        Some(turn)
    }

    /// Records a successful read of `token` from Google that started at `started_at` (ms):
    /// notifications stored before then are answered.
    pub fn read(&self, token: &str, started_at: i64) {
        let mut read = self.read.lock().expect("refetch map poisoned");
        if read.len() >= MAX_TOKENS && !read.contains_key(token) {
            let oldest = started_at - 600_000;
            read.retain(|_, at| *at > oldest);
            if read.len() >= MAX_TOKENS {
                read.clear();
            }
        }
        let at = read.entry(token.to_string()).or_insert(started_at);
        *at = (*at).max(started_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::now_ms;

    #[tokio::test]
    async fn a_notification_older_than_a_successful_read_costs_nothing() {
        let refetches = Refetches::default();
        let received = now_ms() - 1;
        let turn = refetches.turn("t", received).await.expect("first turn");
        // A turn that read nothing (a failed or skipped read) answers nothing.
        drop(turn);
        let turn = refetches.turn("t", received).await.expect("after no read");
        refetches.read("t", now_ms());
        drop(turn);
        assert!(refetches.turn("t", received).await.is_none(), "answered");
        assert!(
            refetches.turn("other", received).await.is_some(),
            "per token"
        );
        assert!(
            refetches.turn("t", now_ms()).await.is_some(),
            "a read in the same millisecond answers nothing"
        );
        let later = now_ms() + 1;
        assert!(
            refetches.turn("t", later).await.is_some(),
            "a newer notification reads again"
        );
    }
}
