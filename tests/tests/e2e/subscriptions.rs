//! GraphQL subscriptions over WebSocket, both protocols, authenticated in
//! `connection_init` and filtered by tenant and role.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard::auth::Role;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{Backend, TestApp};

const PW: &str = "correct horse battery";
type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

async fn connect(app: &TestApp, protocol: &str) -> Ws {
    let url = app.base.replace("http://", "ws://") + "/graphql/ws";
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().expect("header"));
    tokio_tungstenite::connect_async(req)
        .await
        .expect("ws connect")
        .0
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into()))
        .await
        .expect("ws send");
}

/// The next JSON message, skipping pings/keep-alives; `None` on close or timeout.
async fn next_json(ws: &mut Ws, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        match msg {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).expect("json message");
                if matches!(v["type"].as_str(), Some("ping" | "pong" | "ka")) {
                    continue;
                }
                return Some(v);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// Connects with `protocol`, authenticates in `connection_init` and waits for the ack.
async fn connect_as(app: &TestApp, token: &str, protocol: &str) -> Ws {
    let mut ws = connect(app, protocol).await;
    send(
        &mut ws,
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}}),
    )
    .await;
    let ack = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    ws
}

async fn subscribe_events(app: &TestApp, token: &str, protocol: &str) -> Ws {
    let mut ws = connect_as(app, token, protocol).await;
    let start = if protocol == "graphql-ws" {
        "start"
    } else {
        "subscribe"
    };
    send(
        &mut ws,
        json!({"id": "1", "type": start, "payload": {"query":
            "subscription { events { __typename ... on DirectoryChanged { entity id action } } }"}}),
    )
    .await;
    ws
}

/// Creates departments until the subscriber sees one (the subscription is set
/// up asynchronously after `subscribe`); returns the event payload.
async fn create_until_seen(app: &TestApp, admin: &str, ws: &mut Ws) -> (Value, Vec<Value>) {
    let mut created = Vec::new();
    for i in 0..50 {
        let d = app
            .gql_ok(
                Some(admin),
                "mutation($n:String!){ createDepartment(input:{name:$n}){ id } }",
                json!({"n": format!("Dept {i}")}),
            )
            .await;
        created.push(d["createDepartment"]["id"].clone());
        if let Some(msg) = next_json(ws, Duration::from_millis(200)).await {
            return (msg, created);
        }
    }
    panic!("no event reached the subscriber");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_subscribers_of_the_same_tenant_only() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let ta = app.tenant_with_admin("A", "admin@a.test", PW).await;
    app.tenant_with_admin("B", "admin@b.test", PW).await;
    app.user(ta, "agent@a.test", PW, Role::Agent).await;
    let a = app.login("admin@a.test", PW).await;
    let b = app.login("admin@b.test", PW).await;
    let agent = app.login("agent@a.test", PW).await;

    let mut b_ws = subscribe_events(&app, &b, "graphql-transport-ws").await;
    let mut agent_ws = subscribe_events(&app, &agent, "graphql-transport-ws").await;
    let mut a_ws = subscribe_events(&app, &a, "graphql-transport-ws").await;
    // give the other two subscriptions the same head start as a's
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (msg, created) = create_until_seen(&app, &a, &mut a_ws).await;
    assert_eq!(msg["type"], "next", "{msg}");
    let ev = &msg["payload"]["data"]["events"];
    assert_eq!(ev["__typename"], "DirectoryChanged");
    assert_eq!(ev["entity"], "DEPARTMENT");
    assert_eq!(ev["action"], "CREATED");
    assert!(created.contains(&ev["id"]), "{ev}");

    assert!(
        next_json(&mut b_ws, Duration::from_millis(500))
            .await
            .is_none(),
        "tenant B must see nothing of A"
    );
    assert!(
        next_json(&mut agent_ws, Duration::from_millis(300))
            .await
            .is_none(),
        "agents do not see directory changes"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_graphql_ws_protocol_works() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.tenant_with_admin("A", "admin@a.test", PW).await;
    let a = app.login("admin@a.test", PW).await;
    let mut ws = subscribe_events(&app, &a, "graphql-ws").await;
    let (msg, _) = create_until_seen(&app, &a, &mut ws).await;
    assert_eq!(msg["type"], "data", "{msg}");
    assert_eq!(msg["payload"]["data"]["events"]["entity"], "DEPARTMENT");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_init_requires_valid_credentials() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for payload in [json!({}), json!({"Authorization": "Bearer nope"})] {
        let mut ws = connect(&app, "graphql-transport-ws").await;
        send(
            &mut ws,
            json!({"type": "connection_init", "payload": payload}),
        )
        .await;
        let reply = next_json(&mut ws, Duration::from_secs(5)).await;
        assert!(
            reply.as_ref().is_none_or(|r| r["type"] != "connection_ack"),
            "unauthenticated connection acknowledged: {reply:?}"
        );
    }
    app.stop().await;
}

async fn subscribe_after(app: &TestApp, token: &str, after: Option<&str>) -> Ws {
    let mut ws = connect_as(app, token, "graphql-transport-ws").await;
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {
            "query": "subscription($a:String){ events(after:$a) { __typename ... on MessageAdded { cursor conversationId message { text direction } } ... on DirectoryChanged { cursor } ... on ConversationOpened { cursor conversation { status } } } }",
            "variables": {"a": after}}}),
    )
    .await;
    ws
}

