//! The in-memory model (purchases, voided purchases, catalog, external transactions, issued
//! access tokens, quota windows, faults, call counts, notifications), kept under one `Mutex`,
//! and the virtual clock that drives purchase lifecycles.
//!
//! Virtual time is real time plus an offset that only `clock:advance` changes, so time flows
//! normally and can be pushed forward. Every request first *settles* the model: whatever falls
//! due by the current virtual time happens, in time order (renewals, expiries, grace → hold →
//! expiry, auto-resume, the 3-day refund of unacknowledged purchases), each with its RTDN.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use play_model::onetimeproducts::{
    OfferState as GoogleOfferState, OneTimeProduct, OneTimeProductOffer, PurchaseOptionState,
};
use play_model::purchases::{ProductPurchaseState, PurchaseState, SubscriptionState};
use play_model::rtdn::{
    self, DeveloperNotification, OneTimeNotificationType, OneTimeProductNotification, RefundType,
    SubscriptionNotification, SubscriptionNotificationType, TestNotification, VoidedProductType,
    VoidedPurchaseNotification,
};
use play_model::subscriptions::{BasePlanState, Subscription, SubscriptionOffer};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde_json::Value;

use crate::clock::{real_now_ms, Period};
use crate::config::{Config, Quotas};
use crate::faults::Faults;
use crate::quota::QuotaWindows;
use crate::rtdn::{NotificationRecord, Outbox};

/// Three days, Play's acknowledgement deadline.
pub const ACK_DEADLINE_MS: i64 = 3 * 24 * 3600 * 1000;
/// A subscription token stays readable until 60 days after expiry.
pub const TOKEN_RETENTION_MS: i64 = 60 * 24 * 3600 * 1000;

/// One-time product or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One-time product.
    Product,
    /// Subscription.
    Subscription,
}

/// A one-time purchase's state in the emulator (mapped to Google's v1 and v2 enums by the
/// `From` impls below).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductState {
    /// 0
    Purchased,
    /// 1 (pending purchase canceled, or voided)
    Canceled,
    /// 2
    Pending,
}

/// A subscription's state in the emulator: Google's [`SubscriptionState`] without its
/// unspecified and unknown values (`From` below is the one mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubState {
    /// SUBSCRIPTION_STATE_PENDING
    Pending,
    /// SUBSCRIPTION_STATE_ACTIVE
    Active,
    /// SUBSCRIPTION_STATE_PAUSED
    Paused,
    /// SUBSCRIPTION_STATE_IN_GRACE_PERIOD
    InGracePeriod,
    /// SUBSCRIPTION_STATE_ON_HOLD
    OnHold,
    /// SUBSCRIPTION_STATE_CANCELED
    Canceled,
    /// SUBSCRIPTION_STATE_EXPIRED
    Expired,
    /// SUBSCRIPTION_STATE_PENDING_PURCHASE_CANCELED
    PendingPurchaseCanceled,
}

impl SubState {
    /// Google's enum string.
    pub fn as_str(self) -> &'static str {
        SubscriptionState::from(self)
            .as_str()
            .expect("every SubState is a known SubscriptionState")
    }
    /// Whether the subscription is live (not pending, not over).
    pub fn is_live(self) -> bool {
        matches!(
            self,
            SubState::Active
                | SubState::Paused
                | SubState::InGracePeriod
                | SubState::OnHold
                | SubState::Canceled
        )
    }
}

/// The one place the emulator's subscription states meet Google's enum.
impl From<SubState> for SubscriptionState {
    fn from(s: SubState) -> Self {
        match s {
            SubState::Pending => SubscriptionState::Pending,
            SubState::Active => SubscriptionState::Active,
            SubState::Paused => SubscriptionState::Paused,
            SubState::InGracePeriod => SubscriptionState::InGracePeriod,
            SubState::OnHold => SubscriptionState::OnHold,
            SubState::Canceled => SubscriptionState::Canceled,
            SubState::Expired => SubscriptionState::Expired,
            SubState::PendingPurchaseCanceled => SubscriptionState::PendingPurchaseCanceled,
        }
    }
}

/// The one place the emulator's one-time states meet Google's `purchaseState` (v1, integer).
impl From<ProductState> for ProductPurchaseState {
    fn from(s: ProductState) -> Self {
        match s {
            ProductState::Purchased => ProductPurchaseState::Purchased,
            ProductState::Canceled => ProductPurchaseState::Canceled,
            ProductState::Pending => ProductPurchaseState::Pending,
        }
    }
}

/// The one place the emulator's one-time states meet Google's `purchaseState` (v2, string).
impl From<ProductState> for PurchaseState {
    fn from(s: ProductState) -> Self {
        match s {
            ProductState::Purchased => PurchaseState::Purchased,
            ProductState::Canceled => PurchaseState::Cancelled,
            ProductState::Pending => PurchaseState::Pending,
        }
    }
}

/// Who canceled a subscription (its `canceledStateContext`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelKind {
    /// The user (Play Store, or the control API's `cancel`).
    User,
    /// The developer (`subscriptionsv2.cancel`).
    Developer,
    /// The system (e.g. payment problems).
    System,
    /// Replaced by another subscription (upgrade/downgrade).
    Replacement,
}

/// The base plan a subscription bills on.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Subscription product id.
    pub product_id: String,
    /// Base plan id.
    pub base_plan_id: String,
    /// Billing period (ISO 8601).
    pub period: String,
    /// Grace period (ISO 8601).
    pub grace_period: String,
    /// Account hold (ISO 8601).
    pub account_hold: String,
    /// Price in micros.
    pub price_micros: i64,
    /// Currency.
    pub currency: String,
    /// Offer tags of the base plan.
    pub offer_tags: Vec<String>,
}

/// A replacement mode (`ItemReplacement.replacementMode`, the TWA's `replacementMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplacementMode {
    /// Switch now; remaining time credited (Play's default).
    WithTimeProration,
    /// Switch now; billing date kept.
    ChargeProratedPrice,
    /// Switch now; full price charged now.
    ChargeFullPrice,
    /// Switch now; next charge at the new price (disabled by Play for apps, accepted here only
    /// through the control API).
    WithoutProration,
    /// Switch at the next renewal.
    Deferred,
}

