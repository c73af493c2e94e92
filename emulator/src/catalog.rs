//! The product catalog: the built-in demo catalog and catalog files (TOML or JSON).
//!
//! A catalog file has two lists, `products` (one-time products) and `subscriptions`
//! (subscription products with base plans); see the README for an example. The emulator
//! turns them into Google's resources (`InAppProduct`, monetization `Subscription`), which
//! the catalog methods of Google's API then read and change.

use std::path::Path;

use play_model::inappproducts::InAppProduct;
use play_model::subscriptions::{
    AutoRenewingBasePlanType, BasePlan, BasePlanState, ProrationMode, RegionalBasePlanConfig,
    ResubscribeState, Subscription, SubscriptionListing,
};
use play_model::Money;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A catalog: one-time products and subscriptions.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// One-time products (`inappproducts`, purchase type `managedUser`).
    #[serde(default)]
    pub products: Vec<ProductSpec>,
    /// Subscription products (`monetization.subscriptions`).
    #[serde(default)]
    pub subscriptions: Vec<SubscriptionSpec>,
    /// The catalog-as-code file this catalog was read from (auto prices resolved), if any:
    /// it then seeds `monetization.onetimeproducts` and `monetization.subscriptions` whole.
    #[serde(skip)]
    pub file: Option<crate::catalog_file::CatalogFile>,
}

/// A one-time product.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ProductSpec {
    /// The product id (`sku`).
    pub sku: String,
    /// Title in the default language.
    pub title: String,
    /// Description in the default language.
    #[serde(default)]
    pub description: String,
    /// Price as a decimal string (`"0.99"`).
    pub price: String,
    /// ISO 4217 currency code. Default `USD`.
    #[serde(default = "usd")]
    pub currency: String,
    /// Whether the product is active (listed and purchasable). Default true.
    #[serde(default = "yes")]
    pub active: bool,
}

/// A subscription product.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    /// The subscription's product id.
    pub product_id: String,
    /// Title (en-US listing).
    pub title: String,
    /// Description (en-US listing).
    #[serde(default)]
    pub description: String,
    /// Benefits shown in the Play Store.
    #[serde(default)]
    pub benefits: Vec<String>,
    /// Base plans (at least one).
    pub base_plans: Vec<BasePlanSpec>,
    /// The introductory offer new subscribers get, as the Digital Goods API shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro_offer: Option<IntroOffer>,
}

/// An introductory offer of a subscription: a free trial and/or a discounted first phase.
/// The device sandbox shows it in `ItemDetails` (`freeTrialPeriod`, `introductoryPrice…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntroOffer {
    /// ISO 8601 duration of a free trial (`P7D`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_trial_period: Option<String>,
    /// Introductory price as a decimal string, in the base plan's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introductory_price: Option<String>,
    /// ISO 8601 duration of one introductory billing period (`P1M`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introductory_price_period: Option<String>,
    /// How many periods the introductory price lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introductory_price_cycles: Option<u32>,
}

/// An auto-renewing base plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BasePlanSpec {
    /// The base plan id.
    pub base_plan_id: String,
    /// Billing period, ISO 8601 (`P1W`, `P1M`, `P3M`, `P6M`, `P1Y`; any `PnYnMnWnDTnHnMnS` works here).
    pub period: String,
    /// Price as a decimal string.
    pub price: String,
    /// ISO 4217 currency code. Default `USD`.
    #[serde(default = "usd")]
    pub currency: String,
    /// Region of that price. Default `US`.
    #[serde(default = "us")]
    pub region_code: String,
    /// Grace period. Default `P7D`.
    #[serde(default = "p7d")]
    pub grace_period: String,
    /// Account hold. Default `P30D`.
    #[serde(default = "p30d")]
    pub account_hold: String,
    /// Whether this is the backwards-compatible base plan (the one the Digital Goods API sells).
    #[serde(default)]
    pub legacy_compatible: bool,
    /// Whether the base plan starts ACTIVE (default) or DRAFT.
    #[serde(default = "yes")]
    pub active: bool,
}

fn usd() -> String {
    "USD".into()
}
fn us() -> String {
    "US".into()
}
fn p7d() -> String {
    "P7D".into()
}
fn p30d() -> String {
    "P30D".into()
}
fn yes() -> bool {
    true
}

