//! `monetization.subscriptions`: create (`productId`, `regionsVersion.version`), get, list
//! (`pageSize` ≤ 1000, `pageToken`), patch (`updateMask`, `allowMissing`), delete (only while
//! no base plan was ever active), batchGet / batchUpdate (≤ 100), and base plans activate /
//! deactivate / delete. Base plan `state` is output only: new base plans are DRAFT.

use base64::Engine;
use serde_json::{json, Value};

use super::inappproducts::{batch_size, check_identity, check_tolerance};
use super::onetimeproducts::{check_region_currency, masked_merge, refuse_removed_published};
use super::{Call, Reply};
use crate::catalog_file::find_by;
use crate::clock::Period;
use crate::error::GoogleError;
use crate::state::Model;

const MASKABLE: [&str; 4] = [
    "listings",
    "basePlans",
    "taxAndComplianceSettings",
    "restrictedPaymentCountries",
];

fn not_found(id: &str) -> GoogleError {
    GoogleError::not_found(format!("Subscription not found: {id}"))
}

fn check_money(v: &Value, field: &str) -> Result<(), GoogleError> {
    let code = v["currencyCode"].as_str().unwrap_or_default();
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(GoogleError::invalid(format!(
            "{field}.currencyCode must be an ISO 4217 code."
        )));
    }
    if crate::catalog::money_to_micros(v).is_none_or(|m| m < 0) {
        return Err(GoogleError::invalid(format!(
            "{field}: units must be a non-negative int64 string."
        )));
    }
    Ok(())
}

/// Validates a `Subscription` for `product_id`; base plans keep their stored state (new
/// ones are DRAFT).
fn validate(
    mut s: Value,
    product_id: &str,
    package: &str,
    existing: Option<&Value>,
    version: &str,
) -> Result<Value, GoogleError> {
    let Some(obj) = s.as_object_mut() else {
        return Err(GoogleError::invalid(
            "The subscription must be a JSON object.",
        ));
    };
    check_identity(obj, product_id, package)?;
    obj.insert("productId".into(), json!(product_id));
    obj.insert("packageName".into(), json!(package));
    obj.remove("archived");
    let listings = obj
        .get("listings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if listings.is_empty() {
        return Err(GoogleError::invalid("At least one listing is required."));
    }
    for (i, l) in listings.iter().enumerate() {
        if l["languageCode"].as_str().is_none_or(str::is_empty)
            || l["title"].as_str().is_none_or(str::is_empty)
        {
            return Err(GoogleError::invalid(format!(
                "listings[{i}] needs a languageCode and a title."
            )));
        }
    }
    let mut plans = obj
        .get("basePlans")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut ids = std::collections::BTreeSet::new();
    for (i, b) in plans.iter_mut().enumerate() {
        let id = b["basePlanId"].as_str().unwrap_or_default().to_string();
        if !play_model::ids::is_option_id(&id) {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}].basePlanId {id:?} is invalid."
            )));
        }
        if !ids.insert(id.clone()) {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}]: duplicate basePlanId {id}."
            )));
        }
        let types = [
            "autoRenewingBasePlanType",
            "prepaidBasePlanType",
            "installmentsBasePlanType",
        ];
        let set: Vec<&str> = types
            .iter()
            .copied()
            .filter(|t| b.get(*t).is_some_and(Value::is_object))
            .collect();
        if set.len() != 1 {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}] needs exactly one base plan type."
            )));
        }
        let period = b[set[0]]["billingPeriodDuration"]
            .as_str()
            .unwrap_or_default();
        if Period::parse(period).is_none() {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}].{}.billingPeriodDuration {period:?} is invalid.",
                set[0]
            )));
        }
        if set[0] == "installmentsBasePlanType" {
            let t = &b[set[0]];
            if t["committedPaymentsCount"].as_u64().is_none_or(|n| n < 2) {
                return Err(GoogleError::invalid(format!(
                    "basePlans[{i}].installmentsBasePlanType.committedPaymentsCount must be at least 2."
                )));
            }
            if !matches!(
                t["renewalType"].as_str(),
                Some(
                    "RENEWAL_TYPE_RENEWS_WITHOUT_COMMITMENT"
                        | "RENEWAL_TYPE_RENEWS_WITH_COMMITMENT"
                )
            ) {
                return Err(GoogleError::required(&format!(
                    "basePlans[{i}].installmentsBasePlanType.renewalType"
                )));
            }
        }
        for (j, c) in b["regionalConfigs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if c["regionCode"].as_str().is_none_or(str::is_empty) {
                return Err(GoogleError::required(&format!(
                    "basePlans[{i}].regionalConfigs[{j}].regionCode"
                )));
            }
            let field = format!("basePlans[{i}].regionalConfigs[{j}].price");
            check_money(&c["price"], &field)?;
            check_region_currency(
                c["regionCode"].as_str().unwrap_or_default(),
                &c["price"],
                version,
                &field,
            )?;
        }
        let stored_plan = existing.and_then(|e| find_by(&e["basePlans"], "basePlanId", &id));
        if let Some(stored_plan) = stored_plan {
            check_immutable(stored_plan, b, set[0], &id)?;
        }
        let stored = stored_plan
            .and_then(|p| p["state"].as_str())
            .unwrap_or("DRAFT");
        b["state"] = json!(stored);
    }
    refuse_removed_published(existing, "basePlans", "basePlanId", &ids, "Base plan")?;
    obj.insert("basePlans".into(), json!(plans));
    Ok(s)
}

