//! `purchases.voidedpurchases.list`: a time window (at most 30 days back), `type` (0 one-time
//! only, the default; 1 also subscriptions), `maxResults` (≤ 1000), paging with `token`,
//! and quantity-based partial refunds only with `includeQuantityBasedPartialRefund=true`.

use base64::Engine;
use serde_json::{json, Value};

use super::{Call, Reply};
use crate::error::GoogleError;
use crate::state::{Kind, Model, Voided};

const THIRTY_DAYS_MS: i64 = 30 * 24 * 3600 * 1000;

fn page_token(offset: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("voided:{offset}"))
}

fn parse_page_token(t: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("voided:")?
        .parse()
        .ok()
}

/// The `VoidedPurchase` resource.
pub fn voided_purchase(v: &Voided) -> Value {
    let mut out = json!({
        "kind": "androidpublisher#voidedPurchase",
        "purchaseToken": v.token,
        "orderId": v.order_id,
        "purchaseTimeMillis": v.purchase_time_ms.to_string(),
        "voidedTimeMillis": v.voided_time_ms.to_string(),
        "voidedSource": v.source,
        "voidedReason": v.reason,
    });
    if let Some(q) = v.quantity {
        out["voidedQuantity"] = json!(q);
    }
    out
}

/// `voidedpurchases.list`.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let now = m.now_ms();
    let start = call.query_i64("startTime")?.unwrap_or(now - THIRTY_DAYS_MS);
    let end = call.query_i64("endTime")?.unwrap_or(now);
    if start < now - THIRTY_DAYS_MS {
        return Err(GoogleError::invalid(
            "startTime must be within the last 30 days.",
        ));
    }
    if start > end {
        return Err(GoogleError::invalid("startTime must not be after endTime."));
    }
    let kind = match call.query_i64("type")? {
        None | Some(0) => 0,
        Some(1) => 1,
        Some(_) => return Err(GoogleError::invalid("type must be 0 or 1.")),
    };
    let max = call.query_i64("maxResults")?.unwrap_or(1000);
    if !(1..=1000).contains(&max) {
        return Err(GoogleError::invalid(
            "maxResults must be between 1 and 1000.",
        ));
    }
    let partial = call.query_bool("includeQuantityBasedPartialRefund")?;
    let offset = match call.query("token") {
        Some(t) => {
            parse_page_token(t).ok_or_else(|| GoogleError::invalid("Invalid pagination token."))?
        }
        None => call.query_i64("startIndex")?.unwrap_or(0).max(0) as usize,
    };
    let mut matching: Vec<&Voided> = m
        .voided
        .iter()
        .filter(|v| v.voided_time_ms >= start && v.voided_time_ms <= end)
        .filter(|v| kind == 1 || v.kind == Kind::Product)
        .filter(|v| partial || !v.partial)
        .collect();
    matching.sort_by_key(|v| v.voided_time_ms);
    let total = matching.len();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(max as usize)
        .map(|v| voided_purchase(v))
        .collect();
    let mut out = json!({
        "pageInfo": { "totalResults": total, "resultPerPage": max, "startIndex": offset },
    });
    if !page.is_empty() {
        out["voidedPurchases"] = json!(page);
    }
    if offset + (max as usize) < total {
        out["tokenPagination"] = json!({ "nextPageToken": page_token(offset + max as usize) });
    }
    Ok(Reply::Json(out))
}
