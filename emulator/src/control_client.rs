//! A typed async client for the control API, `/emulator/v1/…`, as tests, the bench and the
//! reliability suite drive a running emulator. Its request and answer bodies are the types
//! the routes themselves read and write ([`crate::control`], [`Faults`], [`Quotas`],
//! [`NotificationRecord`]).

use std::collections::BTreeMap;

use axum::body::Bytes;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::control::{
    Advance, ClockView, CreatePurchase, NotificationList, PurchaseList, PurchaseView, Redeliver,
    Redelivery, ReplaceRequest, Replacement, RtdnView, SetRtdn, SubscriptionAction, VoidRequest,
};
use crate::faults::{Disconnect, Faults};
use crate::rtdn::{Forge, NotificationRecord};
use crate::Quotas;

/// Why a control call failed.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The emulator answered with an error status; `body` is its error document
    /// (`{"error": {"code", "message"}}`), or the raw text as a JSON string when it was not JSON.
    #[error("{method} {path} answered {status}: {body}")]
    Status {
        /// The request's method.
        method: Method,
        /// The request's path under the emulator's URL.
        path: String,
        /// The HTTP status.
        status: StatusCode,
        /// The emulator's error body.
        body: Value,
    },
    /// The request failed before an answer (connection, timeout) or its body was unreadable.
    #[error("{method} {path}: {source}")]
    Transport {
        /// The request's method.
        method: Method,
        /// The request's path under the emulator's URL.
        path: String,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// A success status whose body is not the documented shape.
    #[error("{method} {path}: unexpected answer ({source}): {body}")]
    Decode {
        /// The request's method.
        method: Method,
        /// The request's path under the emulator's URL.
        path: String,
        /// The body as received.
        body: String,
        /// The deserialisation error.
        source: serde_json::Error,
    },
}

impl ControlError {
    /// The HTTP status of a [`ControlError::Status`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The emulator's error code (`error.code`, e.g. `invalid_state`) of a
    /// [`ControlError::Status`].
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Status { body, .. } => body["error"]["code"].as_str(),
            _ => None,
        }
    }
}

/// Builders of the faults a test injects (`PUT /emulator/v1/faults`).
impl Faults {
    /// `rate` (0–1) of the matching calls answer `status`.
    pub fn status(rate: f64, status: u16) -> Self {
        Faults {
            rate,
            status: Some(status),
            drop: None,
            retry_after_secs: None,
            latency_ms: None,
            methods: None,
        }
    }

    /// `rate` (0–1) of the matching calls lose their connection, `how`.
    pub fn dropping(rate: f64, how: Disconnect) -> Self {
        Faults {
            status: None,
            drop: Some(how),
            ..Self::status(rate, 0)
        }
    }

    /// The injected errors carry `Retry-After: secs`.
    pub fn with_retry_after(self, secs: u64) -> Self {
        Faults {
            retry_after_secs: Some(secs),
            ..self
        }
    }

    /// Every matching call is slowed by `ms` milliseconds.
    pub fn with_latency_ms(self, ms: u64) -> Self {
        Faults {
            latency_ms: Some(ms),
            ..self
        }
    }

    /// Only these discovery method ids are affected (e.g.
    /// `androidpublisher.purchases.products.get`).
    pub fn only(self, methods: &[&str]) -> Self {
        Faults {
            methods: Some(methods.iter().map(|m| m.to_string()).collect()),
            ..self
        }
    }
}

/// A control call's result.
pub type ControlResult<T> = Result<T, ControlError>;

/// A client of one emulator's control API.
#[derive(Debug, Clone)]
pub struct ControlClient {
    http: reqwest::Client,
    base_url: String,
}

