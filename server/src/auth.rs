//! Caller authentication: `Authorization: Bearer <JWT>`, HS256 with a shared secret or
//! asymmetric keys from a JWKS URL (with issuer and audience). The account id is `sub`.
//!
//! Server-to-server and admin endpoints take an API key from `admin.api_keys` instead
//! ([`Admin`]); a user's JWT is refused there, and an API key is never a user's token.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{env_name, AdminConfig, AuthConfig, ConfigError};
use crate::error::ApiError;
use crate::jwks::{JwksCache, KeyError};
use crate::state::AppState;
use crate::token_cache::VerifiedTokens;
use url::Url;

/// How long a fetched JWKS is trusted before it is fetched again.
const JWKS_MAX_AGE: Duration = Duration::from_secs(600);
/// The least time between two fetches caused by an unknown `kid`.
const JWKS_MIN_REFETCH: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
}

/// Checks bearer tokens; a verified token is remembered (by digest) until it expires.
#[derive(Debug)]
pub struct Authenticator {
    mode: Mode,
    verified: VerifiedTokens,
}

#[derive(Debug)]
enum Mode {
    Hs256 {
        key: DecodingKey,
        validation: Validation,
    },
    Jwks {
        keys: JwksCache,
        issuer: String,
        audience: String,
    },
}

impl Authenticator {
    /// An authenticator for the configuration.
    pub fn new(config: &AuthMethod, http: reqwest::Client) -> Self {
        match config {
            AuthMethod::Hs256 {
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
                Self::with_mode(Mode::Hs256 {
                    key: DecodingKey::from_secret(secret.as_bytes()),
                    validation,
                })
            }
            AuthMethod::Jwks {
                url,
                issuer,
                audience,
            } => Self::with_mode(Mode::Jwks {
                keys: JwksCache::new(url.clone(), http, JWKS_MAX_AGE, JWKS_MIN_REFETCH),
                issuer: issuer.clone(),
                audience: audience.clone(),
            }),
        }
    }

    fn with_mode(mode: Mode) -> Self {
        Self {
            mode,
            verified: VerifiedTokens::default(),
        }
    }

    /// How many verified tokens are remembered.
    pub fn remembered(&self) -> usize {
        self.verified.len()
    }

    /// The account id (`sub`) of a valid token.
    pub async fn authenticate(&self, token: &str) -> Result<String, ApiError> {
        let now = jsonwebtoken::get_current_timestamp();
        if let Some(account) = self.verified.get(token, now) {
            return Ok(account);
        }
        let bad = |e: jsonwebtoken::errors::Error| {
            ApiError::Unauthenticated(format!("invalid bearer token: {e}"))
        };
        let claims = match &self.mode {
            Mode::Hs256 { key, validation } => {
                jsonwebtoken::decode::<Claims>(token, key, validation).map_err(bad)?
            }
            Mode::Jwks {
                issuer, audience, ..
            } => {
                let header = jsonwebtoken::decode_header(token).map_err(bad)?;
                if matches!(
                    header.alg,
                    Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
                ) {
                    return Err(ApiError::Unauthenticated(
                        "invalid bearer token: a shared-secret algorithm is not accepted with a JWKS".into(),
                    ));
                }
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
        self.verified
            .insert(token, &claims.claims.sub, claims.claims.exp, now);
        Ok(claims.claims.sub)
    }

    /// The key `kid` from the (cached) JWKS.
    async fn jwk(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        let Mode::Jwks { keys, .. } = &self.mode else {
            unreachable!("jwk() is only called in JWKS mode")
        };
        keys.key(kid).await.map_err(|error| match error {
            KeyError::Unknown => {
                ApiError::Unauthenticated(format!("invalid bearer token: unknown key `{kid}`"))
            }
            KeyError::Unusable(e) => ApiError::Unauthenticated(format!("unusable key: {e}")),
            KeyError::Unavailable(e) => ApiError::internal(anyhow::anyhow!(
                "fetching the JWKS from {}: {e}",
                keys.url()
            )),
        })
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
        state.auth.authenticate(bearer(parts)?).await.map(Account)
    }
}

/// The credential of `Authorization: Bearer <credential>`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated("missing Authorization: Bearer <token>".into()))?;
    value
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
        })
}

/// The server-to-server API keys (`admin.api_keys`), kept as SHA-256 digests and compared
/// in constant time.
#[derive(Debug)]
pub struct AdminKeys(Vec<[u8; 32]>);

