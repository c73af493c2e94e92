//! The `rate_limits` table: one row per limit shared by every replica, holding the
//! theoretical arrival time (TAT, µs) of its next call (GCRA; see
//! [`crate::external_transactions::limiter`]).

use super::Db;

/// Reserves the next slot of limit `name` in one atomic statement: its TAT becomes
/// `max(tat, earliest) + step` (µs). Returns the new TAT: the slot reserved ends there.
pub async fn reserve(db: &Db, name: &str, earliest: i64, step: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE rate_limits SET tat = (CASE WHEN tat > $1 THEN tat ELSE $1 END) + $2 \
         WHERE name = $3 RETURNING tat",
    )
    .bind(earliest)
    .bind(step)
    .bind(name)
    .fetch_one(db.pool())
    .await
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
