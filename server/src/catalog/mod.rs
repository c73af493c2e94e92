//! Catalog as code: `pwa-billing catalog validate | schema | pull | plan | apply` keeps an
//! app's one-time products and subscriptions on Google Play in sync with a catalog file in
//! git (the file's model: [`play_model::catalog_file`]).
//!
//! Exit codes: 0 done or nothing to do, 2 invalid file or usage, 3 changes pending (`plan
//! --exit-code`), 4 refused (a change Play refuses or that cannot be undone, a delete
//! without `--allow-delete`), 5 partly applied (each entry at fault reported; a rerun
//! converges), 75 quota exhausted (a checkpoint is written; rerun after the time printed).

pub mod api;
pub mod apply;
pub mod migrate;
pub mod plan;
pub mod pull;
pub mod validate;

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

use play_model::catalog_file::{Amount, CatalogFile};
use play_model::methods::{self, Method};
use play_model::onetimeproducts::{
    ListOneTimeProductOffersResponse, ListOneTimeProductsResponse, OneTimeProduct,
    OneTimeProductOffer,
};
use play_model::paging::TokenPage;
use play_model::pricing::{ConvertRegionPricesRequest, ConvertRegionPricesResponse};
use play_model::subscriptions::{
    ListSubscriptionOffersResponse, ListSubscriptionsResponse, Subscription, SubscriptionOffer,
};
use play_model::Money;
use serde_json::Value;
use url::Url;

use self::api::{ApiFailure, CatalogApi};
use self::plan::{Latency, Live, Plan, PlanOptions};
use crate::config::{Config, ConfigError, RetryConfig};
use crate::play::retry::Jitter;
use crate::play::{PlayClient, ServiceAccountKey, TokenSource};

/// Exit code: invalid file or usage.
pub const EXIT_INVALID: u8 = 2;
/// Exit code: changes pending (`plan --exit-code`).
pub const EXIT_CHANGES: u8 = 3;
/// Exit code: refused.
pub const EXIT_REFUSED: u8 = 4;
/// Exit code: partly applied.
pub const EXIT_PARTIAL: u8 = 5;
/// Exit code: quota exhausted, resumable (`EX_TEMPFAIL`).
pub const EXIT_QUOTA: u8 = 75;

/// A failed command: its exit code and message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct CatalogError {
    /// The process exit code.
    pub code: u8,
    /// What went wrong, for people.
    pub message: String,
}

impl CatalogError {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Self {
        CatalogError {
            code,
            message: message.into(),
        }
    }
}

impl From<ApiFailure> for CatalogError {
    fn from(f: ApiFailure) -> Self {
        let code = match f {
            ApiFailure::Quota { .. } => EXIT_QUOTA,
            _ => 1,
        };
        CatalogError::new(code, format!("Google Play: {f}"))
    }
}

/// `pwa-billing catalog …`.
#[derive(Debug, clap::Args)]
pub struct CatalogArgs {
    /// The catalog file (TOML, or JSON by extension) [default: configuration key `catalog`,
    /// else catalog.toml].
    #[arg(long, global = true)]
    pub catalog: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: CatalogCommand,
}

/// Where the app's catalog lives: the server's configuration (`--config`, `PWA_BILLING_*`,
/// `--set`), these flags over it.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The app's package name [default: configuration key `package_name`].
    #[arg(long)]
    pub package_name: Option<String>,
    /// The service account key file (JSON) [default: configuration key
    /// `service_account_key`].
    #[arg(long)]
    pub service_account_key: Option<PathBuf>,
    /// Base URL of the Play Developer API (an emulator's in tests) [default: configuration
    /// key `play_api_base_url`].
    #[arg(long)]
    pub play_api_base_url: Option<Url>,
    /// Attempts per call on 408, 429, 5xx, a 403 rate limit, a 409 other than
    /// `alreadyExists` or a lost connection, the first included [default: configuration
    /// key `retry.max_attempts`].
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// First retry delay in ms, doubling each retry with jitter up to the longest delay
    /// [default: configuration key `retry.base_delay_ms`].
    #[arg(long)]
    pub retry_base_ms: Option<u64>,
    /// Longest retry delay in ms; a longer `Retry-After` from Google stops the command
    /// (rerun later) [default: configuration key `retry.max_delay_ms`].
    #[arg(long)]
    pub retry_max_delay_ms: Option<u64>,
}

