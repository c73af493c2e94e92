//! The client's error type, over Google's error body ([`Status`], play-model's).

pub use play_model::errors::{ErrorItem, Status};

/// What a Play call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    /// Google answered with an error status.
    #[error("Google Play answered {}: {} ({})", .0.code, .0.message, .0.reason().unwrap_or("no reason"))]
    Api(Status),
    /// The request did not get an answer (connection, timeout).
    #[error("Google Play could not be reached: {0}")]
    Transport(String),
    /// The answer was not the expected JSON.
    #[error("Google Play's answer could not be read: {0}")]
    Decode(String),
    /// The OAuth token endpoint refused or failed.
    #[error("OAuth token request failed: {0}")]
    Token(Box<PlayError>),
    /// The service-account key is unusable.
    #[error("service-account key: {0}")]
    Key(String),
    /// Google's quota bucket has no slot for this call now (refused here, or Google said
    /// so): try again after `retry_after`.
    #[error("Google's `{bucket}` quota is spent for now; retry in {retry_after:?}")]
    Throttled {
        /// The bucket ([`super::quota::Bucket::name`]).
        bucket: &'static str,
        /// When trying again is worth it.
        retry_after: std::time::Duration,
    },
}

impl PlayError {
    /// Whether retrying later may succeed (429, 5xx, quota, no answer).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api(s) => super::retry::is_transient(s.code, s.reason()),
            Self::Transport(_) | Self::Throttled { .. } => true,
            Self::Decode(_) | Self::Key(_) => false,
            Self::Token(inner) => inner.is_transient(),
        }
    }

    /// Google's status, when Google answered with one.
    pub fn status(&self) -> Option<&Status> {
        match self {
            Self::Api(s) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_google_error_body() {
        let body = br#"{"error":{"code":404,"message":"The purchase token was not found.","status":"NOT_FOUND","errors":[{"domain":"androidpublisher","reason":"purchaseTokenNotFound","message":"The purchase token was not found."}]}}"#;
        let s = Status::parse(404, body);
        assert_eq!(s.code, 404);
        assert_eq!(s.status.as_deref(), Some("NOT_FOUND"));
        assert_eq!(s.reason(), Some("purchaseTokenNotFound"));
        assert!(!PlayError::Api(s).is_transient());
    }

    #[test]
    fn non_json_error_keeps_http_status() {
        let s = Status::parse(502, b"<html>Bad Gateway</html>");
        assert_eq!(s.code, 502);
        assert_eq!(s.reason(), None);
        assert!(PlayError::Api(s).is_transient());
    }
}
