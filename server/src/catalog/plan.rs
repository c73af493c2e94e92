//! `catalog plan` (alias `diff`): what `apply` would do to make the live catalog match the
//! file. Compared in the file's model (so fields Play adds and the file does not manage never
//! show as changes), written in Google's (each write is the live resource with the managed
//! fields replaced: read-merge-write, so a masked update never wipes what the file leaves
//! out).
//!
//! A plan lists creates and patches with their exact update masks, state changes, deletes,
//! and refusals with the fix to use instead: a changed immutable field (base plan type,
//! billing period), a removed region, a removed published purchase option or base plan, a
//! return to draft, deleting anything but a draft, an empty file against a live app.

use std::collections::BTreeMap;

use play_model::catalog_file::{
    BasePlanEntry, CatalogFile, EntryState, OfferEntry, OfferState, OneTimeOfferEntry,
    OneTimeProductEntry, SubscriptionEntry,
};
use play_model::onetimeproducts::{
    OfferState as GoogleOfferState, OneTimeProduct, OneTimeProductOffer, PurchaseOptionState,
};
use play_model::subscriptions::{BasePlanState, Subscription, SubscriptionOffer};
use serde::Serialize;

/// The hourly modification quota (a batch counts once).
pub const MODIFICATIONS_PER_HOUR: u64 = 7_200;
/// The hourly latency-sensitive quota (each batch entry counts).
pub const LATENCY_SENSITIVE_PER_HOUR: u64 = 7_200;
/// Entries per batch call.
pub const BATCH: usize = 100;

/// One-time product or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `monetization.onetimeproducts`.
    OneTimeProduct,
    /// `monetization.onetimeproducts.purchaseOptions.offers` (ids are
    /// `product/purchaseOption/offer`).
    OneTimeOffer,
    /// `monetization.subscriptions`.
    Subscription,
    /// `monetization.subscriptions.basePlans.offers` (ids are `product/basePlan/offer`).
    SubscriptionOffer,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::OneTimeProduct => "one-time product",
            Kind::OneTimeOffer => "one-time offer",
            Kind::Subscription => "subscription",
            Kind::SubscriptionOffer => "subscription offer",
        }
    }
}

/// A create or a patch.
#[derive(Debug, Clone, Serialize)]
pub struct Write {
    /// Product kind.
    pub kind: Kind,
    /// Product id.
    pub id: String,
    /// Whether the product is new (`allowMissing`).
    pub create: bool,
    /// The update mask (top-level fields replaced).
    pub update_mask: Vec<String>,
    /// The body sent (the live resource with the masked fields replaced).
    #[serde(skip)]
    pub body: Resource,
}

/// The resource a [`Write`] sends, one of Google's four catalog resources.
#[derive(Debug, Clone)]
pub enum Resource {
    /// A `OneTimeProduct`.
    OneTimeProduct(OneTimeProduct),
    /// A `OneTimeProductOffer`.
    OneTimeOffer(OneTimeProductOffer),
    /// A `Subscription`.
    Subscription(Subscription),
    /// A `SubscriptionOffer`.
    SubscriptionOffer(SubscriptionOffer),
}

/// An activation or deactivation of a purchase option or base plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StateChange {
    /// Product kind.
    pub kind: Kind,
    /// Product id (offers: `product/basePlan`).
    pub id: String,
    /// Purchase option, base plan or offer id.
    pub entry: String,
    /// `ACTIVE`, `INACTIVE` or (one-time offers) `CANCELLED`.
    pub to: &'static str,
}

/// A product deleted (drafts only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Delete {
    /// Product kind.
    pub kind: Kind,
    /// Product id.
    pub id: String,
}

/// A change Play would refuse or that cannot be undone, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// Where (`subscriptions.premium.base_plans.monthly`).
    pub path: String,
    /// What is refused.
    pub reason: String,
    /// What to do instead.
    pub fix: String,
}

/// What applying will spend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// Modification calls (a batch counts once).
    pub modification_calls: u64,
    /// Entries written or changed.
    pub entries: u64,
    /// Entries counted against the latency-sensitive hourly quota.
    pub latency_sensitive_entries: u64,
    /// Whether the batches are sent `LATENCY_TOLERANT` (propagation within 24 hours).
    pub latency_tolerant: bool,
    /// Least time pacing needs, in seconds (0: within the quotas at once).
    pub min_seconds: u64,
}