impl ReplacementMode {
    /// Parses the TWA's names (`deferred`, `chargeProratedPrice`, …), the deprecated
    /// `prorationMode` names and Google's enum names (`DEFERRED`, …).
    pub fn parse(s: &str) -> Option<ReplacementMode> {
        Some(match s {
            "withTimeProration" | "immediateWithTimeProration" | "WITH_TIME_PRORATION" => {
                Self::WithTimeProration
            }
            "chargeProratedPrice" | "immediateAndChargeProratedPrice" | "CHARGE_PRORATED_PRICE" => {
                Self::ChargeProratedPrice
            }
            "chargeFullPrice" | "immediateAndChargeFullPrice" | "CHARGE_FULL_PRICE" => {
                Self::ChargeFullPrice
            }
            "withoutProration" | "immediateWithoutProration" | "WITHOUT_PRORATION" => {
                Self::WithoutProration
            }
            "deferred" | "DEFERRED" => Self::Deferred,
            _ => return None,
        })
    }
    /// Google's enum name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WithTimeProration => "WITH_TIME_PRORATION",
            Self::ChargeProratedPrice => "CHARGE_PRORATED_PRICE",
            Self::ChargeFullPrice => "CHARGE_FULL_PRICE",
            Self::WithoutProration => "WITHOUT_PRORATION",
            Self::Deferred => "DEFERRED",
        }
    }
}

/// One purchase (one purchase token).
#[derive(Debug, Clone)]
pub struct Purchase {
    /// The purchase token.
    pub token: String,
    /// Product or subscription.
    pub kind: Kind,
    /// Product id (for a subscription, the product its current line item is for).
    pub product_id: String,
    /// The Play account that owns it (device-side listing).
    pub account_id: String,
    /// `obfuscatedExternalAccountId`.
    pub obfuscated_account_id: Option<String>,
    /// `obfuscatedExternalProfileId`.
    pub obfuscated_profile_id: Option<String>,
    /// The first order id (`GPA.1234-5678-9012-34567`).
    pub order_id: String,
    /// Renewals so far (the latest order id is `{order_id}..{renewals-1}`).
    pub renewals: u32,
    /// A license-tester (test) purchase.
    pub test: bool,
    /// Quantity bought.
    pub quantity: u32,
    /// Quantity refunded so far.
    pub refunded_quantity: u32,
    /// `regionCode`.
    pub region_code: String,
    /// `developerPayload` given at acknowledgement.
    pub developer_payload: Option<String>,
    /// When the purchase was made (purchaseTimeMillis, startTime).
    pub created_ms: i64,
    /// When it became PURCHASED/ACTIVE (the 3-day acknowledgement window starts here).
    pub purchased_ms: Option<i64>,
    /// Acknowledged.
    pub acknowledged: bool,
    /// Consumed (one-time).
    pub consumed: bool,
    /// One-time state.
    pub product_state: ProductState,
    /// Subscription state.
    pub sub_state: SubState,
    /// Subscription: end of the paid period (or of the grace period).
    pub expiry_ms: i64,
    /// Subscription: auto-renewing.
    pub auto_renew: bool,
    /// Subscription: why and when it was canceled.
    pub cancel: Option<(CancelKind, i64)>,
    /// Subscription: end of the account hold.
    pub hold_until_ms: Option<i64>,
    /// Subscription: when a pause ends.
    pub auto_resume_ms: Option<i64>,
    /// Subscription: the plan it bills on.
    pub plan: Option<Plan>,
    /// Subscription: a deferred replacement taking effect at the next renewal.
    pub deferred_plan: Option<Plan>,
    /// `linkedPurchaseToken`.
    pub linked_purchase_token: Option<String>,
    /// The token that replaced this one.
    pub replaced_by: Option<String>,
    /// Voided (refunded / charged back / revoked).
    pub voided: bool,
    /// Bumped on every change (the subscription's `etag`).
    pub version: u64,
    /// Whether Play has charged an order of this token yet (a pending purchase, or the new
    /// token of a deferred replacement before its first renewal, has none).
    pub charged: bool,
    /// One-time: the purchase option bought (the product's legacy-compatible buy option, as
    /// `monetization.onetimeproducts` lists it).
    pub purchase_option_id: Option<String>,
}

impl Purchase {
    /// The latest successful order id, `None` before the first charge (Google: "Not present
    /// if the item is not owned by the user yet").
    pub fn latest_successful_order_id(&self) -> Option<String> {
        self.charged.then(|| self.latest_order_id())
    }
    /// The id of the latest order (charged or, before the first charge, the pending one).
    pub fn latest_order_id(&self) -> String {
        if self.renewals == 0 {
            self.order_id.clone()
        } else {
            format!("{}..{}", self.order_id, self.renewals - 1)
        }
    }
    /// The subscription's etag.
    pub fn etag(&self) -> String {
        format!(
            "{}-{}",
            self.version,
            &self.token[..12.min(self.token.len())]
        )
    }
    /// Quantity still refundable.
    pub fn refundable_quantity(&self) -> u32 {
        if self.voided {
            0
        } else {
            self.quantity.saturating_sub(self.refunded_quantity)
        }
    }
    /// Whether this purchase is owned now (device `listPurchases`): pending or purchased and
    /// not consumed for one-time products; entitled states for subscriptions.
    pub fn is_owned(&self, now: i64) -> bool {
        match self.kind {
            Kind::Product => {
                !self.voided
                    && !self.consumed
                    && matches!(
                        self.product_state,
                        ProductState::Purchased | ProductState::Pending
                    )
            }
            Kind::Subscription => match self.sub_state {
                SubState::Pending | SubState::Active | SubState::InGracePeriod => true,
                SubState::Canceled => self.expiry_ms > now,
                _ => false,
            },
        }
    }
}

/// A voided purchase (an entry of `voidedpurchases.list`).
#[derive(Debug, Clone)]
pub struct Voided {
    /// The purchase token.
    pub token: String,
    /// The voided order.
    pub order_id: String,
    /// Purchase time.
    pub purchase_time_ms: i64,
    /// Voided time.
    pub voided_time_ms: i64,
    /// 0 user, 1 developer, 2 Google.
    pub source: i32,
    /// 0 other … 7 chargeback, 8 unacknowledged purchase.
    pub reason: i32,
    /// Quantity voided (quantity-based partial refunds).
    pub quantity: Option<u32>,
    /// A quantity-based partial refund (listed only with `includeQuantityBasedPartialRefund`).
    pub partial: bool,
    /// Product or subscription.
    pub kind: Kind,
}

