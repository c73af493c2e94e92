//! `monetization.onetimeproducts.purchaseOptions.offers`: list (`productId` and
//! `purchaseOptionId` may be `-`), batchGet, batchUpdate (≤ 100, `allowMissing`,
//! `updateMask`, all or nothing), batchUpdateStates (activate, deactivate, cancel),
//! batchDelete (drafts only) and the single activate, deactivate and cancel.
//!
//! Google's rules: an offer extends an existing purchase option; it is exactly one of a
//! discounted, a pre-order or a game reward offer, and that kind is immutable (so is a
//! pre-order's `priceChangeBehavior`); a pre-order needs start < end ≤ release; a
//! `redemptionLimit` is 0 (unlimited) to 50; each region is a region of the purchase option,
//! has an `availability` and exactly one of `absoluteDiscount` (in the region's currency,
//! below the option's price there), `relativeDiscount` (strictly between 0 and 1) and
//! `noOverride`; a region is never removed once added; at most 20 tags of 1–20 characters.
//! `state` is output only: new offers are DRAFT; DRAFT or INACTIVE → ACTIVE, ACTIVE →
//! INACTIVE, ACTIVE or INACTIVE → CANCELLED, and a cancelled offer stays cancelled.

use play_model::onetimeproducts::{
    Availability, BatchDeleteOneTimeProductOffersRequest, BatchGetOneTimeProductOffersRequest,
    BatchUpdateOneTimeProductOffersRequest, ListOneTimeProductOffersResponse, OfferState,
    OneTimeProductOffer, OneTimeProductOfferRequest, OneTimeProductOffersResponse,
    PriceChangeBehavior, UpdateOneTimeProductOfferStateRequest,
};
use play_model::pricing::RegionsVersion;

use super::inappproducts::{batch_size, check_latency};
use super::offers::staged_updates;
use super::onetimeproducts::{check_region_price, writable};
use super::{parse_body, Call, Reply};
use crate::catalog_file::Amount;
use crate::clock::parse_rfc3339;
use crate::error::GoogleError;
use crate::state::Model;

const MASKABLE: [&str; 5] = [
    "regionalPricingAndAvailabilityConfigs",
    "offerTags",
    "discountedOffer",
    "preOrderOffer",
    "gameRewardOffer",
];

/// The model's key of an offer.
pub fn key(product: &str, option: &str, offer: &str) -> String {
    format!("{product}/{option}/{offer}")
}

fn not_found(k: &str) -> GoogleError {
    GoogleError::not_found(format!("One-time product offer not found: {k}"))
}

/// An optional id (`""` when absent).
fn text(t: &Option<String>) -> &str {
    t.as_deref().unwrap_or_default()
}

/// The offer's kind (`discountedOffer`, `preOrderOffer`, `gameRewardOffer`) if exactly one.
fn kind(o: &OneTimeProductOffer) -> Result<&'static str, GoogleError> {
    let kinds = [
        ("discountedOffer", o.discounted_offer.is_some()),
        ("preOrderOffer", o.pre_order_offer.is_some()),
        ("gameRewardOffer", o.game_reward_offer.is_some()),
    ];
    match kinds.iter().filter(|(_, set)| *set).collect::<Vec<_>>()[..] {
        [(k, _)] => Ok(k),
        _ => Err(GoogleError::invalid(
            "An offer needs exactly one of discountedOffer, preOrderOffer, gameRewardOffer.",
        )),
    }
}

fn time(t: &Option<String>, field: &str, required: bool) -> Result<Option<i64>, GoogleError> {
    match t.as_deref() {
        None if required => Err(GoogleError::required(field)),
        None => Ok(None),
        Some(t) => parse_rfc3339(t)
            .map(Some)
            .ok_or_else(|| GoogleError::invalid(format!("{field} {t:?} is not an RFC 3339 time."))),
    }
}

fn redemption_limit(limit: Option<&str>) -> Result<(), GoogleError> {
    match limit.map(str::parse::<i64>) {
        None | Some(Ok(0..=50)) => Ok(()),
        Some(_) => Err(GoogleError::invalid(format!(
            "redemptionLimit {:?} must be between 0 (unlimited) and 50.",
            limit.unwrap_or_default()
        ))),
    }
}

