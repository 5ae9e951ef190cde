//! Durable, exactly-once webhook ingest with group commit.
//!
//! Webhook handlers turn a verified notification into a [`BatchInput`] and
//! [`Ingestor::submit`] it; one writer task per database collects submissions
//! from many concurrent handlers, closes a batch at a size limit or a few
//! milliseconds after its first submission, writes it in one transaction and
//! only then completes every handler's oneshot, so a 200 means "committed".
//! A full queue is back-pressure (`Overloaded` → HTTP 503 + Retry-After), never
//! unbounded memory.

pub mod contacts;
pub mod fast;
pub mod plan;
pub mod write;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use crate::bus::Event;
use crate::config::IngestSettings;
use crate::metrics::Metrics;
pub use plan::BatchInput;
pub use write::{WriteOptions, WriteOutcome};

/// Why a submission was not committed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IngestError {
    /// The writer queue is full: retry later.
    #[error("ingest queue is full")]
    Overloaded,
    /// The writer is gone (shutting down).
    #[error("ingest writer stopped")]
    Stopped,
    /// The transaction failed; nothing of this submission was committed.
    #[error("commit failed: {0}")]
    Commit(String),
}

struct Job {
    input: BatchInput,
    reply: oneshot::Sender<Result<WriteOutcome, IngestError>>,
    /// What an earlier step of this batch already committed of the job
    /// (the one-statement path, [`fast`]); `input` holds the rest.
    done: Option<WriteOutcome>,
}

/// Handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
    metrics: Arc<Metrics>,
    /// `true` once [`Ingestor::close`] was called.
    closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// One per writer, completed when it stopped.
    stopped: Arc<tokio::sync::Mutex<Vec<oneshot::Receiver<()>>>>,
}

impl std::fmt::Debug for Ingestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingestor").finish_non_exhaustive()
    }
}

/// Where the writers get their database connections.
#[derive(Debug, Clone)]
pub enum WriterDb {
    /// One writer sharing this pool (SQLite, which has one write lock).
    Shared(DatabaseConnection),
    /// PostgreSQL: each writer opens its own connections
    /// ([`crate::store::connect_writer`]) on its own thread, so neither other
    /// database users nor other tasks of the main thread delay a commit.
    Own(crate::config::DatabaseSettings),
}

impl Ingestor {
    /// Starts the writer tasks; fails when a writer cannot connect.
    pub async fn start(
        db: WriterDb,
        settings: &IngestSettings,
        metrics: Arc<Metrics>,
        bus: crate::bus::Bus,
        opts: WriteOptions,
    ) -> Result<Self, sea_orm::DbErr> {
        let (tx, rx) = mpsc::channel(settings.queue_capacity);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let (closing, closed) = tokio::sync::watch::channel(false);
        let mut stopped = Vec::new();
        let (max, wait) = (
            settings.batch_max_notifications.max(1),
            Duration::from_millis(settings.batch_max_wait_ms),
        );
        let writer = {
            let (rx, metrics) = (rx.clone(), metrics.clone());
            move |db: DatabaseConnection, own_db: bool, done: oneshot::Sender<()>| Writer {
                db,
                own_db,
                bus: bus.clone(),
                rx: rx.clone(),
                max,
                wait,
                metrics: metrics.clone(),
                opts: opts.clone(),
                closed: closed.clone(),
                done,
            }
        };
        match db {
            // one writer: SQLite has one write lock, a second would only wait
            WriterDb::Shared(db) => {
                let (done, stop) = oneshot::channel();
                stopped.push(stop);
                tokio::spawn(writer(db, false, done).run());
            }
            WriterDb::Own(db_settings) => {
                for _ in 0..settings.writers.max(1) {
                    let (done, stop) = oneshot::channel();
                    stopped.push(stop);
                    if actix::System::try_current().is_none() {
                        let db = crate::store::connect_writer(&db_settings).await?;
                        tokio::spawn(writer(db, true, done).run());
                        continue;
                    }
                    // the connections are opened on the writer's thread, so
                    // their I/O is driven there; the thread ends with the writer
                    let (ready, connected) = oneshot::channel();
                    let make = writer.clone();
                    let db_settings = db_settings.clone();
                    actix::Arbiter::new().spawn(async move {
                        match crate::store::connect_writer(&db_settings).await {
                            Ok(db) => {
                                let _ = ready.send(Ok(()));
                                make(db, true, done).run().await;
                            }
                            Err(e) => {
                                let _ = ready.send(Err(e));
                            }
                        }
                        actix::Arbiter::current().stop();
                    });
                    connected.await.map_err(|_| {
                        sea_orm::DbErr::Custom("ingest writer thread stopped".into())
                    })??;
                }
            }
        }
        Ok(Self {
            tx,
            metrics,
            closing: Arc::new(closing),
            stopped: Arc::new(tokio::sync::Mutex::new(stopped)),
        })
    }

