//! The catalog file of `pwa-billing catalog` (catalog as code), which also seeds the
//! emulator: one-time products and subscriptions keyed by id, money as exact decimal strings
//! with a currency (`"4.99 USD"`), either explicit per-region prices or one `auto_price` that
//! `convertRegionPrices` turns into every region's price.
//!
//! ```toml
//! regions_version = "auto"
//!
//! [one_time_products.coins_100]
//! kind = "consumable"
//! listings.en-US = { title = "100 coins", description = "A bag of 100 coins." }
//! purchase_options.buy = { legacy_compatible = true, auto_price = "0.99 USD" }
//!
//! [subscriptions.sub_monthly.listings.en-US]
//! title = "Premium (monthly)"
//! [subscriptions.sub_monthly.base_plans.monthly]
//! billing_period = "P1M"
//! legacy_compatible = true
//! prices = { US = "1.99 USD", DE = "1.99 EUR" }
//! ```
//!
//! Purchase options may be rent options (`rent = { period = "P2D" }`) and carry offers
//! (`[one_time_products.<id>.purchase_options.<id>.offers.<id>]`: discounted or pre-order,
//! `discounts = { US = "1.00 USD", DE = "20%", GB = "none" }`); base plans carry
//! subscription offers.
//!
//! This module holds the model, its mapping to and from Google's `OneTimeProduct`,
//! `OneTimeProductOffer`, `Subscription` and `SubscriptionOffer` resources (output-only
//! fields dropped), the region → currency table and the emulator's price converter (which
//! seeds the emulator from a file with auto prices). Checks beyond parsing live in the server's `catalog validate`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::money::Amount;
use crate::money::{decimal_to_micros, micros_to_decimal};
use crate::onetimeproducts::{
    Availability, OfferTag, OneTimeProduct, OneTimeProductBuyPurchaseOption,
    OneTimeProductDiscountedOffer, OneTimeProductListing, OneTimeProductOffer,
    OneTimeProductOfferRegionalPricingAndAvailabilityConfig as OfferRegionalConfig,
    OneTimeProductPreOrderOffer,
    OneTimeProductPurchaseOptionRegionalPricingAndAvailabilityConfig as PurchaseOptionRegionalConfig,
    OneTimeProductRentPurchaseOption, PriceChangeBehavior,
};
use crate::subscriptions::{
    AcquisitionTargetingRule, AutoRenewingBasePlanType, BasePlan, BasePlanState, Empty,
    InstallmentsBasePlanType, PrepaidBasePlanType, RegionalBasePlanConfig,
    RegionalSubscriptionOfferConfig, RegionalSubscriptionOfferPhaseConfig, RenewalType,
    Subscription, SubscriptionListing, SubscriptionOffer, SubscriptionOfferPhase,
    SubscriptionOfferTargeting, TargetingRuleScope, UpgradeTargetingRule,
};
use crate::Money;

/// The regions version `convertRegionPrices` answers with (the newest the emulator knows).
pub const LATEST_REGIONS_VERSION: &str = "2025/03";

/// A catalog file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "pwa-billing catalog")]
pub struct CatalogFile {
    /// `"auto"` (default: the version `convertRegionPrices` answers with) or a Play regions
    /// version such as `"2025/03"`; the currencies of the regions follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions_version: Option<String>,
    /// One-time products by product id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub one_time_products: BTreeMap<String, OneTimeProductEntry>,
    /// Subscriptions by product id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub subscriptions: BTreeMap<String, SubscriptionEntry>,
}

/// What the server does with a one-time product once bought.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OneTimeKind {
    /// Consumed after the grant (coins): can be bought again.
    Consumable,
    /// Owned for good (an unlock).
    #[default]
    NonConsumable,
}

/// The state a purchase option or base plan should be in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Not yet published (new entries start here).
    Draft,
    /// Sold.
    #[default]
    Active,
    /// No longer sold to new buyers.
    Inactive,
}

impl EntryState {
    /// Google's enum value.
    pub fn google(self) -> &'static str {
        match self {
            EntryState::Draft => "DRAFT",
            EntryState::Active => "ACTIVE",
            EntryState::Inactive => "INACTIVE",
        }
    }

    /// From Google's enum value (`INACTIVE_PUBLISHED` is inactive).
    pub fn from_google(s: &str) -> EntryState {
        match s {
            "ACTIVE" => EntryState::Active,
            "INACTIVE" | "INACTIVE_PUBLISHED" => EntryState::Inactive,
            _ => EntryState::Draft,
        }
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// A store listing in one language.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listing {
    /// Title (one-time products: at most 55 characters).
    pub title: String,
    /// Description (one-time products: at most 200 characters).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Subscription benefits (at most 4).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub benefits: Vec<String>,
}

/// A one-time product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OneTimeProductEntry {
    /// Consumable or not: how the server settles a purchase (not sent to Google).
    #[serde(default)]
    pub kind: OneTimeKind,
    /// Listings by BCP-47 language code (`en-US`).
    pub listings: BTreeMap<String, Listing>,
    /// Purchase options by id.
    pub purchase_options: BTreeMap<String, PurchaseOptionEntry>,
}

