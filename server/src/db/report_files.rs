//! `report_files`: each imported report object, with the generation and md5 it was read at.

use sqlx::AnyConnection;

use super::{now_ms, Db};
use crate::reports::file::ReportKind;
use crate::reports::Month;

/// An imported report object.
#[derive(Debug, Clone)]
pub struct ReportFile<'a> {
    /// The object's name in the bucket.
    pub name: &'a str,
    /// Sales or earnings.
    pub kind: ReportKind,
    /// `YYYY-MM`, from the name.
    pub month: &'a str,
    /// Cloud Storage's generation of the object.
    pub generation: &'a str,
    /// Its `md5Hash` (empty if the bucket gave none).
    pub md5_hash: &'a str,
    /// Its size in bytes.
    pub size: u64,
    /// The rows read from it.
    pub row_count: u64,
}

/// The generation and md5 at which the object `name` was imported, if it was.
pub async fn version(db: &Db, name: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    sqlx::query_as("SELECT generation, md5_hash FROM report_files WHERE name = $1")
        .bind(name)
        .fetch_optional(db.pool())
        .await
}

/// Records an imported object (replacing its earlier import), in the import's transaction.
pub async fn record(conn: &mut AnyConnection, file: &ReportFile<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO report_files (name, kind, month, generation, md5_hash, size, row_count, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, month = excluded.month, \
         generation = excluded.generation, md5_hash = excluded.md5_hash, size = excluded.size, \
         row_count = excluded.row_count, imported_at = excluded.imported_at",
    )
    .bind(file.name)
    .bind(file.kind.as_str())
    .bind(file.month)
    .bind(file.generation)
    .bind(file.md5_hash)
    .bind(file.size as i64)
    .bind(file.row_count as i64)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// How many objects of `month` (of every month: `None`) are imported.
pub async fn count(db: &Db, month: Option<Month>) -> Result<u64, sqlx::Error> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM report_files WHERE $1 = '' OR month = $1")
            .bind(month.map(|m| m.to_string()).unwrap_or_default())
            .fetch_one(db.pool())
            .await?;
    Ok(count.max(0) as u64)
}
