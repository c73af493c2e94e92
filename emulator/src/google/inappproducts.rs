//! `inappproducts`: get, list, insert, update (`allowMissing`), patch, delete, and
//! `batchGet` / `batchUpdate` / `batchDelete` (1–100 entries, all or nothing).
//! Subscriptions cannot be created here any more (Google moved them to
//! `monetization.subscriptions`): `purchaseType: subscription` is refused.

use base64::Engine;
use play_model::inappproducts::{
    InAppProduct, InappproductsBatchDeleteRequest, InappproductsBatchGetResponse,
    InappproductsBatchUpdateRequest, InappproductsBatchUpdateResponse, InappproductsListResponse,
    ACTIVE, INACTIVE, LIST_KIND, MANAGED_USER, SUBSCRIPTION,
};
use play_model::paging::{PageInfo, TokenPagination};
use play_model::Price;
use serde::Deserialize;
use serde_json::Value;

use super::{parse_body, Call, Reply};
use crate::catalog_views::{remove, store_legacy};
use crate::error::GoogleError;
use crate::state::Model;

const TOLERANCES: [&str; 3] = [
    "PRODUCT_UPDATE_LATENCY_TOLERANCE_UNSPECIFIED",
    "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_SENSITIVE",
    "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT",
];

pub(crate) fn check_tolerance(v: Option<&str>) -> Result<(), GoogleError> {
    match v {
        Some(t) if !TOLERANCES.contains(&t) => Err(GoogleError::invalid(format!(
            "Invalid value at 'latency_tolerance', \"{t}\""
        ))),
        _ => Ok(()),
    }
}

/// Checks a catalog resource's identity: the product id of the URL is valid, and the body's
/// `productId` and `packageName`, where given, are the URL's.
pub(crate) fn check_identity(
    (body_product, body_package): (Option<&str>, Option<&str>),
    product_id: &str,
    package: &str,
) -> Result<(), GoogleError> {
    if !play_model::ids::is_product_id(product_id, play_model::ids::ONE_TIME_PRODUCT_ID_MAX) {
        return Err(GoogleError::invalid(format!(
            "Invalid product ID {product_id:?}."
        )));
    }
    if body_product.is_some_and(|v| v != product_id) {
        return Err(GoogleError::invalid(
            "The productId in the body does not match the request.",
        ));
    }
    if body_package.is_some_and(|v| v != package) {
        return Err(GoogleError::invalid(
            "The packageName in the body does not match the URL.",
        ));
    }
    Ok(())
}

/// [`check_tolerance`] of a typed request's `latencyTolerance`.
pub(crate) fn check_latency(
    t: Option<play_model::subscriptions::LatencyTolerance>,
) -> Result<(), GoogleError> {
    check_tolerance(t.map(|t| t.as_str().unwrap_or("(unknown)")))
}

/// A `Price` of a request: non-negative micros and an ISO 4217 code.
pub(crate) fn check_price(p: &Price, field: &str) -> Result<(), GoogleError> {
    if p.price_micros < 0 {
        return Err(GoogleError::invalid(format!(
            "{field}.priceMicros must be a non-negative int64 string."
        )));
    }
    if p.currency.len() != 3 || !p.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(GoogleError::invalid(format!(
            "{field}.currency must be an ISO 4217 code."
        )));
    }
    Ok(())
}

/// Reads an `InAppProduct` of a request body.
fn read(body: &Value) -> Result<InAppProduct, GoogleError> {
    InAppProduct::deserialize(body)
        .map_err(|e| GoogleError::invalid(format!("Invalid in-app product: {e}")))
}

