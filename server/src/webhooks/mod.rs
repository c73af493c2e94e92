//! Webhooks to the app's own backend. Every change writes an event in its own transaction
//! ([`crate::db::events`]); the publisher gives it its place in the feed and one delivery
//! per endpoint that takes its type; each endpoint's sender posts its deliveries, signed
//! by the Standard Webhooks specification ([`signature`]), at least once: a 2xx answer is
//! delivered, anything else is retried with truncated exponential backoff and full jitter
//! until `webhooks.max_age_secs`, then marked failed.
//!
//! Each endpoint has its own sender task and its own connections: a slow or dead endpoint
//! holds only its own deliveries, never verification, the worker's jobs (acknowledgements)
//! or another endpoint. Replicas share the work through leases, as the outbox does.

pub mod cli;
pub mod metrics;
pub mod signature;
pub mod target;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

use crate::config::WebhooksConfig;
use crate::db::events::{self, EventType, Subscriber};
use crate::db::webhook_deliveries::{self as deliveries, Claimed, Settled};
use crate::db::{now_ms, Db};
use crate::metrics::Metrics;
use crate::play::retry::{backoff, Jitter};
use signature::Secret;

/// Events published per transaction.
const PUBLISH_BATCH: i64 = 256;
/// How often the oldest undelivered delivery is measured.
const HEALTH_INTERVAL: Duration = Duration::from_secs(15);

/// The senders' clock: the system's, moved forward by tests that emulate hours of
/// downtime (`webhook-timestamp` always says the real time).
#[derive(Debug, Clone, Default)]
pub struct Clock(Arc<AtomicI64>);

impl Clock {
    /// Now (ms since the epoch) on this clock.
    pub fn now_ms(&self) -> i64 {
        now_ms() + self.0.load(Ordering::Relaxed)
    }

    /// Moves this clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}

/// One configured endpoint, ready to send.
#[derive(Debug)]
pub struct Endpoint {
    /// Its name (the key of its deliveries).
    pub name: String,
    /// Where.
    pub url: url::Url,
    secrets: Vec<Secret>,
    types: Vec<EventType>,
    client: reqwest::Client,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// The endpoint answered 2xx.
    Delivered(u16),
    /// It answered another status.
    Refused(u16),
    /// No answer: refused connection, timeout, an address not allowed, …
    Unreachable(String),
}

impl Attempt {
    fn status(&self) -> Option<i64> {
        match self {
            Self::Delivered(s) | Self::Refused(s) => Some(i64::from(*s)),
            Self::Unreachable(_) => None,
        }
    }
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Delivered(s) => write!(f, "delivered ({s})"),
            Self::Refused(s) => write!(f, "answered {s}"),
            Self::Unreachable(e) => write!(f, "no answer: {e}"),
        }
    }
}

impl Endpoint {
    /// The endpoints of a (validated) configuration.
    pub fn all(config: &WebhooksConfig) -> Vec<Arc<Endpoint>> {
        config
            .endpoints
            .iter()
            .map(|(name, e)| {
                Arc::new(Endpoint {
                    name: name.clone(),
                    url: e.url.clone(),
                    secrets: e
                        .secrets
                        .iter()
                        .filter_map(|s| Secret::parse(s).ok())
                        .collect(),
                    types: e
                        .event_types
                        .iter()
                        .filter_map(|t| EventType::parse(t))
                        .collect(),
                    client: target::client(config.timeout, e.allow_private),
                })
            })
            .collect()
    }

    /// Whether it takes events of `kind`.
    pub fn takes(&self, kind: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t.as_str() == kind)
    }

    /// Posts `body` as message `id`, signed with every secret, once.
    pub async fn send(&self, id: &str, body: &str) -> Attempt {
        let timestamp = now_ms() / 1000;
        let signature = signature::header(&self.secrets, id, timestamp, body.as_bytes());
        let result = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_string())
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => {
                Attempt::Delivered(response.status().as_u16())
            }
            Ok(response) => Attempt::Refused(response.status().as_u16()),
            Err(e) => Attempt::Unreachable(error_chain(&e)),
        }
    }
}

/// An error with its causes (reqwest's own message hides why a connection failed).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The publisher and the endpoints' senders of one replica.
#[derive(Debug, Clone)]
pub struct Webhooks {
    db: Db,
    config: Arc<WebhooksConfig>,
    endpoints: Vec<Arc<Endpoint>>,
    metrics: Metrics,
    jitter: Jitter,
    clock: Clock,
    owner: String,
    published: Arc<watch::Sender<u64>>,
}

impl Webhooks {
    /// The webhooks of `config` over `db`.
    pub fn new(
        config: &WebhooksConfig,
        db: Db,
        metrics: Metrics,
        jitter: Jitter,
        clock: Clock,
    ) -> Self {
        Self {
            db,
            endpoints: Endpoint::all(config),
            config: Arc::new(config.clone()),
            metrics,
            jitter,
            clock,
            owner: format!("webhooks-{}", uuid::Uuid::new_v4()),
            published: Arc::new(watch::channel(0).0),
        }
    }

    /// The configured endpoints.
    pub fn endpoints(&self) -> &[Arc<Endpoint>] {
        &self.endpoints
    }

