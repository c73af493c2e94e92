//! Authentication of Pub/Sub push requests: `Authorization: Bearer <OIDC JWT>`, RS256 with
//! a `kid` from a JWKS (Google's by default; cached, fetched again on an unknown `kid`),
//! issuer `https://accounts.google.com` or `accounts.google.com`, the configured audience
//! and service-account email, `email_verified`, expiry.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::config::RtdnConfig;
use crate::jwks::{JwksCache, KeyError};

/// The issuers Google's push tokens carry.
pub const GOOGLE_ISSUERS: [&str; 2] = ["https://accounts.google.com", "accounts.google.com"];
/// How long a fetched JWKS is trusted.
const JWKS_MAX_AGE: Duration = Duration::from_secs(3600);
/// The least time between two fetches caused by unknown `kid`s (the first one is at once:
/// a key rotation is picked up with the first token signed by the new key).
const JWKS_MIN_REFETCH: Duration = Duration::from_secs(5);

/// Why a push was refused (answered 401).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

#[derive(Debug, Deserialize)]
struct PushClaims {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

/// Checks the OIDC tokens of push requests.
#[derive(Debug)]
pub struct PushAuthenticator {
    audience: Option<String>,
    email: Option<String>,
    keys: JwksCache,
}

impl PushAuthenticator {
    /// An authenticator for the configuration.
    pub fn new(config: &RtdnConfig, http: reqwest::Client) -> Self {
        Self {
            audience: config.audience.clone(),
            email: config.service_account_email.clone(),
            keys: JwksCache::new(
                config.jwks_url.clone(),
                http,
                JWKS_MAX_AGE,
                JWKS_MIN_REFETCH,
            ),
        }
    }

    /// Checks the `Authorization` header value of a push.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<(), Refused> {
        let (Some(audience), Some(email)) = (&self.audience, &self.email) else {
            return Err(Refused(
                "RTDN is not configured (rtdn.audience and rtdn.service_account_email)".into(),
            ));
        };
        let token = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Refused("missing Authorization: Bearer <OIDC token>".into()))?;
        let bad = |e: jsonwebtoken::errors::Error| Refused(format!("invalid push token: {e}"));
        let header = jsonwebtoken::decode_header(token).map_err(bad)?;
        if header.alg != Algorithm::RS256 {
            return Err(Refused(format!(
                "invalid push token: algorithm {:?} (RS256 expected)",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| Refused("invalid push token: no `kid`".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&GOOGLE_ISSUERS);
        validation.set_audience(&[audience]);
        let claims = jsonwebtoken::decode::<PushClaims>(token, &key, &validation)
            .map_err(bad)?
            .claims;
        if claims.email.as_deref() != Some(email.as_str()) {
            return Err(Refused(format!(
                "invalid push token: email {:?} is not the push service account",
                claims.email.unwrap_or_default()
            )));
        }
        let verified = matches!(claims.email_verified, Some(serde_json::Value::Bool(true)))
            || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
        if !verified {
            return Err(Refused("invalid push token: email not verified".into()));
        }
        Ok(())
    }

    /// The key `kid`, from the cached JWKS or, when unknown or stale, a fresh one.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Refused> {
        self.keys.key(kid).await.map_err(|error| match error {
            KeyError::Unknown => Refused(format!("invalid push token: unknown key `{kid}`")),
            KeyError::Unusable(e) => Refused(format!("unusable key `{kid}`: {e}")),
            KeyError::Unavailable(e) => {
                let url = self.keys.url();
                tracing::warn!(%url, error = %e, "fetching the RTDN JWKS failed");
                Refused(format!("the JWKS at {url} is unavailable"))
            }
        })
    }
}
