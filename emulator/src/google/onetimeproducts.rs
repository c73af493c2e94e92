//! `monetization.onetimeproducts` (the new one-time product model): get, list (`pageSize`
//! ≤ 1000, `pageToken`), patch (`updateMask`, `allowMissing`, `regionsVersion.version`;
//! Google's path spells it `onetimeproducts`, every other method `oneTimeProducts`: both
//! spellings are routed), delete, batchGet / batchUpdate / batchDelete (1–100 entries, all or
//! nothing), `purchaseOptions.batchUpdateStates` (`productId` `-` for many products) and
//! `pricing:convertRegionPrices`.
//!
//! Google's refusals: an invalid id or listing, more than one legacy-compatible buy option,
//! a currency that is not the region's at the regions version ("Invalid currency for region
//! code BG … Expected BGN but got EUR"), removing a region once added, removing a published
//! purchase option, deleting a product whose options were ever active. Purchase option
//! `state` is output only: new options start DRAFT.

use play_model::onetimeproducts::{
    ListOneTimeProductsResponse, OneTimeProduct, OneTimeProductsResponse, PurchaseOptionState,
};
use play_model::pricing::{
    ConvertRegionPricesRequest, ConvertRegionPricesResponse, ConvertedOtherRegionsPrice,
    ConvertedRegionPrice, RegionsVersion,
};
use play_model::Money;
use serde_json::Value;

use super::inappproducts::{batch_size, check_identity, check_tolerance, refuse_twice};
use super::{parse_body, Call, Reply};
use crate::catalog_file::{convert, region_currency, Amount, LATEST_REGIONS_VERSION};
use crate::catalog_views::store_one_time;
use crate::clock::Period;
use crate::error::GoogleError;
use crate::state::Model;

const MASKABLE: [&str; 5] = [
    "listings",
    "purchaseOptions",
    "taxAndComplianceSettings",
    "offerTags",
    "restrictedPaymentCountries",
];

const AVAILABILITIES: [&str; 4] = [
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "AVAILABLE_IF_RELEASED",
    "AVAILABLE_FOR_OFFERS_ONLY",
];

fn not_found(id: &str) -> GoogleError {
    GoogleError::not_found(format!("One-time product not found: {id}"))
}

/// Refuses a price whose currency is not its region's at `version` ("Invalid currency for
/// region code BG …"); regions the emulator does not know take any currency.
pub(crate) fn check_region_currency(
    region: &str,
    price: &Value,
    version: &str,
    field: &str,
) -> Result<(), GoogleError> {
    let money = serde_json::from_value::<Money>(price.clone()).ok();
    check_region_price(region, money.as_ref(), version, field)
}

/// [`check_region_currency`] of a typed price.
pub(crate) fn check_region_price(
    region: &str,
    price: Option<&Money>,
    version: &str,
    field: &str,
) -> Result<(), GoogleError> {
    let amount = price
        .and_then(Amount::of_money)
        .filter(|a| a.micros >= 0)
        .ok_or_else(|| {
            GoogleError::invalid(format!(
                "{field}: a Money with a currencyCode and non-negative units is required."
            ))
        })?;
    match region_currency(region, version) {
        Some(expected) if expected != amount.currency() => Err(GoogleError::invalid(format!(
            "Invalid currency for region code {region} at regions version {version}. Expected {expected} but got {}.",
            amount.currency()
        ))),
        _ => Ok(()),
    }
}

/// Region codes of a purchase option or base plan list entry.
fn regions(entry: &Value, key: &str) -> Vec<String> {
    entry[key]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["regionCode"].as_str().map(String::from))
        .collect()
}

