use super::*;
use serde_json::json;

const TO: &str = "16505551234";

fn msg(content: OutgoingContent) -> OutgoingMessage {
    OutgoingMessage::new(TO, content)
}

fn err(m: &OutgoingMessage) -> String {
    match m.validate() {
        Err(e) => e,
        Ok(()) => panic!("expected invalid: {m:?}"),
    }
}

fn ok(m: &OutgoingMessage) {
    if let Err(e) = m.validate() {
        panic!("expected valid, got {e:?}: {m:?}");
    }
}

fn text(body: String) -> OutgoingMessage {
    OutgoingMessage::text(TO, body)
}

fn buttons(list: &[(&str, &str)]) -> OutgoingContent {
    OutgoingContent::Buttons {
        header: None,
        body: "Pick one".into(),
        footer: None,
        buttons: list
            .iter()
            .map(|(id, title)| ReplyButton {
                id: (*id).into(),
                title: (*title).into(),
            })
            .collect(),
    }
}

fn rows(prefix: &str, n: usize) -> Vec<ListRow> {
    (0..n)
        .map(|i| ListRow {
            id: format!("{prefix}{i}"),
            title: format!("Row {i}"),
            description: None,
        })
        .collect()
}

fn section(title: Option<&str>, rows: Vec<ListRow>) -> ListSection {
    ListSection {
        title: title.map(str::to_owned),
        rows,
    }
}

fn list(sections: Vec<ListSection>) -> OutgoingContent {
    OutgoingContent::List {
        header: None,
        body: "Menu".into(),
        footer: None,
        button: "Choose".into(),
        sections,
    }
}

// ---- validation --------------------------------------------------------------

#[test]
fn text_body_limits() {
    ok(&text("a".into()));
    ok(&text("é".repeat(TEXT_MAX)));
    assert!(err(&text("a".repeat(TEXT_MAX + 1))).contains("text.body must be at most 4096"));
    assert!(err(&text(String::new())).contains("text.body must not be empty"));
    assert!(err(&text("  \n".into())).contains("text.body"));
}

#[test]
fn envelope_fields() {
    assert!(err(&OutgoingMessage::text("", "hi")).contains("to"));
    assert!(err(&OutgoingMessage::text(TO, "hi").replying_to(" ")).contains("reply_to"));
    ok(&OutgoingMessage::text(TO, "hi").replying_to("wamid.X"));
    let mut m = OutgoingMessage::text(TO, "hi");
    m.biz_opaque_callback_data = Some("x".repeat(BIZ_OPAQUE_MAX));
    ok(&m);
    m.biz_opaque_callback_data = Some("x".repeat(BIZ_OPAQUE_MAX + 1));
    assert!(err(&m).contains("biz_opaque_callback_data must be at most 512"));
}

#[test]
fn media_id_or_link() {
    ok(&msg(OutgoingContent::Image(MediaRef::id("123"))));
    ok(&msg(OutgoingContent::Video(MediaRef::link(
        "https://x.example/v.mp4",
    ))));
    assert!(
        err(&msg(OutgoingContent::Image(MediaRef::default())))
            .contains("one of image.id or image.link")
    );
    let both = MediaRef {
        id: Some("1".into()),
        link: Some("https://x.example/a.png".into()),
        ..MediaRef::default()
    };
    assert!(err(&msg(OutgoingContent::Image(both))).contains("only one of"));
    assert!(
        err(&msg(OutgoingContent::Audio(MediaRef::link(
            "ftp://x/a.ogg"
        ))))
        .contains("audio.link")
    );
    assert!(err(&msg(OutgoingContent::Audio(MediaRef::link("not a url")))).contains("audio.link"));
    assert!(err(&msg(OutgoingContent::Image(MediaRef::id(" ")))).contains("image.id"));
}

