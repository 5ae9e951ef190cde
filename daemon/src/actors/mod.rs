//! The actor core. Conversation actors (one per tenant, number and customer)
//! run on a fixed set of arbiter threads, a tenant's actors all on the same
//! one (picked by hash) so the tenant's events keep their order. A registry
//! starts actors on demand; idle ones stop and are rebuilt from the database
//! on their next message; a sweep wakes the actors of conversations whose
//! timers are due while no actor runs for them (after a restart or an
//! eviction). Mailboxes are bounded: a full one is back-pressure (HTTP 503 +
//! Retry-After for webhooks, OVERLOADED for GraphQL), never unbounded memory.

pub mod board;
pub mod conversation;
pub mod lifecycle;
mod sweep;
pub mod tenant;
pub mod timers;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::{Actor, Addr, ArbiterHandle};
use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;

use crate::bus::Bus;
use crate::config::Settings;
use crate::ingest::{BatchInput, IngestError, Ingestor, WriteOutcome};
use crate::metrics::Metrics;
pub use conversation::{CommandError, ConversationActor};
use lifecycle::Command;
pub use tenant::TenantActor;

/// What a conversation actor is keyed by: the customer `wa_id` on one of the
/// tenant's numbers (at most one conversation of theirs is open at a time).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConvKey {
    pub tenant_id: i64,
    pub number_id: i64,
    pub wa_id: String,
}

/// What every actor needs.
#[derive(Clone)]
pub struct Deps {
    pub db: DatabaseConnection,
    pub ingest: Ingestor,
    pub bus: Bus,
    pub metrics: Arc<Metrics>,
    pub policy: timers::Policy,
    pub idle: Duration,
    pub mailbox: usize,
    /// How long a feed on the Redis bus waits before checking the log.
    pub quiet: Duration,
    /// The media store root (the retention timer deletes erased files).
    pub media_dir: std::path::PathBuf,
    /// Fires window and SLA timers, grouped across conversations.
    marks: sweep::Marks,
}

/// Why a request to an actor was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActorError {
    /// The actor's mailbox is full: retry later.
    #[error("conversation is busy")]
    Overloaded,
    /// The actor stopped before answering (shutting down).
    #[error("actor stopped")]
    Stopped,
    /// The tenant's board could not be loaded yet (database unreachable).
    #[error("the tenant's queues are not loaded yet")]
    NotLoaded,
}

/// A running conversation actor and how many messages wait in its mailbox.
/// (actix bounds a mailbox per sender handle, not in total, so the bound is
/// kept here: incremented on send, decremented when the actor takes one.)
#[derive(Clone)]
struct Slot {
    addr: Addr<ConversationActor>,
    queued: Arc<AtomicUsize>,
    /// A `Tick` is queued already (the sweep sends at most one at a time).
    ticking: Arc<AtomicBool>,
}

/// `Slot::queued` at or above this: the actor is stopping (idle) and takes
/// nothing more; a sender starts a new one instead.
pub(crate) const CLOSED: usize = usize::MAX / 2;

pub(crate) struct Registry {
    arbiters: Vec<ArbiterHandle>,
    conversations: Mutex<HashMap<ConvKey, Slot>>,
    tenants: Mutex<HashMap<i64, TenantSlot>>,
    deps: Deps,
}

/// A running tenant actor and how many questions wait in its mailbox.
#[derive(Clone)]
struct TenantSlot {
    addr: Addr<TenantActor>,
    queued: Arc<AtomicUsize>,
}

impl Registry {
    fn arbiter(&self, tenant_id: i64) -> &ArbiterHandle {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        tenant_id.hash(&mut h);
        &self.arbiters[(h.finish() as usize) % self.arbiters.len()]
    }
}

impl Registry {
    /// Drops `key`'s entry if it is still `addr` (a stopped actor).
    pub(crate) fn forget(&self, key: &ConvKey, addr: &Addr<ConversationActor>) {
        if let Ok(mut map) = self.conversations.lock()
            && map.get(key).is_some_and(|s| &s.addr == addr)
        {
            map.remove(key);
        }
    }
}

/// Handle to the actor system; cheap to clone.
#[derive(Clone)]
pub struct Actors {
    inner: Arc<Registry>,
}

impl std::fmt::Debug for Actors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actors")
            .field("arbiters", &self.inner.arbiters.len())
            .finish_non_exhaustive()
    }
}

