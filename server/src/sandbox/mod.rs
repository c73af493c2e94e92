//! `pwa-billing sandbox`: the embedded Play emulator, this server configured for it (SQLite
//! in a data directory, HS256 sessions signed in through `POST /v1/dev/session`), the demo
//! PWA at `/` and the npm package at `/pkg/`, on one machine with no Google account. It
//! writes its configuration to `DATA_DIR/pwa-billing.toml` so that every other command
//! runs against it (`pwa-billing --config DATA_DIR/pwa-billing.toml reports import`).
//! Unless `--no-backend`, it also runs an example of the app's own backend ([`receiver`]),
//! registered as a webhook endpoint, so that the demo shows what a backend learns.

pub mod receiver;

use std::collections::BTreeMap;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use play_emulator::write_private_file;

use crate::config::{
    AdminConfig, AuthConfig, Config, CorsConfig, EndpointConfig, ReportsConfig, RtdnConfig,
};
use crate::product::ProductKind;
use crate::server::{app_with_files, RunningServer};
use crate::state::{AppState, SandboxInfo};
use crate::webhooks::signature::Secret;
use receiver::Receiver;

/// Options of `pwa-billing sandbox`.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxOptions {
    /// Port of the server, the demo and the API (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Port of the embedded Play emulator (0: any free port).
    #[arg(long, default_value_t = 8090)]
    pub emulator_port: u16,
    /// The catalog the embedded emulator starts with (a `pwa-billing catalog` file, or the
    /// emulator's own format); it also gives the server each product's kind. Default:
    /// configuration key `catalog`, else the built-in demo catalog.
    #[arg(long)]
    pub catalog: Option<PathBuf>,
    /// Where the database, the emulator's service-account key and the session secret live.
    #[arg(long, default_value = ".pwa-billing-sandbox")]
    pub data_dir: PathBuf,
    /// The demo PWA served at `/`.
    #[arg(long, default_value = "www")]
    pub www: PathBuf,
    /// The npm package served at `/pkg/`.
    #[arg(long, default_value = "pkg")]
    pub pkg: PathBuf,
    /// The database (default: SQLite in the data directory); `postgres://…` for PostgreSQL.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Do not run the example backend (the webhook endpoint `sandbox-backend` on
    /// `/sandbox/backend/`); endpoints of `[webhooks]` are still delivered to.
    #[arg(long)]
    pub no_backend: bool,
}

/// The demo store's products (docs/interfaces.md). Products of the emulator's catalog that
/// are not listed here are added too: subscriptions as such, one-time products as
/// non-consumables.
pub const DEMO_PRODUCTS: [(&str, ProductKind); 4] = [
    ("coins_100", ProductKind::Consumable),
    ("premium_unlock", ProductKind::NonConsumable),
    ("sub_monthly", ProductKind::Subscription),
    ("sub_yearly", ProductKind::Subscription),
];

/// The products the sandbox server sells: [`DEMO_PRODUCTS`] plus the emulator's catalog
/// (a catalog-as-code file gives each one-time product's kind).
pub fn sandbox_products(catalog: &play_emulator::Catalog) -> BTreeMap<String, ProductKind> {
    let mut products: BTreeMap<String, ProductKind> = DEMO_PRODUCTS
        .iter()
        .map(|(id, kind)| (id.to_string(), *kind))
        .collect();
    if let Some(file) = &catalog.file {
        products.extend(crate::product::product_kinds(file));
    }
    for s in &catalog.subscriptions {
        products
            .entry(s.product_id.clone())
            .or_insert(ProductKind::Subscription);
    }
    for p in &catalog.products {
        products
            .entry(p.sku.clone())
            .or_insert(ProductKind::NonConsumable);
    }
    products
}

/// The configuration file the sandbox writes in its data directory.
pub const CONFIG_FILE: &str = "pwa-billing.toml";

