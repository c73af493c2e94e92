//! `GET /v1/admin/reports/reconciliation`: the financial reconciliation as JSON, for
//! operators' tools (server API keys only; see [`crate::reports::reconcile`]).

use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::error::{ApiError, ErrorBody, Json};
use crate::reports::reconcile::{self, Reconciliation};
use crate::reports::Month;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reconciliation))
}

/// The query.
#[derive(Debug, Deserialize, IntoParams)]
pub struct ReconciliationQuery {
    /// The month to reconcile (`YYYY-MM`); default every imported month.
    pub month: Option<String>,
    /// `true`: confirm each discrepancy with Play (`orders.batchGet`) first.
    #[serde(default)]
    pub confirm: bool,
}

/// Reconciles the imported Play financial reports with the granted purchases.
#[utoipa::path(
    get,
    path = "/v1/admin/reports/reconciliation",
    tag = "reports",
    params(ReconciliationQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The reconciliation (`discrepancies` = 0 when everything adds up)", body = Reconciliation),
        (status = 400, description = "`invalid_request`: a month that is not YYYY-MM", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: not a server API key", body = ErrorBody),
    )
)]
async fn reconciliation(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<ReconciliationQuery>,
) -> Result<Json<Reconciliation>, ApiError> {
    let month = query
        .month
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| m.parse::<Month>())
        .transpose()
        .map_err(|e| ApiError::InvalidRequest(format!("month: {e}")))?;
    let mut report = reconcile::run(&state.db, month).await?;
    if query.confirm {
        reconcile::confirm(&state.play, &mut report).await;
    }
    Ok(Json(report))
}
