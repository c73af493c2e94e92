//! `monetization.subscriptions.basePlans.offers`: get, list (`productId` and `basePlanId`
//! may be `-`), batchGet, batchUpdate (≤ 100, `allowMissing`, `updateMask`, all or nothing),
//! batchUpdateStates, delete (drafts only), and the single-offer create, patch, activate and
//! deactivate (one-entry batches).
//!
//! Google's rules: offers belong to an existing auto-renewing base plan; one or two phases,
//! each with a valid duration and, per region, exactly one of `free`, `price`,
//! `absoluteDiscount`, `relativeDiscount`; the offer's regions are regions of the base plan
//! and are never removed once added; at most 20 tags of at most 20 characters; `state` is
//! output only (new offers are DRAFT).

use play_model::onetimeproducts::OfferTag;
use play_model::pricing::RegionsVersion;
use play_model::subscriptions::{
    offer_key, BasePlanState, BatchGetSubscriptionOffersRequest,
    BatchUpdateSubscriptionOffersRequest, ListSubscriptionOffersResponse, OfferStateRequest,
    SubscriptionOffer, SubscriptionOffersResponse, UpdateSubscriptionOfferRequest,
    UpdateSubscriptionOfferStateRequest,
};
use std::collections::BTreeMap;

use play_model::paging::TokenPage;
use play_model::subscriptions::{UpdateEntry, UpdateOptions};

use super::inappproducts::{
    batch_size, check_latency, check_tolerance, entry_version, refuse_twice,
};
use super::onetimeproducts::{check_region_price, masked_update, writable};
use super::{parse_body, Call, Reply};
use crate::clock::Period;
use crate::error::GoogleError;
use crate::state::Model;

const MASKABLE: [&str; 5] = [
    "phases",
    "targeting",
    "regionalConfigs",
    "offerTags",
    "otherRegionsConfig",
];

/// An optional id of a request (`""` when absent).
fn text(t: &Option<String>) -> &str {
    t.as_deref().unwrap_or_default()
}

fn not_found(k: &str) -> GoogleError {
    GoogleError::not_found(format!("Subscription offer not found: {k}"))
}

/// Google's limit on an offer's `offerTags` (subscription and one-time offers alike): at
/// most 20 tags of 1–20 characters.
pub fn check_offer_tags(tags: &[OfferTag]) -> Result<(), GoogleError> {
    let bad = |t: &OfferTag| {
        t.tag
            .as_deref()
            .is_none_or(|t| t.is_empty() || t.len() > 20)
    };
    if tags.len() > 20 || tags.iter().any(bad) {
        return Err(GoogleError::invalid(
            "At most 20 offer tags of 1-20 characters.",
        ));
    }
    Ok(())
}

/// Validates an offer against its base plan and its stored version.
fn validate(
    mut o: SubscriptionOffer,
    m: &Model,
    version: &str,
    existing: Option<&SubscriptionOffer>,
) -> Result<SubscriptionOffer, GoogleError> {
    let (product, plan_id, offer_id) = (
        text(&o.product_id).to_string(),
        text(&o.base_plan_id).to_string(),
        text(&o.offer_id).to_string(),
    );
    if !play_model::ids::is_option_id(&offer_id) {
        return Err(GoogleError::invalid(format!(
            "Invalid offer ID {offer_id:?}."
        )));
    }
    let sub = m
        .subscriptions
        .get(&product)
        .ok_or_else(|| GoogleError::not_found(format!("Subscription not found: {product}")))?;
    let plan = sub.plan(&plan_id).ok_or_else(|| {
        GoogleError::not_found(format!("Base plan not found: {product}/{plan_id}"))
    })?;
    if plan.auto_renewing_base_plan_type.is_none() {
        return Err(GoogleError::invalid(format!(
            "Offers are only allowed on auto-renewing base plans ({product}/{plan_id})."
        )));
    }
    let plan_regions = plan.regions();
    let offer_regions = o.regions();
    if let Some(r) = offer_regions.iter().find(|r| !plan_regions.contains(r)) {
        return Err(GoogleError::invalid(format!(
            "Region {r} of the offer is not a region of base plan {plan_id}."
        )));
    }
    if let Some(gone) = existing
        .map(SubscriptionOffer::regions)
        .into_iter()
        .flatten()
        .find(|r| !offer_regions.contains(r))
    {
        return Err(GoogleError::invalid(format!(
            "Cannot remove region once it has been added: {gone}"
        )));
    }
    if o.phases.is_empty() || o.phases.len() > 2 {
        return Err(GoogleError::invalid("An offer has one or two phases."));
    }
    for (i, p) in o.phases.iter().enumerate() {
        let duration = p.duration.as_deref().unwrap_or_default();
        if Period::parse(duration).is_none() {
            return Err(GoogleError::invalid(format!(
                "phases[{i}].duration {duration:?} is invalid."
            )));
        }
        for (j, c) in p.regional_configs.iter().enumerate() {
            let region = c.region_code.as_deref().unwrap_or_default();
            if !offer_regions.contains(&region) {
                return Err(GoogleError::invalid(format!(
                    "phases[{i}].regionalConfigs[{j}]: region {region:?} is not a region of the offer."
                )));
            }
            if c.overrides() != 1 {
                return Err(GoogleError::invalid(format!(
                    "phases[{i}].regionalConfigs[{j}] needs exactly one of free, price, absoluteDiscount, relativeDiscount."
                )));
            }
            if c.price.is_some() {
                check_region_price(
                    region,
                    c.price.as_ref(),
                    version,
                    &format!("phases[{i}].regionalConfigs[{j}].price"),
                )?;
            }
        }
    }
    check_offer_tags(&o.offer_tags)?;
    o.package_name = Some(m.package_name.clone());
    o.state = Some(
        existing
            .and_then(|e| e.state)
            .unwrap_or(BasePlanState::Draft),
    );
    writable(o)
}

