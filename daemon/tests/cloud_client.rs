//! The Cloud API client against the WhatsApp simulator over real HTTP:
//! sends of every type, local validation, error classification (auth, 429,
//! 5xx, timeouts, the 24 h window), mark-as-read and media round trips.

use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use sha2::{Digest, Sha256};
use switchboard::whatsapp::client::{
    CloudClient, ListRow, ListSection, MediaRef, OutgoingContent, OutgoingMessage, ReplyButton,
    SendError, TemplateComponent,
};
use switchboard::whatsapp::errors::CloudErrorCode;
use switchboard::whatsapp::simulator::{Faults, SendOutcome, Simulator, SimulatorConfig};

const TOKEN: &str = "tok";
const PNID: &str = "106540352242922";
const USER: &str = "16505551234";
const VERSION: &str = "v23.0";

async fn simulator(enforce_window: bool) -> Simulator {
    Simulator::start(SimulatorConfig {
        enforce_window,
        access_token: Some(TOKEN.into()),
        seed: Some(7),
        ..Default::default()
    })
    .await
    .expect("simulator starts")
}

fn client(sim: &Simulator, timeout: Duration) -> CloudClient {
    CloudClient::new(&sim.base_url(), VERSION, timeout).expect("client")
}

fn token() -> SecretString {
    SecretString::from(TOKEN)
}

fn all_contents(media_id: &str) -> Vec<OutgoingContent> {
    vec![
        OutgoingContent::Text {
            body: "hello https://example.com".into(),
            preview_url: true,
        },
        OutgoingContent::Image(MediaRef::id(media_id).with_caption("a picture")),
        OutgoingContent::Video(MediaRef::link("https://files.example/v.mp4")),
        OutgoingContent::Audio(MediaRef::id(media_id)),
        OutgoingContent::Document(
            MediaRef::link("https://files.example/invoice.pdf").with_filename("invoice.pdf"),
        ),
        OutgoingContent::Sticker(MediaRef::id(media_id)),
        OutgoingContent::Template {
            name: "order_update".into(),
            language: "en_US".into(),
            components: vec![
                TemplateComponent::header(vec![json!({"type": "text", "text": "Order 42"})]),
                TemplateComponent::body(vec![json!({"type": "text", "text": "Ann"})]),
                TemplateComponent::button(
                    "quick_reply",
                    0,
                    vec![json!({"type": "payload", "payload": "STOP"})],
                ),
            ],
        },
        OutgoingContent::Buttons {
            header: Some("Order 42".into()),
            body: "Confirm the delivery?".into(),
            footer: Some("Reply below".into()),
            buttons: vec![
                ReplyButton {
                    id: "yes".into(),
                    title: "Yes".into(),
                },
                ReplyButton {
                    id: "no".into(),
                    title: "No".into(),
                },
            ],
        },
        OutgoingContent::List {
            header: Some("Menu".into()),
            body: "What would you like?".into(),
            footer: None,
            button: "Choose".into(),
            sections: vec![
                ListSection {
                    title: Some("Food".into()),
                    rows: vec![ListRow {
                        id: "pizza".into(),
                        title: "Pizza".into(),
                        description: Some("With cheese".into()),
                    }],
                },
                ListSection {
                    title: Some("Drinks".into()),
                    rows: vec![ListRow {
                        id: "tea".into(),
                        title: "Tea".into(),
                        description: None,
                    }],
                },
            ],
        },
        OutgoingContent::Reaction {
            message_id: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=".into(),
            emoji: "👍".into(),
        },
        OutgoingContent::Location {
            latitude: 48.8584,
            longitude: 2.2945,
            name: Some("Eiffel Tower".into()),
            address: Some("Champ de Mars, Paris".into()),
        },
    ]
}

#[tokio::test]
async fn text_send_is_accepted_and_recorded() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    let msg = OutgoingMessage::text(USER, "hello").replying_to("wamid.IN");
    let accepted = c.send(PNID, &token(), &msg).await.expect("accepted");
    assert!(accepted.wamid.starts_with("wamid."), "{accepted:?}");
    assert_eq!(accepted.wa_id.as_deref(), Some(USER));
    assert_eq!(accepted.message_status.as_deref(), Some("accepted"));

    let sent = sim.sent();
    assert_eq!(sent.len(), 1);
    let rec = &sent[0];
    assert_eq!(rec.outcome, SendOutcome::Accepted);
    assert_eq!(rec.wamid.as_deref(), Some(accepted.wamid.as_str()));
    assert_eq!(rec.phone_number_id, PNID);
    assert_eq!(rec.kind, "text");
    assert_eq!(rec.body, msg.to_json());
    assert_eq!(rec.body["context"]["message_id"], "wamid.IN");
}

