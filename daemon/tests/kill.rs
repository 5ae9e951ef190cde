//! The real binary killed with SIGKILL while sends are queued: after a restart
//! every queued message goes out exactly once (measured at the simulator).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::whatsapp::signature;
use switchboard::whatsapp::simulator::{SendOutcome, Simulator, SimulatorConfig};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const PHONE: &str = "106540352242922";
const SECRET: &str = "kill-test-app-secret";
const PW: &str = "a long enough password";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

fn daemon(dir: &std::path::Path, port: u16, graph: &str) -> Child {
    Command::new(BIN)
        .arg("serve")
        .current_dir(dir)
        .env("SWITCHBOARD__SERVER__PORT", port.to_string())
        .env("SWITCHBOARD__WHATSAPP__GRAPH_BASE_URL", graph)
        .env("SWITCHBOARD__WHATSAPP__REQUEST_TIMEOUT_SECONDS", "2")
        .env("SWITCHBOARD__LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn daemon")
}

async fn wait_ready(client: &reqwest::Client, base: &str) {
    let start = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "daemon not ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn gql(
    client: &reqwest::Client,
    base: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> Value {
    let mut req = client
        .post(format!("{base}/graphql"))
        .json(&json!({"query": query, "variables": vars}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let body: Value = req.send().await.expect("post").json().await.expect("json");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_sends_go_out_once_after_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--tenant",
            "Acme",
            "--email",
            "admin@acme.test",
        ])
        .current_dir(dir.path())
        .env("SWITCHBOARD_ADMIN_PASSWORD", PW)
        .env("SWITCHBOARD__LOG__LEVEL", "warn")
        .output()
        .expect("admin create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // first life: the Graph API is unreachable, so sends stay queued
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let dead = format!("http://127.0.0.1:{}", free_port());
    let mut child = daemon(dir.path(), port, &dead);
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;
    let token = gql(
        &client,
        &base,
        None,
        "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
        json!({"e": "admin@acme.test", "p": PW}),
    )
    .await["login"]["token"]
        .as_str()
        .expect("token")
        .to_string();
    gql(
        &client,
        &base,
        Some(&token),
        "mutation($p:String!,$s:String!){ addWhatsAppNumber(input:{phoneNumberId:$p, wabaId:\"1\", displayPhoneNumber:\"+1 555 0100\", accessToken:\"EAAGtoken\", appSecret:$s, verifyToken:\"v\"}){ id } }",
        json!({"p": PHONE, "s": SECRET}),
    )
    .await;
    // the customer writes in (opens the window and a conversation)
    let note = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE},
        "contacts": [{"profile": {"name": "Ann"}, "wa_id": "4915100001111"}],
        "messages": [{"from": "4915100001111", "id": "wamid.KILL1", "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": "hi"}}]}}]}]})
    .to_string();
    let res = client
        .post(format!("{base}/webhooks/whatsapp"))
        .header(
            "x-hub-signature-256",
            signature::sign(SECRET.as_bytes(), note.as_bytes()),
        )
        .body(note)
        .send()
        .await
        .expect("webhook");
    assert_eq!(res.status().as_u16(), 200);
    for i in 0..10 {
        gql(
            &client,
            &base,
            Some(&token),
            "mutation($t:String!){ sendMessage(input:{conversationId:\"1\", text:$t}){ id } }",
            json!({"t": format!("queued {i}")}),
        )
        .await;
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();

    // second life: the simulator answers; every queued send goes out once
    let sim = Simulator::start(SimulatorConfig {
        app_secret: SECRET.into(),
        access_token: Some("EAAGtoken".into()),
        enforce_window: false,
        ..Default::default()
    })
    .await
    .expect("simulator");
    // queued retries are backing off; the restart resumes them when due (at most ~2 s here)
    let port2 = free_port();
    let base2 = format!("http://127.0.0.1:{port2}");
    let mut child = daemon(dir.path(), port2, &sim.base_url());
    wait_ready(&client, &base2).await;
    let start = Instant::now();
    let texts = loop {
        let texts: Vec<String> = sim
            .sent()
            .into_iter()
            .filter(|r| r.kind == "text" && r.outcome == SendOutcome::Accepted)
            .filter_map(|r| r.body["text"]["body"].as_str().map(str::to_string))
            .collect();
        if texts.len() >= 10 || start.elapsed() > Duration::from_secs(40) {
            break texts;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = sim
        .sent()
        .into_iter()
        .filter(|r| r.kind == "text" && r.outcome == SendOutcome::Accepted)
        .count();
    let _ = child.kill();
    let _ = child.wait();
    sim.stop().await;
    let mut unique = texts.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 10, "every queued message sent: {texts:?}");
    assert_eq!(texts.len(), 10, "none sent twice: {texts:?}");
    assert_eq!(again, 10, "nothing more after the queue drained");
}