impl Catalog {
    /// The built-in demo catalog: a consumable (`coins_100`), a non-consumable
    /// (`premium_unlock`), and two subscription products, `sub_monthly` (base plan
    /// `monthly`, P1M, a 7-day free trial) and `sub_yearly` (base plan `yearly`, P1Y, an
    /// introductory price for the first year), so that a switch between them is an upgrade or
    /// downgrade that the Digital Goods API can express by sku.
    pub fn demo() -> Catalog {
        let plan = |id: &str, period: &str, price: &str| BasePlanSpec {
            base_plan_id: id.into(),
            period: period.into(),
            price: price.into(),
            currency: usd(),
            region_code: us(),
            grace_period: p7d(),
            account_hold: p30d(),
            legacy_compatible: true,
            active: true,
        };
        Catalog {
            file: None,
            products: vec![
                ProductSpec {
                    sku: "coins_100".into(),
                    title: "100 coins".into(),
                    description: "A bag of 100 coins to spend in the app (consumable).".into(),
                    price: "0.99".into(),
                    currency: usd(),
                    active: true,
                },
                ProductSpec {
                    sku: "premium_unlock".into(),
                    title: "Premium upgrade".into(),
                    description: "Unlocks every premium feature, forever (non-consumable).".into(),
                    price: "4.99".into(),
                    currency: usd(),
                    active: true,
                },
            ],
            subscriptions: vec![
                SubscriptionSpec {
                    product_id: "sub_monthly".into(),
                    title: "Premium (monthly)".into(),
                    description: "All premium features, billed every month.".into(),
                    benefits: vec!["No ads".into(), "Cloud sync".into()],
                    base_plans: vec![plan("monthly", "P1M", "1.99")],
                    intro_offer: Some(IntroOffer {
                        free_trial_period: Some("P7D".into()),
                        ..IntroOffer::default()
                    }),
                },
                SubscriptionSpec {
                    product_id: "sub_yearly".into(),
                    title: "Premium (yearly)".into(),
                    description: "All premium features, billed every year.".into(),
                    benefits: vec![
                        "No ads".into(),
                        "Cloud sync".into(),
                        "Two months free".into(),
                    ],
                    base_plans: vec![plan("yearly", "P1Y", "19.99")],
                    intro_offer: Some(IntroOffer {
                        introductory_price: Some("9.99".into()),
                        introductory_price_period: Some("P1Y".into()),
                        introductory_price_cycles: Some(1),
                        ..IntroOffer::default()
                    }),
                },
            ],
        }
    }

