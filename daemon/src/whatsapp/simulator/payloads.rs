//! Webhook notification bodies exactly as Meta shapes them (see
//! `/work/shared/fixtures/whatsapp`), wamids and ids, the plan of status
//! webhooks for an accepted message, and realistic random inbound messages of
//! every type. Pure: randomness comes from the caller's RNG, time from
//! parameters.

use std::time::Duration;

use base64::Engine as _;
use rand::Rng;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};

use crate::whatsapp::errors::CloudErrorCode;

/// The business phone number a notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Business {
    /// `entry[].id`.
    pub waba_id: String,
    /// `metadata.display_phone_number`.
    pub display_phone_number: String,
    /// `metadata.phone_number_id`.
    pub phone_number_id: String,
}

impl Business {
    /// The defaults for a phone number id: WABA `WABA_<id>` and a display
    /// number `1555` + the id's last seven digits (zero padded).
    pub fn for_phone_number(
        phone_number_id: &str,
        waba_id: Option<&str>,
        display_phone_number: Option<&str>,
    ) -> Self {
        let digits: String = phone_number_id
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let tail = &digits[digits.len().saturating_sub(7)..];
        Self {
            waba_id: waba_id.map_or_else(|| format!("WABA_{phone_number_id}"), str::to_owned),
            display_phone_number: display_phone_number
                .map_or_else(|| format!("1555{tail:0>7}"), str::to_owned),
            phone_number_id: phone_number_id.to_owned(),
        }
    }
}

/// The common envelope around one `messages` change value.
pub fn envelope(business: &Business, extra: Map<String, Value>) -> Value {
    let mut value = Map::new();
    value.insert("messaging_product".into(), json!("whatsapp"));
    value.insert(
        "metadata".into(),
        json!({
            "display_phone_number": business.display_phone_number,
            "phone_number_id": business.phone_number_id,
        }),
    );
    value.extend(extra);
    json!({
        "object": "whatsapp_business_account",
        "entry": [{
            "id": business.waba_id,
            "changes": [{"value": Value::Object(value), "field": "messages"}],
        }],
    })
}

/// A message status, as in `statuses[].status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl StatusKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Failed => "failed",
        }
    }
}

/// What a status notification says about one outbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusEvent {
    pub wamid: String,
    pub status: StatusKind,
    /// Unix seconds.
    pub timestamp: i64,
    pub recipient_id: String,
    /// `conversation.id` (absent on `failed`).
    pub conversation_id: String,
    /// `conversation.origin.type` and `pricing.category`: `service` for
    /// free-form, `utility` for templates.
    pub category: String,
    /// For `failed`: the error code.
    pub error_code: Option<i64>,
    /// `biz_opaque_callback_data` echoed from the send, if any.
    pub biz_opaque_callback_data: Option<String>,
}

/// The `errors[]` element of a failed status (f07 shape).
pub fn status_error(code: i64) -> Value {
    let c = CloudErrorCode::from_code(code);
    let details = match c {
        CloudErrorCode::Undeliverable => {
            "Message Undeliverable: the recipient's phone could not be reached.".to_owned()
        }
        CloudErrorCode::ReEngagement => "Message failed to send because more than 24 hours have passed since the customer last replied to this number.".to_owned(),
        other => other.title().to_owned(),
    };
    json!({
        "code": code,
        "title": c.title(),
        "message": c.title(),
        "error_data": {"details": details},
        "href": "/documentation/business-messaging/whatsapp/support/error-codes",
    })
}

