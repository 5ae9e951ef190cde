//! Typed model of a WhatsApp Cloud API webhook notification, built for the
//! ingest hot path: [`parse`] reads the body once and hands back
//! [`Notification`].
//!
//! How it parses (and why):
//! - Meta puts `value` before `field` in a change, so a change's value is read
//!   once into a `serde_json::Value` and then `field` decides what it becomes
//!   ([`ChangeValue`]). Nothing is read from text twice.
//! - For `messages` changes the `messages` and `statuses` arrays are taken out
//!   of that value by move; each message/status is typed from a borrow of its
//!   own JSON object, which is then kept as `raw` (no deep copies). Message
//!   content is chosen by the `type` string with a plain `match`, not through
//!   serde's buffering tagged enums.
//! - Tolerant where Meta is loose: unknown fields, message types, change
//!   fields and status values are kept, never rejected; ids and timestamps may
//!   come as strings or numbers. Strict where the data is needed: a `messages`
//!   value without `metadata`, a message without `id`/`timestamp`/`type`, or a
//!   known type without its content object is a [`ParseError`].
//!
//! Identity fields and the business-scoped user id (BSUID) rollout: since 2026
//! Meta may omit the user's phone number (`messages[].from`,
//! `contacts[].wa_id`, `statuses[].recipient_id`) for users who adopted a
//! username, and always adds the BSUID (`from_user_id`, `user_id`,
//! `recipient_user_id`). The phone fields stay `String` here and are empty
//! when Meta leaves them out; use [`InboundMessage::sender_id`],
//! [`Contact::id`] and [`Status::recipient`] for "whatever identifies the
//! user".

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::whatsapp::errors::CloudErrorCode;

/// The `object` of every WhatsApp Business Account notification.
pub const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

/// The change `field` carrying inbound messages, statuses and value errors.
pub const FIELD_MESSAGES: &str = "messages";

/// The change `field` carrying template review/lifecycle events.
pub const FIELD_TEMPLATE_STATUS: &str = "message_template_status_update";

// ---------------------------------------------------------------------------
// Entry point
// ---------------------------------------------------------------------------

/// Why a webhook body could not be turned into a [`Notification`].
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Not JSON, or JSON whose shape breaks the model (a required field is
    /// missing or has the wrong type). The message names the place.
    #[error("malformed JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Valid JSON for some other Graph object (`page`, `instagram`, …).
    #[error("not a WhatsApp Business Account notification (object {0:?})")]
    NotWhatsApp(String),
}

/// Parses a webhook POST body (verify the signature on the same bytes first).
pub fn parse(body: &[u8]) -> Result<Notification, ParseError> {
    match serde_json::from_slice::<Notification>(body) {
        Ok(n) if n.object == WHATSAPP_OBJECT => Ok(n),
        Ok(n) => Err(ParseError::NotWhatsApp(n.object)),
        Err(e) => {
            // Only on the error path: a payload for another object type has
            // another shape, so say "not WhatsApp" rather than "malformed".
            #[derive(Deserialize)]
            struct ObjectOnly {
                #[serde(default)]
                object: Option<String>,
            }
            match serde_json::from_slice::<ObjectOnly>(body) {
                Ok(ObjectOnly {
                    object: Some(object),
                }) if object != WHATSAPP_OBJECT => Err(ParseError::NotWhatsApp(object)),
                _ => Err(ParseError::Json(e)),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Envelope
// ---------------------------------------------------------------------------

/// One webhook POST: `{"object": "whatsapp_business_account", "entry": [...]}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Notification {
    pub object: String,
    pub entry: Vec<Entry>,
}

/// One WhatsApp Business Account's share of a notification.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Entry {
    /// The WhatsApp Business Account id.
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    /// Unix seconds; sent on some fields (template updates), not on messages.
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub time: Option<i64>,
    #[serde(default, deserialize_with = "de_vec")]
    pub changes: Vec<Change>,
}

/// One change: `field` names what `value` is.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub field: String,
    pub value: ChangeValue,
}

/// The typed value of a [`Change`], chosen by its `field`.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeValue {
    /// `field == "messages"`: inbound messages, statuses, value-level errors.
    Messages(MessagesValue),
    /// `field == "message_template_status_update"`.
    TemplateStatus(TemplateStatusUpdate),
    /// Any other field (`account_update`, `calls`, `history`, …), untouched.
    Other(Value),
}

impl<'de> Deserialize<'de> for Change {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct RawChange {
            field: String,
            #[serde(default)]
            value: Value,
        }
        let RawChange { field, value } = RawChange::deserialize(d)?;
        let value = ChangeValue::from_field(&field, value)
            .map_err(|e| de::Error::custom(format_args!("change field {field:?}: {e}")))?;
        Ok(Change { field, value })
    }
}

impl ChangeValue {
    /// Types `value` according to `field`; unknown fields stay raw.
    pub fn from_field(field: &str, value: Value) -> Result<Self, serde_json::Error> {
        match field {
            FIELD_MESSAGES => MessagesValue::from_value(value).map(ChangeValue::Messages),
            FIELD_TEMPLATE_STATUS => {
                TemplateStatusUpdate::from_value(value).map(ChangeValue::TemplateStatus)
            }
            _ => Ok(ChangeValue::Other(value)),
        }
    }
}

