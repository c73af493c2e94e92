//! The integration-test harness: an embedded Play emulator, a fresh database (SQLite in a
//! temp dir, or a fresh PostgreSQL database when `PWA_BILLING_TEST_DATABASE_URL` is set),
//! and the server on 127.0.0.1:0, restartable on the same database.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::num::{NonZeroU32, NonZeroUsize};
use std::time::{Duration, Instant};

use play_emulator::{ControlClient, Emulator, RunningEmulator};
use pwa_billing_server::auth::issue_hs256;
use pwa_billing_server::config::{
    AdminConfig, AuthConfig, Config, Limits, ReportsConfig, RetryConfig, VoidedConfig, WorkerConfig,
};
use pwa_billing_server::db::Db;
use pwa_billing_server::play::retry::Jitter;
use pwa_billing_server::play::ServiceAccountKey;
use pwa_billing_server::product::ProductKind;
use pwa_billing_server::{app, AppState, RunningServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

pub const SECRET: &str = "test-secret-test-secret-test-secret!";
/// The server API key (`admin.api_keys`) of every test server.
pub const ADMIN_KEY: &str = "test-admin-key-test-admin-key-0123456789";
pub const GET: &str = "androidpublisher.purchases.products.get";
pub const ACK: &str = "androidpublisher.purchases.products.acknowledge";
pub const CONSUME: &str = "androidpublisher.purchases.products.consume";
pub const SUB_GET: &str = "androidpublisher.purchases.subscriptionsv2.get";
pub const SUB_ACK: &str = "androidpublisher.purchases.subscriptions.acknowledge";
pub const OAUTH: &str = "oauth2.token";

/// The products the tests sell: the emulator's demo catalog.
pub fn products() -> BTreeMap<String, ProductKind> {
    let catalog = play_emulator::Catalog::demo();
    pwa_billing_server::sandbox::sandbox_products(&catalog)
}

/// A one-time product, a consumable and a subscription of the emulator's demo catalog.
pub struct Catalog {
    pub consumable: String,
    pub non_consumable: String,
    pub subscription: String,
    pub other_subscription: String,
}

pub fn catalog() -> Catalog {
    let demo = play_emulator::Catalog::demo();
    let one_time: Vec<String> = demo.products.iter().map(|p| p.sku.clone()).collect();
    let subs: Vec<String> = demo
        .subscriptions
        .iter()
        .map(|s| s.product_id.clone())
        .collect();
    let consumable = one_time
        .iter()
        .find(|s| s.as_str() == "coins_100")
        .cloned()
        .expect("coins_100 in the demo catalog");
    let non_consumable = one_time
        .iter()
        .find(|s| **s != consumable)
        .cloned()
        .expect("a second one-time product");
    Catalog {
        consumable,
        non_consumable,
        subscription: subs[0].clone(),
        other_subscription: subs[1].clone(),
    }
}

/// Creates a fresh database for one test and returns its URL.
pub async fn fresh_database(dir: &std::path::Path) -> String {
    match std::env::var("PWA_BILLING_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            pwa_billing_test_kit::fresh_postgres_database(&admin, "pwa_test")
                .await
                .expect("a test database on PWA_BILLING_TEST_DATABASE_URL")
        }
        _ => format!("sqlite://{}", dir.join("test.db").display()),
    }
}