/// A full status notification (f05 / f07 shapes).
pub fn status_notification(business: &Business, event: &StatusEvent) -> Value {
    let mut status = Map::new();
    status.insert("id".into(), json!(event.wamid));
    status.insert("status".into(), json!(event.status.as_str()));
    status.insert("timestamp".into(), json!(event.timestamp.to_string()));
    status.insert("recipient_id".into(), json!(event.recipient_id));
    if event.status == StatusKind::Failed {
        let code = event
            .error_code
            .unwrap_or(CloudErrorCode::Undeliverable.code());
        status.insert("errors".into(), json!([status_error(code)]));
    } else {
        status.insert(
            "conversation".into(),
            json!({"id": event.conversation_id, "origin": {"type": event.category}}),
        );
        status.insert(
            "pricing".into(),
            json!({
                "billable": true,
                "pricing_model": "PMP",
                "category": event.category,
                "type": "regular",
            }),
        );
    }
    if let Some(data) = &event.biz_opaque_callback_data {
        status.insert("biz_opaque_callback_data".into(), json!(data));
    }
    let mut extra = Map::new();
    extra.insert("statuses".into(), json!([Value::Object(status)]));
    envelope(business, extra)
}

/// A full inbound-message notification (f01 shape) around one message.
pub fn inbound_notification(
    business: &Business,
    wa_id: &str,
    profile_name: &str,
    message: Value,
) -> Value {
    let mut extra = Map::new();
    extra.insert(
        "contacts".into(),
        json!([{"profile": {"name": profile_name}, "wa_id": wa_id}]),
    );
    extra.insert("messages".into(), json!([message]));
    envelope(business, extra)
}

/// Fills in `from`, `id` and `timestamp` of an inbound message object unless
/// given. The object must carry a string `type`.
pub fn complete_inbound_message(
    message: Value,
    from: &str,
    wamid: &str,
    timestamp: i64,
) -> Result<Value, String> {
    let Value::Object(mut obj) = message else {
        return Err("message must be a JSON object".into());
    };
    match obj.get("type") {
        Some(Value::String(t)) if !t.is_empty() => {}
        _ => return Err("message.type is required".into()),
    }
    obj.entry("from").or_insert_with(|| json!(from));
    obj.entry("id").or_insert_with(|| json!(wamid));
    obj.entry("timestamp")
        .or_insert_with(|| json!(timestamp.to_string()));
    Ok(Value::Object(obj))
}

/// A wamid in Meta's style: base64 of a protobuf-like blob carrying the user
/// number and a random 18-hex-digit message key.
pub fn wamid<R: Rng + ?Sized>(rng: &mut R, wa_id: &str) -> String {
    let digits: Vec<u8> = wa_id.bytes().filter(u8::is_ascii_digit).take(20).collect();
    let mut blob = vec![0x1c, 0x18];
    blob.push(u8::try_from(digits.len()).unwrap_or(0));
    blob.extend_from_slice(&digits);
    blob.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
    let key: [u8; 9] = rng.r#gen();
    blob.extend_from_slice(hex::encode_upper(key).as_bytes());
    blob.push(0x00);
    format!(
        "wamid.{}",
        base64::engine::general_purpose::STANDARD.encode(blob)
    )
}

/// `n` random bytes as lowercase hex (conversation ids, sha256-like tokens).
pub fn hex_id<R: Rng + ?Sized>(rng: &mut R, n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rng.r#gen()).collect();
    hex::encode(bytes)
}

/// A numeric id like Meta's media ids (16 digits, no leading zero).
pub fn numeric_id<R: Rng + ?Sized>(rng: &mut R) -> String {
    rng.gen_range(1_000_000_000_000_000u64..10_000_000_000_000_000u64)
        .to_string()
}

/// Delays after accept before each status webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusDelays {
    pub sent: Duration,
    pub delivered: Duration,
    pub read: Duration,
}

impl Default for StatusDelays {
    fn default() -> Self {
        Self {
            sent: Duration::from_millis(50),
            delivered: Duration::from_millis(100),
            read: Duration::from_millis(150),
        }
    }
}

/// How statuses misbehave.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StatusChaos {
    /// Each webhook is delivered a second time with this probability.
    pub duplicate_probability: f64,
    /// `read` is delivered before `delivered` with this probability.
    pub reorder_probability: f64,
    /// The message ends in `failed` (131026) instead of delivered/read.
    pub fail_probability: f64,
}

/// One planned status webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedStatus {
    pub status: StatusKind,
    /// When it is POSTed, after accept.
    pub deliver_after: Duration,
    /// When it happened (for `timestamp`), after accept.
    pub happened_after: Duration,
    /// Whether this is a duplicate delivery of an earlier one.
    pub duplicate: bool,
}