impl Notification {
    /// Every `messages` change, with the entry (WABA) it came in.
    pub fn messages_values(&self) -> impl Iterator<Item = (&Entry, &MessagesValue)> {
        self.entry.iter().flat_map(|entry| {
            entry.changes.iter().filter_map(move |c| match &c.value {
                ChangeValue::Messages(v) => Some((entry, v)),
                _ => None,
            })
        })
    }

    /// Every template status update, with the entry (WABA) it came in.
    pub fn template_status_updates(&self) -> impl Iterator<Item = (&Entry, &TemplateStatusUpdate)> {
        self.entry.iter().flat_map(|entry| {
            entry.changes.iter().filter_map(move |c| match &c.value {
                ChangeValue::TemplateStatus(t) => Some((entry, t)),
                _ => None,
            })
        })
    }

    /// Every inbound message, with the value (metadata, contacts) around it.
    pub fn inbound_messages(&self) -> impl Iterator<Item = (&MessagesValue, &InboundMessage)> {
        self.messages_values()
            .flat_map(|(_, v)| v.messages.iter().map(move |m| (v, m)))
    }

    /// Every status update, with the value (metadata) around it.
    pub fn statuses(&self) -> impl Iterator<Item = (&MessagesValue, &Status)> {
        self.messages_values()
            .flat_map(|(_, v)| v.statuses.iter().map(move |s| (v, s)))
    }

    /// The distinct business phone number ids addressed, in order of appearance.
    pub fn phone_number_ids(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for (_, v) in self.messages_values() {
            let id = v.metadata.phone_number_id.as_str();
            if seen.insert(id) {
                out.push(id);
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------
// `messages` change value
// ---------------------------------------------------------------------------

/// The value of a `messages` change. Missing arrays are empty.
#[derive(Debug, Clone, PartialEq)]
pub struct MessagesValue {
    /// Always `"whatsapp"` (assumed when absent).
    pub messaging_product: String,
    pub metadata: Metadata,
    pub contacts: Vec<Contact>,
    pub messages: Vec<InboundMessage>,
    pub statuses: Vec<Status>,
    /// Value-level errors (the notification reports a problem, not a message).
    pub errors: Vec<CloudError>,
}

/// The business phone number a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Metadata {
    #[serde(deserialize_with = "de_string")]
    pub display_phone_number: String,
    #[serde(deserialize_with = "de_string")]
    pub phone_number_id: String,
}

/// A WhatsApp user the change mentions (sender of messages, recipient of
/// delivered/read statuses).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Contact {
    /// The user's phone number / WhatsApp id; empty when Meta omits it (user
    /// with a username whose number is not shared, see module docs).
    #[serde(default, deserialize_with = "de_string_or_empty")]
    pub wa_id: String,
    /// Business-scoped user id (BSUID), e.g. `US.13491208655302741918`.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Parent BSUID, when enabled for the business.
    #[serde(default)]
    pub parent_user_id: Option<String>,
    /// Two-letter country code of the user's number, sent alongside BSUIDs.
    #[serde(default)]
    pub country_code: Option<String>,
    /// Only with the identity change check enabled.
    #[serde(default)]
    pub identity_key_hash: Option<String>,
    #[serde(default)]
    pub profile: Option<Profile>,
}

/// `contacts[].profile`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub name: Option<String>,
    /// The user's WhatsApp username, when they have one.
    #[serde(default)]
    pub username: Option<String>,
}

impl Contact {
    /// The phone number if known, else the BSUID, else `""`.
    pub fn id(&self) -> &str {
        if !self.wa_id.is_empty() {
            &self.wa_id
        } else {
            self.user_id.as_deref().unwrap_or("")
        }
    }

    /// The profile name, if any.
    pub fn name(&self) -> Option<&str> {
        self.profile.as_ref()?.name.as_deref()
    }
}

#[derive(Deserialize)]
struct MessagesHead {
    #[serde(default = "default_messaging_product")]
    messaging_product: String,
    metadata: Metadata,
    #[serde(default, deserialize_with = "de_vec")]
    contacts: Vec<Contact>,
    #[serde(default, deserialize_with = "de_vec")]
    errors: Vec<CloudError>,
}

fn default_messaging_product() -> String {
    "whatsapp".to_owned()
}

impl MessagesValue {
    /// Types a `messages` change value, taking ownership so that each
    /// message's and status's JSON moves into its `raw` without copying.
    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        let Value::Object(mut map) = value else {
            return Err(invalid_type(&value, "a `messages` value object"));
        };
        let messages = take_array(&mut map, "messages")?;
        let statuses = take_array(&mut map, "statuses")?;
        let head = MessagesHead::deserialize(Value::Object(map))?;

