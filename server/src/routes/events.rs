//! `GET /v1/events?after=…`: the events that webhooks deliver, as a pull feed for a backend
//! that cannot take webhooks (server API key, `admin.api_keys`).

use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::db::events;
use crate::error::{ApiError, ErrorBody, Json};
use crate::state::AppState;

/// Most events per page.
const MAX_LIMIT: i64 = 1000;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(feed))
}

/// Where to read from.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The `cursor` of the last page read (0 or absent: from the start).
    #[serde(default)]
    pub after: i64,
    /// Only this account's events.
    pub account_id: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedResponse {
    /// The events in order, each the body a webhook delivers (`id`, `type`, `timestamp`,
    /// `data`).
    pub events: Vec<serde_json::Value>,
    /// Pass as `after` to read on (the same value when there was nothing new).
    pub cursor: i64,
}

/// The events after a cursor, in the order they were published.
#[utoipa::path(
    get,
    path = "/v1/events",
    tag = "server-to-server",
    security(("server_api_key" = [])),
    params(FeedQuery),
    responses(
        (status = 200, description = "The next events", body = FeedResponse),
        (status = 400, description = "`invalid_request`: a bad `after` or `limit`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: not a server API key (`admin.api_keys`)", body = ErrorBody),
    )
)]
async fn feed(
    State(state): State<AppState>,
    _: Admin,
    query: Result<Query<FeedQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<FeedResponse>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::InvalidRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) || q.after < 0 {
        return Err(ApiError::InvalidRequest(format!(
            "`limit` is 1 to {MAX_LIMIT} and `after` a cursor (0 or more)"
        )));
    }
    let rows = events::feed(&state.db, q.after, q.account_id.as_deref(), limit).await?;
    let cursor = rows.last().and_then(|r| r.position).unwrap_or(q.after);
    let events = rows
        .into_iter()
        .filter_map(|r| serde_json::from_str(&r.payload).ok())
        .collect();
    Ok(Json(FeedResponse { events, cursor }))
}
