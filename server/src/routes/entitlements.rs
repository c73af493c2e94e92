//! `GET /v1/entitlements`.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Account;
use crate::db::{now_ms, purchases};
use crate::entitlement::Entitlement;
use crate::error::{ApiError, ErrorBody, Json};
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The caller's entitlements.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntitlementsResponse {
    /// Every granted purchase of the caller, oldest first, in any state.
    pub entitlements: Vec<Entitlement>,
}

/// Lists the caller's entitlements.
#[utoipa::path(
    get,
    path = "/v1/entitlements",
    tag = "entitlements",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's entitlements", body = EntitlementsResponse),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    Account(account): Account,
) -> Result<Json<EntitlementsResponse>, ApiError> {
    Ok(Json(of_account(&state, &account).await?))
}

/// The entitlements of `account` (also `GET /v1/accounts/{accountId}/entitlements`).
pub async fn of_account(state: &AppState, account: &str) -> Result<EntitlementsResponse, ApiError> {
    let now = now_ms();
    let rows = purchases::list_granted(&state.db, account).await?;
    let entitlements = rows
        .into_iter()
        .filter_map(|row| Entitlement::from_shown(row, now))
        .collect();
    Ok(EntitlementsResponse { entitlements })
}
