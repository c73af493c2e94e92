//! `externaltransactions` (alternative billing / external offers): create (unique
//! `externalTransactionId`, exactly one of one-time / recurring, `initialExternalTransactionId`
//! must exist, India needs its state, one of the program details), get, refund (full once;
//! partial with a unique `refundId`, never more than what is left).
//!
//! The control API adds `POST /emulator/v1/external-transaction-tokens` `{test?}` (a token
//! as the Play Billing Library would give the app; a test token makes a test purchase, and
//! each token reports one transaction) and `GET /emulator/v1/external-transactions`: how
//! late each transaction was reported (`createTime − transactionTime`) on the virtual clock.
//!
//! Assumed (not documented by Google): a reused id answers `409 ALREADY_EXISTS`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use play_model::external_transactions::{
    ExternalTransaction, RefundExternalTransactionRequest, SubscriptionType, TransactionState,
};
use play_model::purchases::Empty;
use play_model::Price;

use super::inappproducts::check_price;
use super::{parse_body, Call, Reply};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::control::parse;
use crate::error::ApiError;
use crate::error::GoogleError;
use crate::state::{Model, StoredTransaction};
use crate::SharedState;

/// A `Price` of a request, checked.
fn checked(price: Option<&Price>, field: &str) -> Result<Price, GoogleError> {
    let p = price.ok_or_else(|| GoogleError::required(field))?;
    check_price(p, field)?;
    Ok(p.clone())
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

/// `externaltransactions.createexternaltransaction`.
pub fn create(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call
        .query("externalTransactionId")
        .ok_or_else(|| GoogleError::required("externalTransactionId"))?
        .to_string();
    if !play_model::ids::is_external_transaction_id(&id) {
        return Err(GoogleError::invalid(
            "externalTransactionId must be 1-63 characters of [a-zA-Z0-9_-].",
        ));
    }
    if m.external_transactions.contains_key(&id) {
        return Err(GoogleError::already_exists(format!(
            "External transaction {id} already exists."
        )));
    }
    let mut t: ExternalTransaction = parse_body(&call.body)?;
    let pre = checked(t.original_pre_tax_amount.as_ref(), "originalPreTaxAmount")?;
    let tax = checked(t.original_tax_amount.as_ref(), "originalTaxAmount")?;
    if tax.currency != pre.currency {
        return Err(GoogleError::invalid(
            "originalPreTaxAmount and originalTaxAmount must have the same currency.",
        ));
    }
    let time = t
        .transaction_time
        .as_deref()
        .ok_or_else(|| GoogleError::required("transactionTime"))?;
    parse_rfc3339(time)
        .ok_or_else(|| GoogleError::invalid("transactionTime must be an RFC 3339 timestamp."))?;
    let address = t.user_tax_address.clone().unwrap_or_default();
    let region = non_empty(&address.region_code)
        .ok_or_else(|| GoogleError::required("userTaxAddress.regionCode"))?;
    if region == "IN" && non_empty(&address.administrative_area).is_none() {
        return Err(GoogleError::invalid(
            "userTaxAddress.administrativeArea is required for transactions in India.",
        ));
    }
    let offer = t
        .external_offer_details
        .as_ref()
        .is_some_and(Value::is_object);
    if offer
        && t.external_content_link_details
            .as_ref()
            .is_some_and(Value::is_object)
    {
        return Err(GoogleError::invalid(
            "Only one of externalOfferDetails or externalContentLinkDetails may be set.",
        ));
    }
    if offer && t.transaction_program_code.is_some() {
        return Err(GoogleError::invalid(
            "transactionProgramCode can not be used for external offers transactions.",
        ));
    }
    let token = match (&t.one_time_transaction, &t.recurring_transaction) {
        (Some(o), None) => {
            Some(non_empty(&o.external_transaction_token).ok_or_else(|| {
                GoogleError::required("oneTimeTransaction.externalTransactionToken")
            })?)
        }
        (None, Some(r)) => {
            match r
                .external_subscription
                .as_ref()
                .and_then(|s| s.subscription_type)
            {
                Some(SubscriptionType::Recurring | SubscriptionType::Prepaid) => {}
                _ => {
                    return Err(GoogleError::required(
                        "recurringTransaction.externalSubscription.subscriptionType",
                    ))
                }
            }
            let token = non_empty(&r.external_transaction_token);
            let initial = non_empty(&r.initial_external_transaction_id);
            let migrated = non_empty(&r.migrated_transaction_program);
            if token.is_some() as u8 + initial.is_some() as u8 + migrated.is_some() as u8 != 1 {
                return Err(GoogleError::invalid(
                    "recurringTransaction needs exactly one of externalTransactionToken, initialExternalTransactionId or migratedTransactionProgram.",
                ));
            }
            if let Some(initial) = initial {
                let known = m
                    .external_transactions
                    .get(initial)
                    .is_some_and(|t| t.resource.recurring_transaction.is_some());
                if !known {
                    return Err(GoogleError::invalid(format!("initialExternalTransactionId {initial} is not a known recurring transaction.")));
                }
            }
            token
        }
        _ => {
            return Err(GoogleError::invalid(
                "Exactly one of oneTimeTransaction or recurringTransaction must be set.",
            ))
        }
    };
    let used = token.is_some_and(|token| {
        m.external_transactions
            .values()
            .any(|x| token_of(&x.resource) == Some(token))
    });
    if used {
        return Err(GoogleError::invalid(
            "externalTransactionToken was already used for another transaction.",
        ));
    }
    let test = token.is_some_and(|token| m.external_tokens.get(token) == Some(&true));
    t.package_name = Some(m.package_name.clone());
    t.external_transaction_id = Some(id.clone());
    t.create_time = Some(rfc3339(m.now_ms()));
    t.current_pre_tax_amount = Some(pre);
    t.current_tax_amount = Some(tax);
    t.transaction_state = Some(TransactionState::Reported);
    t.test_purchase = test.then_some(Empty {});
    let reply = Reply::resource(&t);
    m.external_transactions.insert(
        id,
        StoredTransaction {
            resource: t,
            refund_ids: Default::default(),
            fully_refunded: false,
        },
    );
    Ok(reply)
}

/// The `externalTransactionToken` a transaction was reported with.
fn token_of(t: &ExternalTransaction) -> Option<&str> {
    let one = t
        .one_time_transaction
        .as_ref()
        .map(|o| &o.external_transaction_token);
    let rec = t
        .recurring_transaction
        .as_ref()
        .map(|r| &r.external_transaction_token);
    one.or(rec).and_then(non_empty)
}

fn find<'m>(call: &Call, m: &'m mut Model) -> Result<&'m mut StoredTransaction, GoogleError> {
    let id = call.param("externalTransactionsId");
    m.external_transactions
        .get_mut(id)
        .ok_or_else(|| GoogleError::not_found(format!("External transaction not found: {id}")))
}

