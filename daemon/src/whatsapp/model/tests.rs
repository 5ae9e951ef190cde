//! Golden tests over Meta-shaped notifications (fixtures under
//! `daemon/tests/fixtures/whatsapp/`) and the edge cases of the model.

use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/whatsapp/", $name))
    };
}

const BIZ_WAMID: &str = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA";

fn parse_str(s: &str) -> Notification {
    parse(s.as_bytes()).expect("fixture parses")
}

/// The single inbound message of a one-message fixture.
fn only_message(n: &Notification) -> (&MessagesValue, &InboundMessage) {
    let all: Vec<_> = n.inbound_messages().collect();
    assert_eq!(all.len(), 1, "expected exactly one message");
    all[0]
}

fn only_status(n: &Notification) -> &Status {
    let all: Vec<_> = n.statuses().collect();
    assert_eq!(all.len(), 1, "expected exactly one status");
    all[0].1
}

fn assert_common(m: &InboundMessage, kind: &str) {
    assert_eq!(m.from, "16505551234");
    assert!(m.id.starts_with("wamid."));
    assert_eq!(m.kind(), kind);
    assert_eq!(m.raw["type"], kind);
    assert_eq!(m.raw["id"], m.id.as_str());
    assert!(m.unix_timestamp().is_some());
}

// --- the four shared fixtures ----------------------------------------------

