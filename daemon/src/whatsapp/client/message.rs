//! The outgoing message model (pure, no I/O).
//!
//! [`OutgoingMessage`] is what an outbox row stores (its serde form, tagged by
//! `type`); [`OutgoingMessage::to_json`] is the separate Cloud API wire body;
//! [`OutgoingMessage::validate`] checks WhatsApp's size limits so a message
//! Meta would refuse never leaves the daemon.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Text body limit, in characters.
pub const TEXT_MAX: usize = 4096;
/// Media caption limit, in characters.
pub const CAPTION_MAX: usize = 1024;
/// Interactive (buttons / list) body limit, in characters.
pub const INTERACTIVE_BODY_MAX: usize = 1024;
/// Interactive text header limit, in characters.
pub const HEADER_MAX: usize = 60;
/// Interactive footer limit, in characters.
pub const FOOTER_MAX: usize = 60;
/// Reply buttons per message.
pub const BUTTONS_MAX: usize = 3;
/// Reply button id limit, in characters.
pub const BUTTON_ID_MAX: usize = 256;
/// Reply button title limit, in characters.
pub const BUTTON_TITLE_MAX: usize = 20;
/// List button label limit, in characters.
pub const LIST_BUTTON_MAX: usize = 20;
/// Sections per list message.
pub const SECTIONS_MAX: usize = 10;
/// Rows per list message, over all sections.
pub const ROWS_MAX: usize = 10;
/// List section title limit, in characters.
pub const SECTION_TITLE_MAX: usize = 24;
/// List row id limit, in characters.
pub const ROW_ID_MAX: usize = 200;
/// List row title limit, in characters.
pub const ROW_TITLE_MAX: usize = 24;
/// List row description limit, in characters.
pub const ROW_DESCRIPTION_MAX: usize = 72;
/// `biz_opaque_callback_data` limit, in characters.
pub const BIZ_OPAQUE_MAX: usize = 512;
/// Template name limit, in characters.
pub const TEMPLATE_NAME_MAX: usize = 512;
/// Highest template button index (buttons 0..=9).
pub const TEMPLATE_BUTTON_INDEX_MAX: u32 = 9;

/// A message to send to one WhatsApp user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutgoingMessage {
    /// The recipient (phone number / wa_id).
    pub to: String,
    /// The wamid replied to (`context.message_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    pub content: OutgoingContent,
    /// Echoed back by Meta on this message's status webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_opaque_callback_data: Option<String>,
}

/// What is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutgoingContent {
    /// Body 1..=4096 characters.
    Text {
        body: String,
        #[serde(default)]
        preview_url: bool,
    },
    Image(MediaRef),
    Video(MediaRef),
    Audio(MediaRef),
    Document(MediaRef),
    Sticker(MediaRef),
    /// A pre-approved template (the only kind allowed outside the 24 h window).
    Template {
        name: String,
        /// Language code, e.g. `en_US`.
        language: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        components: Vec<TemplateComponent>,
    },
    /// Interactive reply buttons.
    Buttons {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        buttons: Vec<ReplyButton>,
    },
    /// Interactive list.
    List {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        header: Option<String>,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        footer: Option<String>,
        /// The label of the button that opens the list.
        button: String,
        sections: Vec<ListSection>,
    },
    /// A reaction to a message; an empty emoji removes it.
    Reaction {
        message_id: String,
        #[serde(default)]
        emoji: String,
    },
    Location {
        latitude: f64,
        longitude: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        address: Option<String>,
    },
}

/// Media by uploaded `id` or by public `link` (exactly one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Not for audio or stickers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Documents only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

impl MediaRef {
    /// Media previously uploaded (a media id).
    pub fn id(id: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            ..Self::default()
        }
    }

    /// Media Meta fetches from a public URL.
    pub fn link(link: impl Into<String>) -> Self {
        Self {
            link: Some(link.into()),
            ..Self::default()
        }
    }

    /// With a caption.
    #[must_use]
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// With a file name (documents).
    #[must_use]
    pub fn with_filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }
}

/// The kind of a template component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateComponentKind {
    Header,
    Body,
    Button,
}

impl TemplateComponentKind {
    /// Meta's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Body => "body",
            Self::Button => "button",
        }
    }
}

