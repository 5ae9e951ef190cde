//! The tenant actor: one per tenant, on the tenant's arbiter. It holds the
//! tenant's [`Board`] — the waiting queue of every department and the agent
//! roster with presence, capacity and load — and answers questions about it
//! from memory. It loads the board from the database once, then follows the
//! tenant's event feed (the same gap-free, duplicate-free stream subscribers
//! get, so several daemons on one Redis all see the same board): every event
//! that touches a conversation's status or an agent makes it read that
//! conversation or agent again, in batches. Events only say *what* changed;
//! the stored row says how things are, so applying one twice is harmless.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, Message, MessageResult, WeakAddr,
    WrapFuture,
};
use sea_orm::DbErr;

use super::Deps;
use super::board::{AgentLoad, AgentState, Board, ConvState, QueueSummary, Waiting};
use crate::bus::{ChangeAction, DirectoryEntity, EventKind};
use crate::feed::{Feed, FeedError};
use crate::store::board as store;

/// Events applied per batch (one database read per batch).
const BATCH: usize = 256;

/// The board is loaded again this often, so a change whose event was lost
/// (events are published after commit, best effort) is stale for a bounded time.
const RESYNC: Duration = Duration::from_secs(300);

/// The board as loaded at one position of the tenant's event stream.
pub struct Snapshot {
    /// Every event up to this sequence number is reflected in the rows.
    pub head: i64,
    pub conversations: Vec<ConvState>,
    pub agents: Vec<AgentState>,
}

/// Loads `tenant_id`'s board. The position is read first: whatever commits
/// after it is in the rows read next and comes again in the feed, and
/// re-applying the current state is harmless.
pub async fn load(deps: &Deps, tenant_id: i64) -> Result<Snapshot, DbErr> {
    let head = Feed::head(&deps.db, tenant_id).await?;
    Ok(Snapshot {
        head,
        conversations: store::conversations(&deps.db, tenant_id, None).await?,
        agents: store::agents(&deps.db, tenant_id, None).await?,
    })
}

/// What the events of a batch touched, read again.
#[derive(Default)]
pub struct Changes {
    /// Current state of conversations that changed.
    pub conversations: Vec<ConvState>,
    /// Conversations that are gone (deleted).
    pub gone: Vec<i64>,
    /// The whole roster again (users or departments changed), or single agents.
    pub roster: Option<Vec<AgentState>>,
    pub agents: Vec<(i64, Option<AgentState>)>,
}

/// What a batch of events asks to read again.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Touched {
    pub conversations: BTreeSet<i64>,
    pub agents: BTreeSet<i64>,
    pub roster: bool,
    /// Conversations changed in bulk without events of their own (a number
    /// or a department was deleted): load the whole board again.
    pub reload: bool,
}

impl Touched {
    /// Notes what `kind` changed on the board: a conversation's status,
    /// assignee or department; an agent's presence; or the directory.
    pub fn add(&mut self, kind: &EventKind) {
        match kind {
            EventKind::ConversationOpened { .. }
            | EventKind::ConversationUpdated { .. }
            | EventKind::ConversationAssigned { .. }
            | EventKind::ConversationResolved { .. } => {
                self.conversations.extend(kind.conversation_id());
            }
            EventKind::AgentPresenceChanged { user_id, .. } => {
                self.agents.insert(*user_id);
            }
            // deleting a number deletes its conversations; deleting a
            // department moves its queue to the unrouted one
            EventKind::DirectoryChanged {
                entity: DirectoryEntity::WhatsAppNumber | DirectoryEntity::Department,
                action: ChangeAction::Deleted,
                ..
            } => self.reload = true,
            EventKind::DirectoryChanged {
                entity: DirectoryEntity::User | DirectoryEntity::Department,
                ..
            } => self.roster = true,
            // messages, statuses, SLA and window events and other directory
            // changes leave queues and loads as they are; a queue change
            // always comes with a conversation event
            _ => {}
        }
    }

    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty() && self.agents.is_empty() && !self.roster && !self.reload
    }
}

async fn read(deps: &Deps, tenant_id: i64, t: &Touched) -> Result<Changes, DbErr> {
    let ids: Vec<i64> = t.conversations.iter().copied().collect();
    let conversations = if ids.is_empty() {
        Vec::new()
    } else {
        store::conversations(&deps.db, tenant_id, Some(&ids)).await?
    };
    let gone = ids
        .iter()
        .filter(|id| !conversations.iter().any(|c| c.id == **id))
        .copied()
        .collect();
    let mut changes = Changes {
        conversations,
        gone,
        ..Default::default()
    };
    if t.roster {
        changes.roster = Some(store::agents(&deps.db, tenant_id, None).await?);
    } else if !t.agents.is_empty() {
        let ids: Vec<i64> = t.agents.iter().copied().collect();
        let mut found = store::agents(&deps.db, tenant_id, Some(&ids)).await?;
        // an id not found is a user gone (disabled or deleted)
        changes.agents = ids
            .into_iter()
            .map(|u| {
                let a = found
                    .iter()
                    .position(|a| a.user_id == u)
                    .map(|i| found.swap_remove(i));
                (u, a)
            })
            .collect();
    }
    Ok(changes)
}