/// How writes are sent.
#[derive(Debug, Clone, clap::Args)]
pub struct Tuning {
    /// `auto`: LATENCY_TOLERANT batches (live within 24 hours) once the plan has more
    /// entries than --latency-budget; `sensitive`, `tolerant`: always.
    #[arg(long, value_enum, default_value_t = Latency::Auto)]
    pub latency: Latency,
    /// Latency-sensitive entries `auto` may spend (Google allows 7,200 an hour per app,
    /// shared with the Console).
    #[arg(long, default_value_t = 3_600)]
    pub latency_budget: u64,
    /// Catalog calls a minute this tool allows itself (Google's bucket: 3,000, shared with
    /// uploads).
    #[arg(long, default_value_t = 1_500)]
    pub calls_per_minute: u64,
}

impl Tuning {
    fn options(&self) -> PlanOptions {
        PlanOptions {
            latency: self.latency,
            latency_budget: self.latency_budget,
            calls_per_minute: self.calls_per_minute,
        }
    }
}

/// The catalog subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CatalogCommand {
    /// Check the file offline (ids, limits, money, currencies, PWA pitfalls).
    Validate {
        /// Findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the file's JSON Schema.
    Schema,
    /// Write the live catalog to the file (sorted, output-only fields dropped).
    Pull(Connection),
    /// Show what `apply` would do (alias `diff`).
    #[command(alias = "diff")]
    Plan {
        /// Where the app lives.
        #[command(flatten)]
        connection: Connection,
        /// How writes would be sent.
        #[command(flatten)]
        tuning: Tuning,
        /// The plan as JSON (for CI).
        #[arg(long)]
        json: bool,
        /// Exit 3 when there are changes.
        #[arg(long)]
        exit_code: bool,
    },
    /// Make the live catalog match the file.
    Apply {
        /// Where the app lives.
        #[command(flatten)]
        connection: Connection,
        /// How writes are sent.
        #[command(flatten)]
        tuning: Tuning,
        /// Print the plan and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
        /// Delete live draft products missing from the file.
        #[arg(long)]
        allow_delete: bool,
        /// Where a quota stop writes its checkpoint (default: the catalog's path +
        /// `.checkpoint.json`).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Move a base plan's subscribers in legacy price cohorts to the current price (never
    /// part of apply; Play notifies them first).
    MigratePrices {
        /// Where the app lives.
        #[command(flatten)]
        connection: Connection,
        /// What to migrate.
        #[command(flatten)]
        args: migrate::MigrateArgs,
    },
}

/// Runs a catalog command with the configuration's keys (`catalog`, `package_name`,
/// `service_account_key`, `play_api_base_url`) under its flags; `Ok` holds the exit code
/// (3: `plan --exit-code` found changes), the error its own (the module's table).
pub async fn main(args: CatalogArgs, config: &Config) -> Result<u8, CatalogError> {
    let catalog = args
        .catalog
        .or_else(|| config.catalog.clone())
        .unwrap_or_else(|| PathBuf::from("catalog.toml"));
    run(args.command, &catalog, config).await
}

/// Reads and validates the catalog file: exit 2 on a parse error or an error finding;
/// warnings go to stderr.
pub fn load(path: &Path) -> Result<CatalogFile, CatalogError> {
    let file =
        CatalogFile::read(path).map_err(|e| CatalogError::new(EXIT_INVALID, format!("{e:#}")))?;
    let findings = validate::validate(&file);
    for f in &findings {
        eprintln!("{}: {f}", path.display());
    }
    let errors = findings
        .iter()
        .filter(|f| f.level == validate::Level::Error)
        .count();
    if errors > 0 {
        return Err(CatalogError::new(
            EXIT_INVALID,
            format!("{}: {errors} errors", path.display()),
        ));
    }
    Ok(file)
}

async fn run(command: CatalogCommand, catalog: &Path, config: &Config) -> Result<u8, CatalogError> {
    match command {
        CatalogCommand::Validate { json } => {
            let file = CatalogFile::read(catalog)
                .map_err(|e| CatalogError::new(EXIT_INVALID, format!("{e:#}")))?;
            let findings = validate::validate(&file);
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&findings).unwrap_or_default()
                );
            } else {
                for f in &findings {
                    println!("{}: {f}", catalog.display());
                }
            }
            let errors = findings
                .iter()
                .filter(|f| f.level == validate::Level::Error)
                .count();
            if errors > 0 {
                return Err(CatalogError::new(EXIT_INVALID, format!("{errors} errors")));
            }
            if !json {
                println!(
                    "{}: valid ({} one-time products, {} subscriptions)",
                    catalog.display(),
                    file.one_time_products.len(),
                    file.subscriptions.len()
                );
            }
            Ok(0)
        }
        CatalogCommand::MigratePrices { connection, args } => {
            let api = connect(&connection, config)?;
            migrate::migrate(&api, &args).await
        }
        CatalogCommand::Schema => {
            println!("{}", schema_text());
            Ok(0)
        }
        CatalogCommand::Pull(connection) => {
            let api = connect(&connection, config)?;
            let existing = CatalogFile::read(catalog).ok();
            let file = pull::pull(&api, existing.as_ref()).await?;
            write_atomically(catalog, &file.to_toml())?;
            println!(
                "{}: {} one-time products, {} subscriptions pulled ({} reads)",
                catalog.display(),
                file.one_time_products.len(),
                file.subscriptions.len(),
                api.stats().reads
            );
            Ok(0)
        }
        CatalogCommand::Plan {
            connection,
            tuning,
            json,
            exit_code,
        } => {
            let file = load(catalog)?;
            let api = connect(&connection, config)?;
            let plan = make_plan(&api, &file, &tuning.options()).await?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&plan).unwrap_or_default()
                );
            } else {
                print!("{}", plan::render(&plan));
            }
            if !plan.refusals.is_empty() {
                return Ok(EXIT_REFUSED);
            }
            Ok(if exit_code && !plan.is_empty() {
                EXIT_CHANGES
            } else {
                0
            })
        }
        CatalogCommand::Apply {
            connection,
            tuning,
            dry_run,
            yes,
            allow_delete,
            checkpoint,
        } => {
            let file = load(catalog)?;
            let api = connect(&connection, config)?;
            let plan = make_plan(&api, &file, &tuning.options()).await?;
            print!("{}", plan::render(&plan));
            if !plan.refusals.is_empty() {
                return Err(CatalogError::new(
                    EXIT_REFUSED,
                    format!(
                        "{} refused changes: nothing applied; fix the file as shown",
                        plan.refusals.len()
                    ),
                ));
            }
            if !plan.deletes.is_empty() && !allow_delete {
                return Err(CatalogError::new(
                    EXIT_REFUSED,
                    format!(
                        "{} deletes need --allow-delete: nothing applied",
                        plan.deletes.len()
                    ),
                ));
            }
            if dry_run || plan.is_empty() {
                return Ok(0);
            }
            if !yes && !confirm(&plan) {
                return Err(CatalogError::new(
                    EXIT_INVALID,
                    "apply changes the live catalog: confirm on a terminal or pass --yes",
                ));
            }
            let checkpoint = checkpoint.unwrap_or_else(|| {
                let mut p = catalog.to_path_buf().into_os_string();
                p.push(".checkpoint.json");
                PathBuf::from(p)
            });
            let options = apply::ApplyOptions {
                calls_per_minute: tuning.calls_per_minute,
                checkpoint,
            };
            let outcome = apply::apply(&api, &plan, &options).await;
            apply::report(&api, &plan, &outcome, &file, &tuning.options()).await
        }
    }
}

