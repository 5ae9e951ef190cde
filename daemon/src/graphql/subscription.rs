//! Subscriptions: the events of the caller's tenant, filtered by what the role
//! may see, resumable: `events(after: cursor)` first replays every logged event
//! after the cursor, then continues live, with no gap and no duplicate.

use async_graphql::{Context, ID, Object, Subscription, Union};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::guard::RoleGuard;
use super::messages::{Conversation, Message};
use super::{identity, state};
use crate::auth::{Identity, Role};
use crate::bus::{ChangeAction, DirectoryEntity, Event as BusEvent, EventKind, SlaKind};
use crate::error::ApiError;
use crate::feed::{Feed, FeedError};
use crate::state::AppState;

/// A user, department, number, API key or the tenant changed. Refetch it by id.
pub struct DirectoryChanged {
    seq: i64,
    entity: DirectoryEntity,
    id: i64,
    action: ChangeAction,
    at: DateTime<Utc>,
}

#[Object]
impl DirectoryChanged {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.seq.to_string()
    }
    async fn entity(&self) -> DirectoryEntity {
        self.entity
    }
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }
    async fn action(&self) -> ChangeAction {
        self.action
    }
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
}

/// A message was stored: inbound from a customer, or an outbound reply queued.
pub struct MessageAdded {
    base: ConvRef,
    message_id: i64,
}

