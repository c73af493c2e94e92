//! Configuration: a TOML file overlaid with `PWA_BILLING_*` environment variables (the
//! environment wins). Every error names the key it is about.
//!
//! A key `section.name` in the file is `PWA_BILLING_SECTION_NAME` in the environment
//! (`auth.jwks_url` ↔ `PWA_BILLING_AUTH_JWKS_URL`). `products` in the environment is a
//! list: `PWA_BILLING_PRODUCTS="coins_100=consumable,sub_monthly=subscription"`.
//! Variables starting with `PWA_BILLING_TEST_` belong to the test harness and are ignored.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_with::{serde_as, DisplayFromStr, PickFirst};
use url::Url;

/// Environment variable prefix.
pub const ENV_PREFIX: &str = "PWA_BILLING_";
/// Google's Play Developer API base URL.
pub const GOOGLE_PLAY_API_BASE_URL: &str = "https://androidpublisher.googleapis.com/";
/// Default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://pwa-billing.db";
/// Google's Cloud Storage base URL (the financial reports' bucket, JSON API).
pub const GOOGLE_STORAGE_BASE_URL: &str = "https://storage.googleapis.com/";
/// Google's JWKS, which verifies the OIDC tokens of Pub/Sub push requests.
pub const GOOGLE_OIDC_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// Sections of the file whose keys are addressed as `PWA_BILLING_<SECTION>_<KEY>`.
const SECTIONS: [&str; 10] = [
    "auth",
    "admin",
    "limits",
    "cors",
    "worker",
    "retry",
    "rtdn",
    "voided",
    "reports",
    "external_transactions",
];

/// A configuration that failed to load, naming the offending key.
#[derive(Debug, thiserror::Error)]
#[error("configuration key `{key}`{source_hint}: {message}")]
pub struct ConfigError {
    /// The dotted key (`auth.jwks_url`).
    pub key: String,
    /// Where the bad value came from.
    source_hint: String,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            source_hint: String::new(),
            message: message.into(),
        }
    }
}

/// The kind of a product, which decides how it is verified and settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    /// A one-time product that is consumed (its quantity granted once per token).
    Consumable,
    /// A one-time product owned for good.
    NonConsumable,
    /// A subscription (verified with subscriptionsv2).
    Subscription,
}

impl ProductKind {
    /// The snake_case name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consumable => "consumable",
            Self::NonConsumable => "non_consumable",
            Self::Subscription => "subscription",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "consumable" => Some(Self::Consumable),
            "non_consumable" => Some(Self::NonConsumable),
            "subscription" => Some(Self::Subscription),
            _ => None,
        }
    }
}

/// How callers authenticate: a bearer JWT whose `sub` is the account id.
#[derive(Debug, Clone)]
pub enum AuthConfig {
    /// HS256 with a shared secret (optionally checking `iss`/`aud`).
    Hs256 {
        /// The shared secret (at least 32 bytes).
        secret: String,
        /// Required `iss`, if set.
        issuer: Option<String>,
        /// Required `aud`, if set.
        audience: Option<String>,
    },
    /// Asymmetric tokens checked against a JWKS document.
    Jwks {
        /// Where the key set is fetched.
        url: Url,
        /// Required `iss`.
        issuer: String,
        /// Required `aud`.
        audience: String,
    },
}

/// Server-to-server credentials: the API keys that the admin and server-to-server endpoints
/// (the app's payment system, operators' tools) present as `Authorization: Bearer <key>`.
/// Browser users' JWTs are never accepted there, and these keys are never accepted as a
/// user's token.
#[derive(Clone, Default)]
pub struct AdminConfig {
    /// The accepted keys (each at least 32 bytes). Empty: those endpoints refuse every call.
    pub api_keys: Vec<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field(
                "api_keys",
                &format_args!("[{} key(s)]", self.api_keys.len()),
            )
            .finish()
    }
}

/// Request limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted request body (413 above).
    pub max_body_bytes: usize,
    /// Per-request timeout.
    pub request_timeout: Duration,
    /// Longest accepted purchase token.
    pub max_token_len: usize,
    /// Longest accepted item id.
    pub max_item_id_len: usize,
    /// Most purchases in one sync request.
    pub max_sync_purchases: usize,
    /// How long a pending purchase's last check with Google stands before a verification
    /// asks Google again.
    pub pending_recheck: Duration,
    /// How long a connection may take to send a complete request head (also when idle
    /// between keep-alive requests) before it is closed: slow or idle clients hold nothing.
    pub header_read_timeout: Duration,
    /// How long a purchase read from Google for a token not stored yet (Play's notification
    /// came first) serves the verification that follows instead of a second get.
    pub fetch_reuse: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
            max_token_len: 2048,
            max_item_id_len: 256,
            max_sync_purchases: 100,
            pending_recheck: Duration::from_secs(1),
            header_read_timeout: Duration::from_secs(10),
            fetch_reuse: Duration::from_secs(60),
        }
    }
}