/// Validates a `OneTimeProduct` against `existing`: options keep their stored state (new
/// ones DRAFT), regions and published options are never removed.
fn validate(
    mut p: Value,
    id: &str,
    m: &Model,
    version: &str,
    existing: Option<&OneTimeProduct>,
) -> Result<OneTimeProduct, GoogleError> {
    let Some(obj) = p.as_object_mut() else {
        return Err(GoogleError::invalid(
            "The one-time product must be a JSON object.",
        ));
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    check_identity(
        (text("productId"), text("packageName")),
        id,
        &m.package_name,
    )?;
    if m.subscriptions.contains_key(id) {
        return Err(GoogleError::already_exists(format!(
            "{id} is a subscription."
        )));
    }
    let listings = obj
        .get("listings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if listings.is_empty() {
        return Err(GoogleError::invalid("At least one listing is required."));
    }
    for (i, l) in listings.iter().enumerate() {
        let title = l["title"].as_str().unwrap_or_default();
        if l["languageCode"].as_str().is_none_or(str::is_empty) || title.is_empty() {
            return Err(GoogleError::invalid(format!(
                "listings[{i}] needs a languageCode and a title."
            )));
        }
        if title.chars().count() > 55 {
            return Err(GoogleError::invalid(format!(
                "listings[{i}].title is longer than 55 characters."
            )));
        }
        if l["description"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .count()
            > 200
        {
            return Err(GoogleError::invalid(format!(
                "listings[{i}].description is longer than 200 characters."
            )));
        }
    }
    let options = obj
        .get("purchaseOptions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut ids = std::collections::BTreeSet::new();
    let mut legacy = 0;
    for (i, o) in options.iter().enumerate() {
        let oid = o["purchaseOptionId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if !play_model::ids::is_option_id(&oid) {
            return Err(GoogleError::invalid(format!(
                "purchaseOptions[{i}].purchaseOptionId {oid:?} is invalid."
            )));
        }
        if !ids.insert(oid.clone()) {
            return Err(GoogleError::invalid(format!(
                "purchaseOptions[{i}]: duplicate purchaseOptionId {oid}."
            )));
        }
        if o["buyOption"].is_object() == o["rentOption"].is_object() {
            return Err(GoogleError::invalid(format!(
                "purchaseOptions[{i}] needs exactly one of buyOption and rentOption."
            )));
        }
        if o["buyOption"]["legacyCompatible"] == true {
            legacy += 1;
        }
        if o["rentOption"].is_object() {
            let rent = &o["rentOption"];
            for (f, required) in [("rentalPeriod", true), ("expirationPeriod", false)] {
                match rent[f].as_str() {
                    None if !required => {}
                    Some(d) if Period::parse(d).is_some() => {}
                    _ => {
                        return Err(GoogleError::invalid(format!(
                            "purchaseOptions[{i}].rentOption.{f} must be an ISO 8601 duration."
                        )))
                    }
                }
            }
        }
        for (j, c) in o["regionalPricingAndAvailabilityConfigs"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let field = format!("purchaseOptions[{i}].regionalPricingAndAvailabilityConfigs[{j}]");
            let region = c["regionCode"]
                .as_str()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| GoogleError::required(&format!("{field}.regionCode")))?;
            if c["availability"]
                .as_str()
                .is_some_and(|a| !AVAILABILITIES.contains(&a))
            {
                return Err(GoogleError::invalid(format!(
                    "{field}.availability is invalid."
                )));
            }
            check_region_currency(region, &c["price"], version, &format!("{field}.price"))?;
        }
        if let Some(stored) = existing.and_then(|e| e.option(&oid)) {
            if stored.rent_option.is_some() != o["rentOption"].is_object() {
                return Err(GoogleError::invalid(format!(
                    "purchaseOptions[{i}]: the purchase option type (buy or rent) of {oid} is immutable."
                )));
            }
            let now = regions(o, "regionalPricingAndAvailabilityConfigs");
            if let Some(gone) = stored
                .regions()
                .into_iter()
                .find(|r| !now.iter().any(|n| n == r))
            {
                return Err(GoogleError::invalid(format!(
                    "Cannot remove region once it has been added: {gone}"
                )));
            }
        }
    }
    if legacy > 1 {
        return Err(GoogleError::invalid(
            "At most one buy purchase option can be legacy compatible.",
        ));
    }
    let stored = existing.into_iter().flat_map(|e| &e.purchase_options);
    refuse_removed_published(
        stored.map(|o| (o.id(), o.state != Some(PurchaseOptionState::Draft))),
        &ids,
        "Purchase option",
    )?;
    let mut typed: OneTimeProduct = parse_body(&p)?;
    typed.product_id = Some(id.to_string());
    typed.package_name = Some(m.package_name.clone());
    typed.regions_version = Some(RegionsVersion {
        version: Some(version.to_string()),
    });
    for o in &mut typed.purchase_options {
        let stored = existing
            .and_then(|e| e.option(o.id()))
            .and_then(|s| s.state);
        o.state = Some(stored.unwrap_or(PurchaseOptionState::Draft));
    }
    writable(typed)
}

/// Refuses an update that drops a published entry (`stored`: each stored entry's id and
/// whether it was published) whose id is not `kept`.
pub(crate) fn refuse_removed_published<'a>(
    stored: impl Iterator<Item = (&'a str, bool)>,
    kept: &std::collections::BTreeSet<String>,
    what: &str,
) -> Result<(), GoogleError> {
    for (id, published) in stored {
        if published && !kept.contains(id) {
            return Err(GoogleError::failed_precondition(format!(
                "{what} {id} was published and cannot be removed; deactivate it instead."
            )));
        }
    }
    Ok(())
}

/// The fields of an `updateMask` (comma-separated): non-empty, each one of `maskable`.
pub(crate) fn mask_fields<'a>(
    mask: Option<&'a str>,
    maskable: &[&str],
) -> Result<Vec<&'a str>, GoogleError> {
    let fields: Vec<&str> = mask
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .collect();
    if fields.is_empty() {
        return Err(GoogleError::required("updateMask"));
    }
    if let Some(bad) = fields.iter().find(|f| !maskable.contains(f)) {
        return Err(GoogleError::invalid(format!(
            "updateMask: field {bad:?} cannot be updated."
        )));
    }
    Ok(fields)
}

