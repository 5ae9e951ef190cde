//! Sender actors: one per WhatsApp phone number. Each drains its number's
//! outbox through the Cloud API within the number's throughput (a token
//! bucket without burst, so no 1-second window exceeds the limit) and the
//! per-recipient pair rate, retrying 130429 / 131056 / 131057 / 133004 / 5xx /
//! timeouts with exponential backoff and jitter, and recording final errors by
//! Cloud API code on the message.
//!
//! Delivery guarantee: a queued send is sent once. A send interrupted by a
//! crash *while the HTTP call was in flight* is retried on restart (the Cloud
//! API has no idempotency key), so only that millisecond window is
//! at-least-once.

pub mod backoff;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{Quota, RateLimiter};
use sea_orm::DatabaseConnection;
use tokio::sync::{Notify, Semaphore};

use crate::crypto::Keyring;
use crate::ingest::plan::AcceptedRow;
use crate::ingest::{BatchInput, Ingestor};
use crate::metrics::Metrics;
use crate::store;
use crate::whatsapp::client::{CloudClient, OutgoingMessage};

/// Sends in flight per number.
const IN_FLIGHT: usize = 32;
/// Rows fetched per outbox poll.
const FETCH: u64 = 64;

/// Pair-rate settings: one message per `interval` to one recipient, with a burst.
#[derive(Debug, Clone, Copy)]
pub struct PairRate {
    pub interval: Duration,
    pub burst: u32,
}

impl Default for PairRate {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(6),
            burst: 45,
        }
    }
}

struct Handle {
    wake: Arc<Notify>,
    /// Set when the number's row changed (token, throughput) or was removed.
    changed: Arc<AtomicBool>,
}

type Throughput = RateLimiter<
    governor::state::NotKeyed,
    governor::state::InMemoryState,
    governor::clock::DefaultClock,
>;

/// A token bucket without burst: sends are spaced 1/rate apart (with 2 %
/// headroom), so no 1-second window holds more than `per_second`.
fn throughput_bucket(per_second: i32) -> Arc<Throughput> {
    let per_second = u32::try_from(per_second.max(1)).unwrap_or(1);
    let period = Duration::from_secs_f64(1.0 / f64::from(per_second) * 1.02);
    Arc::new(RateLimiter::direct(
        Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::MIN),
    ))
}

/// Starts sender actors on demand and wakes them when work is queued.
pub struct Senders {
    db: DatabaseConnection,
    keyring: Arc<Keyring>,
    client: CloudClient,
    ingest: Ingestor,
    metrics: Arc<Metrics>,
    pair: PairRate,
    running: Mutex<HashMap<i64, Handle>>,
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Senders").finish_non_exhaustive()
    }
}

impl Senders {
    pub fn new(
        db: DatabaseConnection,
        keyring: Arc<Keyring>,
        client: CloudClient,
        ingest: Ingestor,
        metrics: Arc<Metrics>,
        pair: PairRate,
    ) -> Arc<Self> {
        Arc::new(Self {
            db,
            keyring,
            client,
            ingest,
            metrics,
            pair,
            running: Mutex::new(HashMap::new()),
        })
    }

    /// After a restart: sends interrupted in flight go back to the queue and a
    /// sender starts for every number with queued sends.
    pub async fn resume(self: &Arc<Self>) -> Result<(), store::StoreError> {
        let recovered = store::outbox::recover_interrupted(&self.db).await?;
        if recovered > 0 {
            tracing::warn!(
                recovered,
                "outbox sends interrupted by a restart are queued again"
            );
        }
        for number in store::outbox::numbers_with_pending(&self.db).await? {
            self.wake(number);
        }
        Ok(())
    }

    /// Wakes (starting if needed) the sender of `number_id`.
    pub fn wake(self: &Arc<Self>, number_id: i64) {
        let Ok(mut running) = self.running.lock() else {
            return;
        };
        if let Some(h) = running.get(&number_id) {
            h.wake.notify_one();
            return;
        }
        let wake = Arc::new(Notify::new());
        let changed = Arc::new(AtomicBool::new(false));
        running.insert(
            number_id,
            Handle {
                wake: wake.clone(),
                changed: changed.clone(),
            },
        );
        let me = self.clone();
        tokio::spawn(async move { me.run(number_id, wake, changed).await });
    }