impl AdminKeys {
    /// The keys of the configuration.
    pub fn new(config: &AdminConfig) -> Self {
        Self(config.api_keys.iter().map(|k| digest(k)).collect())
    }

    /// Whether `presented` is one of the keys. A user's JWT (three dot-separated parts) is
    /// refused with a message that says so; keys never contain a dot.
    pub fn check(&self, presented: &str) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Err(ApiError::Unauthenticated(
                "this endpoint takes a server API key, and none is configured (admin.api_keys)"
                    .into(),
            ));
        }
        if presented.split('.').count() == 3 {
            return Err(ApiError::Unauthenticated(
                "this endpoint takes a server API key (admin.api_keys), not a user's token".into(),
            ));
        }
        let presented = digest(presented);
        // No early exit: the time taken does not depend on which key matched, if any.
        let matched = self.0.iter().fold(false, |found, key| {
            let diff = key
                .iter()
                .zip(presented.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            found | (diff == 0)
        });
        if matched {
            Ok(())
        } else {
            Err(ApiError::Unauthenticated("unknown server API key".into()))
        }
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A caller authenticated with a server API key (`admin.api_keys`): the app's payment
/// system or an operator's tool. Extract it in every admin and server-to-server handler.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.admin_keys.check(bearer(parts)?).map(|()| Admin)
    }
}

/// How tokens are checked, as `[auth]` says.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthMethod {
    /// HS256 with a shared secret (optionally checking `iss`/`aud`).
    Hs256 {
        /// The shared secret.
        secret: String,
        /// Required `iss`, if set.
        issuer: Option<String>,
        /// Required `aud`, if set.
        audience: Option<String>,
    },
    /// Asymmetric tokens checked against a JWKS document.
    Jwks {
        /// Where the key set is fetched.
        url: Url,
        /// Required `iss`.
        issuer: String,
        /// Required `aud`.
        audience: String,
    },
}

impl AuthConfig {
    /// An HS256 section with `secret` and no `iss`/`aud` requirement.
    pub fn hs256(secret: impl Into<String>) -> Self {
        Self {
            jwt_hs256_secret: Some(secret.into()),
            ..Self::default()
        }
    }

    /// The method the keys select, or the key at fault.
    pub fn method(&self) -> Result<AuthMethod, ConfigError> {
        match (self.jwt_hs256_secret.clone(), &self.jwks_url) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                "auth.jwt_hs256_secret",
                "set either auth.jwt_hs256_secret or auth.jwks_url, not both",
            )),
            (None, None) => Err(ConfigError::new(
                "auth",
                format!(
                    "set auth.jwt_hs256_secret ({}) or auth.jwks_url with auth.issuer and auth.audience",
                    env_name("auth.jwt_hs256_secret")
                ),
            )),
            (Some(secret), None) if secret.len() < 32 => Err(ConfigError::new(
                "auth.jwt_hs256_secret",
                "must be at least 32 bytes long",
            )),
            (Some(secret), None) => Ok(AuthMethod::Hs256 {
                secret,
                issuer: self.issuer.clone(),
                audience: self.audience.clone(),
            }),
            (None, Some(url)) => Ok(AuthMethod::Jwks {
                url: url.clone(),
                issuer: ConfigError::required(self.issuer.clone(), "auth.issuer")?,
                audience: ConfigError::required(self.audience.clone(), "auth.audience")?,
            }),
        }
    }
}

