//! The `play_fetches` table: a purchase read from Google for a token no stored purchase has
//! yet. Play's notification may come before the app's verification, for an account this
//! server does not know yet; the read it cost then serves the verification that follows
//! (within `limits.fetch_reuse_ms`), so a new purchase costs one get whatever the order.

use super::{now_ms, Db};
use play_model::purchases::{ProductPurchase, SubscriptionPurchaseV2};

/// A purchase as Google answered it.
#[derive(Debug, Clone, Copy)]
pub enum Fetched<'a> {
    /// `purchases.products.get`.
    Product(&'a ProductPurchase),
    /// `purchases.subscriptionsv2.get`.
    Subscription(&'a SubscriptionPurchaseV2),
}

/// The `resource` column: which Google method answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resource {
    /// `purchases.products.get`.
    Product,
    /// `purchases.subscriptionsv2.get`.
    Subscription,
}

impl Resource {
    /// The stored name.
    fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Subscription => "subscription",
        }
    }
}

impl Fetched<'_> {
    fn resource(&self) -> Resource {
        match self {
            Fetched::Product(_) => Resource::Product,
            Fetched::Subscription(_) => Resource::Subscription,
        }
    }
}

/// Records what Google answered now for `token` (read for product `item_id`), replacing an
/// older record, and drops the records older than `keep_ms` (they would serve no one).
pub async fn record(
    db: &Db,
    token: &str,
    item_id: &str,
    fetched: &Fetched<'_>,
    keep_ms: i64,
) -> Result<(), sqlx::Error> {
    let body = match fetched {
        Fetched::Product(p) => serde_json::to_string(p),
        Fetched::Subscription(s) => serde_json::to_string(s),
    }
    .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let now = now_ms();
    let mut tx = db.writer().begin().await?;
    sqlx::query("DELETE FROM play_fetches WHERE fetched_at < $1")
        .bind(now - keep_ms)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO play_fetches (purchase_token, item_id, resource, body, fetched_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (purchase_token) DO UPDATE SET \
         item_id = excluded.item_id, resource = excluded.resource, body = excluded.body, \
         fetched_at = excluded.fetched_at",
    )
    .bind(token)
    .bind(item_id)
    .bind(fetched.resource().as_str())
    .bind(body)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// The product purchase read for `token` and `item_id` less than `max_age_ms` ago.
pub async fn fresh_product(
    db: &Db,
    token: &str,
    item_id: &str,
    max_age_ms: i64,
) -> Result<Option<ProductPurchase>, sqlx::Error> {
    let body = fresh_body(db, token, Resource::Product, Some(item_id), max_age_ms).await?;
    Ok(body.and_then(|b| parse(token, &b)))
}

/// The subscription purchase read for `token` less than `max_age_ms` ago.
pub async fn fresh_subscription(
    db: &Db,
    token: &str,
    max_age_ms: i64,
) -> Result<Option<SubscriptionPurchaseV2>, sqlx::Error> {
    let body = fresh_body(db, token, Resource::Subscription, None, max_age_ms).await?;
    Ok(body.and_then(|b| parse(token, &b)))
}

/// Forgets the record of `token`: a notification other than "purchased" said it changed.
pub async fn forget(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM play_fetches WHERE purchase_token = $1")
        .bind(token)
        .execute(db.pool())
        .await?;
    Ok(())
}

async fn fresh_body(
    db: &Db,
    token: &str,
    resource: Resource,
    item_id: Option<&str>,
    max_age_ms: i64,
) -> Result<Option<String>, sqlx::Error> {
    if max_age_ms <= 0 {
        return Ok(None);
    }
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT item_id, body FROM play_fetches \
         WHERE purchase_token = $1 AND resource = $2 AND fetched_at > $3",
    )
    .bind(token)
    .bind(resource.as_str())
    .bind(now_ms() - max_age_ms)
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .filter(|(item, _)| item_id.is_none_or(|i| i == item))
        .map(|(_, body)| body))
}

/// A stored body, or `None` (logged) if it no longer parses: Google is asked again.
fn parse<T: serde::de::DeserializeOwned>(token: &str, body: &str) -> Option<T> {
    serde_json::from_str(body)
        .map_err(|e| {
            let token = token.get(..12).unwrap_or(token);
            tracing::warn!(token, error = %e, "unreadable recorded Google read; asking again");
        })
        .ok()
}
