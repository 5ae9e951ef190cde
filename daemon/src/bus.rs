//! The event bus: every committed state change is published here and GraphQL
//! subscriptions read from it, filtered by tenant and role. In-process (tokio
//! broadcast) by default; with `redis.url` set, events also travel over Redis
//! pub/sub so several daemons share one stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc};

use crate::metrics::Metrics;

/// What kind of directory object changed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum, serde::Serialize, serde::Deserialize,
)]
pub enum DirectoryEntity {
    User,
    Department,
    WhatsAppNumber,
    ApiKey,
    Tenant,
}

/// How it changed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum, serde::Serialize, serde::Deserialize,
)]
pub enum ChangeAction {
    Created,
    Updated,
    Deleted,
}

/// What happened. Stored as JSON in `event_log.payload`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A user, department, number, key or the tenant itself changed.
    DirectoryChanged {
        entity: DirectoryEntity,
        id: i64,
        action: ChangeAction,
    },
    /// A customer wrote without an open conversation: one was opened.
    ConversationOpened { conversation_id: i64 },
    /// A message was stored (inbound from a customer, or outbound queued).
    MessageAdded {
        message_id: i64,
        conversation_id: i64,
    },
    /// An outbound message's delivery status moved (sent, delivered, read, failed).
    MessageStatusChanged {
        message_id: i64,
        conversation_id: i64,
        status: String,
    },
    /// A conversation's status changed (reopened, woke, snoozed, handed off, unassigned).
    ConversationUpdated {
        conversation_id: i64,
        status: String,
        previous: Option<String>,
        reason: String,
        by_user: Option<i64>,
    },
    /// A conversation was given to an agent (or moved to another).
    ConversationAssigned {
        conversation_id: i64,
        assignee_id: i64,
        previous_assignee_id: Option<i64>,
        by_user: Option<i64>,
    },
    /// A conversation was resolved, by a user or by the system (`by_user` null).
    ConversationResolved {
        conversation_id: i64,
        reason: String,
        by_user: Option<i64>,
    },
    /// A reply SLA was missed.
    SlaBreached {
        conversation_id: i64,
        kind: SlaKind,
        waiting_since: DateTime<Utc>,
    },
    /// An agent went online, away or offline, or changed their capacity.
    AgentPresenceChanged {
        user_id: i64,
        status: String,
        capacity: i32,
    },
    /// Conversations entered or left the waiting queue of a department
    /// (`None`: not routed to a department yet); refetch the queue.
    QueueUpdated { department_id: Option<i64> },
    /// The 24-hour customer-service window closes soon (`closed` false) or closed.
    WindowClosing {
        conversation_id: i64,
        expires_at: DateTime<Utc>,
        closed: bool,
    },
}

/// Which reply SLA was missed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum, serde::Serialize, serde::Deserialize,
)]
pub enum SlaKind {
    FirstResponse,
    NextResponse,
}

impl EventKind {
    /// The stored `event_log.kind`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::DirectoryChanged { .. } => "directory_changed",
            EventKind::ConversationOpened { .. } => "conversation_opened",
            EventKind::MessageAdded { .. } => "message_added",
            EventKind::MessageStatusChanged { .. } => "message_status_changed",
            EventKind::ConversationUpdated { .. } => "conversation_updated",
            EventKind::ConversationAssigned { .. } => "conversation_assigned",
            EventKind::ConversationResolved { .. } => "conversation_resolved",
            EventKind::SlaBreached { .. } => "sla_breached",
            EventKind::WindowClosing { .. } => "window_closing",
            EventKind::QueueUpdated { .. } => "queue_updated",
            EventKind::AgentPresenceChanged { .. } => "agent_presence_changed",
        }
    }

    /// The conversation the event is about, if any.
    pub fn conversation_id(&self) -> Option<i64> {
        match self {
            EventKind::DirectoryChanged { .. }
            | EventKind::QueueUpdated { .. }
            | EventKind::AgentPresenceChanged { .. } => None,
            EventKind::ConversationOpened { conversation_id }
            | EventKind::MessageAdded {
                conversation_id, ..
            }
            | EventKind::MessageStatusChanged {
                conversation_id, ..
            }
            | EventKind::ConversationUpdated {
                conversation_id, ..
            }
            | EventKind::ConversationAssigned {
                conversation_id, ..
            }
            | EventKind::ConversationResolved {
                conversation_id, ..
            }
            | EventKind::SlaBreached {
                conversation_id, ..
            }
            | EventKind::WindowClosing {
                conversation_id, ..
            } => Some(*conversation_id),
        }
    }
}

