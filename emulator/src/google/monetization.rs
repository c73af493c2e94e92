//! `monetization.subscriptions`: create (`productId`, `regionsVersion.version`), get, list
//! (`pageSize` ≤ 1000, `pageToken`), patch (`updateMask`, `allowMissing`), delete (only while
//! no base plan was ever active), batchGet / batchUpdate (≤ 100), and base plans activate /
//! deactivate / delete. Base plan `state` is output only: new base plans are DRAFT.

use base64::Engine;
use play_model::paging::TokenPage;
use play_model::subscriptions::{
    BasePlan, BasePlanKind, BasePlanState, BatchMigrateBasePlanPricesRequest,
    BatchMigrateBasePlanPricesResponse, BatchUpdateSubscriptionsRequest, Empty,
    ListSubscriptionsResponse, MigrateBasePlanPricesRequest, PriceIncreaseType, RenewalType,
    Subscription, SubscriptionsResponse, UpdateBasePlanStateRequest,
};

use super::inappproducts::{
    batch_size, check_identity, check_latency, check_tolerance, entry_version, refuse_twice,
};
use super::onetimeproducts::{
    check_region_price, masked_update, refuse_removed_published, writable,
};
use super::{parse_body, Call, Reply};
use crate::clock::Period;
use crate::error::GoogleError;
use crate::state::Model;

const MASKABLE: [&str; 4] = [
    "listings",
    "basePlans",
    "taxAndComplianceSettings",
    "restrictedPaymentCountries",
];

fn not_found(id: &str) -> GoogleError {
    GoogleError::not_found(format!("Subscription not found: {id}"))
}

fn plan_not_found(id: &str, plan_id: &str) -> GoogleError {
    GoogleError::not_found(format!("Base plan not found: {id}/{plan_id}"))
}

/// Validates a `Subscription` for `product_id`; base plans keep their stored state (new
/// ones are DRAFT).
fn validate(
    mut s: Subscription,
    product_id: &str,
    package: &str,
    existing: Option<&Subscription>,
    version: &str,
) -> Result<Subscription, GoogleError> {
    check_identity(
        (s.product_id.as_deref(), s.package_name.as_deref()),
        product_id,
        package,
    )?;
    s.product_id = Some(product_id.to_string());
    s.package_name = Some(package.to_string());
    s.archived = None;
    if s.listings.is_empty() {
        return Err(GoogleError::invalid("At least one listing is required."));
    }
    for (i, l) in s.listings.iter().enumerate() {
        let blank = |t: &Option<String>| t.as_deref().is_none_or(str::is_empty);
        if blank(&l.language_code) || blank(&l.title) {
            return Err(GoogleError::invalid(format!(
                "listings[{i}] needs a languageCode and a title."
            )));
        }
    }
    let mut ids = std::collections::BTreeSet::new();
    for (i, b) in s.base_plans.iter_mut().enumerate() {
        let id = b.id().to_string();
        if !play_model::ids::is_option_id(&id) {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}].basePlanId {id:?} is invalid."
            )));
        }
        if !ids.insert(id.clone()) {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}]: duplicate basePlanId {id}."
            )));
        }
        let [kind] = b.kinds()[..] else {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}] needs exactly one base plan type."
            )));
        };
        let period = b.billing_period().unwrap_or_default();
        if Period::parse(period).is_none() {
            return Err(GoogleError::invalid(format!(
                "basePlans[{i}].{}.billingPeriodDuration {period:?} is invalid.",
                kind.field()
            )));
        }
        if let Some(t) = &b.installments_base_plan_type {
            if t.committed_payments_count.is_none_or(|n| n < 2) {
                return Err(GoogleError::invalid(format!(
                    "basePlans[{i}].installmentsBasePlanType.committedPaymentsCount must be at least 2."
                )));
            }
            if !matches!(
                t.renewal_type,
                Some(RenewalType::RenewsWithoutCommitment | RenewalType::RenewsWithCommitment)
            ) {
                return Err(GoogleError::required(&format!(
                    "basePlans[{i}].installmentsBasePlanType.renewalType"
                )));
            }
        }
        for (j, c) in b.regional_configs.iter().enumerate() {
            let region = c.region_code.as_deref().unwrap_or_default();
            if region.is_empty() {
                return Err(GoogleError::required(&format!(
                    "basePlans[{i}].regionalConfigs[{j}].regionCode"
                )));
            }
            let field = format!("basePlans[{i}].regionalConfigs[{j}].price");
            check_region_price(region, c.price.as_ref(), version, &field)?;
        }
        let stored = existing.and_then(|e| e.plan(&id));
        if let Some(stored) = stored {
            check_immutable(stored, b, kind, &id)?;
        }
        b.state = Some(stored.and_then(|p| p.state).unwrap_or(BasePlanState::Draft));
    }
    let stored = existing.into_iter().flat_map(|e| &e.base_plans);
    refuse_removed_published(
        stored.map(|b| (b.id(), b.state != Some(BasePlanState::Draft))),
        &ids,
        "Base plan",
    )?;
    writable(s)
}