    /// The number was updated (new token, throughput) or removed: its sender
    /// reloads it before the next send, or stops.
    pub fn number_changed(&self, number_id: i64) {
        if let Ok(running) = self.running.lock()
            && let Some(h) = running.get(&number_id)
        {
            h.changed.store(true, Ordering::SeqCst);
            h.wake.notify_one();
        }
    }

    fn forget(&self, number_id: i64) {
        if let Ok(mut r) = self.running.lock() {
            r.remove(&number_id);
        }
    }

    /// Loads the number, retrying database errors; `None` when it is gone.
    async fn load_number(&self, number_id: i64) -> Option<entity::whatsapp_numbers::Model> {
        use sea_orm::EntityTrait;
        loop {
            match entity::whatsapp_numbers::Entity::find_by_id(number_id)
                .one(&self.db)
                .await
            {
                Ok(n) => return n,
                Err(e) => {
                    tracing::error!(number_id, error = %e, "cannot load number for sending; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn run(self: Arc<Self>, number_id: i64, wake: Arc<Notify>, changed: Arc<AtomicBool>) {
        let Some(row) = self.load_number(number_id).await else {
            self.forget(number_id);
            return;
        };
        let mut number = Arc::new(row);
        let mut bucket = throughput_bucket(number.throughput_per_second);
        let pair_quota = Quota::with_period(self.pair.interval.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(NonZeroU32::new(self.pair.burst).unwrap_or(NonZeroU32::MIN));
        let pair = Arc::new(RateLimiter::keyed(pair_quota));
        let mut pruned = Instant::now();
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        loop {
            if changed.swap(false, Ordering::SeqCst) {
                match self.load_number(number_id).await {
                    Some(row) => {
                        if row.throughput_per_second != number.throughput_per_second {
                            bucket = throughput_bucket(row.throughput_per_second);
                        }
                        number = Arc::new(row);
                        tracing::info!(number_id, "sender reloaded its number");
                    }
                    None => {
                        tracing::info!(number_id, "number removed; its sender stops");
                        self.forget(number_id);
                        return;
                    }
                }
            }
            if pruned.elapsed() > Duration::from_secs(60) {
                pair.retain_recent();
                pair.shrink_to_fit();
                pruned = Instant::now();
            }
            let rows =
                match store::outbox::due(&self.db, number_id, chrono::Utc::now(), FETCH).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(number_id, error = %e, "outbox poll failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
            if rows.is_empty() {
                let sleep_for = match store::outbox::next_due(&self.db, number_id).await {
                    Ok(Some(at)) => (at - chrono::Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO)
                        .min(Duration::from_secs(30)),
                    _ => Duration::from_secs(30),
                };
                if sleep_for.is_zero() {
                    tokio::task::yield_now().await;
                } else {
                    let _ = tokio::time::timeout(sleep_for, wake.notified()).await;
                }
                continue;
            }
            for row in rows {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                match store::outbox::claim(&self.db, row.id).await {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::error!(error = %e, "outbox claim failed");
                        continue;
                    }
                }
                let msg: OutgoingMessage = match serde_json::from_value(row.payload.clone()) {
                    Ok(m) => m,
                    Err(e) => {
                        self.fail(&row, None, &format!("unreadable outbox payload: {e}"))
                            .await;
                        continue;
                    }
                };
                // pair rate: do not block the others, come back later
                if pair.check_key(&msg.to).is_err() {
                    self.metrics
                        .limiter_waits
                        .with_label_values(&["pair"])
                        .inc();
                    let at = chrono::Utc::now()
                        + chrono::Duration::from_std(self.pair.interval).unwrap_or_default();
                    if let Err(e) = store::outbox::reschedule(
                        &self.db,
                        row.id,
                        row.attempts,
                        at,
                        row.last_error.clone(),
                    )
                    .await
                    {
                        tracing::error!(outbox_id = row.id, error = %e, "cannot defer a send for the pair rate");
                    }
                    continue;
                }
                if bucket.check().is_err() {
                    self.metrics
                        .limiter_waits
                        .with_label_values(&["throughput"])
                        .inc();
                    bucket.until_ready().await;
                }
                let me = self.clone();
                let number = number.clone();
                let wake = wake.clone();
                tokio::spawn(async move {
                    me.send_one(&number, row, msg).await;
                    drop(permit);
                    // a retry may now be due earlier than what the loop sleeps for
                    wake.notify_one();
                });
            }
        }
    }

    async fn send_one(
        &self,
        number: &entity::whatsapp_numbers::Model,
        row: entity::outbox::Model,
        msg: OutgoingMessage,
    ) {
        let token = match self.keyring.open(&number.access_token_enc) {
            Ok(t) => t,
            Err(e) => {
                self.fail(&row, None, &format!("cannot decrypt access token: {e}"))
                    .await;
                return;
            }
        };
        let attempts = row.attempts + 1;
        match self
            .client
            .send(&number.phone_number_id, &token, &msg)
            .await
        {
            Ok(accepted) => {
                self.record_accepted(&row, attempts, accepted.wamid).await;
                self.metrics
                    .messages_out
                    .with_label_values(&[msg.kind(), "accepted"])
                    .inc();
            }
            Err(err) if err.retryable() && attempts < backoff::MAX_ATTEMPTS => {
                let code = err.code();
                if let Some(c) = code {
                    self.metrics
                        .send_errors
                        .with_label_values(&[&c.to_string()])
                        .inc();
                }
                let pair_rate = code == Some(131056);
                let wait = backoff::delay(attempts, pair_rate, rand::random::<f64>());
                let at = chrono::Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                tracing::debug!(outbox_id = row.id, attempts, ?wait, error = %err, "send failed, retrying");
                if let Err(e) =
                    store::outbox::reschedule(&self.db, row.id, attempts, at, Some(err.to_string()))
                        .await
                {
                    tracing::error!(outbox_id = row.id, error = %e, "cannot reschedule a send; it is retried after a restart");
                }
            }
            Err(err) => {
                if let Some(c) = err.code() {
                    self.metrics
                        .send_errors
                        .with_label_values(&[&c.to_string()])
                        .inc();
                }
                let mut row = row;
                row.attempts = attempts - 1;
                self.fail(&row, err.code(), &err.to_string()).await;
                self.metrics
                    .messages_out
                    .with_label_values(&[msg.kind(), "failed"])
                    .inc();
            }
        }
    }

    /// Records an accepted send through the ingest writer, which orders it
    /// with status webhooks of the same wamid. Retried until it commits: the
    /// message went out, so losing this record would cause a resend.
    async fn record_accepted(&self, row: &entity::outbox::Model, attempts: i32, wamid: String) {
        let accepted = AcceptedRow {
            tenant_id: row.tenant_id,
            message_id: row.message_id.unwrap_or_default(),
            outbox_id: row.id,
            attempts,
            wamid,
        };
        let mut wait = Duration::from_millis(50);
        loop {
            let input = BatchInput {
                accepted: vec![accepted.clone()],
                ..Default::default()
            };
            match self.ingest.submit(input).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::error!(outbox_id = row.id, error = %e, "cannot record an accepted send; retrying");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    async fn fail(&self, row: &entity::outbox::Model, code: Option<i64>, reason: &str) {
        tracing::warn!(outbox_id = row.id, code, reason, "send failed permanently");
        if let Some(mid) = row.message_id
            && let Err(e) =
                store::messages::set_failed(&self.db, row.tenant_id, mid, code, reason).await
        {
            tracing::error!(message_id = mid, error = %e, "cannot record a failed send");
        }
        if let Err(e) = store::outbox::finish(
            &self.db,
            row.id,
            "failed",
            row.attempts + 1,
            Some(reason.to_string()),
        )
        .await
        {
            tracing::error!(outbox_id = row.id, error = %e, "cannot close a failed send");
        }
    }
}
