//! `templates` table: WhatsApp message templates, mirrored from Meta.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "templates")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub whatsapp_number_id: Option<i64>,
    pub waba_id: String,
    pub meta_template_id: Option<String>,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    #[sea_orm(column_type = "JsonBinary")]
    pub components: Json,
    pub rejected_reason: Option<String>,
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
        belongs_to = "super::whatsapp_numbers::Entity",
        from = "Column::WhatsappNumberId",
        to = "super::whatsapp_numbers::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    WhatsappNumbers,
    #[sea_orm(has_many = "super::campaigns::Entity")]
    Campaigns,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl Related<super::whatsapp_numbers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WhatsappNumbers.def()
    }
}

impl Related<super::campaigns::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Campaigns.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
