//! What a caller is entitled to, as the API shows it.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use crate::config::ProductKind;
use crate::db::purchases::PurchaseRow;

/// The state of an entitlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntitlementState {
    /// Bought and in force.
    Active,
    /// Subscription payment failed; access kept during the grace period.
    GracePeriod,
    /// Subscription payment failed; no access until recovered.
    OnHold,
    /// Subscription paused by the user.
    Paused,
    /// Subscription auto-renew off; entitled until `expiresAt`.
    Canceled,
    /// Subscription ended.
    Expired,
    /// Revoked (by the developer or Google).
    Revoked,
    /// Refunded.
    Refunded,
    /// Replaced by another purchase (upgrade, downgrade).
    Replaced,
    /// A consumable whose quantity was credited and consumed on Google Play.
    Consumed,
}

impl EntitlementState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::GracePeriod => "grace_period",
            Self::OnHold => "on_hold",
            Self::Paused => "paused",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Refunded => "refunded",
            Self::Replaced => "replaced",
            Self::Consumed => "consumed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "grace_period" => Self::GracePeriod,
            "on_hold" => Self::OnHold,
            "paused" => Self::Paused,
            "canceled" => Self::Canceled,
            "expired" => Self::Expired,
            "revoked" => Self::Revoked,
            "refunded" => Self::Refunded,
            "replaced" => Self::Replaced,
            "consumed" => Self::Consumed,
            _ => return None,
        })
    }

    /// States after which the token never entitles anything again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Expired | Self::Revoked | Self::Refunded | Self::Replaced
        )
    }
}

/// One entitlement of the caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entitlement {
    /// Stable id.
    pub id: String,
    /// The product id.
    pub item_id: String,
    /// The product's kind.
    pub kind: ProductKind,
    /// The state.
    pub state: EntitlementState,
    /// Whether it grants access now. For a consumable: whether its quantity stays credited
    /// (false once refunded or revoked).
    pub entitled: bool,
    /// Quantity bought (consumables may be bought several at once).
    pub quantity: i64,
    /// When access ends (subscriptions), RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// A test (license tester) purchase.
    pub test: bool,
    /// The purchase token.
    pub purchase_token: String,
}

impl Entitlement {
    /// The view of a granted row at time `now_ms`; `None` for a pending or unreadable row.
    pub fn from_row(row: &PurchaseRow, now_ms: i64) -> Option<Self> {
        let state = EntitlementState::parse(&row.state)?;
        let kind = ProductKind::parse(&row.kind)?;
        let not_expired = row.expires_at.is_none_or(|e| e > now_ms);
        let entitled = match state {
            EntitlementState::Active
            | EntitlementState::GracePeriod
            | EntitlementState::Canceled => not_expired,
            EntitlementState::Consumed => true,
            _ => false,
        };
        Some(Self {
            id: row.id.clone(),
            item_id: row.item_id.clone(),
            kind,
            state,
            entitled,
            quantity: row.quantity,
            expires_at: row.expires_at.and_then(format_ms),
            test: row.test != 0,
            purchase_token: row.purchase_token.clone(),
        })
    }
}

/// RFC 3339 of a millisecond timestamp.
pub fn format_ms(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&Rfc3339)
        .ok()
}
