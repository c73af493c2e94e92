//! `monetization.onetimeproducts` and its purchase options' offers: Google's
//! `OneTimeProduct`, `OneTimeProductPurchaseOption` and `OneTimeProductOffer`, with their
//! list and batch answers. The server's `catalog` reads and sends them; the emulator stores
//! and writes them.
//!
//! Each resource keeps the fields this model does not name in `extra` (`#[serde(flatten)]`):
//! Google applies an `updateMask` to what a client wrote, so the emulator must echo a field
//! it does not know rather than drop it, and `catalog apply` merges the file over the live
//! resource without losing what only the Play Console sets. Nested settings the catalog
//! never reads (tax and compliance, restricted countries, new-regions config, game rewards)
//! are kept as written.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use crate::money::Money;
use crate::pricing::RegionsVersion;
use crate::subscriptions::{Batch, LatencyTolerance};

google_enum! {
    /// `OneTimeProductPurchaseOption.state` (output only).
    PurchaseOptionState {
        /// Unspecified.
        Unspecified = "STATE_UNSPECIFIED",
        /// Not yet published.
        Draft = "DRAFT",
        /// On sale.
        Active = "ACTIVE",
        /// Off sale.
        Inactive = "INACTIVE",
        /// Off sale for new buyers, still published for offers.
        InactivePublished = "INACTIVE_PUBLISHED",
    }
}

google_enum! {
    /// `OneTimeProductOffer.state` (output only).
    OfferState {
        /// Unspecified.
        Unspecified = "STATE_UNSPECIFIED",
        /// Not yet published.
        Draft = "DRAFT",
        /// Available.
        Active = "ACTIVE",
        /// Cancelled before it ended (pre-orders).
        Cancelled = "CANCELLED",
        /// Off sale.
        Inactive = "INACTIVE",
    }
}

google_enum! {
    /// `availability` of a purchase option's or an offer's regional config.
    Availability {
        /// Unspecified.
        Unspecified = "AVAILABILITY_UNSPECIFIED",
        /// Sold in the region.
        Available = "AVAILABLE",
        /// No longer sold in the region.
        NoLongerAvailable = "NO_LONGER_AVAILABLE",
        /// Sold once the app is released there (pre-registration).
        AvailableIfReleased = "AVAILABLE_IF_RELEASED",
        /// Sold only through offers.
        AvailableForOffersOnly = "AVAILABLE_FOR_OFFERS_ONLY",
    }
}

google_enum! {
    /// `OneTimeProductPreOrderOffer.priceChangeBehavior`.
    PriceChangeBehavior {
        /// Unspecified.
        Unspecified = "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_UNSPECIFIED",
        /// Buyers pay the lower of the price when they pre-ordered and at release.
        TwoPointLowest = "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_TWO_POINT_LOWEST",
        /// A change applies to new pre-orders only.
        NewOrdersOnly = "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_NEW_ORDERS_ONLY",
    }
}

/// `OfferTag`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OfferTag {
    /// The tag.
    pub tag: Option<String>,
}

impl OfferTag {
    /// The tags of `tags`, in order.
    pub fn all<'a>(tags: impl IntoIterator<Item = &'a String>) -> Vec<OfferTag> {
        tags.into_iter()
            .map(|t| OfferTag {
                tag: Some(t.clone()),
            })
            .collect()
    }
}

/// `OneTimeProduct`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProduct {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// Store listings, one per language.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listings: Vec<OneTimeProductListing>,
    /// Purchase options (buy or rent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub purchase_options: Vec<OneTimeProductPurchaseOption>,
    /// Offer tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_tags: Vec<OfferTag>,
    /// The regions version of the prices (output only).
    pub regions_version: Option<RegionsVersion>,
    /// `RestrictedPaymentCountries`, kept as written.
    pub restricted_payment_countries: Option<Value>,
    /// `OneTimeProductTaxAndComplianceSettings`, kept as written.
    pub tax_and_compliance_settings: Option<Value>,
    /// Fields this model does not name, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OneTimeProduct {
    /// The product id (`""` when absent).
    pub fn id(&self) -> &str {
        self.product_id.as_deref().unwrap_or_default()
    }

    /// The purchase option `id`.
    pub fn option(&self, id: &str) -> Option<&OneTimeProductPurchaseOption> {
        self.purchase_options.iter().find(|o| o.id() == id)
    }

    /// The purchase option `id`, to change.
    pub fn option_mut(&mut self, id: &str) -> Option<&mut OneTimeProductPurchaseOption> {
        self.purchase_options.iter_mut().find(|o| o.id() == id)
    }
}