#[test]
fn media_caption_and_filename() {
    let cap = |n: usize| MediaRef::id("1").with_caption("c".repeat(n));
    ok(&msg(OutgoingContent::Image(cap(CAPTION_MAX))));
    ok(&msg(OutgoingContent::Video(cap(CAPTION_MAX))));
    ok(&msg(OutgoingContent::Document(cap(CAPTION_MAX))));
    assert!(
        err(&msg(OutgoingContent::Image(cap(CAPTION_MAX + 1))))
            .contains("image.caption must be at most 1024")
    );
    assert!(err(&msg(OutgoingContent::Audio(cap(1)))).contains("audio.caption is not allowed"));
    assert!(err(&msg(OutgoingContent::Sticker(cap(1)))).contains("sticker.caption is not allowed"));
    ok(&msg(OutgoingContent::Document(
        MediaRef::id("1").with_filename("a.pdf"),
    )));
    assert!(
        err(&msg(OutgoingContent::Image(
            MediaRef::id("1").with_filename("a.png")
        )))
        .contains("only allowed for documents")
    );
    assert!(
        err(&msg(OutgoingContent::Document(
            MediaRef::id("1").with_filename("")
        )))
        .contains("document.filename")
    );
}

#[test]
fn template_rules() {
    let t = |components: Vec<TemplateComponent>| {
        msg(OutgoingContent::Template {
            name: "order_update".into(),
            language: "en_US".into(),
            components,
        })
    };
    ok(&t(vec![]));
    ok(&t(vec![
        TemplateComponent::header(vec![json!({"type": "text", "text": "A"})]),
        TemplateComponent::body(vec![json!({"type": "text", "text": "B"})]),
        TemplateComponent::button(
            "quick_reply",
            0,
            vec![json!({"type": "payload", "payload": "P"})],
        ),
        TemplateComponent::button(
            "url",
            TEMPLATE_BUTTON_INDEX_MAX,
            vec![json!({"type": "text", "text": "x"})],
        ),
    ]));
    let mut no_name = t(vec![]);
    if let OutgoingContent::Template { name, .. } = &mut no_name.content {
        name.clear();
    }
    assert!(err(&no_name).contains("template.name"));
    let mut long_name = t(vec![]);
    if let OutgoingContent::Template { name, .. } = &mut long_name.content {
        *name = "n".repeat(TEMPLATE_NAME_MAX + 1);
    }
    assert!(err(&long_name).contains("template.name must be at most 512"));
    let mut no_lang = t(vec![]);
    if let OutgoingContent::Template { language, .. } = &mut no_lang.content {
        language.clear();
    }
    assert!(err(&no_lang).contains("template.language"));
    assert!(
        err(&t(vec![TemplateComponent::button(
            "url",
            TEMPLATE_BUTTON_INDEX_MAX + 1,
            vec![]
        )]))
        .contains("index must be between 0 and 9")
    );
    let mut no_sub = TemplateComponent::button("quick_reply", 0, vec![]);
    no_sub.sub_type = None;
    assert!(err(&t(vec![no_sub])).contains("sub_type is required"));
    let mut no_index = TemplateComponent::button("quick_reply", 0, vec![]);
    no_index.index = None;
    assert!(err(&t(vec![no_index])).contains("index is required"));
    assert!(
        err(&t(vec![
            TemplateComponent::button("quick_reply", 1, vec![]),
            TemplateComponent::button("quick_reply", 1, vec![]),
        ]))
        .contains("used twice")
    );
    assert!(
        err(&t(vec![
            TemplateComponent::body(vec![]),
            TemplateComponent::body(vec![])
        ]))
        .contains("only one body")
    );
    let mut body_with_index = TemplateComponent::body(vec![]);
    body_with_index.index = Some(0);
    assert!(err(&t(vec![body_with_index])).contains("only allowed on button"));
    assert!(
        err(&t(vec![TemplateComponent::body(vec![json!("bare")])]))
            .contains("template.components[0].parameters[0]")
    );
}

