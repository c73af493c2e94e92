//! A new PostgreSQL database for each run, so that no run sees another's rows.

use anyhow::Context;
use sqlx::Connection;

/// Creates a new, empty database named `prefix_<random>` on the cluster that `admin` points
/// at (a URL whose user may `CREATE DATABASE`, such as the one `scripts/with-postgres.sh`
/// exports) and returns its URL: `admin` with the new database as its path.
pub async fn fresh_postgres_database(admin: &str, prefix: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(admin).with_context(|| format!("{admin} is not a URL"))?;
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::postgres::PgConnection::connect(admin)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {admin}"))?;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .with_context(|| format!("creating database {name}"))?;
    conn.close().await.ok();
    url.set_path(&name);
    Ok(url.to_string())
}
