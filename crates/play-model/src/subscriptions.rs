//! `monetization.subscriptions`, their base plans and offers: Google's `Subscription`,
//! `BasePlan`, `SubscriptionOffer`, the batch requests and answers of their methods, and
//! `migratePrices`. The server's `catalog` reads and sends them; the emulator stores and
//! writes them.
//!
//! As with the one-time product types, the resources keep the fields this model does not
//! name in `extra` (`#[serde(flatten)]`), so a masked update never drops what only the Play
//! Console sets; tax and compliance settings and restricted payment countries, which the
//! catalog never reads, are kept as written. Every enum keeps a value it does not know as
//! `Unknown`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use serde_with::skip_serializing_none;

use crate::money::Money;
use crate::onetimeproducts::OfferTag;
use crate::pricing::RegionsVersion;

google_enum! {
    /// `BasePlan.state` and `SubscriptionOffer.state` (output only; one enum in Google's
    /// document for both).
    BasePlanState {
        /// Unspecified.
        Unspecified = "STATE_UNSPECIFIED",
        /// Not yet published: new base plans and offers start here.
        Draft = "DRAFT",
        /// Available to new subscribers.
        Active = "ACTIVE",
        /// No longer available to new subscribers; existing ones keep it.
        Inactive = "INACTIVE",
    }
}

/// `SubscriptionOffer.state`: the same values as [`BasePlanState`].
pub type SubscriptionOfferState = BasePlanState;

google_enum! {
    /// `prorationMode` of an auto-renewing or installments base plan.
    ProrationMode {
        /// Unspecified.
        Unspecified = "SUBSCRIPTION_PRORATION_MODE_UNSPECIFIED",
        /// A change takes effect at the next billing date.
        ChargeOnNextBillingDate = "SUBSCRIPTION_PRORATION_MODE_CHARGE_ON_NEXT_BILLING_DATE",
        /// A change is charged in full at once.
        ChargeFullPriceImmediately = "SUBSCRIPTION_PRORATION_MODE_CHARGE_FULL_PRICE_IMMEDIATELY",
    }
}

google_enum! {
    /// `resubscribeState` of an auto-renewing or installments base plan.
    ResubscribeState {
        /// Unspecified.
        Unspecified = "RESUBSCRIBE_STATE_UNSPECIFIED",
        /// Users may resubscribe from the Play Store.
        Active = "RESUBSCRIBE_STATE_ACTIVE",
        /// They may not.
        Inactive = "RESUBSCRIBE_STATE_INACTIVE",
    }
}

google_enum! {
    /// `InstallmentsBasePlanType.renewalType`.
    RenewalType {
        /// Unspecified.
        Unspecified = "RENEWAL_TYPE_UNSPECIFIED",
        /// After the commitment, renews each period without one.
        RenewsWithoutCommitment = "RENEWAL_TYPE_RENEWS_WITHOUT_COMMITMENT",
        /// After the commitment, renews into a new one.
        RenewsWithCommitment = "RENEWAL_TYPE_RENEWS_WITH_COMMITMENT",
    }
}

google_enum! {
    /// `PrepaidBasePlanType.timeExtension`.
    TimeExtension {
        /// Unspecified.
        Unspecified = "TIME_EXTENSION_UNSPECIFIED",
        /// A top-up extends the current period.
        Active = "TIME_EXTENSION_ACTIVE",
        /// It does not.
        Inactive = "TIME_EXTENSION_INACTIVE",
    }
}

google_enum! {
    /// `latencyTolerance` of a catalog write.
    LatencyTolerance {
        /// Unspecified (latency-sensitive).
        Unspecified = "PRODUCT_UPDATE_LATENCY_TOLERANCE_UNSPECIFIED",
        /// Propagates within minutes; counts against the latency-sensitive quota.
        LatencySensitive = "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_SENSITIVE",
        /// Propagates within 24 hours.
        LatencyTolerant = "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT",
    }
}

