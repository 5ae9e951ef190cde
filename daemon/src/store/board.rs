//! What a tenant actor loads: the conversations that wait or are held by an
//! agent (with when they last entered the queue), and the agent roster.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{agent_presence, conversations, department_members, users};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityName, EntityTrait, QueryFilter};

use crate::actors::board::{AgentState, ConvState};

/// Capacity of an agent who never set one (as `setPresence` assumes).
pub const DEFAULT_CAPACITY: i32 = 5;

/// When a conversation last entered the queue: its latest transition to `queued`.
const QUEUED_AT: &str = "(SELECT MAX(t.created_at) FROM conversation_transitions t \
     WHERE t.tenant_id = conversations.tenant_id AND t.conversation_id = conversations.id \
     AND t.to_status = 'queued')";

/// `tenant_id`'s conversations by id (`ids`), or all that are queued or
/// assigned (`None`). Ids of other tenants or of deleted rows are left out.
pub async fn conversations(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    ids: Option<&[i64]>,
) -> Result<Vec<ConvState>, DbErr> {
    let base = || {
        let mut q = Query::select();
        q.columns([
            conversations::Column::Id,
            conversations::Column::Status,
            conversations::Column::DepartmentId,
            conversations::Column::AssigneeId,
            conversations::Column::Priority,
        ])
        .expr_as(Expr::cust(QUEUED_AT), Alias::new("queued_at"))
        .from(conversations::Entity.table_ref())
        .and_where(Expr::col(conversations::Column::TenantId).eq(tenant_id));
        q
    };
    let mut queries = Vec::new();
    match ids {
        None => {
            let mut q = base();
            q.and_where(Expr::col(conversations::Column::Status).is_in(["queued", "assigned"]));
            queries.push(q);
        }
        Some(ids) => {
            for chunk in ids.chunks(500) {
                let mut q = base();
                q.and_where(Expr::col(conversations::Column::Id).is_in(chunk.iter().copied()));
                queries.push(q);
            }
        }
    }
    let mut out = Vec::new();
    for q in queries {
        for row in db.query_all(&q).await? {
            out.push(ConvState {
                id: row.try_get("", "id")?,
                status: row.try_get("", "status")?,
                department_id: row.try_get("", "department_id")?,
                assignee_id: row.try_get("", "assignee_id")?,
                priority: row.try_get("", "priority")?,
                queued_at: row.try_get::<Option<DateTime<Utc>>>("", "queued_at")?,
            });
        }
    }
    Ok(out)
}

/// The roster: every enabled user of the tenant (or only those of `ids`),
/// with presence (offline when never set), capacity and departments.
pub async fn agents(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    ids: Option<&[i64]>,
) -> Result<Vec<AgentState>, DbErr> {
    let mut q = users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .filter(users::Column::Disabled.eq(false));
    let mut p =
        agent_presence::Entity::find().filter(agent_presence::Column::TenantId.eq(tenant_id));
    let mut m = department_members::Entity::find()
        .filter(department_members::Column::TenantId.eq(tenant_id));
    if let Some(ids) = ids {
        q = q.filter(users::Column::Id.is_in(ids.iter().copied()));
        p = p.filter(agent_presence::Column::UserId.is_in(ids.iter().copied()));
        m = m.filter(department_members::Column::UserId.is_in(ids.iter().copied()));
    }
    let users = q.all(db).await?;
    let presence: HashMap<i64, agent_presence::Model> = p
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.user_id, r))
        .collect();
    let mut departments: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in m.all(db).await? {
        departments
            .entry(r.user_id)
            .or_default()
            .push(r.department_id);
    }
    Ok(users
        .into_iter()
        .map(|u| {
            let p = presence.get(&u.id);
            let mut deps = departments.remove(&u.id).unwrap_or_default();
            deps.sort_unstable();
            AgentState {
                user_id: u.id,
                presence: p.map_or_else(|| "offline".to_owned(), |p| p.status.clone()),
                capacity: p.map_or(DEFAULT_CAPACITY, |p| p.capacity),
                departments: deps,
            }
        })
        .collect())
}
