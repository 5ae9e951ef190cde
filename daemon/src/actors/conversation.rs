//! The conversation actor: one per (tenant, number, customer), so everything
//! that happens to one conversation — its customer's messages, an agent's
//! commands, its timers — happens one at a time, in order. Its state is the
//! stored conversation row; an actor stopped for idleness (or lost in a
//! restart) is rebuilt from that row, timers included.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration as StdDuration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, Message, SpawnHandle,
    WrapFuture,
};
use chrono::{DateTime, Utc};
use entity::conversations;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, EntityName};
use tokio::sync::oneshot;

use super::lifecycle::{self, Command, LifecycleError, Status};
use super::timers::{self, TimerKind};
use super::{ConvKey, Deps, Registry};
use crate::bus::{EventKind, SlaKind};
use crate::ingest::{BatchInput, IngestError, WriteOutcome};
use crate::store::conversations::{self as store, Transition};

/// A customer's messages for this conversation, to be committed in order.
pub struct Inbound {
    pub input: BatchInput,
    pub reply: oneshot::Sender<Result<WriteOutcome, IngestError>>,
}

impl Message for Inbound {
    type Result = ();
}

/// A user's (or the bot's) command.
pub struct Apply {
    pub conversation_id: i64,
    pub command: Command,
    pub by_user: Option<i64>,
    pub reply: oneshot::Sender<Result<conversations::Model, CommandError>>,
}

impl Message for Apply {
    type Result = ();
}

/// Look at the timers now (from the sweep, or after a change made elsewhere).
/// `due`: the conversation the sweep found due, when the sweep sent it; it
/// may be an older conversation of this customer (a resolved one waiting for
/// its retention) rather than the one the actor stands for.
pub struct Tick {
    pub due: Option<i64>,
}

impl Message for Tick {
    type Result = ();
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error("conversation not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

pub struct ConversationActor {
    key: ConvKey,
    deps: Deps,
    registry: Weak<Registry>,
    conv: Option<conversations::Model>,
    timer: Option<SpawnHandle>,
    last_active: Instant,
    /// Messages waiting in this actor's mailbox (shared with the registry).
    queued: Arc<AtomicUsize>,
    /// Whether a `Tick` is queued (shared with the registry).
    ticking: Arc<AtomicBool>,
}

impl ConversationActor {
    pub(super) fn new(
        key: ConvKey,
        deps: Deps,
        registry: Weak<Registry>,
        queued: Arc<AtomicUsize>,
        ticking: Arc<AtomicBool>,
    ) -> Self {
        Self {
            key,
            deps,
            registry,
            conv: None,
            timer: None,
            last_active: Instant::now(),
            queued,
            ticking,
        }
    }

    /// A message left the mailbox.
    fn took_one(&self) {
        self.queued.fetch_sub(1, Ordering::AcqRel);
        self.deps
            .metrics
            .mailbox_depth
            .with_label_values(&["conversation"])
            .dec();
    }

    fn metric(&self, event: &str) {
        self.deps.metrics.actor_event("conversation", event);
    }

    /// Reloads the row, fires what is due, stores and schedules the next
    /// deadline (and settles `due` too when it is another, older conversation
    /// of the customer); blocks the mailbox meanwhile so nothing interleaves.
    fn refresh(&mut self, ctx: &mut Context<Self>, due: Option<i64>) {
        let deps = self.deps.clone();
        let key = self.key.clone();
        ctx.wait(
            async move {
                let current = refresh_row(&deps, &key).await?;
                if let Some(id) = due
                    && current.as_ref().is_none_or(|c| c.id != id)
                {
                    settle_id(&deps, key.tenant_id, id).await?;
                }
                Ok::<_, DbErr>(current)
            }
                .into_actor(self)
                .map(move |res, act, ctx| match res {
                    Ok(conv) => {
                        act.conv = conv;
                        act.schedule(ctx);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, key = ?act.key, "conversation actor could not load its conversation; retrying");
                        act.timer = Some(ctx.run_later(StdDuration::from_secs(1), move |act, ctx| {
                            act.refresh(ctx, due)
                        }));
                    }
                }),
        );
    }

    /// Schedules a tick at the next deadline of the in-memory row.
    fn schedule(&mut self, ctx: &mut Context<Self>) {
        if let Some(h) = self.timer.take() {
            ctx.cancel_future(h);
        }
        let Some(conv) = &self.conv else { return };
        let Some(at) = timers::next_deadline(conv, &self.deps.policy) else {
            return;
        };
        let wait = (at - Utc::now()).to_std().unwrap_or_default();
        self.timer = Some(ctx.run_later(wait, |act, ctx| {
            act.timer = None;
            act.refresh(ctx, None);
        }));
    }

    /// Takes the conversation as the writer just committed it and re-plans
    /// the timers in memory (no database round trip on the message path).
    fn after_inbound(&mut self, outcome: &WriteOutcome, ctx: &mut Context<Self>) {
        let Some(row) = outcome
            .conversations
            .iter()
            .filter(|c| outcome.inserted.iter().any(|i| i.conversation_id == c.id))
            .max_by_key(|c| c.id)
        else {
            return;
        };
        self.conv = Some(row.clone());
        self.schedule(ctx);
    }
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(self.deps.mailbox);
        self.metric("started");
        let idle = self.deps.idle;
        ctx.run_interval(idle / 4 + StdDuration::from_millis(1), move |act, ctx| {
            // never with messages waiting (they would be dropped): closing
            // the slot makes senders start a new actor instead
            if act.last_active.elapsed() >= idle
                && act
                    .queued
                    .compare_exchange(0, super::CLOSED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                act.metric("evicted");
                ctx.stop();
            }
        });
        // state arrives with the first message: a customer's message brings
        // the committed row, a tick or a command loads it
    }