/// Google's refusals of a change to a stored base plan: its type and billing period are
/// immutable, and a region once added is never removed.
fn check_immutable(
    stored: &Value,
    new: &Value,
    new_type: &str,
    id: &str,
) -> Result<(), GoogleError> {
    let stored_type = [
        "autoRenewingBasePlanType",
        "prepaidBasePlanType",
        "installmentsBasePlanType",
    ]
    .into_iter()
    .find(|t| stored[*t].is_object())
    .unwrap_or(new_type);
    if stored_type != new_type {
        return Err(GoogleError::invalid(format!(
            "Base plan {id}: the base plan type cannot be changed."
        )));
    }
    for field in [
        "billingPeriodDuration",
        "committedPaymentsCount",
        "renewalType",
    ] {
        if stored[stored_type][field] != new[new_type][field] {
            return Err(GoogleError::invalid(format!(
                "Base plan {id}: {field} is immutable."
            )));
        }
    }
    let regions = |v: &Value| -> Vec<String> {
        v["regionalConfigs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["regionCode"].as_str().map(String::from))
            .collect()
    };
    let now = regions(new);
    if let Some(gone) = regions(stored).into_iter().find(|r| !now.contains(r)) {
        return Err(GoogleError::invalid(format!(
            "Cannot remove region once it has been added: {gone}"
        )));
    }
    Ok(())
}

fn require_regions_version(version: Option<&str>) -> Result<&str, GoogleError> {
    match version {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(GoogleError::required("regionsVersion.version")),
    }
}

/// `monetization.subscriptions.create`.
pub fn create(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call
        .query("productId")
        .ok_or_else(|| GoogleError::required("productId"))?
        .to_string();
    let version = require_regions_version(call.query("regionsVersion.version"))?;
    if m.subscriptions.contains_key(&id)
        || m.in_app_products.contains_key(&id)
        || m.one_time_products.contains_key(&id)
    {
        return Err(GoogleError::already_exists(format!(
            "Product {id} already exists."
        )));
    }
    let s = validate(call.body.clone(), &id, &m.package_name, None, version)?;
    m.subscriptions.insert(id, s.clone());
    Ok(Reply::Json(s))
}

/// `monetization.subscriptions.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("productId");
    m.subscriptions
        .get(id)
        .cloned()
        .map(Reply::Json)
        .ok_or_else(|| not_found(id))
}

/// `monetization.subscriptions.list`.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    call.query_bool("showArchived")?;
    page(call, &m.subscriptions, "subscriptions", "subs")
}

/// One page (`pageSize` ≤ 1000, default 50; `pageToken`) of a monetization list: the
/// resources under `key`, and `nextPageToken` while more follow.
pub(crate) fn page(
    call: &Call,
    all: &std::collections::BTreeMap<String, Value>,
    key: &str,
    token_prefix: &str,
) -> Result<Reply, GoogleError> {
    let (items, next) = page_of(call, all, token_prefix)?;
    Ok(page_reply(key, items, next))
}