#[Object]
impl MessageAdded {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn conversation_id(&self) -> ID {
        ID(self.base.conversation_id.to_string())
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    /// The message as it is now (null if it was deleted since).
    async fn message(&self, ctx: &Context<'_>) -> Result<Option<Message>, ApiError> {
        Ok(entity::messages::Entity::find_by_id(self.message_id)
            .filter(entity::messages::Column::TenantId.eq(self.base.tenant_id))
            .one(&state(ctx)?.db)
            .await?
            .map(Message))
    }
}

/// A customer wrote without an open conversation, so one was opened (queued).
pub struct ConversationOpened {
    base: ConvRef,
}

#[Object]
impl ConversationOpened {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    /// The conversation as it is now (null if it was deleted since).
    async fn conversation(&self, ctx: &Context<'_>) -> Result<Option<Conversation>, ApiError> {
        self.base.conversation(ctx).await
    }
}

/// What every conversation event carries.
#[derive(Clone, Copy)]
struct ConvRef {
    seq: i64,
    tenant_id: i64,
    conversation_id: i64,
    at: DateTime<Utc>,
}

impl ConvRef {
    async fn conversation(&self, ctx: &Context<'_>) -> Result<Option<Conversation>, ApiError> {
        Ok(
            entity::conversations::Entity::find_by_id(self.conversation_id)
                .filter(entity::conversations::Column::TenantId.eq(self.tenant_id))
                .one(&state(ctx)?.db)
                .await?
                .map(Conversation),
        )
    }
}

fn id_of(v: Option<i64>) -> Option<ID> {
    v.map(|v| ID(v.to_string()))
}

/// An outbound message's delivery status moved.
pub struct MessageStatusChanged {
    base: ConvRef,
    message_id: i64,
    status: String,
}

#[Object]
impl MessageStatusChanged {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    async fn conversation_id(&self) -> ID {
        ID(self.base.conversation_id.to_string())
    }
    async fn message_id(&self) -> ID {
        ID(self.message_id.to_string())
    }
    /// sent, delivered, read, failed.
    async fn status(&self) -> &str {
        &self.status
    }
}

/// A conversation's status changed: reopened, woke from a snooze, snoozed,
/// handed off by the bot, unassigned.
pub struct ConversationUpdated {
    base: ConvRef,
    status: String,
    previous: Option<String>,
    reason: String,
    by_user: Option<i64>,
}

#[Object]
impl ConversationUpdated {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    async fn conversation_id(&self) -> ID {
        ID(self.base.conversation_id.to_string())
    }
    /// bot, queued, assigned, snoozed, resolved.
    async fn status(&self) -> &str {
        &self.status
    }
    async fn previous_status(&self) -> Option<&str> {
        self.previous.as_deref()
    }
    /// reopened, woke, snoozed, bot_handoff, unassigned, …
    async fn reason(&self) -> &str {
        &self.reason
    }
    /// The user who caused it (null: the customer or a timer).
    async fn by_user_id(&self) -> Option<ID> {
        id_of(self.by_user)
    }
    /// The conversation as it is now.
    async fn conversation(&self, ctx: &Context<'_>) -> Result<Option<Conversation>, ApiError> {
        self.base.conversation(ctx).await
    }
}

/// A conversation was given to an agent, or moved to another.
pub struct ConversationAssigned {
    base: ConvRef,
    assignee_id: i64,
    previous_assignee_id: Option<i64>,
    by_user: Option<i64>,
}

#[Object]
impl ConversationAssigned {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    async fn conversation_id(&self) -> ID {
        ID(self.base.conversation_id.to_string())
    }
    async fn assignee_id(&self) -> ID {
        ID(self.assignee_id.to_string())
    }
    async fn previous_assignee_id(&self) -> Option<ID> {
        id_of(self.previous_assignee_id)
    }
    async fn by_user_id(&self) -> Option<ID> {
        id_of(self.by_user)
    }
    /// The conversation as it is now.
    async fn conversation(&self, ctx: &Context<'_>) -> Result<Option<Conversation>, ApiError> {
        self.base.conversation(ctx).await
    }
}

/// A conversation was resolved by a user, or by the system (auto-resolve).
pub struct ConversationResolved {
    base: ConvRef,
    reason: String,
    by_user: Option<i64>,
}

#[Object]
impl ConversationResolved {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    async fn conversation_id(&self) -> ID {
        ID(self.base.conversation_id.to_string())
    }
    /// resolved (by a user) or auto_resolved (after a quiet period).
    async fn reason(&self) -> &str {
        &self.reason
    }
    async fn by_user_id(&self) -> Option<ID> {
        id_of(self.by_user)
    }
    /// The conversation as it is now.
    async fn conversation(&self, ctx: &Context<'_>) -> Result<Option<Conversation>, ApiError> {
        self.base.conversation(ctx).await
    }
}

/// A reply SLA was missed: the customer has waited since `waitingSince`.
pub struct SlaBreached {
    base: ConvRef,
    kind: SlaKind,
    waiting_since: DateTime<Utc>,
}

#[Object]
impl SlaBreached {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    async fn conversation_id(&self) -> ID {
        ID(self.base.conversation_id.to_string())
    }
    async fn kind(&self) -> SlaKind {
        self.kind
    }
    async fn waiting_since(&self) -> DateTime<Utc> {
        self.waiting_since
    }
    /// The conversation as it is now.
    async fn conversation(&self, ctx: &Context<'_>) -> Result<Option<Conversation>, ApiError> {
        self.base.conversation(ctx).await
    }
}

/// The 24-hour customer-service window closes soon (`closed: false`, sent
/// `conversations.window_warning_minutes` ahead) or has closed: from then on
/// only templates reach the customer.
pub struct WindowClosing {
    base: ConvRef,
    expires_at: DateTime<Utc>,
    closed: bool,
}

#[Object]
impl WindowClosing {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.base.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.base.at
    }
    async fn conversation_id(&self) -> ID {
        ID(self.base.conversation_id.to_string())
    }
    async fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    async fn closed(&self) -> bool {
        self.closed
    }
    /// The conversation as it is now.
    async fn conversation(&self, ctx: &Context<'_>) -> Result<Option<Conversation>, ApiError> {
        self.base.conversation(ctx).await
    }
}

/// Conversations entered or left the waiting queue of a department
/// (`departmentId` null: not routed to a department yet). Refetch the queue.
pub struct QueueUpdated {
    seq: i64,
    at: DateTime<Utc>,
    department_id: Option<i64>,
}

#[Object]
impl QueueUpdated {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
    async fn department_id(&self) -> Option<ID> {
        id_of(self.department_id)
    }
}

/// An agent went online, away or offline, or changed their capacity.
pub struct AgentPresenceChanged {
    seq: i64,
    at: DateTime<Utc>,
    user_id: i64,
    status: String,
    capacity: i32,
}