impl ControlClient {
    /// A client of the emulator at `base_url` (e.g. `http://127.0.0.1:8080`) with its own
    /// HTTP client.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self::with_http(reqwest::Client::new(), base_url)
    }

    /// A client of the emulator at `base_url` over `http` (its timeouts and pool).
    pub fn with_http(http: reqwest::Client, base_url: impl Into<String>) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_string();
        ControlClient { http, base_url }
    }

    /// The emulator's URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends `method path` with an optional JSON body; the answer's bytes on a success status.
    async fn call<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> ControlResult<(Method, String, Bytes)> {
        let path = format!("/emulator/v1/{path}");
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base_url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let transport = |method: &Method, path: &str, source| ControlError::Transport {
            method: method.clone(),
            path: path.to_string(),
            source,
        };
        let response = request
            .send()
            .await
            .map_err(|e| transport(&method, &path, e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport(&method, &path, e))?;
        if !status.is_success() {
            let body = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
            return Err(ControlError::Status {
                method,
                path,
                status,
                body,
            });
        }
        Ok((method, path, bytes))
    }

    /// Sends a request and reads its JSON answer as `T`.
    async fn json<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> ControlResult<T> {
        let (method, path, bytes) = self.call(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|source| ControlError::Decode {
            method,
            path,
            body: String::from_utf8_lossy(&bytes).into_owned(),
            source,
        })
    }

    /// Sends a request whose answer has no body (`204`).
    async fn empty(&self, method: Method, path: &str) -> ControlResult<()> {
        self.call(method, path, None::<&()>).await.map(drop)
    }

    /// `GET service-account.json`: the service-account key file (JSON) a server uses to
    /// reach this emulator as Google.
    pub async fn service_account(&self) -> ControlResult<Value> {
        self.json(Method::GET, "service-account.json", None::<&()>)
            .await
    }

    /// `GET oidc/certs`: the JWKS that signs RTDN push tokens.
    pub async fn oidc_certs(&self) -> ControlResult<Value> {
        self.json(Method::GET, "oidc/certs", None::<&()>).await
    }

    /// `POST purchases`: makes a purchase on Play's side (purchased, pending or a tester's).
    pub async fn create_purchase(&self, request: &CreatePurchase) -> ControlResult<PurchaseView> {
        self.json(Method::POST, "purchases", Some(request)).await
    }

    /// Makes a purchase of `product_id` with every default; returns its token.
    pub async fn buy(&self, product_id: &str) -> ControlResult<String> {
        Ok(self
            .create_purchase(&CreatePurchase::of(product_id))
            .await?
            .purchase_token)
    }

    /// `GET purchases`: every purchase, oldest first.
    pub async fn purchases(&self) -> ControlResult<Vec<PurchaseView>> {
        let list: PurchaseList = self.json(Method::GET, "purchases", None::<&()>).await?;
        Ok(list.purchases)
    }

    /// `GET purchases/{token}`: one purchase.
    pub async fn purchase(&self, token: &str) -> ControlResult<PurchaseView> {
        self.json(Method::GET, &format!("purchases/{token}"), None::<&()>)
            .await
    }

    /// `POST purchases/{token}:{action}` with `body` (the typed methods below name each
    /// action).
    pub async fn action<T: DeserializeOwned>(
        &self,
        token: &str,
        action: &str,
        body: &(impl Serialize + ?Sized),
    ) -> ControlResult<T> {
        self.json(
            Method::POST,
            &format!("purchases/{token}:{action}"),
            Some(body),
        )
        .await
    }

    /// `:complete`: a pending purchase's payment goes through.
    pub async fn complete(&self, token: &str) -> ControlResult<PurchaseView> {
        self.action(token, "complete", &json!({})).await
    }

    /// `:cancel-pending`: a pending purchase's payment is abandoned.
    pub async fn cancel_pending(&self, token: &str) -> ControlResult<PurchaseView> {
        self.action(token, "cancel-pending", &json!({})).await
    }

    /// `:void`: refunds or revokes a purchase (or some units of it).
    pub async fn void(&self, token: &str, request: &VoidRequest) -> ControlResult<PurchaseView> {
        self.action(token, "void", request).await
    }

    /// `:replace`: upgrades or downgrades a subscription; the answer is the new purchase.
    pub async fn replace(
        &self,
        token: &str,
        request: &ReplaceRequest,
    ) -> ControlResult<Replacement> {
        self.action(token, "replace", request).await
    }

    /// A subscription lifecycle step (`:renew`, `:cancel`, `:pause`, …).
    pub async fn subscription(
        &self,
        token: &str,
        action: SubscriptionAction,
    ) -> ControlResult<PurchaseView> {
        self.action(token, action.name(), &action.body()).await
    }

    /// `GET clock`: the virtual clock.
    pub async fn clock(&self) -> ControlResult<ClockView> {
        self.json(Method::GET, "clock", None::<&()>).await
    }

    /// `POST clock:advance`: moves the virtual clock forward by `seconds` (renewals,
    /// expiries and pending timeouts due meanwhile happen).
    pub async fn advance_clock(&self, seconds: i64) -> ControlResult<ClockView> {
        self.json(Method::POST, "clock:advance", Some(&Advance { seconds }))
            .await
    }

    /// `PUT faults`: injects faults into Google-side calls; answers the faults in force.
    pub async fn set_faults(&self, faults: &Faults) -> ControlResult<Faults> {
        self.json(Method::PUT, "faults", Some(faults)).await
    }

    /// `GET faults`: the faults in force, if any.
    pub async fn faults(&self) -> ControlResult<Option<Faults>> {
        let value: Value = self.json(Method::GET, "faults", None::<&()>).await?;
        if value.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(None);
        }
        serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|source| ControlError::Decode {
                method: Method::GET,
                path: "/emulator/v1/faults".into(),
                body: value.to_string(),
                source,
            })
    }

    /// `DELETE faults`: no more faults.
    pub async fn clear_faults(&self) -> ControlResult<()> {
        self.empty(Method::DELETE, "faults").await
    }

    /// `GET faults/injected`: calls failed by injection so far, by status (`"503"`) or dropped
    /// connection (`"beforeResponse"`, `"midBody"`).
    pub async fn faults_injected(&self) -> ControlResult<BTreeMap<String, u64>> {
        self.json(Method::GET, "faults/injected", None::<&()>).await
    }

    /// `GET calls`: Google-side calls so far by discovery method id.
    pub async fn calls(&self) -> ControlResult<BTreeMap<String, u64>> {
        self.json(Method::GET, "calls", None::<&()>).await
    }

    /// `DELETE calls`: zeroes the call counts.
    pub async fn clear_calls(&self) -> ControlResult<()> {
        self.empty(Method::DELETE, "calls").await
    }

    /// `POST reset`: back to the configured catalog, no purchases, the real clock.
    pub async fn reset(&self) -> ControlResult<()> {
        self.empty(Method::POST, "reset").await
    }

    /// `GET notifications`: every RTDN sent, oldest first.
    pub async fn notifications(&self) -> ControlResult<Vec<NotificationRecord>> {
        let list: NotificationList = self.json(Method::GET, "notifications", None::<&()>).await?;
        Ok(list.notifications)
    }

    /// `POST notifications:test`: sends a `testNotification`.
    pub async fn test_notification(&self) -> ControlResult<NotificationRecord> {
        self.json(Method::POST, "notifications:test", Some(&json!({})))
            .await
    }

    /// `POST notifications/{messageId}:redeliver`: pushes a notification again (until
    /// acknowledged), or, with `forge`, once with a spoiled OIDC token, answering the
    /// endpoint's status.
    pub async fn redeliver(
        &self,
        message_id: &str,
        forge: Option<Forge>,
    ) -> ControlResult<Redelivery> {
        self.json(
            Method::POST,
            &format!("notifications/{message_id}:redeliver"),
            Some(&Redeliver { forge }),
        )
        .await
    }

    /// `GET quotas`: the quota limits in force.
    pub async fn quotas(&self) -> ControlResult<Quotas> {
        self.json(Method::GET, "quotas", None::<&()>).await
    }

    /// `PUT quotas`: sets the named limits (e.g. `purchases_per_minute`; 0 disables a
    /// bucket), leaving the others; answers every limit.
    pub async fn set_quotas(&self, limits: &BTreeMap<String, u64>) -> ControlResult<Quotas> {
        self.json(Method::PUT, "quotas", Some(limits)).await
    }

    /// `GET rtdn`: where and how notifications are pushed.
    pub async fn rtdn(&self) -> ControlResult<RtdnView> {
        self.json(Method::GET, "rtdn", None::<&()>).await
    }

    /// `PUT rtdn`: replaces the push endpoint and audience.
    pub async fn set_rtdn(&self, request: &SetRtdn) -> ControlResult<RtdnView> {
        self.json(Method::PUT, "rtdn", Some(request)).await
    }

    /// `POST access-tokens:expire`: every OAuth access token issued so far stops working.
    pub async fn expire_access_tokens(&self) -> ControlResult<()> {
        self.empty(Method::POST, "access-tokens:expire").await
    }

    /// `POST external-transaction-tokens`: an `externalTransactionToken` as an app would
    /// get from Play's alternative-billing flow (a tester's when `test`); the answer is
    /// `{externalTransactionToken, test}`.
    pub async fn external_transaction_token(&self, test: bool) -> ControlResult<Value> {
        self.json(
            Method::POST,
            "external-transaction-tokens",
            Some(&json!({ "test": test })),
        )
        .await
    }

    /// `GET external-transactions`: every reported external transaction with its report
    /// delay on the virtual clock (`{externalTransactions: [...]}`).
    pub async fn external_transactions(&self) -> ControlResult<Value> {
        self.json(Method::GET, "external-transactions", None::<&()>)
            .await
    }
}
