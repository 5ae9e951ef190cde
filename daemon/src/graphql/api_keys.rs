//! API keys for integrators: created by an admin, shown once, stored hashed.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use super::guard::RoleGuard;
use super::pagination::{self, IdCursor};
use super::types::ApiKey;
use super::{Change, commit_change, identity, parse_id, state};
use crate::auth::{Role, Scope, api_key};
use crate::bus::{ChangeAction, DirectoryEntity};
use crate::error::{ApiError, ApiResult};
use crate::store::api_keys::NewKey;
use crate::{store, validate};

#[derive(Default)]
pub struct ApiKeyQuery;

#[Object]
impl ApiKeyQuery {
    /// The tenant's API keys, revoked ones included.
    #[graphql(guard = "RoleGuard::read(Role::Admin)")]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<IdCursor, ApiKey>> {
        let me = identity(ctx)?;
        let (after, limit) = pagination::args(ctx, first, after)?;
        let page = store::api_keys::list(&state(ctx)?.db, me.tenant_id, after, limit).await?;
        Ok(pagination::connection(page, after, |k| k.id, ApiKey))
    }
}

/// A key to create.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    pub name: String,
    /// The role the key acts with (at most the creator's).
    pub role: Role,
    /// `READ` for queries and subscriptions, `WRITE` for mutations.
    pub scopes: Vec<Scope>,
}

/// The new key; `secret` is shown only here.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    pub api_key: ApiKey,
    /// Send as `Authorization: Bearer <secret>`. Not retrievable later.
    pub secret: String,
}

#[derive(Default)]
pub struct ApiKeyMutation;

#[Object]
impl ApiKeyMutation {
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> ApiResult<CreateApiKeyPayload> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let name = validate::text("name", &input.name, 100).map_err(ApiError::BadInput)?;
        if input.scopes.is_empty() {
            return Err(ApiError::BadInput(
                "scopes must name READ and/or WRITE".into(),
            ));
        }
        if input.role > me.role {
            return Err(ApiError::Forbidden(
                "a key cannot have a higher role than its creator".into(),
            ));
        }
        let mut scopes = input.scopes;
        scopes.sort_by_key(|s| *s as u8);
        scopes.dedup();
        let generated = api_key::generate();
        let key = store::api_keys::create(
            &txn,
            NewKey {
                tenant_id: me.tenant_id,
                name,
                prefix: generated.prefix,
                key_hash: generated.hash,
                role: input.role,
                scopes,
                created_by: me.user_id,
            },
        )
        .await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "api_key.create",
                entity: DirectoryEntity::ApiKey,
                id: key.id,
                kind: ChangeAction::Created,
                details: serde_json::json!({"role": input.role.as_str()}),
            },
        )
        .await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKey(key),
            secret: generated.secret,
        })
    }

    /// Revokes a key; it stops working at once.
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn revoke_api_key(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ApiKey> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let id = parse_id(&id, "API key")?;
        let key = store::api_keys::revoke(&txn, me.tenant_id, id).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "api_key.revoke",
                entity: DirectoryEntity::ApiKey,
                id,
                kind: ChangeAction::Updated,
                details: serde_json::json!({}),
            },
        )
        .await?;
        Ok(ApiKey(key))
    }
}