/// Parameters for one component of a template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateComponent {
    #[serde(rename = "type")]
    pub kind: TemplateComponentKind,
    /// Buttons: `quick_reply`, `url`, `copy_code`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_type: Option<String>,
    /// Buttons: position 0..=9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    /// Meta's parameter objects as they are (`{"type":"text","text":..}`,
    /// `{"type":"image","image":{..}}`, `{"type":"payload","payload":..}`, …).
    #[serde(default)]
    pub parameters: Vec<Value>,
}

impl TemplateComponent {
    /// A header component.
    pub fn header(parameters: Vec<Value>) -> Self {
        Self {
            kind: TemplateComponentKind::Header,
            sub_type: None,
            index: None,
            parameters,
        }
    }

    /// A body component.
    pub fn body(parameters: Vec<Value>) -> Self {
        Self {
            kind: TemplateComponentKind::Body,
            sub_type: None,
            index: None,
            parameters,
        }
    }

    /// A button component.
    pub fn button(sub_type: impl Into<String>, index: u32, parameters: Vec<Value>) -> Self {
        Self {
            kind: TemplateComponentKind::Button,
            sub_type: Some(sub_type.into()),
            index: Some(index),
            parameters,
        }
    }
}

/// One reply button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyButton {
    /// Returned in the `button_reply` webhook (≤ 256 characters).
    pub id: String,
    /// 1..=20 characters.
    pub title: String,
}

/// One section of a list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListSection {
    /// ≤ 24 characters; required when there is more than one section.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

/// One row of a list message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRow {
    /// Returned in the `list_reply` webhook (≤ 200 characters).
    pub id: String,
    /// 1..=24 characters.
    pub title: String,
    /// ≤ 72 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl OutgoingContent {
    /// A text without link preview.
    pub fn text(body: impl Into<String>) -> Self {
        Self::Text {
            body: body.into(),
            preview_url: false,
        }
    }

    /// The Cloud API message `type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Text { .. } => "text",
            Self::Image(_) => "image",
            Self::Video(_) => "video",
            Self::Audio(_) => "audio",
            Self::Document(_) => "document",
            Self::Sticker(_) => "sticker",
            Self::Template { .. } => "template",
            Self::Buttons { .. } | Self::List { .. } => "interactive",
            Self::Reaction { .. } => "reaction",
            Self::Location { .. } => "location",
        }
    }

    /// The media reference of a media message.
    pub fn media(&self) -> Option<&MediaRef> {
        match self {
            Self::Image(m)
            | Self::Video(m)
            | Self::Audio(m)
            | Self::Document(m)
            | Self::Sticker(m) => Some(m),
            _ => None,
        }
    }
}

impl OutgoingMessage {
    /// A message of `content` to `to`.
    pub fn new(to: impl Into<String>, content: OutgoingContent) -> Self {
        Self {
            to: to.into(),
            reply_to: None,
            content,
            biz_opaque_callback_data: None,
        }
    }

    /// A text message.
    pub fn text(to: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(to, OutgoingContent::text(body))
    }

    /// As a reply to `message_id`.
    #[must_use]
    pub fn replying_to(mut self, message_id: impl Into<String>) -> Self {
        self.reply_to = Some(message_id.into());
        self
    }

