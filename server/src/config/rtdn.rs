//! `[rtdn]`: how `POST /v1/rtdn` authenticates Pub/Sub push.

use serde::{Deserialize, Serialize};
use serde_with::{serde_as, NoneAsEmptyString};
use smart_default::SmartDefault;
use url::Url;

use super::types::HttpUrl;

/// Google's JWKS, which verifies the OIDC tokens of Pub/Sub push requests.
pub const GOOGLE_OIDC_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// Real-time developer notifications. Without `audience` and `service_account_email`
/// every push is refused.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct RtdnConfig {
    /// The JWKS verifying the push OIDC tokens (default Google's).
    #[serde_as(as = "HttpUrl")]
    #[default(Url::parse(GOOGLE_OIDC_JWKS_URL).expect("constant URL"))]
    pub jwks_url: Url,
    /// The `aud` the push subscription puts in its tokens.
    #[serde_as(as = "NoneAsEmptyString")]
    pub audience: Option<String>,
    /// The push subscription's service account (`email` claim).
    #[serde_as(as = "NoneAsEmptyString")]
    pub service_account_email: Option<String>,
}