/// Everything `apply` would do.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// The regions version writes carry.
    pub regions_version: String,
    /// Prices converted from `auto_price` (auto price → region → price), as written.
    pub converted_prices: BTreeMap<String, BTreeMap<String, String>>,
    /// Creates and patches.
    pub writes: Vec<Write>,
    /// Activations and deactivations.
    pub state_changes: Vec<StateChange>,
    /// Deletes.
    pub deletes: Vec<Delete>,
    /// Refused changes.
    pub refusals: Vec<Refusal>,
    /// Quota and time.
    pub cost: Cost,
}

impl Plan {
    /// Whether there is nothing to do (refusals aside).
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.state_changes.is_empty() && self.deletes.is_empty()
    }
}

/// The live catalog: Google's resources by product id.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// `OneTimeProduct`s.
    pub one_time_products: BTreeMap<String, OneTimeProduct>,
    /// `OneTimeProductOffer`s by `product/purchaseOption/offer` ([`OneTimeProductOffer::key`]).
    pub one_time_offers: BTreeMap<String, OneTimeProductOffer>,
    /// `Subscription`s.
    pub subscriptions: BTreeMap<String, Subscription>,
    /// `SubscriptionOffer`s by `product/basePlan/offer` ([`SubscriptionOffer::key`]).
    pub offers: BTreeMap<String, SubscriptionOffer>,
}

/// Latency choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Latency {
    /// Tolerant when the plan's entries exceed the latency-sensitive budget.
    #[default]
    Auto,
    /// Always latency-sensitive (propagates within minutes).
    Sensitive,
    /// Always latency-tolerant (propagates within 24 hours).
    Tolerant,
}

/// Plan settings.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Latency choice.
    pub latency: Latency,
    /// Latency-sensitive entries `auto` may spend before it switches to tolerant (Google's
    /// hourly quota is shared with the Console and other tools).
    pub latency_budget: u64,
    /// Modification calls a minute `apply` allows itself.
    pub calls_per_minute: u64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            latency: Latency::Auto,
            latency_budget: LATENCY_SENSITIVE_PER_HOUR / 2,
            calls_per_minute: 1_500,
        }
    }
}

fn states(
    kind: Kind,
    id: &str,
    path: &str,
    entries: impl Iterator<Item = (String, EntryState, Option<EntryState>)>,
    plan: &mut Plan,
) {
    for (entry, want, live) in entries {
        let to = match (want, live) {
            (EntryState::Active, Some(EntryState::Active)) => None,
            (EntryState::Active, _) => Some("ACTIVE"),
            (EntryState::Inactive, Some(EntryState::Active)) => Some("INACTIVE"),
            (EntryState::Draft, Some(EntryState::Active | EntryState::Inactive)) => {
                plan.refusals.push(Refusal {
                    path: format!("{path}.{entry}"),
                    reason: "a published entry cannot return to draft".into(),
                    fix: "set state = \"inactive\"".into(),
                });
                None
            }
            _ => None,
        };
        if let Some(to) = to {
            plan.state_changes.push(StateChange {
                kind,
                id: id.into(),
                entry,
                to,
            });
        }
    }
}

/// Refuses each region of `live` missing from `want` (`field`: `prices` or `discounts`).
fn removed_regions(
    path: &str,
    field: &str,
    live: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
    plan: &mut Plan,
) {
    for region in live.keys().filter(|r| !want.contains_key(*r)) {
        plan.refusals.push(Refusal {
            path: format!("{path}.{field}.{region}"),
            reason: format!("region {region} was removed: Play never removes a region once added"),
            fix: format!("keep it ({}) and list {region} in withdrawn = [\"{region}\"] to stop selling there", live[region]),
        });
    }
}

/// A new product: one `allowMissing` write of its listings and `list` (purchase options or
/// base plans), then the activations its entries want (new entries are DRAFT).
fn create(
    plan: &mut Plan,
    kind: Kind,
    id: &str,
    list: &str,
    body: Resource,
    path: &str,
    entry_states: impl Iterator<Item = (String, EntryState)>,
) {
    plan.writes.push(Write {
        kind,
        id: id.into(),
        create: true,
        update_mask: vec!["listings".into(), list.into()],
        body,
    });
    states(
        kind,
        id,
        path,
        entry_states.map(|(e, s)| (e, s, None)),
        plan,
    );
}