        let messages = messages
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                InboundMessage::from_value(m)
                    .map_err(|e| de::Error::custom(format_args!("messages[{i}]: {e}")))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        let statuses = statuses
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                Status::from_value(s)
                    .map_err(|e| de::Error::custom(format_args!("statuses[{i}]: {e}")))
            })
            .collect::<Result<Vec<_>, serde_json::Error>>()?;

        Ok(MessagesValue {
            messaging_product: head.messaging_product,
            metadata: head.metadata,
            contacts: head.contacts,
            messages,
            statuses,
            errors: head.errors,
        })
    }

    /// The contact entry describing `message`'s sender: matched on phone
    /// number or BSUID, or the only contact when there is exactly one.
    pub fn contact_for(&self, message: &InboundMessage) -> Option<&Contact> {
        let by_id = self.contacts.iter().find(|c| {
            (!message.from.is_empty() && c.wa_id == message.from)
                || (message.from_user_id.is_some() && c.user_id == message.from_user_id)
        });
        match by_id {
            Some(c) => Some(c),
            None if self.contacts.len() == 1 => self.contacts.first(),
            None => None,
        }
    }
}

impl<'de> Deserialize<'de> for MessagesValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_value(Value::deserialize(d)?).map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Inbound messages
// ---------------------------------------------------------------------------

/// A message a WhatsApp user sent to the business.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    /// The sender's phone number; empty when Meta omits it (see module docs).
    pub from: String,
    /// The sender's business-scoped user id (BSUID).
    pub from_user_id: Option<String>,
    /// The sender's parent BSUID, when enabled.
    pub from_parent_user_id: Option<String>,
    /// Set when the message was sent in a group chat.
    pub group_id: Option<String>,
    /// The wamid.
    pub id: String,
    /// Unix seconds, as sent (a decimal string).
    pub timestamp: String,
    /// Reply/button-tap/forward/product context.
    pub context: Option<MessageContext>,
    /// Click-to-WhatsApp ad (or post) the user came from.
    pub referral: Option<Referral>,
    /// Message-level errors (`unsupported` messages carry 131051/131060 here).
    pub errors: Vec<CloudError>,
    pub content: MessageContent,
    /// The complete original JSON object of this message, unknown fields and
    /// all: what gets stored as the message content.
    pub raw: Value,
}

#[derive(Deserialize)]
struct MessageHead<'a> {
    #[serde(default, deserialize_with = "de_string_or_empty")]
    from: String,
    #[serde(default)]
    from_user_id: Option<String>,
    #[serde(default)]
    from_parent_user_id: Option<String>,
    #[serde(default)]
    group_id: Option<String>,
    id: String,
    #[serde(deserialize_with = "de_string")]
    timestamp: String,
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default)]
    context: Option<MessageContext>,
    #[serde(default)]
    referral: Option<Referral>,
    #[serde(default, deserialize_with = "de_vec")]
    errors: Vec<CloudError>,
}

impl InboundMessage {
    /// Types one message object and keeps it as `raw`.
    pub fn from_value(raw: Value) -> Result<Self, serde_json::Error> {
        if !raw.is_object() {
            return Err(invalid_type(&raw, "a message object"));
        }
        let head = MessageHead::deserialize(&raw)?;
        let content = MessageContent::from_message(&head.kind, &raw)
            .map_err(|e| de::Error::custom(format_args!("message {}: {e}", head.id)))?;
        let MessageHead {
            from,
            from_user_id,
            from_parent_user_id,
            group_id,
            id,
            timestamp,
            kind,
            context,
            referral,
            errors,
        } = head;
        // `kind` borrows from `raw`; end that borrow before `raw` moves.
        drop(kind);
        Ok(InboundMessage {
            from,
            from_user_id,
            from_parent_user_id,
            group_id,
            id,
            timestamp,
            context,
            referral,
            errors,
            content,
            raw,
        })
    }

    /// The `type` string as sent: `"text"`, `"image"`, `"some_future_type"`.
    pub fn kind(&self) -> &str {
        self.content.kind()
    }

    /// `timestamp` as unix seconds.
    pub fn unix_timestamp(&self) -> Option<i64> {
        parse_unix(&self.timestamp)
    }

    /// `timestamp` as a UTC date-time.
    pub fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp(self.unix_timestamp()?, 0)
    }

    /// The phone number if known, else the BSUID, else `""`.
    pub fn sender_id(&self) -> &str {
        if !self.from.is_empty() {
            &self.from
        } else {
            self.from_user_id.as_deref().unwrap_or("")
        }
    }

    /// The wamid this message replies to (quoted reply or button tap).
    pub fn reply_to(&self) -> Option<&str> {
        self.context.as_ref()?.id.as_deref()
    }

    /// Short human text for notifications: text body, media caption, button
    /// text, interactive title, reaction emoji, location name, order text,
    /// system body. `None` when there is nothing to show (reaction removed…).
    pub fn text_preview(&self) -> Option<&str> {
        self.content.text_preview()
    }
}

