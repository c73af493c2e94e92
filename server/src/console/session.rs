//! Signing in to the console: a server API key (`admin.api_keys`) exchanged for a session
//! cookie, and the [`Operator`] extractor every console endpoint takes.
//!
//! The cookie is `HttpOnly`, `SameSite=Strict`, limited to the console's API path, expires
//! after `console.session_lifetime_secs`, and is `Secure` unless the console is reached on a
//! loopback host (the sandbox's `http://127.0.0.1`). Only its SHA-256 is stored. Against
//! cross-site forgery, every state-changing request (signing in and out) must come from the
//! console's own origin (`Origin`, else `Sec-Fetch-Site`), and a signed-in one must repeat
//! the session's anti-forgery token in `X-CSRF-Token`; a cross-site read is refused too.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::rfc3339;
use crate::db::{console as store, now_ms};
use crate::error::{ApiError, ErrorBody, ErrorDetail, Json};
use crate::fingerprint::sha256_hex;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "pwa_billing_console";
/// The path the cookie is sent to: the console's API only.
pub const COOKIE_PATH: &str = "/v1/admin/console";
/// The header repeating the session's anti-forgery token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(sign_in, current, sign_out))
}

/// A console refusal: an [`ApiError`], or 403 `forbidden` for a cross-site request or a
/// missing anti-forgery token.
#[derive(Debug)]
pub enum Refused {
    /// 401 and the rest.
    Api(ApiError),
    /// 403 `forbidden`.
    Forbidden(&'static str),
}

impl From<ApiError> for Refused {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<sqlx::Error> for Refused {
    fn from(e: sqlx::Error) -> Self {
        Self::Api(e.into())
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::Api(e) => e.into_response(),
            Self::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                axum::Json(ErrorBody {
                    error: ErrorDetail {
                        code: "forbidden".into(),
                        message: message.into(),
                    },
                }),
            )
                .into_response(),
        }
    }
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of the session cookie, if the request has one.
fn cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|v| !v.is_empty())
}

/// The request's host without its port (`[::1]` keeps its brackets).
fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST)?.to_str().ok()
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &h[1..]);
    }
    host.rsplit_once(':')
        .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
        .map_or(host, |(h, _)| h)
}

/// Whether the console is reached on a loopback host (the cookie is not `Secure` there, so
/// that the sandbox's plain `http://127.0.0.1` works).
pub fn is_loopback(headers: &HeaderMap) -> bool {
    let Some(h) = host(headers) else {
        return false;
    };
    let h = strip_port(h);
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Refuses a request a browser made from another site: its `Origin` must be this host
/// (`Origin` absent: `Sec-Fetch-Site` must not be `cross-site` or `same-site`). A request
/// with neither header does not come from a browser page and carries no ambient
/// credential of another site.
pub fn same_origin(headers: &HeaderMap) -> Result<(), Refused> {
    const REFUSED: &str = "a cross-site request is refused: use the console from its own origin";
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return match (authority, host(headers)) {
            (Some(a), Some(h)) if a.eq_ignore_ascii_case(h) => Ok(()),
            _ => Err(Refused::Forbidden(REFUSED)),
        };
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("cross-site" | "same-site") => Err(Refused::Forbidden(REFUSED)),
        _ => Ok(()),
    }
}

/// A signed-in session.
#[derive(Debug, Clone)]
struct Session {
    id_digest: String,
    row: store::SessionRow,
}

/// The request's live session: its cookie names a stored session that has not expired,
/// signed in with a key that is still configured.
async fn session(state: &AppState, headers: &HeaderMap) -> Result<Session, Refused> {
    let value = cookie(headers).ok_or_else(|| {
        ApiError::Unauthenticated(
            "sign in to the console (a server API key), or send `Authorization: Bearer <server API key>`"
                .into(),
        )
    })?;
    let id_digest = sha256_hex(value);
    let row = store::session(&state.db, &id_digest, now_ms())
        .await?
        .ok_or_else(|| {
            ApiError::Unauthenticated("the console session has expired: sign in again".into())
        })?;
    let key_still_configured = state
        .config
        .admin
        .api_keys
        .iter()
        .any(|k| sha256_hex(k) == row.key_digest);
    if !key_still_configured {
        store::delete_session(&state.db, &id_digest).await?;
        return Err(ApiError::Unauthenticated(
            "the key this session signed in with is no longer configured: sign in again".into(),
        )
        .into());
    }
    Ok(Session { id_digest, row })
}

fn csrf_matches(headers: &HeaderMap, expected: &str) -> bool {
    let presented = headers
        .get(CSRF_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    presented.len() == expected.len()
        && presented
            .iter()
            .zip(expected.as_bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// An operator: a caller with a server API key (`Authorization: Bearer`), or a console
/// session (cookie) used from the console's own origin, with the anti-forgery token on
/// every request that is not a read.
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        if parts.headers.contains_key(header::AUTHORIZATION) {
            return crate::auth::Admin::from_request_parts(parts, state)
                .await
                .map(|_| Operator)
                .map_err(Refused::Api);
        }
        same_origin(&parts.headers)?;
        let session = session(state, &parts.headers).await?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD);
        if !safe && !csrf_matches(&parts.headers, &session.row.csrf_token) {
            return Err(Refused::Forbidden(
                "the anti-forgery token (X-CSRF-Token) is missing or wrong",
            ));
        }
        Ok(Operator)
    }
}

