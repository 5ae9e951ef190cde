//! Validation of `POST /{version}/{phone_number_id}/messages` bodies, with the
//! Cloud API's rules (no I/O). A shape error becomes Meta's code 100
//! ("Invalid parameter") with a `details` sentence in Meta's style.

use serde_json::Value;

/// Message types the Cloud API accepts on send.
pub const MESSAGE_TYPES: &[&str] = &[
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "template",
    "reaction",
];

/// Media message types (sent by `id` or `link`).
pub const MEDIA_TYPES: &[&str] = &["image", "audio", "video", "document", "sticker"];

/// Interactive message types the Cloud API knows.
pub const INTERACTIVE_TYPES: &[&str] = &[
    "button",
    "list",
    "cta_url",
    "product",
    "product_list",
    "flow",
    "location_request_message",
    "address_message",
    "call_permission_request",
    "voice_call",
];

/// Text body limit, in characters.
pub const TEXT_MAX: usize = 4096;
/// Caption / interactive body limit, in characters.
pub const CAPTION_MAX: usize = 1024;
/// Reply buttons per message.
pub const BUTTONS_MAX: usize = 3;
/// Reply button title limit, in characters.
pub const BUTTON_TITLE_MAX: usize = 20;
/// Sections per list message.
pub const SECTIONS_MAX: usize = 10;
/// Rows per list message, over all sections.
pub const ROWS_MAX: usize = 10;
/// List row title limit, in characters.
pub const ROW_TITLE_MAX: usize = 24;
/// List row description limit, in characters.
pub const ROW_DESCRIPTION_MAX: usize = 72;

/// A valid request to the messages endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendRequest {
    /// A message to a user.
    Message {
        /// `to` as given.
        to: String,
        /// `to` reduced to digits (what Meta answers as `wa_id`).
        wa_id: String,
        /// The message type (`text` when absent, as Meta defaults it).
        kind: String,
        /// Whether it is a template (allowed outside the 24 h window).
        template: bool,
        /// `context.message_id`, for replies.
        reply_to: Option<String>,
    },
    /// Mark a received message as read (optionally with a typing indicator).
    MarkRead {
        /// The wamid of the received message.
        message_id: String,
        /// Whether `typing_indicator` was asked for.
        typing: bool,
    },
}

/// Why a body was refused: Meta's `error_data.details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid<T>(details: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(details.into()))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A required string field of `obj`, non-empty.
fn required_str<'a>(obj: &'a Value, key: &str, path: &str) -> Result<&'a str, Invalid> {
    match obj.get(key) {
        None | Some(Value::Null) => invalid(format!("The parameter {path} is required.")),
        Some(Value::String(s)) if s.trim().is_empty() => {
            invalid(format!("Param {path} must be a non-empty string."))
        }
        Some(Value::String(s)) => Ok(s),
        Some(_) => invalid(format!("Param {path} must be a string.")),
    }
}

/// An optional string field; present means it must be a string.
fn optional_str<'a>(obj: &'a Value, key: &str, path: &str) -> Result<Option<&'a str>, Invalid> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => invalid(format!("Param {path} must be a string.")),
    }
}

fn max_len(s: &str, max: usize, path: &str) -> Result<(), Invalid> {
    if chars(s) > max {
        return invalid(format!(
            "Param {path} must be at most {max} characters long."
        ));
    }
    Ok(())
}

fn required_object<'a>(obj: &'a Value, key: &str, path: &str) -> Result<&'a Value, Invalid> {
    match obj.get(key) {
        None | Some(Value::Null) => invalid(format!("The parameter {path} is required.")),
        Some(v @ Value::Object(_)) => Ok(v),
        Some(_) => invalid(format!("Param {path} must be a JSON object.")),
    }
}

fn required_array<'a>(obj: &'a Value, key: &str, path: &str) -> Result<&'a Vec<Value>, Invalid> {
    match obj.get(key) {
        None | Some(Value::Null) => invalid(format!("The parameter {path} is required.")),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => invalid(format!("Param {path} must be an array.")),
    }
}

