//! # play-emulator
//!
//! An emulator of the Google Play Developer API (androidpublisher v3) with its OAuth token
//! endpoint, Pub/Sub push of real-time developer notifications, a control API and a device
//! sandbox, on loopback, all state in memory. Usable as the `play-emulator` binary and as a
//! library:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let emulator = play_emulator::Emulator::bind(play_emulator::Config { port: 0, ..Default::default() }).await?;
//! let key = emulator.service_account_key(); // token_uri points at this emulator
//! println!("{} serves {}", emulator.url(), emulator.package_name());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See `emulator/README.md` for every endpoint and the choices made.

#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::routing::{any, post};
use axum::Router;
use serde_json::Value;

pub mod calls;
pub mod catalog;
pub mod catalog_views;
pub mod clock;
pub mod config;
#[cfg(feature = "contract")]
pub mod contract;
pub mod control;
pub mod control_client;
pub mod device;
pub mod error;
pub mod faults;
pub mod google;
pub mod oauth;
pub mod quota;
pub mod reports;
pub mod rtdn;
pub mod state;
pub mod storage;

pub use catalog::Catalog;
pub use config::{Config, Quotas, RtdnConfig};
pub use control_client::{ControlClient, ControlError, ControlResult};
pub use error::GoogleError;
/// The catalog file model, shared with the server (see the `play-model` crate).
pub use play_model::catalog_file;
pub use play_model::catalog_file::CatalogFile;

/// What every handler shares: configuration, keys and the model.
#[derive(Debug)]
pub struct Shared {
    pub(crate) config: Config,
    pub(crate) base_url: String,
    pub(crate) keys: Arc<oauth::Keys>,
    pub(crate) model: Mutex<state::Model>,
    pub(crate) access_tokens: Mutex<oauth::AccessTokens>,
    pub(crate) rtdn: RwLock<RtdnConfig>,
    pub(crate) http: reqwest::Client,
    /// Another key, made on first use, to forge pushes with.
    pub(crate) forger: std::sync::OnceLock<oauth::SigningKey>,
}

impl Shared {
    /// The model, locked.
    pub(crate) fn lock(&self) -> MutexGuard<'_, state::Model> {
        self.model.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handlers' state.
pub type SharedState = Arc<Shared>;

/// An emulator instance: cheap to clone, all clones share one state.
#[derive(Debug, Clone)]
pub struct Emulator {
    shared: Arc<Shared>,
}

impl Emulator {
    /// Builds an emulator, generating its RSA keys. Must be called inside a Tokio runtime
    /// (the RTDN pusher is spawned on it). The base URL is `config.base_url`, else
    /// `http://{host}:{port}`; serve [`Emulator::router`] there yourself, or use
    /// [`Emulator::bind`].
    pub fn new(config: Config) -> anyhow::Result<Emulator> {
        let keys = oauth::Keys::for_config(&config)?;
        Self::with_keys(config, keys)
    }

    fn with_keys(config: Config, keys: Arc<oauth::Keys>) -> anyhow::Result<Emulator> {
        let base_url = config
            .base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", SocketAddr::new(config.host, config.port)))
            .trim_end_matches('/')
            .to_string();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().build()?;
        let (outbox, rx) = rtdn::Outbox::channel();
        let shared = Arc::new(Shared {
            model: Mutex::new(state::Model::new(&config, outbox)),
            rtdn: RwLock::new(config.rtdn.clone()),
            config,
            base_url,
            keys,
            access_tokens: Mutex::new(oauth::AccessTokens::default()),
            http,
            forger: std::sync::OnceLock::new(),
        });
        tokio::runtime::Handle::try_current()
            .map_err(|_| anyhow::anyhow!("Emulator::new must be called inside a Tokio runtime"))?
            .spawn(rtdn::pusher(Arc::downgrade(&shared), rx));
        Ok(Emulator { shared })
    }

