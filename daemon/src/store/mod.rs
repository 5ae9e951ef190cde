//! Database access: plain async functions over `&impl ConnectionTrait`, every
//! query on tenant data scoped by `tenant_id`. One module per table group.

pub mod api_keys;
pub mod audit;
pub mod board;
pub mod conversations;
pub mod departments;
pub mod events;
pub mod messages;
pub mod numbers;
pub mod outbox;
pub mod page;
pub mod tenants;
pub mod users;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr, SqlErr};
use secrecy::ExposeSecret;

use crate::config::DatabaseSettings;

pub use page::Page;

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in the caller's tenant (→ NOT_FOUND).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique rule was violated (→ BAD_USER_INPUT).
    #[error("{0}")]
    Conflict(String),
    /// The change is refused by a business rule (→ BAD_USER_INPUT).
    #[error("{0}")]
    Rejected(String),
    /// The database failed (→ INTERNAL; never shown to clients).
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// Maps a unique violation of `err` to `Conflict(message)`, anything else to `Db`.
    pub fn on_unique(err: DbErr, message: impl Into<String>) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(message.into()),
            _ => StoreError::Db(err),
        }
    }
}

/// What every pool of `database.url` shares: timeouts, no statement logging.
fn options(settings: &DatabaseSettings) -> ConnectOptions {
    let mut opts = ConnectOptions::new(settings.url.expose_secret().to_string());
    opts.acquire_timeout(Duration::from_secs(settings.acquire_timeout_seconds))
        .connect_timeout(Duration::from_secs(settings.acquire_timeout_seconds))
        .sqlx_logging(false);
    opts
}

/// Opens the pool for `database.url` (SQLite in WAL mode with a busy timeout, or PostgreSQL).
pub async fn connect(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    let mut opts = options(settings);
    opts.max_connections(settings.max_connections)
        .min_connections(1)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(opts).await
}

/// Prepared statements kept per writer connection (sqlx's default is 100).
const WRITER_STATEMENT_CACHE: usize = 1024;

/// How often a writer connection drops its prepared statements.
const WRITER_REPLAN_EVERY: Duration = Duration::from_secs(2);

/// One ingest writer's own PostgreSQL connections: two (at most three), since
/// sqlx pings a connection when it goes back to the pool and the next batch
/// takes another instead of waiting for that round trip; no health-check
/// ping before each batch (a broken connection fails its batch, which Meta
/// retries, and is replaced). They come on top of `database.max_connections`.
pub async fn connect_writer(settings: &DatabaseSettings) -> Result<DatabaseConnection, DbErr> {
    use sea_orm::sqlx::Connection;
    // PostgreSQL switches a prepared statement to a generic plan after five
    // runs and keeps it: one made while the tables were small (a new
    // database) scans `messages` sequentially ever after (~1,400 instead of
    // ~5,000 msg/s measured). A released connection drops its statements
    // every few seconds, so they are planned again for the tables as they
    // are (forcing custom plans instead cost a quarter of the throughput)
    let next_replan = std::sync::Arc::new(std::sync::Mutex::new(std::time::Instant::now()));
    let mut opts = options(settings);
    opts.max_connections(3)
        .min_connections(2)
        .test_before_acquire(false)
        // the writer's statements differ with the batch size (one text per
        // row count): a statement not in the cache costs a Parse round trip
        .map_sqlx_postgres_opts(|o| o.statement_cache_capacity(WRITER_STATEMENT_CACHE))
        .map_sqlx_postgres_pool_opts(move |o| {
            let next_replan = next_replan.clone();
            o.after_release(move |conn, _| {
                let due = match next_replan.lock() {
                    Ok(mut next) if std::time::Instant::now() >= *next => {
                        *next = std::time::Instant::now() + WRITER_REPLAN_EVERY / 2;
                        true
                    }
                    _ => false,
                };
                Box::pin(async move {
                    if due {
                        conn.clear_cached_statements().await?;
                    }
                    Ok(true)
                })
            })
        });
    Database::connect(opts).await
}

/// Starts a write transaction. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`), so a transaction that reads and then writes waits
/// for other writers (busy timeout) instead of failing with
/// `SQLITE_BUSY_SNAPSHOT` when another connection committed in between;
/// PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    use sea_orm::TransactionTrait;
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Applies every pending migration.
pub async fn migrate_up(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Whether the database is reachable and fully migrated.
pub async fn readiness(db: &DatabaseConnection) -> Result<(), String> {
    db.ping()
        .await
        .map_err(|e| format!("database unreachable: {e}"))?;
    let pending = Migrator::get_pending_migrations(db)
        .await
        .map_err(|e| format!("cannot read migration state: {e}"))?;
    if pending.is_empty() {
        Ok(())
    } else {
        Err(format!("{} migration(s) pending", pending.len()))
    }
}

/// Connections of the pool: (in use, idle).
pub fn pool_stats(db: &DatabaseConnection) -> (u32, u32) {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        DbBackend::Sqlite => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    (size.saturating_sub(idle), idle)
}

/// The current time, truncated to microseconds so SQLite and PostgreSQL agree.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let n = chrono::Utc::now();
    chrono::DateTime::from_timestamp_micros(n.timestamp_micros()).unwrap_or(n)
}
