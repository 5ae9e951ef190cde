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

async fn subscribe_events(app: &TestApp, token: &str, protocol: &str) -> Ws {
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