fn roll<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    p > 0.0 && rng.gen_bool(p.min(1.0))
}

/// The status webhooks for one accepted message, sorted by delivery time.
pub fn plan_statuses<R: Rng + ?Sized>(
    delays: &StatusDelays,
    chaos: &StatusChaos,
    rng: &mut R,
) -> Vec<PlannedStatus> {
    let planned = |status, at: Duration| PlannedStatus {
        status,
        deliver_after: at,
        happened_after: at,
        duplicate: false,
    };
    let mut plan = vec![planned(StatusKind::Sent, delays.sent)];
    if roll(rng, chaos.fail_probability) {
        plan.push(planned(StatusKind::Failed, delays.delivered));
    } else {
        let mut delivered = planned(StatusKind::Delivered, delays.delivered);
        let mut read = planned(StatusKind::Read, delays.read);
        if roll(rng, chaos.reorder_probability) {
            // Arrival order swaps; what happened when does not.
            std::mem::swap(&mut delivered.deliver_after, &mut read.deliver_after);
            if delivered.deliver_after == read.deliver_after {
                delivered.deliver_after += Duration::from_millis(5);
            }
        }
        plan.push(delivered);
        plan.push(read);
    }
    let mut dups = Vec::new();
    for p in &plan {
        if roll(rng, chaos.duplicate_probability) {
            dups.push(PlannedStatus {
                deliver_after: p.deliver_after + Duration::from_millis(rng.gen_range(5..50)),
                duplicate: true,
                ..*p
            });
        }
    }
    plan.extend(dups);
    plan.sort_by_key(|p| p.deliver_after);
    plan
}

/// Every inbound message type the Cloud API delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InboundKind {
    Text,
    Image,
    Audio,
    Video,
    Document,
    Sticker,
    Location,
    Contacts,
    ButtonReply,
    ListReply,
    Button,
    Reaction,
    Order,
    System,
    Unsupported,
}

impl InboundKind {
    /// All kinds.
    pub const ALL: [InboundKind; 15] = [
        InboundKind::Text,
        InboundKind::Image,
        InboundKind::Audio,
        InboundKind::Video,
        InboundKind::Document,
        InboundKind::Sticker,
        InboundKind::Location,
        InboundKind::Contacts,
        InboundKind::ButtonReply,
        InboundKind::ListReply,
        InboundKind::Button,
        InboundKind::Reaction,
        InboundKind::Order,
        InboundKind::System,
        InboundKind::Unsupported,
    ];

    /// The name used in `/_sim/traffic` `kinds` (the message `type`, or
    /// `button_reply` / `list_reply` for interactive replies).
    pub fn name(self) -> &'static str {
        match self {
            InboundKind::Text => "text",
            InboundKind::Image => "image",
            InboundKind::Audio => "audio",
            InboundKind::Video => "video",
            InboundKind::Document => "document",
            InboundKind::Sticker => "sticker",
            InboundKind::Location => "location",
            InboundKind::Contacts => "contacts",
            InboundKind::ButtonReply => "button_reply",
            InboundKind::ListReply => "list_reply",
            InboundKind::Button => "button",
            InboundKind::Reaction => "reaction",
            InboundKind::Order => "order",
            InboundKind::System => "system",
            InboundKind::Unsupported => "unsupported",
        }
    }

    /// The kind for a name (see [`InboundKind::name`]; `interactive` = button reply).
    pub fn from_name(name: &str) -> Option<Self> {
        if name == "interactive" {
            return Some(InboundKind::ButtonReply);
        }
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// For media kinds: a default mime type.
    pub fn media_mime(self) -> Option<&'static str> {
        match self {
            InboundKind::Image => Some("image/jpeg"),
            InboundKind::Audio => Some("audio/ogg; codecs=opus"),
            InboundKind::Video => Some("video/mp4"),
            InboundKind::Document => Some("application/pdf"),
            InboundKind::Sticker => Some("image/webp"),
            _ => None,
        }
    }
}

