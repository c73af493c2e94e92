//! What the app reports (a payment, a refund), checked field by field before anything is
//! stored: exact decimal amounts turned into integer micros, ISO 4217 currencies, ISO 3166
//! regions, India's states, the token only on a first payment, the initial payment on a
//! renewal; and the ids Google receives, derived from the app's own ids.

use std::str::FromStr;

use play_model::ids::is_external_transaction_id;
use play_model::money::{self, DecimalError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::fingerprint::{hex, sha256_hex};

/// Micros as the exact decimal string of `decimals` places (`9990000`, 2 → `"9.99"`).
pub use play_model::money::micros_to_places as format_micros;

/// Google's `administrativeArea` values for India, where the state is required.
pub const INDIAN_STATES: [&str; 38] = [
    "ANDAMAN AND NICOBAR ISLANDS",
    "ANDHRA PRADESH",
    "ARUNACHAL PRADESH",
    "ASSAM",
    "BIHAR",
    "CHANDIGARH",
    "CHHATTISGARH",
    "DADRA AND NAGAR HAVELI",
    "DADRA AND NAGAR HAVELI AND DAMAN AND DIU",
    "DAMAN AND DIU",
    "DELHI",
    "GOA",
    "GUJARAT",
    "HARYANA",
    "HIMACHAL PRADESH",
    "JAMMU AND KASHMIR",
    "JHARKHAND",
    "KARNATAKA",
    "KERALA",
    "LADAKH",
    "LAKSHADWEEP",
    "MADHYA PRADESH",
    "MAHARASHTRA",
    "MANIPUR",
    "MEGHALAYA",
    "MIZORAM",
    "NAGALAND",
    "ODISHA",
    "PUDUCHERRY",
    "PUNJAB",
    "RAJASTHAN",
    "SIKKIM",
    "TAMIL NADU",
    "TELANGANA",
    "TRIPURA",
    "UTTAR PRADESH",
    "UTTARAKHAND",
    "WEST BENGAL",
];

/// The longest id the app may give (payment, account, product, refund ids).
pub const MAX_ID_LEN: usize = 256;
/// How far in the future a payment or refund time may be (clock skew).
pub const MAX_FUTURE_MS: i64 = 5 * 60 * 1000;

/// Which payment of what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// A one-time product.
    OneTime,
    /// The first payment of a subscription (also after an upgrade or downgrade, with the new
    /// token: a new series).
    SubscriptionFirst,
    /// A renewal (or top-up) of a subscription: names the series' first payment, no token.
    SubscriptionRenewal,
}

impl PaymentKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneTime => "one_time",
            Self::SubscriptionFirst => "subscription_first",
            Self::SubscriptionRenewal => "subscription_renewal",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "one_time" => Some(Self::OneTime),
            "subscription_first" => Some(Self::SubscriptionFirst),
            "subscription_renewal" => Some(Self::SubscriptionRenewal),
            _ => None,
        }
    }

    /// Whether this is a subscription's payment.
    pub fn is_recurring(self) -> bool {
        self != Self::OneTime
    }
}