/// Validates a messages-endpoint body as the Cloud API does.
pub fn validate_send(body: &Value) -> Result<SendRequest, Invalid> {
    if !body.is_object() {
        return invalid("The request body must be a JSON object.");
    }
    match body.get("messaging_product") {
        None | Some(Value::Null) => {
            return invalid("The parameter messaging_product is required.");
        }
        Some(Value::String(p)) if p == "whatsapp" => {}
        Some(other) => {
            return invalid(format!(
                "Param messaging_product must be one of {{WHATSAPP}} - got {other}."
            ));
        }
    }

    if let Some(status) = body.get("status") {
        return validate_mark_read(body, status);
    }

    let to = required_str(body, "to", "to")?;
    let wa_id: String = to.chars().filter(char::is_ascii_digit).collect();
    if wa_id.is_empty()
        || to
            .chars()
            .any(|c| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')')))
    {
        return invalid(format!("Param to must be a phone number - got \"{to}\"."));
    }
    if let Some(rt) = optional_str(body, "recipient_type", "recipient_type")?
        && rt != "individual"
    {
        return invalid(format!(
            "Param recipient_type must be one of {{INDIVIDUAL}} - got \"{rt}\"."
        ));
    }

    let kind = optional_str(body, "type", "type")?.unwrap_or("text");
    if !MESSAGE_TYPES.contains(&kind) {
        return invalid(format!(
            "Param type must be one of {{{}}} - got \"{kind}\".",
            MESSAGE_TYPES.join(", ").to_uppercase()
        ));
    }

    let reply_to = match body.get("context") {
        None | Some(Value::Null) => None,
        Some(ctx @ Value::Object(_)) => {
            Some(required_str(ctx, "message_id", "context['message_id']")?.to_owned())
        }
        Some(_) => return invalid("Param context must be a JSON object."),
    };

    match kind {
        "text" => validate_text(body)?,
        "location" => validate_location(body)?,
        "contacts" => validate_contacts(body)?,
        "interactive" => validate_interactive(body)?,
        "template" => validate_template(body)?,
        "reaction" => validate_reaction(body)?,
        media => validate_media(body, media)?,
    }

    Ok(SendRequest::Message {
        to: to.to_owned(),
        wa_id,
        kind: kind.to_owned(),
        template: kind == "template",
        reply_to,
    })
}

fn validate_mark_read(body: &Value, status: &Value) -> Result<SendRequest, Invalid> {
    if status != "read" {
        return invalid(format!(
            "Param status must be one of {{READ}} - got {status}."
        ));
    }
    let message_id = required_str(body, "message_id", "message_id")?;
    let typing = match body.get("typing_indicator") {
        None | Some(Value::Null) => false,
        Some(t @ Value::Object(_)) => {
            let ty = required_str(t, "type", "typing_indicator['type']")?;
            if ty != "text" {
                return invalid(format!(
                    "Param typing_indicator['type'] must be one of {{TEXT}} - got \"{ty}\"."
                ));
            }
            true
        }
        Some(_) => return invalid("Param typing_indicator must be a JSON object."),
    };
    Ok(SendRequest::MarkRead {
        message_id: message_id.to_owned(),
        typing,
    })
}

fn validate_text(body: &Value) -> Result<(), Invalid> {
    let text = required_object(body, "text", "text")?;
    let text_body = match text.get("body") {
        Some(Value::String(s)) => s,
        None | Some(Value::Null) => return invalid("The parameter text['body'] is required."),
        Some(_) => return invalid("Param text['body'] must be a string."),
    };
    if text_body.is_empty() {
        return invalid("Param text['body'] must be at least 1 character long.");
    }
    max_len(text_body, TEXT_MAX, "text['body']")?;
    if let Some(p) = text.get("preview_url")
        && !p.is_boolean()
    {
        return invalid("Param text['preview_url'] must be a boolean.");
    }
    Ok(())
}

fn validate_media(body: &Value, kind: &str) -> Result<(), Invalid> {
    let media = required_object(body, kind, kind)?;
    let id = optional_str(media, "id", &format!("{kind}['id']"))?;
    let link = optional_str(media, "link", &format!("{kind}['link']"))?;
    match (id, link) {
        (None, None) => {
            return invalid(format!(
                "Please specify either the {kind}['id'] or the {kind}['link'] parameter."
            ));
        }
        (Some(i), _) if i.trim().is_empty() => {
            return invalid(format!("Param {kind}['id'] must be a non-empty string."));
        }
        (None, Some(l)) if !(l.starts_with("https://") || l.starts_with("http://")) => {
            return invalid(format!("Param {kind}['link'] must be a valid URL."));
        }
        _ => {}
    }
    if let Some(caption) = optional_str(media, "caption", &format!("{kind}['caption']"))? {
        if matches!(kind, "audio" | "sticker") {
            return invalid(format!(
                "Param {kind}['caption'] is not allowed for {kind}."
            ));
        }
        max_len(caption, CAPTION_MAX, &format!("{kind}['caption']"))?;
    }
    if kind == "document" {
        optional_str(media, "filename", "document['filename']")?;
    }
    Ok(())
}

