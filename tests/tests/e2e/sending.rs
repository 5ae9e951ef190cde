//! Outbound: GraphQL `sendMessage` → outbox → sender actor → the simulator
//! (Meta's stand-in) over real HTTP, and the status webhooks coming back.

use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use switchboard::whatsapp::simulator::{Faults, SendOutcome, Simulator, SimulatorConfig};

use crate::backends;
use crate::helpers::{Backend, TestApp, code};
use crate::webhook::{APP_SECRET, PHONE_NUMBER_ID, app_with_number};

const PW: &str = "correct horse battery";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A daemon whose Graph API is a simulator that posts its webhooks back.
async fn app_and_sim(
    backend: Backend,
    sim_cfg: impl FnOnce(&mut SimulatorConfig),
) -> (TestApp, Simulator, String) {
    app_and_sim_with(backend, |_| {}, sim_cfg).await
}

async fn app_and_sim_with(
    backend: Backend,
    app_cfg: impl FnOnce(&mut switchboard::config::Settings),
    sim_cfg: impl FnOnce(&mut SimulatorConfig),
) -> (TestApp, Simulator, String) {
    let port = free_port();
    let (app, _) = app_with_number(backend).await;
    let app = app
        .restart(|s| {
            s.whatsapp.graph_base_url = format!("http://127.0.0.1:{port}");
            app_cfg(s);
        })
        .await;
    let mut cfg = SimulatorConfig {
        port,
        webhook_url: Some(app.url("/webhooks/whatsapp")),
        app_secret: APP_SECRET.into(),
        access_token: Some("EAAGtoken".into()),
        seed: Some(7),
        ..Default::default()
    };
    sim_cfg(&mut cfg);
    let sim = Simulator::start(cfg).await.expect("simulator");
    let admin = app.login("admin@acme.test", PW).await;
    (app, sim, admin)
}

/// Injects a message from `from`; returns the id of its conversation.
async fn conversation_of(app: &TestApp, sim: &Simulator, from: &str) -> String {
    let status = sim
        .inject_inbound(
            PHONE_NUMBER_ID,
            from,
            json!({"type": "text", "text": {"body": "hello"}}),
        )
        .await
        .expect("inject");
    assert_eq!(status, 200);
    let conv = app.conversation_with(from).await;
    conv.id.to_string()
}

async fn send(app: &TestApp, token: &str, conv: &str, text: &str) -> Value {
    app.gql(
        Some(token),
        "mutation($c:ID!,$t:String!){ sendMessage(input:{conversationId:$c, text:$t}){ id status kind text } }",
        json!({"c": conv, "t": text}),
    )
    .await
}

