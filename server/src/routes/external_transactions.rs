//! `POST /v1/external-transactions`, `POST /v1/external-transactions/{id}/refunds`,
//! `GET /v1/external-transactions/{id}`: the app's payment system reports payments taken
//! outside Play billing and their refunds (server API key, `admin.api_keys`). Each is
//! stored and answered `202` before any call to Google; the worker reports it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Admin;
use crate::db::external_transactions::{
    self as store, RefundRefused, RefundRow, ReportRefused, ReportState, Stored, TransactionRow,
};
use crate::db::now_ms;
use crate::db::rfc3339;
use crate::error::{ApiError, ErrorBody, Json};
use crate::external_transactions::model::{
    self, format_micros, FieldError, PaymentReport, RefundReport,
};
use crate::state::AppState;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(refund))
        .routes(routes!(show))
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::InvalidField(e.to_string())
    }
}

/// A payment or refund accepted for reporting.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    /// The external transaction id Google receives (derived from `paymentId`).
    pub id: String,
    /// `pending` until Google has it, then `reported` (or `failed`).
    pub state: String,
    /// False when the same report was accepted before (nothing new is sent to Google).
    pub created: bool,
}

/// Stores a payment taken outside Play billing and queues its report to Google.
#[utoipa::path(
    post,
    path = "/v1/external-transactions",
    tag = "external-transactions",
    request_body = PaymentReport,
    security(("server_api_key" = [])),
    responses(
        (status = 202, description = "Stored; Google gets it from the worker (the same report again: the same answer, `created: false`)", body = Accepted),
        (status = 400, description = "`invalid_request`: bad JSON, unknown or missing fields", body = ErrorBody),
        (status = 401, description = "`unauthenticated`: not a server API key (`admin.api_keys`)", body = ErrorBody),
        (status = 409, description = "`conflict`: this paymentId was reported with other values", body = ErrorBody),
        (status = 422, description = "`invalid_field`: the message starts with the field (amounts, currency, region, state, token, initial payment, times)", body = ErrorBody),
    )
)]
async fn report(
    State(state): State<AppState>,
    _: Admin,
    Json(request): Json<PaymentReport>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let (payment, stored) = match store::accept(&state.db, &request, now_ms()).await {
        Ok(accepted) => accepted,
        Err(ReportRefused::Field(e)) => return Err(e.into()),
        Err(e @ ReportRefused::Conflict(_)) => return Err(ApiError::Conflict(e.to_string())),
        Err(ReportRefused::Db(e)) => return Err(e.into()),
    };
    if stored == Stored::Created {
        state.wake.notify_one();
    }
    let row = store::get(&state.db, &payment.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            id: payment.id,
            state: row
                .map_or(ReportState::Pending, |r| r.state)
                .as_str()
                .into(),
            created: stored == Stored::Created,
        }),
    ))
}

/// Stores a full or partial refund of one payment and queues it for Google.
#[utoipa::path(
    post,
    path = "/v1/external-transactions/{id}/refunds",
    tag = "external-transactions",
    params(("id" = String, Path, description = "The external transaction id")),
    request_body = RefundReport,
    security(("server_api_key" = [])),
    responses(
        (status = 202, description = "Stored; Google gets it once the payment is reported", body = Accepted),
        (status = 400, description = "`invalid_request`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such external transaction", body = ErrorBody),
        (status = 409, description = "`conflict`: this refundId was used with other values", body = ErrorBody),
        (status = 422, description = "`invalid_field`: bad amount or time, more than what is left, or after a full refund", body = ErrorBody),
    )
)]
async fn refund(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
    Json(request): Json<RefundReport>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    let row = store::get(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let refund = request.validate(&row.id, &row.currency, now_ms())?;
    if refund.refund_time < row.transaction_time {
        return Err(ApiError::InvalidField(
            "refundTime: is before the payment's transactionTime".into(),
        ));
    }
    let created = match store::insert_refund(&state.db, &id, &refund).await {
        Ok(created) => created,
        Err(RefundRefused::NotFound) => return Err(ApiError::NotFound),
        Err(e @ RefundRefused::Conflict(_)) => return Err(ApiError::Conflict(e.to_string())),
        Err(RefundRefused::TooMuch(m)) => {
            return Err(ApiError::InvalidField(if m.starts_with("preTaxAmount") {
                m
            } else {
                format!("refundId: {m}")
            }))
        }
        Err(RefundRefused::Db(e)) => return Err(e.into()),
    };
    if created {
        state.wake.notify_one();
    }
    let stored = store::refund(&state.db, &id, &refund.refund_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            id,
            state: stored
                .map_or(ReportState::Pending, |r| r.state)
                .as_str()
                .into(),
            created,
        }),
    ))
}

