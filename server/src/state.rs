//! The application state shared by every handler, and what builds it.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

use crate::auth::{AdminKeys, Authenticator};
use crate::config::Config;
use crate::db::Db;
use crate::external_transactions::delivery::Delivery;
use crate::external_transactions::limiter::{self, Limiter};
use crate::external_transactions::{JOB_REFUND, JOB_REPORT};
use crate::lifecycle::{Lifecycle, RtdnHandler, JOB_RTDN};
use crate::metrics::Metrics;
use crate::play::quota::{Priority, Quota};
use crate::play::retry::Jitter;
use crate::play::{PlayClient, ServiceAccountKey, TokenSource};
use crate::rtdn::oidc::PushAuthenticator;
use crate::settle::SettleHandler;
use crate::single_flight::KeyedLocks;
use crate::verify::{Verifier, JOB_ACKNOWLEDGE, JOB_CONSUME};
use crate::voided::VoidedPoller;
use crate::worker::{Handlers, Worker};

/// What `pwa-billing sandbox` adds.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    /// The embedded emulator's base URL.
    pub emulator_url: String,
    /// Secret signing the demo sessions (also the HS256 auth secret).
    pub session_secret: String,
}

/// The one application state, shared by every request: a clone is one reference count (the
/// extractors clone it per request), its parts are reached through it ([`Shared`]).
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of the [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// The Play Developer API client.
    pub play: PlayClient,
    /// Caller authentication.
    pub auth: Arc<Authenticator>,
    /// Server-to-server (admin) API keys.
    pub admin_keys: Arc<AdminKeys>,
    /// Verification and granting.
    pub verifier: Arc<Verifier>,
    /// Authentication of RTDN pushes.
    pub rtdn_auth: Arc<PushAuthenticator>,
    /// Lifecycle changes after verification (RTDN, voided purchases, reconcile).
    pub lifecycle: Lifecycle,
    /// Metrics.
    pub metrics: Metrics,
    /// Wakes the worker when a job was enqueued.
    pub wake: Arc<Notify>,
    /// Present in sandbox mode only.
    pub sandbox: Option<Arc<SandboxInfo>>,
    /// The random source of backoff jitter.
    pub jitter: Jitter,
    /// Webhooks to the app's backend.
    pub webhooks: crate::webhooks::Webhooks,
}

impl AppState {
    /// Connects to the database (without migrating), reads the service-account key and
    /// builds every part.
    pub async fn new(config: Config, sandbox: Option<SandboxInfo>) -> anyhow::Result<Self> {
        let key = ServiceAccountKey::from_file(&config.service_account_key).with_context(|| {
            format!(
                "configuration key `service_account_key` ({})",
                config.service_account_key.display()
            )
        })?;
        let db = Db::connect(&config.database_url).await.with_context(|| {
            format!(
                "configuration key `database_url`: cannot open {}",
                redact(&config.database_url)
            )
        })?;
        Self::with_parts(config, db, key, sandbox, Jitter::random())
    }

    /// Builds the state from its parts (tests inject the jitter source).
    pub fn with_parts(
        config: Config,
        db: Db,
        key: ServiceAccountKey,
        sandbox: Option<SandboxInfo>,
        jitter: Jitter,
    ) -> anyhow::Result<Self> {
        let metrics = Metrics::new();
        let http = crate::play::http_client(config.retry.request_timeout);
        let tokens = TokenSource::new(key, http.clone(), metrics.clone())
            .context("configuration key `service_account_key`")?;
        let play = PlayClient::new(
            http.clone(),
            config.play_api_base_url.clone(),
            config.package_name.clone(),
            tokens,
            config.retry.clone(),
            jitter.clone(),
            metrics.clone(),
        )
        .with_quota(Quota::new(
            db.clone(),
            &config.quota,
            config.external_transactions.writes_per_minute.get(),
            config.retry.retry_after,
            metrics.clone(),
        ));
        let wake = Arc::new(Notify::new());
        // One lock per token for verifications and notifications alike: one Google get.
        let locks = Arc::new(KeyedLocks::default());
        let verifier = Verifier::new(
            &config,
            db.clone(),
            play.with_priority(Priority::Verification),
            metrics.clone(),
            wake.clone(),
            locks.clone(),
        );
        let lifecycle = Lifecycle::new(
            &config,
            db.clone(),
            play.with_priority(Priority::Notification),
            metrics.clone(),
            wake.clone(),
            locks,
        );
        if config.rtdn.audience.is_none() || config.rtdn.service_account_email.is_none() {
            tracing::info!("RTDN not configured (rtdn.audience, rtdn.service_account_email): POST /v1/rtdn refuses every push");
        }
        let webhooks = crate::webhooks::Webhooks::new(
            &config.webhooks,
            db.clone(),
            metrics.clone(),
            jitter.clone(),
            crate::webhooks::Clock::default(),
        );
        Ok(Self(Arc::new(Shared {
            webhooks,
            rtdn_auth: Arc::new(PushAuthenticator::new(&config.rtdn, http.clone())),
            lifecycle,
            auth: Arc::new(Authenticator::new(&config.auth.method()?, http)),
            admin_keys: Arc::new(AdminKeys::new(&config.admin)),
            config: Arc::new(config),
            db,
            play,
            verifier: Arc::new(verifier),
            metrics,
            wake,
            sandbox: sandbox.map(Arc::new),
            jitter,
        })))
    }

    /// The job handlers of this server. Register new job kinds here.
    pub fn handlers(&self) -> Handlers {
        let mut handlers = Handlers::default();
        handlers
            .register(
                JOB_ACKNOWLEDGE,
                SettleHandler::acknowledge(self.db.clone(), self.play.clone()),
            )
            .register(
                JOB_CONSUME,
                SettleHandler::consume(self.db.clone(), self.play.clone()),
            )
            .register(JOB_RTDN, RtdnHandler(self.lifecycle.clone()))
            .register(
                JOB_REPORT,
                Delivery::report(
                    self.db.clone(),
                    self.play.clone(),
                    self.external_limiter(),
                    self.metrics.clone(),
                ),
            )
            .register(
                JOB_REFUND,
                Delivery::refund(
                    self.db.clone(),
                    self.play.clone(),
                    self.external_limiter(),
                    self.metrics.clone(),
                ),
            );
        handlers
    }

    /// The limiter of external transaction creates and refunds, shared by every replica.
    pub fn external_limiter(&self) -> Limiter {
        Limiter::new(
            self.db.clone(),
            limiter::WRITES,
            self.config.external_transactions.writes_per_minute.get(),
        )
    }

    /// A worker over this state's outbox.
    pub fn worker(&self) -> Worker {
        Worker::new(
            self.db.clone(),
            self.config.worker.clone(),
            self.handlers(),
            self.metrics.clone(),
            self.wake.clone(),
            self.jitter.clone(),
        )
    }
}

impl AppState {
    /// The voided purchases poller over this state.
    pub fn voided_poller(&self) -> VoidedPoller {
        VoidedPoller::new(
            self.db.clone(),
            self.play.clone(),
            self.lifecycle.clone(),
            self.config.voided.clone(),
            self.metrics.clone(),
        )
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}
