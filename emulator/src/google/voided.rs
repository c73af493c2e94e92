//! `purchases.voidedpurchases.list`: a time window (at most 30 days back), `type` (0 one-time
//! only, the default; 1 also subscriptions), `maxResults` (≤ 1000), paging with `token`,
//! and quantity-based partial refunds only with `includeQuantityBasedPartialRefund=true`.

use base64::Engine;
use play_model::voided::{
    PageInfo, TokenPagination, VoidedPurchase, VoidedPurchasesListResponse, VOIDED_PURCHASE_KIND,
};

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
pub fn voided_purchase(v: &Voided) -> VoidedPurchase {
    VoidedPurchase {
        kind: Some(VOIDED_PURCHASE_KIND.into()),
        purchase_token: v.token.clone(),
        order_id: Some(v.order_id.clone()),
        purchase_time_millis: Some(v.purchase_time_ms),
        voided_time_millis: Some(v.voided_time_ms),
        voided_source: Some(v.source),
        voided_reason: Some(v.reason),
        voided_quantity: v.quantity.and_then(|q| i32::try_from(q).ok()),
    }
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
    let int = |n: usize| i32::try_from(n).ok();
    let next = offset + max as usize;
    Ok(Reply::resource(&VoidedPurchasesListResponse {
        voided_purchases: matching
            .iter()
            .skip(offset)
            .take(max as usize)
            .map(|v| voided_purchase(v))
            .collect(),
        page_info: Some(PageInfo {
            total_results: int(total),
            result_per_page: int(max as usize),
            start_index: int(offset),
        }),
        token_pagination: (next < total).then(|| TokenPagination {
            next_page_token: Some(page_token(next)),
        }),
    }))
}
