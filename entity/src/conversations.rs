//! `conversations` table: Conversations between a contact and a number. `status` is `bot` | `queued` | `assigned` | `snoozed` | `resolved`.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub contact_id: i64,
    pub whatsapp_number_id: i64,
    pub status: String,
    pub department_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub priority: i32,
    pub last_inbound_at: Option<ChronoDateTimeUtc>,
    pub window_expires_at: Option<ChronoDateTimeUtc>,
    pub first_response_at: Option<ChronoDateTimeUtc>,
    pub snoozed_until: Option<ChronoDateTimeUtc>,
    pub resolved_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub updated_at: ChronoDateTimeUtc,
    /// The last reply from an agent (or the bot) to the customer.
    pub last_outbound_at: Option<ChronoDateTimeUtc>,
    /// The first inbound message not yet answered (null: nobody is waiting).
    pub awaiting_reply_since: Option<ChronoDateTimeUtc>,
    /// When the conversation actor must next look at its timers (null: none pending).
    pub next_timer_at: Option<ChronoDateTimeUtc>,
    /// When the first-response SLA breach fired (so it fires once).
    pub first_response_breached_at: Option<ChronoDateTimeUtc>,
    /// When the next-response SLA breach for the current wait fired.
    pub next_response_breached_at: Option<ChronoDateTimeUtc>,
    /// When the window-closing warning for the current window fired.
    pub window_warned_at: Option<ChronoDateTimeUtc>,
    /// When the window-closed event for the current window fired.
    pub window_closed_at: Option<ChronoDateTimeUtc>,
    /// When the retention timer erased the contents of its messages.
    pub content_erased_at: Option<ChronoDateTimeUtc>,
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
        belongs_to = "super::contacts::Entity",
        from = "Column::ContactId",
        to = "super::contacts::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Contacts,
    #[sea_orm(
        belongs_to = "super::whatsapp_numbers::Entity",
        from = "Column::WhatsappNumberId",
        to = "super::whatsapp_numbers::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    WhatsappNumbers,
    #[sea_orm(
        belongs_to = "super::departments::Entity",
        from = "Column::DepartmentId",
        to = "super::departments::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    Departments,
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::AssigneeId",
        to = "super::users::Column::Id",
        on_update = "NoAction",
        on_delete = "SetNull"
    )]
    Users,
    #[sea_orm(has_many = "super::messages::Entity")]
    Messages,
    #[sea_orm(has_many = "super::ai_insights::Entity")]
    AiInsights,
}

impl Related<super::tenants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tenants.def()
    }
}

impl Related<super::contacts::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Contacts.def()
    }
}

impl Related<super::whatsapp_numbers::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::WhatsappNumbers.def()
    }
}

impl Related<super::departments::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Departments.def()
    }
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl Related<super::messages::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Messages.def()
    }
}

impl Related<super::ai_insights::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AiInsights.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