#[tokio::test]
async fn every_content_type_is_accepted() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    let media_id = sim.register_media("image/png", b"\x89PNG fake".to_vec());
    let contents = all_contents(&media_id);
    let count = contents.len();
    for content in contents {
        let msg = OutgoingMessage::new(USER, content);
        let kind = msg.kind();
        match c.send(PNID, &token(), &msg).await {
            Ok(a) => assert!(!a.wamid.is_empty()),
            Err(e) => panic!("{kind} refused: {e}"),
        }
        let rec = sim.sent().pop().expect("recorded");
        assert_eq!(rec.kind, kind);
        assert_eq!(rec.outcome, SendOutcome::Accepted, "{kind}: {rec:?}");
    }
    assert_eq!(sim.sent().len(), count);
}

#[tokio::test]
async fn invalid_messages_never_reach_the_api() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    let too_long = OutgoingMessage::text(USER, "a".repeat(4097));
    let e = c
        .send(PNID, &token(), &too_long)
        .await
        .expect_err("refused");
    assert!(
        matches!(&e, SendError::Invalid(d) if d.contains("4096")),
        "{e:?}"
    );
    assert!(!e.retryable());
    assert_eq!(e.code(), None);

    let four_buttons = OutgoingMessage::new(
        USER,
        OutgoingContent::Buttons {
            header: None,
            body: "Pick".into(),
            footer: None,
            buttons: ["a", "b", "c", "d"]
                .iter()
                .map(|id| ReplyButton {
                    id: (*id).into(),
                    title: id.to_uppercase(),
                })
                .collect(),
        },
    );
    assert!(matches!(
        c.send(PNID, &token(), &four_buttons).await,
        Err(SendError::Invalid(_))
    ));
    let caption_on_audio = OutgoingMessage::new(
        USER,
        OutgoingContent::Audio(MediaRef::id("1").with_caption("no")),
    );
    assert!(matches!(
        c.send(PNID, &token(), &caption_on_audio).await,
        Err(SendError::Invalid(_))
    ));
    assert!(matches!(
        c.send(
            PNID,
            &SecretString::from(""),
            &OutgoingMessage::text(USER, "hi")
        )
        .await,
        Err(SendError::Invalid(_))
    ));
    assert!(sim.sent().is_empty(), "{:?}", sim.sent());
}

#[tokio::test]
async fn wrong_token_is_190_and_final() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    let wrong = SecretString::from("wrong-secret-token");
    let e = c
        .send(PNID, &wrong, &OutgoingMessage::text(USER, "hi"))
        .await
        .expect_err("refused");
    assert!(
        matches!(
            &e,
            SendError::Api {
                status: 401,
                code: CloudErrorCode::AccessTokenExpired,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), Some(190));
    assert!(!e.retryable());
    assert!(!e.to_string().contains("wrong-secret-token"));
    assert!(!format!("{c:?}").contains(TOKEN));
}

#[tokio::test]
async fn throughput_burst_is_retryable() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    sim.set_faults(Faults {
        burst_429: 1,
        ..Faults::default()
    });
    let msg = OutgoingMessage::text(USER, "hi");
    let e = c.send(PNID, &token(), &msg).await.expect_err("429");
    assert!(
        matches!(
            &e,
            SendError::Api {
                status: 429,
                code: CloudErrorCode::Throughput,
                subcode: Some(_),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), Some(130429));
    assert!(e.retryable());
    // the burst is over
    c.send(PNID, &token(), &msg)
        .await
        .expect("accepted after the burst");
}

#[tokio::test]
async fn server_errors_are_retryable() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    sim.set_faults(Faults {
        status_5xx_probability: 1.0,
        ..Faults::default()
    });
    let e = c
        .send(PNID, &token(), &OutgoingMessage::text(USER, "hi"))
        .await
        .expect_err("503");
    assert!(
        matches!(
            &e,
            SendError::Api {
                status: 503,
                code: CloudErrorCode::TemporarilyUnavailable,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.retryable());
}

#[tokio::test]
async fn slow_answers_time_out() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_millis(300));
    sim.set_faults(Faults {
        slow_ms: 2_000,
        ..Faults::default()
    });
    let started = Instant::now();
    let e = c
        .send(PNID, &token(), &OutgoingMessage::text(USER, "hi"))
        .await
        .expect_err("timeout");
    assert_eq!(e, SendError::Timeout);
    assert!(e.retryable());
    assert!(started.elapsed() < Duration::from_millis(1_500));
}

#[tokio::test]
async fn unreachable_api_is_a_retryable_transport_error() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let c = CloudClient::new(
        &format!("http://127.0.0.1:{port}"),
        VERSION,
        Duration::from_secs(2),
    )
    .expect("client");
    let e = c
        .send(PNID, &token(), &OutgoingMessage::text(USER, "hi"))
        .await
        .expect_err("refused");
    assert!(matches!(e, SendError::Transport(_)), "{e:?}");
    assert!(e.retryable());
}