google_enum! {
    /// `RegionalPriceMigrationConfig.priceIncreaseType`.
    PriceIncreaseType {
        /// Unspecified (opt-in).
        Unspecified = "PRICE_INCREASE_TYPE_UNSPECIFIED",
        /// Subscribers must accept the increase.
        OptIn = "PRICE_INCREASE_TYPE_OPT_IN",
        /// Subscribers are charged unless they cancel.
        OptOut = "PRICE_INCREASE_TYPE_OPT_OUT",
    }
}

/// A message without fields: `RegionalSubscriptionOfferPhaseFreePriceOverride`,
/// `OtherRegionsSubscriptionOfferPhaseFreePriceOverride`,
/// `TargetingRuleScopeAnySubscriptionInApp`, `TargetingRuleScopeThisSubscription` and
/// `MigrateBasePlanPricesResponse` (`{}` on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Empty {}

/// `Subscription`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Subscription {
    /// The app.
    pub package_name: Option<String>,
    /// The product id.
    pub product_id: Option<String>,
    /// Store listings, one per language.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listings: Vec<SubscriptionListing>,
    /// Base plans.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub base_plans: Vec<BasePlan>,
    /// Deprecated, output only.
    pub archived: Option<bool>,
    /// `RestrictedPaymentCountries`, kept as written.
    pub restricted_payment_countries: Option<Value>,
    /// `SubscriptionTaxAndComplianceSettings`, kept as written.
    pub tax_and_compliance_settings: Option<Value>,
    /// Fields this model does not name, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Subscription {
    /// The product id (`""` when absent).
    pub fn id(&self) -> &str {
        self.product_id.as_deref().unwrap_or_default()
    }

    /// The base plan `id`.
    pub fn plan(&self, id: &str) -> Option<&BasePlan> {
        self.base_plans.iter().find(|b| b.id() == id)
    }

    /// The base plan `id`, to change.
    pub fn plan_mut(&mut self, id: &str) -> Option<&mut BasePlan> {
        self.base_plans.iter_mut().find(|b| b.id() == id)
    }

    /// The listing in `language` (`None`: the first).
    pub fn listing(&self, language: Option<&str>) -> Option<&SubscriptionListing> {
        match language {
            Some(l) => self
                .listings
                .iter()
                .find(|x| x.language_code.as_deref() == Some(l)),
            None => self.listings.first(),
        }
    }
}

/// `SubscriptionListing`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionListing {
    /// BCP-47 language code.
    pub language_code: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Benefits shown in the Play Store (at most four).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub benefits: Vec<String>,
}

/// `BasePlan`: exactly one of the three base plan types is set.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BasePlan {
    /// The base plan id.
    pub base_plan_id: Option<String>,
    /// Output only.
    pub state: Option<BasePlanState>,
    /// Set for an auto-renewing base plan.
    pub auto_renewing_base_plan_type: Option<AutoRenewingBasePlanType>,
    /// Set for a prepaid base plan.
    pub prepaid_base_plan_type: Option<PrepaidBasePlanType>,
    /// Set for an installments base plan.
    pub installments_base_plan_type: Option<InstallmentsBasePlanType>,
    /// Price and availability per region.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regional_configs: Vec<RegionalBasePlanConfig>,
    /// Prices for regions Play adds later.
    pub other_regions_config: Option<OtherRegionsBasePlanConfig>,
    /// Offer tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_tags: Vec<OfferTag>,
    /// Fields this model does not name, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What a base plan's type says, whichever of the three it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BasePlanKind {
    /// `autoRenewingBasePlanType`.
    AutoRenewing,
    /// `prepaidBasePlanType`.
    Prepaid,
    /// `installmentsBasePlanType`.
    Installments,
}

impl BasePlanKind {
    /// Google's field name of the type.
    pub fn field(self) -> &'static str {
        match self {
            BasePlanKind::AutoRenewing => "autoRenewingBasePlanType",
            BasePlanKind::Prepaid => "prepaidBasePlanType",
            BasePlanKind::Installments => "installmentsBasePlanType",
        }
    }
}

impl BasePlan {
    /// The base plan id (`""` when absent).
    pub fn id(&self) -> &str {
        self.base_plan_id.as_deref().unwrap_or_default()
    }