fn diff_one_time_product(
    id: &str,
    want: &OneTimeProductEntry,
    live: Option<&OneTimeProduct>,
    plan: &mut Plan,
) {
    let path = format!("one_time_products.{id}");
    let Some(live) = live else {
        let states = want
            .purchase_options
            .iter()
            .map(|(o, e)| (o.clone(), e.state));
        create(
            plan,
            Kind::OneTimeProduct,
            id,
            "purchaseOptions",
            Resource::OneTimeProduct(want.to_google(id, None)),
            &format!("{path}.purchase_options"),
            states,
        );
        return;
    };
    let have = OneTimeProductEntry::from_google(live, want.kind);
    let mut mask = Vec::new();
    if have.listings != want.listings {
        mask.push("listings".to_string());
    }
    let without_state = |e: &OneTimeProductEntry| {
        let mut e = e.clone();
        for o in e.purchase_options.values_mut() {
            o.state = EntryState::Draft;
            // Offers are resources of their own (diff_one_time_offers).
            o.offers.clear();
        }
        e.purchase_options
    };
    if without_state(&have) != without_state(want) {
        mask.push("purchaseOptions".to_string());
    }
    for (oid, o) in &have.purchase_options {
        let op = format!("{path}.purchase_options.{oid}");
        match want.purchase_options.get(oid) {
            Some(w) => {
                removed_regions(&op, "prices", &o.prices, &w.prices, plan);
                if w.rent.is_some() != o.rent.is_some() {
                    plan.refusals.push(Refusal {
                        path: op.clone(),
                        reason: format!(
                            "a purchase option's type is immutable (live: {}, file: {})",
                            if o.rent.is_some() { "rent" } else { "buy" },
                            if w.rent.is_some() { "rent" } else { "buy" }
                        ),
                        fix: "add a purchase option with a new id and set this one's state = \"inactive\"".into(),
                    });
                }
            }
            None if o.state != EntryState::Draft => plan.refusals.push(Refusal {
                path: op,
                reason: "a published purchase option cannot be removed".into(),
                fix: "keep it with state = \"inactive\"".into(),
            }),
            None => {}
        }
    }
    if !mask.is_empty() {
        plan.writes.push(Write {
            kind: Kind::OneTimeProduct,
            id: id.into(),
            create: false,
            update_mask: mask,
            body: Resource::OneTimeProduct(want.to_google(id, Some(live))),
        });
    }
    let entries = want.purchase_options.iter().map(|(o, e)| {
        (
            o.clone(),
            e.state,
            have.purchase_options.get(o).map(|h| h.state),
        )
    });
    states(
        Kind::OneTimeProduct,
        id,
        &format!("{path}.purchase_options"),
        entries,
        plan,
    );
}

fn diff_subscription(
    id: &str,
    want: &SubscriptionEntry,
    live: Option<&Subscription>,
    plan: &mut Plan,
) {
    let path = format!("subscriptions.{id}");
    let Some(live) = live else {
        let states = want.base_plans.iter().map(|(b, e)| (b.clone(), e.state));
        create(
            plan,
            Kind::Subscription,
            id,
            "basePlans",
            Resource::Subscription(want.to_google(id, None)),
            &format!("{path}.base_plans"),
            states,
        );
        return;
    };
    let have = SubscriptionEntry::from_google(live);
    // Durations the file leaves out are Play's to keep.
    let mut want = want.clone();
    for (bid, b) in want.base_plans.iter_mut() {
        if let Some(h) = have.base_plans.get(bid) {
            b.grace_period = b.grace_period.take().or_else(|| h.grace_period.clone());
            b.account_hold = b.account_hold.take().or_else(|| h.account_hold.clone());
        }
    }
    let mut mask = Vec::new();
    if have.listings != want.listings {
        mask.push("listings".to_string());
    }
    let without_state = |plans: &BTreeMap<String, BasePlanEntry>| {
        let mut plans = plans.clone();
        for b in plans.values_mut() {
            b.state = EntryState::Draft;
            // Offers are resources of their own (diff_offers).
            b.offers.clear();
        }
        plans
    };
    if without_state(&have.base_plans) != without_state(&want.base_plans) {
        mask.push("basePlans".to_string());
    }
    for (bid, b) in &have.base_plans {
        let bp = format!("{path}.base_plans.{bid}");
        match want.base_plans.get(bid) {
            Some(w) => {
                let shape = |p: &BasePlanEntry| {
                    let installments = p
                        .committed_payments
                        .map(|n| {
                            format!(
                                " × {n}{}",
                                if p.renews_with_commitment {
                                    " renewing with commitment"
                                } else {
                                    ""
                                }
                            )
                        })
                        .unwrap_or_default();
                    format!("{:?} {}{installments}", p.plan_type, p.billing_period)
                };
                if shape(w) != shape(b) {
                    plan.refusals.push(Refusal {
                        path: bp.clone(),
                        reason: format!(
                            "the base plan type, billing period and installments are immutable (live: {}, file: {})",
                            shape(b),
                            shape(w)
                        ),
                        fix: "add a base plan with a new id and set this one's state = \"inactive\"".into(),
                    });
                }
                removed_regions(&bp, "prices", &b.prices, &w.prices, plan);
            }
            None if b.state != EntryState::Draft => plan.refusals.push(Refusal {
                path: bp,
                reason: "a published base plan cannot be removed".into(),
                fix: "keep it with state = \"inactive\" (existing subscribers keep it)".into(),
            }),
            None => {}
        }
    }
    if !mask.is_empty() {
        plan.writes.push(Write {
            kind: Kind::Subscription,
            id: id.into(),
            create: false,
            update_mask: mask,
            body: Resource::Subscription(want.to_google(id, Some(live))),
        });
    }
    let entries = want
        .base_plans
        .iter()
        .map(|(b, e)| (b.clone(), e.state, have.base_plans.get(b).map(|h| h.state)));
    states(
        Kind::Subscription,
        id,
        &format!("{path}.base_plans"),
        entries,
        plan,
    );
}

