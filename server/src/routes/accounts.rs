//! `GET /v1/accounts/{accountId}/entitlements`: an account's entitlements, for the app's
//! own backend (server API key, `admin.api_keys`).

use axum::extract::{Path, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::entitlements::EntitlementsResponse;
use crate::auth::Admin;
use crate::error::{ApiError, ErrorBody, Json};
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(entitlements))
}

/// Lists an account's entitlements, as `GET /v1/entitlements` shows them to its user.
#[utoipa::path(
    get,
    path = "/v1/accounts/{accountId}/entitlements",
    tag = "server-to-server",
    security(("server_api_key" = [])),
    params(("accountId" = String, Path, description = "The account (the `sub` of its users' JWTs)")),
    responses(
        (status = 200, description = "The account's entitlements (empty for an account with none)", body = EntitlementsResponse),
        (status = 401, description = "`unauthenticated`: not a server API key (`admin.api_keys`)", body = ErrorBody),
    )
)]
async fn entitlements(
    State(state): State<AppState>,
    _: Admin,
    Path(account): Path<String>,
) -> Result<Json<EntitlementsResponse>, ApiError> {
    Ok(Json(
        super::entitlements::of_account(&state, &account).await?,
    ))
}