#[tokio::test]
async fn closed_window_is_131047_and_final() {
    let sim = simulator(true).await;
    let c = client(&sim, Duration::from_secs(5));
    let e = c
        .send(PNID, &token(), &OutgoingMessage::text(USER, "hi"))
        .await
        .expect_err("window closed");
    assert!(
        matches!(
            &e,
            SendError::Api {
                status: 400,
                code: CloudErrorCode::ReEngagement,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.code(), Some(131047));
    assert!(!e.retryable());
    // templates pass outside the window
    let template = OutgoingMessage::new(
        USER,
        OutgoingContent::Template {
            name: "hello_world".into(),
            language: "en_US".into(),
            components: vec![],
        },
    );
    c.send(PNID, &token(), &template)
        .await
        .expect("template accepted");
}

#[tokio::test]
async fn mark_read_with_typing_indicator() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    c.mark_read(PNID, &token(), "wamid.IN1", true)
        .await
        .expect("marked read");
    c.mark_read(PNID, &token(), "wamid.IN2", false)
        .await
        .expect("marked read");
    let sent = sim.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].kind, "mark_read");
    assert_eq!(
        sent[0].body,
        json!({"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1",
               "typing_indicator": {"type": "text"}})
    );
    assert!(sent[1].body.get("typing_indicator").is_none());
    assert!(matches!(
        c.mark_read(PNID, &token(), "", false).await,
        Err(SendError::Invalid(_))
    ));
}

#[tokio::test]
async fn media_round_trip() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let id = c
        .upload_media(
            PNID,
            &token(),
            "application/pdf",
            "report \"Q3\".pdf",
            data.clone(),
        )
        .await
        .expect("uploaded");
    assert!(!id.is_empty());

    let info = c.media_info(&token(), &id).await.expect("info");
    assert_eq!(info.id, id);
    assert_eq!(info.mime_type, "application/pdf");
    assert_eq!(info.file_size, data.len() as u64);
    assert_eq!(info.sha256, hex::encode(Sha256::digest(&data)));
    assert!(info.url.starts_with(&sim.base_url()), "{}", info.url);

    let got = c
        .download_media(&token(), &info, 1024 * 1024)
        .await
        .expect("downloaded");
    assert_eq!(got, data);

    // upper-case checksum still matches
    let mut upper = info.clone();
    upper.sha256 = upper.sha256.to_uppercase();
    assert_eq!(
        c.download_media(&token(), &upper, 1024 * 1024)
            .await
            .expect("downloaded"),
        data
    );

    // more than max_bytes
    let e = c
        .download_media(&token(), &info, 1000)
        .await
        .expect_err("too big");
    assert!(matches!(e, SendError::Media(_)), "{e:?}");
    assert!(!e.retryable());

    // more than the announced size (checked while streaming)
    let mut smaller = info.clone();
    smaller.file_size = 10;
    assert!(matches!(
        c.download_media(&token(), &smaller, 1024 * 1024).await,
        Err(SendError::Media(_))
    ));

    // wrong checksum
    let mut tampered = info.clone();
    tampered.sha256 = hex::encode(Sha256::digest(b"something else"));
    let e = c
        .download_media(&token(), &tampered, 1024 * 1024)
        .await
        .expect_err("checksum");
    assert!(
        matches!(&e, SendError::Media(d) if d.contains("sha256")),
        "{e:?}"
    );

    // the download URL needs the token too
    let e = c
        .download_media(&SecretString::from("nope"), &info, 1024 * 1024)
        .await
        .expect_err("unauthorized");
    assert_eq!(e.code(), Some(190));

    // an unknown media id
    let e = c
        .media_info(&token(), "999999999")
        .await
        .expect_err("unknown");
    assert!(matches!(e, SendError::Api { status: 400, .. }), "{e:?}");
    assert_eq!(e.code(), Some(100));

    // uploaded media can be sent by id
    let doc = OutgoingMessage::new(
        USER,
        OutgoingContent::Document(MediaRef::id(&id).with_filename("report.pdf")),
    );
    c.send(PNID, &token(), &doc).await.expect("sent");
}

#[tokio::test]
async fn uploads_are_checked_locally() {
    let sim = simulator(false).await;
    let c = client(&sim, Duration::from_secs(5));
    let e = c
        .upload_media(
            PNID,
            &token(),
            "image/jpeg",
            "a.jpg",
            vec![0; 5 * 1024 * 1024 + 1],
        )
        .await
        .expect_err("too big");
    assert!(
        matches!(&e, SendError::Media(d) if d.contains("image/jpeg")),
        "{e:?}"
    );
    assert!(matches!(
        c.upload_media(PNID, &token(), "image/png", "a.png", Vec::new())
            .await,
        Err(SendError::Media(_))
    ));
    assert!(matches!(
        c.upload_media(PNID, &token(), "png", "a.png", vec![1])
            .await,
        Err(SendError::Invalid(_))
    ));
    // a sticker-sized webp goes through, with its media info
    let webp = vec![7u8; 1000];
    let id = c
        .upload_media(PNID, &token(), "image/webp", "s.webp", webp.clone())
        .await
        .expect("uploaded");
    let info = c.media_info(&token(), &id).await.expect("info");
    assert_eq!(info.mime_type, "image/webp");
    assert_eq!(
        c.download_media(&token(), &info, 1000)
            .await
            .expect("exact cap"),
        webp
    );
}
