//! Storage: SQLite (WAL) by default, PostgreSQL by URL, through sqlx's `Any` driver with
//! one migrations-managed schema written for both dialects.

mod checkpoint;
pub mod console;
pub mod events;
pub mod external_transactions;
pub mod fetches;
pub mod grants;
pub mod leases;
pub mod outbox;
pub mod purchases;
pub mod rate_limits;
pub mod report_files;
pub mod report_rows;
pub mod rtdn_messages;
pub mod webhook_deliveries;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AnyPool, ConnectOptions, Connection};

/// A stored text column held a value its enum does not know (a row written by a newer
/// version, or by hand).
#[derive(Debug, thiserror::Error)]
#[error("unknown {column} `{value}`")]
pub struct UnknownValue {
    /// The column.
    pub column: &'static str,
    /// What it held.
    pub value: String,
}

/// Makes an enum with `as_str` (its stored text) and `parse` (its inverse) a text column:
/// `TryFrom<String>` for `#[sqlx(try_from = "String")]` fields, and `Display` as the stored
/// text (for [`sql!`], which writes states into SQL text).
macro_rules! stored_as_text {
    ($ty:ty, $column:literal) => {
        impl TryFrom<String> for $ty {
            type Error = $crate::db::UnknownValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                <$ty>::parse(&value).ok_or($crate::db::UnknownValue {
                    column: $column,
                    value,
                })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use stored_as_text;

/// A statement's text formatted once (`format!` arguments), for statements that name stored
/// states: the state is written by its enum, and the statement stays a literal in SQL (the
/// partial indexes, e.g. `WHERE status = 'pending'`, match only a literal).
macro_rules! sql {
    ($($format:tt)*) => {{
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| format!($($format)*));
        SQL.as_str()
    }};
}
pub(crate) use sql;

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

impl Backend {
    /// The database of a URL: `sqlite:…`, or `postgres://…` (`postgresql://…`).
    pub fn of(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The connection pools: every connection ([`Db::pool`]), and the writer ([`Db::writer`]).
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    writer: AnyPool,
    backend: Backend,
}

impl Db {
    /// Connects (creating a SQLite file in WAL mode if missing). Does not migrate.
    pub async fn connect(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url).ok_or_else(|| {
            sqlx::Error::Configuration("must start with sqlite: or postgres://".into())
        })?;
        let options = match backend {
            Backend::Sqlite => {
                // WAL is a property of the file: set it once, with SQLite's own options, then
                // every pooled connection uses it.
                let sqlite = SqliteConnectOptions::from_str(url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10));
                sqlite.connect().await?.close().await?;
                AnyConnectOptions::from_str(url)?
            }
            Backend::Postgres => AnyConnectOptions::from_str(url)?,
        };
        // `checkpoints`: whether this pool's connections checkpoint the WAL themselves
        // (SQLite; the writer leaves it to [`checkpoint`]).
        let pool_of = |max: u32, checkpoints: bool| {
            AnyPoolOptions::new()
                .acquire_timeout(Duration::from_secs(10))
                .max_connections(max)
                // A SQLite connection is a file in this process: pinging it before each
                // use (one more round trip to its worker thread per query) finds nothing.
                // A PostgreSQL one may have been cut by a restart: pinged.
                .test_before_acquire(backend == Backend::Postgres)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            sqlx::query("PRAGMA busy_timeout = 10000")
                                .execute(&mut *conn)
                                .await?;
                            // In WAL mode, NORMAL syncs at checkpoints instead of every
                            // commit: a crash of the process loses nothing, a power cut may
                            // lose the last commits (their Google side is re-read by
                            // reconcile).
                            sqlx::query("PRAGMA synchronous = NORMAL")
                                .execute(&mut *conn)
                                .await?;
                            if !checkpoints {
                                sqlx::query("PRAGMA wal_autocheckpoint = 0")
                                    .execute(&mut *conn)
                                    .await?;
                            }
                        }
                        Ok(())
                    })
                })
        };
        let (pool, writer) = match backend {
            Backend::Sqlite => {
                // SQLite has one write lock per file. Writers that race for it from several
                // connections wait in SQLite's busy handler, which sleeps 1, 2, 5, 10… ms
                // between tries; one writer connection makes the request path's and the
                // outbox's writes queue in this process instead, in order, with no sleep.
                // Readers never wait for it (WAL). Commits are the same commits: nothing
                // about durability changes.
                let pool = pool_of(8, true).connect_with(options.clone()).await?;
                let writer = pool_of(1, false).connect_with(options).await?;
                checkpoint::spawn(pool.clone());
                (pool, writer)
            }
            Backend::Postgres => {
                let pool = pool_of(16, true).connect_with(options).await?;
                (pool.clone(), pool)
            }
        };
        Ok(Self {
            pool,
            writer,
            backend,
        })
    }

    /// Applies the migrations not applied yet (and fills what a migration leaves to code:
    /// [`rtdn_messages::fill_tokens`]).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        MIGRATOR.run(&self.pool).await?;
        rtdn_messages::fill_tokens(self)
            .await
            .map_err(sqlx::migrate::MigrateError::Execute)?;
        Ok(())
    }

    /// The pool of every connection (reads, and writes off the hot paths).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool of the hot paths' writes (grants, the outbox): on SQLite a single
    /// connection, so that they queue here instead of sleeping in SQLite's busy handler; on
    /// PostgreSQL the same pool as [`Db::pool`]. Hold no other writer connection while using
    /// one (a transaction on it must do all its work on it).
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// Begins a read-only transaction whose reads all see one snapshot of the database:
    /// on PostgreSQL `REPEATABLE READ` (its default, `READ COMMITTED`, takes a snapshot per
    /// statement); on SQLite (WAL) every transaction reads one snapshot, taken at its first
    /// read. For answers read in several statements that must agree with each other.
    pub async fn read_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.pool
            .begin_with(match self.backend {
                Backend::Sqlite => "BEGIN",
                Backend::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            })
            .await
    }

    /// Begins a write transaction on [`Db::writer`] that may read before it writes: on
    /// SQLite `BEGIN IMMEDIATE`, which takes the write lock at once (waiting in the busy
    /// handler), so that a write committed meanwhile by another connection (a lease, a
    /// checkpoint) cannot void the snapshot it read (`SQLITE_BUSY_SNAPSHOT`); on PostgreSQL
    /// a plain `BEGIN` (rows are locked as they are read `FOR UPDATE`).
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.writer
            .begin_with(match self.backend {
                Backend::Sqlite => "BEGIN IMMEDIATE",
                Backend::Postgres => "BEGIN",
            })
            .await
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.acquire().await?.ping().await
    }

    /// Closes the pools.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored time (milliseconds since the Unix epoch) in RFC 3339, as the API and Google
/// write times; `None` out of `time`'s range.
pub fn rfc3339(ms: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}
