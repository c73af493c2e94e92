//! `monetization.convertRegionPrices`: the request `catalog` sends for an `auto_price` and
//! the answer the emulator writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::money::Money;

/// `ConvertRegionPricesRequest`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConvertRegionPricesRequest {
    /// The price to convert.
    pub price: Option<Money>,
    /// The product's tax category.
    pub product_tax_category_code: Option<String>,
}

/// `ConvertRegionPricesResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConvertRegionPricesResponse {
    /// The price in each region, by region code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub converted_region_prices: BTreeMap<String, ConvertedRegionPrice>,
    /// The prices for regions Play adds later.
    pub converted_other_regions_price: Option<ConvertedOtherRegionsPrice>,
    /// The regions version the prices are for.
    pub region_version: Option<RegionsVersion>,
}

/// `ConvertedRegionPrice`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConvertedRegionPrice {
    /// The region.
    pub region_code: Option<String>,
    /// The price, tax included where the region shows prices so.
    pub price: Option<Money>,
    /// The tax in the price.
    pub tax_amount: Option<Money>,
}

/// `ConvertedOtherRegionsPrice`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConvertedOtherRegionsPrice {
    /// In US dollars.
    pub usd_price: Option<Money>,
    /// In euros.
    pub eur_price: Option<Money>,
}

/// `RegionsVersion`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegionsVersion {
    /// `2022/02`, `2025/03`, …
    pub version: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_reads_and_writes() {
        let text = serde_json::json!({
            "convertedRegionPrices": { "DE": { "regionCode": "DE",
                "price": { "currencyCode": "EUR", "units": "4", "nanos": 490000000 },
                "taxAmount": { "currencyCode": "EUR", "units": "0", "nanos": 0 } } },
            "convertedOtherRegionsPrice": {
                "usdPrice": { "currencyCode": "USD", "units": "4", "nanos": 990000000 } },
            "regionVersion": { "version": "2025/03" },
        });
        let r: ConvertRegionPricesResponse = serde_json::from_value(text.clone()).unwrap();
        let de = r.converted_region_prices["DE"].price.as_ref().unwrap();
        assert_eq!(de.micros(), Some(4_490_000));
        assert_eq!(serde_json::to_value(&r).unwrap(), text);
    }
}