/// The offers of one subscription in the file against the live ones.
fn diff_offers(id: &str, want: &SubscriptionEntry, live: &Live, plan: &mut Plan) {
    let prefix = format!("{id}/");
    let mut wanted = std::collections::BTreeSet::new();
    for (bid, b) in &want.base_plans {
        let regions = b.offer_regions();
        for (oid, o) in &b.offers {
            let key = format!("{id}/{bid}/{oid}");
            let path = format!("subscriptions.{id}.base_plans.{bid}.offers");
            wanted.insert(key.clone());
            let Some(live_offer) = live.offers.get(&key) else {
                let body = Resource::SubscriptionOffer(o.to_google(id, bid, oid, &regions, None));
                plan.writes.push(Write {
                    kind: Kind::SubscriptionOffer,
                    id: key.clone(),
                    create: true,
                    update_mask: ["phases", "targeting", "regionalConfigs", "offerTags"]
                        .map(String::from)
                        .to_vec(),
                    body,
                });
                states(
                    Kind::SubscriptionOffer,
                    &format!("{id}/{bid}"),
                    &path,
                    [(oid.clone(), o.state, None)].into_iter(),
                    plan,
                );
                continue;
            };
            let have = OfferEntry::from_google(live_offer);
            let live_regions: std::collections::BTreeSet<String> =
                live_offer.regions().into_iter().map(String::from).collect();
            let mut mask = Vec::new();
            if have.phases != o.phases {
                mask.push("phases".to_string());
            }
            if have.eligibility != o.eligibility {
                mask.push("targeting".to_string());
            }
            if live_regions != regions {
                mask.push("regionalConfigs".to_string());
            }
            if have.tags != o.tags {
                mask.push("offerTags".to_string());
            }
            if !mask.is_empty() {
                plan.writes.push(Write {
                    kind: Kind::SubscriptionOffer,
                    id: key.clone(),
                    create: false,
                    update_mask: mask,
                    body: Resource::SubscriptionOffer(o.to_google(
                        id,
                        bid,
                        oid,
                        &regions,
                        Some(live_offer),
                    )),
                });
            }
            states(
                Kind::SubscriptionOffer,
                &format!("{id}/{bid}"),
                &path,
                [(oid.clone(), o.state, Some(have.state))].into_iter(),
                plan,
            );
        }
    }
    for (key, v) in live
        .offers
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
    {
        if wanted.contains(key) {
            continue;
        }
        if v.state.is_none_or(|s| s == BasePlanState::Draft) {
            plan.deletes.push(Delete {
                kind: Kind::SubscriptionOffer,
                id: key.clone(),
            });
        } else {
            let (p, b, o) = three(key);
            plan.refusals.push(Refusal {
                path: format!("subscriptions.{p}.base_plans.{b}.offers.{o}"),
                reason: "a published offer cannot be removed".into(),
                fix: "keep it with state = \"inactive\"".into(),
            });
        }
    }
}