fn check_kind(
    o: &OneTimeProductOffer,
    existing: Option<&OneTimeProductOffer>,
) -> Result<(), GoogleError> {
    let k = kind(o)?;
    if let Some(was) = existing.map(kind).transpose()?.filter(|was| *was != k) {
        return Err(GoogleError::invalid(format!(
            "The offer type is immutable: it is a {was}."
        )));
    }
    if let Some(d) = &o.discounted_offer {
        let start = time(&d.start_time, "startTime", false)?;
        let end = time(&d.end_time, "endTime", false)?;
        if let (Some(s), Some(e)) = (start, end) {
            if s >= e {
                return Err(GoogleError::invalid(
                    "discountedOffer.startTime must be before endTime.",
                ));
            }
        }
        return redemption_limit(d.redemption_limit.as_deref());
    }
    let Some(p) = &o.pre_order_offer else {
        let reward = o.game_reward_offer.as_ref();
        return redemption_limit(reward.and_then(|g| g["redemptionLimit"].as_str()));
    };
    let start = time(&p.start_time, "startTime", true)?;
    let end = time(&p.end_time, "endTime", true)?;
    let release = time(&p.release_time, "releaseTime", true)?;
    if !(start < end && end <= release) {
        return Err(GoogleError::invalid(
            "preOrderOffer needs startTime < endTime <= releaseTime.",
        ));
    }
    use PriceChangeBehavior::{NewOrdersOnly, TwoPointLowest};
    let behavior = p.price_change_behavior;
    if !matches!(behavior, Some(TwoPointLowest | NewOrdersOnly)) {
        return Err(GoogleError::required("preOrderOffer.priceChangeBehavior"));
    }
    let stored = existing.and_then(|e| e.pre_order_offer.as_ref());
    if stored.is_some_and(|s| s.price_change_behavior != behavior) {
        return Err(GoogleError::invalid(
            "preOrderOffer.priceChangeBehavior is immutable.",
        ));
    }
    Ok(())
}

/// Validates an offer against its purchase option and its stored version.
fn validate(
    mut o: OneTimeProductOffer,
    m: &Model,
    version: &str,
    existing: Option<&OneTimeProductOffer>,
) -> Result<OneTimeProductOffer, GoogleError> {
    let (product, option_id, offer_id) = (
        text(&o.product_id),
        text(&o.purchase_option_id),
        text(&o.offer_id),
    );
    if !play_model::ids::is_option_id(offer_id) {
        return Err(GoogleError::invalid(format!(
            "Invalid offer ID {offer_id:?}."
        )));
    }
    if o.package_name
        .as_deref()
        .is_some_and(|p| p != m.package_name)
    {
        return Err(GoogleError::invalid("packageName does not match the URL."));
    }
    let p = m
        .one_time_products
        .get(product)
        .ok_or_else(|| GoogleError::not_found(format!("One-time product not found: {product}")))?;
    let option = p.option(option_id).ok_or_else(|| {
        GoogleError::not_found(format!("Purchase option not found: {product}/{option_id}"))
    })?;
    check_kind(&o, existing)?;
    let mut seen = Vec::new();
    for (j, c) in o
        .regional_pricing_and_availability_configs
        .iter()
        .enumerate()
    {
        let field = format!("regionalPricingAndAvailabilityConfigs[{j}]");
        let region = text(&c.region_code);
        let option_config = option
            .regional_pricing_and_availability_configs
            .iter()
            .find(|c| c.region_code.as_deref() == Some(region))
            .ok_or_else(|| {
                GoogleError::invalid(format!(
                    "{field}: region {region:?} is not a region of purchase option {option_id}."
                ))
            })?;
        if seen.contains(&region) {
            return Err(GoogleError::invalid(format!(
                "{field}: duplicate region {region}."
            )));
        }
        seen.push(region);
        use Availability::{Available, NoLongerAvailable};
        if !matches!(c.availability, Some(Available | NoLongerAvailable)) {
            return Err(GoogleError::required(&format!("{field}.availability")));
        }
        let overrides = [
            c.absolute_discount.is_some(),
            c.relative_discount.is_some(),
            c.no_override.is_some(),
        ];
        if overrides.iter().filter(|set| **set).count() != 1 {
            return Err(GoogleError::invalid(format!(
                "{field} needs exactly one of absoluteDiscount, relativeDiscount, noOverride."
            )));
        }
        if c.relative_discount.is_some_and(|r| r <= 0.0 || r >= 1.0) {
            return Err(GoogleError::invalid(format!(
                "{field}.relativeDiscount must be strictly between 0 and 1."
            )));
        }
        if let Some(off) = &c.absolute_discount {
            let at = format!("{field}.absoluteDiscount");
            check_region_price(region, Some(off), version, &at)?;
            let micros = |m: &play_model::Money| Amount::of_money(m).map(|a| a.micros);
            let price = option_config.price.as_ref().and_then(micros);
            if price.is_some_and(|price| micros(off).is_some_and(|off| off >= price)) {
                return Err(GoogleError::invalid(format!(
                    "{at} must be less than the purchase option's price in {region}."
                )));
            }
        }
    }
    if let Some(gone) = existing
        .into_iter()
        .flat_map(|e| &e.regional_pricing_and_availability_configs)
        .filter_map(|c| c.region_code.as_deref())
        .find(|r| !seen.contains(r))
    {
        return Err(GoogleError::invalid(format!(
            "Cannot remove region once it has been added: {gone}"
        )));
    }
    super::offers::check_offer_tags(&o.offer_tags)?;
    o.package_name = Some(m.package_name.clone());
    o.regions_version = Some(RegionsVersion {
        version: Some(version.to_string()),
    });
    o.state = Some(existing.and_then(|e| e.state).unwrap_or(OfferState::Draft));
    writable(o)
}

