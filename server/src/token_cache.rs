//! Verified caller tokens, remembered by their SHA-256 until they expire: a caller presents
//! the same JWT on every request, and checking its signature (an RSA verification with a
//! JWKS) costs more than the rest of a settled re-verification. Only tokens that passed every
//! check are stored; an entry never outlives the token's `exp`.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// At most this many tokens are remembered (about 100 bytes each).
const CAPACITY: usize = 16_384;

/// Verified tokens by digest: the account and the expiry (`exp`, seconds since the epoch).
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: Mutex<HashMap<[u8; 32], (String, u64)>>,
}

impl VerifiedTokens {
    /// The account of `token` if it was verified and has not expired at `now`.
    pub fn get(&self, token: &str, now: u64) -> Option<String> {
        let key = digest(token);
        let entries = self.entries.lock().expect("token cache poisoned");
        entries
            .get(&key)
            .filter(|(_, exp)| now < *exp)
            .map(|(account, _)| account.clone())
    }

    /// Remembers a verified token of `account` until `exp`. When full, expired entries go
    /// first, then everything (the next requests verify again).
    pub fn insert(&self, token: &str, account: &str, exp: u64, now: u64) {
        if exp <= now {
            return;
        }
        let key = digest(token);
        let mut entries = self.entries.lock().expect("token cache poisoned");
        if entries.len() >= CAPACITY {
            entries.retain(|_, (_, e)| now < *e);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (account.to_string(), exp));
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.entries.lock().expect("token cache poisoned").len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_expiry_and_stays_bounded() {
        let cache = VerifiedTokens::default();
        cache.insert("a.b.c", "alice", 100, 10);
        assert_eq!(cache.get("a.b.c", 99).as_deref(), Some("alice"));
        assert_eq!(cache.get("a.b.c", 100), None, "not at or after exp");
        assert_eq!(cache.get("a.b.d", 50), None, "another token");
        cache.insert("old", "bob", 10, 10);
        assert!(
            cache.get("old", 10).is_none(),
            "an expired token is not stored"
        );
        for i in 0..CAPACITY + 10 {
            cache.insert(&format!("t{i}"), "carol", 1000, 10);
        }
        assert!(cache.len() <= CAPACITY);
    }
}
