//! The per-tenant event log (appended by the ingest writer, read by
//! subscriptions resuming with a cursor).

use chrono::{DateTime, Utc};
use entity::event_log;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::StoreError;

/// Deletes events older than `before`; returns how many.
pub async fn delete_before(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(event_log::Entity::delete_many()
        .filter(event_log::Column::CreatedAt.lt(before))
        .exec(db)
        .await?
        .rows_affected)
}
