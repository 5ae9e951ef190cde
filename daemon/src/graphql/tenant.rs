//! `me`, the caller's tenant and its settings.

use async_graphql::{Context, InputObject, Json, Object};

use super::guard::RoleGuard;
use super::types::{Tenant, User};
use super::{Change, commit_change, identity, state};
use crate::auth::Role;
use crate::bus::{ChangeAction, DirectoryEntity};
use crate::error::{ApiError, ApiResult};
use crate::{store, validate};

#[derive(Default)]
pub struct TenantQuery;

#[Object]
impl TenantQuery {
    /// The signed-in user (API keys have no user: use `tenant`).
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let me = identity(ctx)?;
        let uid = me
            .user_id
            .ok_or_else(|| ApiError::Forbidden("API keys have no user; query `tenant`".into()))?;
        Ok(User(
            store::users::get(&state(ctx)?.db, me.tenant_id, uid).await?,
        ))
    }

    /// The caller's tenant.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<Tenant> {
        let me = identity(ctx)?;
        Ok(Tenant(
            store::tenants::get(&state(ctx)?.db, me.tenant_id).await?,
        ))
    }
}

/// Changes to the tenant; omitted fields keep their value.
#[derive(InputObject)]
pub struct UpdateTenantInput {
    pub name: Option<String>,
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub time_zone: Option<String>,
    /// Replaces the settings object (must be a JSON object, at most 64 KiB).
    pub settings: Option<Json<serde_json::Value>>,
}

#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Changes the tenant's name, time zone or settings.
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn update_tenant(
        &self,
        ctx: &Context<'_>,
        input: UpdateTenantInput,
    ) -> ApiResult<Tenant> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let name = input
            .name
            .map(|n| validate::text("name", &n, 100))
            .transpose()
            .map_err(ApiError::BadInput)?;
        let tz = input
            .time_zone
            .map(|t| validate::time_zone(&t))
            .transpose()
            .map_err(ApiError::BadInput)?;
        let settings = match input.settings {
            Some(Json(v)) if !v.is_object() => {
                return Err(ApiError::BadInput("settings must be a JSON object".into()));
            }
            Some(Json(v)) if v.to_string().len() > 64 * 1024 => {
                return Err(ApiError::BadInput("settings must be at most 64 KiB".into()));
            }
            Some(Json(v)) => Some(v),
            None => None,
        };
        let t = store::tenants::update(&txn, me.tenant_id, name, tz, settings).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "tenant.update",
                entity: DirectoryEntity::Tenant,
                id: t.id,
                kind: ChangeAction::Updated,
                details: serde_json::json!({}),
            },
        )
        .await?;
        Ok(Tenant(t))
    }
}
