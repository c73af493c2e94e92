//! The `events` table: one row per change the server makes, written in the transaction
//! that makes the change (a crash never loses one, and never leaves one for a change that
//! did not commit). Publishing ([`publish`]) then gives each event its place in the feed
//! and one delivery per configured endpoint ([`super::webhook_deliveries`]).

use std::sync::LazyLock;

use serde::Serialize;
use serde_json::{json, Value};
use sqlx::{AnyConnection, FromRow};
use tokio::sync::watch;

use super::purchases::{PurchaseRow, PurchaseState};
use super::{now_ms, sql, Db};
use crate::db::rfc3339;
use crate::entitlement::{Entitlement, EntitlementState};

/// The kinds of event, by their `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum EventType {
    /// A purchase was granted (verified, restored, or made outside the app).
    Granted,
    /// A subscription renewed: same state, later expiry.
    Renewed,
    /// A subscription entered grace, hold, pause, cancellation or expiry, or recovered.
    StateChanged,
    /// Revoked (by the developer or Google).
    Revoked,
    /// Refunded: in full (voided by Google) or part of its quantity.
    Refunded,
    /// Replaced by another purchase (upgrade, downgrade).
    Replaced,
    /// A consumable was consumed on Google Play.
    Consumed,
    /// A purchase is waiting for its payment (nothing granted).
    Pending,
    /// An external transaction was reported to Google.
    ExternalReported,
    /// Reporting an external transaction failed for good.
    ExternalFailed,
    /// An external transaction is close to its reporting deadline.
    ExternalDeadlineWarning,
    /// `reports reconcile` found the reports and the grants disagree.
    ReportsDiscrepancy,
    /// Sent by `pwa-billing webhooks send-test` (never stored).
    Test,
}

impl EventType {
    /// Every type a change produces (the catalogue; [`EventType::Test`] excluded).
    pub const ALL: [EventType; 12] = [
        Self::Granted,
        Self::Renewed,
        Self::StateChanged,
        Self::Revoked,
        Self::Refunded,
        Self::Replaced,
        Self::Consumed,
        Self::Pending,
        Self::ExternalReported,
        Self::ExternalFailed,
        Self::ExternalDeadlineWarning,
        Self::ReportsDiscrepancy,
    ];

    /// The `type` field (`entitlement.granted`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "entitlement.granted",
            Self::Renewed => "entitlement.renewed",
            Self::StateChanged => "entitlement.state_changed",
            Self::Revoked => "entitlement.revoked",
            Self::Refunded => "entitlement.refunded",
            Self::Replaced => "entitlement.replaced",
            Self::Consumed => "entitlement.consumed",
            Self::Pending => "purchase.pending",
            Self::ExternalReported => "external_transaction.reported",
            Self::ExternalFailed => "external_transaction.failed",
            Self::ExternalDeadlineWarning => "external_transaction.deadline_warning",
            Self::ReportsDiscrepancy => "reports.discrepancy",
            Self::Test => "webhook.test",
        }
    }

    /// Parses a `type`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .chain([Self::Test])
            .find(|t| t.as_str() == s)
    }
}

/// What made a purchase change, where its states alone do not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Google's view of the purchase was stored (verification, notification, reconcile).
    Observed,
    /// Google voided the purchase (refund or chargeback): a full refund.
    Voided,
}

/// An event to write.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Its type.
    pub kind: EventType,
    /// The account it is about, if any.
    pub account_id: Option<String>,
    /// What it is about (its sequence numbers count per subject), if anything.
    pub subject: Option<String>,
    /// A test purchase's.
    pub test: bool,
    /// The `data` object; `sequence` is added.
    pub data: Value,
}

/// A stored event.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    /// `evt_…`.
    pub id: String,
    /// Its `type`.
    #[sqlx(rename = "type")]
    pub kind: String,
    /// The account, if any.
    pub account_id: Option<String>,
    /// 1 for a test purchase's.
    pub test: i64,
    /// The body delivered (JSON).
    pub payload: String,
    /// When written (ms).
    pub created_at: i64,
    /// Its place in the feed, once published.
    pub position: Option<i64>,
}

static WRITTEN: LazyLock<watch::Sender<u64>> = LazyLock::new(|| watch::channel(0).0);

/// Says that a transaction that may have written events committed: wakes the publishers of
/// this process ([`subscribe`]). Other replicas find the events at their next poll.
pub fn committed() {
    WRITTEN.send_modify(|n| *n = n.wrapping_add(1));
}

/// Changes each time [`committed`] is called.
pub fn subscribe() -> watch::Receiver<u64> {
    WRITTEN.subscribe()
}

