//! A faithful fake of Meta's WhatsApp Cloud API (`switchboard simulator`).
//!
//! It answers the Graph API endpoints the daemon uses (send, mark read,
//! media upload/lookup/download) with Meta's validation, limits (throughput
//! 130429, pair rate 131056, 24 h window 131047) and error bodies, then posts
//! signed status webhooks (sent → delivered → read, with optional duplicates,
//! reordering and failures) to the daemon. It injects inbound messages and
//! random traffic of every type, records everything it received and sent,
//! and can be told to misbehave (5xx, timeouts, 429 bursts, latency).
//!
//! The server runs on its own thread with its own actix `System` (plus a small
//! tokio runtime for webhook deliveries), so [`Simulator::start`] works from a
//! `#[tokio::test]` as well as from inside `actix_web::rt::System::block_on`.
//!
//! Layout: [`validate`] (request rules), [`limits`] (sliding window, token
//! buckets), [`payloads`] (notification bodies, wamids, status plans, random
//! inbound), [`media`] (media objects, multipart) are pure; `engine` holds the
//! state and webhook deliveries; `server` the HTTP surface.

mod engine;
pub mod limits;
pub mod media;
pub mod payloads;
mod server;
pub mod validate;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use payloads::{InboundKind, StatusDelays};

use engine::Shared;

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Interface to bind.
    pub host: String,
    /// Port to bind; 0 = any.
    pub port: u16,
    /// Where signed notifications go (the daemon's `/webhooks/whatsapp`).
    pub webhook_url: Option<String>,
    /// Signs `X-Hub-Signature-256`.
    pub app_secret: String,
    /// When set, Graph requests must carry `Authorization: Bearer <it>`
    /// (else 401, code 190).
    pub access_token: Option<String>,
    /// Accepted sends per phone number in any 1 s window (130429 beyond);
    /// 0 = unlimited.
    pub throughput_per_second: u32,
    /// Pair rate: one token per this interval per (phone number, recipient);
    /// zero = unlimited.
    pub pair_interval: Duration,
    /// Pair rate burst (bucket capacity).
    pub pair_burst: u32,
    /// Free-form sends need an inbound message (injected through the
    /// simulator) less than 24 h old, else 131047; templates always pass.
    pub enforce_window: bool,
    /// Delays after accept before each status webhook.
    pub status_delays: StatusDelays,
    /// Each status webhook is delivered twice with this probability.
    pub duplicate_probability: f64,
    /// `read` arrives before `delivered` with this probability.
    pub reorder_probability: f64,
    /// A message ends `failed` (131026) instead of delivered/read.
    pub fail_probability: f64,
    /// Seed for all randomness (deterministic tests).
    pub seed: Option<u64>,
    /// `entry[].id` of notifications; default `WABA_<phone_number_id>`.
    pub waba_id: Option<String>,
    /// `metadata.display_phone_number`; default `1555` + the id's last 7 digits.
    pub display_phone_number: Option<String>,
    /// Retries of status / traffic webhooks the daemon did not answer 200
    /// (Meta retries for days; this retries `webhook_retries` times, the
    /// delay doubling from `webhook_retry_delay`). Injections are never retried.
    pub webhook_retries: u32,
    /// First retry delay.
    pub webhook_retry_delay: Duration,
    /// Timeout of one webhook POST.
    pub webhook_timeout: Duration,
    /// HTTP worker threads.
    pub workers: usize,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 0,
            webhook_url: None,
            app_secret: "simulator-app-secret".into(),
            access_token: None,
            throughput_per_second: 80,
            pair_interval: Duration::from_secs(6),
            pair_burst: 45,
            enforce_window: true,
            status_delays: StatusDelays::default(),
            duplicate_probability: 0.0,
            reorder_probability: 0.0,
            fail_probability: 0.0,
            seed: None,
            waba_id: None,
            display_phone_number: None,
            webhook_retries: 3,
            webhook_retry_delay: Duration::from_millis(500),
            webhook_timeout: Duration::from_secs(10),
            workers: 2,
        }
    }
}

