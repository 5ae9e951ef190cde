//! Agent presence: whether an agent takes conversations now, and how many at
//! once. Routing (a later issue) reads it; every change is an
//! `AgentPresenceChanged` event.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::agent_presence;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, EntityName};

use super::guard::RoleGuard;
use super::{identity, state};
use crate::auth::Role;
use crate::bus::EventKind;
use crate::error::{ApiError, ApiResult};

/// An agent's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PresenceStatus {
    /// Takes new conversations.
    Online,
    /// Keeps their conversations, takes no new ones.
    Away,
    /// Not working.
    Offline,
}

impl PresenceStatus {
    /// The stored form back (anything unknown reads as offline).
    pub fn parse(s: &str) -> Self {
        match s {
            "online" => PresenceStatus::Online,
            "away" => PresenceStatus::Away,
            _ => PresenceStatus::Offline,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PresenceStatus::Online => "online",
            PresenceStatus::Away => "away",
            PresenceStatus::Offline => "offline",
        }
    }
}

/// The caller's presence as stored.
#[derive(SimpleObject)]
pub struct Presence {
    pub status: PresenceStatus,
    /// Conversations the agent takes at once.
    pub capacity: i32,
    pub updated_at: DateTime<Utc>,
}

/// Highest capacity an agent may set.
pub const MAX_CAPACITY: i32 = 100;

#[derive(Default)]
pub struct PresenceMutation;

#[Object]
impl PresenceMutation {
    /// Sets the caller's presence (and, optionally, how many conversations
    /// they take at once: 0 to 100, default 5 the first time). Only users
    /// have a presence, not API keys.
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn set_presence(
        &self,
        ctx: &Context<'_>,
        status: PresenceStatus,
        capacity: Option<i32>,
    ) -> ApiResult<Presence> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let user_id = me
            .user_id
            .ok_or_else(|| ApiError::BadInput("API keys have no presence".into()))?;
        if let Some(c) = capacity
            && !(0..=MAX_CAPACITY).contains(&c)
        {
            return Err(ApiError::BadInput(format!(
                "capacity must be between 0 and {MAX_CAPACITY}"
            )));
        }
        let now = crate::store::now();
        let mut on_conflict = OnConflict::column(agent_presence::Column::UserId);
        on_conflict.update_columns([
            agent_presence::Column::Status,
            agent_presence::Column::UpdatedAt,
        ]);
        if capacity.is_some() {
            on_conflict.update_column(agent_presence::Column::Capacity);
        }
        let mut q = Query::insert();
        q.into_table(agent_presence::Entity.table_ref())
            .columns([
                agent_presence::Column::TenantId,
                agent_presence::Column::UserId,
                agent_presence::Column::Status,
                agent_presence::Column::Capacity,
                agent_presence::Column::UpdatedAt,
            ])
            .values([
                me.tenant_id.into(),
                user_id.into(),
                status.as_str().into(),
                capacity
                    .unwrap_or(crate::store::board::DEFAULT_CAPACITY)
                    .into(),
                now.into(),
            ])
            .map_err(ApiError::internal)?
            .on_conflict(on_conflict)
            .returning(Query::returning().columns([sea_orm::sea_query::Alias::new("capacity")]));
        let row = st
            .db
            .query_one(&q)
            .await?
            .ok_or_else(|| ApiError::internal("presence upsert returned nothing"))?;
        let stored: i32 = row.try_get("", "capacity")?;
        st.emit(
            me.tenant_id,
            EventKind::AgentPresenceChanged {
                user_id,
                status: status.as_str().into(),
                capacity: stored,
            },
        )
        .await;
        Ok(Presence {
            status,
            capacity: stored,
            updated_at: now,
        })
    }
}