impl<'de> Deserialize<'de> for InboundMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_value(Value::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// The type-specific part of an [`InboundMessage`].
#[derive(Debug, Clone, PartialEq)]
pub enum MessageContent {
    Text(Text),
    Image(Media),
    Audio(Media),
    Video(Media),
    Document(Media),
    Sticker(Media),
    Location(Location),
    /// Shared contact cards.
    Contacts(Vec<SharedContact>),
    Interactive(Interactive),
    /// Quick-reply button of a template.
    Button(Button),
    Reaction(Reaction),
    Order(Order),
    System(System),
    /// `type: "unsupported"`; the reason (131051, 131060) is in
    /// [`InboundMessage::errors`].
    Unsupported(Unsupported),
    /// `type: "request_welcome"`: the user opened the chat for the first time.
    RequestWelcome,
    /// Any other `type`; the data is in [`InboundMessage::raw`].
    Unknown {
        kind: String,
    },
}

impl MessageContent {
    /// Picks the content for `kind` out of the message object `msg`.
    fn from_message(kind: &str, msg: &Value) -> Result<Self, serde_json::Error> {
        use MessageContent as C;
        Ok(match kind {
            "text" => C::Text(part(msg, "text")?),
            "image" => C::Image(part(msg, "image")?),
            "audio" => C::Audio(part(msg, "audio")?),
            "video" => C::Video(part(msg, "video")?),
            "document" => C::Document(part(msg, "document")?),
            "sticker" => C::Sticker(part(msg, "sticker")?),
            "location" => C::Location(part(msg, "location")?),
            "contacts" => C::Contacts(part(msg, "contacts")?),
            "interactive" => C::Interactive(Interactive::from_json(required(msg, "interactive")?)?),
            "button" => C::Button(part(msg, "button")?),
            "reaction" => C::Reaction(part(msg, "reaction")?),
            "order" => C::Order(part(msg, "order")?),
            "system" => C::System(part(msg, "system")?),
            "unsupported" => C::Unsupported(match msg.get("unsupported") {
                Some(v) if !v.is_null() => Unsupported::deserialize(v)?,
                _ => Unsupported::default(),
            }),
            "request_welcome" => C::RequestWelcome,
            other => C::Unknown {
                kind: other.to_owned(),
            },
        })
    }

    /// The message `type` this content came from.
    pub fn kind(&self) -> &str {
        match self {
            MessageContent::Text(_) => "text",
            MessageContent::Image(_) => "image",
            MessageContent::Audio(_) => "audio",
            MessageContent::Video(_) => "video",
            MessageContent::Document(_) => "document",
            MessageContent::Sticker(_) => "sticker",
            MessageContent::Location(_) => "location",
            MessageContent::Contacts(_) => "contacts",
            MessageContent::Interactive(_) => "interactive",
            MessageContent::Button(_) => "button",
            MessageContent::Reaction(_) => "reaction",
            MessageContent::Order(_) => "order",
            MessageContent::System(_) => "system",
            MessageContent::Unsupported(_) => "unsupported",
            MessageContent::RequestWelcome => "request_welcome",
            MessageContent::Unknown { kind } => kind,
        }
    }

    /// The media object of image/audio/video/document/sticker messages.
    pub fn media(&self) -> Option<&Media> {
        match self {
            MessageContent::Image(m)
            | MessageContent::Audio(m)
            | MessageContent::Video(m)
            | MessageContent::Document(m)
            | MessageContent::Sticker(m) => Some(m),
            _ => None,
        }
    }

    /// See [`InboundMessage::text_preview`].
    pub fn text_preview(&self) -> Option<&str> {
        let s = match self {
            MessageContent::Text(t) => Some(t.body.as_str()),
            MessageContent::Image(m)
            | MessageContent::Audio(m)
            | MessageContent::Video(m)
            | MessageContent::Document(m)
            | MessageContent::Sticker(m) => m.caption.as_deref(),
            MessageContent::Location(l) => l.name.as_deref().or(l.address.as_deref()),
            MessageContent::Contacts(c) => c
                .first()
                .and_then(|c| c.name.as_ref())
                .and_then(|n| n.formatted_name.as_deref()),
            MessageContent::Interactive(i) => i.title(),
            MessageContent::Button(b) => Some(b.text.as_str()),
            MessageContent::Reaction(r) => r.emoji.as_deref(),
            MessageContent::Order(o) => o.text.as_deref(),
            MessageContent::System(s) => Some(s.body.as_str()),
            MessageContent::Unsupported(_)
            | MessageContent::RequestWelcome
            | MessageContent::Unknown { .. } => None,
        };
        s.filter(|s| !s.is_empty())
    }
}

/// `text` content.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Text {
    pub body: String,
}

/// Media content (image, audio, video, document, sticker).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Media {
    /// Media id for `GET /<version>/<media_id>` (valid 7 days).
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    #[serde(default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub sha256: Option<String>,
    /// Image, video and document only.
    #[serde(default)]
    pub caption: Option<String>,
    /// Document only.
    #[serde(default)]
    pub filename: Option<String>,
    /// Audio only: `true` for voice notes.
    #[serde(default)]
    pub voice: Option<bool>,
    /// Sticker only.
    #[serde(default)]
    pub animated: Option<bool>,
    /// Direct download URL (needs the bearer token), when Meta includes it.
    #[serde(default)]
    pub url: Option<String>,
}

