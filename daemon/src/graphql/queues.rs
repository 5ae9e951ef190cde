//! Queues and the agent roster, answered from the tenant actor's memory:
//! who waits in which department's queue and at what position, and which
//! agents are online with how many conversations and free slots.

use std::collections::HashMap;

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{conversations, users};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::guard::RoleGuard;
use super::messages::Conversation;
use super::presence::PresenceStatus;
use super::types::User;
use super::{identity, may_see, parse_id, state};
use crate::actors::board::{AgentLoad, QueueSummary};
use crate::actors::tenant::{QueueOf, Queues, Roster};
use crate::auth::{Identity, Role};
use crate::error::{ApiError, ApiResult};

/// Entries `queue` returns without `first`.
const DEFAULT_QUEUE_PAGE: i32 = 50;
/// Most entries `queue(first:)` returns.
const MAX_QUEUE_PAGE: i32 = 500;

/// The size of one department's waiting queue.
#[derive(SimpleObject)]
pub struct DepartmentQueue {
    /// Null: conversations not routed to a department yet.
    pub department_id: Option<ID>,
    /// Conversations waiting.
    pub waiting: i32,
    /// When the longest-waiting conversation entered the queue.
    pub oldest_queued_at: Option<DateTime<Utc>>,
}

impl From<QueueSummary> for DepartmentQueue {
    fn from(s: QueueSummary) -> Self {
        Self {
            department_id: s.department_id.map(|d| ID(d.to_string())),
            waiting: i32::try_from(s.waiting).unwrap_or(i32::MAX),
            oldest_queued_at: s.oldest_queued_at,
        }
    }
}

/// A waiting conversation and its place in the queue.
#[derive(SimpleObject)]
pub struct QueueEntry {
    /// 1 for the next to be served (higher priority first, then first come).
    pub position: i32,
    pub priority: i32,
    /// When it entered the queue.
    pub queued_at: DateTime<Utc>,
    pub conversation: Conversation,
}

/// The head of one department's queue.
#[derive(SimpleObject)]
pub struct QueuePage {
    /// Conversations waiting in all.
    pub total: i32,
    /// The first `first` in serving order.
    pub entries: Vec<QueueEntry>,
}

/// An agent's presence and load.
#[derive(SimpleObject)]
pub struct RosterEntry {
    pub user: User,
    pub presence: PresenceStatus,
    /// Conversations the agent takes at once.
    pub capacity: i32,
    /// Conversations assigned to the agent now.
    pub active_conversations: i32,
    /// More conversations the agent could take now (0 unless online).
    pub free_slots: i32,
    pub department_ids: Vec<ID>,
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Departments whose queues the caller may see (`None`: all of them).
fn visible_departments(me: &Identity) -> Option<&[i64]> {
    if me.has_role(Role::Manager) {
        None
    } else {
        Some(&me.departments)
    }
}

#[derive(Default)]
pub struct QueueQuery;

#[Object]
impl QueueQuery {
    /// Every non-empty waiting queue (agents: of their departments), with
    /// its size and oldest wait. Live from the tenant's actor; subscribe to
    /// `queueUpdated` to know when to ask again.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn queues(&self, ctx: &Context<'_>) -> ApiResult<Vec<DepartmentQueue>> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let all = st.actors.ask(me.tenant_id, Queues).await?;
        let only = visible_departments(me);
        Ok(all
            .into_iter()
            .filter(|q| only.is_none_or(|d| q.department_id.is_some_and(|id| d.contains(&id))))
            .map(DepartmentQueue::from)
            .collect())
    }

    /// The head of one department's waiting queue (`departmentId` omitted:
    /// conversations not routed yet, managers only), in serving order.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn queue(
        &self,
        ctx: &Context<'_>,
        department_id: Option<ID>,
        first: Option<i32>,
    ) -> ApiResult<QueuePage> {
        let first = first.unwrap_or(DEFAULT_QUEUE_PAGE);
        let me = identity(ctx)?;
        let st = state(ctx)?;
        if !(1..=MAX_QUEUE_PAGE).contains(&first) {
            return Err(ApiError::BadInput(format!(
                "`first` must be between 1 and {MAX_QUEUE_PAGE}"
            )));
        }
        let department = match &department_id {
            Some(d) => {
                let id = parse_id(d, "department")?;
                // NOT_FOUND for a department of another tenant
                crate::store::departments::get(&st.db, me.tenant_id, id).await?;
                Some(id)
            }
            None => None,
        };
        if let Some(only) = visible_departments(me)
            && !department.is_some_and(|d| only.contains(&d))
        {
            return Err(ApiError::NotFound("department"));
        }
        let (total, waiting) = st
            .actors
            .ask(
                me.tenant_id,
                QueueOf {
                    department_id: department,
                    first: usize::try_from(first).unwrap_or(0),
                },
            )
            .await?;
        let ids: Vec<i64> = waiting.iter().map(|w| w.conversation_id).collect();
        let mut rows: HashMap<i64, conversations::Model> = conversations::Entity::find()
            .filter(conversations::Column::TenantId.eq(me.tenant_id))
            .filter(conversations::Column::Id.is_in(ids))
            .all(&st.db)
            .await?
            .into_iter()
            // the board follows the database a moment later: show only what
            // the caller may see and what still waits
            .filter(|c| may_see(me, c) && c.status == "queued")
            .map(|c| (c.id, c))
            .collect();
        Ok(QueuePage {
            total: to_i32(total),
            entries: waiting
                .into_iter()
                .filter_map(|w| {
                    Some(QueueEntry {
                        position: to_i32(w.position),
                        priority: w.priority,
                        queued_at: w.queued_at,
                        conversation: Conversation(rows.remove(&w.conversation_id)?),
                    })
                })
                .collect(),
        })
    }

    /// Every enabled user with presence, capacity and load (agents: the
    /// people of their departments). Live from the tenant's actor; subscribe
    /// to `events` (agentPresenceChanged, conversationAssigned) to follow it.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn agent_roster(&self, ctx: &Context<'_>) -> ApiResult<Vec<RosterEntry>> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let mut loads: Vec<AgentLoad> = st.actors.ask(me.tenant_id, Roster).await?;
        if let Some(only) = visible_departments(me) {
            loads.retain(|a| {
                Some(a.user_id) == me.user_id || a.departments.iter().any(|d| only.contains(d))
            });
        }
        let ids: Vec<i64> = loads.iter().map(|a| a.user_id).collect();
        let mut people: HashMap<i64, users::Model> = users::Entity::find()
            .filter(users::Column::TenantId.eq(me.tenant_id))
            .filter(users::Column::Id.is_in(ids))
            .all(&st.db)
            .await?
            .into_iter()
            .map(|u| (u.id, u))
            .collect();
        Ok(loads
            .into_iter()
            .filter_map(|a| {
                Some(RosterEntry {
                    user: User(people.remove(&a.user_id)?),
                    presence: PresenceStatus::parse(&a.presence),
                    capacity: a.capacity,
                    active_conversations: to_i32(a.active),
                    free_slots: to_i32(a.free),
                    department_ids: a.departments.iter().map(|d| ID(d.to_string())).collect(),
                })
            })
            .collect())
    }
}
