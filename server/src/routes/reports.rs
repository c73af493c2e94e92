//! `GET /v1/admin/reports/reconciliation`: the financial reconciliation as JSON, for
//! operators' tools (server API keys only; see [`crate::reports::reconcile`]).

use axum::extract::{RawQuery, State};
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

/// The query (read by hand, so that any bad value is a JSON `400 invalid_request`).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReconciliationQuery {
    /// The month to reconcile (`YYYY-MM`); absent or empty: every imported month.
    #[param(pattern = "^([0-9]{4}-(0[1-9]|1[0-2]))?$")]
    pub month: Option<String>,
    /// `true`: confirm each discrepancy with Play (`orders.batchGet`) first.
    pub confirm: Option<bool>,
}

impl ReconciliationQuery {
    fn parse(pairs: Vec<(String, String)>) -> Result<(Option<Month>, bool), ApiError> {
        let mut month = None;
        let mut confirm = false;
        for (key, value) in pairs {
            match key.as_str() {
                "month" if !value.is_empty() => {
                    month = Some(
                        value
                            .parse::<Month>()
                            .map_err(|e| ApiError::InvalidRequest(format!("month: {e}")))?,
                    );
                }
                "month" => {}
                "confirm" => {
                    confirm = match value.as_str() {
                        "true" | "1" => true,
                        "false" | "0" | "" => false,
                        other => {
                            return Err(ApiError::InvalidRequest(format!(
                                "confirm: `{other}` is not true or false"
                            )))
                        }
                    }
                }
                other => {
                    return Err(ApiError::InvalidRequest(format!(
                        "unknown query parameter `{other}` (month, confirm)"
                    )))
                }
            }
        }
        Ok((month, confirm))
    }
}

/// Reconciles the imported Play financial reports with the granted purchases.
#[utoipa::path(
    get,
    path = "/v1/admin/reports/reconciliation",
    tag = "reports",
    params(ReconciliationQuery),
    security(("server_api_key" = [])),
    responses(
        (status = 200, description = "The reconciliation (`discrepancies` = 0 when everything adds up)", body = Reconciliation),
        (status = 400, description = "`invalid_request`: a month that is not YYYY-MM, a bad `confirm`, an unknown parameter", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: not a server API key", body = ErrorBody),
    )
)]
async fn reconciliation(
    State(state): State<AppState>,
    _admin: Admin,
    RawQuery(query): RawQuery,
) -> Result<Json<Reconciliation>, ApiError> {
    let pairs = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let (month, confirm) = ReconciliationQuery::parse(pairs)?;
    let mut report = reconcile::run(&state.db, month).await?;
    if confirm {
        reconcile::confirm(&state.play, &mut report).await;
    }
    Ok(Json(report))
}