/// What a new purchase is made of.
#[derive(Debug, Clone)]
pub struct NewPurchase {
    /// Product or subscription.
    pub kind: Kind,
    /// Product id.
    pub product_id: String,
    /// Base plan (subscriptions; default the backwards-compatible or first active one).
    pub base_plan_id: Option<String>,
    /// Pending instead of purchased.
    pub pending: bool,
    /// Owning Play account.
    pub account_id: String,
    /// `obfuscatedExternalAccountId`.
    pub obfuscated_account_id: Option<String>,
    /// `obfuscatedExternalProfileId`.
    pub obfuscated_profile_id: Option<String>,
    /// Test purchase.
    pub test: bool,
    /// Quantity (one-time).
    pub quantity: u32,
    /// Region.
    pub region_code: String,
}

/// An external transaction and its refunds.
#[derive(Debug, Clone)]
pub struct StoredTransaction {
    /// The resource as answered (output fields kept current).
    pub resource: play_model::external_transactions::ExternalTransaction,
    /// Partial refund ids seen.
    pub refund_ids: BTreeSet<String>,
    /// Fully refunded.
    pub fully_refunded: bool,
}

/// Everything the emulator remembers, under one lock.
#[derive(Debug)]
pub struct Model {
    /// The package served.
    pub package_name: String,
    /// Virtual clock offset from real time, in ms.
    pub clock_offset_ms: i64,
    /// Purchases by token.
    pub purchases: HashMap<String, Purchase>,
    /// Tokens in creation order.
    pub purchase_order: Vec<String>,
    /// Voided purchases in voiding order.
    pub voided: Vec<Voided>,
    /// InAppProduct resources by sku.
    pub in_app_products: BTreeMap<String, play_model::inappproducts::InAppProduct>,
    /// Subscription resources by product id.
    pub subscriptions: BTreeMap<String, Subscription>,
    /// Introductory offers by subscription product id (shown by the device sandbox).
    pub intro_offers: BTreeMap<String, crate::catalog::IntroOffer>,
    /// (product id, base plan id) that were ever ACTIVE.
    pub ever_active_base_plans: BTreeSet<(String, String)>,
    /// `monetization.onetimeproducts`: OneTimeProduct resources by product id.
    pub one_time_products: BTreeMap<String, OneTimeProduct>,
    /// (product id, purchase option id) that were ever ACTIVE.
    pub ever_active_purchase_options: BTreeSet<(String, String)>,
    /// Subscription offers by `product/basePlan/offer`.
    pub subscription_offers: BTreeMap<String, SubscriptionOffer>,
    /// Offers (`product/basePlan/offer`) that were ever ACTIVE.
    pub ever_active_offers: BTreeSet<String>,
    /// One-time product offers by `product/purchaseOption/offer`.
    pub one_time_offers: BTreeMap<String, OneTimeProductOffer>,
    /// One-time product offers (`product/purchaseOption/offer`) that were ever ACTIVE.
    pub ever_active_one_time_offers: BTreeSet<String>,
    /// Whether the legacy `inappproducts` API answers 403 "Please migrate to the new
    /// publishing API." (an app moved to the new one-time product model).
    pub inappproducts_migrated: bool,
    /// External transactions by id.
    pub external_transactions: BTreeMap<String, StoredTransaction>,
    /// External transaction tokens handed out by the control API: token → whether it is a
    /// license tester's (test purchase).
    pub external_tokens: BTreeMap<String, bool>,
    /// Quota configuration.
    pub quotas: Quotas,
    /// Quota usage.
    pub quota_windows: QuotaWindows,
    /// Injected faults.
    pub faults: Option<Faults>,
    /// Calls failed by injection, by status (`"503"`) or dropped connection
    /// (`"beforeResponse"`, `"midBody"`).
    pub faults_injected: BTreeMap<String, u64>,
    /// Calls by discovery method id.
    pub calls: BTreeMap<String, u64>,
    /// Notifications sent, in order.
    pub notifications: Vec<NotificationRecord>,
    /// Where notifications go to be pushed.
    pub outbox: Outbox,
    /// Bumped on reset (stops pushes of an older generation).
    pub generation: u64,
    /// Default device account.
    pub device_account: String,
    /// Orders charged (the financial reports' source).
    pub ledger: crate::reports::Ledger,
    /// The Cloud Storage bucket of the financial reports.
    pub bucket: crate::storage::Bucket,
}

impl Model {
    /// A model loaded with the configuration's catalog.
    pub fn new(config: &Config, outbox: Outbox) -> Model {
        let mut m = Model {
            package_name: config.package_name.clone(),
            clock_offset_ms: 0,
            purchases: HashMap::new(),
            purchase_order: Vec::new(),
            voided: Vec::new(),
            in_app_products: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            intro_offers: BTreeMap::new(),
            ever_active_base_plans: BTreeSet::new(),
            one_time_products: BTreeMap::new(),
            ever_active_purchase_options: BTreeSet::new(),
            subscription_offers: BTreeMap::new(),
            ever_active_offers: BTreeSet::new(),
            one_time_offers: BTreeMap::new(),
            ever_active_one_time_offers: BTreeSet::new(),
            inappproducts_migrated: config.inappproducts_migrated,
            external_transactions: BTreeMap::new(),
            external_tokens: BTreeMap::new(),
            quotas: config.quotas,
            quota_windows: QuotaWindows::default(),
            faults: None,
            faults_injected: BTreeMap::new(),
            calls: BTreeMap::new(),
            notifications: Vec::new(),
            outbox,
            generation: 0,
            device_account: config.device_account.clone(),
            ledger: crate::reports::Ledger::default(),
            bucket: crate::storage::Bucket::new(&config.reports_bucket),
        };
        m.load_catalog(config);
        m
    }

