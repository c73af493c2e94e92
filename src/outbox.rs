//! The durable token outbox: a purchase token is stored before it is sent to the backend,
//! and stays until the backend gives a final answer, across reloads and offline periods.
//!
//! Tokens live in `localStorage` under one key per backend URL (synchronous, so a token is
//! on disk before the request leaves). Where storage is denied, they live in memory for the
//! page's lifetime.
//!
//! A token whose backend keeps answering `200` with a body that breaks the contract is tried
//! [`BAD_RESPONSE_ATTEMPTS`] times, then kept without being re-sent: the purchase is real, so
//! it is not forgotten (`pendingTokens()` still lists it, with the field named in its
//! `lastError`), but a broken backend is not asked again and again.

use std::cell::RefCell;

use web_sys::Storage;

use crate::convert;
use crate::types::PendingToken;

/// First retry delay.
pub const BASE_DELAY_MS: f64 = 2_000.0;
/// Longest retry delay.
pub const MAX_DELAY_MS: f64 = 3_600_000.0;
/// After this many attempts, a token whose last answer was a `200` breaking the contract
/// (`VerificationError` `bad_response`) is no longer re-sent.
pub const BAD_RESPONSE_ATTEMPTS: u32 = 5;

/// The start of a `lastError` that records a `bad_response` answer.
const BAD_RESPONSE_PREFIX: &str = "verification failed (bad_response)";

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
        let storage = crate::sys::local_storage();
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
        // The whole list or nothing, as a serde read of `Vec<PendingToken>` would. A loop
        // rather than `collect::<Option<Vec<_>>>()`, whose adapter is one more generic
        // function in the bundle.
        let Some(list) = convert::parse(&text).filter(js_sys::Array::is_array) else {
            return Vec::new();
        };
        let list = js_sys::Array::from(&list);
        let mut tokens = Vec::with_capacity(list.length() as usize);
        for index in 0..list.length() {
            match stored_token(list.get(index)) {
                Some(token) => tokens.push(token),
                None => return Vec::new(),
            }
        }
        tokens
    }

    fn save(&self, tokens: Vec<PendingToken>) {
        let text = convert::json(&convert::to_js(&tokens));
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

    /// Records a send that did not settle the token and schedules the next one: after the
    /// backend's `Retry-After` (`retry_after_ms`) with up to half of it again as jitter, so
    /// that a crowd of buyers refused together does not come back together; else after
    /// [`backoff_ms`].
    pub fn defer(&self, purchase_token: &str, reason: &str, retry_after_ms: Option<f64>) {
        let mut tokens = self.list();
        if let Some(token) = tokens
            .iter_mut()
            .find(|t| t.purchase_token == purchase_token)
        {
            token.attempts = token.attempts.saturating_add(1);
            let random = js_sys::Math::random();
            token.next_attempt_at = crate::sys::now_ms()
                + match retry_after_ms {
                    Some(ms) => ms * (1.0 + random / 2.0),
                    None => backoff_ms(token.attempts, random),
                };
            token.last_error = Some(reason.to_owned());
        }
        self.save(tokens);
    }

    /// When the next token is due (parked tokens aside), if any is waiting.
    pub fn next_attempt_at(&self) -> Option<f64> {
        self.list()
            .iter()
            .filter(|t| !is_parked(t))
            .map(|t| t.next_attempt_at)
            .reduce(f64::min)
    }

    /// Tokens due for a send now (all of them when `force`), except those whose backend
    /// answered with a broken `200` [`BAD_RESPONSE_ATTEMPTS`] times.
    pub fn due(&self, force: bool) -> Vec<PendingToken> {
        let now = crate::sys::now_ms();
        let mut tokens = self.list();
        tokens.retain(|t| !is_parked(t) && (force || t.next_attempt_at <= now));
        tokens
    }
}

/// One stored token, read key by key with js-sys (the list is the library's own JSON, so
/// a `PendingToken` reader of serde's would be bundle bytes for no gain).
fn stored_token(value: wasm_bindgen::JsValue) -> Option<PendingToken> {
    let keys = convert::Keys::of(value)?;
    let read = || -> Result<PendingToken, &'static str> {
        Ok(PendingToken {
            item_id: keys.string("itemId")?,
            purchase_token: keys.string("purchaseToken")?,
            added_at: keys.number("addedAt")?,
            attempts: keys.count("attempts", None)?,
            next_attempt_at: keys.number("nextAttemptAt")?,
            last_error: keys.optional_string("lastError")?,
        })
    };
    read().ok()
}

/// Whether a token is kept without being re-sent (see [`BAD_RESPONSE_ATTEMPTS`]).
pub fn is_parked(token: &PendingToken) -> bool {
    token.attempts >= BAD_RESPONSE_ATTEMPTS
        && token
            .last_error
            .as_deref()
            .is_some_and(|error| error.as_bytes().starts_with(BAD_RESPONSE_PREFIX.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_answers_park_a_token_after_the_cap() {
        let mut token = PendingToken {
            item_id: "coins_100".into(),
            purchase_token: "t".into(),
            added_at: 0.0,
            attempts: BAD_RESPONSE_ATTEMPTS - 1,
            next_attempt_at: 0.0,
            last_error: Some(
                crate::Error::Verification {
                    code: crate::backend::BAD_RESPONSE.into(),
                    message: "entitlement.id is missing or has the wrong type".into(),
                }
                .message(),
            ),
        };
        assert!(!is_parked(&token), "below the cap");
        token.attempts += 1;
        assert!(is_parked(&token));
        token.last_error = Some("network error: TypeError: Failed to fetch".into());
        assert!(
            !is_parked(&token),
            "network failures are retried without a cap"
        );
    }

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
