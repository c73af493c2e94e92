//! `inappproducts.*`: the legacy `InAppProduct`, read by `catalog pull` for an app that has
//! not migrated to one-time products, and stored and written by the emulator.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::money::Price;
use crate::paging::{PageInfo, TokenPagination};
use crate::subscriptions::{Batch, LatencyTolerance};

/// `InAppProduct.purchaseType` of a one-time product.
pub const MANAGED_USER: &str = "managedUser";
/// `InAppProduct.purchaseType` of a legacy subscription.
pub const SUBSCRIPTION: &str = "subscription";
/// `InAppProduct.status` of a product on sale.
pub const ACTIVE: &str = "active";
/// `InAppProduct.status` of a product off sale.
pub const INACTIVE: &str = "inactive";
/// `InappproductsListResponse.kind`.
pub const LIST_KIND: &str = "androidpublisher#inappproductsListResponse";

/// Google's `InAppProduct`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InAppProduct {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub sku: Option<String>,
    /// [`ACTIVE`] or [`INACTIVE`].
    pub status: Option<String>,
    /// [`MANAGED_USER`] or [`SUBSCRIPTION`].
    pub purchase_type: Option<String>,
    /// The price where no regional one is set.
    pub default_price: Option<Price>,
    /// Price per region code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub prices: BTreeMap<String, Price>,
    /// The language of the default listing.
    pub default_language: Option<String>,
    /// Listing per language.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub listings: BTreeMap<String, InAppProductListing>,
    /// Tax and compliance settings, kept as written.
    pub managed_product_taxes_and_compliance_settings: Option<Value>,
    /// A legacy subscription's period.
    pub subscription_period: Option<String>,
    /// A legacy subscription's trial.
    pub trial_period: Option<String>,
    /// A legacy subscription's grace period.
    pub grace_period: Option<String>,
    /// A legacy subscription's tax settings, kept as written.
    pub subscription_taxes_and_compliance_settings: Option<Value>,
}

impl InAppProduct {
    /// Whether it is on sale.
    pub fn is_active(&self) -> bool {
        self.status.as_deref() == Some(ACTIVE)
    }

    /// Whether it is a legacy subscription (not a one-time product).
    pub fn is_subscription(&self) -> bool {
        self.purchase_type.as_deref() == Some(SUBSCRIPTION)
    }

    /// The listing of `lang`, else the default language's, else any.
    pub fn listing(&self, lang: Option<&str>) -> Option<&InAppProductListing> {
        lang.and_then(|l| self.listings.get(l))
            .or_else(|| {
                self.default_language
                    .as_deref()
                    .and_then(|l| self.listings.get(l))
            })
            .or_else(|| self.listings.values().next())
    }
}

/// `InAppProductListing`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InAppProductListing {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Benefits.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub benefits: Vec<String>,
}

/// `InappproductsListResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InappproductsListResponse {
    /// [`LIST_KIND`].
    pub kind: Option<String>,
    /// This page's products (Google's singular name).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inappproduct: Vec<InAppProduct>,
    /// Index paging.
    pub page_info: Option<PageInfo>,
    /// Token paging.
    pub token_pagination: Option<TokenPagination>,
}

/// `InappproductsBatchGetResponse`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct InappproductsBatchGetResponse {
    /// The products asked for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inappproduct: Vec<InAppProduct>,
}

/// `InappproductsBatchUpdateResponse`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct InappproductsBatchUpdateResponse {
    /// The products written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inappproducts: Vec<InAppProduct>,
}

/// `InappproductsUpdateRequest` (an entry of `inappproducts.batchUpdate`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InappproductsUpdateRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub sku: Option<String>,
    /// The product written.
    pub inappproduct: Option<InAppProduct>,
    /// Whether a missing product is created.
    pub allow_missing: Option<bool>,
    /// Whether prices missing for some regions are converted from the default price.
    pub auto_convert_missing_prices: Option<bool>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

/// `InappproductsDeleteRequest` (an entry of `inappproducts.batchDelete`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InappproductsDeleteRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub sku: Option<String>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

/// `InappproductsBatchUpdateRequest`.
pub type InappproductsBatchUpdateRequest = Batch<InappproductsUpdateRequest>;
/// `InappproductsBatchDeleteRequest`.
pub type InappproductsBatchDeleteRequest = Batch<InappproductsDeleteRequest>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_reads_and_writes() {
        let text = serde_json::json!({
            "packageName": "com.example", "sku": "coins", "status": "active",
            "purchaseType": "managedUser",
            "defaultPrice": { "priceMicros": "990000", "currency": "USD" },
            "prices": { "US": { "priceMicros": "990000", "currency": "USD" } },
            "defaultLanguage": "en-US",
            "listings": { "en-US": { "title": "Coins", "description": "d" },
                "fr-FR": { "title": "Pièces" } },
        });
        let p: InAppProduct = serde_json::from_value(text.clone()).unwrap();
        assert!(p.is_active() && !p.is_subscription());
        assert_eq!(p.prices["US"].price_micros, 990_000);
        assert_eq!(
            p.listing(Some("fr-FR")).unwrap().title.as_deref(),
            Some("Pièces")
        );
        assert_eq!(
            p.listing(Some("de-DE")).unwrap().title.as_deref(),
            Some("Coins")
        );
        assert_eq!(serde_json::to_value(&p).unwrap(), text);
        let page = InappproductsListResponse::default();
        assert_eq!(serde_json::to_string(&page).unwrap(), "{}");
    }

    #[test]
    fn batch_entries_read_and_write() {
        let text = serde_json::json!({ "requests": [{ "sku": "coins", "allowMissing": true,
            "inappproduct": { "sku": "coins", "status": "active" },
            "latencyTolerance": "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT" }] });
        let b: InappproductsBatchUpdateRequest = serde_json::from_value(text.clone()).unwrap();
        let entry = &b.requests[0];
        assert_eq!(
            (entry.allow_missing, entry.latency_tolerance),
            (Some(true), Some(LatencyTolerance::LatencyTolerant))
        );
        assert_eq!(serde_json::to_value(&b).unwrap(), text);
        let delete = serde_json::json!({ "requests": [{ "sku": "coins" }] });
        let d: InappproductsBatchDeleteRequest = serde_json::from_value(delete.clone()).unwrap();
        assert_eq!(serde_json::to_value(&d).unwrap(), delete);
    }
}