/// The body of an event: `{"id","type","timestamp","data"}` (Standard Webhooks' shape).
pub fn body(id: &str, kind: EventType, at_ms: i64, data: &Value) -> Value {
    json!({
        "id": id,
        "type": kind.as_str(),
        "timestamp": rfc3339(at_ms),
        "data": data,
    })
}

/// Writes `event` on `conn` (inside the caller's transaction, which must hold what makes
/// its subject's sequence numbers safe: the purchase's row, or the one writer). Returns
/// the event id.
pub async fn record(conn: &mut AnyConnection, event: NewEvent) -> Result<String, sqlx::Error> {
    let id = format!("evt_{}", uuid::Uuid::new_v4().simple());
    let now = now_ms();
    let sequence: Option<i64> = match &event.subject {
        Some(subject) => Some(
            sqlx::query_scalar::<_, i64>(
                "SELECT COALESCE(MAX(sequence), 0) + 1 FROM events WHERE subject = $1",
            )
            .bind(subject)
            .fetch_one(&mut *conn)
            .await?,
        ),
        None => None,
    };
    let mut data = event.data;
    if let Value::Object(map) = &mut data {
        map.insert("sequence".into(), json!(sequence));
        map.insert("test".into(), json!(event.test));
        map.insert("accountId".into(), json!(event.account_id));
    }
    let payload = body(&id, event.kind, now, &data);
    sqlx::query(
        "INSERT INTO events (id, type, account_id, subject, sequence, test, payload, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(event.kind.as_str())
    .bind(&event.account_id)
    .bind(&event.subject)
    .bind(sequence)
    .bind(i64::from(event.test))
    .bind(payload.to_string())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The event a purchase's change makes, if any: `before` is the row before the change
/// (none: it was just inserted), `after` the row now.
pub fn classify(
    before: Option<&PurchaseRow>,
    after: &PurchaseRow,
    cause: Cause,
) -> Option<EventType> {
    use EntitlementState::*;
    let PurchaseState::Granted(state) = after.state else {
        return before.is_none().then_some(EventType::Pending);
    };
    let Some(before) = before.filter(|b| b.state != PurchaseState::Pending) else {
        return Some(EventType::Granted);
    };
    if cause == Cause::Voided && before.state != after.state {
        return Some(EventType::Refunded);
    }
    if before.state != after.state {
        return Some(match state {
            Revoked => EventType::Revoked,
            Refunded => EventType::Refunded,
            Replaced => EventType::Replaced,
            Consumed => EventType::Consumed,
            Active | GracePeriod | OnHold | Paused | Canceled | Expired => EventType::StateChanged,
        });
    }
    if after.quantity < before.quantity {
        return Some(EventType::Refunded);
    }
    if after.expires_at.unwrap_or(0) > before.expires_at.unwrap_or(0) {
        return Some(EventType::Renewed);
    }
    None
}

/// Records the event of a purchase's change, if it makes one (see [`classify`]), on the
/// connection of the transaction that changed it.
pub async fn purchase_changed(
    conn: &mut AnyConnection,
    before: Option<&PurchaseRow>,
    after: &PurchaseRow,
    cause: Cause,
) -> Result<Option<String>, sqlx::Error> {
    let Some(kind) = classify(before, after, cause) else {
        return Ok(None);
    };
    let refunded_quantity = match (kind, before) {
        (EventType::Refunded, Some(b)) if b.state == after.state => {
            Some(b.quantity - after.quantity)
        }
        (EventType::Refunded, Some(b)) => Some(b.quantity),
        _ => None,
    };
    let mut data = json!({
        "entitlement": Entitlement::from_row(after, now_ms()),
        "previousState": before.map(|b| b.state.as_str()),
        "purchase": {
            "id": after.id,
            "itemId": after.item_id,
            "kind": after.kind,
            "purchaseToken": after.purchase_token,
            "orderId": after.order_id,
            "state": after.state.as_str(),
        },
    });
    if let Some(q) = refunded_quantity {
        data["refund"] = json!({ "quantity": q, "full": after.state != before.map_or(after.state, |b| b.state) });
    }
    record(
        conn,
        NewEvent {
            kind,
            account_id: Some(after.account_id.clone()),
            subject: Some(after.id.clone()),
            test: after.test != 0,
            data,
        },
    )
    .await
    .map(Some)
}

/// One event by id.
pub async fn find(db: &Db, id: &str) -> Result<Option<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, type, account_id, test, payload, created_at, position FROM events WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await
}

/// The published events after `position` (of `account_id` if given), in feed order.
pub async fn feed(
    db: &Db,
    after: i64,
    account_id: Option<&str>,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    const COLUMNS: &str =
        "SELECT id, type, account_id, test, payload, created_at, position FROM events";
    match account_id {
        Some(account) => {
            sqlx::query_as(sql!(
                "{COLUMNS} WHERE account_id = $1 AND position > $2 ORDER BY position LIMIT $3"
            ))
            .bind(account)
            .bind(after)
            .bind(limit)
            .fetch_all(db.pool())
            .await
        }
        None => {
            sqlx::query_as(sql!(
                "{COLUMNS} WHERE position > $1 ORDER BY position LIMIT $2"
            ))
            .bind(after)
            .bind(limit)
            .fetch_all(db.pool())
            .await
        }
    }
}

/// The published events written at or after `since_ms`, in feed order.
pub async fn since(db: &Db, since_ms: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, type, account_id, test, payload, created_at, position FROM events \
         WHERE created_at >= $1 AND position IS NOT NULL ORDER BY position",
    )
    .bind(since_ms)
    .fetch_all(db.pool())
    .await
}

