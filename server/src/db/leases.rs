//! The `leases` table: periodic work that one replica at a time does (a lease), with the
//! cursor it resumes from.

use std::time::Duration;

use super::{now_ms, Db};

/// Claims the lease `name` for `owner` for `lease` if nobody holds it and, unless `force`,
/// its work was last done at least `every` ago. Returns the cursor when claimed.
pub async fn claim_lease(
    db: &Db,
    name: &str,
    owner: &str,
    lease: Duration,
    every: Duration,
    force: bool,
) -> Result<Option<Option<i64>>, sqlx::Error> {
    let now = now_ms();
    let due_before = if force {
        i64::MAX
    } else {
        now - every.as_millis() as i64
    };
    let claimed: Option<(Option<i64>,)> = sqlx::query_as(
        "UPDATE leases SET lease_owner = $1, lease_until = $2 \
         WHERE name = $3 AND (lease_until IS NULL OR lease_until <= $4) AND updated_at <= $5 \
         RETURNING cursor",
    )
    .bind(owner)
    .bind(now + lease.as_millis() as i64)
    .bind(name)
    .bind(now)
    .bind(due_before)
    .fetch_optional(db.pool())
    .await?;
    Ok(claimed.map(|(cursor,)| cursor))
}

/// Releases the lease `name` held by `owner`, recording the work as done now with its new
/// cursor.
pub async fn release_lease(
    db: &Db,
    name: &str,
    owner: &str,
    cursor: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE leases SET lease_owner = NULL, lease_until = NULL, cursor = $1, updated_at = $2 \
         WHERE name = $3 AND lease_owner = $4",
    )
    .bind(cursor)
    .bind(now_ms())
    .bind(name)
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}
