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

use super::inappproducts::check_price;
use super::{Call, Reply};
use crate::clock::{parse_rfc3339, rfc3339};
use crate::control::parse;
use crate::error::ApiError;
use crate::error::GoogleError;
use crate::state::{ExternalTransaction, Model};
use crate::SharedState;

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
    let b = &call.body;
    let pre = check_price(
        b.get("originalPreTaxAmount")
            .ok_or_else(|| GoogleError::required("originalPreTaxAmount"))?,
        "originalPreTaxAmount",
    )?;
    let tax = check_price(
        b.get("originalTaxAmount")
            .ok_or_else(|| GoogleError::required("originalTaxAmount"))?,
        "originalTaxAmount",
    )?;
    let currency = b["originalPreTaxAmount"]["currency"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if b["originalTaxAmount"]["currency"] != currency.as_str() {
        return Err(GoogleError::invalid(
            "originalPreTaxAmount and originalTaxAmount must have the same currency.",
        ));
    }
    let time = b["transactionTime"]
        .as_str()
        .ok_or_else(|| GoogleError::required("transactionTime"))?;
    parse_rfc3339(time)
        .ok_or_else(|| GoogleError::invalid("transactionTime must be an RFC 3339 timestamp."))?;
    if b["userTaxAddress"]["regionCode"]
        .as_str()
        .is_none_or(str::is_empty)
    {
        return Err(GoogleError::required("userTaxAddress.regionCode"));
    }
    if b["userTaxAddress"]["regionCode"] == "IN"
        && b["userTaxAddress"]["administrativeArea"]
            .as_str()
            .is_none_or(str::is_empty)
    {
        return Err(GoogleError::invalid(
            "userTaxAddress.administrativeArea is required for transactions in India.",
        ));
    }
    let offer = b.get("externalOfferDetails").filter(|v| v.is_object());
    if offer.is_some()
        && b.get("externalContentLinkDetails")
            .is_some_and(Value::is_object)
    {
        return Err(GoogleError::invalid(
            "Only one of externalOfferDetails or externalContentLinkDetails may be set.",
        ));
    }
    if offer.is_some()
        && b.get("transactionProgramCode")
            .is_some_and(|v| !v.is_null())
    {
        return Err(GoogleError::invalid(
            "transactionProgramCode can not be used for external offers transactions.",
        ));
    }
    let one = b.get("oneTimeTransaction").filter(|v| v.is_object());
    let rec = b.get("recurringTransaction").filter(|v| v.is_object());
    match (one, rec) {
        (Some(o), None) => {
            if o["externalTransactionToken"]
                .as_str()
                .is_none_or(str::is_empty)
            {
                return Err(GoogleError::required(
                    "oneTimeTransaction.externalTransactionToken",
                ));
            }
        }
        (None, Some(r)) => {
            match r["externalSubscription"]["subscriptionType"].as_str() {
                Some("RECURRING" | "PREPAID") => {}
                _ => {
                    return Err(GoogleError::required(
                        "recurringTransaction.externalSubscription.subscriptionType",
                    ))
                }
            }
            let token = r["externalTransactionToken"]
                .as_str()
                .filter(|s| !s.is_empty());
            let initial = r["initialExternalTransactionId"]
                .as_str()
                .filter(|s| !s.is_empty());
            let migrated = r["migratedTransactionProgram"]
                .as_str()
                .filter(|s| !s.is_empty());
            if token.is_some() as u8 + initial.is_some() as u8 + migrated.is_some() as u8 != 1 {
                return Err(GoogleError::invalid(
                    "recurringTransaction needs exactly one of externalTransactionToken, initialExternalTransactionId or migratedTransactionProgram.",
                ));
            }
            if let Some(initial) = initial {
                let known = m
                    .external_transactions
                    .get(initial)
                    .is_some_and(|t| t.resource.get("recurringTransaction").is_some());
                if !known {
                    return Err(GoogleError::invalid(format!("initialExternalTransactionId {initial} is not a known recurring transaction.")));
                }
            }
        }
        _ => {
            return Err(GoogleError::invalid(
                "Exactly one of oneTimeTransaction or recurringTransaction must be set.",
            ))
        }
    }
    let token = one
        .or(rec)
        .and_then(|t| t["externalTransactionToken"].as_str())
        .filter(|t| !t.is_empty());
    let used = token.is_some_and(|t| {
        m.external_transactions.values().any(|x| {
            x.resource["oneTimeTransaction"]["externalTransactionToken"] == t
                || x.resource["recurringTransaction"]["externalTransactionToken"] == t
        })
    });
    if used {
        return Err(GoogleError::invalid(
            "externalTransactionToken was already used for another transaction.",
        ));
    }
    let test = token.is_some_and(|t| m.external_tokens.get(t) == Some(&true));
    let mut resource = b.clone();
    let now = m.now_ms();
    if let Some(o) = resource.as_object_mut() {
        o.insert("packageName".into(), json!(m.package_name));
        o.insert("externalTransactionId".into(), json!(id));
        o.insert("createTime".into(), json!(rfc3339(now)));
        o.insert(
            "currentPreTaxAmount".into(),
            play_model::Price::new(pre, &currency).to_value(),
        );
        o.insert(
            "currentTaxAmount".into(),
            play_model::Price::new(tax, &currency).to_value(),
        );
        o.insert("transactionState".into(), json!("TRANSACTION_REPORTED"));
        o.remove("testPurchase");
        if test {
            o.insert("testPurchase".into(), json!({}));
        }
    }
    m.external_transactions.insert(
        id,
        ExternalTransaction {
            resource: resource.clone(),
            refund_ids: Default::default(),
            fully_refunded: false,
        },
    );
    Ok(Reply::Json(resource))
}