/// Google's refusals of a change to a stored base plan: its type, billing period and
/// installments are immutable, and a region once added is never removed.
fn check_immutable(
    stored: &BasePlan,
    new: &BasePlan,
    new_kind: BasePlanKind,
    id: &str,
) -> Result<(), GoogleError> {
    if stored.kinds().first().is_some_and(|k| *k != new_kind) {
        return Err(GoogleError::invalid(format!(
            "Base plan {id}: the base plan type cannot be changed."
        )));
    }
    let installments = |b: &BasePlan| {
        let t = b.installments_base_plan_type.as_ref();
        (
            t.and_then(|t| t.committed_payments_count),
            t.and_then(|t| t.renewal_type),
        )
    };
    let (stored_count, stored_renewal) = installments(stored);
    let (new_count, new_renewal) = installments(new);
    for (field, same) in [
        (
            "billingPeriodDuration",
            stored.billing_period() == new.billing_period(),
        ),
        ("committedPaymentsCount", stored_count == new_count),
        ("renewalType", stored_renewal == new_renewal),
    ] {
        if !same {
            return Err(GoogleError::invalid(format!(
                "Base plan {id}: {field} is immutable."
            )));
        }
    }
    let now = new.regions();
    if let Some(gone) = stored.regions().into_iter().find(|r| !now.contains(r)) {
        return Err(GoogleError::invalid(format!(
            "Cannot remove region once it has been added: {gone}"
        )));
    }
    Ok(())
}

fn require_regions_version(version: Option<&str>) -> Result<&str, GoogleError> {
    match version {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(GoogleError::required("regionsVersion.version")),
    }
}

/// `monetization.subscriptions.create`.
pub fn create(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call
        .query("productId")
        .ok_or_else(|| GoogleError::required("productId"))?
        .to_string();
    let version = require_regions_version(call.query("regionsVersion.version"))?;
    if m.subscriptions.contains_key(&id)
        || m.in_app_products.contains_key(&id)
        || m.one_time_products.contains_key(&id)
    {
        return Err(GoogleError::already_exists(format!(
            "Product {id} already exists."
        )));
    }
    let s = validate(parse_body(&call.body)?, &id, &m.package_name, None, version)?;
    let reply = Reply::resource(&s);
    m.subscriptions.insert(id, s);
    Ok(reply)
}

/// `monetization.subscriptions.get`.
pub fn get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("productId");
    m.subscriptions
        .get(id)
        .map(Reply::resource)
        .ok_or_else(|| not_found(id))
}

/// `monetization.subscriptions.list`.
pub fn list(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    call.query_bool("showArchived")?;
    page_of::<ListSubscriptionsResponse>(call, &m.subscriptions, "subs")
}

/// One page `P` (`pageSize` ≤ 1000, default 50; `pageToken`) of `all`, with the next
/// page's token while more follow.
pub(crate) fn page_of<P: TokenPage>(
    call: &Call,
    all: &std::collections::BTreeMap<String, P::Item>,
    token_prefix: &str,
) -> Result<Reply, GoogleError>
where
    P::Item: Clone,
{
    let size = call.query_i64("pageSize")?.unwrap_or(50);
    let size = if size <= 0 { 50 } else { size.min(1000) } as usize;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let start: usize = match call.query("pageToken") {
        Some(t) if !t.is_empty() => b64
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.strip_prefix(token_prefix)
                    .and_then(|r| r.strip_prefix(':'))
                    .and_then(|n| n.parse().ok())
            })
            .ok_or_else(|| GoogleError::invalid("Invalid page token."))?,
        _ => 0,
    };
    let items = all.values().skip(start).take(size).cloned().collect();
    let next =
        (start + size < all.len()).then(|| b64.encode(format!("{token_prefix}:{}", start + size)));
    Ok(Reply::resource(&P::from_parts(items, next)))
}