/// `offers.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let k = offer_key(
        call.param("productId"),
        call.param("basePlanId"),
        call.param("offerId"),
    );
    m.subscription_offers
        .get(&k)
        .map(Reply::resource)
        .ok_or_else(|| not_found(&k))
}

/// The shared `list` of the two offer collections: `productId` and the parent (`parent`:
/// `basePlanId` or `purchaseOptionId`) may be `-` (the parent must be when the product is),
/// one page of `stored` under `list_key` (`token` prefixes page tokens).
pub(crate) fn list_offers<P: TokenPage>(
    call: &Call,
    stored: &BTreeMap<String, P::Item>,
    parent: &str,
    ids: impl Fn(&P::Item) -> (&str, &str),
    token: &str,
) -> Result<Reply, GoogleError>
where
    P::Item: Clone,
{
    let product = call.param("productId");
    let parent_id = call.param(parent);
    if product == "-" && parent_id != "-" {
        return Err(GoogleError::invalid(format!(
            "{parent} must be - when productId is -."
        )));
    }
    let matching: BTreeMap<String, P::Item> = stored
        .iter()
        .filter(|(_, o)| {
            let (p, q) = ids(o);
            (product == "-" || p == product) && (parent_id == "-" || q == parent_id)
        })
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect();
    super::monetization::page_of::<P>(call, &matching, token)
}

/// A subscription offer's product and base plan ids.
fn plan_ids(o: &SubscriptionOffer) -> (&str, &str) {
    (text(&o.product_id), text(&o.base_plan_id))
}

/// `offers.list`: `-` for the product or base plan lists across them.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    list_offers::<ListSubscriptionOffersResponse>(
        call,
        &m.subscription_offers,
        "basePlanId",
        plan_ids,
        "offers",
    )
}

/// The writes of a catalog `batchUpdate` (subscription offers, one-time products and
/// their offers), all or nothing: 1–100 entries, each with its latency tolerance and
/// regions version, no resource twice; each written over the stored one by [`merge`], then
/// checked by `validate` (given the key, the merged resource, the regions version and the
/// stored resource), an entry's error naming it. `key_of` gives a resource's model key
/// (`None`: the entry lacks the id field `id_field`), `what` names the resource for people.
/// Nothing is stored.
pub(crate) fn staged_updates<R: UpdateEntry>(
    requests: Vec<R>,
    stored: &BTreeMap<String, R::Resource>,
    (what, id_field): (&str, &str),
    key_of: impl Fn(&R::Resource) -> Option<String>,
    mask: (&[&str], CopyField<R::Resource>),
    mut validate: impl FnMut(&str, R::Resource, &str, Option<&R::Resource>) -> Written<R::Resource>,
) -> Result<Vec<(String, R::Resource)>, GoogleError>
where
    R::Resource: Clone,
{
    batch_size(requests.len())?;
    let mut staged = Vec::new();
    for (i, r) in requests.into_iter().enumerate() {
        let (body, options) = r.into_parts();
        check_latency(options.latency_tolerance)?;
        let k = key_of(&body)
            .ok_or_else(|| GoogleError::required(&format!("requests[{i}].{id_field}")))?;
        let version = entry_version(i, options.regions_version.as_deref())?;
        refuse_twice(i, &staged, &k)?;
        let existing = stored.get(&k);
        let not_found = || GoogleError::not_found(format!("{what} not found: {k}"));
        let written = merge(body, existing, &options, mask, not_found)
            .and_then(|merged| validate(&k, merged, version, existing))
            .map_err(|mut e| {
                e.message = format!("requests[{i}] ({k}): {}", e.message);
                e
            })?;
        staged.push((k, written));
    }
    Ok(staged)
}

