//! Configuration, in layers: the defaults, a TOML file (`--config FILE`), `PWA_BILLING_*`
//! environment variables, then command-line flags (`--set key=value`); a later layer wins.
//! Every error names the key it is about and where its value came from.
//!
//! A key `section.name` in the file is `PWA_BILLING_SECTION_NAME` in the environment
//! (`auth.jwks_url` ↔ `PWA_BILLING_AUTH_JWKS_URL`) and `--set section.name=value` on the
//! command line. Lists (`admin.api_keys`, `cors.allowed_origins`) are comma-separated
//! there, and `products` is `PWA_BILLING_PRODUCTS="coins_100=consumable,sub_monthly=subscription"`.
//! Variables starting with `PWA_BILLING_TEST_` belong to the test harness and are ignored;
//! `PWA_BILLING_CONFIG` names the file. [`keys`] lists every key.
//!
//! Built on figment: it keeps, for every value, the layer it came from, which is what the
//! errors need to say where a bad value was set (config-rs merges values without it).

mod admin;
mod auth;
mod console;
mod cors;
mod external_transactions;
mod layers;
mod limits;
pub mod quota;
mod reports;
mod retry;
mod rtdn;
mod types;
mod voided;
mod webhooks;
mod worker;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use smart_default::SmartDefault;
use url::Url;

pub use self::admin::AdminConfig;
pub use self::auth::AuthConfig;
pub use self::console::ConsoleConfig;
pub use self::cors::CorsConfig;
pub use self::external_transactions::{ExternalTransactionsConfig, GOOGLE_WRITES_PER_MINUTE};
pub use self::layers::Sources;
pub use self::limits::Limits;
pub use self::reports::{ReportsConfig, GOOGLE_STORAGE_BASE_URL};
pub use self::retry::RetryConfig;
pub use self::rtdn::{RtdnConfig, GOOGLE_OIDC_JWKS_URL};
pub use self::voided::VoidedConfig;
pub use self::webhooks::{EndpointConfig, WebhooksConfig};
pub use self::worker::WorkerConfig;
use crate::product::ProductKind;

/// Environment variable prefix.
pub const ENV_PREFIX: &str = "PWA_BILLING_";
/// Google's Play Developer API base URL.
pub const GOOGLE_PLAY_API_BASE_URL: &str = "https://androidpublisher.googleapis.com/";
/// Default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://pwa-billing.db";

/// The whole configuration; each section's keys are documented on its type.
#[serde_with::serde_as]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, SmartDefault)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listen address of `serve`.
    #[default(SocketAddr::from(([127, 0, 0, 1], 8080)))]
    pub listen: SocketAddr,
    /// The app's package name on Play (required).
    pub package_name: String,
    /// Path of the service-account key JSON, its `token_uri` used (required; mode 600).
    pub service_account_key: PathBuf,
    /// Base URL of the Play Developer API.
    #[serde_as(as = "types::HttpUrl")]
    #[default(Url::parse(GOOGLE_PLAY_API_BASE_URL).expect("constant URL"))]
    pub play_api_base_url: Url,
    /// `sqlite://…` (default) or `postgres://…`.
    #[default(DEFAULT_DATABASE_URL.into())]
    pub database_url: String,
    /// Whether test (license tester) purchases are granted; they are recorded as `test`
    /// either way.
    #[default(true)]
    pub accept_test_purchases: bool,
    /// The catalog file (`pwa-billing catalog`), which gives each product's kind.
    pub catalog: Option<PathBuf>,
    /// Each product id's kind (deprecated in the file: give kinds in the catalog file).
    /// Once loaded, every product the server sells, the catalog file's included; ids not
    /// listed are refused.
    pub products: BTreeMap<String, ProductKind>,
    /// Caller authentication.
    pub auth: AuthConfig,
    /// Server-to-server (admin) API keys.
    pub admin: AdminConfig,
    /// Request limits.
    pub limits: Limits,
    /// Allowed CORS origins.
    pub cors: CorsConfig,
    /// Google call retries.
    pub retry: RetryConfig,
    /// Durable job worker.
    pub worker: WorkerConfig,
    /// Real-time developer notifications.
    pub rtdn: RtdnConfig,
    /// The voided purchases poller.
    pub voided: VoidedConfig,
    /// Play's financial reports.
    pub reports: ReportsConfig,
    /// External transactions.
    pub external_transactions: ExternalTransactionsConfig,
    /// The operator console.
    pub console: ConsoleConfig,
    /// Pacing of Google's quota buckets.
    pub quota: quota::QuotaConfig,
    /// Webhooks to the app's backend.
    pub webhooks: WebhooksConfig,
}