/// `OneTimeProductListing`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductListing {
    /// BCP-47 language code.
    pub language_code: Option<String>,
    /// Title (≤ 55 characters).
    pub title: Option<String>,
    /// Description (≤ 200 characters).
    pub description: Option<String>,
}

/// `OneTimeProductPurchaseOption`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductPurchaseOption {
    /// The option id.
    pub purchase_option_id: Option<String>,
    /// Set for a buy option.
    pub buy_option: Option<OneTimeProductBuyPurchaseOption>,
    /// Set for a rent option.
    pub rent_option: Option<OneTimeProductRentPurchaseOption>,
    /// Output only.
    pub state: Option<PurchaseOptionState>,
    /// Price and availability per region.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regional_pricing_and_availability_configs:
        Vec<OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig>,
    /// `OneTimeProductPurchaseOptionNewRegionsConfig`, kept as written.
    pub new_regions_config: Option<Value>,
    /// Offer tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_tags: Vec<OfferTag>,
    /// `PurchaseOptionTaxAndComplianceSettings`, kept as written.
    pub tax_and_compliance_settings: Option<Value>,
    /// Fields this model does not name, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OneTimeProductPurchaseOption {
    /// The option id (`""` when absent).
    pub fn id(&self) -> &str {
        self.purchase_option_id.as_deref().unwrap_or_default()
    }

    /// Whether it is a legacy-compatible buy option.
    pub fn is_legacy_compatible(&self) -> bool {
        self.buy_option
            .as_ref()
            .is_some_and(|b| b.legacy_compatible == Some(true))
    }

    /// The region codes it has a config for.
    pub fn regions(&self) -> Vec<&str> {
        self.regional_pricing_and_availability_configs
            .iter()
            .filter_map(|c| c.region_code.as_deref())
            .collect()
    }
}

/// `OneTimeProductBuyPurchaseOption`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductBuyPurchaseOption {
    /// Whether billing libraries before 8 see it (at most one per product).
    pub legacy_compatible: Option<bool>,
    /// Whether a buyer may take more than one in a purchase.
    pub multi_quantity_enabled: Option<bool>,
}

/// `OneTimeProductRentPurchaseOption`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductRentPurchaseOption {
    /// ISO 8601 duration of the rental.
    pub rental_period: Option<String>,
    /// ISO 8601 duration after the first play.
    pub expiration_period: Option<String>,
}

/// `OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig {
    /// Region code.
    pub region_code: Option<String>,
    /// The price there.
    pub price: Option<Money>,
    /// Whether it is sold there.
    pub availability: Option<Availability>,
}

/// `OneTimeProductOffer`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductOffer {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// The purchase option id.
    pub purchase_option_id: Option<String>,
    /// The offer id.
    pub offer_id: Option<String>,
    /// Output only.
    pub state: Option<OfferState>,
    /// Set for a discounted offer.
    pub discounted_offer: Option<OneTimeProductDiscountedOffer>,
    /// Set for a pre-order.
    pub pre_order_offer: Option<OneTimeProductPreOrderOffer>,
    /// `OneTimeProductGameRewardOffer` (games only), kept as written.
    pub game_reward_offer: Option<Value>,
    /// Discount and availability per region.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regional_pricing_and_availability_configs:
        Vec<OneTimeProductOfferRegionalPricingAndAvailabilityConfig>,
    /// Offer tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_tags: Vec<OfferTag>,
    /// The regions version of the prices (output only).
    pub regions_version: Option<RegionsVersion>,
    /// Fields this model does not name, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl OneTimeProductOffer {
    /// Its key across an app: `product/purchaseOption/offer`.
    pub fn key(&self) -> String {
        offer_key(&self.product_id, &self.purchase_option_id, &self.offer_id)
    }
}

