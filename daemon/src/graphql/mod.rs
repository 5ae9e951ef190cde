//! The GraphQL API: one module per area, merged into the roots here. Types in
//! this folder know nothing of actix; `http` feeds them requests.

mod api_keys;
mod auth;
mod conversations;
mod departments;
mod error_codes;
pub mod guard;
mod limits;
mod loaders;
mod messages;
mod numbers;
mod pagination;
mod presence;
mod queues;
mod subscription;
mod tenant;
mod types;
mod users;

use async_graphql::{Context, ID, MergedObject, Schema};

use crate::auth::Identity;
use crate::config::GraphqlSettings;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub(crate) use messages::may_see;
pub use subscription::SubscriptionRoot;

/// Queries.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    tenant::TenantQuery,
    users::UserQuery,
    departments::DepartmentQuery,
    numbers::NumberQuery,
    api_keys::ApiKeyQuery,
    messages::MessageQuery,
    queues::QueueQuery,
);

/// Mutations.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    auth::AuthMutation,
    tenant::TenantMutation,
    users::UserMutation,
    departments::DepartmentMutation,
    numbers::NumberMutation,
    api_keys::ApiKeyMutation,
    messages::MessageMutation,
    conversations::ConversationMutation,
    presence::PresenceMutation,
);

/// The executable schema.
pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Per-request facts about the HTTP caller.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub ip: std::net::IpAddr,
}

/// Builds the schema with its limits; `state` is absent only for SDL export.
pub fn build(limits: &GraphqlSettings, state: Option<AppState>) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .extension(limits::AliasLimit::new(limits.max_aliases))
    .extension(error_codes::ErrorCodes)
    .data(pagination::PageLimit(limits.max_page_size));
    if let Some(s) = state {
        builder = builder
            .data(async_graphql::dataloader::DataLoader::new(
                loaders::ContactLoader(s.db.clone()),
                tokio::spawn,
            ))
            .data(s);
    }
    builder.finish()
}

/// The SDL of the schema, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    build(&GraphqlSettings::default(), None).sdl()
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> ApiResult<&'a AppState> {
    ctx.data::<AppState>()
        .map_err(|_| ApiError::internal("AppState missing from schema data"))
}

pub(crate) fn identity<'a>(ctx: &Context<'a>) -> ApiResult<&'a Identity> {
    ctx.data_opt::<Identity>().ok_or(ApiError::Unauthenticated)
}

pub(crate) fn client_ip(ctx: &Context<'_>) -> Option<String> {
    ctx.data_opt::<RequestMeta>().map(|m| m.ip.to_string())
}

/// An audited directory change, finished by [`commit_change`].
pub(crate) struct Change {
    /// Audit action, e.g. `department.create`.
    pub action: &'static str,
    pub entity: crate::bus::DirectoryEntity,
    pub id: i64,
    pub kind: crate::bus::ChangeAction,
    /// Audit details.
    pub details: serde_json::Value,
}

/// Finishes an admin mutation: writes its audit row in the same transaction,
/// commits, then logs and publishes the `DirectoryChanged` event.
pub(crate) async fn commit_change(
    ctx: &Context<'_>,
    txn: sea_orm::DatabaseTransaction,
    c: Change,
) -> ApiResult<()> {
    use crate::bus::DirectoryEntity as E;
    let me = identity(ctx)?;
    let target = match c.entity {
        E::User => "user",
        E::Department => "department",
        E::WhatsAppNumber => "whatsapp_number",
        E::ApiKey => "api_key",
        E::Tenant => "tenant",
    };
    crate::store::audit::record(
        &txn,
        me,
        c.action,
        target,
        Some(c.id),
        c.details,
        client_ip(ctx),
    )
    .await?;
    txn.commit().await?;
    state(ctx)?
        .emit(
            me.tenant_id,
            crate::bus::EventKind::DirectoryChanged {
                entity: c.entity,
                id: c.id,
                action: c.kind,
            },
        )
        .await;
    Ok(())
}

/// Parses a GraphQL `ID` into a row id.
pub(crate) fn parse_id(id: &ID, what: &'static str) -> ApiResult<i64> {
    id.parse::<i64>()
        .ok()
        .filter(|v| *v > 0)
        .ok_or(ApiError::NotFound(what))
}
