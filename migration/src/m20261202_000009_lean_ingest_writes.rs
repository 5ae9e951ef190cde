//! Cheaper ingest writes on PostgreSQL, where every inbound message inserts
//! a `messages` row and an `event_log` row and refreshes its conversation
//! (measured in BENCHMARKS.md, session 5):
//!
//! * `conversations` drops `(tenant_id, status, updated_at)` for
//!   `(tenant_id, status)`: `updated_at` changes with every message, and an
//!   indexed column that changes makes every refresh a non-HOT update that
//!   inserts into all seven indexes (about 4× the cost of a HOT one). A
//!   list sorted by activity must not index a column the writer moves.
//! * `conversations` gets `fillfactor = 70` on PostgreSQL, so refreshed rows
//!   find room on their page (HOT needs it).
//! * PostgreSQL only: the foreign keys `messages.tenant_id`,
//!   `messages.contact_id` and `event_log.tenant_id` are dropped. Each was a
//!   row-locking trigger query per inserted row, about half of the cost of
//!   a message insert. They were redundant for erasure: a message belongs
//!   to its conversation (`messages.conversation_id` keeps its cascading
//!   key), which belongs to the tenant and the contact; the event log is
//!   written only by the ingest writer for tenants it resolved; deleting a
//!   tenant still deletes its log, through the trigger
//!   `tenants_delete_event_log` (one indexed delete per deleted tenant
//!   instead of a check per appended event). SQLite cannot drop a foreign
//!   key without rebuilding the table, and its checks are cheap: it keeps
//!   them.

use sea_orm_migration::prelude::*;

use crate::m20261123_000003_create_conversations_and_messages::Conversations;

#[derive(DeriveMigrationName)]
pub struct Migration;

const DROPPED_KEYS: [(&str, &str, &str, &str); 3] = [
    ("messages", "fk_messages_tenant_id", "tenant_id", "tenants"),
    (
        "messages",
        "fk_messages_contact_id",
        "contact_id",
        "contacts",
    ),
    (
        "event_log",
        "fk_event_log_tenant_id",
        "tenant_id",
        "tenants",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_conversations_tenant_id_status_updated_at")
                    .table(Conversations::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_tenant_id_status")
                    .table(Conversations::Table)
                    .col(Conversations::TenantId)
                    .col(Conversations::Status)
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared("ALTER TABLE conversations SET (fillfactor = 70)")
                .await?;
            for (table, name, _, _) in DROPPED_KEYS {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}"
                ))
                .await?;
            }
            db.execute_unprepared(
                "CREATE FUNCTION switchboard_delete_tenant_event_log() RETURNS trigger \
                 LANGUAGE plpgsql AS $$ BEGIN \
                 DELETE FROM event_log WHERE tenant_id = OLD.id; RETURN OLD; END $$",
            )
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER tenants_delete_event_log AFTER DELETE ON tenants \
                 FOR EACH ROW EXECUTE FUNCTION switchboard_delete_tenant_event_log()",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            let db = manager.get_connection();
            db.execute_unprepared("DROP TRIGGER IF EXISTS tenants_delete_event_log ON tenants")
                .await?;
            db.execute_unprepared("DROP FUNCTION IF EXISTS switchboard_delete_tenant_event_log()")
                .await?;
            for (table, name, column, target) in DROPPED_KEYS {
                db.execute_unprepared(&format!(
                    "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column}) \
                     REFERENCES {target}(id) ON DELETE CASCADE"
                ))
                .await?;
            }
            db.execute_unprepared("ALTER TABLE conversations RESET (fillfactor)")
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_conversations_tenant_id_status")
                    .table(Conversations::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversations_tenant_id_status_updated_at")
                    .table(Conversations::Table)
                    .col(Conversations::TenantId)
                    .col(Conversations::Status)
                    .col(Conversations::UpdatedAt)
                    .to_owned(),
            )
            .await
    }
}