/// `location` content.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Location {
    #[serde(deserialize_with = "de_f64")]
    pub latitude: f64,
    #[serde(deserialize_with = "de_f64")]
    pub longitude: f64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// One shared contact card of a `contacts` message. All parts optional.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct SharedContact {
    #[serde(default)]
    pub name: Option<ContactName>,
    #[serde(default, deserialize_with = "de_vec")]
    pub phones: Vec<ContactPhone>,
    #[serde(default, deserialize_with = "de_vec")]
    pub emails: Vec<ContactEmail>,
    #[serde(default, deserialize_with = "de_vec")]
    pub addresses: Vec<ContactAddress>,
    #[serde(default)]
    pub org: Option<ContactOrg>,
    #[serde(default, deserialize_with = "de_vec")]
    pub urls: Vec<ContactUrl>,
    #[serde(default)]
    pub birthday: Option<String>,
    /// vCard text (contacts shared through `REQUEST_CONTACT_INFO`).
    #[serde(default)]
    pub vcard: Option<String>,
    /// `contact_request` or `other`, with `vcard`.
    #[serde(default)]
    pub origin: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ContactName {
    #[serde(default)]
    pub formatted_name: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub suffix: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ContactPhone {
    #[serde(default)]
    pub phone: Option<String>,
    /// Set when the number is on WhatsApp.
    #[serde(default)]
    pub wa_id: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ContactEmail {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ContactAddress {
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub zip: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ContactOrg {
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct ContactUrl {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `interactive` content: the user's answer to an interactive message.
#[derive(Debug, Clone, PartialEq)]
pub enum Interactive {
    /// Tap on a reply button.
    ButtonReply { id: String, title: String },
    /// Pick from a list message.
    ListReply {
        id: String,
        title: String,
        description: Option<String>,
    },
    /// Flow (or address message) response; `response_json` is a JSON string.
    NfmReply {
        response_json: String,
        body: Option<String>,
        name: Option<String>,
    },
    /// Answer to a call permission request (Calling API).
    CallPermissionReply(CallPermissionReply),
    /// Any other interactive `type`: the whole `interactive` object.
    Other(Value),
}

/// `interactive.call_permission_reply`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct CallPermissionReply {
    /// `accept` or `reject`.
    #[serde(default)]
    pub response: Option<String>,
    #[serde(default)]
    pub is_permanent: Option<bool>,
    #[serde(default, deserialize_with = "de_opt_i64")]
    pub expiration_timestamp: Option<i64>,
    /// `user_action` or `automatic`.
    #[serde(default)]
    pub response_source: Option<String>,
}

impl Interactive {
    fn from_json(v: &Value) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        struct Reply {
            #[serde(deserialize_with = "de_string")]
            id: String,
            title: String,
            #[serde(default)]
            description: Option<String>,
        }
        #[derive(Deserialize)]
        struct Nfm {
            response_json: NfmJson,
            #[serde(default)]
            body: Option<String>,
            #[serde(default)]
            name: Option<String>,
        }
        /// `response_json` is documented as a string; keep an object as text.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NfmJson {
            Text(String),
            Json(Value),
        }

        let Some(kind) = v.get("type").and_then(Value::as_str) else {
            return Ok(Interactive::Other(v.clone()));
        };
        Ok(match kind {
            "button_reply" => {
                let r: Reply = part(v, "button_reply")?;
                Interactive::ButtonReply {
                    id: r.id,
                    title: r.title,
                }
            }
            "list_reply" => {
                let r: Reply = part(v, "list_reply")?;
                Interactive::ListReply {
                    id: r.id,
                    title: r.title,
                    description: r.description,
                }
            }
            "nfm_reply" => {
                let n: Nfm = part(v, "nfm_reply")?;
                Interactive::NfmReply {
                    response_json: match n.response_json {
                        NfmJson::Text(s) => s,
                        NfmJson::Json(j) => j.to_string(),
                    },
                    body: n.body,
                    name: n.name,
                }
            }
            "call_permission_reply" => {
                Interactive::CallPermissionReply(part(v, "call_permission_reply")?)
            }
            _ => Interactive::Other(v.clone()),
        })
    }

    /// The interactive `type` (`button_reply`, `list_reply`, `nfm_reply`, …).
    pub fn kind(&self) -> &str {
        match self {
            Interactive::ButtonReply { .. } => "button_reply",
            Interactive::ListReply { .. } => "list_reply",
            Interactive::NfmReply { .. } => "nfm_reply",
            Interactive::CallPermissionReply(_) => "call_permission_reply",
            Interactive::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The id the business gave the button/row.
    pub fn reply_id(&self) -> Option<&str> {
        match self {
            Interactive::ButtonReply { id, .. } | Interactive::ListReply { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The title of the tapped button/row, or the flow's body text.
    pub fn title(&self) -> Option<&str> {
        match self {
            Interactive::ButtonReply { title, .. } | Interactive::ListReply { title, .. } => {
                Some(title)
            }
            Interactive::NfmReply { body, .. } => body.as_deref(),
            _ => None,
        }
    }
}

/// `button` content: a template quick-reply button tap.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Button {
    /// The payload the business set on the button.
    #[serde(default)]
    pub payload: Option<String>,
    /// The button label.
    pub text: String,
}

/// `reaction` content. A removed reaction has no (or an empty) `emoji`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reaction {
    /// The wamid reacted to.
    pub message_id: String,
    #[serde(default)]
    pub emoji: Option<String>,
}

impl Reaction {
    /// `true` when the user took a reaction back.
    pub fn is_removal(&self) -> bool {
        self.emoji.as_deref().is_none_or(str::is_empty)
    }
}

/// `order` content: a cart sent from a catalog.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order {
    #[serde(deserialize_with = "de_string")]
    pub catalog_id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "de_vec")]
    pub product_items: Vec<ProductItem>,
}

/// One line of an [`Order`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProductItem {
    #[serde(deserialize_with = "de_string")]
    pub product_retailer_id: String,
    #[serde(deserialize_with = "de_i64")]
    pub quantity: i64,
    /// Unit price.
    #[serde(deserialize_with = "de_f64")]
    pub item_price: f64,
    pub currency: String,
}

/// `system` content: number or user-id change notices.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct System {
    /// Human text, e.g. "User A changed from 1650… to 1219…" (empty if absent).
    #[serde(default, deserialize_with = "de_string_or_empty")]
    pub body: String,
    /// `user_changed_number`, `user_changed_user_id`, legacy
    /// `customer_changed_number` / `customer_identity_changed`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The new WhatsApp id (current payloads).
    #[serde(default, deserialize_with = "de_opt_string")]
    pub wa_id: Option<String>,
    /// Legacy name of the new WhatsApp id.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub new_wa_id: Option<String>,
    /// Legacy: the customer's old id.
    #[serde(default)]
    pub customer: Option<String>,
    /// Legacy: identity hash for `customer_identity_changed`.
    #[serde(default)]
    pub identity: Option<String>,
    /// The user's (new) BSUID.
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub parent_user_id: Option<String>,
    /// The BSUID before a `user_changed_user_id`.
    #[serde(default)]
    pub previous_user_id: Option<String>,
    #[serde(default)]
    pub previous_parent_user_id: Option<String>,
}

impl System {
    /// The user's new WhatsApp id, whichever name Meta used.
    pub fn new_id(&self) -> Option<&str> {
        self.wa_id.as_deref().or(self.new_wa_id.as_deref())
    }
}

/// `unsupported` content.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Unsupported {
    /// What the user sent (`poll_update`, `edit`, `group_invite`, …).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// `context` of an inbound message.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct MessageContext {
    /// The business number the replied-to message came from.
    #[serde(default)]
    pub from: Option<String>,
    /// The wamid replied to (quoted reply, button tap, product inquiry).
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "de_bool_or_false")]
    pub forwarded: bool,
    /// Forwarded more than 5 times.
    #[serde(default, deserialize_with = "de_bool_or_false")]
    pub frequently_forwarded: bool,
    /// `{catalog_id, product_retailer_id}` for product inquiries.
    #[serde(default)]
    pub referred_product: Option<Value>,
}