    fn stopped(&mut self, ctx: &mut Context<Self>) {
        self.metric("stopped");
        if let Some(r) = self.registry.upgrade() {
            r.forget(&self.key, &ctx.address());
        }
    }
}

impl Handler<Inbound> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: Inbound, ctx: &mut Context<Self>) {
        self.took_one();
        self.last_active = Instant::now();
        let ingest = self.deps.ingest.clone();
        let Inbound { input, reply } = msg;
        // the next message of this conversation waits for this commit
        ctx.wait(
            async move { ingest.submit(input).await }
                .into_actor(self)
                .map(move |res, act, ctx| {
                    if let Ok(o) = &res {
                        act.after_inbound(o, ctx);
                    }
                    let _ = reply.send(res);
                }),
        );
    }
}

impl Handler<Tick> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: Tick, ctx: &mut Context<Self>) {
        self.took_one();
        self.ticking.store(false, Ordering::Release);
        self.refresh(ctx, msg.due);
    }
}

impl Handler<Apply> for ConversationActor {
    type Result = ();

    fn handle(&mut self, msg: Apply, ctx: &mut Context<Self>) {
        self.took_one();
        self.last_active = Instant::now();
        let deps = self.deps.clone();
        let key = self.key.clone();
        let Apply {
            conversation_id,
            command,
            by_user,
            reply,
        } = msg;
        ctx.wait(
            async move {
                // the command returns the row it committed: settle its
                // timers from that instead of loading it again
                let res = match apply_command(&deps, conversation_id, &command, by_user).await {
                    Ok(conv) => settle(&deps, conv).await.map_err(CommandError::from),
                    Err(e) => Err(e),
                };
                let row = match &res {
                    Ok(conv) => Ok(Some(conv.clone())),
                    Err(_) => refresh_row(&deps, &key).await,
                };
                (res, row)
            }
            .into_actor(self)
            .map(|(res, row), act, ctx| {
                if let Ok(conv) = row {
                    act.conv = conv;
                }
                act.schedule(ctx);
                let _ = reply.send(res);
            }),
        );
    }
}

/// Loads the actor's conversation, fires its due timers (each once, even
/// with several daemons), and stores the next deadline.
async fn refresh_row(deps: &Deps, key: &ConvKey) -> Result<Option<conversations::Model>, DbErr> {
    match store::for_key(&deps.db, key.tenant_id, key.number_id, &key.wa_id).await? {
        Some(conv) => Ok(Some(settle(deps, conv).await?)),
        None => Ok(None),
    }
}

/// Settles conversation `id` of `tenant_id` (not the actor's current one).
async fn settle_id(deps: &Deps, tenant_id: i64, id: i64) -> Result<(), DbErr> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if let Some(conv) = conversations::Entity::find_by_id(id)
        .filter(conversations::Column::TenantId.eq(tenant_id))
        .one(&deps.db)
        .await?
    {
        settle(deps, conv).await?;
    }
    Ok(())
}