/// A payment taken outside Play billing, as the app's payment system reports it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentReport {
    /// The app's own payment id (e.g. the payment provider's charge id). Never sent to
    /// Google: the external transaction id is derived from it.
    pub payment_id: String,
    /// The account that paid.
    pub account_id: String,
    /// The product bought.
    pub product_id: String,
    /// `one_time`, `subscription_first` or `subscription_renewal`.
    pub kind: PaymentKind,
    /// Subscriptions: `RECURRING` (default) or `PREPAID`.
    #[serde(default)]
    pub subscription_type: Option<String>,
    /// Renewals: the `paymentId` of the subscription's first payment.
    #[serde(default)]
    pub initial_payment_id: Option<String>,
    /// The amount before tax, an exact decimal string in the currency's units (`"9.99"`).
    pub pre_tax_amount: String,
    /// The tax, an exact decimal string (`"1.90"`, `"0"`).
    pub tax_amount: String,
    /// ISO 4217 currency code (`EUR`).
    pub currency: String,
    /// When the payment was made (RFC 3339), not when it is reported.
    pub transaction_time: String,
    /// The user's ISO 3166-1 alpha-2 region (`DE`).
    pub region_code: String,
    /// India only, required there: the state, as Google spells it (`KERALA`).
    #[serde(default)]
    pub administrative_area: Option<String>,
    /// The `externalTransactionToken` the Play Billing Library gave the app: required on a
    /// one-time payment and a subscription's first payment, refused on a renewal.
    #[serde(default)]
    pub external_transaction_token: Option<String>,
    /// A test payment (a license tester's); Google does not charge for it.
    #[serde(default)]
    pub test: bool,
    /// External offers: Google's `ExternalOfferDetails`, passed through.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub external_offer_details: Option<serde_json::Value>,
    /// External content links: Google's `ExternalContentLinkDetails`, passed through.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub external_content_link_details: Option<serde_json::Value>,
    /// Partner programs (Play Media Experience Program): the program code.
    #[serde(default)]
    pub transaction_program_code: Option<i32>,
}

/// A refund of one specific payment, full (what is left) or partial.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundReport {
    /// The app's own refund id, unique per payment.
    pub refund_id: String,
    /// The pre-tax amount refunded (exact decimal string); absent: a full refund of what is
    /// left.
    #[serde(default)]
    pub pre_tax_amount: Option<String>,
    /// When the refund was made (RFC 3339).
    pub refund_time: String,
}

/// A field that failed validation: the API answers `422` naming it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field, as the request spells it.
    pub field: &'static str,
    /// What is wrong with it.
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// A validated payment, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The external transaction id sent to Google.
    pub id: String,
    /// The app's payment id.
    pub payment_id: String,
    /// The account.
    pub account_id: String,
    /// The product.
    pub product_id: String,
    /// Which payment.
    pub kind: PaymentKind,
    /// `RECURRING` or `PREPAID` (subscriptions).
    pub subscription_type: Option<String>,
    /// The series' first external transaction id (renewals).
    pub initial_id: Option<String>,
    /// ISO 4217 code.
    pub currency: String,
    /// Pre-tax amount in micros.
    pub pre_tax_micros: i64,
    /// Tax in micros.
    pub tax_micros: i64,
    /// Payment time, ms since the epoch.
    pub transaction_time: i64,
    /// ISO 3166-1 alpha-2.
    pub region_code: String,
    /// India's state.
    pub administrative_area: Option<String>,
    /// The token (first payments).
    pub token: Option<String>,
    /// Test payment.
    pub test: bool,
    /// Program details (JSON object with Google's field names), if any.
    pub program: Option<serde_json::Value>,
}

impl Payment {
    /// The hash of everything Google receives but the token: a second report under the same
    /// id must have the same fingerprint.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([
            self.payment_id,
            self.account_id,
            self.product_id,
            self.kind.as_str(),
            self.subscription_type,
            self.initial_id,
            self.currency,
            self.pre_tax_micros,
            self.tax_micros,
            self.transaction_time,
            self.region_code,
            self.administrative_area,
            self.test,
            self.program,
        ]);
        sha256_hex(canonical.to_string())
    }
}

/// A validated refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The app's refund id.
    pub refund_id: String,
    /// The refundId Google receives.
    pub google_refund_id: String,
    /// `None`: full refund of what is left.
    pub pre_tax_micros: Option<i64>,
    /// Refund time, ms since the epoch.
    pub refund_time: i64,
}

impl Refund {
    /// The hash of the refund's values: the same refund id with other values is a conflict.
    pub fn fingerprint(&self) -> String {
        let canonical = serde_json::json!([self.refund_id, self.pre_tax_micros, self.refund_time]);
        sha256_hex(canonical.to_string())
    }
}

