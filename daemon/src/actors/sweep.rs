//! The timer sweep: every tick, the conversations whose next timer is due.
//!
//! Window and SLA timers only set a "fired" column and publish an event
//! ([`Mark`]); they are fired in groups, many conversations per
//! transaction, with their next deadlines stored in the same transaction:
//! by the sweep itself, and for conversation actors by [`Marks`], which
//! groups what concurrent actors ask for. A conversation with another timer
//! due (auto-resolve, snooze, retention) wakes its actor, which fires it.
//! After an outage thousands of SLAs are due at once; fired one transaction
//! per conversation, each holding the tenant's event-sequence row until its
//! commit was flushed, they stalled the ingest writer (measured in
//! BENCHMARKS.md, session 9).

use std::time::Duration;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::conversations;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

use super::conversation::Mark;
use super::timers::{self, Policy, TimerKind};
use super::{Actors, ConvKey, Registry};
use crate::bus::{Bus, EventKind};
use crate::metrics::Metrics;
use crate::store::conversations::{self as store, DueTimer};

/// Conversations looked at per timer sweep.
const SWEEP_BATCH: u64 = 500;

/// Conversations fired per transaction: each holds its row until the
/// commit, so a message to one of them waits for at most one chunk.
const FIRE_CHUNK: usize = 16;

/// What firing marks needs.
#[derive(Debug)]
pub(super) struct Firing {
    pub db: DatabaseConnection,
    pub bus: Bus,
    pub metrics: Arc<Metrics>,
    pub policy: Policy,
}

/// One actor's request: fire the due marks of this row.
struct Request {
    conv: conversations::Model,
    /// `Ok(false)`: skipped (the row was locked), nothing fired.
    reply: oneshot::Sender<Result<bool, String>>,
}

/// Fires the due marks of conversation actors in groups: actors that ask
/// at the same time share one transaction (see [`fire_marks`]).
#[derive(Debug, Clone)]
pub(super) struct Marks {
    firing: Arc<Firing>,
    tx: mpsc::Sender<Request>,
}

impl Marks {
    /// Starts the task that fires the groups (on the current runtime).
    pub(super) fn start(firing: Firing) -> Self {
        let firing = Arc::new(firing);
        let task = firing.clone();
        let (tx, mut rx) = mpsc::channel::<Request>(FIRE_CHUNK * 4);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut group = vec![first];
                while group.len() < FIRE_CHUNK {
                    match rx.try_recv() {
                        Ok(r) => group.push(r),
                        Err(_) => break,
                    }
                }
                let convs: Vec<_> = group.iter().map(|r| r.conv.clone()).collect();
                let firing = std::panic::AssertUnwindSafe(fire_marks(&task, &convs, "actors"));
                let res = match futures_util::FutureExt::catch_unwind(firing).await {
                    Ok(res) => res.map_err(|e| e.to_string()),
                    Err(_) => Err("firing timers panicked".to_string()),
                };
                for r in group {
                    let done = match &res {
                        Ok(skipped) => Ok(!skipped.contains(&r.conv.id)),
                        Err(e) => Err(e.clone()),
                    };
                    let _ = r.reply.send(done);
                }
            }
        });
        Self { firing, tx }
    }

    pub(super) fn firing(&self) -> &Firing {
        &self.firing
    }

    /// Fires the due marks of `conv` (with other actors' in one
    /// transaction) and stores its next deadline; returns once committed.
    /// `Ok(false)` when the group skipped it (its row was locked by another
    /// writer at that moment): nothing of it was fired.
    pub(super) async fn fire(&self, conv: conversations::Model) -> Result<bool, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request { conv, reply })
            .await
            .map_err(|_| DbErr::Custom("the timer firing task stopped".into()))?;
        answer
            .await
            .map_err(|_| DbErr::Custom("the timer firing task stopped".into()))?
            .map_err(DbErr::Custom)
    }
}

/// Fires what is due, every `every`, until the registry is gone.
pub(super) async fn sweep(registry: std::sync::Weak<Registry>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = registry.upgrade() else {
            return;
        };
        let actors = Actors { inner };
        let deps = &actors.inner.deps;
        let now = Utc::now();
        let due = match store::due_timers(&deps.db, now, SWEEP_BATCH).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "timer sweep failed; retrying");
                continue;
            }
        };
        let (marks, wake) = split(due, &deps.policy, now);
        for d in wake {
            wake_actor(&actors, d);
        }
        let firing = deps.marks.firing();
        for chunk in marks.chunks(FIRE_CHUNK) {
            let rows: Vec<conversations::Model> = chunk.iter().map(|d| d.row.clone()).collect();
            // rows skipped (locked right now) are still due at the next tick
            if let Err(e) = fire_marks(firing, &rows, "sweep").await {
                // nothing of the group was stored: its actors fire them one by one
                tracing::warn!(error = %e, "firing due timers in a group failed; waking their actors");
                for d in chunk {
                    wake_actor(&actors, d.clone());
                }
            }
        }
    }
}