#[Object]
impl AgentPresenceChanged {
    /// Resume after this event with `events(after: cursor)`.
    async fn cursor(&self) -> String {
        self.seq.to_string()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.at
    }
    async fn user_id(&self) -> ID {
        ID(self.user_id.to_string())
    }
    /// online, away, offline.
    async fn status(&self) -> &str {
        &self.status
    }
    async fn capacity(&self) -> i32 {
        self.capacity
    }
}

/// Every event type a subscriber can receive.
#[derive(Union)]
pub enum Event {
    AgentPresenceChanged(AgentPresenceChanged),
    ConversationOpened(ConversationOpened),
    ConversationUpdated(ConversationUpdated),
    ConversationAssigned(ConversationAssigned),
    ConversationResolved(ConversationResolved),
    DirectoryChanged(DirectoryChanged),
    MessageAdded(MessageAdded),
    MessageStatusChanged(MessageStatusChanged),
    QueueUpdated(QueueUpdated),
    SlaBreached(SlaBreached),
    WindowClosing(WindowClosing),
}

fn to_graphql(event: &BusEvent) -> Event {
    let base = |conversation_id: i64| ConvRef {
        seq: event.seq,
        tenant_id: event.tenant_id,
        conversation_id,
        at: event.at,
    };
    match &event.kind {
        EventKind::DirectoryChanged { entity, id, action } => {
            Event::DirectoryChanged(DirectoryChanged {
                seq: event.seq,
                entity: *entity,
                id: *id,
                action: *action,
                at: event.at,
            })
        }
        EventKind::ConversationOpened { conversation_id } => {
            Event::ConversationOpened(ConversationOpened {
                base: base(*conversation_id),
            })
        }
        EventKind::MessageAdded {
            message_id,
            conversation_id,
        } => Event::MessageAdded(MessageAdded {
            base: base(*conversation_id),
            message_id: *message_id,
        }),
        EventKind::MessageStatusChanged {
            message_id,
            conversation_id,
            status,
        } => Event::MessageStatusChanged(MessageStatusChanged {
            base: base(*conversation_id),
            message_id: *message_id,
            status: status.clone(),
        }),
        EventKind::ConversationUpdated {
            conversation_id,
            status,
            previous,
            reason,
            by_user,
        } => Event::ConversationUpdated(ConversationUpdated {
            base: base(*conversation_id),
            status: status.clone(),
            previous: previous.clone(),
            reason: reason.clone(),
            by_user: *by_user,
        }),
        EventKind::ConversationAssigned {
            conversation_id,
            assignee_id,
            previous_assignee_id,
            by_user,
        } => Event::ConversationAssigned(ConversationAssigned {
            base: base(*conversation_id),
            assignee_id: *assignee_id,
            previous_assignee_id: *previous_assignee_id,
            by_user: *by_user,
        }),
        EventKind::ConversationResolved {
            conversation_id,
            reason,
            by_user,
        } => Event::ConversationResolved(ConversationResolved {
            base: base(*conversation_id),
            reason: reason.clone(),
            by_user: *by_user,
        }),
        EventKind::SlaBreached {
            conversation_id,
            kind,
            waiting_since,
        } => Event::SlaBreached(SlaBreached {
            base: base(*conversation_id),
            kind: *kind,
            waiting_since: *waiting_since,
        }),
        EventKind::AgentPresenceChanged {
            user_id,
            status,
            capacity,
        } => Event::AgentPresenceChanged(AgentPresenceChanged {
            seq: event.seq,
            at: event.at,
            user_id: *user_id,
            status: status.clone(),
            capacity: *capacity,
        }),
        EventKind::QueueUpdated { department_id } => Event::QueueUpdated(QueueUpdated {
            seq: event.seq,
            at: event.at,
            department_id: *department_id,
        }),
        EventKind::WindowClosing {
            conversation_id,
            expires_at,
            closed,
        } => Event::WindowClosing(WindowClosing {
            base: base(*conversation_id),
            expires_at: *expires_at,
            closed: *closed,
        }),
    }
}

