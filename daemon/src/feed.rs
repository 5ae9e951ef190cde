//! A tenant's events in sequence order from a position: first what the event
//! log holds after it, then live events from the bus, with every gap (events
//! that arrived out of commit order, or never arrived from another daemon)
//! filled from the log. No event is skipped and none comes twice. GraphQL
//! subscriptions and the tenant actor both read their events through a feed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use entity::event_log;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::bus::{Bus, Event, EventKind};

/// Events replayed per database page.
const REPLAY_PAGE: u64 = 200;

/// Why a feed ended.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The reader fell so far behind that the bus dropped events for it; it
    /// resumes from its position with a new feed.
    #[error("fell behind by {0} events")]
    Lagged(u64),
    /// The bus is gone (shutting down).
    #[error("the event bus closed")]
    Closed,
    #[error("event log: {0}")]
    Db(#[from] DbErr),
}

pub struct Feed {
    rx: broadcast::Receiver<Arc<Event>>,
    db: DatabaseConnection,
    tenant_id: i64,
    /// Check the log after this long without events (events can be lost
    /// between daemons); `None` with the in-process bus, which loses nothing.
    quiet: Option<Duration>,
    backlog: VecDeque<Arc<Event>>,
    /// Highest sequence number delivered or queued for delivery.
    last: i64,
    /// Whether `last` is a real position (given, or read from the log), so a
    /// jump past `last + 1` is a gap to fill.
    positioned: bool,
    replaying: bool,
    /// On lag, read what the bus dropped from the log instead of failing.
    replay_on_lag: bool,
    /// A lag `next_ready` saw, for `next` to act on.
    lag: Option<u64>,
}

impl Feed {
    /// A feed of `tenant_id`'s events after `after` (replayed from the log),
    /// or of live events only (`None`). Subscribes to the bus before reading
    /// anything, so nothing committed in between is missed.
    pub fn new(
        bus: &Bus,
        db: DatabaseConnection,
        tenant_id: i64,
        after: Option<i64>,
        quiet: Duration,
    ) -> Self {
        Self {
            rx: bus.subscribe(),
            db,
            tenant_id,
            quiet: bus.is_shared().then_some(quiet),
            backlog: VecDeque::new(),
            last: after.unwrap_or(0),
            positioned: after.is_some(),
            replaying: after.is_some(),
            replay_on_lag: false,
            lag: None,
        }
    }

    /// Makes the feed catch up from the log when it falls behind the bus
    /// (for readers that must see every event and can afford to catch up,
    /// such as the tenant actor), instead of ending with `Lagged`.
    pub fn replaying_on_lag(mut self) -> Self {
        self.replay_on_lag = true;
        self
    }

    /// The tenant's newest committed sequence number.
    pub async fn head(db: &DatabaseConnection, tenant_id: i64) -> Result<i64, DbErr> {
        Ok(entity::event_sequences::Entity::find_by_id(tenant_id)
            .one(db)
            .await?
            .map_or(0, |r| r.last_seq))
    }

    /// The events of one log page after `last`.
    async fn replay_page(&mut self) -> Result<(), DbErr> {
        let rows = event_log::Entity::find()
            .filter(event_log::Column::TenantId.eq(self.tenant_id))
            .filter(event_log::Column::Seq.gt(self.last))
            .order_by_asc(event_log::Column::Seq)
            .limit(REPLAY_PAGE)
            .all(&self.db)
            .await?;
        if rows.is_empty() {
            self.replaying = false;
        }
        for r in rows {
            self.last = r.seq;
            match serde_json::from_value::<EventKind>(r.payload) {
                Ok(kind) => self.backlog.push_back(Arc::new(Event {
                    tenant_id: r.tenant_id,
                    seq: r.seq,
                    at: r.created_at,
                    kind,
                })),
                Err(e) => {
                    tracing::warn!(seq = r.seq, error = %e, "unreadable logged event skipped")
                }
            }
        }
        Ok(())
    }

    /// The next event if one is at hand without waiting or reading the log
    /// (to gather a batch after [`Feed::next`]); `None` otherwise.
    pub fn next_ready(&mut self) -> Option<Arc<Event>> {
        loop {
            if let Some(e) = self.backlog.pop_front() {
                return Some(e);
            }
            if self.replaying || !self.positioned || self.lag.is_some() {
                return None;
            }
            match self.rx.try_recv() {
                Ok(ev) => {
                    if let Some(e) = self.accept(ev) {
                        return Some(e);
                    }
                }
                // `next` answers it (a lag, or the end of the bus)
                Err(broadcast::error::TryRecvError::Lagged(missed)) => self.lag = Some(missed),
                Err(_) => return None,
            }
        }
    }