    /// The types set, in Google's order (a valid base plan has exactly one).
    pub fn kinds(&self) -> Vec<BasePlanKind> {
        [
            self.auto_renewing_base_plan_type
                .as_ref()
                .map(|_| BasePlanKind::AutoRenewing),
            self.prepaid_base_plan_type
                .as_ref()
                .map(|_| BasePlanKind::Prepaid),
            self.installments_base_plan_type
                .as_ref()
                .map(|_| BasePlanKind::Installments),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The ISO 8601 billing period of whichever type is set.
    pub fn billing_period(&self) -> Option<&str> {
        self.auto_renewing_base_plan_type
            .as_ref()
            .and_then(|t| t.billing_period_duration.as_deref())
            .or_else(|| {
                self.prepaid_base_plan_type
                    .as_ref()
                    .and_then(|t| t.billing_period_duration.as_deref())
            })
            .or_else(|| {
                self.installments_base_plan_type
                    .as_ref()
                    .and_then(|t| t.billing_period_duration.as_deref())
            })
    }

    /// Whether it is the backwards-compatible (auto-renewing) base plan.
    pub fn is_legacy_compatible(&self) -> bool {
        self.auto_renewing_base_plan_type
            .as_ref()
            .is_some_and(|t| t.legacy_compatible == Some(true))
    }

    /// The region codes it has a config for.
    pub fn regions(&self) -> Vec<&str> {
        self.regional_configs
            .iter()
            .filter_map(|c| c.region_code.as_deref())
            .collect()
    }

    /// The config of `region`.
    pub fn region(&self, region: &str) -> Option<&RegionalBasePlanConfig> {
        self.regional_configs
            .iter()
            .find(|c| c.region_code.as_deref() == Some(region))
    }
}

/// `AutoRenewingBasePlanType`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AutoRenewingBasePlanType {
    /// ISO 8601 billing period; immutable.
    pub billing_period_duration: Option<String>,
    /// ISO 8601 grace period.
    pub grace_period_duration: Option<String>,
    /// ISO 8601 account hold.
    pub account_hold_duration: Option<String>,
    /// Whether billing libraries before 5 see it (at most one per subscription).
    pub legacy_compatible: Option<bool>,
    /// The offer legacy clients get.
    pub legacy_compatible_subscription_offer_id: Option<String>,
    /// How a change is charged.
    pub proration_mode: Option<ProrationMode>,
    /// Whether users may resubscribe.
    pub resubscribe_state: Option<ResubscribeState>,
}

/// `PrepaidBasePlanType`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PrepaidBasePlanType {
    /// ISO 8601 period bought; immutable.
    pub billing_period_duration: Option<String>,
    /// Whether a top-up extends the current period.
    pub time_extension: Option<TimeExtension>,
}

/// `InstallmentsBasePlanType`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InstallmentsBasePlanType {
    /// ISO 8601 period of one payment; immutable.
    pub billing_period_duration: Option<String>,
    /// Payments committed to; immutable.
    pub committed_payments_count: Option<i32>,
    /// What follows the commitment; immutable.
    pub renewal_type: Option<RenewalType>,
    /// ISO 8601 grace period.
    pub grace_period_duration: Option<String>,
    /// ISO 8601 account hold.
    pub account_hold_duration: Option<String>,
    /// How a change is charged.
    pub proration_mode: Option<ProrationMode>,
    /// Whether users may resubscribe.
    pub resubscribe_state: Option<ResubscribeState>,
}

/// `RegionalBasePlanConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegionalBasePlanConfig {
    /// Region code.
    pub region_code: Option<String>,
    /// The price there.
    pub price: Option<Money>,
    /// Whether new subscribers may subscribe there.
    pub new_subscriber_availability: Option<bool>,
}

/// `OtherRegionsBasePlanConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OtherRegionsBasePlanConfig {
    /// In US dollars.
    pub usd_price: Option<Money>,
    /// In euros.
    pub eur_price: Option<Money>,
    /// Whether new subscribers may subscribe there.
    pub new_subscriber_availability: Option<bool>,
}

