//! `GET|POST /webhooks/whatsapp` over real HTTP: handshake, signatures, bad
//! input, every message type stored, exactly-once under retries, statuses.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use switchboard::whatsapp::signature;

use crate::backends;
use crate::helpers::{Backend, TestApp};

const PW: &str = "correct horse battery";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const APP_SECRET: &str = "test-app-secret-1234";
const VERIFY: &str = "verify-me-please";
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../daemon/tests/fixtures/whatsapp"
);

/// A daemon with tenant "Acme" owning the fixtures' phone number.
pub async fn app_with_number(backend: Backend) -> (TestApp, i64) {
    app_with_number_and(backend, |_| {}).await
}

/// [`app_with_number`] with `tweak` applied to the daemon's settings.
pub async fn app_with_number_and(
    backend: Backend,
    tweak: impl FnOnce(&mut switchboard::config::Settings),
) -> (TestApp, i64) {
    let app = TestApp::spawn_with(backend, tweak).await;
    let tenant = app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let admin = app.login("admin@acme.test", PW).await;
    app.gql_ok(
        Some(&admin),
        "mutation($p:String!,$s:String!,$v:String!){ addWhatsAppNumber(input:{phoneNumberId:$p, wabaId:\"102290129340398\",
           displayPhoneNumber:\"+1 555 078 3881\", accessToken:\"EAAGtoken\", appSecret:$s, verifyToken:$v}){ id } }",
        json!({"p": PHONE_NUMBER_ID, "s": APP_SECRET, "v": VERIFY}),
    )
    .await;
    (app, tenant)
}

/// Two daemons on one PostgreSQL database and one Redis (a fresh key
/// prefix), both ready: [`app_with_number`]'s tenant and number, as two
/// nodes behind a load balancer would run.
pub async fn redis_pair(tag: &str) -> (TestApp, TestApp) {
    let prefix = crate::helpers::unique_prefix(tag);
    let (one, _) = app_with_number_and(Backend::Postgres, |s| {
        s.redis.url = Some(crate::helpers::redis_url().into());
        s.redis.key_prefix = prefix;
    })
    .await;
    let two = one.sibling().await;
    one.wait_ready().await;
    two.wait_ready().await;
    (one, two)
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Posts `body` signed with `secret` (None = no signature header).
pub async fn post(app: &TestApp, body: &str, secret: Option<&str>) -> u16 {
    let mut req = app
        .client
        .post(app.url("/webhooks/whatsapp"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = secret {
        req = req.header(
            "x-hub-signature-256",
            signature::sign(s.as_bytes(), body.as_bytes()),
        );
    }
    req.send().await.expect("post").status().as_u16()
}

async fn message_count(app: &TestApp) -> u64 {
    entity::messages::Entity::find()
        .count(&app.db)
        .await
        .expect("count")
}

async fn handshake_and_signatures(backend: Backend) {
    let (app, _) = app_with_number(backend).await;
    let get = |q: String| {
        app.client
            .get(app.url(&format!("/webhooks/whatsapp?{q}")))
            .send()
    };
    let ok = get(format!(
        "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token={VERIFY}"
    ))
    .await
    .expect("get");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.expect("body"), "1158201444");
    for q in [
        "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong".to_string(),
        format!("hub.mode=unsubscribe&hub.challenge=1&hub.verify_token={VERIFY}"),
        "hub.challenge=1".to_string(),
    ] {
        assert_eq!(
            get(q.clone()).await.expect("get").status().as_u16(),
            403,
            "{q}"
        );
    }

    let body = fixture("f01_text.json");
    assert_eq!(post(&app, &body, None).await, 401, "missing signature");
    assert_eq!(
        post(&app, &body, Some("not-the-secret")).await,
        401,
        "wrong signature"
    );
    let tampered = format!("{body} ");
    let sig = signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
    let res = app
        .client
        .post(app.url("/webhooks/whatsapp"))
        .header("x-hub-signature-256", sig)
        .body(tampered)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status().as_u16(), 401, "signature of another body");
    assert_eq!(message_count(&app).await, 0, "nothing stored");
    assert_eq!(
        entity::contacts::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        0
    );

    assert_eq!(post(&app, &body, Some(APP_SECRET)).await, 200);
    assert_eq!(message_count(&app).await, 1);
    app.stop().await;
}

async fn bad_input_is_refused(backend: Backend) {
    let (app, _) = app_with_number(backend).await;
    assert_eq!(post(&app, "{not json", Some(APP_SECRET)).await, 400);
    assert_eq!(
        post(&app, r#"{"object":"page","entry":[]}"#, Some(APP_SECRET)).await,
        400
    );
    let no_metadata = r#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp"}}]}]}"#;
    assert_eq!(post(&app, no_metadata, Some(APP_SECRET)).await, 400);
    let huge = format!(
        "{{\"object\":\"whatsapp_business_account\",\"pad\":\"{}\"}}",
        "x".repeat(3 * 1024 * 1024 + 10)
    );
    assert_eq!(post(&app, &huge, Some(APP_SECRET)).await, 413);
    // many distinct numbers in one (unsigned) body: refused before any lookup
    let changes: Vec<Value> = (0..20)
        .map(|i| json!({"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1", "phone_number_id": format!("9{i:05}")}, "messages": []}}))
        .collect();
    let many =
        json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]})
            .to_string();
    assert_eq!(post(&app, &many, None).await, 400);
    // unknown phone number id: acknowledged (no retry can help) and counted
    let unknown = fixture("f01_text.json").replace(PHONE_NUMBER_ID, "999999999999");
    assert_eq!(post(&app, &unknown, Some("whatever")).await, 200);
    assert_eq!(message_count(&app).await, 0);
    let metrics = app.metrics().await;
    for result in ["malformed", "too_large", "unknown_number"] {
        assert!(
            metrics.contains(&format!(
                "switchboard_webhooks_total{{result=\"{result}\"}}"
            )),
            "{result}: {metrics}"
        );
    }
    app.stop().await;
}

