//! API keys of a tenant (stored hashed).

use chrono::Utc;
use entity::api_keys;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{Page, StoreError, now};
use crate::auth::{Role, Scope};

/// A key to store.
pub struct NewKey {
    pub tenant_id: i64,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub created_by: Option<i64>,
}

/// Stores a new key.
pub async fn create(db: &impl ConnectionTrait, k: NewKey) -> Result<api_keys::Model, StoreError> {
    api_keys::ActiveModel {
        tenant_id: Set(k.tenant_id),
        name: Set(k.name.trim().to_string()),
        prefix: Set(k.prefix),
        key_hash: Set(k.key_hash),
        role: Set(k.role.as_str().to_string()),
        scopes: Set(serde_json::to_value(&k.scopes).unwrap_or_default()),
        created_by: Set(k.created_by),
        created_at: Set(now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::on_unique(e, "key collision, try again"))
}

/// Finds an unrevoked key by hash.
pub async fn find_active_by_hash(
    db: &impl ConnectionTrait,
    key_hash: &str,
) -> Result<Option<api_keys::Model>, StoreError> {
    Ok(api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(key_hash))
        .filter(api_keys::Column::RevokedAt.is_null())
        .one(db)
        .await?)
}

/// Records use of a key, at most once a minute per key.
pub async fn touch(db: &impl ConnectionTrait, key: &api_keys::Model) -> Result<(), StoreError> {
    let stale = key
        .last_used_at
        .is_none_or(|t| Utc::now() - t > chrono::Duration::seconds(60));
    if stale {
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::LastUsedAt, Expr::value(now()))
            .filter(api_keys::Column::Id.eq(key.id))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Revokes a key of the tenant.
pub async fn revoke(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
) -> Result<api_keys::Model, StoreError> {
    let key = api_keys::Entity::find_by_id(id)
        .filter(api_keys::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("API key"))?;
    if key.revoked_at.is_some() {
        return Ok(key);
    }
    let mut am: api_keys::ActiveModel = key.into();
    am.revoked_at = Set(Some(now()));
    Ok(am.update(db).await?)
}

/// Lists the tenant's keys (revoked ones included) by id.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<api_keys::Model>, StoreError> {
    let mut q = api_keys::Entity::find().filter(api_keys::Column::TenantId.eq(tenant_id));
    if let Some(a) = after {
        q = q.filter(api_keys::Column::Id.gt(a));
    }
    let rows = q
        .order_by_asc(api_keys::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_overfetch(rows, limit))
}

/// The scopes stored on a key (unknown entries are ignored).
pub fn scopes_of(key: &api_keys::Model) -> Vec<Scope> {
    serde_json::from_value(key.scopes.clone()).unwrap_or_default()
}