/// Splits `a/b/c` into its three parts.
fn three(key: &str) -> (&str, &str, &str) {
    let mut parts = key.splitn(3, '/');
    (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    )
}

/// The state change taking a one-time offer from `live` to `want`, or the refusal.
fn offer_state(
    want: OfferState,
    live: Option<OfferState>,
) -> Result<Option<&'static str>, (&'static str, &'static str)> {
    use OfferState::*;
    Ok(match (want, live.unwrap_or(Draft)) {
        (w, l) if w == l => None,
        (Active, Draft | Inactive) => Some("ACTIVE"),
        (Inactive, Active) => Some("INACTIVE"),
        (Inactive, Draft) => None,
        (Cancelled, Active | Inactive) => Some("CANCELLED"),
        (Cancelled, Draft) => {
            return Err((
                "a draft offer cannot be cancelled",
                "remove it from the file (a draft is deleted with --allow-delete) or set state = \"draft\"",
            ))
        }
        (_, Cancelled) => {
            return Err((
                "a cancelled offer stays cancelled",
                "keep state = \"cancelled\" and add an offer with a new id",
            ))
        }
        (Draft, _) => {
            return Err((
                "a published offer cannot return to draft",
                "set state = \"inactive\"",
            ))
        }
        _ => None,
    })
}

/// The offers of one one-time product in the file against the live ones.
fn diff_one_time_offers(id: &str, want: &OneTimeProductEntry, live: &Live, plan: &mut Plan) {
    let mut wanted = std::collections::BTreeSet::new();
    for (oid, option) in &want.purchase_options {
        for (fid, o) in &option.offers {
            let key = format!("{id}/{oid}/{fid}");
            let path = format!("one_time_products.{id}.purchase_options.{oid}.offers.{fid}");
            wanted.insert(key.clone());
            let live_offer = live.one_time_offers.get(&key);
            let have = live_offer.map(OneTimeOfferEntry::from_google);
            let mut mask = Vec::new();
            let kind_of = |e: &OneTimeOfferEntry| {
                if e.pre_order.is_some() {
                    "pre_order"
                } else {
                    "discounted"
                }
            };
            match (&have, live_offer) {
                (Some(h), Some(l)) => {
                    if l.game_reward_offer.is_some() || kind_of(h) != kind_of(o) {
                        let live_kind = if l.game_reward_offer.is_some() {
                            "game reward"
                        } else {
                            kind_of(h)
                        };
                        plan.refusals.push(Refusal {
                            path: path.clone(),
                            reason: format!(
                                "an offer's type is immutable (live: {live_kind}, file: {})",
                                kind_of(o)
                            ),
                            fix: "add an offer with a new id and deactivate or cancel this one"
                                .into(),
                        });
                        continue;
                    }
                    if let (Some(hp), Some(wp)) = (&h.pre_order, &o.pre_order) {
                        if hp.price_change != wp.price_change {
                            plan.refusals.push(Refusal {
                                path: path.clone(),
                                reason: format!(
                                    "a pre-order's price_change is immutable (live: {:?})",
                                    hp.price_change
                                ),
                                fix: "keep the live price_change, or add an offer with a new id"
                                    .into(),
                            });
                        }
                    }
                    removed_regions(&path, "discounts", &h.discounts, &o.discounts, plan);
                    if h.discounts != o.discounts || h.withdrawn != o.withdrawn {
                        mask.push("regionalPricingAndAvailabilityConfigs");
                    }
                    if h.tags != o.tags {
                        mask.push("offerTags");
                    }
                    if h.discounted != o.discounted && o.discounted.is_some() {
                        mask.push("discountedOffer");
                    }
                    if h.pre_order != o.pre_order && o.pre_order.is_some() {
                        mask.push("preOrderOffer");
                    }
                }
                _ => {
                    mask.push("regionalPricingAndAvailabilityConfigs");
                    mask.push("offerTags");
                    mask.push(if o.pre_order.is_some() {
                        "preOrderOffer"
                    } else {
                        "discountedOffer"
                    });
                }
            }
            if !mask.is_empty() {
                plan.writes.push(Write {
                    kind: Kind::OneTimeOffer,
                    id: key.clone(),
                    create: live_offer.is_none(),
                    update_mask: mask.into_iter().map(String::from).collect(),
                    body: Resource::OneTimeOffer(o.to_google(id, oid, fid, live_offer)),
                });
            }
            match offer_state(o.state, have.map(|h| h.state)) {
                Ok(Some(to)) => plan.state_changes.push(StateChange {
                    kind: Kind::OneTimeOffer,
                    id: format!("{id}/{oid}"),
                    entry: fid.clone(),
                    to,
                }),
                Ok(None) => {}
                Err((reason, fix)) => plan.refusals.push(Refusal {
                    path,
                    reason: reason.into(),
                    fix: fix.into(),
                }),
            }
        }
    }
    let prefix = format!("{id}/");
    for (key, v) in live
        .one_time_offers
        .range(prefix.clone()..)
        .take_while(|(k, _)| k.starts_with(&prefix))
        .filter(|(k, _)| !wanted.contains(*k))
    {
        if v.state.is_none_or(|s| s == GoogleOfferState::Draft) {
            plan.deletes.push(Delete {
                kind: Kind::OneTimeOffer,
                id: key.clone(),
            });
        } else {
            let (p, o, f) = three(key);
            plan.refusals.push(Refusal {
                path: format!("one_time_products.{p}.purchase_options.{o}.offers.{f}"),
                reason: "a published offer cannot be removed".into(),
                fix: "keep it with state = \"inactive\" or \"cancelled\"".into(),
            });
        }
    }
}

