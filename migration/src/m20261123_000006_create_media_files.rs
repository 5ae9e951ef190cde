//! Inbound media downloaded from the Cloud API into the media store.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_tenants_and_auth::Tenants;
use crate::m20261123_000003_create_conversations_and_messages::Messages;
use crate::util::{create_indexes, drop_tables, fk, index, pk_id, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MediaFiles::Table)
                    .col(pk_id(MediaFiles::Id))
                    .col(big_integer(MediaFiles::TenantId))
                    .col(big_integer(MediaFiles::MessageId))
                    .col(string(MediaFiles::MediaId))
                    .col(string(MediaFiles::Status))
                    .col(string_null(MediaFiles::MimeType))
                    .col(string_null(MediaFiles::Sha256))
                    .col(big_integer_null(MediaFiles::SizeBytes))
                    .col(string_null(MediaFiles::Path))
                    .col(string_null(MediaFiles::Error))
                    .col(timestamp_with_time_zone(MediaFiles::CreatedAt))
                    .col(timestamp_with_time_zone(MediaFiles::UpdatedAt))
                    .foreign_key(&mut fk(
                        MediaFiles::Table,
                        MediaFiles::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        MediaFiles::Table,
                        MediaFiles::MessageId,
                        Messages::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        create_indexes(
            manager,
            vec![
                unique_index(
                    "uq_media_files_message_id",
                    MediaFiles::Table,
                    [MediaFiles::MessageId],
                ),
                index(
                    "idx_media_files_tenant_id_status",
                    MediaFiles::Table,
                    [MediaFiles::TenantId, MediaFiles::Status],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, vec![MediaFiles::Table.into_iden()]).await
    }
}

#[derive(DeriveIden)]
pub enum MediaFiles {
    Table,
    Id,
    TenantId,
    MessageId,
    MediaId,
    Status,
    MimeType,
    Sha256,
    SizeBytes,
    Path,
    Error,
    CreatedAt,
    UpdatedAt,
}