/// A buy purchase option of a one-time product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseOptionEntry {
    /// The option older billing libraries (and the Digital Goods API) sell; at most one per
    /// product.
    #[serde(default, skip_serializing_if = "is_default")]
    pub legacy_compatible: bool,
    /// Whether a buyer may buy several at once.
    #[serde(default, skip_serializing_if = "is_default")]
    pub multi_quantity: bool,
    /// Desired state (default `active`).
    #[serde(default)]
    pub state: EntryState,
    /// Explicit prices by region code: `{ US = "0.99 USD" }`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prices: BTreeMap<String, String>,
    /// One price converted to every region by `convertRegionPrices` (explicit `prices` win).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_price: Option<String>,
    /// Regions kept with their price but no longer sold (`NO_LONGER_AVAILABLE`): Play never
    /// lets a region be removed once added.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub withdrawn: BTreeSet<String>,
    /// A rent option instead of a buy option (immutable once created; never
    /// legacy-compatible nor multi-quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rent: Option<RentEntry>,
    /// Offers of this purchase option by id (discounts and pre-orders).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub offers: BTreeMap<String, OneTimeOfferEntry>,
}

/// A rent purchase option: the buyer holds the product for `period`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RentEntry {
    /// ISO 8601 rental period from the purchase (`P3D`).
    pub period: String,
    /// ISO 8601 time left once the buyer starts consuming it (`PT48H`), if limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<String>,
}

/// The state a one-time product offer should be in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OfferState {
    /// Not yet published (new offers start here).
    Draft,
    /// Sold.
    #[default]
    Active,
    /// Paused: no longer sold, can be activated again.
    Inactive,
    /// Ended for good (a cancelled pre-order is refunded): cannot be activated again.
    Cancelled,
}

impl OfferState {
    /// Google's enum value.
    pub fn google(self) -> &'static str {
        match self {
            OfferState::Draft => "DRAFT",
            OfferState::Active => "ACTIVE",
            OfferState::Inactive => "INACTIVE",
            OfferState::Cancelled => "CANCELLED",
        }
    }

    /// From Google's enum value.
    pub fn from_google(s: &str) -> OfferState {
        match s {
            "ACTIVE" => OfferState::Active,
            "INACTIVE" => OfferState::Inactive,
            "CANCELLED" => OfferState::Cancelled,
            _ => OfferState::Draft,
        }
    }
}

/// A discounted offer's window and limit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiscountedEntry {
    /// RFC 3339 time the offer starts (default: when activated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// RFC 3339 time the offer ends (default: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// Times a buyer may redeem it, 1–50 (default: unlimited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redemption_limit: Option<u32>,
}

/// How a price change reaches pre-orders already placed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceChange {
    /// Buyers pay the lowest price between the pre-order and the release (Google's
    /// `TWO_POINT_LOWEST`).
    #[default]
    TwoPointLowest,
    /// A price change applies to new pre-orders only.
    NewOrdersOnly,
}

impl PriceChange {
    fn google(self) -> PriceChangeBehavior {
        match self {
            PriceChange::TwoPointLowest => PriceChangeBehavior::TwoPointLowest,
            PriceChange::NewOrdersOnly => PriceChangeBehavior::NewOrdersOnly,
        }
    }
}

/// A pre-order offer's dates.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreOrderEntry {
    /// RFC 3339 time pre-orders open.
    pub start: String,
    /// RFC 3339 time pre-orders close.
    pub end: String,
    /// RFC 3339 time the product is released and pre-orders are charged (≥ `end`).
    pub release: String,
    /// How a price change reaches pre-orders already placed; immutable.
    #[serde(default)]
    pub price_change: PriceChange,
}

/// An offer of a one-time product's purchase option: a discount (or a pre-order) per
/// region, each region's value one of `"1.00 USD"` (amount off the option's price),
/// `"20%"` (percentage off, strictly between 0 and 100) or `"none"` (the option's price).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OneTimeOfferEntry {
    /// Desired state (default `active`).
    #[serde(default)]
    pub state: OfferState,
    /// Offer tags (at most 20, each at most 20 characters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A discounted offer (exactly one of `discounted` and `pre_order`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discounted: Option<DiscountedEntry>,
    /// A pre-order offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_order: Option<PreOrderEntry>,
    /// The discount by region: `{ US = "1.00 USD", DE = "20%", GB = "none" }`; regions of
    /// the purchase option only.
    pub discounts: BTreeMap<String, String>,
    /// Regions kept but no longer offered (`NO_LONGER_AVAILABLE`): a region is never
    /// removed once added.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub withdrawn: BTreeSet<String>,
}

/// A one-time offer's regional discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discount {
    /// An amount off the purchase option's price (`absoluteDiscount`).
    Amount(Amount),
    /// Millionths of a percent off (`relativeDiscount` × 10⁸): `"20%"` is 20,000,000.
    Percent(i64),
    /// The purchase option's price (`noOverride`).
    None,
}

impl Discount {
    /// Parses `"1.00 USD"`, `"20%"` (strictly between 0 and 100, ≤ 4 decimals) or `"none"`.
    pub fn parse(s: &str) -> Result<Discount, String> {
        if s == "none" {
            return Ok(Discount::None);
        }
        if let Some(p) = s.strip_suffix('%') {
            let micros = decimal_to_micros(p)
                .filter(|m| *m > 0 && *m < 100_000_000 && m % 100 == 0)
                .ok_or_else(|| {
                    format!("{s:?}: a percentage is a decimal strictly between 0 and 100 with at most 4 decimals (\"20%\")")
                })?;
            return Ok(Discount::Percent(micros));
        }
        Amount::parse(s)
            .map(Discount::Amount)
            .map_err(|e| format!("{e}; or a percentage (\"20%\") or \"none\""))
    }