impl Actors {
    /// Starts the arbiters and the timer sweep. Must run inside an actix `System`.
    pub fn start(
        db: DatabaseConnection,
        ingest: Ingestor,
        bus: Bus,
        metrics: Arc<Metrics>,
        settings: &Settings,
    ) -> Self {
        let actors = &settings.actors;
        let n = match actors.arbiters {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let arbiters = (0..n).map(|_| actix::Arbiter::new().handle()).collect();
        let policy = timers::Policy::from(&settings.conversations);
        let marks = sweep::Marks::start(sweep::Firing {
            db: db.clone(),
            bus: bus.clone(),
            metrics: metrics.clone(),
            policy: policy.clone(),
        });
        let inner = Arc::new(Registry {
            arbiters,
            conversations: Mutex::new(HashMap::new()),
            tenants: Mutex::new(HashMap::new()),
            deps: Deps {
                db,
                ingest,
                bus,
                metrics,
                policy,
                idle: Duration::from_secs(actors.idle_seconds),
                mailbox: actors.mailbox_capacity,
                quiet: Duration::from_secs(settings.events.quiet_check_seconds),
                media_dir: settings.whatsapp.media_dir.clone(),
                marks,
            },
        });
        let me = Self { inner };
        tokio::spawn(sweep::sweep(
            Arc::downgrade(&me.inner),
            Duration::from_millis(actors.timer_sweep_ms),
        ));
        me
    }

    /// The running actor for `key`, started (and rebuilt from the database) if needed.
    fn conversation(&self, key: &ConvKey) -> Slot {
        let mut map = match self.inner.conversations.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(s) = map.get(key)
            && s.addr.connected()
            && s.queued.load(Ordering::Acquire) < CLOSED
        {
            return s.clone();
        }
        let arbiter = self.inner.arbiter(key.tenant_id);
        let queued = Arc::new(AtomicUsize::new(0));
        let ticking = Arc::new(AtomicBool::new(false));
        let (k, deps, registry, q, t) = (
            key.clone(),
            self.inner.deps.clone(),
            Arc::downgrade(&self.inner),
            queued.clone(),
            ticking.clone(),
        );
        let addr = ConversationActor::start_in_arbiter(arbiter, move |_| {
            ConversationActor::new(k, deps, registry, q, t)
        });
        let slot = Slot {
            addr,
            queued,
            ticking,
        };
        map.insert(key.clone(), slot.clone());
        slot
    }

    /// Takes a place in a bounded mailbox whose waiting messages `queued`
    /// counts: `Overloaded` (counted) when full, `false` when the actor is
    /// closing ([`CLOSED`]) and takes nothing more.
    fn admit(&self, queued: &AtomicUsize, kind: &str) -> Result<bool, ActorError> {
        let before = queued.fetch_add(1, Ordering::AcqRel);
        if before >= CLOSED {
            queued.fetch_sub(1, Ordering::AcqRel);
            return Ok(false);
        }
        if before >= self.inner.deps.mailbox {
            queued.fetch_sub(1, Ordering::AcqRel);
            self.inner
                .deps
                .metrics
                .mailbox_full
                .with_label_values(&[kind])
                .inc();
            return Err(ActorError::Overloaded);
        }
        Ok(true)
    }

    /// Sends `msg` to `key`'s actor without waiting for room.
    fn try_send<M>(&self, key: &ConvKey, msg: M) -> Result<(), ActorError>
    where
        M: actix::Message<Result = ()> + Send + 'static,
        ConversationActor: actix::Handler<M>,
    {
        let depth = self
            .inner
            .deps
            .metrics
            .mailbox_depth
            .with_label_values(&["conversation"]);
        let mut msg = msg;
        for _ in 0..2 {
            let slot = self.conversation(key);
            if !self.admit(&slot.queued, "conversation")? {
                // it stopped for idleness since the lookup: start a new one
                continue;
            }
            match slot.addr.try_send(msg) {
                Ok(()) => {
                    depth.inc();
                    return Ok(());
                }
                Err(actix::prelude::SendError::Full(m))
                | Err(actix::prelude::SendError::Closed(m)) => {
                    // stopped between lookup and send (idle): start a new one
                    slot.queued.fetch_sub(1, Ordering::AcqRel);
                    msg = m;
                }
            }
        }
        Err(ActorError::Stopped)
    }

    /// Commits a verified notification through the conversation actors of
    /// its customers (statuses and template updates go straight to the
    /// writer). Refused with `Overloaded` when a conversation's mailbox is
    /// full; parts already handed over commit anyway, and Meta's retry of the
    /// whole notification is deduplicated.
    pub async fn ingest(&self, input: BatchInput) -> Result<WriteOutcome, IngestError> {
        let mut parts: HashMap<ConvKey, BatchInput> = HashMap::new();
        let mut rest = BatchInput {
            statuses: input.statuses,
            templates: input.templates,
            accepted: input.accepted,
            events: input.events,
            ..Default::default()
        };
        for m in input.inbound {
            let key = ConvKey {
                tenant_id: m.tenant_id,
                number_id: m.number_id,
                wa_id: m.from.clone(),
            };
            parts.entry(key).or_default().inbound.push(m);
        }
        for c in input.contacts {
            match parts
                .iter_mut()
                .find(|(k, _)| k.tenant_id == c.tenant_id && k.wa_id == c.wa_id)
            {
                Some((_, p)) => p.contacts.push(c),
                None => rest.contacts.push(c),
            }
        }
        let mut waits = Vec::with_capacity(parts.len() + 1);
        for (key, part) in parts {
            let (reply, rx) = oneshot::channel();
            self.try_send(&key, conversation::Inbound { input: part, reply })
                .map_err(|e| match e {
                    ActorError::Overloaded => IngestError::Overloaded,
                    ActorError::Stopped | ActorError::NotLoaded => IngestError::Stopped,
                })?;
            waits.push(rx);
        }
        let mut total = WriteOutcome::default();
        if !rest.statuses.is_empty()
            || !rest.templates.is_empty()
            || !rest.accepted.is_empty()
            || !rest.events.is_empty()
            || !rest.contacts.is_empty()
        {
            total.absorb(self.inner.deps.ingest.submit(rest).await?);
        }
        for rx in waits {
            total.absorb(rx.await.map_err(|_| IngestError::Stopped)??);
        }
        Ok(total)
    }

    /// Applies a user's command to a conversation through its actor.
    pub async fn command(
        &self,
        key: ConvKey,
        conversation_id: i64,
        command: Command,
        by_user: Option<i64>,
    ) -> Result<entity::conversations::Model, CommandOutcomeError> {
        let (reply, rx) = oneshot::channel();
        self.try_send(
            &key,
            conversation::Apply {
                conversation_id,
                command,
                by_user,
                reply,
            },
        )?;
        Ok(rx.await.map_err(|_| ActorError::Stopped)??)
    }

    /// Tells `key`'s actor to look at its conversation again (after a change
    /// made outside it, e.g. a reply was queued). Best effort: a full mailbox
    /// means the actor is busy and will look anyway.
    pub fn touch(&self, key: &ConvKey) {
        self.touch_due(key, None);
    }

    /// [`Actors::touch`] for the sweep, naming the conversation found due
    /// (perhaps an older one of the customer).
    fn touch_due(&self, key: &ConvKey, due: Option<i64>) {
        let slot = self.conversation(key);
        if slot.ticking.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.try_send(key, conversation::Tick { due }).is_err() {
            slot.ticking.store(false, Ordering::Release);
        }
    }

    /// The tenant's actor, started (and its board loaded) if needed.
    fn tenant(&self, tenant_id: i64) -> TenantSlot {
        let mut map = match self.inner.tenants.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(s) = map.get(&tenant_id)
            && s.addr.connected()
        {
            return s.clone();
        }
        let deps = self.inner.deps.clone();
        let addr = TenantActor::start_in_arbiter(self.inner.arbiter(tenant_id), move |_| {
            TenantActor::new(tenant_id, deps)
        });
        let slot = TenantSlot {
            addr,
            queued: Arc::new(AtomicUsize::new(0)),
        };
        map.insert(tenant_id, slot.clone());
        slot
    }

    /// Asks the tenant actor about its queues or roster. `Overloaded` when
    /// its mailbox is full; `NotLoaded` while its board cannot be loaded.
    pub async fn ask<Q, T>(&self, tenant_id: i64, query: Q) -> Result<T, ActorError>
    where
        Q: Send + 'static,
        tenant::Ask<Q>: actix::Message<Result = tenant::Answer<T>> + Send + 'static,
        T: Send + 'static,
        TenantActor: actix::Handler<tenant::Ask<Q>>,
    {
        let slot = self.tenant(tenant_id);
        // tenant actors never close for idleness
        if !self.admit(&slot.queued, "tenant")? {
            return Err(ActorError::Stopped);
        }
        let permit = tenant::Permit(slot.queued.clone());
        match slot
            .addr
            .send(tenant::Ask {
                query,
                _permit: permit,
            })
            .await
        {
            Ok(tenant::Answer::Ready(t)) => Ok(t),
            Ok(tenant::Answer::NotLoaded) => Err(ActorError::NotLoaded),
            Err(_) => Err(ActorError::Stopped),
        }
    }

    /// Stops every arbiter (and with them the actors) at shutdown.
    pub fn stop(&self) {
        for a in &self.inner.arbiters {
            a.stop();
        }
    }
}

/// Why a command did not apply.
#[derive(Debug, thiserror::Error)]
pub enum CommandOutcomeError {
    #[error(transparent)]
    Actor(#[from] ActorError),
    #[error(transparent)]
    Command(#[from] CommandError),
}