/// One event of one tenant. `seq` increases by one per tenant, in commit
/// order; a subscriber resumes after the last `seq` it saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Event {
    pub tenant_id: i64,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
}

/// What travels over Redis: the event and the daemon that committed it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Envelope {
    origin: String,
    event: Event,
}

/// Publishes events to every subscriber: of this daemon (always) and of every
/// daemon sharing the Redis channel (when `redis.url` is set).
///
/// Events travel after their commit, so a subscriber can always read what it
/// missed from the event log; Redis carries only the live tail. Subscribers
/// order by `seq` and fill gaps from the log (see `graphql::subscription`), so
/// an event published late, lost in a Redis outage or arriving out of order
/// never leaves a hole.
#[derive(Clone, Debug)]
pub struct Bus {
    tx: broadcast::Sender<Arc<Event>>,
    redis: Option<Arc<RedisLink>>,
    metrics: Option<Arc<Metrics>>,
}

#[derive(Debug)]
struct RedisLink {
    out: mpsc::Sender<Arc<Event>>,
    subscribed: AtomicBool,
}

/// Events waiting for the Redis publisher before new ones are dropped
/// (subscribers elsewhere then read them from the log).
const REDIS_OUTBOX: usize = 65_536;

impl Bus {
    /// A bus whose subscribers may fall `capacity` events behind before they lag.
    pub fn in_process(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Self {
            tx,
            redis: None,
            metrics: None,
        }
    }

    /// Counts this bus's traffic in `metrics`.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// A bus shared with other daemons over Redis pub/sub on
    /// `{prefix}:events`. Connects in the background and reconnects forever;
    /// [`Bus::is_ready`] tells whether the subscription is live.
    pub fn redis(
        capacity: usize,
        url: &str,
        pool: deadpool_redis::Pool,
        prefix: &str,
        metrics: Arc<Metrics>,
    ) -> Result<Self, BusError> {
        let client =
            deadpool_redis::redis::Client::open(url).map_err(|e| BusError::Redis(e.to_string()))?;
        let (tx, _) = broadcast::channel(capacity.max(16));
        let (out, out_rx) = mpsc::channel(REDIS_OUTBOX);
        let link = Arc::new(RedisLink {
            out,
            subscribed: AtomicBool::new(false),
        });
        let channel = format!("{prefix}:events");
        let origin = hex::encode(rand::random::<[u8; 16]>());
        tokio::spawn(publish_loop(
            out_rx,
            pool,
            channel.clone(),
            origin.clone(),
            metrics.clone(),
        ));
        tokio::spawn(subscribe_loop(
            client,
            channel,
            origin,
            tx.clone(),
            Arc::downgrade(&link),
            metrics.clone(),
        ));
        Ok(Self {
            tx,
            redis: Some(link),
            metrics: Some(metrics),
        })
    }

    /// Whether other daemons share this bus (Redis).
    pub fn is_shared(&self) -> bool {
        self.redis.is_some()
    }

    /// Whether events from other daemons arrive (always true without Redis).
    pub fn is_ready(&self) -> bool {
        self.redis
            .as_ref()
            .is_none_or(|l| l.subscribed.load(Ordering::Acquire))
    }

    /// Publishes a committed event; having no subscriber is not an error.
    pub fn publish(&self, event: Event) {
        let event = Arc::new(event);
        if let Some(m) = &self.metrics {
            m.bus_events.with_label_values(&["published"]).inc();
        }
        if let Some(link) = &self.redis
            && link.out.try_send(event.clone()).is_err()
            && let Some(m) = &self.metrics
        {
            m.bus_events.with_label_values(&["redis_dropped"]).inc();
        }
        let _ = self.tx.send(event);
    }

