//! Prometheus metrics of the daemon, on a registry of its own (several daemons
//! can run in one test process without clashing).

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Every metric the daemon exports.
pub struct Metrics {
    registry: Registry,
    /// `switchboard_http_requests_total{route,method,status}`
    pub http_requests: IntCounterVec,
    /// `switchboard_http_request_duration_seconds{route,method}`
    pub http_duration: HistogramVec,
    /// `switchboard_db_pool_connections{state="in_use"|"idle"}`
    pub db_pool: IntGaugeVec,
    /// `switchboard_db_pool_max_connections`
    pub db_pool_max: IntGauge,
    /// `switchboard_login_attempts_total{result}`
    pub login_attempts: IntCounterVec,
    /// `switchboard_graphql_subscriptions_open`
    pub subscriptions_open: IntGauge,
    /// `switchboard_webhooks_total{result}`: ok, bad_signature, malformed, too_large, unknown_number, duplicate, overloaded, error
    pub webhooks: IntCounterVec,
    /// `switchboard_ingest_commit_seconds`
    pub ingest_commit_seconds: Histogram,
    /// `switchboard_ingest_step_seconds{step}`: where a batch's time goes
    pub ingest_step_seconds: HistogramVec,
    /// `switchboard_ingest_batch_notifications`
    pub ingest_batch_notifications: Histogram,
    /// `switchboard_ingest_batch_messages` (messages and statuses per commit)
    pub ingest_batch_messages: Histogram,
    /// `switchboard_ingest_queue_depth`
    pub ingest_queue_depth: IntGauge,
    /// `switchboard_ingest_contacts_warmed`: customers loaded into the
    /// writer's contact cache at start
    pub ingest_contacts_warmed: IntGauge,
    /// `switchboard_messages_in_total{type}`
    pub messages_in: IntCounterVec,
    /// `switchboard_messages_out_total{type,result}` (accepted by the Cloud API, or failed for good)
    pub messages_out: IntCounterVec,
    /// `switchboard_send_errors_total{code}` by Cloud API error code
    pub send_errors: IntCounterVec,
    /// `switchboard_limiter_waits_total{limit}` (throughput, pair)
    pub limiter_waits: IntCounterVec,
    /// `switchboard_outbox_depth` (pending and in-flight sends, set on scrape)
    pub outbox_depth: IntGauge,
    /// `switchboard_bus_events_total{direction}`: published (committed here),
    /// received (from other daemons over Redis), redis_error
    pub bus_events: IntCounterVec,
    /// `switchboard_bus_lag_seconds`: commit-to-delivery age of events received over Redis
    pub bus_lag_seconds: Histogram,
    /// `switchboard_actors_alive{kind}`
    pub actors_alive: IntGaugeVec,
    /// `switchboard_actor_lifecycle_total{kind,event}`: started, stopped, rebuilt
    pub actor_lifecycle: IntCounterVec,
    /// `switchboard_actor_mailbox_depth{kind}`: messages queued for actors
    pub mailbox_depth: IntGaugeVec,
    /// `switchboard_queue_waiting{tenant_id}`: conversations waiting in a
    /// tenant's queues, as its tenant actor sees them
    pub queue_waiting: IntGaugeVec,
    /// `switchboard_agents_online{tenant_id}`: agents online, as its tenant actor sees them
    pub agents_online: IntGaugeVec,
    /// `switchboard_actor_mailbox_full_total{kind}`: refused because a mailbox was full (503 / OVERLOADED)
    pub mailbox_full: IntCounterVec,
    /// `switchboard_timer_fires_total{kind}`
    pub timer_fires: IntCounterVec,
    /// `switchboard_timer_groups_total{by}`: window and SLA timers committed
    /// in groups, by who found them due (`sweep` or `actors`)
    pub timer_groups: IntCounterVec,
    /// `switchboard_conversation_transitions_total{to}`
    pub transitions: IntCounterVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

fn must<T>(r: prometheus::Result<T>) -> T {
    r.unwrap_or_else(|e| panic!("metric definitions are static and valid: {e}"))
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new_custom(Some("switchboard".into()), None)
            .unwrap_or_else(|e| panic!("static registry prefix: {e}"));
        let http_requests = must(IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route pattern, method and status",
            ),
            &["route", "method", "status"],
        ));
        let http_duration = must(HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request duration").buckets(
                vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ],
            ),
            &["route", "method"],
        ));
        let db_pool = must(IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        ));
        let db_pool_max = must(IntGauge::new(
            "db_pool_max_connections",
            "Configured maximum of the database pool",
        ));
        let login_attempts = must(IntCounterVec::new(
            Opts::new("login_attempts_total", "Login attempts by result"),
            &["result"],
        ));
        let subscriptions_open = must(IntGauge::new(
            "graphql_subscriptions_open",
            "Open GraphQL subscription streams",
        ));
        let webhooks = must(IntCounterVec::new(
            Opts::new("webhooks_total", "WhatsApp webhook deliveries by result"),
            &["result"],
        ));
        let ingest_commit_seconds = must(Histogram::with_opts(
            HistogramOpts::new(
                "ingest_commit_seconds",
                "Time to write and commit one ingest batch",
            )
            .buckets(vec![
                0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ]),
        ));
        let size_buckets = vec![
            1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0,
        ];
        let ingest_batch_notifications = must(Histogram::with_opts(
            HistogramOpts::new(
                "ingest_batch_notifications",
                "Webhook notifications per commit",
            )
            .buckets(size_buckets.clone()),
        ));
        let ingest_step_seconds = must(HistogramVec::new(
            HistogramOpts::new(
                "ingest_step_seconds",
                "Time of each step of an ingest batch (collect, plan, begin, statements, commit, publish)",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5,
            ]),
            &["step"],
        ));
        let ingest_batch_messages = must(Histogram::with_opts(
            HistogramOpts::new("ingest_batch_messages", "Messages and statuses per commit")
                .buckets(size_buckets),
        ));
        let ingest_queue_depth = must(IntGauge::new(
            "ingest_queue_depth",
            "Notifications waiting for the ingest writer",
        ));
        let ingest_contacts_warmed = must(IntGauge::new(
            "ingest_contacts_warmed",
            "Recent customers loaded into the ingest writer's contact cache at start",
        ));
        let messages_in = must(IntCounterVec::new(
            Opts::new(
                "messages_in_total",
                "Inbound messages stored, by WhatsApp type",
            ),
            &["type"],
        ));
        let messages_out = must(IntCounterVec::new(
            Opts::new("messages_out_total", "Outbound messages by type and result"),
            &["type", "result"],
        ));
        let send_errors = must(IntCounterVec::new(
            Opts::new("send_errors_total", "Cloud API send errors by error code"),
            &["code"],
        ));
        let limiter_waits = must(IntCounterVec::new(
            Opts::new(
                "limiter_waits_total",
                "Sends that had to wait for a rate limit",
            ),
            &["limit"],
        ));
        let outbox_depth = must(IntGauge::new("outbox_depth", "Sends queued or in flight"));
        let bus_events = must(IntCounterVec::new(
            Opts::new("bus_events_total", "Event bus traffic by direction"),
            &["direction"],
        ));
        let bus_lag_seconds = must(Histogram::with_opts(
            HistogramOpts::new(
                "bus_lag_seconds",
                "Age of events received from other daemons, from commit to delivery",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
            ]),
        ));
        let actors_alive = must(IntGaugeVec::new(
            Opts::new("actors_alive", "Running actors by kind"),
            &["kind"],
        ));
        let actor_lifecycle = must(IntCounterVec::new(
            Opts::new(
                "actor_lifecycle_total",
                "Actor starts, stops and rebuilds from the database, by kind",
            ),
            &["kind", "event"],
        ));
        let mailbox_depth = must(IntGaugeVec::new(
            Opts::new("actor_mailbox_depth", "Messages waiting in actor mailboxes"),
            &["kind"],
        ));
        let mailbox_full = must(IntCounterVec::new(
            Opts::new(
                "actor_mailbox_full_total",
                "Requests refused because an actor mailbox was full",
            ),
            &["kind"],
        ));
        let queue_waiting = must(IntGaugeVec::new(
            Opts::new(
                "queue_waiting",
                "Conversations waiting in a tenant's queues (all departments)",
            ),
            &["tenant_id"],
        ));
        let agents_online = must(IntGaugeVec::new(
            Opts::new("agents_online", "Agents whose presence is online"),
            &["tenant_id"],
        ));
        let timer_fires = must(IntCounterVec::new(
            Opts::new("timer_fires_total", "Conversation timers fired, by kind"),
            &["kind"],
        ));
        let timer_groups = must(IntCounterVec::new(
            Opts::new(
                "timer_groups_total",
                "Groups of window and SLA timers committed in one transaction, by who found them due",
            ),
            &["by"],
        ));
        let transitions = must(IntCounterVec::new(
            Opts::new(
                "conversation_transitions_total",
                "Conversation status changes by new status",
            ),
            &["to"],
        ));
        let build_info = must(IntGaugeVec::new(
            Opts::new("build_info", "Build information (value is always 1)"),
            &["version", "rustc"],
        ));
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("SWITCHBOARD_RUSTC_VERSION")])
            .set(1);
        for c in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(db_pool.clone()),
            Box::new(db_pool_max.clone()),
            Box::new(login_attempts.clone()),
            Box::new(subscriptions_open.clone()),
            Box::new(webhooks.clone()),
            Box::new(ingest_commit_seconds.clone()),
            Box::new(ingest_batch_notifications.clone()),
            Box::new(ingest_batch_messages.clone()),
            Box::new(ingest_step_seconds.clone()),
            Box::new(ingest_queue_depth.clone()),
            Box::new(ingest_contacts_warmed.clone()),
            Box::new(messages_in.clone()),
            Box::new(messages_out.clone()),
            Box::new(send_errors.clone()),
            Box::new(limiter_waits.clone()),
            Box::new(outbox_depth.clone()),
            Box::new(bus_events.clone()),
            Box::new(bus_lag_seconds.clone()),
            Box::new(actors_alive.clone()),
            Box::new(actor_lifecycle.clone()),
            Box::new(mailbox_depth.clone()),
            Box::new(mailbox_full.clone()),
            Box::new(queue_waiting.clone()),
            Box::new(agents_online.clone()),
            Box::new(timer_fires.clone()),
            Box::new(timer_groups.clone()),
            Box::new(transitions.clone()),
            Box::new(build_info),
        ] {
            must(registry.register(c));
        }
        #[cfg(target_os = "linux")]
        must(registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        )));
        Self {
            registry,
            http_requests,
            http_duration,
            db_pool,
            db_pool_max,
            login_attempts,
            subscriptions_open,
            webhooks,
            ingest_commit_seconds,
            ingest_batch_notifications,
            ingest_batch_messages,
            ingest_step_seconds,
            ingest_queue_depth,
            ingest_contacts_warmed,
            messages_in,
            messages_out,
            send_errors,
            limiter_waits,
            outbox_depth,
            bus_events,
            bus_lag_seconds,
            actors_alive,
            actor_lifecycle,
            mailbox_depth,
            mailbox_full,
            queue_waiting,
            agents_online,
            timer_fires,
            timer_groups,
            transitions,
        }
    }

    /// Counts an actor's lifecycle event (`started`, `stopped`, `evicted`,
    /// `rebuilt`); `started` and `stopped` also move the alive gauge.
    pub fn actor_event(&self, kind: &str, event: &str) {
        self.actor_lifecycle.with_label_values(&[kind, event]).inc();
        match event {
            "started" => self.actors_alive.with_label_values(&[kind]).inc(),
            "stopped" => self.actors_alive.with_label_values(&[kind]).dec(),
            _ => {}
        }
    }

    /// Records one finished HTTP request.
    pub fn observe_http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let status = status.to_string();
        self.http_requests
            .with_label_values(&[route, method, status.as_str()])
            .inc();
        self.http_duration
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// Sets the pool gauges.
    pub fn set_pool(&self, in_use: u32, idle: u32) {
        self.db_pool
            .with_label_values(&["in_use"])
            .set(i64::from(in_use));
        self.db_pool
            .with_label_values(&["idle"])
            .set(i64::from(idle));
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::with_capacity(8192);
        let families = self.registry.gather();
        if TextEncoder::new().encode(&families, &mut out).is_err() {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prefixed_families() {
        let m = Metrics::new();
        m.observe_http("/graphql", "POST", 200, 0.01);
        m.set_pool(1, 3);
        let text = m.render();
        assert!(text.contains("switchboard_http_requests_total{method=\"POST\",route=\"/graphql\",status=\"200\"} 1"), "{text}");
        assert!(text.contains("switchboard_db_pool_connections{state=\"idle\"} 3"));
        assert!(text.contains("switchboard_build_info{"));
    }
}
