//! Messages of conversations (inbound ones are written by `ingest`).

use entity::messages;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{StoreError, now};

/// A new outbound message, `pending` until the Cloud API accepts it.
pub async fn create_outbound(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    conversation_id: i64,
    contact_id: i64,
    kind: &str,
    content: serde_json::Value,
    sent_by: Option<i64>,
) -> Result<messages::Model, StoreError> {
    Ok(messages::ActiveModel {
        tenant_id: Set(tenant_id),
        conversation_id: Set(conversation_id),
        contact_id: Set(contact_id),
        direction: Set("outbound".into()),
        wa_message_id: Set(None),
        kind: Set(kind.to_string()),
        content: Set(Some(content)),
        status: Set("pending".into()),
        sent_by: Set(sent_by),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Loads a message of the tenant.
pub async fn get(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
) -> Result<messages::Model, StoreError> {
    messages::Entity::find_by_id(id)
        .filter(messages::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("message"))
}

/// Marks a message failed with a Cloud API error code.
pub async fn set_failed(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
    code: Option<i64>,
    title: &str,
) -> Result<(), StoreError> {
    messages::Entity::update_many()
        .col_expr(messages::Column::Status, Expr::value("failed"))
        .col_expr(
            messages::Column::ErrorCode,
            Expr::value(code.and_then(|c| i32::try_from(c).ok())),
        )
        .col_expr(messages::Column::ErrorTitle, Expr::value(title))
        .col_expr(messages::Column::FailedAt, Expr::value(now()))
        .filter(messages::Column::Id.eq(id))
        .filter(messages::Column::TenantId.eq(tenant_id))
        .exec(db)
        .await?;
    Ok(())
}
