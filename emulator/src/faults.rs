//! Fault injection on Google's side: `PUT /emulator/v1/faults` `{rate, status, latencyMs?,
//! methods?}`, `DELETE /emulator/v1/faults`.
//!
//! A matching call first waits `latencyMs` (every matching call), then, with probability
//! `rate`, is answered with `status` in Google's error format (reason by status:
//! 429 `rateLimitExceeded`, 5xx `backendError`, 403 `quotaExceeded`, …). Faults apply
//! before authentication, as an outage would. `methods` lists discovery method ids
//! (`androidpublisher.purchases.products.get`, and `oauth2.token` for the token endpoint);
//! absent means every Google-side method.

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::GoogleError;

/// The faults in force.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Probability (0–1) of answering with `status`.
    pub rate: f64,
    /// The HTTP status of an injected error (400–599).
    pub status: u16,
    /// Added latency, in ms, for every matching call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Method ids the faults apply to (all Google-side methods when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

impl Faults {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err("rate must be between 0 and 1".into());
        }
        if !(400..=599).contains(&self.status) {
            return Err("status must be between 400 and 599".into());
        }
        for m in self.methods.iter().flatten() {
            if m != "oauth2.token" && !crate::google::ROUTES.iter().any(|r| r.id == m) {
                return Err(format!("unknown method id {m:?}"));
            }
        }
        Ok(())
    }

    /// Whether these faults apply to a method. The token endpoint only when named.
    pub fn applies_to(&self, method_id: &str) -> bool {
        match &self.methods {
            Some(methods) => methods.iter().any(|m| m == method_id),
            None => method_id != "oauth2.token",
        }
    }

    /// Decides one call: its latency and whether it fails (with which error).
    pub fn decide(&self) -> (Option<u64>, Option<GoogleError>) {
        let fail = self.rate >= 1.0 || (self.rate > 0.0 && rand::thread_rng().gen_bool(self.rate));
        (
            self.latency_ms.filter(|l| *l > 0),
            fail.then(|| GoogleError::for_status(self.status)),
        )
    }
}
