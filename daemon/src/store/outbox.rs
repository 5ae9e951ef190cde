//! The outbox: sends requested and acknowledged to the caller, waiting for
//! (or retrying) the Cloud API. A row is written in the same transaction as
//! its message, so an acknowledged send survives a crash.

use chrono::{DateTime, Utc};
use entity::outbox;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::{StoreError, now};

/// Queues a send for `number_id`.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    number_id: i64,
    message_id: i64,
    payload: serde_json::Value,
) -> Result<outbox::Model, StoreError> {
    let t = now();
    Ok(outbox::ActiveModel {
        tenant_id: Set(tenant_id),
        whatsapp_number_id: Set(number_id),
        message_id: Set(Some(message_id)),
        payload: Set(payload),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(t),
        last_error: Set(None),
        created_at: Set(t),
        updated_at: Set(t),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Pending rows of a number that are due, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    number_id: i64,
    at: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<outbox::Model>, StoreError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::WhatsappNumberId.eq(number_id))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::NextAttemptAt.lte(at))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// When the next pending row of a number is due.
pub async fn next_due(
    db: &impl ConnectionTrait,
    number_id: i64,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::WhatsappNumberId.eq(number_id))
        .filter(outbox::Column::Status.eq("pending"))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .one(db)
        .await?
        .map(|r| r.next_attempt_at))
}

/// Numbers with pending rows (senders to start after a restart).
pub async fn numbers_with_pending(db: &impl ConnectionTrait) -> Result<Vec<i64>, StoreError> {
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::WhatsappNumberId)
        .distinct()
        .filter(outbox::Column::Status.eq("pending"))
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// Claims a pending row for sending; false if another sender took it.
pub async fn claim(db: &impl ConnectionTrait, id: i64) -> Result<bool, StoreError> {
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("sending"))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now()))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq("pending"))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Ends a row: `sent` or `failed`.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    status: &str,
    attempts: i32,
    error: Option<String>,
) -> Result<(), StoreError> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status))
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now()))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Puts a row back to wait until `at`.
pub async fn reschedule(
    db: &impl ConnectionTrait,
    id: i64,
    attempts: i32,
    at: DateTime<Utc>,
    error: Option<String>,
) -> Result<(), StoreError> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("pending"))
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now()))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Rows left `sending` by a crash: put back to pending (the send may or may
/// not have reached Meta; see the sender docs). Returns how many.
pub async fn recover_interrupted(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("pending"))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now()))
        .filter(outbox::Column::Status.eq("sending"))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Rows waiting (pending or sending), for the outbox-depth gauge.
pub async fn depth(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    use sea_orm::PaginatorTrait;
    Ok(outbox::Entity::find()
        .filter(outbox::Column::Status.is_in(["pending", "sending"]))
        .count(db)
        .await?)
}
