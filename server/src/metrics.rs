//! Prometheus metrics: requests, verification outcomes, Google calls, outbox health.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GoogleLabels {
    method: String,
    status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RtdnLabels {
    kind: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    kind: String,
    result: String,
}

/// The server's metrics, one registry per server (tests run several in one process).
#[derive(Debug, Clone)]
pub struct Metrics(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: Family<RouteLabels, Histogram>,
    verifications: Family<OutcomeLabels, Counter>,
    google_calls: Family<GoogleLabels, Counter>,
    oauth_fetches: Counter,
    jobs: Family<JobLabels, Counter>,
    outbox_depth: Gauge,
    oldest_unacknowledged: Gauge<f64, AtomicU64>,
    rtdn: Family<RtdnLabels, Counter>,
    lifecycle: Family<StateLabels, Counter>,
    voided_listed: Counter,
    voided_sweeps: Family<OutcomeLabels, Counter>,
    external_transactions: Family<JobLabels, Counter>,
    external_unreported: Gauge,
    external_oldest_unreported: Gauge<f64, AtomicU64>,
    external_deadline_level: Gauge,
    quota: crate::play::quota::QuotaMetrics,
    webhooks: crate::webhooks::metrics::WebhookMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("pwa_billing");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            request_seconds.clone(),
        );
        let verifications = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "verifications",
            "Purchase verification outcomes",
            verifications.clone(),
        );
        let google_calls = Family::<GoogleLabels, Counter>::default();
        registry.register(
            "google_calls",
            "Calls to the Google Play Developer API by method and HTTP status (`error`: no answer)",
            google_calls.clone(),
        );
        let oauth_fetches = Counter::default();
        registry.register(
            "google_oauth_token_fetches",
            "OAuth access tokens fetched",
            oauth_fetches.clone(),
        );
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "outbox_jobs",
            "Durable jobs run, by kind and result",
            jobs.clone(),
        );
        let outbox_depth = Gauge::default();
        registry.register(
            "outbox_depth",
            "Durable jobs not done yet",
            outbox_depth.clone(),
        );
        let oldest_unacknowledged = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "oldest_unacknowledged_age_seconds",
            "Age of the oldest granted purchase not yet acknowledged on Google Play (0: none)",
            oldest_unacknowledged.clone(),
        );
        let rtdn = Family::<RtdnLabels, Counter>::default();
        registry.register(
            "rtdn_notifications",
            "RTDN pushes received, by notification kind and outcome (stored, duplicate, other_package, refused, malformed)",
            rtdn.clone(),
        );
        let lifecycle = Family::<StateLabels, Counter>::default();
        registry.register(
            "lifecycle_changes",
            "Stored purchases changed after verification (RTDN, voided purchases, reconcile), by new state",
            lifecycle.clone(),
        );
        let voided_listed = Counter::default();
        registry.register(
            "voided_purchases_listed",
            "Voided purchases read from voidedpurchases.list",
            voided_listed.clone(),
        );
        let voided_sweeps = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "voided_sweeps",
            "Sweeps of voidedpurchases.list by outcome (done, skipped, failed)",
            voided_sweeps.clone(),
        );
        let external_transactions = Family::<JobLabels, Counter>::default();
        registry.register(
            "external_transactions",
            "External transaction deliveries to Google by kind (report, refund) and result (done, retry, failed)",
            external_transactions.clone(),
        );
        let external_unreported = Gauge::default();
        registry.register(
            "external_transactions_unreported",
            "External transactions (payments) not reported to Google yet",
            external_unreported.clone(),
        );
        let external_oldest_unreported = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "external_transactions_oldest_unreported_age_seconds",
            "Time since the payment of the oldest external transaction not reported yet (0: none); Google's deadline is 24 h",
            external_oldest_unreported.clone(),
        );
        let external_deadline_level = Gauge::default();
        registry.register(
            "external_transactions_deadline_level",
            "0: nothing waits long; 1: a payment waits past external_transactions.warn_after_secs; 2: alert, one is within 2 h of the 24 h deadline or past it",
            external_deadline_level.clone(),
        );
        let quota = crate::play::quota::QuotaMetrics::register(&mut registry);
        let webhooks = crate::webhooks::metrics::WebhookMetrics::register(&mut registry);
        Self(Arc::new(Inner {
            registry,
            requests,
            request_seconds,
            verifications,
            google_calls,
            oauth_fetches,
            jobs,
            outbox_depth,
            oldest_unacknowledged,
            rtdn,
            lifecycle,
            voided_listed,
            voided_sweeps,
            external_transactions,
            external_unreported,
            external_oldest_unreported,
            external_deadline_level,
            quota,
            webhooks,
        }))
    }

    /// The quota metrics ([`crate::play::quota`]).
    pub fn quota(&self) -> &crate::play::quota::QuotaMetrics {
        &self.0.quota
    }

    /// The webhooks' metrics.
    pub fn webhooks(&self) -> &crate::webhooks::metrics::WebhookMetrics {
        &self.0.webhooks
    }

    /// Counts one HTTP request.
    pub fn http_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.0
            .requests
            .get_or_create(&RequestLabels {
                method: method.into(),
                route: route.into(),
                status: status.to_string(),
            })
            .inc();
        self.0
            .request_seconds
            .get_or_create(&RouteLabels {
                route: route.into(),
            })
            .observe(seconds);
    }

    /// Counts one verification outcome (`granted`, `pending`, `invalid`, …).
    pub fn verification(&self, outcome: &str) {
        self.0
            .verifications
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Counts one Google call; `status` is `None` when no answer came.
    pub fn google_call(&self, method: &str, status: Option<u16>) {
        let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
        self.0
            .google_calls
            .get_or_create(&GoogleLabels {
                method: method.into(),
                status,
            })
            .inc();
    }

    /// Counts one OAuth token fetch.
    pub fn oauth_fetch(&self) {
        self.0.oauth_fetches.inc();
    }

    /// Counts one job run.
    pub fn job(&self, kind: &str, result: &str) {
        self.0
            .jobs
            .get_or_create(&JobLabels {
                kind: kind.into(),
                result: result.into(),
            })
            .inc();
    }

    /// Sets the outbox gauges (read from the database at scrape time).
    pub fn set_outbox(&self, depth: i64, oldest_unacknowledged_seconds: f64) {
        self.0.outbox_depth.set(depth);
        self.0
            .oldest_unacknowledged
            .set(oldest_unacknowledged_seconds);
    }

    /// Counts one RTDN push by notification kind and outcome.
    pub fn rtdn(&self, kind: &str, outcome: &str) {
        self.0
            .rtdn
            .get_or_create(&RtdnLabels {
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Counts one change of a stored purchase after verification, by its new state.
    pub fn lifecycle(&self, state: &str) {
        self.0
            .lifecycle
            .get_or_create(&StateLabels {
                state: state.into(),
            })
            .inc();
    }

    /// Counts one sweep of voided purchases (`done`, `skipped`, `failed`) and what it read.
    pub fn voided_sweep(&self, outcome: &str, listed: u64) {
        self.0.voided_listed.inc_by(listed);
        self.0
            .voided_sweeps
            .get_or_create(&OutcomeLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Sets the age of the oldest granted purchase not acknowledged yet.
    pub fn set_oldest_unacknowledged(&self, seconds: f64) {
        self.0.oldest_unacknowledged.set(seconds);
    }

    /// Counts one external transaction delivery (`report`, `refund`) by result.
    pub fn external_transaction(&self, kind: &str, result: &str) {
        self.0
            .external_transactions
            .get_or_create(&JobLabels {
                kind: kind.into(),
                result: result.into(),
            })
            .inc();
    }

    /// Sets the external transactions deadline gauges.
    pub fn set_external_transactions_unreported(
        &self,
        pending: i64,
        oldest_seconds: f64,
        level: i64,
    ) {
        self.0.external_unreported.set(pending);
        self.0.external_oldest_unreported.set(oldest_seconds);
        self.0.external_deadline_level.set(level);
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.0.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
