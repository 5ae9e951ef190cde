//! `users` table: Human users (admins, managers, agents). `password_hash` is null until an invite is accepted.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    #[sea_orm(unique)]
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub disabled: bool,
    #[sea_orm(unique)]
    pub invite_token_hash: Option<String>,
    pub invite_expires_at: Option<ChronoDateTimeUtc>,
    pub last_login_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::tenants::Entity",
        from = "Column::TenantId",
        to = "super::tenants::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Tenants,
    #[sea_orm(has_many = "super::api_keys::Entity")]
    ApiKeys,
    #[sea_orm(has_many = "super::department_members::Entity")]
    DepartmentMembers,
    #[sea_orm(has_many = "super::agent_skills::Entity")]
    AgentSkills,
    #[sea_orm(has_many = "super::agent_presence::Entity")]
    AgentPresence,
    #[sea_orm(has_many = "super::conversations::Entity")]
    Conversations,
    #[sea_orm(has_many = "super::messages::Entity")]
    Messages,
    #[sea_orm(has_many = "super::campaigns::Entity")]
    Campaigns,
    #[sea_orm(has_many = "super::bot_flows::Entity")]
    BotFlows,
    #[sea_orm(has_many = "super::erasure_requests::Entity")]
    ErasureRequests,
    #[sea_orm(has_many = "super::audit_log::Entity")]
    AuditLog,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl Related<super::api_keys::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKeys.def()
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

impl Related<super::campaigns::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaigns.def()
    }
}

impl Related<super::bot_flows::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BotFlows.def()
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

/// Departments the user belongs to, via `department_members`.
impl Related<super::departments::Entity> for Entity {
    fn to() -> RelationDef {
        super::department_members::Relation::Departments.def()
    }

    fn via() -> Option<RelationDef> {
        Some(super::department_members::Relation::Users.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