/// `OneTimeProductDiscountedOffer`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductDiscountedOffer {
    /// RFC 3339 start.
    pub start_time: Option<String>,
    /// RFC 3339 end.
    pub end_time: Option<String>,
    /// How many times a buyer may redeem it (an int64 string).
    pub redemption_limit: Option<String>,
}

/// `OneTimeProductPreOrderOffer`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductPreOrderOffer {
    /// RFC 3339 start of pre-orders.
    pub start_time: Option<String>,
    /// RFC 3339 end of pre-orders.
    pub end_time: Option<String>,
    /// RFC 3339 release.
    pub release_time: Option<String>,
    /// What a price change does to pre-orders.
    pub price_change_behavior: Option<PriceChangeBehavior>,
}

/// `OneTimeProductOfferNoPriceOverrideOptions` (no fields).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct OneTimeProductOfferNoPriceOverrideOptions {}

/// `OneTimeProductOfferRegionalPricingAndAvailabilityConfig`: at most one of
/// `absoluteDiscount`, `relativeDiscount` and `noOverride`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductOfferRegionalPricingAndAvailabilityConfig {
    /// Region code.
    pub region_code: Option<String>,
    /// The amount taken off the price.
    pub absolute_discount: Option<Money>,
    /// The fraction taken off the price (0 < d < 1).
    pub relative_discount: Option<f64>,
    /// The purchase option's price, unchanged.
    pub no_override: Option<OneTimeProductOfferNoPriceOverrideOptions>,
    /// Whether it is offered there.
    pub availability: Option<Availability>,
}

/// `ListOneTimeProductsResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListOneTimeProductsResponse {
    /// This page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub one_time_products: Vec<OneTimeProduct>,
    /// The next page's token.
    pub next_page_token: Option<String>,
}

/// `BatchGetOneTimeProductsResponse`, `BatchUpdateOneTimeProductsResponse` and
/// `BatchUpdatePurchaseOptionStatesResponse` (one shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductsResponse {
    /// The products asked for or written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub one_time_products: Vec<OneTimeProduct>,
}

/// `ListOneTimeProductOffersResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListOneTimeProductOffersResponse {
    /// This page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub one_time_product_offers: Vec<OneTimeProductOffer>,
    /// The next page's token.
    pub next_page_token: Option<String>,
}

/// `BatchGetOneTimeProductOffersResponse`, `BatchUpdateOneTimeProductOffersResponse` and
/// `BatchUpdateOneTimeProductOfferStatesResponse` (one shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductOffersResponse {
    /// The offers asked for or written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub one_time_product_offers: Vec<OneTimeProductOffer>,
}

update_request! {
    /// `UpdateOneTimeProductRequest` (an entry of `onetimeproducts.batchUpdate`).
    UpdateOneTimeProductRequest { one_time_product: OneTimeProduct }
}

update_request! {
    /// `UpdateOneTimeProductOfferRequest` (an entry of `purchaseOptions.offers.batchUpdate`).
    UpdateOneTimeProductOfferRequest { one_time_product_offer: OneTimeProductOffer }
}

/// `BatchUpdateOneTimeProductsRequest`.
pub type BatchUpdateOneTimeProductsRequest = Batch<UpdateOneTimeProductRequest>;
/// `BatchUpdateOneTimeProductOffersRequest`.
pub type BatchUpdateOneTimeProductOffersRequest = Batch<UpdateOneTimeProductOfferRequest>;
/// `BatchUpdatePurchaseOptionStatesRequest`.
pub type BatchUpdatePurchaseOptionStatesRequest = Batch<UpdatePurchaseOptionStateRequest>;
/// `BatchUpdateOneTimeProductOfferStatesRequest`.
pub type BatchUpdateOneTimeProductOfferStatesRequest = Batch<UpdateOneTimeProductOfferStateRequest>;
/// `BatchGetOneTimeProductOffersRequest`.
pub type BatchGetOneTimeProductOffersRequest = Batch<GetOneTimeProductOfferRequest>;
/// `BatchDeleteOneTimeProductsRequest`.
pub type BatchDeleteOneTimeProductsRequest = Batch<DeleteOneTimeProductRequest>;
/// `BatchDeletePurchaseOptionsRequest`.
pub type BatchDeletePurchaseOptionsRequest = Batch<DeletePurchaseOptionRequest>;
/// `BatchDeleteOneTimeProductOffersRequest`.
pub type BatchDeleteOneTimeProductOffersRequest = Batch<DeleteOneTimeProductOfferRequest>;