/// Whether `who` may see `event` (agents: changes to themselves, the tenant,
/// and events of conversations they may see).
async fn visible(st: &AppState, who: &Identity, event: &BusEvent) -> bool {
    if event.tenant_id != who.tenant_id {
        return false;
    }
    if who.has_role(Role::Manager) {
        return true;
    }
    match (&event.kind, event.kind.conversation_id()) {
        (EventKind::DirectoryChanged { entity, id, .. }, _) => {
            (*entity == DirectoryEntity::User && who.user_id == Some(*id))
                || *entity == DirectoryEntity::Tenant
        }
        (EventKind::AgentPresenceChanged { user_id, .. }, _) => who.user_id == Some(*user_id),
        (EventKind::QueueUpdated { department_id }, _) => {
            department_id.is_some_and(|d| who.departments.contains(&d))
        }
        (_, Some(conversation_id)) => entity::conversations::Entity::find_by_id(conversation_id)
            .one(&st.db)
            .await
            .ok()
            .flatten()
            .is_some_and(|c| super::messages::may_see(who, &c)),
        (_, None) => false,
    }
}

/// Event types, to filter a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum EventType {
    AgentPresenceChanged,
    ConversationOpened,
    ConversationUpdated,
    ConversationAssigned,
    ConversationResolved,
    DirectoryChanged,
    MessageAdded,
    MessageStatusChanged,
    QueueUpdated,
    SlaBreached,
    WindowClosing,
}

impl EventType {
    /// The logged `event_log.kind`.
    fn kind(self) -> &'static str {
        match self {
            EventType::AgentPresenceChanged => "agent_presence_changed",
            EventType::ConversationOpened => "conversation_opened",
            EventType::ConversationUpdated => "conversation_updated",
            EventType::ConversationAssigned => "conversation_assigned",
            EventType::ConversationResolved => "conversation_resolved",
            EventType::DirectoryChanged => "directory_changed",
            EventType::MessageAdded => "message_added",
            EventType::MessageStatusChanged => "message_status_changed",
            EventType::QueueUpdated => "queue_updated",
            EventType::SlaBreached => "sla_breached",
            EventType::WindowClosing => "window_closing",
        }
    }
}

/// Which events `events` delivers (all when unset). Cursors of a filtered
/// stream skip the numbers of events filtered out; resuming still works.
#[derive(async_graphql::InputObject, Default)]
pub struct EventFilter {
    /// Only these types.
    pub types: Option<Vec<EventType>>,
    /// Only events of this conversation (one the caller can see).
    pub conversation_id: Option<ID>,
}

/// A subscriber's filter, resolved.
#[derive(Debug, Clone, Default)]
struct Wanted {
    kinds: Option<Vec<&'static str>>,
    conversation: Option<i64>,
    /// Only queue events of this department.
    department: Option<i64>,
}

impl Wanted {
    fn wants(&self, e: &BusEvent) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|k| k.contains(&e.kind.name()))
            && self
                .conversation
                .is_none_or(|c| e.kind.conversation_id() == Some(c))
            && self.department.is_none_or(|d| {
                matches!(e.kind, EventKind::QueueUpdated { department_id } if department_id == Some(d))
            })
    }
}

/// Keeps the open-subscriptions gauge right when a stream is dropped.
struct GaugeGuard(prometheus::IntGauge);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

struct Cursor {
    feed: Feed,
    who: Identity,
    st: AppState,
    _guard: GaugeGuard,
    /// Which events this subscriber asked for.
    filter: Wanted,
    finished: bool,
}

impl Cursor {
    /// The next event for this subscriber; an error (then the end) when it fell
    /// behind; `None` ends the stream.
    async fn next(&mut self) -> Option<Result<Event, ApiError>> {
        if self.finished {
            return None;
        }
        loop {
            match self.feed.next().await {
                Ok(e) => {
                    if self.filter.wants(&e) && visible(&self.st, &self.who, &e).await {
                        return Some(Ok(to_graphql(&e)));
                    }
                }
                Err(FeedError::Lagged(missed)) => {
                    tracing::warn!(
                        missed,
                        tenant_id = self.who.tenant_id,
                        "subscriber fell behind; closing its stream (it resumes with its cursor)"
                    );
                    self.finished = true;
                    return Some(Err(ApiError::Overloaded));
                }
                Err(FeedError::Closed) => return None,
                Err(FeedError::Db(e)) => {
                    tracing::error!(error = %e, "event feed failed; closing the subscription");
                    return None;
                }
            }
        }
    }
}