pub struct Harness {
    pub emulator: RunningEmulator,
    pub config: Config,
    pub key: ServiceAccountKey,
    pub state: AppState,
    pub server: Option<RunningServer>,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub fn test_config(
    emulator: &RunningEmulator,
    dir: &std::path::Path,
    database_url: String,
) -> Config {
    let emulator_url = url::Url::parse(&emulator.url()).unwrap();
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        package_name: emulator.package_name().to_string(),
        service_account_key: dir.join("key.json"),
        play_api_base_url: emulator_url.clone(),
        database_url,
        auth: AuthConfig::hs256(SECRET),
        admin: AdminConfig {
            api_keys: vec![ADMIN_KEY.into()],
        },
        products: products(),
        limits: Limits {
            max_body_bytes: NonZeroUsize::new(8 * 1024).unwrap(),
            pending_recheck: Duration::ZERO,
            ..Limits::default()
        },
        retry: RetryConfig {
            max_attempts: NonZeroU32::new(3).unwrap(),
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            request_timeout: Duration::from_secs(10),
            retry_after: Duration::from_secs(2),
        },
        worker: WorkerConfig {
            enabled: true,
            lease: Duration::from_secs(2),
            poll_interval: Duration::from_millis(100),
            batch_size: NonZeroU32::new(16).unwrap(),
            backoff_base: Duration::from_millis(20),
            backoff_max: Duration::from_millis(200),
        },
        // The voided purchases poller calls Google at start: off, so call budgets stay
        // exact; the lifecycle tests switch it on.
        voided: VoidedConfig {
            enabled: false,
            ..Default::default()
        },
        reports: ReportsConfig {
            bucket: Some(emulator.bucket_name().parse().unwrap()),
            storage_base_url: emulator_url,
        },
        ..Config::default()
    }
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    /// A harness whose configuration `adjust` may change before the server starts.
    pub async fn with(adjust: impl FnOnce(&mut Config)) -> Self {
        let emulator = Emulator::bind(play_emulator::Config {
            port: 0,
            share_keys: true,
            ..Default::default()
        })
        .await
        .expect("emulator starts");
        let dir = tempfile::tempdir().unwrap();
        let database_url = fresh_database(dir.path()).await;
        let mut config = test_config(&emulator, dir.path(), database_url);
        adjust(&mut config);
        let key_json = emulator.service_account_key().to_string();
        std::fs::write(&config.service_account_key, &key_json).unwrap();
        // The server refuses a key file other users can read.
        std::fs::set_permissions(
            &config.service_account_key,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let key = ServiceAccountKey::from_json(&key_json).unwrap();
        let state = Self::state(&config, &key).await;
        let mut harness = Harness {
            emulator,
            config,
            key,
            state,
            server: None,
            http: reqwest::Client::new(),
            dir,
        };
        harness.start().await;
        harness
    }

    async fn state(config: &Config, key: &ServiceAccountKey) -> AppState {
        let db = Db::connect(&config.database_url)
            .await
            .expect("database opens");
        db.migrate().await.expect("migrations apply");
        AppState::with_parts(config.clone(), db, key.clone(), None, Jitter::random()).unwrap()
    }

    /// Starts the server (a new process-like instance: new state, same database).
    pub async fn start(&mut self) {
        assert!(self.server.is_none(), "already running");
        self.state = Self::state(&self.config, &self.key).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        self.server = Some(
            RunningServer::start(self.state.clone(), app(self.state.clone()), listener).unwrap(),
        );
    }

    /// Another replica on the same database (its own state, worker and port).
    pub async fn replica(&self) -> RunningServer {
        let state = Self::state(&self.config, &self.key).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        RunningServer::start(state.clone(), app(state), listener).unwrap()
    }

    /// The `pwa-billing` binary configured (environment only) for this harness's database
    /// and emulator, with `products`; killed when dropped.
    pub fn binary(&self, products: &str) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_pwa-billing"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("PWA_BILLING_PACKAGE_NAME", &self.config.package_name)
            .env(
                "PWA_BILLING_SERVICE_ACCOUNT_KEY",
                &self.config.service_account_key,
            )
            .env(
                "PWA_BILLING_PLAY_API_BASE_URL",
                self.config.play_api_base_url.as_str(),
            )
            .env("PWA_BILLING_DATABASE_URL", &self.config.database_url)
            .env("PWA_BILLING_AUTH_JWT_HS256_SECRET", SECRET)
            .env("PWA_BILLING_PRODUCTS", products)
            .kill_on_drop(true);
        c
    }

