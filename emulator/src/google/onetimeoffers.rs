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

use serde_json::Value;

use super::inappproducts::check_tolerance;
use play_model::onetimeproducts::{
    ListOneTimeProductOffersResponse, OfferState, OneTimeProductOffer, OneTimeProductOffersResponse,
};

use play_model::pricing::RegionsVersion;

use super::onetimeproducts::{as_json, check_region_currency, requests, writable};
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

const KINDS: [&str; 3] = ["discountedOffer", "preOrderOffer", "gameRewardOffer"];

/// The model's key of an offer.
pub fn key(product: &str, option: &str, offer: &str) -> String {
    format!("{product}/{option}/{offer}")
}

fn not_found(k: &str) -> GoogleError {
    GoogleError::not_found(format!("One-time product offer not found: {k}"))
}

fn text<'a>(v: &'a Value, f: &str) -> &'a str {
    v[f].as_str().unwrap_or_default()
}

fn key_of(v: &Value) -> String {
    key(
        text(v, "productId"),
        text(v, "purchaseOptionId"),
        text(v, "offerId"),
    )
}

/// The offer's kind (`discountedOffer`, `preOrderOffer`, `gameRewardOffer`) if exactly one.
fn kind(o: &Value) -> Result<&'static str, GoogleError> {
    let set: Vec<&str> = KINDS
        .iter()
        .copied()
        .filter(|k| o[*k].is_object())
        .collect();
    match set[..] {
        [k] => Ok(k),
        _ => Err(GoogleError::invalid(
            "An offer needs exactly one of discountedOffer, preOrderOffer, gameRewardOffer.",
        )),
    }
}

fn time(v: &Value, field: &str, required: bool) -> Result<Option<i64>, GoogleError> {
    match v[field].as_str() {
        None if required => Err(GoogleError::required(field)),
        None => Ok(None),
        Some(t) => parse_rfc3339(t)
            .map(Some)
            .ok_or_else(|| GoogleError::invalid(format!("{field} {t:?} is not an RFC 3339 time."))),
    }
}

fn redemption_limit(v: &Value) -> Result<(), GoogleError> {
    let Some(limit) = v.get("redemptionLimit").filter(|l| !l.is_null()) else {
        return Ok(());
    };
    let n = limit
        .as_str()
        .and_then(|n| n.parse::<i64>().ok())
        .or_else(|| limit.as_i64());
    match n {
        Some(0..=50) => Ok(()),
        _ => Err(GoogleError::invalid(format!(
            "redemptionLimit {limit} must be between 0 (unlimited) and 50."
        ))),
    }
}

fn check_kind(o: &Value, existing: Option<&Value>) -> Result<(), GoogleError> {
    let k = kind(o)?;
    if let Some(e) = existing {
        if kind(e)? != k {
            return Err(GoogleError::invalid(format!(
                "The offer type is immutable: it is a {}.",
                kind(e)?
            )));
        }
    }
    match k {
        "discountedOffer" => {
            let d = &o[k];
            let start = time(d, "startTime", false)?;
            let end = time(d, "endTime", false)?;
            if let (Some(s), Some(e)) = (start, end) {
                if s >= e {
                    return Err(GoogleError::invalid(
                        "discountedOffer.startTime must be before endTime.",
                    ));
                }
            }
            redemption_limit(d)
        }
        "preOrderOffer" => {
            let p = &o[k];
            let start = time(p, "startTime", true)?;
            let end = time(p, "endTime", true)?;
            let release = time(p, "releaseTime", true)?;
            if !(start < end && end <= release) {
                return Err(GoogleError::invalid(
                    "preOrderOffer needs startTime < endTime <= releaseTime.",
                ));
            }
            let behavior = text(p, "priceChangeBehavior");
            if !matches!(
                behavior,
                "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_TWO_POINT_LOWEST"
                    | "PRE_ORDER_PRICE_CHANGE_BEHAVIOR_NEW_ORDERS_ONLY"
            ) {
                return Err(GoogleError::required("preOrderOffer.priceChangeBehavior"));
            }
            let stored = existing.map(|e| text(&e[k], "priceChangeBehavior"));
            if stored.is_some_and(|s| s != behavior) {
                return Err(GoogleError::invalid(
                    "preOrderOffer.priceChangeBehavior is immutable.",
                ));
            }
            Ok(())
        }
        _ => redemption_limit(&o[k]),
    }
}