/// The external transaction id of an app's payment id: `pb-` and 40 hex digits of its
/// SHA-256. Deterministic (the same payment always gets the same id), always valid for
/// Google, and carries nothing of the payment id itself (which may contain personal data).
pub fn transaction_id(payment_id: &str) -> String {
    derived_id("pb-", &["payment", payment_id])
}

/// The Google `refundId` of the app's refund `refund_id` of transaction `transaction_id`.
pub fn refund_id(transaction_id: &str, refund_id: &str) -> String {
    derived_id("rf-", &["refund", transaction_id, refund_id])
}

fn derived_id(prefix: &str, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so that ("a", "bc") and ("ab", "c") differ.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    let id = format!("{prefix}{}", &hex(&hasher.finalize())[..40]);
    debug_assert!(is_external_transaction_id(&id));
    id
}

/// An exact decimal string in `currency`'s units as integer micros. At most as many
/// decimals as the currency has (none for JPY), never negative, no exponent, no rounding.
pub fn parse_micros(field: &'static str, amount: &str, decimals: u16) -> Result<i64, FieldError> {
    let too_many = || {
        bad(
            field,
            format!("`{amount}` has more decimals than the currency's {decimals}"),
        )
    };
    let micros = match money::parse_decimal(amount) {
        Ok(m) if !amount.starts_with('-') => m,
        Err(DecimalError::TooLarge) => {
            return Err(bad(field, format!("`{amount}` is too large")));
        }
        Err(DecimalError::TooManyDecimals) => return Err(too_many()),
        _ => {
            return Err(bad(
                field,
                format!("`{amount}` is not an exact decimal amount like \"9.99\" (digits, an optional point, no sign or exponent)"),
            ));
        }
    };
    if !money::fits_places(micros, decimals) {
        return Err(too_many());
    }
    Ok(micros)
}

/// A currency's number of decimals, if it is an ISO 4217 code.
pub fn currency_decimals(field: &'static str, code: &str) -> Result<u16, FieldError> {
    money::currency_decimals(code).ok_or_else(|| {
        bad(
            field,
            format!("`{code}` is not an ISO 4217 currency code (like EUR, USD, INR)"),
        )
    })
}

/// RFC 3339 to ms since the epoch, not in the future (beyond clock skew).
pub fn parse_time(field: &'static str, value: &str, now_ms: i64) -> Result<i64, FieldError> {
    let t = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            bad(
                field,
                format!("`{value}` is not an RFC 3339 time like 2026-11-01T10:00:00Z"),
            )
        })?;
    let ms = (t.unix_timestamp_nanos() / 1_000_000) as i64;
    if ms > now_ms + MAX_FUTURE_MS {
        return Err(bad(field, format!("`{value}` is in the future")));
    }
    Ok(ms)
}

fn app_id(field: &'static str, value: &str) -> Result<String, FieldError> {
    if value.trim().is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if value.len() > MAX_ID_LEN {
        return Err(bad(field, format!("is longer than {MAX_ID_LEN} bytes")));
    }
    if value.chars().any(char::is_control) {
        return Err(bad(field, "must not contain control characters"));
    }
    Ok(value.to_string())
}

fn program_object(
    field: &'static str,
    value: &Option<serde_json::Value>,
) -> Result<Option<serde_json::Value>, FieldError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v @ serde_json::Value::Object(_)) => Ok(Some(v.clone())),
        Some(_) => Err(bad(field, "must be an object")),
    }
}