impl AdminConfig {
    /// Checks the keys: long enough, never mistakable for a JWT.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let fail = |m: &str| Err(ConfigError::new("admin.api_keys", m));
        if self.api_keys.iter().any(|k| k.len() < 32) {
            return fail("every key must be at least 32 bytes long (e.g. `openssl rand -hex 32`)");
        }
        if self.api_keys.iter().any(|k| k.contains('.')) {
            return fail("a key must not contain `.`, so that it can never be taken for a JWT");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::traits::PublicKeyParts;
    use serde_json::json;
    use url::Url;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn now() -> u64 {
        time::OffsetDateTime::now_utc().unix_timestamp() as u64
    }

    fn hs256(claims: serde_json::Value) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    fn http() -> reqwest::Client {
        crate::play::http_client(Duration::from_secs(5))
    }

    #[test]
    fn admin_keys_accept_only_configured_keys_never_user_tokens() {
        let k1 = "a".repeat(32);
        let k2 = "b".repeat(40);
        let keys = AdminKeys::new(&AdminConfig {
            api_keys: vec![k1.clone(), k2.clone()],
        });
        assert!(keys.check(&k1).is_ok());
        assert!(keys.check(&k2).is_ok());
        assert!(keys.check(&"a".repeat(31)).is_err());
        assert!(keys.check(&"c".repeat(32)).is_err());
        let user = issue_hs256(SECRET, "alice", Duration::from_secs(60));
        let Err(ApiError::Unauthenticated(message)) = keys.check(&user) else {
            panic!("a user's token is refused");
        };
        assert!(message.contains("not a user's token"), "{message}");
        let none = AdminKeys::new(&AdminConfig::default());
        let Err(ApiError::Unauthenticated(message)) = none.check(&k1) else {
            panic!("no key configured refuses every call");
        };
        assert!(message.contains("admin.api_keys"), "{message}");
    }

    #[tokio::test]
    async fn hs256_checks_signature_expiry_and_optional_claims() {
        let plain = Authenticator::new(
            &AuthMethod::Hs256 {
                secret: SECRET.into(),
                issuer: None,
                audience: None,
            },
            http(),
        );
        assert_eq!(
            plain
                .authenticate(&issue_hs256(SECRET, "alice", Duration::from_secs(60)))
                .await
                .unwrap(),
            "alice"
        );
        let expired = hs256(json!({"sub": "alice", "exp": now() - 3600}));
        assert!(matches!(
            plain.authenticate(&expired).await,
            Err(ApiError::Unauthenticated(_))
        ));
        let no_sub = hs256(json!({"exp": now() + 60}));
        assert!(plain.authenticate(&no_sub).await.is_err());
        let empty_sub = hs256(json!({"sub": "", "exp": now() + 60}));
        assert!(plain.authenticate(&empty_sub).await.is_err());

        let strict = Authenticator::new(
            &AuthMethod::Hs256 {
                secret: SECRET.into(),
                issuer: Some("me".into()),
                audience: Some("app".into()),
            },
            http(),
        );
        let good = hs256(json!({"sub": "bob", "exp": now() + 60, "iss": "me", "aud": "app"}));
        assert_eq!(strict.authenticate(&good).await.unwrap(), "bob");
        let wrong_aud =
            hs256(json!({"sub": "bob", "exp": now() + 60, "iss": "me", "aud": "other"}));
        assert!(strict.authenticate(&wrong_aud).await.is_err());
        let wrong_iss = hs256(json!({"sub": "bob", "exp": now() + 60, "iss": "you", "aud": "app"}));
        assert!(strict.authenticate(&wrong_iss).await.is_err());
    }

    #[tokio::test]
    async fn jwks_keys_are_fetched_once_and_checked_with_issuer_and_audience() {
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        let jwk = json!({"keys": [{
            "kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }]});
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = fetches.clone();
        let app = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let jwk = jwk.clone();
                async move { axum::Json(jwk) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let auth = Authenticator::new(
            &AuthMethod::Jwks {
                url: Url::parse(&format!("http://{addr}/jwks")).unwrap(),
                issuer: "https://id.example".into(),
                audience: "pwa".into(),
            },
            http(),
        );
        let pem = key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF).unwrap();
        let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let sign = |kid: &str, claims: serde_json::Value| {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(kid.into());
            jsonwebtoken::encode(&header, &claims, &signing).unwrap()
        };
        let claims =
            json!({"sub": "carol", "exp": now() + 60, "iss": "https://id.example", "aud": "pwa"});
        for _ in 0..3 {
            assert_eq!(
                auth.authenticate(&sign("k1", claims.clone()))
                    .await
                    .unwrap(),
                "carol"
            );
        }
        assert_eq!(
            fetches.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "the key set is cached"
        );
        let wrong_aud =
            json!({"sub": "carol", "exp": now() + 60, "iss": "https://id.example", "aud": "else"});
        assert!(auth.authenticate(&sign("k1", wrong_aud)).await.is_err());
        assert!(
            auth.authenticate(&sign("k2", claims.clone()))
                .await
                .is_err(),
            "unknown kid"
        );
        assert!(auth
            .authenticate(&sign("k2", claims.clone()))
            .await
            .is_err());
        assert_eq!(
            fetches.load(std::sync::atomic::Ordering::SeqCst),
            2,
            "an unknown kid refetches at once (a rotation), then at most every 30 s"
        );
        assert!(
            auth.authenticate(&issue_hs256(SECRET, "carol", Duration::from_secs(60)))
                .await
                .is_err(),
            "no kid"
        );
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let confused =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(pem.as_bytes()))
                .unwrap();
        assert!(
            auth.authenticate(&confused).await.is_err(),
            "no algorithm confusion"
        );
    }
}
