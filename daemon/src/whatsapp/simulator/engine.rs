//! The simulator's state and behaviour behind the HTTP surface: send
//! decisions (limits, window), records, status scheduling, injections,
//! traffic and signed webhook deliveries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::limits::{SlidingWindow, TokenBuckets};
use super::media::MediaItem;
use super::payloads::{
    self, Business, InboundContext, InboundKind, MediaRef, PlannedStatus, StatusChaos, StatusEvent,
};
use super::validate::MEDIA_TYPES;
use super::{
    Faults, InboundOutcome, InboundRequest, SendOutcome, SentRecord, SimulatorConfig,
    SimulatorError, TrafficSpec, WebhookRecord,
};
use crate::whatsapp::errors::CloudErrorCode;
use crate::whatsapp::signature;

/// Locks, ignoring poisoning (the data stays usable for a simulator).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

type Pair = (String, String);

struct Core {
    rng: StdRng,
    throughput: SlidingWindow<String>,
    pairs: TokenBuckets<Pair>,
    last_inbound: HashMap<Pair, DateTime<Utc>>,
    conversations: HashMap<Pair, String>,
    last_outbound: HashMap<Pair, String>,
    sent: Vec<SentRecord>,
}

/// A send that passed validation.
pub(crate) struct Submission<'a> {
    pub phone_number_id: &'a str,
    pub to: &'a str,
    pub wa_id: &'a str,
    pub kind: &'a str,
    pub template: bool,
    pub body: Value,
}

/// What the simulator knows about a webhook it is about to POST.
#[derive(Clone)]
struct WebhookMeta {
    kind: &'static str,
    phone_number_id: Option<String>,
    wamid: Option<String>,
    status: Option<String>,
    duplicate: bool,
}

/// State shared by the HTTP handlers and the background deliveries.
pub(crate) struct Shared {
    pub config: SimulatorConfig,
    pub base_url: String,
    bg: tokio::runtime::Handle,
    http: reqwest::Client,
    started: Instant,
    started_ms: u64,
    clock_offset: Mutex<chrono::Duration>,
    faults: Mutex<Faults>,
    core: Mutex<Core>,
    media: Mutex<HashMap<String, MediaItem>>,
    webhooks: Mutex<Vec<WebhookRecord>>,
}

const INBOUND_PLACEHOLDER: &[u8] = b"simulated media from the Switchboard WhatsApp simulator";

impl Shared {
    pub fn new(
        config: SimulatorConfig,
        base_url: String,
        bg: tokio::runtime::Handle,
        http: reqwest::Client,
    ) -> Self {
        let rng = config
            .seed
            .map_or_else(StdRng::from_entropy, StdRng::seed_from_u64);
        let pair_ms = u64::try_from(config.pair_interval.as_millis()).unwrap_or(u64::MAX);
        let core = Core {
            rng,
            throughput: SlidingWindow::new(config.throughput_per_second, 1000),
            pairs: TokenBuckets::new(config.pair_burst, pair_ms),
            last_inbound: HashMap::new(),
            conversations: HashMap::new(),
            last_outbound: HashMap::new(),
            sent: Vec::new(),
        };
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        Self {
            config,
            base_url,
            bg,
            http,
            started: Instant::now(),
            started_ms,
            clock_offset: Mutex::new(chrono::Duration::zero()),
            faults: Mutex::new(Faults::default()),
            core: Mutex::new(core),
            media: Mutex::new(HashMap::new()),
            webhooks: Mutex::new(Vec::new()),
        }
    }

    /// Unix ms, monotonic (the limiter's clock and `at_ms`).
    pub fn now_ms(&self) -> u64 {
        self.started_ms + u64::try_from(self.started.elapsed().as_millis()).unwrap_or(0)
    }

    /// The simulated wall clock (real time + offset).
    pub fn sim_now(&self) -> DateTime<Utc> {
        Utc::now() + *lock(&self.clock_offset)
    }

    pub fn clock_offset(&self) -> chrono::Duration {
        *lock(&self.clock_offset)
    }

    pub fn set_clock_offset(&self, d: chrono::Duration) {
        *lock(&self.clock_offset) = d;
    }

    pub fn business(&self, phone_number_id: &str) -> Business {
        Business::for_phone_number(
            phone_number_id,
            self.config.waba_id.as_deref(),
            self.config.display_phone_number.as_deref(),
        )
    }

