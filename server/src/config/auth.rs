//! `[auth]`: how callers authenticate, a bearer JWT whose `sub` is the account id.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{env_name, ConfigError};

/// `[auth]`: an HS256 secret, or a JWKS URL with the required issuer and audience.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 shared secret (at least 32 bytes).
    pub jwt_hs256_secret: Option<String>,
    /// Where the key set of asymmetric tokens is fetched.
    pub jwks_url: Option<Url>,
    /// Required `iss` (optional with HS256).
    pub issuer: Option<String>,
    /// Required `aud` (optional with HS256).
    pub audience: Option<String>,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field(
                "jwt_hs256_secret",
                &self.jwt_hs256_secret.as_ref().map(|_| "[secret]"),
            )
            .field("jwks_url", &self.jwks_url)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish()
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
        let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        match (nonempty(&self.jwt_hs256_secret), &self.jwks_url) {
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
                issuer: nonempty(&self.issuer),
                audience: nonempty(&self.audience),
            }),
            (None, Some(url)) => Ok(AuthMethod::Jwks {
                url: url.clone(),
                issuer: ConfigError::required(nonempty(&self.issuer), "auth.issuer")?,
                audience: ConfigError::required(nonempty(&self.audience), "auth.audience")?,
            }),
        }
    }
}