/// A typed masked update: `copy` takes each field of `mask` from `body` into `base`.
pub(crate) fn masked_update<T>(
    mut base: T,
    body: &T,
    mask: Option<&str>,
    maskable: &[&str],
    copy: impl Fn(&mut T, &T, &str),
) -> Result<T, GoogleError> {
    for field in mask_fields(mask, maskable)? {
        copy(&mut base, body, field);
    }
    Ok(base)
}

/// `base` with each field of `mask` (comma-separated) taken from `body`, or removed when
/// `body` lacks it: Google's masked update. The mask must be non-empty and name only
/// `maskable` fields.
pub(crate) fn masked_merge(
    mut base: Value,
    body: &Value,
    mask: Option<&str>,
    maskable: &[&str],
) -> Result<Value, GoogleError> {
    for f in mask_fields(mask, maskable)? {
        match body.get(f) {
            Some(v) => base[f] = v.clone(),
            None => {
                if let Some(o) = base.as_object_mut() {
                    o.remove(f);
                }
            }
        }
    }
    Ok(base)
}

/// One update of a product (patch or a batchUpdate entry), not yet stored. The masked
/// merge and the checks read the JSON a client wrote (Google's messages name its fields);
/// the result is stored as a `OneTimeProduct`, whose `extra` keeps fields this model does
/// not name.
fn updated(
    m: &Model,
    id: &str,
    body: &Value,
    mask: Option<&str>,
    allow_missing: bool,
    version: Option<&str>,
) -> Result<OneTimeProduct, GoogleError> {
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| GoogleError::required("regionsVersion.version"))?;
    let existing = m.one_time_products.get(id);
    let merged = match existing {
        None if allow_missing => body.clone(),
        None => return Err(not_found(id)),
        Some(e) => masked_merge(as_json(e), body, mask, &MASKABLE)?,
    };
    validate(merged, id, m, version, existing)
}

/// A stored resource as JSON (the form a masked merge works on).
pub(crate) fn as_json(resource: &impl serde::Serialize) -> Value {
    serde_json::to_value(resource).unwrap_or_default()
}

/// A checked resource, refused when it holds an enum value Google does not define (it
/// could not be written back).
pub(crate) fn writable<T: serde::Serialize>(resource: T) -> Result<T, GoogleError> {
    serde_json::to_value(&resource).map_err(|e| GoogleError::invalid(e.to_string()))?;
    Ok(resource)
}

/// `monetization.onetimeproducts.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("productId");
    m.one_time_products
        .get(id)
        .map(Reply::resource)
        .ok_or_else(|| not_found(id))
}

/// `monetization.onetimeproducts.list`.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let (one_time_products, next_page_token) =
        super::monetization::page_of(call, &m.one_time_products, "otp")?;
    Ok(Reply::resource(&ListOneTimeProductsResponse {
        one_time_products,
        next_page_token,
    }))
}

/// `monetization.onetimeproducts.patch`.
pub fn patch(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let id = call.param("productId").to_string();
    let p = updated(
        m,
        &id,
        &call.body,
        call.query("updateMask"),
        call.query_bool("allowMissing")?,
        call.query("regionsVersion.version"),
    )?;
    let reply = Reply::resource(&p);
    store_one_time(m, id, p);
    Ok(reply)
}

fn deletable(m: &Model, id: &str) -> Result<(), GoogleError> {
    if !m.one_time_products.contains_key(id) {
        return Err(not_found(id));
    }
    if m.ever_active_purchase_options.iter().any(|(p, _)| p == id) {
        return Err(GoogleError::failed_precondition(format!(
            "{id} has a purchase option that was published: only a draft product can be deleted."
        )));
    }
    Ok(())
}

