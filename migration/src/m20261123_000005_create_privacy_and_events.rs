//! Retention policies, erasure requests, audit log, outbound queue and the
//! tenant event log.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_tenants_and_auth::{ApiKeys, Tenants, Users};
use crate::m20261123_000002_create_whatsapp_and_contacts::WhatsappNumbers;
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
                    .table(RetentionPolicies::Table)
                    .col(pk_id(RetentionPolicies::Id))
                    .col(big_integer(RetentionPolicies::TenantId))
                    .col(string(RetentionPolicies::Scope))
                    .col(string(RetentionPolicies::Mode))
                    .col(integer_null(RetentionPolicies::Days))
                    .col(timestamp_with_time_zone(RetentionPolicies::CreatedAt))
                    .col(timestamp_with_time_zone(RetentionPolicies::UpdatedAt))
                    .foreign_key(&mut fk(
                        RetentionPolicies::Table,
                        RetentionPolicies::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ErasureRequests::Table)
                    .col(pk_id(ErasureRequests::Id))
                    .col(big_integer(ErasureRequests::TenantId))
                    .col(string(ErasureRequests::WaId))
                    .col(string(ErasureRequests::Status))
                    .col(big_integer_null(ErasureRequests::RequestedBy))
                    .col(timestamp_with_time_zone(ErasureRequests::RequestedAt))
                    .col(timestamp_with_time_zone(ErasureRequests::DueAt))
                    .col(timestamp_with_time_zone_null(ErasureRequests::CompletedAt))
                    .col(json_binary(ErasureRequests::Details))
                    .foreign_key(&mut fk(
                        ErasureRequests::Table,
                        ErasureRequests::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        ErasureRequests::Table,
                        ErasureRequests::RequestedBy,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(pk_id(AuditLog::Id))
                    .col(big_integer(AuditLog::TenantId))
                    .col(big_integer_null(AuditLog::ActorUserId))
                    .col(big_integer_null(AuditLog::ActorApiKeyId))
                    .col(string(AuditLog::Action))
                    .col(string(AuditLog::TargetType))
                    .col(string_null(AuditLog::TargetId))
                    .col(json_binary(AuditLog::Details))
                    .col(string_null(AuditLog::Ip))
                    .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                    .foreign_key(&mut fk(
                        AuditLog::Table,
                        AuditLog::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        AuditLog::Table,
                        AuditLog::ActorUserId,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        AuditLog::Table,
                        AuditLog::ActorApiKeyId,
                        ApiKeys::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_id(Outbox::Id))
                    .col(big_integer(Outbox::TenantId))
                    .col(big_integer(Outbox::WhatsappNumberId))
                    .col(big_integer_null(Outbox::MessageId))
                    .col(json_binary(Outbox::Payload))
                    .col(string(Outbox::Status))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    .col(string_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone(Outbox::UpdatedAt))
                    .foreign_key(&mut fk(
                        Outbox::Table,
                        Outbox::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Outbox::Table,
                        Outbox::WhatsappNumberId,
                        WhatsappNumbers::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Outbox::Table,
                        Outbox::MessageId,
                        Messages::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EventLog::Table)
                    .col(pk_id(EventLog::Id))
                    .col(big_integer(EventLog::TenantId))
                    .col(big_integer(EventLog::Seq))
                    .col(string(EventLog::Kind))
                    .col(json_binary(EventLog::Payload))
                    .col(timestamp_with_time_zone(EventLog::CreatedAt))
                    .foreign_key(&mut fk(
                        EventLog::Table,
                        EventLog::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                unique_index(
                    "uq_retention_policies_tenant_id_scope",
                    RetentionPolicies::Table,
                    [RetentionPolicies::TenantId, RetentionPolicies::Scope],
                ),
                index(
                    "idx_erasure_requests_tenant_id_status_due_at",
                    ErasureRequests::Table,
                    [
                        ErasureRequests::TenantId,
                        ErasureRequests::Status,
                        ErasureRequests::DueAt,
                    ],
                ),
                index(
                    "idx_audit_log_tenant_id_created_at",
                    AuditLog::Table,
                    [AuditLog::TenantId, AuditLog::CreatedAt],
                ),
                index(
                    "idx_outbox_status_next_attempt_at",
                    Outbox::Table,
                    [Outbox::Status, Outbox::NextAttemptAt],
                ),
                index(
                    "idx_outbox_tenant_id_status",
                    Outbox::Table,
                    [Outbox::TenantId, Outbox::Status],
                ),
                unique_index(
                    "uq_event_log_tenant_id_seq",
                    EventLog::Table,
                    [EventLog::TenantId, EventLog::Seq],
                ),
                index(
                    "idx_event_log_created_at",
                    EventLog::Table,
                    [EventLog::CreatedAt],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                EventLog::Table.into_iden(),
                Outbox::Table.into_iden(),
                AuditLog::Table.into_iden(),
                ErasureRequests::Table.into_iden(),
                RetentionPolicies::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden)]
enum RetentionPolicies {
    Table,
    Id,
    TenantId,
    Scope,
    Mode,
    Days,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ErasureRequests {
    Table,
    Id,
    TenantId,
    WaId,
    Status,
    RequestedBy,
    RequestedAt,
    DueAt,
    CompletedAt,
    Details,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    TenantId,
    ActorUserId,
    ActorApiKeyId,
    Action,
    TargetType,
    TargetId,
    Details,
    Ip,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    TenantId,
    WhatsappNumberId,
    MessageId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum EventLog {
    Table,
    Id,
    TenantId,
    Seq,
    Kind,
    Payload,
    CreatedAt,
}
