//! The event bus: every state change is published here and GraphQL
//! subscriptions read from it, filtered by tenant and role. In-process
//! (tokio broadcast) today; the Redis implementation shares this interface.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

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
}

impl EventKind {
    /// The stored `event_log.kind`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::DirectoryChanged { .. } => "directory_changed",
            EventKind::ConversationOpened { .. } => "conversation_opened",
            EventKind::MessageAdded { .. } => "message_added",
        }
    }
}

/// One event of one tenant. `seq` increases by one per tenant, in commit
/// order; a subscriber resumes after the last `seq` it saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub tenant_id: i64,
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
}

/// Publishes events to every subscriber of this daemon.
#[derive(Clone, Debug)]
pub struct Bus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl Bus {
    /// A bus whose subscribers may fall `capacity` events behind before they lag.
    pub fn in_process(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        Self { tx }
    }

    /// Publishes an event; having no subscriber is not an error.
    pub fn publish(&self, event: Event) {
        let _ = self.tx.send(Arc::new(event));
    }

    /// A new subscription receiving events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
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