/// `referral`: the click-to-WhatsApp ad or post the user came from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Referral {
    #[serde(default)]
    pub source_url: Option<String>,
    #[serde(default, deserialize_with = "de_opt_string")]
    pub source_id: Option<String>,
    /// `ad` or `post`.
    #[serde(default)]
    pub source_type: Option<String>,
    #[serde(default)]
    pub headline: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// `image` or `video`.
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub image_url: Option<String>,
    #[serde(default)]
    pub video_url: Option<String>,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    /// Click id for conversion reporting.
    #[serde(default)]
    pub ctwa_clid: Option<String>,
    #[serde(default)]
    pub welcome_message: Option<WelcomeMessage>,
}

/// `referral.welcome_message`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct WelcomeMessage {
    #[serde(default)]
    pub text: Option<String>,
}

// ---------------------------------------------------------------------------
// Statuses
// ---------------------------------------------------------------------------

/// A status update for a message the business sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The wamid of the business's message.
    pub id: String,
    pub status: StatusKind,
    /// Unix seconds, as sent.
    pub timestamp: String,
    /// Phone number (or group id) the message was sent to; empty when the
    /// message was sent to a BSUID (see module docs).
    pub recipient_id: String,
    /// The recipient's BSUID.
    pub recipient_user_id: Option<String>,
    pub recipient_parent_user_id: Option<String>,
    /// `individual` or `group`.
    pub recipient_type: Option<String>,
    pub conversation: Option<Conversation>,
    pub pricing: Option<Pricing>,
    /// Why a `failed` status failed.
    pub errors: Vec<CloudError>,
    /// Echo of what the business put in the send request.
    pub biz_opaque_callback_data: Option<String>,
    /// The complete original JSON object of this status.
    pub raw: Value,
}

#[derive(Deserialize)]
struct StatusHead {
    #[serde(deserialize_with = "de_string")]
    id: String,
    status: StatusKind,
    #[serde(deserialize_with = "de_string")]
    timestamp: String,
    #[serde(default, deserialize_with = "de_string_or_empty")]
    recipient_id: String,
    #[serde(default)]
    recipient_user_id: Option<String>,
    #[serde(default)]
    recipient_parent_user_id: Option<String>,
    #[serde(default)]
    recipient_type: Option<String>,
    #[serde(default)]
    conversation: Option<Conversation>,
    #[serde(default)]
    pricing: Option<Pricing>,
    #[serde(default, deserialize_with = "de_vec")]
    errors: Vec<CloudError>,
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
}

impl Status {
    /// Types one status object and keeps it as `raw`.
    pub fn from_value(raw: Value) -> Result<Self, serde_json::Error> {
        if !raw.is_object() {
            return Err(invalid_type(&raw, "a status object"));
        }
        let h = StatusHead::deserialize(&raw)?;
        Ok(Status {
            id: h.id,
            status: h.status,
            timestamp: h.timestamp,
            recipient_id: h.recipient_id,
            recipient_user_id: h.recipient_user_id,
            recipient_parent_user_id: h.recipient_parent_user_id,
            recipient_type: h.recipient_type,
            conversation: h.conversation,
            pricing: h.pricing,
            errors: h.errors,
            biz_opaque_callback_data: h.biz_opaque_callback_data,
            raw,
        })
    }

