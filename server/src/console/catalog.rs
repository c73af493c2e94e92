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
                    drift_read_at: None,
                })
            }
        },
        None => None,
    };
    let (drift, drift_error, read_at) = match &file {
        None => (
            None,
            Some(
                "no catalog file is configured (`catalog`): nothing to compare with Play"
                    .to_string(),
            ),
            None,
        ),
        Some(f) => {
            let (drift, at) = drift(state, f).await;
            match drift {
                Ok(plan) => (Some(plan), None, Some(at)),
                Err(e) => (None, Some(e), Some(at)),
            }
        }
    };
    Ok(CatalogPage {
        file: path.map(|p| p.display().to_string()),
        products: products(file.as_ref(), &state.config.products),
        drift,
        drift_error,
        drift_read_at: read_at.map(super::rfc3339),
    })
}

/// How long a drift read from Play is shown before Play is read again.
pub const DRIFT_FRESH_MS: i64 = 60_000;

/// A drift as last read: `(Play's URL and the file, as JSON)`, when (ms), the plan or why
/// it could not be read.
type Drift = (String, i64, Result<serde_json::Value, String>);

/// The last drift read, for one file against one Play; a request that finds it being read
/// waits for it.
static DRIFT: tokio::sync::Mutex<Option<Drift>> = tokio::sync::Mutex::const_new(None);

/// The plan of `file` against Play's live catalog (the read-only `plan`), read again when
/// the one read last is older than [`DRIFT_FRESH_MS`] or was of another file; with when it
/// was read.
async fn drift(state: &AppState, file: &CatalogFile) -> (Result<serde_json::Value, String>, i64) {
    let key = format!(
        "{}\n{}",
        state
            .play
            .url(&play_model::methods::MONETIZATION_CONVERTREGIONPRICES, &[]),
        serde_json::to_string(file).unwrap_or_default()
    );
    let mut last = DRIFT.lock().await;
    let now = crate::db::now_ms();
    if let Some((read, at, drift)) = last.as_ref() {
        if *read == key && now - at < DRIFT_FRESH_MS {
            return (drift.clone(), *at);
        }
    }
    let api = CatalogApi::new(state.play.clone());
    let drift = match crate::catalog::make_plan(&api, file, &PlanOptions::default()).await {
        Ok(plan) => serde_json::to_value(&plan).map_err(|e| e.to_string()),
        Err(e) => Err(format!("Play's catalog could not be read: {e}")),
    };
    *last = Some((key, now, drift.clone()));
    (drift, now)
}