    /// Stops the server gracefully.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.unwrap();
        }
        self.state.db.close().await;
    }

    /// Stops the server as a crash would.
    pub async fn crash(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        self.state.db.close().await;
    }

    /// Restarts with a changed configuration.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut Config)) {
        self.stop().await;
        adjust(&mut self.config);
        self.start().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.server.as_ref().expect("server running").url(),
            path
        )
    }

    /// `method path` on this server with `Authorization: Bearer <bearer>` (a user's JWT or a
    /// server API key) and an optional JSON body: the status and the JSON answer (`null`
    /// when the body is not JSON).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        bearer: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, self.url(path))
            .bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
    pub fn bearer(account: &str) -> String {
        issue_hs256(SECRET, account, Duration::from_secs(3600))
    }

    /// The emulator's control API.
    pub fn control(&self) -> ControlClient {
        ControlClient::with_http(self.http.clone(), self.emulator.url())
    }

    /// A purchase made on the emulator's side (`extra`: more fields of its
    /// `CreatePurchase`); returns its token.
    pub async fn buy(&self, product_id: &str, extra: Value) -> String {
        let mut body = json!({ "productId": product_id });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        let request = serde_json::from_value(body).expect("a CreatePurchase");
        self.control()
            .create_purchase(&request)
            .await
            .unwrap()
            .purchase_token
    }

    /// Sends every `(url, account, item id, token)` verification at once; returns each
    /// one's account and status, in completion order.
    pub async fn verify_concurrently(
        &self,
        requests: impl IntoIterator<Item = (String, String, String, String)>,
    ) -> Vec<(String, StatusCode)> {
        let mut tasks = tokio::task::JoinSet::new();
        for (url, account, item, token) in requests {
            let http = self.http.clone();
            tasks.spawn(async move {
                let status = http
                    .post(url)
                    .bearer_auth(Harness::bearer(&account))
                    .json(&json!({"itemId": item, "purchaseToken": token}))
                    .send()
                    .await
                    .unwrap()
                    .status();
                (account, status)
            });
        }
        let mut results = Vec::new();
        while let Some(result) = tasks.join_next().await {
            results.push(result.unwrap());
        }
        results
    }

    /// A purchase made on the emulator's side and verified for `account` (asserted 200).
    pub async fn verified(&self, account: &str, product_id: &str) -> String {
        let token = self.buy(product_id, json!({})).await;
        let (status, body) = self.verify(account, product_id, &token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        token
    }

    /// Replaces a subscription on Play's side (upgrade or downgrade with `mode`); returns the
    /// new token, whose `linkedPurchaseToken` is `token`.
    pub async fn replace(&self, token: &str, product_id: &str, mode: &str) -> String {
        let replaced = self
            .emulator_action(
                token,
                "replace",
                json!({"productId": product_id, "mode": mode}),
            )
            .await;
        replaced["purchaseToken"]
            .as_str()
            .expect("the new token")
            .to_string()
    }

    /// `POST /emulator/v1/purchases/{token}:{action}`.
    pub async fn emulator_action(&self, token: &str, action: &str, body: Value) -> Value {
        self.control().action(token, action, &body).await.unwrap()
    }

    /// Injects faults (`Faults` as JSON) into the emulator's Google-side calls.
    pub async fn set_faults(&self, faults: Value) {
        let faults = serde_json::from_value(faults).expect("Faults");
        self.control().set_faults(&faults).await.unwrap();
    }

    pub async fn clear_faults(&self) {
        self.control().clear_faults().await.unwrap();
    }

    /// Google calls counted by the emulator, over HTTP as a test would see them.
    pub async fn calls(&self) -> BTreeMap<String, u64> {
        self.control().calls().await.unwrap()
    }

    pub async fn call_count(&self, method: &str) -> u64 {
        self.calls().await.get(method).copied().unwrap_or(0)
    }

    pub async fn verify(&self, account: &str, item_id: &str, token: &str) -> (StatusCode, Value) {
        let (status, body, _) = self.verify_full(account, item_id, token).await;
        (status, body)
    }

    pub async fn verify_full(
        &self,
        account: &str,
        item_id: &str,
        token: &str,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let response = self
            .http
            .post(self.url("/v1/purchases/verify"))
            .bearer_auth(Self::bearer(account))
            .json(&json!({ "itemId": item_id, "purchaseToken": token }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body, headers)
    }

    pub async fn entitlements(&self, account: &str) -> Vec<Value> {
        let response = self
            .http
            .get(self.url("/v1/entitlements"))
            .bearer_auth(Self::bearer(account))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["entitlements"].as_array().unwrap().clone()
    }

    /// Waits until the purchase is acknowledged (re-verifying a settled token costs no call).
    pub async fn wait_acknowledged(&self, account: &str, item_id: &str, token: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (status, body) = self.verify(account, item_id, token).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if body["acknowledged"] == json!(true) {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "not acknowledged in time: {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the outbox job with this dedupe key is done; returns its attempts. (A
    /// handler settles the purchase just before the worker marks its job done.)
    pub async fn wait_job_done(&self, key: &str) -> i64 {
        let db = self.state.db.clone();
        let done = || {
            let db = db.clone();
            async move {
                pwa_billing_server::db::outbox::status_by_key(&db, key)
                    .await
                    .unwrap()
            }
        };
        self.eventually("the job to be done", || async {
            matches!(
                done().await,
                Some((pwa_billing_server::db::outbox::JobStatus::Done, _))
            )
        })
        .await;
        done().await.expect("the job exists").1
    }

    /// Polls `condition` until it holds (20 s at most).
    pub async fn eventually<F, Fut>(&self, what: &str, mut condition: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !condition().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The Google call counts minus OAuth, as a set of (method, count).
    pub async fn api_calls(&self) -> BTreeSet<(String, u64)> {
        self.calls()
            .await
            .into_iter()
            .filter(|(k, _)| k != OAUTH)
            .collect()
    }
}

pub fn set(pairs: &[(&str, u64)]) -> BTreeSet<(String, u64)> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}