/// Injected misbehaviour of the Graph endpoints (`POST /_sim/faults`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// A send answers 503 (code 133004) with this probability.
    pub status_5xx_probability: f64,
    /// A send first sleeps `timeout_delay_ms` (longer than a client timeout),
    /// then is processed normally (so it may be sent although the client gave up).
    pub timeout_probability: f64,
    /// See `timeout_probability`.
    pub timeout_delay_ms: u64,
    /// The next N sends answer 429 with code 130429.
    pub burst_429: u32,
    /// Latency added to every Graph request.
    pub slow_ms: u64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            status_5xx_probability: 0.0,
            timeout_probability: 0.0,
            timeout_delay_ms: 30_000,
            burst_429: 0,
            slow_ms: 0,
        }
    }
}

/// Whether a send was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SendOutcome {
    Accepted,
    Rejected,
}

/// One request to the messages endpoint (`GET /_sim/sent`). Mark-as-read
/// requests are recorded with kind `mark_read`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentRecord {
    /// When it was decided (unix ms, monotonic within a run: the limiter's clock).
    pub at_ms: u64,
    pub phone_number_id: String,
    /// `to` as given ("" when absent).
    pub to: String,
    /// The message `type` (or `mark_read`).
    pub kind: String,
    /// The JSON received (a string if it was not JSON).
    pub body: Value,
    pub outcome: SendOutcome,
    pub error_code: Option<i64>,
    pub wamid: Option<String>,
    /// The HTTP status answered.
    pub http_status: u16,
}

/// One webhook POST the simulator made (`GET /_sim/webhooks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookRecord {
    /// Unix ms.
    pub at_ms: u64,
    /// `status`, `inbound` or `raw`.
    pub kind: String,
    pub phone_number_id: Option<String>,
    /// The message the notification is about.
    pub wamid: Option<String>,
    /// For status notifications: sent / delivered / read / failed.
    pub status: Option<String>,
    /// A deliberate duplicate delivery.
    pub duplicate: bool,
    /// 1 for the first try.
    pub attempt: u32,
    /// What the daemon answered (None on connection errors).
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub body: Value,
}

/// An inbound message to inject (`POST /_sim/inbound`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundRequest {
    pub phone_number_id: String,
    /// The user's number (wa_id).
    pub from: String,
    /// `contacts[].profile.name`; random when absent.
    #[serde(default)]
    pub profile_name: Option<String>,
    /// The message object: `type` plus its payload; `id` (wamid) and
    /// `timestamp` are generated unless given. Media messages without an
    /// `id` get a placeholder media object downloadable from the simulator.
    pub message: Value,
}

/// What an injection did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundOutcome {
    /// The HTTP status the daemon answered.
    pub status: u16,
    /// The inbound message's wamid.
    pub wamid: String,
}

/// Random inbound traffic (`POST /_sim/traffic`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficSpec {
    pub phone_number_id: String,
    pub rate_per_second: f64,
    pub duration_seconds: f64,
    /// Number of distinct users (wa_ids `1999` + 7 digits).
    pub contacts: u32,
    /// Restrict to these kinds (see [`InboundKind::name`]); all when absent.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

/// Errors of the simulator's own API.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("the simulator has no webhook_url to deliver to")]
    NoWebhookUrl,
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("webhook delivery failed: {0}")]
    Delivery(String),
    #[error("the simulator is stopped")]
    Stopped,
}