    /// The Cloud API message `type`: `text`, `image`, `video`, `audio`,
    /// `document`, `sticker`, `template`, `interactive`, `reaction`, `location`.
    pub fn kind(&self) -> &'static str {
        self.content.kind()
    }

    /// Whether it is a template (allowed outside the 24 h window).
    pub fn is_template(&self) -> bool {
        matches!(self.content, OutgoingContent::Template { .. })
    }

    /// Checks WhatsApp's rules and size limits. The error names the field and
    /// the limit. Lengths count Unicode characters.
    pub fn validate(&self) -> Result<(), String> {
        required("to", &self.to, usize::MAX)?;
        if let Some(id) = &self.reply_to {
            required("reply_to", id, usize::MAX)?;
        }
        if let Some(data) = &self.biz_opaque_callback_data {
            max_len("biz_opaque_callback_data", data, BIZ_OPAQUE_MAX)?;
        }
        match &self.content {
            OutgoingContent::Text { body, .. } => required("text.body", body, TEXT_MAX),
            OutgoingContent::Image(m) => validate_media("image", m),
            OutgoingContent::Video(m) => validate_media("video", m),
            OutgoingContent::Audio(m) => validate_media("audio", m),
            OutgoingContent::Document(m) => validate_media("document", m),
            OutgoingContent::Sticker(m) => validate_media("sticker", m),
            OutgoingContent::Template {
                name,
                language,
                components,
            } => validate_template(name, language, components),
            OutgoingContent::Buttons {
                header,
                body,
                footer,
                buttons,
            } => {
                validate_interactive_texts("buttons", header, body, footer)?;
                validate_buttons(buttons)
            }
            OutgoingContent::List {
                header,
                body,
                footer,
                button,
                sections,
            } => {
                validate_interactive_texts("list", header, body, footer)?;
                required("list.button", button, LIST_BUTTON_MAX)?;
                validate_sections(sections)
            }
            OutgoingContent::Reaction { message_id, .. } => {
                required("reaction.message_id", message_id, usize::MAX)
            }
            OutgoingContent::Location {
                latitude,
                longitude,
                name,
                address,
            } => {
                coordinate("location.latitude", *latitude, 90.0)?;
                coordinate("location.longitude", *longitude, 180.0)?;
                if let Some(n) = name {
                    required("location.name", n, usize::MAX)?;
                }
                if let Some(a) = address {
                    required("location.address", a, usize::MAX)?;
                }
                Ok(())
            }
        }
    }

    /// Meta's request body for `POST /{version}/{phone_number_id}/messages`.
    pub fn to_json(&self) -> Value {
        let kind = self.kind();
        let mut body = Map::new();
        body.insert("messaging_product".into(), json!("whatsapp"));
        body.insert("recipient_type".into(), json!("individual"));
        body.insert("to".into(), json!(self.to));
        body.insert("type".into(), json!(kind));
        if let Some(id) = &self.reply_to {
            body.insert("context".into(), json!({ "message_id": id }));
        }
        if let Some(data) = &self.biz_opaque_callback_data {
            body.insert("biz_opaque_callback_data".into(), json!(data));
        }
        body.insert(kind.into(), self.content_json());
        Value::Object(body)
    }

    fn content_json(&self) -> Value {
        match &self.content {
            OutgoingContent::Text { body, preview_url } => {
                json!({ "preview_url": preview_url, "body": body })
            }
            OutgoingContent::Image(m)
            | OutgoingContent::Video(m)
            | OutgoingContent::Audio(m)
            | OutgoingContent::Document(m)
            | OutgoingContent::Sticker(m) => media_json(m),
            OutgoingContent::Template {
                name,
                language,
                components,
            } => {
                let mut t = Map::new();
                t.insert("name".into(), json!(name));
                t.insert("language".into(), json!({ "code": language }));
                if !components.is_empty() {
                    t.insert(
                        "components".into(),
                        Value::Array(components.iter().map(component_json).collect()),
                    );
                }
                Value::Object(t)
            }
            OutgoingContent::Buttons {
                header,
                body,
                footer,
                buttons,
            } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|b| json!({"type": "reply", "reply": {"id": b.id, "title": b.title}}))
                    .collect();
                interactive_json(
                    "button",
                    header,
                    body,
                    footer,
                    json!({ "buttons": buttons }),
                )
            }
            OutgoingContent::List {
                header,
                body,
                footer,
                button,
                sections,
            } => {
                let sections: Vec<Value> = sections.iter().map(section_json).collect();
                interactive_json(
                    "list",
                    header,
                    body,
                    footer,
                    json!({ "button": button, "sections": sections }),
                )
            }
            OutgoingContent::Reaction { message_id, emoji } => {
                json!({ "message_id": message_id, "emoji": emoji })
            }
            OutgoingContent::Location {
                latitude,
                longitude,
                name,
                address,
            } => {
                let mut l = Map::new();
                l.insert("latitude".into(), json!(latitude));
                l.insert("longitude".into(), json!(longitude));
                if let Some(n) = name {
                    l.insert("name".into(), json!(n));
                }
                if let Some(a) = address {
                    l.insert("address".into(), json!(a));
                }
                Value::Object(l)
            }
        }
    }
}

