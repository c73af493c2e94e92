//! `externaltransactions.*`: create, get and refund one external transaction. Creates and
//! refunds make exactly one HTTP request each (a 401 aside, which refreshes the access token
//! once): the caller paces them with the shared limiter and retries through the outbox, so
//! that every request Google counts against its 1,200 a minute went through the limiter.

use std::num::NonZeroU32;

use play_model::methods::{self, Method};
use serde::Deserialize;

use super::client::{decode, http_method, PlayClient};
use super::PlayError;

pub use play_model::Price;

/// Google's `ExternalTransaction` (the fields the server reads back).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalTransaction {
    /// The id.
    #[serde(default)]
    pub external_transaction_id: String,
    /// Pre-tax amount as reported.
    pub original_pre_tax_amount: Option<Price>,
    /// Tax as reported.
    pub original_tax_amount: Option<Price>,
    /// Pre-tax amount after refunds.
    pub current_pre_tax_amount: Option<Price>,
    /// Tax after refunds.
    pub current_tax_amount: Option<Price>,
    /// `TRANSACTION_REPORTED`, `TRANSACTION_CANCELED` (fully refunded).
    pub transaction_state: Option<String>,
    /// When Google was notified.
    pub create_time: Option<String>,
    /// The payment time.
    pub transaction_time: Option<String>,
    /// Present on a test purchase.
    pub test_purchase: Option<serde_json::Value>,
    /// One-time transaction details.
    pub one_time_transaction: Option<serde_json::Value>,
    /// Recurring transaction details.
    pub recurring_transaction: Option<serde_json::Value>,
}

impl PlayClient {
    /// `externaltransactions.createexternaltransaction`: one request.
    pub async fn create_external_transaction(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<ExternalTransaction, PlayError> {
        let method = &methods::EXTERNALTRANSACTIONS_CREATEEXTERNALTRANSACTION;
        let mut url = self.url(method, &[]);
        url.query_pairs_mut()
            .append_pair("externalTransactionId", id);
        decode(&self.once(method, url, Some(body)).await?)
    }

    /// `externaltransactions.getexternaltransaction` (not counted against the write quota).
    pub async fn get_external_transaction(
        &self,
        id: &str,
    ) -> Result<ExternalTransaction, PlayError> {
        let method = &methods::EXTERNALTRANSACTIONS_GETEXTERNALTRANSACTION;
        decode(&self.once(method, self.url(method, &[id]), None).await?)
    }

    /// `externaltransactions.refundexternaltransaction`: one request.
    pub async fn refund_external_transaction(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<ExternalTransaction, PlayError> {
        let method = &methods::EXTERNALTRANSACTIONS_REFUNDEXTERNALTRANSACTION;
        decode(
            &self
                .once(method, self.url(method, &[id]), Some(body))
                .await?,
        )
    }

    /// One request (a 401 aside, which is retried once with a fresh access token).
    async fn once(
        &self,
        method: &'static Method,
        url: url::Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, PlayError> {
        self.send(
            method.id,
            http_method(method),
            url,
            body,
            Some(NonZeroU32::MIN),
        )
        .await
        .result
    }
}
