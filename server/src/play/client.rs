//! The typed Play Developer API calls this server makes.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

use super::auth::TokenSource;
use super::orders::{BatchGetOrdersResponse, Order};
use super::resources::{ProductPurchase, SubscriptionPurchaseV2};
use super::retry::{backoff, retry_after, should_retry, Jitter};
use super::status::{PlayError, Status};
use super::voided::VoidedPurchaseList;
use crate::config::RetryConfig;
use crate::metrics::Metrics;

/// A client for one app (package name).
#[derive(Clone)]
pub struct PlayClient(Arc<Inner>);

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
            .field("base_url", &self.0.base_url.as_str())
            .field("package_name", &self.0.package_name)
            .finish_non_exhaustive()
    }
}

impl PlayClient {
    /// A client calling `base_url` (Google's, or an emulator's) for `package_name`.
    pub fn new(
        http: reqwest::Client,
        base_url: Url,
        package_name: String,
        tokens: TokenSource,
        retry: RetryConfig,
        jitter: Jitter,
        metrics: Metrics,
    ) -> Self {
        Self(Arc::new(Inner {
            http,
            base_url,
            package_name,
            tokens,
            retry,
            jitter,
            metrics,
        }))
    }

    /// `purchases.products.get`.
    pub async fn get_product_purchase(
        &self,
        product_id: &str,
        token: &str,
    ) -> Result<ProductPurchase, PlayError> {
        let body = self
            .call(
                "androidpublisher.purchases.products.get",
                Method::GET,
                &["purchases", "products", product_id, "tokens", token],
            )
            .await?;
        decode(&body)
    }

    /// `purchases.products.acknowledge`.
    pub async fn acknowledge_product(
        &self,
        product_id: &str,
        token: &str,
    ) -> Result<(), PlayError> {
        let last = format!("{token}:acknowledge");
        self.call(
            "androidpublisher.purchases.products.acknowledge",
            Method::POST,
            &["purchases", "products", product_id, "tokens", &last],
        )
        .await
        .map(drop)
    }

    /// `purchases.products.consume` (acknowledges too).
    pub async fn consume_product(&self, product_id: &str, token: &str) -> Result<(), PlayError> {
        let last = format!("{token}:consume");
        self.call(
            "androidpublisher.purchases.products.consume",
            Method::POST,
            &["purchases", "products", product_id, "tokens", &last],
        )
        .await
        .map(drop)
    }

    /// `purchases.subscriptionsv2.get`.
    pub async fn get_subscription_purchase_v2(
        &self,
        token: &str,
    ) -> Result<SubscriptionPurchaseV2, PlayError> {
        let body = self
            .call(
                "androidpublisher.purchases.subscriptionsv2.get",
                Method::GET,
                &["purchases", "subscriptionsv2", "tokens", token],
            )
            .await?;
        decode(&body)
    }

    /// `purchases.subscriptions.acknowledge`.
    pub async fn acknowledge_subscription(
        &self,
        subscription_id: &str,
        token: &str,
    ) -> Result<(), PlayError> {
        let last = format!("{token}:acknowledge");
        self.call(
            "androidpublisher.purchases.subscriptions.acknowledge",
            Method::POST,
            &[
                "purchases",
                "subscriptions",
                subscription_id,
                "tokens",
                &last,
            ],
        )
        .await
        .map(drop)
    }

    /// `orders.batchGet` of 1 to 1,000 distinct order ids ([`super::orders::MAX_BATCH`]).
    /// One unknown id fails the whole request (Google answers 404).
    pub async fn batch_get_orders(&self, order_ids: &[String]) -> Result<Vec<Order>, PlayError> {
        let mut url = self.url(&["orders:batchGet"]);
        for id in order_ids {
            url.query_pairs_mut().append_pair("orderIds", id);
        }
        let body = self
            .call_url("androidpublisher.orders.batchget", Method::GET, url)
            .await?;
        decode::<BatchGetOrdersResponse>(&body).map(|r| r.orders)
    }

    /// `orders.get`.
    pub async fn get_order(&self, order_id: &str) -> Result<Order, PlayError> {
        let body = self
            .call(
                "androidpublisher.orders.get",
                Method::GET,
                &["orders", order_id],
            )
            .await?;
        decode(&body)
    }

