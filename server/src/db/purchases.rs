//! The `purchases` table: one row per purchase token.

use std::time::Duration;

use futures_util::stream::BoxStream;
use sqlx::{AnyConnection, FromRow};

use super::console;
use super::events::{self, Cause};
use super::{now_ms, sql, stored_as_text, Db};
use crate::entitlement::EntitlementState;
use crate::product::ProductKind;

/// The `state` column: `pending` (bound to its account, nothing granted) or the state of
/// what was granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurchaseState {
    /// Paid for later (Google's pending purchase): nothing granted yet.
    Pending,
    /// Granted; the entitlement is in this state.
    Granted(EntitlementState),
}

impl PurchaseState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Granted(state) => state.as_str(),
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            _ => EntitlementState::parse(s).map(Self::Granted),
        }
    }

    /// Whether no later signal changes it (revoked, refunded, replaced).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Granted(
                EntitlementState::Revoked | EntitlementState::Refunded | EntitlementState::Replaced
            )
        )
    }
}

stored_as_text!(PurchaseState, "purchase state");
stored_as_text!(ProductKind, "product kind");

const PENDING: PurchaseState = PurchaseState::Pending;
const ACTIVE: PurchaseState = PurchaseState::Granted(EntitlementState::Active);

/// A stored purchase.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct PurchaseRow {
    /// The token (primary key).
    pub purchase_token: String,
    /// Stable entitlement id.
    pub id: String,
    /// The account it is bound to.
    pub account_id: String,
    /// The product id.
    pub item_id: String,
    /// The product's kind.
    #[sqlx(try_from = "String")]
    pub kind: ProductKind,
    /// `pending` or an entitlement state.
    #[sqlx(try_from = "String")]
    pub state: PurchaseState,
    /// Quantity granted.
    pub quantity: i64,
    /// Access end (ms), subscriptions.
    pub expires_at: Option<i64>,
    /// 1 for a test purchase.
    pub test: i64,
    /// 1 once Google has it acknowledged (or consumed).
    pub acknowledged: i64,
    /// Google's order id.
    pub order_id: Option<String>,
    /// The token this one replaced.
    pub linked_purchase_token: Option<String>,
    /// When bought (ms).
    pub purchased_at: Option<i64>,
    /// When granted (ms); none while pending.
    pub granted_at: Option<i64>,
    /// First seen (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// What an entitlement shows of a stored purchase: the columns `GET /v1/entitlements`
/// reads (half of the row: each column read is a copy, twice through sqlx's `Any`).
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct ShownRow {
    /// The token.
    pub purchase_token: String,
    /// Stable entitlement id.
    pub id: String,
    /// The product id.
    pub item_id: String,
    /// The product's kind.
    #[sqlx(try_from = "String")]
    pub kind: ProductKind,
    /// An entitlement state.
    #[sqlx(try_from = "String")]
    pub state: PurchaseState,
    /// Quantity granted.
    pub quantity: i64,
    /// Access end (ms), subscriptions.
    pub expires_at: Option<i64>,
    /// 1 for a test purchase.
    pub test: i64,
}

macro_rules! columns {
    () => {
        "purchase_token, id, account_id, item_id, kind, state, quantity, expires_at, test, acknowledged, \
         order_id, linked_purchase_token, purchased_at, granted_at, created_at, updated_at"
    };
}

/// The purchase with this token.
pub async fn find(db: &Db, token: &str) -> Result<Option<PurchaseRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM purchases WHERE purchase_token = $1"
    ))
    .bind(token)
    .fetch_optional(db.pool())
    .await
}

/// The purchase with this order id (the operator console's lookup).
pub async fn find_by_order_id(db: &Db, order_id: &str) -> Result<Option<PurchaseRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM purchases WHERE order_id = $1"
    ))
    .bind(order_id)
    .fetch_optional(db.pool())
    .await
}

/// The account's newest purchases, pending ones included, at most `limit` (the operator
/// console's lookup).
pub async fn newest_of_account(
    db: &Db,
    account_id: &str,
    limit: i64,
) -> Result<Vec<PurchaseRow>, sqlx::Error> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM purchases WHERE account_id = $1 ORDER BY created_at DESC, purchase_token LIMIT $2"
    ))
    .bind(account_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

/// The account's purchases, pending ones excluded, oldest first.
pub async fn list_granted(db: &Db, account_id: &str) -> Result<Vec<ShownRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT purchase_token, id, item_id, kind, state, quantity, expires_at, test \
         FROM purchases WHERE account_id = $1 AND state <> '{PENDING}' ORDER BY created_at, purchase_token",
    ))
    .bind(account_id)
    .fetch_all(db.pool())
    .await
}

