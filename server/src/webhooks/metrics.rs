//! The webhooks' metrics: deliveries by endpoint and result, and the age of the oldest
//! delivery not delivered yet.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    endpoint: String,
    result: String,
}

/// The webhooks' part of the server's metrics.
#[derive(Debug, Clone, Default)]
pub struct WebhookMetrics {
    deliveries: Family<DeliveryLabels, Counter>,
    oldest_undelivered: Gauge<f64, AtomicU64>,
}

impl WebhookMetrics {
    /// Registers the metrics in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let this = Self::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts, by endpoint and result (delivered, retry, failed)",
            this.deliveries.clone(),
        );
        registry.register(
            "webhook_oldest_undelivered_age_seconds",
            "Age of the oldest webhook delivery not delivered yet (0: none)",
            this.oldest_undelivered.clone(),
        );
        this
    }

    /// Counts one attempt.
    pub fn delivery(&self, endpoint: &str, result: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                endpoint: endpoint.into(),
                result: result.into(),
            })
            .inc();
    }

    /// Sets the oldest undelivered age.
    pub fn set_oldest_undelivered(&self, seconds: f64) {
        self.oldest_undelivered.set(seconds);
    }
}
