//! Signing in: `login`, `acceptInvite`, `changePassword`.

use std::net::{IpAddr, Ipv4Addr};

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::guard::RoleGuard;
use super::types::User;
use super::{RequestMeta, identity, state};
use crate::auth::{Role, password};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::{crypto, store};

/// A login token and the user it is for.
#[derive(SimpleObject)]
pub struct LoginPayload {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(Default)]
pub struct AuthMutation;

async fn verify_password(pw: String, hash: Option<String>) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => password::verify(&pw, &h),
        None => {
            // Same work as a real check, so unknown accounts are not faster.
            let _ = password::verify(&pw, password::dummy_hash());
            false
        }
    })
    .await
    .map_err(ApiError::internal)
}

pub(crate) async fn hash_password(pw: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

fn issue(st: &AppState, user: entity::users::Model) -> ApiResult<LoginPayload> {
    let (token, expires_at) = st
        .tokens
        .issue(user.id, user.tenant_id)
        .map_err(ApiError::internal)?;
    Ok(LoginPayload {
        token,
        expires_at,
        user: User(user),
    })
}

#[Object]
impl AuthMutation {
    /// Exchanges email and password for a login token. Rate-limited per client
    /// IP and per account (`RATE_LIMITED` with `retryAfterSeconds`).
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> ApiResult<LoginPayload> {
        let st = state(ctx)?;
        let ip = ctx
            .data_opt::<RequestMeta>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |m| m.ip);
        if let Err(wait) = st.login_limiter.check(ip, &email) {
            st.metrics
                .login_attempts
                .with_label_values(&["rate_limited"])
                .inc();
            return Err(ApiError::RateLimited {
                retry_after_seconds: wait.as_secs().max(1),
            });
        }
        let user = store::users::find_by_email(&st.db, &email).await?;
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let ok = verify_password(password, hash).await?;
        let user = match user {
            Some(u) if ok && !u.disabled => u,
            _ => {
                st.metrics
                    .login_attempts
                    .with_label_values(&["failed"])
                    .inc();
                return Err(ApiError::BadCredentials("invalid email or password".into()));
            }
        };
        store::users::touch_login(&st.db, user.id).await?;
        st.metrics.login_attempts.with_label_values(&["ok"]).inc();
        tracing::info!(user_id = user.id, tenant_id = user.tenant_id, "login");
        issue(st, user)
    }

    /// Sets the password of an invited user and signs them in.
    async fn accept_invite(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> ApiResult<LoginPayload> {
        let st = state(ctx)?;
        password::check_policy(&password, st.settings.auth.min_password_length)
            .map_err(ApiError::BadInput)?;
        let user = store::users::find_by_invite(&st.db, &crypto::sha256_hex(token.trim()))
            .await?
            .ok_or_else(|| ApiError::BadInput("the invitation is invalid or has expired".into()))?;
        let hash = hash_password(password).await?;
        let user = store::users::set_password(&st.db, user, hash).await?;
        store::users::touch_login(&st.db, user.id).await?;
        issue(st, user)
    }

    /// Changes the signed-in user's password.
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> ApiResult<bool> {
        let st = state(ctx)?;
        let me = identity(ctx)?;
        let uid = me
            .user_id
            .ok_or_else(|| ApiError::Forbidden("API keys have no password".into()))?;
        password::check_policy(&new_password, st.settings.auth.min_password_length)
            .map_err(ApiError::BadInput)?;
        let user = store::users::get(&st.db, me.tenant_id, uid).await?;
        if !verify_password(current_password, user.password_hash.clone()).await? {
            return Err(ApiError::BadInput("the current password is wrong".into()));
        }
        let hash = hash_password(new_password).await?;
        store::users::set_password(&st.db, user, hash).await?;
        Ok(true)
    }
}
