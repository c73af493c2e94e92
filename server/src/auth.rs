//! Caller authentication: `Authorization: Bearer <JWT>`, HS256 with a shared secret or
//! asymmetric keys from a JWKS URL (with issuer and audience). The account id is `sub`.

use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use url::Url;

use crate::config::AuthConfig;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a fetched JWKS is trusted before it is fetched again.
const JWKS_MAX_AGE: Duration = Duration::from_secs(600);
/// The least time between two fetches caused by an unknown `kid`.
const JWKS_MIN_REFETCH: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
}

/// Checks bearer tokens.
#[derive(Debug)]
pub struct Authenticator(Mode);

#[derive(Debug)]
enum Mode {
    Hs256 {
        key: DecodingKey,
        validation: Validation,
    },
    Jwks {
        url: Url,
        http: reqwest::Client,
        issuer: String,
        audience: String,
        cache: Mutex<Option<(JwkSet, Instant)>>,
    },
}

impl Authenticator {
    /// An authenticator for the configuration.
    pub fn new(config: &AuthConfig, http: reqwest::Client) -> Self {
        match config {
            AuthConfig::Hs256 {
                secret,
                issuer,
                audience,
            } => {
                let mut validation = Validation::new(Algorithm::HS256);
                validation.set_required_spec_claims(&["exp", "sub"]);
                if let Some(issuer) = issuer {
                    validation.set_issuer(&[issuer]);
                }
                match audience {
                    Some(audience) => validation.set_audience(&[audience]),
                    None => validation.validate_aud = false,
                }
                Self(Mode::Hs256 {
                    key: DecodingKey::from_secret(secret.as_bytes()),
                    validation,
                })
            }
            AuthConfig::Jwks {
                url,
                issuer,
                audience,
            } => Self(Mode::Jwks {
                url: url.clone(),
                http,
                issuer: issuer.clone(),
                audience: audience.clone(),
                cache: Mutex::new(None),
            }),
        }
    }

    /// The account id (`sub`) of a valid token.
    pub async fn authenticate(&self, token: &str) -> Result<String, ApiError> {
        let bad = |e: jsonwebtoken::errors::Error| {
            ApiError::Unauthenticated(format!("invalid bearer token: {e}"))
        };
        let claims = match &self.0 {
            Mode::Hs256 { key, validation } => {
                jsonwebtoken::decode::<Claims>(token, key, validation).map_err(bad)?
            }
            Mode::Jwks {
                issuer, audience, ..
            } => {
                let header = jsonwebtoken::decode_header(token).map_err(bad)?;
                let kid = header.kid.ok_or_else(|| {
                    ApiError::Unauthenticated("invalid bearer token: no `kid`".into())
                })?;
                let key = self.jwk(&kid).await?;
                let mut validation = Validation::new(header.alg);
                validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
                validation.set_issuer(&[issuer]);
                validation.set_audience(&[audience]);
                jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(bad)?
            }
        };
        if claims.claims.sub.is_empty() {
            return Err(ApiError::Unauthenticated(
                "invalid bearer token: empty `sub`".into(),
            ));
        }
        Ok(claims.claims.sub)
    }

    /// The key `kid` from the (cached) JWKS, fetched again when stale or when the kid is new.
    async fn jwk(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        let Mode::Jwks {
            url, http, cache, ..
        } = &self.0
        else {
            unreachable!("jwk() is only called in JWKS mode")
        };
        let mut cache = cache.lock().await;
        let find = |set: &JwkSet| set.find(kid).map(DecodingKey::from_jwk);
        if let Some((set, fetched)) = cache.as_ref() {
            let fresh = fetched.elapsed() < JWKS_MAX_AGE;
            match find(set) {
                Some(key) if fresh => {
                    return key.map_err(|e| ApiError::Unauthenticated(format!("unusable key: {e}")))
                }
                None if fetched.elapsed() < JWKS_MIN_REFETCH => {
                    return Err(ApiError::Unauthenticated(format!(
                        "invalid bearer token: unknown key `{kid}`"
                    )))
                }
                _ => {}
            }
        }
        let set: JwkSet = async {
            http.get(url.clone())
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await
        .map_err(|e: reqwest::Error| {
            ApiError::internal(anyhow::anyhow!("fetching the JWKS from {url}: {e}"))
        })?;
        let key = find(&set);
        *cache = Some((set, Instant::now()));
        match key {
            Some(key) => key.map_err(|e| ApiError::Unauthenticated(format!("unusable key: {e}"))),
            None => Err(ApiError::Unauthenticated(format!(
                "invalid bearer token: unknown key `{kid}`"
            ))),
        }
    }
}

/// Signs an HS256 token for `sub`, valid for `ttl` (the sandbox's sign-in, and tests).
pub fn issue_hs256(secret: &str, sub: &str, ttl: Duration) -> String {
    let exp = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64 + ttl.as_secs();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &Claims {
            sub: sub.into(),
            exp,
        },
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing cannot fail")
}

/// The authenticated caller's account id.
#[derive(Debug, Clone)]
pub struct Account(pub String);

impl FromRequestParts<AppState> for Account {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthenticated("missing Authorization: Bearer <token>".into())
        })?;
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthenticated("the Authorization header is not `Bearer <token>`".into())
            })?;
        state.auth.authenticate(token).await.map(Account)
    }
}