/// Fires the due timers of `conv` (each once, even with several daemons) and
/// stores its next deadline; returns the row as it is then.
async fn settle(
    deps: &Deps,
    mut conv: conversations::Model,
) -> Result<conversations::Model, DbErr> {
    use sea_orm::EntityTrait;
    let now = Utc::now();
    let due = timers::due(&conv, &deps.policy, now);
    if !due.is_empty() {
        // marks only: fired together with other conversations'; if the
        // group skipped the row (locked right now) or failed, on its own
        let grouped = due.iter().all(|k| k.is_mark())
            && match deps.marks.fire(conv.clone()).await {
                Ok(done) => done,
                Err(e) => {
                    tracing::warn!(error = %e, conversation = conv.id, "firing timers in a group failed; firing them alone");
                    false
                }
            };
        if !grouped {
            fire(deps, &conv, &due, now).await?;
        }
        if let Some(fresh) = conversations::Entity::find_by_id(conv.id)
            .one(&deps.db)
            .await?
        {
            conv = fresh;
        }
    }
    let next = timers::next_deadline(&conv, &deps.policy);
    if conv.next_timer_at != next {
        store::set_next_timer(&deps.db, conv.id, conv.next_timer_at, next).await?;
        conv.next_timer_at = next;
    }
    Ok(conv)
}

/// What firing a window or SLA timer does: set one "fired" column, if the
/// conversation still has the status it was read with and waits in the same
/// window or for the same reply, and publish one event. The other timers change more than a mark (status,
/// contents) and are fired by the conversation's actor.
pub(super) struct Mark {
    pub column: conversations::Column,
    /// Holds while the wait or window the timer was computed from is the
    /// stored one (a message or a reply since would have moved it).
    pub still: Expr,
    pub event: Option<EventKind>,
}

impl Mark {
    /// The mark of `kind` for `conv`; `None` for a timer that is not a mark.
    pub(super) fn of(kind: TimerKind, conv: &conversations::Model) -> Option<Self> {
        match kind {
            TimerKind::WindowClosing | TimerKind::WindowClosed => {
                let closed = kind == TimerKind::WindowClosed;
                Some(Mark {
                    column: if closed {
                        conversations::Column::WindowClosedAt
                    } else {
                        conversations::Column::WindowWarnedAt
                    },
                    still: same_status(conv).and(store::same(
                        conversations::Column::WindowExpiresAt,
                        conv.window_expires_at,
                    )),
                    event: conv
                        .window_expires_at
                        .map(|expires_at| EventKind::WindowClosing {
                            conversation_id: conv.id,
                            expires_at,
                            closed,
                        }),
                })
            }
            TimerKind::FirstResponseSla | TimerKind::NextResponseSla => {
                let first_response = kind == TimerKind::FirstResponseSla;
                // the same wait, still unanswered (a reply since clears it)
                let answered = Expr::col(conversations::Column::FirstResponseAt);
                let still = same_status(conv)
                    .and(Expr::col(conversations::Column::AwaitingReplySince).is_not_null())
                    .and(store::same(
                        conversations::Column::AwaitingReplySince,
                        conv.awaiting_reply_since,
                    ))
                    .and(if first_response {
                        answered.is_null()
                    } else {
                        answered.is_not_null()
                    });
                Some(Mark {
                    column: if first_response {
                        conversations::Column::FirstResponseBreachedAt
                    } else {
                        conversations::Column::NextResponseBreachedAt
                    },
                    still,
                    event: conv
                        .awaiting_reply_since
                        .map(|waiting_since| EventKind::SlaBreached {
                            conversation_id: conv.id,
                            kind: if first_response {
                                SlaKind::FirstResponse
                            } else {
                                SlaKind::NextResponse
                            },
                            waiting_since,
                        }),
                })
            }
            TimerKind::AutoResolve | TimerKind::SnoozeWake | TimerKind::Retention => None,
        }
    }

    /// `conv` as it is once this mark is set at `t`.
    pub(super) fn apply(&self, conv: &mut conversations::Model, t: DateTime<Utc>) {
        match self.column {
            conversations::Column::WindowClosedAt => conv.window_closed_at = Some(t),
            conversations::Column::WindowWarnedAt => conv.window_warned_at = Some(t),
            conversations::Column::FirstResponseBreachedAt => {
                conv.first_response_breached_at = Some(t)
            }
            conversations::Column::NextResponseBreachedAt => {
                conv.next_response_breached_at = Some(t)
            }
            _ => {}
        }
    }
}