    /// `purchases.voidedpurchases.list` of one-time purchases and subscriptions (`type=1`),
    /// quantity-based partial refunds included, voided since `start_time_ms` (default: the
    /// last 30 days); `page_token` continues a listing.
    pub async fn list_voided_purchases(
        &self,
        start_time_ms: Option<i64>,
        page_token: Option<&str>,
    ) -> Result<VoidedPurchaseList, PlayError> {
        let mut url = self.url(&["purchases", "voidedpurchases"]);
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
        let body = self
            .call_url(
                "androidpublisher.purchases.voidedpurchases.list",
                Method::GET,
                url,
            )
            .await?;
        decode(&body)
    }

    /// `…/androidpublisher/v3/applications/{package}/{segments…}`.
    pub(super) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.0.base_url.clone();
        {
            let mut path = url.path_segments_mut().expect("http(s) base URL");
            path.pop_if_empty().extend([
                "androidpublisher",
                "v3",
                "applications",
                &self.0.package_name,
            ]);
            path.extend(segments);
        }
        url
    }

    /// One API call with retries on transient failures; returns the body of a 2xx answer.
    async fn call(
        &self,
        method_name: &'static str,
        method: Method,
        segments: &[&str],
    ) -> Result<Vec<u8>, PlayError> {
        self.call_url(method_name, method, self.url(segments)).await
    }

    /// One API call to `url` with retries on transient failures (also used for Google's
    /// other APIs with this client's tokens, e.g. Cloud Storage for the reports).
    pub(crate) async fn call_url(
        &self,
        method_name: &'static str,
        method: Method,
        url: Url,
    ) -> Result<Vec<u8>, PlayError> {
        let retry = &self.0.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .attempt(method_name, method.clone(), url.clone(), None)
                .await;
            let (status, reason, retry_after) = match &result {
                Ok(_) => return result,
                Err(PlayError::Api(s)) => {
                    (Some(s.code), s.reason().map(str::to_owned), s.retry_after)
                }
                Err(PlayError::Transport(_)) => (None, None, None),
                Err(PlayError::Token(inner)) if inner.is_transient() => (None, None, None),
                Err(_) => return result,
            };
            // A 401 means the cached access token went bad: fetch a new one, once.
            let unauthorized = status == Some(401) && attempt == 1;
            if !(unauthorized
                || should_retry(status, reason.as_deref(), attempt, retry.max_attempts.get()))
            {
                return result;
            }
            let delay = if unauthorized {
                Duration::ZERO
            } else {
                let backoff = backoff(
                    attempt - 1,
                    retry.base_delay,
                    retry.max_delay,
                    &self.0.jitter,
                );
                match retry_after {
                    // Google asks for a longer wait than one call may take: give up now
                    // (the request answers 503, a job runs again later).
                    Some(wait) if wait > retry.max_delay => return result,
                    Some(wait) => backoff.max(wait),
                    None => backoff,
                }
            };
            tracing::debug!(method = method_name, attempt, ?delay, error = %result.unwrap_err(), "retrying Google call");
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP request, no retry; POSTs send `body` (default `{}`).
    pub(super) async fn attempt(
        &self,
        method_name: &'static str,
        method: Method,
        url: Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, PlayError> {
        let token = self.0.tokens.token().await?;
        let mut request = self.0.http.request(method.clone(), url).bearer_auth(&token);
        if method == Method::POST {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.map_or_else(|| "{}".to_string(), |b| b.to_string()));
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                self.0.metrics.google_call(method_name, None);
                return Err(PlayError::Transport(e.without_url().to_string()));
            }
        };
        let status = response.status().as_u16();
        self.0.metrics.google_call(method_name, Some(status));
        let retry_after = retry_after(response.headers());
        let body = response
            .bytes()
            .await
            .map_err(|e| PlayError::Transport(e.without_url().to_string()))?;
        if (200..300).contains(&status) {
            return Ok(body.to_vec());
        }
        if status == 401 {
            self.0.tokens.invalidate(&token).await;
        }
        Err(PlayError::Api(Status {
            retry_after,
            ..Status::parse(status, &body)
        }))
    }
}

pub(super) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, PlayError> {
    serde_json::from_slice(body).map_err(|e| PlayError::Decode(e.to_string()))
}