/// The events of one subject (a purchase's entitlement id), oldest first.
pub async fn of_subject(db: &Db, subject: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, type, account_id, test, payload, created_at, position FROM events \
         WHERE subject = $1 ORDER BY sequence",
    )
    .bind(subject)
    .fetch_all(db.pool())
    .await
}

/// An endpoint as publishing sees it: its name and the event types it takes (empty: all).
#[derive(Debug, Clone)]
pub struct Subscriber {
    /// The endpoint's name.
    pub name: String,
    /// The types it takes; empty: every type.
    pub types: Vec<EventType>,
}

impl Subscriber {
    fn takes(&self, kind: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t.as_str() == kind)
    }
}

/// Publishes up to `limit` unpublished events in one transaction: each gets the next
/// feed position and a pending delivery per subscriber that takes its type. One publisher
/// at a time, across replicas, keeps positions in commit order: the transaction holds
/// SQLite's write lock from its start (`BEGIN IMMEDIATE`), and on PostgreSQL the
/// `webhook_publish` row of `leases`, locked first. Returns how many were published.
pub async fn publish(
    db: &Db,
    subscribers: &[Subscriber],
    limit: i64,
) -> Result<usize, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    if db.backend() == super::Backend::Postgres {
        sqlx::query("SELECT name FROM leases WHERE name = 'webhook_publish' FOR UPDATE")
            .execute(&mut *tx)
            .await?;
    }
    let due: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, type FROM events WHERE position IS NULL ORDER BY created_at, id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut position: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(&mut *tx)
        .await?;
    let now = now_ms();
    for (id, kind) in &due {
        position += 1;
        sqlx::query("UPDATE events SET position = $1 WHERE id = $2")
            .bind(position)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        for s in subscribers.iter().filter(|s| s.takes(kind)) {
            super::webhook_deliveries::insert(&mut tx, id, &s.name, now).await?;
        }
    }
    tx.commit().await?;
    Ok(due.len())
}

