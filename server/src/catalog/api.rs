//! The catalog's calls to the Play Developer API: JSON in and out through the server's
//! [`PlayClient`] and its one retry rule (429, 5xx, 403 rate limits, 409 other than
//! `alreadyExists` and lost connections, truncated exponential backoff that honours
//! `Retry-After`), an hourly or daily quota answer surfaced at once (the caller
//! checkpoints), and counters of reads, modification calls, entries and retries for the
//! plan's and the bench's figures.

use std::sync::{Arc, Mutex};

use play_model::Method;
use serde::Serialize;
use serde_json::Value;

use crate::play::client::http_method;
use crate::play::retry::is_transient;
use crate::play::{PlayClient, PlayError, Status};

/// How a call failed for good.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiFailure {
    /// An hourly (`quotaExceeded`) or daily (`dailyLimitExceeded`) quota is spent.
    #[error("quota exhausted ({}): {message}", if *daily { "daily" } else { "hourly" })]
    Quota {
        /// Whether it is the daily quota (resets at midnight Pacific Time).
        daily: bool,
        /// Google's message.
        message: String,
    },
    /// Google refused the request (4xx other than quotas): retrying cannot help.
    #[error("{} {}", .0.code, .0.message)]
    Refused(Status),
    /// Still failing after every retry (5xx, 429, 409, no connection).
    #[error("unavailable after retries: {0}")]
    Unavailable(String),
}

/// Call counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Read calls (get, list, batchGet, convertRegionPrices).
    pub reads: u64,
    /// Modification calls answered 2xx (a batch counts once, as Google's hourly quota does).
    pub modifications: u64,
    /// Entries written by those calls.
    pub entries: u64,
    /// Retried attempts.
    pub retries: u64,
}

/// The catalog methods of one app: a [`PlayClient`] (its one retry rule and `[retry]`
/// settings, which the catalog's flags override) with call counters and the catalog's
/// sorting of failures.
#[derive(Debug)]
pub struct CatalogApi {
    play: PlayClient,
    stats: Arc<Mutex<Stats>>,
}

impl CatalogApi {
    /// The catalog calls of `play`'s app.
    pub fn new(play: PlayClient) -> Self {
        CatalogApi {
            play,
            stats: Arc::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The app's package name.
    pub fn package_name(&self) -> &str {
        self.play.package_name()
    }

    /// A read (`GET`, or `POST` of `convertRegionPrices`) of `method`, `args` filling its
    /// path after the package name.
    pub async fn read(
        &self,
        method: &'static Method,
        args: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ApiFailure> {
        let v = self.call(method, args, query, body).await?;
        self.count(|s| s.reads += 1);
        Ok(v)
    }

    /// A modification of `entries` catalog entries by `method`.
    pub async fn modify(
        &self,
        method: &'static Method,
        args: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
        entries: u64,
    ) -> Result<Value, ApiFailure> {
        let v = self.call(method, args, query, body).await?;
        self.count(|s| {
            s.modifications += 1;
            s.entries += entries;
        });
        Ok(v)
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    async fn call(
        &self,
        method: &'static Method,
        args: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ApiFailure> {
        let mut url = self.play.url(method, args);
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        let sent = self
            .play
            .send(method.id, http_method(method), url, body, None)
            .await;
        let retries = u64::from(sent.attempt.saturating_sub(1));
        self.count(|s| s.retries += retries);
        let bytes = sent.result.map_err(classify)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiFailure::Unavailable(format!("bad JSON: {e}")))
    }
}

/// Sorts a failure that the client's retries did not cure: a spent quota (stop and
/// checkpoint), an outage (stop; rerun later) or a refusal of this request.
pub fn classify(error: PlayError) -> ApiFailure {
    let status = match error {
        PlayError::Api(s) => s,
        other => return ApiFailure::Unavailable(other.to_string()),
    };
    match (status.code, status.reason()) {
        (403, Some("quotaExceeded")) => ApiFailure::Quota {
            daily: false,
            message: status.message,
        },
        (403, Some("dailyLimitExceeded")) => ApiFailure::Quota {
            daily: true,
            message: status.message,
        },
        // Refused even with a fresh token: no other request can succeed either.
        (401, _) => ApiFailure::Unavailable(format!("401 {}", status.message)),
        (code, reason) if is_transient(code, reason) => {
            ApiFailure::Unavailable(format!("{} {}", status.code, status.message))
        }
        _ => ApiFailure::Refused(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str) -> PlayError {
        PlayError::Api(Status::parse(
            code,
            format!(
                r#"{{"error":{{"code":{code},"message":"m","errors":[{{"reason":"{reason}"}}]}}}}"#
            )
            .as_bytes(),
        ))
    }

    #[test]
    fn classification() {
        assert!(matches!(
            classify(status(403, "quotaExceeded")),
            ApiFailure::Quota { daily: false, .. }
        ));
        assert!(matches!(
            classify(status(403, "dailyLimitExceeded")),
            ApiFailure::Quota { daily: true, .. }
        ));
        for (code, reason) in [
            (429, "rateLimitExceeded"),
            (503, "backendError"),
            (409, "concurrentUpdate"),
        ] {
            assert!(
                matches!(classify(status(code, reason)), ApiFailure::Unavailable(_)),
                "{code}"
            );
        }
        for (code, reason) in [
            (400, "invalid"),
            (403, "forbidden"),
            (404, "notFound"),
            (409, "alreadyExists"),
        ] {
            assert!(
                matches!(classify(status(code, reason)), ApiFailure::Refused(_)),
                "{code}"
            );
        }
    }
}
