//! Conversations, their messages and the raw delivery-status events.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_tenants_and_auth::{Departments, Tenants, Users};
use crate::m20261123_000002_create_whatsapp_and_contacts::{Contacts, WhatsappNumbers};
use crate::util::{create_indexes, drop_tables, fk, index, pk_id, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(pk_id(Conversations::Id))
                    .col(big_integer(Conversations::TenantId))
                    .col(big_integer(Conversations::ContactId))
                    .col(big_integer(Conversations::WhatsappNumberId))
                    .col(string(Conversations::Status))
                    .col(big_integer_null(Conversations::DepartmentId))
                    .col(big_integer_null(Conversations::AssigneeId))
                    .col(integer(Conversations::Priority).default(0))
                    .col(timestamp_with_time_zone_null(Conversations::LastInboundAt))
                    .col(timestamp_with_time_zone_null(
                        Conversations::WindowExpiresAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        Conversations::FirstResponseAt,
                    ))
                    .col(timestamp_with_time_zone_null(Conversations::SnoozedUntil))
                    .col(timestamp_with_time_zone_null(Conversations::ResolvedAt))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .col(timestamp_with_time_zone(Conversations::UpdatedAt))
                    .foreign_key(&mut fk(
                        Conversations::Table,
                        Conversations::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Conversations::Table,
                        Conversations::ContactId,
                        Contacts::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Conversations::Table,
                        Conversations::WhatsappNumberId,
                        WhatsappNumbers::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Conversations::Table,
                        Conversations::DepartmentId,
                        Departments::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        Conversations::Table,
                        Conversations::AssigneeId,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(pk_id(Messages::Id))
                    .col(big_integer(Messages::TenantId))
                    .col(big_integer(Messages::ConversationId))
                    .col(big_integer(Messages::ContactId))
                    .col(string(Messages::Direction))
                    .col(string_null(Messages::WaMessageId))
                    .col(string(Messages::Kind))
                    .col(json_binary_null(Messages::Content))
                    .col(string(Messages::Status))
                    .col(integer_null(Messages::ErrorCode))
                    .col(string_null(Messages::ErrorTitle))
                    .col(big_integer_null(Messages::SentBy))
                    .col(timestamp_with_time_zone_null(Messages::WaTimestamp))
                    .col(timestamp_with_time_zone(Messages::CreatedAt))
                    .col(timestamp_with_time_zone_null(Messages::SentAt))
                    .col(timestamp_with_time_zone_null(Messages::DeliveredAt))
                    .col(timestamp_with_time_zone_null(Messages::ReadAt))
                    .col(timestamp_with_time_zone_null(Messages::FailedAt))
                    .foreign_key(&mut fk(
                        Messages::Table,
                        Messages::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Messages::Table,
                        Messages::ConversationId,
                        Conversations::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Messages::Table,
                        Messages::ContactId,
                        Contacts::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Messages::Table,
                        Messages::SentBy,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MessageStatusEvents::Table)
                    .col(pk_id(MessageStatusEvents::Id))
                    .col(big_integer(MessageStatusEvents::TenantId))
                    .col(big_integer_null(MessageStatusEvents::MessageId))
                    .col(string(MessageStatusEvents::WaMessageId))
                    .col(string(MessageStatusEvents::Status))
                    .col(integer_null(MessageStatusEvents::ErrorCode))
                    .col(json_binary(MessageStatusEvents::Payload))
                    .col(timestamp_with_time_zone(MessageStatusEvents::OccurredAt))
                    .col(timestamp_with_time_zone(MessageStatusEvents::CreatedAt))
                    .foreign_key(&mut fk(
                        MessageStatusEvents::Table,
                        MessageStatusEvents::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        MessageStatusEvents::Table,
                        MessageStatusEvents::MessageId,
                        Messages::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                index(
                    "idx_conversations_tenant_id_status_updated_at",
                    Conversations::Table,
                    [
                        Conversations::TenantId,
                        Conversations::Status,
                        Conversations::UpdatedAt,
                    ],
                ),
                index(
                    "idx_conversations_tenant_id_assignee_id_status",
                    Conversations::Table,
                    [
                        Conversations::TenantId,
                        Conversations::AssigneeId,
                        Conversations::Status,
                    ],
                ),
                index(
                    "idx_conversations_tenant_id_department_id_status",
                    Conversations::Table,
                    [
                        Conversations::TenantId,
                        Conversations::DepartmentId,
                        Conversations::Status,
                    ],
                ),
                index(
                    "idx_conversations_tenant_id_contact_id_created_at",
                    Conversations::Table,
                    [
                        Conversations::TenantId,
                        Conversations::ContactId,
                        Conversations::CreatedAt,
                    ],
                ),
                unique_index(
                    "uq_messages_tenant_wamid",
                    Messages::Table,
                    [Messages::TenantId, Messages::WaMessageId],
                ),
                index(
                    "idx_messages_tenant_id_conversation_id_id",
                    Messages::Table,
                    [Messages::TenantId, Messages::ConversationId, Messages::Id],
                ),
                unique_index(
                    "uq_message_status_events_dedup",
                    MessageStatusEvents::Table,
                    [
                        MessageStatusEvents::TenantId,
                        MessageStatusEvents::WaMessageId,
                        MessageStatusEvents::Status,
                    ],
                ),
                index(
                    "idx_message_status_events_tenant_id_message_id",
                    MessageStatusEvents::Table,
                    [
                        MessageStatusEvents::TenantId,
                        MessageStatusEvents::MessageId,
                    ],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                MessageStatusEvents::Table.into_iden(),
                Messages::Table.into_iden(),
                Conversations::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Conversations {
    Table,
    Id,
    TenantId,
    ContactId,
    WhatsappNumberId,
    Status,
    DepartmentId,
    AssigneeId,
    Priority,
    LastInboundAt,
    WindowExpiresAt,
    FirstResponseAt,
    SnoozedUntil,
    ResolvedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Messages {
    Table,
    Id,
    TenantId,
    ConversationId,
    ContactId,
    Direction,
    WaMessageId,
    Kind,
    Content,
    Status,
    ErrorCode,
    ErrorTitle,
    SentBy,
    WaTimestamp,
    CreatedAt,
    SentAt,
    DeliveredAt,
    ReadAt,
    FailedAt,
}

#[derive(DeriveIden)]
enum MessageStatusEvents {
    Table,
    Id,
    TenantId,
    MessageId,
    WaMessageId,
    Status,
    ErrorCode,
    Payload,
    OccurredAt,
    CreatedAt,
}
