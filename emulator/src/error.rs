//! Google's error body: `{"error":{"code","message","status","errors":[{"domain","reason","message"}]}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use play_model::errors::{ErrorBody, ErrorItem, Status};
use serde_json::json;

/// An error answered on Google's side of the emulator, in Google's JSON error format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleError {
    /// HTTP status code (also the body's `code`).
    pub code: u16,
    /// The canonical status string (`INVALID_ARGUMENT`, `NOT_FOUND`, …).
    pub status: &'static str,
    /// `errors[0].domain`: `global`, `androidpublisher` or `usageLimits`.
    pub domain: &'static str,
    /// `errors[0].reason`, the stable machine-readable cause.
    pub reason: &'static str,
    /// Human-readable message (top level and `errors[0].message`).
    pub message: String,
}

impl GoogleError {
    /// Builds an error; the `status` string is derived from the HTTP code.
    pub fn new(
        code: u16,
        domain: &'static str,
        reason: &'static str,
        message: impl Into<String>,
    ) -> Self {
        let status = match code {
            400 if reason == "failedPrecondition" => "FAILED_PRECONDITION",
            400 => "INVALID_ARGUMENT",
            401 => "UNAUTHENTICATED",
            403 if domain == "usageLimits" => "RESOURCE_EXHAUSTED",
            403 => "PERMISSION_DENIED",
            404 => "NOT_FOUND",
            409 if reason == "alreadyExists" => "ALREADY_EXISTS",
            409 => "ABORTED",
            410 => "FAILED_PRECONDITION",
            412 => "FAILED_PRECONDITION",
            429 => "RESOURCE_EXHAUSTED",
            499 => "CANCELLED",
            501 => "UNIMPLEMENTED",
            503 => "UNAVAILABLE",
            504 => "DEADLINE_EXCEEDED",
            500..=599 => "INTERNAL",
            _ => "UNKNOWN",
        };
        GoogleError {
            code,
            status,
            domain,
            reason,
            message: message.into(),
        }
    }

    /// `400 invalid` (`global`), Google's answer to a bad argument, and (our choice, as Google
    /// does) to a purchase token it does not know.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "global", "invalid", message)
    }

    /// The answer to an unknown (or wrong-kind) purchase token: Google's `400 Invalid Value`.
    pub fn unknown_token() -> Self {
        Self::invalid("Invalid Value")
    }

    /// `400 required`: a required field or parameter is missing.
    pub fn required(what: &str) -> Self {
        Self::new(
            400,
            "global",
            "required",
            format!("Required parameter: {what}"),
        )
    }

    /// `400 parseError`: the body is not JSON of the expected shape.
    pub fn parse_error(detail: impl std::fmt::Display) -> Self {
        Self::new(
            400,
            "global",
            "parseError",
            format!("Invalid JSON payload received. {detail}"),
        )
    }

    /// `400 purchaseTokenDoesNotMatchProductId`.
    pub fn token_product_mismatch() -> Self {
        Self::new(
            400,
            "androidpublisher",
            "purchaseTokenDoesNotMatchProductId",
            "The purchase token does not match the product ID.",
        )
    }

    /// `400 invalidPurchaseState`.
    pub fn invalid_purchase_state() -> Self {
        Self::new(
            400,
            "androidpublisher",
            "invalidPurchaseState",
            "The purchase is not in a valid state to perform the desired operation.",
        )
    }

    /// `404 notFound` for a catalog resource or external transaction.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "global", "notFound", message)
    }

    /// `400 failedPrecondition`.
    pub fn failed_precondition(message: impl Into<String>) -> Self {
        Self::new(400, "global", "failedPrecondition", message)
    }

    /// `409 alreadyExists`.
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(409, "global", "alreadyExists", message)
    }

    /// `401 required`: no credentials at all.
    pub fn missing_credentials() -> Self {
        Self::new(
            401,
            "global",
            "required",
            "Request is missing required authentication credential. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential. \
             See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
    }

    /// `401 authError`: a token that is unknown or expired.
    pub fn invalid_credentials() -> Self {
        Self::new(
            401,
            "global",
            "authError",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential. \
             See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        )
    }

    /// The error a fault injection answers with for a given HTTP status.
    pub fn for_status(code: u16) -> Self {
        match code {
            400 => Self::invalid("Injected fault."),
            401 => Self::invalid_credentials(),
            403 => Self::new(
                403,
                "usageLimits",
                "quotaExceeded",
                "Injected fault: quota exceeded.",
            ),
            404 => Self::not_found("Injected fault: not found."),
            409 => Self::new(
                409,
                "global",
                "concurrentUpdate",
                "Injected fault: concurrent update.",
            ),
            429 => Self::new(
                429,
                "usageLimits",
                "rateLimitExceeded",
                "Injected fault: rate limit exceeded.",
            ),
            503 => Self::new(
                503,
                "global",
                "backendError",
                "The service is currently unavailable.",
            ),
            500..=599 => Self::new(code, "global", "backendError", "Backend Error"),
            _ => Self::new(code, "global", "injectedFault", "Injected fault."),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        let error = Status {
            code: self.code,
            message: self.message.clone(),
            status: Some(self.status.into()),
            errors: vec![ErrorItem {
                domain: Some(self.domain.into()),
                reason: Some(self.reason.into()),
                message: Some(self.message.clone()),
            }],
            retry_after: None,
        };
        serde_json::to_value(ErrorBody { error }).expect("error bodies serialize")
    }
}

impl std::fmt::Display for GoogleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for GoogleError {}

impl IntoResponse for GoogleError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body())).into_response();
        if self.code == 401 {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""),
            );
        }
        response
    }
}

/// An error of the emulator's own APIs (control and device): `{"error":{"code","message"}}`,
/// `code` a stable snake_case string. Device errors also carry the DOMException `name` and
/// `message` the TWA would reject with, for the sandbox script.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
    /// DOMException name the browser side should throw (device endpoints only).
    pub dom_name: Option<&'static str>,
    /// DOMException message the browser side should throw (device endpoints only).
    pub dom_message: Option<&'static str>,
}

impl ApiError {
    /// A control/device error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            dom_name: None,
            dom_message: None,
        }
    }
    /// `400 invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    /// `404 not_found`.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// `409 conflict`-like errors.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// Attaches the DOMException the browser should see.
    pub fn dom(mut self, name: &'static str, message: &'static str) -> Self {
        self.dom_name = Some(name);
        self.dom_message = Some(message);
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let (Some(name), Some(message)) = (self.dom_name, self.dom_message) {
            error["name"] = json!(name);
            error["domMessage"] = json!(message);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}
