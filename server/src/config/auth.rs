//! `[auth]`: how callers authenticate, a bearer JWT whose `sub` is the account id.

use serde::{Deserialize, Serialize};
use serde_with::{serde_as, NoneAsEmptyString};
use url::Url;

use super::types::HttpUrl;

/// `[auth]`: an HS256 secret, or a JWKS URL with the required issuer and audience.
#[serde_as]
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// HS256 shared secret (at least 32 bytes).
    #[serde_as(as = "NoneAsEmptyString")]
    pub jwt_hs256_secret: Option<String>,
    /// Where the key set of asymmetric tokens is fetched.
    #[serde_as(as = "Option<HttpUrl>")]
    pub jwks_url: Option<Url>,
    /// Required `iss` (optional with HS256).
    #[serde_as(as = "NoneAsEmptyString")]
    pub issuer: Option<String>,
    /// Required `aud` (optional with HS256).
    #[serde_as(as = "NoneAsEmptyString")]
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