/// Whether no purchase option of a live product was ever published.
fn is_draft_product(live: &OneTimeProduct) -> bool {
    live.purchase_options
        .iter()
        .all(|o| o.state.is_none_or(|s| s == PurchaseOptionState::Draft))
}

/// Whether no base plan of a live subscription was ever published.
fn is_draft_subscription(live: &Subscription) -> bool {
    live.base_plans
        .iter()
        .all(|b| b.state.is_none_or(|s| s == BasePlanState::Draft))
}

/// Plans `want` (auto prices resolved) against `live`.
pub fn plan(
    want: &CatalogFile,
    live: &Live,
    regions_version: &str,
    converted_prices: BTreeMap<String, BTreeMap<String, String>>,
    options: &PlanOptions,
) -> Plan {
    let mut plan = Plan {
        regions_version: regions_version.into(),
        converted_prices,
        writes: Vec::new(),
        state_changes: Vec::new(),
        deletes: Vec::new(),
        refusals: Vec::new(),
        cost: Cost {
            modification_calls: 0,
            entries: 0,
            latency_sensitive_entries: 0,
            latency_tolerant: false,
            min_seconds: 0,
        },
    };
    for (id, p) in &want.one_time_products {
        diff_one_time_product(id, p, live.one_time_products.get(id), &mut plan);
        diff_one_time_offers(id, p, live, &mut plan);
    }
    for (id, s) in &want.subscriptions {
        diff_subscription(id, s, live.subscriptions.get(id), &mut plan);
        diff_offers(id, s, live, &mut plan);
    }
    let live_count = live.one_time_products.len() + live.subscriptions.len();
    let empty = want.one_time_products.is_empty() && want.subscriptions.is_empty();
    if empty && live_count > 0 {
        plan.refusals.push(Refusal {
            path: "(file)".into(),
            reason: format!("the catalog file is empty but the app has {live_count} products"),
            fix: "run `pwa-billing catalog pull` first, or list the products to keep".into(),
        });
    } else {
        let one_time = live
            .one_time_products
            .iter()
            .filter(|(id, _)| !want.one_time_products.contains_key(*id))
            .map(|(id, p)| {
                (
                    Kind::OneTimeProduct,
                    id,
                    is_draft_product(p),
                    "one_time_products",
                )
            });
        let subscriptions = live
            .subscriptions
            .iter()
            .filter(|(id, _)| !want.subscriptions.contains_key(*id))
            .map(|(id, s)| {
                (
                    Kind::Subscription,
                    id,
                    is_draft_subscription(s),
                    "subscriptions",
                )
            });
        for (kind, id, draft, section) in one_time.chain(subscriptions) {
            if draft {
                plan.deletes.push(Delete {
                    kind,
                    id: id.clone(),
                });
            } else {
                plan.refusals.push(Refusal {
                    path: format!("{section}.{id}"),
                    reason: format!("the {} is published and missing from the file: Play deletes drafts only", kind.label()),
                    fix: "keep it in the file (run `pwa-billing catalog pull`) with its states = \"inactive\"".into(),
                });
            }
        }
    }
    plan.cost = cost(&plan, options);
    plan
}