    /// A regional config with this discount in Google's terms.
    fn google(&self, region: &str, withdrawn: bool) -> OfferRegionalConfig {
        let mut c = OfferRegionalConfig {
            region_code: Some(region.to_string()),
            availability: Some(availability(withdrawn)),
            ..OfferRegionalConfig::default()
        };
        match self {
            Discount::Amount(a) => c.absolute_discount = Some(a.to_money()),
            Discount::Percent(m) => c.relative_discount = Some(*m as f64 / 1e8),
            Discount::None => c.no_override = Some(Default::default()),
        }
        c
    }

    /// From a Google regional config.
    fn from_google(c: &OfferRegionalConfig) -> Option<Discount> {
        if let Some(a) = c.absolute_discount.as_ref().and_then(Amount::of_money) {
            return Some(Discount::Amount(a));
        }
        if let Some(f) = c.relative_discount {
            return Some(Discount::Percent((f * 1e8).round() as i64));
        }
        c.no_override.as_ref().map(|_| Discount::None)
    }
}

/// `AVAILABLE`, or `NO_LONGER_AVAILABLE` for a withdrawn region.
fn availability(withdrawn: bool) -> Availability {
    match withdrawn {
        true => Availability::NoLongerAvailable,
        false => Availability::Available,
    }
}

impl std::fmt::Display for Discount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Discount::Amount(a) => write!(f, "{a}"),
            Discount::Percent(m) => {
                let text = micros_to_decimal(*m);
                let text = text.trim_end_matches('0').trim_end_matches('.');
                write!(f, "{text}%")
            }
            Discount::None => write!(f, "none"),
        }
    }
}

impl OneTimeOfferEntry {
    /// Google's `OneTimeProductOffer` (no output-only fields), over `live` when given (what
    /// the file does not hold is kept).
    pub fn to_google(
        &self,
        product: &str,
        option: &str,
        offer: &str,
        live: Option<&OneTimeProductOffer>,
    ) -> OneTimeProductOffer {
        let mut o = live.cloned().unwrap_or_default();
        o.product_id = Some(product.to_string());
        o.purchase_option_id = Some(option.to_string());
        o.offer_id = Some(offer.to_string());
        o.regional_pricing_and_availability_configs = self
            .discounts
            .iter()
            .filter_map(|(r, d)| {
                Some(
                    Discount::parse(d)
                        .ok()?
                        .google(r, self.withdrawn.contains(r)),
                )
            })
            .collect();
        o.offer_tags = OfferTag::all(&self.tags);
        o.state = None;
        o.regions_version = None;
        o.discounted_offer = self
            .discounted
            .as_ref()
            .map(|d| OneTimeProductDiscountedOffer {
                start_time: d.start.clone(),
                end_time: d.end.clone(),
                redemption_limit: d.redemption_limit.map(|n| n.to_string()),
            });
        o.pre_order_offer = self
            .pre_order
            .as_ref()
            .map(|p| OneTimeProductPreOrderOffer {
                start_time: Some(p.start.clone()),
                end_time: Some(p.end.clone()),
                release_time: Some(p.release.clone()),
                price_change_behavior: Some(p.price_change.google()),
            });
        o
    }

    /// From Google's `OneTimeProductOffer`.
    pub fn from_google(v: &OneTimeProductOffer) -> OneTimeOfferEntry {
        let discounted = v.discounted_offer.as_ref().map(|d| DiscountedEntry {
            start: d.start_time.clone(),
            end: d.end_time.clone(),
            redemption_limit: d
                .redemption_limit
                .as_deref()
                .and_then(|n| n.parse().ok())
                .filter(|n| *n > 0),
        });
        let pre_order = v.pre_order_offer.as_ref().map(|p| PreOrderEntry {
            start: p.start_time.clone().unwrap_or_default(),
            end: p.end_time.clone().unwrap_or_default(),
            release: p.release_time.clone().unwrap_or_default(),
            price_change: match p.price_change_behavior {
                Some(PriceChangeBehavior::NewOrdersOnly) => PriceChange::NewOrdersOnly,
                _ => PriceChange::TwoPointLowest,
            },
        });
        let mut discounts = BTreeMap::new();
        let mut withdrawn = BTreeSet::new();
        for c in &v.regional_pricing_and_availability_configs {
            let region = c.region_code.clone().unwrap_or_default();
            if let Some(d) = Discount::from_google(c) {
                discounts.insert(region.clone(), d.to_string());
            }
            if c.availability == Some(Availability::NoLongerAvailable) {
                withdrawn.insert(region);
            }
        }
        OneTimeOfferEntry {
            state: v
                .state
                .and_then(|s| s.as_str())
                .map_or(OfferState::Draft, OfferState::from_google),
            tags: v.offer_tags.iter().filter_map(|t| t.tag.clone()).collect(),
            discounted,
            pre_order,
            discounts,
            withdrawn,
        }
    }
}

/// A subscription.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionEntry {
    /// Listings by BCP-47 language code.
    pub listings: BTreeMap<String, Listing>,
    /// Base plans by id.
    pub base_plans: BTreeMap<String, BasePlanEntry>,
}

/// The kind of a base plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlanType {
    /// Renews every billing period.
    #[default]
    AutoRenewing,
    /// Paid once for one period; topped up by hand.
    Prepaid,
    /// Paid in `committed_payments` installments, one each billing period.
    Installments,
}

