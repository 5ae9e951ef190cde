//! Tenants: the businesses using the installation.

use entity::tenants;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{StoreError, now};

/// Creates a tenant; the name must be unique.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &str,
    time_zone: &str,
) -> Result<tenants::Model, StoreError> {
    let t = now();
    tenants::ActiveModel {
        name: Set(name.trim().to_string()),
        time_zone: Set(time_zone.to_string()),
        settings: Set(serde_json::json!({})),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::on_unique(e, format!("a tenant named `{name}` already exists")))
}

/// Finds a tenant by its exact name.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<tenants::Model>, StoreError> {
    Ok(tenants::Entity::find()
        .filter(tenants::Column::Name.eq(name.trim()))
        .one(db)
        .await?)
}

/// Loads a tenant by id.
pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<tenants::Model, StoreError> {
    tenants::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("tenant"))
}

/// Changes name, time zone and/or settings.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    name: Option<String>,
    time_zone: Option<String>,
    settings: Option<serde_json::Value>,
) -> Result<tenants::Model, StoreError> {
    let current = get(db, id).await?;
    let mut am: tenants::ActiveModel = current.into();
    if let Some(n) = name {
        am.name = Set(n.trim().to_string());
    }
    if let Some(tz) = time_zone {
        am.time_zone = Set(tz);
    }
    if let Some(s) = settings {
        am.settings = Set(s);
    }
    am.updated_at = Set(now());
    am.update(db)
        .await
        .map_err(|e| StoreError::on_unique(e, "another tenant already has that name"))
}