    /// Takes an event from the bus: the next one of the tenant is handed
    /// out; a jump past it means events arrived out of commit order
    /// (concurrent writers, other daemons over Redis) — everything below
    /// `ev.seq` is committed, so the gap and `ev` itself are read from the
    /// log; other tenants' events and ones seen already are dropped.
    fn accept(&mut self, ev: Arc<Event>) -> Option<Arc<Event>> {
        if ev.tenant_id != self.tenant_id || ev.seq <= self.last {
            return None;
        }
        if ev.seq > self.last + 1 {
            self.replaying = true;
            return None;
        }
        self.last = ev.seq;
        Some(ev)
    }

    /// The bus dropped `missed` events for this reader: catch up from the
    /// log, or end (see [`Feed::replaying_on_lag`]).
    fn lagged(&mut self, missed: u64) -> Result<(), FeedError> {
        if self.replay_on_lag {
            self.replaying = true;
            Ok(())
        } else {
            Err(FeedError::Lagged(missed))
        }
    }

    /// The next event, waiting for one if need be.
    pub async fn next(&mut self) -> Result<Arc<Event>, FeedError> {
        loop {
            if let Some(e) = self.backlog.pop_front() {
                return Ok(e);
            }
            if let Some(missed) = self.lag.take() {
                self.lagged(missed)?;
                continue;
            }
            if self.replaying {
                self.replay_page().await?;
                continue;
            }
            if !self.positioned {
                // live-only: start after what is committed now, so a later
                // jump in sequence numbers is a gap to fill, not a skip
                self.last = Self::head(&self.db, self.tenant_id).await?;
                self.positioned = true;
            }
            let received = match self.quiet {
                // an event lost between daemons (Redis down) shows up as a gap
                // with the tenant's next event; while the stream is quiet,
                // look at the log now and then so the loss is bounded
                Some(quiet) => match tokio::time::timeout(quiet, self.rx.recv()).await {
                    Ok(r) => r,
                    Err(_) => {
                        match Self::head(&self.db, self.tenant_id).await {
                            Ok(head) if head > self.last => self.replaying = true,
                            Ok(_) => {}
                            // a passing database error must not end the feed
                            Err(e) => {
                                tracing::warn!(tenant_id = self.tenant_id, error = %e, "event head not read; checking again later")
                            }
                        }
                        continue;
                    }
                },
                None => self.rx.recv().await,
            };
            match received {
                Ok(ev) => {
                    if let Some(e) = self.accept(ev) {
                        return Ok(e);
                    }
                }
                Err(RecvError::Lagged(missed)) => self.lagged(missed)?,
                Err(RecvError::Closed) => return Err(FeedError::Closed),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(tenant_id: i64, seq: i64) -> Event {
        Event {
            tenant_id,
            seq,
            at: chrono::Utc::now(),
            kind: EventKind::ConversationOpened {
                conversation_id: seq,
            },
        }
    }

    /// A feed positioned after `after` that has nothing left to replay (no
    /// database is touched while it reads only the bus).
    fn live_feed(bus: &Bus, after: i64) -> Feed {
        let mut f = Feed::new(
            bus,
            DatabaseConnection::default(),
            1,
            Some(after),
            Duration::from_secs(30),
        );
        f.replaying = false;
        f
    }

    #[test]
    fn hands_out_the_next_event_drops_others_and_replays_a_gap() {
        let bus = Bus::in_process(16);
        let mut f = live_feed(&bus, 5);
        bus.publish(event(1, 6));
        bus.publish(event(1, 6)); // a duplicate (Redis and the log)
        bus.publish(event(2, 7)); // another tenant
        bus.publish(event(1, 7));
        bus.publish(event(1, 9)); // 8 is missing
        let seqs: Vec<i64> = std::iter::from_fn(|| f.next_ready())
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![6, 7]);
        assert!(f.replaying, "the gap before 9 is read from the log");
        assert_eq!(f.last, 7);
    }

    #[tokio::test]
    async fn a_lag_ends_a_subscriber_feed_and_not_a_catching_up_one() {
        let bus = Bus::in_process(16);
        let mut sub = live_feed(&bus, 0);
        let mut actor = live_feed(&bus, 0).replaying_on_lag();
        for seq in 1..=40 {
            bus.publish(event(1, seq));
        }
        assert!(sub.next_ready().is_none() && sub.lag.is_some());
        assert!(matches!(sub.next().await, Err(FeedError::Lagged(_))));
        assert!(actor.next_ready().is_none() && actor.lag.is_some());
        assert!(actor.lagged(24).is_ok() && actor.replaying);
    }
}
