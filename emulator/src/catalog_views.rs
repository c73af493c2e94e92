//! One catalog, two API views, as on Google Play: a one-time product written through
//! `monetization.onetimeproducts` shows through the legacy `inappproducts` (its
//! legacy-compatible buy option is the `InAppProduct`: price per region, listings, status),
//! and an `InAppProduct` written through `inappproducts` shows through
//! `monetization.onetimeproducts` as a one-time product with one legacy-compatible buy option
//! (`legacy`, or the product's existing legacy-compatible option). A migrated app's
//! `inappproducts` answers 403, but the view stays: the device sandbox sells what it holds.
//!
//! Every write of either store goes through [`store_one_time`] / [`store_legacy`] and every
//! delete through [`remove`], so the two never disagree.

use serde_json::{json, Value};

use crate::catalog_file::{Amount, LATEST_REGIONS_VERSION};
use crate::state::Model;

pub use play_model::ids::LEGACY_OPTION;

fn legacy_price(money: &Value) -> Option<Value> {
    let a = Amount::from_money(money)?;
    Some(json!({ "priceMicros": a.micros.to_string(), "currency": a.currency() }))
}

/// The `InAppProduct` view of a `OneTimeProduct`: `None` without a legacy-compatible buy
/// option (the legacy API does not show it).
pub fn legacy_view(p: &Value, package: &str) -> Option<Value> {
    let option = p["purchaseOptions"]
        .as_array()?
        .iter()
        .find(|o| o["buyOption"]["legacyCompatible"] == true)?;
    let mut prices = serde_json::Map::new();
    for c in option["regionalPricingAndAvailabilityConfigs"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let region = c["regionCode"].as_str().unwrap_or_default();
        if let Some(price) = legacy_price(&c["price"]) {
            prices.insert(region.to_string(), price);
        }
    }
    let default_price = prices
        .get("US")
        .or_else(|| prices.values().next())
        .cloned()
        .unwrap_or_else(|| json!({ "priceMicros": "0", "currency": "USD" }));
    let mut listings = serde_json::Map::new();
    for l in p["listings"].as_array().into_iter().flatten() {
        let lang = l["languageCode"].as_str().unwrap_or_default();
        listings.insert(
            lang.to_string(),
            json!({ "title": l["title"], "description": l["description"].as_str().unwrap_or_default() }),
        );
    }
    let default_language = if listings.contains_key("en-US") {
        "en-US".to_string()
    } else {
        listings.keys().next().cloned().unwrap_or_default()
    };
    Some(json!({
        "packageName": package,
        "sku": p["productId"],
        "status": if option["state"] == "ACTIVE" { "active" } else { "inactive" },
        "purchaseType": "managedUser",
        "defaultPrice": default_price,
        "prices": prices,
        "defaultLanguage": default_language,
        "listings": listings,
    }))
}

/// The `OneTimeProduct` view of an `InAppProduct`, over `existing` (whose other purchase
/// options it keeps).
pub fn one_time_view(iap: &Value, package: &str, existing: Option<&Value>) -> Value {
    let money = |v: &Value| -> Option<Value> {
        let micros: i64 = v["priceMicros"].as_str()?.parse().ok()?;
        let currency = v["currency"].as_str()?;
        Some(crate::catalog::money_from_micros(micros, currency))
    };
    let configs: Vec<Value> = iap["prices"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(r, v)| {
            Some(json!({ "regionCode": r, "price": money(v)?, "availability": "AVAILABLE" }))
        })
        .collect();
    let listings: Vec<Value> = iap["listings"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(lang, l)| json!({ "languageCode": lang, "title": l["title"], "description": l["description"].as_str().unwrap_or_default() }))
        .collect();
    let mut options: Vec<Value> = existing
        .and_then(|e| e["purchaseOptions"].as_array())
        .cloned()
        .unwrap_or_default();
    let legacy = options
        .iter()
        .position(|o| o["buyOption"]["legacyCompatible"] == true);
    let id = legacy
        .map(|i| options[i]["purchaseOptionId"].clone())
        .unwrap_or_else(|| json!(LEGACY_OPTION));
    let state = if iap["status"] == "active" {
        "ACTIVE"
    } else if legacy.is_some_and(|i| options[i]["state"] != "DRAFT") {
        "INACTIVE"
    } else {
        "DRAFT"
    };
    let option = json!({
        "purchaseOptionId": id,
        "state": state,
        "buyOption": { "legacyCompatible": true, "multiQuantityEnabled": false },
        "regionalPricingAndAvailabilityConfigs": configs,
    });
    match legacy {
        Some(i) => options[i] = option,
        None => options.push(option),
    }
    json!({
        "packageName": package,
        "productId": iap["sku"],
        "listings": listings,
        "purchaseOptions": options,
        "regionsVersion": { "version": LATEST_REGIONS_VERSION },
    })
}

/// Stores a one-time product and its legacy view.
pub fn store_one_time(m: &mut Model, id: String, p: Value) {
    match legacy_view(&p, &m.package_name) {
        Some(v) => {
            m.in_app_products.insert(id.clone(), v);
        }
        None => {
            m.in_app_products.remove(&id);
        }
    }
    m.one_time_products.insert(id, p);
}

/// Stores an `InAppProduct` and its one-time product view (legacy subscriptions have none).
pub fn store_legacy(m: &mut Model, sku: String, p: Value) {
    if p["purchaseType"] != "subscription" {
        let view = one_time_view(&p, &m.package_name, m.one_time_products.get(&sku));
        let active_legacy = view["purchaseOptions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["buyOption"]["legacyCompatible"] == true && o["state"] == "ACTIVE")
            .and_then(|o| o["purchaseOptionId"].as_str());
        if let Some(id) = active_legacy {
            m.ever_active_purchase_options
                .insert((sku.clone(), id.to_string()));
        }
        m.one_time_products.insert(sku.clone(), view);
    }
    m.in_app_products.insert(sku, p);
}

/// Deletes a product from both views, with its offers.
pub fn remove(m: &mut Model, id: &str) {
    m.one_time_products.remove(id);
    m.in_app_products.remove(id);
    let prefix = format!("{id}/");
    m.one_time_offers.retain(|k, _| !k.starts_with(&prefix));
}
