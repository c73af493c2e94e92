//! One catalog, two API views, as on Google Play: a one-time product written through
//! `monetization.onetimeproducts` shows through the legacy `inappproducts` (its
//! legacy-compatible buy option is the `InAppProduct`: price per region, listings, status),
//! and an `InAppProduct` written through `inappproducts` shows through
//! `monetization.onetimeproducts` as a one-time product with one legacy-compatible buy option
//! (`legacy-base`, or the product's existing legacy-compatible option). A migrated app's
//! `inappproducts` answers 403, but the view stays: the device sandbox sells what it holds.
//!
//! Every write of either store goes through [`store_one_time`] / [`store_legacy`] and every
//! delete through [`remove`], so the two never disagree.

use std::collections::BTreeMap;

use play_model::inappproducts::{
    InAppProduct, InAppProductListing, ACTIVE, INACTIVE, MANAGED_USER,
};
use play_model::{Money, Price};
use serde_json::{json, Value};

use crate::catalog_file::{Amount, LATEST_REGIONS_VERSION};
use crate::state::Model;

pub use play_model::ids::LEGACY_OPTION;

/// The `InAppProduct` view of a `OneTimeProduct`: `None` without a legacy-compatible buy
/// option (the legacy API does not show it).
pub fn legacy_view(p: &Value, package: &str) -> Option<InAppProduct> {
    let option = p["purchaseOptions"]
        .as_array()?
        .iter()
        .find(|o| o["buyOption"]["legacyCompatible"] == true)?;
    let prices: BTreeMap<String, Price> = option["regionalPricingAndAvailabilityConfigs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let a = Amount::from_money(&c["price"])?;
            Some((c["regionCode"].as_str()?.to_string(), a.price()))
        })
        .collect();
    let default_price = prices.get("US").or_else(|| prices.values().next()).cloned();
    let text = |l: &Value, k: &str| l[k].as_str().map(String::from);
    let listings: BTreeMap<String, InAppProductListing> = p["listings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let listing = InAppProductListing {
                title: text(l, "title"),
                description: Some(text(l, "description").unwrap_or_default()),
                benefits: Vec::new(),
            };
            (text(l, "languageCode").unwrap_or_default(), listing)
        })
        .collect();
    let default_language = match listings.contains_key("en-US") {
        true => Some("en-US".to_string()),
        false => listings.keys().next().cloned(),
    };
    Some(InAppProduct {
        package_name: Some(package.into()),
        sku: text(p, "productId"),
        status: Some(
            if option["state"] == "ACTIVE" {
                ACTIVE
            } else {
                INACTIVE
            }
            .into(),
        ),
        purchase_type: Some(MANAGED_USER.into()),
        default_price: default_price.or_else(|| Some(Price::new(0, "USD"))),
        prices,
        default_language,
        listings,
        ..InAppProduct::default()
    })
}

/// The `OneTimeProduct` view of an `InAppProduct`, over `existing` (whose other purchase
/// options it keeps).
pub fn one_time_view(iap: &InAppProduct, package: &str, existing: Option<&Value>) -> Value {
    let configs: Vec<Value> = iap
        .prices
        .iter()
        .map(|(r, p)| {
            let price = Money::from_micros(p.price_micros, &p.currency);
            json!({ "regionCode": r, "price": price, "availability": "AVAILABLE" })
        })
        .collect();
    let listings: Vec<Value> = iap
        .listings
        .iter()
        .map(|(lang, l)| json!({ "languageCode": lang, "title": l.title, "description": l.description.as_deref().unwrap_or_default() }))
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
    let state = if iap.is_active() {
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
        "productId": iap.sku,
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
pub fn store_legacy(m: &mut Model, sku: String, p: InAppProduct) {
    if !p.is_subscription() {
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