fn batches(n: usize) -> u64 {
    n.div_ceil(BATCH) as u64
}

fn cost(plan: &Plan, options: &PlanOptions) -> Cost {
    let count = |kind: Kind| plan.writes.iter().filter(|w| w.kind == kind).count();
    let states = |kind: Kind| plan.state_changes.iter().filter(|s| s.kind == kind).count();
    let deletes = |kind: Kind| plan.deletes.iter().filter(|d| d.kind == kind).count();
    let batched_kinds = [
        Kind::OneTimeProduct,
        Kind::OneTimeOffer,
        Kind::Subscription,
        Kind::SubscriptionOffer,
    ];
    // Subscriptions and their offers are deleted one call each (Google has no batch).
    let deletes_subs = deletes(Kind::Subscription) + deletes(Kind::SubscriptionOffer);
    let modification_calls = batched_kinds
        .iter()
        .map(|k| batches(count(*k)) + batches(states(*k)))
        .sum::<u64>()
        + batches(deletes(Kind::OneTimeProduct))
        + batches(deletes(Kind::OneTimeOffer))
        + deletes_subs as u64;
    let entries = (plan.writes.len() + plan.state_changes.len() + plan.deletes.len()) as u64;
    let latency_tolerant = match options.latency {
        Latency::Tolerant => true,
        Latency::Sensitive => false,
        Latency::Auto => entries > options.latency_budget,
    };
    let latency_sensitive_entries = if latency_tolerant {
        deletes_subs as u64
    } else {
        entries
    };
    let per_minute = options.calls_per_minute.max(1);
    let over_hour = modification_calls.saturating_sub(MODIFICATIONS_PER_HOUR);
    let min_seconds = (modification_calls.saturating_sub(per_minute) * 60).div_ceil(per_minute)
        + over_hour * 3600 / MODIFICATIONS_PER_HOUR;
    Cost {
        modification_calls,
        entries,
        latency_sensitive_entries,
        latency_tolerant,
        min_seconds,
    }
}

/// The plan for people.
pub fn render(plan: &Plan) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "regions version {}", plan.regions_version);
    for (auto, regions) in &plan.converted_prices {
        let list: Vec<String> = regions.iter().map(|(r, p)| format!("{r} {p}")).collect();
        let _ = writeln!(
            out,
            "auto_price {auto} → {} regions: {}",
            regions.len(),
            list.join(", ")
        );
    }
    for w in &plan.writes {
        let verb = if w.create { "+ create" } else { "~ patch " };
        let _ = writeln!(
            out,
            "{verb} {} {} (updateMask={})",
            w.kind.label(),
            w.id,
            w.update_mask.join(",")
        );
    }
    for s in &plan.state_changes {
        let what = match s.kind {
            Kind::OneTimeProduct => "purchase option",
            Kind::Subscription => "base plan",
            Kind::SubscriptionOffer | Kind::OneTimeOffer => "offer",
        };
        let verb = match s.to {
            "ACTIVE" => "activate",
            "CANCELLED" => "cancel",
            _ => "deactivate",
        };
        let _ = writeln!(out, "> {verb} {what} {}/{}", s.id, s.entry);
    }
    for d in &plan.deletes {
        let _ = writeln!(
            out,
            "- delete {} {} (draft; needs --allow-delete)",
            d.kind.label(),
            d.id
        );
    }
    for r in &plan.refusals {
        let _ = writeln!(
            out,
            "! refused {}: {}\n    fix: {}",
            r.path, r.reason, r.fix
        );
    }
    let c = &plan.cost;
    if plan.is_empty() && plan.refusals.is_empty() {
        let _ = writeln!(out, "nothing to do: the live catalog matches the file");
    } else if plan.is_empty() {
        let _ = writeln!(out, "nothing to do but the refused changes above");
    } else {
        let _ = writeln!(
            out,
            "{} writes, {} state changes, {} deletes: {} modification calls ({} entries, {} latency-sensitive, {}), at least {}s of pacing",
            plan.writes.len(),
            plan.state_changes.len(),
            plan.deletes.len(),
            c.modification_calls,
            c.entries,
            c.latency_sensitive_entries,
            if c.latency_tolerant { "LATENCY_TOLERANT: live within 24 hours" } else { "latency-sensitive: live within minutes" },
            c.min_seconds
        );
    }
    out
}