/// A base plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasePlanEntry {
    /// Auto-renewing (default) or prepaid; immutable.
    #[serde(rename = "type", default)]
    pub plan_type: PlanType,
    /// ISO 8601 billing period (`P1W`, `P1M`, `P3M`, `P6M`, `P1Y`); immutable.
    pub billing_period: String,
    /// Grace period (auto-renewing; ISO 8601, `P3D`…`P30D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period: Option<String>,
    /// Account hold (auto-renewing; ISO 8601); grace + hold is 30–60 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_hold: Option<String>,
    /// The backwards-compatible base plan (auto-renewing only).
    #[serde(default, skip_serializing_if = "is_default")]
    pub legacy_compatible: bool,
    /// Desired state (default `active`).
    #[serde(default)]
    pub state: EntryState,
    /// Explicit prices by region code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prices: BTreeMap<String, String>,
    /// One price converted to every region (explicit `prices` win).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_price: Option<String>,
    /// Regions closed to new subscribers (kept: a region cannot be removed).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub withdrawn: BTreeSet<String>,
    /// Offers by id (auto-renewing base plans only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub offers: BTreeMap<String, OfferEntry>,
    /// Installments base plans: the payments a subscriber commits to; immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed_payments: Option<u32>,
    /// Installments base plans: whether the end of the commitment starts a new one (default:
    /// it renews each period without commitment); immutable.
    #[serde(default, skip_serializing_if = "is_default")]
    pub renews_with_commitment: bool,
}

/// Who may take a subscription offer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Eligibility {
    /// New subscribers who never had a subscription of this app (acquisition).
    #[default]
    NewCustomer,
    /// Subscribers of another subscription of the app (upgrade).
    Upgrade,
    /// Whoever the app decides (no targeting rule).
    DeveloperDetermined,
}

/// An offer of an auto-renewing base plan: one or two phases before the base price.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferEntry {
    /// Desired state (default `active`; the base plan's state supersedes it).
    #[serde(default)]
    pub state: EntryState,
    /// Who may take it.
    #[serde(default)]
    pub eligibility: Eligibility,
    /// Offer tags (at most 20, each at most 20 characters).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The phases, in order (one or two).
    pub phases: Vec<PhaseEntry>,
}

/// A phase of an offer: free, or at a price per region (every region of the base plan),
/// given region by region or as one price to convert.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhaseEntry {
    /// ISO 8601 duration of one period of the phase (`P7D`, `P1M`).
    pub duration: String,
    /// How many periods (default 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub recurrence_count: u32,
    /// A free phase (a free trial).
    #[serde(default, skip_serializing_if = "is_default")]
    pub free: bool,
    /// The phase's price by region.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prices: BTreeMap<String, String>,
    /// One price converted with `convertRegionPrices` into each region of the base plan
    /// (explicit `prices` win for their regions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_price: Option<String>,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl OfferEntry {
    /// Google's `SubscriptionOffer` (no output-only fields), available in `regions`, over
    /// `live` when given (what the file does not hold is kept).
    pub fn to_google(
        &self,
        product: &str,
        base_plan: &str,
        offer: &str,
        regions: &BTreeSet<String>,
        live: Option<&SubscriptionOffer>,
    ) -> SubscriptionOffer {
        let phases = self
            .phases
            .iter()
            .map(|p| {
                let regional_configs = if p.free {
                    regions
                        .iter()
                        .map(|r| RegionalSubscriptionOfferPhaseConfig {
                            region_code: Some(r.clone()),
                            free: Some(Empty {}),
                            ..Default::default()
                        })
                        .collect()
                } else {
                    prices_of(&p.prices)
                        .into_iter()
                        .map(|(r, a)| RegionalSubscriptionOfferPhaseConfig {
                            region_code: Some(r),
                            price: Some(a.to_money()),
                            ..Default::default()
                        })
                        .collect()
                };
                SubscriptionOfferPhase {
                    duration: Some(p.duration.clone()),
                    recurrence_count: Some(i32::try_from(p.recurrence_count).unwrap_or(i32::MAX)),
                    regional_configs,
                    ..Default::default()
                }
            })
            .collect();
        let scope = Some(TargetingRuleScope::any_in_app());
        let targeting = match self.eligibility {
            Eligibility::NewCustomer => Some(SubscriptionOfferTargeting {
                acquisition_rule: Some(AcquisitionTargetingRule { scope }),
                upgrade_rule: None,
            }),
            Eligibility::Upgrade => Some(SubscriptionOfferTargeting {
                acquisition_rule: None,
                upgrade_rule: Some(UpgradeTargetingRule {
                    scope,
                    ..Default::default()
                }),
            }),
            Eligibility::DeveloperDetermined => None,
        };
        SubscriptionOffer {
            product_id: Some(product.to_string()),
            base_plan_id: Some(base_plan.to_string()),
            offer_id: Some(offer.to_string()),
            state: None,
            phases,
            targeting,
            regional_configs: regions
                .iter()
                .map(|r| RegionalSubscriptionOfferConfig {
                    region_code: Some(r.clone()),
                    new_subscriber_availability: Some(true),
                })
                .collect(),
            offer_tags: OfferTag::all(&self.tags),
            ..live.cloned().unwrap_or_default()
        }
    }

    /// From Google's `SubscriptionOffer`.
    pub fn from_google(v: &SubscriptionOffer) -> OfferEntry {
        let targeting = v.targeting.clone().unwrap_or_default();
        let eligibility = if targeting.acquisition_rule.is_some() {
            Eligibility::NewCustomer
        } else if targeting.upgrade_rule.is_some() {
            Eligibility::Upgrade
        } else {
            Eligibility::DeveloperDetermined
        };
        let phases = v
            .phases
            .iter()
            .map(|p| PhaseEntry {
                duration: p.duration.clone().unwrap_or_default(),
                recurrence_count: p
                    .recurrence_count
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(1),
                free: p.regional_configs.first().is_some_and(|c| c.free.is_some()),
                prices: p
                    .regional_configs
                    .iter()
                    .filter_map(|c| price_of(c.region_code.as_ref(), c.price.as_ref()))
                    .collect(),
                auto_price: None,
            })
            .collect();
        OfferEntry {
            state: state_of(v.state),
            eligibility,
            tags: v.offer_tags.iter().filter_map(|t| t.tag.clone()).collect(),
            phases,
        }
    }
}