/// Checks the path's `productId` and `purchaseOptionId` (`-` or entry `i`'s).
fn check_path(
    call: &Call,
    (product, option): (&Option<String>, &Option<String>),
    i: usize,
) -> Result<(), GoogleError> {
    for (f, id) in [("productId", product), ("purchaseOptionId", option)] {
        let p = call.param(f);
        if !matches!(p, "-" | "") && id.as_deref() != Some(p) {
            return Err(GoogleError::invalid(format!(
                "requests[{i}].{f} does not match the URL."
            )));
        }
    }
    Ok(())
}

/// `offers.list`: `-` for the product (then also the purchase option) lists across them.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    super::offers::list_offers::<ListOneTimeProductOffersResponse>(
        call,
        &m.one_time_offers,
        "purchaseOptionId",
        option_ids,
        "otpoffers",
    )
}

/// An offer's product and purchase option ids.
fn option_ids(o: &OneTimeProductOffer) -> (&str, &str) {
    (
        o.product_id.as_deref().unwrap_or_default(),
        o.purchase_option_id.as_deref().unwrap_or_default(),
    )
}

/// `offers.batchGet`: every offer or a 404 naming the first missing one.
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchGetOneTimeProductOffersRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let mut out = Vec::new();
    for (i, r) in batch.requests.iter().enumerate() {
        check_path(call, (&r.product_id, &r.purchase_option_id), i)?;
        let k = r.key();
        out.push(
            m.one_time_offers
                .get(&k)
                .cloned()
                .ok_or_else(|| not_found(&k))?,
        );
    }
    Ok(answer(out))
}

/// `BatchGetOneTimeProductOffersResponse`, `BatchUpdateOneTimeProductOffersResponse` and
/// `BatchUpdateOneTimeProductOfferStatesResponse`.
fn answer(one_time_product_offers: Vec<OneTimeProductOffer>) -> Reply {
    Reply::resource(&OneTimeProductOffersResponse {
        one_time_product_offers,
    })
}

/// Copies `field` (one of [`MASKABLE`]) of `body` into `base`: a masked update.
fn copy_field(base: &mut OneTimeProductOffer, body: &OneTimeProductOffer, field: &str) {
    match field {
        "regionalPricingAndAvailabilityConfigs" => {
            base.regional_pricing_and_availability_configs =
                body.regional_pricing_and_availability_configs.clone()
        }
        "offerTags" => base.offer_tags = body.offer_tags.clone(),
        "discountedOffer" => base.discounted_offer = body.discounted_offer.clone(),
        "preOrderOffer" => base.pre_order_offer = body.pre_order_offer.clone(),
        _ => base.game_reward_offer = body.game_reward_offer.clone(),
    }
}

