//! The WhatsApp Cloud API simulator through real HTTP: sends, limits, the
//! 24 h window, validation, faults, signed status and inbound webhooks,
//! media, traffic.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use switchboard::whatsapp::simulator::limits::max_in_any_window;
use switchboard::whatsapp::simulator::media::build_multipart;
use switchboard::whatsapp::simulator::{
    Faults, InboundRequest, SendOutcome, Simulator, SimulatorConfig, StatusDelays, TrafficSpec,
};
use switchboard::whatsapp::{model, signature};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const SECRET: &str = "test-app-secret";
const TOKEN: &str = "test-token";
const PNID: &str = "106540352242922";

/// One webhook POST the receiver got.
#[derive(Debug, Clone)]
struct Delivery {
    signature_ok: bool,
    /// Whether the daemon's webhook model parses it.
    parses: bool,
    body: Value,
}

/// A minimal HTTP/1.1 server standing in for the daemon's webhook endpoint.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Delivery>>>,
    answer: Arc<AtomicU16>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!(
            "http://{}/webhooks/whatsapp",
            listener.local_addr().expect("addr")
        );
        let got = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(AtomicU16::new(200));
        let (g, a) = (Arc::clone(&got), Arc::clone(&answer));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (g, a) = (Arc::clone(&g), Arc::clone(&a));
                tokio::spawn(async move {
                    let _ = serve_connection(stream, g, a).await;
                });
            }
        });
        Self { url, got, answer }
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().expect("lock").clone()
    }

    /// Status notifications for `wamid`, in arrival order.
    fn statuses(&self, wamid: &str) -> Vec<(bool, Value)> {
        self.deliveries()
            .into_iter()
            .filter_map(|d| {
                let st = d.body["entry"][0]["changes"][0]["value"]["statuses"][0].clone();
                (st["id"] == wamid).then_some((d.signature_ok, st))
            })
            .collect()
    }

    fn messages(&self) -> Vec<(bool, Value)> {
        self.deliveries()
            .into_iter()
            .filter(|d| d.body["entry"][0]["changes"][0]["value"]["messages"].is_array())
            .map(|d| (d.signature_ok, d.body))
            .collect()
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    got: Arc<Mutex<Vec<Delivery>>>,
    answer: Arc<AtomicU16>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let mut length = 0usize;
        let mut sig = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                match k.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = v.trim().parse().unwrap_or(0),
                    "x-hub-signature-256" => sig = v.trim().to_owned(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        let signature_ok = signature::verify(SECRET.as_bytes(), &body, &sig);
        let parses = model::parse(&body).is_ok();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        got.lock().expect("lock").push(Delivery {
            signature_ok,
            parses,
            body,
        });
        let code = answer.load(Ordering::SeqCst);
        write
            .write_all(format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\n\r\n").as_bytes())
            .await?;
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

fn config(webhook: Option<&Receiver>) -> SimulatorConfig {
    SimulatorConfig {
        webhook_url: webhook.map(|r| r.url.clone()),
        app_secret: SECRET.into(),
        access_token: Some(TOKEN.into()),
        status_delays: StatusDelays {
            sent: Duration::from_millis(20),
            delivered: Duration::from_millis(40),
            read: Duration::from_millis(60),
        },
        seed: Some(42),
        ..SimulatorConfig::default()
    }
}

fn text(to: &str, body: &str) -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
           "type": "text", "text": {"body": body}})
}

fn template(to: &str) -> Value {
    json!({"messaging_product": "whatsapp", "to": to, "type": "template",
           "template": {"name": "order_update", "language": {"code": "en_US"}}})
}