/// A resource checked for writing, or Google's refusal.
pub(crate) type Written<T> = Result<T, GoogleError>;

/// Copies one field of an `updateMask` from the body into the stored resource.
pub(crate) type CopyField<T> = fn(&mut T, &T, &str);

/// `body` written over `existing`: `body` itself when there is none and `allowMissing`
/// is set, else a masked update (the mask's fields among `maskable`, copied by `copy`).
pub(crate) fn merge<T: Clone>(
    body: T,
    existing: Option<&T>,
    options: &UpdateOptions,
    (maskable, copy): (&[&str], CopyField<T>),
    not_found: impl FnOnce() -> GoogleError,
) -> Written<T> {
    match existing {
        None if options.allow_missing => Ok(body),
        None => Err(not_found()),
        Some(e) => masked_update(
            e.clone(),
            &body,
            options.update_mask.as_deref(),
            maskable,
            copy,
        ),
    }
}

/// Copies `field` (one of [`MASKABLE`]) of `body` into `base`: a masked update.
fn copy_field(base: &mut SubscriptionOffer, body: &SubscriptionOffer, field: &str) {
    match field {
        "phases" => base.phases = body.phases.clone(),
        "targeting" => base.targeting = body.targeting.clone(),
        "regionalConfigs" => base.regional_configs = body.regional_configs.clone(),
        "offerTags" => base.offer_tags = body.offer_tags.clone(),
        _ => base.other_regions_config = body.other_regions_config.clone(),
    }
}

/// Writes `requests` ([`staged_updates`]), all or nothing; returns the offers written.
fn update(
    m: &mut Model,
    requests: Vec<UpdateSubscriptionOfferRequest>,
) -> Result<Vec<SubscriptionOffer>, GoogleError> {
    let staged = staged_updates(
        requests,
        &m.subscription_offers,
        ("Subscription offer", "subscriptionOffer.offerId"),
        |o| Some(o.key()),
        (&MASKABLE, copy_field),
        |_, merged, version, existing| validate(merged, m, version, existing),
    )?;
    Ok(store(m, staged))
}

/// Stores `staged` offers; an offer now ACTIVE counts as published.
fn store(m: &mut Model, staged: Vec<(String, SubscriptionOffer)>) -> Vec<SubscriptionOffer> {
    let mut out = Vec::new();
    for (k, o) in staged {
        if o.state == Some(BasePlanState::Active) {
            m.ever_active_offers.insert(k.clone());
        }
        m.subscription_offers.insert(k, o.clone());
        out.push(o);
    }
    out
}

/// `BatchGetSubscriptionOffersResponse`, `BatchUpdateSubscriptionOffersResponse` and
/// `BatchUpdateSubscriptionOfferStatesResponse`.
fn answer(subscription_offers: Vec<SubscriptionOffer>) -> Reply {
    Reply::resource(&SubscriptionOffersResponse {
        subscription_offers,
    })
}

/// `offers.batchUpdate`: every entry validated before any is stored.
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchUpdateSubscriptionOffersRequest = parse_body(&call.body)?;
    Ok(answer(update(m, batch.requests)?))
}

/// Runs state changes (DRAFT/INACTIVE → ACTIVE, ACTIVE → INACTIVE), all or nothing.
fn change_states(
    call: &Call,
    m: &mut Model,
    entries: Vec<(OfferStateRequest, BasePlanState)>,
) -> Result<Vec<SubscriptionOffer>, GoogleError> {
    let staged = super::states::batch_update_states(
        call,
        entries,
        |inner| {
            let k = offer_key(
                text(&inner.product_id),
                text(&inner.base_plan_id),
                text(&inner.offer_id),
            );
            let offer = m
                .subscription_offers
                .get(&k)
                .cloned()
                .ok_or_else(|| not_found(&k))?;
            Ok((k, offer))
        },
        |offer, _, to| {
            if to == BasePlanState::Inactive && offer.state != Some(BasePlanState::Active) {
                return Err(GoogleError::failed_precondition(
                    "Only an active offer can be deactivated.",
                ));
            }
            offer.state = Some(to);
            Ok(())
        },
    )?;
    Ok(store(m, staged))
}