#[test]
fn button_limits() {
    ok(&msg(buttons(&[("a", "A")])));
    ok(&msg(buttons(&[("a", "A"), ("b", "B"), ("c", "C")])));
    assert!(err(&msg(buttons(&[]))).contains("1 to 3 buttons (got 0)"));
    assert!(
        err(&msg(buttons(&[
            ("a", "A"),
            ("b", "B"),
            ("c", "C"),
            ("d", "D")
        ])))
        .contains("1 to 3 buttons (got 4)")
    );
    let t20 = "t".repeat(BUTTON_TITLE_MAX);
    let t21 = "t".repeat(BUTTON_TITLE_MAX + 1);
    ok(&msg(buttons(&[("a", &t20)])));
    assert!(
        err(&msg(buttons(&[("a", &t21)]))).contains("buttons.buttons[0].title must be at most 20")
    );
    assert!(
        err(&msg(buttons(&[("a", "")]))).contains("buttons.buttons[0].title must not be empty")
    );
    let id256 = "i".repeat(BUTTON_ID_MAX);
    let id257 = "i".repeat(BUTTON_ID_MAX + 1);
    ok(&msg(buttons(&[(&id256, "A")])));
    assert!(
        err(&msg(buttons(&[(&id257, "A")]))).contains("buttons.buttons[0].id must be at most 256")
    );
    assert!(err(&msg(buttons(&[("a", "A"), ("a", "B")]))).contains("buttons.buttons[1].id"));
    assert!(err(&msg(buttons(&[("a", "A"), ("b", "A")]))).contains("buttons.buttons[1].title"));

    let with = |header: Option<String>, body: String, footer: Option<String>| {
        msg(OutgoingContent::Buttons {
            header,
            body,
            footer,
            buttons: vec![ReplyButton {
                id: "a".into(),
                title: "A".into(),
            }],
        })
    };
    ok(&with(
        Some("h".repeat(HEADER_MAX)),
        "b".repeat(INTERACTIVE_BODY_MAX),
        Some("f".repeat(FOOTER_MAX)),
    ));
    assert!(
        err(&with(None, "b".repeat(INTERACTIVE_BODY_MAX + 1), None))
            .contains("buttons.body must be at most 1024")
    );
    assert!(err(&with(None, String::new(), None)).contains("buttons.body must not be empty"));
    assert!(
        err(&with(Some("h".repeat(HEADER_MAX + 1)), "b".into(), None))
            .contains("buttons.header must be at most 60")
    );
    assert!(
        err(&with(None, "b".into(), Some("f".repeat(FOOTER_MAX + 1))))
            .contains("buttons.footer must be at most 60")
    );
}

