//! sea-orm entities of Switchboard, one module per table.
//!
//! The schema itself is owned by the `migration` crate; these entities mirror it
//! and must be kept in sync by hand. Conventions:
//!
//! * every table has an `i64` auto-increment `id` primary key;
//! * every table except `tenants` has a `tenant_id` (cascade-deleted with the tenant);
//! * timestamps are `ChronoDateTimeUtc`, JSON columns are `serde_json::Value`;
//! * enumerations (roles, statuses, ...) are plain `String` columns; the allowed
//!   values are listed in each module's documentation.
//!
//! Each entity has `belongs_to` relations for its foreign keys, `has_many`
//! relations for the tables that reference it, and the matching `Related` impls.
//! [`prelude`] re-exports every `Entity` under the table's CamelCase name.

pub mod agent_presence;
pub mod agent_skills;
pub mod ai_insights;
pub mod api_keys;
pub mod audit_log;
pub mod bot_flows;
pub mod campaign_recipients;
pub mod campaigns;
pub mod contacts;
pub mod conversation_transitions;
pub mod conversations;
pub mod department_members;
pub mod departments;
pub mod erasure_requests;
pub mod event_log;
pub mod event_sequences;
pub mod kb_articles;
pub mod media_files;
pub mod message_status_events;
pub mod messages;
pub mod outbox;
pub mod retention_policies;
pub mod templates;
pub mod tenants;
pub mod users;
pub mod whatsapp_numbers;

/// Every entity under its CamelCase table name, e.g. `Tenants`, `Users`.
pub mod prelude {
    pub use super::agent_presence::Entity as AgentPresence;
    pub use super::agent_skills::Entity as AgentSkills;
    pub use super::ai_insights::Entity as AiInsights;
    pub use super::api_keys::Entity as ApiKeys;
    pub use super::audit_log::Entity as AuditLog;
    pub use super::bot_flows::Entity as BotFlows;
    pub use super::campaign_recipients::Entity as CampaignRecipients;
    pub use super::campaigns::Entity as Campaigns;
    pub use super::contacts::Entity as Contacts;
    pub use super::conversation_transitions::Entity as ConversationTransitions;
    pub use super::conversations::Entity as Conversations;
    pub use super::department_members::Entity as DepartmentMembers;
    pub use super::departments::Entity as Departments;
    pub use super::erasure_requests::Entity as ErasureRequests;
    pub use super::event_log::Entity as EventLog;
    pub use super::event_sequences::Entity as EventSequences;
    pub use super::kb_articles::Entity as KbArticles;
    pub use super::media_files::Entity as MediaFiles;
    pub use super::message_status_events::Entity as MessageStatusEvents;
    pub use super::messages::Entity as Messages;
    pub use super::outbox::Entity as Outbox;
    pub use super::retention_policies::Entity as RetentionPolicies;
    pub use super::templates::Entity as Templates;
    pub use super::tenants::Entity as Tenants;
    pub use super::users::Entity as Users;
    pub use super::whatsapp_numbers::Entity as WhatsappNumbers;
}