fn confirm(plan: &Plan) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!(
        "apply {} writes, {} state changes, {} deletes to the live catalog? [y/N] ",
        plan.writes.len(),
        plan.state_changes.len(),
        plan.deletes.len()
    );
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && answer.trim().eq_ignore_ascii_case("y")
}

/// The JSON Schema of the catalog file, as published in `catalog.schema.json`.
pub fn schema_text() -> String {
    serde_json::to_string_pretty(&CatalogFile::json_schema()).unwrap_or_default()
}

/// A client for `connection`, the configuration filling what its flags leave out.
pub fn connect(connection: &Connection, config: &Config) -> Result<CatalogApi, CatalogError> {
    let usage = |m: String| CatalogError::new(EXIT_INVALID, m);
    let required = |value: Option<String>, key: &str| {
        ConfigError::required(value.filter(|v| !v.is_empty()), key)
            .map_err(|e| usage(format!("{e} (or --{})", key.replace('_', "-"))))
    };
    let package_name = required(
        connection
            .package_name
            .clone()
            .or_else(|| Some(config.package_name.clone())),
        "package_name",
    )?;
    let key_path = PathBuf::from(required(
        connection
            .service_account_key
            .as_ref()
            .or(Some(&config.service_account_key))
            .map(|p| p.display().to_string()),
        "service_account_key",
    )?);
    let base_url = connection
        .play_api_base_url
        .clone()
        .unwrap_or_else(|| config.play_api_base_url.clone());
    let key = ServiceAccountKey::from_file(&key_path).map_err(|e| {
        usage(format!(
            "configuration key `service_account_key` ({}): {e}",
            key_path.display()
        ))
    })?;
    let http = crate::play::http_client(Duration::from_secs(60));
    let tokens = TokenSource::new(key, http.clone(), crate::metrics::Metrics::new())
        .map_err(|e| usage(format!("--service-account-key: {e}")))?;
    let defaults = &config.retry;
    let retry = RetryConfig {
        max_attempts: connection
            .max_attempts
            .and_then(NonZeroU32::new)
            .unwrap_or(defaults.max_attempts),
        base_delay: connection
            .retry_base_ms
            .map_or(defaults.base_delay, Duration::from_millis),
        max_delay: connection
            .retry_max_delay_ms
            .map_or(defaults.max_delay, Duration::from_millis),
        ..defaults.clone()
    };
    let metrics = crate::metrics::Metrics::new();
    let play = PlayClient::new(
        http,
        base_url,
        package_name,
        tokens,
        retry,
        Jitter::random(),
        metrics,
    );
    Ok(CatalogApi::new(play))
}

