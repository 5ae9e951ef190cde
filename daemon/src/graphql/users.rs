//! Users: list, invite, change role, disable.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use base64::Engine;
use rand::RngCore;

use super::guard::RoleGuard;
use super::pagination::{self, IdCursor};
use super::types::User;
use super::{Change, commit_change, identity, parse_id, state};
use crate::auth::Role;
use crate::bus::{ChangeAction, DirectoryEntity};
use crate::error::{ApiError, ApiResult};
use crate::store::users::{NewUser, UserFilter};
use crate::{crypto, store, validate};

/// Narrows `users`.
#[derive(InputObject, Default)]
pub struct UsersFilter {
    pub role: Option<Role>,
    /// Include disabled users (default false).
    #[graphql(default)]
    pub include_disabled: bool,
    /// Case-insensitive part of the email or name.
    pub search: Option<String>,
}

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// Users of the tenant, by creation.
    #[graphql(guard = "RoleGuard::read(Role::Manager)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        filter: Option<UsersFilter>,
    ) -> ApiResult<Connection<IdCursor, User>> {
        let me = identity(ctx)?;
        let (after, limit) = pagination::args(ctx, first, after)?;
        let f = filter.unwrap_or_default();
        let filter = UserFilter {
            role: f.role,
            include_disabled: f.include_disabled,
            search: f.search,
        };
        let page = store::users::list(&state(ctx)?.db, me.tenant_id, &filter, after, limit).await?;
        Ok(pagination::connection(page, after, |u| u.id, User))
    }

    /// One user of the tenant.
    #[graphql(guard = "RoleGuard::read(Role::Manager)")]
    async fn user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let me = identity(ctx)?;
        let id = parse_id(&id, "user")?;
        Ok(User(
            store::users::get(&state(ctx)?.db, me.tenant_id, id).await?,
        ))
    }
}

/// A user to invite.
#[derive(InputObject)]
pub struct InviteUserInput {
    pub email: String,
    #[graphql(default)]
    pub name: String,
    pub role: Role,
}

/// The invited user and the one-time invitation token (for `acceptInvite`).
#[derive(SimpleObject)]
pub struct InviteUserPayload {
    pub user: User,
    /// Shown once; deliver it to the invitee. Valid for `auth.invite_expiry_hours`.
    pub invite_token: String,
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// Invites a user into the tenant.
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn invite_user(
        &self,
        ctx: &Context<'_>,
        input: InviteUserInput,
    ) -> ApiResult<InviteUserPayload> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let email = validate::email(&input.email).map_err(ApiError::BadInput)?;
        let name = if input.name.trim().is_empty() {
            String::new()
        } else {
            validate::text("name", &input.name, 100).map_err(ApiError::BadInput)?
        };
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let expires = chrono::Utc::now()
            + chrono::Duration::hours(i64::from(st.settings.auth.invite_expiry_hours));
        let user = store::users::create(
            &txn,
            NewUser {
                tenant_id: me.tenant_id,
                email,
                name,
                role: input.role,
                password_hash: None,
                invite_token_hash: Some(crypto::sha256_hex(&token)),
                invite_expires_at: Some(expires),
            },
        )
        .await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "user.invite",
                entity: DirectoryEntity::User,
                id: user.id,
                kind: ChangeAction::Created,
                details: serde_json::json!({"role": input.role.as_str()}),
            },
        )
        .await?;
        Ok(InviteUserPayload {
            user: User(user),
            invite_token: token,
        })
    }

    /// Changes a user's role (the last active admin cannot be demoted).
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn change_user_role(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        role: Role,
    ) -> ApiResult<User> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let id = parse_id(&user_id, "user")?;
        let user = store::users::set_role(&txn, me.tenant_id, id, role).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "user.change_role",
                entity: DirectoryEntity::User,
                id,
                kind: ChangeAction::Updated,
                details: serde_json::json!({"role": role.as_str()}),
            },
        )
        .await?;
        Ok(User(user))
    }

    /// Disables a user: they cannot sign in and their tokens stop working.
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn disable_user(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<User> {
        let me = identity(ctx)?;
        let id = parse_id(&user_id, "user")?;
        if me.user_id == Some(id) {
            return Err(ApiError::BadInput("you cannot disable yourself".into()));
        }
        set_disabled(ctx, id, true).await
    }

    /// Re-enables a disabled user.
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn enable_user(&self, ctx: &Context<'_>, user_id: ID) -> ApiResult<User> {
        let id = parse_id(&user_id, "user")?;
        set_disabled(ctx, id, false).await
    }
}

async fn set_disabled(ctx: &Context<'_>, id: i64, disabled: bool) -> ApiResult<User> {
    let me = identity(ctx)?;
    let st = state(ctx)?;
    let txn = crate::store::begin_write(&st.db).await?;
    let user = store::users::set_disabled(&txn, me.tenant_id, id, disabled).await?;
    let action = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    commit_change(
        ctx,
        txn,
        Change {
            action,
            entity: DirectoryEntity::User,
            id,
            kind: ChangeAction::Updated,
            details: serde_json::json!({}),
        },
    )
    .await?;
    Ok(User(user))
}