async fn every_message_type_is_stored(backend: Backend) {
    let (app, tenant) = app_with_number(backend).await;
    let mut expected = Vec::new();
    let mut names: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .filter(|n| n.starts_with("msg_") || n == "f01_text.json" || n == "multi_entry.json")
        .collect();
    names.sort();
    for name in &names {
        let body = fixture(name);
        let v: Value = serde_json::from_str(&body).expect("json");
        for entry in v["entry"].as_array().expect("entries") {
            for change in entry["changes"].as_array().expect("changes") {
                if change["value"]["metadata"]["phone_number_id"] != PHONE_NUMBER_ID {
                    continue;
                }
                for m in change["value"]["messages"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                {
                    expected.push((
                        m["id"].as_str().expect("id").to_string(),
                        m["type"].as_str().expect("type").to_string(),
                        m,
                    ));
                }
            }
        }
        assert_eq!(post(&app, &body, Some(APP_SECRET)).await, 200, "{name}");
    }
    assert!(
        expected.len() >= 20,
        "fixtures cover the types: {}",
        expected.len()
    );
    let rows = entity::messages::Entity::find()
        .filter(entity::messages::Column::TenantId.eq(tenant))
        .all(&app.db)
        .await
        .expect("rows");
    for (wamid, kind, raw) in &expected {
        let row = rows
            .iter()
            .find(|r| r.wa_message_id.as_deref() == Some(wamid.as_str()))
            .unwrap_or_else(|| panic!("{wamid} ({kind}) not stored"));
        assert_eq!(&row.kind, kind);
        assert_eq!(row.direction, "inbound");
        assert_eq!(row.status, "received");
        assert_eq!(
            row.content.as_ref(),
            Some(raw),
            "content kept as sent, unknown fields included"
        );
    }
    // contacts from contacts[].profile.name
    let ann = entity::contacts::Entity::find()
        .filter(entity::contacts::Column::TenantId.eq(tenant))
        .all(&app.db)
        .await
        .expect("contacts");
    assert!(ann.iter().any(|c| c.profile_name.is_some()), "{ann:?}");
    // every inbound message sits in an open conversation of its contact with the window set
    let convs = entity::conversations::Entity::find()
        .all(&app.db)
        .await
        .expect("convs");
    assert!(!convs.is_empty());
    for c in &convs {
        assert_eq!(c.status, "queued");
        let last = c.last_inbound_at.expect("last inbound");
        assert_eq!(
            c.window_expires_at,
            Some(last + chrono::Duration::hours(24))
        );
    }
    app.stop().await;
}

async fn nul_characters_are_stored_without_them(backend: Backend) {
    let (app, _) = app_with_number(backend).await;
    let body =
        fixture("f01_text.json").replace("Does it come in another color?", "nul\\u0000inside");
    assert!(body.contains("\\u0000"), "fixture text replaced");
    assert_eq!(post(&app, &body, Some(APP_SECRET)).await, 200);
    let m = entity::messages::Entity::find()
        .one(&app.db)
        .await
        .expect("q")
        .expect("stored");
    assert_eq!(
        m.content
            .as_ref()
            .and_then(|c| c.pointer("/text/body"))
            .and_then(Value::as_str),
        Some("nulinside")
    );
    app.stop().await;
}

async fn retries_are_stored_once(backend: Backend) {
    let (app, _) = app_with_number(backend).await;
    let body = fixture("f01_text.json");
    let posts: Vec<_> = (0..5)
        .map(|_| post(&app, &body, Some(APP_SECRET)))
        .collect();
    let statuses = futures_util::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(message_count(&app).await, 1);
    assert_eq!(
        entity::conversations::Entity::find()
            .count(&app.db)
            .await
            .expect("c"),
        1
    );
    // and again later (Meta retries for days)
    assert_eq!(post(&app, &body, Some(APP_SECRET)).await, 200);
    assert_eq!(message_count(&app).await, 1);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("switchboard_webhooks_total{result=\"duplicate\"}"),
        "{metrics}"
    );
    app.stop().await;
}