/// A stored media object an inbound media message refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRef {
    pub id: String,
    pub mime_type: String,
    pub sha256: String,
}

/// Context for building a random inbound message.
#[derive(Debug, Clone, Default)]
pub struct InboundContext {
    /// The business display number (`context.from` of replies).
    pub business_display_number: String,
    /// A wamid the business sent to this user, for replies and reactions.
    pub replied_wamid: Option<String>,
    /// The media to refer to, for media kinds.
    pub media: Option<MediaRef>,
}

const TEXTS: &[&str] = &[
    "Hi, is anyone there?",
    "Does it come in another color?",
    "I never received my order 🙁",
    "Can I change the delivery address?",
    "Thanks a lot!",
    "What are your opening hours?",
    "How much is shipping to Lisbon?",
    "ok",
    "Olá! Vocês entregam no sábado?",
    "¿Tienen esto en talla M?",
    "My tracking number is 1Z999AA10123456784",
    "Please call me back",
];
const CAPTIONS: &[&str] = &["Here it is", "See attached", "This one", "📷", ""];
const EMOJIS: &[&str] = &["👍", "❤️", "😂", "😮", "😢", "🙏", ""];
const FIRST_NAMES: &[&str] = &[
    "Sheena", "Ana", "Kofi", "Mei", "Lukas", "Priya", "Omar", "Chloé", "João", "Yuki",
];
const LAST_NAMES: &[&str] = &[
    "Nelson", "Silva", "Mensah", "Chen", "Müller", "Sharma", "Haddad", "Martin", "Sato",
];

/// A plausible profile name.
pub fn random_name<R: Rng + ?Sized>(rng: &mut R) -> String {
    let first = FIRST_NAMES.choose(rng).copied().unwrap_or("Ana");
    let last = LAST_NAMES.choose(rng).copied().unwrap_or("Silva");
    format!("{first} {last}")
}

fn pick<'a, R: Rng + ?Sized>(rng: &mut R, from: &[&'a str]) -> &'a str {
    from.choose(rng).copied().unwrap_or_default()
}