/// A configuration that failed to load, naming the offending key and where its value came
/// from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("configuration key `{key}`{}: {message}", origin.as_ref().map(|o| format!(" ({o})")).unwrap_or_default())]
pub struct ConfigError {
    /// The dotted key (`auth.jwks_url`).
    pub key: String,
    /// Where the value came from (`from PWA_BILLING_AUTH_JWKS_URL`, `in app.toml`,
    /// `from --set auth.jwks_url`); `None` for a default or a missing value.
    pub origin: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ConfigError {
    /// An error about `key`, its origin not known yet.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            origin: None,
            message: message.into(),
        }
    }

    /// `value`, or an error saying that `key` is required and how to set it.
    pub fn required<T>(value: Option<T>, key: &str) -> Result<T, Self> {
        value.ok_or_else(|| {
            Self::new(
                key,
                format!(
                    "is required (in the file, as {} or with --set {key}=…)",
                    env_name(key)
                ),
            )
        })
    }
}

/// The environment variable of a dotted key (`auth.jwks_url` → `PWA_BILLING_AUTH_JWKS_URL`).
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

/// Every key, dotted (`limits.max_body_bytes`), from the default configuration: the keys
/// of the file, of the environment (through [`env_name`]) and of `--set`.
pub fn keys() -> Vec<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            _ => out.push(prefix.to_string()),
        }
    }
    let value = serde_json::to_value(Config::default()).expect("the defaults serialize");
    let mut out = Vec::new();
    walk("", &value, &mut out);
    out
}

impl Config {
    /// Loads the file (if any) and overlays the given `PWA_BILLING_*` variables.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Sources {
            file: file.map(Path::to_path_buf),
            env: env.into_iter().collect(),
            flags: Vec::new(),
        }
        .load()
    }

    /// Checks what types cannot say (required keys, keys that go together) and resolves
    /// `products` from the catalog file.
    pub fn validate(mut self) -> Result<Self, ConfigError> {
        let name = ConfigError::required(
            Some(&self.package_name).filter(|p| !p.is_empty()),
            "package_name",
        )?;
        if !play_model::ids::is_package_name(name) {
            let message = format!("`{name}` is not a package name like com.example.app");
            return Err(ConfigError::new("package_name", message));
        }
        let key = Some(&self.service_account_key).filter(|p| !p.as_os_str().is_empty());
        ConfigError::required(key, "service_account_key")?;
        if crate::db::Backend::of(&self.database_url).is_none() {
            let message = "must start with sqlite: or postgres:// (or postgresql://)";
            return Err(ConfigError::new("database_url", message));
        }
        self.auth.method()?;
        self.admin.validate()?;
        self.external_transactions.validate()?;
        self.webhooks.validate()?;
        let catalog = (self
            .catalog
            .as_deref()
            .map(play_model::CatalogFile::read)
            .transpose())
        .map_err(|e| ConfigError::new("catalog", format!("{e:#}")))?;
        self.products = crate::product::sold(catalog.as_ref(), std::mem::take(&mut self.products))
            .map_err(|(key, message)| ConfigError::new(key, message))?;
        if self.products.is_empty() {
            let how = format!(
                "set `catalog` ({}) to the catalog file",
                env_name("catalog")
            );
            return Err(ConfigError::new(
                "catalog",
                format!("no product: {how} (see `pwa-billing catalog`)"),
            ));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests;