/// `f01_text.json` as message `wamid` of kind `kind` sent at `ts` by a
/// customer who calls themself `name`.
fn customer_message(wamid: &str, ts: i64, name: &str, kind: &str) -> String {
    message_from("16505551234", wamid, ts, name, kind)
}

/// [`customer_message`] from the customer `wa_id`.
fn message_from(wa_id: &str, wamid: &str, ts: i64, name: &str, kind: &str) -> String {
    let mut n: Value = serde_json::from_str(&fixture("f01_text.json")).expect("fixture");
    let value = &mut n["entry"][0]["changes"][0]["value"];
    value["contacts"][0]["profile"]["name"] = json!(name);
    value["contacts"][0]["wa_id"] = json!(wa_id);
    let m = &mut value["messages"][0];
    m["from"] = json!(wa_id);
    m["id"] = json!(wamid);
    m["timestamp"] = json!(ts.to_string());
    if kind == "image" {
        m["type"] = json!("image");
        m["image"] = json!({"mime_type": "image/jpeg", "sha256": "abc", "id": "media-of-known"});
        m.as_object_mut().map(|o| o.remove("text"));
    }
    n.to_string()
}

/// The tenant's event log, after checking its sequence numbers have no
/// gap and no repeat.
pub(crate) async fn gapless_events(app: &TestApp, tenant: i64) -> Vec<entity::event_log::Model> {
    let events = entity::event_log::Entity::find()
        .filter(entity::event_log::Column::TenantId.eq(tenant))
        .all(&app.db)
        .await
        .expect("events");
    let mut seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    let first = seqs.first().copied().unwrap_or_default();
    assert_eq!(
        seqs,
        (first..first + seqs.len() as i64).collect::<Vec<_>>(),
        "no gaps, no repeats"
    );
    events
}

/// On PostgreSQL, that the writer took the one-statement path (its `write`
/// step was timed); SQLite has only the transaction path.
async fn assert_one_statement_path(app: &TestApp, backend: Backend) {
    if backend == Backend::Postgres {
        let metrics = app.metrics().await;
        assert!(
            metrics.contains("switchboard_ingest_step_seconds_count{step=\"write\"}"),
            "the one-statement path was not taken"
        );
    }
}

