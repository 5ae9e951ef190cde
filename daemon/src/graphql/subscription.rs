//! Subscriptions: events of the caller's tenant, filtered by what the role may see.

use async_graphql::{Context, ID, Object, Subscription, Union};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::broadcast::error::RecvError;

use super::guard::RoleGuard;
use super::{identity, state};
use crate::auth::{Identity, Role};
use crate::bus::{ChangeAction, DirectoryEntity, Event as BusEvent, EventKind};
use crate::error::ApiError;

/// A user, department, number, API key or the tenant changed. Refetch it by id.
pub struct DirectoryChanged {
    entity: DirectoryEntity,
    id: i64,
    action: ChangeAction,
    at: DateTime<Utc>,
}

#[Object]
impl DirectoryChanged {
    async fn entity(&self) -> DirectoryEntity {
        self.entity
    }
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    async fn action(&self) -> ChangeAction {
        self.action
    }
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// Every event type a subscriber can receive.
#[derive(Union)]
pub enum Event {
    DirectoryChanged(DirectoryChanged),
}

/// Whether `who` may see `event`.
fn visible(who: &Identity, event: &BusEvent) -> bool {
    if event.tenant_id != who.tenant_id {
        return false;
    }
    match &event.kind {
        EventKind::DirectoryChanged { entity, id, .. } => {
            who.has_role(Role::Manager)
                || (*entity == DirectoryEntity::User && who.user_id == Some(*id))
                || *entity == DirectoryEntity::Tenant
        }
    }
}

fn to_graphql(event: &BusEvent) -> Event {
    match &event.kind {
        EventKind::DirectoryChanged { entity, id, action } => {
            Event::DirectoryChanged(DirectoryChanged {
                entity: *entity,
                id: *id,
                action: *action,
                at: event.at,
            })
        }
    }
}

/// Keeps the open-subscriptions gauge right when a stream is dropped.
struct GaugeGuard(prometheus::IntGauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Live events of the caller's tenant (agents: changes to themselves and
    /// the tenant; managers and admins: every directory change).
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Event> + use<>, ApiError> {
        let who = identity(ctx)?.clone();
        let st = state(ctx)?;
        let rx = st.bus.subscribe();
        st.metrics.subscriptions_open.inc();
        let guard = GaugeGuard(st.metrics.subscriptions_open.clone());
        Ok(futures_util::stream::unfold(
            (rx, who, guard),
            |(mut rx, who, guard)| async move {
                loop {
                    match rx.recv().await {
                        Ok(ev) if visible(&who, &ev) => {
                            return Some((to_graphql(&ev), (rx, who, guard)));
                        }
                        Ok(_) => {}
                        Err(RecvError::Lagged(missed)) => {
                            tracing::warn!(
                                missed,
                                tenant_id = who.tenant_id,
                                "subscriber fell behind; closing its stream"
                            );
                            return None;
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }
}