/// A page of a list still kept as JSON: `items` under `key`, and `nextPageToken` if any.
pub(crate) fn page_reply(key: &str, items: Vec<Value>, next: Option<String>) -> Reply {
    let mut out = json!({ key: items });
    if let Some(t) = next {
        out["nextPageToken"] = json!(t);
    }
    Reply::Json(out)
}

/// One page (`pageSize` ≤ 1000, default 50; `pageToken`) of `all`, and the next page's
/// token while more follow.
pub(crate) fn page_of<T: Clone>(
    call: &Call,
    all: &std::collections::BTreeMap<String, T>,
    token_prefix: &str,
) -> Result<(Vec<T>, Option<String>), GoogleError> {
    let size = call.query_i64("pageSize")?.unwrap_or(50);
    let size = if size <= 0 { 50 } else { size.min(1000) } as usize;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let start: usize = match call.query("pageToken") {
        Some(t) if !t.is_empty() => b64
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix(token_prefix)
                    .and_then(|r| r.strip_prefix(':'))
                    .and_then(|n| n.parse().ok())
            })
            .ok_or_else(|| GoogleError::invalid("Invalid page token."))?,
        _ => 0,
    };
    let items: Vec<T> = all.values().skip(start).take(size).cloned().collect();
    let next =
        (start + size < all.len()).then(|| b64.encode(format!("{token_prefix}:{}", start + size)));
    Ok((items, next))
}

fn apply_patch(
    m: &Model,
    id: &str,
    body: &Value,
    mask: &str,
    allow_missing: bool,
    version: &str,
) -> Result<Value, GoogleError> {
    let existing = m.subscriptions.get(id);
    let base = match existing {
        Some(e) => e.clone(),
        None if allow_missing => json!({}),
        None => return Err(not_found(id)),
    };
    let merged = masked_merge(base, body, Some(mask), &MASKABLE)?;
    if existing.is_none() && m.one_time_products.contains_key(id) {
        return Err(GoogleError::already_exists(format!(
            "{id} is a one-time product."
        )));
    }
    validate(merged, id, &m.package_name, existing, version)
}

/// `monetization.subscriptions.patch`.
pub fn patch(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let version = require_regions_version(call.query("regionsVersion.version"))?;
    let id = call.param("productId").to_string();
    let mask = call
        .query("updateMask")
        .ok_or_else(|| GoogleError::required("updateMask"))?;
    let s = apply_patch(
        m,
        &id,
        &call.body,
        mask,
        call.query_bool("allowMissing")?,
        version,
    )?;
    m.subscriptions.insert(id, s.clone());
    Ok(Reply::Json(s))
}

fn ever_active(m: &Model, id: &str) -> bool {
    m.ever_active_base_plans.iter().any(|(p, _)| p == id)
}

/// `monetization.subscriptions.delete`: refused once a base plan was ever active.
pub fn delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("productId");
    if !m.subscriptions.contains_key(id) {
        return Err(not_found(id));
    }
    if ever_active(m, id) {
        return Err(GoogleError::failed_precondition(
            "A subscription with a base plan that was ever active cannot be deleted.",
        ));
    }
    m.subscriptions.remove(id);
    Ok(Reply::Empty)
}

/// `monetization.subscriptions.batchGet` (`productIds` repeated, ≤ 100).
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let ids = call.query_all("productIds");
    if ids.is_empty() || ids.len() > 100 {
        return Err(GoogleError::invalid(
            "productIds must name between 1 and 100 subscriptions.",
        ));
    }
    let subs = ids
        .iter()
        .map(|i| m.subscriptions.get(i).cloned().ok_or_else(|| not_found(i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::Json(json!({ "subscriptions": subs })))
}

/// `monetization.subscriptions.batchUpdate` (≤ 100, all or nothing).
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let requests = call.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    batch_size(requests.len())?;
    let mut staged = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        check_tolerance(r["latencyTolerance"].as_str())?;
        if r["regionsVersion"]["version"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            return Err(GoogleError::required(&format!(
                "requests[{i}].regionsVersion.version"
            )));
        }
        let id = r["subscription"]["productId"].as_str().ok_or_else(|| {
            GoogleError::required(&format!("requests[{i}].subscription.productId"))
        })?;
        let mask = r["updateMask"]
            .as_str()
            .ok_or_else(|| GoogleError::required(&format!("requests[{i}].updateMask")))?;
        if staged.iter().any(|(s, _): &(String, Value)| s == id) {
            return Err(GoogleError::invalid(format!(
                "requests[{i}]: {id} appears twice."
            )));
        }
        let s = apply_patch(
            m,
            id,
            &r["subscription"],
            mask,
            r["allowMissing"].as_bool().unwrap_or(false),
            r["regionsVersion"]["version"].as_str().unwrap_or_default(),
        )
        .map_err(|mut e| {
            e.message = format!("requests[{i}] ({id}): {}", e.message);
            e
        })?;
        staged.push((id.to_string(), s));
    }
    let mut out = Vec::new();
    for (id, s) in staged {
        m.subscriptions.insert(id, s.clone());
        out.push(s);
    }
    Ok(Reply::Json(json!({ "subscriptions": out })))
}