/// A running simulator.
pub struct Simulator {
    port: u16,
    base_url: String,
    shared: Arc<Shared>,
    server: Option<actix_web::dev::ServerHandle>,
    done: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Simulator {
    /// Binds `host:port` and starts serving on a dedicated thread.
    pub async fn start(config: SimulatorConfig) -> io::Result<Simulator> {
        let listener = std::net::TcpListener::bind((config.host.as_str(), config.port))?;
        let addr = listener.local_addr()?;
        let host = match addr.ip() {
            ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        };
        let base_url = format!("http://{host}:{}", addr.port());
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let url = base_url.clone();
        std::thread::Builder::new()
            .name("wa-simulator".into())
            .spawn(move || server::serve(config, listener, url, ready_tx, done_tx))?;
        let (shared, handle) = ready_rx
            .await
            .map_err(|_| io::Error::other("the simulator thread ended before starting"))??;
        tracing::info!(url = %base_url, "whatsapp simulator listening");
        Ok(Simulator {
            port: addr.port(),
            base_url,
            shared,
            server: Some(handle),
            done: Some(done_rx),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (use as the Graph API base URL).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &SimulatorConfig {
        &self.shared.config
    }

    /// Stops the server and its webhook deliveries.
    pub async fn stop(mut self) {
        if let Some(handle) = self.server.take() {
            handle.stop(false).await;
        }
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }

    /// Everything the messages endpoint received, in decision order.
    pub fn sent(&self) -> Vec<SentRecord> {
        self.shared.sent()
    }

    /// Forgets the sent records.
    pub fn clear_sent(&self) {
        self.shared.clear_sent();
    }

    /// Every webhook POST made so far.
    pub fn webhooks(&self) -> Vec<WebhookRecord> {
        self.shared.webhooks()
    }

    /// Forgets the webhook records.
    pub fn clear_webhooks(&self) {
        self.shared.clear_webhooks();
    }

    /// Builds a full signed notification around `msg` (see
    /// [`InboundRequest::message`]) from `from` to `phone_number_id`, POSTs it
    /// to `webhook_url` and returns the daemon's HTTP status. Opens the 24 h
    /// window for that user.
    pub async fn inject_inbound(
        &self,
        phone_number_id: &str,
        from: &str,
        msg: Value,
    ) -> Result<u16, SimulatorError> {
        let outcome = self
            .inject(InboundRequest {
                phone_number_id: phone_number_id.to_owned(),
                from: from.to_owned(),
                profile_name: None,
                message: msg,
            })
            .await?;
        Ok(outcome.status)
    }

    /// [`Simulator::inject_inbound`] with a profile name, returning the wamid too.
    pub async fn inject(&self, request: InboundRequest) -> Result<InboundOutcome, SimulatorError> {
        self.shared.inject(request).await
    }

    /// Signs and POSTs an arbitrary notification body (e.g. a fixture or a
    /// `message_template_status_update`); returns the daemon's HTTP status.
    pub async fn inject_raw(&self, body: Value) -> Result<u16, SimulatorError> {
        self.shared.inject_raw(body).await
    }

    /// Starts random inbound traffic in the background; returns how many
    /// messages it will send.
    pub fn start_traffic(&self, spec: TrafficSpec) -> Result<u64, SimulatorError> {
        self.shared.start_traffic(spec)
    }

    /// Stores media (for inbound messages); returns its id.
    pub fn register_media(&self, mime_type: &str, data: Vec<u8>) -> String {
        self.shared.register_media(mime_type, data.into())
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// The current faults (`burst_429` counts down).
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Moves the simulator's "now" (24 h window, webhook timestamps) by `d`.
    pub fn set_clock_offset(&self, d: chrono::Duration) {
        self.shared.set_clock_offset(d);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        if let Some(handle) = self.server.take() {
            // `stop` sends its command eagerly; the returned future only waits.
            drop(handle.stop(false));
        }
    }
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            () = ctrl_c => {}
            () = term => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

/// For the CLI: starts the simulator and serves until Ctrl-C / SIGTERM.
pub async fn run(config: SimulatorConfig) -> io::Result<()> {
    let sim = Simulator::start(config).await?;
    tracing::info!(
        url = %sim.base_url(),
        webhook_url = sim.config().webhook_url.as_deref().unwrap_or("-"),
        "whatsapp simulator ready; Ctrl-C to stop"
    );
    shutdown_signal().await;
    sim.stop().await;
    tracing::info!("whatsapp simulator stopped");
    Ok(())
}
