//! Writes one [`BatchPlan`] in one transaction with set-based statements:
//! contacts upserted, open conversations found or opened, inbound messages
//! inserted `ON CONFLICT DO NOTHING` on (tenant, wamid), status events stored
//! and message statuses moved forward only.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use entity::{
    bot_flows, contacts, conversations, event_log, event_sequences, media_files,
    message_status_events, messages, outbox, templates,
};
use sea_orm::sea_query::{
    CaseStatement, Expr, ExprTrait, Func, OnConflict, Query, ReturningClause,
};
use sea_orm::{ConnectionTrait, DbErr, EntityName, FromQueryResult, IdenStatic};

use super::plan::{BatchPlan, InboundRow, status_rank, status_rank_sql};
use crate::actors::lifecycle::{Status, back_from_pause};
use crate::bus::EventKind;
use crate::store::conversations::{Transition, record_transitions};

/// The customer-service window opened by an inbound message.
pub const SERVICE_WINDOW: Duration = Duration::hours(24);

/// Lifecycle settings the writer applies when messages open conversations.
#[derive(Debug, Clone)]
pub struct WriteOptions {
    /// A message within this long of a resolution reopens the conversation.
    pub reopen_window: Duration,
    /// Contacts committed recently (shared by the writers).
    pub contacts: std::sync::Arc<super::contacts::ContactCache>,
    /// The conversation timers, so the writer stores each conversation's
    /// exact next deadline with the message (no sweep tick per message).
    pub timers: crate::actors::timers::Policy,
}

impl Default for WriteOptions {
    fn default() -> Self {
        Self {
            reopen_window: Duration::hours(24),
            contacts: Default::default(),
            timers: crate::actors::timers::Policy::from(
                &crate::config::ConversationSettings::default(),
            ),
        }
    }
}

/// An inbound message stored by this batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    pub id: i64,
    pub tenant_id: i64,
    pub conversation_id: i64,
    pub wamid: String,
    pub kind: String,
}

/// Wall time of each step of a batch, for `switchboard_ingest_step_seconds`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Steps {
    last: Option<std::time::Instant>,
    /// (step, time since the previous lap)
    pub laps: Vec<(&'static str, std::time::Duration)>,
}

impl Steps {
    /// Starts timing now.
    pub fn start() -> Self {
        Self {
            last: Some(std::time::Instant::now()),
            laps: Vec::new(),
        }
    }

    /// Records the time since the previous lap as `step`.
    pub fn lap(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        if let Some(last) = self.last.replace(now) {
            self.laps.push((step, now - last));
        }
    }
}

/// What a committed batch changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// Inbound messages new to the database.
    pub inserted: Vec<Inserted>,
    /// Inbound messages that were already stored (retries).
    pub duplicates: usize,
    /// Status events applied.
    pub statuses: usize,
    /// Media downloads queued (rows in `media_files`).
    pub media: usize,
    /// Events appended to the event log, in sequence order per tenant.
    pub events: Vec<crate::bus::Event>,
    /// Conversations opened by this batch: (tenant, conversation id).
    pub opened: Vec<(i64, i64)>,
    /// The conversations the new inbound messages went to, as committed
    /// (their actors take their state from here instead of reloading it).
    pub conversations: Vec<conversations::Model>,
    /// Contacts written, for the writer's contact cache (after the commit).
    pub contacts: Vec<((i64, String), super::contacts::Known)>,
    /// Where the batch's time went.
    pub steps: Steps,
}

impl WriteOutcome {
    /// Adds what `part` (another write of the same submission) changed.
    pub fn absorb(&mut self, part: WriteOutcome) {
        self.inserted.extend(part.inserted);
        self.duplicates += part.duplicates;
        self.statuses += part.statuses;
        self.media += part.media;
        self.events.extend(part.events);
        self.opened.extend(part.opened);
        self.conversations.extend(part.conversations);
    }
}

fn now() -> DateTime<Utc> {
    crate::store::now()
}

fn chunks<T>(v: &[T]) -> std::slice::Chunks<'_, T> {
    // keep every statement well under SQLite's 32766 bound parameters
    v.chunks(500)
}

fn ret(cols: impl IntoIterator<Item = &'static str>) -> ReturningClause {
    Query::returning().columns(cols.into_iter().map(sea_orm::sea_query::Alias::new))
}

