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

use serde_json::{json, Value};

use super::inappproducts::{batch_size, check_tolerance};
use super::onetimeproducts::{check_region_currency, masked_merge};
use super::{Call, Reply};
use crate::catalog_file::find_by;
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

/// The model's key of an offer.
pub fn key(product: &str, base_plan: &str, offer: &str) -> String {
    format!("{product}/{base_plan}/{offer}")
}

fn not_found(k: &str) -> GoogleError {
    GoogleError::not_found(format!("Subscription offer not found: {k}"))
}

fn regions(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["regionCode"].as_str().map(String::from))
        .collect()
}

/// Google's limit on an offer's `offerTags` (subscription and one-time offers alike): at
/// most 20 tags of 1–20 characters.
pub fn check_offer_tags(o: &Value) -> Result<(), GoogleError> {
    let tags = o["offerTags"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if tags.len() > 20
        || tags.iter().any(|t| {
            t["tag"]
                .as_str()
                .is_none_or(|t| t.is_empty() || t.len() > 20)
        })
    {
        return Err(GoogleError::invalid(
            "At most 20 offer tags of 1-20 characters.",
        ));
    }
    Ok(())
}

/// Validates an offer against its base plan and its stored version.
fn validate(
    mut o: Value,
    m: &Model,
    version: &str,
    existing: Option<&Value>,
) -> Result<Value, GoogleError> {
    let product = o["productId"].as_str().unwrap_or_default().to_string();
    let plan_id = o["basePlanId"].as_str().unwrap_or_default().to_string();
    let offer_id = o["offerId"].as_str().unwrap_or_default().to_string();
    if !play_model::ids::is_option_id(&offer_id) {
        return Err(GoogleError::invalid(format!(
            "Invalid offer ID {offer_id:?}."
        )));
    }
    let sub = m
        .subscriptions
        .get(&product)
        .ok_or_else(|| GoogleError::not_found(format!("Subscription not found: {product}")))?;
    let plan = find_by(&sub["basePlans"], "basePlanId", &plan_id).ok_or_else(|| {
        GoogleError::not_found(format!("Base plan not found: {product}/{plan_id}"))
    })?;
    if !plan["autoRenewingBasePlanType"].is_object() {
        return Err(GoogleError::invalid(format!(
            "Offers are only allowed on auto-renewing base plans ({product}/{plan_id})."
        )));
    }
    let plan_regions = regions(&plan["regionalConfigs"]);
    let offer_regions = regions(&o["regionalConfigs"]);
    if let Some(r) = offer_regions.iter().find(|r| !plan_regions.contains(r)) {
        return Err(GoogleError::invalid(format!(
            "Region {r} of the offer is not a region of base plan {plan_id}."
        )));
    }
    if let Some(gone) = existing
        .map(|e| regions(&e["regionalConfigs"]))
        .into_iter()
        .flatten()
        .find(|r| !offer_regions.contains(r))
    {
        return Err(GoogleError::invalid(format!(
            "Cannot remove region once it has been added: {gone}"
        )));
    }
    let phases = o["phases"].as_array().cloned().unwrap_or_default();
    if phases.is_empty() || phases.len() > 2 {
        return Err(GoogleError::invalid("An offer has one or two phases."));
    }
    for (i, p) in phases.iter().enumerate() {
        let duration = p["duration"].as_str().unwrap_or_default();
        if Period::parse(duration).is_none() {
            return Err(GoogleError::invalid(format!(
                "phases[{i}].duration {duration:?} is invalid."
            )));
        }
        for (j, c) in p["regionalConfigs"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let region = c["regionCode"].as_str().unwrap_or_default();
            if !offer_regions.iter().any(|r| r == region) {
                return Err(GoogleError::invalid(format!(
                    "phases[{i}].regionalConfigs[{j}]: region {region:?} is not a region of the offer."
                )));
            }
            let kinds = ["free", "price", "absoluteDiscount", "relativeDiscount"]
                .iter()
                .filter(|k| !c[**k].is_null())
                .count();
            if kinds != 1 {
                return Err(GoogleError::invalid(format!(
                    "phases[{i}].regionalConfigs[{j}] needs exactly one of free, price, absoluteDiscount, relativeDiscount."
                )));
            }
            if c["price"].is_object() {
                check_region_currency(
                    region,
                    &c["price"],
                    version,
                    &format!("phases[{i}].regionalConfigs[{j}].price"),
                )?;
            }
        }
    }
    check_offer_tags(&o)?;
    o["packageName"] = json!(m.package_name);
    o["state"] = existing
        .and_then(|e| e.get("state").cloned())
        .unwrap_or_else(|| json!("DRAFT"));
    Ok(o)
}

/// `offers.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let k = key(
        call.param("productId"),
        call.param("basePlanId"),
        call.param("offerId"),
    );
    m.subscription_offers
        .get(&k)
        .cloned()
        .map(Reply::Json)
        .ok_or_else(|| not_found(&k))
}

