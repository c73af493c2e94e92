//! `catalog pull`: the live catalog as a catalog file — sorted by id (the file's maps are
//! ordered), explicit prices, output-only fields dropped, deterministic. One-time products
//! come from `monetization.onetimeproducts`; products only the legacy `inappproducts` API
//! knows (an app that has not migrated) are added with one legacy-compatible purchase option
//! `legacy`; a migrated app's 403 ("Please migrate to the new publishing API.") just means
//! there are none. What Google does not hold (a one-time product's `kind`, the file's
//! `regions_version`) is kept from the existing file.

use std::collections::{BTreeMap, BTreeSet};

use play_emulator::catalog_file::{
    Amount, CatalogFile, EntryState, Listing, OfferEntry, OneTimeKind, OneTimeProductEntry,
    PurchaseOptionEntry, SubscriptionEntry,
};
use reqwest::Method;
use serde_json::Value;

use super::api::{ApiFailure, CatalogApi};

/// The purchase option id given to a legacy `InAppProduct`'s price.
pub const LEGACY_OPTION: &str = "legacy";

/// Every legacy `InAppProduct` (`[]` for a migrated app).
async fn legacy_products(api: &CatalogApi) -> Result<Vec<Value>, ApiFailure> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![("maxResults", "1000".to_string())];
        if let Some(t) = &token {
            query.push(("token", t.clone()));
        }
        let page = match api.read(Method::GET, "inappproducts", &query, None).await {
            Ok(p) => p,
            Err(ApiFailure::Refused(s)) if s.code == 403 && s.message.contains("migrate") => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(e),
        };
        out.extend(page["inappproduct"].as_array().cloned().unwrap_or_default());
        match page["tokenPagination"]["nextPageToken"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// A legacy `InAppProduct` in the file's model.
fn from_legacy(p: &Value, kind: OneTimeKind) -> OneTimeProductEntry {
    let listings = p["listings"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(lang, l)| {
            let text = |k: &str| l[k].as_str().unwrap_or_default().to_string();
            (
                lang.clone(),
                Listing {
                    title: text("title"),
                    description: text("description"),
                    benefits: Vec::new(),
                },
            )
        })
        .collect();
    let price = |v: &Value| -> Option<String> {
        let micros: i64 = v["priceMicros"].as_str()?.parse().ok()?;
        let c = v["currency"].as_str()?.as_bytes();
        (c.len() == 3).then(|| {
            Amount {
                micros,
                currency: [c[0], c[1], c[2]],
            }
            .to_string()
        })
    };
    let mut prices: BTreeMap<String, String> = p["prices"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(r, v)| Some((r.clone(), price(v)?)))
        .collect();
    if prices.is_empty() {
        if let Some(d) = price(&p["defaultPrice"]).filter(|d| d.ends_with(" USD")) {
            prices.insert("US".into(), d);
        }
    }
    let option = PurchaseOptionEntry {
        legacy_compatible: true,
        multi_quantity: false,
        state: if p["status"] == "active" {
            EntryState::Active
        } else {
            EntryState::Inactive
        },
        prices,
        auto_price: None,
        withdrawn: BTreeSet::new(),
    };
    OneTimeProductEntry {
        kind,
        listings,
        purchase_options: [(LEGACY_OPTION.to_string(), option)].into(),
    }
}

/// The live catalog as a file; `existing` supplies kinds and the regions version.
pub async fn pull(
    api: &CatalogApi,
    existing: Option<&CatalogFile>,
) -> Result<CatalogFile, ApiFailure> {
    let kind = |id: &str| {
        existing
            .and_then(|f| f.one_time_products.get(id))
            .map(|p| p.kind)
            .unwrap_or_default()
    };
    let mut file = CatalogFile {
        regions_version: existing.and_then(|f| f.regions_version.clone()),
        ..CatalogFile::default()
    };
    for p in super::list_all(api, "oneTimeProducts", "oneTimeProducts").await? {
        let id = p["productId"].as_str().unwrap_or_default().to_string();
        file.one_time_products
            .insert(id.clone(), OneTimeProductEntry::from_google(&p, kind(&id)));
    }
    for p in legacy_products(api).await? {
        let id = p["sku"].as_str().unwrap_or_default().to_string();
        let k = kind(&id);
        file.one_time_products
            .entry(id)
            .or_insert_with(|| from_legacy(&p, k));
    }
    for s in super::list_all(api, "subscriptions", "subscriptions").await? {
        let id = s["productId"].as_str().unwrap_or_default().to_string();
        file.subscriptions
            .insert(id, SubscriptionEntry::from_google(&s));
    }
    let offers = super::list_all(
        api,
        "subscriptions/-/basePlans/-/offers",
        "subscriptionOffers",
    );
    for o in offers.await? {
        let text = |k: &str| o[k].as_str().unwrap_or_default().to_string();
        let plan = file
            .subscriptions
            .get_mut(&text("productId"))
            .and_then(|s| s.base_plans.get_mut(&text("basePlanId")));
        if let Some(plan) = plan {
            plan.offers
                .insert(text("offerId"), OfferEntry::from_google(&o));
        }
    }
    Ok(file)
}