    // ---- faults -------------------------------------------------------

    pub fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// Consumes one of the `burst_429` answers, if any are left.
    pub fn take_burst_429(&self) -> bool {
        let mut f = lock(&self.faults);
        if f.burst_429 > 0 {
            f.burst_429 -= 1;
            true
        } else {
            false
        }
    }

    /// True with probability `p` (seeded).
    pub fn roll(&self, p: f64) -> bool {
        p > 0.0 && lock(&self.core).rng.gen_bool(p.min(1.0))
    }

    // ---- records ------------------------------------------------------

    pub fn sent(&self) -> Vec<SentRecord> {
        lock(&self.core).sent.clone()
    }

    pub fn clear_sent(&self) -> usize {
        std::mem::take(&mut lock(&self.core).sent).len()
    }

    pub fn webhooks(&self) -> Vec<WebhookRecord> {
        lock(&self.webhooks).clone()
    }

    pub fn clear_webhooks(&self) -> usize {
        std::mem::take(&mut *lock(&self.webhooks)).len()
    }

    /// Records a request refused before the limits (auth, shape, faults).
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &self,
        phone_number_id: &str,
        to: &str,
        kind: &str,
        body: Value,
        outcome: SendOutcome,
        error_code: Option<i64>,
        http_status: u16,
    ) {
        let at_ms = self.now_ms();
        let mut core = lock(&self.core);
        // Keep `at_ms` monotonic in record order.
        let at_ms = core.sent.last().map_or(at_ms, |r| r.at_ms.max(at_ms));
        core.sent.push(SentRecord {
            at_ms,
            phone_number_id: phone_number_id.to_owned(),
            to: to.to_owned(),
            kind: kind.to_owned(),
            body,
            outcome,
            error_code,
            wamid: None,
            http_status,
        });
    }

    // ---- sending ------------------------------------------------------

    /// Applies throughput, pair rate and the 24 h window; on success records
    /// the send, schedules its status webhooks and returns the wamid.
    pub fn submit(self: &Arc<Self>, s: Submission<'_>) -> Result<String, (CloudErrorCode, String)> {
        let sim_now = self.sim_now();
        let pnid = s.phone_number_id.to_owned();
        let pair = (pnid.clone(), s.wa_id.to_owned());
        let mut core = lock(&self.core);
        let now_ms = self.now_ms();
        let now_ms = core.sent.last().map_or(now_ms, |r| r.at_ms.max(now_ms));

        let window_open = core
            .last_inbound
            .get(&pair)
            .is_some_and(|t| sim_now.signed_duration_since(*t) < chrono::Duration::hours(24));
        let refusal = if !core.throughput.allows(&pnid, now_ms) {
            Some((
                CloudErrorCode::Throughput,
                "Cloud API message throughput has been reached.".to_owned(),
            ))
        } else if !core.pairs.allows(&pair, now_ms) {
            Some((
                CloudErrorCode::PairRate,
                "Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.".to_owned(),
            ))
        } else if self.config.enforce_window && !s.template && !window_open {
            Some((
                CloudErrorCode::ReEngagement,
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number.".to_owned(),
            ))
        } else {
            None
        };

        let mut record = SentRecord {
            at_ms: now_ms,
            phone_number_id: pnid.clone(),
            to: s.to.to_owned(),
            kind: s.kind.to_owned(),
            body: s.body,
            outcome: SendOutcome::Rejected,
            error_code: None,
            wamid: None,
            http_status: 200,
        };
        if let Some((code, details)) = refusal {
            record.error_code = Some(code.code());
            record.http_status = code.http_status();
            core.sent.push(record);
            return Err((code, details));
        }

        core.throughput.record(&pnid, now_ms);
        core.pairs.take(&pair, now_ms);
        let wamid = payloads::wamid(&mut core.rng, s.wa_id);
        let conversation_id = match core.conversations.get(&pair) {
            Some(c) => c.clone(),
            None => {
                let c = payloads::hex_id(&mut core.rng, 16);
                core.conversations.insert(pair.clone(), c.clone());
                c
            }
        };
        core.last_outbound.insert(pair, wamid.clone());
        let chaos = StatusChaos {
            duplicate_probability: self.config.duplicate_probability,
            reorder_probability: self.config.reorder_probability,
            fail_probability: self.config.fail_probability,
        };
        let plan = payloads::plan_statuses(&self.config.status_delays, &chaos, &mut core.rng);
        let biz_opaque = record
            .body
            .get("biz_opaque_callback_data")
            .and_then(Value::as_str)
            .map(str::to_owned);
        record.outcome = SendOutcome::Accepted;
        record.wamid = Some(wamid.clone());
        core.sent.push(record);
        drop(core);

        if self.config.webhook_url.is_some() {
            let event = StatusEvent {
                wamid: wamid.clone(),
                status: payloads::StatusKind::Sent,
                timestamp: sim_now.timestamp(),
                recipient_id: s.wa_id.to_owned(),
                conversation_id,
                category: if s.template { "utility" } else { "service" }.to_owned(),
                error_code: None,
                biz_opaque_callback_data: biz_opaque,
            };
            self.schedule_statuses(pnid, event, sim_now, plan);
        }
        Ok(wamid)
    }

    fn schedule_statuses(
        self: &Arc<Self>,
        phone_number_id: String,
        template: StatusEvent,
        accepted_at: DateTime<Utc>,
        plan: Vec<PlannedStatus>,
    ) {
        let business = self.business(&phone_number_id);
        for planned in plan {
            let this = Arc::clone(self);
            let business = business.clone();
            let happened = accepted_at
                + chrono::Duration::from_std(planned.happened_after)
                    .unwrap_or_else(|_| chrono::Duration::zero());
            let event = StatusEvent {
                status: planned.status,
                timestamp: happened.timestamp(),
                error_code: (planned.status == payloads::StatusKind::Failed)
                    .then_some(CloudErrorCode::Undeliverable.code()),
                ..template.clone()
            };
            let meta = WebhookMeta {
                kind: "status",
                phone_number_id: Some(phone_number_id.clone()),
                wamid: Some(event.wamid.clone()),
                status: Some(planned.status.as_str().to_owned()),
                duplicate: planned.duplicate,
            };
            let retries = self.config.webhook_retries;
            self.bg.spawn(async move {
                tokio::time::sleep(planned.deliver_after).await;
                let body = payloads::status_notification(&business, &event);
                let _ = this.deliver(meta, body, retries).await;
            });
        }
    }

    // ---- webhooks -----------------------------------------------------

    /// Signs and POSTs `body`, retrying non-200 answers `retries` times.
    /// Must run on the background runtime.
    async fn deliver(&self, meta: WebhookMeta, body: Value, retries: u32) -> Result<u16, String> {
        let Some(url) = self.config.webhook_url.clone() else {
            return Err("no webhook_url".into());
        };
        let bytes = Bytes::from(serde_json::to_vec(&body).map_err(|e| e.to_string())?);
        let sig = signature::sign(self.config.app_secret.as_bytes(), &bytes);
        let mut delay = self.config.webhook_retry_delay;
        let mut attempt = 1;
        loop {
            let result = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", &sig)
                .header("user-agent", "facebookexternalua")
                .body(bytes.clone())
                .send()
                .await;
            let (status, error) = match result {
                Ok(resp) => (Some(resp.status().as_u16()), None),
                Err(e) => (None, Some(e.to_string())),
            };
            lock(&self.webhooks).push(WebhookRecord {
                at_ms: self.now_ms(),
                kind: meta.kind.to_owned(),
                phone_number_id: meta.phone_number_id.clone(),
                wamid: meta.wamid.clone(),
                status: meta.status.clone(),
                duplicate: meta.duplicate,
                attempt,
                http_status: status,
                error: error.clone(),
                body: body.clone(),
            });
            if status == Some(200) || attempt > retries {
                return status.ok_or_else(|| error.unwrap_or_default());
            }
            tokio::time::sleep(delay).await;
            delay = delay.saturating_mul(2);
            attempt += 1;
        }
    }

    /// Runs `deliver` on the background runtime from any runtime.
    async fn deliver_now(
        self: &Arc<Self>,
        meta: WebhookMeta,
        body: Value,
    ) -> Result<u16, SimulatorError> {
        let this = Arc::clone(self);
        self.bg
            .spawn(async move { this.deliver(meta, body, 0).await })
            .await
            .map_err(|_| SimulatorError::Stopped)?
            .map_err(SimulatorError::Delivery)
    }

    // ---- media --------------------------------------------------------

    pub fn register_media(&self, mime_type: &str, data: Bytes) -> String {
        let id = payloads::numeric_id(&mut lock(&self.core).rng);
        let item = MediaItem::new(id.clone(), mime_type.to_owned(), data);
        lock(&self.media).insert(id.clone(), item);
        id
    }

    pub fn media(&self, id: &str) -> Option<MediaItem> {
        lock(&self.media).get(id).cloned()
    }

    pub fn delete_media(&self, id: &str) -> bool {
        lock(&self.media).remove(id).is_some()
    }

    /// For an injected media message without an `id`: store a placeholder
    /// and fill `id`, `mime_type` and `sha256`.
    fn fill_media(&self, message: &mut Value) {
        let Some(kind) = message
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return;
        };
        if !MEDIA_TYPES.contains(&kind.as_str()) {
            return;
        }
        let obj = message.as_object_mut().map(|m| {
            m.entry(kind.clone())
                .or_insert_with(|| Value::Object(Default::default()))
        });
        let Some(Value::Object(media)) = obj else {
            return;
        };
        if media.get("id").is_some_and(Value::is_string) {
            return;
        }
        let mime = media
            .get("mime_type")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                InboundKind::from_name(&kind)
                    .and_then(InboundKind::media_mime)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "application/octet-stream".into());
        let id = self.register_media(&mime, Bytes::from_static(INBOUND_PLACEHOLDER));
        if let Some(item) = self.media(&id) {
            media.insert("id".into(), Value::String(id));
            media.insert("mime_type".into(), Value::String(mime));
            media.insert("sha256".into(), Value::String(item.sha256));
        }
    }

    // ---- inbound ------------------------------------------------------

    /// Builds, records (24 h window) and POSTs one inbound message.
    pub async fn inject(
        self: &Arc<Self>,
        req: InboundRequest,
    ) -> Result<InboundOutcome, SimulatorError> {
        if self.config.webhook_url.is_none() {
            return Err(SimulatorError::NoWebhookUrl);
        }
        let wa_id: String = req.from.chars().filter(char::is_ascii_digit).collect();
        if wa_id.is_empty() {
            return Err(SimulatorError::Invalid(
                "from must be a phone number".into(),
            ));
        }
        if req.phone_number_id.is_empty() {
            return Err(SimulatorError::Invalid(
                "phone_number_id is required".into(),
            ));
        }
        let mut message = req.message;
        self.fill_media(&mut message);
        let sim_now = self.sim_now();
        let (wamid, profile) = {
            let mut core = lock(&self.core);
            let wamid = payloads::wamid(&mut core.rng, &wa_id);
            let profile = req
                .profile_name
                .unwrap_or_else(|| payloads::random_name(&mut core.rng));
            (wamid, profile)
        };
        let message =
            payloads::complete_inbound_message(message, &wa_id, &wamid, sim_now.timestamp())
                .map_err(SimulatorError::Invalid)?;
        let wamid = message
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(&wamid)
            .to_owned();
        // The window opens at the message's own time (a given timestamp wins).
        let sent_at = message
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(|t| t.parse::<i64>().ok())
            .and_then(|t| DateTime::<Utc>::from_timestamp(t, 0))
            .unwrap_or(sim_now);
        lock(&self.core)
            .last_inbound
            .insert((req.phone_number_id.clone(), wa_id.clone()), sent_at);
        let business = self.business(&req.phone_number_id);
        let body = payloads::inbound_notification(&business, &wa_id, &profile, message);
        let meta = WebhookMeta {
            kind: "inbound",
            phone_number_id: Some(req.phone_number_id),
            wamid: Some(wamid.clone()),
            status: None,
            duplicate: false,
        };
        let status = self.deliver_now(meta, body).await?;
        Ok(InboundOutcome { status, wamid })
    }

    /// Signs and POSTs an arbitrary body once.
    pub async fn inject_raw(self: &Arc<Self>, body: Value) -> Result<u16, SimulatorError> {
        if self.config.webhook_url.is_none() {
            return Err(SimulatorError::NoWebhookUrl);
        }
        let meta = WebhookMeta {
            kind: "raw",
            phone_number_id: None,
            wamid: None,
            status: None,
            duplicate: false,
        };
        self.deliver_now(meta, body).await
    }

    // ---- traffic ------------------------------------------------------

    pub fn start_traffic(self: &Arc<Self>, spec: TrafficSpec) -> Result<u64, SimulatorError> {
        if self.config.webhook_url.is_none() {
            return Err(SimulatorError::NoWebhookUrl);
        }
        if spec.phone_number_id.is_empty() {
            return Err(SimulatorError::Invalid(
                "phone_number_id is required".into(),
            ));
        }
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(spec.rate_per_second) || !positive(spec.duration_seconds) {
            return Err(SimulatorError::Invalid(
                "rate_per_second and duration_seconds must be positive".into(),
            ));
        }
        if spec.contacts == 0 {
            return Err(SimulatorError::Invalid(
                "contacts must be at least 1".into(),
            ));
        }
        let kinds: Vec<InboundKind> = match &spec.kinds {
            None => Vec::new(),
            Some(names) => names
                .iter()
                .map(|n| {
                    InboundKind::from_name(n)
                        .ok_or_else(|| SimulatorError::Invalid(format!("unknown kind {n:?}")))
                })
                .collect::<Result<_, _>>()?,
        };
        let total = (spec.rate_per_second * spec.duration_seconds).round() as u64;
        let this = Arc::clone(self);
        self.bg
            .spawn(async move { this.run_traffic(spec, kinds, total).await });
        Ok(total)
    }

    async fn run_traffic(self: Arc<Self>, spec: TrafficSpec, kinds: Vec<InboundKind>, total: u64) {
        let pnid = spec.phone_number_id.clone();
        let business = self.business(&pnid);
        let contacts: Vec<(String, String)> = {
            let mut core = lock(&self.core);
            (0..spec.contacts)
                .map(|i| (format!("1999{i:07}"), payloads::random_name(&mut core.rng)))
                .collect()
        };
        let mut media: HashMap<InboundKind, MediaRef> = HashMap::new();
        for kind in InboundKind::ALL {
            if let Some(mime) = kind.media_mime() {
                let id = self.register_media(mime, Bytes::from_static(INBOUND_PLACEHOLDER));
                if let Some(item) = self.media(&id) {
                    media.insert(
                        kind,
                        MediaRef {
                            id,
                            mime_type: mime.to_owned(),
                            sha256: item.sha256,
                        },
                    );
                }
            }
        }
        let period = Duration::from_secs_f64(1.0 / spec.rate_per_second);
        let mut ticker = tokio::time::interval(period);
        for _ in 0..total {
            ticker.tick().await;
            let sim_now = self.sim_now();
            let (wa_id, name, message, wamid) = {
                let mut core = lock(&self.core);
                let idx = core.rng.gen_range(0..contacts.len());
                let (wa_id, name) = contacts[idx].clone();
                let kind = if kinds.is_empty() {
                    if core.rng.gen_bool(0.3) {
                        InboundKind::Text
                    } else {
                        *InboundKind::ALL
                            .choose(&mut core.rng)
                            .unwrap_or(&InboundKind::Text)
                    }
                } else {
                    *kinds.choose(&mut core.rng).unwrap_or(&InboundKind::Text)
                };
                let pair = (pnid.clone(), wa_id.clone());
                let ctx = InboundContext {
                    business_display_number: business.display_phone_number.clone(),
                    replied_wamid: core.last_outbound.get(&pair).cloned(),
                    media: media.get(&kind).cloned(),
                };
                let message = payloads::random_inbound_message(kind, &ctx, &mut core.rng);
                let wamid = payloads::wamid(&mut core.rng, &wa_id);
                core.last_inbound.insert(pair, sim_now);
                (wa_id, name, message, wamid)
            };
            let Ok(message) =
                payloads::complete_inbound_message(message, &wa_id, &wamid, sim_now.timestamp())
            else {
                continue;
            };
            let body = payloads::inbound_notification(&business, &wa_id, &name, message);
            let meta = WebhookMeta {
                kind: "inbound",
                phone_number_id: Some(pnid.clone()),
                wamid: Some(wamid),
                status: None,
                duplicate: false,
            };
            let this = Arc::clone(&self);
            let retries = self.config.webhook_retries;
            tokio::spawn(async move {
                let _ = this.deliver(meta, body, retries).await;
            });
        }
    }
}