/// Wakes the actor of `d` (rebuilt if stopped), which fires what is due and
/// stores the next deadline (the writer stores exact ones too, so only
/// timers that are really due come here).
fn wake_actor(actors: &Actors, d: DueTimer) {
    let key = ConvKey {
        tenant_id: d.row.tenant_id,
        number_id: d.row.whatsapp_number_id,
        wa_id: d.wa_id,
    };
    actors.touch_due(&key, Some(d.row.id));
}

/// Splits due conversations into those whose due timers are all marks (or
/// none: a stale deadline, only stored again), fired here, and those that
/// wake their actor.
fn split(
    due: Vec<DueTimer>,
    policy: &Policy,
    now: DateTime<Utc>,
) -> (Vec<DueTimer>, Vec<DueTimer>) {
    let (mut marks, mut wake) = (Vec::new(), Vec::new());
    for d in due {
        let only_marks = timers::due(&d.row, policy, now)
            .into_iter()
            .all(TimerKind::is_mark);
        if only_marks {
            marks.push(d);
        } else {
            wake.push(d);
        }
    }
    (marks, wake)
}

/// Fires the due marks of `convs` in one transaction: each mark once (its
/// condition re-checked in the update), the events appended with one hold
/// of each tenant's sequence, and the next deadline of every conversation
/// whose marks all took. One that changed since it was read keeps its
/// deadline, so the next tick reads it again. Events go out after the commit.
/// Rows are locked first, in id order, skipping those locked elsewhere
/// (returned: they are still due). Returns the skipped ids.
/// `by` names who found them due, for `switchboard_timer_groups_total`.
async fn fire_marks(
    deps: &Firing,
    convs: &[conversations::Model],
    by: &str,
) -> Result<Vec<i64>, DbErr> {
    let now = Utc::now();
    let mut convs: Vec<&conversations::Model> = convs.iter().collect();
    convs.sort_unstable_by_key(|c| c.id);
    convs.dedup_by_key(|c| c.id);
    let txn = crate::store::begin_write(&deps.db).await?;
    let skipped = lock_rows(&txn, &mut convs).await?;
    let mut events: Vec<(i64, EventKind)> = Vec::new();
    let mut fired = Vec::new();
    for conv in convs {
        let mut after = conv.clone();
        let mut took_all = true;
        for kind in timers::due(conv, &deps.policy, now) {
            let Some(m) = Mark::of(kind, conv) else {
                took_all = false;
                continue;
            };
            if store::mark_once(&txn, conv.id, m.column, now, m.still.clone()).await? {
                m.apply(&mut after, now);
                events.extend(m.event.map(|e| (conv.tenant_id, e)));
                fired.push(kind);
            } else {
                took_all = false;
            }
        }
        if took_all {
            let next = timers::next_deadline(&after, &deps.policy);
            if next != conv.next_timer_at {
                store::set_next_timer(&txn, conv.id, conv.next_timer_at, next).await?;
            }
        }
    }
    let appended = crate::ingest::write::append_events(&txn, events, now).await?;
    txn.commit().await?;
    deps.metrics.timer_groups.with_label_values(&[by]).inc();
    for kind in fired {
        deps.metrics
            .timer_fires
            .with_label_values(&[kind.as_str()])
            .inc();
    }
    for e in appended {
        deps.bus.publish(e);
    }
    Ok(skipped)
}