fn coordinate(obj: &Value, key: &str, limit: f64) -> Result<(), Invalid> {
    let path = format!("location['{key}']");
    let value = match obj.get(key) {
        None | Some(Value::Null) => return invalid(format!("The parameter {path} is required.")),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    match value {
        Some(v) if v.is_finite() && v.abs() <= limit => Ok(()),
        _ => invalid(format!(
            "Param {path} must be a number between -{limit} and {limit}."
        )),
    }
}

fn validate_location(body: &Value) -> Result<(), Invalid> {
    let loc = required_object(body, "location", "location")?;
    coordinate(loc, "latitude", 90.0)?;
    coordinate(loc, "longitude", 180.0)?;
    optional_str(loc, "name", "location['name']")?;
    optional_str(loc, "address", "location['address']")?;
    Ok(())
}

fn validate_contacts(body: &Value) -> Result<(), Invalid> {
    let contacts = required_array(body, "contacts", "contacts")?;
    if contacts.is_empty() {
        return invalid("Param contacts must contain at least 1 element.");
    }
    for (i, c) in contacts.iter().enumerate() {
        let name = required_object(c, "name", &format!("contacts[{i}]['name']"))?;
        required_str(
            name,
            "formatted_name",
            &format!("contacts[{i}]['name']['formatted_name']"),
        )?;
    }
    Ok(())
}

fn validate_interactive(body: &Value) -> Result<(), Invalid> {
    let inter = required_object(body, "interactive", "interactive")?;
    let ty = required_str(inter, "type", "interactive['type']")?;
    if !INTERACTIVE_TYPES.contains(&ty) {
        return invalid(format!(
            "Param interactive['type'] must be one of {{{}}} - got \"{ty}\".",
            INTERACTIVE_TYPES.join(", ").to_uppercase()
        ));
    }
    if let Some(header) = inter.get("header").filter(|h| !h.is_null()) {
        let hty = required_str(header, "type", "interactive['header']['type']")?;
        if ty == "list" && hty != "text" {
            return invalid("Param interactive['header']['type'] must be TEXT for list messages.");
        }
        if hty == "text" {
            let t = required_str(header, "text", "interactive['header']['text']")?;
            max_len(t, 60, "interactive['header']['text']")?;
        }
    }
    if let Some(footer) = inter.get("footer").filter(|f| !f.is_null()) {
        let t = required_str(footer, "text", "interactive['footer']['text']")?;
        max_len(t, 60, "interactive['footer']['text']")?;
    }
    let action = required_object(inter, "action", "interactive['action']")?;
    match ty {
        "button" | "list" => {
            let b = required_object(inter, "body", "interactive['body']")?;
            let t = required_str(b, "text", "interactive['body']['text']")?;
            max_len(t, CAPTION_MAX, "interactive['body']['text']")?;
            if ty == "button" {
                validate_buttons(action)
            } else {
                validate_list(action)
            }
        }
        _ => Ok(()),
    }
}

fn validate_buttons(action: &Value) -> Result<(), Invalid> {
    let buttons = required_array(action, "buttons", "interactive['action']['buttons']")?;
    if buttons.is_empty() || buttons.len() > BUTTONS_MAX {
        return invalid(format!(
            "Param interactive['action']['buttons'] must contain between 1 and {BUTTONS_MAX} elements - got {}.",
            buttons.len()
        ));
    }
    let mut ids = Vec::new();
    let mut titles = Vec::new();
    for (i, b) in buttons.iter().enumerate() {
        let path = format!("interactive['action']['buttons'][{i}]");
        let bty = required_str(b, "type", &format!("{path}['type']"))?;
        if bty != "reply" {
            return invalid(format!(
                "Param {path}['type'] must be one of {{REPLY}} - got \"{bty}\"."
            ));
        }
        let reply = required_object(b, "reply", &format!("{path}['reply']"))?;
        let id = required_str(reply, "id", &format!("{path}['reply']['id']"))?;
        max_len(id, 256, &format!("{path}['reply']['id']"))?;
        let title = required_str(reply, "title", &format!("{path}['reply']['title']"))?;
        max_len(
            title,
            BUTTON_TITLE_MAX,
            &format!("{path}['reply']['title']"),
        )?;
        if ids.contains(&id) {
            return invalid("Button IDs must be unique.");
        }
        if titles.contains(&title) {
            return invalid("Button titles must be unique.");
        }
        ids.push(id);
        titles.push(title);
    }
    Ok(())
}

fn validate_list(action: &Value) -> Result<(), Invalid> {
    let button = required_str(action, "button", "interactive['action']['button']")?;
    max_len(button, 20, "interactive['action']['button']")?;
    let sections = required_array(action, "sections", "interactive['action']['sections']")?;
    if sections.is_empty() || sections.len() > SECTIONS_MAX {
        return invalid(format!(
            "Param interactive['action']['sections'] must contain between 1 and {SECTIONS_MAX} elements - got {}.",
            sections.len()
        ));
    }
    let mut total_rows = 0usize;
    let mut row_ids = Vec::new();
    for (s, section) in sections.iter().enumerate() {
        let path = format!("interactive['action']['sections'][{s}]");
        match optional_str(section, "title", &format!("{path}['title']"))? {
            Some(t) => max_len(t, ROW_TITLE_MAX, &format!("{path}['title']"))?,
            None if sections.len() > 1 => {
                return invalid(format!(
                    "The parameter {path}['title'] is required when there is more than one section."
                ));
            }
            None => {}
        }
        let rows = required_array(section, "rows", &format!("{path}['rows']"))?;
        if rows.is_empty() {
            return invalid(format!(
                "Param {path}['rows'] must contain at least 1 element."
            ));
        }
        for (r, row) in rows.iter().enumerate() {
            let rpath = format!("{path}['rows'][{r}]");
            let id = required_str(row, "id", &format!("{rpath}['id']"))?;
            max_len(id, 200, &format!("{rpath}['id']"))?;
            let title = required_str(row, "title", &format!("{rpath}['title']"))?;
            max_len(title, ROW_TITLE_MAX, &format!("{rpath}['title']"))?;
            if let Some(d) = optional_str(row, "description", &format!("{rpath}['description']"))? {
                max_len(d, ROW_DESCRIPTION_MAX, &format!("{rpath}['description']"))?;
            }
            if row_ids.contains(&id) {
                return invalid("Row IDs must be unique.");
            }
            row_ids.push(id);
        }
        total_rows += rows.len();
    }
    if total_rows > ROWS_MAX {
        return invalid(format!(
            "Total number of rows over all sections must be at most {ROWS_MAX} - got {total_rows}."
        ));
    }
    Ok(())
}

fn validate_template(body: &Value) -> Result<(), Invalid> {
    let template = required_object(body, "template", "template")?;
    required_str(template, "name", "template['name']")?;
    let language = required_object(template, "language", "template['language']")?;
    required_str(language, "code", "template['language']['code']")?;
    match template.get("components") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Array(components)) => {
            for (i, c) in components.iter().enumerate() {
                let path = format!("template['components'][{i}]");
                if !c.is_object() {
                    return invalid(format!("Param {path} must be a JSON object."));
                }
                let ty = required_str(c, "type", &format!("{path}['type']"))?;
                if !matches!(
                    ty.to_ascii_lowercase().as_str(),
                    "header" | "body" | "button" | "footer" | "carousel" | "limited_time_offer"
                ) {
                    return invalid(format!(
                        "Param {path}['type'] must be one of {{HEADER, BODY, BUTTON, FOOTER, CAROUSEL, LIMITED_TIME_OFFER}} - got \"{ty}\"."
                    ));
                }
                if let Some(p) = c.get("parameters")
                    && !p.is_array()
                {
                    return invalid(format!("Param {path}['parameters'] must be an array."));
                }
            }
            Ok(())
        }
        Some(_) => invalid("Param template['components'] must be an array."),
    }
}

