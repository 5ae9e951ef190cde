//! Message templates, campaigns, bot flows, knowledge base and AI insights.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_tenants_and_auth::{Tenants, Users};
use crate::m20261123_000002_create_whatsapp_and_contacts::{Contacts, WhatsappNumbers};
use crate::m20261123_000003_create_conversations_and_messages::{Conversations, Messages};
use crate::util::{create_indexes, drop_tables, fk, index, pk_id, unique_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Templates::Table)
                    .col(pk_id(Templates::Id))
                    .col(big_integer(Templates::TenantId))
                    .col(big_integer_null(Templates::WhatsappNumberId))
                    .col(string(Templates::WabaId))
                    .col(string_null(Templates::MetaTemplateId))
                    .col(string(Templates::Name))
                    .col(string(Templates::Language))
                    .col(string(Templates::Category))
                    .col(string(Templates::Status))
                    .col(json_binary(Templates::Components))
                    .col(string_null(Templates::RejectedReason))
                    .col(timestamp_with_time_zone(Templates::CreatedAt))
                    .col(timestamp_with_time_zone(Templates::UpdatedAt))
                    .foreign_key(&mut fk(
                        Templates::Table,
                        Templates::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Templates::Table,
                        Templates::WhatsappNumberId,
                        WhatsappNumbers::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Campaigns::Table)
                    .col(pk_id(Campaigns::Id))
                    .col(big_integer(Campaigns::TenantId))
                    .col(string(Campaigns::Name))
                    .col(big_integer(Campaigns::TemplateId))
                    .col(big_integer(Campaigns::WhatsappNumberId))
                    .col(string(Campaigns::Status))
                    .col(timestamp_with_time_zone_null(Campaigns::ScheduledAt))
                    .col(timestamp_with_time_zone_null(Campaigns::StartedAt))
                    .col(timestamp_with_time_zone_null(Campaigns::CompletedAt))
                    .col(big_integer_null(Campaigns::CreatedBy))
                    .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                    .col(timestamp_with_time_zone(Campaigns::UpdatedAt))
                    .foreign_key(&mut fk(
                        Campaigns::Table,
                        Campaigns::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Campaigns::Table,
                        Campaigns::TemplateId,
                        Templates::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Campaigns::Table,
                        Campaigns::WhatsappNumberId,
                        WhatsappNumbers::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Campaigns::Table,
                        Campaigns::CreatedBy,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignRecipients::Table)
                    .col(pk_id(CampaignRecipients::Id))
                    .col(big_integer(CampaignRecipients::TenantId))
                    .col(big_integer(CampaignRecipients::CampaignId))
                    .col(big_integer(CampaignRecipients::ContactId))
                    .col(string(CampaignRecipients::Status))
                    .col(big_integer_null(CampaignRecipients::MessageId))
                    .col(integer_null(CampaignRecipients::ErrorCode))
                    .col(timestamp_with_time_zone(CampaignRecipients::UpdatedAt))
                    .foreign_key(&mut fk(
                        CampaignRecipients::Table,
                        CampaignRecipients::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        CampaignRecipients::Table,
                        CampaignRecipients::CampaignId,
                        Campaigns::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        CampaignRecipients::Table,
                        CampaignRecipients::ContactId,
                        Contacts::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        CampaignRecipients::Table,
                        CampaignRecipients::MessageId,
                        Messages::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(BotFlows::Table)
                    .col(pk_id(BotFlows::Id))
                    .col(big_integer(BotFlows::TenantId))
                    .col(string(BotFlows::Name))
                    .col(integer(BotFlows::Version))
                    .col(json_binary(BotFlows::Definition))
                    .col(boolean(BotFlows::Active).default(false))
                    .col(big_integer_null(BotFlows::CreatedBy))
                    .col(timestamp_with_time_zone(BotFlows::CreatedAt))
                    .foreign_key(&mut fk(
                        BotFlows::Table,
                        BotFlows::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        BotFlows::Table,
                        BotFlows::CreatedBy,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(KbArticles::Table)
                    .col(pk_id(KbArticles::Id))
                    .col(big_integer(KbArticles::TenantId))
                    .col(string(KbArticles::Title))
                    .col(text(KbArticles::Body))
                    .col(json_binary(KbArticles::Tags))
                    .col(timestamp_with_time_zone(KbArticles::CreatedAt))
                    .col(timestamp_with_time_zone(KbArticles::UpdatedAt))
                    .foreign_key(&mut fk(
                        KbArticles::Table,
                        KbArticles::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AiInsights::Table)
                    .col(pk_id(AiInsights::Id))
                    .col(big_integer(AiInsights::TenantId))
                    .col(big_integer(AiInsights::ConversationId))
                    .col(string(AiInsights::Kind))
                    .col(json_binary(AiInsights::Content))
                    .col(string(AiInsights::Provider))
                    .col(string(AiInsights::Model))
                    .col(timestamp_with_time_zone(AiInsights::CreatedAt))
                    .foreign_key(&mut fk(
                        AiInsights::Table,
                        AiInsights::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        AiInsights::Table,
                        AiInsights::ConversationId,
                        Conversations::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        create_indexes(
            manager,
            vec![
                unique_index(
                    "uq_templates_tenant_id_name_language",
                    Templates::Table,
                    [Templates::TenantId, Templates::Name, Templates::Language],
                ),
                index(
                    "idx_campaigns_tenant_id_status",
                    Campaigns::Table,
                    [Campaigns::TenantId, Campaigns::Status],
                ),
                unique_index(
                    "uq_campaign_recipients_campaign_id_contact_id",
                    CampaignRecipients::Table,
                    [
                        CampaignRecipients::CampaignId,
                        CampaignRecipients::ContactId,
                    ],
                ),
                index(
                    "idx_campaign_recipients_tenant_id_campaign_id_status",
                    CampaignRecipients::Table,
                    [
                        CampaignRecipients::TenantId,
                        CampaignRecipients::CampaignId,
                        CampaignRecipients::Status,
                    ],
                ),
                unique_index(
                    "uq_bot_flows_tenant_id_name_version",
                    BotFlows::Table,
                    [BotFlows::TenantId, BotFlows::Name, BotFlows::Version],
                ),
                index(
                    "idx_kb_articles_tenant_id_updated_at",
                    KbArticles::Table,
                    [KbArticles::TenantId, KbArticles::UpdatedAt],
                ),
                index(
                    "idx_ai_insights_tenant_id_conversation_id_kind",
                    AiInsights::Table,
                    [
                        AiInsights::TenantId,
                        AiInsights::ConversationId,
                        AiInsights::Kind,
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
                AiInsights::Table.into_iden(),
                KbArticles::Table.into_iden(),
                BotFlows::Table.into_iden(),
                CampaignRecipients::Table.into_iden(),
                Campaigns::Table.into_iden(),
                Templates::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Templates {
    Table,
    Id,
    TenantId,
    WhatsappNumberId,
    WabaId,
    MetaTemplateId,
    Name,
    Language,
    Category,
    Status,
    Components,
    RejectedReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Campaigns {
    Table,
    Id,
    TenantId,
    Name,
    TemplateId,
    WhatsappNumberId,
    Status,
    ScheduledAt,
    StartedAt,
    CompletedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CampaignRecipients {
    Table,
    Id,
    TenantId,
    CampaignId,
    ContactId,
    Status,
    MessageId,
    ErrorCode,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BotFlows {
    Table,
    Id,
    TenantId,
    Name,
    Version,
    Definition,
    Active,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum KbArticles {
    Table,
    Id,
    TenantId,
    Title,
    Body,
    Tags,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AiInsights {
    Table,
    Id,
    TenantId,
    ConversationId,
    Kind,
    Content,
    Provider,
    Model,
    CreatedAt,
}
