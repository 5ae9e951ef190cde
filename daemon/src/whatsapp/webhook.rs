//! `GET|POST /webhooks/whatsapp`: Meta's verification handshake and signed
//! notifications. A POST is answered 200 only after what it carries is
//! committed (see `ingest`); Meta retries anything else.
//!
//! Order of checks: size (413) → JSON shape (400) → owner lookup by
//! `phone_number_id` → signature with that owner's app secret (401) → commit.
//! Unknown numbers are acknowledged and counted, since no retry can help.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use secrecy::ExposeSecret;

use super::directory::NumberEntry;
use super::model::{self, ChangeValue, Notification};
use super::signature;
use crate::ingest::plan::{ContactRow, InboundRow, StatusRow, TemplateRow};
use crate::ingest::{BatchInput, IngestError};
use crate::state::AppState;

/// Distinct phone numbers accepted in one notification.
const MAX_NUMBERS_PER_NOTIFICATION: usize = 16;

/// PostgreSQL refuses NUL in text and jsonb; WhatsApp users can send it.
/// Strips it from every string of `v` (only called when the body has one).
fn strip_nul(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.contains('\0') => *s = s.replace('\0', ""),
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_nul),
        serde_json::Value::Object(o) => o.values_mut().for_each(strip_nul),
        _ => {}
    }
}

/// Registers the webhook routes.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/webhooks/whatsapp", web::get().to(verify))
        .route("/webhooks/whatsapp", web::post().to(receive));
}

#[derive(serde::Deserialize)]
struct VerifyQuery {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    verify_token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn verify(query: web::Query<VerifyQuery>, state: web::Data<AppState>) -> HttpResponse {
    let q = query.into_inner();
    let (Some(mode), Some(token), Some(challenge)) = (q.mode, q.verify_token, q.challenge) else {
        return HttpResponse::Forbidden().finish();
    };
    if mode != "subscribe" {
        return HttpResponse::Forbidden().finish();
    }
    match state.numbers.verify_token_known(&token).await {
        Ok(true) => HttpResponse::Ok()
            .content_type("text/plain")
            .body(challenge),
        Ok(false) => HttpResponse::Forbidden().finish(),
        Err(e) => {
            tracing::error!(error = %e, "webhook verification lookup failed");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

fn count(state: &AppState, result: &str) {
    state.metrics.webhooks.with_label_values(&[result]).inc();
}

fn plain(status: actix_web::http::StatusCode, msg: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain")
        .body(msg.to_string())
}

enum BodyError {
    TooLarge,
    Read,
}

async fn read_limited(
    req: &HttpRequest,
    mut payload: web::Payload,
    max: usize,
) -> Result<web::Bytes, BodyError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(BodyError::TooLarge);
    }
    let mut body = web::BytesMut::with_capacity(declared.unwrap_or(4096).min(max));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| BodyError::Read)?;
        if body.len() + chunk.len() > max {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn unix(ts: Option<i64>) -> DateTime<Utc> {
    ts.and_then(|s| DateTime::from_timestamp(s, 0))
        .unwrap_or_else(Utc::now)
}

/// The rows a verified notification writes, for the numbers we own. Takes
/// the notification by value so each message's JSON moves into its row.
fn to_batch(
    note: Notification,
    owners: &HashMap<String, Arc<NumberEntry>>,
    wabas: &HashMap<String, Arc<NumberEntry>>,
) -> BatchInput {
    let mut input = BatchInput::default();
    for entry in note.entry {
        for change in entry.changes {
            match change.value {
                ChangeValue::Messages(v) => {
                    let Some(owner) = owners.get(&v.metadata.phone_number_id) else {
                        continue;
                    };
                    for c in v.contacts.iter().filter(|c| !c.id().is_empty()) {
                        input.contacts.push(ContactRow {
                            tenant_id: owner.tenant_id,
                            wa_id: c.id().to_string(),
                            profile_name: c.name().map(str::to_string),
                            last_inbound_at: None,
                        });
                    }
                    for mut m in v.messages {
                        let from = m.sender_id().to_string();
                        let kind = m.kind().to_string();
                        let sent_at = unix(m.unix_timestamp());
                        let media_id = m.content.media().map(|media| media.id.clone());
                        input.inbound.push(InboundRow {
                            tenant_id: owner.tenant_id,
                            number_id: owner.number_id,
                            from,
                            wamid: std::mem::take(&mut m.id),
                            kind,
                            content: Arc::new(std::mem::take(&mut m.raw)),
                            sent_at,
                            media_id,
                        });
                    }
                    for mut s in v.statuses {
                        let error_code = s.error_code();
                        let error_title = s.errors.first().and_then(|e| e.title.clone());
                        let at = unix(s.unix_timestamp());
                        input.statuses.push(StatusRow {
                            tenant_id: owner.tenant_id,
                            wamid: std::mem::take(&mut s.id),
                            status: s.status.as_str().to_string(),
                            error_code,
                            error_title,
                            at,
                            payload: Arc::new(std::mem::take(&mut s.raw)),
                        });
                    }
                    for e in &v.errors {
                        tracing::warn!(
                            tenant_id = owner.tenant_id,
                            code = e.code,
                            "WhatsApp reported an error in a webhook"
                        );
                    }
                }
                ChangeValue::TemplateStatus(t) => {
                    let Some(owner) = wabas.get(&entry.id) else {
                        continue;
                    };
                    input.templates.push(TemplateRow {
                        tenant_id: owner.tenant_id,
                        meta_template_id: t.message_template_id,
                        event: t.event,
                        reason: t.reason,
                    });
                }
                ChangeValue::Other(_) => {}
            }
        }
    }
    input
}

async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let max = state.settings.whatsapp.webhook_max_body_bytes;
    let body = match read_limited(&req, payload, max).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            count(&state, "too_large");
            return plain(StatusCode::PAYLOAD_TOO_LARGE, "notification body too large");
        }
        Err(BodyError::Read) => {
            count(&state, "malformed");
            return plain(StatusCode::BAD_REQUEST, "cannot read the request body");
        }
    };
    let note = match model::parse(&body) {
        Ok(n) => n,
        Err(e) => {
            count(&state, "malformed");
            return plain(StatusCode::BAD_REQUEST, &e.to_string());
        }
    };

