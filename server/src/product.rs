//! Products as the server settles them: each product id's kind.

use std::collections::BTreeMap;

use play_model::catalog_file::{CatalogFile, OneTimeKind};
use serde::{Deserialize, Serialize};

/// The kind of a product, which decides how it is verified and settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// A one-time product that is consumed (its quantity granted once per token).
    Consumable,
    /// A one-time product owned for good.
    NonConsumable,
    /// A subscription (verified with subscriptionsv2).
    Subscription,
}

impl ProductKind {
    /// The snake_case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consumable => "consumable",
            Self::NonConsumable => "non_consumable",
            Self::Subscription => "subscription",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "consumable" => Some(Self::Consumable),
            "non_consumable" => Some(Self::NonConsumable),
            "subscription" => Some(Self::Subscription),
            _ => None,
        }
    }
}

/// Each product id's kind as a catalog file gives it: one-time products by their `kind`,
/// subscriptions as subscriptions.
pub fn product_kinds(file: &CatalogFile) -> BTreeMap<String, ProductKind> {
    let otp = file.one_time_products.iter().map(|(id, p)| {
        let kind = match p.kind {
            OneTimeKind::Consumable => ProductKind::Consumable,
            OneTimeKind::NonConsumable => ProductKind::NonConsumable,
        };
        (id.clone(), kind)
    });
    let subs = file
        .subscriptions
        .keys()
        .map(|id| (id.clone(), ProductKind::Subscription));
    otp.chain(subs).collect()
}

/// The products the server sells: the catalog file's, then those `listed` (the deprecated
/// `products` key: a warning; an id in both must agree, or the error names `products.ID`).
pub fn sold(
    catalog: Option<&CatalogFile>,
    listed: BTreeMap<String, ProductKind>,
) -> Result<BTreeMap<String, ProductKind>, (String, String)> {
    let mut products = catalog.map(product_kinds).unwrap_or_default();
    if !listed.is_empty() {
        tracing::warn!(
            "configuration key `products` is deprecated: give each product's kind in the catalog file (configuration key `catalog`, see `pwa-billing catalog`)"
        );
    }
    for (id, kind) in listed {
        match products.get(&id) {
            Some(k) if *k != kind => {
                let message = format!(
                    "is {} but the catalog file says {}",
                    kind.as_str(),
                    k.as_str()
                );
                return Err((format!("products.{id}"), message));
            }
            _ => products.insert(id, kind),
        };
    }
    Ok(products)
}
