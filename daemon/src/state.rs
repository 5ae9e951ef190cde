//! Shared state of a running daemon, cloned into every handler.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::limiter::LoginLimiter;
use crate::auth::token::TokenKeys;
use crate::bus::Bus;
use crate::config::Settings;
use crate::crypto::Keyring;
use crate::ingest::Ingestor;
use crate::metrics::Metrics;
use crate::sender::Senders;
use crate::whatsapp::directory::NumberDirectory;

/// Everything handlers and resolvers need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub keyring: Arc<Keyring>,
    pub tokens: Arc<TokenKeys>,
    pub login_limiter: Arc<LoginLimiter>,
    pub metrics: Arc<Metrics>,
    pub bus: Bus,
    pub redis: Option<deadpool_redis::Pool>,
    /// phone_number_id → tenant and app secret, cached.
    pub numbers: Arc<NumberDirectory>,
    /// The group-commit writer of webhook notifications.
    pub ingest: Ingestor,
    /// Conversation actors (lifecycle, timers, back-pressure).
    pub actors: crate::actors::Actors,
    /// Closes the WebSockets when the daemon shuts down.
    pub shutdown: crate::ws::Shutdown,
    /// Sender actors, one per phone number.
    pub senders: Arc<Senders>,
    /// Inbound media store and its fetcher.
    pub media: Arc<crate::whatsapp::media_store::MediaStore>,
}

impl AppState {
    /// Appends an event to the tenant's log (sequenced by the ingest writer)
    /// and publishes it once committed. Failures are logged: the change that
    /// caused the event is already committed.
    pub async fn emit(&self, tenant_id: i64, kind: crate::bus::EventKind) {
        let input = crate::ingest::BatchInput {
            events: vec![(tenant_id, kind)],
            ..Default::default()
        };
        if let Err(e) = self.ingest.submit(input).await {
            tracing::error!(tenant_id, error = %e, "event not logged");
        }
    }
}
