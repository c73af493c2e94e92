//! The Catalog page: what the server sells (the catalog file's products and subscriptions
//! with their prices) and the drift against Play, which is the read-only `pwa-billing
//! catalog plan` (nothing is written to Google).

use play_model::catalog_file::Listing;
use play_model::CatalogFile;
use std::collections::BTreeMap;

use super::pages::{CatalogPage, CatalogProduct};
use super::session::Refused;
use crate::catalog::api::CatalogApi;
use crate::catalog::plan::PlanOptions;
use crate::state::AppState;

fn title(listings: &BTreeMap<String, Listing>) -> Option<String> {
    listings
        .get("en-US")
        .or_else(|| listings.values().next())
        .map(|l| l.title.clone())
}

fn prices(
    label: &str,
    prices: &BTreeMap<String, String>,
    auto: Option<&String>,
    out: &mut Vec<String>,
) {
    if let Some(auto) = auto {
        out.push(format!("{label}: {auto} (converted to every region)"));
    }
    for (region, price) in prices {
        out.push(format!("{label} {region}: {price}"));
    }
}

/// The products of `file` (none when no file), and every other product the server sells by
/// its kind alone.
pub fn products(
    file: Option<&CatalogFile>,
    sold: &BTreeMap<String, crate::product::ProductKind>,
) -> Vec<CatalogProduct> {
    let mut out = Vec::new();
    if let Some(file) = file {
        for (id, p) in &file.one_time_products {
            let mut list = Vec::new();
            for (option, o) in &p.purchase_options {
                prices(option, &o.prices, o.auto_price.as_ref(), &mut list);
            }
            out.push(CatalogProduct {
                id: id.clone(),
                kind: sold.get(id).map_or("one_time", |k| k.as_str()).into(),
                title: title(&p.listings),
                prices: list,
            });
        }
        for (id, s) in &file.subscriptions {
            let mut list = Vec::new();
            for (plan, b) in &s.base_plans {
                prices(
                    &format!("{plan} ({})", b.billing_period),
                    &b.prices,
                    b.auto_price.as_ref(),
                    &mut list,
                );
            }
            out.push(CatalogProduct {
                id: id.clone(),
                kind: "subscription".into(),
                title: title(&s.listings),
                prices: list,
            });
        }
    }
    for (id, kind) in sold {
        if out.iter().all(|p| &p.id != id) {
            out.push(CatalogProduct {
                id: id.clone(),
                kind: kind.as_str().into(),
                title: None,
                prices: Vec::new(),
            });
        }
    }
    out
}

/// The page: the file's products, and the plan against Play's live catalog.
pub async fn page(state: &AppState) -> Result<CatalogPage, Refused> {
    let path = state.config.catalog.clone();
    let file = match &path {
        Some(p) => match crate::catalog::load(p) {
            Ok(f) => Some(f),
            Err(e) => {
                return Ok(CatalogPage {
                    file: Some(p.display().to_string()),
                    products: products(None, &state.config.products),
                    drift: None,
                    drift_error: Some(format!("the catalog file cannot be read: {e}")),
                })
            }
        },
        None => None,
    };
    let (drift, drift_error) = match &file {
        None => (
            None,
            Some(
                "no catalog file is configured (`catalog`): nothing to compare with Play"
                    .to_string(),
            ),
        ),
        Some(f) => {
            let api = CatalogApi::new(state.play.clone());
            match crate::catalog::make_plan(&api, f, &PlanOptions::default()).await {
                Ok(plan) => (serde_json::to_value(&plan).ok(), None),
                Err(e) => (None, Some(format!("Play's catalog could not be read: {e}"))),
            }
        }
    };
    Ok(CatalogPage {
        file: path.map(|p| p.display().to_string()),
        products: products(file.as_ref(), &state.config.products),
        drift,
        drift_error,
    })
}
