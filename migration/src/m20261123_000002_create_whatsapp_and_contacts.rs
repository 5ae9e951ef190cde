//! WhatsApp Business phone numbers and the contacts that write to them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_tenants_and_auth::Tenants;
use crate::util::{create_indexes, drop_tables, fk, index, pk_id, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WhatsappNumbers::Table)
                    .col(pk_id(WhatsappNumbers::Id))
                    .col(big_integer(WhatsappNumbers::TenantId))
                    .col(string(WhatsappNumbers::PhoneNumberId))
                    .col(string(WhatsappNumbers::WabaId))
                    .col(string(WhatsappNumbers::DisplayPhoneNumber))
                    .col(text(WhatsappNumbers::AccessTokenEnc))
                    .col(text(WhatsappNumbers::AppSecretEnc))
                    .col(string(WhatsappNumbers::VerifyToken))
                    .col(integer(WhatsappNumbers::ThroughputPerSecond).default(80))
                    .col(timestamp_with_time_zone(WhatsappNumbers::CreatedAt))
                    .col(timestamp_with_time_zone(WhatsappNumbers::UpdatedAt))
                    .foreign_key(&mut fk(
                        WhatsappNumbers::Table,
                        WhatsappNumbers::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .col(pk_id(Contacts::Id))
                    .col(big_integer(Contacts::TenantId))
                    .col(string(Contacts::WaId))
                    .col(string_null(Contacts::ProfileName))
                    .col(json_binary(Contacts::Attributes))
                    .col(string(Contacts::Consent).default("unknown"))
                    .col(timestamp_with_time_zone_null(Contacts::ConsentUpdatedAt))
                    .col(timestamp_with_time_zone_null(Contacts::LastInboundAt))
                    .col(timestamp_with_time_zone(Contacts::CreatedAt))
                    .col(timestamp_with_time_zone(Contacts::UpdatedAt))
                    .foreign_key(&mut fk(
                        Contacts::Table,
                        Contacts::TenantId,
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
                    "uq_whatsapp_numbers_phone_number_id",
                    WhatsappNumbers::Table,
                    [WhatsappNumbers::PhoneNumberId],
                ),
                index(
                    "idx_whatsapp_numbers_tenant_id",
                    WhatsappNumbers::Table,
                    [WhatsappNumbers::TenantId, WhatsappNumbers::Id],
                ),
                index(
                    "idx_whatsapp_numbers_verify_token",
                    WhatsappNumbers::Table,
                    [WhatsappNumbers::VerifyToken],
                ),
                unique_index(
                    "uq_contacts_tenant_id_wa_id",
                    Contacts::Table,
                    [Contacts::TenantId, Contacts::WaId],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            vec![
                Contacts::Table.into_iden(),
                WhatsappNumbers::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum WhatsappNumbers {
    Table,
    Id,
    TenantId,
    PhoneNumberId,
    WabaId,
    DisplayPhoneNumber,
    AccessTokenEnc,
    AppSecretEnc,
    VerifyToken,
    ThroughputPerSecond,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(crate) enum Contacts {
    Table,
    Id,
    TenantId,
    WaId,
    ProfileName,
    Attributes,
    Consent,
    ConsentUpdatedAt,
    LastInboundAt,
    CreatedAt,
    UpdatedAt,
}
