//! The plain-data objects of the API, identical in Rust and (camelCase) in JavaScript.

use serde::{Deserialize, Deserializer, Serialize};

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
#[serde(rename_all = "camelCase")]
pub enum ItemType {
    /// A one-time product (consumable or not).
    Product,
    /// A subscription.
    Subscription,
    /// A value this version does not know.
    #[serde(other)]
    Unknown,
}

impl ItemType {
    /// Reads the JS name (`"product"`, `"subscription"`); anything else is `Unknown`.
    pub(crate) fn parse(name: &str) -> ItemType {
        match name {
            "product" => ItemType::Product,
            "subscription" => ItemType::Subscription,
            _ => ItemType::Unknown,
        }
    }

    /// The JS name, as serde writes it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ItemType::Product => "product",
            ItemType::Subscription => "subscription",
            ItemType::Unknown => "unknown",
        }
    }
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
    #[serde(rename = "iconURLs", default)]
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
    /// How many cycles the introductory price lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introductory_price_cycles: Option<u64>,
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
#[serde(rename_all = "snake_case")]
pub enum EntitlementKind {
    /// Granted once per purchase, then consumed so it can be bought again.
    Consumable,
    /// Owned for good.
    NonConsumable,
    /// Entitled while the subscription is.
    Subscription,
    /// A value this version does not know.
    #[serde(other)]
    Unknown,
}

impl EntitlementKind {
    const NAMES: [(&'static str, EntitlementKind); 3] = [
        ("consumable", EntitlementKind::Consumable),
        ("non_consumable", EntitlementKind::NonConsumable),
        ("subscription", EntitlementKind::Subscription),
    ];

    /// Reads the JSON name; anything else is `Unknown`.
    pub(crate) fn parse(name: &str) -> EntitlementKind {
        lookup(&Self::NAMES, name).unwrap_or(EntitlementKind::Unknown)
    }

    /// The JSON name, as serde writes it.
    pub(crate) fn as_str(self) -> &'static str {
        name_of(&Self::NAMES, self).unwrap_or("unknown")
    }
}

/// The state of an entitlement as the backend tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    #[serde(other)]
    Unknown,
}

impl EntitlementState {
    const NAMES: [(&'static str, EntitlementState); 10] = [
        ("active", EntitlementState::Active),
        ("grace_period", EntitlementState::GracePeriod),
        ("on_hold", EntitlementState::OnHold),
        ("paused", EntitlementState::Paused),
        ("canceled", EntitlementState::Canceled),
        ("expired", EntitlementState::Expired),
        ("revoked", EntitlementState::Revoked),
        ("refunded", EntitlementState::Refunded),
        ("replaced", EntitlementState::Replaced),
        ("consumed", EntitlementState::Consumed),
    ];

    /// Reads the JSON name; anything else is `Unknown`.
    pub(crate) fn parse(name: &str) -> EntitlementState {
        lookup(&Self::NAMES, name).unwrap_or(EntitlementState::Unknown)
    }

    /// The JSON name, as serde writes it.
    pub(crate) fn as_str(self) -> &'static str {
        name_of(&Self::NAMES, self).unwrap_or("unknown")
    }
}

fn lookup<T: Copy>(names: &[(&str, T)], name: &str) -> Option<T> {
    names
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, value)| *value)
}

fn name_of<T: PartialEq>(names: &[(&'static str, T)], value: T) -> Option<&'static str> {
    names
        .iter()
        .find(|(_, known)| *known == value)
        .map(|(name, _)| *name)
}

/// One entitlement of the signed-in account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entitlement {
    /// The backend's id for it.
    #[serde(deserialize_with = "string_or_number")]
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

fn one() -> u32 {
    1
}

/// Accepts an id sent as a JSON string or number (without serde's costly untagged enums).
fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    struct IdVisitor;
    impl serde::de::Visitor<'_> for IdVisitor {
        type Value = String;
        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a string or an integer")
        }
        fn visit_str<E>(self, value: &str) -> Result<String, E> {
            Ok(value.to_owned())
        }
        fn visit_u64<E>(self, value: u64) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_i64<E>(self, value: i64) -> Result<String, E> {
            Ok(value.to_string())
        }
        fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<String, E> {
            if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
                Ok((value as i64).to_string())
            } else {
                Err(E::custom("an id must be an integer"))
            }
        }
    }
    deserializer.deserialize_any(IdVisitor)
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

    /// The hand-written names (used by the JS readers and writers) are serde's.
    #[test]
    fn enum_names_match_the_serde_names() {
        fn serde_name<T: Serialize>(value: T) -> String {
            serde_json::to_value(value)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        }
        for kind in [
            EntitlementKind::Consumable,
            EntitlementKind::NonConsumable,
            EntitlementKind::Subscription,
            EntitlementKind::Unknown,
        ] {
            assert_eq!(kind.as_str(), serde_name(kind));
            assert_eq!(EntitlementKind::parse(&serde_name(kind)), kind);
        }
        for (_, state) in EntitlementState::NAMES
            .iter()
            .chain(&[("", EntitlementState::Unknown)])
        {
            assert_eq!(state.as_str(), serde_name(*state));
            assert_eq!(EntitlementState::parse(&serde_name(*state)), *state);
        }
        for item_type in [ItemType::Product, ItemType::Subscription, ItemType::Unknown] {
            assert_eq!(item_type.as_str(), serde_name(item_type));
            assert_eq!(ItemType::parse(&serde_name(item_type)), item_type);
        }
        assert_eq!(EntitlementState::parse("frozen"), EntitlementState::Unknown);
        assert_eq!(ItemType::parse("bundle"), ItemType::Unknown);
    }
}
