//! The emulator's configuration: package, catalog, RTDN push, quotas.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;

/// Everything that can be configured. `Config::default()` is the binary's defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (the binary and [`crate::Emulator::bind`]); loopback by default.
    pub host: IpAddr,
    /// Port (0: any free port). Default 8090.
    pub port: u16,
    /// The URL this emulator is reached at (service-account `token_uri`, RTDN defaults).
    /// Default: `http://{host}:{port}` once bound.
    pub base_url: Option<String>,
    /// The one application package this emulator serves. Default `com.example.pwa`.
    pub package_name: String,
    /// The device account that device-side purchases (and control-API purchases without an
    /// `accountId`) belong to.
    pub device_account: String,
    /// Catalog loaded at start and after `reset`.
    #[serde(skip)]
    pub catalog: Catalog,
    /// Real-time developer notifications.
    pub rtdn: RtdnConfig,
    /// Quotas per bucket.
    pub quotas: Quotas,
    /// The app moved to the new one-time product model: the legacy `inappproducts` API
    /// answers 403 "Please migrate to the new publishing API." (default false).
    pub inappproducts_migrated: bool,
    /// RSA key size for the service-account and OIDC keys.
    pub key_bits: usize,
    /// Reuse one set of keys for every emulator of this process that sets this (made by
    /// the first): test suites that start many emulators save the RSA key generation (up
    /// to a second or two each). Emulators stay isolated: an assertion's `aud` names one
    /// emulator's `/token`, and access tokens are per emulator.
    pub share_keys: bool,
    /// The Cloud Storage bucket serving the financial reports. Default
    /// `pubsite_prod_rev_01234567890987654321`.
    pub reports_bucket: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8090,
            base_url: None,
            package_name: "com.example.pwa".into(),
            device_account: "device-account".into(),
            catalog: Catalog::demo(),
            rtdn: RtdnConfig::default(),
            quotas: Quotas::default(),
            inappproducts_migrated: false,
            key_bits: 2048,
            share_keys: false,
            reports_bucket: crate::storage::DEFAULT_BUCKET.into(),
        }
    }
}

impl Config {
    /// Reads a TOML (or, by extension `.json`, JSON) configuration file. Its `catalog` key,
    /// if any, is a path to a catalog file, relative to the configuration file.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let mut value: serde_json::Value = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text)?
        } else {
            let v: toml::Value =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            serde_json::to_value(v)?
        };
        let catalog_path = value.as_object_mut().and_then(|o| o.remove("catalog"));
        let mut config: Config = serde_json::from_value(value)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        if let Some(p) = catalog_path {
            let p = p
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("catalog must be a path"))?;
            let base = path.parent().unwrap_or(Path::new("."));
            config.catalog = Catalog::from_file(&base.join(p))?;
        }
        Ok(config)
    }
}

/// Where and how RTDNs are pushed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RtdnConfig {
    /// Push endpoint; without it notifications are only recorded (`GET /emulator/v1/notifications`).
    pub push_url: Option<String>,
    /// The OIDC token's `aud`; default the push URL.
    pub audience: Option<String>,
    /// The push service account (`email` claim).
    pub service_account_email: String,
    /// The Pub/Sub subscription name in the envelope.
    pub subscription: String,
    /// First retry delay after a failed push, in milliseconds (doubles each time).
    pub min_backoff_ms: u64,
    /// Longest retry delay, in milliseconds.
    pub max_backoff_ms: u64,
}

impl Default for RtdnConfig {
    fn default() -> Self {
        RtdnConfig {
            push_url: None,
            audience: None,
            service_account_email: "rtdn-push@play-emulator.iam.gserviceaccount.com".into(),
            subscription: "projects/play-emulator/subscriptions/play-rtdn".into(),
            min_backoff_ms: 500,
            max_backoff_ms: 60_000,
        }
    }
}

/// Quota limits per bucket. A limit of 0 disables that bucket. Every window is a fixed window
/// on the emulator's virtual clock (so `clock:advance` also opens a new window).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// `purchases.products.*`, `purchases.productsv2.*` a minute.
    pub purchases_per_minute: u64,
    /// `purchases.subscriptions*.*` a minute.
    pub subscriptions_per_minute: u64,
    /// `externaltransactions.*` a minute.
    pub external_transactions_per_minute: u64,
    /// `inappproducts.*` and `monetization.*` a minute.
    pub monetization_per_minute: u64,
    /// Catalog modifications an hour (a batch call counts once).
    pub catalog_modifications_per_hour: u64,
    /// Latency-sensitive catalog changes an hour (each entry of a batch counts).
    pub latency_sensitive_changes_per_hour: u64,
    /// External transaction create + refund a minute.
    pub external_transaction_writes_per_minute: u64,
    /// `purchases.voidedpurchases.list` per 30 seconds.
    pub voided_purchases_per_30s: u64,
    /// `purchases.voidedpurchases.list` a day.
    pub voided_purchases_per_day: u64,
    /// All Google-side calls together, a day.
    pub queries_per_day: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            purchases_per_minute: 3000,
            subscriptions_per_minute: 3000,
            external_transactions_per_minute: 3000,
            monetization_per_minute: 3000,
            catalog_modifications_per_hour: 7200,
            latency_sensitive_changes_per_hour: 7200,
            external_transaction_writes_per_minute: 1200,
            voided_purchases_per_30s: 30,
            voided_purchases_per_day: 6000,
            queries_per_day: 200_000,
        }
    }
}

impl Quotas {
    /// Sets one limit by its name (the field name), as `--quota NAME=N` does.
    pub fn set(&mut self, name: &str, value: u64) -> Result<(), String> {
        let slot = match name.replace('-', "_").as_str() {
            "purchases_per_minute" => &mut self.purchases_per_minute,
            "subscriptions_per_minute" => &mut self.subscriptions_per_minute,
            "external_transactions_per_minute" => &mut self.external_transactions_per_minute,
            "monetization_per_minute" => &mut self.monetization_per_minute,
            "catalog_modifications_per_hour" => &mut self.catalog_modifications_per_hour,
            "latency_sensitive_changes_per_hour" => &mut self.latency_sensitive_changes_per_hour,
            "external_transaction_writes_per_minute" => {
                &mut self.external_transaction_writes_per_minute
            }
            "voided_purchases_per_30s" => &mut self.voided_purchases_per_30s,
            "voided_purchases_per_day" => &mut self.voided_purchases_per_day,
            "queries_per_day" => &mut self.queries_per_day,
            other => return Err(format!("unknown quota {other:?}")),
        };
        *slot = value;
        Ok(())
    }
}
