//! Google's side: the Play Developer API routes, exactly as the discovery document's
//! `flatPath`s, dispatched through one pipeline:
//! match route → count the call → faults → OAuth → package → parse body → settle the clock →
//! quota → the method.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::GoogleError;
use crate::quota::Bucket;
use crate::state::Model;
use crate::SharedState;

pub mod external_transactions;
pub mod inappproducts;
pub mod monetization;
pub mod offers;
pub mod onetimeoffers;
pub mod onetimeproducts;
pub mod orders;
pub mod products;
pub mod productsv2;
mod states;
pub mod subscriptions;
pub mod subscriptionsv2;
pub mod voided;

/// One Google method the emulator serves: a row of the shared method table.
pub type Route = play_model::Method;

/// Every Google method served, in the order the router tries them.
pub use play_model::methods::ROUTES;

/// A method's per-minute (or own) quota bucket, by its resource.
pub fn bucket(route: &Route) -> Bucket {
    let resource = route.id.split('.').nth(1).unwrap_or_default();
    let sub = route.id.split('.').nth(2).unwrap_or_default();
    match (resource, sub) {
        ("purchases", "products" | "productsv2") | ("orders", _) => Bucket::Purchases,
        ("purchases", "subscriptions" | "subscriptionsv2") => Bucket::Subscriptions,
        ("purchases", "voidedpurchases") => Bucket::VoidedPurchases30s,
        ("externaltransactions", _) => Bucket::ExternalTransactions,
        _ => Bucket::Monetization,
    }
}

/// What a method answers: a JSON body (200) or nothing (204).
#[derive(Debug)]
pub enum Reply {
    /// `200` with a JSON body.
    Json(Value),
    /// `204 No Content` (methods without a response schema).
    Empty,
}

impl Reply {
    /// `200` with a typed resource of `play_model` as its body.
    pub fn resource<T: serde::Serialize>(resource: &T) -> Reply {
        Reply::Json(serde_json::to_value(resource).expect("play_model resources serialize"))
    }
}

/// One call being served.
#[derive(Debug)]
pub struct Call {
    /// Path parameters by their `flatPath` name.
    pub params: HashMap<&'static str, String>,
    /// Query parameters in order.
    pub query: Vec<(String, String)>,
    /// Parsed JSON body (`Null` when empty).
    pub body: Value,
}

impl Call {
    /// A path parameter.
    pub fn param(&self, name: &str) -> &str {
        self.params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }
    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// Every value of a repeated query parameter.
    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    /// A boolean query parameter.
    pub fn query_bool(&self, name: &str) -> Result<bool, GoogleError> {
        match self.query(name) {
            None => Ok(false),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(GoogleError::invalid(format!(
                "Invalid value at '{name}' (TYPE_BOOL), \"{v}\""
            ))),
        }
    }
    /// An integer query parameter.
    pub fn query_i64(&self, name: &str) -> Result<Option<i64>, GoogleError> {
        match self.query(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                GoogleError::invalid(format!("Invalid value at '{name}' (TYPE_INT64), \"{v}\""))
            }),
        }
    }
}

/// Matches a request path (without the leading `/`) against a `flatPath` template.
pub fn match_path(template: &'static str, path: &str) -> Option<HashMap<&'static str, String>> {
    let t: Vec<&'static str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut params = HashMap::new();
    for (ts, ps) in t.iter().zip(p) {
        let ps = percent_decode(ps);
        if let Some(rest) = ts.strip_prefix('{') {
            let (name, suffix) = rest.split_once('}')?;
            let value = ps.strip_suffix(suffix)?;
            if value.is_empty() || value.contains('/') {
                return None;
            }
            params.insert(name, value.to_string());
        } else if *ts != ps {
            return None;
        }
    }
    Some(params)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Finds the route of a request: the discovery document's `flatPath` exactly (Google spells
/// `monetization.onetimeproducts.patch` `onetimeproducts`, every other method of the
/// collection `oneTimeProducts`; another spelling is a `404`, as on Google).
pub fn find_route(
    method: &str,
    path: &str,
) -> Option<(&'static Route, HashMap<&'static str, String>)> {
    ROUTES
        .iter()
        .filter(|r| r.http_method == method)
        .find_map(|r| match_path(r.flat_path, path).map(|p| (r, p)))
}

/// Leaves out every empty list of a response, as Google's JSON does (an empty repeated
/// field is not written); empty messages (`"free": {}`) stay.
pub fn omit_empty_lists(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, v| !matches!(v, Value::Array(a) if a.is_empty()));
            map.values_mut().for_each(omit_empty_lists);
        }
        Value::Array(items) => items.iter_mut().for_each(omit_empty_lists),
        _ => {}
    }
}