/// Messages of a customer the writer knows (on PostgreSQL: the
/// one-statement path) keep every promise of the others: stored once,
/// conversation refreshed, media queued, contact updated, events numbered
/// without gaps, retries reported as duplicates.
async fn known_customers_keep_every_promise(backend: Backend) {
    let (app, tenant) = app_with_number(backend).await;
    let ts = 1_749_416_383;
    assert_eq!(
        post(
            &app,
            &customer_message("wamid.K0", ts, "Sheena Nelson", "text"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let later = [
        customer_message("wamid.K1", ts + 10, "Sheena Nelson", "text"),
        customer_message("wamid.K2", ts + 20, "Sheena N.", "image"),
    ];
    for body in &later {
        assert_eq!(post(&app, body, Some(APP_SECRET)).await, 200);
    }
    // Meta retries one of them
    assert_eq!(post(&app, &later[0], Some(APP_SECRET)).await, 200);

    assert_eq!(message_count(&app).await, 3);
    let conversations = entity::conversations::Entity::find()
        .all(&app.db)
        .await
        .expect("conversations");
    assert_eq!(conversations.len(), 1, "one conversation");
    let c = &conversations[0];
    assert_eq!(c.last_inbound_at.map(|t| t.timestamp()), Some(ts + 20));
    assert_eq!(
        c.window_expires_at.map(|t| t.timestamp()),
        Some(ts + 20 + 86_400)
    );
    let image = entity::messages::Entity::find()
        .filter(entity::messages::Column::WaMessageId.eq("wamid.K2"))
        .one(&app.db)
        .await
        .expect("image")
        .expect("image stored");
    assert_eq!(image.conversation_id, c.id);
    let media = entity::media_files::Entity::find()
        .filter(entity::media_files::Column::MessageId.eq(image.id))
        .all(&app.db)
        .await
        .expect("media");
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].media_id, "media-of-known");
    let contact = entity::contacts::Entity::find()
        .one(&app.db)
        .await
        .expect("contact")
        .expect("stored");
    assert_eq!(contact.profile_name.as_deref(), Some("Sheena N."));
    assert_eq!(
        contact.last_inbound_at.map(|t| t.timestamp()),
        Some(ts + 20)
    );

    let events = gapless_events(&app, tenant).await;
    let added: Vec<&Value> = events
        .iter()
        .filter(|e| e.kind == "message_added")
        .map(|e| &e.payload)
        .collect();
    assert_eq!(added.len(), 3, "one message_added per stored message");
    assert!(
        added
            .iter()
            .any(|p| p["message_id"] == json!(image.id) && p["conversation_id"] == json!(c.id)),
        "{added:?}"
    );

    let metrics = app.metrics().await;
    assert!(
        metrics.contains("switchboard_webhooks_total{result=\"duplicate\"} 1"),
        "the retry is a duplicate: {metrics}"
    );
    assert_one_statement_path(&app, backend).await;
    app.stop().await;
}

/// Known customers (on PostgreSQL: the one-statement path) and new ones
/// (the transaction path) posting at once share writer batches; every
/// stored message gets exactly one `message_added` event, and the tenant's
/// sequence numbers stay gapless.
async fn known_and_new_customers_at_once_number_events_without_gaps(backend: Backend) {
    let (app, tenant) = app_with_number(backend).await;
    let ts = 1_749_416_383;
    let known: Vec<String> = (0..6).map(|i| format!("4915100000{i:02}")).collect();
    for (i, wa) in known.iter().enumerate() {
        let body = message_from(wa, &format!("wamid.first{i}"), ts, "Known", "text");
        assert_eq!(post(&app, &body, Some(APP_SECRET)).await, 200);
    }
    let mut bodies = Vec::new();
    for round in 0..3 {
        for (i, wa) in known.iter().enumerate() {
            let wamid = format!("wamid.known{round}-{i}");
            bodies.push(message_from(wa, &wamid, ts + 1 + round, "Known", "text"));
        }
        for i in 0..6 {
            let wa = format!("4915200{round}{i:03}");
            let wamid = format!("wamid.new{round}-{i}");
            bodies.push(message_from(&wa, &wamid, ts + 1 + round, "New", "text"));
        }
    }
    let answers =
        futures_util::future::join_all(bodies.iter().map(|b| post(&app, b, Some(APP_SECRET))))
            .await;
    assert!(answers.iter().all(|a| *a == 200), "{answers:?}");

    let stored: Vec<i64> = entity::messages::Entity::find()
        .all(&app.db)
        .await
        .expect("messages")
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(stored.len(), 6 + 36);
    let events = gapless_events(&app, tenant).await;
    let mut announced: Vec<i64> = events
        .iter()
        .filter(|e| e.kind == "message_added")
        .filter_map(|e| e.payload["message_id"].as_i64())
        .collect();
    announced.sort_unstable();
    let mut expected = stored;
    expected.sort_unstable();
    assert_eq!(announced, expected, "one message_added per stored message");
    assert_one_statement_path(&app, backend).await;
    app.stop().await;
}

fn status_notification(wamid: &str, status: &str, ts: i64) -> String {
    let mut s = json!({"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "16315551234"});
    if status == "failed" {
        s["errors"] = json!([{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable", "error_data": {"details": "x"}}]);
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
        "statuses": [s]}}]}]})
    .to_string()
}

