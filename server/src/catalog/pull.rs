//! `catalog pull`: the live catalog as a catalog file — sorted by id (the file's maps are
//! ordered), explicit prices, output-only fields dropped, deterministic; refused, naming
//! each entry, when the app holds what the file cannot express (game reward offers). One-time products
//! come from `monetization.onetimeproducts`; products only the legacy `inappproducts` API
//! knows (an app that has not migrated) are added with one legacy-compatible purchase option
//! `legacy-base`, the id Play gives it when the app migrates; a migrated app's 403 ("Please migrate to the new publishing API.") just means
//! there are none. What Google does not hold (a one-time product's `kind`, the file's
//! `regions_version`) is kept from the existing file.

use std::collections::{BTreeMap, BTreeSet};

use play_model::catalog_file::{
    Amount, CatalogFile, EntryState, Listing, OfferEntry, OneTimeKind, OneTimeOfferEntry,
    OneTimeProductEntry, PurchaseOptionEntry, SubscriptionEntry,
};
use play_model::inappproducts::{InAppProduct, InappproductsListResponse};
use play_model::{methods, Price};
use serde::Deserialize;

use super::api::{ApiFailure, CatalogApi};
use super::{CatalogError, EXIT_REFUSED};

pub use play_model::ids::LEGACY_OPTION;

/// Every legacy `InAppProduct` (`[]` for a migrated app).
async fn legacy_products(api: &CatalogApi) -> Result<Vec<InAppProduct>, ApiFailure> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![("maxResults", "1000".to_string())];
        if let Some(t) = &token {
            query.push(("token", t.clone()));
        }
        let page = match api
            .read(&methods::INAPPPRODUCTS_LIST, &[], &query, None)
            .await
        {
            Ok(p) => InappproductsListResponse::deserialize(&p)
                .map_err(|e| ApiFailure::Unavailable(format!("inappproducts.list answered {e}")))?,
            Err(ApiFailure::Refused(s)) if s.code == 403 && s.message.contains("migrate") => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(e),
        };
        out.extend(page.inappproduct);
        match page.token_pagination.and_then(|t| t.next_page_token) {
            Some(t) if !t.is_empty() => token = Some(t),
            _ => return Ok(out),
        }
    }
}

/// A legacy `InAppProduct` in the file's model.
fn from_legacy(p: &InAppProduct, kind: OneTimeKind) -> OneTimeProductEntry {
    let listings = p
        .listings
        .iter()
        .map(|(lang, l)| {
            let listing = Listing {
                title: l.title.clone().unwrap_or_default(),
                description: l.description.clone().unwrap_or_default(),
                benefits: Vec::new(),
            };
            (lang.clone(), listing)
        })
        .collect();
    let price = |p: &Price| Some(Amount::new(p.price_micros, &p.currency)?.to_string());
    let mut prices: BTreeMap<String, String> = p
        .prices
        .iter()
        .filter_map(|(r, v)| Some((r.clone(), price(v)?)))
        .collect();
    if prices.is_empty() {
        let default = p.default_price.as_ref().and_then(price);
        if let Some(d) = default.filter(|d| d.ends_with(" USD")) {
            prices.insert("US".into(), d);
        }
    }
    let option = PurchaseOptionEntry {
        legacy_compatible: true,
        multi_quantity: false,
        state: if p.is_active() {
            EntryState::Active
        } else {
            EntryState::Inactive
        },
        prices,
        auto_price: None,
        withdrawn: BTreeSet::new(),
        rent: None,
        offers: BTreeMap::new(),
    };
    OneTimeProductEntry {
        kind,
        listings,
        purchase_options: [(LEGACY_OPTION.to_string(), option)].into(),
    }
}

/// What the file cannot express, by the path it would have in the file: game reward offers
/// (games only). Pull refuses them rather than drop them.
fn inexpressible(file_path: String, what: &str, out: &mut Vec<String>) {
    out.push(format!("{file_path}: {what}"));
}

/// The live catalog as a file; `existing` supplies kinds and the regions version. Refused
/// (exit 4, each entry named) when the app holds what the file cannot express.
pub async fn pull(
    api: &CatalogApi,
    existing: Option<&CatalogFile>,
) -> Result<CatalogFile, CatalogError> {
    let mut unsupported = Vec::new();
    let file = read(api, existing, &mut unsupported).await?;
    if unsupported.is_empty() {
        return Ok(file);
    }
    Err(CatalogError::new(
        EXIT_REFUSED,
        format!(
            "the live catalog holds what a catalog file cannot express, so nothing was written (manage these in the Play Console):\n  {}",
            unsupported.join("\n  ")
        ),
    ))
}

async fn read(
    api: &CatalogApi,
    existing: Option<&CatalogFile>,
    unsupported: &mut Vec<String>,
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
    let products = super::one_time_products(api).await?;
    for p in products {
        let id = p.id().to_string();
        file.one_time_products
            .insert(id.clone(), OneTimeProductEntry::from_google(&p, kind(&id)));
    }
    for p in legacy_products(api).await? {
        let id = p.sku.clone().unwrap_or_default();
        let k = kind(&id);
        file.one_time_products
            .entry(id)
            .or_insert_with(|| from_legacy(&p, k));
    }
    let one_time_offers = super::one_time_offers(api).await?;
    for o in one_time_offers {
        let text = |t: &Option<String>| t.clone().unwrap_or_default();
        let (p, oid, fid) = (
            text(&o.product_id),
            text(&o.purchase_option_id),
            text(&o.offer_id),
        );
        if o.game_reward_offer.is_some() {
            inexpressible(
                format!("one_time_products.{p}.purchase_options.{oid}.offers.{fid}"),
                "a game reward offer",
                unsupported,
            );
            continue;
        }
        let option = file
            .one_time_products
            .get_mut(&p)
            .and_then(|e| e.purchase_options.get_mut(&oid));
        if let Some(option) = option {
            option
                .offers
                .insert(fid, OneTimeOfferEntry::from_google(&o));
        }
    }
    let (subscriptions, offers) = super::subscription_catalog(api).await?;
    for s in subscriptions {
        file.subscriptions
            .insert(s.id().to_string(), SubscriptionEntry::from_google(&s));
    }
    for o in offers {
        let text = |t: &Option<String>| t.clone().unwrap_or_default();
        let plan = file
            .subscriptions
            .get_mut(&text(&o.product_id))
            .and_then(|s| s.base_plans.get_mut(&text(&o.base_plan_id)));
        if let Some(plan) = plan {
            plan.offers
                .insert(text(&o.offer_id), OfferEntry::from_google(&o));
        }
    }
    Ok(file)
}
