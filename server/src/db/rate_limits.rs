//! The `rate_limits` table: one row per limit shared by every replica (one per Google quota
//! bucket), holding the theoretical arrival time (TAT, µs) of its next call (GCRA; see
//! [`crate::play::quota`]).

use super::Db;

/// Reserves the next slot of limit `name` in one atomic statement: its TAT becomes
/// `max(tat, earliest) + step` (µs). Returns the new TAT: the slot reserved ends there.
pub async fn reserve(db: &Db, name: &str, earliest: i64, step: i64) -> Result<i64, sqlx::Error> {
    reserve_before(db, name, earliest, step, i64::MAX)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// Like [`reserve`], but only if the slot (`max(tat, earliest)`) starts at or before
/// `latest`: `None` (nothing reserved) otherwise, or when the limit has no row.
pub async fn reserve_before(
    db: &Db,
    name: &str,
    earliest: i64,
    step: i64,
    latest: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE rate_limits SET tat = (CASE WHEN tat > $1 THEN tat ELSE $1 END) + $2 \
         WHERE name = $3 AND (CASE WHEN tat > $1 THEN tat ELSE $1 END) <= $4 RETURNING tat",
    )
    .bind(earliest)
    .bind(step)
    .bind(name)
    .bind(latest)
    .fetch_optional(db.writer())
    .await
}

/// The TAT of limit `name` (µs), if it has a row.
pub async fn tat(db: &Db, name: &str) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT tat FROM rate_limits WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await
}

/// Pushes limit `name`'s TAT to at least `until` (µs): no slot starts before then.
pub async fn hold_until(db: &Db, name: &str, until: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rate_limits SET tat = $1 WHERE name = $2 AND tat < $1")
        .bind(until)
        .bind(name)
        .execute(db.writer())
        .await?;
    Ok(())
}

/// Takes the database's write lock at the start of a transaction without writing (no
/// limit has the empty name): on SQLite a transaction that reads first cannot write later
/// while another connection writes; this one waits for the lock (busy timeout) instead.
/// On PostgreSQL it matches no row and locks nothing.
pub async fn take_write_lock(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE rate_limits SET tat = tat WHERE name = ''")
        .execute(conn)
        .await?;
    Ok(())
}