/// The shared `list` of the two offer collections: `productId` and the parent (`parent`:
/// `basePlanId` or `purchaseOptionId`) may be `-` (the parent must be when the product is),
/// one page of `stored` under `list_key` (`token` prefixes page tokens).
pub(crate) fn list_offers<T: Clone>(
    call: &Call,
    stored: &std::collections::BTreeMap<String, T>,
    parent: &str,
    ids: impl Fn(&T) -> (&str, &str),
    token: &str,
) -> Result<(Vec<T>, Option<String>), GoogleError> {
    let product = call.param("productId");
    let parent_id = call.param(parent);
    if product == "-" && parent_id != "-" {
        return Err(GoogleError::invalid(format!(
            "{parent} must be - when productId is -."
        )));
    }
    let matching: std::collections::BTreeMap<String, T> = stored
        .iter()
        .filter(|(_, o)| {
            let (p, q) = ids(o);
            (product == "-" || p == product) && (parent_id == "-" || q == parent_id)
        })
        .map(|(k, o)| (k.clone(), o.clone()))
        .collect();
    super::monetization::page_of(call, &matching, token)
}

/// A subscription offer's product and base plan ids.
fn plan_ids(o: &Value) -> (&str, &str) {
    let text = |f: &str| o[f].as_str().unwrap_or_default();
    (text("productId"), text("basePlanId"))
}

/// `offers.list`: `-` for the product or base plan lists across them.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let (offers, next) = list_offers(
        call,
        &m.subscription_offers,
        "basePlanId",
        plan_ids,
        "offers",
    )?;
    Ok(super::monetization::page_reply(
        "subscriptionOffers",
        offers,
        next,
    ))
}

/// One offer write of a batch: the request, its index and the stored offer.
pub(crate) struct OfferWrite<'a, T> {
    /// The request entry.
    pub request: &'a Value,
    /// Its index in the batch.
    pub index: usize,
    /// The stored offer, if any.
    pub existing: Option<&'a T>,
}

/// The shared loop of the two offer `batchUpdate` methods: 1–100 entries, each with its
/// latency tolerance and regions version, no offer twice, `allowMissing` creates, a masked
/// update merges over the stored offer (fields in `maskable`), `validate` checks the result
/// (its error prefixed with the entry); nothing is stored. `body_key` names the resource in
/// each request, `what` it for people, `key_of` gives an offer's model key, `stored` holds
/// the offers.
pub(crate) fn staged_offer_updates<T: serde::Serialize>(
    call: &Call,
    (body_key, what): (&str, &str),
    stored: &std::collections::BTreeMap<String, T>,
    key_of: impl Fn(&Value) -> String,
    maskable: &[&str],
    mut validate: impl FnMut(Value, &str, &OfferWrite<T>) -> Result<T, GoogleError>,
) -> Result<Vec<(String, T)>, GoogleError> {
    let requests = call.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    batch_size(requests.len())?;
    let mut staged: Vec<(String, T)> = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        check_tolerance(r["latencyTolerance"].as_str())?;
        let body = &r[body_key];
        let k = key_of(body);
        let version = r["regionsVersion"]["version"]
            .as_str()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                GoogleError::required(&format!("requests[{i}].regionsVersion.version"))
            })?;
        if staged.iter().any(|(s, _)| *s == k) {
            return Err(GoogleError::invalid(format!(
                "requests[{i}]: {k} appears twice."
            )));
        }
        let existing = stored.get(&k);
        let merged = match existing {
            None if r["allowMissing"] == true => body.clone(),
            None => return Err(GoogleError::not_found(format!("{what} not found: {k}"))),
            Some(e) => masked_merge(
                serde_json::to_value(e).unwrap_or_default(),
                body,
                r["updateMask"].as_str(),
                maskable,
            )?,
        };
        let write = OfferWrite {
            request: body,
            index: i,
            existing,
        };
        let offer = validate(merged, version, &write).map_err(|mut e| {
            e.message = format!("requests[{i}] ({k}): {}", e.message);
            e
        })?;
        staged.push((k, offer));
    }
    Ok(staged)
}

/// `offers.batchUpdate`: every entry validated before any is stored.
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let key_of = |o: &Value| {
        let text = |f: &str| o[f].as_str().unwrap_or_default().to_string();
        key(&text("productId"), &text("basePlanId"), &text("offerId"))
    };
    let staged = staged_offer_updates(
        call,
        ("subscriptionOffer", "Subscription offer"),
        &m.subscription_offers,
        key_of,
        &MASKABLE,
        |merged, version, w| validate(merged, m, version, w.existing),
    )?;
    let mut out = Vec::new();
    for (k, o) in staged {
        m.subscription_offers.insert(k, o.clone());
        out.push(o);
    }
    Ok(Reply::Json(json!({ "subscriptionOffers": out })))
}