impl BasePlanEntry {
    /// The regions an offer of this base plan is available in: every region of the base
    /// plan (a withdrawn one included: an offer's region, like a base plan's, is never
    /// removed, and nobody new can subscribe there anyway).
    pub fn offer_regions(&self) -> BTreeSet<String> {
        self.prices.keys().cloned().collect()
    }
}

/// Regions the emulator sells in: (region, currency at [`LATEST_REGIONS_VERSION`], units of
/// that currency per US dollar ×1000, decimals shown).
pub const REGIONS: &[(&str, &str, i64, u32)] = &[
    ("AE", "AED", 3_670, 2),
    ("AT", "EUR", 920, 2),
    ("AU", "AUD", 1_520, 2),
    ("BE", "EUR", 920, 2),
    ("BG", "EUR", 920, 2),
    ("BR", "BRL", 5_000, 2),
    ("CA", "CAD", 1_360, 2),
    ("CH", "CHF", 880, 2),
    ("DE", "EUR", 920, 2),
    ("DK", "DKK", 6_900, 2),
    ("ES", "EUR", 920, 2),
    ("FI", "EUR", 920, 2),
    ("FR", "EUR", 920, 2),
    ("GB", "GBP", 790, 2),
    ("ID", "IDR", 15_600_000, 0),
    ("IE", "EUR", 920, 2),
    ("IN", "INR", 83_000, 2),
    ("IT", "EUR", 920, 2),
    ("JP", "JPY", 150_000, 0),
    ("KR", "KRW", 1_330_000, 0),
    ("MX", "MXN", 17_000, 2),
    ("NL", "EUR", 920, 2),
    ("NO", "NOK", 10_600, 2),
    ("PL", "PLN", 4_000, 2),
    ("PT", "EUR", 920, 2),
    ("SE", "SEK", 10_500, 2),
    ("TR", "TRY", 32_000, 2),
    ("US", "USD", 1_000, 2),
    ("ZA", "ZAR", 18_500, 2),
];

/// The currency of `region` at regions version `version` (`None`: a region this table does
/// not know). Before 2025/01 Bulgaria paid in BGN.
pub fn region_currency(region: &str, version: &str) -> Option<&'static str> {
    if region == "BG" && version < "2025/01" {
        return Some("BGN");
    }
    REGIONS
        .iter()
        .find(|(r, ..)| *r == region)
        .map(|(_, c, ..)| *c)
}

fn usd_rate(currency: &str) -> Option<i64> {
    if currency == "BGN" {
        return Some(1_800);
    }
    REGIONS
        .iter()
        .find(|(_, c, ..)| *c == currency)
        .map(|(_, _, rate, _)| *rate)
}

/// The emulator's `convertRegionPrices`: `amount` into every region of [`REGIONS`] at fixed
/// rates, rounded to the currency's shown decimals (half up). `None` for a currency the
/// table does not know.
pub fn convert(amount: Amount) -> Option<BTreeMap<String, Amount>> {
    let from = usd_rate(amount.currency())? as i128;
    let mut out = BTreeMap::new();
    for (region, currency, rate, decimals) in REGIONS {
        let raw = amount.micros as i128 * *rate as i128 / from;
        let step = 10i128.pow(6 - decimals);
        let rounded = (raw + step / 2) / step * step;
        let c = currency.as_bytes();
        out.insert(
            region.to_string(),
            Amount {
                micros: rounded as i64,
                currency: [c[0], c[1], c[2]],
            },
        );
    }
    Some(out)
}

impl CatalogFile {
    /// Parses TOML (or JSON when `json`), naming the bad field and line.
    pub fn parse(text: &str, json: bool) -> anyhow::Result<CatalogFile> {
        if json {
            Ok(serde_json::from_str(text)?)
        } else {
            Ok(toml::from_str(text)?)
        }
    }

