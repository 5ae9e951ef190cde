//! Conversation rows as the lifecycle and the timers change them. Every
//! status change goes with a `conversation_transitions` row in the same
//! transaction.

use chrono::{DateTime, Utc};
use entity::{contacts, conversation_transitions, conversations};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityName, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

/// One status change to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub tenant_id: i64,
    pub conversation_id: i64,
    pub from: Option<String>,
    pub to: String,
    /// The user who caused it; `None` for the system (a customer's message, a timer).
    pub user_id: Option<i64>,
    pub reason: String,
}

/// Inserts `rows` into `conversation_transitions`.
pub async fn record_transitions(
    txn: &impl ConnectionTrait,
    rows: &[Transition],
    t: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in rows.chunks(500) {
        let mut q = Query::insert();
        q.into_table(conversation_transitions::Entity.table_ref())
            .columns([
                conversation_transitions::Column::TenantId,
                conversation_transitions::Column::ConversationId,
                conversation_transitions::Column::FromStatus,
                conversation_transitions::Column::ToStatus,
                conversation_transitions::Column::UserId,
                conversation_transitions::Column::Reason,
                conversation_transitions::Column::CreatedAt,
            ]);
        for r in chunk {
            q.values([
                r.tenant_id.into(),
                r.conversation_id.into(),
                r.from.clone().into(),
                r.to.clone().into(),
                r.user_id.into(),
                r.reason.clone().into(),
                t.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        txn.execute(&q).await?;
    }
    Ok(())
}

/// The conversation a conversation actor keyed by (tenant, number, contact
/// `wa_id`) stands for: the open one, else the newest. `None` when the
/// contact never wrote on that number.
pub async fn for_key(
    db: &impl ConnectionTrait,
    tenant_id: i64,
    number_id: i64,
    wa_id: &str,
) -> Result<Option<conversations::Model>, DbErr> {
    let Some(contact) = contacts::Entity::find()
        .filter(contacts::Column::TenantId.eq(tenant_id))
        .filter(contacts::Column::WaId.eq(wa_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let mut rows = conversations::Entity::find()
        .filter(conversations::Column::TenantId.eq(tenant_id))
        .filter(conversations::Column::ContactId.eq(contact.id))
        .filter(conversations::Column::WhatsappNumberId.eq(number_id))
        .order_by_desc(conversations::Column::Id)
        .all(db)
        .await?;
    let open = rows.iter().position(|c| c.status != "resolved");
    Ok(match open {
        Some(i) => Some(rows.swap_remove(i)),
        None => rows.into_iter().next(),
    })
}

/// `column` equals `v`, with null equal to null.
pub fn same(column: conversations::Column, v: Option<DateTime<Utc>>) -> Expr {
    match v {
        Some(v) => Expr::col(column).eq(v),
        None => Expr::col(column).is_null(),
    }
}

/// Sets `column` to `t` if it is still null (a timer's "fired" mark) and
/// `still` holds (the timer still applies to the row as it is now); true
/// when this call set it, so only one daemon acts on a timer, and never on a
/// row that changed since it was read.
pub async fn mark_once(
    txn: &impl ConnectionTrait,
    id: i64,
    column: conversations::Column,
    t: DateTime<Utc>,
    still: Expr,
) -> Result<bool, DbErr> {
    mark_when(txn, id, column, t, Expr::col(column).is_null().and(still)).await
}

/// Sets `column` of conversation `id` to `t` if `condition` holds; true when
/// this call set it. [`mark_once`] for marks that a later event makes due
/// again (the condition says when the mark is stale).
pub async fn mark_when(
    txn: &impl ConnectionTrait,
    id: i64,
    column: conversations::Column,
    t: DateTime<Utc>,
    condition: Expr,
) -> Result<bool, DbErr> {
    let q = Query::update()
        .table(conversations::Entity.table_ref())
        .value(column, t)
        .and_where(Expr::col(conversations::Column::Id).eq(id))
        .and_where(condition)
        .to_owned();
    Ok(txn.execute(&q).await?.rows_affected() == 1)
}

/// Erases the contents of conversation `id`'s messages (content becomes
/// null; the messages stay, with kind, direction, times and statuses) and marks their media files erased.
/// Returns the media store paths of the files to delete after commit.
pub async fn erase_contents(
    txn: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
    t: DateTime<Utc>,
) -> Result<Vec<String>, DbErr> {
    use entity::{media_files, messages};
    let of_conversation = || {
        Query::select()
            .column(messages::Column::Id)
            .from(messages::Entity.table_ref())
            .and_where(Expr::col(messages::Column::TenantId).eq(tenant_id))
            .and_where(Expr::col(messages::Column::ConversationId).eq(id))
            .to_owned()
    };
    let paths: Vec<String> = media_files::Entity::find()
        .filter(media_files::Column::TenantId.eq(tenant_id))
        .filter(media_files::Column::MessageId.in_subquery(of_conversation()))
        .filter(media_files::Column::Path.is_not_null())
        .all(txn)
        .await?
        .into_iter()
        .filter_map(|m| m.path)
        .collect();
    let q = Query::update()
        .table(media_files::Entity.table_ref())
        .value(media_files::Column::Status, "erased")
        .value(media_files::Column::Path, Option::<String>::None)
        .value(media_files::Column::UpdatedAt, t)
        .and_where(Expr::col(media_files::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(media_files::Column::MessageId).in_subquery(of_conversation()))
        .to_owned();
    txn.execute(&q).await?;
    let q = Query::update()
        .table(messages::Entity.table_ref())
        .value(messages::Column::Content, sea_orm::Value::Json(None))
        .and_where(Expr::col(messages::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(messages::Column::ConversationId).eq(id))
        .to_owned();
    txn.execute(&q).await?;
    Ok(paths)
}

/// Which of `paths` a media file that is not erased still points at (files
/// are named by their content, so equal media share one).
pub async fn media_paths_in_use(
    db: &impl ConnectionTrait,
    paths: &[String],
) -> Result<std::collections::HashSet<String>, DbErr> {
    use entity::media_files;
    Ok(media_files::Entity::find()
        .filter(media_files::Column::Path.is_in(paths.iter().cloned()))
        .filter(media_files::Column::Status.ne("erased"))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| m.path)
        .collect())
}

/// Wakes snoozed conversation `id` (back to its agent, or to the queue): the
/// change, with the transition to record and the event to publish; `None`
/// when it is no longer snoozed (another writer got there first).
pub async fn wake(
    txn: &impl ConnectionTrait,
    tenant_id: i64,
    id: i64,
    assignee: Option<i64>,
    t: DateTime<Utc>,
) -> Result<Option<(Transition, crate::bus::EventKind)>, DbErr> {
    use crate::actors::lifecycle::{Status, back_from_pause};
    let to = back_from_pause(assignee);
    let q = Query::update()
        .table(conversations::Entity.table_ref())
        .value(conversations::Column::Status, to.as_str())
        .value(
            conversations::Column::SnoozedUntil,
            Option::<DateTime<Utc>>::None,
        )
        .value(conversations::Column::UpdatedAt, t)
        .value(conversations::Column::NextTimerAt, t)
        .and_where(Expr::col(conversations::Column::Id).eq(id))
        .and_where(Expr::col(conversations::Column::Status).eq(Status::Snoozed.as_str()))
        .to_owned();
    if txn.execute(&q).await?.rows_affected() != 1 {
        return Ok(None);
    }
    let snoozed = Some(Status::Snoozed.as_str().to_string());
    Ok(Some((
        Transition {
            tenant_id,
            conversation_id: id,
            from: snoozed.clone(),
            to: to.as_str().into(),
            user_id: None,
            reason: "woke".into(),
        },
        crate::bus::EventKind::ConversationUpdated {
            conversation_id: id,
            status: to.as_str().into(),
            previous: snoozed,
            reason: "woke".into(),
            by_user: None,
        },
    )))
}

/// Records a reply to the customer at `t`: the first response if it is one,
/// the end of the customer's wait, and a timer re-plan.
pub async fn replied(txn: &impl ConnectionTrait, id: i64, t: DateTime<Utc>) -> Result<(), DbErr> {
    let q = Query::update()
        .table(conversations::Entity.table_ref())
        .value(conversations::Column::LastOutboundAt, t)
        .value(
            conversations::Column::FirstResponseAt,
            sea_orm::sea_query::Func::coalesce([
                Expr::col(conversations::Column::FirstResponseAt),
                Expr::val(t),
            ]),
        )
        .value(
            conversations::Column::AwaitingReplySince,
            Option::<DateTime<Utc>>::None,
        )
        .value(
            conversations::Column::NextResponseBreachedAt,
            Option::<DateTime<Utc>>::None,
        )
        .value(conversations::Column::NextTimerAt, t)
        .value(conversations::Column::UpdatedAt, t)
        .and_where(Expr::col(conversations::Column::Id).eq(id))
        .to_owned();
    txn.execute(&q).await?;
    Ok(())
}

/// Stores when the conversation's actor must next look at its timers, unless
/// the stored value changed since it was read (`was`): a writer that stored
/// a newer deadline meanwhile keeps it.
pub async fn set_next_timer(
    db: &impl ConnectionTrait,
    id: i64,
    was: Option<DateTime<Utc>>,
    at: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    let q = Query::update()
        .table(conversations::Entity.table_ref())
        .value(conversations::Column::NextTimerAt, at)
        .and_where(Expr::col(conversations::Column::Id).eq(id))
        .and_where(same(conversations::Column::NextTimerAt, was))
        .to_owned();
    db.execute(&q).await?;
    Ok(())
}

/// A conversation whose timers are due, with what its actor is keyed by.
#[derive(Debug, Clone, PartialEq)]
pub struct DueTimer {
    /// The row as the sweep read it.
    pub row: conversations::Model,
    /// Its customer's WhatsApp id (with the row's tenant and number, the
    /// actor's key).
    pub wa_id: String,
}

/// Conversations whose `next_timer_at` is at or before `now`, oldest first.
pub async fn due_timers(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DueTimer>, DbErr> {
    let rows = conversations::Entity::find()
        .filter(conversations::Column::NextTimerAt.lte(now))
        // resolved conversations too: their retention timer
        .order_by_asc(conversations::Column::NextTimerAt)
        .limit(limit)
        .find_also_related(contacts::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(c, contact)| {
            Some(DueTimer {
                wa_id: contact?.wa_id,
                row: c,
            })
        })
        .collect())
}

/// A queued conversation `id` (tenant, contact and number 1) opened by a
/// customer's message at `at`, waiting for a reply: for unit tests.
#[cfg(test)]
pub fn queued(id: i64, at: DateTime<Utc>) -> conversations::Model {
    conversations::Model {
        id,
        tenant_id: 1,
        contact_id: 1,
        whatsapp_number_id: 1,
        status: "queued".into(),
        department_id: None,
        assignee_id: None,
        priority: 0,
        last_inbound_at: Some(at),
        window_expires_at: Some(at + chrono::Duration::hours(24)),
        first_response_at: None,
        snoozed_until: None,
        resolved_at: None,
        created_at: at,
        updated_at: at,
        last_outbound_at: None,
        awaiting_reply_since: Some(at),
        next_timer_at: Some(at),
        first_response_breached_at: None,
        next_response_breached_at: None,
        window_warned_at: None,
        window_closed_at: None,
        content_erased_at: None,
    }
}