    /// Stops taking submissions, lets the writers commit what is queued and
    /// waits until they stopped (their connections close with them).
    pub async fn close(&self) {
        let _ = self.closing.send(true);
        let stops = std::mem::take(&mut *self.stopped.lock().await);
        for stop in stops {
            let _ = stop.await;
        }
    }

    /// Whether the writer task is running (for `/readyz`).
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Queues `input` and waits until it is committed.
    pub async fn submit(&self, input: BatchInput) -> Result<WriteOutcome, IngestError> {
        if *self.closing.borrow() {
            return Err(IngestError::Stopped);
        }
        let (reply, rx) = oneshot::channel();
        self.tx
            .try_send(Job {
                input,
                reply,
                done: None,
            })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => IngestError::Overloaded,
                mpsc::error::TrySendError::Closed(_) => IngestError::Stopped,
            })?;
        self.metrics
            .ingest_queue_depth
            .set(i64::try_from(self.tx.max_capacity() - self.tx.capacity()).unwrap_or(i64::MAX));
        rx.await.map_err(|_| IngestError::Stopped)?
    }
}

/// One writer task. Writers share the queue: the one holding the receiver
/// collects the next batch while the others commit theirs.
struct Writer {
    db: DatabaseConnection,
    /// The writer's own connections (PostgreSQL), closed when it stops; not
    /// SQLite's shared pool.
    own_db: bool,
    bus: crate::bus::Bus,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
    max: usize,
    wait: Duration,
    metrics: Arc<Metrics>,
    opts: WriteOptions,
    /// `true` once the ingestor is closing: commit what is queued, then stop.
    closed: tokio::sync::watch::Receiver<bool>,
    /// Completed (dropped) when this writer stopped.
    done: oneshot::Sender<()>,
}