fn set_state(call: &Call, m: &mut Model, to: &str) -> Result<Reply, GoogleError> {
    check_tolerance(call.body["latencyTolerance"].as_str())?;
    let id = call.param("productId").to_string();
    let plan_id = call.param("basePlanId").to_string();
    let mut sub = m
        .subscriptions
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    change_state(&mut sub, &id, &plan_id, to)?;
    m.subscriptions.insert(id.clone(), sub.clone());
    if to == "ACTIVE" {
        m.ever_active_base_plans.insert((id, plan_id));
    }
    Ok(Reply::Json(sub))
}

/// DRAFT or INACTIVE → ACTIVE, ACTIVE → INACTIVE of one base plan of `sub`.
fn change_state(sub: &mut Value, id: &str, plan_id: &str, to: &str) -> Result<(), GoogleError> {
    let plan = sub["basePlans"]
        .as_array_mut()
        .and_then(|p| p.iter_mut().find(|p| p["basePlanId"] == plan_id))
        .ok_or_else(|| GoogleError::not_found(format!("Base plan not found: {id}/{plan_id}")))?;
    if to == "INACTIVE" && plan["state"] != "ACTIVE" {
        return Err(GoogleError::failed_precondition(
            "Only an active base plan can be deactivated.",
        ));
    }
    plan["state"] = json!(to);
    Ok(())
}

/// `monetization.subscriptions.basePlans.batchUpdateStates` (≤ 100, all or nothing; the
/// path's `productId` is `-` or each entry's product).
pub fn batch_update_states(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let mut activated = Vec::new();
    let staged = super::states::batch_update_states(
        call,
        &[
            ("activateBasePlanRequest", "ACTIVE"),
            ("deactivateBasePlanRequest", "INACTIVE"),
        ],
        |inner| {
            let id = inner["productId"].as_str().unwrap_or_default();
            let sub = m
                .subscriptions
                .get(id)
                .cloned()
                .ok_or_else(|| not_found(id))?;
            Ok((id.to_string(), sub))
        },
        |sub, inner, to| {
            let id = inner["productId"].as_str().unwrap_or_default();
            let plan_id = inner["basePlanId"].as_str().unwrap_or_default();
            change_state(sub, id, plan_id, to)?;
            if to == "ACTIVE" {
                activated.push((id.to_string(), plan_id.to_string()));
            }
            Ok(())
        },
    )?;
    m.ever_active_base_plans.extend(activated);
    let mut out = Vec::new();
    for (id, s) in staged {
        m.subscriptions.insert(id, s.clone());
        out.push(s);
    }
    Ok(Reply::Json(json!({ "subscriptions": out })))
}

/// `monetization.subscriptions.basePlans.activate`.
pub fn activate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, "ACTIVE")
}

/// `monetization.subscriptions.basePlans.deactivate`.
pub fn deactivate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, "INACTIVE")
}