    fn load_catalog(&mut self, config: &Config) {
        for p in config.catalog.in_app_products(&config.package_name) {
            self.in_app_products
                .insert(p.sku.clone().unwrap_or_default(), p);
        }
        for spec in &config.catalog.subscriptions {
            if let Some(offer) = &spec.intro_offer {
                self.intro_offers
                    .insert(spec.product_id.clone(), offer.clone());
            }
        }
        let file = config.catalog.to_catalog_file();
        let version = play_model::pricing::RegionsVersion {
            version: Some(crate::catalog_file::LATEST_REGIONS_VERSION.to_string()),
        };
        for (id, p) in &file.one_time_products {
            let mut v = p.to_google(id, None);
            v.package_name = Some(config.package_name.clone());
            v.regions_version = Some(version.clone());
            for (o, (oid, spec)) in v.purchase_options.iter_mut().zip(&p.purchase_options) {
                o.state = Some(PurchaseOptionState::from_wire(spec.state.google()));
                if spec.state != crate::catalog_file::EntryState::Draft {
                    self.ever_active_purchase_options
                        .insert((id.clone(), oid.clone()));
                }
                for (offer_id, offer) in &spec.offers {
                    let mut v = offer.to_google(id, oid, offer_id, None);
                    v.package_name = Some(config.package_name.clone());
                    v.regions_version = Some(version.clone());
                    v.state = Some(GoogleOfferState::from_wire(offer.state.google()));
                    let key = crate::google::onetimeoffers::key(id, oid, offer_id);
                    if offer.state != crate::catalog_file::OfferState::Draft {
                        self.ever_active_one_time_offers.insert(key.clone());
                    }
                    self.one_time_offers.insert(key, v);
                }
            }
            self.one_time_products.insert(id.clone(), v);
        }
        let subscriptions: Vec<Subscription> = match &config.catalog.file {
            Some(f) => f
                .subscriptions
                .iter()
                .map(|(id, s)| {
                    let mut v = s.to_google(id, None);
                    v.package_name = Some(config.package_name.clone());
                    for (b, spec) in v.base_plans.iter_mut().zip(s.base_plans.values()) {
                        b.state = Some(BasePlanState::from_wire(spec.state.google()));
                        self.seed_offers(&config.package_name, id, b.id(), spec);
                        if spec.state == crate::catalog_file::EntryState::Inactive {
                            self.ever_active_base_plans
                                .insert((id.clone(), b.id().to_string()));
                        }
                    }
                    v
                })
                .collect(),
            None => config.catalog.subscriptions(&config.package_name),
        };
        for s in subscriptions {
            let id = s.id().to_string();
            for b in &s.base_plans {
                if b.state == Some(BasePlanState::Active) {
                    self.ever_active_base_plans
                        .insert((id.clone(), b.id().to_string()));
                }
            }
            self.subscriptions.insert(id, s);
        }
    }

    /// Stores a file's offers of one base plan; the first active new-customer offer is the
    /// introductory offer the device sandbox shows.
    fn seed_offers(
        &mut self,
        package: &str,
        product: &str,
        plan_id: &str,
        plan: &crate::catalog_file::BasePlanEntry,
    ) {
        use crate::catalog_file::{Eligibility, EntryState};
        let regions = plan.offer_regions();
        for (offer_id, offer) in &plan.offers {
            let mut v = offer.to_google(product, plan_id, offer_id, &regions, None);
            v.package_name = Some(package.to_string());
            v.state = Some(BasePlanState::from_wire(offer.state.google()));
            let key = v.key();
            if offer.state != EntryState::Draft {
                self.ever_active_offers.insert(key.clone());
            }
            self.subscription_offers.insert(key, v);
            let intro = offer.state == EntryState::Active
                && offer.eligibility == Eligibility::NewCustomer
                && !self.intro_offers.contains_key(product);
            if intro {
                let mut shown = crate::catalog::IntroOffer::default();
                for phase in &offer.phases {
                    if phase.free {
                        shown.free_trial_period = Some(phase.duration.clone());
                    } else if let Some(price) = phase
                        .prices
                        .get("US")
                        .or_else(|| phase.prices.values().next())
                        .and_then(|p| crate::catalog_file::Amount::parse(p).ok())
                    {
                        shown.introductory_price =
                            Some(crate::catalog::micros_to_decimal(price.micros));
                        shown.introductory_price_period = Some(phase.duration.clone());
                        shown.introductory_price_cycles = Some(phase.recurrence_count);
                    }
                }
                self.intro_offers.insert(product.to_string(), shown);
            }
        }
    }

    /// Back to the start: the configured catalog and quotas, no purchases, no faults, no
    /// calls, clock at real time. Keys and issued access tokens survive.
    pub fn reset(&mut self, config: &Config) {
        let outbox = self.outbox.clone();
        let generation = self.generation + 1;
        *self = Model::new(config, outbox);
        self.generation = generation;
    }