/// Signing in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignIn {
    /// A server API key of `admin.api_keys`.
    pub api_key: String,
}

/// A console session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// The anti-forgery token to send as `X-CSRF-Token` with every state-changing request.
    pub csrf_token: String,
    /// When the session ends (RFC 3339).
    pub expires_at: String,
}

fn set_cookie(headers: &HeaderMap, value: &str, max_age: u64) -> HeaderValue {
    let secure = if is_loopback(headers) { "" } else { "; Secure" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie text is ASCII")
}

/// Exchanges a server API key for a session cookie.
#[utoipa::path(
    post,
    path = "/v1/admin/console/session",
    tag = "console",
    request_body = SignIn,
    responses(
        (status = 200, description = "Signed in: the cookie is set (`HttpOnly`, `SameSite=Strict`, `Secure` outside loopback)", body = SessionInfo),
        (status = 400, description = "`invalid_request`: not `{\"apiKey\"}` as JSON", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: not a server API key", body = ErrorBody),
        (status = 403, description = "`forbidden`: sent from another site", body = ErrorBody),
    )
)]
async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> Result<Response, Refused> {
    same_origin(&headers)?;
    state.admin_keys.check(body.api_key.trim())?;
    let value = random_token();
    let csrf_token = random_token();
    let lifetime = state.config.console.session_lifetime;
    let now = now_ms();
    let expires_at = now.saturating_add(lifetime.as_millis() as i64);
    store::insert_session(
        &state.db,
        &sha256_hex(&value),
        &sha256_hex(body.api_key.trim()),
        &csrf_token,
        now,
        expires_at,
    )
    .await?;
    let mut response = Json(SessionInfo {
        csrf_token,
        expires_at: rfc3339(expires_at),
    })
    .into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&headers, &value, lifetime.as_secs()),
    );
    Ok(response)
}

/// The current session (the console asks on load whether it is signed in).
#[utoipa::path(
    get,
    path = "/v1/admin/console/session",
    tag = "console",
    responses(
        (status = 200, description = "Signed in", body = SessionInfo),
        (status = 401, description = "`unauthenticated`: no session, or it expired", body = ErrorBody),
        (status = 403, description = "`forbidden`: asked from another site", body = ErrorBody),
    )
)]
async fn current(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionInfo>, Refused> {
    same_origin(&headers)?;
    let session = session(&state, &headers).await?;
    Ok(Json(SessionInfo {
        csrf_token: session.row.csrf_token,
        expires_at: rfc3339(session.row.expires_at),
    }))
}

/// Signs out: the session ends and the cookie is cleared.
#[utoipa::path(
    delete,
    path = "/v1/admin/console/session",
    tag = "console",
    params(("X-CSRF-Token" = String, Header, description = "the session's anti-forgery token")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "`unauthenticated`: no session, or it expired", body = ErrorBody),
        (status = 403, description = "`forbidden`: sent from another site, or without the anti-forgery token", body = ErrorBody),
    )
)]
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, Refused> {
    same_origin(&headers)?;
    let session = session(&state, &headers).await?;
    if !csrf_matches(&headers, &session.row.csrf_token) {
        return Err(Refused::Forbidden(
            "the anti-forgery token (X-CSRF-Token) is missing or wrong",
        ));
    }
    store::delete_session(&state.db, &session.id_digest).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&headers, "", 0));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:8080",
            "127.9.9.9",
        ] {
            assert!(is_loopback(&headers(&[("host", host)])), "{host}");
        }
        for host in [
            "billing.example.com",
            "10.0.0.1:8080",
            "localhost.evil.com",
            "[2001:db8::1]:443",
        ] {
            assert!(!is_loopback(&headers(&[("host", host)])), "{host}");
        }
        assert!(!is_loopback(&HeaderMap::new()));
    }

    #[test]
    fn only_the_consoles_own_origin_passes() {
        let ok = |pairs: &[(&'static str, &str)]| same_origin(&headers(pairs)).is_ok();
        assert!(ok(&[
            ("host", "a.example:8080"),
            ("origin", "https://a.example:8080")
        ]));
        assert!(ok(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ]));
        assert!(!ok(&[
            ("host", "a.example"),
            ("origin", "https://evil.example")
        ]));
        assert!(!ok(&[("host", "a.example"), ("origin", "null")]));
        assert!(!ok(&[
            ("host", "a.example"),
            ("origin", "https://a.example.evil.example")
        ]));
        assert!(!ok(&[
            ("host", "a.example"),
            ("sec-fetch-site", "cross-site")
        ]));
        assert!(!ok(&[
            ("host", "a.example"),
            ("sec-fetch-site", "same-site")
        ]));
        assert!(ok(&[
            ("host", "a.example"),
            ("sec-fetch-site", "same-origin")
        ]));
        assert!(ok(&[("host", "a.example")]));
    }

    #[test]
    fn the_cookie_is_found_among_others_and_csrf_compares_exactly() {
        let h = headers(&[("cookie", "a=1; pwa_billing_console=abc; b=2")]);
        assert_eq!(cookie(&h), Some("abc"));
        assert_eq!(
            cookie(&headers(&[("cookie", "pwa_billing_console=")])),
            None
        );
        assert!(csrf_matches(&headers(&[("x-csrf-token", "tok")]), "tok"));
        assert!(!csrf_matches(&headers(&[("x-csrf-token", "tok2")]), "tok"));
        assert!(!csrf_matches(&HeaderMap::new(), "tok"));
    }
}
