//! `report_rows`: the rows of the imported report objects, replaced object by object.

use futures_util::stream::BoxStream;
use sqlx::{AnyConnection, FromRow};

use super::{sql, stored_as_text, Db};
use crate::reports::file::{ReportKind, ReportRow, TransactionType};
use crate::reports::Month;

stored_as_text!(ReportKind, "report kind");

/// A stored report row, as the reconciliation and the console read it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct StoredRow {
    /// The report it came from.
    #[sqlx(try_from = "String")]
    pub kind: ReportKind,
    /// `YYYY-MM`.
    pub month: String,
    /// The order id as written (renewals `GPA.….N`).
    pub order_id: String,
    /// Without the renewal suffix.
    pub base_order_id: String,
    /// What the row records.
    #[sqlx(try_from = "String")]
    pub transaction_type: TransactionType,
    /// `Full` or `Partial` (earnings refunds).
    pub refund_type: Option<String>,
    /// When (epoch ms), if the row's date could be read.
    pub occurred_at: Option<i64>,
    /// The product id.
    pub product_id: String,
    /// The buyer's currency.
    pub currency: String,
    /// The amount in the buyer's currency, in micros.
    pub amount_micros: i64,
    /// The tax in the buyer's currency (sales), in micros.
    pub tax_micros: Option<i64>,
    /// The merchant's currency (earnings).
    pub merchant_currency: Option<String>,
    /// The amount in the merchant's currency (earnings), in micros.
    pub merchant_amount_micros: Option<i64>,
}

/// The columns of a [`StoredRow`].
const COLUMNS: &str = "kind, month, order_id, base_order_id, transaction_type, refund_type, \
    occurred_at, product_id, currency, amount_micros, tax_micros, merchant_currency, \
    merchant_amount_micros";

/// The rows of `month` (of every month: `None`), in file and line order.
pub async fn of_month(db: &Db, month: Option<Month>) -> Result<Vec<StoredRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT {COLUMNS} FROM report_rows WHERE $1 = '' OR month = $1 ORDER BY file_name, line"
    ))
    .bind(month.map(|m| m.to_string()).unwrap_or_default())
    .fetch_all(db.pool())
    .await
}

/// The rows of an order (its renewals included), in time order, at most `limit`.
pub async fn of_order(
    db: &Db,
    base_order_id: &str,
    limit: i64,
) -> Result<Vec<StoredRow>, sqlx::Error> {
    sqlx::query_as(sql!(
        "SELECT {COLUMNS} FROM report_rows WHERE base_order_id = $1 \
         ORDER BY occurred_at, file_name, line LIMIT $2"
    ))
    .bind(base_order_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await
}

/// Every order (without its renewal suffix) charged in any imported report, once each, as
/// read.
pub fn charged_orders(db: &Db) -> BoxStream<'_, Result<String, sqlx::Error>> {
    sqlx::query_scalar(sql!(
        "SELECT DISTINCT base_order_id FROM report_rows WHERE transaction_type = '{}'",
        TransactionType::Charge.as_str()
    ))
    .fetch(db.pool())
}

/// Deletes the rows of the object `file_name` (before its rows are stored again).
pub async fn delete_of_file(conn: &mut AnyConnection, file_name: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM report_rows WHERE file_name = $1")
        .bind(file_name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores a chunk of an object's rows in one multi-row INSERT (`first`: the chunk's 0-based
/// offset in the object; 18 parameters a row).
pub async fn insert(
    conn: &mut AnyConnection,
    file_name: &str,
    kind: ReportKind,
    month: &str,
    first: usize,
    rows: &[ReportRow],
) -> Result<(), sqlx::Error> {
    const COLUMNS: usize = 18;
    let values: Vec<String> = (0..rows.len())
        .map(|r| {
            let params: Vec<String> = (1..=COLUMNS)
                .map(|c| format!("${}", r * COLUMNS + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO report_rows (file_name, line, kind, month, order_id, base_order_id, \
         transaction_type, refund_type, occurred_at, package_name, product_id, product_type, \
         country, currency, amount_micros, tax_micros, merchant_currency, merchant_amount_micros) \
         VALUES {}",
        values.join(", ")
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (i, row) in rows.iter().enumerate() {
        query = query
            .bind(file_name.to_string())
            .bind((first + i + 1) as i64)
            .bind(kind.as_str())
            .bind(month.to_string())
            .bind(row.order_id.clone())
            .bind(row.base_order_id.clone())
            .bind(row.transaction_type.as_str().to_string())
            .bind(row.refund_type.clone())
            .bind(row.occurred_at)
            .bind(row.package_name.clone())
            .bind(row.product_id.clone())
            .bind(row.product_type.clone())
            .bind(row.country.clone())
            .bind(row.currency.clone())
            .bind(row.amount_micros)
            .bind(row.tax_micros)
            .bind(row.merchant_currency.clone())
            .bind(row.merchant_amount_micros);
    }
    query.execute(conn).await?;
    Ok(())
}