/// The stored status is still the one `conv` was read with (whether a timer
/// runs at all depends on it: none on a resolved conversation, no SLA on a
/// snoozed one or while the bot answers).
fn same_status(conv: &conversations::Model) -> Expr {
    Expr::col(conversations::Column::Status).eq(conv.status.clone())
}

/// Fires `due` timers of `conv` in one transaction and publishes their events.
async fn fire(
    deps: &Deps,
    conv: &conversations::Model,
    due: &[TimerKind],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let txn = crate::store::begin_write(&deps.db).await?;
    let mut events = Vec::new();
    let mut transitions = Vec::new();
    let mut erased_files: Vec<String> = Vec::new();
    for kind in due {
        let fired = match kind {
            TimerKind::WindowClosing
            | TimerKind::WindowClosed
            | TimerKind::FirstResponseSla
            | TimerKind::NextResponseSla => {
                let Some(m) = Mark::of(*kind, conv) else {
                    continue;
                };
                let fired = store::mark_once(&txn, conv.id, m.column, now, m.still).await?;
                if fired {
                    events.extend(m.event);
                }
                fired
            }
            TimerKind::AutoResolve => {
                let q = Query::update()
                    .table(conversations::Entity.table_ref())
                    .value(conversations::Column::Status, Status::Resolved.as_str())
                    .value(conversations::Column::ResolvedAt, now)
                    .value(conversations::Column::UpdatedAt, now)
                    .and_where(Expr::col(conversations::Column::Id).eq(conv.id))
                    .and_where(Expr::col(conversations::Column::Status).eq(conv.status.clone()))
                    .and_where(Expr::col(conversations::Column::AwaitingReplySince).is_null())
                    // no message either way since the row was read
                    .and_where(store::same(
                        conversations::Column::LastOutboundAt,
                        conv.last_outbound_at,
                    ))
                    .and_where(store::same(
                        conversations::Column::LastInboundAt,
                        conv.last_inbound_at,
                    ))
                    .to_owned();
                let fired = txn.execute(&q).await?.rows_affected() == 1;
                if fired {
                    transitions.push(Transition {
                        tenant_id: conv.tenant_id,
                        conversation_id: conv.id,
                        from: Some(conv.status.clone()),
                        to: Status::Resolved.as_str().into(),
                        user_id: None,
                        reason: "auto_resolved".into(),
                    });
                    events.push(EventKind::ConversationResolved {
                        conversation_id: conv.id,
                        reason: "auto_resolved".into(),
                        by_user: None,
                    });
                }
                fired
            }
            TimerKind::Retention => {
                // still resolved, and resolved at the same time (not reopened since)
                let still = Expr::col(conversations::Column::Status)
                    .eq(Status::Resolved.as_str())
                    .and(store::same(
                        conversations::Column::ResolvedAt,
                        conv.resolved_at,
                    ));
                // not erased since this resolution (a conversation reopened
                // and resolved again is erased again)
                let erased = conversations::Column::ContentErasedAt;
                let unerased = Expr::col(erased)
                    .is_null()
                    .or(Expr::col(erased).lt(Expr::col(conversations::Column::ResolvedAt)));
                let fired =
                    store::mark_when(&txn, conv.id, erased, now, still.and(unerased)).await?;
                if fired {
                    erased_files =
                        store::erase_contents(&txn, conv.tenant_id, conv.id, now).await?;
                    events.push(EventKind::ConversationUpdated {
                        conversation_id: conv.id,
                        status: conv.status.clone(),
                        previous: Some(conv.status.clone()),
                        reason: "content_erased".into(),
                        by_user: None,
                    });
                }
                fired
            }
            TimerKind::SnoozeWake => {
                match store::wake(&txn, conv.tenant_id, conv.id, conv.assignee_id, now).await? {
                    Some((transition, event)) => {
                        transitions.push(transition);
                        events.push(event);
                        true
                    }
                    None => false,
                }
            }
        };
        if fired {
            deps.metrics
                .timer_fires
                .with_label_values(&[kind.as_str()])
                .inc();
        }
    }
    // a timer that moved the conversation into or out of the queue
    if transitions.iter().any(|t| {
        t.to == Status::Queued.as_str() || t.from.as_deref() == Some(Status::Queued.as_str())
    }) {
        events.push(EventKind::QueueUpdated {
            department_id: conv.department_id,
        });
    }
    commit_with_events(deps, txn, conv.tenant_id, events, &transitions, now).await?;
    // the rows say "erased" now; the files go after the commit (a crash in
    // between leaves files no row points at, never a row without its file)
    // files are stored by content: another message may share one
    let in_use = if erased_files.is_empty() {
        Default::default()
    } else {
        store::media_paths_in_use(&deps.db, &erased_files).await?
    };
    for path in erased_files.iter().filter(|p| !in_use.contains(*p)) {
        let file = deps.media_dir.join(path);
        if let Err(e) = tokio::fs::remove_file(&file).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %file.display(), error = %e, "erased media file not deleted");
        }
    }
    Ok(())
}

