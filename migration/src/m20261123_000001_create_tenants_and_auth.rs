//! Tenants, users, API keys, departments and agent routing data.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::{create_indexes, drop_tables, fk, index, pk_id, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tenants::Table)
                    .col(pk_id(Tenants::Id))
                    .col(string(Tenants::Name))
                    .col(string(Tenants::TimeZone).default("UTC"))
                    .col(json_binary(Tenants::Settings))
                    .col(timestamp_with_time_zone(Tenants::CreatedAt))
                    .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_id(Users::Id))
                    .col(big_integer(Users::TenantId))
                    .col(string(Users::Email))
                    .col(string(Users::Name).default(""))
                    .col(string(Users::Role))
                    .col(string_null(Users::PasswordHash))
                    .col(boolean(Users::Disabled).default(false))
                    .col(string_null(Users::InviteTokenHash))
                    .col(timestamp_with_time_zone_null(Users::InviteExpiresAt))
                    .col(timestamp_with_time_zone_null(Users::LastLoginAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(&mut fk(
                        Users::Table,
                        Users::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(pk_id(ApiKeys::Id))
                    .col(big_integer(ApiKeys::TenantId))
                    .col(string(ApiKeys::Name))
                    .col(string(ApiKeys::Prefix))
                    .col(string(ApiKeys::KeyHash))
                    .col(string(ApiKeys::Role))
                    .col(json_binary(ApiKeys::Scopes))
                    .col(big_integer_null(ApiKeys::CreatedBy))
                    .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                    .foreign_key(&mut fk(
                        ApiKeys::Table,
                        ApiKeys::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        ApiKeys::Table,
                        ApiKeys::CreatedBy,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Departments::Table)
                    .col(pk_id(Departments::Id))
                    .col(big_integer(Departments::TenantId))
                    .col(string(Departments::Name))
                    .col(text(Departments::Description).default(""))
                    .col(timestamp_with_time_zone(Departments::CreatedAt))
                    .col(timestamp_with_time_zone(Departments::UpdatedAt))
                    .foreign_key(&mut fk(
                        Departments::Table,
                        Departments::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DepartmentMembers::Table)
                    .col(pk_id(DepartmentMembers::Id))
                    .col(big_integer(DepartmentMembers::TenantId))
                    .col(big_integer(DepartmentMembers::DepartmentId))
                    .col(big_integer(DepartmentMembers::UserId))
                    .col(timestamp_with_time_zone(DepartmentMembers::CreatedAt))
                    .foreign_key(&mut fk(
                        DepartmentMembers::Table,
                        DepartmentMembers::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        DepartmentMembers::Table,
                        DepartmentMembers::DepartmentId,
                        Departments::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        DepartmentMembers::Table,
                        DepartmentMembers::UserId,
                        Users::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentSkills::Table)
                    .col(pk_id(AgentSkills::Id))
                    .col(big_integer(AgentSkills::TenantId))
                    .col(big_integer(AgentSkills::UserId))
                    .col(string(AgentSkills::Skill))
                    .col(integer(AgentSkills::Level).default(1))
                    .col(timestamp_with_time_zone(AgentSkills::CreatedAt))
                    .foreign_key(&mut fk(
                        AgentSkills::Table,
                        AgentSkills::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        AgentSkills::Table,
                        AgentSkills::UserId,
                        Users::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentPresence::Table)
                    .col(pk_id(AgentPresence::Id))
                    .col(big_integer(AgentPresence::TenantId))
                    .col(big_integer(AgentPresence::UserId))
                    .col(string(AgentPresence::Status))
                    .col(integer(AgentPresence::Capacity).default(5))
                    .col(timestamp_with_time_zone(AgentPresence::UpdatedAt))
                    .foreign_key(&mut fk(
                        AgentPresence::Table,
                        AgentPresence::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        AgentPresence::Table,
                        AgentPresence::UserId,
                        Users::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                unique_index("uq_tenants_name", Tenants::Table, [Tenants::Name]),
                unique_index("uq_users_email", Users::Table, [Users::Email]),
                unique_index(
                    "uq_users_invite_token_hash",
                    Users::Table,
                    [Users::InviteTokenHash],
                ),
                index(
                    "idx_users_tenant_id",
                    Users::Table,
                    [Users::TenantId, Users::Id],
                ),
                unique_index("uq_api_keys_key_hash", ApiKeys::Table, [ApiKeys::KeyHash]),
                index(
                    "idx_api_keys_tenant_id",
                    ApiKeys::Table,
                    [ApiKeys::TenantId, ApiKeys::Id],
                ),
                unique_index(
                    "uq_departments_tenant_id_name",
                    Departments::Table,
                    [Departments::TenantId, Departments::Name],
                ),
                unique_index(
                    "uq_department_members_department_id_user_id",
                    DepartmentMembers::Table,
                    [DepartmentMembers::DepartmentId, DepartmentMembers::UserId],
                ),
                index(
                    "idx_department_members_tenant_id_user_id",
                    DepartmentMembers::Table,
                    [DepartmentMembers::TenantId, DepartmentMembers::UserId],
                ),
                unique_index(
                    "uq_agent_skills_user_id_skill",
                    AgentSkills::Table,
                    [AgentSkills::UserId, AgentSkills::Skill],
                ),
                index(
                    "idx_agent_skills_tenant_id_skill",
                    AgentSkills::Table,
                    [AgentSkills::TenantId, AgentSkills::Skill],
                ),
                unique_index(
                    "uq_agent_presence_user_id",
                    AgentPresence::Table,
                    [AgentPresence::UserId],
                ),
                index(
                    "idx_agent_presence_tenant_id_status",
                    AgentPresence::Table,
                    [AgentPresence::TenantId, AgentPresence::Status],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                AgentPresence::Table.into_iden(),
                AgentSkills::Table.into_iden(),
                DepartmentMembers::Table.into_iden(),
                Departments::Table.into_iden(),
                ApiKeys::Table.into_iden(),
                Users::Table.into_iden(),
                Tenants::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Tenants {
    Table,
    Id,
    Name,
    TimeZone,
    Settings,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Users {
    Table,
    Id,
    TenantId,
    Email,
    Name,
    Role,
    PasswordHash,
    Disabled,
    InviteTokenHash,
    InviteExpiresAt,
    LastLoginAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum ApiKeys {
    Table,
    Id,
    TenantId,
    Name,
    Prefix,
    KeyHash,
    Role,
    Scopes,
    CreatedBy,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Departments {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DepartmentMembers {
    Table,
    Id,
    TenantId,
    DepartmentId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AgentSkills {
    Table,
    Id,
    TenantId,
    UserId,
    Skill,
    Level,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AgentPresence {
    Table,
    Id,
    TenantId,
    UserId,
    Status,
    Capacity,
    UpdatedAt,
}