/// Retry policy of Google calls made while a caller waits.
#[derive(Debug, Clone)]
pub struct RetryConfig {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff ceiling.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Timeout of one HTTP request to Google.
    pub request_timeout: Duration,
    /// `Retry-After` sent with a 503 when Google is unavailable.
    pub retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            request_timeout: Duration::from_secs(8),
            retry_after: Duration::from_secs(5),
        }
    }
}

/// The background worker that runs durable jobs (acknowledgements, consumption, …).
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Whether this replica runs jobs (at least one replica should).
    pub enabled: bool,
    /// How long a claimed job is reserved for this replica.
    pub lease: Duration,
    /// How often the outbox is polled when nothing wakes the worker.
    pub poll_interval: Duration,
    /// Jobs claimed at once.
    pub batch_size: u32,
    /// First retry delay ceiling of a failed job.
    pub backoff_base: Duration,
    /// Largest retry delay of a failed job.
    pub backoff_max: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_secs(5),
            batch_size: 16,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
        }
    }
}

/// Real-time developer notifications: how `POST /v1/rtdn` authenticates Pub/Sub push.
#[derive(Debug, Clone)]
pub struct RtdnConfig {
    /// The JWKS verifying the push OIDC tokens (default Google's).
    pub jwks_url: Url,
    /// The `aud` the push subscription puts in its tokens. Unset: every push is refused.
    pub audience: Option<String>,
    /// The push subscription's service account (`email` claim). Unset: every push is
    /// refused.
    pub service_account_email: Option<String>,
}

impl Default for RtdnConfig {
    fn default() -> Self {
        Self {
            jwks_url: Url::parse(GOOGLE_OIDC_JWKS_URL).expect("constant URL"),
            audience: None,
            service_account_email: None,
        }
    }
}

/// The voided purchases poller and the acknowledgement watchdog.
#[derive(Debug, Clone)]
pub struct VoidedConfig {
    /// Whether this replica polls (replicas take turns through a lease either way).
    pub enabled: bool,
    /// Time between two sweeps of `voidedpurchases.list`.
    pub poll_interval: Duration,
    /// Most `voidedpurchases.list` calls in one sweep (Google allows 30 per 30 s).
    pub max_pages: u32,
}

impl Default for VoidedConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval: Duration::from_secs(600),
            max_pages: 20,
        }
    }
}

/// Play's financial reports in Cloud Storage (`pwa-billing reports …`).
#[derive(Debug, Clone)]
pub struct ReportsConfig {
    /// The bucket Play Console writes the reports to (`pubsite_prod_rev_…`, from Play
    /// Console → Download reports → Financial → Copy Cloud Storage URI), without `gs://`.
    pub bucket: Option<String>,
    /// Base URL of the Cloud Storage JSON API.
    pub storage_base_url: Url,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        Self {
            bucket: None,
            storage_base_url: Url::parse(GOOGLE_STORAGE_BASE_URL).expect("constant URL"),
        }
    }
}

/// External transactions: pacing of the reports to Google and the deadline watchdog.
#[derive(Debug, Clone)]
pub struct ExternalTransactionsConfig {
    /// Creates and refunds a minute, all replicas together (Google allows 1,200; the default
    /// 1,188 leaves 1 % for network jitter and clock skew between replicas).
    pub writes_per_minute: u32,
    /// Age (since the payment) past which an unreported payment is logged as a warning.
    pub warn_after: Duration,
    /// How often the deadline watchdog looks.
    pub watchdog_interval: Duration,
}

impl Default for ExternalTransactionsConfig {
    fn default() -> Self {
        Self {
            writes_per_minute: 1188,
            warn_after: Duration::from_secs(3600),
            watchdog_interval: Duration::from_secs(60),
        }
    }
}