/// Google's view of a reported transaction.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoogleState {
    /// `TRANSACTION_REPORTED` or `TRANSACTION_CANCELED` (fully refunded).
    pub transaction_state: Option<String>,
    /// The pre-tax amount left after refunds (decimal string).
    pub current_pre_tax_amount: Option<String>,
    /// The tax left after refunds (decimal string).
    pub current_tax_amount: Option<String>,
    /// The pre-tax amount refunded so far (decimal string).
    pub refunded_pre_tax_amount: Option<String>,
    /// Whether Google took it as a test purchase.
    pub test_purchase: bool,
    /// When Google was notified.
    pub create_time: Option<String>,
    /// Whether it is fully refunded.
    pub canceled: bool,
}

/// One refund.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundView {
    /// The app's refund id.
    pub refund_id: String,
    /// Partial refunds: the pre-tax amount (decimal string); absent: full refund.
    pub pre_tax_amount: Option<String>,
    /// When it was made.
    pub refund_time: String,
    /// `pending`, `reported` or `failed`.
    pub state: String,
    /// The last error Google answered, if any.
    pub last_error: Option<String>,
}

/// A stored external transaction and Google's state.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    /// The external transaction id.
    pub id: String,
    /// The app's payment id.
    pub payment_id: String,
    /// The account.
    pub account_id: String,
    /// The product.
    pub product_id: String,
    /// `one_time`, `subscription_first`, `subscription_renewal`.
    pub kind: String,
    /// Renewals: the series' first external transaction id.
    pub initial_id: Option<String>,
    /// Pre-tax amount as reported (decimal string).
    pub pre_tax_amount: String,
    /// Tax as reported (decimal string).
    pub tax_amount: String,
    /// ISO 4217.
    pub currency: String,
    /// When the payment was made.
    pub transaction_time: String,
    /// Google's deadline: 24 hours after the payment.
    pub report_deadline: String,
    /// `pending`, `reported` or `failed`.
    pub state: String,
    /// When Google took it (RFC 3339).
    pub reported_at: Option<String>,
    /// The last error Google answered, if any.
    pub last_error: Option<String>,
    /// Whether the external transaction token is still kept (until the first report).
    pub token_kept: bool,
    /// Test payment, as the app said.
    pub test: bool,
    /// Google's state, once reported.
    pub google: Option<GoogleState>,
    /// Refunds, oldest first.
    pub refunds: Vec<RefundView>,
}

fn decimals(currency: &str) -> u16 {
    model::currency_decimals("currency", currency).unwrap_or(6)
}

/// The API's view of a stored transaction and its refunds.
pub fn view(row: TransactionRow, refunds: Vec<RefundRow>) -> TransactionView {
    let d = decimals(&row.currency);
    let google = (row.state == ReportState::Reported).then(|| GoogleState {
        canceled: row.google_state.as_deref() == Some("TRANSACTION_CANCELED"),
        transaction_state: row.google_state.clone(),
        current_pre_tax_amount: row.current_pre_tax_micros.map(|m| format_micros(m, d)),
        current_tax_amount: row.current_tax_micros.map(|m| format_micros(m, d)),
        refunded_pre_tax_amount: row
            .current_pre_tax_micros
            .map(|m| format_micros(row.pre_tax_micros - m, d)),
        test_purchase: row.google_test == Some(1),
        create_time: row.google_create_time.clone(),
    });
    TransactionView {
        token_kept: row.token.is_some(),
        test: row.test == 1,
        pre_tax_amount: format_micros(row.pre_tax_micros, d),
        tax_amount: format_micros(row.tax_micros, d),
        transaction_time: rfc3339(row.transaction_time).unwrap_or_default(),
        report_deadline: rfc3339(row.transaction_time + store::DEADLINE_MS).unwrap_or_default(),
        reported_at: row.reported_at.and_then(rfc3339),
        refunds: refunds
            .into_iter()
            .map(|r| RefundView {
                pre_tax_amount: r.pre_tax_micros.map(|m| format_micros(m, d)),
                refund_time: rfc3339(r.refund_time).unwrap_or_default(),
                refund_id: r.refund_id,
                state: r.state.as_str().into(),
                last_error: r.last_error,
            })
            .collect(),
        google,
        id: row.id,
        payment_id: row.payment_id,
        account_id: row.account_id,
        product_id: row.product_id,
        kind: row.kind.as_str().into(),
        initial_id: row.initial_id,
        currency: row.currency,
        state: row.state.as_str().into(),
        last_error: row.last_error,
    }
}

/// A stored external transaction: its state here and on Google.
#[utoipa::path(
    get,
    path = "/v1/external-transactions/{id}",
    tag = "external-transactions",
    params(("id" = String, Path, description = "The external transaction id")),
    security(("server_api_key" = [])),
    responses(
        (status = 200, description = "The transaction", body = TransactionView),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<TransactionView>, ApiError> {
    let (row, refunds) = store::get_with_refunds(&state.db, &id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view(row, refunds)))
}