/// Records an external transaction's event (`external_transaction.*`) on the connection of
/// the transaction that changed it: the payment as stored, and `extra` fields.
pub async fn external_transaction(
    conn: &mut AnyConnection,
    kind: EventType,
    id: &str,
    extra: Value,
) -> Result<Option<String>, sqlx::Error> {
    type Row = (
        String,
        String,
        String,
        String,
        String,
        i64,
        String,
        i64,
        i64,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT payment_id, account_id, product_id, kind, state, transaction_time, currency, \
         pre_tax_micros, test, google_state FROM external_transactions WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((
        payment_id,
        account_id,
        product_id,
        payment_kind,
        state,
        time,
        currency,
        micros,
        test,
        google_state,
    )) = row
    else {
        return Ok(None);
    };
    let mut data = json!({
        "externalTransaction": {
            "externalTransactionId": id,
            "paymentId": payment_id,
            "productId": product_id,
            "kind": payment_kind,
            "state": state,
            "googleState": google_state,
            "transactionTime": rfc3339(time),
            "currency": currency,
            "preTaxAmountMicros": micros.to_string(),
        },
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut data, extra) {
        map.extend(more);
    }
    record(
        conn,
        NewEvent {
            kind,
            account_id: Some(account_id),
            subject: Some(format!("external_transaction:{id}")),
            test: test != 0,
            data,
        },
    )
    .await
    .map(Some)
}

/// Records `external_transaction.deadline_warning` once for every payment not reported
/// yet whose payment time is at or before `due_before` (ms); returns how many.
pub async fn deadline_warnings(db: &Db, due_before: i64) -> Result<usize, sqlx::Error> {
    use super::external_transactions::{ReportState, DEADLINE_MS};
    let mut tx = db.begin_write().await?;
    let due: Vec<(String, i64)> = sqlx::query_as(sql!(
        "SELECT x.id, x.transaction_time FROM external_transactions x \
         WHERE x.state = '{}' AND x.transaction_time <= $1 AND NOT EXISTS (SELECT 1 FROM events e \
           WHERE e.subject = 'external_transaction:' || x.id AND e.type = '{}') \
         ORDER BY x.transaction_time",
        ReportState::Pending.as_str(),
        EventType::ExternalDeadlineWarning.as_str(),
    ))
    .bind(due_before)
    .fetch_all(&mut *tx)
    .await?;
    for (id, time) in &due {
        let extra = json!({ "deadline": rfc3339(time + DEADLINE_MS) });
        external_transaction(&mut tx, EventType::ExternalDeadlineWarning, id, extra).await?;
    }
    tx.commit().await?;
    committed();
    Ok(due.len())
}

/// Records `reports.discrepancy` for every discrepancy of a reconciliation (`pwa-billing
/// reports reconcile`) not recorded by an earlier run; returns how many were new.
pub async fn discrepancies(
    db: &Db,
    r: &crate::reports::reconcile::Reconciliation,
) -> Result<usize, sqlx::Error> {
    let kinds = [
        ("charged_not_granted", &r.charged_not_granted),
        ("granted_not_charged", &r.granted_not_charged),
        ("refunded_still_entitled", &r.refunded_still_entitled),
    ];
    let mut tx = db.begin_write().await?;
    let mut recorded = 0;
    for (kind, list) in kinds {
        for d in list {
            let subject = format!("reports:{kind}:{}", d.order_id);
            let known: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE subject = $1")
                .bind(&subject)
                .fetch_one(&mut *tx)
                .await?;
            if known > 0 {
                continue;
            }
            let data = json!({ "discrepancy": kind, "order": d, "confirmedWithPlay": r.confirmed });
            record(
                &mut tx,
                NewEvent {
                    kind: EventType::ReportsDiscrepancy,
                    account_id: d.account_id.clone(),
                    subject: Some(subject),
                    test: false,
                    data,
                },
            )
            .await?;
            recorded += 1;
        }
    }
    tx.commit().await?;
    committed();
    Ok(recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::product::ProductKind;
    use EntitlementState::*;

    fn row(state: PurchaseState, quantity: i64, expires_at: Option<i64>) -> PurchaseRow {
        PurchaseRow {
            purchase_token: "t".into(),
            id: "e".into(),
            account_id: "a".into(),
            item_id: "i".into(),
            kind: ProductKind::Subscription,
            state,
            quantity,
            expires_at,
            test: 0,
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
    fn every_change_has_its_type() {
        let g = PurchaseState::Granted;
        let c = |before: Option<PurchaseRow>, after: PurchaseRow| {
            classify(before.as_ref(), &after, Cause::Observed)
        };
        let pending = row(PurchaseState::Pending, 1, None);
        assert_eq!(c(None, pending.clone()), Some(EventType::Pending));
        assert_eq!(c(Some(pending.clone()), pending.clone()), None);
        assert_eq!(
            c(Some(pending), row(g(Active), 1, None)),
            Some(EventType::Granted)
        );
        assert_eq!(c(None, row(g(Active), 1, None)), Some(EventType::Granted));
        let active = row(g(Active), 2, Some(10));
        assert_eq!(
            c(Some(active.clone()), row(g(Active), 2, Some(20))),
            Some(EventType::Renewed)
        );
        assert_eq!(
            c(Some(active.clone()), row(g(Active), 2, Some(10))),
            None,
            "acknowledged only"
        );
        assert_eq!(
            c(Some(active.clone()), row(g(Active), 1, Some(10))),
            Some(EventType::Refunded)
        );
        for (state, kind) in [
            (GracePeriod, EventType::StateChanged),
            (OnHold, EventType::StateChanged),
            (Paused, EventType::StateChanged),
            (Canceled, EventType::StateChanged),
            (Expired, EventType::StateChanged),
            (Revoked, EventType::Revoked),
            (Refunded, EventType::Refunded),
            (Replaced, EventType::Replaced),
            (Consumed, EventType::Consumed),
        ] {
            assert_eq!(
                c(Some(active.clone()), row(g(state), 2, Some(10))),
                Some(kind),
                "{state:?}"
            );
        }
        assert_eq!(
            c(
                Some(row(g(OnHold), 1, Some(10))),
                row(g(Active), 1, Some(30))
            ),
            Some(EventType::StateChanged),
            "recovered"
        );
        assert_eq!(
            classify(Some(&active), &row(g(Revoked), 2, Some(10)), Cause::Voided),
            Some(EventType::Refunded)
        );
    }

    #[test]
    fn types_parse_back() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("entitlement.nope"), None);
    }
}