/// Validates an `InAppProduct` for `sku`, filling in `packageName`, `sku` and defaults.
fn validate(mut p: InAppProduct, sku: &str, package: &str) -> Result<InAppProduct, GoogleError> {
    if !play_model::ids::is_product_id(sku, play_model::ids::ONE_TIME_PRODUCT_ID_MAX) {
        return Err(GoogleError::invalid(format!(
            "Invalid product ID {sku:?}: use lowercase letters, numbers, '_' and '.'."
        )));
    }
    if p.sku.as_deref().is_some_and(|s| s != sku) {
        return Err(GoogleError::invalid(
            "The sku in the body does not match the sku in the URL.",
        ));
    }
    if p.package_name.as_deref().is_some_and(|s| s != package) {
        return Err(GoogleError::invalid(
            "The packageName in the body does not match the URL.",
        ));
    }
    p.sku = Some(sku.to_string());
    p.package_name = Some(package.to_string());
    match p.purchase_type.as_deref() {
        None | Some(MANAGED_USER) => p.purchase_type = Some(MANAGED_USER.into()),
        Some(SUBSCRIPTION) => {
            return Err(GoogleError::invalid(
                "Subscriptions are managed with the monetization.subscriptions API.",
            ))
        }
        Some(other) => {
            return Err(GoogleError::invalid(format!(
                "Invalid purchaseType {other:?}."
            )))
        }
    }
    match p.status.as_deref() {
        None => p.status = Some(ACTIVE.into()),
        Some(ACTIVE | INACTIVE) => {}
        Some(other) => return Err(GoogleError::invalid(format!("Invalid status {other:?}."))),
    }
    let price = p
        .default_price
        .as_ref()
        .ok_or_else(|| GoogleError::required("defaultPrice"))?;
    check_price(price, "defaultPrice")?;
    for (region, price) in &p.prices {
        check_price(price, &format!("prices.{region}"))?;
    }
    let lang = p
        .default_language
        .as_deref()
        .ok_or_else(|| GoogleError::required("defaultLanguage"))?;
    let title = p.listings.get(lang).and_then(|l| l.title.as_deref());
    if title.is_none_or(str::is_empty) {
        return Err(GoogleError::invalid(format!(
            "A listing with a title is required for the default language {lang}."
        )));
    }
    Ok(p)
}

fn not_found(sku: &str) -> GoogleError {
    GoogleError::not_found(format!("Product not found: {sku}"))
}

/// `inappproducts.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let sku = call.param("sku");
    m.in_app_products
        .get(sku)
        .map(Reply::resource)
        .ok_or_else(|| not_found(sku))
}

/// `inappproducts.list` (`maxResults`, `startIndex`, `token`).
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let max = call.query_i64("maxResults")?.unwrap_or(100).clamp(1, 1000) as usize;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let start = match call.query("token") {
        Some(t) => b64
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("iap:").and_then(|n| n.parse().ok()))
            .ok_or_else(|| GoogleError::invalid("Invalid pagination token."))?,
        None => call.query_i64("startIndex")?.unwrap_or(0).max(0) as usize,
    };
    let total = m.in_app_products.len();
    let int = |n: usize| i32::try_from(n).ok();
    Ok(Reply::resource(&InappproductsListResponse {
        kind: Some(LIST_KIND.into()),
        inappproduct: m
            .in_app_products
            .values()
            .skip(start)
            .take(max)
            .cloned()
            .collect(),
        page_info: Some(PageInfo {
            total_results: int(total),
            result_per_page: int(max),
            start_index: int(start),
        }),
        token_pagination: (start + max < total).then(|| TokenPagination {
            next_page_token: Some(b64.encode(format!("iap:{}", start + max))),
        }),
    }))
}

/// `inappproducts.insert`: `409 alreadyExists` for a known sku.
pub fn insert(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let sku = call.body["sku"]
        .as_str()
        .ok_or_else(|| GoogleError::required("sku"))?
        .to_string();
    if m.in_app_products.contains_key(&sku) || m.subscriptions.contains_key(&sku) {
        return Err(GoogleError::already_exists(format!(
            "Product {sku} already exists."
        )));
    }
    let p = validate(read(&call.body)?, &sku, &m.package_name)?;
    let reply = Reply::resource(&p);
    store_legacy(m, sku, p);
    Ok(reply)
}

fn put(m: &mut Model, sku: &str, body: &Value, allow_missing: bool) -> Result<Reply, GoogleError> {
    if !m.in_app_products.contains_key(sku) && !allow_missing {
        return Err(not_found(sku));
    }
    if m.subscriptions.contains_key(sku) {
        return Err(GoogleError::already_exists(format!(
            "{sku} is a subscription."
        )));
    }
    let p = validate(read(body)?, sku, &m.package_name)?;
    let reply = Reply::resource(&p);
    store_legacy(m, sku.to_string(), p);
    Ok(reply)
}

