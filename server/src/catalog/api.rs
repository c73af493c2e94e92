//! The catalog's calls to the Play Developer API: JSON in and out, retries on 429, 5xx,
//! 409 and lost connections with truncated exponential backoff that honours `Retry-After`,
//! an hourly or daily quota answer surfaced at once (the caller checkpoints), and counters
//! of reads, modification calls and entries for the plan's and the bench's figures.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use play_model::Method;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::play::client::{http_method, method_url};
use crate::play::retry::{backoff, Jitter};
use crate::play::{Status, TokenSource};

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

/// Retry settings.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff ceiling.
    pub base_delay: Duration,
    /// Longest backoff (and longest `Retry-After` honoured).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
        }
    }
}

/// A client of the catalog methods of one app.
#[derive(Debug)]
pub struct CatalogApi {
    http: reqwest::Client,
    base_url: Url,
    package_name: String,
    tokens: TokenSource,
    retry: RetryPolicy,
    jitter: Jitter,
    stats: Arc<Mutex<Stats>>,
}

impl CatalogApi {
    /// A client calling `base_url` (Google's or an emulator's) for `package_name`.
    pub fn new(
        http: reqwest::Client,
        base_url: Url,
        package_name: String,
        tokens: TokenSource,
        retry: RetryPolicy,
    ) -> Self {
        CatalogApi {
            http,
            base_url,
            package_name,
            tokens,
            retry,
            jitter: Jitter::random(),
            stats: Arc::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The app's package name.
    pub fn package_name(&self) -> &str {
        &self.package_name
    }

    fn url(&self, method: &Method, args: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = method_url(&self.base_url, &self.package_name, method, args);
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        url
    }

    /// A read (`GET`, or `POST` of `convertRegionPrices`) of `method`, `args` filling its
    /// path after the package name.
    pub async fn read(
        &self,
        method: &Method,
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
        method: &Method,
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
        method: &Method,
        args: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ApiFailure> {
        let url = self.url(method, args, query);
        let method = http_method(method);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (failure, retry_after) = match self.attempt(&method, &url, body).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let retryable = matches!(failure, ApiFailure::Unavailable(_));
            if !retryable || attempt >= self.retry.max_attempts {
                return Err(failure);
            }
            let delay = retry_after
                .map(|d| d.min(self.retry.max_delay))
                .unwrap_or_else(|| {
                    backoff(
                        attempt - 1,
                        self.retry.base_delay,
                        self.retry.max_delay,
                        &self.jitter,
                    )
                });
            self.count(|s| s.retries += 1);
            tracing::debug!(%url, attempt, ?delay, error = %failure, "retrying catalog call");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(
        &self,
        method: &reqwest::Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Value, (ApiFailure, Option<Duration>)> {
        let token = self
            .tokens
            .token()
            .await
            .map_err(|e| (ApiFailure::Unavailable(format!("access token: {e}")), None))?;
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(&token);
        if let Some(b) = body {
            request = request.json(b);
        }
        let response = request
            .send()
            .await
            .map_err(|e| (ApiFailure::Unavailable(e.to_string()), None))?;
        let status = response.status().as_u16();
        let retry_after = crate::play::retry::retry_after(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| (ApiFailure::Unavailable(e.to_string()), None))?;
        if (200..300).contains(&status) {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes)
                .map_err(|e| (ApiFailure::Unavailable(format!("bad JSON: {e}")), None));
        }
        if status == 401 {
            self.tokens.invalidate(&token).await;
        }
        let parsed = Status::parse(status, &bytes);
        Err((classify(parsed), retry_after))
    }
}

/// Sorts an error answer: quota (stop and checkpoint), transient (retry) or refused.
pub fn classify(status: Status) -> ApiFailure {
    match (status.code, status.reason()) {
        (403, Some("quotaExceeded")) => ApiFailure::Quota {
            daily: false,
            message: status.message,
        },
        (403, Some("dailyLimitExceeded")) => ApiFailure::Quota {
            daily: true,
            message: status.message,
        },
        (409, Some("alreadyExists")) => ApiFailure::Refused(status),
        (401 | 408 | 409 | 429 | 500..=599, _) => {
            ApiFailure::Unavailable(format!("{} {}", status.code, status.message))
        }
        _ => ApiFailure::Refused(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, reason: &str) -> Status {
        Status::parse(
            code,
            format!(
                r#"{{"error":{{"code":{code},"message":"m","errors":[{{"reason":"{reason}"}}]}}}}"#
            )
            .as_bytes(),
        )
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