impl Writer {
    /// The next batch: the first job, then more until the size limit or the
    /// wait after the first runs out. `None` when the queue is closed.
    async fn collect(&self) -> Option<(Vec<Job>, Instant)> {
        let mut rx = self.rx.lock().await;
        let mut closed = self.closed.clone();
        let first = loop {
            if *closed.borrow_and_update() {
                // closing: what is queued still commits, then stop
                break rx.try_recv().ok()?;
            }
            tokio::select! {
                job = rx.recv() => break job?,
                changed = closed.changed() => {
                    if changed.is_err() {
                        // the ingestor is gone: so are its senders
                        break rx.recv().await?;
                    }
                }
            }
        };
        let opened = Instant::now();
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + self.wait;
        while batch.len() < self.max {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                // no wait configured: what is queued now (a zero timeout would
                // still sleep until the timer wheel's next millisecond)
                Err(mpsc::error::TryRecvError::Empty) if self.wait.is_zero() => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Some(job)) => batch.push(job),
                        _ => break,
                    }
                }
                Err(mpsc::error::TryRecvError::Disconnected) => break,
            }
        }
        self.metrics
            .ingest_queue_depth
            .set(i64::try_from(rx.len()).unwrap_or(i64::MAX));
        Some((batch, opened))
    }

    async fn run(self) {
        // what follows a commit (timer hints, events, answers) runs beside
        // the writer, in commit order, while it writes the next batch
        let (finish, finishing) = mpsc::channel(FINISH_QUEUE);
        let finisher = tokio::spawn(finish_batches(
            finishing,
            self.db.clone(),
            self.bus.clone(),
            self.metrics.clone(),
        ));
        while let Some((batch, opened)) = self.collect().await {
            self.metrics
                .ingest_step_seconds
                .with_label_values(&["collect"])
                .observe(opened.elapsed().as_secs_f64());
            // a panic in one batch must not take the writer (and every webhook) down;
            // its handlers see their oneshot dropped and answer 503, Meta retries
            let guarded = std::panic::AssertUnwindSafe(self.commit(batch, &finish));
            if futures_util::FutureExt::catch_unwind(guarded)
                .await
                .is_err()
            {
                tracing::error!("ingest batch panicked; its webhooks were answered 503");
            }
        }
        drop(finish);
        if finisher.await.is_err() {
            tracing::error!("finishing ingest batches panicked; their webhooks were answered 503");
        }
        // end the sessions with a goodbye instead of dropping the sockets
        if self.own_db {
            match tokio::time::timeout(Duration::from_secs(5), self.db.close_by_ref()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "closing the ingest writer's connections failed")
                }
                Err(_) => tracing::warn!("closing the ingest writer's connections timed out"),
            }
        }
        tracing::info!("ingest writer stopped");
        let _ = self.done.send(());
    }

    /// Commits a batch; if the batch transaction fails, each job is retried in
    /// its own transaction so one bad notification cannot block the others.
    async fn commit(&self, batch: Vec<Job>, finish: &mpsc::Sender<Finish>) {
        let batch = if self.db.get_database_backend() == sea_orm::DbBackend::Postgres {
            self.commit_fast(batch, finish).await
        } else {
            batch
        };
        if batch.is_empty() {
            return;
        }
        let started = Instant::now();
        let n = batch.len();
        let merged = merged(&batch);
        let messages = merged.inbound.len() + merged.statuses.len();
        match self.write(merged).await {
            Ok(mut outcome) => {
                self.observe(started, n, messages, &outcome);
                let events = std::mem::take(&mut outcome.events);
                let parts = Parts::of(&outcome);
                let replies = batch
                    .into_iter()
                    .map(|job| {
                        let mine = outcome_for(&job.input, &outcome, &parts);
                        (job.reply, Ok(with_done(job.done, mine)))
                    })
                    .collect();
                self.finish(finish, None, events, replies).await;
            }
            Err(e) if n > 1 => {
                tracing::warn!(error = %e, jobs = n, "batch commit failed; retrying jobs one by one");
                for job in batch {
                    let started = Instant::now();
                    let m = job.input.inbound.len() + job.input.statuses.len();
                    let mut res = self.write(job.input).await;
                    let events = match &mut res {
                        Ok(o) => {
                            self.observe(started, 1, m, o);
                            std::mem::take(&mut o.events)
                        }
                        Err(_) => Vec::new(),
                    };
                    let reply = (job.reply, res.map(|o| with_done(job.done, o)));
                    self.finish(finish, None, events, vec![reply]).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "ingest commit failed");
                let replies = batch
                    .into_iter()
                    .map(|job| (job.reply, Err(e.clone())))
                    .collect();
                self.finish(finish, None, Vec::new(), replies).await;
            }
        }
    }

    /// Hands what follows a commit to [`finish_batches`] (which runs until
    /// the writer drops its sender, so the send cannot fail before).
    async fn finish(
        &self,
        to: &mpsc::Sender<Finish>,
        timers: Option<fast::TimerHint>,
        events: Vec<Event>,
        replies: Vec<Reply>,
    ) {
        let done = Finish {
            timers,
            events,
            replies,
        };
        if to.send(done).await.is_err() {
            tracing::error!("the ingest finisher is gone; a committed batch was answered 503");
        }
    }

    /// PostgreSQL: writes the jobs [`fast::eligible`] for the one-statement
    /// path and answers those it completed; returns the others, and those
    /// with messages it left (retries, conversations not open), for the
    /// transaction path. When the statement fails nothing was committed and
    /// every job goes on.
    async fn commit_fast(&self, batch: Vec<Job>, finish: &mpsc::Sender<Finish>) -> Vec<Job> {
        let started = Instant::now();
        let (fast, mut rest): (Vec<Job>, Vec<Job>) = batch
            .into_iter()
            .partition(|j| j.done.is_none() && fast::eligible(&j.input, &self.opts.contacts));
        if fast.is_empty() {
            return rest;
        }
        let mut steps = write::Steps::start();
        let plan = plan::plan(merged(&fast));
        steps.lap("plan");
        let (mut outcome, timers) = match fast::write(&self.db, &plan, &self.opts).await {
            Ok(o) => o,
            Err(e) => {
                match &e {
                    fast::FastError::NotWritten(_) => {
                        tracing::warn!(error = %e, "one-statement ingest failed; the batch goes the transaction way")
                    }
                    fast::FastError::Unread(_) => {
                        tracing::error!(error = %e, "one-statement ingest committed but its answer was unreadable; the transaction way reports its messages as duplicates")
                    }
                }
                rest.extend(fast);
                return rest;
            }
        };
        steps.laps.append(&mut outcome.steps.laps);
        outcome.steps = steps;
        self.opts
            .contacts
            .remember(outcome.contacts.iter().cloned());
        self.observe(started, fast.len(), outcome.inserted.len(), &outcome);
        let events = std::mem::take(&mut outcome.events);
        let mut replies = Vec::with_capacity(fast.len());
        let parts = Parts::of(&outcome);
        for mut job in fast {
            let mine = WriteOutcome {
                duplicates: 0,
                ..outcome_for(&job.input, &outcome, &parts)
            };
            job.input.inbound.retain(|m| {
                !parts
                    .inserted
                    .contains_key(&(m.tenant_id, m.wamid.as_str()))
            });
            if job.input.inbound.is_empty() {
                replies.push((job.reply, Ok(mine)));
            } else {
                job.done = Some(mine);
                rest.push(job);
            }
        }
        self.finish(finish, Some(timers), events, replies).await;
        rest
    }

    async fn write(&self, input: BatchInput) -> Result<WriteOutcome, IngestError> {
        let res = self.write_once(input).await;
        if res.is_err() {
            // a remembered contact may be gone (erased): look them up again
            self.opts.contacts.clear();
        }
        res
    }

    async fn write_once(&self, input: BatchInput) -> Result<WriteOutcome, IngestError> {
        let mut steps = write::Steps::start();
        let plan = plan::plan(input);
        steps.lap("plan");
        let txn = crate::store::begin_write(&self.db)
            .await
            .map_err(|e| IngestError::Commit(e.to_string()))?;
        steps.lap("begin");
        let mut outcome = write::write_plan(&txn, &plan, &self.opts)
            .await
            .map_err(|e| IngestError::Commit(e.to_string()))?;
        let wrote = Instant::now();
        txn.commit()
            .await
            .map_err(|e| IngestError::Commit(e.to_string()))?;
        steps.laps.append(&mut outcome.steps.laps);
        steps.laps.push(("commit", wrote.elapsed()));
        outcome.steps = steps;
        self.opts
            .contacts
            .remember(outcome.contacts.iter().cloned());
        Ok(outcome)
    }

    fn observe(&self, started: Instant, jobs: usize, messages: usize, outcome: &WriteOutcome) {
        let m = &self.metrics;
        m.ingest_commit_seconds
            .observe(started.elapsed().as_secs_f64());
        m.ingest_batch_notifications.observe(jobs as f64);
        m.ingest_batch_messages.observe(messages as f64);
        for (step, took) in &outcome.steps.laps {
            m.ingest_step_seconds
                .with_label_values(&[step])
                .observe(took.as_secs_f64());
        }
        for ins in &outcome.inserted {
            m.messages_in.with_label_values(&[ins.kind.as_str()]).inc();
        }
    }
}