    /// `timestamp` as unix seconds.
    pub fn unix_timestamp(&self) -> Option<i64> {
        parse_unix(&self.timestamp)
    }

    /// `timestamp` as a UTC date-time.
    pub fn time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp(self.unix_timestamp()?, 0)
    }

    /// The code of the first error, if any.
    pub fn error_code(&self) -> Option<i64> {
        self.errors.first().map(|e| e.code)
    }

    /// The first error, if any.
    pub fn first_error(&self) -> Option<&CloudError> {
        self.errors.first()
    }

    /// The phone number (or group id) if known, else the BSUID, else `""`.
    pub fn recipient(&self) -> &str {
        if !self.recipient_id.is_empty() {
            &self.recipient_id
        } else {
            self.recipient_user_id.as_deref().unwrap_or("")
        }
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_value(Value::deserialize(d)?).map_err(de::Error::custom)
    }
}

/// The `status` of a [`Status`].
///
/// Ordering rule ("never move backwards"): store a new status only when
/// `new.rank() > current.rank()` (see [`StatusKind::supersedes`]). Meta does
/// not guarantee webhook order, sends at most one webhook per state, and may
/// skip `delivered` when a message is read at once (`read` implies
/// delivered), so the rank, not arrival order, decides:
///
/// | status | rank |
/// |---|---|
/// | unknown (`Other`) | 0 — never overrides anything, anything known overrides it |
/// | `sent` | 1 |
/// | `delivered` | 2 |
/// | `read` | 3 |
/// | `played` (voice notes) | 4 |
/// | `failed` | 5 — terminal: Meta reports `failed` when the message could not be sent or delivered, and nothing after it is applied |
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
    /// A value this model does not know yet, as sent.
    Other(String),
}

impl StatusKind {
    /// The status for a wire string; unknown strings become `Other`.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "sent" => StatusKind::Sent,
            "delivered" => StatusKind::Delivered,
            "read" => StatusKind::Read,
            "played" => StatusKind::Played,
            "failed" => StatusKind::Failed,
            other => StatusKind::Other(other.to_owned()),
        }
    }

    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Played => "played",
            StatusKind::Failed => "failed",
            StatusKind::Other(s) => s,
        }
    }

    /// Position in the never-move-backwards order (see the type docs).
    pub fn rank(&self) -> u8 {
        match self {
            StatusKind::Other(_) => 0,
            StatusKind::Sent => 1,
            StatusKind::Delivered => 2,
            StatusKind::Read => 3,
            StatusKind::Played => 4,
            StatusKind::Failed => 5,
        }
    }

    /// Whether a message currently in `current` should move to `self`.
    pub fn supersedes(&self, current: &StatusKind) -> bool {
        self.rank() > current.rank()
    }

    /// `failed` is the only terminal state.
    pub fn is_terminal(&self) -> bool {
        matches!(self, StatusKind::Failed)
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for StatusKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StatusKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusKind, E> {
                Ok(StatusKind::from_wire(v))
            }
        }
        d.deserialize_str(V)
    }
}

impl Serialize for StatusKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `statuses[].conversation` (per-conversation pricing; being phased out).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Conversation {
    #[serde(deserialize_with = "de_string")]
    pub id: String,
    /// Unix seconds; only on the first `sent` of a conversation.
    #[serde(default, deserialize_with = "de_opt_string")]
    pub expiration_timestamp: Option<String>,
    #[serde(default)]
    pub origin: Option<Origin>,
}

/// `conversation.origin`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Origin {
    /// `service`, `utility`, `marketing`, `authentication`, `referral_conversion`, …
    #[serde(rename = "type")]
    pub kind: String,
}

/// `statuses[].pricing`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Pricing {
    /// Deprecated by Meta, still sent.
    #[serde(default)]
    pub billable: Option<bool>,
    /// `CBP` (per conversation) or `PMP` (per message).
    #[serde(default)]
    pub pricing_model: Option<String>,
    /// `service`, `utility`, `marketing`, `authentication`, …
    #[serde(default)]
    pub category: Option<String>,
    /// `regular`, `free_customer_service`, `free_entry_point` (PMP).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A Cloud API error as it appears in webhooks (value, message and status level).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CloudError {
    /// Build logic on this (see [`CloudError::code`]), not on titles.
    #[serde(deserialize_with = "de_i64")]
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<ErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
}

/// `errors[].error_data`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct ErrorData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
}

impl CloudError {
    /// The code as the error-code enum.
    pub fn code(&self) -> CloudErrorCode {
        CloudErrorCode::from_code(self.code)
    }

    /// `error_data.details`, if any.
    pub fn details(&self) -> Option<&str> {
        self.error_data.as_ref()?.details.as_deref()
    }
}

// ---------------------------------------------------------------------------
// Template status updates
// ---------------------------------------------------------------------------