fn media_json(m: &MediaRef) -> Value {
    let mut o = Map::new();
    for (key, value) in [
        ("id", &m.id),
        ("link", &m.link),
        ("caption", &m.caption),
        ("filename", &m.filename),
    ] {
        if let Some(v) = value {
            o.insert(key.into(), json!(v));
        }
    }
    Value::Object(o)
}

fn component_json(c: &TemplateComponent) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(c.kind.as_str()));
    if let Some(s) = &c.sub_type {
        o.insert("sub_type".into(), json!(s));
    }
    if let Some(i) = c.index {
        // Meta documents the button index as a string ("0").
        o.insert("index".into(), json!(i.to_string()));
    }
    o.insert("parameters".into(), Value::Array(c.parameters.clone()));
    Value::Object(o)
}

fn section_json(s: &ListSection) -> Value {
    let rows: Vec<Value> = s
        .rows
        .iter()
        .map(|r| {
            let mut o = Map::new();
            o.insert("id".into(), json!(r.id));
            o.insert("title".into(), json!(r.title));
            if let Some(d) = &r.description {
                o.insert("description".into(), json!(d));
            }
            Value::Object(o)
        })
        .collect();
    let mut o = Map::new();
    if let Some(t) = &s.title {
        o.insert("title".into(), json!(t));
    }
    o.insert("rows".into(), Value::Array(rows));
    Value::Object(o)
}

fn interactive_json(
    kind: &str,
    header: &Option<String>,
    body: &str,
    footer: &Option<String>,
    action: Value,
) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!(kind));
    if let Some(h) = header {
        o.insert("header".into(), json!({ "type": "text", "text": h }));
    }
    o.insert("body".into(), json!({ "text": body }));
    if let Some(f) = footer {
        o.insert("footer".into(), json!({ "text": f }));
    }
    o.insert("action".into(), action);
    Value::Object(o)
}

// ---- validation ------------------------------------------------------------

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// At most `max` characters.
fn max_len(field: &str, value: &str, max: usize) -> Result<(), String> {
    let n = chars(value);
    if n > max {
        return Err(format!(
            "{field} must be at most {max} characters (got {n})"
        ));
    }
    Ok(())
}

/// Not blank, at most `max` characters.
fn required(field: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{field} must not be empty"));
    }
    max_len(field, value, max)
}

fn coordinate(field: &str, value: f64, limit: f64) -> Result<(), String> {
    if value.is_finite() && value.abs() <= limit {
        Ok(())
    } else {
        Err(format!("{field} must be between -{limit} and {limit}"))
    }
}

fn validate_media(kind: &str, m: &MediaRef) -> Result<(), String> {
    match (&m.id, &m.link) {
        (None, None) => {
            return Err(format!(
                "{kind}: one of {kind}.id or {kind}.link is required"
            ));
        }
        (Some(_), Some(_)) => {
            return Err(format!(
                "{kind}: only one of {kind}.id or {kind}.link may be given"
            ));
        }
        (Some(id), None) => required(&format!("{kind}.id"), id, usize::MAX)?,
        (None, Some(link)) => {
            let ok = url::Url::parse(link.trim())
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
            if !ok {
                return Err(format!("{kind}.link must be an http(s) URL"));
            }
        }
    }
    if let Some(caption) = &m.caption {
        if matches!(kind, "audio" | "sticker") {
            return Err(format!("{kind}.caption is not allowed for {kind}"));
        }
        max_len(&format!("{kind}.caption"), caption, CAPTION_MAX)?;
    }
    if let Some(filename) = &m.filename {
        if kind != "document" {
            return Err(format!("{kind}.filename is only allowed for documents"));
        }
        required("document.filename", filename, usize::MAX)?;
    }
    Ok(())
}