/// Every granted purchase of every account (financial reconciliation), oldest first, as
/// read: a million of them are not held at once.
pub fn all_granted(db: &Db) -> BoxStream<'_, Result<PurchaseRow, sqlx::Error>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM purchases WHERE granted_at IS NOT NULL ORDER BY created_at, purchase_token"
    ))
    .fetch(db.pool())
}

/// Inserts the row unless the token is already known; true if inserted.
pub async fn insert(conn: &mut AnyConnection, row: &PurchaseRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(concat!(
        "INSERT INTO purchases (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (purchase_token) DO NOTHING"
    ))
    .bind(&row.purchase_token)
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.item_id)
    .bind(row.kind.as_str())
    .bind(row.state.as_str())
    .bind(row.quantity)
    .bind(row.expires_at)
    .bind(row.test)
    .bind(row.acknowledged)
    .bind(&row.order_id)
    .bind(&row.linked_purchase_token)
    .bind(row.purchased_at)
    .bind(row.granted_at)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(&mut *conn)
    .await?;
    let inserted = done.rows_affected() == 1;
    if inserted {
        events::purchase_changed(conn, None, row, Cause::Observed).await?;
        console::count_purchase_change(conn, None, Some(row)).await?;
    }
    Ok(inserted)
}

/// The row of `token` on `conn`, locked until the transaction ends on PostgreSQL (`FOR
/// UPDATE`; SQLite's one writer serializes the writes already): the state an event's
/// "previous state" and sequence number are read from.
async fn locked(conn: &mut AnyConnection, token: &str) -> Result<Option<PurchaseRow>, sqlx::Error> {
    let postgres = conn.backend_name() == "PostgreSQL";
    let sql = if postgres {
        concat!(
            "SELECT ",
            columns!(),
            " FROM purchases WHERE purchase_token = $1 FOR UPDATE"
        )
    } else {
        concat!(
            "SELECT ",
            columns!(),
            " FROM purchases WHERE purchase_token = $1"
        )
    };
    sqlx::query_as(sql).bind(token).fetch_optional(conn).await
}

/// After a change of `token` made on `conn`: records its event, if it makes one.
async fn changed(
    conn: &mut AnyConnection,
    before: Option<&PurchaseRow>,
    token: &str,
    cause: Cause,
) -> Result<(), sqlx::Error> {
    if let Some(after) = locked(conn, token).await? {
        events::purchase_changed(conn, before, &after, cause).await?;
        console::count_purchase_change(conn, before, Some(&after)).await?;
    }
    Ok(())
}

/// Writes what Google said about a known token of `account_id` (state, quantity, expiry,
/// flags); `granted_at` is set on the first grant. True if the row was updated; a final
/// state (`revoked`, `refunded`, `replaced`) set meanwhile is never overwritten (false).
pub async fn update_observed(
    conn: &mut AnyConnection,
    row: &PurchaseRow,
) -> Result<bool, sqlx::Error> {
    let before = locked(conn, &row.purchase_token).await?;
    let done = sqlx::query(sql!(
        "UPDATE purchases SET state = $1, quantity = $2, expires_at = $3, test = $4, \
         acknowledged = CASE WHEN acknowledged = 1 THEN 1 ELSE $5 END, order_id = $6, \
         linked_purchase_token = $7, purchased_at = $8, granted_at = COALESCE(granted_at, $9), updated_at = $10 \
         WHERE purchase_token = $11 AND account_id = $12 \
         AND state NOT IN ('{}', '{}', '{}')",
        EntitlementState::Revoked,
        EntitlementState::Refunded,
        EntitlementState::Replaced,
    ))
    .bind(row.state.as_str())
    .bind(row.quantity)
    .bind(row.expires_at)
    .bind(row.test)
    .bind(row.acknowledged)
    .bind(&row.order_id)
    .bind(&row.linked_purchase_token)
    .bind(row.purchased_at)
    .bind(row.granted_at)
    .bind(row.updated_at)
    .bind(&row.purchase_token)
    .bind(&row.account_id)
    .execute(&mut *conn)
    .await?;
    let updated = done.rows_affected() == 1;
    if updated {
        changed(conn, before.as_ref(), &row.purchase_token, Cause::Observed).await?;
    }
    Ok(updated)
}