/// Runs the sandbox until `shutdown` completes. `base` (the layered configuration, not
/// validated) gives every key the sandbox does not set itself.
pub async fn run(
    options: SandboxOptions,
    base: Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("--data-dir: cannot create {}", options.data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&options.data_dir)
        .with_context(|| format!("--data-dir {}", options.data_dir.display()))?;
    let mut emulator_config = play_emulator::Config {
        port: options.emulator_port,
        ..Default::default()
    };
    if let Some(path) = options.catalog.as_ref().or(base.catalog.as_ref()) {
        emulator_config.catalog = play_emulator::Catalog::from_file(path)
            .with_context(|| format!("--catalog {}", path.display()))?;
    }
    let products = sandbox_products(&emulator_config.catalog);
    let catalog_path = data_dir.join("catalog.toml");
    let mut catalog_file = emulator_config.catalog.to_catalog_file();
    for (id, product) in catalog_file.one_time_products.iter_mut() {
        if let Some(kind) = products.get(id) {
            product.kind = match kind {
                ProductKind::Consumable => play_model::catalog_file::OneTimeKind::Consumable,
                _ => play_model::catalog_file::OneTimeKind::NonConsumable,
            };
        }
    }
    std::fs::write(&catalog_path, catalog_file.to_toml())
        .with_context(|| format!("cannot write {}", catalog_path.display()))?;
    let emulator = play_emulator::Emulator::bind(emulator_config)
        .await
        .with_context(|| {
            format!(
                "--emulator-port: cannot start the Play emulator on port {}",
                options.emulator_port
            )
        })?;
    let key_path = data_dir.join("service-account.json");
    emulator
        .write_service_account_key(&key_path)
        .with_context(|| format!("cannot write {}", key_path.display()))?;
    // The HS256 secret of demo sessions, kept so that sessions survive a restart.
    let secret = stored_hex_secret(&data_dir, "session-secret")?;
    let admin_key = stored_hex_secret(&data_dir, "admin-api-key")?;
    let listen = SocketAddr::from(([127, 0, 0, 1], options.port));
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("--port: cannot bind {listen}"))?;
    // The emulator pushes its notifications to this server, signed with its own keys.
    let push_url = format!("http://{}/v1/rtdn", listener.local_addr()?);
    emulator.set_rtdn_push(Some(push_url.clone()), Some(push_url.clone()));
    let emulator_url = url::Url::parse(&emulator.url()).context("emulator URL")?;
    let mut webhooks = base.webhooks.clone();
    let backend = if options.no_backend {
        None
    } else {
        let (endpoint, backend) = example_backend(&data_dir, listener.local_addr()?)?;
        webhooks
            .endpoints
            .insert(receiver::ENDPOINT.to_string(), endpoint);
        Some(backend)
    };
    let config = Config {
        listen: listener.local_addr()?,
        package_name: emulator.package_name().to_string(),
        service_account_key: key_path,
        play_api_base_url: emulator_url.clone(),
        database_url: options
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("pwa-billing.db").display())),
        catalog: Some(catalog_path.clone()),
        // The kinds the catalog file does not give (the demo's, for a catalog without them).
        products: products
            .iter()
            .filter(|(id, _)| {
                !catalog_file.one_time_products.contains_key(*id)
                    && !catalog_file.subscriptions.contains_key(*id)
            })
            .map(|(id, kind)| (id.clone(), *kind))
            .collect(),
        auth: AuthConfig::hs256(secret.clone()),
        admin: AdminConfig {
            api_keys: vec![admin_key],
        },
        cors: CorsConfig {
            allowed_origins: vec!["*".into()],
        },
        rtdn: RtdnConfig {
            jwks_url: emulator_url
                .join("emulator/v1/oidc/certs")
                .context("emulator JWKS URL")?,
            audience: Some(push_url),
            service_account_email: Some(emulator.rtdn_service_account_email()),
        },
        voided: crate::config::VoidedConfig {
            poll_interval: Duration::from_secs(30),
            ..base.voided.clone()
        },
        reports: ReportsConfig {
            bucket: Some(emulator.bucket_name().parse().map_err(anyhow::Error::msg)?),
            storage_base_url: emulator_url,
        },
        webhooks,
        ..base
    };
    let config_path = data_dir.join(CONFIG_FILE);
    write_private_file(&config_path, config_toml(&config)?.as_bytes())
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    let config = config.validate()?;
    let sandbox = SandboxInfo {
        emulator_url: emulator.url(),
        session_secret: secret,
    };
    let state = AppState::new(config, Some(sandbox)).await?;
    state.db.migrate().await.context("applying migrations")?;
    let mut router = app_with_files(state.clone(), &options.www, &options.pkg);
    if let Some(backend) = &backend {
        router = router.merge(backend.router());
    }
    let server = RunningServer::start(state, router, listener)?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "pwa-billing sandbox listening on {}", server.url())?;
        writeln!(out, "play emulator on {}", emulator.url())?;
        writeln!(
            out,
            "server API key (admin.api_keys) in {}",
            data_dir.join("admin-api-key").display()
        )?;
        writeln!(
            out,
            "operator console on {}/console/ (sign in with that key)",
            server.url()
        )?;
        if backend.is_some() {
            writeln!(
                out,
                "example backend receiving webhooks on {}{} (its events: {}{}?accountId=…)",
                server.url(),
                receiver::WEBHOOKS_PATH,
                server.url(),
                receiver::EVENTS_PATH
            )?;
        }
        writeln!(
            out,
            "run any command against it: pwa-billing --config {} <command>",
            config_path.display()
        )?;
        out.flush()?;
    }
    server
        .run_until(async {
            shutdown.await;
            // Waiting reads of the demo's panel end now, not at their timeout.
            if let Some(backend) = &backend {
                backend.close();
            }
        })
        .await?;
    emulator.shutdown().await;
    Ok(())
}

