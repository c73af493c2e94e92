//! `POST /v1/rtdn`: Google Play's real-time developer notifications, pushed by Pub/Sub.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::db::rtdn_messages;
use crate::error::{ApiError, ErrorBody};
use crate::lifecycle::enqueue_rtdn;
use crate::rtdn::PushEnvelope;
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(receive))
}

/// Receives a Pub/Sub push of a real-time developer notification. The OIDC token is checked
/// (JWKS, issuer, audience, service-account email, `email_verified`, expiry); the message is
/// stored durably, once per `messageId`, and acknowledged; a worker then fetches the
/// purchase from Google and applies what Google says now.
#[utoipa::path(
    post,
    path = "/v1/rtdn",
    tag = "notifications",
    request_body = PushEnvelope,
    security(("pubsub_push" = [])),
    responses(
        (status = 204, description = "Stored (or a duplicate, or another app's notification): acknowledged"),
        (status = 400, description = "`invalid_request`: not a push envelope of a DeveloperNotification", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: the push's OIDC token is missing or invalid; nothing stored", body = ErrorBody),
    )
)]
async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if let Err(refused) = state.rtdn_auth.verify(authorization).await {
        tracing::warn!(reason = %refused, "RTDN push refused");
        state.metrics.rtdn("unknown", "refused");
        return Err(ApiError::Unauthenticated(refused.to_string()));
    }
    let malformed = |message: String| {
        state.metrics.rtdn("unknown", "malformed");
        ApiError::InvalidRequest(message)
    };
    let envelope: PushEnvelope = serde_json::from_slice(&body)
        .map_err(|e| malformed(format!("not a Pub/Sub push envelope: {e}")))?;
    let message_id = envelope
        .message
        .id()
        .ok_or_else(|| malformed("message.messageId is missing".into()))?
        .to_string();
    let notification = envelope.message.notification().map_err(malformed)?;
    let kind = notification.kind().map_err(malformed)?.as_str();
    if notification.package_name != state.config.package_name {
        tracing::warn!(package = %notification.package_name, message = %message_id, "RTDN for another package; acknowledged and ignored");
        state.metrics.rtdn(kind, "other_package");
        return Ok(StatusCode::NO_CONTENT);
    }
    let text = serde_json::to_string(&notification).map_err(ApiError::internal)?;
    let mut tx = state.db.writer().begin().await?;
    let new = rtdn_messages::store_message(
        &mut tx,
        &message_id,
        envelope.subscription.as_deref(),
        envelope.message.published(),
        &text,
    )
    .await?;
    if new {
        enqueue_rtdn(&mut tx, &message_id).await?;
    }
    tx.commit().await?;
    if new {
        state.wake.notify_one();
    }
    tracing::info!(message = %message_id, kind, duplicate = !new, "RTDN received");
    state
        .metrics
        .rtdn(kind, if new { "stored" } else { "duplicate" });
    Ok(StatusCode::NO_CONTENT)
}