/// `monetization.subscriptions.basePlans.delete`: only a base plan that was never active.
pub fn delete_base_plan(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("productId").to_string();
    let plan_id = call.param("basePlanId").to_string();
    if m.ever_active_base_plans
        .contains(&(id.clone(), plan_id.clone()))
    {
        return Err(GoogleError::failed_precondition(
            "A base plan that was ever active cannot be deleted.",
        ));
    }
    let sub = m.subscriptions.get_mut(&id).ok_or_else(|| not_found(&id))?;
    let plans = sub["basePlans"]
        .as_array_mut()
        .ok_or_else(|| GoogleError::not_found("Base plan not found"))?;
    let before = plans.len();
    plans.retain(|p| p["basePlanId"] != plan_id.as_str());
    if plans.len() == before {
        return Err(GoogleError::not_found(format!(
            "Base plan not found: {id}/{plan_id}"
        )));
    }
    Ok(Reply::Empty)
}

/// `monetization.subscriptions.basePlans.migratePrices`: moves the legacy price cohorts of
/// the given regions to the current price. The base plan must be published (ACTIVE or
/// INACTIVE) and sell in each region; `oldestAllowedPriceVersionTime` must be an RFC 3339
/// time; an opt-out increase is refused, as the app's first one must be started in the
/// Play Console (the emulator has no Console).
pub fn migrate_prices(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_migration(
        m,
        call.param("productId"),
        call.param("basePlanId"),
        &call.body,
    )?;
    Ok(Reply::Json(json!({})))
}

/// `monetization.subscriptions.basePlans.batchMigratePrices`: 1–100 migrations, each
/// checked as `migratePrices` checks one (the path's `productId` is `-` or each entry's),
/// all refused if one is.
pub fn batch_migrate_prices(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let requests = call.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    batch_size(requests.len())?;
    let path_product = call.param("productId");
    for (i, r) in requests.iter().enumerate() {
        let id = r["productId"].as_str().unwrap_or_default();
        if !matches!(path_product, "-" | "") && id != path_product {
            return Err(GoogleError::invalid(format!(
                "requests[{i}].productId does not match the URL."
            )));
        }
        let plan_id = r["basePlanId"].as_str().unwrap_or_default();
        check_migration(m, id, plan_id, r).map_err(|mut e| {
            e.message = format!("requests[{i}] ({id}/{plan_id}): {}", e.message);
            e
        })?;
    }
    Ok(Reply::Json(
        json!({ "responses": vec![json!({}); requests.len()] }),
    ))
}

fn check_migration(m: &Model, id: &str, plan_id: &str, body: &Value) -> Result<(), GoogleError> {
    check_tolerance(body["latencyTolerance"].as_str())?;
    require_regions_version(body["regionsVersion"]["version"].as_str())?;
    let sub = m.subscriptions.get(id).ok_or_else(|| not_found(id))?;
    let plan = find_by(&sub["basePlans"], "basePlanId", plan_id)
        .ok_or_else(|| GoogleError::not_found(format!("Base plan not found: {id}/{plan_id}")))?;
    if plan["state"] == "DRAFT" {
        return Err(GoogleError::failed_precondition(format!(
            "Base plan {id}/{plan_id} was never published: it has no legacy price cohorts."
        )));
    }
    let migrations = body["regionalPriceMigrations"]
        .as_array()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| GoogleError::required("regionalPriceMigrations"))?;
    for (i, r) in migrations.iter().enumerate() {
        let region = r["regionCode"].as_str().unwrap_or_default();
        if find_by(&plan["regionalConfigs"], "regionCode", region).is_none() {
            return Err(GoogleError::invalid(format!(
                "regionalPriceMigrations[{i}]: the base plan does not sell in region {region:?}."
            )));
        }
        let time = r["oldestAllowedPriceVersionTime"]
            .as_str()
            .unwrap_or_default();
        if time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
            .is_err()
        {
            return Err(GoogleError::invalid(format!(
                "regionalPriceMigrations[{i}].oldestAllowedPriceVersionTime {time:?} is not an RFC 3339 time."
            )));
        }
        match r["priceIncreaseType"].as_str() {
            None | Some("PRICE_INCREASE_TYPE_UNSPECIFIED" | "PRICE_INCREASE_TYPE_OPT_IN") => {}
            Some("PRICE_INCREASE_TYPE_OPT_OUT") => {
                return Err(GoogleError::failed_precondition(
                    "The first opt-out price increase for an app must be initiated in the Play Console.",
                ))
            }
            Some(other) => {
                return Err(GoogleError::invalid(format!(
                    "regionalPriceMigrations[{i}].priceIncreaseType {other:?} is invalid."
                )))
            }
        }
    }
    Ok(())
}