/// Latency-tolerance of a write: whether it counts against latency-sensitive changes.
fn is_sensitive(v: Option<&str>) -> bool {
    v != Some("PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT")
}

/// Quota charges of a call.
fn charges(route: &Route, call: &Call) -> Vec<(Bucket, u64)> {
    let bucket = bucket(route);
    let mut c = vec![(Bucket::Daily, 1), (bucket, 1)];
    let id = route.id;
    if bucket == Bucket::VoidedPurchases30s {
        c.push((Bucket::VoidedPurchasesDaily, 1));
    }
    if id.ends_with("createexternaltransaction") || id.ends_with("refundexternaltransaction") {
        c.push((Bucket::ExternalTransactionWrites, 1));
    }
    let catalog_write = bucket == Bucket::Monetization
        && !matches!(route.http_method, "GET")
        && !id.ends_with("convertRegionPrices")
        && !id.ends_with(".batchGet");
    if catalog_write {
        c.push((Bucket::CatalogModifications, 1));
        let entries = |list: &Value, key: &str| -> u64 {
            list["requests"]
                .as_array()
                .map(|r| r.iter().filter(|e| is_sensitive(e[key].as_str())).count() as u64)
                .unwrap_or(0)
        };
        let sensitive = if id.ends_with(".batchUpdate")
            || id.ends_with(".batchDelete")
            || id.ends_with(".batchMigratePrices")
        {
            entries(&call.body, "latencyTolerance")
        } else if id.ends_with(".batchUpdateStates") {
            // Each entry is {activate…Request | deactivate…Request: {latencyTolerance}}.
            call.body["requests"]
                .as_array()
                .map(|r| {
                    r.iter()
                        .filter(|e| {
                            let inner = e.as_object().and_then(|o| o.values().next());
                            is_sensitive(inner.and_then(|i| i["latencyTolerance"].as_str()))
                        })
                        .count() as u64
                })
                .unwrap_or(0)
        } else if id.ends_with(".activate")
            || id.ends_with(".deactivate")
            || id.ends_with(".cancel")
            || id.ends_with("basePlans.migratePrices")
        {
            is_sensitive(call.body["latencyTolerance"].as_str()) as u64
        } else {
            is_sensitive(call.query("latencyTolerance")) as u64
        };
        c.push((Bucket::LatencySensitiveChanges, sensitive));
    }
    c
}

