//! `conversation_transitions` table: every status change of a conversation.
//! `user_id` is the user who caused it (null: the system, e.g. a timer);
//! `reason` is `inbound` | `reopened` | `assigned` | `unassigned` | `resolved` |
//! `snoozed` | `woke` | `auto_resolved` | `bot_handoff` | …

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "conversation_transitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub tenant_id: i64,
    pub conversation_id: i64,
    pub from_status: Option<String>,
    pub to_status: String,
    pub user_id: Option<i64>,
    pub reason: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::conversations::Entity",
        from = "Column::ConversationId",
        to = "super::conversations::Column::Id",
        on_update = "NoAction",
        on_delete = "Cascade"
    )]
    Conversations,
}

impl Related<super::conversations::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Conversations.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
