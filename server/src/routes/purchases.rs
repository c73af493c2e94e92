//! `POST /v1/purchases/verify` and `POST /v1/purchases/sync`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Account;
use crate::entitlement::Entitlement;
use crate::error::{ApiError, ErrorBody, Json};
use crate::state::AppState;
use crate::verify::Verdict;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify))
        .routes(routes!(sync))
        .routes(routes!(lookup))
}

/// A purchase to verify.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyRequest {
    /// The product id (sku) bought; at most `limits.max_item_id_len` bytes (default 256).
    #[schema(
        min_length = 1,
        max_length = 256,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    pub item_id: String,
    /// The purchase token Play returned; at most `limits.max_token_len` bytes (default 2048).
    #[schema(
        min_length = 1,
        max_length = 2048,
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f]+$"
    )]
    pub purchase_token: String,
}

/// One purchase of a sync, checked on its own: one that verify would refuse as malformed
/// gets `invalid_request` in its result, and the others are still verified.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseRef {
    /// The product id (sku) bought.
    pub item_id: String,
    /// The purchase token Play returned.
    pub purchase_token: String,
}

/// Granted (now, or before to this caller).
#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    /// The entitlement.
    pub entitlement: Entitlement,
    /// Whether Google Play has the purchase acknowledged yet (the server does it in the background).
    pub acknowledged: bool,
}

/// A pending purchase: nothing granted; verify again once it completes.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingResponse {
    /// Always `pending`.
    #[schema(example = "pending")]
    pub status: String,
}

/// Verifies a purchase with Google Play and grants it to the caller, once.
#[utoipa::path(
    post,
    path = "/v1/purchases/verify",
    tag = "purchases",
    request_body = VerifyRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Granted (idempotent for the same caller)", body = VerifyResponse),
        (status = 202, description = "A pending purchase; nothing granted", body = PendingResponse),
        (status = 400, description = "`invalid_request`: bad JSON, missing or oversized fields", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 409, description = "`token_already_claimed`: the token belongs to another account", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 422, description = "`purchase_invalid`: canceled, voided, expired, unknown token, product or package mismatch, unknown product", body = ErrorBody),
        (status = 503, description = "`upstream_unavailable`: Google failed transiently; see `Retry-After`", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn verify(
    State(state): State<AppState>,
    Account(account): Account,
    Json(request): Json<VerifyRequest>,
) -> Result<Response, ApiError> {
    Ok(
        match state
            .verifier
            .verify(&account, &request.item_id, &request.purchase_token)
            .await?
        {
            Verdict::Granted {
                entitlement,
                acknowledged,
            } => (
                StatusCode::OK,
                Json(VerifyResponse {
                    entitlement,
                    acknowledged,
                }),
            )
                .into_response(),
            Verdict::Pending => (
                StatusCode::ACCEPTED,
                Json(PendingResponse {
                    status: "pending".into(),
                }),
            )
                .into_response(),
        },
    )
}

/// Purchases the device knows (`listPurchases`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncRequest {
    /// Each purchase to verify.
    pub purchases: Vec<PurchaseRef>,
}

/// One purchase's outcome.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncResult {
    /// The token.
    pub purchase_token: String,
    /// `granted`, `pending`, or the error code verify would answer (`token_already_claimed`,
    /// `purchase_invalid`, `upstream_unavailable`, `invalid_request`, `internal`).
    pub status: String,
    /// The entitlement, when granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entitlement: Option<Entitlement>,
}

/// Outcomes in request order.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResponse {
    /// One per purchase.
    pub results: Vec<SyncResult>,
}

/// Verifies every purchase the device lists: grants out-of-app purchases and acknowledges
/// leftovers (what the library's `restore()` calls).
#[utoipa::path(
    post,
    path = "/v1/purchases/sync",
    tag = "purchases",
    request_body = SyncRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One result per purchase", body = SyncResponse),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
    )
)]
async fn sync(
    State(state): State<AppState>,
    Account(account): Account,
    Json(request): Json<SyncRequest>,
) -> Result<Json<SyncResponse>, ApiError> {
    let max = state.config.limits.max_sync_purchases.get();
    if request.purchases.len() > max {
        return Err(ApiError::InvalidRequest(format!(
            "at most {max} purchases per sync"
        )));
    }
    let mut results = Vec::with_capacity(request.purchases.len());
    for p in request.purchases {
        let (status, entitlement) = match state
            .verifier
            .verify(&account, &p.item_id, &p.purchase_token)
            .await
        {
            Ok(Verdict::Granted { entitlement, .. }) => ("granted".to_string(), Some(entitlement)),
            Ok(Verdict::Pending) => ("pending".to_string(), None),
            Err(e) => {
                if let ApiError::Internal(inner) = &e {
                    tracing::error!(error = format!("{inner:#}"), "sync: verification failed");
                }
                (e.code().to_string(), None)
            }
        };
        results.push(SyncResult {
            purchase_token: p.purchase_token,
            status,
            entitlement,
        });
    }
    Ok(Json(SyncResponse { results }))
}

/// A purchase as the app's backend looks it up.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseLookup {
    /// The account it is granted (or bound, while pending) to.
    pub account_id: String,
    /// The entitlement, as `GET /v1/entitlements` shows it (none while pending).
    pub entitlement: Option<Entitlement>,
    /// `pending` or the entitlement's state.
    pub state: String,
    /// Whether Google has it acknowledged (or consumed).
    pub acknowledged: bool,
    /// Google's order id.
    pub order_id: Option<String>,
    /// The purchase it replaced.
    pub linked_purchase_token: Option<String>,
    /// When Google's view of it was last stored (RFC 3339).
    pub google_last_read_at: Option<String>,
    /// Its events, oldest first: each the body a webhook delivered.
    pub history: Vec<serde_json::Value>,
}

/// Looks up a purchase by token: its grant, its history of states, Google's last read.
#[utoipa::path(
    get,
    path = "/v1/purchases/{purchaseToken}",
    tag = "server-to-server",
    security(("server_api_key" = [])),
    params(("purchaseToken" = String, Path, description = "The purchase token")),
    responses(
        (status = 200, description = "The purchase", body = PurchaseLookup),
        (status = 401, description = "`unauthenticated`: not a server API key (`admin.api_keys`)", body = ErrorBody),
        (status = 404, description = "`not_found`: no such purchase here", body = ErrorBody),
    )
)]
async fn lookup(
    State(state): State<AppState>,
    _: crate::auth::Admin,
    axum::extract::Path(token): axum::extract::Path<String>,
) -> Result<Json<PurchaseLookup>, ApiError> {
    let row = crate::db::purchases::find(&state.db, &token)
        .await?
        .ok_or(ApiError::NotFound)?;
    let history = crate::db::events::of_subject(&state.db, &row.id)
        .await?
        .into_iter()
        .filter_map(|e| serde_json::from_str(&e.payload).ok())
        .collect();
    Ok(Json(PurchaseLookup {
        entitlement: Entitlement::from_row(&row, crate::db::now_ms()),
        state: row.state.as_str().into(),
        acknowledged: row.acknowledged != 0,
        google_last_read_at: crate::db::rfc3339(row.updated_at),
        account_id: row.account_id,
        order_id: row.order_id,
        linked_purchase_token: row.linked_purchase_token,
        history,
    }))
}
