//! `externaltransactions.*`: Google's `ExternalTransaction` and the refund request, sent by
//! the server and read and written by the emulator.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_with::skip_serializing_none;

use crate::money::Price;
use crate::purchases::Empty;

google_enum! {
    /// `ExternalTransaction.transactionState`.
    TransactionState {
        /// Not specified.
        Unspecified = "TRANSACTION_STATE_UNSPECIFIED",
        /// Reported to Google.
        Reported = "TRANSACTION_REPORTED",
        /// Fully refunded.
        Canceled = "TRANSACTION_CANCELED",
    }
}

google_enum! {
    /// `ExternalSubscription.subscriptionType`.
    SubscriptionType {
        /// Not specified.
        Unspecified = "SUBSCRIPTION_TYPE_UNSPECIFIED",
        /// Renews automatically.
        Recurring = "RECURRING",
        /// Paid for a fixed period.
        Prepaid = "PREPAID",
    }
}

/// Google's `ExternalTransaction`. `time`s are RFC 3339 strings, kept as written.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExternalTransaction {
    /// The app (output).
    pub package_name: Option<String>,
    /// The id (output; the create call takes it in the query).
    pub external_transaction_id: Option<String>,
    /// When Google was told (output).
    pub create_time: Option<String>,
    /// When the user paid.
    pub transaction_time: Option<String>,
    /// Pre-tax amount as reported.
    pub original_pre_tax_amount: Option<Price>,
    /// Tax as reported.
    pub original_tax_amount: Option<Price>,
    /// Pre-tax amount after refunds (output).
    pub current_pre_tax_amount: Option<Price>,
    /// Tax after refunds (output).
    pub current_tax_amount: Option<Price>,
    /// State (output).
    pub transaction_state: Option<TransactionState>,
    /// Present on a test purchase (output).
    pub test_purchase: Option<Empty>,
    /// Where the user lives, for tax.
    pub user_tax_address: Option<ExternalTransactionAddress>,
    /// A one-time payment.
    pub one_time_transaction: Option<OneTimeExternalTransaction>,
    /// A subscription payment.
    pub recurring_transaction: Option<RecurringExternalTransaction>,
    /// The program code, when the app takes part in one.
    pub transaction_program_code: Option<i32>,
    /// External offers program details, as the app gave them.
    pub external_offer_details: Option<Value>,
    /// External content links program details, as the app gave them.
    pub external_content_link_details: Option<Value>,
}

/// `ExternalTransactionAddress`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExternalTransactionAddress {
    /// ISO 3166 region.
    pub region_code: Option<String>,
    /// The state (required in India).
    pub administrative_area: Option<String>,
}

/// `OneTimeExternalTransaction`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct OneTimeExternalTransaction {
    /// The token the Play Billing Library gave the app.
    pub external_transaction_token: Option<String>,
}

/// `RecurringExternalTransaction`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RecurringExternalTransaction {
    /// The subscription's kind.
    pub external_subscription: Option<ExternalSubscription>,
    /// The token of a first payment.
    pub external_transaction_token: Option<String>,
    /// The first payment's transaction id, for a renewal.
    pub initial_external_transaction_id: Option<String>,
    /// A subscription migrated from another program.
    pub migrated_transaction_program: Option<String>,
    /// Details of a product other than a subscription.
    pub other_recurring_product: Option<Value>,
}

/// `ExternalSubscription`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExternalSubscription {
    /// Recurring or prepaid.
    pub subscription_type: Option<SubscriptionType>,
}

/// `RefundExternalTransactionRequest`: exactly one of `full_refund` and `partial_refund`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RefundExternalTransactionRequest {
    /// When the refund was made (RFC 3339).
    pub refund_time: Option<String>,
    /// A full refund.
    pub full_refund: Option<Empty>,
    /// A partial refund.
    pub partial_refund: Option<PartialRefund>,
}

/// `PartialRefund`.
#[skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PartialRefund {
    /// The refund's own id (unique per transaction).
    pub refund_id: Option<String>,
    /// The pre-tax amount refunded.
    pub refund_pre_tax_amount: Option<Price>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_reads_and_writes() {
        let text = serde_json::json!({
            "externalTransactionId": "pb-1",
            "originalPreTaxAmount": { "priceMicros": "990000", "currency": "USD" },
            "transactionState": "TRANSACTION_REPORTED",
            "testPurchase": {},
            "userTaxAddress": { "regionCode": "US" },
            "recurringTransaction": { "initialExternalTransactionId": "pb-0",
                "externalSubscription": { "subscriptionType": "PREPAID" } },
            "externalOfferDetails": { "linkType": "LINK_TO_APP_DOWNLOAD" },
        });
        let t: ExternalTransaction = serde_json::from_value(text.clone()).unwrap();
        assert_eq!(t.transaction_state, Some(TransactionState::Reported));
        assert_eq!(
            t.original_pre_tax_amount.as_ref().unwrap().price_micros,
            990_000
        );
        assert_eq!(
            t.recurring_transaction
                .as_ref()
                .unwrap()
                .external_subscription,
            Some(ExternalSubscription {
                subscription_type: Some(SubscriptionType::Prepaid)
            })
        );
        assert!(t.test_purchase.is_some());
        assert_eq!(serde_json::to_value(&t).unwrap(), text);
        let odd: ExternalTransaction =
            serde_json::from_str(r#"{"transactionState":"SOMETHING_NEW"}"#).unwrap();
        assert_eq!(odd.transaction_state, Some(TransactionState::Unknown));
    }
}