/// Committed batches waiting for [`finish_batches`] at most (then the
/// writer waits: back-pressure, not memory).
const FINISH_QUEUE: usize = 64;

/// A submission's answer.
type Reply = (
    oneshot::Sender<Result<WriteOutcome, IngestError>>,
    Result<WriteOutcome, IngestError>,
);

/// What follows a commit: the timer hints it computed, its events and the
/// answers to its submissions.
struct Finish {
    timers: Option<fast::TimerHint>,
    events: Vec<Event>,
    replies: Vec<Reply>,
}

impl Finish {
    /// Stores the timer hints, publishes the events (in sequence order) and
    /// answers the submissions. The hints go first: a client that got its
    /// 200 reads the conversation's next deadline with its message.
    async fn run(self, db: &DatabaseConnection, bus: &crate::bus::Bus, metrics: &Metrics) {
        if let Some(t) = &self.timers {
            let started = Instant::now();
            t.store(db).await;
            metrics
                .ingest_step_seconds
                .with_label_values(&["timers"])
                .observe(started.elapsed().as_secs_f64());
        }
        let started = Instant::now();
        for e in self.events {
            bus.publish(e);
        }
        for (reply, res) in self.replies {
            let _ = reply.send(res);
        }
        metrics
            .ingest_step_seconds
            .with_label_values(&["publish"])
            .observe(started.elapsed().as_secs_f64());
    }
}