fn inbound(wamid: &str, text: &str) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": crate::webhook::PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Ann"}, "wa_id": "4915100002222"}],
        "messages": [{"from": "4915100002222", "id": wamid, "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": text}}]}}]}]})
    .to_string()
}

async fn resumes_with_its_cursor_without_gap_or_duplicate(backend: Backend) {
    let (app, _) = crate::webhook::app_with_number(backend).await;
    let admin = app.login("admin@acme.test", PW).await;
    let mut ws = subscribe_after(&app, &admin, Some("0")).await;
    // the log already holds the number's DirectoryChanged; then an inbound message arrives live
    let first = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("replayed event");
    assert_eq!(
        first["payload"]["data"]["events"]["__typename"], "DirectoryChanged",
        "{first}"
    );
    assert_eq!(
        crate::webhook::post(
            &app,
            &inbound("wamid.R0", "live one"),
            Some(crate::webhook::APP_SECRET)
        )
        .await,
        200
    );
    let opened = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("conversation opened");
    let ev = &opened["payload"]["data"]["events"];
    assert_eq!(ev["__typename"], "ConversationOpened", "{opened}");
    assert_eq!(ev["conversation"]["status"], "queued", "{opened}");
    // it entered the (not yet routed) queue
    let queue = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("queue updated");
    assert_eq!(
        queue["payload"]["data"]["events"]["__typename"], "QueueUpdated",
        "{queue}"
    );
    let live = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("live event");
    let ev = &live["payload"]["data"]["events"];
    assert_eq!(ev["__typename"], "MessageAdded", "{live}");
    assert_eq!(
        ev["message"],
        json!({"text": "live one", "direction": "INBOUND"})
    );
    let cursor = ev["cursor"].as_str().expect("cursor").to_string();
    drop(ws);

    // while disconnected: 100 more messages
    for i in 0..100 {
        let body = inbound(&format!("wamid.R{}", i + 1), &format!("missed {i}"));
        assert_eq!(
            crate::webhook::post(&app, &body, Some(crate::webhook::APP_SECRET)).await,
            200
        );
    }
    let mut ws = subscribe_after(&app, &admin, Some(&cursor)).await;
    let mut texts = Vec::new();
    let mut last: i64 = cursor.parse().expect("int");
    while texts.len() < 100 {
        let msg = next_json(&mut ws, Duration::from_secs(10))
            .await
            .expect("replayed");
        let ev = &msg["payload"]["data"]["events"];
        let seq: i64 = ev["cursor"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("cursor");
        assert_eq!(seq, last + 1, "in order, no gap: {msg}");
        last = seq;
        texts.push(ev["message"]["text"].as_str().expect("text").to_string());
    }
    let expected: Vec<String> = (0..100).map(|i| format!("missed {i}")).collect();
    assert_eq!(texts, expected);
    // then live again, and nothing twice
    assert!(
        next_json(&mut ws, Duration::from_millis(300))
            .await
            .is_none(),
        "no duplicate after the replay"
    );
    assert_eq!(
        crate::webhook::post(
            &app,
            &inbound("wamid.R999", "live two"),
            Some(crate::webhook::APP_SECRET)
        )
        .await,
        200
    );
    let live = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("live after replay");
    assert_eq!(
        live["payload"]["data"]["events"]["message"]["text"],
        "live two"
    );
    // a bad cursor is refused clearly
    let mut bad = subscribe_after(&app, &admin, Some("yesterday")).await;
    let err = next_json(&mut bad, Duration::from_secs(5))
        .await
        .expect("error");
    assert_eq!(
        err["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{err}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_added_follows_one_conversation() {
    let (app, _) = crate::webhook::app_with_number(Backend::Sqlite).await;
    let admin = app.login("admin@acme.test", PW).await;
    // two customers, two conversations
    let other = inbound("wamid.O1", "other customer").replace("4915100002222", "4915100003333");
    assert_eq!(
        crate::webhook::post(&app, &other, Some(crate::webhook::APP_SECRET)).await,
        200
    );
    assert_eq!(
        crate::webhook::post(
            &app,
            &inbound("wamid.M1", "first"),
            Some(crate::webhook::APP_SECRET)
        )
        .await,
        200
    );
    let contact = app.conversation_with("4915100002222").await.id;
    let mut ws = connect_as(&app, &admin, "graphql-transport-ws").await;
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($c:ID!){ messageAdded(conversationId:$c, after:\"0\") { cursor message { text } } }",
        "variables": {"c": contact.to_string()}}})).await;
    let replayed = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("replayed");
    assert_eq!(
        replayed["payload"]["data"]["messageAdded"]["message"]["text"], "first",
        "{replayed}"
    );
    assert_eq!(
        crate::webhook::post(
            &app,
            &other.replace("wamid.O1", "wamid.O2"),
            Some(crate::webhook::APP_SECRET)
        )
        .await,
        200
    );
    assert_eq!(
        crate::webhook::post(
            &app,
            &inbound("wamid.M2", "second"),
            Some(crate::webhook::APP_SECRET)
        )
        .await,
        200
    );
    let live = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("live");
    assert_eq!(
        live["payload"]["data"]["messageAdded"]["message"]["text"], "second",
        "only this conversation: {live}"
    );
    app.stop().await;
}

crate::backends!(resumes_with_its_cursor_without_gap_or_duplicate);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_on_one_redis_share_one_event_stream() {
    let (one, two) = crate::webhook::redis_pair("events").await;
    let admin = two.login("admin@acme.test", PW).await;
    let mut ws = connect_as(&two, &admin, "graphql-transport-ws").await;
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {"query":
        "subscription { events { __typename ... on MessageAdded { cursor message { text } } } }"}}),
    )
    .await;
    // the subscription starts asynchronously: post to daemon 1 until daemon 2's subscriber sees one
    let mut first = None;
    for i in 0..50 {
        let status = crate::webhook::post(
            &one,
            &inbound(&format!("wamid.R{i}"), &format!("hello {i}")),
            Some(crate::webhook::APP_SECRET),
        )
        .await;
        assert_eq!(status, 200);
        if let Some(msg) = next_json(&mut ws, Duration::from_millis(300)).await {
            first = Some(msg);
            break;
        }
    }
    let mut first = first.expect("an event from daemon 1 reached daemon 2's subscriber");
    while first["payload"]["data"]["events"]["__typename"] != "MessageAdded" {
        // the first message opened the conversation (and entered the queue);
        // its MessageAdded follows
        first = next_json(&mut ws, Duration::from_secs(5))
            .await
            .expect("the message after the opening");
    }
    let ev = &first["payload"]["data"]["events"];
    assert_eq!(ev["__typename"], "MessageAdded", "{first}");
    assert!(
        ev["message"]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("hello")
    );
    let mut last: i64 = ev["cursor"].as_str().expect("cursor").parse().expect("seq");
    // then every later one arrives in order, none missing, none twice
    for i in 0..20 {
        let body = inbound(&format!("wamid.S{i}"), &format!("next {i}"));
        assert_eq!(
            crate::webhook::post(&one, &body, Some(crate::webhook::APP_SECRET)).await,
            200
        );
    }
    for i in 0..20 {
        let msg = next_json(&mut ws, Duration::from_secs(5))
            .await
            .unwrap_or_else(|| panic!("event {i} missing"));
        let ev = &msg["payload"]["data"]["events"];
        let seq: i64 = ev["cursor"].as_str().expect("cursor").parse().expect("seq");
        assert_eq!(seq, last + 1, "in order without gaps: {msg}");
        assert_eq!(ev["message"]["text"], format!("next {i}"));
        last = seq;
    }
    assert!(
        two.metrics()
            .await
            .contains("switchboard_bus_events_total{direction=\"received\"}"),
        "daemon 2 counts what it received over Redis"
    );
    two.stop().await;
    one.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_sees_its_departments_and_its_conversations_only() {
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
    let (app, tenant) = crate::webhook::app_with_number(Backend::Sqlite).await;
    let admin = app.login("admin@acme.test", PW).await;
    let agent_id = app.user(tenant, "agent@acme.test", PW, Role::Agent).await;
    let mut depts = Vec::new();
    for name in ["Sales", "Support"] {
        let d = app
            .gql_ok(
                Some(&admin),
                "mutation($n:String!){ createDepartment(input:{name:$n}){ id } }",
                json!({"n": name}),
            )
            .await;
        depts.push(
            d["createDepartment"]["id"]
                .as_str()
                .expect("id")
                .parse::<i64>()
                .expect("int"),
        );
    }
    app.gql_ok(
        Some(&admin),
        "mutation($d:ID!,$u:ID!){ addDepartmentMember(departmentId:$d, userId:$u){ id } }",
        json!({"d": depts[0].to_string(), "u": agent_id.to_string()}),
    )
    .await;
    let sales_customer = inbound("wamid.D1", "to sales");
    let support_customer =
        inbound("wamid.D2", "to support").replace("4915100002222", "4915100009999");
    for body in [&sales_customer, &support_customer] {
        assert_eq!(
            crate::webhook::post(&app, body, Some(crate::webhook::APP_SECRET)).await,
            200
        );
    }
    let mut ids = Vec::new();
    for (wa, dept) in [("4915100002222", depts[0]), ("4915100009999", depts[1])] {
        let conv = app.conversation_with(wa).await;
        ids.push(conv.id);
        let mut active = entity::conversations::Entity::find_by_id(conv.id)
            .one(&app.db)
            .await
            .expect("query")
            .expect("conversation")
            .into_active_model();
        active.department_id = Set(Some(dept));
        active.update(&app.db).await.expect("route to department");
    }
    let agent = app.login("agent@acme.test", PW).await;
    let q = "query($id:ID!){ conversation(id:$id){ id } }";
    let d = app
        .gql_ok(Some(&agent), q, json!({"id": ids[0].to_string()}))
        .await;
    assert_eq!(d["conversation"]["id"], ids[0].to_string());
    let body = app
        .gql(Some(&agent), q, json!({"id": ids[1].to_string()}))
        .await;
    assert_eq!(crate::helpers::code(&body), "NOT_FOUND", "{body}");

    let mut ws = connect_as(&app, &agent, "graphql-transport-ws").await;
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query":
        "subscription { events(filter: {types: [MESSAGE_ADDED]}) { ... on MessageAdded { conversationId message { text } } } }"}}))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..5 {
        for (body, tag) in [(&support_customer, "S"), (&sales_customer, "A")] {
            let body = body
                .replace("wamid.D1", &format!("wamid.{tag}{i}"))
                .replace("wamid.D2", &format!("wamid.{tag}{i}"));
            assert_eq!(
                crate::webhook::post(&app, &body, Some(crate::webhook::APP_SECRET)).await,
                200
            );
        }
    }
    let mut seen = 0;
    while let Some(msg) = next_json(&mut ws, Duration::from_millis(700)).await {
        let ev = &msg["payload"]["data"]["events"];
        assert_eq!(
            ev["conversationId"],
            ids[0].to_string(),
            "only its department's conversation: {msg}"
        );
        seen += 1;
    }
    assert_eq!(seen, 5, "every message of its department's conversation");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_subscriptions_with_going_away() {
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.tenant_with_admin("A", "admin@a.test", PW).await;
    let admin = app.login("admin@a.test", PW).await;
    let mut ws = subscribe_events(&app, &admin, "graphql-transport-ws").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(app.stop());
    let frame = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("connection ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("a close frame within 5 s")
    .expect("with a code");
    assert_eq!(frame.code, CloseCode::Away, "1001 going away");
    assert!(frame.reason.contains("resume"), "{}", frame.reason);
    stopping.await.expect("stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_redis_never_brought_still_reaches_a_quiet_subscriber() {
    let prefix = crate::helpers::unique_prefix("quiet");
    // daemon 1 cannot reach Redis: it commits, but publishes to nobody
    let (one, _) = crate::webhook::app_with_number_and(Backend::Postgres, |s| {
        s.redis.url = Some("redis://127.0.0.1:1".to_string().into());
        s.redis.key_prefix = prefix.clone();
        s.events.quiet_check_seconds = 1;
    })
    .await;
    let two = one
        .sibling_with(|s| s.redis.url = Some(crate::helpers::redis_url().into()))
        .await;
    two.wait_ready().await;
    let admin = two.login("admin@acme.test", PW).await;
    let mut ws = connect_as(&two, &admin, "graphql-transport-ws").await;
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query":
        "subscription { events(filter: {types: [MESSAGE_ADDED]}) { ... on MessageAdded { message { text } } } }"}}))
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        crate::webhook::post(
            &one,
            &inbound("wamid.Q1", "lost on the way"),
            Some(crate::webhook::APP_SECRET)
        )
        .await,
        200
    );
    let msg = next_json(&mut ws, Duration::from_secs(10))
        .await
        .expect("read from the log after a quiet second");
    assert_eq!(
        msg["payload"]["data"]["events"]["message"]["text"], "lost on the way",
        "{msg}"
    );
    two.stop().await;
    one.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_updated_follows_a_departments_queue() {
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
    let (app, tenant) = crate::webhook::app_with_number(Backend::Sqlite).await;
    let admin = app.login("admin@acme.test", PW).await;
    let agent_id = app.user(tenant, "agent@acme.test", PW, Role::Agent).await;
    let d = app
        .gql_ok(
            Some(&admin),
            "mutation{ createDepartment(input:{name:\"Sales\"}){ id } }",
            json!({}),
        )
        .await;
    let sales = d["createDepartment"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    app.gql_ok(
        Some(&admin),
        "mutation($d:ID!,$u:ID!){ addDepartmentMember(departmentId:$d, userId:$u){ id } }",
        json!({"d": sales, "u": agent_id.to_string()}),
    )
    .await;
    assert_eq!(
        crate::webhook::post(
            &app,
            &inbound("wamid.QU1", "hello"),
            Some(crate::webhook::APP_SECRET)
        )
        .await,
        200
    );
    let conv = app.conversation_with("4915100002222").await;
    let mut active = conv.clone().into_active_model();
    active.department_id = Set(Some(sales.parse().expect("int")));
    active.update(&app.db).await.expect("route");

    let agent = app.login("agent@acme.test", PW).await;
    let mut ws = connect_as(&app, &agent, "graphql-transport-ws").await;
    send(
        &mut ws,
        json!({"id": "1", "type": "subscribe", "payload": {
        "query": "subscription($d:ID){ queueUpdated(departmentId:$d) { cursor departmentId } }",
        "variables": {"d": sales}}}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // taking the conversation out of the queue updates the queue
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!,$u:ID!){ assignConversation(id:$id, userId:$u){ id } }",
        json!({"id": conv.id.to_string(), "u": agent_id.to_string()}),
    )
    .await;
    let msg = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("queue event");
    assert_eq!(
        msg["payload"]["data"]["queueUpdated"]["departmentId"], sales,
        "{msg}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_changes_are_published() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let tenant = app.tenant_with_admin("A", "admin@a.test", PW).await;
    let agent_id = app.user(tenant, "agent@a.test", PW, Role::Agent).await;
    let admin = app.login("admin@a.test", PW).await;
    let agent = app.login("agent@a.test", PW).await;
    let mut ws = connect_as(&app, &admin, "graphql-transport-ws").await;
    send(&mut ws, json!({"id": "1", "type": "subscribe", "payload": {"query":
        "subscription { events(filter: {types: [AGENT_PRESENCE_CHANGED]}) { ... on AgentPresenceChanged { userId status capacity } } }"}}))
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let set = "mutation($s:PresenceStatus!,$c:Int){ setPresence(status:$s, capacity:$c){ status capacity } }";
    let d = app
        .gql_ok(Some(&agent), set, json!({"s": "ONLINE", "c": 3}))
        .await;
    assert_eq!(d["setPresence"], json!({"status": "ONLINE", "capacity": 3}));
    let msg = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("presence event");
    assert_eq!(
        msg["payload"]["data"]["events"],
        json!({"userId": agent_id.to_string(), "status": "online", "capacity": 3})
    );
    // capacity stays when only the status changes; a bad capacity changes nothing
    let d = app.gql_ok(Some(&agent), set, json!({"s": "AWAY"})).await;
    assert_eq!(d["setPresence"]["capacity"], 3);
    let body = app
        .gql(Some(&agent), set, json!({"s": "OFFLINE", "c": 500}))
        .await;
    assert_eq!(crate::helpers::code(&body), "BAD_USER_INPUT", "{body}");
    let msg = next_json(&mut ws, Duration::from_secs(5))
        .await
        .expect("second presence event");
    assert_eq!(msg["payload"]["data"]["events"]["status"], "away");
    assert!(
        next_json(&mut ws, Duration::from_millis(500))
            .await
            .is_none(),
        "the refused change published nothing"
    );
    app.stop().await;
}
