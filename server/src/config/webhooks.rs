//! `[webhooks]`: the app backend's endpoints that every event is delivered to, signed by the
//! Standard Webhooks specification (docs/webhooks.md).

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_with::serde_as;
use smart_default::SmartDefault;
use url::Url;

use super::types::{Millis, Positive, Secs, StringList};
use super::ConfigError;

/// Webhook delivery.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// The endpoints by name (`[webhooks.endpoints.backend]`, in the file); the name keys
    /// their deliveries, so renaming one starts it afresh.
    pub endpoints: BTreeMap<String, EndpointConfig>,
    /// How long an attempt waits for the endpoint's answer (`timeout_ms`).
    #[serde(rename = "timeout_ms")]
    #[serde_as(as = "Positive<Millis>")]
    #[default(Duration::from_secs(10))]
    pub timeout: Duration,
    /// How long an event is retried before its delivery is marked failed (`max_age_secs`).
    #[serde(rename = "max_age_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(3 * 24 * 3600))]
    pub max_age: Duration,
    /// First retry delay ceiling (`backoff_base_ms`); doubled per attempt, full jitter.
    #[serde(rename = "backoff_base_ms")]
    #[serde_as(as = "Positive<Millis>")]
    #[default(Duration::from_secs(5))]
    pub backoff_base: Duration,
    /// Largest retry delay (`backoff_max_secs`).
    #[serde(rename = "backoff_max_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(3600))]
    pub backoff_max: Duration,
    /// Deliveries in flight at once, per endpoint.
    #[default(NonZeroU32::new(8).expect("positive"))]
    pub concurrency: NonZeroU32,
    /// How often other replicas' events are looked for (`poll_interval_ms`).
    #[serde(rename = "poll_interval_ms")]
    #[serde_as(as = "Positive<Millis>")]
    #[default(Duration::from_secs(1))]
    pub poll_interval: Duration,
    /// A warning is logged while a delivery waits longer than this (`warn_after_secs`).
    #[serde(rename = "warn_after_secs")]
    #[serde_as(as = "Positive<Secs>")]
    #[default(Duration::from_secs(3600))]
    pub warn_after: Duration,
}

/// One endpoint of the app's backend.
#[serde_as]
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// `https://…` (`http://` only to a loopback address).
    pub url: Url,
    /// Its `whsec_…` secrets: every one signs each delivery (several during a rotation).
    #[serde_as(as = "StringList")]
    pub secrets: Vec<String>,
    /// The event types it takes (`entitlement.granted`, …); empty: every type.
    #[serde(default)]
    #[serde_as(as = "StringList")]
    pub event_types: Vec<String>,
    /// Whether the URL may resolve to a private or link-local address (an endpoint inside
    /// your network); refused otherwise, so that a mistyped URL cannot reach internal hosts.
    #[serde(default)]
    pub allow_private: bool,
}

impl EndpointConfig {
    /// Its keys: `[webhooks.endpoints.<name>]` in the file,
    /// `PWA_BILLING_WEBHOOKS_ENDPOINTS_<NAME>_<KEY>` in the environment.
    pub const KEYS: [&str; 4] = ["url", "secrets", "event_types", "allow_private"];
}

impl std::fmt::Debug for EndpointConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointConfig")
            .field("url", &self.url.as_str())
            .field(
                "secrets",
                &format_args!("[{} secret(s)]", self.secrets.len()),
            )
            .field("event_types", &self.event_types)
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

impl WebhooksConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        for (name, endpoint) in &self.endpoints {
            let key = |field: &str| format!("webhooks.endpoints.{name}.{field}");
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(ConfigError::new(
                    "webhooks.endpoints",
                    format!("`{name}`: an endpoint's name is letters, digits, `_` and `-`"),
                ));
            }
            crate::webhooks::target::check_url(&endpoint.url, endpoint.allow_private)
                .map_err(|m| ConfigError::new(key("url"), m))?;
            if endpoint.secrets.is_empty() {
                return Err(ConfigError::new(
                    key("secrets"),
                    "at least one `whsec_…` secret",
                ));
            }
            for secret in &endpoint.secrets {
                crate::webhooks::signature::Secret::parse(secret)
                    .map_err(|m| ConfigError::new(key("secrets"), m))?;
            }
            for t in &endpoint.event_types {
                if crate::db::events::EventType::parse(t).is_none() {
                    return Err(ConfigError::new(
                        key("event_types"),
                        format!("`{t}` is not an event type (see docs/webhooks.md)"),
                    ));
                }
            }
        }
        Ok(())
    }
}
