//! `externaltransactions.*`: create, get and refund one external transaction. Creates and
//! refunds make exactly one HTTP request each (a 401 aside, which refreshes the access token
//! once): the caller paces them with the shared limiter and retries through the outbox, so
//! that every request Google counts against its 1,200 a minute went through the limiter.

use std::num::NonZeroU32;

use play_model::methods::{self, Method};

use super::client::{decode, http_method, PlayClient};
use super::PlayError;

pub use play_model::external_transactions::{
    ExternalTransaction, RefundExternalTransactionRequest,
};
pub use play_model::Price;

impl PlayClient {
    /// `externaltransactions.createexternaltransaction`: one request.
    pub async fn create_external_transaction(
        &self,
        id: &str,
        body: &ExternalTransaction,
    ) -> Result<ExternalTransaction, PlayError> {
        let method = &methods::EXTERNALTRANSACTIONS_CREATEEXTERNALTRANSACTION;
        let mut url = self.url(method, &[]);
        url.query_pairs_mut()
            .append_pair("externalTransactionId", id);
        decode(&self.once(method, url, Some(&json(body))).await?)
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
        body: &RefundExternalTransactionRequest,
    ) -> Result<ExternalTransaction, PlayError> {
        let method = &methods::EXTERNALTRANSACTIONS_REFUNDEXTERNALTRANSACTION;
        decode(
            &self
                .once(method, self.url(method, &[id]), Some(&json(body)))
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

/// A request body as JSON (the server never writes an enum's `Unknown`, the one value that
/// does not serialize).
fn json(body: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(body).expect("request bodies serialize")
}