async fn send(sim: &Simulator, body: &Value) -> (u16, Value) {
    let resp = client()
        .post(format!("{}/v23.0/{PNID}/messages", sim.base_url()))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

async fn eventually<F: Fn() -> bool>(what: &str, f: F) {
    for _ in 0..200 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn text_send_is_accepted_recorded_and_statuses_arrive_signed() {
    let rx = Receiver::start().await;
    let sim = Simulator::start(SimulatorConfig {
        enforce_window: false,
        ..config(Some(&rx))
    })
    .await
    .expect("start");
    let health: Value = client()
        .get(format!("{}/_sim/health", sim.base_url()))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(health["status"], "ok");

    let (status, body) = send(&sim, &text("+1 650-555-1234", "hello")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["messaging_product"], "whatsapp");
    assert_eq!(body["contacts"][0]["input"], "+1 650-555-1234");
    assert_eq!(body["contacts"][0]["wa_id"], "16505551234");
    assert_eq!(body["messages"][0]["message_status"], "accepted");
    let wamid = body["messages"][0]["id"]
        .as_str()
        .expect("wamid")
        .to_owned();
    assert!(wamid.starts_with("wamid."));

    let sent: Vec<Value> = client()
        .get(format!("{}/_sim/sent", sim.base_url()))
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["outcome"], "accepted");
    assert_eq!(sent[0]["kind"], "text");
    assert_eq!(sent[0]["wamid"], wamid.as_str());
    assert_eq!(sent[0]["body"]["text"]["body"], "hello");
    assert!(sent[0]["at_ms"].as_u64().is_some());

    eventually("three statuses", || rx.statuses(&wamid).len() == 3).await;
    let statuses = rx.statuses(&wamid);
    let names: Vec<&str> = statuses
        .iter()
        .map(|(_, s)| s["status"].as_str().expect("status"))
        .collect();
    assert_eq!(names, ["sent", "delivered", "read"]);
    for (signature_ok, st) in &statuses {
        assert!(signature_ok, "bad signature");
        assert!(st["timestamp"].as_str().expect("ts").parse::<i64>().is_ok());
        assert_eq!(st["recipient_id"], "16505551234");
        assert!(st["conversation"]["id"].is_string());
        assert_eq!(st["conversation"]["origin"]["type"], "service");
        assert_eq!(
            st["pricing"],
            json!({"billable": true, "pricing_model": "PMP", "category": "service", "type": "regular"})
        );
    }
    let whole = &rx.deliveries()[0].body;
    assert_eq!(whole["object"], "whatsapp_business_account");
    assert_eq!(whole["entry"][0]["id"], format!("WABA_{PNID}"));
    assert_eq!(whole["entry"][0]["changes"][0]["field"], "messages");
    let value = &whole["entry"][0]["changes"][0]["value"];
    assert_eq!(value["messaging_product"], "whatsapp");
    assert_eq!(value["metadata"]["phone_number_id"], PNID);
    assert!(value["metadata"]["display_phone_number"].is_string());
    eventually("webhook records", || sim.webhooks().len() == 3).await;
    assert!(sim.webhooks().iter().all(|w| w.http_status == Some(200)));

    // No or wrong token: 401 with code 190.
    let resp = client()
        .post(format!("{}/v23.0/{PNID}/messages", sim.base_url()))
        .json(&text("16505551234", "x"))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
    let err: Value = resp.json().await.expect("json");
    assert_eq!(err["error"]["code"], 190);

    // Mark as read with a typing indicator.
    let (status, body) = send(
        &sim,
        &json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN",
                "typing_indicator": {"type": "text"}}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"success": true})));

    let cleared = client()
        .delete(format!("{}/_sim/sent", sim.base_url()))
        .send()
        .await
        .expect("delete");
    assert!(cleared.status().is_success());
    assert!(sim.sent().is_empty());
    sim.stop().await;
}

#[tokio::test]
async fn throughput_never_exceeds_the_limit_in_any_second() {
    let sim = Simulator::start(SimulatorConfig {
        enforce_window: false,
        pair_interval: Duration::ZERO,
        ..config(None)
    })
    .await
    .expect("start");
    let c = client();
    let url = format!("{}/v23.0/{PNID}/messages", sim.base_url());
    let sends = (0..200).map(|i| {
        let c = c.clone();
        let url = url.clone();
        async move {
            let resp = c
                .post(&url)
                .bearer_auth(TOKEN)
                .json(&text(&format!("1650555{i:04}"), "burst"))
                .send()
                .await
                .expect("send");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.expect("json");
            (status, body)
        }
    });
    let results = futures_util::future::join_all(sends).await;
    let accepted = results.iter().filter(|(s, _)| *s == 200).count();
    let throttled: Vec<&Value> = results
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, b)| b)
        .collect();
    assert!(accepted > 0, "nothing accepted");
    assert_eq!(accepted + throttled.len(), 200);
    assert!(!throttled.is_empty(), "200 sends should exceed 80/s");
    for b in &throttled {
        assert_eq!(b["error"]["code"], 130429);
        assert_eq!(b["error"]["type"], "OAuthException");
    }

    let records = sim.sent();
    let times: Vec<u64> = records
        .iter()
        .filter(|r| r.outcome == SendOutcome::Accepted)
        .map(|r| r.at_ms)
        .collect();
    assert_eq!(times.len(), accepted);
    assert!(max_in_any_window(&times, 1000) <= 80);
    assert_eq!(
        records
            .iter()
            .filter(|r| r.error_code == Some(130429))
            .count(),
        throttled.len()
    );

    // The window slides: a second later, sends pass again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _) = send(&sim, &text("16505550000", "later")).await;
    assert_eq!(status, 200);
    sim.stop().await;
}

