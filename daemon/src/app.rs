//! Building and running the daemon: `Application::build(settings)` opens the
//! database, loads keys, binds its own listener (port 0 works, see `port()`),
//! and `run_until_stopped()` serves until SIGTERM/SIGINT or `handle().stop()`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, middleware, web};
use secrecy::ExposeSecret;

use crate::auth::limiter::LoginLimiter;
use crate::auth::token::TokenKeys;
use crate::bus::Bus;
use crate::config::Settings;
use crate::crypto::{self, CryptoError, Keyring};
use crate::ingest::{Ingestor, WriteOptions, WriterDb};
use crate::metrics::Metrics;
use crate::sender::{PairRate, Senders};
use crate::state::AppState;
use crate::whatsapp::client::CloudClient;
use crate::whatsapp::directory::NumberDirectory;
use crate::{graphql, http, store};

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("database {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error(
        "ingest writer connections (up to 3 per ingest.writers, on top of database.max_connections): {0}"
    )]
    IngestWriter(sea_orm::DbErr),
    #[error("migrations failed: {0}")]
    Migrate(sea_orm::DbErr),
    #[error("{0}")]
    Keys(#[from] CryptoError),
    #[error("whatsapp client: {0}")]
    Client(String),
    #[error("outbox: {0}")]
    Outbox(String),
    #[error("redis: {0}")]
    Redis(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// Loads the master key from config or `data_dir/master.key` (generated once).
pub fn load_keyring(settings: &Settings) -> Result<Keyring, CryptoError> {
    let encoded = match &settings.crypto.master_key {
        Some(k) => k.clone(),
        None => {
            let (k, generated) =
                crypto::load_or_generate_secret(&settings.server.data_dir, "master.key", 32)?;
            if generated {
                tracing::warn!(
                    path = %settings.server.data_dir.join("master.key").display(),
                    "crypto.master_key is not set: generated a new master key; back it up, \
                     secrets stored with it are unreadable without it"
                );
            }
            k
        }
    };
    let mut ring = Keyring::new(&crypto::decode_key(encoded.expose_secret())?);
    for old in &settings.crypto.previous_keys {
        ring = ring.with_previous(&crypto::decode_key(old.expose_secret())?);
    }
    Ok(ring)
}

fn load_jwt_secret(settings: &Settings) -> Result<Vec<u8>, CryptoError> {
    match &settings.auth.jwt_secret {
        Some(s) => Ok(s.expose_secret().as_bytes().to_vec()),
        None => {
            let (k, generated) =
                crypto::load_or_generate_secret(&settings.server.data_dir, "jwt.key", 64)?;
            if generated {
                tracing::warn!("auth.jwt_secret is not set: generated one into the data directory");
            }
            Ok(k.expose_secret().as_bytes().to_vec())
        }
    }
}

/// Builds the shared state: database (migrated if configured), keys, Redis.
pub async fn build_state(settings: Settings) -> Result<AppState, StartError> {
    let db = store::connect(&settings.database)
        .await
        .map_err(|source| StartError::Database {
            url: settings.database.redacted_url(),
            source,
        })?;
    if settings.database.migrate_on_start {
        store::migrate_up(&db).await.map_err(StartError::Migrate)?;
    }
    let keyring = load_keyring(&settings)?;
    let jwt = load_jwt_secret(&settings)?;
    let redis = match &settings.redis.url {
        Some(url) => Some(
            deadpool_redis::Config::from_url(url.expose_secret())
                .create_pool(Some(deadpool_redis::Runtime::Tokio1))
                .map_err(|e| StartError::Redis(e.to_string()))?,
        ),
        None => None,
    };
    let limiter = Arc::new(LoginLimiter::new(
        settings.auth.login_attempts_per_ip_per_minute,
        settings.auth.login_attempts_per_account_per_minute,
    ));
    spawn_limiter_cleanup(Arc::downgrade(&limiter));
    spawn_event_log_retention(db.clone(), settings.events.retention_hours);
    let metrics = Arc::new(Metrics::new());
    metrics
        .db_pool_max
        .set(i64::from(settings.database.max_connections));
    let keyring = Arc::new(keyring);
    let numbers = Arc::new(NumberDirectory::new(db.clone(), keyring.clone()));
    let bus = match (&settings.redis.url, &redis) {
        (Some(url), Some(pool)) => Bus::redis(
            4096,
            url.expose_secret(),
            pool.clone(),
            &settings.redis.key_prefix,
            metrics.clone(),
        )
        .map_err(|e| StartError::Redis(e.to_string()))?,
        _ => Bus::in_process(4096).with_metrics(metrics.clone()),
    };
    let writer_db = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => WriterDb::Own(settings.database.clone()),
        _ => WriterDb::Shared(db.clone()),
    };
    let contacts = Arc::new(crate::ingest::contacts::ContactCache::default());
    // bounded: a huge contacts table delays the start by at most this long
    match tokio::time::timeout(
        Duration::from_secs(5),
        crate::ingest::warm_contacts(&db, &contacts),
    )
    .await
    {
        Ok(Ok(n)) => {
            metrics
                .ingest_contacts_warmed
                .set(i64::try_from(n).unwrap_or(i64::MAX));
            tracing::info!(contacts = n, "ingest contact cache warmed")
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "warming the ingest contact cache failed"),
        Err(_) => tracing::warn!("warming the ingest contact cache timed out"),
    }
    let ingest = Ingestor::start(
        writer_db,
        &settings.ingest,
        metrics.clone(),
        bus.clone(),
        WriteOptions {
            reopen_window: chrono::Duration::minutes(i64::from(
                settings.conversations.reopen_window_minutes,
            )),
            timers: crate::actors::timers::Policy::from(&settings.conversations),
            contacts,
        },
    )
    .await
    .map_err(StartError::IngestWriter)?;
    let client = CloudClient::new(
        &settings.whatsapp.graph_base_url,
        &settings.whatsapp.api_version,
        Duration::from_secs(settings.whatsapp.request_timeout_seconds),
    )
    .map_err(|e| StartError::Client(e.to_string()))?;
    let media = crate::whatsapp::media_store::MediaStore::start(
        settings.whatsapp.media_dir.clone(),
        db.clone(),
        keyring.clone(),
        client.clone(),
    );
    media.wake();
    let senders = Senders::new(
        db.clone(),
        keyring.clone(),
        client,
        ingest.clone(),
        metrics.clone(),
        PairRate {
            interval: Duration::from_secs_f64(settings.whatsapp.pair_interval_seconds),
            burst: settings.whatsapp.pair_burst,
        },
    );
    senders
        .resume()
        .await
        .map_err(|e| StartError::Outbox(e.to_string()))?;
    let actors = crate::actors::Actors::start(
        db.clone(),
        ingest.clone(),
        bus.clone(),
        metrics.clone(),
        &settings,
    );
    Ok(AppState {
        actors,
        shutdown: crate::ws::Shutdown::default(),
        tokens: Arc::new(TokenKeys::new(&jwt, settings.auth.jwt_expiry_minutes)),
        settings: Arc::new(settings),
        db,
        keyring,
        numbers,
        ingest,
        senders,
        media,
        login_limiter: limiter,
        metrics,
        bus,
        redis,
    })
}

/// Stops a running daemon: closes the WebSockets (code 1001 with a reason),
/// then stops the HTTP server (gracefully: in-flight requests finish within
/// `server.shutdown_grace_seconds`).
#[derive(Clone)]
pub struct AppHandle {
    server: ServerHandle,
    shutdown: crate::ws::Shutdown,
}

impl AppHandle {
    pub async fn stop(&self, graceful: bool) {
        self.shutdown.trigger();
        self.server.stop(graceful).await;
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the daemon");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Deletes logged events past their retention, hourly.
fn spawn_event_log_retention(db: sea_orm::DatabaseConnection, hours: u32) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let before = chrono::Utc::now() - chrono::Duration::hours(i64::from(hours));
            match store::events::delete_before(&db, before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "event log retention"),
                Err(e) => tracing::warn!(error = %e, "event log retention failed"),
            }
        }
    });
}

