//! When to retry a Google call, and how long to wait: truncated exponential backoff with
//! full jitter, the random source injectable.

use std::sync::Arc;
use std::time::Duration;

use crate::config::RetryConfig;

/// Reasons of a 403 that mean "slow down for a moment": retried within seconds.
const RATE_LIMIT_REASONS: [&str; 2] = ["rateLimitExceeded", "userRateLimitExceeded"];

/// Reasons of a 403 that mean an hourly or daily quota is spent: they succeed only after
/// the quota refills (the next hour, or midnight Pacific Time), never within seconds.
const QUOTA_REASONS: [&str; 2] = ["quotaExceeded", "dailyLimitExceeded"];

/// Whether an answer says Google's per-minute quota is spent for now: a 429, or a 403
/// `rateLimitExceeded` / `userRateLimitExceeded`.
pub fn is_rate_limited(status: Option<u16>, reason: Option<&str>) -> bool {
    match status {
        Some(429) => true,
        Some(403) => reason.is_some_and(|r| RATE_LIMIT_REASONS.contains(&r)),
        _ => false,
    }
}

/// Whether an error answer may succeed later (a job may run again): whatever
/// [`should_retry`] retries at once, and spent hourly or daily quotas.
pub fn is_transient(status: u16, reason: Option<&str>) -> bool {
    retried(status, reason) || (status == 403 && reason.is_some_and(|r| QUOTA_REASONS.contains(&r)))
}

/// The one retry rule of every Google call: retry an answer that may succeed within
/// seconds — 408, 429, 5xx, a 403 rate limit (`rateLimitExceeded`,
/// `userRateLimitExceeded`) and a 409 other than `alreadyExists` (`concurrentUpdate`).
/// A spent hourly (`quotaExceeded`) or daily (`dailyLimitExceeded`) quota is not retried:
/// the caller stops (the catalog writes its checkpoint, a job runs again later).
fn retried(status: u16, reason: Option<&str>) -> bool {
    match status {
        408 | 429 | 500..=599 => true,
        403 => reason.is_some_and(|r| RATE_LIMIT_REASONS.contains(&r)),
        409 => reason != Some("alreadyExists"),
        _ => false,
    }
}

/// Whether to retry now, after `attempt` attempts (1 = the first) of at most `max_attempts`.
/// `status` is `None` when no answer came (connection error, timeout). A 401 is retried
/// once, after the first attempt, with a fresh access token.
pub fn should_retry(
    status: Option<u16>,
    reason: Option<&str>,
    attempt: u32,
    max_attempts: u32,
) -> bool {
    match status {
        Some(401) => attempt == 1,
        _ if attempt >= max_attempts => false,
        None => true,
        Some(s) => retried(s, reason),
    }
}

/// How long to wait before the next attempt, or `None` to give up, after attempt number
/// `attempt` (1 = the first) failed with `status` and `reason` (`None`: no answer) and
/// Google's `Retry-After`, if any. The backoff is truncated exponential with full jitter;
/// a `Retry-After` is honoured (never waiting less than it asks) when it is at most
/// `max_delay`, and ends the call at once when longer (a request answers 503, a job or the
/// catalog runs again later). A 401's retry uses a fresh token at once.
pub fn next_delay(
    policy: &RetryConfig,
    status: Option<u16>,
    reason: Option<&str>,
    retry_after: Option<Duration>,
    attempt: u32,
    jitter: &Jitter,
) -> Option<Duration> {
    if !should_retry(status, reason, attempt, policy.max_attempts.get()) {
        return None;
    }
    if status == Some(401) {
        return Some(Duration::ZERO);
    }
    let backoff = backoff(attempt - 1, policy.base_delay, policy.max_delay, jitter);
    match retry_after {
        Some(wait) if wait > policy.max_delay => None,
        Some(wait) => Some(backoff.max(wait)),
        None => Some(backoff),
    }
}

/// An answer's `Retry-After` in seconds (Google sends no HTTP dates), if any.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// A source of uniform numbers in `[0, 1)` for backoff jitter (injectable for tests).
#[derive(Clone)]
pub struct Jitter(Arc<dyn Fn() -> f64 + Send + Sync>);

impl Jitter {
    /// Jitter from any source.
    pub fn new(source: impl Fn() -> f64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(source))
    }

    /// The thread-local random generator.
    pub fn random() -> Self {
        Self::new(rand::random::<f64>)
    }

    /// Always `value` (tests).
    pub fn fixed(value: f64) -> Self {
        Self::new(move || value)
    }

    fn sample(&self) -> f64 {
        (self.0)().clamp(0.0, 1.0)
    }
}

