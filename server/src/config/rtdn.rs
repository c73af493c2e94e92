//! `[rtdn]`: how `POST /v1/rtdn` authenticates Pub/Sub push.

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;
use url::Url;

use super::types::http_url;
use super::ConfigError;

/// Google's JWKS, which verifies the OIDC tokens of Pub/Sub push requests.
pub const GOOGLE_OIDC_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// Real-time developer notifications. Without `audience` and `service_account_email`
/// every push is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct RtdnConfig {
    /// The JWKS verifying the push OIDC tokens (default Google's).
    #[default(Url::parse(GOOGLE_OIDC_JWKS_URL).expect("constant URL"))]
    pub jwks_url: Url,
    /// The `aud` the push subscription puts in its tokens.
    pub audience: Option<String>,
    /// The push subscription's service account (`email` claim).
    pub service_account_email: Option<String>,
}

impl RtdnConfig {
    pub(super) fn validate(&mut self) -> Result<(), ConfigError> {
        self.audience.take_if(|a| a.is_empty());
        self.service_account_email.take_if(|e| e.is_empty());
        http_url(&self.jwks_url).map_err(|m| ConfigError::new("rtdn.jwks_url", m))
    }
}