fn validate_reaction(body: &Value) -> Result<(), Invalid> {
    let reaction = required_object(body, "reaction", "reaction")?;
    required_str(reaction, "message_id", "reaction['message_id']")?;
    match reaction.get("emoji") {
        Some(Value::String(_)) => Ok(()),
        None | Some(Value::Null) => invalid("The parameter reaction['emoji'] is required."),
        Some(_) => invalid("Param reaction['emoji'] must be a string."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base(kind: &str, payload: Value) -> Value {
        json!({"messaging_product": "whatsapp", "recipient_type": "individual",
               "to": "+1 650-555-1234", "type": kind, kind: payload})
    }

    fn details(v: &Value) -> String {
        match validate_send(v) {
            Err(Invalid(d)) => d,
            Ok(ok) => panic!("expected invalid, got {ok:?}"),
        }
    }

    fn button(id: &str, title: &str) -> Value {
        json!({"type": "reply", "reply": {"id": id, "title": title}})
    }

    #[test]
    fn text_ok_and_normalised() {
        let r = validate_send(&base("text", json!({"body": "hi"}))).expect("valid");
        assert_eq!(
            r,
            SendRequest::Message {
                to: "+1 650-555-1234".into(),
                wa_id: "16505551234".into(),
                kind: "text".into(),
                template: false,
                reply_to: None
            }
        );
        // type defaults to text
        let r =
            validate_send(&json!({"messaging_product":"whatsapp","to":"1","text":{"body":"x"}}))
                .expect("valid");
        assert!(matches!(r, SendRequest::Message { kind, .. } if kind == "text"));
    }

    #[test]
    fn text_limits() {
        assert!(validate_send(&base("text", json!({"body": "é".repeat(4096)}))).is_ok());
        assert!(details(&base("text", json!({"body": "a".repeat(4097)}))).contains("4096"));
        assert!(details(&base("text", json!({"body": ""}))).contains("at least 1"));
        assert!(details(&base("text", json!({}))).contains("text['body']"));
    }

    #[test]
    fn envelope_errors() {
        assert!(details(&json!([])).contains("JSON object"));
        assert!(
            details(&json!({"to":"1","type":"text","text":{"body":"x"}}))
                .contains("messaging_product")
        );
        assert!(
            details(&json!({"messaging_product":"sms","to":"1","type":"text","text":{"body":"x"}}))
                .contains("messaging_product")
        );
        assert!(
            details(&json!({"messaging_product":"whatsapp","type":"text","text":{"body":"x"}}))
                .contains("to")
        );
        assert!(
            details(&json!({"messaging_product":"whatsapp","to":"abc","text":{"body":"x"}}))
                .contains("phone")
        );
        assert!(
            details(&json!({"messaging_product":"whatsapp","to":"1","type":"fax","fax":{}}))
                .contains("type")
        );
        let mut v = base("text", json!({"body": "x"}));
        v["context"] = json!({"message_id": "wamid.X"});
        assert!(
            matches!(validate_send(&v), Ok(SendRequest::Message { reply_to: Some(id), .. }) if id == "wamid.X")
        );
        v["context"] = json!({});
        assert!(details(&v).contains("context['message_id']"));
    }

    #[test]
    fn mark_read_and_typing() {
        let r = validate_send(
            &json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.A"}),
        )
        .expect("valid");
        assert_eq!(
            r,
            SendRequest::MarkRead {
                message_id: "wamid.A".into(),
                typing: false
            }
        );
        let r = validate_send(
            &json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.A",
                                      "typing_indicator":{"type":"text"}}),
        )
        .expect("valid");
        assert_eq!(
            r,
            SendRequest::MarkRead {
                message_id: "wamid.A".into(),
                typing: true
            }
        );
        assert!(
            details(&json!({"messaging_product":"whatsapp","status":"read"}))
                .contains("message_id")
        );
        assert!(
            details(&json!({"messaging_product":"whatsapp","status":"deleted","message_id":"x"}))
                .contains("status")
        );
    }

    #[test]
    fn media_rules() {
        assert!(validate_send(&base("image", json!({"id": "123", "caption": "c"}))).is_ok());
        assert!(
            validate_send(&base(
                "document",
                json!({"link": "https://x/y.pdf", "filename": "y.pdf"})
            ))
            .is_ok()
        );
        assert!(details(&base("video", json!({}))).contains("either"));
        assert!(details(&base("audio", json!({"link": "ftp://x"}))).contains("URL"));
        assert!(details(&base("sticker", json!({"id": "1", "caption": "no"}))).contains("caption"));
        assert!(
            details(&base(
                "image",
                json!({"id": "1", "caption": "a".repeat(1025)})
            ))
            .contains("1024")
        );
    }

    #[test]
    fn interactive_buttons() {
        let ok = json!({"type": "button", "body": {"text": "Pick"},
            "action": {"buttons": [button("a", "A"), button("b", "B"), button("c", "C")]}});
        assert!(validate_send(&base("interactive", ok)).is_ok());
        let four = json!({"type": "button", "body": {"text": "Pick"},
            "action": {"buttons": [button("a", "A"), button("b", "B"), button("c", "C"), button("d", "D")]}});
        assert!(details(&base("interactive", four)).contains("between 1 and 3"));
        let long = json!({"type": "button", "body": {"text": "Pick"},
            "action": {"buttons": [button("a", &"x".repeat(21))]}});
        assert!(details(&base("interactive", long)).contains("20"));
        let dup = json!({"type": "button", "body": {"text": "Pick"},
            "action": {"buttons": [button("a", "A"), button("a", "B")]}});
        assert!(details(&base("interactive", dup)).contains("unique"));
        let nobody = json!({"type": "button", "action": {"buttons": [button("a", "A")]}});
        assert!(details(&base("interactive", nobody)).contains("body"));
        let unknown = json!({"type": "carousel_x", "action": {}});
        assert!(details(&base("interactive", unknown)).contains("interactive['type']"));
        let cta = json!({"type": "cta_url", "body": {"text": "go"}, "action": {"name": "cta_url",
            "parameters": {"display_text": "Open", "url": "https://example.com"}}});
        assert!(validate_send(&base("interactive", cta)).is_ok());
    }

    fn rows(prefix: &str, n: usize) -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": format!("{prefix}{i}"), "title": format!("Row {i}")}))
            .collect()
    }

    #[test]
    fn interactive_lists() {
        let list = |sections: Value| {
            base(
                "interactive",
                json!({"type": "list", "body": {"text": "Menu"},
                "action": {"button": "Choose", "sections": sections}}),
            )
        };
        assert!(validate_send(&list(json!([{"title": "S", "rows": rows("a", 10)}]))).is_ok());
        assert!(
            details(&list(json!([{"title": "S", "rows": rows("a", 11)}]))).contains("at most 10")
        );
        assert!(
            details(&list(json!([{"title": "S1", "rows": rows("a", 6)}, {"title": "S2", "rows": rows("b", 5)}])))
                .contains("at most 10")
        );
        let eleven: Vec<Value> = (0..11)
            .map(|i| json!({"title": format!("S{i}"), "rows": rows(&format!("s{i}-"), 1)}))
            .collect();
        assert!(details(&list(Value::Array(eleven))).contains("between 1 and 10"));
        assert!(
            details(&list(
                json!([{"title": "S", "rows": [{"id": "1", "title": "y".repeat(25)}]}])
            ))
            .contains("24")
        );
        assert!(
            details(&list(
                json!([{"rows": rows("a", 1)}, {"title": "S2", "rows": rows("b", 1)}])
            ))
            .contains("more than one section")
        );
        assert!(validate_send(&list(json!([{"rows": rows("a", 2)}]))).is_ok());
    }

    #[test]
    fn template_rules() {
        let ok = json!({"name": "order_confirmation", "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}]});
        let r = validate_send(&base("template", ok)).expect("valid");
        assert!(matches!(r, SendRequest::Message { template: true, .. }));
        assert!(details(&base("template", json!({"language": {"code": "en"}}))).contains("name"));
        assert!(details(&base("template", json!({"name": "x"}))).contains("language"));
        assert!(details(&base("template", json!({"name": "x", "language": {}}))).contains("code"));
        assert!(
            details(&base(
                "template",
                json!({"name": "x", "language": {"code": "en"}, "components": [{"type": "nope"}]})
            ))
            .contains("components")
        );
    }

    #[test]
    fn location_contacts_reaction() {
        assert!(
            validate_send(&base(
                "location",
                json!({"latitude": 48.85, "longitude": "2.35"})
            ))
            .is_ok()
        );
        assert!(
            details(&base("location", json!({"latitude": 91, "longitude": 0})))
                .contains("latitude")
        );
        assert!(details(&base("location", json!({"latitude": 1}))).contains("longitude"));
        assert!(
            validate_send(&base(
                "contacts",
                json!([{"name": {"formatted_name": "Ann"}}])
            ))
            .is_ok()
        );
        assert!(details(&base("contacts", json!([]))).contains("at least 1"));
        assert!(details(&base("contacts", json!([{"name": {}}]))).contains("formatted_name"));
        assert!(
            validate_send(&base(
                "reaction",
                json!({"message_id": "wamid.A", "emoji": ""})
            ))
            .is_ok()
        );
        assert!(details(&base("reaction", json!({"emoji": "👍"}))).contains("message_id"));
        assert!(details(&base("reaction", json!({"message_id": "wamid.A"}))).contains("emoji"));
    }
}