/// `ActivatePurchaseOptionRequest` and `DeactivatePurchaseOptionRequest` (one shape).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PurchaseOptionStateRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// The purchase option id.
    pub purchase_option_id: Option<String>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

state_request! {
    /// `UpdatePurchaseOptionStateRequest`.
    UpdatePurchaseOptionStateRequest: PurchaseOptionStateRequest => PurchaseOptionState {
        activate_purchase_option_request = "activatePurchaseOptionRequest" => Active,
        deactivate_purchase_option_request = "deactivatePurchaseOptionRequest" => Inactive,
    }
}

/// `ActivateOneTimeProductOfferRequest`, `DeactivateOneTimeProductOfferRequest`,
/// `CancelOneTimeProductOfferRequest` and `DeleteOneTimeProductOfferRequest` (one shape).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeProductOfferRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// The purchase option id.
    pub purchase_option_id: Option<String>,
    /// The offer id.
    pub offer_id: Option<String>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

impl OneTimeProductOfferRequest {
    /// The offer's key across an app: `product/purchaseOption/offer`.
    pub fn key(&self) -> String {
        offer_key(&self.product_id, &self.purchase_option_id, &self.offer_id)
    }
}

/// `DeleteOneTimeProductOfferRequest` (an entry of `offers.batchDelete`).
pub type DeleteOneTimeProductOfferRequest = OneTimeProductOfferRequest;

state_request! {
    /// `UpdateOneTimeProductOfferStateRequest`.
    UpdateOneTimeProductOfferStateRequest: OneTimeProductOfferRequest => OfferState {
        activate_one_time_product_offer_request = "activateOneTimeProductOfferRequest" => Active,
        cancel_one_time_product_offer_request = "cancelOneTimeProductOfferRequest" => Cancelled,
        deactivate_one_time_product_offer_request = "deactivateOneTimeProductOfferRequest" => Inactive,
    }
}

/// `GetOneTimeProductOfferRequest` (an entry of `offers.batchGet`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetOneTimeProductOfferRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// The purchase option id.
    pub purchase_option_id: Option<String>,
    /// The offer id.
    pub offer_id: Option<String>,
}

impl GetOneTimeProductOfferRequest {
    /// The offer's key across an app: `product/purchaseOption/offer`.
    pub fn key(&self) -> String {
        offer_key(&self.product_id, &self.purchase_option_id, &self.offer_id)
    }
}

/// `DeleteOneTimeProductRequest` (an entry of `onetimeproducts.batchDelete`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeleteOneTimeProductRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

/// `DeletePurchaseOptionRequest` (an entry of `purchaseOptions.batchDelete`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DeletePurchaseOptionRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// The purchase option id.
    pub purchase_option_id: Option<String>,
    /// Whether its offers are deleted with it (otherwise an option with offers stays).
    pub force: Option<bool>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

