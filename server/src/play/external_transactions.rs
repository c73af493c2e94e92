//! `externaltransactions.*`: create, get and refund one external transaction. Creates and
//! refunds make exactly one HTTP request each (a 401 aside, which refreshes the access token
//! once): the caller paces them with the shared limiter and retries through the outbox, so
//! that every request Google counts against its 1,200 a minute went through the limiter.

use reqwest::Method;
use serde::Deserialize;
use serde_with::{serde_as, DisplayFromStr};

use super::client::{decode, PlayClient};
use super::PlayError;

/// Google's `Price`.
#[serde_as]
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Price {
    /// ISO 4217.
    #[serde(default)]
    pub currency: String,
    /// Micros (an int64 string on the wire).
    #[serde_as(as = "DisplayFromStr")]
    pub price_micros: i64,
}

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

const CREATE: &str = "androidpublisher.externaltransactions.createexternaltransaction";
const GET: &str = "androidpublisher.externaltransactions.getexternaltransaction";
const REFUND: &str = "androidpublisher.externaltransactions.refundexternaltransaction";

impl PlayClient {
    /// `externaltransactions.createexternaltransaction`: one request.
    pub async fn create_external_transaction(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<ExternalTransaction, PlayError> {
        let mut url = self.url(&["externalTransactions"]);
        url.query_pairs_mut()
            .append_pair("externalTransactionId", id);
        decode(&self.once(CREATE, Method::POST, url, Some(body)).await?)
    }

    /// `externaltransactions.getexternaltransaction` (not counted against the write quota).
    pub async fn get_external_transaction(
        &self,
        id: &str,
    ) -> Result<ExternalTransaction, PlayError> {
        let url = self.url(&["externalTransactions", id]);
        decode(&self.once(GET, Method::GET, url, None).await?)
    }

    /// `externaltransactions.refundexternaltransaction`: one request.
    pub async fn refund_external_transaction(
        &self,
        id: &str,
        body: &serde_json::Value,
    ) -> Result<ExternalTransaction, PlayError> {
        let last = format!("{id}:refund");
        let url = self.url(&["externalTransactions", &last]);
        decode(&self.once(REFUND, Method::POST, url, Some(body)).await?)
    }

    async fn once(
        &self,
        name: &'static str,
        method: Method,
        url: url::Url,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, PlayError> {
        match self.attempt(name, method.clone(), url.clone(), body).await {
            Err(PlayError::Api(s)) if s.code == 401 => self.attempt(name, method, url, body).await,
            other => other,
        }
    }
}
