//! The conversation lifecycle and the event sequence.
//!
//! * `event_sequences`: the last event sequence number of each tenant. Writers
//!   allocate numbers with one upsert whose row lock lasts until commit, so
//!   several daemons on one database commit a tenant's events in sequence
//!   order (the replacement of `MAX(seq) + 1`, which was only safe with one
//!   writer). Backfilled from `event_log`.
//! * `conversation_transitions`: every status change of a conversation, with
//!   who (a user, or the system) and why.
//! * conversation columns the timers are recomputed from after a restart:
//!   the last agent reply, since when the customer waits for one, the next
//!   timer due (what the timer sweep looks for after a restart or an actor
//!   eviction) and the moments each one-shot timer already fired.
//! * `uq_conversations_open`: at most one open conversation per contact and
//!   number (a partial unique index, the same on SQLite and PostgreSQL).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_tenants_and_auth::{Tenants, Users};
use crate::m20261123_000003_create_conversations_and_messages::Conversations;
use crate::util::{create_indexes, drop_tables, fk, index, pk_id};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Conversation columns added here, one `ALTER TABLE` each (SQLite allows one).
const NEW_CONVERSATION_COLUMNS: [Conv; 7] = [
    Conv::LastOutboundAt,
    Conv::AwaitingReplySince,
    Conv::NextTimerAt,
    Conv::FirstResponseBreachedAt,
    Conv::NextResponseBreachedAt,
    Conv::WindowWarnedAt,
    Conv::WindowClosedAt,
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EventSequences::Table)
                    .col(big_integer(EventSequences::TenantId).primary_key())
                    .col(big_integer(EventSequences::LastSeq))
                    .foreign_key(&mut fk(
                        EventSequences::Table,
                        EventSequences::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO event_sequences (tenant_id, last_seq) \
                 SELECT tenant_id, MAX(seq) FROM event_log GROUP BY tenant_id",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConversationTransitions::Table)
                    .col(pk_id(ConversationTransitions::Id))
                    .col(big_integer(ConversationTransitions::TenantId))
                    .col(big_integer(ConversationTransitions::ConversationId))
                    .col(string_null(ConversationTransitions::FromStatus))
                    .col(string(ConversationTransitions::ToStatus))
                    .col(big_integer_null(ConversationTransitions::UserId))
                    .col(string(ConversationTransitions::Reason))
                    .col(timestamp_with_time_zone(ConversationTransitions::CreatedAt))
                    .foreign_key(&mut fk(
                        ConversationTransitions::Table,
                        ConversationTransitions::TenantId,
                        Tenants::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        ConversationTransitions::Table,
                        ConversationTransitions::ConversationId,
                        Conversations::Table,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        ConversationTransitions::Table,
                        ConversationTransitions::UserId,
                        Users::Table,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for col in NEW_CONVERSATION_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversations::Table)
                        .add_column(timestamp_with_time_zone_null(col))
                        .to_owned(),
                )
                .await?;
        }
        // earlier writers could open a second conversation in a race: keep the
        // newest open one per (contact, number), resolve the others
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE conversations SET status = 'resolved' \
                 WHERE status <> 'resolved' AND id NOT IN ( \
                   SELECT MAX(id) FROM conversations WHERE status <> 'resolved' \
                   GROUP BY tenant_id, contact_id, whatsapp_number_id)",
            )
            .await?;
        // open conversations get their timers looked at once after the upgrade
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE conversations SET next_timer_at = updated_at, \
                 awaiting_reply_since = CASE WHEN first_response_at IS NULL \
                   THEN last_inbound_at ELSE NULL END \
                 WHERE status <> 'resolved'",
            )
            .await?;
        // at most one open conversation per (contact, number): concurrent writers
        // (two per daemon, or several daemons) cannot open a second one
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_conversations_open \
                 ON conversations (tenant_id, contact_id, whatsapp_number_id) \
                 WHERE status <> 'resolved'",
            )
            .await?;
        create_indexes(
            manager,
            vec![
                index(
                    "idx_conversation_transitions_tenant_id_conversation_id",
                    ConversationTransitions::Table,
                    [
                        ConversationTransitions::TenantId,
                        ConversationTransitions::ConversationId,
                    ],
                ),
                // the timer sweep: conversations whose next timer is due
                index(
                    "idx_conversations_next_timer_at",
                    Conversations::Table,
                    [Conv::NextTimerAt],
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX uq_conversations_open")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_conversations_next_timer_at")
                    .table(Conversations::Table)
                    .to_owned(),
            )
            .await?;
        for col in NEW_CONVERSATION_COLUMNS.into_iter().rev() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Conversations::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        drop_tables(
            manager,
            vec![
                ConversationTransitions::Table.into_iden(),
                EventSequences::Table.into_iden(),
            ],
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Conv {
    LastOutboundAt,
    AwaitingReplySince,
    NextTimerAt,
    FirstResponseBreachedAt,
    NextResponseBreachedAt,
    WindowWarnedAt,
    WindowClosedAt,
}

#[derive(DeriveIden)]
pub enum EventSequences {
    Table,
    TenantId,
    LastSeq,
}

#[derive(DeriveIden)]
pub enum ConversationTransitions {
    Table,
    Id,
    TenantId,
    ConversationId,
    FromStatus,
    ToStatus,
    UserId,
    Reason,
    CreatedAt,
}