#[test]
fn f01_text() {
    let n = parse_str(fixture!("f01_text.json"));
    assert_eq!(n.object, WHATSAPP_OBJECT);
    assert_eq!(n.entry[0].id, "102290129340398");
    assert_eq!(n.entry[0].changes[0].field, "messages");
    assert_eq!(n.phone_number_ids(), vec!["106540352242922"]);

    let (v, m) = only_message(&n);
    assert_eq!(v.messaging_product, "whatsapp");
    assert_eq!(v.metadata.display_phone_number, "15550783881");
    assert_eq!(v.contacts[0].wa_id, "16505551234");
    assert_eq!(v.contacts[0].name(), Some("Sheena Nelson"));
    assert_eq!(
        v.contact_for(m).and_then(Contact::name),
        Some("Sheena Nelson")
    );

    assert_eq!(m.from, "16505551234");
    assert_eq!(m.sender_id(), "16505551234");
    assert_eq!(
        m.id,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    assert_eq!(m.timestamp, "1749416383");
    assert_eq!(m.unix_timestamp(), Some(1_749_416_383));
    assert_eq!(
        m.time().map(|t| t.to_rfc3339()),
        Some("2025-06-08T20:59:43+00:00".to_owned())
    );
    assert_eq!(m.kind(), "text");
    assert_eq!(
        m.content,
        MessageContent::Text(Text {
            body: "Does it come in another color?".to_owned()
        })
    );
    assert_eq!(m.text_preview(), Some("Does it come in another color?"));
    assert!(m.context.is_none() && m.referral.is_none() && m.errors.is_empty());
    assert_eq!(m.raw["text"]["body"], "Does it come in another color?");
    assert!(v.statuses.is_empty() && v.errors.is_empty());
}

#[test]
fn f05_status_delivered() {
    let n = parse_str(fixture!("f05_status_delivered.json"));
    let s = only_status(&n);
    assert_eq!(
        s.id,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA"
    );
    assert_eq!(s.status, StatusKind::Delivered);
    assert_eq!(s.status.as_str(), "delivered");
    assert_eq!(s.unix_timestamp(), Some(1_750_263_773));
    assert_eq!(s.recipient_id, "16505551234");
    assert_eq!(s.recipient(), "16505551234");
    let conv = s.conversation.as_ref().expect("conversation");
    assert_eq!(conv.id, "6ceb9d929c9bdc4f90e967a32f8639b4");
    assert_eq!(conv.expiration_timestamp, None);
    assert_eq!(
        conv.origin.as_ref().map(|o| o.kind.as_str()),
        Some("service")
    );
    let p = s.pricing.as_ref().expect("pricing");
    assert_eq!(p.billable, Some(true));
    assert_eq!(p.pricing_model.as_deref(), Some("CBP"));
    assert_eq!(p.category.as_deref(), Some("service"));
    assert_eq!(p.kind, None);
    assert!(s.errors.is_empty());
    assert_eq!(s.error_code(), None);
    assert_eq!(s.raw["status"], "delivered");
    assert_eq!(n.inbound_messages().count(), 0);
}

#[test]
fn f07_status_failed() {
    let n = parse_str(fixture!("f07_status_failed.json"));
    let s = only_status(&n);
    assert_eq!(s.status, StatusKind::Failed);
    assert!(s.status.is_terminal());
    assert_eq!(s.error_code(), Some(131_049));
    let e = s.first_error().expect("error");
    assert_eq!(e.code(), CloudErrorCode::EcosystemEngagement);
    assert_eq!(
        e.title.as_deref(),
        Some("This message was not delivered to maintain healthy ecosystem engagement.")
    );
    assert_eq!(
        e.details(),
        Some(
            "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
        )
    );
    assert_eq!(
        e.href.as_deref(),
        Some("/documentation/business-messaging/whatsapp/support/error-codes")
    );
    assert!(s.conversation.is_none() && s.pricing.is_none());
}

#[test]
fn f11_template_approved() {
    let n = parse_str(fixture!("f11_template_approved.json"));
    assert_eq!(n.entry[0].time, Some(1_751_247_548));
    assert_eq!(n.messages_values().count(), 0);
    assert!(n.phone_number_ids().is_empty());
    let (entry, t) = n.template_status_updates().next().expect("template update");
    assert_eq!(entry.id, "102290129340398");
    assert_eq!(t.event, "APPROVED");
    assert_eq!(t.message_template_id, "1689556908129832");
    assert_eq!(t.message_template_name, "order_confirmation");
    assert_eq!(t.message_template_language, "en-US");
    assert_eq!(t.reason.as_deref(), Some("NONE"));
    assert_eq!(t.message_template_category.as_deref(), Some("UTILITY"));
    assert_eq!(t.raw["message_template_id"], 1_689_556_908_129_832_u64);
}

// --- one fixture per message type ---------------------------------------------

#[test]
fn msg_text() {
    let n = parse_str(fixture!("msg_text.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "text");
    assert_eq!(m.text_preview(), Some("Hi! Is the store open on Sunday?"));
}

#[test]
fn msg_image() {
    let n = parse_str(fixture!("msg_image.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "image");
    let MessageContent::Image(media) = &m.content else {
        panic!("not an image: {:?}", m.content)
    };
    assert_eq!(media.id, "1003383421387256");
    assert_eq!(media.mime_type.as_deref(), Some("image/jpeg"));
    assert_eq!(
        media.sha256.as_deref(),
        Some("SfInY0gHbHJ5xDxJ1CX9qBA1ZEdI2ZvQy7y5+1RrDfw=")
    );
    assert_eq!(media.caption.as_deref(), Some("This one, in blue please"));
    assert!(
        media
            .url
            .as_deref()
            .is_some_and(|u| u.contains("mid=1003383421387256"))
    );
    assert_eq!(media.filename, None);
    assert_eq!(m.content.media(), Some(media));
    assert_eq!(m.text_preview(), Some("This one, in blue please"));
}

#[test]
fn msg_audio_voice() {
    let n = parse_str(fixture!("msg_audio.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "audio");
    let MessageContent::Audio(media) = &m.content else {
        panic!("not audio: {:?}", m.content)
    };
    assert_eq!(media.id, "1013859600285441");
    assert_eq!(media.mime_type.as_deref(), Some("audio/ogg; codecs=opus"));
    assert_eq!(media.voice, Some(true));
    assert_eq!(media.caption, None);
    assert_eq!(m.text_preview(), None);
}

#[test]
fn msg_video() {
    let n = parse_str(fixture!("msg_video.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "video");
    let MessageContent::Video(media) = &m.content else {
        panic!("not video: {:?}", m.content)
    };
    assert_eq!(media.id, "1526627394883279");
    assert_eq!(media.mime_type.as_deref(), Some("video/mp4"));
    assert_eq!(m.text_preview(), Some("Unboxing, the lid is cracked"));
}

#[test]
fn msg_document() {
    let n = parse_str(fixture!("msg_document.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "document");
    let MessageContent::Document(media) = &m.content else {
        panic!("not a document: {:?}", m.content)
    };
    assert_eq!(media.id, "1309366460331329");
    assert_eq!(media.filename.as_deref(), Some("Invoice-4521.pdf"));
    assert_eq!(media.mime_type.as_deref(), Some("application/pdf"));
    assert_eq!(media.caption.as_deref(), Some("Invoice for order 4521"));
}

#[test]
fn msg_sticker() {
    let n = parse_str(fixture!("msg_sticker.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "sticker");
    let MessageContent::Sticker(media) = &m.content else {
        panic!("not a sticker: {:?}", m.content)
    };
    assert_eq!(media.id, "2052461675209862");
    assert_eq!(media.mime_type.as_deref(), Some("image/webp"));
    assert_eq!(media.animated, Some(true));
    assert_eq!(m.text_preview(), None);
}

#[test]
fn msg_location() {
    let n = parse_str(fixture!("msg_location.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "location");
    let MessageContent::Location(loc) = &m.content else {
        panic!("not a location: {:?}", m.content)
    };
    assert!((loc.latitude - 37.483_253_479_003_906).abs() < 1e-12);
    assert!((loc.longitude + 122.149_604_797_363_28).abs() < 1e-12);
    assert_eq!(loc.name.as_deref(), Some("Meta Headquarters"));
    assert_eq!(
        loc.address.as_deref(),
        Some("1 Hacker Way, Menlo Park, CA 94025")
    );
    assert_eq!(loc.url.as_deref(), Some("https://meta.com"));
    assert_eq!(m.text_preview(), Some("Meta Headquarters"));
}

#[test]
fn msg_contacts() {
    let n = parse_str(fixture!("msg_contacts.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "contacts");
    let MessageContent::Contacts(cards) = &m.content else {
        panic!("not contacts: {:?}", m.content)
    };
    assert_eq!(cards.len(), 1);
    let c = &cards[0];
    let name = c.name.as_ref().expect("name");
    assert_eq!(name.formatted_name.as_deref(), Some("Barbara J. Johnson"));
    assert_eq!(name.first_name.as_deref(), Some("Barbara"));
    assert_eq!(name.prefix.as_deref(), Some("Dr."));
    assert_eq!(c.phones.len(), 2);
    assert_eq!(c.phones[0].wa_id.as_deref(), Some("16505551234"));
    assert_eq!(c.phones[0].kind.as_deref(), Some("WORK"));
    assert_eq!(c.phones[1].wa_id, None);
    assert_eq!(c.emails[0].email.as_deref(), Some("bjohnson@example.com"));
    assert_eq!(c.addresses[0].city.as_deref(), Some("Menlo Park"));
    assert_eq!(c.addresses[0].country_code.as_deref(), Some("us"));
    assert_eq!(
        c.org.as_ref().and_then(|o| o.company.as_deref()),
        Some("Meta")
    );
    assert_eq!(c.urls[0].url.as_deref(), Some("https://www.meta.com"));
    assert_eq!(c.birthday.as_deref(), Some("1999-01-23"));
    assert_eq!(m.text_preview(), Some("Barbara J. Johnson"));
}

#[test]
fn msg_interactive_button_reply() {
    let n = parse_str(fixture!("msg_interactive_button_reply.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "interactive");
    let MessageContent::Interactive(i) = &m.content else {
        panic!("not interactive: {:?}", m.content)
    };
    assert_eq!(
        i,
        &Interactive::ButtonReply {
            id: "cancel-button".to_owned(),
            title: "Cancel".to_owned()
        }
    );
    assert_eq!(i.kind(), "button_reply");
    assert_eq!(i.reply_id(), Some("cancel-button"));
    assert_eq!(m.text_preview(), Some("Cancel"));
    let ctx = m.context.as_ref().expect("context");
    assert_eq!(ctx.from.as_deref(), Some("15550783881"));
    assert_eq!(m.reply_to(), Some(BIZ_WAMID));
    assert!(!ctx.forwarded && !ctx.frequently_forwarded);
}

#[test]
fn msg_interactive_list_reply() {
    let n = parse_str(fixture!("msg_interactive_list_reply.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "interactive");
    let MessageContent::Interactive(i) = &m.content else {
        panic!("not interactive: {:?}", m.content)
    };
    assert_eq!(
        i,
        &Interactive::ListReply {
            id: "priority_express".to_owned(),
            title: "Express Shipping".to_owned(),
            description: Some("Next Day to 2 Days".to_owned()),
        }
    );
    assert_eq!(m.text_preview(), Some("Express Shipping"));
    assert_eq!(m.reply_to(), Some(BIZ_WAMID));
}

#[test]
fn msg_interactive_nfm_reply() {
    let n = parse_str(fixture!("msg_interactive_nfm_reply.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "interactive");
    let MessageContent::Interactive(Interactive::NfmReply {
        response_json,
        body,
        name,
    }) = &m.content
    else {
        panic!("not an nfm_reply: {:?}", m.content)
    };
    assert_eq!(name.as_deref(), Some("flow"));
    assert_eq!(body.as_deref(), Some("Sent"));
    let response: Value = serde_json::from_str(response_json).expect("response_json is JSON");
    assert_eq!(response["first_name"], "Sheena");
    assert_eq!(response["flow_token"], "AQAAAAACS5FpgQ_cAAAAAD0QI3s.");
    assert_eq!(m.text_preview(), Some("Sent"));
}

#[test]
fn msg_button() {
    let n = parse_str(fixture!("msg_button.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "button");
    assert_eq!(
        m.content,
        MessageContent::Button(Button {
            payload: Some("STOP_PROMOTIONS".to_owned()),
            text: "Stop promotions".to_owned(),
        })
    );
    assert_eq!(m.text_preview(), Some("Stop promotions"));
    assert_eq!(m.reply_to(), Some(BIZ_WAMID));
}

#[test]
fn msg_reaction() {
    let n = parse_str(fixture!("msg_reaction.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "reaction");
    let MessageContent::Reaction(r) = &m.content else {
        panic!("not a reaction: {:?}", m.content)
    };
    assert_eq!(r.message_id, BIZ_WAMID);
    assert_eq!(r.emoji.as_deref(), Some("\u{1F44D}"));
    assert!(!r.is_removal());
    assert_eq!(m.text_preview(), Some("\u{1F44D}"));
}

#[test]
fn msg_reaction_removed() {
    let n = parse_str(fixture!("msg_reaction_removed.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "reaction");
    let MessageContent::Reaction(r) = &m.content else {
        panic!("not a reaction: {:?}", m.content)
    };
    assert_eq!(r.message_id, BIZ_WAMID);
    assert_eq!(r.emoji, None);
    assert!(r.is_removal());
    assert_eq!(m.text_preview(), None);

    // An empty emoji is a removal too.
    let empty = Reaction {
        message_id: BIZ_WAMID.to_owned(),
        emoji: Some(String::new()),
    };
    assert!(empty.is_removal());
    assert_eq!(MessageContent::Reaction(empty).text_preview(), None);
}

#[test]
fn msg_order() {
    let n = parse_str(fixture!("msg_order.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "order");
    let MessageContent::Order(o) = &m.content else {
        panic!("not an order: {:?}", m.content)
    };
    assert_eq!(o.catalog_id, "194836987003835");
    assert_eq!(o.text.as_deref(), Some("Please deliver before 5pm"));
    assert_eq!(
        o.product_items,
        vec![
            ProductItem {
                product_retailer_id: "di9ozbzfi4".to_owned(),
                quantity: 2,
                item_price: 30.0,
                currency: "USD".to_owned(),
            },
            ProductItem {
                product_retailer_id: "nqryix03ez".to_owned(),
                quantity: 1,
                item_price: 12.5,
                currency: "USD".to_owned(),
            },
        ]
    );
    assert_eq!(m.text_preview(), Some("Please deliver before 5pm"));
}

#[test]
fn msg_system() {
    let n = parse_str(fixture!("msg_system.json"));
    let (v, m) = only_message(&n);
    assert!(v.contacts.is_empty(), "system webhooks carry no contacts");
    assert_eq!(v.contact_for(m), None);
    assert_common(m, "system");
    let MessageContent::System(s) = &m.content else {
        panic!("not system: {:?}", m.content)
    };
    assert_eq!(s.kind, "user_changed_number");
    assert_eq!(s.wa_id.as_deref(), Some("12195555358"));
    assert_eq!(s.new_id(), Some("12195555358"));
    assert_eq!(
        s.body,
        "User Sheena Nelson changed from 16505551234 to 12195555358"
    );
    assert_eq!(m.text_preview(), Some(s.body.as_str()));
}

#[test]
fn msg_system_legacy_and_bsuid_shapes() {
    // Older payloads: `new_wa_id` (sometimes a number), `customer`.
    let legacy = json_message(serde_json::json!({
        "from": "16505551234", "id": "wamid.SYS1", "timestamp": "1600000000", "type": "system",
        "system": {"body": "changed", "new_wa_id": 12195555358_u64, "type": "customer_changed_number",
                   "customer": "16505551234"}
    }));
    let MessageContent::System(s) = &legacy.content else {
        panic!("not system")
    };
    assert_eq!(s.kind, "customer_changed_number");
    assert_eq!(s.new_id(), Some("12195555358"));
    assert_eq!(s.customer.as_deref(), Some("16505551234"));

    // BSUID change: no body, user ids.
    let bsuid = json_message(serde_json::json!({
        "from_user_id": "US.1", "id": "wamid.SYS2", "timestamp": "1780000000", "type": "system",
        "system": {"type": "user_changed_user_id", "user_id": "US.2", "previous_user_id": "US.1"}
    }));
    let MessageContent::System(s) = &bsuid.content else {
        panic!("not system")
    };
    assert_eq!(s.kind, "user_changed_user_id");
    assert_eq!(s.body, "");
    assert_eq!(s.user_id.as_deref(), Some("US.2"));
    assert_eq!(s.previous_user_id.as_deref(), Some("US.1"));
    assert_eq!(bsuid.text_preview(), None);
}

#[test]
fn msg_unsupported() {
    let n = parse_str(fixture!("msg_unsupported.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "unsupported");
    assert_eq!(
        m.content,
        MessageContent::Unsupported(Unsupported {
            kind: Some("poll_update".to_owned())
        })
    );
    assert_eq!(m.errors.len(), 1);
    assert_eq!(m.errors[0].code, 131_051);
    assert_eq!(m.errors[0].code(), CloudErrorCode::UnsupportedType);
    assert_eq!(
        m.errors[0].details(),
        Some("Message type is currently not supported.")
    );
    assert_eq!(m.text_preview(), None);

    // Older shape without the `unsupported` object.
    let bare = json_message(serde_json::json!({
        "from": "1", "id": "wamid.U", "timestamp": "1", "type": "unsupported",
        "errors": [{"code": 131060, "title": "This message is currently unavailable."}]
    }));
    assert_eq!(
        bare.content,
        MessageContent::Unsupported(Unsupported::default())
    );
    assert_eq!(
        bare.errors[0].code(),
        CloudErrorCode::Other(131_060),
        "131060 is not in the error enum yet"
    );
}

#[test]
fn msg_request_welcome() {
    let n = parse_str(fixture!("msg_request_welcome.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "request_welcome");
    assert_eq!(m.content, MessageContent::RequestWelcome);
}

#[test]
fn msg_referral() {
    let n = parse_str(fixture!("msg_referral.json"));
    let (_, m) = only_message(&n);
    assert_common(m, "text");
    let r = m.referral.as_ref().expect("referral");
    assert_eq!(r.source_url.as_deref(), Some("https://fb.me/3cr4Wqqkv"));
    assert_eq!(r.source_id.as_deref(), Some("120226305854810726"));
    assert_eq!(r.source_type.as_deref(), Some("ad"));
    assert_eq!(r.headline.as_deref(), Some("Chat with us"));
    assert_eq!(r.body.as_deref(), Some("Summer sale: 30% off all sneakers"));
    assert_eq!(r.media_type.as_deref(), Some("image"));
    assert!(r.image_url.is_some() && r.video_url.is_none() && r.thumbnail_url.is_none());
    assert!(
        r.ctwa_clid
            .as_deref()
            .is_some_and(|c| c.starts_with("Aff-"))
    );
    assert_eq!(
        r.welcome_message.as_ref().and_then(|w| w.text.as_deref()),
        Some("Hi! Ask us anything about the sale.")
    );
    assert_eq!(m.text_preview(), Some("Can I get more info about this?"));
}

#[test]
fn msg_context_reply() {
    let n = parse_str(fixture!("msg_context_reply.json"));
    let (_, m) = only_message(&n);
    let ctx = m.context.as_ref().expect("context");
    assert_eq!(ctx.from.as_deref(), Some("15550783881"));
    assert_eq!(ctx.id.as_deref(), Some(BIZ_WAMID));
    assert!(!ctx.forwarded && !ctx.frequently_forwarded);
    assert_eq!(ctx.referred_product, None);
}

#[test]
fn msg_context_forwarded() {
    let n = parse_str(fixture!("msg_context_forwarded.json"));
    let (_, m) = only_message(&n);
    let ctx = m.context.as_ref().expect("context");
    assert!(ctx.forwarded);
    assert!(!ctx.frequently_forwarded);
    assert_eq!(m.reply_to(), None);

    let n = parse_str(fixture!("msg_context_frequently_forwarded.json"));
    let (_, m) = only_message(&n);
    let ctx = m.context.as_ref().expect("context");
    assert!(ctx.frequently_forwarded);
    assert!(!ctx.forwarded);
}

#[test]
fn msg_context_referred_product() {
    let n = parse_str(fixture!("msg_context_product.json"));
    let (_, m) = only_message(&n);
    let ctx = m.context.as_ref().expect("context");
    let p = ctx.referred_product.as_ref().expect("referred_product");
    assert_eq!(p["catalog_id"], "194836987003835");
    assert_eq!(p["product_retailer_id"], "di9ozbzfi4");
    assert_eq!(m.reply_to(), Some(BIZ_WAMID));
}

#[test]
fn msg_unknown_type_keeps_raw() {
    let n = parse_str(fixture!("msg_unknown_type.json"));
    let (_, m) = only_message(&n);
    assert_eq!(
        m.content,
        MessageContent::Unknown {
            kind: "hologram".to_owned()
        }
    );
    assert_eq!(m.kind(), "hologram");
    assert_eq!(m.text_preview(), None);
    assert_eq!(m.raw["hologram"]["frames"], serde_json::json!([1, 2, 3]));
    assert_eq!(m.raw["some_new_top_level"]["x"], true);
    // `raw` is the whole original message object, nothing lost.
    let original: Value =
        serde_json::from_str(fixture!("msg_unknown_type.json")).expect("fixture is JSON");
    assert_eq!(
        m.raw,
        original["entry"][0]["changes"][0]["value"]["messages"][0]
    );
}

#[test]
fn msg_bsuid_without_phone_number() {
    let n = parse_str(fixture!("msg_bsuid_no_phone.json"));
    let (v, m) = only_message(&n);
    assert_eq!(m.from, "");
    assert_eq!(m.from_user_id.as_deref(), Some("US.13491208655302741918"));
    assert_eq!(m.sender_id(), "US.13491208655302741918");
    let c = v.contact_for(m).expect("contact matched by BSUID");
    assert_eq!(c.wa_id, "");
    assert_eq!(c.id(), "US.13491208655302741918");
    assert_eq!(c.country_code.as_deref(), Some("US"));
    assert_eq!(
        c.profile.as_ref().and_then(|p| p.username.as_deref()),
        Some("@sheena")
    );
}

// --- statuses -------------------------------------------------------------------

#[test]
fn status_sent_with_conversation_pricing_and_callback_data() {
    let n = parse_str(fixture!("status_sent.json"));
    let s = only_status(&n);
    assert_eq!(s.status, StatusKind::Sent);
    assert_eq!(s.id, BIZ_WAMID);
    assert_eq!(s.unix_timestamp(), Some(1_750_263_770));
    let conv = s.conversation.as_ref().expect("conversation");
    assert_eq!(conv.expiration_timestamp.as_deref(), Some("1750350180"));
    assert_eq!(
        conv.origin.as_ref().map(|o| o.kind.as_str()),
        Some("utility")
    );
    let p = s.pricing.as_ref().expect("pricing");
    assert_eq!(p.pricing_model.as_deref(), Some("PMP"));
    assert_eq!(p.category.as_deref(), Some("utility"));
    assert_eq!(p.kind.as_deref(), Some("regular"));
    assert_eq!(s.biz_opaque_callback_data.as_deref(), Some("ticket-4521"));
    let (v, _) = n.statuses().next().expect("status");
    assert_eq!(v.contacts[0].wa_id, "16505551234");
}

#[test]
fn status_read_and_played() {
    let n = parse_str(fixture!("status_read.json"));
    let s = only_status(&n);
    assert_eq!(s.status, StatusKind::Read);
    assert_eq!(
        s.pricing.as_ref().and_then(|p| p.kind.as_deref()),
        Some("free_customer_service")
    );
    assert_eq!(s.pricing.as_ref().and_then(|p| p.billable), Some(false));

    let n = parse_str(fixture!("status_played.json"));
    let s = only_status(&n);
    assert_eq!(s.status, StatusKind::Played);
    assert!(s.pricing.is_none() && s.conversation.is_none());
}

#[test]
fn status_failed_131047() {
    let n = parse_str(fixture!("status_failed_131047.json"));
    let s = only_status(&n);
    assert_eq!(s.status, StatusKind::Failed);
    assert_eq!(s.error_code(), Some(131_047));
    let e = s.first_error().expect("error");
    assert_eq!(e.code(), CloudErrorCode::ReEngagement);
    assert_eq!(e.title.as_deref(), Some("Re-engagement message"));
    assert!(e.details().is_some_and(|d| d.contains("24 hours")));
}

#[test]
fn status_unknown_value_and_bsuid_recipient() {
    let body = envelope(serde_json::json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "statuses": [{
            "id": "wamid.X", "status": "deleted", "timestamp": 1750000000,
            "recipient_user_id": "US.13491208655302741918", "recipient_type": "individual",
            "conversation": {"id": "c1", "expiration_timestamp": 1750086400, "origin": {"type": "marketing"}}
        }]
    }));
    let n = parse(body.as_bytes()).expect("parses");
    let s = only_status(&n);
    assert_eq!(s.status, StatusKind::Other("deleted".to_owned()));
    assert_eq!(s.status.as_str(), "deleted");
    assert_eq!(s.status.rank(), 0);
    assert_eq!(s.timestamp, "1750000000", "numeric timestamps accepted");
    assert_eq!(s.recipient_id, "");
    assert_eq!(s.recipient(), "US.13491208655302741918");
    assert_eq!(s.recipient_type.as_deref(), Some("individual"));
    assert_eq!(
        s.conversation
            .as_ref()
            .and_then(|c| c.expiration_timestamp.as_deref()),
        Some("1750086400"),
        "numeric expiration_timestamp kept as text"
    );
}

#[test]
fn status_rank_never_moves_backwards() {
    use StatusKind::*;
    let order = [Other("x".to_owned()), Sent, Delivered, Read, Played, Failed];
    for pair in order.windows(2) {
        assert!(
            pair[0].rank() < pair[1].rank(),
            "{:?} < {:?}",
            pair[0],
            pair[1]
        );
        assert!(pair[1].supersedes(&pair[0]));
        assert!(!pair[0].supersedes(&pair[1]));
    }
    assert_eq!(Other("x".to_owned()).rank(), 0);
    assert_eq!(Sent.rank(), 1);
    assert_eq!(Delivered.rank(), 2);
    assert_eq!(Read.rank(), 3);
    assert_eq!(Played.rank(), 4);
    assert_eq!(Failed.rank(), 5);
    // Out-of-order arrival: read before delivered keeps read.
    assert!(!Delivered.supersedes(&Read));
    // Failed is terminal.
    for s in [Sent, Delivered, Read, Played] {
        assert!(!s.supersedes(&Failed));
    }
    assert!(!Failed.supersedes(&Failed));
    for s in ["sent", "delivered", "read", "played", "failed", "weird"] {
        assert_eq!(StatusKind::from_wire(s).as_str(), s);
        assert_eq!(StatusKind::from_wire(s).to_string(), s);
    }
    assert_eq!(
        serde_json::to_string(&StatusKind::Read).expect("serializes"),
        "\"read\""
    );
}

// --- structure ------------------------------------------------------------------

#[test]
fn value_level_errors() {
    let n = parse_str(fixture!("value_errors.json"));
    let (_, v) = n.messages_values().next().expect("messages value");
    assert!(v.messages.is_empty() && v.statuses.is_empty() && v.contacts.is_empty());
    assert_eq!(v.errors.len(), 1);
    assert_eq!(v.errors[0].code, 131_000);
    assert_eq!(v.errors[0].code(), CloudErrorCode::Other(131_000));
    assert_eq!(v.errors[0].title.as_deref(), Some("Something went wrong"));
    assert!(v.errors[0].details().is_some());
}

#[test]
fn several_entries_changes_messages() {
    let n = parse_str(fixture!("multi_entry.json"));
    assert_eq!(n.entry.len(), 2);
    assert_eq!(n.entry[0].changes.len(), 3);
    assert_eq!(n.entry[1].changes.len(), 2);
    assert_eq!(n.messages_values().count(), 3);
    assert_eq!(
        n.phone_number_ids(),
        vec!["106540352242922", "301122334455667"]
    );

    let msgs: Vec<_> = n.inbound_messages().collect();
    assert_eq!(msgs.len(), 4);
    let kinds: Vec<_> = msgs.iter().map(|(_, m)| m.kind()).collect();
    assert_eq!(kinds, ["text", "text", "image", "reaction"]);
    let senders: Vec<_> = msgs.iter().map(|(_, m)| m.from.as_str()).collect();
    assert_eq!(
        senders,
        ["16505551234", "233241234567", "16505551234", "447700900123"]
    );
    // Contacts are matched per message, not by position.
    let (v, second) = msgs[1];
    assert_eq!(
        v.contact_for(second).and_then(Contact::name),
        Some("Kofi Mensah")
    );
    let (v, last) = msgs[3];
    assert_eq!(v.metadata.phone_number_id, "301122334455667");
    assert_eq!(
        v.contact_for(last).and_then(Contact::name),
        Some("Amelia Clarke")
    );
    assert_eq!(last.text_preview(), Some("\u{2764}\u{fe0f}"));

    let statuses: Vec<_> = n.statuses().map(|(_, s)| s.status.clone()).collect();
    assert_eq!(statuses, [StatusKind::Delivered, StatusKind::Read]);

    // The unknown field keeps its raw value.
    let other = &n.entry[0].changes[2];
    assert_eq!(other.field, "account_update");
    assert_eq!(
        other.value,
        ChangeValue::Other(
            serde_json::json!({"phone_number": "15550783881", "event": "VERIFIED_ACCOUNT"})
        )
    );

    let (entry, t) = n.template_status_updates().next().expect("template update");
    assert_eq!(entry.id, "203390129340111");
    assert_eq!(t.event, "REJECTED");
    assert_eq!(t.message_template_id, "1689556908129833");
    assert_eq!(t.reason.as_deref(), Some("INVALID_FORMAT"));
    assert_eq!(
        t.rejection_info.as_ref().map(|r| &r["recommendation"]),
        Some(&serde_json::json!("Add text between the variables."))
    );
}

#[test]
fn unknown_fields_everywhere_are_accepted() {
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "new_top": 1,
        "entry": [{
            "id": 102290129340398_u64, "time": "1751247548", "extra": [1],
            "changes": [{
                "field": "messages", "also": {},
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922", "x": 1},
                    "contacts": [{"profile": {"name": "A", "pic": "p"}, "wa_id": "1", "new": true}],
                    "messages": [{
                        "from": "1", "id": "wamid.A", "timestamp": "1", "type": "text",
                        "text": {"body": "hi", "preview_url": false},
                        "context": {"forwarded": null, "whatever": 2},
                        "from_logical_id": "95000398405635"
                    }],
                    "statuses": [], "errors": null, "calls": []
                }
            }]
        }]
    })
    .to_string();
    let n = parse(body.as_bytes()).expect("unknown fields accepted");
    assert_eq!(n.entry[0].id, "102290129340398");
    assert_eq!(n.entry[0].time, Some(1_751_247_548));
    let (_, m) = only_message(&n);
    assert_eq!(m.text_preview(), Some("hi"));
    assert!(!m.context.as_ref().expect("context").forwarded);
    assert_eq!(m.raw["from_logical_id"], "95000398405635");
}

#[test]
fn unknown_interactive_type_is_kept() {
    let m = json_message(serde_json::json!({
        "from": "1", "id": "wamid.I", "timestamp": "1", "type": "interactive",
        "interactive": {"type": "payment_method", "payment_method": {"credential_id": "x"}}
    }));
    let MessageContent::Interactive(i) = &m.content else {
        panic!("not interactive")
    };
    assert_eq!(i.kind(), "payment_method");
    assert!(matches!(i, Interactive::Other(v) if v["payment_method"]["credential_id"] == "x"));

    let m = json_message(serde_json::json!({
        "from": "1", "id": "wamid.C", "timestamp": "1", "type": "interactive",
        "interactive": {"type": "call_permission_reply", "call_permission_reply": {
            "response": "accept", "is_permanent": false, "expiration_timestamp": 1750000000,
            "response_source": "user_action"}}
    }));
    let MessageContent::Interactive(Interactive::CallPermissionReply(r)) = &m.content else {
        panic!("not a call permission reply: {:?}", m.content)
    };
    assert_eq!(r.response.as_deref(), Some("accept"));
    assert_eq!(r.expiration_timestamp, Some(1_750_000_000));
}

#[test]
fn other_change_fields_keep_raw_value() {
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [
            {"value": {"calls": [{"id": "wacid.1"}]}, "field": "calls"},
            {"field": "phone_number_quality_update", "value": {"current_limit": "TIER_10K"}}
        ]}]
    })
    .to_string();
    let n = parse(body.as_bytes()).expect("parses");
    assert_eq!(n.entry[0].changes[0].field, "calls");
    assert_eq!(
        n.entry[0].changes[0].value,
        ChangeValue::Other(serde_json::json!({"calls": [{"id": "wacid.1"}]}))
    );
    assert!(matches!(
        &n.entry[0].changes[1].value,
        ChangeValue::Other(v) if v["current_limit"] == "TIER_10K"
    ));
    assert!(n.phone_number_ids().is_empty());
}

// --- errors -----------------------------------------------------------------------

#[test]
fn malformed_json_is_json_error() {
    for body in [
        &b"{\"object\": \"whatsapp_business_account\", \"entry\": ["[..],
        b"",
        b"not json",
    ] {
        let err = parse(body).expect_err("malformed");
        assert!(matches!(err, ParseError::Json(_)), "{err:?}");
        assert!(err.to_string().starts_with("malformed JSON: "), "{err}");
    }
}

#[test]
fn wrong_object_is_not_whatsapp() {
    // Well-formed for the model, wrong object.
    let err = parse(br#"{"object": "page", "entry": []}"#).expect_err("wrong object");
    assert!(
        matches!(&err, ParseError::NotWhatsApp(o) if o == "page"),
        "{err:?}"
    );
    // A Messenger-shaped payload: another shape altogether.
    let err = parse(
        br#"{"object": "instagram", "entry": [{"id": "1", "time": 1, "messaging": [{"sender": {"id": "2"}}]}]}"#,
    )
    .expect_err("wrong object");
    assert!(
        matches!(&err, ParseError::NotWhatsApp(o) if o == "instagram"),
        "{err:?}"
    );
    let err = parse(br#"{"object": "page", "entry": "garbage"}"#).expect_err("wrong object");
    assert!(matches!(&err, ParseError::NotWhatsApp(_)), "{err:?}");
    // No object at all is malformed.
    let err = parse(br#"{"entry": []}"#).expect_err("no object");
    assert!(matches!(err, ParseError::Json(_)), "{err:?}");
}

#[test]
fn messages_change_missing_metadata_is_an_error() {
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "messages": [{"from": "1", "id": "wamid.A", "timestamp": "1", "type": "text", "text": {"body": "x"}}]
        }}]}]
    })
    .to_string();
    let err = parse(body.as_bytes()).expect_err("metadata is required");
    assert!(matches!(err, ParseError::Json(_)), "{err:?}");
    assert!(err.to_string().contains("metadata"), "{err}");
}

#[test]
fn broken_known_shapes_are_errors() {
    let cases = [
        // Known type without its content object.
        serde_json::json!({"from": "1", "id": "wamid.A", "timestamp": "1", "type": "text"}),
        // Text without body.
        serde_json::json!({"from": "1", "id": "wamid.A", "timestamp": "1", "type": "text", "text": {}}),
        // Message without id.
        serde_json::json!({"from": "1", "timestamp": "1", "type": "text", "text": {"body": "x"}}),
        // Message without type.
        serde_json::json!({"from": "1", "id": "wamid.A", "timestamp": "1", "text": {"body": "x"}}),
        // Reaction without the message it reacts to.
        serde_json::json!({"from": "1", "id": "wamid.A", "timestamp": "1", "type": "reaction", "reaction": {"emoji": "x"}}),
        // Button reply without its object.
        serde_json::json!({"from": "1", "id": "wamid.A", "timestamp": "1", "type": "interactive",
                           "interactive": {"type": "button_reply"}}),
    ];
    for message in cases {
        let body = envelope(serde_json::json!({
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1", "phone_number_id": "2"},
            "messages": [message]
        }));
        let err = parse(body.as_bytes()).expect_err("malformed message");
        assert!(matches!(err, ParseError::Json(_)), "{err:?}");
        assert!(err.to_string().contains("messages[0]"), "{err}");
    }

    // A status without `status`, a non-array `statuses`.
    for value in [
        serde_json::json!({"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1", "phone_number_id": "2"},
            "statuses": [{"id": "wamid.A", "timestamp": "1", "recipient_id": "1"}]}),
        serde_json::json!({"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "1", "phone_number_id": "2"},
            "statuses": {"id": "wamid.A"}}),
        serde_json::json!("not an object"),
    ] {
        let err = parse(envelope(value).as_bytes()).expect_err("malformed value");
        assert!(matches!(err, ParseError::Json(_)), "{err:?}");
    }

    // A template update without its event.
    let body = serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "message_template_status_update",
            "value": {"message_template_id": 1}}]}]
    })
    .to_string();
    assert!(matches!(parse(body.as_bytes()), Err(ParseError::Json(_))));
}

#[test]
fn messages_value_deserialize_impl_matches_from_value() {
    let n = parse_str(fixture!("msg_order.json"));
    let (_, v) = n.messages_values().next().expect("value");
    let original: Value = serde_json::from_str(fixture!("msg_order.json")).expect("JSON");
    let value_json = original["entry"][0]["changes"][0]["value"].to_string();
    let direct: MessagesValue = serde_json::from_str(&value_json).expect("deserializes");
    assert_eq!(&direct, v);
    let message: InboundMessage =
        serde_json::from_value(original["entry"][0]["changes"][0]["value"]["messages"][0].clone())
            .expect("deserializes");
    assert_eq!(message, v.messages[0]);
}

// --- helpers ----------------------------------------------------------------------

fn envelope(value: Value) -> String {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]
    })
    .to_string()
}

/// Parses one message object through the full pipeline.
fn json_message(message: Value) -> InboundMessage {
    let body = envelope(serde_json::json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
        "messages": [message]
    }));
    let n = parse(body.as_bytes()).expect("message parses");
    only_message(&n).1.clone()
}
