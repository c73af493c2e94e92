//! The typed Play Developer API calls this server makes.

use std::num::NonZeroU32;
use std::sync::Arc;

use play_model::methods::{self, Method};
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::TokenSource;
use super::orders::{BatchGetOrdersResponse, Order};
use super::quota::{Bucket, Priority, Quota};
use super::retry::{is_rate_limited, next_delay, retry_after, Jitter};
use super::status::{PlayError, Status};
use super::voided::VoidedPurchasesListResponse;
use crate::config::RetryConfig;
use crate::metrics::Metrics;
use play_model::purchases::{ProductPurchase, SubscriptionPurchaseV2};

/// A client for one app (package name); with a [`Quota`], every call of the method table
/// first books a slot of its Google bucket at the client's [`Priority`].
#[derive(Clone)]
pub struct PlayClient {
    inner: Arc<Inner>,
    quota: Option<Quota>,
    priority: Priority,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    package_name: String,
    tokens: TokenSource,
    retry: RetryConfig,
    jitter: Jitter,
    metrics: Metrics,
}

impl std::fmt::Debug for PlayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlayClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("package_name", &self.inner.package_name)
            .field("paced", &self.quota.is_some())
            .field("priority", &self.priority)
            .finish_non_exhaustive()
    }
}

impl PlayClient {
    /// A client calling `base_url` (Google's, or an emulator's) for `package_name`, not paced
    /// (see [`PlayClient::with_quota`]), at [`Priority::Background`].
    pub fn new(
        http: reqwest::Client,
        base_url: Url,
        package_name: String,
        tokens: TokenSource,
        retry: RetryConfig,
        jitter: Jitter,
        metrics: Metrics,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                package_name,
                tokens,
                retry,
                jitter,
                metrics,
            }),
            quota: None,
            priority: Priority::Background,
        }
    }

    /// This client paced by `quota`.
    pub fn with_quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    /// This client calling at `priority` (same connection, tokens and quota).
    pub fn with_priority(&self, priority: Priority) -> Self {
        Self {
            priority,
            ..self.clone()
        }
    }

    /// The quota pacing this client, if any.
    pub fn quota(&self) -> Option<&Quota> {
        self.quota.as_ref()
    }

    /// `purchases.products.get`.
    pub async fn get_product_purchase(
        &self,
        product_id: &str,
        token: &str,
    ) -> Result<ProductPurchase, PlayError> {
        let body = self
            .call(&methods::PURCHASES_PRODUCTS_GET, &[product_id, token])
            .await?;
        decode(&body)
    }

    /// `purchases.products.acknowledge`.
    pub async fn acknowledge_product(
        &self,
        product_id: &str,
        token: &str,
    ) -> Result<(), PlayError> {
        self.call(
            &methods::PURCHASES_PRODUCTS_ACKNOWLEDGE,
            &[product_id, token],
        )
        .await
        .map(drop)
    }

    /// `purchases.products.consume` (acknowledges too).
    pub async fn consume_product(&self, product_id: &str, token: &str) -> Result<(), PlayError> {
        self.call(&methods::PURCHASES_PRODUCTS_CONSUME, &[product_id, token])
            .await
            .map(drop)
    }

    /// `purchases.subscriptionsv2.get`.
    pub async fn get_subscription_purchase_v2(
        &self,
        token: &str,
    ) -> Result<SubscriptionPurchaseV2, PlayError> {
        let body = self
            .call(&methods::PURCHASES_SUBSCRIPTIONSV2_GET, &[token])
            .await?;
        decode(&body)
    }

    /// `purchases.subscriptions.acknowledge`.
    pub async fn acknowledge_subscription(
        &self,
        subscription_id: &str,
        token: &str,
    ) -> Result<(), PlayError> {
        self.call(
            &methods::PURCHASES_SUBSCRIPTIONS_ACKNOWLEDGE,
            &[subscription_id, token],
        )
        .await
        .map(drop)
    }

    /// `orders.batchGet` of 1 to 1,000 distinct order ids ([`super::orders::MAX_BATCH`]).
    /// One unknown id fails the whole request (Google answers 404).
    pub async fn batch_get_orders(&self, order_ids: &[String]) -> Result<Vec<Order>, PlayError> {
        let method = &methods::ORDERS_BATCHGET;
        let mut url = self.url(method, &[]);
        for id in order_ids {
            url.query_pairs_mut().append_pair("orderIds", id);
        }
        let body = self.call_url(method.id, http_method(method), url).await?;
        decode::<BatchGetOrdersResponse>(&body).map(|r| r.orders)
    }

    /// `orders.get`.
    pub async fn get_order(&self, order_id: &str) -> Result<Order, PlayError> {
        let body = self.call(&methods::ORDERS_GET, &[order_id]).await?;
        decode(&body)
    }

    /// `purchases.voidedpurchases.list` of one-time purchases and subscriptions (`type=1`),
    /// quantity-based partial refunds included, voided since `start_time_ms` (default: the
    /// last 30 days); `page_token` continues a listing.
    pub async fn list_voided_purchases(
        &self,
        start_time_ms: Option<i64>,
        page_token: Option<&str>,
    ) -> Result<VoidedPurchasesListResponse, PlayError> {
        let method = &methods::PURCHASES_VOIDEDPURCHASES_LIST;
        let mut url = self.url(method, &[]);
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("type", "1")
                .append_pair("includeQuantityBasedPartialRefund", "true");
            if let Some(start) = start_time_ms {
                query.append_pair("startTime", &start.to_string());
            }
            if let Some(token) = page_token {
                query.append_pair("token", token);
            }
        }
        let body = self.call_url(method.id, http_method(method), url).await?;
        decode(&body)
    }

    /// The app's package name.
    pub fn package_name(&self) -> &str {
        &self.inner.package_name
    }

    /// The URL of `method` for this client's app, `args` filling the path's parameters
    /// after the package name.
    pub(crate) fn url(&self, method: &Method, args: &[&str]) -> Url {
        method_url(&self.inner.base_url, &self.inner.package_name, method, args)
    }

    /// One API call with retries on transient failures; returns the body of a 2xx answer.
    async fn call(&self, method: &'static Method, args: &[&str]) -> Result<Vec<u8>, PlayError> {
        self.call_url(method.id, http_method(method), self.url(method, args))
            .await
    }

    /// One API call to `url` with retries on transient failures (also used for Google's
    /// other APIs with this client's tokens, e.g. Cloud Storage for the reports).
    pub(crate) async fn call_url(
        &self,
        method_name: &'static str,
        method: reqwest::Method,
        url: Url,
    ) -> Result<Vec<u8>, PlayError> {
        self.send(method_name, method, url, None, None).await.result
    }

    /// One API call to `url` (POSTs send `body`, default `{}`) under the one retry rule
    /// ([`next_delay`]) with this client's `[retry]` settings, at most `max_attempts`
    /// attempts when given (1: one request, a 401's fresh-token retry aside).
    pub(crate) async fn send(
        &self,
        method_name: &'static str,
        method: reqwest::Method,
        url: Url,
        body: Option<&serde_json::Value>,
        max_attempts: Option<NonZeroU32>,
    ) -> Sent {
        let retry = RetryConfig {
            max_attempts: max_attempts.unwrap_or(self.inner.retry.max_attempts),
            ..self.inner.retry.clone()
        };
        let pacing = self
            .quota
            .as_ref()
            .zip(methods::by_id(method_name).map(Bucket::of));
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some((quota, bucket)) = pacing {
                if let Err(refused) = quota.acquire(bucket, self.priority).await {
                    break Sent {
                        result: Err(refused),
                        attempt,
                    };
                }
            }
            let result = self
                .attempt(method_name, method.clone(), url.clone(), body)
                .await;
            let (status, reason, mut retry_after) = match &result {
                Ok(_) => break Sent { result, attempt },
                Err(PlayError::Api(s)) => (Some(s.code), s.reason(), s.retry_after),
                Err(PlayError::Transport(_)) => (None, None, None),
                Err(PlayError::Token(inner)) if inner.is_transient() => (None, None, None),
                Err(_) => break Sent { result, attempt },
            };
            // Google's bucket is spent: every replica holds it, none calls into the same
            // exhausted window again.
            if let Some((quota, bucket)) = pacing.filter(|_| is_rate_limited(status, reason)) {
                match quota.google_throttled(bucket, retry_after).await {
                    Ok(pause) => retry_after = Some(pause),
                    Err(e) => {
                        break Sent {
                            result: Err(e),
                            attempt,
                        }
                    }
                }
            }
            let Some(delay) = next_delay(
                &retry,
                status,
                reason,
                retry_after,
                attempt,
                &self.inner.jitter,
            ) else {
                let result = match (pacing, retry_after) {
                    (Some((_, bucket)), Some(pause)) if is_rate_limited(status, reason) => {
                        Err(PlayError::Throttled {
                            bucket: bucket.name(),
                            retry_after: pause,
                        })
                    }
                    _ => result,
                };
                break Sent { result, attempt };
            };
            tracing::debug!(method = method_name, attempt, ?delay, error = %result.unwrap_err(), "retrying Google call");
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP request, no retry; sends `body` (a POST without one sends `{}`).
    async fn attempt(
        &self,
        method_name: &'static str,
        method: reqwest::Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, PlayError> {
        let token = self.inner.tokens.token().await?;
        let mut request = self
            .inner
            .http
            .request(method.clone(), url)
            .bearer_auth(&token);
        let body = match body {
            Some(b) => Some(b.to_string()),
            None if method == reqwest::Method::POST => Some("{}".to_string()),
            None => None,
        };
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                self.inner.metrics.google_call(method_name, None);
                return Err(PlayError::Transport(e.without_url().to_string()));
            }
        };
        let status = response.status().as_u16();
        self.inner.metrics.google_call(method_name, Some(status));
        let retry_after = retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| PlayError::Transport(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        if status == 401 {
            self.inner.tokens.invalidate(&token).await;
        }
        Err(PlayError::Api(Status {
            retry_after,
            ..Status::parse(status, &body)
        }))
    }
}

/// What [`PlayClient::send`] came to.
#[derive(Debug)]
pub(crate) struct Sent {
    /// The body of a 2xx answer, or the last error.
    pub result: Result<Vec<u8>, PlayError>,
    /// Attempts made (1: no retry).
    pub attempt: u32,
}

/// `base` (Google's root, or an emulator's) joined with `method`'s path for `package`, the
/// path's other parameters filled by `args`, each percent-encoded.
pub fn method_url(base: &Url, package: &str, method: &Method, args: &[&str]) -> Url {
    let mut all = Vec::with_capacity(args.len() + 1);
    all.push(package);
    all.extend_from_slice(args);
    let mut url = base.clone();
    let root = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{root}/{}", method.path(&all)));
    url
}

/// The HTTP method of a table row.
pub fn http_method(method: &Method) -> reqwest::Method {
    reqwest::Method::from_bytes(method.http_method.as_bytes()).unwrap_or(reqwest::Method::GET)
}

pub(super) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, PlayError> {
    serde_json::from_slice(body).map_err(|e| PlayError::Decode(e.to_string()))
}