#[tokio::test]
async fn pair_rate_refuses_after_the_burst() {
    let sim = Simulator::start(SimulatorConfig {
        enforce_window: false,
        pair_burst: 3,
        pair_interval: Duration::from_secs(6),
        ..config(None)
    })
    .await
    .expect("start");
    for _ in 0..3 {
        assert_eq!(send(&sim, &text("16505551234", "hi")).await.0, 200);
    }
    let (status, body) = send(&sim, &text("16505551234", "hi")).await;
    assert_eq!(status, 429);
    assert_eq!(body["error"]["code"], 131056);
    // Another user is unaffected.
    assert_eq!(send(&sim, &text("16505559999", "hi")).await.0, 200);
    sim.stop().await;
}

#[tokio::test]
async fn the_24_hour_window_gates_free_form_but_not_templates() {
    let rx = Receiver::start().await;
    let sim = Simulator::start(config(Some(&rx))).await.expect("start");
    let user = "16505551234";

    let (status, body) = send(&sim, &text(user, "hello?")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 131047);
    assert_eq!(send(&sim, &template(user)).await.0, 200);

    let answered = sim
        .inject_inbound(
            PNID,
            user,
            json!({"type": "text", "text": {"body": "hi there"}}),
        )
        .await
        .expect("inject");
    assert_eq!(answered, 200);
    assert_eq!(send(&sim, &text(user, "welcome")).await.0, 200);

    sim.set_clock_offset(chrono::Duration::hours(25));
    let (status, body) = send(&sim, &text(user, "still there?")).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], 131047);
    assert_eq!(send(&sim, &template(user)).await.0, 200);

    // Writing again reopens it.
    sim.inject_inbound(PNID, user, json!({"type": "text", "text": {"body": "yes"}}))
        .await
        .expect("inject");
    assert_eq!(send(&sim, &text(user, "great")).await.0, 200);
    sim.stop().await;
}

#[tokio::test]
async fn invalid_bodies_answer_400_code_100() {
    let sim = Simulator::start(SimulatorConfig {
        enforce_window: false,
        ..config(None)
    })
    .await
    .expect("start");
    let button = |i: usize| json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": format!("B{i}")}});
    let cases = [
        text("16505551234", &"a".repeat(4097)),
        json!({"messaging_product": "whatsapp", "to": "16505551234", "type": "interactive",
               "interactive": {"type": "button", "body": {"text": "Pick"},
                               "action": {"buttons": [button(1), button(2), button(3), button(4)]}}}),
        json!({"to": "16505551234", "type": "text", "text": {"body": "x"}}),
        json!({"messaging_product": "whatsapp", "to": "16505551234", "type": "template",
               "template": {"name": "x"}}),
        json!({"messaging_product": "whatsapp", "to": "16505551234", "type": "image", "image": {}}),
    ];
    for case in &cases {
        let (status, body) = send(&sim, case).await;
        assert_eq!(status, 400, "{case}");
        assert_eq!(body["error"]["code"], 100, "{body}");
        assert_eq!(body["error"]["message"], "(#100) Invalid parameter");
        assert!(body["error"]["error_data"]["details"].is_string());
    }
    let records = sim.sent();
    assert_eq!(records.len(), cases.len());
    assert!(
        records
            .iter()
            .all(|r| r.outcome == SendOutcome::Rejected && r.error_code == Some(100))
    );
    assert!(text("16505551234", &"a".repeat(4096)).is_object());
    assert_eq!(
        send(&sim, &text("16505551234", &"a".repeat(4096))).await.0,
        200
    );
    sim.stop().await;
}

#[tokio::test]
async fn faults_burst_429_then_recover() {
    let sim = Simulator::start(SimulatorConfig {
        enforce_window: false,
        ..config(None)
    })
    .await
    .expect("start");
    sim.set_faults(Faults {
        burst_429: 3,
        ..Faults::default()
    });
    for _ in 0..3 {
        let (status, body) = send(&sim, &text("16505551234", "x")).await;
        assert_eq!(status, 429);
        assert_eq!(body["error"]["code"], 130429);
    }
    assert_eq!(send(&sim, &text("16505551234", "x")).await.0, 200);

    // Through HTTP, with 5xx on every send.
    let resp = client()
        .post(format!("{}/_sim/faults", sim.base_url()))
        .json(&json!({"status_5xx_probability": 1.0}))
        .send()
        .await
        .expect("faults");
    assert!(resp.status().is_success());
    let (status, body) = send(&sim, &text("16505551234", "x")).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], 133004);
    sim.set_faults(Faults::default());
    assert_eq!(send(&sim, &text("16505551234", "x")).await.0, 200);
    sim.stop().await;
}

