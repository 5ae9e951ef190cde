//! Users of a tenant: admins, managers and agents.

use chrono::{DateTime, Utc};
use entity::users;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{Page, StoreError, now};
use crate::auth::Role;

/// Normalizes an email for storage and lookup (emails are unique installation-wide).
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A user to create: either with a password hash (bootstrap) or with an invitation.
pub struct NewUser {
    pub tenant_id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
    pub invite_token_hash: Option<String>,
    pub invite_expires_at: Option<DateTime<Utc>>,
}

/// Creates a user; the email must be unused across the installation.
pub async fn create(db: &impl ConnectionTrait, new: NewUser) -> Result<users::Model, StoreError> {
    let t = now();
    users::ActiveModel {
        tenant_id: Set(new.tenant_id),
        email: Set(normalize_email(&new.email)),
        name: Set(new.name.trim().to_string()),
        role: Set(new.role.as_str().to_string()),
        password_hash: Set(new.password_hash),
        disabled: Set(false),
        invite_token_hash: Set(new.invite_token_hash),
        invite_expires_at: Set(new.invite_expires_at),
        last_login_at: Set(None),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::on_unique(e, "that email is already in use"))
}

/// Finds a user by email across tenants (login).
pub async fn find_by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<users::Model>, StoreError> {
    Ok(users::Entity::find()
        .filter(users::Column::Email.eq(normalize_email(email)))
        .one(db)
        .await?)
}

/// Loads a user by id without tenant scope (token resolution only; the caller
/// compares the tenant with the token's).
pub async fn find_by_id(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<users::Model>, StoreError> {
    Ok(users::Entity::find_by_id(id).one(db).await?)
}

/// Loads a user of the tenant.
pub async fn get(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
) -> Result<users::Model, StoreError> {
    users::Entity::find_by_id(id)
        .filter(users::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("user"))
}

/// Filter of [`list`].
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub include_disabled: bool,
    /// Case-insensitive substring of email or name.
    pub search: Option<String>,
}

/// Lists users of the tenant by id, after `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    filter: &UserFilter,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<users::Model>, StoreError> {
    let mut q = users::Entity::find().filter(users::Column::TenantId.eq(tenant_id));
    if let Some(role) = filter.role {
        q = q.filter(users::Column::Role.eq(role.as_str()));
    }
    if !filter.include_disabled {
        q = q.filter(users::Column::Disabled.eq(false));
    }
    if let Some(s) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let pattern = format!("%{}%", s.to_lowercase().replace(['%', '_'], ""));
        q = q.filter(
            Condition::any()
                .add(users::Column::Email.like(pattern.clone()))
                .add(Func::lower(Expr::col(users::Column::Name)).like(pattern)),
        );
    }
    if let Some(a) = after {
        q = q.filter(users::Column::Id.gt(a));
    }
    let rows = q
        .order_by_asc(users::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_overfetch(rows, limit))
}

/// Active (not disabled) admins of the tenant.
pub async fn count_active_admins(
    db: &impl ConnectionTrait,
    tenant_id: i64,
) -> Result<u64, StoreError> {
    Ok(users::Entity::find()
        .filter(users::Column::TenantId.eq(tenant_id))
        .filter(users::Column::Role.eq(Role::Admin.as_str()))
        .filter(users::Column::Disabled.eq(false))
        .count(db)
        .await?)
}

async fn ensure_not_last_admin(
    db: &impl ConnectionTrait,
    user: &users::Model,
) -> Result<(), StoreError> {
    if user.role == Role::Admin.as_str()
        && !user.disabled
        && count_active_admins(db, user.tenant_id).await? <= 1
    {
        return Err(StoreError::Rejected(
            "the tenant must keep at least one active admin".into(),
        ));
    }
    Ok(())
}

/// Changes a user's role; the last active admin cannot be demoted.
pub async fn set_role(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
    role: Role,
) -> Result<users::Model, StoreError> {
    let user = get(db, tenant_id, id).await?;
    if user.role == role.as_str() {
        return Ok(user);
    }
    ensure_not_last_admin(db, &user).await?;
    let mut am: users::ActiveModel = user.into();
    am.role = Set(role.as_str().to_string());
    am.updated_at = Set(now());
    Ok(am.update(db).await?)
}

/// Disables or re-enables a user; the last active admin cannot be disabled.
pub async fn set_disabled(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
    disabled: bool,
) -> Result<users::Model, StoreError> {
    let user = get(db, tenant_id, id).await?;
    if user.disabled == disabled {
        return Ok(user);
    }
    if disabled {
        ensure_not_last_admin(db, &user).await?;
    }
    let mut am: users::ActiveModel = user.into();
    am.disabled = Set(disabled);
    am.updated_at = Set(now());
    Ok(am.update(db).await?)
}

/// Finds the user holding a valid (unexpired) invitation.
pub async fn find_by_invite(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<Option<users::Model>, StoreError> {
    let user = users::Entity::find()
        .filter(users::Column::InviteTokenHash.eq(token_hash))
        .one(db)
        .await?;
    Ok(user.filter(|u| u.invite_expires_at.is_some_and(|exp| exp > Utc::now()) && !u.disabled))
}

/// Sets a password hash and clears any invitation.
pub async fn set_password(
    db: &impl ConnectionTrait,
    user: users::Model,
    password_hash: String,
) -> Result<users::Model, StoreError> {
    let mut am: users::ActiveModel = user.into();
    am.password_hash = Set(Some(password_hash));
    am.invite_token_hash = Set(None);
    am.invite_expires_at = Set(None);
    am.updated_at = Set(now());
    Ok(am.update(db).await?)
}

/// Records a successful login.
pub async fn touch_login(db: &impl ConnectionTrait, id: i64) -> Result<(), StoreError> {
    users::Entity::update_many()
        .col_expr(users::Column::LastLoginAt, Expr::value(now()))
        .filter(users::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