#[test]
fn list_limits() {
    ok(&msg(list(vec![section(None, rows("a", 1))])));
    ok(&msg(list(vec![section(Some("S"), rows("a", ROWS_MAX))])));
    assert!(
        err(&msg(list(vec![section(
            Some("S"),
            rows("a", ROWS_MAX + 1)
        )])))
        .contains("at most 10 rows in total (got 11)")
    );
    assert!(
        err(&msg(list(vec![
            section(Some("S1"), rows("a", 6)),
            section(Some("S2"), rows("b", 5)),
        ])))
        .contains("at most 10 rows in total")
    );
    let ten: Vec<ListSection> = (0..SECTIONS_MAX)
        .map(|i| section(Some(&format!("S{i}")), rows(&format!("s{i}-"), 1)))
        .collect();
    ok(&msg(list(ten.clone())));
    let mut eleven = ten;
    eleven.push(section(Some("S10"), rows("x", 1)));
    assert!(err(&msg(list(eleven))).contains("1 to 10 sections (got 11)"));
    assert!(err(&msg(list(vec![]))).contains("1 to 10 sections (got 0)"));
    assert!(
        err(&msg(list(vec![section(Some("S"), vec![])])))
            .contains("list.sections[0].rows must hold at least 1")
    );
    assert!(
        err(&msg(list(vec![
            section(None, rows("a", 1)),
            section(Some("S2"), rows("b", 1))
        ])))
        .contains("list.sections[0].title is required when there is more than one section")
    );
    let t24 = "t".repeat(SECTION_TITLE_MAX);
    ok(&msg(list(vec![section(Some(&t24), rows("a", 1))])));
    let t25 = "t".repeat(SECTION_TITLE_MAX + 1);
    assert!(
        err(&msg(list(vec![section(Some(&t25), rows("a", 1))])))
            .contains("list.sections[0].title must be at most 24")
    );

    let row = |id: String, title: String, description: Option<String>| {
        msg(list(vec![section(
            None,
            vec![ListRow {
                id,
                title,
                description,
            }],
        )]))
    };
    ok(&row(
        "i".repeat(ROW_ID_MAX),
        "t".repeat(ROW_TITLE_MAX),
        Some("d".repeat(ROW_DESCRIPTION_MAX)),
    ));
    assert!(
        err(&row("i".repeat(ROW_ID_MAX + 1), "t".into(), None))
            .contains("rows[0].id must be at most 200")
    );
    assert!(
        err(&row("i".into(), "t".repeat(ROW_TITLE_MAX + 1), None))
            .contains("rows[0].title must be at most 24")
    );
    assert!(err(&row("i".into(), String::new(), None)).contains("rows[0].title must not be empty"));
    assert!(
        err(&row(
            "i".into(),
            "t".into(),
            Some("d".repeat(ROW_DESCRIPTION_MAX + 1))
        ))
        .contains("rows[0].description must be at most 72")
    );
    assert!(
        err(&msg(list(vec![
            section(Some("A"), rows("x", 1)),
            section(Some("B"), rows("x", 1)),
        ])))
        .contains("list.sections[1].rows[0].id \"x0\" is not unique")
    );

    let button = |b: String| {
        msg(OutgoingContent::List {
            header: Some("h".repeat(HEADER_MAX)),
            body: "b".repeat(INTERACTIVE_BODY_MAX),
            footer: Some("f".repeat(FOOTER_MAX)),
            button: b,
            sections: vec![section(None, rows("a", 1))],
        })
    };
    ok(&button("b".repeat(LIST_BUTTON_MAX)));
    assert!(
        err(&button("b".repeat(LIST_BUTTON_MAX + 1))).contains("list.button must be at most 20")
    );
    assert!(err(&button(String::new())).contains("list.button must not be empty"));
}

#[test]
fn reaction_and_location() {
    let reaction = |message_id: &str, emoji: &str| {
        msg(OutgoingContent::Reaction {
            message_id: message_id.into(),
            emoji: emoji.into(),
        })
    };
    ok(&reaction("wamid.A", "👍"));
    ok(&reaction("wamid.A", ""));
    assert!(err(&reaction("", "👍")).contains("reaction.message_id"));

    let loc = |latitude: f64, longitude: f64| {
        msg(OutgoingContent::Location {
            latitude,
            longitude,
            name: None,
            address: None,
        })
    };
    ok(&loc(90.0, 180.0));
    ok(&loc(-90.0, -180.0));
    assert!(err(&loc(90.1, 0.0)).contains("location.latitude must be between -90 and 90"));
    assert!(err(&loc(0.0, -180.5)).contains("location.longitude must be between -180 and 180"));
    assert!(err(&loc(f64::NAN, 0.0)).contains("location.latitude"));
}

// ---- wire shapes ----------------------------------------------------------------

#[test]
fn text_json() {
    let mut m = OutgoingMessage::text(TO, "hello");
    m.biz_opaque_callback_data = Some("tracking-1".into());
    assert_eq!(
        m.to_json(),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": TO,
            "type": "text",
            "text": {"preview_url": false, "body": "hello"},
            "biz_opaque_callback_data": "tracking-1",
        })
    );
    assert_eq!(m.kind(), "text");
    assert!(!m.is_template());
}

#[test]
fn reply_context_json() {
    let m = OutgoingMessage::text(TO, "yes").replying_to("wamid.ABC");
    let v = m.to_json();
    assert_eq!(v["context"], json!({"message_id": "wamid.ABC"}));
    assert_eq!(v["text"]["body"], "yes");
}

