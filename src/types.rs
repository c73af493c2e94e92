//! The plain-data objects of the API, identical in Rust and (camelCase) in JavaScript.

use serde::{Deserialize, Serialize};

/// A `PaymentCurrencyAmount`: an ISO 4217 currency and a decimal string value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    /// ISO 4217 code, e.g. `"EUR"`.
    pub currency: String,
    /// Decimal string, e.g. `"1.99"` (never a float).
    pub value: String,
}

/// Whether an item is a one-time product or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "String")]
pub enum ItemType {
    /// A one-time product (consumable or not).
    Product,
    /// A subscription.
    Subscription,
    /// A value this version does not know.
    Unknown,
}

/// An item as `DigitalGoodsService.getDetails` describes it (every v2.1 field), plus the
/// price formatted for the connection's locale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemDetails {
    /// The product id (Play's sku).
    pub item_id: String,
    /// The localized title.
    pub title: String,
    /// The localized description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The price.
    pub price: Amount,
    /// `product` or `subscription`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<ItemType>,
    /// Icon URLs.
    #[serde(
        rename = "iconURLs",
        default,
        deserialize_with = "crate::convert::null_as_empty"
    )]
    pub icon_urls: Vec<String>,
    /// ISO 8601 duration of a subscription period, e.g. `P1M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_period: Option<String>,
    /// ISO 8601 duration of a free trial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_trial_period: Option<String>,
    /// The introductory price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introductory_price: Option<Amount>,
    /// ISO 8601 duration of one introductory price cycle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introductory_price_period: Option<String>,
    /// How many cycles the introductory price lasts. WebIDL's `unsigned long long` arrives as
    /// a JS number; Play's count behind it (`recurrenceCount`) is an int32, so `u32` holds
    /// every value and keeps serde-wasm-bindgen's `BigInt` paths for 64-bit integers out of
    /// the bundle (-268 B gzip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introductory_price_cycles: Option<u32>,
    /// `price` formatted with `Intl.NumberFormat` for the connection's locale.
    #[serde(default)]
    pub formatted_price: String,
    /// `introductoryPrice` formatted likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted_introductory_price: Option<String>,
}

/// A purchase as `listPurchases` / `listPurchaseHistory` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseDetails {
    /// The product id.
    pub item_id: String,
    /// The purchase token (Digital Goods 1.0 called it `token`… only in PaymentResponse).
    pub purchase_token: String,
}

/// What kind of product an entitlement comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", from = "String")]
pub enum EntitlementKind {
    /// Granted once per purchase, then consumed so it can be bought again.
    Consumable,
    /// Owned for good.
    NonConsumable,
    /// Entitled while the subscription is.
    Subscription,
    /// A value this version does not know.
    Unknown,
}

/// The state of an entitlement as the backend tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", from = "String")]
pub enum EntitlementState {
    /// Granted and in force.
    Active,
    /// Payment failed, Play retries; still entitled.
    GracePeriod,
    /// Payment failed past grace; not entitled until recovered.
    OnHold,
    /// Paused by the user; not entitled.
    Paused,
    /// Auto-renew off; entitled until `expiresAt`.
    Canceled,
    /// Ran out.
    Expired,
    /// Revoked by the developer or Play.
    Revoked,
    /// Refunded (voided by Play).
    Refunded,
    /// Replaced by an upgrade or downgrade.
    Replaced,
    /// A consumable that was used up.
    Consumed,
    /// A value this version does not know.
    Unknown,
}

/// One entitlement of the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entitlement {
    /// The backend's id for it.
    #[serde(deserialize_with = "crate::convert::string_or_integer")]
    pub id: String,
    /// The product id.
    pub item_id: String,
    /// Consumable, non-consumable or subscription.
    pub kind: EntitlementKind,
    /// Its state.
    pub state: EntitlementState,
    /// Whether it grants access now.
    pub entitled: bool,
    /// How many units (consumables may have several).
    #[serde(default = "one")]
    pub quantity: u32,
    /// When it stops (RFC 3339), for subscriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// Whether it comes from a Play test purchase.
    #[serde(default)]
    pub test: bool,
    /// The purchase token behind it.
    pub purchase_token: String,
}