/// Finishes the writer's committed batches in commit order (so events are
/// published in sequence order) while the writer goes on with the next; a
/// panic in one batch drops its answers (503, Meta retries; the commit is
/// kept and the retry reported as a duplicate) and the task goes on.
async fn finish_batches(
    mut batches: mpsc::Receiver<Finish>,
    db: DatabaseConnection,
    bus: crate::bus::Bus,
    metrics: Arc<Metrics>,
) {
    while let Some(done) = batches.recv().await {
        let guarded = std::panic::AssertUnwindSafe(done.run(&db, &bus, &metrics));
        if futures_util::FutureExt::catch_unwind(guarded)
            .await
            .is_err()
        {
            tracing::error!("finishing an ingest batch panicked; its webhooks were answered 503");
        }
    }
}

/// Contacts the warm-up loads at most: the most recent customers.
pub const WARM_CONTACTS: u64 = 50_000;

/// Fills `cache` with the contacts who wrote within the last 24 hours
/// (newest first, at most [`WARM_CONTACTS`]), so after a restart their next
/// message takes the fast way (on PostgreSQL, one statement) instead of a
/// contact lookup and upsert each. Returns how many were added. A failure
/// costs only speed: the caller logs it and goes on.
pub async fn warm_contacts(
    db: &DatabaseConnection,
    cache: &contacts::ContactCache,
) -> Result<usize, sea_orm::DbErr> {
    use entity::contacts::{Column, Entity};
    use sea_orm::{EntityTrait, QueryFilter, QueryOrder, QuerySelect};
    type Row = (
        i64,
        i64,
        String,
        Option<String>,
        Option<chrono::DateTime<chrono::Utc>>,
    );
    let since = crate::store::now() - write::SERVICE_WINDOW;
    let rows: Vec<Row> = Entity::find()
        .select_only()
        .columns([
            Column::Id,
            Column::TenantId,
            Column::WaId,
            Column::ProfileName,
            Column::LastInboundAt,
        ])
        .filter(sea_orm::ColumnTrait::gt(&Column::LastInboundAt, since))
        .order_by_desc(Column::LastInboundAt)
        .limit(WARM_CONTACTS)
        .into_tuple()
        .all(db)
        .await?;
    Ok(
        cache.fill(rows.into_iter().map(|(id, tenant, wa_id, name, at)| {
            (
                (tenant, wa_id),
                contacts::Known {
                    id,
                    name,
                    last_inbound_at: at,
                },
            )
        })),
    )
}

/// The inputs of `jobs` as one (the jobs keep theirs, to answer each).
fn merged(jobs: &[Job]) -> BatchInput {
    let mut merged = BatchInput::default();
    for job in jobs {
        merged.contacts.extend(job.input.contacts.iter().cloned());
        merged.inbound.extend(job.input.inbound.iter().cloned());
        merged.statuses.extend(job.input.statuses.iter().cloned());
        merged.templates.extend(job.input.templates.iter().cloned());
        merged.accepted.extend(job.input.accepted.iter().cloned());
        merged.events.extend(job.input.events.iter().cloned());
    }
    merged
}

/// A job's outcome: what an earlier step committed of it plus `rest`.
fn with_done(done: Option<WriteOutcome>, rest: WriteOutcome) -> WriteOutcome {
    match done {
        Some(mut all) => {
            all.absorb(rest);
            all
        }
        None => rest,
    }
}

/// Where each stored message and each conversation of a batch outcome is,
/// so every job finds its part without scanning the whole batch (that scan,
/// once per job, grew with the square of the batch).
struct Parts<'a> {
    inserted: HashMap<(i64, &'a str), usize>,
    conversations: HashMap<i64, usize>,
}