/// `offers.batchUpdateStates`: DRAFT/INACTIVE → ACTIVE, ACTIVE → INACTIVE; all or nothing.
pub fn batch_update_states(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let staged = super::states::batch_update_states(
        call,
        &[
            ("activateSubscriptionOfferRequest", "ACTIVE"),
            ("deactivateSubscriptionOfferRequest", "INACTIVE"),
        ],
        |inner| {
            let text = |f: &str| inner[f].as_str().unwrap_or_default();
            let k = key(text("productId"), text("basePlanId"), text("offerId"));
            let offer = m
                .subscription_offers
                .get(&k)
                .cloned()
                .ok_or_else(|| not_found(&k))?;
            Ok((k, offer))
        },
        |offer, _, to| {
            if to == "INACTIVE" && offer["state"] != "ACTIVE" {
                return Err(GoogleError::failed_precondition(
                    "Only an active offer can be deactivated.",
                ));
            }
            offer["state"] = json!(to);
            Ok(())
        },
    )?;
    let mut out = Vec::new();
    for (k, o) in staged {
        if o["state"] == "ACTIVE" {
            m.ever_active_offers.insert(k.clone());
        }
        m.subscription_offers.insert(k, o.clone());
        out.push(o);
    }
    Ok(Reply::Json(json!({ "subscriptionOffers": out })))
}

/// `offers.delete`: only an offer that was never active.
pub fn delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let k = key(
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

/// The same call with another body: the single-offer methods run as one-entry batches.
fn as_batch(call: &Call, body: Value) -> Call {
    Call {
        params: call.params.clone(),
        query: call.query.clone(),
        body,
    }
}

/// The offer of the path with the body's fields (ids from the path win).
fn path_offer(call: &Call, offer_id: &str) -> Value {
    let mut offer = if call.body.is_object() {
        call.body.clone()
    } else {
        json!({})
    };
    offer["packageName"] = json!(call.param("packageName"));
    offer["productId"] = json!(call.param("productId"));
    offer["basePlanId"] = json!(call.param("basePlanId"));
    offer["offerId"] = json!(offer_id);
    offer
}

/// The one offer a one-entry batch answered.
fn only(reply: Reply) -> Result<Reply, GoogleError> {
    match reply {
        Reply::Json(mut v) => Ok(Reply::Json(v["subscriptionOffers"][0].take())),
        Reply::Empty => Err(GoogleError::for_status(500)),
    }
}

/// `offers.create`: a new DRAFT offer (`offerId` and `regionsVersion.version` in the query);
/// `409` if it exists.
pub fn create(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let offer_id = call
        .query("offerId")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| GoogleError::required("offerId"))?;
    let k = key(call.param("productId"), call.param("basePlanId"), offer_id);
    if m.subscription_offers.contains_key(&k) {
        return Err(GoogleError::already_exists(format!(
            "Subscription offer already exists: {k}"
        )));
    }
    let body = json!({ "requests": [{
        "subscriptionOffer": path_offer(call, offer_id),
        "allowMissing": true,
        "regionsVersion": { "version": call.query("regionsVersion.version") },
    }] });
    only(batch_update(&as_batch(call, body), m)?)
}

/// `offers.patch`: `updateMask`, `allowMissing`, `latencyTolerance` and
/// `regionsVersion.version` in the query.
pub fn patch(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let mut request = json!({
        "subscriptionOffer": path_offer(call, call.param("offerId")),
        "allowMissing": call.query_bool("allowMissing")?,
        "regionsVersion": { "version": call.query("regionsVersion.version") },
    });
    if let Some(mask) = call.query("updateMask") {
        request["updateMask"] = json!(mask);
    }
    if let Some(t) = call.query("latencyTolerance") {
        request["latencyTolerance"] = json!(t);
    }
    only(batch_update(
        &as_batch(call, json!({ "requests": [request] })),
        m,
    )?)
}

/// `offers.activate` and `offers.deactivate` (`kind` is the batch entry's request name).
fn change_state(call: &Call, m: &mut Model, kind: &str) -> Result<Reply, GoogleError> {
    let mut inner = json!({
        "packageName": call.param("packageName"),
        "productId": call.param("productId"),
        "basePlanId": call.param("basePlanId"),
        "offerId": call.param("offerId"),
    });
    if let Some(t) = call.body["latencyTolerance"].as_str() {
        inner["latencyTolerance"] = json!(t);
    }
    let body = json!({ "requests": [{ kind: inner }] });
    only(batch_update_states(&as_batch(call, body), m)?)
}

/// `offers.activate`.
pub fn activate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    change_state(call, m, "activateSubscriptionOfferRequest")
}

/// `offers.deactivate`.
pub fn deactivate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    change_state(call, m, "deactivateSubscriptionOfferRequest")
}

/// `offers.batchGet`: 1–100 offers by `{productId, basePlanId, offerId}`, `404` for the
/// whole request if one is unknown.
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let offers = super::onetimeproducts::requests(call)?
        .iter()
        .map(|r| {
            let text = |f: &str| r[f].as_str().unwrap_or_default();
            let k = key(text("productId"), text("basePlanId"), text("offerId"));
            m.subscription_offers
                .get(&k)
                .cloned()
                .ok_or_else(|| not_found(&k))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::Json(json!({ "subscriptionOffers": offers })))
}