fn parse_after(after: Option<String>) -> Result<Option<i64>, ApiError> {
    match after {
        Some(a) => Ok(Some(
            a.trim()
                .parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| ApiError::BadInput("`after` is not an event cursor".into()))?,
        )),
        None => Ok(None),
    }
}

/// A resumable stream of the caller's events, optionally of one conversation.
fn event_stream(
    who: Identity,
    st: AppState,
    after: Option<i64>,
    filter: Wanted,
) -> impl Stream<Item = Result<Event, ApiError>> {
    // the feed subscribes before reading the log, so nothing committed in between is missed
    let feed = Feed::new(
        &st.bus,
        st.db.clone(),
        who.tenant_id,
        after,
        std::time::Duration::from_secs(st.settings.events.quiet_check_seconds),
    );
    st.metrics.subscriptions_open.inc();
    let cursor = Cursor {
        feed,
        _guard: GaugeGuard(st.metrics.subscriptions_open.clone()),
        filter,
        finished: false,
        who,
        st,
    };
    futures_util::stream::unfold(
        cursor,
        |mut c| async move { c.next().await.map(|e| (e, c)) },
    )
}

pub struct SubscriptionRoot;

#[Subscription]
impl SubscriptionRoot {
    /// Events of the caller's tenant. With `after` (a `cursor` from an earlier
    /// event, or "0" for the whole log), every logged event after it is
    /// replayed first, then live ones follow, with no gap and no duplicate.
    /// Without `after`, live events only. Agents see changes to themselves and
    /// to the tenant, and events of conversations assigned to them or of
    /// their departments.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        filter: Option<EventFilter>,
    ) -> Result<impl Stream<Item = Result<Event, ApiError>> + use<>, ApiError> {
        let who = identity(ctx)?.clone();
        let st = state(ctx)?.clone();
        let mut wanted = Wanted::default();
        if let Some(f) = filter {
            if let Some(types) = f.types {
                wanted.kinds = Some(types.into_iter().map(EventType::kind).collect());
            }
            if let Some(c) = f.conversation_id {
                wanted.conversation = Some(
                    super::messages::visible_conversation(ctx, &who, &c)
                        .await?
                        .id,
                );
            }
        }
        Ok(event_stream(who, st, parse_after(after)?, wanted))
    }

    /// Lifecycle events of conversations (opened, updated, assigned,
    /// resolved, SLA breaches, window closing), of one conversation when
    /// `conversationId` is given; resumable with `after` like `events`.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn conversation_updated(
        &self,
        ctx: &Context<'_>,
        conversation_id: Option<ID>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<Event, ApiError>> + use<>, ApiError> {
        let who = identity(ctx)?.clone();
        let st = state(ctx)?.clone();
        let conversation = match conversation_id {
            Some(c) => Some(
                super::messages::visible_conversation(ctx, &who, &c)
                    .await?
                    .id,
            ),
            None => None,
        };
        let wanted = Wanted {
            kinds: Some(
                [
                    EventType::ConversationOpened,
                    EventType::ConversationUpdated,
                    EventType::ConversationAssigned,
                    EventType::ConversationResolved,
                    EventType::SlaBreached,
                    EventType::WindowClosing,
                ]
                .into_iter()
                .map(EventType::kind)
                .collect(),
            ),
            conversation,
            department: None,
        };
        Ok(event_stream(who, st, parse_after(after)?, wanted))
    }

    /// Changes of a department's waiting queue (of every queue the caller
    /// may see without `departmentId`), resumable with `after` like `events`.
    /// Agents see the queues of their departments.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn queue_updated(
        &self,
        ctx: &Context<'_>,
        department_id: Option<ID>,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<QueueUpdated, ApiError>> + use<>, ApiError> {
        use futures_util::StreamExt;
        let who = identity(ctx)?.clone();
        let st = state(ctx)?.clone();
        let department = match department_id {
            Some(d) => Some(
                crate::store::departments::get(
                    &st.db,
                    who.tenant_id,
                    super::parse_id(&d, "department")?,
                )
                .await?
                .id,
            ),
            None => None,
        };
        let wanted = Wanted {
            kinds: Some(vec![EventType::QueueUpdated.kind()]),
            conversation: None,
            department,
        };
        Ok(
            event_stream(who, st, parse_after(after)?, wanted).filter_map(|r| async move {
                match r {
                    Ok(Event::QueueUpdated(q)) => Some(Ok(q)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                }
            }),
        )
    }

    /// Messages added to one conversation (the caller must be able to see it),
    /// resumable with `after` like `events`.
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn message_added(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        after: Option<String>,
    ) -> Result<impl Stream<Item = Result<MessageAdded, ApiError>> + use<>, ApiError> {
        use futures_util::StreamExt;
        let who = identity(ctx)?.clone();
        let st = state(ctx)?.clone();
        let conv = super::messages::visible_conversation(ctx, &who, &conversation_id).await?;
        let after = parse_after(after)?;
        Ok(event_stream(
            who,
            st,
            after,
            Wanted {
                kinds: Some(vec![EventType::MessageAdded.kind()]),
                conversation: Some(conv.id),
                department: None,
            },
        )
        .filter_map(|r| async move {
            match r {
                Ok(Event::MessageAdded(m)) => Some(Ok(m)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind) -> BusEvent {
        BusEvent {
            tenant_id: 1,
            seq: 1,
            at: Utc::now(),
            kind,
        }
    }

    #[test]
    fn filters_by_type_and_conversation() {
        let added = ev(EventKind::MessageAdded {
            message_id: 1,
            conversation_id: 7,
        });
        let resolved = ev(EventKind::ConversationResolved {
            conversation_id: 8,
            reason: "resolved".into(),
            by_user: None,
        });
        let dir = ev(EventKind::DirectoryChanged {
            entity: DirectoryEntity::User,
            id: 1,
            action: ChangeAction::Created,
        });
        assert!(Wanted::default().wants(&added) && Wanted::default().wants(&dir));
        let only_added = Wanted {
            kinds: Some(vec![EventType::MessageAdded.kind()]),
            conversation: None,
            department: None,
        };
        assert!(only_added.wants(&added) && !only_added.wants(&resolved));
        let conv8 = Wanted {
            kinds: None,
            conversation: Some(8),
            department: None,
        };
        assert!(conv8.wants(&resolved) && !conv8.wants(&added) && !conv8.wants(&dir));
        let sales = Wanted {
            kinds: Some(vec![EventType::QueueUpdated.kind()]),
            conversation: None,
            department: Some(3),
        };
        let queue = |d| ev(EventKind::QueueUpdated { department_id: d });
        assert!(sales.wants(&queue(Some(3))));
        assert!(!sales.wants(&queue(Some(4))) && !sales.wants(&queue(None)));
        assert!(!sales.wants(&added));
        for t in [
            EventType::AgentPresenceChanged,
            EventType::ConversationOpened,
            EventType::ConversationUpdated,
            EventType::ConversationAssigned,
            EventType::ConversationResolved,
            EventType::DirectoryChanged,
            EventType::MessageAdded,
            EventType::MessageStatusChanged,
            EventType::QueueUpdated,
            EventType::SlaBreached,
            EventType::WindowClosing,
        ] {
            // every filter type is the stored name of one kind, and no two share it
            assert!(t.kind().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
        let mut names: Vec<&str> = [
            EventType::AgentPresenceChanged,
            EventType::ConversationOpened,
            EventType::ConversationUpdated,
            EventType::ConversationAssigned,
            EventType::ConversationResolved,
            EventType::DirectoryChanged,
            EventType::MessageAdded,
            EventType::MessageStatusChanged,
            EventType::QueueUpdated,
            EventType::SlaBreached,
            EventType::WindowClosing,
        ]
        .into_iter()
        .map(EventType::kind)
        .collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 11);
        assert_eq!(EventType::MessageAdded.kind(), added.kind.name());
        assert_eq!(EventType::ConversationResolved.kind(), resolved.kind.name());
        assert_eq!(EventType::DirectoryChanged.kind(), dir.kind.name());
        // every logged kind has a filter type
        assert_eq!(
            EventType::WindowClosing.kind(),
            ev(EventKind::WindowClosing {
                conversation_id: 1,
                expires_at: Utc::now(),
                closed: true,
            })
            .kind
            .name()
        );
    }
}
