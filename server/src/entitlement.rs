//! What a caller is entitled to, as the API shows it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::purchases::{PurchaseRow, PurchaseState, ShownRow};
use crate::product::ProductKind;

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

crate::db::stored_as_text!(EntitlementState, "entitlement state");

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
    /// The view of a granted row at time `now_ms`; `None` for a pending row.
    pub fn from_row(row: &PurchaseRow, now_ms: i64) -> Option<Self> {
        Self::new(
            Shown {
                id: row.id.clone(),
                item_id: row.item_id.clone(),
                kind: row.kind,
                state: row.state,
                quantity: row.quantity,
                expires_at: row.expires_at,
                test: row.test,
                purchase_token: row.purchase_token.clone(),
            },
            now_ms,
        )
    }

    /// [`Entitlement::from_row`] of a listed row (moved, not copied).
    pub fn from_shown(row: ShownRow, now_ms: i64) -> Option<Self> {
        Self::new(
            Shown {
                id: row.id,
                item_id: row.item_id,
                kind: row.kind,
                state: row.state,
                quantity: row.quantity,
                expires_at: row.expires_at,
                test: row.test,
                purchase_token: row.purchase_token,
            },
            now_ms,
        )
    }

    fn new(row: Shown, now_ms: i64) -> Option<Self> {
        let PurchaseState::Granted(state) = row.state else {
            return None;
        };
        let not_expired = row.expires_at.is_none_or(|e| e > now_ms);
        let entitled = match state {
            EntitlementState::Active
            | EntitlementState::GracePeriod
            | EntitlementState::Canceled => not_expired,
            EntitlementState::Consumed => true,
            _ => false,
        };
        Some(Self {
            id: row.id,
            item_id: row.item_id,
            kind: row.kind,
            state,
            entitled,
            quantity: row.quantity,
            expires_at: row.expires_at.and_then(crate::db::rfc3339),
            test: row.test != 0,
            purchase_token: row.purchase_token,
        })
    }
}

/// The columns an entitlement is made of, owned or borrowed as each caller has them.
struct Shown {
    id: String,
    item_id: String,
    kind: ProductKind,
    state: PurchaseState,
    quantity: i64,
    expires_at: Option<i64>,
    test: i64,
    purchase_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    use EntitlementState::*;
    use ProductKind::*;

    fn row(kind: ProductKind, state: PurchaseState, expires_at: Option<i64>) -> PurchaseRow {
        PurchaseRow {
            purchase_token: "t".into(),
            id: "id".into(),
            account_id: "a".into(),
            item_id: "i".into(),
            kind,
            state,
            quantity: 2,
            expires_at,
            test: 1,
            acknowledged: 0,
            order_id: None,
            linked_purchase_token: None,
            purchased_at: None,
            granted_at: Some(1),
            created_at: 1,
            updated_at: 1,
        }
    }

    #[test]
    fn entitled_follows_state_and_expiry() {
        let now = 1_000_000;
        let entitled = |kind, state, expires| {
            Entitlement::from_row(&row(kind, PurchaseState::Granted(state), expires), now)
                .unwrap()
                .entitled
        };
        assert!(entitled(NonConsumable, Active, None));
        assert!(
            entitled(Consumable, Consumed, None),
            "a consumed quantity stays credited"
        );
        assert!(entitled(Subscription, Active, Some(now + 1)));
        assert!(
            !entitled(Subscription, Active, Some(now)),
            "past its expiry"
        );
        assert!(entitled(Subscription, GracePeriod, Some(now + 1)));
        assert!(
            entitled(Subscription, Canceled, Some(now + 1)),
            "canceled: until expiry"
        );
        assert!(!entitled(Subscription, Canceled, Some(now - 1)));
        for state in [OnHold, Paused, Expired, Revoked, Refunded, Replaced] {
            assert!(!entitled(Subscription, state, Some(now + 1)), "{state:?}");
        }
        assert!(
            Entitlement::from_row(&row(Consumable, PurchaseState::Pending, None), now).is_none()
        );
        let e = Entitlement::from_row(
            &row(
                Subscription,
                PurchaseState::Granted(Active),
                Some(1_767_225_600_000),
            ),
            now,
        )
        .unwrap();
        assert_eq!(e.expires_at.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert!(e.test);
        assert_eq!(e.quantity, 2);
    }
}