fn dispatch(id: &str, call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    if m.inappproducts_migrated && id.starts_with("androidpublisher.inappproducts.") {
        return Err(GoogleError::new(
            403,
            "global",
            "forbidden",
            "Please migrate to the new publishing API.",
        ));
    }
    match id {
        "androidpublisher.purchases.products.get" => products::get(call, m),
        "androidpublisher.orders.get" => orders::get(call, m),
        "androidpublisher.orders.batchget" => orders::batch_get(call, m),
        "androidpublisher.orders.refund" => orders::refund(call, m),
        "androidpublisher.purchases.products.acknowledge" => products::acknowledge(call, m),
        "androidpublisher.purchases.products.consume" => products::consume(call, m),
        "androidpublisher.purchases.productsv2.getproductpurchasev2" => productsv2::get(call, m),
        "androidpublisher.purchases.subscriptions.acknowledge" => {
            subscriptions::acknowledge(call, m)
        }
        "androidpublisher.purchases.subscriptionsv2.get" => subscriptionsv2::get(call, m),
        "androidpublisher.purchases.subscriptionsv2.cancel" => subscriptionsv2::cancel(call, m),
        "androidpublisher.purchases.subscriptionsv2.revoke" => subscriptionsv2::revoke(call, m),
        "androidpublisher.purchases.subscriptionsv2.defer" => subscriptionsv2::defer(call, m),
        "androidpublisher.purchases.voidedpurchases.list" => voided::list(call, m),
        "androidpublisher.inappproducts.get" => inappproducts::get(call, m),
        "androidpublisher.inappproducts.list" => inappproducts::list(call, m),
        "androidpublisher.inappproducts.insert" => inappproducts::insert(call, m),
        "androidpublisher.inappproducts.update" => inappproducts::update(call, m),
        "androidpublisher.inappproducts.patch" => inappproducts::patch(call, m),
        "androidpublisher.inappproducts.delete" => inappproducts::delete(call, m),
        "androidpublisher.inappproducts.batchGet" => inappproducts::batch_get(call, m),
        "androidpublisher.inappproducts.batchUpdate" => inappproducts::batch_update(call, m),
        "androidpublisher.inappproducts.batchDelete" => inappproducts::batch_delete(call, m),
        "androidpublisher.monetization.subscriptions.create" => monetization::create(call, m),
        "androidpublisher.monetization.subscriptions.get" => monetization::get(call, m),
        "androidpublisher.monetization.subscriptions.list" => monetization::list(call, m),
        "androidpublisher.monetization.subscriptions.patch" => monetization::patch(call, m),
        "androidpublisher.monetization.subscriptions.delete" => monetization::delete(call, m),
        "androidpublisher.monetization.subscriptions.batchGet" => monetization::batch_get(call, m),
        "androidpublisher.monetization.subscriptions.batchUpdate" => {
            monetization::batch_update(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.batchUpdateStates" => {
            monetization::batch_update_states(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.get" => onetimeproducts::get(call, m),
        "androidpublisher.monetization.onetimeproducts.list" => onetimeproducts::list(call, m),
        "androidpublisher.monetization.onetimeproducts.patch" => onetimeproducts::patch(call, m),
        "androidpublisher.monetization.onetimeproducts.delete" => onetimeproducts::delete(call, m),
        "androidpublisher.monetization.onetimeproducts.batchGet" => {
            onetimeproducts::batch_get(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.batchUpdate" => {
            onetimeproducts::batch_update(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.batchDelete" => {
            onetimeproducts::batch_delete(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchUpdateStates" => {
            onetimeproducts::batch_update_states(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.list" => {
            onetimeoffers::list(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchGet" => {
            onetimeoffers::batch_get(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdate" => {
            onetimeoffers::batch_update(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchUpdateStates" => {
            onetimeoffers::batch_update_states(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.batchDelete" => {
            onetimeoffers::batch_delete(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.activate" => {
            onetimeoffers::activate(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.deactivate" => {
            onetimeoffers::deactivate(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.offers.cancel" => {
            onetimeoffers::cancel(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.batchMigratePrices" => {
            monetization::batch_migrate_prices(call, m)
        }
        "androidpublisher.monetization.convertRegionPrices" => {
            onetimeproducts::convert_region_prices(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdate" => {
            offers::batch_update(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.batchUpdateStates" => {
            offers::batch_update_states(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.list" => {
            offers::list(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.get" => offers::get(call, m),
        "androidpublisher.monetization.subscriptions.basePlans.offers.create" => {
            offers::create(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.patch" => {
            offers::patch(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.activate" => {
            offers::activate(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.deactivate" => {
            offers::deactivate(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.offers.batchGet" => {
            offers::batch_get(call, m)
        }
        "androidpublisher.monetization.onetimeproducts.purchaseOptions.batchDelete" => {
            onetimeproducts::batch_delete_purchase_options(call, m)
        }
        "androidpublisher.monetization.subscriptions.archive" => Err(GoogleError::new(
            501,
            "global",
            "notImplemented",
            "androidpublisher.monetization.subscriptions.archive is not implemented: \
             Google deprecated it (\"subscription archiving is not supported\").",
        )),
        "androidpublisher.monetization.subscriptions.basePlans.offers.delete" => {
            offers::delete(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.migratePrices" => {
            monetization::migrate_prices(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.activate" => {
            monetization::activate(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.deactivate" => {
            monetization::deactivate(call, m)
        }
        "androidpublisher.monetization.subscriptions.basePlans.delete" => {
            monetization::delete_base_plan(call, m)
        }
        "androidpublisher.externaltransactions.createexternaltransaction" => {
            external_transactions::create(call, m)
        }
        "androidpublisher.externaltransactions.getexternaltransaction" => {
            external_transactions::get(call, m)
        }
        "androidpublisher.externaltransactions.refundexternaltransaction" => {
            external_transactions::refund(call, m)
        }
        other => Err(GoogleError::new(
            501,
            "global",
            "notImplemented",
            format!("{other} is not implemented"),
        )),
    }
}

/// The fallback handler for everything under `/androidpublisher/`.
pub async fn handle(
    State(state): State<SharedState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/');
    let Some((route, params)) = find_route(method.as_str(), path) else {
        return GoogleError::not_found(format!(
            "The requested URL /{path} was not found on this server."
        ))
        .into_response();
    };
    if let Some(injected) = crate::faults::enter(&state, route.id).await {
        return injected.into_response(IntoResponse::into_response);
    }
    match serve(&state, route, params, &uri, &headers, &body) {
        Ok(Reply::Json(mut v)) => {
            omit_empty_lists(&mut v);
            (StatusCode::OK, axum::Json(v)).into_response()
        }
        Ok(Reply::Empty) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => e.into_response(),
    }
}

/// One call of `route` that got past the faults: OAuth, package, body, clock, quota, method.
fn serve(
    state: &crate::Shared,
    route: &Route,
    params: HashMap<&'static str, String>,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Reply, GoogleError> {
    crate::oauth::check_bearer(state, headers)?;
    let package = params
        .get("packageName")
        .or_else(|| params.get("applicationsId"))
        .cloned()
        .unwrap_or_default();
    if package != state.config.package_name {
        return Err(GoogleError::new(
            404,
            "androidpublisher",
            "applicationNotFound",
            "No application was found for the given package name.",
        ));
    }
    let query = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(body).map_err(GoogleError::parse_error)?
    };
    if !body.is_null() && !body.is_object() {
        return Err(GoogleError::parse_error("The body must be a JSON object."));
    }
    #[cfg(feature = "contract")]
    {
        let violations = crate::contract::request_violations(route.id, &body);
        if !violations.is_empty() {
            return Err(GoogleError::invalid(format!(
                "Invalid JSON payload received (the discovery document's request schema of {}): {}",
                route.id,
                violations.join("; ")
            )));
        }
    }
    let call = Call {
        params,
        query,
        body,
    };
    let mut m = state.lock();
    m.settle();
    let now = m.now_ms();
    let quotas = m.quotas;
    m.quota_windows
        .charge(&quotas, now, &charges(route, &call))?;
    dispatch(route.id, &call, &mut m)
}

/// Deserializes a request body into a typed request, as Google's parse errors.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, GoogleError> {
    let v = if body.is_null() {
        Value::Object(Default::default())
    } else {
        body.clone()
    };
    serde_json::from_value(v).map_err(GoogleError::parse_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        let (r, p) = find_route(
            "POST",
            &format!(
                "{}/purchases/products/coins/tokens/abc:acknowledge",
                "androidpublisher/v3/applications/com.x"
            ),
        )
        .unwrap();
        assert_eq!(r.id, "androidpublisher.purchases.products.acknowledge");
        assert_eq!(p["token"], "abc");
        assert_eq!(p["productId"], "coins");
        let (r, _) = find_route(
            "GET",
            "androidpublisher/v3/applications/com.x/inappproducts:batchGet",
        )
        .unwrap();
        assert_eq!(r.id, "androidpublisher.inappproducts.batchGet");
        let (r, p) = find_route(
            "GET",
            "androidpublisher/v3/applications/com.x/inappproducts/sku%2E1",
        )
        .unwrap();
        assert_eq!(r.id, "androidpublisher.inappproducts.get");
        assert_eq!(p["sku"], "sku.1");
        assert!(find_route(
            "GET",
            "androidpublisher/v3/applications/com.x/purchases/products/a/tokens"
        )
        .is_none());
    }

    #[test]
    fn paths_the_model_builds_are_the_routes_it_names() {
        for r in ROUTES {
            let args: Vec<String> = r.params().map(|p| format!("{p}.1~x")).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let (found, params) = find_route(r.http_method, &r.path(&args)).unwrap();
            assert_eq!(found.id, r.id);
            assert_eq!(params.len(), args.len(), "{}", r.id);
        }
    }

    #[test]
    fn buckets() {
        let own = [
            (
                "androidpublisher.purchases.products.acknowledge",
                Bucket::Purchases,
            ),
            (
                "androidpublisher.purchases.products.consume",
                Bucket::Purchases,
            ),
            ("androidpublisher.purchases.products.get", Bucket::Purchases),
            (
                "androidpublisher.purchases.productsv2.getproductpurchasev2",
                Bucket::Purchases,
            ),
            (
                "androidpublisher.purchases.subscriptions.acknowledge",
                Bucket::Subscriptions,
            ),
            (
                "androidpublisher.purchases.subscriptionsv2.cancel",
                Bucket::Subscriptions,
            ),
            (
                "androidpublisher.purchases.subscriptionsv2.defer",
                Bucket::Subscriptions,
            ),
            (
                "androidpublisher.purchases.subscriptionsv2.revoke",
                Bucket::Subscriptions,
            ),
            (
                "androidpublisher.purchases.subscriptionsv2.get",
                Bucket::Subscriptions,
            ),
            ("androidpublisher.orders.batchget", Bucket::Purchases),
            ("androidpublisher.orders.get", Bucket::Purchases),
            (
                "androidpublisher.purchases.voidedpurchases.list",
                Bucket::VoidedPurchases30s,
            ),
            ("androidpublisher.orders.refund", Bucket::Purchases),
            (
                "androidpublisher.externaltransactions.refundexternaltransaction",
                Bucket::ExternalTransactions,
            ),
            (
                "androidpublisher.externaltransactions.getexternaltransaction",
                Bucket::ExternalTransactions,
            ),
            (
                "androidpublisher.externaltransactions.createexternaltransaction",
                Bucket::ExternalTransactions,
            ),
        ];
        for r in ROUTES {
            let expected = own
                .iter()
                .find(|(id, _)| *id == r.id)
                .map_or(Bucket::Monetization, |(_, b)| *b);
            assert_eq!(bucket(r), expected, "{}", r.id);
        }
    }
}