impl PaymentReport {
    /// Checks every field and builds the payment to store. `now_ms` bounds the payment time.
    pub fn validate(&self, now_ms: i64) -> Result<Payment, FieldError> {
        let payment_id = app_id("paymentId", &self.payment_id)?;
        let account_id = app_id("accountId", &self.account_id)?;
        let product_id = app_id("productId", &self.product_id)?;
        let decimals = currency_decimals("currency", &self.currency)?;
        let pre_tax_micros = parse_micros("preTaxAmount", &self.pre_tax_amount, decimals)?;
        let tax_micros = parse_micros("taxAmount", &self.tax_amount, decimals)?;
        let transaction_time = parse_time("transactionTime", &self.transaction_time, now_ms)?;
        let region = iso_currency::Country::from_str(&self.region_code).map_err(|_| {
            bad(
                "regionCode",
                format!(
                    "`{}` is not an ISO 3166-1 alpha-2 region code (like DE, IN, US)",
                    self.region_code
                ),
            )
        })?;
        let administrative_area = match (
            region == iso_currency::Country::IN,
            &self.administrative_area,
        ) {
            (true, None) => {
                return Err(bad(
                    "administrativeArea",
                    "is required for India (regionCode IN): the state, e.g. KERALA",
                ))
            }
            (true, Some(state)) => {
                let upper = state.to_ascii_uppercase();
                if !INDIAN_STATES.contains(&upper.as_str()) {
                    return Err(bad(
                        "administrativeArea",
                        format!("`{state}` is not one of Google's Indian states (e.g. KERALA, TAMIL NADU)"),
                    ));
                }
                Some(upper)
            }
            (false, Some(_)) => {
                return Err(bad(
                    "administrativeArea",
                    "is only for India (regionCode IN)",
                ))
            }
            (false, None) => None,
        };
        let token = self
            .external_transaction_token
            .as_deref()
            .filter(|t| !t.is_empty());
        let (token, initial_id) = match self.kind {
            PaymentKind::OneTime | PaymentKind::SubscriptionFirst => {
                if self.initial_payment_id.is_some() {
                    return Err(bad(
                        "initialPaymentId",
                        "is only for renewals (kind subscription_renewal)",
                    ));
                }
                let token = token.ok_or_else(|| {
                    bad(
                        "externalTransactionToken",
                        "is required on a one-time payment and a subscription's first payment",
                    )
                })?;
                if token.len() > 4096 {
                    return Err(bad("externalTransactionToken", "is longer than 4096 bytes"));
                }
                (Some(token.to_string()), None)
            }
            PaymentKind::SubscriptionRenewal => {
                if token.is_some() {
                    return Err(bad(
                        "externalTransactionToken",
                        "must not be sent on a renewal: it names the first payment with initialPaymentId instead",
                    ));
                }
                let initial = self.initial_payment_id.as_deref().ok_or_else(|| {
                    bad(
                        "initialPaymentId",
                        "is required on a renewal: the paymentId of the subscription's first payment",
                    )
                })?;
                let initial = app_id("initialPaymentId", initial)?;
                if initial == payment_id {
                    return Err(bad(
                        "initialPaymentId",
                        "is this payment itself; it must name the subscription's first payment",
                    ));
                }
                (None, Some(transaction_id(&initial)))
            }
        };
        let subscription_type = match (self.kind.is_recurring(), self.subscription_type.as_deref())
        {
            (false, None) => None,
            (false, Some(_)) => {
                return Err(bad("subscriptionType", "is only for subscription payments"))
            }
            (true, None) => Some("RECURRING".to_string()),
            (true, Some(t @ ("RECURRING" | "PREPAID"))) => Some(t.to_string()),
            (true, Some(other)) => {
                return Err(bad(
                    "subscriptionType",
                    format!("`{other}` is neither RECURRING nor PREPAID"),
                ))
            }
        };
        let offer = program_object("externalOfferDetails", &self.external_offer_details)?;
        let link = program_object(
            "externalContentLinkDetails",
            &self.external_content_link_details,
        )?;
        let mut program = serde_json::Map::new();
        match (offer, link) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "externalContentLinkDetails",
                    "cannot be sent with externalOfferDetails: Google takes one of the two",
                ))
            }
            (Some(o), None) => {
                program.insert("externalOfferDetails".into(), o);
            }
            (None, Some(l)) => {
                program.insert("externalContentLinkDetails".into(), l);
            }
            (None, None) => {}
        }
        if let Some(code) = self.transaction_program_code {
            if program.contains_key("externalOfferDetails") {
                return Err(bad(
                    "transactionProgramCode",
                    "cannot be used for external offers transactions",
                ));
            }
            program.insert("transactionProgramCode".into(), code.into());
        }
        Ok(Payment {
            id: transaction_id(&payment_id),
            payment_id,
            account_id,
            product_id,
            kind: self.kind,
            subscription_type,
            initial_id,
            currency: self.currency.clone(),
            pre_tax_micros,
            tax_micros,
            transaction_time,
            region_code: self.region_code.clone(),
            administrative_area,
            token,
            test: self.test,
            program: (!program.is_empty()).then_some(serde_json::Value::Object(program)),
        })
    }
}