/// `SubscriptionOffer`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionOffer {
    /// The app.
    pub package_name: Option<String>,
    /// The subscription's product id.
    pub product_id: Option<String>,
    /// The base plan id.
    pub base_plan_id: Option<String>,
    /// The offer id.
    pub offer_id: Option<String>,
    /// Output only.
    pub state: Option<SubscriptionOfferState>,
    /// The phases, in order (one or two).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<SubscriptionOfferPhase>,
    /// Who may take it.
    pub targeting: Option<SubscriptionOfferTargeting>,
    /// Availability per region.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regional_configs: Vec<RegionalSubscriptionOfferConfig>,
    /// Availability in regions Play adds later.
    pub other_regions_config: Option<OtherRegionsSubscriptionOfferConfig>,
    /// Offer tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offer_tags: Vec<OfferTag>,
    /// Fields this model does not name, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SubscriptionOffer {
    /// Its key across an app: `product/basePlan/offer`.
    pub fn key(&self) -> String {
        offer_key(
            self.product_id.as_deref().unwrap_or_default(),
            self.base_plan_id.as_deref().unwrap_or_default(),
            self.offer_id.as_deref().unwrap_or_default(),
        )
    }

    /// The region codes it has a config for.
    pub fn regions(&self) -> Vec<&str> {
        self.regional_configs
            .iter()
            .filter_map(|c| c.region_code.as_deref())
            .collect()
    }
}

/// The key of an offer across an app: `product/basePlan/offer`.
pub fn offer_key(product: &str, base_plan: &str, offer: &str) -> String {
    format!("{product}/{base_plan}/{offer}")
}

/// `SubscriptionOfferPhase`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionOfferPhase {
    /// ISO 8601 duration of one period of the phase.
    pub duration: Option<String>,
    /// How many periods.
    pub recurrence_count: Option<i32>,
    /// Price per region.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regional_configs: Vec<RegionalSubscriptionOfferPhaseConfig>,
    /// Price in regions Play adds later.
    pub other_regions_config: Option<OtherRegionsSubscriptionOfferPhaseConfig>,
    /// Fields this model does not name, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `RegionalSubscriptionOfferPhaseConfig`: exactly one of `price`, `absoluteDiscount`,
/// `relativeDiscount` and `free`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegionalSubscriptionOfferPhaseConfig {
    /// Region code.
    pub region_code: Option<String>,
    /// The phase's price.
    pub price: Option<Money>,
    /// The amount taken off the base plan's price.
    pub absolute_discount: Option<Money>,
    /// The fraction taken off the base plan's price (0 < d < 1).
    pub relative_discount: Option<f64>,
    /// A free phase.
    pub free: Option<Empty>,
}

impl RegionalSubscriptionOfferPhaseConfig {
    /// How many of `price`, `absoluteDiscount`, `relativeDiscount` and `free` are set.
    pub fn overrides(&self) -> usize {
        [
            self.price.is_some(),
            self.absolute_discount.is_some(),
            self.relative_discount.is_some(),
            self.free.is_some(),
        ]
        .into_iter()
        .filter(|s| *s)
        .count()
    }
}

/// `OtherRegionsSubscriptionOfferPhaseConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OtherRegionsSubscriptionOfferPhaseConfig {
    /// The phase's prices.
    pub other_regions_prices: Option<OtherRegionsSubscriptionOfferPhasePrices>,
    /// The amounts taken off.
    pub absolute_discounts: Option<OtherRegionsSubscriptionOfferPhasePrices>,
    /// The fraction taken off.
    pub relative_discount: Option<f64>,
    /// A free phase.
    pub free: Option<Empty>,
}

/// `OtherRegionsSubscriptionOfferPhasePrices`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OtherRegionsSubscriptionOfferPhasePrices {
    /// In US dollars.
    pub usd_price: Option<Money>,
    /// In euros.
    pub eur_price: Option<Money>,
}

/// `RegionalSubscriptionOfferConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegionalSubscriptionOfferConfig {
    /// Region code.
    pub region_code: Option<String>,
    /// Whether new subscribers may take it there.
    pub new_subscriber_availability: Option<bool>,
}

/// `OtherRegionsSubscriptionOfferConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OtherRegionsSubscriptionOfferConfig {
    /// Whether new subscribers may take it in regions Play adds later.
    pub other_regions_new_subscriber_availability: Option<bool>,
}

/// `SubscriptionOfferTargeting`: at most one rule.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionOfferTargeting {
    /// New subscribers who never had `scope`.
    pub acquisition_rule: Option<AcquisitionTargetingRule>,
    /// Subscribers who have `scope` now.
    pub upgrade_rule: Option<UpgradeTargetingRule>,
}

/// `AcquisitionTargetingRule`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AcquisitionTargetingRule {
    /// The subscriptions the user must never have had.
    pub scope: Option<TargetingRuleScope>,
}

/// `UpgradeTargetingRule`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UpgradeTargetingRule {
    /// The subscriptions the user must have now.
    pub scope: Option<TargetingRuleScope>,
    /// The billing period of the current subscription, if required.
    pub billing_period_duration: Option<String>,
    /// Whether a user may take it once only.
    pub once_per_user: Option<bool>,
}

/// `TargetingRuleScope`: exactly one of its fields.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TargetingRuleScope {
    /// Any subscription of the app.
    pub any_subscription_in_app: Option<Empty>,
    /// The subscription the offer belongs to.
    pub this_subscription: Option<Empty>,
    /// The subscription with this product id.
    pub specific_subscription_in_app: Option<String>,
}

impl TargetingRuleScope {
    /// Any subscription of the app.
    pub fn any_in_app() -> TargetingRuleScope {
        TargetingRuleScope {
            any_subscription_in_app: Some(Empty {}),
            ..TargetingRuleScope::default()
        }
    }
}

/// `ListSubscriptionsResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListSubscriptionsResponse {
    /// This page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
    /// The next page's token.
    pub next_page_token: Option<String>,
}

/// `BatchGetSubscriptionsResponse`, `BatchUpdateSubscriptionsResponse` and
/// `BatchUpdateBasePlanStatesResponse` (one shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionsResponse {
    /// The subscriptions asked for or written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<Subscription>,
}

/// `ListSubscriptionOffersResponse`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListSubscriptionOffersResponse {
    /// This page.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription_offers: Vec<SubscriptionOffer>,
    /// The next page's token.
    pub next_page_token: Option<String>,
}

/// `BatchGetSubscriptionOffersResponse`, `BatchUpdateSubscriptionOffersResponse` and
/// `BatchUpdateSubscriptionOfferStatesResponse` (one shape).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionOffersResponse {
    /// The offers asked for or written.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subscription_offers: Vec<SubscriptionOffer>,
}

/// A batch request: `{"requests": […]}` (every `Batch…Request` of these methods).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Batch<T> {
    /// The entries (1–100).
    pub requests: Vec<T>,
}

/// An entry of a catalog `batchUpdate` (`UpdateSubscriptionRequest`,
/// `UpdateSubscriptionOfferRequest`, `UpdateOneTimeProductRequest`,
/// `UpdateOneTimeProductOfferRequest`): the resource written and how.
pub trait UpdateEntry {
    /// The resource written.
    type Resource;
    /// The resource (empty when absent) and the entry's other fields.
    fn into_parts(self) -> (Self::Resource, UpdateOptions);
}

/// The fields of an [`UpdateEntry`] besides its resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateOptions {
    /// `updateMask`: comma-separated top-level fields replaced.
    pub update_mask: Option<String>,
    /// `regionsVersion.version`.
    pub regions_version: Option<String>,
    /// `allowMissing`: whether a missing resource is created.
    pub allow_missing: bool,
    /// `latencyTolerance`.
    pub latency_tolerance: Option<LatencyTolerance>,
}

