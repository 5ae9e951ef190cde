//! `tenants` table: A customer organisation; every other table hangs off a tenant.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "tenants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub name: String,
    pub time_zone: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub settings: Json,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::users::Entity")]
    Users,
    #[sea_orm(has_many = "super::api_keys::Entity")]
    ApiKeys,
    #[sea_orm(has_many = "super::departments::Entity")]
    Departments,
    #[sea_orm(has_many = "super::department_members::Entity")]
    DepartmentMembers,
    #[sea_orm(has_many = "super::agent_skills::Entity")]
    AgentSkills,
    #[sea_orm(has_many = "super::agent_presence::Entity")]
    AgentPresence,
    #[sea_orm(has_many = "super::whatsapp_numbers::Entity")]
    WhatsappNumbers,
    #[sea_orm(has_many = "super::contacts::Entity")]
    Contacts,
    #[sea_orm(has_many = "super::conversations::Entity")]
    Conversations,
    #[sea_orm(has_many = "super::messages::Entity")]
    Messages,
    #[sea_orm(has_many = "super::message_status_events::Entity")]
    MessageStatusEvents,
    #[sea_orm(has_many = "super::templates::Entity")]
    Templates,
    #[sea_orm(has_many = "super::campaigns::Entity")]
    Campaigns,
    #[sea_orm(has_many = "super::campaign_recipients::Entity")]
    CampaignRecipients,
    #[sea_orm(has_many = "super::bot_flows::Entity")]
    BotFlows,
    #[sea_orm(has_many = "super::kb_articles::Entity")]
    KbArticles,
    #[sea_orm(has_many = "super::ai_insights::Entity")]
    AiInsights,
    #[sea_orm(has_many = "super::retention_policies::Entity")]
    RetentionPolicies,
    #[sea_orm(has_many = "super::erasure_requests::Entity")]
    ErasureRequests,
    #[sea_orm(has_many = "super::audit_log::Entity")]
    AuditLog,
    #[sea_orm(has_many = "super::outbox::Entity")]
    Outbox,
    #[sea_orm(has_many = "super::event_log::Entity")]
    EventLog,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl Related<super::api_keys::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKeys.def()
    }
}

impl Related<super::departments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Departments.def()
    }
}

impl Related<super::department_members::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::DepartmentMembers.def()
    }
}

impl Related<super::agent_skills::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AgentSkills.def()
    }
}

impl Related<super::agent_presence::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AgentPresence.def()
    }
}

impl Related<super::whatsapp_numbers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WhatsappNumbers.def()
    }
}

impl Related<super::contacts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contacts.def()
    }
}

impl Related<super::conversations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversations.def()
    }
}

impl Related<super::messages::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Messages.def()
    }
}

impl Related<super::message_status_events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MessageStatusEvents.def()
    }
}

impl Related<super::templates::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Templates.def()
    }
}

impl Related<super::campaigns::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaigns.def()
    }
}

impl Related<super::campaign_recipients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CampaignRecipients.def()
    }
}

impl Related<super::bot_flows::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BotFlows.def()
    }
}

impl Related<super::kb_articles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::KbArticles.def()
    }
}

impl Related<super::ai_insights::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AiInsights.def()
    }
}

impl Related<super::retention_policies::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RetentionPolicies.def()
    }
}

impl Related<super::erasure_requests::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ErasureRequests.def()
    }
}

impl Related<super::audit_log::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuditLog.def()
    }
}

impl Related<super::outbox::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Outbox.def()
    }
}

impl Related<super::event_log::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::EventLog.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