/// Copies `field` (one of [`MASKABLE`]) of `body` into `base`: a masked update.
fn copy_field(base: &mut Subscription, body: &Subscription, field: &str) {
    match field {
        "listings" => base.listings = body.listings.clone(),
        "basePlans" => base.base_plans = body.base_plans.clone(),
        "taxAndComplianceSettings" => {
            base.tax_and_compliance_settings = body.tax_and_compliance_settings.clone()
        }
        _ => base.restricted_payment_countries = body.restricted_payment_countries.clone(),
    }
}

fn apply_patch(
    m: &Model,
    id: &str,
    body: Subscription,
    mask: Option<&str>,
    allow_missing: bool,
    version: &str,
) -> Result<Subscription, GoogleError> {
    let existing = m.subscriptions.get(id);
    let base = match existing {
        Some(e) => e.clone(),
        None if allow_missing => Subscription::default(),
        None => return Err(not_found(id)),
    };
    let merged = masked_update(base, &body, mask, &MASKABLE, copy_field)?;
    if existing.is_none() && m.one_time_products.contains_key(id) {
        return Err(GoogleError::already_exists(format!(
            "{id} is a one-time product."
        )));
    }
    validate(merged, id, &m.package_name, existing, version)
}

/// `monetization.subscriptions.patch`.
pub fn patch(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    check_tolerance(call.query("latencyTolerance"))?;
    let version = require_regions_version(call.query("regionsVersion.version"))?;
    let id = call.param("productId").to_string();
    let mask = call
        .query("updateMask")
        .ok_or_else(|| GoogleError::required("updateMask"))?;
    let s = apply_patch(
        m,
        &id,
        parse_body(&call.body)?,
        Some(mask),
        call.query_bool("allowMissing")?,
        version,
    )?;
    let reply = Reply::resource(&s);
    m.subscriptions.insert(id, s);
    Ok(reply)
}

fn ever_active(m: &Model, id: &str) -> bool {
    m.ever_active_base_plans.iter().any(|(p, _)| p == id)
}

/// `monetization.subscriptions.delete`: refused once a base plan was ever active.
pub fn delete(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("productId");
    if !m.subscriptions.contains_key(id) {
        return Err(not_found(id));
    }
    if ever_active(m, id) {
        return Err(GoogleError::failed_precondition(
            "A subscription with a base plan that was ever active cannot be deleted.",
        ));
    }
    m.subscriptions.remove(id);
    Ok(Reply::Empty)
}