#[tokio::test]
async fn inbound_injection_reaches_the_receiver_signed() {
    let rx = Receiver::start().await;
    let sim = Simulator::start(config(Some(&rx))).await.expect("start");

    let resp: Value = client()
        .post(format!("{}/_sim/inbound", sim.base_url()))
        .json(&json!({"phone_number_id": PNID, "from": "16505551234", "profile_name": "Sheena Nelson",
                      "message": {"type": "text", "text": {"body": "Does it come in another color?"}}}))
        .send()
        .await
        .expect("inbound")
        .json()
        .await
        .expect("json");
    assert_eq!(resp["status"], 200);
    let wamid = resp["wamid"].as_str().expect("wamid");

    let messages = rx.messages();
    assert_eq!(messages.len(), 1);
    let (signature_ok, body) = &messages[0];
    assert!(signature_ok);
    let value = &body["entry"][0]["changes"][0]["value"];
    assert_eq!(value["metadata"]["phone_number_id"], PNID);
    assert_eq!(value["contacts"][0]["profile"]["name"], "Sheena Nelson");
    assert_eq!(value["contacts"][0]["wa_id"], "16505551234");
    let m = &value["messages"][0];
    assert_eq!(m["from"], "16505551234");
    assert_eq!(m["id"], wamid);
    assert_eq!(m["type"], "text");
    assert_eq!(m["text"]["body"], "Does it come in another color?");
    assert!(m["timestamp"].as_str().expect("ts").parse::<i64>().is_ok());

    // The daemon's answer is passed through (no retries for injections).
    rx.answer.store(500, Ordering::SeqCst);
    let outcome = sim
        .inject(InboundRequest {
            phone_number_id: PNID.into(),
            from: "16505551234".into(),
            profile_name: None,
            message: json!({"type": "image", "image": {"caption": "look"}}),
        })
        .await
        .expect("inject");
    assert_eq!(outcome.status, 500);
    let image = &rx.messages()[1].1["entry"][0]["changes"][0]["value"]["messages"][0]["image"];
    let media_id = image["id"].as_str().expect("placeholder media id");
    assert_eq!(image["caption"], "look");
    assert_eq!(image["mime_type"], "image/jpeg");

    // Its media is downloadable the Graph way.
    let meta: Value = client()
        .get(format!("{}/v23.0/{media_id}", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("media")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["sha256"], image["sha256"]);
    sim.stop().await;
}

#[tokio::test]
async fn media_upload_lookup_and_download() {
    let sim = Simulator::start(config(None)).await.expect("start");
    let c = client();
    let data = b"\x89PNG\r\n\x1a\nnot really a png".to_vec();
    let (content_type, body) = build_multipart(
        "sb-test-boundary",
        &[("messaging_product", "whatsapp"), ("type", "image/png")],
        Some(("a.png", "image/png", &data)),
    );
    let resp = c
        .post(format!("{}/v23.0/{PNID}/media", sim.base_url()))
        .bearer_auth(TOKEN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 200);
    let id = resp.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let meta: Value = c
        .get(format!("{}/v23.0/{id}", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["id"], id.as_str());
    assert_eq!(meta["mime_type"], "image/png");
    assert_eq!(meta["file_size"], data.len());
    assert_eq!(meta["messaging_product"], "whatsapp");
    let url = meta["url"].as_str().expect("url");
    assert!(url.starts_with(&sim.base_url()));

    let unauthorised = c.get(url).send().await.expect("download");
    assert_eq!(unauthorised.status().as_u16(), 401);
    let bytes = c
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(&bytes[..], &data[..]);

    let missing = c
        .get(format!("{}/v23.0/999", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get");
    assert_eq!(missing.status().as_u16(), 400);

    // Registering media for inbound messages.
    let reg: Value = c
        .post(format!("{}/_sim/media", sim.base_url()))
        .json(&json!({"mime_type": "text/plain", "data": "aGVsbG8="}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    let id = reg["id"].as_str().expect("id");
    let meta: Value = c
        .get(format!("{}/v23.0/{id}", sim.base_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["file_size"], 5);
    sim.stop().await;
}

#[tokio::test]
async fn status_chaos_failures_reordering_duplicates() {
    let rx = Receiver::start().await;
    let sim = Simulator::start(SimulatorConfig {
        enforce_window: false,
        fail_probability: 1.0,
        ..config(Some(&rx))
    })
    .await
    .expect("start");
    let (_, body) = send(&sim, &text("16505551234", "doomed")).await;
    let wamid = body["messages"][0]["id"]
        .as_str()
        .expect("wamid")
        .to_owned();
    eventually("sent + failed", || rx.statuses(&wamid).len() == 2).await;
    let st = rx.statuses(&wamid);
    assert_eq!(st[0].1["status"], "sent");
    assert_eq!(st[1].1["status"], "failed");
    assert_eq!(st[1].1["errors"][0]["code"], 131026);
    assert!(st[1].1["errors"][0]["error_data"]["details"].is_string());
    sim.stop().await;

    // Same seed, same wamids: a fresh receiver.
    let rx = Receiver::start().await;
    let sim = Simulator::start(SimulatorConfig {
        enforce_window: false,
        reorder_probability: 1.0,
        duplicate_probability: 1.0,
        ..config(Some(&rx))
    })
    .await
    .expect("start");
    let (_, body) = send(&sim, &text("16505551234", "chaos")).await;
    let wamid = body["messages"][0]["id"]
        .as_str()
        .expect("wamid")
        .to_owned();
    eventually("six statuses", || rx.statuses(&wamid).len() == 6).await;
    let st = rx.statuses(&wamid);
    assert!(st.iter().all(|(ok, _)| *ok));
    assert!(rx.deliveries().iter().all(|d| d.parses));
    let order: Vec<&str> = st
        .iter()
        .map(|(_, s)| s["status"].as_str().expect("status"))
        .collect();
    let first_read = order.iter().position(|s| *s == "read").expect("read");
    let first_delivered = order
        .iter()
        .position(|s| *s == "delivered")
        .expect("delivered");
    assert!(first_read < first_delivered, "{order:?}");
    for s in ["sent", "delivered", "read"] {
        assert_eq!(order.iter().filter(|o| **o == s).count(), 2, "{order:?}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn traffic_generates_signed_inbound_of_many_types() {
    let rx = Receiver::start().await;
    let sim = Simulator::start(config(Some(&rx))).await.expect("start");
    let resp = client()
        .post(format!("{}/_sim/traffic", sim.base_url()))
        .json(&TrafficSpec {
            phone_number_id: PNID.into(),
            rate_per_second: 100.0,
            duration_seconds: 1.0,
            contacts: 5,
            kinds: None,
        })
        .send()
        .await
        .expect("traffic");
    assert_eq!(resp.status().as_u16(), 202);
    eventually("100 inbound messages", || rx.messages().len() == 100).await;
    let messages = rx.messages();
    assert!(messages.iter().all(|(ok, _)| *ok));
    // Every generated shape is one the daemon's webhook model understands.
    let unparsed: Vec<Value> = rx
        .deliveries()
        .into_iter()
        .filter(|d| !d.parses)
        .map(|d| d.body)
        .collect();
    assert!(unparsed.is_empty(), "{unparsed:#?}");
    let mut types: Vec<String> = messages
        .iter()
        .map(|(_, b)| {
            b["entry"][0]["changes"][0]["value"]["messages"][0]["type"]
                .as_str()
                .expect("type")
                .to_owned()
        })
        .collect();
    types.sort();
    types.dedup();
    assert!(types.len() >= 8, "{types:?}");
    // Those users may now get free-form replies.
    let from = messages[0].1["entry"][0]["changes"][0]["value"]["messages"][0]["from"]
        .as_str()
        .expect("from")
        .to_owned();
    assert_eq!(send(&sim, &text(&from, "thanks for writing")).await.0, 200);
    sim.stop().await;
}

#[test]
fn starts_inside_an_actix_system() {
    actix_web::rt::System::new().block_on(async {
        let sim = Simulator::start(config(None)).await.expect("start");
        let health: Value = client()
            .get(format!("{}/_sim/health", sim.base_url()))
            .send()
            .await
            .expect("health")
            .json()
            .await
            .expect("json");
        assert_eq!(health["status"], "ok");
        assert_ne!(sim.port(), 0);
        sim.stop().await;
    });
}
