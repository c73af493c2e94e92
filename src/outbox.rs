//! The durable token outbox: a purchase token is stored before it is sent to the backend,
//! and stays until the backend gives a final answer, across reloads and offline periods.
//!
//! Tokens live in `localStorage` under one key per backend URL (synchronous, so a token is
//! on disk before the request leaves). Where storage is denied, they live in memory for the
//! page's lifetime.

use std::cell::RefCell;

use wasm_bindgen::{JsCast, JsValue};

use crate::sys::{global, Storage};
use crate::to_js::{self, ToJs};
use crate::types::PendingToken;

/// First retry delay.
pub const BASE_DELAY_MS: f64 = 2_000.0;
/// Longest retry delay.
pub const MAX_DELAY_MS: f64 = 3_600_000.0;

/// The delay before attempt `attempts + 1`: truncated exponential backoff with jitter, in
/// `[d/2, d]` where `d = min(BASE · 2^(attempts-1), MAX)`. `random` is in `[0, 1)`.
pub fn backoff_ms(attempts: u32, random: f64) -> f64 {
    let exponent = attempts.saturating_sub(1).min(31);
    let delay = (BASE_DELAY_MS * f64::from(1u32 << exponent)).min(MAX_DELAY_MS);
    delay * (0.5 + random.clamp(0.0, 1.0) / 2.0)
}

/// The outbox of one backend.
#[derive(Debug)]
pub struct Outbox {
    key: String,
    storage: Option<Storage>,
    /// The JSON list where there is no storage (the same text `localStorage` would hold).
    memory: RefCell<String>,
}

impl Outbox {
    /// The outbox for the backend at `backend_url`.
    pub fn open(backend_url: &str) -> Outbox {
        let storage = global()
            .local_storage()
            .ok()
            .filter(JsValue::is_object)
            .map(JsCast::unchecked_into);
        Outbox {
            key: crate::text::concat(&["pwa-billing:outbox:", backend_url]),
            storage,
            memory: RefCell::new(String::new()),
        }
    }

    /// Every waiting token, oldest first.
    pub fn list(&self) -> Vec<PendingToken> {
        let text = match &self.storage {
            Some(storage) => storage
                .get_item(&self.key)
                .ok()
                .flatten()
                .unwrap_or_default(),
            None => self.memory.borrow().clone(),
        };
        js_sys::JSON::parse(&text)
            .ok()
            .and_then(|value| crate::from_js::list(&value, "the outbox").ok())
            .unwrap_or_default()
    }

    fn save(&self, tokens: Vec<PendingToken>) {
        let text = to_js::json(&tokens.to_js());
        match &self.storage {
            // A full storage quota leaves the previous list: tokens already there stay.
            Some(storage) => {
                let _ = storage.set_item(&self.key, &text);
            }
            None => *self.memory.borrow_mut() = text,
        }
    }

    /// Stores a token before it is sent (no-op when it is already waiting).
    pub fn add(&self, item_id: &str, purchase_token: &str) {
        let mut tokens = self.list();
        if tokens.iter().any(|t| t.purchase_token == purchase_token) {
            return;
        }
        let now = crate::sys::now_ms();
        tokens.push(PendingToken {
            item_id: item_id.to_owned(),
            purchase_token: purchase_token.to_owned(),
            added_at: now,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
        });
        self.save(tokens);
    }

    /// Forgets a token the backend answered for good.
    pub fn remove(&self, purchase_token: &str) {
        let mut tokens = self.list();
        tokens.retain(|t| t.purchase_token != purchase_token);
        self.save(tokens);
    }

    /// Records a send that did not settle the token and schedules the next one.
    pub fn defer(&self, purchase_token: &str, reason: &str) {
        let mut tokens = self.list();
        if let Some(token) = tokens
            .iter_mut()
            .find(|t| t.purchase_token == purchase_token)
        {
            token.attempts = token.attempts.saturating_add(1);
            token.next_attempt_at =
                crate::sys::now_ms() + backoff_ms(token.attempts, js_sys::Math::random());
            token.last_error = Some(reason.to_owned());
        }
        self.save(tokens);
    }

    /// Tokens due for a send now (all of them when `force`).
    pub fn due(&self, force: bool) -> Vec<PendingToken> {
        let now = crate::sys::now_ms();
        self.list()
            .into_iter()
            .filter(|t| force || t.next_attempt_at <= now)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
        assert_eq!(backoff_ms(1, 1.0), 2_000.0);
        assert_eq!(backoff_ms(1, 0.0), 1_000.0);
        assert_eq!(backoff_ms(2, 1.0), 4_000.0);
        assert_eq!(backoff_ms(5, 1.0), 32_000.0);
        assert_eq!(backoff_ms(40, 1.0), MAX_DELAY_MS);
        assert_eq!(backoff_ms(u32::MAX, 0.0), MAX_DELAY_MS / 2.0);
        for attempts in 1..20 {
            let low = backoff_ms(attempts, 0.0);
            let high = backoff_ms(attempts, 0.999);
            assert!(low > 0.0 && low < high && high <= MAX_DELAY_MS);
        }
    }
}
