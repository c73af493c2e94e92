//! A cached JSON Web Key Set, fetched from a URL: the keys of callers' bearer JWTs
//! ([`crate::auth`]) and of Pub/Sub push tokens ([`crate::rtdn::oidc`]).
//!
//! A key is served from the cache while the set is younger than `max_age`. An unknown `kid`
//! (a key rotation) fetches the set again at once, but unknown `kid`s cause at most one
//! fetch per `min_refetch`, so a flood of tokens with made-up `kid`s cannot turn into a flood
//! of fetches.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::DecodingKey;
use tokio::sync::Mutex;
use url::Url;

/// Why no key came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The set has no key with that `kid`.
    Unknown,
    /// The key exists but cannot verify signatures (its parameters are bad).
    Unusable(String),
    /// The set could not be fetched.
    Unavailable(String),
}

/// One JWKS URL and its cached key set.
#[derive(Debug)]
pub struct JwksCache {
    url: Url,
    http: reqwest::Client,
    max_age: Duration,
    min_refetch: Duration,
    cached: Mutex<Cached>,
}

#[derive(Debug, Default)]
struct Cached {
    /// The key set and when it was fetched.
    set: Option<(JwkSet, Instant)>,
    /// When an unknown `kid` last caused a fetch.
    last_miss: Option<Instant>,
}

impl JwksCache {
    /// A cache of the set at `url`, kept `max_age`, fetched again for an unknown `kid` at most
    /// once per `min_refetch`.
    pub fn new(url: Url, http: reqwest::Client, max_age: Duration, min_refetch: Duration) -> Self {
        JwksCache {
            url,
            http,
            max_age,
            min_refetch,
            cached: Mutex::new(Cached::default()),
        }
    }

    /// The URL of the set.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The key `kid`, from the cache or a fresh fetch.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, KeyError> {
        let mut cached = self.cached.lock().await;
        let find = |set: &JwkSet| {
            set.find(kid).map(|jwk| {
                DecodingKey::from_jwk(jwk).map_err(|e| KeyError::Unusable(e.to_string()))
            })
        };
        if let Some((set, fetched)) = cached.set.as_ref() {
            match find(set) {
                Some(key) if fetched.elapsed() < self.max_age => return key,
                Some(_) => {}
                None if cached
                    .last_miss
                    .is_some_and(|t| t.elapsed() < self.min_refetch) =>
                {
                    return Err(KeyError::Unknown)
                }
                None => cached.last_miss = Some(Instant::now()),
            }
        }
        let set: JwkSet = async {
            self.http
                .get(self.url.clone())
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await
        .map_err(|e: reqwest::Error| KeyError::Unavailable(e.to_string()))?;
        let key = find(&set);
        cached.set = Some((set, Instant::now()));
        key.unwrap_or(Err(KeyError::Unknown))
    }
}