/// An offer's key across an app from its optional ids: `product/purchaseOption/offer`.
fn offer_key(product: &Option<String>, option: &Option<String>, offer: &Option<String>) -> String {
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    format!("{}/{}/{}", text(product), text(option), text(offer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_round_trips_with_unknown_fields_and_values() {
        let text = serde_json::json!({
            "packageName": "com.example", "productId": "coins",
            "listings": [{ "languageCode": "en-US", "title": "Coins", "description": "d" }],
            "purchaseOptions": [{
                "purchaseOptionId": "buy", "state": "ACTIVE",
                "buyOption": { "legacyCompatible": true },
                "regionalPricingAndAvailabilityConfigs": [{
                    "regionCode": "US", "availability": "AVAILABLE",
                    "price": { "currencyCode": "USD", "units": "0", "nanos": 990000000 },
                }],
                "futureOptionField": { "x": 1 },
            }],
            "regionsVersion": { "version": "2025/03" },
            "taxAndComplianceSettings": { "isTokenizedDigitalAsset": false },
            "futureField": [1, 2],
        });
        let p: OneTimeProduct = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(p.id(), "coins");
        let o = p.option("buy").unwrap();
        assert!(o.is_legacy_compatible());
        assert_eq!(o.state, Some(PurchaseOptionState::Active));
        assert_eq!(o.regions(), ["US"]);
        assert_eq!(
            o.regional_pricing_and_availability_configs[0]
                .price
                .as_ref()
                .and_then(Money::micros),
            Some(990_000)
        );
        assert_eq!(p.extra["futureField"], serde_json::json!([1, 2]));
        assert_eq!(serde_json::to_value(&p).unwrap(), text);

        let later: PurchaseOptionState = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(later, PurchaseOptionState::Unknown);
        assert_eq!(
            serde_json::to_string(&OneTimeProductsResponse::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn an_offer_round_trips() {
        let text = serde_json::json!({
            "packageName": "com.example", "productId": "coins", "purchaseOptionId": "buy",
            "offerId": "sale", "state": "DRAFT",
            "discountedOffer": { "startTime": "2026-01-01T00:00:00Z", "redemptionLimit": "1" },
            "regionalPricingAndAvailabilityConfigs": [
                { "regionCode": "US", "relativeDiscount": 0.25, "availability": "AVAILABLE" },
                { "regionCode": "GB", "noOverride": {} },
            ],
            "offerTags": [{ "tag": "launch" }],
        });
        let o: OneTimeProductOffer = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(o.state, Some(OfferState::Draft));
        assert_eq!(
            o.regional_pricing_and_availability_configs[1].no_override,
            Some(OneTimeProductOfferNoPriceOverrideOptions {})
        );
        assert_eq!(serde_json::to_value(&o).unwrap(), text);
    }

    #[test]
    fn state_and_delete_batches_read_and_write() {
        use crate::subscriptions::StateChange;
        let text = serde_json::json!({ "requests": [
            { "cancelOneTimeProductOfferRequest": { "packageName": "com.example",
                "productId": "coins", "purchaseOptionId": "buy", "offerId": "sale",
                "latencyTolerance": "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT" } },
            { "deactivateOneTimeProductOfferRequest": { "productId": "coins" } },
        ] });
        let b: BatchUpdateOneTimeProductOfferStatesRequest =
            serde_json::from_value(text.clone()).unwrap();
        assert_eq!(serde_json::to_value(&b).unwrap(), text);
        let (request, to) = b.requests[0].clone().change().unwrap();
        assert_eq!(
            (request.key().as_str(), to),
            ("coins/buy/sale", OfferState::Cancelled)
        );
        let entry = UpdateOneTimeProductOfferStateRequest::to(OfferState::Cancelled, request);
        assert_eq!(entry, b.requests[0]);
        let to_draft =
            UpdateOneTimeProductOfferStateRequest::to(OfferState::Draft, Default::default());
        assert!(to_draft.deactivate_one_time_product_offer_request.is_some());
        assert_eq!(UpdatePurchaseOptionStateRequest::default().change(), None);
        assert_eq!(
            UpdateOneTimeProductOfferStateRequest::FIELDS[1],
            "cancelOneTimeProductOfferRequest"
        );
        let delete = serde_json::json!({ "requests": [{ "productId": "coins",
            "purchaseOptionId": "buy", "force": true }] });
        let d: BatchDeletePurchaseOptionsRequest = serde_json::from_value(delete.clone()).unwrap();
        assert_eq!(d.requests[0].force, Some(true));
        assert_eq!(serde_json::to_value(&d).unwrap(), delete);
    }
}