/// An entry of a `batchUpdateStates` (`UpdateBasePlanStateRequest`,
/// `UpdateSubscriptionOfferStateRequest`, `UpdatePurchaseOptionStateRequest`,
/// `UpdateOneTimeProductOfferStateRequest`): exactly one request, each field moving its
/// resource to one state.
pub trait StateChange: Sized {
    /// The inner request (which resource, how fast).
    type Request;
    /// The resource's state.
    type State;
    /// The request fields on the wire, in order.
    const FIELDS: &'static [&'static str];
    /// The entry moving `request`'s resource to `to` (a state no field reaches: the last
    /// field, the deactivation).
    fn to(to: Self::State, request: Self::Request) -> Self;
    /// The first request set and the state it moves to (`None`: no request set).
    fn change(self) -> Option<(Self::Request, Self::State)>;
}

/// `BatchUpdateSubscriptionsRequest`.
pub type BatchUpdateSubscriptionsRequest = Batch<UpdateSubscriptionRequest>;
/// `BatchUpdateBasePlanStatesRequest`.
pub type BatchUpdateBasePlanStatesRequest = Batch<UpdateBasePlanStateRequest>;
/// `BatchUpdateSubscriptionOffersRequest`.
pub type BatchUpdateSubscriptionOffersRequest = Batch<UpdateSubscriptionOfferRequest>;
/// `BatchUpdateSubscriptionOfferStatesRequest`.
pub type BatchUpdateSubscriptionOfferStatesRequest = Batch<UpdateSubscriptionOfferStateRequest>;
/// `BatchGetSubscriptionOffersRequest`.
pub type BatchGetSubscriptionOffersRequest = Batch<GetSubscriptionOfferRequest>;
/// `BatchMigrateBasePlanPricesRequest`.
pub type BatchMigrateBasePlanPricesRequest = Batch<MigrateBasePlanPricesRequest>;

update_request! {
    /// `UpdateSubscriptionRequest` (an entry of `subscriptions.batchUpdate`).
    UpdateSubscriptionRequest { subscription: Subscription }
}

/// `ActivateBasePlanRequest` and `DeactivateBasePlanRequest` (one shape).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BasePlanStateRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The subscription's product id.
    pub product_id: Option<String>,
    /// The base plan id.
    pub base_plan_id: Option<String>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

state_request! {
    /// `UpdateBasePlanStateRequest`.
    UpdateBasePlanStateRequest: BasePlanStateRequest => BasePlanState {
        activate_base_plan_request = "activateBasePlanRequest" => Active,
        deactivate_base_plan_request = "deactivateBasePlanRequest" => Inactive,
    }
}

update_request! {
    /// `UpdateSubscriptionOfferRequest` (an entry of `offers.batchUpdate`).
    UpdateSubscriptionOfferRequest { subscription_offer: SubscriptionOffer }
}

/// `ActivateSubscriptionOfferRequest` and `DeactivateSubscriptionOfferRequest` (one shape).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OfferStateRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The subscription's product id.
    pub product_id: Option<String>,
    /// The base plan id.
    pub base_plan_id: Option<String>,
    /// The offer id.
    pub offer_id: Option<String>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

state_request! {
    /// `UpdateSubscriptionOfferStateRequest`.
    UpdateSubscriptionOfferStateRequest: OfferStateRequest => BasePlanState {
        activate_subscription_offer_request = "activateSubscriptionOfferRequest" => Active,
        deactivate_subscription_offer_request = "deactivateSubscriptionOfferRequest" => Inactive,
    }
}

/// `GetSubscriptionOfferRequest` (an entry of `offers.batchGet`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GetSubscriptionOfferRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The subscription's product id.
    pub product_id: Option<String>,
    /// The base plan id.
    pub base_plan_id: Option<String>,
    /// The offer id.
    pub offer_id: Option<String>,
}