    /// Reads a catalog file: JSON if its name ends in `.json`, TOML otherwise.
    pub fn read(path: &Path) -> anyhow::Result<CatalogFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read catalog {}: {e}", path.display()))?;
        Self::parse(&text, path.extension().is_some_and(|e| e == "json"))
            .map_err(|e| anyhow::anyhow!("catalog {}: {e}", path.display()))
    }

    /// The file as TOML, sorted by id (the maps are ordered), deterministic.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// The JSON Schema of the file (published as `catalog.schema.json`).
    pub fn json_schema() -> Value {
        serde_json::to_value(schemars::schema_for!(CatalogFile)).unwrap_or_default()
    }

    /// Every `auto_price` of the file, parsed.
    pub fn auto_prices(&self) -> BTreeSet<String> {
        let otp = self
            .one_time_products
            .values()
            .flat_map(|p| p.purchase_options.values())
            .filter_map(|o| o.auto_price.clone());
        let plans = || {
            self.subscriptions
                .values()
                .flat_map(|s| s.base_plans.values())
        };
        let subs = plans().filter_map(|b| b.auto_price.clone());
        let phases = plans()
            .flat_map(|b| b.offers.values())
            .flat_map(|o| &o.phases)
            .filter_map(|p| p.auto_price.clone());
        otp.chain(subs).chain(phases).collect()
    }

    /// Replaces every `auto_price` by explicit prices from `converted` (auto price string →
    /// region → price); explicit prices of the file win, and an offer phase is priced only in
    /// its base plan's regions. Entries whose auto price is missing from `converted` keep it.
    pub fn resolve_auto_prices(&mut self, converted: &BTreeMap<String, BTreeMap<String, Amount>>) {
        // `only`: the regions an offer phase may be priced in (its base plan's).
        let fill = |prices: &mut BTreeMap<String, String>,
                    auto: &mut Option<String>,
                    only: Option<&BTreeSet<String>>| {
            let Some(regions) = auto.as_ref().and_then(|a| converted.get(a)) else {
                return;
            };
            for (region, amount) in regions {
                if only.is_none_or(|o| o.contains(region)) {
                    prices
                        .entry(region.clone())
                        .or_insert_with(|| amount.to_string());
                }
            }
            *auto = None;
        };
        for p in self.one_time_products.values_mut() {
            for o in p.purchase_options.values_mut() {
                fill(&mut o.prices, &mut o.auto_price, None);
            }
        }
        for s in self.subscriptions.values_mut() {
            for b in s.base_plans.values_mut() {
                fill(&mut b.prices, &mut b.auto_price, None);
                let plan_regions: BTreeSet<String> = b.prices.keys().cloned().collect();
                for p in b.offers.values_mut().flat_map(|o| &mut o.phases) {
                    fill(&mut p.prices, &mut p.auto_price, Some(&plan_regions));
                }
            }
        }
    }

    /// Rewrites every explicit price in its canonical form (`"750 JPY"` → `"750.00 JPY"`,
    /// as [`Amount`]'s `Display` and a price read back from Google), so that comparisons
    /// are of amounts, not spellings. Unparsable prices are left as they are.
    pub fn normalize_prices(&mut self) {
        let fix = |prices: &mut BTreeMap<String, String>| {
            for p in prices.values_mut() {
                if let Ok(a) = Amount::parse(p) {
                    *p = a.to_string();
                }
            }
        };
        for p in self.one_time_products.values_mut() {
            for o in p.purchase_options.values_mut() {
                fix(&mut o.prices);
                for offer in o.offers.values_mut() {
                    for d in offer.discounts.values_mut() {
                        if let Ok(parsed) = Discount::parse(d) {
                            *d = parsed.to_string();
                        }
                    }
                }
            }
        }
        for s in self.subscriptions.values_mut() {
            for b in s.base_plans.values_mut() {
                fix(&mut b.prices);
                for o in b.offers.values_mut() {
                    for p in &mut o.phases {
                        fix(&mut p.prices);
                    }
                }
            }
        }
    }

    /// Resolves auto prices with the emulator's own converter (seeding the emulator).
    pub fn resolve_locally(&mut self) {
        let converted = self
            .auto_prices()
            .into_iter()
            .filter_map(|a| Some((a.clone(), convert(Amount::parse(&a).ok()?)?)))
            .collect();
        self.resolve_auto_prices(&converted);
    }
}

fn prices_of(prices: &BTreeMap<String, String>) -> Vec<(String, Amount)> {
    prices
        .iter()
        .filter_map(|(r, p)| Some((r.clone(), Amount::parse(p).ok()?)))
        .collect()
}

/// A region's price as the file writes it (`None` without a region, a price, or one that
/// is not an exact amount).
fn price_of(region: Option<&String>, price: Option<&Money>) -> Option<(String, String)> {
    Some((region?.clone(), Amount::of_money(price?)?.to_string()))
}

/// A listing of Google's as the file's (language, listing).
fn listing(
    language: &Option<String>,
    title: &Option<String>,
    description: &Option<String>,
    benefits: Vec<String>,
) -> (String, Listing) {
    let text = |t: &Option<String>| t.clone().unwrap_or_default();
    let listing = Listing {
        title: text(title),
        description: text(description),
        benefits,
    };
    (text(language), listing)
}

/// The file's state of a base plan or subscription offer (absent: a draft).
fn state_of(state: Option<BasePlanState>) -> EntryState {
    EntryState::from_google(state.and_then(BasePlanState::as_str).unwrap_or("DRAFT"))
}