    /// The senders' clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Runs the publisher and one sender per endpoint until `shutdown` turns true; the
    /// attempts in flight then finish and are settled.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut tasks = JoinSet::new();
        tasks.spawn(self.clone().publish_loop(shutdown.clone()));
        for endpoint in &self.endpoints {
            tasks.spawn(self.clone().send_loop(endpoint.clone(), shutdown.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Publishes every unpublished event; returns how many.
    pub async fn publish(&self) -> Result<usize, sqlx::Error> {
        let subscribers: Vec<Subscriber> = self
            .endpoints
            .iter()
            .map(|e| Subscriber {
                name: e.name.clone(),
                types: e.types.clone(),
            })
            .collect();
        let mut total = 0;
        loop {
            let n = events::publish(&self.db, &subscribers, PUBLISH_BATCH).await?;
            total += n;
            if n > 0 {
                self.published.send_modify(|n| *n = n.wrapping_add(1));
            }
            if (n as i64) < PUBLISH_BATCH {
                return Ok(total);
            }
        }
    }

    async fn publish_loop(self, mut shutdown: watch::Receiver<bool>) {
        let mut written = events::subscribe();
        let mut health = tokio::time::interval(HEALTH_INTERVAL);
        while !*shutdown.borrow() {
            if let Err(e) = self.publish().await {
                tracing::warn!(error = %e, "publishing webhook events failed; retried");
            }
            tokio::select! {
                _ = written.changed() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
                _ = health.tick() => self.check_health().await,
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Measures the oldest undelivered delivery; warns past `webhooks.warn_after_secs`.
    pub async fn check_health(&self) {
        match deliveries::oldest_pending(&self.db).await {
            Ok(oldest) => {
                let age = oldest.map_or(0, |t| (self.clock.now_ms() - t).max(0));
                self.metrics
                    .webhooks()
                    .set_oldest_undelivered(age as f64 / 1000.0);
                if age as u128 > self.config.warn_after.as_millis() {
                    tracing::warn!(
                        age_secs = age / 1000,
                        "a webhook delivery has waited longer than webhooks.warn_after_secs; see `pwa-billing webhooks list`"
                    );
                }
            }
            Err(e) => tracing::warn!(error = %e, "measuring webhook deliveries failed"),
        }
    }

    /// Keeps up to `webhooks.concurrency` attempts of `endpoint` in flight: claims as many
    /// due deliveries as there are free slots, whenever one frees (a slow answer holds only
    /// its own slot).
    async fn send_loop(self, endpoint: Arc<Endpoint>, mut shutdown: watch::Receiver<bool>) {
        let mut published = self.published.subscribe();
        let limit = self.config.concurrency.get();
        let slots = Arc::new(Semaphore::new(limit as usize));
        // Longer than an attempt can take: a lease never expires while its attempt runs.
        let lease = self.config.timeout * 2 + Duration::from_secs(5);
        let mut running = JoinSet::new();
        while !*shutdown.borrow() {
            let first = tokio::select! {
                permit = slots.clone().acquire_owned() => permit.expect("never closed"),
                _ = shutdown.changed() => continue,
            };
            let free = 1 + slots.available_permits() as u32;
            let claimed = match deliveries::claim(
                &self.db,
                &endpoint.name,
                &self.owner,
                self.clock.now_ms(),
                lease,
                free,
            )
            .await
            {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(endpoint = %endpoint.name, error = %e, "claiming webhook deliveries failed");
                    Vec::new()
                }
            };
            let idle = claimed.is_empty();
            let mut permit = Some(first);
            for delivery in claimed {
                let held = match permit.take() {
                    Some(p) => p,
                    None => slots
                        .clone()
                        .try_acquire_owned()
                        .expect("claimed no more than free slots"),
                };
                let this = self.clone();
                let endpoint = endpoint.clone();
                running.spawn(async move {
                    this.deliver(&endpoint, delivery).await;
                    drop(held);
                });
            }
            drop(permit);
            while running.try_join_next().is_some() {}
            if idle {
                tokio::select! {
                    _ = published.changed() => {}
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        // Attempts in flight finish and are settled.
        while running.join_next().await.is_some() {}
    }

    /// One attempt of one claimed delivery, settled.
    async fn deliver(&self, endpoint: &Endpoint, d: Claimed) {
        let attempt = endpoint.send(&d.event_id, &d.payload).await;
        let now = self.clock.now_ms();
        let error = attempt.to_string();
        let (outcome, result) = match &attempt {
            Attempt::Delivered(status) => (
                Settled::Delivered {
                    status: i64::from(*status),
                },
                "delivered",
            ),
            _ if now - d.created_at >= self.config.max_age.as_millis() as i64 => (
                Settled::Failed {
                    status: attempt.status(),
                    error: &error,
                },
                "failed",
            ),
            _ => {
                let retry = (d.attempts.max(1) - 1) as u32;
                let delay = backoff(
                    retry,
                    self.config.backoff_base,
                    self.config.backoff_max,
                    &self.jitter,
                );
                (
                    Settled::Retry {
                        at: now + delay.as_millis() as i64,
                        status: attempt.status(),
                        error: &error,
                    },
                    "retry",
                )
            }
        };
        self.metrics.webhooks().delivery(&endpoint.name, result);
        if !matches!(attempt, Attempt::Delivered(_)) {
            tracing::info!(endpoint = %endpoint.name, event = %d.event_id, attempts = d.attempts, %attempt, result, "webhook not delivered");
        }
        match deliveries::settle(
            &self.db,
            &d.event_id,
            &endpoint.name,
            &self.owner,
            now,
            outcome,
        )
        .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(event = %d.event_id, "webhook delivery lease lost; another replica has it")
            }
            Err(e) => {
                tracing::warn!(event = %d.event_id, error = %e, "settling a webhook delivery failed; it is sent again after its lease")
            }
        }
    }
}