/// The enums are read as a plain `String` (`#[serde(from)]`) and matched by name here,
/// any other name being `Unknown`: one string read shared by the three enums instead of
/// serde's per-enum variant visitor and `deserialize_enum` (the names are the ones the
/// `rename_all` of each enum writes; `names_round_trip` checks both agree).
macro_rules! from_name {
    ($enum:ident { $($name:literal => $variant:ident,)* }) => {
        impl From<String> for $enum {
            fn from(name: String) -> Self {
                match name.as_str() {
                    $($name => $enum::$variant,)*
                    _ => $enum::Unknown,
                }
            }
        }
    };
}

from_name!(ItemType {
    "product" => Product,
    "subscription" => Subscription,
});

from_name!(EntitlementKind {
    "consumable" => Consumable,
    "non_consumable" => NonConsumable,
    "subscription" => Subscription,
});

from_name!(EntitlementState {
    "active" => Active,
    "grace_period" => GracePeriod,
    "on_hold" => OnHold,
    "paused" => Paused,
    "canceled" => Canceled,
    "expired" => Expired,
    "revoked" => Revoked,
    "refunded" => Refunded,
    "replaced" => Replaced,
    "consumed" => Consumed,
});

fn one() -> u32 {
    1
}

/// The backend's verdict on a verified purchase (its `200` body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// What was granted.
    pub entitlement: Entitlement,
    /// Whether Play has acknowledged the purchase yet (the backend does it in the background).
    #[serde(default)]
    pub acknowledged: bool,
}

/// The result of [`crate::PlayBilling::purchase`] and
/// [`crate::PlayBilling::change_subscription`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PurchaseResult {
    /// The product id bought.
    pub item_id: String,
    /// Its purchase token.
    pub purchase_token: String,
    /// The backend's verdict.
    pub verification: Verification,
}

/// A purchase token waiting in the outbox for the backend's final answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingToken {
    /// The product id.
    pub item_id: String,
    /// The purchase token.
    pub purchase_token: String,
    /// When it was stored (ms since the epoch).
    pub added_at: f64,
    /// How many sends failed so far.
    pub attempts: u32,
    /// Not re-sent before this time (ms since the epoch).
    pub next_attempt_at: f64,
    /// Why the last send did not settle it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// What [`crate::PlayBilling::diagnose`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    /// Whether billing can work here (every check passed).
    pub supported: bool,
    /// `window.isSecureContext`.
    pub secure_context: bool,
    /// `getDigitalGoodsService` exists.
    pub digital_goods_api: bool,
    /// `PaymentRequest` exists.
    pub payment_request_api: bool,
    /// The provider asked for.
    pub service_provider: String,
    /// Whether the provider gave a service (`None` when it was not asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_available: Option<bool>,
    /// The provider's rejection message, e.g. `clientAppUnavailable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_error: Option<String>,
    /// `"2.1"` (has `listPurchaseHistory`), `"2.0"`, or `"1.0"` (resolved to `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Human-readable reasons billing is unavailable, empty when supported.
    pub problems: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant reads back from the name its `Serialize` writes, and a name this
    /// version does not know is `Unknown`.
    #[test]
    fn names_round_trip() {
        fn check<T>(variants: &[T])
        where
            T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
        {
            for variant in variants {
                let name = serde_json::to_string(variant).unwrap();
                assert_eq!(
                    &serde_json::from_str::<T>(&name).unwrap(),
                    variant,
                    "{name}"
                );
            }
        }
        check(&[ItemType::Product, ItemType::Subscription, ItemType::Unknown]);
        use EntitlementKind as K;
        check(&[K::Consumable, K::NonConsumable, K::Subscription, K::Unknown]);
        use EntitlementState as S;
        check(&[
            S::Active,
            S::GracePeriod,
            S::OnHold,
            S::Paused,
            S::Canceled,
            S::Expired,
            S::Revoked,
            S::Refunded,
            S::Replaced,
            S::Consumed,
            S::Unknown,
        ]);
        let later: EntitlementState = serde_json::from_str(r#""suspended""#).unwrap();
        assert_eq!(later, S::Unknown);
        assert!(serde_json::from_str::<ItemType>("1").is_err());
    }
}
