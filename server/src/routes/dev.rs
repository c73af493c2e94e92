//! Sandbox-only routes: sign in demo users, and tell the page where the emulator is.
//! Outside `pwa-billing sandbox` they answer 404.

use std::time::Duration;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::issue_hs256;
use crate::error::{ApiError, ErrorBody, Json};
use crate::state::{AppState, SandboxInfo};

/// Lifetime of a sandbox session token.
const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session))
        .routes(routes!(sandbox))
}

fn sandbox_only(state: &AppState) -> Result<&SandboxInfo, ApiError> {
    state.sandbox.as_deref().ok_or(ApiError::NotFound)
}

/// A demo user to sign in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionRequest {
    /// Any account id (becomes the token's `sub`).
    pub account_id: String,
}

/// A bearer token for the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// HS256 JWT, valid for a week.
    pub token: String,
}

/// Signs in a demo user (sandbox only).
#[utoipa::path(
    post,
    path = "/v1/dev/session",
    tag = "sandbox",
    request_body = SessionRequest,
    responses(
        (status = 200, description = "A bearer token", body = SessionResponse),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 404, description = "Not in sandbox mode", body = ErrorBody),
    )
)]
async fn session(
    State(state): State<AppState>,
    Json(request): Json<SessionRequest>,
) -> Result<Json<SessionResponse>, ApiError> {
    let sandbox = sandbox_only(&state)?;
    let account = request.account_id.trim();
    if account.is_empty() || account.len() > 128 {
        return Err(ApiError::InvalidRequest(
            "accountId must be 1 to 128 characters".into(),
        ));
    }
    Ok(Json(SessionResponse {
        token: issue_hs256(&sandbox.session_secret, account, SESSION_TTL),
    }))
}

/// Where the embedded emulator is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SandboxResponse {
    /// The emulator's base URL (device sandbox and control API).
    pub emulator_url: String,
    /// The app's package name.
    pub package_name: String,
}

/// The sandbox's emulator (sandbox only).
#[utoipa::path(
    get,
    path = "/v1/dev/sandbox",
    tag = "sandbox",
    responses(
        (status = 200, description = "The emulator", body = SandboxResponse),
        (status = 404, description = "Not in sandbox mode", body = ErrorBody),
    )
)]
async fn sandbox(State(state): State<AppState>) -> Result<Json<SandboxResponse>, ApiError> {
    let sandbox = sandbox_only(&state)?;
    Ok(Json(SandboxResponse {
        emulator_url: sandbox.emulator_url.clone(),
        package_name: state.config.package_name.clone(),
    }))
}
