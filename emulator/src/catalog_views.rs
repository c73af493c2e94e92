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
use play_model::onetimeproducts::{
    Availability, OneTimeProduct, OneTimeProductBuyPurchaseOption, OneTimeProductListing,
    OneTimeProductPurchaseOption,
    OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig as PurchaseOptionRegionalConfig,
    PurchaseOptionState,
};
use play_model::pricing::RegionsVersion;
use play_model::{Money, Price};

use crate::catalog_file::{Amount, LATEST_REGIONS_VERSION};
use crate::state::Model;

pub use play_model::ids::LEGACY_OPTION;

/// The `InAppProduct` view of a `OneTimeProduct`: `None` without a legacy-compatible buy
/// option (the legacy API does not show it).
pub fn legacy_view(p: &OneTimeProduct, package: &str) -> Option<InAppProduct> {
    let option = p
        .purchase_options
        .iter()
        .find(|o| o.is_legacy_compatible())?;
    let prices: BTreeMap<String, Price> = option
        .regional_pricing_and_availability_configs
        .iter()
        .filter_map(|c| {
            let a = Amount::of_money(c.price.as_ref()?)?;
            Some((c.region_code.clone()?, a.price()))
        })
        .collect();
    let default_price = prices.get("US").or_else(|| prices.values().next()).cloned();
    let listings: BTreeMap<String, InAppProductListing> = p
        .listings
        .iter()
        .map(|l| {
            let listing = InAppProductListing {
                title: l.title.clone(),
                description: Some(l.description.clone().unwrap_or_default()),
                benefits: Vec::new(),
            };
            (l.language_code.clone().unwrap_or_default(), listing)
        })
        .collect();
    let default_language = match listings.contains_key("en-US") {
        true => Some("en-US".to_string()),
        false => listings.keys().next().cloned(),
    };
    Some(InAppProduct {
        package_name: Some(package.into()),
        sku: p.product_id.clone(),
        status: Some(
            if option.state == Some(PurchaseOptionState::Active) {
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
/// options and fields it keeps).
pub fn one_time_view(
    iap: &InAppProduct,
    package: &str,
    existing: Option<&OneTimeProduct>,
) -> OneTimeProduct {
    let mut view = existing.cloned().unwrap_or_default();
    let legacy = view
        .purchase_options
        .iter()
        .position(OneTimeProductPurchaseOption::is_legacy_compatible);
    let id = legacy
        .map(|i| view.purchase_options[i].id().to_string())
        .unwrap_or_else(|| LEGACY_OPTION.to_string());
    let state = if iap.is_active() {
        PurchaseOptionState::Active
    } else if legacy
        .is_some_and(|i| view.purchase_options[i].state != Some(PurchaseOptionState::Draft))
    {
        PurchaseOptionState::Inactive
    } else {
        PurchaseOptionState::Draft
    };
    let option = OneTimeProductPurchaseOption {
        purchase_option_id: Some(id),
        state: Some(state),
        buy_option: Some(OneTimeProductBuyPurchaseOption {
            legacy_compatible: Some(true),
            multi_quantity_enabled: Some(false),
        }),
        regional_pricing_and_availability_configs: iap
            .prices
            .iter()
            .map(|(r, p)| PurchaseOptionRegionalConfig {
                region_code: Some(r.clone()),
                price: Some(Money::from_micros(p.price_micros, &p.currency)),
                availability: Some(Availability::Available),
            })
            .collect(),
        ..OneTimeProductPurchaseOption::default()
    };
    match legacy {
        Some(i) => view.purchase_options[i] = option,
        None => view.purchase_options.push(option),
    }
    view.package_name = Some(package.to_string());
    view.product_id = iap.sku.clone();
    view.listings = iap
        .listings
        .iter()
        .map(|(lang, l)| OneTimeProductListing {
            language_code: Some(lang.clone()),
            title: l.title.clone(),
            description: Some(l.description.clone().unwrap_or_default()),
        })
        .collect();
    view.regions_version = Some(RegionsVersion {
        version: Some(LATEST_REGIONS_VERSION.to_string()),
    });
    view
}

/// Stores a one-time product and its legacy view.
pub fn store_one_time(m: &mut Model, id: String, p: OneTimeProduct) {
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
        let active_legacy = view
            .purchase_options
            .iter()
            .find(|o| o.is_legacy_compatible() && o.state == Some(PurchaseOptionState::Active));
        if let Some(o) = active_legacy {
            m.ever_active_purchase_options
                .insert((sku.clone(), o.id().to_string()));
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