/// The whole configuration of `serve`.
#[derive(Debug, Clone)]
pub struct Config {
    /// Listen address.
    pub listen: SocketAddr,
    /// The app's package name on Play.
    pub package_name: String,
    /// Path of the service-account key JSON (its `token_uri` is used).
    pub service_account_key: PathBuf,
    /// Base URL of the Play Developer API.
    pub play_api_base_url: Url,
    /// `sqlite://…` (default) or `postgres://…`.
    pub database_url: String,
    /// Caller authentication.
    pub auth: AuthConfig,
    /// Server-to-server (admin) API keys.
    pub admin: AdminConfig,
    /// Each product id's kind; ids not listed are refused.
    pub products: BTreeMap<String, ProductKind>,
    /// Request limits.
    pub limits: Limits,
    /// Allowed CORS origins (`*` for any; empty: no CORS headers).
    pub cors_allowed_origins: Vec<String>,
    /// Google call retries.
    pub retry: RetryConfig,
    /// Durable job worker.
    pub worker: WorkerConfig,
    /// Whether test (license tester) purchases are granted; they are recorded as `test`
    /// either way.
    pub accept_test_purchases: bool,
    /// Real-time developer notifications.
    pub rtdn: RtdnConfig,
    /// The voided purchases poller.
    pub voided: VoidedConfig,
    /// Play's financial reports.
    pub reports: ReportsConfig,
    /// External transactions.
    pub external_transactions: ExternalTransactionsConfig,
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    listen: Option<SocketAddr>,
    package_name: Option<String>,
    service_account_key: Option<PathBuf>,
    play_api_base_url: Option<Url>,
    database_url: Option<String>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    accept_test_purchases: Option<bool>,
    #[serde(default)]
    auth: RawAuth,
    #[serde(default)]
    admin: RawAdmin,
    catalog: Option<PathBuf>,
    #[serde(default)]
    products: BTreeMap<String, ProductKind>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    cors: RawCors,
    #[serde(default)]
    retry: RawRetry,
    #[serde(default)]
    worker: RawWorker,
    #[serde(default)]
    rtdn: RawRtdn,
    #[serde(default)]
    voided: RawVoided,
    #[serde(default)]
    reports: RawReports,
    #[serde(default)]
    external_transactions: RawExternalTransactions,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReports {
    bucket: Option<String>,
    storage_base_url: Option<Url>,
}

impl RawReports {
    fn validate(self) -> Result<ReportsConfig, ConfigError> {
        let bucket = match self.bucket.map(|b| b.trim().to_string()) {
            None => None,
            Some(b) if b.is_empty() => None,
            Some(b) => {
                Some(validate_bucket(&b).map_err(|m| ConfigError::new("reports.bucket", m))?)
            }
        };
        let storage_base_url = self
            .storage_base_url
            .unwrap_or_else(|| ReportsConfig::default().storage_base_url);
        if !matches!(storage_base_url.scheme(), "http" | "https") {
            return Err(ConfigError::new(
                "reports.storage_base_url",
                "must be an http(s) URL",
            ));
        }
        Ok(ReportsConfig {
            bucket,
            storage_base_url,
        })
    }
}

/// A bucket name as Play Console shows it (`pubsite_prod_rev_…`, with or without `gs://`),
/// checked against Cloud Storage's naming rules; returns the bare name.
pub fn validate_bucket(name: &str) -> Result<String, String> {
    let bare = name
        .trim()
        .trim_start_matches("gs://")
        .trim_end_matches('/');
    let ok = (3..=222).contains(&bare.len())
        && bare
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        && bare.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bare.ends_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(bare.to_string())
    } else {
        Err(format!(
            "`{name}` is not a Cloud Storage bucket name like pubsite_prod_rev_01234567890987654321 \
             (Play Console → Download reports → Financial → Copy Cloud Storage URI)"
        ))
    }
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExternalTransactions {
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    writes_per_minute: Option<u32>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    warn_after_secs: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    watchdog_interval_secs: Option<u64>,
}

impl RawExternalTransactions {
    fn validate(self) -> Result<ExternalTransactionsConfig, ConfigError> {
        let d = ExternalTransactionsConfig::default();
        let writes_per_minute = positive(
            self.writes_per_minute.unwrap_or(d.writes_per_minute).into(),
            "external_transactions.writes_per_minute",
        )?;
        if writes_per_minute > 1200 {
            return Err(ConfigError::new(
                "external_transactions.writes_per_minute",
                "must be at most 1200, Google's limit of external transaction creates and refunds a minute (ask Google for more quota first)",
            ));
        }
        Ok(ExternalTransactionsConfig {
            writes_per_minute: writes_per_minute as u32,
            warn_after: Duration::from_secs(positive(
                self.warn_after_secs.unwrap_or(d.warn_after.as_secs()),
                "external_transactions.warn_after_secs",
            )?),
            watchdog_interval: Duration::from_secs(positive(
                self.watchdog_interval_secs
                    .unwrap_or(d.watchdog_interval.as_secs()),
                "external_transactions.watchdog_interval_secs",
            )?),
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRtdn {
    jwks_url: Option<Url>,
    audience: Option<String>,
    service_account_email: Option<String>,
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVoided {
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    enabled: Option<bool>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    poll_interval_secs: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    max_pages: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    jwt_hs256_secret: Option<String>,
    jwks_url: Option<Url>,
    issuer: Option<String>,
    audience: Option<String>,
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    max_body_bytes: Option<usize>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    request_timeout_secs: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    max_token_len: Option<usize>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    max_item_id_len: Option<usize>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    max_sync_purchases: Option<usize>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    pending_recheck_ms: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    header_read_timeout_secs: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    fetch_reuse_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    api_keys: Option<StringList>,
}

impl RawAdmin {
    fn validate(self) -> Result<AdminConfig, ConfigError> {
        let api_keys = self.api_keys.map(StringList::into_vec).unwrap_or_default();
        if api_keys.iter().any(|k| k.len() < 32) {
            return Err(ConfigError::new(
                "admin.api_keys",
                "every key must be at least 32 bytes long (e.g. `openssl rand -hex 32`)",
            ));
        }
        if api_keys.iter().any(|k| k.contains('.')) {
            return Err(ConfigError::new(
                "admin.api_keys",
                "a key must not contain `.`, so that it can never be taken for a JWT",
            ));
        }
        Ok(AdminConfig { api_keys })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCors {
    allowed_origins: Option<StringList>,
}

/// A list given as a TOML array or as a comma-separated string (environment).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StringList {
    List(Vec<String>),
    Csv(String),
}

impl StringList {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::List(v) => v,
            Self::Csv(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
        }
    }
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRetry {
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    max_attempts: Option<u32>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    base_delay_ms: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    max_delay_ms: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    request_timeout_secs: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    retry_after_secs: Option<u64>,
}

#[serde_as]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorker {
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    enabled: Option<bool>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    lease_secs: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    poll_interval_ms: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    batch_size: Option<u32>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    backoff_base_ms: Option<u64>,
    #[serde_as(as = "Option<PickFirst<(_, DisplayFromStr)>>")]
    #[serde(default)]
    backoff_max_secs: Option<u64>,
}

impl Config {
    /// Loads the file (if any) and overlays the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_from(file, std::env::vars())
    }

    /// Loads the file (if any) and overlays the given `PWA_BILLING_*` variables.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::new("--config", format!("cannot read {}: {e}", path.display()))
                })?;
                text.parse::<toml::Table>().map_err(|e| {
                    ConfigError::new(
                        "--config",
                        format!("{} is not valid TOML: {}", path.display(), e.message()),
                    )
                })?
            }
            None => toml::Table::new(),
        };
        let from_env = overlay_env(&mut table, env)?;
        let raw: RawConfig =
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
                let key = e.path().to_string();
                let hint = from_env
                    .iter()
                    .find(|(k, _)| key.starts_with(k.as_str()))
                    .map(|(_, var)| format!(" (from {var})"))
                    .unwrap_or_default();
                ConfigError {
                    key,
                    source_hint: hint,
                    message: e.into_inner().to_string(),
                }
            })?;
        raw.validate()
    }
}