    // Meta puts one or a few numbers in a notification; many distinct ids in an
    // unsigned body would only buy an attacker database lookups
    let distinct: std::collections::HashSet<&str> = note
        .entry
        .iter()
        .flat_map(|e| e.changes.iter())
        .filter_map(|c| match &c.value {
            ChangeValue::Messages(v) => Some(v.metadata.phone_number_id.as_str()),
            _ => None,
        })
        .collect();
    if distinct.len() > MAX_NUMBERS_PER_NOTIFICATION {
        count(&state, "malformed");
        return plain(
            StatusCode::BAD_REQUEST,
            "too many phone numbers in one notification",
        );
    }

    // who owns what this notification talks about
    let mut owners: HashMap<String, Arc<NumberEntry>> = HashMap::new();
    let mut wabas: HashMap<String, Arc<NumberEntry>> = HashMap::new();
    let mut unknown = 0usize;
    for entry in &note.entry {
        for change in &entry.changes {
            let found = match &change.value {
                ChangeValue::Messages(v) => {
                    let id = &v.metadata.phone_number_id;
                    if owners.contains_key(id) {
                        continue;
                    }
                    match state.numbers.lookup(id).await {
                        Ok(Some(e)) => {
                            owners.insert(id.clone(), e);
                            true
                        }
                        Ok(None) => {
                            if state.numbers.first_report_of_unknown(id) {
                                tracing::warn!(phone_number_id = %id, "webhook for an unknown phone number id; acknowledged");
                            }
                            false
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "number lookup failed");
                            count(&state, "error");
                            return unavailable(5);
                        }
                    }
                }
                ChangeValue::TemplateStatus(_) => {
                    if wabas.contains_key(&entry.id) {
                        continue;
                    }
                    match state.numbers.lookup_waba(&entry.id).await {
                        Ok(Some(e)) => {
                            wabas.insert(entry.id.clone(), e);
                            true
                        }
                        Ok(None) => false,
                        Err(e) => {
                            tracing::error!(error = %e, "WABA lookup failed");
                            count(&state, "error");
                            return unavailable(5);
                        }
                    }
                }
                ChangeValue::Other(_) => true,
            };
            if !found {
                unknown += 1;
            }
        }
    }
    if owners.is_empty() && wabas.is_empty() {
        count(&state, "unknown_number");
        return HttpResponse::Ok().finish();
    }

    // every owner must have signed it (they share one Meta app)
    let sig = req
        .headers()
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let signed = owners
        .values()
        .chain(wabas.values())
        .all(|o| signature::verify(o.app_secret.expose_secret().as_bytes(), &body, sig));
    if !signed {
        count(&state, "bad_signature");
        return plain(
            StatusCode::UNAUTHORIZED,
            "missing or invalid X-Hub-Signature-256",
        );
    }
    if unknown > 0 {
        count(&state, "unknown_number");
    }

    let mut input = to_batch(note, &owners, &wabas);
    if body.windows(6).any(|w| w == b"\\u0000") {
        for m in &mut input.inbound {
            strip_nul(Arc::make_mut(&mut m.content));
        }
        for s in &mut input.statuses {
            strip_nul(Arc::make_mut(&mut s.payload));
        }
        for c in &mut input.contacts {
            if let Some(n) = &mut c.profile_name {
                *n = n.replace('\0', "");
            }
        }
    }
    let had_inbound = !input.inbound.is_empty();
    let only_inbound = input.statuses.is_empty() && input.templates.is_empty();
    match state.actors.ingest(input).await {
        Ok(outcome) => {
            if outcome.media > 0 {
                state.media.wake();
            }
            let dup = had_inbound && only_inbound && outcome.inserted.is_empty();
            count(&state, if dup { "duplicate" } else { "ok" });
            HttpResponse::Ok().finish()
        }
        Err(IngestError::Overloaded) => {
            count(&state, "overloaded");
            unavailable(1)
        }
        Err(e) => {
            tracing::error!(error = %e, "webhook not committed");
            count(&state, "error");
            unavailable(5)
        }
    }
}

fn unavailable(retry_after: u32) -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, retry_after.to_string()))
        .content_type("text/plain")
        .body("temporarily unavailable, retry later")
}