impl std::fmt::Debug for Jitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jitter")
    }
}

/// The delay before retry number `retry` (0-based): uniform in `[0, min(max, base·2^retry)]`.
pub fn backoff(retry: u32, base: Duration, max: Duration, jitter: &Jitter) -> Duration {
    let ceiling = base
        .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
        .min(max);
    ceiling.mul_f64(jitter.sample())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_only_transient_answers() {
        assert!(should_retry(Some(500), Some("backendError"), 1, 3));
        assert!(should_retry(Some(503), None, 2, 3));
        assert!(should_retry(Some(429), Some("rateLimitExceeded"), 1, 3));
        assert!(should_retry(Some(403), Some("userRateLimitExceeded"), 1, 3));
        assert!(should_retry(Some(408), None, 1, 3));
        assert!(
            !should_retry(Some(403), Some("quotaExceeded"), 1, 3),
            "a spent hourly quota refills next hour: stop (the catalog checkpoints)"
        );
        assert!(should_retry(None, None, 1, 3));
        assert!(!should_retry(Some(500), None, 3, 3), "attempts exhausted");
        assert!(!should_retry(Some(403), Some("dailyLimitExceeded"), 1, 3));
        assert!(!should_retry(Some(403), Some("permissionDenied"), 1, 3));
        assert!(!should_retry(Some(400), Some("invalid"), 1, 3));
        assert!(!should_retry(
            Some(404),
            Some("purchaseTokenNotFound"),
            1,
            3
        ));
        assert!(!should_retry(
            Some(410),
            Some("purchaseTokenNoLongerValid"),
            1,
            3
        ));
        assert!(should_retry(Some(409), Some("concurrentUpdate"), 1, 3));
        assert!(!should_retry(Some(409), Some("alreadyExists"), 1, 3));
        assert!(
            should_retry(Some(401), Some("authError"), 1, 1),
            "once, fresh token"
        );
        assert!(!should_retry(Some(401), Some("authError"), 2, 3));
    }

    fn policy() -> RetryConfig {
        RetryConfig {
            max_attempts: std::num::NonZeroU32::new(4).unwrap(),
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            ..RetryConfig::default()
        }
    }

    #[test]
    fn next_delay_honours_retry_after_within_the_max_delay() {
        let top = Jitter::fixed(1.0);
        let p = policy();
        let d =
            |status, reason, after, attempt| next_delay(&p, status, reason, after, attempt, &top);
        assert_eq!(
            d(Some(503), None, None, 1),
            Some(Duration::from_millis(100))
        );
        assert_eq!(
            d(Some(503), None, None, 3),
            Some(Duration::from_millis(400))
        );
        assert_eq!(d(Some(503), None, None, 4), None, "attempts exhausted");
        let second = Some(Duration::from_secs(1));
        assert_eq!(
            d(Some(429), None, second, 1),
            second,
            "Retry-After beats a shorter backoff"
        );
        assert_eq!(
            d(Some(429), None, Some(Duration::from_secs(3)), 1),
            None,
            "longer than max_delay"
        );
        assert_eq!(d(Some(401), None, None, 1), Some(Duration::ZERO));
        assert_eq!(d(Some(403), Some("dailyLimitExceeded"), second, 1), None);
        assert_eq!(d(None, None, None, 2), Some(Duration::from_millis(200)));
    }

    #[test]
    fn transient_includes_spent_quotas() {
        assert!(is_transient(403, Some("dailyLimitExceeded")));
        assert!(is_transient(403, Some("quotaExceeded")));
        assert!(is_transient(409, Some("concurrentUpdate")));
        assert!(!is_transient(409, Some("alreadyExists")));
        assert!(!is_transient(403, None));
        assert!(!is_transient(400, None));
    }

    #[test]
    fn backoff_is_truncated_exponential_with_full_jitter() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        let top = Jitter::fixed(1.0);
        let half = Jitter::fixed(0.5);
        let zero = Jitter::fixed(0.0);
        assert_eq!(backoff(0, base, max, &top), Duration::from_millis(100));
        assert_eq!(backoff(1, base, max, &top), Duration::from_millis(200));
        assert_eq!(backoff(3, base, max, &top), Duration::from_millis(800));
        assert_eq!(backoff(4, base, max, &top), max, "truncated");
        assert_eq!(backoff(60, base, max, &top), max, "no overflow");
        assert_eq!(backoff(2, base, max, &half), Duration::from_millis(200));
        assert_eq!(backoff(5, base, max, &zero), Duration::ZERO);
    }
}
