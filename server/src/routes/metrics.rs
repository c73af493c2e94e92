//! `GET /metrics`.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::outbox;
use crate::db::{now_ms, purchases};
use crate::error::ApiError;
use crate::state::AppState;

/// The exposition's content type.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// Prometheus metrics (OpenMetrics text): requests, verification outcomes, Google calls by
/// method and status, OAuth token fetches, outbox depth, oldest unacknowledged age.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Metrics", content_type = "application/openmetrics-text", body = String))
)]
async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let now = now_ms();
    let depth = outbox::depth(&state.db).await?;
    let oldest = purchases::oldest_unacknowledged_ms(&state.db, now)
        .await?
        .unwrap_or(0);
    state.metrics.set_outbox(depth, oldest as f64 / 1000.0);
    Ok((
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.metrics.encode(),
    ))
}