impl OneTimeProductEntry {
    /// Google's `OneTimeProduct` (no output-only fields), over `live` when given (what the
    /// file does not hold, such as tax settings or offer tags set in the Play Console, is
    /// kept). Auto prices must be resolved first.
    pub fn to_google(&self, id: &str, live: Option<&OneTimeProduct>) -> OneTimeProduct {
        let purchase_options = self
            .purchase_options
            .iter()
            .map(|(oid, o)| {
                let mut v = live
                    .and_then(|l| l.option(oid))
                    .cloned()
                    .unwrap_or_default();
                v.purchase_option_id = Some(oid.clone());
                v.regional_pricing_and_availability_configs = prices_of(&o.prices)
                    .into_iter()
                    .map(|(region, amount)| PurchaseOptionRegionalConfig {
                        availability: Some(availability(o.withdrawn.contains(&region))),
                        region_code: Some(region),
                        price: Some(amount.to_money()),
                    })
                    .collect();
                v.state = None;
                v.buy_option = o.rent.is_none().then_some(OneTimeProductBuyPurchaseOption {
                    legacy_compatible: Some(o.legacy_compatible),
                    multi_quantity_enabled: Some(o.multi_quantity),
                });
                v.rent_option = o.rent.as_ref().map(|r| OneTimeProductRentPurchaseOption {
                    rental_period: Some(r.period.clone()),
                    expiration_period: r.expiration.clone(),
                });
                v
            })
            .collect();
        let mut v = live.cloned().unwrap_or_default();
        v.product_id = Some(id.to_string());
        v.listings = self
            .listings
            .iter()
            .map(|(lang, l)| OneTimeProductListing {
                language_code: Some(lang.clone()),
                title: Some(l.title.clone()),
                description: Some(l.description.clone()),
            })
            .collect();
        v.purchase_options = purchase_options;
        v.regions_version = None;
        v
    }

    /// From Google's `OneTimeProduct`; `kind` is not Google's and comes from the caller.
    pub fn from_google(v: &OneTimeProduct, kind: OneTimeKind) -> OneTimeProductEntry {
        let purchase_options = v
            .purchase_options
            .iter()
            .map(|o| {
                let mut prices = BTreeMap::new();
                let mut withdrawn = BTreeSet::new();
                for c in &o.regional_pricing_and_availability_configs {
                    let region = c.region_code.clone().unwrap_or_default();
                    if let Some(a) = c.price.as_ref().and_then(Amount::of_money) {
                        prices.insert(region.clone(), a.to_string());
                    }
                    if c.availability == Some(Availability::NoLongerAvailable) {
                        withdrawn.insert(region);
                    }
                }
                let buy = o.buy_option.clone().unwrap_or_default();
                let entry = PurchaseOptionEntry {
                    legacy_compatible: buy.legacy_compatible == Some(true),
                    multi_quantity: buy.multi_quantity_enabled == Some(true),
                    state: EntryState::from_google(
                        o.state.and_then(|s| s.as_str()).unwrap_or("DRAFT"),
                    ),
                    prices,
                    auto_price: None,
                    withdrawn,
                    rent: o.rent_option.as_ref().map(|r| RentEntry {
                        period: r.rental_period.clone().unwrap_or_default(),
                        expiration: r.expiration_period.clone(),
                    }),
                    offers: BTreeMap::new(),
                };
                (o.id().to_string(), entry)
            })
            .collect();
        let listings = v
            .listings
            .iter()
            .map(|l| listing(&l.language_code, &l.title, &l.description, Vec::new()))
            .collect();
        OneTimeProductEntry {
            kind,
            listings,
            purchase_options,
        }
    }
}

impl SubscriptionEntry {
    /// Google's `Subscription` (no output-only fields), over `live` when given (what the
    /// file does not hold, such as tax settings, a base plan's proration mode or its
    /// prices for new regions, is kept).
    pub fn to_google(&self, id: &str, live: Option<&Subscription>) -> Subscription {
        let base_plans = self
            .base_plans
            .iter()
            .map(|(bid, b)| {
                let live_plan = live.and_then(|l| l.plan(bid)).cloned().unwrap_or_default();
                let mut plan = BasePlan {
                    base_plan_id: Some(bid.clone()),
                    state: None,
                    auto_renewing_base_plan_type: None,
                    prepaid_base_plan_type: None,
                    installments_base_plan_type: None,
                    regional_configs: prices_of(&b.prices)
                        .into_iter()
                        .map(|(region, amount)| RegionalBasePlanConfig {
                            new_subscriber_availability: Some(!b.withdrawn.contains(&region)),
                            region_code: Some(region),
                            price: Some(amount.to_money()),
                        })
                        .collect(),
                    ..live_plan.clone()
                };
                let period = Some(b.billing_period.clone());
                // Durations the file leaves out are the live plan's.
                let durations = |grace: &Option<String>, hold: &Option<String>| {
                    (
                        b.grace_period.clone().or(grace.clone()),
                        b.account_hold.clone().or(hold.clone()),
                    )
                };
                match b.plan_type {
                    PlanType::AutoRenewing => {
                        let t = live_plan.auto_renewing_base_plan_type.unwrap_or_default();
                        let (grace, hold) =
                            durations(&t.grace_period_duration, &t.account_hold_duration);
                        plan.auto_renewing_base_plan_type = Some(AutoRenewingBasePlanType {
                            billing_period_duration: period,
                            legacy_compatible: Some(b.legacy_compatible),
                            grace_period_duration: grace,
                            account_hold_duration: hold,
                            ..t
                        });
                    }
                    PlanType::Prepaid => {
                        plan.prepaid_base_plan_type = Some(PrepaidBasePlanType {
                            billing_period_duration: period,
                            ..live_plan.prepaid_base_plan_type.unwrap_or_default()
                        });
                    }
                    PlanType::Installments => {
                        let t = live_plan.installments_base_plan_type.unwrap_or_default();
                        let (grace, hold) =
                            durations(&t.grace_period_duration, &t.account_hold_duration);
                        plan.installments_base_plan_type = Some(InstallmentsBasePlanType {
                            billing_period_duration: period,
                            committed_payments_count: Some(
                                b.committed_payments
                                    .and_then(|n| i32::try_from(n).ok())
                                    .unwrap_or_default(),
                            ),
                            renewal_type: Some(if b.renews_with_commitment {
                                RenewalType::RenewsWithCommitment
                            } else {
                                RenewalType::RenewsWithoutCommitment
                            }),
                            grace_period_duration: grace,
                            account_hold_duration: hold,
                            ..t
                        });
                    }
                }
                plan
            })
            .collect();
        let listings = self
            .listings
            .iter()
            .map(|(lang, l)| SubscriptionListing {
                language_code: Some(lang.clone()),
                title: Some(l.title.clone()),
                description: Some(l.description.clone()),
                benefits: l.benefits.clone(),
            })
            .collect();
        Subscription {
            product_id: Some(id.to_string()),
            listings,
            base_plans,
            archived: None,
            ..live.cloned().unwrap_or_default()
        }
    }