/// PostgreSQL: locks the rows of `convs` in id order, skipping (and
/// removing from `convs`) those another transaction holds; returns their
/// ids. The group never waits for a conversation while it holds others, so
/// it cannot close a cycle with the ingest writer (which takes the event
/// sequence only after its conversations). SQLite has one writer at a time.
async fn lock_rows(
    txn: &sea_orm::DatabaseTransaction,
    convs: &mut Vec<&conversations::Model>,
) -> Result<Vec<i64>, DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query};
    use sea_orm::{ConnectionTrait, EntityName};
    if txn.get_database_backend() != sea_orm::DbBackend::Postgres || convs.is_empty() {
        return Ok(Vec::new());
    }
    let q = Query::select()
        .column(conversations::Column::Id)
        .from(conversations::Entity.table_ref())
        .and_where(Expr::col(conversations::Column::Id).is_in(convs.iter().map(|c| c.id)))
        .order_by(conversations::Column::Id, Order::Asc)
        .lock_with_behavior(LockType::NoKeyUpdate, LockBehavior::SkipLocked)
        .to_owned();
    let mut locked = std::collections::HashSet::new();
    for row in txn.query_all(&q).await? {
        locked.insert(row.try_get::<i64>("", "id")?);
    }
    let skipped = convs
        .iter()
        .map(|c| c.id)
        .filter(|id| !locked.contains(id))
        .collect();
    // a row gone since it was read is "skipped" too: nothing to fire
    convs.retain(|c| locked.contains(&c.id));
    Ok(skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(mins: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).expect("time") + chrono::Duration::minutes(mins)
    }

    fn policy() -> Policy {
        Policy {
            first_response: Some(chrono::Duration::minutes(5)),
            next_response: Some(chrono::Duration::minutes(15)),
            window_warning: Some(chrono::Duration::minutes(60)),
            auto_resolve: Some(chrono::Duration::minutes(120)),
            retention: None,
        }
    }

    fn due(row: conversations::Model) -> DueTimer {
        DueTimer {
            wa_id: format!("49{}", row.id),
            row,
        }
    }

    #[test]
    fn marks_are_fired_by_the_sweep_and_other_timers_wake_the_actor() {
        let p = policy();
        // waiting since t(0): the first-response SLA (a mark) is due at t(5)
        let sla = store::queued(1, t(0));
        assert_eq!(timers::due(&sla, &p, t(6)), [TimerKind::FirstResponseSla]);
        // answered and quiet since: auto-resolve (not a mark) is due at t(120)
        let mut quiet = store::queued(2, t(0));
        quiet.awaiting_reply_since = None;
        quiet.first_response_at = Some(t(1));
        quiet.last_outbound_at = Some(t(1));
        assert!(timers::due(&quiet, &p, t(200)).contains(&TimerKind::AutoResolve));
        // a stale deadline with nothing due: stored again by the sweep
        let stale = store::queued(3, t(4));
        assert!(timers::due(&stale, &p, t(6)).is_empty());

        let (marks, wake) = split(vec![due(sla), due(quiet.clone()), due(stale)], &p, t(6));
        assert_eq!(
            marks.iter().map(|d| d.row.id).collect::<Vec<_>>(),
            [1, 2, 3],
            "the SLA; the others have nothing due at t(6), so only their deadline is stored"
        );
        assert!(wake.is_empty());
        let (marks, wake) = split(vec![due(quiet)], &p, t(200));
        assert!(marks.is_empty());
        assert_eq!(wake.iter().map(|d| d.row.id).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_fired_mark_moves_the_next_deadline_on() {
        let p = policy();
        let mut c = store::queued(1, t(0));
        let m = Mark::of(TimerKind::FirstResponseSla, &c).expect("a mark");
        assert!(matches!(m.event, Some(EventKind::SlaBreached { .. })));
        assert_eq!(timers::next_deadline(&c, &p), Some(t(5)));
        m.apply(&mut c, t(6));
        assert_eq!(c.first_response_breached_at, Some(t(6)));
        assert!(timers::due(&c, &p, t(6)).is_empty(), "fired once");
        assert!(timers::next_deadline(&c, &p).is_none_or(|at| at > t(5)));
        assert!(Mark::of(TimerKind::AutoResolve, &c).is_none());
    }

    #[test]
    fn a_mark_holds_only_for_the_status_and_the_wait_it_was_read_with() {
        use sea_orm::sea_query::{PostgresQueryBuilder, Query};
        let c = store::queued(1, t(0));
        for kind in [TimerKind::FirstResponseSla, TimerKind::WindowClosing] {
            let m = Mark::of(kind, &c).expect("a mark");
            let sql = Query::select()
                .expr(sea_orm::sea_query::Expr::val(1))
                .and_where(m.still)
                .to_string(PostgresQueryBuilder);
            // resolved, snoozed or handed to the bot since the row was read: no fire
            assert!(
                sql.contains(&format!("\"status\" = '{}'", c.status)),
                "{sql}"
            );
            let wait = if kind == TimerKind::FirstResponseSla {
                "\"awaiting_reply_since\""
            } else {
                "\"window_expires_at\""
            };
            assert!(sql.contains(wait), "{sql}");
        }
    }
}
