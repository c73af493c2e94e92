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
    Availability, BatchDeleteOneTimeProductsRequest, BatchDeletePurchaseOptionsRequest,
    BatchUpdateOneTimeProductsRequest, ListOneTimeProductsResponse, OneTimeProduct,
    OneTimeProductsResponse, PurchaseOptionState, UpdatePurchaseOptionStateRequest,
};
use play_model::pricing::{
    ConvertRegionPricesRequest, ConvertRegionPricesResponse, ConvertedOtherRegionsPrice,
    ConvertedRegionPrice, RegionsVersion,
};
use play_model::subscriptions::UpdateOptions;
use play_model::Money;

use super::inappproducts::{batch_size, check_identity, check_latency, check_tolerance};
use super::offers::{merge, staged_updates};
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

fn not_found(id: &str) -> GoogleError {
    GoogleError::not_found(format!("One-time product not found: {id}"))
}

/// Refuses a price whose currency is not its region's at `version` ("Invalid currency for
/// region code BG …"); regions the emulator does not know take any currency.
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

/// Validates a `OneTimeProduct` against `existing`: options keep their stored state (new
/// ones DRAFT), regions and published options are never removed.
fn validate(
    mut p: OneTimeProduct,
    id: &str,
    m: &Model,
    version: &str,
    existing: Option<&OneTimeProduct>,
) -> Result<OneTimeProduct, GoogleError> {
    check_identity(
        (p.product_id.as_deref(), p.package_name.as_deref()),
        id,
        &m.package_name,
    )?;
    if m.subscriptions.contains_key(id) {
        return Err(GoogleError::already_exists(format!(
            "{id} is a subscription."
        )));
    }
    if p.listings.is_empty() {
        return Err(GoogleError::invalid("At least one listing is required."));
    }
    let chars = |t: &Option<String>| t.as_deref().unwrap_or_default().chars().count();
    for (i, l) in p.listings.iter().enumerate() {
        if chars(&l.language_code) == 0 || chars(&l.title) == 0 {
            return Err(GoogleError::invalid(format!(
                "listings[{i}] needs a languageCode and a title."
            )));
        }
        for (field, max) in [("title", 55), ("description", 200)] {
            let text = if field == "title" {
                &l.title
            } else {
                &l.description
            };
            if chars(text) > max {
                return Err(GoogleError::invalid(format!(
                    "listings[{i}].{field} is longer than {max} characters."
                )));
            }
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut legacy = 0;
    for (i, o) in p.purchase_options.iter_mut().enumerate() {
        let oid = o.id().to_string();
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
        if o.buy_option.is_some() == o.rent_option.is_some() {
            return Err(GoogleError::invalid(format!(
                "purchaseOptions[{i}] needs exactly one of buyOption and rentOption."
            )));
        }
        legacy += usize::from(o.is_legacy_compatible());
        if let Some(rent) = &o.rent_option {
            for (f, period, required) in [
                ("rentalPeriod", &rent.rental_period, true),
                ("expirationPeriod", &rent.expiration_period, false),
            ] {
                match period.as_deref() {
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
        for (j, c) in o
            .regional_pricing_and_availability_configs
            .iter()
            .enumerate()
        {
            let field = format!("purchaseOptions[{i}].regionalPricingAndAvailabilityConfigs[{j}]");
            let region = c
                .region_code
                .as_deref()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| GoogleError::required(&format!("{field}.regionCode")))?;
            if matches!(
                c.availability,
                Some(Availability::Unspecified | Availability::Unknown)
            ) {
                return Err(GoogleError::invalid(format!(
                    "{field}.availability is invalid."
                )));
            }
            check_region_price(region, c.price.as_ref(), version, &format!("{field}.price"))?;
        }
        let stored = existing.and_then(|e| e.option(&oid));
        if let Some(stored) = stored {
            if stored.rent_option.is_some() != o.rent_option.is_some() {
                return Err(GoogleError::invalid(format!(
                    "purchaseOptions[{i}]: the purchase option type (buy or rent) of {oid} is immutable."
                )));
            }
            let now = o.regions();
            if let Some(gone) = stored.regions().into_iter().find(|r| !now.contains(r)) {
                return Err(GoogleError::invalid(format!(
                    "Cannot remove region once it has been added: {gone}"
                )));
            }
        }
        o.state = Some(
            stored
                .and_then(|s| s.state)
                .unwrap_or(PurchaseOptionState::Draft),
        );
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
    p.product_id = Some(id.to_string());
    p.package_name = Some(m.package_name.clone());
    p.regions_version = Some(RegionsVersion {
        version: Some(version.to_string()),
    });
    writable(p)
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

/// Copies `field` (one of [`MASKABLE`]) of `body` into `base`: a masked update.
fn copy_field(base: &mut OneTimeProduct, body: &OneTimeProduct, field: &str) {
    match field {
        "listings" => base.listings = body.listings.clone(),
        "purchaseOptions" => base.purchase_options = body.purchase_options.clone(),
        "taxAndComplianceSettings" => {
            base.tax_and_compliance_settings = body.tax_and_compliance_settings.clone()
        }
        "offerTags" => base.offer_tags = body.offer_tags.clone(),
        _ => base.restricted_payment_countries = body.restricted_payment_countries.clone(),
    }
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
    super::monetization::page_of::<ListOneTimeProductsResponse>(call, &m.one_time_products, "otp")
}

/// `monetization.onetimeproducts.patch`.
pub fn patch(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let id = call.param("productId").to_string();
    let body: OneTimeProduct = parse_body(&call.body)?;
    let version = call
        .query("regionsVersion.version")
        .filter(|v| !v.is_empty())
        .ok_or_else(|| GoogleError::required("regionsVersion.version"))?;
    let options = UpdateOptions {
        update_mask: call.query("updateMask").map(String::from),
        allow_missing: call.query_bool("allowMissing")?,
        ..UpdateOptions::default()
    };
    let existing = m.one_time_products.get(&id);
    let p = merge(body, existing, &options, (&MASKABLE, copy_field), || {
        not_found(&id)
    })
    .and_then(|merged| validate(merged, &id, m, version, existing))?;
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

/// `monetization.onetimeproducts.batchUpdate`: every entry validated before any is stored.
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchUpdateOneTimeProductsRequest = parse_body(&call.body)?;
    let staged = staged_updates(
        batch.requests,
        &m.one_time_products,
        ("One-time product", "oneTimeProduct.productId"),
        |p| p.product_id.clone(),
        (&MASKABLE, copy_field),
        |id, merged, version, existing| validate(merged, id, m, version, existing),
    )?;
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
    let batch: BatchDeleteOneTimeProductsRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let mut ids = Vec::new();
    for (i, r) in batch.requests.into_iter().enumerate() {
        let id = r
            .product_id
            .ok_or_else(|| GoogleError::required(&format!("requests[{i}].productId")))?;
        check_latency(r.latency_tolerance)?;
        deletable(m, &id)?;
        ids.push(id);
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
        super::states::entries::<UpdatePurchaseOptionStateRequest>(call)?,
        |inner| {
            let id = inner.product_id.as_deref().unwrap_or_default();
            let p = m
                .one_time_products
                .get(id)
                .cloned()
                .ok_or_else(|| not_found(id))?;
            Ok((id.to_string(), p))
        },
        |product: &mut OneTimeProduct, inner, to| {
            let id = inner.product_id.as_deref().unwrap_or_default();
            let oid = inner.purchase_option_id.as_deref().unwrap_or_default();
            let option = product.option_mut(oid).ok_or_else(|| {
                GoogleError::not_found(format!("Purchase option not found: {id}/{oid}"))
            })?;
            if to == PurchaseOptionState::Inactive
                && option.state != Some(PurchaseOptionState::Active)
            {
                return Err(GoogleError::failed_precondition(format!(
                    "{id}/{oid}: only an active purchase option can be deactivated."
                )));
            }
            if to == PurchaseOptionState::Active && option.regions().is_empty() {
                return Err(GoogleError::failed_precondition(format!(
                    "{id}/{oid}: a purchase option needs a price in at least one region to be activated."
                )));
            }
            option.state = Some(to);
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
    let batch: BatchDeletePurchaseOptionsRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let mut staged: Vec<(String, OneTimeProduct, String)> = Vec::new();
    for (i, r) in batch.requests.iter().enumerate() {
        let at = |f: &str| format!("requests[{i}].{f}");
        let id = r
            .product_id
            .as_deref()
            .ok_or_else(|| GoogleError::required(&at("productId")))?;
        let option = r
            .purchase_option_id
            .as_deref()
            .ok_or_else(|| GoogleError::required(&at("purchaseOptionId")))?;
        check_latency(r.latency_tolerance)?;
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
        if r.force != Some(true) && m.one_time_offers.keys().any(|k| k.starts_with(&prefix)) {
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
