//! Storage: SQLite (WAL) by default, PostgreSQL by URL, through sqlx's `Any` driver with
//! one migrations-managed schema written for both dialects.

pub mod fetches;
pub mod lifecycle;
pub mod purchases;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AnyPool, ConnectOptions, Connection};

/// The embedded migrations (`server/migrations`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (a file, WAL).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A connection pool.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects (creating a SQLite file in WAL mode if missing). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut pool = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let options = match backend {
            Backend::Sqlite => {
                // WAL is a property of the file: set it once, with SQLite's own options, then
                // every pooled connection uses it.
                let sqlite = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10));
                sqlite.connect().await?.close().await?;
                pool = pool.max_connections(8);
                AnyConnectOptions::from_str(url)?
            }
            Backend::Postgres => {
                pool = pool.max_connections(16);
                AnyConnectOptions::from_str(url)?
            }
        };
        let pool = pool
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        // In WAL mode, NORMAL syncs at checkpoints instead of every commit:
                        // a crash of the process loses nothing, a power cut may lose the
                        // last commits (their Google side is re-read by reconcile).
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self { pool, backend })
    }

    /// Applies the migrations not applied yet.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.acquire().await?.ping().await
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}
