//! When to retry a Google call, and how long to wait: truncated exponential backoff with
//! full jitter, the random source injectable.

use std::sync::Arc;
use std::time::Duration;

/// Reasons of a 403 that mean "slow down", not "forbidden".
const QUOTA_REASONS: [&str; 4] = [
    "rateLimitExceeded",
    "userRateLimitExceeded",
    "quotaExceeded",
    "dailyLimitExceeded",
];

/// Whether an error answer may succeed later: 408, 429, 5xx and quota 403s.
pub fn is_transient(status: u16, reason: Option<&str>) -> bool {
    match status {
        408 | 429 | 500..=599 => true,
        403 => reason.is_some_and(|r| QUOTA_REASONS.contains(&r)),
        _ => false,
    }
}

/// Whether to retry now, after `attempt` attempts (1 = the first) of at most `max_attempts`.
/// `status` is `None` when no answer came (connection error, timeout). A daily quota is
/// transient but not worth retrying within seconds.
pub fn should_retry(
    status: Option<u16>,
    reason: Option<&str>,
    attempt: u32,
    max_attempts: u32,
) -> bool {
    if attempt >= max_attempts {
        return false;
    }
    match status {
        None => true,
        Some(s) => is_transient(s, reason) && reason != Some("dailyLimitExceeded"),
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
        assert!(should_retry(Some(403), Some("quotaExceeded"), 1, 3));
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
        assert!(!should_retry(Some(409), Some("concurrentUpdate"), 1, 3));
        assert!(!should_retry(Some(401), Some("authError"), 1, 3));
    }

    #[test]
    fn transient_includes_daily_quota() {
        assert!(is_transient(403, Some("dailyLimitExceeded")));
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