/// `offers.batchUpdate`: every entry validated before any is stored.
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchUpdateOneTimeProductOffersRequest = parse_body(&call.body)?;
    for (i, r) in batch.requests.iter().enumerate() {
        let o = r.one_time_product_offer.clone().unwrap_or_default();
        check_path(call, (&o.product_id, &o.purchase_option_id), i)?;
    }
    let staged = staged_updates(
        batch.requests,
        &m.one_time_offers,
        ("One-time product offer", "oneTimeProductOffer.offerId"),
        |o| Some(o.key()),
        (&MASKABLE, copy_field),
        |_, merged, version, existing| validate(merged, m, version, existing),
    )?;
    let mut out = Vec::new();
    for (k, o) in staged {
        m.one_time_offers.insert(k, o.clone());
        out.push(o);
    }
    Ok(answer(out))
}

/// Moves `offer` to `to` under the state machine.
fn change(offer: &mut OneTimeProductOffer, to: OfferState) -> Result<(), GoogleError> {
    use OfferState::*;
    let from = offer.state.unwrap_or(Draft);
    let allowed = match to {
        Active => matches!(from, Draft | Inactive),
        Inactive => from == Active,
        _ => matches!(from, Active | Inactive),
    };
    if !allowed {
        let state = |s: OfferState| s.as_str().unwrap_or("STATE_UNSPECIFIED");
        return Err(GoogleError::failed_precondition(format!(
            "{}: a {} offer cannot become {}.",
            offer.key(),
            state(from),
            state(to)
        )));
    }
    offer.state = Some(to);
    Ok(())
}

fn store(m: &mut Model, k: String, o: OneTimeProductOffer) {
    if o.state.is_some_and(|s| s != OfferState::Draft) {
        m.ever_active_one_time_offers.insert(k.clone());
    }
    m.one_time_offers.insert(k, o);
}

/// `offers.batchUpdateStates`: activations, deactivations and cancellations, all or
/// nothing.
pub fn batch_update_states(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let staged = super::states::batch_update_states(
        call,
        super::states::entries::<UpdateOneTimeProductOfferStateRequest>(call)?,
        |inner| {
            let option = call.param("purchaseOptionId");
            if !matches!(option, "-" | "") && inner.purchase_option_id.as_deref() != Some(option) {
                return Err(GoogleError::invalid(
                    "purchaseOptionId does not match the URL.",
                ));
            }
            let k = inner.key();
            let offer = m
                .one_time_offers
                .get(&k)
                .cloned()
                .ok_or_else(|| not_found(&k))?;
            Ok((k, offer))
        },
        |offer, _, to| change(offer, to),
    )?;
    let mut out = Vec::new();
    for (k, o) in staged {
        out.push(o.clone());
        store(m, k, o);
    }
    Ok(answer(out))
}

fn set_state(call: &Call, m: &mut Model, to: OfferState) -> Result<Reply, GoogleError> {
    let body: OneTimeProductOfferRequest = parse_body(&call.body)?;
    check_latency(body.latency_tolerance)?;
    let k = key(
        call.param("productId"),
        call.param("purchaseOptionId"),
        call.param("offerId"),
    );
    let mut offer = m
        .one_time_offers
        .get(&k)
        .cloned()
        .ok_or_else(|| not_found(&k))?;
    change(&mut offer, to)?;
    let reply = Reply::resource(&offer);
    store(m, k, offer);
    Ok(reply)
}

/// `offers.activate`.
pub fn activate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, OfferState::Active)
}

/// `offers.deactivate`.
pub fn deactivate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, OfferState::Inactive)
}

/// `offers.cancel`.
pub fn cancel(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, OfferState::Cancelled)
}

/// `offers.batchDelete`: all or nothing, offers that were never active only.
pub fn batch_delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchDeleteOneTimeProductOffersRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let mut keys = Vec::new();
    for (i, r) in batch.requests.iter().enumerate() {
        check_latency(r.latency_tolerance)?;
        check_path(call, (&r.product_id, &r.purchase_option_id), i)?;
        let k = r.key();
        if !m.one_time_offers.contains_key(&k) {
            return Err(not_found(&k));
        }
        if m.ever_active_one_time_offers.contains(&k) {
            return Err(GoogleError::failed_precondition(format!(
                "{k} was published: only a draft offer can be deleted."
            )));
        }
        keys.push(k);
    }
    for k in keys {
        m.one_time_offers.remove(&k);
    }
    Ok(Reply::Empty)
}