/// Sets the state of a token (e.g. `replaced` for the old token of an upgrade).
pub async fn set_state(
    conn: &mut AnyConnection,
    token: &str,
    state: PurchaseState,
) -> Result<bool, sqlx::Error> {
    let before = locked(conn, token).await?;
    let done = sqlx::query("UPDATE purchases SET state = $1, updated_at = $2 WHERE purchase_token = $3 AND state <> $1")
        .bind(state.as_str())
        .bind(now_ms())
        .bind(token)
        .execute(&mut *conn)
        .await?;
    let updated = done.rows_affected() == 1;
    if updated {
        changed(conn, before.as_ref(), token, Cause::Observed).await?;
    }
    Ok(updated)
}

/// Notes that Google was asked about the token now (`updated_at`).
pub async fn touch(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE purchases SET updated_at = $1 WHERE purchase_token = $2")
        .bind(now_ms())
        .bind(token)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Records that Google has the purchase acknowledged; a consumed one-time purchase also
/// moves from `active` to `consumed`.
pub async fn mark_acknowledged(db: &Db, token: &str, consumed: bool) -> Result<(), sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let before = locked(&mut tx, token).await?;
    let done = sqlx::query(sql!(
        "UPDATE purchases SET acknowledged = 1, \
         state = CASE WHEN $1 = 1 AND state = '{ACTIVE}' THEN '{}' ELSE state END, updated_at = $2 \
         WHERE purchase_token = $3",
        EntitlementState::Consumed,
    ))
    .bind(i64::from(consumed))
    .bind(now_ms())
    .bind(token)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        changed(&mut tx, before.as_ref(), token, Cause::Observed).await?;
    }
    tx.commit().await?;
    events::committed();
    Ok(())
}

/// Age in ms of the oldest granted purchase Google does not have acknowledged yet.
pub async fn oldest_unacknowledged_ms(db: &Db, now: i64) -> Result<Option<i64>, sqlx::Error> {
    let oldest: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(granted_at) FROM purchases WHERE acknowledged = 0 AND granted_at IS NOT NULL",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(oldest.map(|t| (now - t).max(0)))
}

/// Whether an account has any purchase here (a "known account").
pub async fn account_known(db: &Db, account_id: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM purchases WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db.pool())
        .await?;
    Ok(n > 0)
}

/// Forgets a pending purchase whose payment was canceled (nothing was granted).
pub async fn delete_pending(db: &Db, token: &str) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let before = locked(&mut tx, token).await?;
    let done = sqlx::query(sql!(
        "DELETE FROM purchases WHERE purchase_token = $1 AND state = '{}'",
        PurchaseState::Pending
    ))
    .bind(token)
    .execute(&mut *tx)
    .await?;
    let deleted = done.rows_affected() == 1;
    if deleted {
        console::count_purchase_change(&mut tx, before.as_ref(), None).await?;
    }
    tx.commit().await?;
    Ok(deleted)
}

/// Sets the state and quantity of a token's row after Google voided it (its event is a
/// refund); true if anything changed.
pub async fn set_state_and_quantity(
    db: &Db,
    token: &str,
    state: PurchaseState,
    quantity: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let before = locked(&mut tx, token).await?;
    let done = sqlx::query(
        "UPDATE purchases SET state = $1, quantity = $2, updated_at = $3 \
         WHERE purchase_token = $4 AND (state <> $1 OR quantity <> $2)",
    )
    .bind(state.as_str())
    .bind(quantity)
    .bind(now_ms())
    .bind(token)
    .execute(&mut *tx)
    .await?;
    let updated = done.rows_affected() == 1;
    if updated {
        changed(&mut tx, before.as_ref(), token, Cause::Voided).await?;
    }
    tx.commit().await?;
    events::committed();
    Ok(updated)
}

/// Purchases that should have changed by `now`: live subscriptions past their expiry,
/// pending purchases, and live subscriptions not checked for `stale`.
pub async fn due_for_recheck(
    db: &Db,
    now: i64,
    stale: Duration,
) -> Result<Vec<PurchaseRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT purchase_token, id, account_id, item_id, kind, state, quantity, expires_at, test, acknowledged, \
         order_id, linked_purchase_token, purchased_at, granted_at, created_at, updated_at FROM purchases \
         WHERE state = '{}' OR (kind = '{}' \
           AND state IN ('{}', '{}', '{}', '{}', '{}') \
           AND (expires_at <= $1 OR updated_at <= $2)) \
         ORDER BY created_at, purchase_token",
        PurchaseState::Pending,
        ProductKind::Subscription,
        EntitlementState::Active,
        EntitlementState::GracePeriod,
        EntitlementState::OnHold,
        EntitlementState::Paused,
        EntitlementState::Canceled,
    ))
    .bind(now)
    .bind(now - stale.as_millis() as i64)
    .fetch_all(db.pool())
    .await
}