/// `monetization.onetimeproducts.delete`: only a product none of whose options was ever
/// active.
pub fn delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let id = call.param("productId");
    deletable(m, id)?;
    crate::catalog_views::remove(m, id);
    Ok(Reply::Empty)
}

/// `monetization.onetimeproducts.batchGet` (`productIds` repeated, ≤ 100).
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let ids = call.query_all("productIds");
    batch_size(ids.len())?;
    let products = ids
        .iter()
        .map(|i| {
            m.one_time_products
                .get(i)
                .cloned()
                .ok_or_else(|| not_found(i))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::resource(&OneTimeProductsResponse {
        one_time_products: products,
    }))
}

/// The `requests` of a batch call (1–100).
pub(crate) fn requests(call: &Call) -> Result<Vec<Value>, GoogleError> {
    let requests = call.body["requests"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    batch_size(requests.len())?;
    Ok(requests)
}

/// `monetization.onetimeproducts.batchUpdate`: every entry validated before any is stored.
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let mut staged: Vec<(String, OneTimeProduct)> = Vec::new();
    for (i, r) in requests(call)?.iter().enumerate() {
        let id = r["oneTimeProduct"]["productId"].as_str().ok_or_else(|| {
            GoogleError::required(&format!("requests[{i}].oneTimeProduct.productId"))
        })?;
        check_tolerance(r["latencyTolerance"].as_str())?;
        refuse_twice(i, &staged, id)?;
        let p = updated(
            m,
            id,
            &r["oneTimeProduct"],
            r["updateMask"].as_str(),
            r["allowMissing"].as_bool().unwrap_or(false),
            r["regionsVersion"]["version"].as_str(),
        )
        .map_err(|mut e| {
            e.message = format!("requests[{i}] ({id}): {}", e.message);
            e
        })?;
        staged.push((id.to_string(), p));
    }
    Ok(store_all(m, staged))
}

/// Stores `staged` products and answers them (`BatchUpdateOneTimeProductsResponse`,
/// `BatchUpdatePurchaseOptionStatesResponse`); an option now ACTIVE counts as published.
fn store_all(m: &mut Model, staged: Vec<(String, OneTimeProduct)>) -> Reply {
    let mut out = Vec::new();
    for (id, p) in staged {
        for o in &p.purchase_options {
            if o.state == Some(PurchaseOptionState::Active) {
                m.ever_active_purchase_options
                    .insert((id.clone(), o.id().to_string()));
            }
        }
        store_one_time(m, id, p.clone());
        out.push(p);
    }
    Reply::resource(&OneTimeProductsResponse {
        one_time_products: out,
    })
}

/// `monetization.onetimeproducts.batchDelete`: all or nothing, draft products only.
pub fn batch_delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let mut ids = Vec::new();
    for (i, r) in requests(call)?.iter().enumerate() {
        let id = r["productId"]
            .as_str()
            .ok_or_else(|| GoogleError::required(&format!("requests[{i}].productId")))?;
        check_tolerance(r["latencyTolerance"].as_str())?;
        deletable(m, id)?;
        ids.push(id.to_string());
    }
    for id in ids {
        crate::catalog_views::remove(m, &id);
    }
    Ok(Reply::Empty)
}

/// `monetization.onetimeproducts.purchaseOptions.batchUpdateStates`: activations (DRAFT or
/// INACTIVE → ACTIVE; the option needs a price) and deactivations (ACTIVE → INACTIVE), all
/// or nothing. The path's `productId` is `-` or each entry's product.
pub fn batch_update_states(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let staged = super::states::batch_update_states(
        call,
        super::states::json_entries(
            call,
            &[
                ("activatePurchaseOptionRequest", "ACTIVE"),
                ("deactivatePurchaseOptionRequest", "INACTIVE"),
            ],
        )?,
        |inner| {
            let id = inner["productId"].as_str().unwrap_or_default();
            let p = m
                .one_time_products
                .get(id)
                .cloned()
                .ok_or_else(|| not_found(id))?;
            Ok((id.to_string(), p))
        },
        |product: &mut OneTimeProduct, inner, to| {
            let id = inner["productId"].as_str().unwrap_or_default();
            let oid = inner["purchaseOptionId"].as_str().unwrap_or_default();
            let option = product.option_mut(oid).ok_or_else(|| {
                GoogleError::not_found(format!("Purchase option not found: {id}/{oid}"))
            })?;
            if to == "INACTIVE" && option.state != Some(PurchaseOptionState::Active) {
                return Err(GoogleError::failed_precondition(format!(
                    "{id}/{oid}: only an active purchase option can be deactivated."
                )));
            }
            if to == "ACTIVE" && option.regions().is_empty() {
                return Err(GoogleError::failed_precondition(format!(
                    "{id}/{oid}: a purchase option needs a price in at least one region to be activated."
                )));
            }
            option.state = Some(PurchaseOptionState::from_wire(to));
            Ok(())
        },
    )?;
    Ok(store_all(m, staged))
}

