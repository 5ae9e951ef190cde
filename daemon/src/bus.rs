//! The event bus: every state change is published here and GraphQL
//! subscriptions read from it, filtered by tenant and role. In-process
//! (tokio broadcast) today; the Redis implementation shares this interface.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

/// What kind of directory object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum DirectoryEntity {
    User,
    Department,
    WhatsAppNumber,
    ApiKey,
    Tenant,
}

/// How it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum ChangeAction {
    Created,
    Updated,
    Deleted,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A user, department, number, key or the tenant itself changed.
    DirectoryChanged {
        entity: DirectoryEntity,
        id: i64,
        action: ChangeAction,
    },
}

/// One event of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub tenant_id: i64,
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

    /// Shorthand for a directory change.
    pub fn directory(
        &self,
        tenant_id: i64,
        entity: DirectoryEntity,
        id: i64,
        action: ChangeAction,
    ) {
        self.publish(Event {
            tenant_id,
            at: Utc::now(),
            kind: EventKind::DirectoryChanged { entity, id, action },
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_published_events() {
        let bus = Bus::in_process(16);
        let mut rx = bus.subscribe();
        bus.directory(7, DirectoryEntity::User, 3, ChangeAction::Created);
        let e = rx.recv().await.expect("event");
        assert_eq!(e.tenant_id, 7);
        assert!(matches!(e.kind, EventKind::DirectoryChanged { id: 3, .. }));
    }
}