/// A realistic inbound message object of `kind` (without `from`, `id`,
/// `timestamp`: see [`complete_inbound_message`]).
pub fn random_inbound_message<R: Rng + ?Sized>(
    kind: InboundKind,
    ctx: &InboundContext,
    rng: &mut R,
) -> Value {
    let reply_context = |rng: &mut R| {
        json!({
            "from": ctx.business_display_number,
            "id": ctx.replied_wamid.clone().unwrap_or_else(|| wamid(rng, &ctx.business_display_number)),
        })
    };
    let media = |rng: &mut R, kind: InboundKind| {
        let m = ctx.media.clone().unwrap_or_else(|| MediaRef {
            id: numeric_id(rng),
            mime_type: kind
                .media_mime()
                .unwrap_or("application/octet-stream")
                .to_owned(),
            sha256: hex_id(rng, 32),
        });
        let mut obj = Map::new();
        obj.insert("mime_type".into(), json!(m.mime_type));
        obj.insert("sha256".into(), json!(m.sha256));
        obj.insert("id".into(), json!(m.id));
        obj
    };
    match kind {
        InboundKind::Text => {
            let mut msg = json!({"type": "text", "text": {"body": pick(rng, TEXTS)}});
            if rng.gen_bool(0.1) {
                msg["context"] = json!({"forwarded": true});
            }
            msg
        }
        InboundKind::Image | InboundKind::Video => {
            let mut obj = media(rng, kind);
            let caption = pick(rng, CAPTIONS);
            if !caption.is_empty() {
                obj.insert("caption".into(), json!(caption));
            }
            json!({"type": kind.name(), kind.name(): Value::Object(obj)})
        }
        InboundKind::Audio => {
            let mut obj = media(rng, kind);
            obj.insert("voice".into(), json!(rng.gen_bool(0.7)));
            json!({"type": "audio", "audio": Value::Object(obj)})
        }
        InboundKind::Document => {
            let mut obj = media(rng, kind);
            obj.insert(
                "filename".into(),
                json!(format!("invoice-{}.pdf", rng.gen_range(1000..9999))),
            );
            if rng.gen_bool(0.5) {
                obj.insert("caption".into(), json!("My invoice"));
            }
            json!({"type": "document", "document": Value::Object(obj)})
        }
        InboundKind::Sticker => {
            let mut obj = media(rng, kind);
            obj.insert("animated".into(), json!(rng.gen_bool(0.3)));
            json!({"type": "sticker", "sticker": Value::Object(obj)})
        }
        InboundKind::Location => {
            let lat: f64 = rng.gen_range(-60.0..70.0);
            let lon: f64 = rng.gen_range(-170.0..170.0);
            let mut loc = json!({
                "latitude": (lat * 1e6).round() / 1e6,
                "longitude": (lon * 1e6).round() / 1e6,
            });
            if rng.gen_bool(0.5) {
                loc["name"] = json!("Philz Coffee");
                loc["address"] = json!("101 Forest Ave, Palo Alto, CA 94301");
            }
            json!({"type": "location", "location": loc})
        }
        InboundKind::Contacts => {
            let first = pick(rng, FIRST_NAMES);
            let last = pick(rng, LAST_NAMES);
            let phone = format!("1650555{:04}", rng.gen_range(0..10_000));
            json!({"type": "contacts", "contacts": [{
                "name": {"formatted_name": format!("{first} {last}"), "first_name": first, "last_name": last},
                "phones": [{"phone": format!("+{phone}"), "wa_id": phone, "type": "CELL"}],
                "emails": [{"email": format!("{}@example.com", first.to_lowercase()), "type": "WORK"}],
            }]})
        }
        InboundKind::ButtonReply => {
            let (id, title) = *[("yes", "Yes"), ("no", "No"), ("agent", "Talk to agent")]
                .choose(rng)
                .unwrap_or(&("yes", "Yes"));
            json!({"type": "interactive", "context": reply_context(rng), "interactive": {
                "type": "button_reply", "button_reply": {"id": id, "title": title}}})
        }
        InboundKind::ListReply => {
            let n = rng.gen_range(1..=10);
            json!({"type": "interactive", "context": reply_context(rng), "interactive": {
                "type": "list_reply",
                "list_reply": {"id": format!("row_{n}"), "title": format!("Option {n}"),
                               "description": format!("Description of option {n}")}}})
        }
        InboundKind::Button => {
            let text = pick(rng, &["Stop promotions", "Track order", "Yes, confirm"]);
            json!({"type": "button", "context": reply_context(rng), "button": {
                "payload": text.to_uppercase().replace(' ', "_"), "text": text}})
        }
        InboundKind::Reaction => {
            let target = ctx
                .replied_wamid
                .clone()
                .unwrap_or_else(|| wamid(rng, &ctx.business_display_number));
            json!({"type": "reaction", "reaction": {"message_id": target, "emoji": pick(rng, EMOJIS)}})
        }
        InboundKind::Order => {
            let items: Vec<Value> = (0..rng.gen_range(1..=3))
                .map(|i| {
                    json!({
                        "product_retailer_id": format!("SKU-{}", 100 + i),
                        "quantity": rng.gen_range(1..5).to_string(),
                        "item_price": format!("{}.{:02}", rng.gen_range(1..200), rng.gen_range(0..100)),
                        "currency": "USD",
                    })
                })
                .collect();
            json!({"type": "order", "order": {
                "catalog_id": "1234567890123456", "text": "Please deliver before noon",
                "product_items": items}})
        }
        InboundKind::System => {
            let new_wa_id = format!("1650555{:04}", rng.gen_range(0..10_000));
            json!({"type": "system", "system": {
                "body": format!("User changed from the old number to {new_wa_id}"),
                "wa_id": new_wa_id, "type": "user_changed_number"}})
        }
        InboundKind::Unsupported => {
            let code = *[131051i64, 131060].choose(rng).unwrap_or(&131051);
            json!({"type": "unsupported",
            "unsupported": {"type": pick(rng, &["edit", "poll", "event", "unknown"])},
            "errors": [{
                "code": code,
                "title": "Message type unknown",
                "message": "Message type unknown",
                "error_data": {"details": "Message type is currently not supported."},
            }]})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn business() -> Business {
        Business {
            waba_id: "102290129340398".into(),
            display_phone_number: "15550783881".into(),
            phone_number_id: "106540352242922".into(),
        }
    }

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../shared/fixtures/whatsapp/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path)
            .or_else(|_| std::fs::read_to_string(format!("/work/shared/fixtures/whatsapp/{name}")));
        serde_json::from_str(&text.expect("fixture")).expect("json")
    }

    /// Same keys everywhere (values aside).
    fn same_shape(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| same_shape(v, w)))
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_shape(v, w))
            }
            (x, y) => std::mem::discriminant(x) == std::mem::discriminant(y),
        }
    }

    #[test]
    fn business_defaults() {
        let b = Business::for_phone_number("106540352242922", None, None);
        assert_eq!(b.waba_id, "WABA_106540352242922");
        assert_eq!(b.display_phone_number, "15552242922");
        let b = Business::for_phone_number("42", Some("W"), None);
        assert_eq!(b.display_phone_number, "15550000042");
        assert_eq!(b.waba_id, "W");
    }

    #[test]
    fn delivered_status_matches_fixture_shape() {
        let event = StatusEvent {
            wamid: "wamid.X".into(),
            status: StatusKind::Delivered,
            timestamp: 1_750_263_773,
            recipient_id: "16505551234".into(),
            conversation_id: "6ceb9d929c9bdc4f90e967a32f8639b4".into(),
            category: "service".into(),
            error_code: None,
            biz_opaque_callback_data: None,
        };
        let ours = status_notification(&business(), &event);
        let mut theirs = fixture("f05_status_delivered.json");
        // PMP adds pricing.type to the f05 (CBP-era) shape.
        theirs["entry"][0]["changes"][0]["value"]["statuses"][0]["pricing"]["type"] =
            json!("regular");
        assert!(same_shape(&ours, &theirs), "{ours:#}");
        let st = &ours["entry"][0]["changes"][0]["value"]["statuses"][0];
        assert_eq!(st["timestamp"], "1750263773");
        assert_eq!(st["pricing"]["pricing_model"], "PMP");
        assert_eq!(st["conversation"]["origin"]["type"], "service");
        assert_eq!(ours["entry"][0]["changes"][0]["field"], "messages");
    }

    #[test]
    fn failed_status_matches_fixture_shape() {
        let event = StatusEvent {
            wamid: "wamid.X".into(),
            status: StatusKind::Failed,
            timestamp: 1_751_142_888,
            recipient_id: "16505551234".into(),
            conversation_id: "c".into(),
            category: "service".into(),
            error_code: Some(131026),
            biz_opaque_callback_data: None,
        };
        let ours = status_notification(&business(), &event);
        assert!(
            same_shape(&ours, &fixture("f07_status_failed.json")),
            "{ours:#}"
        );
        let err = &ours["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"][0];
        assert_eq!(err["code"], 131026);
        assert!(err["error_data"]["details"].is_string());
    }

    #[test]
    fn inbound_matches_fixture_shape() {
        let msg = complete_inbound_message(
            json!({"type": "text", "text": {"body": "Does it come in another color?"}}),
            "16505551234",
            "wamid.HBgL",
            1_749_416_383,
        )
        .expect("valid");
        let ours = inbound_notification(&business(), "16505551234", "Sheena Nelson", msg);
        assert!(same_shape(&ours, &fixture("f01_text.json")), "{ours:#}");
        let m = &ours["entry"][0]["changes"][0]["value"]["messages"][0];
        assert_eq!(m["timestamp"], "1749416383");
        assert_eq!(m["from"], "16505551234");
        // given fields win
        let msg = complete_inbound_message(
            json!({"type": "text", "id": "wamid.mine", "text": {"body": "x"}}),
            "1",
            "wamid.gen",
            1,
        )
        .expect("valid");
        assert_eq!(msg["id"], "wamid.mine");
        assert!(complete_inbound_message(json!({"text": {}}), "1", "w", 1).is_err());
        assert!(complete_inbound_message(json!(3), "1", "w", 1).is_err());
    }

    #[test]
    fn wamids_look_like_metas_and_are_unique() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = wamid(&mut rng, "16505551234");
        let b = wamid(&mut rng, "16505551234");
        assert_ne!(a, b);
        assert!(a.starts_with("wamid.HBgLMTY1MDU1NTEyMzQVAgARGB"), "{a}");
        let mut rng2 = StdRng::seed_from_u64(7);
        assert_eq!(wamid(&mut rng2, "16505551234"), a);
        assert_eq!(numeric_id(&mut rng).len(), 16);
        assert_eq!(hex_id(&mut rng, 16).len(), 32);
    }

    #[test]
    fn plans() {
        let mut rng = StdRng::seed_from_u64(1);
        let d = StatusDelays::default();
        let kinds = |p: &[PlannedStatus]| p.iter().map(|s| s.status).collect::<Vec<_>>();
        let plain = plan_statuses(&d, &StatusChaos::default(), &mut rng);
        assert_eq!(
            kinds(&plain),
            [StatusKind::Sent, StatusKind::Delivered, StatusKind::Read]
        );
        let reordered = plan_statuses(
            &d,
            &StatusChaos {
                reorder_probability: 1.0,
                ..Default::default()
            },
            &mut rng,
        );
        assert_eq!(
            kinds(&reordered),
            [StatusKind::Sent, StatusKind::Read, StatusKind::Delivered]
        );
        let read = reordered
            .iter()
            .find(|p| p.status == StatusKind::Read)
            .expect("read");
        assert_eq!(read.happened_after, d.read);
        let failed = plan_statuses(
            &d,
            &StatusChaos {
                fail_probability: 1.0,
                ..Default::default()
            },
            &mut rng,
        );
        assert_eq!(kinds(&failed), [StatusKind::Sent, StatusKind::Failed]);
        let dup = plan_statuses(
            &d,
            &StatusChaos {
                duplicate_probability: 1.0,
                ..Default::default()
            },
            &mut rng,
        );
        assert_eq!(dup.len(), 6);
        assert_eq!(dup.iter().filter(|p| p.duplicate).count(), 3);
        assert!(
            dup.windows(2)
                .all(|w| w[0].deliver_after <= w[1].deliver_after)
        );
    }

    #[test]
    fn random_inbound_covers_every_kind() {
        let mut rng = StdRng::seed_from_u64(3);
        let ctx = InboundContext {
            business_display_number: "15550783881".into(),
            replied_wamid: Some("wamid.OUT".into()),
            media: None,
        };
        for kind in InboundKind::ALL {
            assert_eq!(InboundKind::from_name(kind.name()), Some(kind));
            let m = random_inbound_message(kind, &ctx, &mut rng);
            let ty = m["type"].as_str().expect("type");
            assert!(m.get(ty).is_some(), "{kind:?}: {m}");
            match kind {
                InboundKind::ButtonReply => {
                    assert_eq!(m["interactive"]["type"], "button_reply");
                    assert_eq!(m["context"]["id"], "wamid.OUT");
                }
                InboundKind::ListReply => assert_eq!(m["interactive"]["type"], "list_reply"),
                InboundKind::Reaction => assert_eq!(m["reaction"]["message_id"], "wamid.OUT"),
                InboundKind::Unsupported => {
                    let code = m["errors"][0]["code"].as_i64().expect("code");
                    assert!(code == 131051 || code == 131060);
                }
                _ => {}
            }
            if kind.media_mime().is_some() {
                assert!(m[ty]["id"].is_string() && m[ty]["sha256"].is_string());
            }
        }
        assert_eq!(
            InboundKind::from_name("interactive"),
            Some(InboundKind::ButtonReply)
        );
        assert_eq!(InboundKind::from_name("fax"), None);
    }
}