/// `monetization.convertRegionPrices`: the price in every region the emulator sells in, at
/// fixed rates (no taxes), with `regionVersion` the newest regions version.
pub fn convert_region_prices(call: &Call, _m: &mut Model) -> Result<Reply, GoogleError> {
    let request: ConvertRegionPricesRequest = parse_body(&call.body)?;
    let price = request
        .price
        .and_then(|m| Amount::new(m.micros()?, &m.currency_code))
        .filter(|a| a.micros >= 0)
        .ok_or_else(|| GoogleError::required("price"))?;
    let converted = convert(price).ok_or_else(|| {
        GoogleError::invalid(format!(
            "Unsupported currency {} for price conversion.",
            price.currency()
        ))
    })?;
    let money = |a: &Amount| Some(Money::from_micros(a.micros, a.currency()));
    let converted_region_prices = converted
        .iter()
        .map(|(r, a)| {
            let price = ConvertedRegionPrice {
                region_code: Some(r.clone()),
                price: money(a),
                tax_amount: Some(Money::from_micros(0, a.currency())),
            };
            (r.clone(), price)
        })
        .collect();
    Ok(Reply::resource(&ConvertRegionPricesResponse {
        converted_region_prices,
        converted_other_regions_price: Some(ConvertedOtherRegionsPrice {
            usd_price: money(&converted["US"]),
            eur_price: money(&converted["DE"]),
        }),
        region_version: Some(RegionsVersion {
            version: Some(LATEST_REGIONS_VERSION.into()),
        }),
    }))
}

/// `monetization.onetimeproducts.purchaseOptions.batchDelete`: all or nothing, one entry per
/// product; an option that was ever active stays (published options are never removed), and
/// one with offers needs `force` (which deletes its offers too).
pub fn batch_delete_purchase_options(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let mut staged: Vec<(String, OneTimeProduct, String)> = Vec::new();
    for (i, r) in requests(call)?.iter().enumerate() {
        let at = |f: &str| format!("requests[{i}].{f}");
        let id = r["productId"]
            .as_str()
            .ok_or_else(|| GoogleError::required(&at("productId")))?;
        let option = r["purchaseOptionId"]
            .as_str()
            .ok_or_else(|| GoogleError::required(&at("purchaseOptionId")))?;
        check_tolerance(r["latencyTolerance"].as_str())?;
        if !matches!(call.param("productId"), "-" | "") && call.param("productId") != id {
            return Err(GoogleError::invalid(format!(
                "{} does not match the URL.",
                at("productId")
            )));
        }
        if staged.iter().any(|(s, _, _)| s == id) {
            return Err(GoogleError::invalid(format!(
                "requests[{i}]: {id} appears twice."
            )));
        }
        let mut p = m
            .one_time_products
            .get(id)
            .cloned()
            .ok_or_else(|| not_found(id))?;
        let index = p
            .purchase_options
            .iter()
            .position(|o| o.id() == option)
            .ok_or_else(|| {
                GoogleError::not_found(format!("Purchase option not found: {id}/{option}"))
            })?;
        if m.ever_active_purchase_options
            .contains(&(id.to_string(), option.to_string()))
        {
            return Err(GoogleError::failed_precondition(format!(
                "{id}/{option} was published: only a draft purchase option can be deleted."
            )));
        }
        let prefix = format!("{id}/{option}/");
        if r["force"] != true && m.one_time_offers.keys().any(|k| k.starts_with(&prefix)) {
            return Err(GoogleError::failed_precondition(format!(
                "{id}/{option} has offers: delete them first or set force."
            )));
        }
        p.purchase_options.remove(index);
        staged.push((id.to_string(), p, prefix));
    }
    for (id, p, prefix) in staged {
        m.one_time_offers.retain(|k, _| !k.starts_with(&prefix));
        store_one_time(m, id, p);
    }
    Ok(Reply::Empty)
}