/// `offers.batchUpdateStates`.
pub fn batch_update_states(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let entries = super::states::entries::<UpdateSubscriptionOfferStateRequest>(call)?;
    Ok(answer(change_states(call, m, entries)?))
}

/// `offers.delete`: only an offer that was never active.
pub fn delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let k = offer_key(
        call.param("productId"),
        call.param("basePlanId"),
        call.param("offerId"),
    );
    if !m.subscription_offers.contains_key(&k) {
        return Err(not_found(&k));
    }
    if m.ever_active_offers.contains(&k) {
        return Err(GoogleError::failed_precondition(format!(
            "{k} was published: only a draft offer can be deleted."
        )));
    }
    m.subscription_offers.remove(&k);
    Ok(Reply::Empty)
}

/// The offer of the path with the body's fields (ids from the path win).
fn path_offer(call: &Call, offer_id: &str) -> Result<SubscriptionOffer, GoogleError> {
    Ok(SubscriptionOffer {
        package_name: Some(call.param("packageName").to_string()),
        product_id: Some(call.param("productId").to_string()),
        base_plan_id: Some(call.param("basePlanId").to_string()),
        offer_id: Some(offer_id.to_string()),
        ..parse_body(&call.body)?
    })
}

/// The regions version of the query.
fn query_version(call: &Call) -> Option<RegionsVersion> {
    Some(RegionsVersion {
        version: call.query("regionsVersion.version").map(String::from),
    })
}

/// The one offer a one-entry write answered.
fn only(mut offers: Vec<SubscriptionOffer>) -> Result<Reply, GoogleError> {
    match offers.pop() {
        Some(o) => Ok(Reply::resource(&o)),
        None => Err(GoogleError::for_status(500)),
    }
}

/// `offers.create`: a new DRAFT offer (`offerId` and `regionsVersion.version` in the query);
/// `409` if it exists.
pub fn create(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let offer_id = call
        .query("offerId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| GoogleError::required("offerId"))?;
    let k = offer_key(call.param("productId"), call.param("basePlanId"), offer_id);
    if m.subscription_offers.contains_key(&k) {
        return Err(GoogleError::already_exists(format!(
            "Subscription offer already exists: {k}"
        )));
    }
    let request = UpdateSubscriptionOfferRequest {
        subscription_offer: Some(path_offer(call, offer_id)?),
        allow_missing: Some(true),
        regions_version: query_version(call),
        ..Default::default()
    };
    only(update(m, vec![request])?)
}

/// `offers.patch`: `updateMask`, `allowMissing`, `latencyTolerance` and
/// `regionsVersion.version` in the query.
pub fn patch(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let request = UpdateSubscriptionOfferRequest {
        subscription_offer: Some(path_offer(call, call.param("offerId"))?),
        allow_missing: Some(call.query_bool("allowMissing")?),
        regions_version: query_version(call),
        update_mask: call.query("updateMask").map(String::from),
        latency_tolerance: None,
    };
    only(update(m, vec![request])?)
}

/// `offers.activate` and `offers.deactivate`.
fn change_state(call: &Call, m: &mut Model, to: BasePlanState) -> Result<Reply, GoogleError> {
    let body: OfferStateRequest = parse_body(&call.body)?;
    let inner = OfferStateRequest {
        package_name: Some(call.param("packageName").to_string()),
        product_id: Some(call.param("productId").to_string()),
        base_plan_id: Some(call.param("basePlanId").to_string()),
        offer_id: Some(call.param("offerId").to_string()),
        latency_tolerance: body.latency_tolerance,
    };
    only(change_states(call, m, vec![(inner, to)])?)
}

/// `offers.activate`.
pub fn activate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    change_state(call, m, BasePlanState::Active)
}

/// `offers.deactivate`.
pub fn deactivate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    change_state(call, m, BasePlanState::Inactive)
}

/// `offers.batchGet`: 1–100 offers by `{productId, basePlanId, offerId}`, `404` for the
/// whole request if one is unknown.
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchGetSubscriptionOffersRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let offers = batch
        .requests
        .iter()
        .map(|r| {
            let k = offer_key(
                text(&r.product_id),
                text(&r.base_plan_id),
                text(&r.offer_id),
            );
            m.subscription_offers
                .get(&k)
                .cloned()
                .ok_or_else(|| not_found(&k))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(answer(offers))
}
