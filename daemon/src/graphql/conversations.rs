//! Conversation lifecycle mutations. Each goes through the conversation's
//! actor, so it is ordered with the customer's messages and the timers; the
//! change, its transition row and its event commit together.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};
use entity::contacts;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::guard::RoleGuard;
use super::messages::{Conversation, visible_conversation};
use super::{identity, parse_id, state};
use crate::actors::ConvKey;
use crate::actors::lifecycle::Command;
use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::store;

#[derive(Default)]
pub struct ConversationMutation;

async fn run(ctx: &Context<'_>, id: &ID, command: Command) -> ApiResult<Conversation> {
    let me = identity(ctx)?;
    let st = state(ctx)?;
    let conv = visible_conversation(ctx, me, id).await?;
    let contact = contacts::Entity::find_by_id(conv.contact_id)
        .filter(contacts::Column::TenantId.eq(me.tenant_id))
        .one(&st.db)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    let key = ConvKey {
        tenant_id: me.tenant_id,
        number_id: conv.whatsapp_number_id,
        wa_id: contact.wa_id,
    };
    Ok(Conversation(
        st.actors.command(key, conv.id, command, me.user_id).await?,
    ))
}

#[Object]
impl ConversationMutation {
    /// Gives the conversation to an agent of the tenant (or moves it to
    /// another). Managers assign anyone; agents may only take a conversation
    /// they can see for themselves.
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn assign_conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        user_id: ID,
    ) -> ApiResult<Conversation> {
        let me = identity(ctx)?;
        let user = parse_id(&user_id, "user")?;
        if !me.has_role(Role::Manager) && me.user_id != Some(user) {
            return Err(ApiError::Forbidden(
                "agents can only assign conversations to themselves".into(),
            ));
        }
        let agent = store::users::get(&state(ctx)?.db, me.tenant_id, user).await?;
        if agent.disabled {
            return Err(ApiError::BadInput("that user is disabled".into()));
        }
        run(ctx, &id, Command::Assign { user_id: agent.id }).await
    }

    /// Takes the conversation from its agent and puts it back in the queue.
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn unassign_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        run(ctx, &id, Command::Unassign).await
    }

    /// Resolves the conversation. A message from the customer within
    /// `conversations.reopen_window_minutes` reopens it.
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn resolve_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        run(ctx, &id, Command::Resolve).await
    }

    /// Puts the conversation aside until `until` (or the customer's next message).
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn snooze_conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        until: DateTime<Utc>,
    ) -> ApiResult<Conversation> {
        run(ctx, &id, Command::Snooze { until }).await
    }

    /// Opens a resolved conversation again (back to its agent, or the queue).
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn reopen_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        run(ctx, &id, Command::Reopen).await
    }

    /// The bot hands the conversation over to the human queue.
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn hand_off_conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        run(ctx, &id, Command::Handoff).await
    }
}
