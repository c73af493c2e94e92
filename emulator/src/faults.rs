//! Fault injection on Google's side: `PUT /emulator/v1/faults` `{rate, status | drop,
//! retryAfterSecs?, latencyMs?, methods?}`, `DELETE /emulator/v1/faults`, and the count of
//! calls failed so far by kind, `GET /emulator/v1/faults/injected`.
//!
//! A matching call first waits `latencyMs` (every matching call), then, with probability
//! `rate`, fails: with `status` in Google's error format (reason by status: 429
//! `rateLimitExceeded`, 5xx `backendError`, 403 `quotaExceeded`, …; with a `Retry-After`
//! header when `retryAfterSecs` is given), or with its connection dropped (`drop`:
//! `beforeResponse` closes it with no byte of a response sent, `midBody` sends a `200` head
//! and the start of a body, then closes it). Faults apply before authentication, as an outage
//! would. `methods` lists discovery method ids (`androidpublisher.purchases.products.get`, and
//! `oauth2.token` for the token endpoint); absent means every Google-side method.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, StreamExt};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::GoogleError;

/// The faults in force.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Faults {
    /// Probability (0–1) that a matching call fails.
    pub rate: f64,
    /// The HTTP status of an injected error (400–599); exactly one of `status` and `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Drop the failing call's connection instead of answering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop: Option<Disconnect>,
    /// `Retry-After` (seconds) sent with an injected error status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Added latency, in ms, for every matching call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Method ids the faults apply to (all Google-side methods when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<String>>,
}

/// How a dropped connection ends.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum Disconnect {
    /// Closed after the request was read, before any byte of the response: the client sees
    /// the connection closed before a message.
    BeforeResponse,
    /// A `200` head and the first bytes of a JSON body, then closed: the client has a
    /// status and fails reading the body.
    MidBody,
}

/// A call that fails by injection.
#[derive(Debug)]
pub enum Injected {
    /// Answered with this error (and `Retry-After` seconds, if any).
    Error(GoogleError, Option<u64>),
    /// Its connection dropped.
    Drop(Disconnect),
}

impl Faults {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.rate) {
            return Err("rate must be between 0 and 1".into());
        }
        match (self.status, self.drop) {
            (Some(_), Some(_)) => return Err("give status or drop, not both".into()),
            (None, None) => {
                return Err(
                    "status (400–599) or drop (\"beforeResponse\", \"midBody\") is required".into(),
                )
            }
            (Some(s), None) if !(400..=599).contains(&s) => {
                return Err("status must be between 400 and 599".into())
            }
            (None, Some(_)) if self.retry_after_secs.is_some() => {
                return Err("retryAfterSecs goes with status, not drop".into())
            }
            _ => {}
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

    /// Decides one call: its latency and whether it fails (and how).
    pub fn decide(&self) -> (Option<u64>, Option<Injected>) {
        let fail = self.rate >= 1.0 || (self.rate > 0.0 && rand::thread_rng().gen_bool(self.rate));
        let injected = fail.then(|| match (self.drop, self.status) {
            (Some(d), _) => Injected::Drop(d),
            (None, status) => Injected::Error(
                GoogleError::for_status(status.unwrap_or(500)),
                self.retry_after_secs,
            ),
        });
        (self.latency_ms.filter(|l| *l > 0), injected)
    }
}

/// Counts one call of `method_id`, then applies the faults in force to it: waits their
/// latency and returns the failure decided for it, if any.
pub async fn enter(state: &crate::Shared, method_id: &str) -> Option<Injected> {
    let faults = {
        let mut m = state.lock();
        crate::calls::record(&mut m, method_id);
        m.faults.clone()
    };
    let (latency, injected) = faults.filter(|f| f.applies_to(method_id))?.decide();
    if let Some(ms) = latency {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(i) = &injected {
        *state.lock().faults_injected.entry(i.label()).or_default() += 1;
    }
    injected
}

impl Injected {
    /// How it is counted in `GET /emulator/v1/faults/injected`: the status, or the drop mode.
    pub fn label(&self) -> String {
        match self {
            Self::Error(e, _) => e.code.to_string(),
            Self::Drop(Disconnect::BeforeResponse) => "beforeResponse".into(),
            Self::Drop(Disconnect::MidBody) => "midBody".into(),
        }
    }

    /// The response of the failed call; `error` renders an injected error in the API's own
    /// format (Google's JSON API, Cloud Storage's, OAuth's).
    pub fn into_response(self, error: impl FnOnce(GoogleError) -> Response) -> Response {
        match self {
            Self::Error(e, retry_after) => {
                let mut response = error(e);
                if let Some(secs) = retry_after {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                response
            }
            Self::Drop(how) => how.into_response(),
        }
    }
}

impl IntoResponse for Disconnect {
    /// A response whose body fails: hyper then closes the connection without finishing the
    /// message (before flushing the head when the body fails at once).
    fn into_response(self) -> Response {
        let dropped =
            || std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "fault: dropped");
        let body = match self {
            Self::BeforeResponse => {
                Body::from_stream(stream::once(async move { Err::<Bytes, _>(dropped()) }))
            }
            Self::MidBody => Body::from_stream(
                stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(
                    b"{\"kind\": \"androidpublisher#productPurchase\", \"purchaseState\": ",
                ))])
                .chain(stream::once(async move {
                    // Long enough for hyper to flush the head and the first bytes.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(dropped())
                })),
            ),
        };
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::OK;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=UTF-8"),
        );
        response
    }
}