/// Copies `PWA_BILLING_*` variables into the table; returns the keys set, with their variable.
fn overlay_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<BTreeSet<(String, String)>, ConfigError> {
    let mut set = BTreeSet::new();
    for (var, value) in env {
        let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if rest.starts_with("TEST_") {
            continue;
        }
        let name = rest.to_ascii_lowercase();
        if name == "products" {
            let mut products = toml::Table::new();
            for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (id, kind) = entry.split_once('=').ok_or_else(|| ConfigError {
                    key: "products".into(),
                    source_hint: format!(" (from {var})"),
                    message: format!("`{entry}` is not `product_id=kind`"),
                })?;
                products.insert(id.trim().into(), toml::Value::String(kind.trim().into()));
            }
            table.insert("products".into(), toml::Value::Table(products));
            set.insert(("products".into(), var));
            continue;
        }
        let section = SECTIONS.iter().find(|s| {
            name.strip_prefix(**s)
                .is_some_and(|r| r.starts_with('_') && r.len() > 1)
        });
        match section {
            Some(section) => {
                let key = name[section.len() + 1..].to_string();
                let entry = table
                    .entry(section.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let toml::Value::Table(sub) = entry else {
                    return Err(ConfigError::new(*section, "must be a table"));
                };
                sub.insert(key.clone(), toml::Value::String(value));
                set.insert((format!("{section}.{key}"), var));
            }
            None => {
                table.insert(name.clone(), toml::Value::String(value));
                set.insert((name, var));
            }
        }
    }
    Ok(set)
}

/// Each product id's kind: from the catalog file (`catalog`: one-time products by their
/// `kind`, subscriptions as such), then the deprecated `[products]` table (a warning; an id
/// in both must agree).
fn product_kinds(
    catalog: Option<&Path>,
    listed: BTreeMap<String, ProductKind>,
) -> Result<BTreeMap<String, ProductKind>, ConfigError> {
    let mut products = match catalog {
        Some(path) => {
            let file = play_model::CatalogFile::read(path)
                .map_err(|e| ConfigError::new("catalog", format!("{e:#}")))?;
            crate::catalog::product_kinds(&file)
        }
        None => BTreeMap::new(),
    };
    if !listed.is_empty() {
        tracing::warn!(
            "configuration key `products` is deprecated: give each product's kind in the catalog file (configuration key `catalog`, see `pwa-billing catalog`)"
        );
    }
    for (id, kind) in listed {
        match products.get(&id) {
            Some(k) if *k != kind => {
                return Err(ConfigError::new(
                    format!("products.{id}"),
                    format!(
                        "is {} but the catalog file says {}",
                        kind.as_str(),
                        k.as_str()
                    ),
                ))
            }
            _ => {
                products.insert(id, kind);
            }
        }
    }
    if products.is_empty() {
        return Err(ConfigError::new(
            "catalog",
            format!(
                "no product: set `catalog` ({}) to the catalog file (see `pwa-billing catalog`)",
                env_name("catalog")
            ),
        ));
    }
    Ok(products)
}

fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

fn required<T>(value: Option<T>, key: &str) -> Result<T, ConfigError> {
    value.ok_or_else(|| {
        ConfigError::new(
            key,
            format!("is required (in the file or as {})", env_name(key)),
        )
    })
}

fn positive(value: u64, key: &str) -> Result<u64, ConfigError> {
    if value == 0 {
        return Err(ConfigError::new(key, "must be greater than 0"));
    }
    Ok(value)
}

impl RawConfig {
    fn validate(self) -> Result<Config, ConfigError> {
        let package_name = required(self.package_name, "package_name")?;
        if package_name.is_empty()
            || !package_name
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        {
            return Err(ConfigError::new(
                "package_name",
                format!("`{package_name}` is not a package name like com.example.app"),
            ));
        }
        let service_account_key = required(self.service_account_key, "service_account_key")?;
        let play_api_base_url = match self.play_api_base_url {
            Some(u) => u,
            None => Url::parse(GOOGLE_PLAY_API_BASE_URL).expect("constant URL"),
        };
        if !matches!(play_api_base_url.scheme(), "http" | "https") {
            return Err(ConfigError::new(
                "play_api_base_url",
                "must be an http(s) URL",
            ));
        }
        let database_url = self
            .database_url
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "database_url",
                "must start with sqlite: or postgres:// (or postgresql://)",
            ));
        }
        let auth = self.auth.validate()?;
        let admin = self.admin.validate()?;
        let reports = self.reports.validate()?;
        let products = product_kinds(self.catalog.as_deref(), self.products)?;
        let d = Limits::default();
        let l = self.limits;
        let limits = Limits {
            max_body_bytes: positive(
                l.max_body_bytes.unwrap_or(d.max_body_bytes) as u64,
                "limits.max_body_bytes",
            )? as usize,
            request_timeout: Duration::from_secs(positive(
                l.request_timeout_secs
                    .unwrap_or(d.request_timeout.as_secs()),
                "limits.request_timeout_secs",
            )?),
            max_token_len: positive(
                l.max_token_len.unwrap_or(d.max_token_len) as u64,
                "limits.max_token_len",
            )? as usize,
            max_item_id_len: positive(
                l.max_item_id_len.unwrap_or(d.max_item_id_len) as u64,
                "limits.max_item_id_len",
            )? as usize,
            max_sync_purchases: positive(
                l.max_sync_purchases.unwrap_or(d.max_sync_purchases) as u64,
                "limits.max_sync_purchases",
            )? as usize,
            pending_recheck: l
                .pending_recheck_ms
                .map(Duration::from_millis)
                .unwrap_or(d.pending_recheck),
            header_read_timeout: Duration::from_secs(positive(
                l.header_read_timeout_secs
                    .unwrap_or(d.header_read_timeout.as_secs()),
                "limits.header_read_timeout_secs",
            )?),
            fetch_reuse: l
                .fetch_reuse_ms
                .map(Duration::from_millis)
                .unwrap_or(d.fetch_reuse),
        };
        let d = RetryConfig::default();
        let r = self.retry;
        let retry = RetryConfig {
            max_attempts: positive(
                r.max_attempts.unwrap_or(d.max_attempts).into(),
                "retry.max_attempts",
            )? as u32,
            base_delay: r
                .base_delay_ms
                .map(Duration::from_millis)
                .unwrap_or(d.base_delay),
            max_delay: r
                .max_delay_ms
                .map(Duration::from_millis)
                .unwrap_or(d.max_delay),
            request_timeout: Duration::from_secs(positive(
                r.request_timeout_secs
                    .unwrap_or(d.request_timeout.as_secs()),
                "retry.request_timeout_secs",
            )?),
            retry_after: Duration::from_secs(positive(
                r.retry_after_secs.unwrap_or(d.retry_after.as_secs()),
                "retry.retry_after_secs",
            )?),
        };
        let d = WorkerConfig::default();
        let w = self.worker;
        let worker = WorkerConfig {
            enabled: w.enabled.unwrap_or(d.enabled),
            lease: Duration::from_secs(positive(
                w.lease_secs.unwrap_or(d.lease.as_secs()),
                "worker.lease_secs",
            )?),
            poll_interval: Duration::from_millis(positive(
                w.poll_interval_ms
                    .unwrap_or(d.poll_interval.as_millis() as u64),
                "worker.poll_interval_ms",
            )?),
            batch_size: positive(
                w.batch_size.unwrap_or(d.batch_size).into(),
                "worker.batch_size",
            )? as u32,
            backoff_base: w
                .backoff_base_ms
                .map(Duration::from_millis)
                .unwrap_or(d.backoff_base),
            backoff_max: w
                .backoff_max_secs
                .map(Duration::from_secs)
                .unwrap_or(d.backoff_max),
        };
        let d = VoidedConfig::default();
        let v = self.voided;
        let voided = VoidedConfig {
            enabled: v.enabled.unwrap_or(d.enabled),
            poll_interval: Duration::from_secs(positive(
                v.poll_interval_secs.unwrap_or(d.poll_interval.as_secs()),
                "voided.poll_interval_secs",
            )?),
            max_pages: positive(
                v.max_pages.unwrap_or(d.max_pages).into(),
                "voided.max_pages",
            )? as u32,
        };
        let rtdn = RtdnConfig {
            jwks_url: self
                .rtdn
                .jwks_url
                .unwrap_or_else(|| RtdnConfig::default().jwks_url),
            audience: self.rtdn.audience.filter(|a| !a.is_empty()),
            service_account_email: self.rtdn.service_account_email.filter(|e| !e.is_empty()),
        };
        if !matches!(rtdn.jwks_url.scheme(), "http" | "https") {
            return Err(ConfigError::new("rtdn.jwks_url", "must be an http(s) URL"));
        }
        Ok(Config {
            listen: self
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            package_name,
            service_account_key,
            play_api_base_url,
            database_url,
            auth,
            admin,
            products,
            limits,
            cors_allowed_origins: self
                .cors
                .allowed_origins
                .map(StringList::into_vec)
                .unwrap_or_default(),
            retry,
            worker,
            accept_test_purchases: self.accept_test_purchases.unwrap_or(true),
            rtdn,
            voided,
            reports,
            external_transactions: self.external_transactions.validate()?,
        })
    }
}

