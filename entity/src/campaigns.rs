//! `campaigns` table: Bulk template sends.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub template_id: i64,
    pub whatsapp_number_id: i64,
    pub status: String,
    pub scheduled_at: Option<ChronoDateTimeUtc>,
    pub started_at: Option<ChronoDateTimeUtc>,
    pub completed_at: Option<ChronoDateTimeUtc>,
    pub created_by: Option<i64>,
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
    #[sea_orm(
        belongs_to = "super::templates::Entity",
        from = "Column::TemplateId",
        to = "super::templates::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Templates,
    #[sea_orm(
        belongs_to = "super::whatsapp_numbers::Entity",
        from = "Column::WhatsappNumberId",
        to = "super::whatsapp_numbers::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    WhatsappNumbers,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::CreatedBy",
        to = "super::users::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    Users,
    #[sea_orm(has_many = "super::campaign_recipients::Entity")]
    CampaignRecipients,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl Related<super::templates::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Templates.def()
    }
}

impl Related<super::whatsapp_numbers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WhatsappNumbers.def()
    }
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl Related<super::campaign_recipients::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CampaignRecipients.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