    /// From Google's `Subscription`.
    pub fn from_google(v: &Subscription) -> SubscriptionEntry {
        let base_plans = v
            .base_plans
            .iter()
            .map(|b| {
                let (plan_type, grace_period, account_hold) =
                    match (&b.prepaid_base_plan_type, &b.installments_base_plan_type) {
                        (Some(_), _) => (PlanType::Prepaid, None, None),
                        (None, Some(t)) => (
                            PlanType::Installments,
                            t.grace_period_duration.clone(),
                            t.account_hold_duration.clone(),
                        ),
                        (None, None) => {
                            let t = b.auto_renewing_base_plan_type.as_ref();
                            (
                                PlanType::AutoRenewing,
                                t.and_then(|t| t.grace_period_duration.clone()),
                                t.and_then(|t| t.account_hold_duration.clone()),
                            )
                        }
                    };
                let installments = b.installments_base_plan_type.as_ref();
                let entry = BasePlanEntry {
                    plan_type,
                    billing_period: b.billing_period().unwrap_or_default().to_string(),
                    grace_period,
                    account_hold,
                    legacy_compatible: b.is_legacy_compatible(),
                    state: state_of(b.state),
                    prices: b
                        .regional_configs
                        .iter()
                        .filter_map(|c| price_of(c.region_code.as_ref(), c.price.as_ref()))
                        .collect(),
                    auto_price: None,
                    withdrawn: b
                        .regional_configs
                        .iter()
                        .filter(|c| c.new_subscriber_availability == Some(false))
                        .filter_map(|c| c.region_code.clone())
                        .collect(),
                    offers: BTreeMap::new(),
                    committed_payments: installments
                        .and_then(|t| t.committed_payments_count)
                        .and_then(|n| u32::try_from(n).ok()),
                    renews_with_commitment: installments
                        .is_some_and(|t| t.renewal_type == Some(RenewalType::RenewsWithCommitment)),
                };
                (b.id().to_string(), entry)
            })
            .collect();
        let listings = v
            .listings
            .iter()
            .map(|l| {
                listing(
                    &l.language_code,
                    &l.title,
                    &l.description,
                    l.benefits.clone(),
                )
            })
            .collect();
        SubscriptionEntry {
            listings,
            base_plans,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_is_exact_and_rounded() {
        let c = convert(Amount::parse("4.99 USD").unwrap()).unwrap();
        assert_eq!(c["US"].to_string(), "4.99 USD");
        assert_eq!(c["DE"].to_string(), "4.59 EUR");
        assert_eq!(c["JP"].to_string(), "749.00 JPY");
        assert_eq!(region_currency("BG", "2022/02"), Some("BGN"));
        assert_eq!(region_currency("BG", LATEST_REGIONS_VERSION), Some("EUR"));
    }

    #[test]
    fn google_round_trip() {
        let text = r#"
[one_time_products.coins]
kind = "consumable"
listings.en-US = { title = "Coins", description = "d" }
purchase_options.buy = { legacy_compatible = true, prices = { US = "0.99 USD", DE = "0.99 EUR" }, withdrawn = ["DE"] }
[subscriptions.premium.listings.en-US]
title = "Premium"
benefits = ["No ads"]
[subscriptions.premium.base_plans.monthly]
billing_period = "P1M"
grace_period = "P7D"
account_hold = "P30D"
legacy_compatible = true
prices = { US = "1.99 USD" }
"#;
        let file = CatalogFile::parse(text, false).unwrap();
        let p = &file.one_time_products["coins"];
        let g = p.to_google("coins", None);
        assert_eq!(
            g.purchase_options[0].regional_pricing_and_availability_configs[0].availability,
            Some(Availability::NoLongerAvailable)
        );
        let mut back = OneTimeProductEntry::from_google(&g, OneTimeKind::Consumable);
        back.purchase_options.get_mut("buy").unwrap().state = EntryState::Active;
        assert_eq!(&back, p);
        let s = &file.subscriptions["premium"];
        let mut back = SubscriptionEntry::from_google(&s.to_google("premium", None));
        back.base_plans.get_mut("monthly").unwrap().state = EntryState::Active;
        assert_eq!(&back, s);
        assert_eq!(CatalogFile::parse(&file.to_toml(), false).unwrap(), file);
    }
}