    /// Binds `config.host:config.port` (port 0: any free port), then serves the emulator
    /// there until [`RunningEmulator::shutdown`] (or drop).
    pub async fn bind(mut config: Config) -> anyhow::Result<RunningEmulator> {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::new(config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        config.port = addr.port();
        let for_keys = config.clone();
        let keys =
            tokio::task::spawn_blocking(move || oauth::Keys::for_config(&for_keys)).await??;
        let emulator = Emulator::with_keys(config, keys)?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = emulator.router();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(RunningEmulator {
            emulator,
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// The whole HTTP surface: Google's API, `/token`, the control API and the device sandbox.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/token", post(oauth::token))
            .route("/androidpublisher/{*rest}", any(google::handle))
            .merge(control::router())
            .merge(device::router())
            .merge(storage::router())
            .with_state(self.shared.clone())
            .layer(tower_http::trace::TraceLayer::new_for_http())
    }

    /// The base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The package this emulator serves.
    pub fn package_name(&self) -> &str {
        &self.shared.config.package_name
    }

    /// The service-account key file (`token_uri` = this emulator's `/token`).
    pub fn service_account_key(&self) -> Value {
        self.shared.keys.service_account_json(&self.shared.base_url)
    }

    /// Writes [`Self::service_account_key`] to `path` readable by its owner alone (mode
    /// 600, which `pwa-billing` requires of a key file).
    pub fn write_service_account_key(&self, path: &std::path::Path) -> std::io::Result<()> {
        write_private_file(
            path,
            &serde_json::to_vec_pretty(&self.service_account_key())?,
        )
    }

    /// The JWKS that verifies RTDN pushes' OIDC tokens.
    pub fn jwks(&self) -> Value {
        self.shared.keys.jwks()
    }

    /// The push service account's email (`email` claim of RTDN OIDC tokens).
    pub fn rtdn_service_account_email(&self) -> String {
        self.shared
            .rtdn
            .read()
            .map(|r| r.service_account_email.clone())
            .unwrap_or_default()
    }

    /// Points RTDN pushes somewhere else (or nowhere) from now on.
    pub fn set_rtdn_push(&self, push_url: Option<String>, audience: Option<String>) {
        if let Ok(mut r) = self.shared.rtdn.write() {
            r.push_url = push_url;
            r.audience = audience;
        }
    }

    /// Calls counted so far, by discovery method id.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        calls::snapshot(&self.shared.lock())
    }

    /// Virtual now, in epoch milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.shared.lock().now_ms()
    }

    /// Moves the virtual clock forward (at most ten years at a time) and lets whatever falls
    /// due happen.
    pub fn advance_clock(&self, seconds: i64) {
        let mut m = self.shared.lock();
        m.clock_offset_ms += seconds.clamp(0, control::MAX_ADVANCE_SECONDS) * 1000;
        m.settle();
    }

    /// Every notification sent so far.
    pub fn notifications(&self) -> Vec<rtdn::NotificationRecord> {
        self.shared.lock().notifications.clone()
    }

    /// Back to the configured start (see `POST /emulator/v1/reset`).
    pub fn reset(&self) {
        let mut m = self.shared.lock();
        m.reset(&self.shared.config);
    }

    /// The Cloud Storage bucket holding the financial reports.
    pub fn bucket_name(&self) -> String {
        self.shared.lock().bucket.name.clone()
    }

    /// Stores an object in the bucket (as `POST /emulator/v1/storage/objects` does).
    pub fn put_object(&self, name: &str, data: Vec<u8>, content_type: &str) {
        let mut m = self.shared.lock();
        let now = m.now_ms();
        m.bucket.put(name, data, content_type, now);
    }

    /// Revokes (or restores) the service account's access to the bucket: every storage
    /// call answers 403 while revoked.
    pub fn set_storage_denied(&self, denied: bool) {
        self.shared.lock().bucket.denied = denied;
    }

    /// Leaves an order out of every report, as though Play had never charged it.
    pub fn hide_order_in_reports(&self, order_id: &str) {
        self.shared
            .lock()
            .ledger
            .hidden_orders
            .insert(order_id.to_string());
    }

    /// Makes a purchase as the control API's `POST /emulator/v1/purchases` does; returns
    /// `(purchaseToken, orderId)`.
    pub fn create_purchase(
        &self,
        request: control::CreatePurchase,
    ) -> Result<(String, String), error::ApiError> {
        let mut m = self.shared.lock();
        control::create_purchase(&mut m, request)
    }
}

/// An emulator serving on a socket.
#[derive(Debug)]
pub struct RunningEmulator {
    emulator: Emulator,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningEmulator {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        self.emulator.base_url().to_string()
    }
    /// The emulator.
    pub fn emulator(&self) -> &Emulator {
        &self.emulator
    }
    /// Stops serving (graceful).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl std::ops::Deref for RunningEmulator {
    type Target = Emulator;
    fn deref(&self) -> &Emulator {
        &self.emulator
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Writes `bytes` to `path` readable by its owner alone (mode 600, created so: never
/// readable by others, not even for a moment), as keys and secrets must be.
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, bytes)?;
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(())
}