fn find<'m>(call: &Call, m: &'m mut Model) -> Result<&'m mut ExternalTransaction, GoogleError> {
    let id = call.param("externalTransactionsId");
    m.external_transactions
        .get_mut(id)
        .ok_or_else(|| GoogleError::not_found(format!("External transaction not found: {id}")))
}

/// `externaltransactions.getexternaltransaction`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    Ok(Reply::Json(find(call, m)?.resource.clone()))
}

/// `externaltransactions.refundexternaltransaction`.
pub fn refund(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let b = call.body.clone();
    let time = b["refundTime"]
        .as_str()
        .ok_or_else(|| GoogleError::required("refundTime"))?;
    parse_rfc3339(time)
        .ok_or_else(|| GoogleError::invalid("refundTime must be an RFC 3339 timestamp."))?;
    let full = b.get("fullRefund").filter(|v| v.is_object());
    let partial = b.get("partialRefund").filter(|v| v.is_object());
    let t = find(call, m)?;
    if t.fully_refunded || t.resource["transactionState"] == "TRANSACTION_CANCELED" {
        return Err(GoogleError::failed_precondition(
            "The transaction was already fully refunded.",
        ));
    }
    let currency = t.resource["originalPreTaxAmount"]["currency"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let original_pre: i64 = t.resource["originalPreTaxAmount"]["priceMicros"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let original_tax: i64 = t.resource["originalTaxAmount"]["priceMicros"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let current_pre: i64 = t.resource["currentPreTaxAmount"]["priceMicros"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let remaining = match (full, partial) {
        (Some(_), None) => {
            t.fully_refunded = true;
            0
        }
        (None, Some(p)) => {
            let refund_id = p["refundId"]
                .as_str()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| GoogleError::required("partialRefund.refundId"))?;
            if t.refund_ids.contains(refund_id) {
                return Err(GoogleError::already_exists(format!(
                    "Refund {refund_id} already exists."
                )));
            }
            let amount = check_price(
                p.get("refundPreTaxAmount")
                    .ok_or_else(|| GoogleError::required("partialRefund.refundPreTaxAmount"))?,
                "partialRefund.refundPreTaxAmount",
            )?;
            if p["refundPreTaxAmount"]["currency"] != currency.as_str() {
                return Err(GoogleError::invalid(
                    "The refund currency must be the transaction's currency.",
                ));
            }
            if amount == 0 || amount > current_pre {
                return Err(GoogleError::invalid(
                    "The refund must be more than zero and at most the amount not yet refunded.",
                ));
            }
            t.refund_ids.insert(refund_id.to_string());
            current_pre - amount
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
    t.resource["currentPreTaxAmount"] = play_model::Price::new(remaining, &currency).to_value();
    t.resource["currentTaxAmount"] = play_model::Price::new(remaining_tax, &currency).to_value();
    if remaining == 0 {
        t.fully_refunded = true;
        t.resource["transactionState"] = json!("TRANSACTION_CANCELED");
    }
    Ok(Reply::Json(t.resource.clone()))
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
            let at = |k: &str| r[k].as_str().and_then(parse_rfc3339);
            let delay = match (at("createTime"), at("transactionTime")) {
                (Some(c), Some(t)) => json!((c - t).to_string()),
                _ => Value::Null,
            };
            json!({
                "externalTransactionId": id,
                "transactionTime": r["transactionTime"],
                "createTime": r["createTime"],
                "reportDelayMillis": delay,
                "transactionState": r["transactionState"],
                "currentPreTaxAmount": r["currentPreTaxAmount"],
                "partialRefunds": t.refund_ids.len(),
                "testPurchase": r.get("testPurchase").is_some(),
            })
        })
        .collect();
    Json(json!({ "externalTransactions": list }))
}