/// Writes the plan; the caller owns the transaction.
pub async fn write_plan(
    txn: &impl ConnectionTrait,
    plan: &BatchPlan,
    opts: &WriteOptions,
) -> Result<WriteOutcome, DbErr> {
    let mut conversation_events: Vec<(i64, EventKind)> = Vec::new();
    let mut out = WriteOutcome {
        duplicates: plan.duplicates_in_batch,
        steps: Steps::start(),
        ..Default::default()
    };
    let t = now();

    // 1. contacts: upsert, keep the newer name and the latest inbound time
    //    (contacts the writer committed recently, unchanged, need no write)
    let mut contact_ids: HashMap<(i64, String), i64> = HashMap::new();
    let mut upsert: Vec<&super::plan::ContactRow> = Vec::with_capacity(plan.contacts.len());
    for c in &plan.contacts {
        match opts.contacts.fresh_id(c) {
            Some(id) => {
                contact_ids.insert((c.tenant_id, c.wa_id.clone()), id);
            }
            None => upsert.push(c),
        }
    }
    let last_inbound = "CASE WHEN contacts.last_inbound_at IS NULL OR excluded.last_inbound_at > contacts.last_inbound_at THEN excluded.last_inbound_at ELSE contacts.last_inbound_at END";
    for chunk in chunks(&upsert) {
        let mut q = Query::insert();
        q.into_table(contacts::Entity.table_ref()).columns([
            contacts::Column::TenantId,
            contacts::Column::WaId,
            contacts::Column::ProfileName,
            contacts::Column::Attributes,
            contacts::Column::Consent,
            contacts::Column::LastInboundAt,
            contacts::Column::CreatedAt,
            contacts::Column::UpdatedAt,
        ]);
        for c in chunk {
            q.values([
                c.tenant_id.into(),
                c.wa_id.clone().into(),
                c.profile_name.clone().into(),
                serde_json::json!({}).into(),
                "unknown".into(),
                c.last_inbound_at.into(),
                t.into(),
                t.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        q.on_conflict(
            OnConflict::columns([contacts::Column::TenantId, contacts::Column::WaId])
                .value(
                    contacts::Column::ProfileName,
                    Expr::cust(super::contacts::name_sql(
                        "contacts.profile_name",
                        "contacts.last_inbound_at",
                        "excluded.profile_name",
                        "excluded.last_inbound_at",
                    )),
                )
                .value(contacts::Column::LastInboundAt, Expr::cust(last_inbound))
                .value(
                    contacts::Column::UpdatedAt,
                    Expr::cust("excluded.updated_at"),
                )
                .to_owned(),
        )
        .returning(ret([
            "id",
            "tenant_id",
            "wa_id",
            "profile_name",
            "last_inbound_at",
        ]));
        for row in txn.query_all(&q).await? {
            let id: i64 = row.try_get("", "id")?;
            let tenant: i64 = row.try_get("", "tenant_id")?;
            let wa_id: String = row.try_get("", "wa_id")?;
            out.contacts.push((
                (tenant, wa_id.clone()),
                super::contacts::Known {
                    id,
                    name: row.try_get("", "profile_name")?,
                    last_inbound_at: row.try_get("", "last_inbound_at")?,
                },
            ));
            contact_ids.insert((tenant, wa_id), id);
        }
    }

    out.steps.lap("contacts");

    // 2. inbound messages: only new wamids go in
    if plan.inbound.is_empty()
        && plan.status_updates.is_empty()
        && plan.templates.is_empty()
        && plan.accepted.is_empty()
        && plan.events.is_empty()
    {
        return Ok(out);
    }
    // outbound messages the Cloud API accepted: wamid on the message, outbox row done
    for a in &plan.accepted {
        let q = Query::update()
            .table(messages::Entity.table_ref())
            .value(messages::Column::WaMessageId, a.wamid.clone())
            .and_where(Expr::col(messages::Column::Id).eq(a.message_id))
            .and_where(Expr::col(messages::Column::TenantId).eq(a.tenant_id))
            .to_owned();
        txn.execute(&q).await?;
        let q = Query::update()
            .table(outbox::Entity.table_ref())
            .value(outbox::Column::Status, "sent")
            .value(outbox::Column::Attempts, a.attempts)
            .value(outbox::Column::LastError, Option::<String>::None)
            .value(outbox::Column::UpdatedAt, t)
            .and_where(Expr::col(outbox::Column::Id).eq(a.outbox_id))
            .to_owned();
        txn.execute(&q).await?;
    }
    if !plan.inbound.is_empty() {
        // retries of stored messages must not open conversations: keep the new ones only
        let (stored, open) = look_up(txn, plan, &contact_ids).await?;
        let fresh: Vec<&InboundRow> = plan
            .inbound
            .iter()
            .filter(|m| !stored.contains(&(m.tenant_id, m.wamid.clone())))
            .collect();
        out.duplicates += plan.inbound.len() - fresh.len();
        out.steps.lap("dedupe");
        let opened = open_conversations(txn, &fresh, open, &contact_ids, t, opts).await?;
        out.steps.lap("conversations");
        out.opened = opened.new;
        out.conversations = opened.rows;
        conversation_events = opened.updated;
        let conv_ids = opened.ids;
        for chunk in chunks(&fresh) {
            let mut q = Query::insert();
            q.into_table(messages::Entity.table_ref()).columns([
                messages::Column::TenantId,
                messages::Column::ConversationId,
                messages::Column::ContactId,
                messages::Column::Direction,
                messages::Column::WaMessageId,
                messages::Column::Kind,
                messages::Column::Content,
                messages::Column::Status,
                messages::Column::WaTimestamp,
                messages::Column::CreatedAt,
            ]);
            for m in chunk {
                let contact = contact_ids
                    .get(&(m.tenant_id, m.from.clone()))
                    .copied()
                    .ok_or_else(|| DbErr::Custom(format!("contact {} not upserted", m.from)))?;
                let conv = conv_ids
                    .get(&(contact, m.number_id))
                    .copied()
                    .ok_or_else(|| DbErr::Custom("conversation not opened".into()))?;
                q.values([
                    m.tenant_id.into(),
                    conv.into(),
                    contact.into(),
                    "inbound".into(),
                    m.wamid.clone().into(),
                    m.kind.clone().into(),
                    serde_json::Value::clone(&m.content).into(),
                    "received".into(),
                    m.sent_at.into(),
                    t.into(),
                ])
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            }
            q.on_conflict(
                OnConflict::columns([messages::Column::TenantId, messages::Column::WaMessageId])
                    .do_nothing()
                    .to_owned(),
            )
            .returning(ret([
                "id",
                "tenant_id",
                "conversation_id",
                "wa_message_id",
                "kind",
            ]));
            for row in txn.query_all(&q).await? {
                out.inserted.push(Inserted {
                    id: row.try_get("", "id")?,
                    tenant_id: row.try_get("", "tenant_id")?,
                    conversation_id: row.try_get("", "conversation_id")?,
                    wamid: row.try_get("", "wa_message_id")?,
                    kind: row.try_get("", "kind")?,
                });
            }
        }
    }

    out.steps.lap("messages");

    // inbound media: a durable download job per new media message
    let media: Vec<(i64, i64, String)> = {
        let ids: HashMap<(i64, &str), i64> = out
            .inserted
            .iter()
            .map(|i| ((i.tenant_id, i.wamid.as_str()), i.id))
            .collect();
        plan.inbound
            .iter()
            .filter_map(|m| {
                let media_id = m.media_id.clone()?;
                let id = ids.get(&(m.tenant_id, m.wamid.as_str()))?;
                Some((m.tenant_id, *id, media_id))
            })
            .collect()
    };
    for chunk in chunks(&media) {
        let mut q = Query::insert();
        q.into_table(media_files::Entity.table_ref()).columns([
            media_files::Column::TenantId,
            media_files::Column::MessageId,
            media_files::Column::MediaId,
            media_files::Column::Status,
            media_files::Column::CreatedAt,
            media_files::Column::UpdatedAt,
        ]);
        for (tenant, message, media_id) in chunk {
            q.values([
                (*tenant).into(),
                (*message).into(),
                media_id.clone().into(),
                "pending".into(),
                t.into(),
                t.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        q.on_conflict(
            OnConflict::column(media_files::Column::MessageId)
                .do_nothing()
                .to_owned(),
        );
        txn.execute(&q).await?;
    }
    out.media = media.len();

    // 3. status events (idempotent) and forward-only status moves
    for chunk in chunks(&plan.status_events) {
        let mut q = Query::insert();
        q.into_table(message_status_events::Entity.table_ref())
            .columns([
                message_status_events::Column::TenantId,
                message_status_events::Column::WaMessageId,
                message_status_events::Column::Status,
                message_status_events::Column::ErrorCode,
                message_status_events::Column::Payload,
                message_status_events::Column::OccurredAt,
                message_status_events::Column::CreatedAt,
            ]);
        for s in chunk {
            q.values([
                s.tenant_id.into(),
                s.wamid.clone().into(),
                s.status.clone().into(),
                s.error_code.and_then(|c| i32::try_from(c).ok()).into(),
                serde_json::Value::clone(&s.payload).into(),
                s.at.into(),
                t.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        q.on_conflict(
            OnConflict::columns([
                message_status_events::Column::TenantId,
                message_status_events::Column::WaMessageId,
                message_status_events::Column::Status,
            ])
            .do_nothing()
            .to_owned(),
        );
        txn.execute(&q).await?;
    }
    // statuses that arrived before the wamid was known apply now, with this batch's
    let accepted: HashSet<(i64, &str)> = plan
        .accepted
        .iter()
        .map(|a| (a.tenant_id, a.wamid.as_str()))
        .collect();
    for u in &plan.status_updates {
        if accepted.contains(&(u.tenant_id, u.wamid.as_str())) {
            continue;
        }
        if let Some((message_id, conversation_id, status)) =
            apply_status(txn, u.tenant_id, &u.wamid, u).await?
        {
            conversation_events.push((
                u.tenant_id,
                EventKind::MessageStatusChanged {
                    message_id,
                    conversation_id,
                    status,
                },
            ));
        }
        out.statuses += 1;
    }
    if !plan.accepted.is_empty() {
        let mut early = Vec::new();
        for a in &plan.accepted {
            let q = Query::select()
                .columns([
                    message_status_events::Column::Status,
                    message_status_events::Column::ErrorCode,
                    message_status_events::Column::OccurredAt,
                ])
                .from(message_status_events::Entity.table_ref())
                .and_where(Expr::col(message_status_events::Column::TenantId).eq(a.tenant_id))
                .and_where(
                    Expr::col(message_status_events::Column::WaMessageId).eq(a.wamid.clone()),
                )
                .to_owned();
            for row in txn.query_all(&q).await? {
                let code: Option<i32> = row.try_get("", "error_code")?;
                early.push(super::plan::StatusRow {
                    tenant_id: a.tenant_id,
                    wamid: a.wamid.clone(),
                    status: row.try_get("", "status")?,
                    error_code: code.map(i64::from),
                    error_title: None,
                    at: row.try_get("", "occurred_at")?,
                    payload: std::sync::Arc::new(serde_json::Value::Null),
                });
            }
        }
        let replay = super::plan::plan(super::plan::BatchInput {
            statuses: early,
            ..Default::default()
        });
        for u in &replay.status_updates {
            if let Some((message_id, conversation_id, status)) =
                apply_status(txn, u.tenant_id, &u.wamid, u).await?
            {
                conversation_events.push((
                    u.tenant_id,
                    EventKind::MessageStatusChanged {
                        message_id,
                        conversation_id,
                        status,
                    },
                ));
            }
            out.statuses += 1;
        }
    }

    out.steps.lap("statuses");

    // 4. template status changes
    for tpl in &plan.templates {
        let q = Query::update()
            .table(templates::Entity.table_ref())
            .value(templates::Column::Status, tpl.event.clone())
            .value(templates::Column::RejectedReason, tpl.reason.clone())
            .value(templates::Column::UpdatedAt, t)
            .and_where(Expr::col(templates::Column::TenantId).eq(tpl.tenant_id))
            .and_where(
                Expr::col(templates::Column::MetaTemplateId).eq(tpl.meta_template_id.clone()),
            )
            .to_owned();
        txn.execute(&q).await?;
    }
    // 5. the event log: this batch's new messages and the events handed in,
    //    sequenced per tenant in commit order (one writer per database)
    let mut kinds: Vec<(i64, crate::bus::EventKind)> = out
        .opened
        .iter()
        .map(|(tenant, id)| {
            (
                *tenant,
                crate::bus::EventKind::ConversationOpened {
                    conversation_id: *id,
                },
            )
        })
        .collect();
    kinds.extend(conversation_events);
    kinds.extend(out.inserted.iter().map(|m| {
        (
            m.tenant_id,
            crate::bus::EventKind::MessageAdded {
                message_id: m.id,
                conversation_id: m.conversation_id,
            },
        )
    }));
    kinds.extend(plan.events.iter().cloned());
    out.events = append_events(txn, kinds, t).await?;
    out.steps.lap("events");
    Ok(out)
}

/// Appends events to the tenants' logs with the next sequence numbers.
///
/// Numbers come from `event_sequences`, one upsert per tenant: its row lock
/// lasts until the transaction ends, so writers on several daemons commit a
/// tenant's events in sequence order and a subscriber that sees `seq` can
/// read every lower one from the log.
pub async fn append_events(
    txn: &impl ConnectionTrait,
    kinds: Vec<(i64, crate::bus::EventKind)>,
    t: DateTime<Utc>,
) -> Result<Vec<crate::bus::Event>, DbErr> {
    let payloads = kinds
        .iter()
        .map(|(_, kind)| serde_json::to_value(kind).map_err(|err| DbErr::Custom(err.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let mut events: Vec<crate::bus::Event> = kinds
        .into_iter()
        .map(|(tenant_id, kind)| crate::bus::Event {
            tenant_id,
            seq: 0,
            at: t,
            kind,
        })
        .collect();
    // each tenant's events, in batch order; tenants in ascending order, so
    // two writers never wait on each other in a cycle
    let mut by_tenant: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, e) in events.iter().enumerate() {
        by_tenant.entry(e.tenant_id).or_default().push(i);
    }
    let postgres = txn.get_database_backend() == sea_orm::DbBackend::Postgres;
    let mut rest: Vec<usize> = Vec::new();
    for (tenant, idx) in by_tenant {
        let n = i64::try_from(idx.len()).unwrap_or(i64::MAX);
        let (first, written) = if postgres {
            // one round trip: the sequence taken and (up to a chunk of) the
            // tenant's rows written in one statement
            let head = &idx[..idx.len().min(500)];
            let rows: Vec<(&str, &serde_json::Value)> = head
                .iter()
                .map(|&i| (events[i].kind.name(), &payloads[i]))
                .collect();
            (
                sequence_and_log(txn, tenant, n, &rows, t).await?,
                head.len(),
            )
        } else {
            (take_sequence(txn, tenant, n).await?, 0)
        };
        for (k, &i) in idx.iter().enumerate() {
            events[i].seq = first + i64::try_from(k).unwrap_or(i64::MAX);
        }
        rest.extend_from_slice(&idx[written..]);
    }
    for chunk in chunks(&rest) {
        let mut q = Query::insert();
        q.into_table(event_log::Entity.table_ref()).columns([
            event_log::Column::TenantId,
            event_log::Column::Seq,
            event_log::Column::Kind,
            event_log::Column::Payload,
            event_log::Column::CreatedAt,
        ]);
        for &i in chunk {
            let e = &events[i];
            q.values([
                e.tenant_id.into(),
                e.seq.into(),
                e.kind.name().into(),
                payloads[i].clone().into(),
                t.into(),
            ])
            .map_err(|err| DbErr::Custom(err.to_string()))?;
        }
        txn.execute(&q).await?;
    }
    Ok(events)
}

/// Takes `n` sequence numbers of `tenant`; returns the first.
async fn take_sequence(txn: &impl ConnectionTrait, tenant: i64, n: i64) -> Result<i64, DbErr> {
    let mut q = Query::insert();
    q.into_table(event_sequences::Entity.table_ref())
        .columns([
            event_sequences::Column::TenantId,
            event_sequences::Column::LastSeq,
        ])
        .values([tenant.into(), n.into()])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::column(event_sequences::Column::TenantId)
                .value(
                    event_sequences::Column::LastSeq,
                    Expr::cust("event_sequences.last_seq + excluded.last_seq"),
                )
                .to_owned(),
        )
        .returning(ret(["last_seq"]));
    let last: i64 = txn
        .query_one(&q)
        .await?
        .ok_or_else(|| DbErr::Custom("event sequence not returned".into()))?
        .try_get("", "last_seq")?;
    Ok(last - n + 1)
}

/// PostgreSQL: takes `n` sequence numbers of `tenant` and writes the first
/// `rows` (kind, payload) with them, in one statement; returns the first
/// number.
async fn sequence_and_log(
    txn: &impl ConnectionTrait,
    tenant: i64,
    n: i64,
    rows: &[(&str, &serde_json::Value)],
    t: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let mut sql = Sql::new(txn.get_database_backend());
    let tenant_p = sql.bind(tenant);
    let n_p = sql.bind(n);
    let t_p = sql.bind(t);
    let values = rows
        .iter()
        .enumerate()
        .map(|(k, (name, payload))| {
            format!(
                "({}, {}, {})",
                sql.bind(i64::try_from(k).unwrap_or(i64::MAX)),
                sql.bind(*name),
                sql.bind((*payload).clone())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        "WITH s AS (INSERT INTO event_sequences (tenant_id, last_seq) VALUES ({tenant_p}, {n_p}) \
         ON CONFLICT (tenant_id) DO UPDATE SET last_seq = event_sequences.last_seq + excluded.last_seq \
         RETURNING last_seq) \
         INSERT INTO event_log (tenant_id, seq, kind, payload, created_at) \
         SELECT {tenant_p}, s.last_seq - {n_p} + 1 + v.column1, v.column2, v.column3, {t_p} \
         FROM s, (VALUES {values}) AS v RETURNING seq"
    );
    let first = txn
        .query_all_raw(sql.statement(text))
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "seq"))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .min()
        .ok_or_else(|| DbErr::Custom("event sequence not returned".into()))?;
    Ok(first)
}

/// Moves one message's status forward (never backwards) and fills the
/// timestamps of every status seen. Returns (message id, conversation id,
/// status now) when the row changed, so a repeated webhook changes nothing
/// and publishes nothing.
pub async fn apply_status(
    txn: &impl ConnectionTrait,
    tenant_id: i64,
    wamid: &str,
    u: &super::plan::StatusUpdate,
) -> Result<Option<(i64, i64, String)>, DbErr> {
    let rank = i32::from(status_rank(&u.best));
    let status_col = messages::Column::Status.as_str();
    let moves = Expr::cust(status_rank_sql(status_col)).lt(rank);
    let mut changed = moves.clone();
    let mut q = Query::update();
    q.table(messages::Entity.table_ref())
        .value(
            messages::Column::Status,
            CaseStatement::new()
                .case(moves, Expr::val(u.best.clone()))
                .finally(Expr::col(messages::Column::Status)),
        )
        .and_where(Expr::col(messages::Column::TenantId).eq(tenant_id))
        .and_where(Expr::col(messages::Column::WaMessageId).eq(wamid));
    for (col, at) in [
        (messages::Column::SentAt, u.sent_at),
        (messages::Column::DeliveredAt, u.delivered_at),
        (messages::Column::ReadAt, u.read_at),
        (messages::Column::FailedAt, u.failed_at),
    ] {
        if let Some(at) = at {
            q.value(col, coalesce(col, at));
            changed = changed.or(Expr::col(col).is_null());
        }
    }
    if let Some(code) = u.error_code.and_then(|c| i32::try_from(c).ok()) {
        q.value(messages::Column::ErrorCode, code);
        q.value(messages::Column::ErrorTitle, u.error_title.clone());
        changed = changed.or(Expr::col(messages::Column::ErrorCode).is_null());
    }
    q.and_where(changed)
        .returning(ret(["id", "conversation_id", "status"]));
    match txn.query_one(&q).await? {
        Some(row) => Ok(Some((
            row.try_get("", "id")?,
            row.try_get("", "conversation_id")?,
            row.try_get("", "status")?,
        ))),
        None => Ok(None),
    }
}

fn coalesce(col: messages::Column, at: DateTime<Utc>) -> Expr {
    Func::coalesce([Expr::col(col), Expr::val(at)]).into()
}

/// What the writer must know before it writes a batch's inbound messages,
/// in one round trip per tenant: which of their wamids are already stored
/// (tenant, wamid), and the open conversations of their senders (the
/// unique index (tenant_id, wa_message_id) and the partial unique index of
/// open conversations serve the two halves).
async fn look_up(
    txn: &impl ConnectionTrait,
    plan: &BatchPlan,
    contact_ids: &HashMap<(i64, String), i64>,
) -> Result<(HashSet<(i64, String)>, Vec<ConvHead>), DbErr> {
    let mut by_tenant: HashMap<i64, (Vec<&str>, Vec<i64>)> = HashMap::new();
    for m in &plan.inbound {
        let (wamids, contacts) = by_tenant.entry(m.tenant_id).or_default();
        wamids.push(&m.wamid);
        if let Some(&c) = contact_ids.get(&(m.tenant_id, m.from.clone())) {
            contacts.push(c);
        }
    }
    for (_, contacts) in by_tenant.values_mut() {
        contacts.sort_unstable();
        contacts.dedup();
    }
    let backend = txn.get_database_backend();
    let mut stored = HashSet::new();
    let mut open = Vec::new();
    for (tenant, (wamids, contacts)) in by_tenant {
        let n = wamids.len().max(contacts.len()).div_ceil(500);
        for k in 0..n {
            let w = wamids
                .get(k * 500..((k + 1) * 500).min(wamids.len()))
                .unwrap_or(&[]);
            let c = contacts
                .get(k * 500..((k + 1) * 500).min(contacts.len()))
                .unwrap_or(&[]);
            let mut sql = Sql::new(backend);
            let tenant_p = sql.bind(tenant);
            let mut parts = Vec::new();
            if !w.is_empty() {
                let list = sql.list(w.iter().copied());
                parts.push(format!(
                    "SELECT 0 AS k, wa_message_id AS wamid, NULL AS id, NULL AS contact_id, \
                     NULL AS whatsapp_number_id, NULL AS status, NULL AS assignee_id \
                     FROM messages WHERE tenant_id = {tenant_p} AND wa_message_id IN ({list})"
                ));
            }
            if !c.is_empty() {
                let list = sql.list(c.iter().copied());
                parts.push(format!(
                    "SELECT 1 AS k, NULL AS wamid, id, contact_id, whatsapp_number_id, status, \
                     assignee_id \
                     FROM conversations WHERE tenant_id = {tenant_p} AND contact_id IN ({list}) \
                     AND status <> 'resolved'"
                ));
            }
            if parts.is_empty() {
                continue;
            }
            for row in txn
                .query_all_raw(sql.statement(parts.join(" UNION ALL ")))
                .await?
            {
                if row.try_get::<i32>("", "k")? == 0 {
                    stored.insert((tenant, row.try_get::<String>("", "wamid")?));
                } else {
                    open.push(ConvHead {
                        id: row.try_get("", "id")?,
                        contact: row.try_get("", "contact_id")?,
                        number: row.try_get("", "whatsapp_number_id")?,
                        status: row.try_get("", "status")?,
                        assignee: row.try_get("", "assignee_id")?,
                    });
                }
            }
        }
    }
    Ok((stored, open))
}

/// An open conversation found for a (contact, number).
#[derive(Debug, Clone, Copy)]
struct Found {
    id: i64,
    snoozed: Option<Option<i64>>,
}

/// What the writer needs of a conversation to route messages to it.
struct ConvHead {
    id: i64,
    contact: i64,
    number: i64,
    status: String,
    assignee: Option<i64>,
}

/// Conversations of the listed contacts (per tenant) matching `cond`,
/// ascending by id, so a later row of the same (contact, number) is newer.
async fn conversations_of(
    txn: &impl ConnectionTrait,
    contacts_by_tenant: &HashMap<i64, Vec<i64>>,
    cond: Expr,
) -> Result<Vec<ConvHead>, DbErr> {
    let mut out = Vec::new();
    for (tenant, contacts_list) in contacts_by_tenant {
        for chunk in chunks(contacts_list) {
            let q = Query::select()
                .columns([
                    conversations::Column::Id,
                    conversations::Column::ContactId,
                    conversations::Column::WhatsappNumberId,
                    conversations::Column::Status,
                    conversations::Column::AssigneeId,
                ])
                .from(conversations::Entity.table_ref())
                .and_where(Expr::col(conversations::Column::TenantId).eq(*tenant))
                .and_where(Expr::col(conversations::Column::ContactId).is_in(chunk.iter().copied()))
                .and_where(cond.clone())
                .order_by(conversations::Column::Id, sea_orm::Order::Asc)
                .to_owned();
            for row in txn.query_all(&q).await? {
                out.push(ConvHead {
                    id: row.try_get("", conversations::Column::Id.as_str())?,
                    contact: row.try_get("", conversations::Column::ContactId.as_str())?,
                    number: row.try_get("", conversations::Column::WhatsappNumberId.as_str())?,
                    status: row.try_get("", conversations::Column::Status.as_str())?,
                    assignee: row.try_get("", conversations::Column::AssigneeId.as_str())?,
                });
            }
        }
    }
    Ok(out)
}

/// Adds the open conversation of each listed contact to `found`, keyed by
/// (contact, number); a snoozed one carries its assignee.
async fn find_open(
    txn: &impl ConnectionTrait,
    contacts_by_tenant: &HashMap<i64, Vec<i64>>,
    found: &mut HashMap<(i64, i64), Found>,
) -> Result<(), DbErr> {
    let open = Expr::col(conversations::Column::Status).ne(Status::Resolved.as_str());
    note_open(
        found,
        conversations_of(txn, contacts_by_tenant, open).await?,
    );
    Ok(())
}

/// Adds open conversations to `found`, keyed by (contact, number); a
/// snoozed one carries its assignee.
fn note_open(found: &mut HashMap<(i64, i64), Found>, open: Vec<ConvHead>) {
    for c in open {
        let snoozed = (c.status == Status::Snoozed.as_str()).then_some(c.assignee);
        found.insert((c.contact, c.number), Found { id: c.id, snoozed });
    }
}

/// What opening conversations for a batch did.
#[derive(Debug, Default)]
struct Opened {
    /// (contact, number) → the conversation the messages go to.
    ids: HashMap<(i64, i64), i64>,
    /// New conversations: (tenant, id).
    new: Vec<(i64, i64)>,
    /// Reopened or woken conversations: (tenant, event).
    updated: Vec<(i64, EventKind)>,
    /// Every conversation of the batch as committed.
    rows: Vec<conversations::Model>,
}

/// Routes new inbound messages to the open conversation of their (contact,
/// number), from `open` (read by [`look_up`]); where there is none, reopens the last one resolved within the
/// reopen window or opens a new one (`bot` when the tenant has an active
/// flow, else `queued`); wakes snoozed ones; and refreshes the inbound time,
/// the service window and the timers to look at. Every status change is
/// recorded as a transition.
async fn open_conversations(
    txn: &impl ConnectionTrait,
    fresh: &[&InboundRow],
    open: Vec<ConvHead>,
    contact_ids: &HashMap<(i64, String), i64>,
    t: DateTime<Utc>,
    opts: &WriteOptions,
) -> Result<Opened, DbErr> {
    let mut out = Opened::default();
    let mut transitions: Vec<Transition> = Vec::new();
    // first and latest inbound per (contact, number)
    let mut wanted: HashMap<(i64, i64), (i64, DateTime<Utc>)> = HashMap::new();
    // the customer waits since the batch's first message of a new conversation
    let mut earliest: HashMap<(i64, i64), DateTime<Utc>> = HashMap::new();
    for m in fresh {
        if let Some(&contact) = contact_ids.get(&(m.tenant_id, m.from.clone())) {
            let e = wanted
                .entry((contact, m.number_id))
                .or_insert((m.tenant_id, m.sent_at));
            e.1 = Ord::max(e.1, m.sent_at);
            let f = earliest.entry((contact, m.number_id)).or_insert(m.sent_at);
            *f = Ord::min(*f, m.sent_at);
        }
    }
    let mut found: HashMap<(i64, i64), Found> = HashMap::new();
    let mut contacts_by_tenant: HashMap<i64, Vec<i64>> = HashMap::new();
    for ((contact, _), (tenant, _)) in &wanted {
        contacts_by_tenant
            .entry(*tenant)
            .or_default()
            .push(*contact);
    }
    note_open(&mut found, open);

    // none open: reopen one resolved within the window
    let missing: Vec<(i64, i64)> = wanted
        .keys()
        .filter(|k| !found.contains_key(k))
        .copied()
        .collect();
    if !missing.is_empty() && opts.reopen_window > Duration::zero() {
        let since = t - opts.reopen_window;
        let mut candidates: HashMap<(i64, i64), (i64, Option<i64>)> = HashMap::new();
        let mut by_tenant: HashMap<i64, Vec<i64>> = HashMap::new();
        for k in &missing {
            if let Some((tenant, _)) = wanted.get(k) {
                by_tenant.entry(*tenant).or_default().push(k.0);
            }
        }
        let recently_resolved = Expr::col(conversations::Column::Status)
            .eq(Status::Resolved.as_str())
            .and(Expr::col(conversations::Column::ResolvedAt).gte(since));
        for c in conversations_of(txn, &by_tenant, recently_resolved).await? {
            // ascending ids: the newest resolved one wins
            candidates.insert((c.contact, c.number), (c.id, c.assignee));
        }
        for (key, (id, assignee)) in candidates {
            let Some(&(tenant, last)) = wanted.get(&key) else {
                continue;
            };
            let to = back_from_pause(assignee);
            let q = Query::update()
                .table(conversations::Entity.table_ref())
                .value(conversations::Column::Status, to.as_str())
                .value(
                    conversations::Column::ResolvedAt,
                    Option::<DateTime<Utc>>::None,
                )
                .value(
                    conversations::Column::AwaitingReplySince,
                    earliest.get(&key).copied().unwrap_or(last),
                )
                .value(
                    conversations::Column::NextResponseBreachedAt,
                    Option::<DateTime<Utc>>::None,
                )
                .value(conversations::Column::NextTimerAt, t)
                .value(conversations::Column::UpdatedAt, t)
                .and_where(Expr::col(conversations::Column::Id).eq(id))
                .and_where(Expr::col(conversations::Column::Status).eq("resolved"))
                .to_owned();
            if txn.execute(&q).await?.rows_affected() == 1 {
                found.insert(key, Found { id, snoozed: None });
                transitions.push(Transition {
                    tenant_id: tenant,
                    conversation_id: id,
                    from: Some(Status::Resolved.as_str().into()),
                    to: to.as_str().into(),
                    user_id: None,
                    reason: "reopened".into(),
                });
                out.updated.push((
                    tenant,
                    EventKind::ConversationUpdated {
                        conversation_id: id,
                        status: to.as_str().into(),
                        previous: Some(Status::Resolved.as_str().into()),
                        reason: "reopened".into(),
                        by_user: None,
                    },
                ));
            }
        }
    }

    // still none: open new ones
    type Wanted<'a> = (&'a (i64, i64), &'a (i64, DateTime<Utc>));
    let missing: Vec<Wanted<'_>> = wanted
        .iter()
        .filter(|(k, _)| !found.contains_key(k))
        .collect();
    let bot_tenants = if missing.is_empty() {
        HashSet::new()
    } else {
        tenants_with_active_flow(txn, missing.iter().map(|(_, (tenant, _))| *tenant)).await?
    };
    for chunk in chunks(&missing) {
        let mut q = Query::insert();
        q.into_table(conversations::Entity.table_ref()).columns([
            conversations::Column::TenantId,
            conversations::Column::ContactId,
            conversations::Column::WhatsappNumberId,
            conversations::Column::Status,
            conversations::Column::Priority,
            conversations::Column::LastInboundAt,
            conversations::Column::WindowExpiresAt,
            conversations::Column::AwaitingReplySince,
            conversations::Column::NextTimerAt,
            conversations::Column::CreatedAt,
            conversations::Column::UpdatedAt,
        ]);
        for ((contact, number), (tenant, last)) in chunk {
            let status = if bot_tenants.contains(tenant) {
                Status::Bot
            } else {
                Status::Queued
            };
            q.values([
                (*tenant).into(),
                (*contact).into(),
                (*number).into(),
                status.as_str().into(),
                0i32.into(),
                (*last).into(),
                (*last + SERVICE_WINDOW).into(),
                earliest
                    .get(&(*contact, *number))
                    .copied()
                    .unwrap_or(*last)
                    .into(),
                t.into(),
                t.into(),
                t.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?;
        }
        // another writer (here or on another daemon) may have opened it since
        // the lookup: the partial unique index turns that into "nothing inserted"
        q.on_conflict(
            OnConflict::columns([
                conversations::Column::TenantId,
                conversations::Column::ContactId,
                conversations::Column::WhatsappNumberId,
            ])
            // a literal, not a bound value: SQLite matches it against the
            // partial index's predicate as written
            .target_and_where(Expr::cust("status <> 'resolved'"))
            .do_nothing()
            .to_owned(),
        )
        .returning(ret(["id", "contact_id", "whatsapp_number_id", "status"]));
        for row in txn.query_all(&q).await? {
            let id: i64 = row.try_get("", "id")?;
            let contact: i64 = row.try_get("", "contact_id")?;
            let number: i64 = row.try_get("", "whatsapp_number_id")?;
            let status: String = row.try_get("", "status")?;
            found.insert((contact, number), Found { id, snoozed: None });
            if let Some((tenant, _)) = wanted.get(&(contact, number)) {
                out.new.push((*tenant, id));
                transitions.push(Transition {
                    tenant_id: *tenant,
                    conversation_id: id,
                    from: None,
                    to: status,
                    user_id: None,
                    reason: "opened".into(),
                });
            }
        }
    }
    if wanted.keys().any(|k| !found.contains_key(k)) {
        // lost a race to a concurrent writer: use the conversation it opened
        find_open(txn, &contacts_by_tenant, &mut found).await?;
    }

    // a customer's message wakes a snoozed conversation
    for (key, f) in &found {
        let (Some(assignee), Some((tenant, _))) = (f.snoozed, wanted.get(key)) else {
            continue;
        };
        if let Some((transition, event)) =
            crate::store::conversations::wake(txn, *tenant, f.id, assignee, t).await?
        {
            transitions.push(transition);
            out.updated.push((*tenant, event));
        }
    }

    // refresh last inbound / window / timers of the ones that existed
    let existing: Vec<Refresh> = wanted
        .iter()
        .filter_map(|(k, (_, last))| {
            found.get(k).map(|f| Refresh {
                id: f.id,
                first: earliest.get(k).copied().unwrap_or(*last),
                last: *last,
            })
        })
        .collect();
    for chunk in chunks(&existing) {
        for row in txn
            .query_all_raw(refresh_statement(txn.get_database_backend(), chunk, t))
            .await?
        {
            out.rows
                .push(conversations::Model::from_query_result(&row, "")?);
        }
    }
    plan_timers(txn, &mut out.rows, &opts.timers, t).await?;
    // queues that conversations entered (opened, reopened or woken as queued)
    let mut queues: Vec<(i64, Option<i64>)> = out
        .rows
        .iter()
        .filter(|c| c.status == Status::Queued.as_str())
        .filter(|c| transitions.iter().any(|tr| tr.conversation_id == c.id))
        .map(|c| (c.tenant_id, c.department_id))
        .collect();
    queues.sort_unstable();
    queues.dedup();
    out.updated.extend(
        queues
            .into_iter()
            .map(|(tenant, department_id)| (tenant, EventKind::QueueUpdated { department_id })),
    );
    record_transitions(txn, &transitions, t).await?;
    out.ids = found.into_iter().map(|(k, f)| (k, f.id)).collect();
    Ok(out)
}

/// One conversation's refresh by a batch: the customer's first and last
/// message in it.
struct Refresh {
    id: i64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
}

/// A raw statement's text and its bound values, with numbered placeholders
/// (`$n`, which sqlx also binds on SQLite, so one placeholder can be used
/// twice).
struct Sql {
    backend: sea_orm::DbBackend,
    values: Vec<sea_orm::Value>,
}

impl Sql {
    fn new(backend: sea_orm::DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `v` and returns its placeholder.
    fn bind(&mut self, v: impl Into<sea_orm::Value>) -> String {
        self.values.push(v.into());
        format!("${}", self.values.len())
    }

    /// Binds every value and returns their placeholders, comma-separated.
    fn list<V: Into<sea_orm::Value>>(&mut self, values: impl IntoIterator<Item = V>) -> String {
        values
            .into_iter()
            .map(|v| self.bind(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn statement(self, text: String) -> sea_orm::Statement {
        sea_orm::Statement::from_sql_and_values(self.backend, text, self.values)
    }
}

/// Refreshes conversations that received messages, joined to a `VALUES`
/// list (one row per conversation, so the work grows with the rows, not
/// with their square as an N-arm `CASE` per column did). Columns of the
/// list: 1 id, 2 first message, 3 last message, 4 its window's end. Only
/// columns outside every index change, so PostgreSQL updates the row in
/// place (HOT) unless a new wait moves `next_timer_at`.
fn refresh_statement(
    backend: sea_orm::DbBackend,
    chunk: &[Refresh],
    t: DateTime<Utc>,
) -> sea_orm::Statement {
    let mut sql = Sql::new(backend);
    let rows = chunk
        .iter()
        .map(|r| {
            format!(
                "({}, {}, {}, {})",
                sql.bind(r.id),
                sql.bind(r.first),
                sql.bind(r.last),
                sql.bind(r.last + SERVICE_WINDOW)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let now = sql.bind(t);
    // SQLite's RETURNING names only the updated table's columns
    let returning = match backend {
        sea_orm::DbBackend::Postgres => "conversations.*",
        _ => "*",
    };
    let set = refresh_assignments("v.column2", "v.column3", "v.column4", &now);
    let text = format!(
        "UPDATE conversations SET {set} \
         FROM (VALUES {rows}) AS v WHERE conversations.id = v.column1 \
         RETURNING {returning}"
    );
    sql.statement(text)
}

/// The `SET` list of a conversation refresh, given the SQL of the batch's
/// first and last message time in it, the end of the window the last one
/// opens, and now. Only columns outside every index change, so PostgreSQL
/// updates the row in place (HOT) unless a new wait moves `next_timer_at`.
pub(super) fn refresh_assignments(first: &str, last: &str, window_end: &str, now: &str) -> String {
    let newer = format!(
        "(conversations.last_inbound_at IS NULL OR conversations.last_inbound_at < {last})"
    );
    format!(
        "last_inbound_at = CASE WHEN {newer} THEN {last} ELSE conversations.last_inbound_at END, \
         window_expires_at = CASE WHEN {newer} THEN {window_end} ELSE conversations.window_expires_at END, \
         window_warned_at = CASE WHEN {newer} THEN NULL ELSE conversations.window_warned_at END, \
         window_closed_at = CASE WHEN {newer} THEN NULL ELSE conversations.window_closed_at END, \
         next_timer_at = CASE WHEN conversations.awaiting_reply_since IS NULL \
             OR conversations.next_timer_at IS NULL THEN {now} ELSE conversations.next_timer_at END, \
         awaiting_reply_since = COALESCE(conversations.awaiting_reply_since, \
             CASE WHEN conversations.last_outbound_at IS NOT NULL \
             AND {first} < conversations.last_outbound_at THEN \
             CASE WHEN {last} > conversations.last_outbound_at THEN {last} \
             ELSE conversations.last_outbound_at END \
             ELSE {first} END), \
         updated_at = {now}"
    )
}

/// Stores the next timer deadline of each refreshed conversation (the
/// refresh marks a new wait "look now"), in one statement, so the timer
/// sweep finds only timers that are really due instead of waking the actor
/// of every conversation that received a message. A stored deadline still
/// in the future and not later than the real one is kept: the sweep wakes
/// the actor a little early there, which costs less than writing the row a
/// second time for every message (a message moves the window deadline).
async fn plan_timers(
    txn: &impl ConnectionTrait,
    rows: &mut [conversations::Model],
    policy: &crate::actors::timers::Policy,
    t: DateTime<Utc>,
) -> Result<(), DbErr> {
    let changed = timer_changes(rows, policy, t);
    let backend = txn.get_database_backend();
    for chunk in chunks(&changed) {
        let mut sql = Sql::new(backend);
        let rows = chunk
            .iter()
            .map(|(id, at)| format!("({}, {})", sql.bind(*id), sql.bind(*at)))
            .collect::<Vec<_>>()
            .join(", ");
        let text = format!(
            "UPDATE conversations SET next_timer_at = v.column2 \
             FROM (VALUES {rows}) AS v WHERE conversations.id = v.column1"
        );
        txn.execute_raw(sql.statement(text)).await?;
    }
    Ok(())
}

/// The deadlines [`plan_timers`] stores: `(conversation, next timer)` for
/// each row whose stored one must change; `rows` get the new value.
pub(super) fn timer_changes(
    rows: &mut [conversations::Model],
    policy: &crate::actors::timers::Policy,
    t: DateTime<Utc>,
) -> Vec<(i64, Option<DateTime<Utc>>)> {
    let mut changed = Vec::new();
    for c in rows.iter_mut() {
        let next = crate::actors::timers::next_deadline(c, policy);
        let early_enough = c
            .next_timer_at
            .is_some_and(|stored| stored > t && next.is_some_and(|n| stored <= n));
        if c.next_timer_at != next && !early_enough {
            c.next_timer_at = next;
            changed.push((c.id, next));
        }
    }
    changed
}

/// The tenants among `tenants` with an active chatbot flow.
async fn tenants_with_active_flow(
    txn: &impl ConnectionTrait,
    tenants: impl Iterator<Item = i64>,
) -> Result<HashSet<i64>, DbErr> {
    let tenants: HashSet<i64> = tenants.collect();
    let q = Query::select()
        .distinct()
        .column(bot_flows::Column::TenantId)
        .from(bot_flows::Entity.table_ref())
        .and_where(Expr::col(bot_flows::Column::TenantId).is_in(tenants))
        .and_where(Expr::col(bot_flows::Column::Active).eq(true))
        .to_owned();
    let mut out = HashSet::new();
    for row in txn.query_all(&q).await? {
        out.insert(row.try_get::<i64>("", "tenant_id")?);
    }
    Ok(out)
}