/// `externaltransactions.getexternaltransaction`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    Ok(Reply::resource(&find(call, m)?.resource))
}

/// `externaltransactions.refundexternaltransaction`.
pub fn refund(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let b: RefundExternalTransactionRequest = parse_body(&call.body)?;
    let time = b
        .refund_time
        .as_deref()
        .ok_or_else(|| GoogleError::required("refundTime"))?;
    parse_rfc3339(time)
        .ok_or_else(|| GoogleError::invalid("refundTime must be an RFC 3339 timestamp."))?;
    let t = find(call, m)?;
    let r = &mut t.resource;
    if t.fully_refunded || r.transaction_state == Some(TransactionState::Canceled) {
        return Err(GoogleError::failed_precondition(
            "The transaction was already fully refunded.",
        ));
    }
    let micros = |p: &Option<Price>| p.as_ref().map_or(0, |p| p.price_micros);
    let currency = r
        .original_pre_tax_amount
        .as_ref()
        .map(|p| p.currency.clone())
        .unwrap_or_default();
    let original_pre = micros(&r.original_pre_tax_amount);
    let original_tax = micros(&r.original_tax_amount);
    let current_pre = micros(&r.current_pre_tax_amount);
    let remaining = match (b.full_refund, b.partial_refund) {
        (Some(_), None) => 0,
        (None, Some(p)) => {
            let refund_id = non_empty(&p.refund_id)
                .ok_or_else(|| GoogleError::required("partialRefund.refundId"))?;
            if t.refund_ids.contains(refund_id) {
                return Err(GoogleError::already_exists(format!(
                    "Refund {refund_id} already exists."
                )));
            }
            let amount = checked(
                p.refund_pre_tax_amount.as_ref(),
                "partialRefund.refundPreTaxAmount",
            )?;
            if amount.currency != currency {
                return Err(GoogleError::invalid(
                    "The refund currency must be the transaction's currency.",
                ));
            }
            if amount.price_micros == 0 || amount.price_micros > current_pre {
                return Err(GoogleError::invalid(
                    "The refund must be more than zero and at most the amount not yet refunded.",
                ));
            }
            t.refund_ids.insert(refund_id.to_string());
            current_pre - amount.price_micros
        }
        _ => {
            return Err(GoogleError::invalid(
                "Exactly one of fullRefund or partialRefund must be set.",
            ))
        }
    };
    let remaining_tax = if original_pre == 0 {
        0
    } else {
        (original_tax as i128 * remaining as i128 / original_pre as i128) as i64
    };
    r.current_pre_tax_amount = Some(Price::new(remaining, &currency));
    r.current_tax_amount = Some(Price::new(remaining_tax, &currency));
    if remaining == 0 {
        t.fully_refunded = true;
        r.transaction_state = Some(TransactionState::Canceled);
    }
    Ok(Reply::resource(r))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    #[serde(default)]
    test: bool,
}

/// `POST /emulator/v1/external-transaction-tokens` `{test?}` → `201 {externalTransactionToken, test}`.
pub async fn issue_token(
    State(s): State<SharedState>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let req: TokenRequest = parse(&body)?;
    let token = format!("ext-{:032x}", rand::random::<u128>());
    s.lock().external_tokens.insert(token.clone(), req.test);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "externalTransactionToken": token, "test": req.test })),
    ))
}

/// `GET /emulator/v1/external-transactions`: every transaction with how late it was
/// reported on the virtual clock (`reportDelayMillis` = `createTime − transactionTime`).
pub async fn report_delays(State(s): State<SharedState>) -> Json<Value> {
    let m = s.lock();
    let list: Vec<Value> = m
        .external_transactions
        .iter()
        .map(|(id, t)| {
            let r = &t.resource;
            let at = |v: &Option<String>| v.as_deref().and_then(parse_rfc3339);
            let delay = match (at(&r.create_time), at(&r.transaction_time)) {
                (Some(c), Some(t)) => json!((c - t).to_string()),
                _ => Value::Null,
            };
            json!({
                "externalTransactionId": id,
                "transactionTime": r.transaction_time,
                "createTime": r.create_time,
                "reportDelayMillis": delay,
                "transactionState": r.transaction_state,
                "currentPreTaxAmount": r.current_pre_tax_amount,
                "partialRefunds": t.refund_ids.len(),
                "testPurchase": r.test_purchase.is_some(),
            })
        })
        .collect();
    Json(json!({ "externalTransactions": list }))
}