    /// Reads a catalog file: JSON if its name ends in `.json`, TOML otherwise; either this
    /// module's format (lists `products` and `subscriptions`) or the catalog-as-code format
    /// of `pwa-billing catalog` (tables keyed by id, see [`crate::catalog_file`]).
    pub fn from_file(path: &Path) -> anyhow::Result<Catalog> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read catalog {}: {e}", path.display()))?;
        let json = path.extension().is_some_and(|e| e == "json");
        let catalog = if is_catalog_file(&text, json) {
            crate::catalog_file::CatalogFile::parse(&text, json).map(Catalog::from_catalog_file)
        } else if json {
            Catalog::from_json(&text)
        } else {
            Catalog::from_toml(&text)
        };
        catalog.map_err(|e| anyhow::anyhow!("catalog {}: {e}", path.display()))
    }

    /// A catalog seeded from a catalog-as-code file: auto prices converted by the emulator's
    /// converter, and the legacy lists (`inappproducts`, the device sandbox) derived from it,
    /// each product at its `US` price (or its first).
    pub fn from_catalog_file(mut file: crate::catalog_file::CatalogFile) -> Catalog {
        use crate::catalog_file::{Amount, EntryState, Listing, PlanType};
        file.resolve_locally();
        let first_price = |prices: &std::collections::BTreeMap<String, String>| {
            prices
                .get("US")
                .or_else(|| prices.values().next())
                .and_then(|p| Amount::parse(p).ok())
                .map(|a| {
                    (
                        crate::catalog::micros_to_decimal(a.micros),
                        a.currency().to_string(),
                    )
                })
                .unwrap_or_else(|| ("0".into(), usd()))
        };
        let listing = |l: &std::collections::BTreeMap<String, Listing>| {
            l.get("en-US")
                .or_else(|| l.values().next())
                .cloned()
                .unwrap_or_default()
        };
        let products = file
            .one_time_products
            .iter()
            .filter_map(|(id, p)| {
                let option = p
                    .purchase_options
                    .values()
                    .find(|o| o.legacy_compatible)
                    .or_else(|| p.purchase_options.values().next())?;
                let (price, currency) = first_price(&option.prices);
                let l = listing(&p.listings);
                Some(ProductSpec {
                    sku: id.clone(),
                    title: l.title,
                    description: l.description,
                    price,
                    currency,
                    active: option.state == EntryState::Active,
                })
            })
            .collect();
        let subscriptions = file
            .subscriptions
            .iter()
            .map(|(id, s)| {
                let l = listing(&s.listings);
                SubscriptionSpec {
                    product_id: id.clone(),
                    title: l.title,
                    description: l.description,
                    benefits: l.benefits,
                    base_plans: s
                        .base_plans
                        .iter()
                        .filter(|(_, b)| b.plan_type == PlanType::AutoRenewing)
                        .map(|(bid, b)| {
                            let (price, currency) = first_price(&b.prices);
                            BasePlanSpec {
                                base_plan_id: bid.clone(),
                                period: b.billing_period.clone(),
                                price,
                                currency,
                                region_code: if b.prices.contains_key("US") {
                                    us()
                                } else {
                                    b.prices.keys().next().cloned().unwrap_or_else(us)
                                },
                                grace_period: b.grace_period.clone().unwrap_or_else(p7d),
                                account_hold: b.account_hold.clone().unwrap_or_else(p30d),
                                legacy_compatible: b.legacy_compatible,
                                active: b.state == EntryState::Active,
                            }
                        })
                        .collect(),
                    intro_offer: None,
                }
            })
            .collect();
        Catalog {
            products,
            subscriptions,
            file: Some(file),
        }
    }

    /// This catalog as a catalog-as-code file: its own file if it was read from one,
    /// otherwise each one-time product with one legacy-compatible purchase option `buy` at
    /// its price in `US` and each subscription with its base plans.
    pub fn to_catalog_file(&self) -> crate::catalog_file::CatalogFile {
        use crate::catalog_file::*;
        if let Some(f) = &self.file {
            return f.clone();
        }
        let state = |active: bool| {
            if active {
                EntryState::Active
            } else {
                EntryState::Draft
            }
        };
        let listing = |title: &str, description: &str, benefits: &[String]| {
            std::collections::BTreeMap::from([(
                "en-US".to_string(),
                Listing {
                    title: title.into(),
                    description: description.into(),
                    benefits: benefits.to_vec(),
                },
            )])
        };
        CatalogFile {
            regions_version: None,
            one_time_products: self
                .products
                .iter()
                .map(|p| {
                    let option = PurchaseOptionEntry {
                        legacy_compatible: true,
                        state: state(p.active),
                        prices: [("US".to_string(), format!("{} {}", p.price, p.currency))].into(),
                        ..Default::default()
                    };
                    let entry = OneTimeProductEntry {
                        kind: OneTimeKind::NonConsumable,
                        listings: listing(&p.title, &p.description, &[]),
                        purchase_options: [("buy".to_string(), option)].into(),
                    };
                    (p.sku.clone(), entry)
                })
                .collect(),
            subscriptions: self
                .subscriptions
                .iter()
                .map(|s| {
                    let plans = s
                        .base_plans
                        .iter()
                        .map(|b| {
                            let plan = BasePlanEntry {
                                billing_period: b.period.clone(),
                                grace_period: Some(b.grace_period.clone()),
                                account_hold: Some(b.account_hold.clone()),
                                legacy_compatible: b.legacy_compatible,
                                state: state(b.active),
                                prices: [(
                                    b.region_code.clone(),
                                    format!("{} {}", b.price, b.currency),
                                )]
                                .into(),
                                ..Default::default()
                            };
                            (b.base_plan_id.clone(), plan)
                        })
                        .collect();
                    let entry = SubscriptionEntry {
                        listings: listing(&s.title, &s.description, &s.benefits),
                        base_plans: plans,
                    };
                    (s.product_id.clone(), entry)
                })
                .collect(),
        }
    }

    /// Parses a TOML catalog.
    pub fn from_toml(text: &str) -> anyhow::Result<Catalog> {
        let catalog: Catalog = toml::from_str(text)?;
        catalog.validate()?;
        Ok(catalog)
    }

    /// Parses a JSON catalog.
    pub fn from_json(text: &str) -> anyhow::Result<Catalog> {
        let catalog: Catalog = serde_json::from_str(text)?;
        catalog.validate()?;
        Ok(catalog)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for p in &self.products {
            anyhow::ensure!(
                seen.insert(p.sku.clone()),
                "duplicate product id {:?}",
                p.sku
            );
            decimal_to_micros(&p.price)
                .ok_or_else(|| anyhow::anyhow!("bad price {:?}", p.price))?;
        }
        for s in &self.subscriptions {
            anyhow::ensure!(
                seen.insert(s.product_id.clone()),
                "duplicate product id {:?}",
                s.product_id
            );
            anyhow::ensure!(
                !s.base_plans.is_empty(),
                "subscription {:?} has no base plan",
                s.product_id
            );
            for b in &s.base_plans {
                decimal_to_micros(&b.price)
                    .ok_or_else(|| anyhow::anyhow!("bad price {:?}", b.price))?;
                crate::clock::Period::parse(&b.period)
                    .ok_or_else(|| anyhow::anyhow!("bad period {:?}", b.period))?;
            }
            if let Some(offer) = &s.intro_offer {
                if let Some(price) = &offer.introductory_price {
                    decimal_to_micros(price)
                        .ok_or_else(|| anyhow::anyhow!("bad introductory price {price:?}"))?;
                }
                for period in [&offer.free_trial_period, &offer.introductory_price_period]
                    .into_iter()
                    .flatten()
                {
                    crate::clock::Period::parse(period)
                        .ok_or_else(|| anyhow::anyhow!("bad offer period {period:?}"))?;
                }
            }
        }
        Ok(())
    }

    /// The one-time products as Google's `InAppProduct` resources.
    pub fn in_app_products(&self, package_name: &str) -> Vec<InAppProduct> {
        use play_model::inappproducts::{InAppProductListing, ACTIVE, INACTIVE, MANAGED_USER};
        self.products
            .iter()
            .map(|p| {
                let price = price(&p.price, &p.currency);
                let listing = InAppProductListing {
                    title: Some(p.title.clone()),
                    description: Some(p.description.clone()),
                    benefits: Vec::new(),
                };
                InAppProduct {
                    package_name: Some(package_name.into()),
                    sku: Some(p.sku.clone()),
                    status: Some(if p.active { ACTIVE } else { INACTIVE }.into()),
                    purchase_type: Some(MANAGED_USER.into()),
                    default_price: Some(price.clone()),
                    prices: [("US".to_string(), price)].into(),
                    default_language: Some("en-US".into()),
                    listings: [("en-US".to_string(), listing)].into(),
                    ..InAppProduct::default()
                }
            })
            .collect()
    }

    /// The subscriptions as Google's monetization `Subscription` resources.
    pub fn subscriptions(&self, package_name: &str) -> Vec<Subscription> {
        self.subscriptions
            .iter()
            .map(|s| {
                let base_plans = s
                    .base_plans
                    .iter()
                    .map(|b| BasePlan {
                        base_plan_id: Some(b.base_plan_id.clone()),
                        state: Some(if b.active {
                            BasePlanState::Active
                        } else {
                            BasePlanState::Draft
                        }),
                        auto_renewing_base_plan_type: Some(AutoRenewingBasePlanType {
                            billing_period_duration: Some(b.period.clone()),
                            grace_period_duration: Some(b.grace_period.clone()),
                            account_hold_duration: Some(b.account_hold.clone()),
                            legacy_compatible: Some(b.legacy_compatible),
                            proration_mode: Some(ProrationMode::ChargeOnNextBillingDate),
                            resubscribe_state: Some(ResubscribeState::Active),
                            ..Default::default()
                        }),
                        regional_configs: vec![RegionalBasePlanConfig {
                            region_code: Some(b.region_code.clone()),
                            new_subscriber_availability: Some(true),
                            price: Some(Money::from_micros(
                                decimal_to_micros(&b.price).unwrap_or(0),
                                &b.currency,
                            )),
                        }],
                        ..Default::default()
                    })
                    .collect();
                Subscription {
                    package_name: Some(package_name.into()),
                    product_id: Some(s.product_id.clone()),
                    listings: vec![SubscriptionListing {
                        language_code: Some("en-US".into()),
                        title: Some(s.title.clone()),
                        description: Some(s.description.clone()),
                        benefits: s.benefits.clone(),
                    }],
                    base_plans,
                    ..Default::default()
                }
            })
            .collect()
    }
}

/// Whether a catalog text is in the catalog-as-code format: tables keyed by id
/// (`one_time_products`, `subscriptions` as a table) or a `regions_version`.
fn is_catalog_file(text: &str, json: bool) -> bool {
    let value: Option<Value> = if json {
        serde_json::from_str(text).ok()
    } else {
        toml::from_str::<toml::Value>(text)
            .ok()
            .and_then(|v| serde_json::to_value(v).ok())
    };
    value.is_some_and(|v| {
        v.get("one_time_products").is_some()
            || v.get("regions_version").is_some()
            || v.get("subscriptions").is_some_and(Value::is_object)
    })
}

pub use play_model::money::{decimal_to_micros, micros_to_decimal};

/// Google's `Price` of a decimal string.
pub fn price(decimal: &str, currency: &str) -> play_model::Price {
    play_model::Price::new(decimal_to_micros(decimal).unwrap_or(0), currency)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_valid() {
        Catalog::demo().validate().unwrap();
        let toml = toml::to_string(&Catalog::demo()).unwrap();
        assert_eq!(Catalog::from_toml(&toml).unwrap(), Catalog::demo());
    }
}