impl<'a> Parts<'a> {
    fn of(all: &'a WriteOutcome) -> Self {
        let mut inserted = HashMap::with_capacity(all.inserted.len());
        for (n, i) in all.inserted.iter().enumerate() {
            inserted.entry((i.tenant_id, i.wamid.as_str())).or_insert(n);
        }
        let mut conversations = HashMap::with_capacity(all.conversations.len());
        for (n, c) in all.conversations.iter().enumerate() {
            conversations.entry(c.id).or_insert(n);
        }
        Self {
            inserted,
            conversations,
        }
    }
}

/// The part of a batch outcome `all` (indexed by `parts`) that belongs to
/// one job, in the batch's order.
fn outcome_for(input: &BatchInput, all: &WriteOutcome, parts: &Parts<'_>) -> WriteOutcome {
    let mine: HashSet<(i64, &str)> = input
        .inbound
        .iter()
        .map(|m| (m.tenant_id, m.wamid.as_str()))
        .collect();
    let mut stored: Vec<usize> = mine
        .iter()
        .filter_map(|k| parts.inserted.get(k).copied())
        .collect();
    stored.sort_unstable();
    let inserted: Vec<_> = stored.iter().map(|&n| all.inserted[n].clone()).collect();
    let mut refreshed: Vec<usize> = inserted
        .iter()
        .filter_map(|i| parts.conversations.get(&i.conversation_id).copied())
        .collect();
    refreshed.sort_unstable();
    refreshed.dedup();
    let conversations = refreshed
        .iter()
        .map(|&n| all.conversations[n].clone())
        .collect();
    WriteOutcome {
        duplicates: mine.len().saturating_sub(inserted.len()),
        media: all.media,
        events: Vec::new(),
        opened: Vec::new(),
        inserted,
        statuses: input.statuses.len(),
        conversations,
        contacts: Vec::new(),
        steps: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ingest::plan::InboundRow;
    use crate::ingest::write::Inserted;

    fn inbound(wamid: &str) -> InboundRow {
        InboundRow {
            tenant_id: 1,
            number_id: 2,
            from: "49".into(),
            wamid: wamid.into(),
            kind: "text".into(),
            content: Arc::new(serde_json::json!({})),
            sent_at: chrono::DateTime::from_timestamp(100, 0).unwrap_or_default(),
            media_id: None,
        }
    }

    fn inserted(wamid: &str, conversation_id: i64) -> Inserted {
        Inserted {
            id: conversation_id * 100,
            tenant_id: 1,
            conversation_id,
            wamid: wamid.into(),
            kind: "text".into(),
        }
    }

    fn conversation(id: i64) -> entity::conversations::Model {
        crate::store::conversations::queued(
            id,
            chrono::DateTime::from_timestamp(100, 0).unwrap_or_default(),
        )
    }

    #[test]
    fn each_job_gets_its_messages_and_conversations_in_batch_order() {
        let all = WriteOutcome {
            inserted: vec![inserted("a", 7), inserted("b", 8), inserted("c", 7)],
            conversations: vec![conversation(7), conversation(8)],
            media: 1,
            ..Default::default()
        };
        let parts = Parts::of(&all);
        let job = BatchInput {
            // a retry ("x" stored before), a repeat in the same notification
            inbound: vec![inbound("c"), inbound("x"), inbound("a"), inbound("a")],
            ..Default::default()
        };
        let mine = outcome_for(&job, &all, &parts);
        let wamids: Vec<&str> = mine.inserted.iter().map(|i| i.wamid.as_str()).collect();
        assert_eq!(wamids, ["a", "c"]);
        assert_eq!(mine.duplicates, 1);
        let ids: Vec<i64> = mine.conversations.iter().map(|c| c.id).collect();
        assert_eq!(ids, [7]);
        let other = outcome_for(
            &BatchInput {
                inbound: vec![inbound("b")],
                ..Default::default()
            },
            &all,
            &parts,
        );
        assert_eq!(other.inserted.len(), 1);
        assert_eq!(
            other.conversations.iter().map(|c| c.id).collect::<Vec<_>>(),
            [8]
        );
    }
}