fn spawn_limiter_cleanup(limiter: std::sync::Weak<LoginLimiter>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            match limiter.upgrade() {
                Some(l) => l.retain_recent(),
                None => break,
            }
        }
    });
}

/// A built, bound, not yet running daemon.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Builds everything and binds `server.host:server.port`. Must be called
    /// inside an actix system (`actix_web::rt::System`).
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let addr = format!("{}:{}", settings.server.host, settings.server.port);
        let listener = TcpListener::bind(&addr).map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                addr: addr.clone(),
                source,
            })?
            .port();
        let state = build_state(settings).await?;
        let schema = graphql::build(&state.settings.graphql, Some(state.clone()));
        let grace = state.settings.server.shutdown_grace_seconds;
        let workers = match state.settings.server.workers {
            0 => std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            n => n,
        };
        let app_state = web::Data::new(state.clone());
        let schema = web::Data::new(schema);
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(schema.clone())
                .wrap(middleware::from_fn(http::observe))
                .configure(http::routes)
        })
        .workers(workers)
        .shutdown_timeout(grace)
        // SIGTERM/SIGINT are handled in `run_until_stopped`, which closes the
        // WebSockets before the server drains
        .disable_signals()
        .listen(listener)
        .map_err(|source| StartError::Bind { addr, source })?
        .run();
        tracing::info!(port, database = %state.settings.database.redacted_url(), "switchboard listening");
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the daemon from elsewhere.
    pub fn handle(&self) -> AppHandle {
        AppHandle {
            server: self.server.handle(),
            shutdown: self.state.shutdown.clone(),
        }
    }

    /// The shared state (database, metrics, bus).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until stopped; in-flight requests get `server.shutdown_grace_seconds`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.handle();
        let signals = actix_web::rt::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested");
            handle.stop(true).await;
        });
        self.server.await?;
        signals.abort();
        // the server drained its requests (and with them every pending
        // commit); stop the actors' threads before the pool closes
        self.state.actors.stop();
        // what is queued commits; the writers' connections close with them
        self.state.ingest.close().await;
        self.state.db.clone().close().await.ok();
        tracing::info!("switchboard stopped");
        Ok(())
    }
}