/// Replace the board with a fresh load.
struct Reset(Snapshot);

impl Message for Reset {
    type Result = ();
}

/// Apply what changed.
struct Apply(Changes);

impl Message for Apply {
    type Result = ();
}

/// A question about the board. Each holds a permit of the tenant's bounded
/// mailbox, released when answered.
pub struct Ask<Q> {
    pub query: Q,
    pub(super) _permit: Permit,
}

/// One place in a bounded mailbox; released on drop.
pub struct Permit(pub(super) Arc<AtomicUsize>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every department's queue size.
pub struct Queues;
/// The first `first` waiting in one department's queue (`None`: unrouted).
pub struct QueueOf {
    pub department_id: Option<i64>,
    pub first: usize,
}
/// The roster with loads.
pub struct Roster;

/// What the board looked like when it was asked.
pub enum Answer<T> {
    Ready(T),
    /// The board could not be loaded (database unreachable); it retries.
    NotLoaded,
}

impl Message for Ask<Queues> {
    type Result = Answer<Vec<QueueSummary>>;
}
impl Message for Ask<QueueOf> {
    type Result = Answer<(usize, Vec<Waiting>)>;
}
impl Message for Ask<Roster> {
    type Result = Answer<Vec<AgentLoad>>;
}

pub struct TenantActor {
    tenant_id: i64,
    deps: Deps,
    board: Board,
    loaded: bool,
}

impl TenantActor {
    pub(super) fn new(tenant_id: i64, deps: Deps) -> Self {
        Self {
            tenant_id,
            deps,
            board: Board::new(),
            loaded: false,
        }
    }

    fn metric(&self, event: &str) {
        self.deps.metrics.actor_event("tenant", event);
    }

    /// Publishes the board's totals as gauges.
    fn gauges(&self) {
        let t = self.tenant_id.to_string();
        let m = &self.deps.metrics;
        m.queue_waiting
            .with_label_values(&[t.as_str()])
            .set(i64::try_from(self.board.waiting()).unwrap_or(i64::MAX));
        m.agents_online
            .with_label_values(&[t.as_str()])
            .set(i64::try_from(self.board.online()).unwrap_or(i64::MAX));
    }

    fn reset(&mut self, snap: Snapshot) {
        let mut board = Board::new();
        for c in &snap.conversations {
            board.observe(c);
        }
        board.set_agents(snap.agents);
        self.board = board;
        self.loaded = true;
        self.gauges();
    }

    fn answer<T>(&self, f: impl FnOnce(&Board) -> T) -> Answer<T> {
        if self.loaded {
            Answer::Ready(f(&self.board))
        } else {
            Answer::NotLoaded
        }
    }
}

impl Actor for TenantActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // questions are bounded by permits; let actix take as many
        ctx.set_mailbox_capacity(self.deps.mailbox);
        self.metric("started");
        let deps = self.deps.clone();
        let tenant = self.tenant_id;
        // questions wait until the board is loaded (or failed to load)
        ctx.wait(
            async move { load(&deps, tenant).await }
                .into_actor(self)
                .map(|res, act, ctx| {
                    let head = match res {
                        Ok(snap) => {
                            let head = snap.head;
                            act.reset(snap);
                            Some(head)
                        }
                        Err(e) => {
                            tracing::error!(tenant_id = act.tenant_id, error = %e, "tenant board not loaded; retrying");
                            None
                        }
                    };
                    let follow = follow(ctx.address().downgrade(), act.deps.clone(), act.tenant_id, head);
                    ctx.spawn(follow.into_actor(act));
                }),
        );
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.metric("stopped");
    }
}