async fn outbound_message(app: &TestApp, tenant: i64, wamid: &str) -> i64 {
    use sea_orm::{ActiveModelTrait, Set};
    let conv = app
        .open_conversation(&format!("1631555{}", &wamid[wamid.len() - 4..]), true)
        .await;
    let t = chrono::Utc::now();
    entity::messages::ActiveModel {
        tenant_id: Set(tenant),
        conversation_id: Set(conv.id),
        contact_id: Set(conv.contact_id),
        direction: Set("outbound".into()),
        wa_message_id: Set(Some(wamid.into())),
        kind: Set("text".into()),
        content: Set(Some(json!({"text": {"body": "hi"}}))),
        status: Set("pending".into()),
        created_at: Set(t),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("message")
    .id
}

async fn statuses_never_move_backwards(backend: Backend) {
    let (app, tenant) = app_with_number(backend).await;
    let id = outbound_message(&app, tenant, "wamid.OUT0001").await;
    let now = chrono::Utc::now().timestamp();
    // read arrives first, then delivered, then sent; one of them twice
    for (s, dt) in [("read", 3), ("delivered", 2), ("sent", 1), ("delivered", 2)] {
        assert_eq!(
            post(
                &app,
                &status_notification("wamid.OUT0001", s, now + dt),
                Some(APP_SECRET)
            )
            .await,
            200
        );
    }
    let m = entity::messages::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("q")
        .expect("m");
    assert_eq!(m.status, "read");
    assert!(m.sent_at.is_some() && m.delivered_at.is_some() && m.read_at.is_some());
    let events = entity::message_status_events::Entity::find()
        .filter(entity::message_status_events::Column::WaMessageId.eq("wamid.OUT0001"))
        .count(&app.db)
        .await
        .expect("events");
    assert_eq!(events, 3, "each status stored once");

    // concurrent, shuffled statuses of another message
    let id2 = outbound_message(&app, tenant, "wamid.OUT0002").await;
    let bodies: Vec<String> = ["delivered", "sent", "read", "read", "sent"]
        .iter()
        .enumerate()
        .map(|(i, s)| status_notification("wamid.OUT0002", s, now + i64::try_from(i).unwrap_or(0)))
        .collect();
    let posts: Vec<_> = bodies
        .iter()
        .map(|b| post(&app, b, Some(APP_SECRET)))
        .collect();
    assert!(
        futures_util::future::join_all(posts)
            .await
            .iter()
            .all(|s| *s == 200)
    );
    let m = entity::messages::Entity::find_by_id(id2)
        .one(&app.db)
        .await
        .expect("q")
        .expect("m");
    assert_eq!(m.status, "read");

    // failed is final and keeps its code
    let id3 = outbound_message(&app, tenant, "wamid.OUT0003").await;
    assert_eq!(
        post(
            &app,
            &status_notification("wamid.OUT0003", "failed", now),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    assert_eq!(
        post(
            &app,
            &status_notification("wamid.OUT0003", "delivered", now + 1),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let m = entity::messages::Entity::find_by_id(id3)
        .one(&app.db)
        .await
        .expect("q")
        .expect("m");
    assert_eq!(m.status, "failed");
    assert_eq!(m.error_code, Some(131026));

    // a status for a message we do not know (yet) is kept, not rejected
    assert_eq!(
        post(
            &app,
            &status_notification("wamid.UNKNOWN", "delivered", now),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let kept = entity::message_status_events::Entity::find()
        .filter(entity::message_status_events::Column::WaMessageId.eq("wamid.UNKNOWN"))
        .count(&app.db)
        .await
        .expect("events");
    assert_eq!(kept, 1);
    app.stop().await;
}

/// A restart keeps the writer's knowledge of recent customers (it loads
/// them at start): the next message of a customer who wrote today takes the
/// fast way (on PostgreSQL, the one-statement path) right away, and is
/// stored like any other.
async fn a_restart_remembers_recent_customers(backend: Backend) {
    let (app, tenant) = app_with_number(backend).await;
    let ts = chrono::Utc::now().timestamp() - 60;
    let first = customer_message("wamid.W0", ts, "Sheena Nelson", "text");
    assert_eq!(post(&app, &first, Some(APP_SECRET)).await, 200);
    // customers who last wrote long ago, or just over a day ago, are not loaded
    let old = message_from("16505559999", "wamid.OLD", 1_749_416_383, "Old", "text");
    assert_eq!(post(&app, &old, Some(APP_SECRET)).await, 200);
    let day_ago = chrono::Utc::now().timestamp() - 86_400 - 60;
    let edge = message_from("16505558888", "wamid.EDGE", day_ago, "Edge", "text");
    assert_eq!(post(&app, &edge, Some(APP_SECRET)).await, 200);
    let cache = switchboard::ingest::contacts::ContactCache::default();
    let loaded = switchboard::ingest::warm_contacts(&app.db, &cache)
        .await
        .expect("warm-up");
    assert_eq!(loaded, 1, "only the recent customer");
    let known = cache.known(tenant, "16505551234").expect("recent customer");
    assert_eq!(known.name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(known.last_inbound_at.map(|t| t.timestamp()), Some(ts));
    assert!(cache.known(tenant, "16505559999").is_none());
    assert!(cache.known(tenant, "16505558888").is_none());
    let app = app.restart(|_| {}).await;
    // the daemon warmed its own cache with the one recent customer (both backends)
    assert!(
        app.metrics()
            .await
            .contains("switchboard_ingest_contacts_warmed 1\n"),
        "warmed at start"
    );
    let next = customer_message("wamid.W1", ts + 10, "Sheena Nelson", "text");
    assert_eq!(post(&app, &next, Some(APP_SECRET)).await, 200);
    assert_one_statement_path(&app, backend).await;
    // Meta retries the first: still a duplicate after the restart
    assert_eq!(post(&app, &first, Some(APP_SECRET)).await, 200);
    assert_eq!(message_count(&app).await, 4);
    let conversation = app.conversation_with("16505551234").await;
    assert_eq!(
        conversation.last_inbound_at.map(|t| t.timestamp()),
        Some(ts + 10),
        "the message after the restart refreshed the conversation"
    );
    let added = gapless_events(&app, tenant)
        .await
        .into_iter()
        .filter(|e| e.kind == "message_added")
        .count();
    assert_eq!(added, 4, "one message_added per stored message");
    app.stop().await;
}

backends!(
    a_restart_remembers_recent_customers,
    handshake_and_signatures,
    bad_input_is_refused,
    every_message_type_is_stored,
    retries_are_stored_once,
    known_customers_keep_every_promise,
    known_and_new_customers_at_once_number_events_without_gaps,
    nul_characters_are_stored_without_them,
    statuses_never_move_backwards,
);