fn validate_template(
    name: &str,
    language: &str,
    components: &[TemplateComponent],
) -> Result<(), String> {
    required("template.name", name, TEMPLATE_NAME_MAX)?;
    required("template.language", language, usize::MAX)?;
    let mut seen_kinds = HashSet::new();
    let mut button_indexes = HashSet::new();
    for (i, c) in components.iter().enumerate() {
        let path = format!("template.components[{i}]");
        match c.kind {
            TemplateComponentKind::Header | TemplateComponentKind::Body => {
                if !seen_kinds.insert(c.kind) {
                    return Err(format!(
                        "{path}: only one {} component is allowed",
                        c.kind.as_str()
                    ));
                }
                if c.sub_type.is_some() || c.index.is_some() {
                    return Err(format!(
                        "{path}: sub_type and index are only allowed on button components"
                    ));
                }
            }
            TemplateComponentKind::Button => {
                match &c.sub_type {
                    Some(s) => required(&format!("{path}.sub_type"), s, usize::MAX)?,
                    None => return Err(format!("{path}.sub_type is required for a button")),
                }
                let Some(index) = c.index else {
                    return Err(format!("{path}.index is required for a button"));
                };
                if index > TEMPLATE_BUTTON_INDEX_MAX {
                    return Err(format!(
                        "{path}.index must be between 0 and {TEMPLATE_BUTTON_INDEX_MAX} (got {index})"
                    ));
                }
                if !button_indexes.insert(index) {
                    return Err(format!("{path}.index {index} is used twice"));
                }
            }
        }
        for (j, p) in c.parameters.iter().enumerate() {
            if p.get("type")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(format!(
                    "{path}.parameters[{j}] must be an object with a \"type\""
                ));
            }
        }
    }
    Ok(())
}

fn validate_interactive_texts(
    kind: &str,
    header: &Option<String>,
    body: &str,
    footer: &Option<String>,
) -> Result<(), String> {
    if let Some(h) = header {
        required(&format!("{kind}.header"), h, HEADER_MAX)?;
    }
    required(&format!("{kind}.body"), body, INTERACTIVE_BODY_MAX)?;
    if let Some(f) = footer {
        required(&format!("{kind}.footer"), f, FOOTER_MAX)?;
    }
    Ok(())
}

fn validate_buttons(buttons: &[ReplyButton]) -> Result<(), String> {
    if buttons.is_empty() || buttons.len() > BUTTONS_MAX {
        return Err(format!(
            "buttons.buttons must hold 1 to {BUTTONS_MAX} buttons (got {})",
            buttons.len()
        ));
    }
    let mut ids = HashSet::new();
    let mut titles = HashSet::new();
    for (i, b) in buttons.iter().enumerate() {
        required(&format!("buttons.buttons[{i}].id"), &b.id, BUTTON_ID_MAX)?;
        required(
            &format!("buttons.buttons[{i}].title"),
            &b.title,
            BUTTON_TITLE_MAX,
        )?;
        if !ids.insert(b.id.as_str()) {
            return Err(format!("buttons.buttons[{i}].id {:?} is not unique", b.id));
        }
        if !titles.insert(b.title.as_str()) {
            return Err(format!(
                "buttons.buttons[{i}].title {:?} is not unique",
                b.title
            ));
        }
    }
    Ok(())
}

fn validate_sections(sections: &[ListSection]) -> Result<(), String> {
    if sections.is_empty() || sections.len() > SECTIONS_MAX {
        return Err(format!(
            "list.sections must hold 1 to {SECTIONS_MAX} sections (got {})",
            sections.len()
        ));
    }
    let total: usize = sections.iter().map(|s| s.rows.len()).sum();
    if total > ROWS_MAX {
        return Err(format!(
            "list.sections must hold at most {ROWS_MAX} rows in total (got {total})"
        ));
    }
    let mut ids = HashSet::new();
    for (s, section) in sections.iter().enumerate() {
        let path = format!("list.sections[{s}]");
        match &section.title {
            Some(t) => required(&format!("{path}.title"), t, SECTION_TITLE_MAX)?,
            None if sections.len() > 1 => {
                return Err(format!(
                    "{path}.title is required when there is more than one section"
                ));
            }
            None => {}
        }
        if section.rows.is_empty() {
            return Err(format!("{path}.rows must hold at least 1 row"));
        }
        for (r, row) in section.rows.iter().enumerate() {
            let rpath = format!("{path}.rows[{r}]");
            required(&format!("{rpath}.id"), &row.id, ROW_ID_MAX)?;
            required(&format!("{rpath}.title"), &row.title, ROW_TITLE_MAX)?;
            if let Some(d) = &row.description {
                max_len(&format!("{rpath}.description"), d, ROW_DESCRIPTION_MAX)?;
            }
            if !ids.insert(row.id.as_str()) {
                return Err(format!("{rpath}.id {:?} is not unique", row.id));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