impl RawAuth {
    fn validate(self) -> Result<AuthConfig, ConfigError> {
        match (self.jwt_hs256_secret, self.jwks_url) {
            (Some(_), Some(_)) => Err(ConfigError::new(
                "auth.jwt_hs256_secret",
                "set either auth.jwt_hs256_secret or auth.jwks_url, not both",
            )),
            (None, None) => Err(ConfigError::new(
                "auth",
                format!(
                    "set auth.jwt_hs256_secret ({}) or auth.jwks_url with auth.issuer and auth.audience",
                    env_name("auth.jwt_hs256_secret")
                ),
            )),
            (Some(secret), None) => {
                if secret.len() < 32 {
                    return Err(ConfigError::new(
                        "auth.jwt_hs256_secret",
                        "must be at least 32 bytes long",
                    ));
                }
                Ok(AuthConfig::Hs256 { secret, issuer: self.issuer, audience: self.audience })
            }
            (None, Some(url)) => Ok(AuthConfig::Jwks {
                url,
                issuer: required(self.issuer, "auth.issuer")?,
                audience: required(self.audience, "auth.audience")?,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn minimal() -> Vec<(String, String)> {
        [
            ("PWA_BILLING_PACKAGE_NAME", "com.example.app"),
            ("PWA_BILLING_SERVICE_ACCOUNT_KEY", "/key.json"),
            ("PWA_BILLING_AUTH_JWT_HS256_SECRET", SECRET),
            (
                "PWA_BILLING_PRODUCTS",
                "coins_100=consumable, sub_monthly=subscription",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn with(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut env = minimal();
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    #[test]
    fn env_alone_is_enough_and_defaults_apply() {
        let c = Config::load_from(None, minimal()).unwrap();
        assert_eq!(c.package_name, "com.example.app");
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.play_api_base_url.as_str(), GOOGLE_PLAY_API_BASE_URL);
        assert_eq!(c.products["coins_100"], ProductKind::Consumable);
        assert_eq!(c.products["sub_monthly"], ProductKind::Subscription);
        assert!(matches!(c.auth, AuthConfig::Hs256 { .. }));
        assert_eq!(c.limits.max_body_bytes, 64 * 1024);
    }

    #[test]
    fn env_wins_over_file_and_numbers_parse_from_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\npackage_name = \"com.file.app\"\n[limits]\nmax_body_bytes = 100\n[products]\npremium = \"non_consumable\"\n",
        )
        .unwrap();
        let env = vec![
            (
                "PWA_BILLING_PACKAGE_NAME".to_string(),
                "com.env.app".to_string(),
            ),
            ("PWA_BILLING_SERVICE_ACCOUNT_KEY".into(), "/k.json".into()),
            ("PWA_BILLING_AUTH_JWT_HS256_SECRET".into(), SECRET.into()),
            ("PWA_BILLING_LIMITS_MAX_BODY_BYTES".into(), "2048".into()),
            ("PWA_BILLING_WORKER_ENABLED".into(), "false".into()),
            (
                "PWA_BILLING_TEST_DATABASE_URL".into(),
                "postgres://ignored".into(),
            ),
        ];
        let c = Config::load_from(Some(&path), env).unwrap();
        assert_eq!(c.package_name, "com.env.app");
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.limits.max_body_bytes, 2048);
        assert!(!c.worker.enabled);
        assert_eq!(c.products["premium"], ProductKind::NonConsumable);
    }

    #[test]
    fn rtdn_and_voided_keys() {
        let c = Config::load_from(None, minimal()).unwrap();
        assert_eq!(c.rtdn.jwks_url.as_str(), GOOGLE_OIDC_JWKS_URL);
        assert_eq!(
            (c.rtdn.audience, c.rtdn.service_account_email),
            (None, None)
        );
        assert!(c.voided.enabled);
        assert_eq!(c.voided.poll_interval, Duration::from_secs(600));
        let c = Config::load_from(
            None,
            with(&[
                ("PWA_BILLING_RTDN_AUDIENCE", "https://b.example/v1/rtdn"),
                (
                    "PWA_BILLING_RTDN_SERVICE_ACCOUNT_EMAIL",
                    "push@p.iam.gserviceaccount.com",
                ),
                ("PWA_BILLING_RTDN_JWKS_URL", "http://127.0.0.1:1/certs"),
                ("PWA_BILLING_VOIDED_ENABLED", "false"),
                ("PWA_BILLING_VOIDED_POLL_INTERVAL_SECS", "60"),
                ("PWA_BILLING_VOIDED_MAX_PAGES", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.rtdn.audience.as_deref(),
            Some("https://b.example/v1/rtdn")
        );
        assert_eq!(
            c.rtdn.service_account_email.as_deref(),
            Some("push@p.iam.gserviceaccount.com")
        );
        assert_eq!(c.rtdn.jwks_url.as_str(), "http://127.0.0.1:1/certs");
        assert!(!c.voided.enabled);
        assert_eq!(c.voided.poll_interval, Duration::from_secs(60));
        assert_eq!(c.voided.max_pages, 5);
        let err = |extra: &[(&str, &str)]| Config::load_from(None, with(extra)).unwrap_err().key;
        assert_eq!(
            err(&[("PWA_BILLING_RTDN_JWKS_URL", "ftp://x/certs")]),
            "rtdn.jwks_url"
        );
        assert_eq!(
            err(&[("PWA_BILLING_VOIDED_POLL_INTERVAL_SECS", "0")]),
            "voided.poll_interval_secs"
        );
    }

    #[test]
    fn external_transactions_keys() {
        let c = Config::load_from(None, with(&[])).unwrap();
        assert_eq!(c.external_transactions.writes_per_minute, 1188);
        let c = Config::load_from(
            None,
            with(&[
                ("PWA_BILLING_EXTERNAL_TRANSACTIONS_WRITES_PER_MINUTE", "600"),
                ("PWA_BILLING_EXTERNAL_TRANSACTIONS_WARN_AFTER_SECS", "1800"),
                (
                    "PWA_BILLING_EXTERNAL_TRANSACTIONS_WATCHDOG_INTERVAL_SECS",
                    "5",
                ),
            ]),
        )
        .unwrap();
        let et = &c.external_transactions;
        assert_eq!(et.writes_per_minute, 600);
        assert_eq!(et.warn_after, Duration::from_secs(1800));
        assert_eq!(et.watchdog_interval, Duration::from_secs(5));
        let err = |extra: &[(&str, &str)]| Config::load_from(None, with(extra)).unwrap_err();
        let e = err(&[(
            "PWA_BILLING_EXTERNAL_TRANSACTIONS_WRITES_PER_MINUTE",
            "1201",
        )]);
        assert_eq!(e.key, "external_transactions.writes_per_minute");
        assert!(e.to_string().contains("1200"), "{e}");
        assert_eq!(
            err(&[("PWA_BILLING_EXTERNAL_TRANSACTIONS_WARN_AFTER_SECS", "0")]).key,
            "external_transactions.warn_after_secs"
        );
    }

    #[test]
    fn errors_name_the_key() {
        let err = |env: Vec<(String, String)>| Config::load_from(None, env).unwrap_err();
        let e = err(with(&[("PWA_BILLING_LIMITS_MAX_BODY_BYTES", "lots")]));
        assert_eq!(e.key, "limits.max_body_bytes");
        assert!(
            e.to_string().contains("PWA_BILLING_LIMITS_MAX_BODY_BYTES"),
            "{e}"
        );
        assert_eq!(err(with(&[("PWA_BILLING_LISTEN", "nope")])).key, "listen");
        assert_eq!(
            err(with(&[("PWA_BILLING_PRODUCTS", "a=gadget")])).key,
            "products.a"
        );
        assert_eq!(
            err(with(&[("PWA_BILLING_DATABASE_URL", "mysql://x")])).key,
            "database_url"
        );
        assert_eq!(
            err(with(&[("PWA_BILLING_AUTH_JWT_HS256_SECRET", "short")])).key,
            "auth.jwt_hs256_secret"
        );
        assert_eq!(
            err(with(&[("PWA_BILLING_AUTH_JWKS_URL", "https://x/jwks")])).key,
            "auth.jwt_hs256_secret"
        );
        assert_eq!(
            err(with(&[("PWA_BILLING_FROBNICATE", "1")])).key,
            "frobnicate"
        );
        assert_eq!(
            err(with(&[("PWA_BILLING_WORKER_LEASE_SECS", "0")])).key,
            "worker.lease_secs"
        );
        let missing: Vec<_> = minimal()
            .into_iter()
            .filter(|(k, _)| k != "PWA_BILLING_PACKAGE_NAME")
            .collect();
        let e = err(missing);
        assert_eq!(e.key, "package_name");
        assert!(e.to_string().contains("PWA_BILLING_PACKAGE_NAME"), "{e}");
    }

    #[test]
    fn jwks_needs_issuer_and_audience() {
        let env: Vec<_> = minimal()
            .into_iter()
            .filter(|(k, _)| k != "PWA_BILLING_AUTH_JWT_HS256_SECRET")
            .chain([(
                "PWA_BILLING_AUTH_JWKS_URL".to_string(),
                "https://id.example/jwks".to_string(),
            )])
            .collect();
        assert_eq!(
            Config::load_from(None, env.clone()).unwrap_err().key,
            "auth.issuer"
        );
        let mut env = env;
        env.push((
            "PWA_BILLING_AUTH_ISSUER".into(),
            "https://id.example".into(),
        ));
        env.push(("PWA_BILLING_AUTH_AUDIENCE".into(), "pwa".into()));
        assert!(matches!(
            Config::load_from(None, env).unwrap().auth,
            AuthConfig::Jwks { .. }
        ));
    }

    #[test]
    fn admin_api_keys_from_file_or_env() {
        let c = Config::load_from(None, minimal()).unwrap();
        assert!(c.admin.api_keys.is_empty());
        let k1 = "k".repeat(32);
        let k2 = "0123456789abcdef".repeat(4);
        let c = Config::load_from(
            None,
            with(&[("PWA_BILLING_ADMIN_API_KEYS", &format!("{k1}, {k2}"))]),
        )
        .unwrap();
        assert_eq!(c.admin.api_keys, vec![k1.clone(), k2]);
        assert!(
            !format!("{c:?}").contains(&k1),
            "keys never show in Debug output"
        );
        let err = |v: &str| {
            Config::load_from(None, with(&[("PWA_BILLING_ADMIN_API_KEYS", v)]))
                .unwrap_err()
                .key
        };
        assert_eq!(err("short"), "admin.api_keys");
        assert_eq!(err(&format!("{k1}.x")), "admin.api_keys");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, format!("[admin]\napi_keys = [\"{k1}\"]\n")).unwrap();
        let c = Config::load_from(Some(&path), minimal()).unwrap();
        assert_eq!(c.admin.api_keys, vec![k1]);
    }

    #[test]
    fn reports_bucket_and_storage_url_from_file_or_env() {
        let c = Config::load_from(None, minimal()).unwrap();
        assert_eq!(c.reports.bucket, None);
        assert_eq!(c.reports.storage_base_url.as_str(), GOOGLE_STORAGE_BASE_URL);
        let c = Config::load_from(
            None,
            with(&[
                (
                    "PWA_BILLING_REPORTS_BUCKET",
                    "gs://pubsite_prod_rev_0123456789/",
                ),
                (
                    "PWA_BILLING_REPORTS_STORAGE_BASE_URL",
                    "http://127.0.0.1:4443/",
                ),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.reports.bucket.as_deref(),
            Some("pubsite_prod_rev_0123456789")
        );
        assert_eq!(
            c.reports.storage_base_url.as_str(),
            "http://127.0.0.1:4443/"
        );
        let e = Config::load_from(None, with(&[("PWA_BILLING_REPORTS_BUCKET", "Bad Bucket")]))
            .unwrap_err();
        assert_eq!(e.key, "reports.bucket", "{e}");
        assert!(e.to_string().contains("Copy Cloud Storage URI"), "{e}");
        let e = Config::load_from(
            None,
            with(&[("PWA_BILLING_REPORTS_STORAGE_BASE_URL", "ftp://x/")]),
        )
        .unwrap_err();
        assert_eq!(e.key, "reports.storage_base_url", "{e}");
    }

    #[test]
    fn unknown_file_keys_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[limits]\nmax_bodyy = 1\n").unwrap();
        let e = Config::load_from(Some(&path), minimal()).unwrap_err();
        assert!(e.key.starts_with("limits"), "{e}");
        assert!(e.to_string().contains("max_bodyy"), "{e}");
    }

    #[test]
    fn fetch_reuse_key() {
        let c = Config::load_from(None, minimal()).unwrap();
        assert_eq!(c.limits.fetch_reuse, Duration::from_secs(60));
        let c =
            Config::load_from(None, with(&[("PWA_BILLING_LIMITS_FETCH_REUSE_MS", "0")])).unwrap();
        assert_eq!(c.limits.fetch_reuse, Duration::ZERO);
        let e = Config::load_from(None, with(&[("PWA_BILLING_LIMITS_FETCH_REUSE_MS", "soon")]))
            .unwrap_err();
        assert_eq!(e.key, "limits.fetch_reuse_ms");
    }
}