/// `monetization.subscriptions.batchGet` (`productIds` repeated, ≤ 100).
pub fn batch_get(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let ids = call.query_all("productIds");
    if ids.is_empty() || ids.len() > 100 {
        return Err(GoogleError::invalid(
            "productIds must name between 1 and 100 subscriptions.",
        ));
    }
    let subscriptions = ids
        .iter()
        .map(|i| m.subscriptions.get(i).cloned().ok_or_else(|| not_found(i)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Reply::resource(&SubscriptionsResponse { subscriptions }))
}

/// `monetization.subscriptions.batchUpdate` (≤ 100, all or nothing).
pub fn batch_update(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchUpdateSubscriptionsRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let mut staged: Vec<(String, Subscription)> = Vec::new();
    for (i, r) in batch.requests.into_iter().enumerate() {
        check_latency(r.latency_tolerance)?;
        let version = r.regions_version.and_then(|v| v.version);
        let version = entry_version(i, version.as_deref())?.to_string();
        let body = r.subscription.unwrap_or_default();
        let id = body.product_id.clone().ok_or_else(|| {
            GoogleError::required(&format!("requests[{i}].subscription.productId"))
        })?;
        let mask = r
            .update_mask
            .ok_or_else(|| GoogleError::required(&format!("requests[{i}].updateMask")))?;
        refuse_twice(i, &staged, &id)?;
        let allow_missing = r.allow_missing.unwrap_or(false);
        let s =
            apply_patch(m, &id, body, Some(&mask), allow_missing, &version).map_err(|mut e| {
                e.message = format!("requests[{i}] ({id}): {}", e.message);
                e
            })?;
        staged.push((id, s));
    }
    Ok(store(m, staged))
}

/// Stores `staged` subscriptions and answers them (`BatchUpdateSubscriptionsResponse`,
/// `BatchUpdateBasePlanStatesResponse`).
fn store(m: &mut Model, staged: Vec<(String, Subscription)>) -> Reply {
    let mut subscriptions = Vec::new();
    for (id, s) in staged {
        m.subscriptions.insert(id, s.clone());
        subscriptions.push(s);
    }
    Reply::resource(&SubscriptionsResponse { subscriptions })
}

fn set_state(call: &Call, m: &mut Model, to: BasePlanState) -> Result<Reply, GoogleError> {
    let body: play_model::subscriptions::BasePlanStateRequest = parse_body(&call.body)?;
    check_latency(body.latency_tolerance)?;
    let id = call.param("productId").to_string();
    let plan_id = call.param("basePlanId").to_string();
    let mut sub = m
        .subscriptions
        .get(&id)
        .cloned()
        .ok_or_else(|| not_found(&id))?;
    change_state(&mut sub, &id, &plan_id, to)?;
    let reply = Reply::resource(&sub);
    m.subscriptions.insert(id.clone(), sub);
    if to == BasePlanState::Active {
        m.ever_active_base_plans.insert((id, plan_id));
    }
    Ok(reply)
}

/// DRAFT or INACTIVE → ACTIVE, ACTIVE → INACTIVE of one base plan of `sub`.
fn change_state(
    sub: &mut Subscription,
    id: &str,
    plan_id: &str,
    to: BasePlanState,
) -> Result<(), GoogleError> {
    let plan = sub
        .plan_mut(plan_id)
        .ok_or_else(|| plan_not_found(id, plan_id))?;
    if to == BasePlanState::Inactive && plan.state != Some(BasePlanState::Active) {
        return Err(GoogleError::failed_precondition(
            "Only an active base plan can be deactivated.",
        ));
    }
    plan.state = Some(to);
    Ok(())
}

/// `monetization.subscriptions.basePlans.batchUpdateStates` (≤ 100, all or nothing; the
/// path's `productId` is `-` or each entry's product).
pub fn batch_update_states(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let entries = super::states::entries::<UpdateBasePlanStateRequest>(call)?;
    let mut activated = Vec::new();
    let staged = super::states::batch_update_states(
        call,
        entries,
        |inner| {
            let id = inner.product_id.clone().unwrap_or_default();
            let sub = m
                .subscriptions
                .get(&id)
                .cloned()
                .ok_or_else(|| not_found(&id))?;
            Ok((id, sub))
        },
        |sub, inner, to| {
            let id = inner.product_id.as_deref().unwrap_or_default();
            let plan_id = inner.base_plan_id.as_deref().unwrap_or_default();
            change_state(sub, id, plan_id, to)?;
            if to == BasePlanState::Active {
                activated.push((id.to_string(), plan_id.to_string()));
            }
            Ok(())
        },
    )?;
    m.ever_active_base_plans.extend(activated);
    Ok(store(m, staged))
}

/// `monetization.subscriptions.basePlans.activate`.
pub fn activate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, BasePlanState::Active)
}

/// `monetization.subscriptions.basePlans.deactivate`.
pub fn deactivate(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    set_state(call, m, BasePlanState::Inactive)
}

/// `monetization.subscriptions.basePlans.delete`: only a base plan that was never active.
pub fn delete_base_plan(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let id = call.param("productId").to_string();
    let plan_id = call.param("basePlanId").to_string();
    if m.ever_active_base_plans
        .contains(&(id.clone(), plan_id.clone()))
    {
        return Err(GoogleError::failed_precondition(
            "A base plan that was ever active cannot be deleted.",
        ));
    }
    let sub = m.subscriptions.get_mut(&id).ok_or_else(|| not_found(&id))?;
    let before = sub.base_plans.len();
    sub.base_plans.retain(|p| p.id() != plan_id);
    if sub.base_plans.len() == before {
        return Err(plan_not_found(&id, &plan_id));
    }
    Ok(Reply::Empty)
}