/// Records transitions, appends the events, commits, then publishes.
async fn commit_with_events(
    deps: &Deps,
    txn: sea_orm::DatabaseTransaction,
    tenant_id: i64,
    events: Vec<EventKind>,
    transitions: &[Transition],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    crate::store::conversations::record_transitions(&txn, transitions, now).await?;
    let appended = crate::ingest::write::append_events(
        &txn,
        events.into_iter().map(|k| (tenant_id, k)).collect(),
        now,
    )
    .await?;
    txn.commit().await?;
    for t in transitions {
        deps.metrics
            .transitions
            .with_label_values(&[t.to.as_str()])
            .inc();
    }
    for e in appended {
        deps.bus.publish(e);
    }
    Ok(())
}

/// Applies a user's command to conversation `id` in one transaction.
async fn apply_command(
    deps: &Deps,
    id: i64,
    command: &Command,
    by_user: Option<i64>,
) -> Result<conversations::Model, CommandError> {
    use sea_orm::EntityTrait;
    let txn = crate::store::begin_write(&deps.db).await?;
    let conv = conversations::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(CommandError::NotFound)?;
    let from = Status::parse(&conv.status).ok_or(CommandError::NotFound)?;
    let now = Utc::now();
    let mv = lifecycle::apply(from, conv.assignee_id, command, now)?;
    let mut q = Query::update();
    q.table(conversations::Entity.table_ref())
        .value(conversations::Column::Status, mv.to.as_str())
        .value(conversations::Column::AssigneeId, mv.assignee)
        .value(conversations::Column::UpdatedAt, now)
        .value(conversations::Column::NextTimerAt, now)
        .and_where(Expr::col(conversations::Column::Id).eq(id))
        .and_where(Expr::col(conversations::Column::Status).eq(conv.status.clone()));
    match command {
        Command::Resolve => {
            q.value(conversations::Column::ResolvedAt, now);
        }
        Command::Reopen => {
            q.value(
                conversations::Column::ResolvedAt,
                Option::<DateTime<Utc>>::None,
            );
        }
        Command::Snooze { until } => {
            q.value(conversations::Column::SnoozedUntil, *until);
        }
        _ => {
            q.value(
                conversations::Column::SnoozedUntil,
                Option::<DateTime<Utc>>::None,
            );
        }
    }
    let changed = txn.execute(&q).await.map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => CommandError::Conflict(
            "another conversation with this customer on this number is open".into(),
        ),
        _ => CommandError::Db(e),
    })?;
    if changed.rows_affected() != 1 {
        return Err(CommandError::Db(DbErr::Custom(
            "the conversation changed concurrently".into(),
        )));
    }
    let transition = Transition {
        tenant_id: conv.tenant_id,
        conversation_id: id,
        from: Some(conv.status.clone()),
        to: mv.to.as_str().into(),
        user_id: by_user,
        reason: mv.reason.into(),
    };
    let event = match (command, mv.to) {
        (Command::Assign { user_id }, _) => EventKind::ConversationAssigned {
            conversation_id: id,
            assignee_id: *user_id,
            previous_assignee_id: conv.assignee_id,
            by_user,
        },
        (_, Status::Resolved) => EventKind::ConversationResolved {
            conversation_id: id,
            reason: mv.reason.into(),
            by_user,
        },
        _ => EventKind::ConversationUpdated {
            conversation_id: id,
            status: mv.to.as_str().into(),
            previous: Some(conv.status.clone()),
            reason: mv.reason.into(),
            by_user,
        },
    };
    let mut events = vec![event];
    if conv.status == Status::Queued.as_str() || mv.to == Status::Queued {
        events.push(EventKind::QueueUpdated {
            department_id: conv.department_id,
        });
    }
    commit_with_events(deps, txn, conv.tenant_id, events, &[transition], now).await?;
    conversations::Entity::find_by_id(id)
        .one(&deps.db)
        .await?
        .ok_or(CommandError::NotFound)
}