#[test]
fn image_by_id_json() {
    let m = msg(OutgoingContent::Image(
        MediaRef::id("1234").with_caption("look"),
    ));
    assert_eq!(
        m.to_json(),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": TO,
            "type": "image",
            "image": {"id": "1234", "caption": "look"},
        })
    );
    assert_eq!(m.kind(), "image");
}

#[test]
fn document_by_link_json() {
    let m = msg(OutgoingContent::Document(
        MediaRef::link("https://files.example/invoice.pdf").with_filename("invoice.pdf"),
    ));
    assert_eq!(m.kind(), "document");
    assert_eq!(
        m.to_json()["document"],
        json!({"link": "https://files.example/invoice.pdf", "filename": "invoice.pdf"})
    );
    for (content, kind) in [
        (OutgoingContent::Video(MediaRef::id("1")), "video"),
        (OutgoingContent::Audio(MediaRef::id("1")), "audio"),
        (OutgoingContent::Sticker(MediaRef::id("1")), "sticker"),
    ] {
        let m = msg(content);
        assert_eq!(m.kind(), kind);
        assert_eq!(m.to_json()[kind], json!({"id": "1"}));
    }
}

#[test]
fn template_json() {
    let m = msg(OutgoingContent::Template {
        name: "order_update".into(),
        language: "en_US".into(),
        components: vec![
            TemplateComponent::header(vec![
                json!({"type": "image", "image": {"link": "https://x.example/a.png"}}),
            ]),
            TemplateComponent::body(vec![
                json!({"type": "text", "text": "Ann"}),
                json!({"type": "text", "text": "42"}),
            ]),
            TemplateComponent::button(
                "quick_reply",
                0,
                vec![json!({"type": "payload", "payload": "STOP"})],
            ),
        ],
    });
    assert!(m.is_template());
    assert_eq!(m.kind(), "template");
    assert_eq!(
        m.to_json()["template"],
        json!({
            "name": "order_update",
            "language": {"code": "en_US"},
            "components": [
                {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x.example/a.png"}}]},
                {"type": "body", "parameters": [{"type": "text", "text": "Ann"}, {"type": "text", "text": "42"}]},
                {"type": "button", "sub_type": "quick_reply", "index": "0",
                 "parameters": [{"type": "payload", "payload": "STOP"}]},
            ],
        })
    );
    let bare = msg(OutgoingContent::Template {
        name: "hello_world".into(),
        language: "en_US".into(),
        components: vec![],
    });
    assert_eq!(
        bare.to_json()["template"],
        json!({"name": "hello_world", "language": {"code": "en_US"}})
    );
}

#[test]
fn buttons_json() {
    let m = msg(OutgoingContent::Buttons {
        header: Some("Order".into()),
        body: "Confirm?".into(),
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
    });
    assert_eq!(m.kind(), "interactive");
    let v = m.to_json();
    assert_eq!(v["type"], "interactive");
    assert_eq!(
        v["interactive"],
        json!({
            "type": "button",
            "header": {"type": "text", "text": "Order"},
            "body": {"text": "Confirm?"},
            "footer": {"text": "Reply below"},
            "action": {"buttons": [
                {"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                {"type": "reply", "reply": {"id": "no", "title": "No"}},
            ]},
        })
    );
    // no header / footer: absent
    let v = msg(buttons(&[("a", "A")])).to_json();
    assert!(v["interactive"].get("header").is_none());
    assert!(v["interactive"].get("footer").is_none());
}

#[test]
fn list_json() {
    let m = msg(OutgoingContent::List {
        header: None,
        body: "Menu".into(),
        footer: None,
        button: "Choose".into(),
        sections: vec![
            ListSection {
                title: Some("Food".into()),
                rows: vec![ListRow {
                    id: "pizza".into(),
                    title: "Pizza".into(),
                    description: Some("Cheese".into()),
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
    });
    assert_eq!(m.kind(), "interactive");
    assert_eq!(
        m.to_json()["interactive"],
        json!({
            "type": "list",
            "body": {"text": "Menu"},
            "action": {"button": "Choose", "sections": [
                {"title": "Food", "rows": [{"id": "pizza", "title": "Pizza", "description": "Cheese"}]},
                {"title": "Drinks", "rows": [{"id": "tea", "title": "Tea"}]},
            ]},
        })
    );
}

#[test]
fn reaction_and_location_json() {
    let m = msg(OutgoingContent::Reaction {
        message_id: "wamid.A".into(),
        emoji: "👍".into(),
    });
    assert_eq!(m.kind(), "reaction");
    assert_eq!(
        m.to_json()["reaction"],
        json!({"message_id": "wamid.A", "emoji": "👍"})
    );
    let m = msg(OutgoingContent::Location {
        latitude: 48.85,
        longitude: 2.35,
        name: Some("Paris".into()),
        address: None,
    });
    assert_eq!(m.kind(), "location");
    assert_eq!(
        m.to_json()["location"],
        json!({"latitude": 48.85, "longitude": 2.35, "name": "Paris"})
    );
}

#[test]
fn wire_bodies_pass_the_simulator_rules() {
    use crate::whatsapp::simulator::validate::validate_send;
    for content in [
        OutgoingContent::text("hi"),
        OutgoingContent::Image(MediaRef::id("1").with_caption("c")),
        OutgoingContent::Document(MediaRef::link("https://x.example/a.pdf").with_filename("a.pdf")),
        OutgoingContent::Template {
            name: "t".into(),
            language: "en".into(),
            components: vec![TemplateComponent::body(vec![
                json!({"type": "text", "text": "x"}),
            ])],
        },
        buttons(&[("a", "A"), ("b", "B")]),
        list(vec![section(Some("S"), rows("a", 3))]),
        OutgoingContent::Reaction {
            message_id: "wamid.A".into(),
            emoji: String::new(),
        },
        OutgoingContent::Location {
            latitude: 1.0,
            longitude: 2.0,
            name: None,
            address: None,
        },
    ] {
        let m = msg(content).replying_to("wamid.Z");
        ok(&m);
        if let Err(e) = validate_send(&m.to_json()) {
            panic!("simulator refused {}: {e}", m.kind());
        }
    }
}

#[test]
fn outbox_serde_round_trip() {
    let m = OutgoingMessage {
        to: TO.into(),
        reply_to: Some("wamid.R".into()),
        content: OutgoingContent::Document(MediaRef::id("9").with_filename("a.pdf")),
        biz_opaque_callback_data: None,
    };
    let v = serde_json::to_value(&m).expect("serialize");
    assert_eq!(
        v,
        json!({"to": TO, "reply_to": "wamid.R", "content": {"type": "document", "id": "9", "filename": "a.pdf"}})
    );
    let back: OutgoingMessage = serde_json::from_value(v).expect("deserialize");
    assert_eq!(back, m);

    let t = msg(OutgoingContent::Template {
        name: "t".into(),
        language: "en".into(),
        components: vec![TemplateComponent::button(
            "url",
            1,
            vec![json!({"type": "text", "text": "x"})],
        )],
    });
    let v = serde_json::to_value(&t).expect("serialize");
    assert_eq!(v["content"]["type"], "template");
    assert_eq!(v["content"]["components"][0]["type"], "button");
    assert_eq!(
        serde_json::from_value::<OutgoingMessage>(v).expect("deserialize"),
        t
    );

    let stored = json!({"to": TO, "content": {"type": "text", "body": "hi"}});
    let m: OutgoingMessage = serde_json::from_value(stored).expect("minimal");
    assert_eq!(m, OutgoingMessage::text(TO, "hi"));

    for content in [
        buttons(&[("a", "A")]),
        list(vec![section(None, rows("a", 2))]),
        OutgoingContent::Reaction {
            message_id: "w".into(),
            emoji: "x".into(),
        },
        OutgoingContent::Location {
            latitude: 1.5,
            longitude: -2.5,
            name: Some("n".into()),
            address: Some("a".into()),
        },
    ] {
        let m = msg(content);
        let back: OutgoingMessage =
            serde_json::from_value(serde_json::to_value(&m).expect("serialize"))
                .expect("deserialize");
        assert_eq!(back, m);
    }
}