impl RefundReport {
    /// Checks every field against the refunded payment's `currency` and `transaction_id`.
    pub fn validate(
        &self,
        transaction_id: &str,
        currency: &str,
        now_ms: i64,
    ) -> Result<Refund, FieldError> {
        let app_refund_id = app_id("refundId", &self.refund_id)?;
        let pre_tax_micros = match &self.pre_tax_amount {
            None => None,
            Some(amount) => {
                let decimals = currency_decimals("currency", currency)?;
                let micros = parse_micros("preTaxAmount", amount, decimals)?;
                if micros == 0 {
                    return Err(bad(
                        "preTaxAmount",
                        "must be more than 0 (leave it out for a full refund)",
                    ));
                }
                Some(micros)
            }
        };
        Ok(Refund {
            google_refund_id: refund_id(transaction_id, &app_refund_id),
            refund_id: app_refund_id,
            pre_tax_micros,
            refund_time: parse_time("refundTime", &self.refund_time, now_ms)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-01T00:00:00Z.
    const NOW: i64 = 1_796_083_200_000;

    fn report() -> PaymentReport {
        serde_json::from_value(serde_json::json!({
            "paymentId": "ch_1", "accountId": "user-1", "productId": "premium",
            "kind": "one_time", "preTaxAmount": "9.99", "taxAmount": "1.90",
            "currency": "EUR", "transactionTime": "2026-11-01T10:00:00Z",
            "regionCode": "DE", "externalTransactionToken": "tok",
        }))
        .unwrap()
    }

    fn field_of(r: PaymentReport) -> &'static str {
        r.validate(NOW).unwrap_err().field
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(parse_micros("a", "9.99", 2), Ok(9_990_000));
        assert_eq!(parse_micros("a", "0", 2), Ok(0));
        assert_eq!(parse_micros("a", "0.10", 2), Ok(100_000));
        assert_eq!(parse_micros("a", "1000", 0), Ok(1_000_000_000));
        assert_eq!(parse_micros("a", "1.500", 2), Ok(1_500_000));
        for bad in [
            "", "-1", "1e3", "1.", ".5", "1,00", " 1", "+1", "0x10", "1.2.3",
        ] {
            assert!(parse_micros("a", bad, 2).is_err(), "{bad}");
        }
        assert!(parse_micros("a", "1.5", 0).is_err(), "JPY has no decimals");
        assert!(parse_micros("a", "1.001", 2).is_err());
        assert!(parse_micros("a", "99999999999999", 2).is_err(), "overflow");
        assert_eq!(format_micros(9_990_000, 2), "9.99");
        assert_eq!(format_micros(1_000_000_000, 0), "1000");
        assert_eq!(currency_decimals("c", "JPY"), Ok(0));
        assert_eq!(currency_decimals("c", "EUR"), Ok(2));
        assert!(currency_decimals("c", "EURO").is_err());
        assert!(currency_decimals("c", "eur").is_err());
    }

    #[test]
    fn ids_are_deterministic_valid_and_opaque() {
        let a = transaction_id("alice@example.com/charge 1");
        assert_eq!(a, transaction_id("alice@example.com/charge 1"));
        assert_ne!(a, transaction_id("alice@example.com/charge 2"));
        assert!(is_external_transaction_id(&a));
        assert!(!a.contains("alice"));
        assert_eq!(a.len(), 43);
        let r = refund_id(&a, "r1");
        assert!(is_external_transaction_id(&r));
        assert_ne!(r, refund_id(&transaction_id("x"), "r1"));
        assert!(!is_external_transaction_id(""));
        assert!(!is_external_transaction_id(&"a".repeat(64)));
        assert!(!is_external_transaction_id("a b"));
    }

    #[test]
    fn validation_names_the_field() {
        let p = report().validate(NOW).unwrap();
        assert_eq!(
            (p.pre_tax_micros, p.tax_micros, p.token.as_deref()),
            (9_990_000, 1_900_000, Some("tok"))
        );
        let mut r = report();
        r.currency = "XYZ".into();
        assert_eq!(field_of(r), "currency");
        let mut r = report();
        r.pre_tax_amount = "9.999".into();
        assert_eq!(field_of(r), "preTaxAmount");
        let mut r = report();
        r.tax_amount = "-1".into();
        assert_eq!(field_of(r), "taxAmount");
        let mut r = report();
        r.region_code = "XX".into();
        assert_eq!(field_of(r), "regionCode");
        let mut r = report();
        r.region_code = "IN".into();
        assert_eq!(field_of(r.clone()), "administrativeArea");
        r.administrative_area = Some("Atlantis".into());
        assert_eq!(field_of(r.clone()), "administrativeArea");
        r.administrative_area = Some("kerala".into());
        r.currency = "INR".into();
        assert_eq!(
            r.validate(NOW).unwrap().administrative_area.as_deref(),
            Some("KERALA")
        );
        let mut r = report();
        r.external_transaction_token = None;
        assert_eq!(field_of(r), "externalTransactionToken");
        let mut r = report();
        r.transaction_time = "yesterday".into();
        assert_eq!(field_of(r), "transactionTime");
        let mut r = report();
        r.transaction_time = "2030-01-01T00:00:00Z".into();
        assert_eq!(field_of(r), "transactionTime");
        let mut r = report();
        r.kind = PaymentKind::SubscriptionRenewal;
        assert_eq!(field_of(r.clone()), "externalTransactionToken");
        r.external_transaction_token = None;
        assert_eq!(field_of(r.clone()), "initialPaymentId");
        r.initial_payment_id = Some("ch_0".into());
        let renewal = r.validate(NOW).unwrap();
        assert_eq!(renewal.initial_id, Some(transaction_id("ch_0")));
        assert_eq!(renewal.subscription_type.as_deref(), Some("RECURRING"));
        let mut r = report();
        r.external_offer_details = Some(serde_json::json!({"linkType": "LINK_TO_APP_DOWNLOAD"}));
        r.external_content_link_details =
            Some(serde_json::json!({"linkType": "LINK_TO_APP_DOWNLOAD"}));
        assert_eq!(field_of(r.clone()), "externalContentLinkDetails");
        r.external_content_link_details = None;
        r.transaction_program_code = Some(3);
        assert_eq!(field_of(r), "transactionProgramCode");
        let mut r = report();
        r.payment_id = " ".into();
        assert_eq!(field_of(r), "paymentId");
    }

    #[test]
    fn fingerprints_ignore_the_token_only() {
        let a = report().validate(NOW).unwrap();
        let mut r = report();
        r.external_transaction_token = Some("other".into());
        assert_eq!(a.fingerprint(), r.validate(NOW).unwrap().fingerprint());
        let mut r = report();
        r.pre_tax_amount = "9.98".into();
        assert_ne!(a.fingerprint(), r.validate(NOW).unwrap().fingerprint());
    }
}