/// `MigrateBasePlanPricesRequest` (the body of `basePlans.migratePrices`, an entry of
/// `batchMigratePrices`).
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MigrateBasePlanPricesRequest {
    /// The app.
    pub package_name: Option<String>,
    /// The subscription's product id.
    pub product_id: Option<String>,
    /// The base plan id.
    pub base_plan_id: Option<String>,
    /// The regions to migrate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub regional_price_migrations: Vec<RegionalPriceMigrationConfig>,
    /// The regions version of the current prices.
    pub regions_version: Option<RegionsVersion>,
    /// How fast it must propagate.
    pub latency_tolerance: Option<LatencyTolerance>,
}

/// `RegionalPriceMigrationConfig`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RegionalPriceMigrationConfig {
    /// Region code.
    pub region_code: Option<String>,
    /// RFC 3339: cohorts older than this move to the current price.
    pub oldest_allowed_price_version_time: Option<String>,
    /// Opt-in or opt-out.
    pub price_increase_type: Option<PriceIncreaseType>,
}

/// `BatchMigrateBasePlanPricesResponse`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BatchMigrateBasePlanPricesResponse {
    /// One empty `MigrateBasePlanPricesResponse` per entry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<Empty>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_round_trips_with_unknown_fields_and_values() {
        let text = serde_json::json!({
            "packageName": "com.example", "productId": "premium",
            "listings": [{ "languageCode": "en-US", "title": "Premium", "benefits": ["No ads"] }],
            "basePlans": [{
                "basePlanId": "monthly", "state": "ACTIVE",
                "autoRenewingBasePlanType": {
                    "billingPeriodDuration": "P1M", "gracePeriodDuration": "P7D",
                    "legacyCompatible": true,
                    "prorationMode": "SUBSCRIPTION_PRORATION_MODE_CHARGE_ON_NEXT_BILLING_DATE",
                    "resubscribeState": "RESUBSCRIBE_STATE_ACTIVE",
                },
                "regionalConfigs": [{ "regionCode": "US", "newSubscriberAvailability": true,
                    "price": { "currencyCode": "USD", "units": "1", "nanos": 990000000 } }],
                "otherRegionsConfig": { "usdPrice": { "currencyCode": "USD", "units": "2", "nanos": 0 } },
                "futurePlanField": 1,
            }, {
                "basePlanId": "pass", "state": "FUTURE_STATE",
                "prepaidBasePlanType": { "billingPeriodDuration": "P1W", "timeExtension": "TIME_EXTENSION_ACTIVE" },
            }, {
                "basePlanId": "yearly",
                "installmentsBasePlanType": { "billingPeriodDuration": "P1M",
                    "committedPaymentsCount": 12, "renewalType": "RENEWAL_TYPE_RENEWS_WITH_COMMITMENT" },
            }],
            "taxAndComplianceSettings": { "isTokenizedDigitalAsset": false },
            "futureField": [1, 2],
        });
        let s: Subscription = serde_json::from_value(text.clone()).unwrap();
        let monthly = s.plan("monthly").unwrap();
        assert_eq!(monthly.state, Some(BasePlanState::Active));
        assert_eq!(monthly.kinds(), [BasePlanKind::AutoRenewing]);
        assert_eq!(monthly.billing_period(), Some("P1M"));
        assert!(monthly.is_legacy_compatible());
        assert_eq!(monthly.regions(), ["US"]);
        assert_eq!(
            monthly
                .region("US")
                .and_then(|c| c.price.as_ref()?.micros()),
            Some(1_990_000)
        );
        assert_eq!(monthly.extra["futurePlanField"], 1);
        assert_eq!(s.plan("pass").unwrap().state, Some(BasePlanState::Unknown));
        assert_eq!(s.plan("pass").unwrap().billing_period(), Some("P1W"));
        let yearly = s.plan("yearly").unwrap();
        assert_eq!(yearly.kinds(), [BasePlanKind::Installments]);
        assert_eq!(s.listing(Some("en-US")).unwrap().benefits, ["No ads"]);
        // An unknown value is read but never written back as something else.
        assert!(serde_json::to_value(&s).is_err());
        let mut known = s.clone();
        known.plan_mut("pass").unwrap().state = Some(BasePlanState::Draft);
        let mut expected = text;
        expected["basePlans"][1]["state"] = "DRAFT".into();
        assert_eq!(serde_json::to_value(&known).unwrap(), expected);
        assert_eq!(
            serde_json::to_string(&SubscriptionsResponse::default()).unwrap(),
            "{}"
        );
    }

    #[test]
    fn an_offer_round_trips() {
        let text = serde_json::json!({
            "packageName": "com.example", "productId": "premium", "basePlanId": "monthly",
            "offerId": "trial", "state": "DRAFT",
            "phases": [{ "duration": "P7D", "recurrenceCount": 1,
                "regionalConfigs": [{ "regionCode": "US", "free": {} }],
                "otherRegionsConfig": { "free": {} } },
                { "duration": "P1M", "recurrenceCount": 3,
                "regionalConfigs": [{ "regionCode": "US", "relativeDiscount": 0.5 }] }],
            "targeting": { "upgradeRule": { "scope": { "specificSubscriptionInApp": "basic" },
                "oncePerUser": true } },
            "regionalConfigs": [{ "regionCode": "US", "newSubscriberAvailability": true }],
            "otherRegionsConfig": { "otherRegionsNewSubscriberAvailability": false },
            "offerTags": [{ "tag": "intro" }],
        });
        let o: SubscriptionOffer = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(o.key(), "premium/monthly/trial");
        assert_eq!(o.regions(), ["US"]);
        assert_eq!(o.phases[0].regional_configs[0].free, Some(Empty {}));
        assert_eq!(o.phases[1].regional_configs[0].overrides(), 1);
        assert_eq!(serde_json::to_value(&o).unwrap(), text);
    }

    #[test]
    fn batch_requests_read_and_write() {
        let text = serde_json::json!({ "requests": [
            { "activateBasePlanRequest": { "packageName": "com.example", "productId": "premium",
                "basePlanId": "monthly",
                "latencyTolerance": "PRODUCT_UPDATE_LATENCY_TOLERANCE_LATENCY_TOLERANT" } },
            { "deactivateBasePlanRequest": { "productId": "premium", "basePlanId": "old" } },
        ] });
        let b: BatchUpdateBasePlanStatesRequest = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(
            b.requests[0]
                .activate_base_plan_request
                .as_ref()
                .unwrap()
                .latency_tolerance,
            Some(LatencyTolerance::LatencyTolerant)
        );
        assert_eq!(serde_json::to_value(&b).unwrap(), text);
        let (_, to) = b.requests[1].clone().change().unwrap();
        assert_eq!(to, BasePlanState::Inactive);
        assert_eq!(UpdateBasePlanStateRequest::default().change(), None);
        assert_eq!(
            UpdateBasePlanStateRequest::to(
                BasePlanState::Inactive,
                BasePlanStateRequest::default()
            ),
            UpdateBasePlanStateRequest {
                activate_base_plan_request: None,
                deactivate_base_plan_request: Some(BasePlanStateRequest::default()),
            }
        );
        assert_eq!(
            UpdateSubscriptionOfferStateRequest::FIELDS,
            [
                "activateSubscriptionOfferRequest",
                "deactivateSubscriptionOfferRequest"
            ]
        );
        let migrate = serde_json::json!({
            "productId": "premium", "basePlanId": "monthly",
            "regionsVersion": { "version": "2025/03" },
            "regionalPriceMigrations": [{ "regionCode": "US",
                "oldestAllowedPriceVersionTime": "2026-01-01T00:00:00Z",
                "priceIncreaseType": "PRICE_INCREASE_TYPE_OPT_IN" }],
        });
        let m: MigrateBasePlanPricesRequest = serde_json::from_value(migrate.clone()).unwrap();
        assert_eq!(
            m.regional_price_migrations[0].price_increase_type,
            Some(PriceIncreaseType::OptIn)
        );
        assert_eq!(serde_json::to_value(&m).unwrap(), migrate);
        let answer = BatchMigrateBasePlanPricesResponse {
            responses: vec![Empty {}; 2],
        };
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            serde_json::json!({ "responses": [{}, {}] })
        );
    }
}