    /// A new subscription receiving events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("redis: {0}")]
    Redis(String),
}

async fn publish_loop(
    mut rx: mpsc::Receiver<Arc<Event>>,
    pool: deadpool_redis::Pool,
    channel: String,
    origin: String,
    metrics: Arc<Metrics>,
) {
    use deadpool_redis::redis::AsyncCommands;
    let mut failing = false;
    while let Some(event) = rx.recv().await {
        let payload = match serde_json::to_string(&Envelope {
            origin: origin.clone(),
            event: Event::clone(&event),
        }) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "event not serializable; not sent to other daemons");
                continue;
            }
        };
        let sent = match pool.get().await {
            Ok(mut conn) => conn
                .publish::<_, _, i64>(&channel, payload)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        match sent {
            Ok(_) if failing => {
                tracing::info!("redis publish works again");
                failing = false;
            }
            Ok(_) => {}
            Err(e) => {
                metrics.bus_events.with_label_values(&["redis_error"]).inc();
                if !failing {
                    tracing::warn!(error = %e, "redis publish failed; other daemons read the missed events from the log");
                    failing = true;
                }
            }
        }
    }
}

async fn subscribe_loop(
    client: deadpool_redis::redis::Client,
    channel: String,
    origin: String,
    tx: broadcast::Sender<Arc<Event>>,
    link: std::sync::Weak<RedisLink>,
    metrics: Arc<Metrics>,
) {
    use futures_util::StreamExt;
    let mut delay = Duration::from_millis(100);
    loop {
        let connected = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, deadpool_redis::redis::RedisError>(pubsub)
        }
        .await;
        match connected {
            Ok(mut pubsub) => {
                let Some(l) = link.upgrade() else { return };
                l.subscribed.store(true, Ordering::Release);
                drop(l);
                tracing::info!(%channel, "subscribed to the redis event channel");
                delay = Duration::from_millis(100);
                let mut messages = pubsub.on_message();
                while let Some(msg) = messages.next().await {
                    let Ok(payload) = msg.get_payload::<String>() else {
                        continue;
                    };
                    let envelope: Envelope = match serde_json::from_str(&payload) {
                        Ok(e) => e,
                        Err(e) => {
                            tracing::warn!(error = %e, "unreadable event on the redis channel skipped");
                            continue;
                        }
                    };
                    if envelope.origin == origin {
                        continue;
                    }
                    metrics.bus_events.with_label_values(&["received"]).inc();
                    let age = (Utc::now() - envelope.event.at).num_microseconds();
                    metrics
                        .bus_lag_seconds
                        .observe(age.unwrap_or(0).max(0) as f64 / 1e6);
                    let _ = tx.send(Arc::new(envelope.event));
                }
                tracing::warn!("redis event subscription ended; reconnecting");
            }
            Err(e) => {
                tracing::warn!(error = %e, "redis event subscription failed; retrying");
            }
        }
        match link.upgrade() {
            Some(l) => l.subscribed.store(false, Ordering::Release),
            None => return,
        }
        metrics.bus_events.with_label_values(&["redis_error"]).inc();
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_published_events() {
        let bus = Bus::in_process(16);
        let mut rx = bus.subscribe();
        bus.publish(Event {
            tenant_id: 7,
            seq: 1,
            at: Utc::now(),
            kind: EventKind::DirectoryChanged {
                entity: DirectoryEntity::User,
                id: 3,
                action: ChangeAction::Created,
            },
        });
        let e = rx.recv().await.expect("event");
        assert_eq!(e.tenant_id, 7);
        assert!(matches!(e.kind, EventKind::DirectoryChanged { id: 3, .. }));
    }

    #[test]
    fn kinds_round_trip_through_json() {
        let k = EventKind::MessageAdded {
            message_id: 5,
            conversation_id: 2,
        };
        let v = serde_json::to_value(&k).expect("json");
        assert_eq!(v["type"], "message_added");
        assert_eq!(serde_json::from_value::<EventKind>(v).expect("back"), k);
    }
}
