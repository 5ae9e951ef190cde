//! The conversation retention timer: `conversations.content_erased_at`, when
//! the contents of a resolved conversation's messages were erased because
//! `conversations.retention_days` passed since it was resolved (so the timer
//! fires once, also after a restart or with several daemons).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000003_create_conversations_and_messages::Conversations;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Conv {
    ContentErasedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(timestamp_with_time_zone_null(Conv::ContentErasedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conv::ContentErasedAt)
                    .to_owned(),
            )
            .await
    }
}