/// Validates an offer against its purchase option and its stored version.
fn validate(
    o: Value,
    m: &Model,
    version: &str,
    existing: Option<&OneTimeProductOffer>,
) -> Result<OneTimeProductOffer, GoogleError> {
    let product = text(&o, "productId").to_string();
    let option_id = text(&o, "purchaseOptionId").to_string();
    let offer_id = text(&o, "offerId").to_string();
    if !play_model::ids::is_option_id(&offer_id) {
        return Err(GoogleError::invalid(format!(
            "Invalid offer ID {offer_id:?}."
        )));
    }
    if o["packageName"]
        .as_str()
        .is_some_and(|p| p != m.package_name)
    {
        return Err(GoogleError::invalid("packageName does not match the URL."));
    }
    let p = m
        .one_time_products
        .get(&product)
        .ok_or_else(|| GoogleError::not_found(format!("One-time product not found: {product}")))?;
    let option = p.option(&option_id).ok_or_else(|| {
        GoogleError::not_found(format!("Purchase option not found: {product}/{option_id}"))
    })?;
    check_kind(&o, existing.map(as_json).as_ref())?;
    let configs = o["regionalPricingAndAvailabilityConfigs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut seen = Vec::new();
    for (j, c) in configs.iter().enumerate() {
        let field = format!("regionalPricingAndAvailabilityConfigs[{j}]");
        let region = text(c, "regionCode");
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
        if !matches!(text(c, "availability"), "AVAILABLE" | "NO_LONGER_AVAILABLE") {
            return Err(GoogleError::required(&format!("{field}.availability")));
        }
        let set = ["absoluteDiscount", "relativeDiscount", "noOverride"]
            .iter()
            .filter(|k| !c[**k].is_null())
            .count();
        if set != 1 {
            return Err(GoogleError::invalid(format!(
                "{field} needs exactly one of absoluteDiscount, relativeDiscount, noOverride."
            )));
        }
        if let Some(r) = c.get("relativeDiscount").filter(|r| !r.is_null()) {
            if !r.as_f64().is_some_and(|f| f > 0.0 && f < 1.0) {
                return Err(GoogleError::invalid(format!(
                    "{field}.relativeDiscount must be strictly between 0 and 1."
                )));
            }
        }
        if c["absoluteDiscount"].is_object() {
            check_region_currency(
                region,
                &c["absoluteDiscount"],
                version,
                &format!("{field}.absoluteDiscount"),
            )?;
            let off = Amount::from_money(&c["absoluteDiscount"]).map(|a| a.micros);
            let price = option_config
                .price
                .as_ref()
                .and_then(Amount::of_money)
                .map(|a| a.micros);
            if let (Some(off), Some(price)) = (off, price) {
                if off >= price {
                    return Err(GoogleError::invalid(format!(
                        "{field}.absoluteDiscount must be less than the purchase option's price in {region}."
                    )));
                }
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
    let mut typed: OneTimeProductOffer = parse_body(&o)?;
    super::offers::check_offer_tags(&typed.offer_tags)?;
    typed.package_name = Some(m.package_name.clone());
    typed.regions_version = Some(RegionsVersion {
        version: Some(version.to_string()),
    });
    typed.state = Some(existing.and_then(|e| e.state).unwrap_or(OfferState::Draft));
    writable(typed)
}

/// Checks the path's `productId` and `purchaseOptionId` (`-` or the entry's).
fn check_path(call: &Call, entry: &Value, i: usize) -> Result<(), GoogleError> {
    for f in ["productId", "purchaseOptionId"] {
        let p = call.param(f);
        if !matches!(p, "-" | "") && entry[f] != p {
            return Err(GoogleError::invalid(format!(
                "requests[{i}].{f} does not match the URL."
            )));
        }
    }
    Ok(())
}

/// `offers.list`: `-` for the product (then also the purchase option) lists across them.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let (one_time_product_offers, next_page_token) = super::offers::list_offers(
        call,
        &m.one_time_offers,
        "purchaseOptionId",
        option_ids,
        "otpoffers",
    )?;
    Ok(Reply::resource(&ListOneTimeProductOffersResponse {
        one_time_product_offers,
        next_page_token,
    }))
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
    let mut out = Vec::new();
    for (i, r) in requests(call)?.iter().enumerate() {
        check_path(call, r, i)?;
        let k = key_of(r);
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

/// `offers.batchUpdate`: every entry validated before any is stored.
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let staged = super::offers::staged_offer_updates(
        call,
        ("oneTimeProductOffer", "One-time product offer"),
        &m.one_time_offers,
        key_of,
        &MASKABLE,
        |merged, version, w| {
            check_path(call, w.request, w.index)?;
            validate(merged, m, version, w.existing)
        },
    )?;
    let mut out = Vec::new();
    for (k, o) in staged {
        m.one_time_offers.insert(k, o.clone());
        out.push(o);
    }
    Ok(answer(out))
}

/// Moves `offer` to `to` under the state machine.
fn change(offer: &mut OneTimeProductOffer, to: &str) -> Result<(), GoogleError> {
    use OfferState::*;
    let from = offer.state.unwrap_or(Draft);
    let allowed = match to {
        "ACTIVE" => matches!(from, Draft | Inactive),
        "INACTIVE" => from == Active,
        _ => matches!(from, Active | Inactive),
    };
    if !allowed {
        return Err(GoogleError::failed_precondition(format!(
            "{}: a {} offer cannot become {to}.",
            offer.key(),
            from.as_str().unwrap_or("STATE_UNSPECIFIED")
        )));
    }
    offer.state = Some(OfferState::from_wire(to));
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
        super::states::json_entries(
            call,
            &[
                ("activateOneTimeProductOfferRequest", "ACTIVE"),
                ("deactivateOneTimeProductOfferRequest", "INACTIVE"),
                ("cancelOneTimeProductOfferRequest", "CANCELLED"),
            ],
        )?,
        |inner| {
            let option = call.param("purchaseOptionId");
            if !matches!(option, "-" | "") && inner["purchaseOptionId"] != option {
                return Err(GoogleError::invalid(
                    "purchaseOptionId does not match the URL.",
                ));
            }
            let k = key_of(inner);
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

fn set_state(call: &Call, m: &mut Model, to: &str) -> Result<Reply, GoogleError> {
    check_tolerance(call.body["latencyTolerance"].as_str())?;
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
    set_state(call, m, "ACTIVE")
}

/// `offers.deactivate`.
pub fn deactivate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, "INACTIVE")
}

/// `offers.cancel`.
pub fn cancel(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, "CANCELLED")
}

/// `offers.batchDelete`: all or nothing, offers that were never active only.
pub fn batch_delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let mut keys = Vec::new();
    for (i, r) in requests(call)?.iter().enumerate() {
        check_tolerance(r["latencyTolerance"].as_str())?;
        check_path(call, r, i)?;
        let k = key_of(r);
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