/// Follows the tenant's events from `head` and sends the actor what they
/// changed; loads the board again after a failure (`head` None: at once).
async fn follow(addr: WeakAddr<TenantActor>, deps: Deps, tenant_id: i64, mut head: Option<i64>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        let from = match head.take() {
            Some(h) => h,
            None => match load(&deps, tenant_id).await {
                Ok(snap) => {
                    let h = snap.head;
                    let Some(a) = addr.upgrade() else { return };
                    if a.send(Reset(snap)).await.is_err() {
                        return;
                    }
                    deps.metrics.actor_event("tenant", "rebuilt");
                    h
                }
                Err(e) => {
                    tracing::warn!(tenant_id, error = %e, "tenant board not loaded; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            },
        };
        // the actor must see every event: behind the bus, it catches up from the log
        let mut feed = Feed::new(
            &deps.bus,
            deps.db.clone(),
            tenant_id,
            Some(from),
            deps.quiet,
        )
        .replaying_on_lag();
        let resync_at = tokio::time::Instant::now() + RESYNC;
        let failure = loop {
            let first = match tokio::time::timeout_at(resync_at, feed.next()).await {
                Ok(Ok(e)) => e,
                Ok(Err(e)) => break Some(e),
                // time for a fresh load
                Err(_) => break None,
            };
            let mut touched = Touched::default();
            touched.add(&first.kind);
            let mut n = 1;
            while n < BATCH
                && let Some(e) = feed.next_ready()
            {
                touched.add(&e.kind);
                n += 1;
            }
            if touched.is_empty() {
                continue;
            }
            if touched.reload {
                break None;
            }
            match read(&deps, tenant_id, &touched).await {
                Ok(changes) => {
                    let Some(a) = addr.upgrade() else { return };
                    if a.send(Apply(changes)).await.is_err() {
                        return;
                    }
                    backoff = Duration::from_millis(200);
                }
                Err(e) => break Some(FeedError::Db(e)),
            }
        };
        match failure {
            // conversations changed in bulk, or time to resync: load again at once
            None => {}
            Some(FeedError::Closed) => return,
            Some(e) => {
                // start over from a fresh load: nothing is missed, whatever
                // the feed or the database did
                tracing::warn!(tenant_id, error = %e, "tenant board feed failed; reloading");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
}

impl Handler<Reset> for TenantActor {
    type Result = ();

    fn handle(&mut self, msg: Reset, _: &mut Context<Self>) {
        self.reset(msg.0);
    }
}

impl Handler<Apply> for TenantActor {
    type Result = ();

    fn handle(&mut self, msg: Apply, _: &mut Context<Self>) {
        let c = msg.0;
        for id in c.gone {
            self.board.forget(id);
        }
        for conv in &c.conversations {
            self.board.observe(conv);
        }
        if let Some(all) = c.roster {
            self.board.set_agents(all);
        }
        for (id, a) in c.agents {
            self.board.set_agent(id, a);
        }
        self.gauges();
    }
}

impl Handler<Ask<Queues>> for TenantActor {
    type Result = MessageResult<Ask<Queues>>;

    fn handle(&mut self, _: Ask<Queues>, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.answer(Board::queues))
    }
}

impl Handler<Ask<QueueOf>> for TenantActor {
    type Result = MessageResult<Ask<QueueOf>>;

    fn handle(&mut self, msg: Ask<QueueOf>, _: &mut Context<Self>) -> Self::Result {
        let QueueOf {
            department_id,
            first,
        } = msg.query;
        MessageResult(self.answer(|b| b.queue(department_id, first)))
    }
}

impl Handler<Ask<Roster>> for TenantActor {
    type Result = MessageResult<Ask<Roster>>;

    fn handle(&mut self, _: Ask<Roster>, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.answer(Board::roster))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_status_presence_and_directory_events_touch_the_board() {
        let mut t = Touched::default();
        t.add(&EventKind::MessageAdded {
            message_id: 1,
            conversation_id: 2,
        });
        t.add(&EventKind::QueueUpdated {
            department_id: Some(1),
        });
        t.add(&EventKind::DirectoryChanged {
            entity: DirectoryEntity::WhatsAppNumber,
            id: 1,
            action: ChangeAction::Updated,
        });
        assert!(t.is_empty());
        t.add(&EventKind::ConversationOpened { conversation_id: 5 });
        t.add(&EventKind::ConversationResolved {
            conversation_id: 6,
            reason: "resolved".into(),
            by_user: None,
        });
        t.add(&EventKind::AgentPresenceChanged {
            user_id: 9,
            status: "online".into(),
            capacity: 3,
        });
        assert_eq!(
            t.conversations.iter().copied().collect::<Vec<_>>(),
            vec![5, 6]
        );
        assert_eq!(t.agents.iter().copied().collect::<Vec<_>>(), vec![9]);
        assert!(!t.roster);
        t.add(&EventKind::DirectoryChanged {
            entity: DirectoryEntity::Department,
            id: 1,
            action: ChangeAction::Updated,
        });
        assert!(t.roster, "members may have changed");
        assert!(!t.reload);
        for entity in [DirectoryEntity::WhatsAppNumber, DirectoryEntity::Department] {
            let mut t = Touched::default();
            t.add(&EventKind::DirectoryChanged {
                entity,
                id: 1,
                action: ChangeAction::Deleted,
            });
            assert!(
                t.reload,
                "{entity:?} deleted: its conversations moved in bulk"
            );
        }
    }
}
