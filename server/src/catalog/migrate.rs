//! `catalog migrate-prices`: moves base plans' subscribers in legacy price cohorts to the
//! current price: `basePlans.migratePrices` for one base plan, one
//! `basePlans.batchMigratePrices` call for several (≤ 100 a call). Never part of `apply`: a
//! price change reaches new buyers at once, but existing subscribers keep their price until
//! this is run, and Play notifies them first.

use std::io::IsTerminal;

use play_model::methods;
use play_model::pricing::RegionsVersion;
use play_model::subscriptions::{
    Batch, MigrateBasePlanPricesRequest, PriceIncreaseType, RegionalPriceMigrationConfig,
    Subscription,
};

use super::api::{ApiFailure, CatalogApi};
use super::{CatalogError, EXIT_INVALID, EXIT_REFUSED};

/// Opt-in or opt-out price increase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum IncreaseType {
    /// Subscribers must accept the increase or their subscription is cancelled.
    OptIn,
    /// Subscribers are notified and charged unless they cancel (limited; the app's first
    /// must be started in the Play Console).
    OptOut,
}

impl IncreaseType {
    fn google(self) -> PriceIncreaseType {
        match self {
            IncreaseType::OptIn => PriceIncreaseType::OptIn,
            IncreaseType::OptOut => PriceIncreaseType::OptOut,
        }
    }
}

/// What to migrate.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// The subscription's product id.
    #[arg(long)]
    pub subscription: String,
    /// The base plan id (repeat for several: one batchMigratePrices call).
    #[arg(long = "base-plan", required = true)]
    pub base_plans: Vec<String>,
    /// Regions to migrate (repeat; default every region each base plan sells in).
    #[arg(long = "region")]
    pub regions: Vec<String>,
    /// Subscribers in cohorts older than this RFC 3339 time move to the current price
    /// (default now: every legacy cohort).
    #[arg(long)]
    pub oldest_allowed_price_version_time: Option<String>,
    /// How a price increase is applied.
    #[arg(long, value_enum, default_value_t = IncreaseType::OptIn)]
    pub increase_type: IncreaseType,
    /// Do not ask (needed when stdin is not a terminal).
    #[arg(long)]
    pub yes: bool,
}

/// What Play does to subscribers, printed before anything is sent.
pub fn notice(increase: IncreaseType) -> &'static str {
    match increase {
        IncreaseType::OptIn => "Price decreases apply at each subscriber's next billing date. Price increases (opt-in): Play gives subscribers 37 days' notice and notifies them from day 30 before the first higher charge; those who do not accept are cancelled at their next renewal; you can revert within 7 days without subscribers noticing. Starting a new migration cancels a pending one; offer phases are not migrated.",
        IncreaseType::OptOut => "Price decreases apply at each subscriber's next billing date. Price increases (opt-out): subscribers are notified and charged the new price unless they cancel; Play limits opt-out increases in size and frequency and requires the app's first one to be started in the Play Console. Starting a new migration cancels a pending one; offer phases are not migrated.",
    }
}

/// The regions to migrate of each base plan, checked against the live subscription.
fn regions_of(
    sub: &Subscription,
    args: &MigrateArgs,
) -> Result<Vec<(String, Vec<String>)>, CatalogError> {
    let mut out = Vec::new();
    for base_plan in &args.base_plans {
        let plan = sub.plan(base_plan).ok_or_else(|| {
            CatalogError::new(
                EXIT_INVALID,
                format!(
                    "--base-plan: {} has no base plan {base_plan}",
                    args.subscription
                ),
            )
        })?;
        let regions: Vec<String> = if args.regions.is_empty() {
            plan.regions().into_iter().map(String::from).collect()
        } else {
            args.regions.clone()
        };
        out.push((base_plan.clone(), regions));
    }
    Ok(out)
}

/// Runs the migration; returns the exit code.
pub async fn migrate(api: &CatalogApi, args: &MigrateArgs) -> Result<u8, CatalogError> {
    let product = args.subscription.as_str();
    let sub: Subscription = super::typed(
        &methods::MONETIZATION_SUBSCRIPTIONS_GET,
        api.read(
            &methods::MONETIZATION_SUBSCRIPTIONS_GET,
            &[product],
            &[],
            None,
        )
        .await?,
    )?;
    let plans = regions_of(&sub, args)?;
    let time = match &args.oldest_allowed_price_version_time {
        Some(t) => {
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|e| {
                    CatalogError::new(
                        EXIT_INVALID,
                        format!("--oldest-allowed-price-version-time {t:?}: {e}"),
                    )
                })?;
            t.clone()
        }
        None => time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    for (base_plan, regions) in &plans {
        println!(
            "migrate {}/{base_plan} in {} regions ({}): subscribers in price cohorts older than {time} move to the current price.",
            args.subscription,
            regions.len(),
            regions.join(", ")
        );
    }
    println!("{}", notice(args.increase_type));
    if !args.yes {
        let yes = std::io::stdin().is_terminal() && {
            eprint!("start this price migration? [y/N] ");
            let mut answer = String::new();
            std::io::stdin().read_line(&mut answer).is_ok()
                && answer.trim().eq_ignore_ascii_case("y")
        };
        if !yes {
            return Err(CatalogError::new(
                EXIT_INVALID,
                "a price migration notifies subscribers: confirm on a terminal or pass --yes",
            ));
        }
    }
    let (_, version, _) = super::resolve(api, &Default::default()).await?;
    let requests: Vec<MigrateBasePlanPricesRequest> = plans
        .iter()
        .map(|(base_plan, regions)| MigrateBasePlanPricesRequest {
            package_name: Some(api.package_name().to_string()),
            product_id: Some(args.subscription.clone()),
            base_plan_id: Some(base_plan.clone()),
            regions_version: Some(RegionsVersion {
                version: Some(version.clone()),
            }),
            regional_price_migrations: regions
                .iter()
                .map(|r| RegionalPriceMigrationConfig {
                    region_code: Some(r.clone()),
                    oldest_allowed_price_version_time: Some(time.clone()),
                    price_increase_type: Some(args.increase_type.google()),
                })
                .collect(),
            latency_tolerance: None,
        })
        .collect();
    let regions_in = |r: &[MigrateBasePlanPricesRequest]| -> u64 {
        r.iter()
            .map(|m| m.regional_price_migrations.len() as u64)
            .sum()
    };
    let entries = regions_in(&requests);
    let mut calls = Vec::new();
    if let [single] = &requests[..] {
        calls.push((
            &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_MIGRATEPRICES,
            vec![product, plans[0].0.as_str()],
            super::body(single),
            entries,
        ));
    } else {
        for chunk in requests.chunks(super::plan::BATCH) {
            calls.push((
                &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_BATCHMIGRATEPRICES,
                vec![product],
                super::body(&Batch {
                    requests: chunk.to_vec(),
                }),
                regions_in(chunk),
            ));
        }
    }
    for (method, args, body, n) in &calls {
        match api.modify(method, args, &[], Some(body), *n).await {
            Ok(_) => {}
            Err(ApiFailure::Refused(s)) => {
                return Err(CatalogError::new(
                    EXIT_REFUSED,
                    format!("Google Play refused the migration: {}", s.message),
                ))
            }
            Err(e) => return Err(e.into()),
        }
    }
    println!(
        "price migration started for {} base plans, {entries} regions in {} calls",
        plans.len(),
        calls.len()
    );
    Ok(0)
}