/// The value of a `message_template_status_update` change.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateStatusUpdate {
    /// `APPROVED`, `REJECTED`, `PENDING`, `PAUSED`, `DISABLED`, `FLAGGED`,
    /// `IN_APPEAL`, `ARCHIVED`, `PENDING_DELETION`, … as sent.
    pub event: String,
    /// Meta sends a number; kept as its decimal string (as the management API
    /// returns template ids). A string is accepted too.
    pub message_template_id: String,
    pub message_template_name: String,
    pub message_template_language: String,
    /// `NONE`, `INVALID_FORMAT`, `ABUSIVE_CONTENT`, … when given.
    pub reason: Option<String>,
    pub message_template_category: Option<String>,
    /// With locked/unlocked and some pause events.
    pub other_info: Option<TemplateOtherInfo>,
    /// With `DISABLED`.
    pub disable_info: Option<TemplateDisableInfo>,
    /// With `INVALID_FORMAT` rejections; shape kept as sent.
    pub rejection_info: Option<Value>,
    /// The complete original value.
    pub raw: Value,
}

/// `other_info` of a template status update.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct TemplateOtherInfo {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// `disable_info` of a template status update.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct TemplateDisableInfo {
    #[serde(default, deserialize_with = "de_opt_string")]
    pub disable_date: Option<String>,
}

#[derive(Deserialize)]
struct TemplateHead {
    event: String,
    #[serde(deserialize_with = "de_string")]
    message_template_id: String,
    #[serde(default, deserialize_with = "de_string_or_empty")]
    message_template_name: String,
    #[serde(default, deserialize_with = "de_string_or_empty")]
    message_template_language: String,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message_template_category: Option<String>,
    #[serde(default)]
    other_info: Option<TemplateOtherInfo>,
    #[serde(default)]
    disable_info: Option<TemplateDisableInfo>,
    #[serde(default)]
    rejection_info: Option<Value>,
}

impl TemplateStatusUpdate {
    /// Types a template status value and keeps it as `raw`.
    pub fn from_value(raw: Value) -> Result<Self, serde_json::Error> {
        if !raw.is_object() {
            return Err(invalid_type(&raw, "a template status object"));
        }
        let h = TemplateHead::deserialize(&raw)?;
        Ok(TemplateStatusUpdate {
            event: h.event,
            message_template_id: h.message_template_id,
            message_template_name: h.message_template_name,
            message_template_language: h.message_template_language,
            reason: h.reason,
            message_template_category: h.message_template_category,
            other_info: h.other_info,
            disable_info: h.disable_info,
            rejection_info: h.rejection_info,
            raw,
        })
    }
}

impl<'de> Deserialize<'de> for TemplateStatusUpdate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::from_value(Value::deserialize(d)?).map_err(de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn parse_unix(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid_type(v: &Value, expected: &str) -> serde_json::Error {
    de::Error::custom(format_args!(
        "invalid type: {}, expected {expected}",
        json_kind(v)
    ))
}

/// Takes an array out of `map` by move (absent or `null` = empty).
fn take_array(
    map: &mut Map<String, Value>,
    key: &'static str,
) -> Result<Vec<Value>, serde_json::Error> {
    match map.remove(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(de::Error::custom(format_args!(
            "`{key}`: invalid type: {}, expected an array",
            json_kind(&other)
        ))),
    }
}

/// `msg[key]`, required and not null.
fn required<'v>(msg: &'v Value, key: &'static str) -> Result<&'v Value, serde_json::Error> {
    match msg.get(key) {
        Some(v) if !v.is_null() => Ok(v),
        _ => Err(de::Error::missing_field(key)),
    }
}

/// Deserializes the required object `msg[key]` (borrowing, no copy of `msg`).
fn part<T: DeserializeOwned>(msg: &Value, key: &'static str) -> Result<T, serde_json::Error> {
    T::deserialize(required(msg, key)?).map_err(|e| de::Error::custom(format_args!("`{key}`: {e}")))
}

/// A string, or a number kept as its decimal text.
struct StringLike;

impl Visitor<'_> for StringLike {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

fn de_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(StringLike)
}

/// Optional string-or-number; `null` is `None`.
fn de_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            de_string(d).map(Some)
        }
    }
    d.deserialize_option(V)
}

/// String-or-number where absent/`null` is `""` (identity fields, see module docs).
fn de_string_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    de_opt_string(d).map(Option::unwrap_or_default)
}

/// An integer, also from a float with no fraction or a decimal string.
fn de_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer or a decimal string")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format_args!("integer {v} out of range")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(E::custom(format_args!("expected an integer, found {v}")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format_args!("expected an integer, found {v:?}")))
        }
    }
    d.deserialize_any(V)
}

fn de_opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, a decimal string or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            de_i64(d).map(Some)
        }
    }
    d.deserialize_option(V)
}

/// A number, also from a decimal string.
fn de_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = f64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number or a decimal string")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
            Ok(v as f64)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
            Ok(v)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
            v.trim()
                .parse()
                .map_err(|_| E::custom(format_args!("expected a number, found {v:?}")))
        }
    }
    d.deserialize_any(V)
}

/// A list where `null` counts as empty.
fn de_vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Option::<Vec<T>>::deserialize(d).map(Option::unwrap_or_default)
}

/// A flag where `null` counts as `false`.
fn de_bool_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Option::<bool>::deserialize(d).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests;