/// The configuration as the file the sandbox writes.
fn config_toml(config: &Config) -> anyhow::Result<String> {
    Ok(format!(
        "# Written by `pwa-billing sandbox` at each start: the configuration of this sandbox.\n\
         # Any command runs against it: pwa-billing --config THIS_FILE <command>\n\n{}",
        toml::to_string(config).context("the sandbox configuration as TOML")?
    ))
}

/// The example backend of `data_dir` for a sandbox listening on `listen`: its endpoint in
/// `[webhooks.endpoints]` and the receiver, which share a `whsec_` secret kept in
/// `data_dir/webhook-secret` (so that a backend of your own can verify with it too).
fn example_backend(
    data_dir: &Path,
    listen: SocketAddr,
) -> anyhow::Result<(EndpointConfig, Receiver)> {
    let secret = stored_secret(data_dir, "webhook-secret", Secret::generate, |s| {
        Secret::parse(s).is_ok()
    })?;
    let endpoint = EndpointConfig {
        url: url::Url::parse(&format!("http://{listen}{}", receiver::WEBHOOKS_PATH))
            .context("the example backend's URL")?,
        secrets: vec![secret.clone()],
        event_types: Vec::new(),
        allow_private: false,
    };
    let secret = Secret::parse(&secret).map_err(anyhow::Error::msg)?;
    let path = data_dir.join(receiver::FILE);
    let backend = Receiver::open(vec![secret], path.clone())
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok((endpoint, backend))
}

/// A random hex secret (32 bytes) kept in `data_dir/name`, made on first use.
fn stored_hex_secret(data_dir: &Path, name: &str) -> anyhow::Result<String> {
    let random = || crate::fingerprint::hex(&rand::random::<[u8; 32]>());
    stored_secret(data_dir, name, random, |s| s.len() >= 32)
}

/// A secret kept in `data_dir/name`: the one stored there if `valid`, else a new one from
/// `make`, stored (readable by the owner only).
fn stored_secret(
    data_dir: &Path,
    name: &str,
    make: fn() -> String,
    valid: fn(&str) -> bool,
) -> anyhow::Result<String> {
    let path = data_dir.join(name);
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_string();
        if valid(&secret) {
            return Ok(secret);
        }
    }
    let secret = make();
    write_private_file(&path, secret.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret)
}