/// Writes `text` to `path` through a temporary file and a rename: a crash never leaves half
/// a catalog.
pub fn write_atomically(path: &Path, text: &str) -> Result<(), CatalogError> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CatalogError::new(1, format!("cannot write {}: {e}", path.display())))
}

/// The `-` of a path that stands for every product (and every base plan or purchase
/// option): Google's batch and list methods across a whole app.
pub(crate) const ANY: &str = "-";

/// A typed request of `play_model` as a body.
pub(crate) fn body(request: &impl serde::Serialize) -> Value {
    serde_json::to_value(request).expect("play_model requests serialize")
}

/// `method`'s answer read as a `T` of `play_model`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    method: &Method,
    answer: Value,
) -> Result<T, ApiFailure> {
    T::deserialize(answer)
        .map_err(|e| ApiFailure::Unavailable(format!("{} answered {e}", method.id)))
}

/// Every page of a monetization list, each read as its `List…Response` `P`.
pub(crate) async fn list_all<P: TokenPage>(
    api: &CatalogApi,
    method: &'static Method,
    args: &[&str],
) -> Result<Vec<P::Item>, ApiFailure> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![("pageSize", "1000".to_string())];
        if let Some(t) = token {
            query.push(("pageToken", t));
        }
        let page: P = typed(method, api.read(method, args, &query, None).await?)?;
        let (entries, next) = page.into_parts();
        out.extend(entries);
        match next {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

/// Every `OneTimeProduct` of the app.
pub(crate) async fn one_time_products(api: &CatalogApi) -> Result<Vec<OneTimeProduct>, ApiFailure> {
    list_all::<ListOneTimeProductsResponse>(api, &methods::MONETIZATION_ONETIMEPRODUCTS_LIST, &[])
        .await
}

/// Every `OneTimeProductOffer` of the app.
pub(crate) async fn one_time_offers(
    api: &CatalogApi,
) -> Result<Vec<OneTimeProductOffer>, ApiFailure> {
    list_all::<ListOneTimeProductOffersResponse>(
        api,
        &methods::MONETIZATION_ONETIMEPRODUCTS_PURCHASEOPTIONS_OFFERS_LIST,
        &[ANY, ANY],
    )
    .await
}

/// Every `Subscription` and `SubscriptionOffer` of the app.
pub(crate) async fn subscription_catalog(
    api: &CatalogApi,
) -> Result<(Vec<Subscription>, Vec<SubscriptionOffer>), ApiFailure> {
    let subscriptions =
        list_all::<ListSubscriptionsResponse>(api, &methods::MONETIZATION_SUBSCRIPTIONS_LIST, &[])
            .await?;
    let offers = list_all::<ListSubscriptionOffersResponse>(
        api,
        &methods::MONETIZATION_SUBSCRIPTIONS_BASEPLANS_OFFERS_LIST,
        &[ANY, ANY],
    )
    .await?;
    Ok((subscriptions, offers))
}

/// The live catalog.
pub async fn live(api: &CatalogApi) -> Result<Live, ApiFailure> {
    let products = one_time_products(api).await?;
    let one_time_offers = one_time_offers(api).await?;
    let (subscriptions, offers) = subscription_catalog(api).await?;
    Ok(Live {
        one_time_products: products
            .into_iter()
            .map(|p| (p.id().to_string(), p))
            .collect(),
        one_time_offers: one_time_offers.into_iter().map(|o| (o.key(), o)).collect(),
        subscriptions: subscriptions
            .into_iter()
            .map(|s| (s.id().to_string(), s))
            .collect(),
        offers: offers.into_iter().map(|o| (o.key(), o)).collect(),
    })
}

/// Converts every `auto_price` of `file` with `convertRegionPrices` (once per distinct
/// price) and settles the regions version (the file's, or the converter's for `auto`).
/// Returns the resolved file, the version and the conversions as strings.
pub async fn resolve(
    api: &CatalogApi,
    file: &CatalogFile,
) -> Result<
    (
        CatalogFile,
        String,
        BTreeMap<String, BTreeMap<String, String>>,
    ),
    ApiFailure,
> {
    let mut converted = BTreeMap::new();
    let mut version = None;
    let mut autos: Vec<String> = file.auto_prices().into_iter().collect();
    let auto_version = matches!(file.regions_version.as_deref(), None | Some("auto"));
    if autos.is_empty() && auto_version {
        // Only to learn the current regions version.
        autos.push(String::new());
    }
    for auto in &autos {
        let amount = Amount::parse(auto).unwrap_or(Amount {
            micros: 1_000_000,
            currency: *b"USD",
        });
        let request = ConvertRegionPricesRequest {
            price: Some(Money::from_micros(amount.micros, amount.currency())),
            product_tax_category_code: None,
        };
        let answer = api
            .read(
                &methods::MONETIZATION_CONVERTREGIONPRICES,
                &[],
                &[],
                Some(&body(&request)),
            )
            .await?;
        let answer: ConvertRegionPricesResponse =
            typed(&methods::MONETIZATION_CONVERTREGIONPRICES, answer)?;
        version = version.or(answer.region_version.and_then(|v| v.version));
        if auto.is_empty() {
            continue;
        }
        let regions: BTreeMap<String, Amount> = answer
            .converted_region_prices
            .into_iter()
            .filter_map(|(r, c)| {
                let price = c.price?;
                Some((r, Amount::new(price.micros()?, &price.currency_code)?))
            })
            .collect();
        converted.insert(auto.clone(), regions);
    }
    let mut resolved = file.clone();
    resolved.resolve_auto_prices(&converted);
    resolved.normalize_prices();
    let version = match file.regions_version.as_deref() {
        Some(v) if v != "auto" => v.to_string(),
        _ => version.unwrap_or_else(|| play_model::catalog_file::LATEST_REGIONS_VERSION.into()),
    };
    let shown = converted
        .into_iter()
        .map(|(a, r)| (a, r.into_iter().map(|(k, v)| (k, v.to_string())).collect()))
        .collect();
    Ok((resolved, version, shown))
}

/// Reads the live catalog, converts auto prices and plans.
pub async fn make_plan(
    api: &CatalogApi,
    file: &CatalogFile,
    options: &PlanOptions,
) -> Result<Plan, CatalogError> {
    let (resolved, version, converted) = resolve(api, file).await?;
    let live = live(api).await?;
    Ok(plan::plan(&resolved, &live, &version, converted, options))
}
