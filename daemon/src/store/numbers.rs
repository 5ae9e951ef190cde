//! WhatsApp phone numbers of a tenant. Secrets arrive sealed (see `crypto`).

use entity::whatsapp_numbers as numbers;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{Page, StoreError, now};

/// A number to register, with its secrets already sealed.
pub struct NewNumber {
    pub tenant_id: i64,
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    pub access_token_enc: String,
    pub app_secret_enc: String,
    pub verify_token: String,
    pub throughput_per_second: i32,
}

/// Registers a number; `phone_number_id` is unique installation-wide and a
/// WhatsApp Business Account belongs to one tenant (template notifications are
/// routed by WABA id).
pub async fn create(db: &impl ConnectionTrait, n: NewNumber) -> Result<numbers::Model, StoreError> {
    let foreign_waba = numbers::Entity::find()
        .filter(numbers::Column::WabaId.eq(n.waba_id.trim()))
        .filter(numbers::Column::TenantId.ne(n.tenant_id))
        .one(db)
        .await?;
    if foreign_waba.is_some() {
        return Err(StoreError::Conflict(
            "that WhatsApp Business Account is registered by another tenant".into(),
        ));
    }
    let t = now();
    numbers::ActiveModel {
        tenant_id: Set(n.tenant_id),
        phone_number_id: Set(n.phone_number_id.trim().to_string()),
        waba_id: Set(n.waba_id.trim().to_string()),
        display_phone_number: Set(n.display_phone_number.trim().to_string()),
        access_token_enc: Set(n.access_token_enc),
        app_secret_enc: Set(n.app_secret_enc),
        verify_token: Set(n.verify_token),
        throughput_per_second: Set(n.throughput_per_second),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::on_unique(e, "that phone number id is already registered"))
}

/// Loads a number of the tenant.
pub async fn get(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
) -> Result<numbers::Model, StoreError> {
    numbers::Entity::find_by_id(id)
        .filter(numbers::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("WhatsApp number"))
}

/// Changes of [`update`]; `None` keeps the current value.
#[derive(Default)]
pub struct NumberChanges {
    pub display_phone_number: Option<String>,
    pub access_token_enc: Option<String>,
    pub app_secret_enc: Option<String>,
    pub verify_token: Option<String>,
    pub throughput_per_second: Option<i32>,
}

/// Updates a number of the tenant.
pub async fn update(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
    c: NumberChanges,
) -> Result<numbers::Model, StoreError> {
    let mut am: numbers::ActiveModel = get(db, tenant_id, id).await?.into();
    if let Some(v) = c.display_phone_number {
        am.display_phone_number = Set(v.trim().to_string());
    }
    if let Some(v) = c.access_token_enc {
        am.access_token_enc = Set(v);
    }
    if let Some(v) = c.app_secret_enc {
        am.app_secret_enc = Set(v);
    }
    if let Some(v) = c.verify_token {
        am.verify_token = Set(v);
    }
    if let Some(v) = c.throughput_per_second {
        am.throughput_per_second = Set(v);
    }
    am.updated_at = Set(now());
    Ok(am.update(db).await?)
}

/// Removes a number of the tenant; returns what was removed.
pub async fn delete(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
) -> Result<numbers::Model, StoreError> {
    let row = get(db, tenant_id, id).await?;
    numbers::Entity::delete_many()
        .filter(numbers::Column::Id.eq(id))
        .filter(numbers::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(row)
}

/// Lists the tenant's numbers by id.
pub async fn list(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    after: Option<i64>,
    limit: u64,
) -> Result<Page<numbers::Model>, StoreError> {
    let mut q = numbers::Entity::find().filter(numbers::Column::TenantId.eq(tenant_id));
    if let Some(a) = after {
        q = q.filter(numbers::Column::Id.gt(a));
    }
    let rows = q
        .order_by_asc(numbers::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    Ok(Page::from_overfetch(rows, limit))
}

/// Every number of the installation (for re-sealing secrets on key rotation).
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<numbers::Model>, StoreError> {
    Ok(numbers::Entity::find()
        .order_by_asc(numbers::Column::Id)
        .all(db)
        .await?)
}

/// Re-seals one number's secrets (key rotation); the caller seals.
pub async fn set_sealed_secrets(
    db: &impl ConnectionTrait,
    id: i64,
    access_token_enc: String,
    app_secret_enc: String,
) -> Result<(), StoreError> {
    numbers::Entity::update_many()
        .col_expr(
            numbers::Column::AccessTokenEnc,
            sea_orm::sea_query::Expr::value(access_token_enc),
        )
        .col_expr(
            numbers::Column::AppSecretEnc,
            sea_orm::sea_query::Expr::value(app_secret_enc),
        )
        .col_expr(
            numbers::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(numbers::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}
