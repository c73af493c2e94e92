//! Google's error body, `{"error":{"code","message","status","errors":[{"domain","reason","message"}]}}`:
//! written by the emulator, read by the server's Play client.

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

/// The `error` of Google's error body: `{"error":{"code","message","status","errors":[…]}}`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct Status {
    /// The HTTP status code.
    pub code: u16,
    /// Human-readable message.
    pub message: String,
    /// The canonical status name (`INVALID_ARGUMENT`, `NOT_FOUND`, …).
    pub status: Option<String>,
    /// Details, each with a `reason` such as `purchaseTokenNotFound`.
    pub errors: Vec<ErrorItem>,
    /// The answer's `Retry-After` (seconds), when it had one: an HTTP header, not part of
    /// the body.
    #[serde(skip)]
    pub retry_after: Option<std::time::Duration>,
}

/// One entry of `errors`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default)]
pub struct ErrorItem {
    /// `global`, `androidpublisher`, `usageLimits`.
    pub domain: Option<String>,
    /// Machine-readable reason.
    pub reason: Option<String>,
    /// Human-readable message.
    pub message: Option<String>,
}

/// The whole body: `{"error": …}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
pub struct ErrorBody {
    /// The error.
    pub error: Status,
}

impl Status {
    /// Parses an error body; falls back to the HTTP status and the raw text.
    pub fn parse(http_status: u16, body: &[u8]) -> Self {
        match serde_json::from_slice::<ErrorBody>(body) {
            Ok(ErrorBody { error }) => Status {
                code: if error.code == 0 {
                    http_status
                } else {
                    error.code
                },
                ..error
            },
            Err(_) => Status {
                code: http_status,
                message: String::from_utf8_lossy(body).chars().take(200).collect(),
                ..Status::default()
            },
        }
    }

    /// The first error's `reason`.
    pub fn reason(&self) -> Option<&str> {
        self.errors.iter().find_map(|e| e.reason.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_reads_and_writes() {
        let text = r#"{"error":{"code":404,"message":"The purchase token was not found.","status":"NOT_FOUND","errors":[{"domain":"androidpublisher","reason":"purchaseTokenNotFound","message":"The purchase token was not found."}]}}"#;
        let s = Status::parse(404, text.as_bytes());
        assert_eq!((s.code, s.status.as_deref()), (404, Some("NOT_FOUND")));
        assert_eq!(s.reason(), Some("purchaseTokenNotFound"));
        let written = serde_json::to_string(&ErrorBody { error: s }).unwrap();
        assert_eq!(written, text);
        let html = Status::parse(502, b"<html>Bad Gateway</html>");
        assert_eq!((html.code, html.reason()), (502, None));
    }
}