    /// Virtual now, epoch ms.
    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.clock_offset_ms
    }

    /// Records a notification at `at_ms` (`fill` sets what it carries) and hands it to the
    /// pusher.
    pub fn notify(&mut self, at_ms: i64, fill: impl FnOnce(&mut DeveloperNotification)) {
        let mut n = DeveloperNotification::new(&self.package_name, at_ms);
        fill(&mut n);
        let data = serde_json::to_value(&n).expect("notifications serialize");
        let record = NotificationRecord::new(data, self.now_ms(), self.generation);
        self.outbox.send(&record);
        self.notifications.push(record);
    }

    /// Sends a `subscriptionNotification`.
    pub(crate) fn notify_subscription(
        &mut self,
        at: i64,
        token: &str,
        notification_type: SubscriptionNotificationType,
    ) {
        self.notify(at, |n| {
            n.subscription_notification = Some(SubscriptionNotification {
                version: Some(rtdn::VERSION.into()),
                notification_type,
                purchase_token: token.into(),
            })
        });
    }

    fn notify_one_time(
        &mut self,
        at: i64,
        token: &str,
        sku: &str,
        notification_type: OneTimeNotificationType,
    ) {
        self.notify(at, |n| {
            n.one_time_product_notification = Some(OneTimeProductNotification {
                version: Some(rtdn::VERSION.into()),
                notification_type,
                purchase_token: token.into(),
                sku: sku.into(),
            })
        });
    }

    fn notify_voided(&mut self, at: i64, token: &str, order_id: &str, kind: Kind, partial: bool) {
        self.notify(at, |n| {
            n.voided_purchase_notification = Some(VoidedPurchaseNotification {
                purchase_token: token.into(),
                order_id: Some(order_id.into()),
                product_type: match kind {
                    Kind::Subscription => VoidedProductType::Subscription,
                    Kind::Product => VoidedProductType::OneTime,
                },
                refund_type: match partial {
                    true => RefundType::QuantityBasedPartial,
                    false => RefundType::Full,
                },
            })
        });
    }

    /// Sends a `testNotification`.
    pub fn notify_test(&mut self) {
        let now = self.now_ms();
        self.notify(now, |n| {
            n.test_notification = Some(TestNotification {
                version: Some(rtdn::VERSION.into()),
            })
        });
    }

    /// The plan of a subscription product: the given base plan, else the backwards-compatible
    /// active one, else the first active one.
    pub fn plan(&self, product_id: &str, base_plan_id: Option<&str>) -> Option<Plan> {
        let sub = self.subscriptions.get(product_id)?;
        let mut active = sub
            .base_plans
            .iter()
            .filter(|b| b.state == Some(BasePlanState::Active));
        let chosen = match base_plan_id {
            Some(id) => active.find(|b| b.id() == id)?,
            None => active
                .clone()
                .find(|b| b.is_legacy_compatible())
                .or_else(|| active.next())?,
        };
        // An auto-renewing or prepaid plan: the lifecycle has no installments.
        let prepaid = chosen.prepaid_base_plan_type.as_ref();
        let period = (chosen.auto_renewing_base_plan_type.as_ref())
            .and_then(|t| t.billing_period_duration.clone())
            .or_else(|| prepaid.and_then(|t| t.billing_period_duration.clone()))?;
        Period::parse(&period)?;
        let price = chosen
            .region("US")
            .or_else(|| chosen.regional_configs.first())
            .and_then(|c| c.price.as_ref());
        let ar = chosen
            .auto_renewing_base_plan_type
            .clone()
            .unwrap_or_default();
        Some(Plan {
            product_id: product_id.into(),
            base_plan_id: chosen.id().into(),
            period,
            grace_period: ar.grace_period_duration.unwrap_or_else(|| "P7D".into()),
            account_hold: ar.account_hold_duration.unwrap_or_else(|| "P30D".into()),
            price_micros: price.and_then(play_model::Money::micros).unwrap_or(0),
            currency: price.map_or_else(|| "USD".into(), |p| p.currency_code.clone()),
            offer_tags: chosen
                .offer_tags
                .iter()
                .filter_map(|t| t.tag.clone())
                .collect(),
        })
    }

    /// Whether a one-time product exists and is active.
    pub fn product_is_active(&self, sku: &str) -> bool {
        self.in_app_products
            .get(sku)
            .is_some_and(|p| p.is_active() && !p.is_subscription())
    }

    /// Creates a purchase; emits ONE_TIME_PRODUCT_PURCHASED / SUBSCRIPTION_PURCHASED when it
    /// is purchased at once. The caller checked that the product exists.
    pub fn create_purchase(&mut self, new: NewPurchase) -> Result<String, String> {
        let now = self.now_ms();
        let plan = match new.kind {
            Kind::Subscription => Some(
                self.plan(&new.product_id, new.base_plan_id.as_deref())
                    .ok_or_else(|| {
                        format!(
                            "no active base plan {:?} of {:?}",
                            new.base_plan_id, new.product_id
                        )
                    })?,
            ),
            Kind::Product => {
                if !self.product_is_active(&new.product_id) {
                    return Err(format!("no active one-time product {:?}", new.product_id));
                }
                None
            }
        };
        let purchase_option_id =
            (new.kind == Kind::Product).then(|| self.legacy_option_id(&new.product_id));
        let token = new_purchase_token();
        let expiry = match &plan {
            Some(p) if !new.pending => period(&p.period).add_to(now),
            _ => now,
        };
        let purchase = Purchase {
            token: token.clone(),
            kind: new.kind,
            product_id: new.product_id.clone(),
            account_id: new.account_id,
            obfuscated_account_id: new.obfuscated_account_id,
            obfuscated_profile_id: new.obfuscated_profile_id,
            order_id: new_order_id(),
            renewals: 0,
            test: new.test,
            quantity: new.quantity.max(1),
            refunded_quantity: 0,
            region_code: new.region_code,
            developer_payload: None,
            created_ms: now,
            purchased_ms: if new.pending { None } else { Some(now) },
            acknowledged: false,
            consumed: false,
            product_state: if new.pending {
                ProductState::Pending
            } else {
                ProductState::Purchased
            },
            sub_state: if new.pending {
                SubState::Pending
            } else {
                SubState::Active
            },
            expiry_ms: expiry,
            auto_renew: new.kind == Kind::Subscription,
            cancel: None,
            hold_until_ms: None,
            auto_resume_ms: None,
            plan,
            deferred_plan: None,
            linked_purchase_token: None,
            replaced_by: None,
            voided: false,
            version: 1,
            charged: false,
            purchase_option_id,
        };
        self.purchases.insert(token.clone(), purchase);
        self.purchase_order.push(token.clone());
        if !new.pending {
            self.charge(&token, now);
            match new.kind {
                Kind::Product => self.notify_one_time(
                    now,
                    &token,
                    &new.product_id,
                    OneTimeNotificationType::Purchased,
                ),
                Kind::Subscription => {
                    self.notify_subscription(now, &token, SubscriptionNotificationType::Purchased)
                }
            }
        }
        Ok(token)
    }

    /// Charges the purchase's latest order at `at`: the ledger entry `orders.get` answers
    /// and the reports list, and from now on its `latestSuccessfulOrderId`.
    fn charge(&mut self, token: &str, at: i64) {
        if let Some(p) = self.purchases.get_mut(token) {
            p.charged = true;
        }
        self.record_charge(token, at);
    }

    /// The id of a one-time product's legacy-compatible buy option (the one a purchase by
    /// sku buys), as `monetization.onetimeproducts` lists it.
    pub fn legacy_option_id(&self, product_id: &str) -> String {
        self.one_time_products
            .get(product_id)
            .and_then(|p| p.purchase_options.iter().find(|o| o.is_legacy_compatible()))
            .map(|o| o.id())
            .unwrap_or(crate::catalog_views::LEGACY_OPTION)
            .to_string()
    }

    /// A purchase by token, mutable, its version bumped.
    fn touch(&mut self, token: &str) -> &mut Purchase {
        let p = self
            .purchases
            .get_mut(token)
            .expect("caller checked the token");
        p.version += 1;
        p
    }

    /// Pending → purchased.
    pub fn complete(&mut self, token: &str) -> Result<(), String> {
        let now = self.now_ms();
        let p = self.purchases.get(token).ok_or("unknown token")?;
        match p.kind {
            Kind::Product if p.product_state == ProductState::Pending => {
                let p = self.touch(token);
                p.product_state = ProductState::Purchased;
                p.purchased_ms = Some(now);
                let sku = p.product_id.clone();
                self.charge(token, now);
                self.notify_one_time(now, token, &sku, OneTimeNotificationType::Purchased);
            }
            Kind::Subscription if p.sub_state == SubState::Pending => {
                let p = self.touch(token);
                p.sub_state = SubState::Active;
                p.purchased_ms = Some(now);
                p.created_ms = now;
                p.expiry_ms = period(
                    &p.plan
                        .as_ref()
                        .map(|p| p.period.clone())
                        .unwrap_or_default(),
                )
                .add_to(now);
                self.charge(token, now);
                self.notify_subscription(now, token, SubscriptionNotificationType::Purchased);
            }
            _ => return Err("the purchase is not pending".into()),
        }
        Ok(())
    }

    /// Pending → canceled (ONE_TIME_PRODUCT_CANCELED / SUBSCRIPTION_PENDING_PURCHASE_CANCELED).
    pub fn cancel_pending(&mut self, token: &str) -> Result<(), String> {
        let now = self.now_ms();
        let p = self.purchases.get(token).ok_or("unknown token")?;
        match p.kind {
            Kind::Product if p.product_state == ProductState::Pending => {
                let p = self.touch(token);
                p.product_state = ProductState::Canceled;
                let sku = p.product_id.clone();
                self.notify_one_time(now, token, &sku, OneTimeNotificationType::Canceled);
            }
            Kind::Subscription if p.sub_state == SubState::Pending => {
                let p = self.touch(token);
                p.sub_state = SubState::PendingPurchaseCanceled;
                p.auto_renew = false;
                self.notify_subscription(
                    now,
                    token,
                    SubscriptionNotificationType::PendingPurchaseCanceled,
                );
            }
            _ => return Err("the purchase is not pending".into()),
        }
        Ok(())
    }

    /// Voids (refunds) a purchase: a voided-purchases entry and a voidedPurchaseNotification.
    /// With a `quantity` below the refundable quantity of a one-time purchase, a quantity-based
    /// partial refund. A voided subscription ends at once.
    pub fn void(
        &mut self,
        token: &str,
        at: i64,
        source: i32,
        reason: i32,
        quantity: Option<u32>,
    ) -> Result<(), String> {
        let p = self.purchases.get(token).ok_or("unknown token")?;
        if p.voided {
            return Err("the purchase is already voided".into());
        }
        if !p.charged {
            return Err("the purchase has no charged order to refund".into());
        }
        if p.kind == Kind::Product && p.product_state != ProductState::Purchased {
            return Err("only a purchased one-time purchase can be voided".into());
        }
        if p.kind == Kind::Subscription
            && matches!(
                p.sub_state,
                SubState::Pending | SubState::PendingPurchaseCanceled
            )
        {
            return Err("a pending subscription cannot be voided".into());
        }
        let refundable = p.refundable_quantity();
        let partial = match (p.kind, quantity) {
            (Kind::Product, Some(q)) if q == 0 || q > refundable => {
                return Err(format!("quantity must be between 1 and {refundable}"));
            }
            (Kind::Product, Some(q)) => q < refundable,
            _ => false,
        };
        let voided_quantity = if p.kind == Kind::Product {
            Some(quantity.unwrap_or(refundable))
        } else {
            None
        };
        let p = self.touch(token);
        if partial {
            p.refunded_quantity += voided_quantity.unwrap_or(0);
        } else {
            p.voided = true;
            if let Some(q) = voided_quantity {
                p.refunded_quantity += q;
            }
            match p.kind {
                Kind::Product => p.product_state = ProductState::Canceled,
                Kind::Subscription => {
                    p.sub_state = SubState::Expired;
                    p.auto_renew = false;
                    p.expiry_ms = p.expiry_ms.min(at);
                }
            }
        }
        let entry = Voided {
            token: token.into(),
            order_id: p.latest_order_id(),
            purchase_time_ms: p.created_ms,
            voided_time_ms: at,
            source,
            reason,
            quantity: voided_quantity,
            partial,
            kind: p.kind,
        };
        let (order, kind) = (entry.order_id.clone(), p.kind);
        self.voided.push(entry);
        self.notify_voided(at, token, &order, kind, partial);
        Ok(())
    }

    /// Renews now (or at `at`, the scheduled expiry): a new order `..N`, a new period.
    fn renew_at(&mut self, token: &str, at: i64, notification_type: SubscriptionNotificationType) {
        let p = self.touch(token);
        if let Some(next) = p.deferred_plan.take() {
            p.product_id = next.product_id.clone();
            p.plan = Some(next);
        }
        let base = if p.expiry_ms > at { p.expiry_ms } else { at };
        p.expiry_ms = period(
            &p.plan
                .as_ref()
                .map(|p| p.period.clone())
                .unwrap_or_default(),
        )
        .add_to(base);
        p.renewals += 1;
        p.sub_state = SubState::Active;
        p.auto_renew = true;
        p.cancel = None;
        p.hold_until_ms = None;
        p.auto_resume_ms = None;
        self.charge(token, at);
        self.notify_subscription(at, token, notification_type);
    }

    fn expire_at(&mut self, token: &str, at: i64) {
        let p = self.touch(token);
        p.sub_state = SubState::Expired;
        p.auto_renew = false;
        p.expiry_ms = p.expiry_ms.min(at);
        p.hold_until_ms = None;
        p.auto_resume_ms = None;
        self.notify_subscription(at, token, SubscriptionNotificationType::Expired);
    }

    /// A subscription lifecycle action of the control API (`renew`, `cancel`, `expire`,
    /// `grace`, `hold`, `recover`, `pause`, `resume`, `revoke`, `restart`).
    pub fn subscription_action(
        &mut self,
        token: &str,
        action: &str,
        body: &Value,
    ) -> Result<(), String> {
        let now = self.now_ms();
        let p = self.purchases.get(token).ok_or("unknown token")?;
        if p.kind != Kind::Subscription {
            return Err(format!("{action} applies to subscriptions only"));
        }
        let state = p.sub_state;
        let refuse = || {
            Err(format!(
                "cannot {action} a subscription in state {}",
                state.as_str()
            ))
        };
        match action {
            "renew" => {
                if !matches!(
                    state,
                    SubState::Active | SubState::InGracePeriod | SubState::OnHold
                ) {
                    return refuse();
                }
                self.renew_at(token, now, SubscriptionNotificationType::Renewed);
            }
            "cancel" => {
                if !matches!(
                    state,
                    SubState::Active
                        | SubState::InGracePeriod
                        | SubState::OnHold
                        | SubState::Paused
                ) {
                    return refuse();
                }
                self.cancel_subscription(token, CancelKind::User, now);
            }
            "expire" => {
                if !state.is_live() {
                    return refuse();
                }
                self.expire_at(token, now);
            }
            "grace" => {
                if state != SubState::Active {
                    return refuse();
                }
                let p = self.touch(token);
                p.sub_state = SubState::InGracePeriod;
                let grace = p
                    .plan
                    .as_ref()
                    .map(|p| p.grace_period.clone())
                    .unwrap_or("P7D".into());
                p.expiry_ms = period(&grace).add_to(now);
                self.notify_subscription(now, token, SubscriptionNotificationType::InGracePeriod);
            }
            "hold" => {
                if !matches!(state, SubState::Active | SubState::InGracePeriod) {
                    return refuse();
                }
                self.hold_at(token, now);
            }
            "recover" => {
                if !matches!(state, SubState::InGracePeriod | SubState::OnHold) {
                    return refuse();
                }
                let p = self.touch(token);
                p.expiry_ms = now;
                self.renew_at(token, now, SubscriptionNotificationType::Recovered);
            }
            "pause" => {
                if state != SubState::Active {
                    return refuse();
                }
                let seconds = body["seconds"].as_i64();
                let p = self.touch(token);
                p.sub_state = SubState::Paused;
                p.auto_resume_ms = Some(match seconds {
                    Some(s) if s > 0 => now + s * 1000,
                    _ => period("P1M").add_to(p.expiry_ms.max(now)),
                });
                p.expiry_ms = p.expiry_ms.min(now);
                self.notify_subscription(now, token, SubscriptionNotificationType::Paused);
            }
            "resume" => {
                if state != SubState::Paused {
                    return refuse();
                }
                self.renew_at(token, now, SubscriptionNotificationType::Renewed);
            }
            "revoke" => {
                if !state.is_live() {
                    return refuse();
                }
                self.revoke(token, now, 2)?;
            }
            "restart" => {
                if state != SubState::Canceled || self.purchases[token].expiry_ms <= now {
                    return refuse();
                }
                let p = self.touch(token);
                p.sub_state = SubState::Active;
                p.auto_renew = true;
                p.cancel = None;
                self.notify_subscription(now, token, SubscriptionNotificationType::Restarted);
            }
            other => return Err(format!("unknown action {other:?}")),
        }
        Ok(())
    }

    fn hold_at(&mut self, token: &str, at: i64) {
        let p = self.touch(token);
        p.sub_state = SubState::OnHold;
        let hold = p
            .plan
            .as_ref()
            .map(|p| p.account_hold.clone())
            .unwrap_or("P30D".into());
        p.hold_until_ms = Some(period(&hold).add_to(at));
        p.expiry_ms = p.expiry_ms.min(at);
        self.notify_subscription(at, token, SubscriptionNotificationType::OnHold);
    }

    /// Stops auto-renewal (CANCELED; entitled until expiry). Emits SUBSCRIPTION_CANCELED.
    pub fn cancel_subscription(&mut self, token: &str, kind: CancelKind, at: i64) {
        let p = self.touch(token);
        p.auto_renew = false;
        p.cancel = Some((kind, at));
        p.auto_resume_ms = None;
        if matches!(p.sub_state, SubState::OnHold | SubState::Paused) {
            p.sub_state = SubState::Expired;
            p.hold_until_ms = None;
            p.expiry_ms = p.expiry_ms.min(at);
        } else {
            p.sub_state = SubState::Canceled;
        }
        self.notify_subscription(at, token, SubscriptionNotificationType::Canceled);
    }

    /// `orders.refund`: refunds one charged order (a voided entry and a
    /// voidedPurchaseNotification, as Play sends for every refund). With `revoke`, the
    /// purchase ends too (a subscription EXPIRED with SUBSCRIPTION_REVOKED, a one-time
    /// purchase no longer owned); without, the entitlement stays.
    pub fn refund_order(&mut self, order_id: &str, at: i64, revoke: bool) -> Result<(), String> {
        let charge = self
            .ledger
            .charges
            .iter()
            .find(|c| c.order_id == order_id)
            .ok_or("order not found")?;
        let (token, charged_at) = (charge.token.clone(), charge.at_ms);
        if self
            .voided
            .iter()
            .any(|v| v.order_id == order_id && !v.partial)
        {
            return Err("the order is already refunded".into());
        }
        let kind = self.purchases[&token].kind;
        if revoke && kind == Kind::Subscription {
            self.notify_subscription(at, &token, SubscriptionNotificationType::Revoked);
        }
        let p = self.touch(&token);
        let quantity = (kind == Kind::Product).then(|| p.refundable_quantity());
        if kind == Kind::Product {
            p.refunded_quantity = p.quantity;
        }
        if revoke {
            p.voided = true;
            match kind {
                Kind::Product => p.product_state = ProductState::Canceled,
                Kind::Subscription => {
                    p.sub_state = SubState::Expired;
                    p.auto_renew = false;
                    p.expiry_ms = p.expiry_ms.min(at);
                }
            }
        }
        self.voided.push(Voided {
            token: token.clone(),
            order_id: order_id.into(),
            purchase_time_ms: charged_at,
            voided_time_ms: at,
            source: 1,
            reason: 0,
            quantity,
            partial: false,
            kind,
        });
        self.notify_voided(at, &token, order_id, kind, false);
        Ok(())
    }

    /// Revokes a subscription now with a refund: EXPIRED, a voided entry, SUBSCRIPTION_REVOKED
    /// and a voidedPurchaseNotification.
    pub fn revoke(&mut self, token: &str, at: i64, source: i32) -> Result<(), String> {
        self.notify_subscription(at, token, SubscriptionNotificationType::Revoked);
        self.void(token, at, source, 0, None)
    }

    /// Replaces a subscription by another plan: a new token whose `linkedPurchaseToken` is
    /// the old one. Immediate modes end the old token now (EXPIRED, replacement cancellation)
    /// and start the new plan now; `DEFERRED` also retires the old token now, and the new
    /// token keeps the old plan (with `deferredItemReplacement`) until the old expiry, when it
    /// renews on the new plan.
    pub fn replace(
        &mut self,
        old: &str,
        product_id: &str,
        base_plan_id: Option<&str>,
        mode: ReplacementMode,
    ) -> Result<String, String> {
        let now = self.now_ms();
        let p = self.purchases.get(old).ok_or("unknown token")?.clone();
        if p.kind != Kind::Subscription {
            return Err("only a subscription can be replaced".into());
        }
        if !matches!(
            p.sub_state,
            SubState::Active | SubState::Canceled | SubState::InGracePeriod
        ) || p.expiry_ms <= now && p.sub_state == SubState::Canceled
        {
            return Err(format!(
                "cannot replace a subscription in state {}",
                p.sub_state.as_str()
            ));
        }
        let new_plan = self
            .plan(product_id, base_plan_id)
            .ok_or_else(|| format!("no active base plan {base_plan_id:?} of {product_id:?}"))?;
        let old_plan = p.plan.clone().ok_or("the subscription has no plan")?;
        let token = new_purchase_token();
        let (plan, deferred, product, expiry) = match mode {
            ReplacementMode::Deferred => {
                (old_plan, Some(new_plan), p.product_id.clone(), p.expiry_ms)
            }
            ReplacementMode::ChargeProratedPrice | ReplacementMode::WithoutProration => (
                new_plan.clone(),
                None,
                new_plan.product_id.clone(),
                p.expiry_ms.max(now),
            ),
            ReplacementMode::WithTimeProration | ReplacementMode::ChargeFullPrice => {
                let e = period(&new_plan.period).add_to(now);
                (new_plan.clone(), None, new_plan.product_id.clone(), e)
            }
        };
        let new = Purchase {
            token: token.clone(),
            kind: Kind::Subscription,
            product_id: product,
            account_id: p.account_id.clone(),
            obfuscated_account_id: p.obfuscated_account_id.clone(),
            obfuscated_profile_id: p.obfuscated_profile_id.clone(),
            order_id: new_order_id(),
            renewals: 0,
            test: p.test,
            quantity: 1,
            refunded_quantity: 0,
            region_code: p.region_code.clone(),
            developer_payload: None,
            created_ms: now,
            purchased_ms: Some(now),
            acknowledged: false,
            consumed: false,
            product_state: ProductState::Purchased,
            sub_state: SubState::Active,
            expiry_ms: expiry,
            auto_renew: true,
            cancel: None,
            hold_until_ms: None,
            auto_resume_ms: None,
            plan: Some(plan),
            deferred_plan: deferred,
            linked_purchase_token: Some(old.into()),
            replaced_by: None,
            voided: false,
            version: 1,
            charged: false,
            purchase_option_id: None,
        };
        self.purchases.insert(token.clone(), new);
        self.purchase_order.push(token.clone());
        let o = self.touch(old);
        o.sub_state = SubState::Expired;
        o.auto_renew = false;
        o.cancel = Some((CancelKind::Replacement, now));
        o.expiry_ms = o.expiry_ms.min(now);
        o.replaced_by = Some(token.clone());
        if mode != ReplacementMode::Deferred {
            self.charge(&token, now);
        }
        self.notify_subscription(now, &token, SubscriptionNotificationType::Purchased);
        Ok(token)
    }

    /// Makes everything that is due by virtual now happen, in time order.
    pub fn settle(&mut self) {
        let now = self.now_ms();
        for _ in 0..100_000 {
            let Some((at, token, event)) = self.next_event(now) else {
                return;
            };
            match event {
                Due::AutoRefund => {
                    let kind = self.purchases[&token].kind;
                    if kind == Kind::Subscription {
                        self.notify_subscription(at, &token, SubscriptionNotificationType::Revoked);
                    }
                    let _ = self.void(&token, at, 2, 8, None);
                }
                Due::Renew => self.renew_at(&token, at, SubscriptionNotificationType::Renewed),
                Due::Expire => self.expire_at(&token, at),
                Due::Hold => self.hold_at(&token, at),
                Due::Resume => self.renew_at(&token, at, SubscriptionNotificationType::Renewed),
            }
        }
    }

    fn next_event(&self, now: i64) -> Option<(i64, String, Due)> {
        let mut best: Option<(i64, String, Due)> = None;
        for p in self.purchases.values() {
            let mut consider = |at: i64, due: Due| {
                if at <= now
                    && best
                        .as_ref()
                        .is_none_or(|(b, t, _)| (at, &p.token) < (*b, t))
                {
                    best = Some((at, p.token.clone(), due));
                }
            };
            if !p.voided && !p.acknowledged && p.charged {
                if let Some(t) = p.purchased_ms {
                    let live = match p.kind {
                        Kind::Product => p.product_state == ProductState::Purchased,
                        Kind::Subscription => p.sub_state.is_live(),
                    };
                    if live {
                        consider(t + ACK_DEADLINE_MS, Due::AutoRefund);
                    }
                }
            }
            if p.kind != Kind::Subscription {
                continue;
            }
            match p.sub_state {
                SubState::Active if p.auto_renew => consider(p.expiry_ms, Due::Renew),
                SubState::Active | SubState::Canceled => consider(p.expiry_ms, Due::Expire),
                SubState::InGracePeriod => consider(p.expiry_ms, Due::Hold),
                SubState::OnHold => consider(p.hold_until_ms.unwrap_or(p.expiry_ms), Due::Expire),
                SubState::Paused => consider(p.auto_resume_ms.unwrap_or(p.expiry_ms), Due::Resume),
                _ => {}
            }
        }
        best
    }
}

#[derive(Debug, Clone, Copy)]
enum Due {
    AutoRefund,
    Renew,
    Expire,
    Hold,
    Resume,
}

fn period(s: &str) -> Period {
    Period::parse(s).unwrap_or(Period {
        months: 1,
        days: 0,
        seconds: 0,
    })
}

/// A new purchase token: long, random, URL-safe, shaped like Play's
/// (`<24 letters>.AO-J1O<…>`).
pub fn new_purchase_token() -> String {
    let mut rng = rand::thread_rng();
    let head: String = (0..24)
        .map(|_| rng.gen_range(b'a'..=b'z') as char)
        .collect();
    const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let tail: String = (0..130)
        .map(|_| URL_SAFE[rng.gen_range(0..URL_SAFE.len())] as char)
        .collect();
    format!("{head}.AO-J1O{tail}")
}

/// A new order id, `GPA.1234-5678-9012-34567`.
pub fn new_order_id() -> String {
    let mut rng = rand::thread_rng();
    let mut digits = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
            .collect()
    };
    format!(
        "GPA.{}-{}-{}-{}",
        digits(4),
        digits(4),
        digits(4),
        digits(5)
    )
}

/// A random alphanumeric string.
pub fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