/// `inappproducts.update` (PUT; `allowMissing` creates).
pub fn update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let allow = call.query_bool("allowMissing")?;
    put(m, call.param("sku"), &call.body, allow)
}

/// `inappproducts.patch`: the body's top-level fields replace the stored ones.
pub fn patch(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let sku = call.param("sku");
    let mut merged = m
        .in_app_products
        .get(sku)
        .map(|p| serde_json::to_value(p).unwrap_or_default())
        .ok_or_else(|| not_found(sku))?;
    if let (Some(into), Some(from)) = (merged.as_object_mut(), call.body.as_object()) {
        for (k, v) in from {
            into.insert(k.clone(), v.clone());
        }
    }
    put(m, sku, &merged, false)
}

/// `inappproducts.delete`.
pub fn delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let sku = call.param("sku");
    if !m.in_app_products.contains_key(sku) {
        return Err(not_found(sku));
    }
    remove(m, sku);
    Ok(Reply::Empty)
}

/// Refuses a batch of no entry or more than 100.
pub(crate) fn batch_size(n: usize) -> Result<(), GoogleError> {
    if n == 0 || n > 100 {
        return Err(GoogleError::invalid(
            "A batch must have between 1 and 100 entries.",
        ));
    }
    Ok(())
}

/// Refuses entry `i` of a batch when an earlier entry (`staged`) wrote the same `key`.
pub(crate) fn refuse_twice<T>(
    i: usize,
    staged: &[(String, T)],
    key: &str,
) -> Result<(), GoogleError> {
    if staged.iter().any(|(k, _)| k == key) {
        return Err(GoogleError::invalid(format!(
            "requests[{i}]: {key} appears twice."
        )));
    }
    Ok(())
}

/// The regions version entry `i` of a batch gives (required).
pub(crate) fn entry_version(i: usize, version: Option<&str>) -> Result<&str, GoogleError> {
    version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| GoogleError::required(&format!("requests[{i}].regionsVersion.version")))
}

/// `inappproducts.batchGet` (`sku` repeated).
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let skus = call.query_all("sku");
    batch_size(skus.len())?;
    let products = skus
        .iter()
        .map(|s| {
            m.in_app_products
                .get(s)
                .cloned()
                .ok_or_else(|| not_found(s))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::resource(&InappproductsBatchGetResponse {
        inappproduct: products,
    }))
}

/// `inappproducts.batchUpdate`: every request validated before any is applied.
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: InappproductsBatchUpdateRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let mut staged = Vec::new();
    for (i, r) in batch.requests.into_iter().enumerate() {
        let sku = r
            .sku
            .ok_or_else(|| GoogleError::required(&format!("requests[{i}].sku")))?;
        if r.package_name.is_some_and(|p| p != m.package_name) {
            return Err(GoogleError::invalid(format!(
                "requests[{i}].packageName does not match the URL."
            )));
        }
        if staged.iter().any(|(s, _)| *s == sku) {
            return Err(GoogleError::invalid(format!(
                "requests[{i}]: sku {sku} appears twice."
            )));
        }
        check_latency(r.latency_tolerance)?;
        if !m.in_app_products.contains_key(&sku) && r.allow_missing != Some(true) {
            return Err(not_found(&sku));
        }
        let p = validate(r.inappproduct.unwrap_or_default(), &sku, &m.package_name)?;
        staged.push((sku, p));
    }
    let reply = Reply::resource(&InappproductsBatchUpdateResponse {
        inappproducts: staged.iter().map(|(_, p)| p.clone()).collect(),
    });
    for (sku, p) in staged {
        store_legacy(m, sku, p);
    }
    Ok(reply)
}

/// `inappproducts.batchDelete`: all or nothing.
pub fn batch_delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: InappproductsBatchDeleteRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let mut skus = Vec::new();
    for (i, r) in batch.requests.into_iter().enumerate() {
        let sku = r
            .sku
            .ok_or_else(|| GoogleError::required(&format!("requests[{i}].sku")))?;
        check_latency(r.latency_tolerance)?;
        if !m.in_app_products.contains_key(&sku) {
            return Err(not_found(&sku));
        }
        skus.push(sku);
    }
    for s in skus {
        remove(m, &s);
    }
    Ok(Reply::Empty)
}