/// Polls a message until `pred` holds (or panics after 20 s).
async fn wait_message(
    app: &TestApp,
    id: i64,
    what: &str,
    pred: impl Fn(&entity::messages::Model) -> bool,
) -> entity::messages::Model {
    let start = Instant::now();
    loop {
        let m = entity::messages::Entity::find_by_id(id)
            .one(&app.db)
            .await
            .expect("q")
            .expect("message");
        if pred(&m) {
            return m;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what}: {m:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn accepted_texts(sim: &Simulator) -> Vec<SentRecordLite> {
    sim.sent()
        .into_iter()
        .filter(|r| r.kind == "text" && r.outcome == SendOutcome::Accepted)
        .map(|r| SentRecordLite {
            at_ms: r.at_ms,
            body: r.body,
        })
        .collect()
}

struct SentRecordLite {
    at_ms: u64,
    body: Value,
}

async fn a_reply_is_sent_and_ends_read(backend: Backend) {
    let (app, sim, admin) = app_and_sim(backend, |_| {}).await;
    let conv = conversation_of(&app, &sim, "4915112345678").await;
    let r = send(&app, &admin, &conv, "Hi, how can we help?").await;
    assert!(r.get("errors").is_none(), "{r}");
    assert_eq!(r["data"]["sendMessage"]["status"], "pending");
    let id: i64 = r["data"]["sendMessage"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let m = wait_message(&app, id, "read", |m| m.status == "read").await;
    assert!(m.wa_message_id.is_some() && m.read_at.is_some());
    let sent = accepted_texts(&sim);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["text"]["body"], "Hi, how can we help?");
    assert_eq!(sent[0].body["to"], "4915112345678");
    let q = app
        .gql_ok(Some(&admin), "query($c:ID!){ conversation(id:$c){ messages { edges { node { direction status text } } } } }", json!({"c": conv}))
        .await;
    let edges = q["conversation"]["messages"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert_eq!(edges.len(), 2);
    assert_eq!(
        edges[1]["node"],
        json!({"direction": "OUTBOUND", "status": "read", "text": "Hi, how can we help?"})
    );
    sim.stop().await;
    app.stop().await;
}

async fn window_closed_is_refused_before_any_call(backend: Backend) {
    let (app, sim, admin) = app_and_sim(backend, |_| {}).await;
    // an agent-role API key sees no unassigned conversation
    let key = app
        .gql_ok(Some(&admin), "mutation { createApiKey(input:{name:\"bot\", role: AGENT, scopes:[READ, WRITE]}){ secret } }", json!({}))
        .await["createApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    let open_conv = conversation_of(&app, &sim, "4915100000003").await;
    let r = send(&app, &key, &open_conv, "from an agent key").await;
    assert_eq!(code(&r), "NOT_FOUND", "{r}");
    // the customer last wrote 25 hours ago
    let old = (chrono::Utc::now() - chrono::Duration::hours(25))
        .timestamp()
        .to_string();
    let status = sim
        .inject_inbound(
            PHONE_NUMBER_ID,
            "4915100000001",
            json!({"type": "text", "timestamp": old, "text": {"body": "old"}}),
        )
        .await
        .expect("inject");
    assert_eq!(status, 200);
    let conv = app.conversation_with("4915100000001").await;
    let r = send(&app, &admin, &conv.id.to_string(), "too late").await;
    assert_eq!(code(&r), "WINDOW_CLOSED", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("template")
    );
    assert_eq!(
        entity::outbox::Entity::find()
            .count(&app.db)
            .await
            .expect("c"),
        0
    );
    assert!(accepted_texts(&sim).is_empty() && sim.sent().iter().all(|r| r.kind != "text"));
    // bad input changes nothing either
    let conv = conversation_of(&app, &sim, "4915100000002").await;
    let r = send(&app, &admin, &conv, &"x".repeat(4097)).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert_eq!(
        entity::outbox::Entity::find()
            .count(&app.db)
            .await
            .expect("c"),
        0
    );
    sim.stop().await;
    app.stop().await;
}

async fn retries_then_succeeds_and_permanent_errors_are_recorded(backend: Backend) {
    let (app, sim, admin) = app_and_sim(backend, |_| {}).await;
    let conv = conversation_of(&app, &sim, "4915122223333").await;
    sim.set_faults(Faults {
        burst_429: 2,
        ..Default::default()
    });
    let r = send(&app, &admin, &conv, "after two 429s").await;
    let id: i64 = r["data"]["sendMessage"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let m = wait_message(&app, id, "accepted after retries", |m| {
        m.wa_message_id.is_some()
    })
    .await;
    assert_ne!(m.status, "failed");
    let out = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::MessageId.eq(id))
        .one(&app.db)
        .await
        .expect("q")
        .expect("outbox");
    assert_eq!(out.status, "sent");
    assert_eq!(out.attempts, 3, "two 429s then success");
    let refused: Vec<_> = sim
        .sent()
        .into_iter()
        .filter(|r| r.error_code == Some(130429))
        .collect();
    assert_eq!(refused.len(), 2);

    // a rotated access token is used from the next send on (here: a wrong one → 190, final)
    let number_id = entity::whatsapp_numbers::Entity::find()
        .one(&app.db)
        .await
        .expect("q")
        .expect("n")
        .id;
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ updateWhatsAppNumber(id:$id, input:{accessToken:\"EAAGrevoked\"}){ id } }",
        json!({"id": number_id.to_string()}),
    )
    .await;
    let r = send(&app, &admin, &conv, "with the new token").await;
    let id: i64 = r["data"]["sendMessage"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let m = wait_message(&app, id, "failed with 190", |m| m.status == "failed").await;
    assert_eq!(m.error_code, Some(190));
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ updateWhatsAppNumber(id:$id, input:{accessToken:\"EAAGtoken\"}){ id } }",
        json!({"id": number_id.to_string()}),
    )
    .await;

    // Meta says the window is closed although we thought it open: 131047, not retried
    sim.set_faults(Faults::default());
    sim.set_clock_offset(chrono::Duration::hours(25));
    let r = send(&app, &admin, &conv, "window closed at Meta").await;
    let id: i64 = r["data"]["sendMessage"]["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let m = wait_message(&app, id, "failed with 131047", |m| m.status == "failed").await;
    assert_eq!(m.error_code, Some(131047));
    let attempts = sim
        .sent()
        .into_iter()
        .filter(|r| r.error_code == Some(131047))
        .count();
    assert_eq!(attempts, 1, "permanent errors are not retried");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("switchboard_send_errors_total{code=\"131047\"} 1"),
        "{metrics}"
    );
    sim.stop().await;
    app.stop().await;
}

/// Queues `n` sends to distinct recipients straight into the outbox.
async fn queue_direct(app: &TestApp, conv_id: i64, n: usize) {
    let conv = entity::conversations::Entity::find_by_id(conv_id)
        .one(&app.db)
        .await
        .expect("q")
        .expect("c");
    for i in 0..n {
        let to = format!("49160{i:07}");
        let msg = switchboard::whatsapp::client::OutgoingMessage {
            to,
            reply_to: None,
            content: switchboard::whatsapp::client::OutgoingContent::Text {
                body: format!("bulk {i}"),
                preview_url: false,
            },
            biz_opaque_callback_data: None,
        };
        let m = switchboard::store::messages::create_outbound(
            &app.db,
            conv.tenant_id,
            conv.id,
            conv.contact_id,
            "text",
            msg.to_json(),
            None,
        )
        .await
        .expect("message");
        switchboard::store::outbox::enqueue(
            &app.db,
            conv.tenant_id,
            conv.whatsapp_number_id,
            m.id,
            serde_json::to_value(&msg).expect("json"),
        )
        .await
        .expect("outbox");
    }
}

async fn wait_accepted(sim: &Simulator, n: usize) -> Vec<SentRecordLite> {
    let start = Instant::now();
    loop {
        let sent = accepted_texts(sim);
        if sent.len() >= n {
            return sent;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "only {} of {n} accepted",
            sent.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throughput_never_exceeds_80_per_second() {
    // the simulator enforces 200/s, so any excess over 80 would be accepted and show
    let (app, sim, admin) = app_and_sim(Backend::Sqlite, |c| {
        c.throughput_per_second = 200;
        c.enforce_window = false;
    })
    .await;
    let conv = conversation_of(&app, &sim, "4915199990000").await;
    queue_direct(&app, conv.parse().expect("id"), 400).await;
    let r = send(&app, &admin, &conv, "wake up").await;
    assert!(r.get("errors").is_none(), "{r}");
    let sent = wait_accepted(&sim, 401).await;
    let times: Vec<u64> = sent.iter().map(|s| s.at_ms).collect();
    let max = switchboard::whatsapp::simulator::limits::max_in_any_window(&times, 1000);
    assert!(max <= 80, "{max} messages in one 1 s window");
    let span = times.iter().max().copied().unwrap_or(0) - times.iter().min().copied().unwrap_or(0);
    assert!(
        span >= 4000,
        "401 messages at 80/s take at least 5 s, took {span} ms"
    );
    // each queued message exactly once
    let mut bodies: Vec<String> = sent
        .iter()
        .map(|s| s.body["text"]["body"].as_str().unwrap_or("").to_string())
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 401);
    sim.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_rate_is_honoured() {
    let (app, sim, admin2) = app_and_sim_with(
        Backend::Sqlite,
        |s| {
            s.whatsapp.pair_burst = 3;
            s.whatsapp.pair_interval_seconds = 6.0;
        },
        |c| {
            c.pair_interval = Duration::from_secs(6);
            c.pair_burst = 3;
            c.enforce_window = false;
        },
    )
    .await;
    let conv = app
        .open_conversation("4915177770000", true)
        .await
        .id
        .to_string();
    for i in 0..5 {
        let r = send(&app, &admin2, &conv, &format!("pair {i}")).await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = sim.sent();
    let to_one: Vec<_> = sent
        .iter()
        .filter(|r| r.kind == "text" && r.to == "4915177770000")
        .collect();
    assert_eq!(
        to_one
            .iter()
            .filter(|r| r.outcome == SendOutcome::Accepted)
            .count(),
        3,
        "burst of 3, then wait"
    );
    assert!(
        to_one.iter().all(|r| r.error_code != Some(131056)),
        "the daemon waits instead of hitting 131056"
    );
    sim.stop().await;
    app.stop().await;
}

async fn queued_sends_survive_a_restart_and_go_out_once(backend: Backend) {
    let (app, sim, admin) = app_and_sim(backend, |c| c.enforce_window = false).await;
    let conv = conversation_of(&app, &sim, "4915188880000").await;
    // the daemon goes down with sends queued: point it at a closed port first
    let dead = free_port();
    let app = app
        .restart(|s| s.whatsapp.graph_base_url = format!("http://127.0.0.1:{dead}"))
        .await;
    let admin = {
        let _ = admin;
        app.login("admin@acme.test", PW).await
    };
    for i in 0..10 {
        let r = send(&app, &admin, &conv, &format!("queued {i}")).await;
        assert!(r.get("errors").is_none(), "{r}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(accepted_texts(&sim).is_empty());
    let pending = entity::outbox::Entity::find()
        .filter(entity::outbox::Column::Status.is_in(["pending", "sending"]))
        .count(&app.db)
        .await
        .expect("c");
    assert_eq!(pending, 10);
    // restart against the simulator, with retries due now
    use sea_orm::sea_query::Expr;
    entity::outbox::Entity::update_many()
        .col_expr(
            entity::outbox::Column::NextAttemptAt,
            Expr::value(chrono::Utc::now()),
        )
        .exec(&app.db)
        .await
        .expect("due now");
    let sim_url = sim.base_url();
    let app = app.restart(|s| s.whatsapp.graph_base_url = sim_url).await;
    let sent = wait_accepted(&sim, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent_again = accepted_texts(&sim);
    assert_eq!(sent_again.len(), sent.len(), "nothing sent twice");
    let mut bodies: Vec<String> = sent_again
        .iter()
        .map(|s| s.body["text"]["body"].as_str().unwrap_or("").to_string())
        .collect();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), 10);
    sim.stop().await;
    app.stop().await;
}

async fn inbound_media_is_downloaded_and_served_to_its_tenant_only(backend: Backend) {
    let (app, sim, admin) = app_and_sim(backend, |_| {}).await;
    let status = sim
        .inject_inbound(
            PHONE_NUMBER_ID,
            "4915144445555",
            json!({"type": "image", "image": {"caption": "my receipt"}}),
        )
        .await
        .expect("inject");
    assert_eq!(status, 200);
    let msg = entity::messages::Entity::find()
        .filter(entity::messages::Column::Kind.eq("image"))
        .one(&app.db)
        .await
        .expect("q")
        .expect("image message");
    let start = Instant::now();
    let media = loop {
        let q = app
            .gql_ok(
                Some(&admin),
                "query($c:ID!){ conversation(id:$c){ messages { edges { node { kind media { status url mimeType sizeBytes sha256 error } } } } } }",
                json!({"c": msg.conversation_id.to_string()}),
            )
            .await;
        let media = q["conversation"]["messages"]["edges"][0]["node"]["media"].clone();
        if media["status"] == "stored" || media["status"] == "failed" {
            break media;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{media}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(media["status"], "stored", "{media}");
    let url = media["url"].as_str().expect("url");
    let bytes = app
        .client
        .get(app.url(url))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("get");
    assert_eq!(bytes.status().as_u16(), 200);
    assert_eq!(
        bytes.headers()["content-type"],
        media["mimeType"].as_str().expect("mime")
    );
    let body = bytes.bytes().await.expect("bytes");
    assert_eq!(
        body.len() as i64,
        media["sizeBytes"].as_i64().expect("size")
    );
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(&body)),
        media["sha256"].as_str().expect("sha")
    );
    // an agent not assigned to the conversation does not see it either
    let tenant = entity::whatsapp_numbers::Entity::find()
        .one(&app.db)
        .await
        .expect("q")
        .expect("n")
        .tenant_id;
    app.user(
        tenant,
        "agent@acme.test",
        PW,
        switchboard::auth::Role::Agent,
    )
    .await;
    let agent = app.login("agent@acme.test", PW).await;
    let res = app
        .client
        .get(app.url(url))
        .bearer_auth(&agent)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 404);
    // no token, or another tenant: refused
    assert_eq!(
        app.client
            .get(app.url(url))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        401
    );
    let other = app.tenant_with_admin("Other", "admin@other.test", PW).await;
    let _ = other;
    let other_token = app.login("admin@other.test", PW).await;
    let res = app
        .client
        .get(app.url(url))
        .bearer_auth(&other_token)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 404);
    sim.stop().await;
    app.stop().await;
}

backends!(
    inbound_media_is_downloaded_and_served_to_its_tenant_only,
    a_reply_is_sent_and_ends_read,
    window_closed_is_refused_before_any_call,
    retries_then_succeeds_and_permanent_errors_are_recorded,
    queued_sends_survive_a_restart_and_go_out_once,
);