/// `monetization.subscriptions.basePlans.migratePrices`: moves the legacy price cohorts of
/// the given regions to the current price. The base plan must be published (ACTIVE or
/// INACTIVE) and sell in each region; `oldestAllowedPriceVersionTime` must be an RFC 3339
/// time; an opt-out increase is refused, as the app's first one must be started in the
/// Play Console (the emulator has no Console).
pub fn migrate_prices(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let body: MigrateBasePlanPricesRequest = parse_body(&call.body)?;
    check_migration(m, call.param("productId"), call.param("basePlanId"), &body)?;
    Ok(Reply::resource(&Empty {}))
}

/// `monetization.subscriptions.basePlans.batchMigratePrices`: 1–100 migrations, each
/// checked as `migratePrices` checks one (the path's `productId` is `-` or each entry's),
/// all refused if one is.
pub fn batch_migrate_prices(call: &Call, m: &mut Model) -> Result<Reply, GoogleError> {
    let batch: BatchMigrateBasePlanPricesRequest = parse_body(&call.body)?;
    batch_size(batch.requests.len())?;
    let path_product = call.param("productId");
    for (i, r) in batch.requests.iter().enumerate() {
        let id = r.product_id.as_deref().unwrap_or_default();
        if !matches!(path_product, "-" | "") && id != path_product {
            return Err(GoogleError::invalid(format!(
                "requests[{i}].productId does not match the URL."
            )));
        }
        let plan_id = r.base_plan_id.as_deref().unwrap_or_default();
        check_migration(m, id, plan_id, r).map_err(|mut e| {
            e.message = format!("requests[{i}] ({id}/{plan_id}): {}", e.message);
            e
        })?;
    }
    Ok(Reply::resource(&BatchMigrateBasePlanPricesResponse {
        responses: vec![Empty {}; batch.requests.len()],
    }))
}

fn check_migration(
    m: &Model,
    id: &str,
    plan_id: &str,
    body: &MigrateBasePlanPricesRequest,
) -> Result<(), GoogleError> {
    check_latency(body.latency_tolerance)?;
    let version = body
        .regions_version
        .as_ref()
        .and_then(|v| v.version.as_deref());
    require_regions_version(version)?;
    let sub = m.subscriptions.get(id).ok_or_else(|| not_found(id))?;
    let plan = sub
        .plan(plan_id)
        .ok_or_else(|| plan_not_found(id, plan_id))?;
    if plan.state.is_none_or(|s| s == BasePlanState::Draft) {
        return Err(GoogleError::failed_precondition(format!(
            "Base plan {id}/{plan_id} was never published: it has no legacy price cohorts."
        )));
    }
    if body.regional_price_migrations.is_empty() {
        return Err(GoogleError::required("regionalPriceMigrations"));
    }
    for (i, r) in body.regional_price_migrations.iter().enumerate() {
        let region = r.region_code.as_deref().unwrap_or_default();
        if plan.region(region).is_none() {
            return Err(GoogleError::invalid(format!(
                "regionalPriceMigrations[{i}]: the base plan does not sell in region {region:?}."
            )));
        }
        let time = r
            .oldest_allowed_price_version_time
            .as_deref()
            .unwrap_or_default();
        if time::OffsetDateTime::parse(time, &time::format_description::well_known::Rfc3339)
            .is_err()
        {
            return Err(GoogleError::invalid(format!(
                "regionalPriceMigrations[{i}].oldestAllowedPriceVersionTime {time:?} is not an RFC 3339 time."
            )));
        }
        match r.price_increase_type {
            None | Some(PriceIncreaseType::Unspecified | PriceIncreaseType::OptIn) => {}
            Some(PriceIncreaseType::OptOut) => {
                return Err(GoogleError::failed_precondition(
                    "The first opt-out price increase for an app must be initiated in the Play Console.",
                ))
            }
            Some(PriceIncreaseType::Unknown) => {
                return Err(GoogleError::invalid(format!(
                    "regionalPriceMigrations[{i}].priceIncreaseType is invalid."
                )))
            }
        }
    }
    Ok(())
}
