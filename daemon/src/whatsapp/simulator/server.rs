//! The simulator's HTTP surface: the Graph API endpoints and `/_sim/*`
//! control endpoints, served by actix-web on a dedicated thread.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::engine::{Shared, Submission};
use super::media;
use super::validate::{SendRequest, validate_send};
use super::{Faults, InboundRequest, SendOutcome, SimulatorConfig, SimulatorError, TrafficSpec};
use crate::whatsapp::errors::{CloudErrorCode, GraphErrorBody};

type Data = web::Data<Shared>;

/// Largest request body (documents may be 100 MB).
const MAX_BODY: usize = 110 * 1024 * 1024;

/// Thread body: builds the delivery runtime and HTTP client, serves until
/// stopped, then signals `done`.
pub(crate) fn serve(
    config: SimulatorConfig,
    listener: std::net::TcpListener,
    base_url: String,
    ready: tokio::sync::oneshot::Sender<io::Result<(Arc<Shared>, ServerHandle)>>,
    done: tokio::sync::oneshot::Sender<()>,
) {
    let bg = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("wa-simulator-bg")
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let http = match reqwest::Client::builder()
        .no_proxy()
        .timeout(config.webhook_timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            let _ = ready.send(Err(io::Error::other(e)));
            return;
        }
    };
    let workers = config.workers.max(1);
    let shared = Arc::new(Shared::new(config, base_url, bg.handle().clone(), http));
    let system = actix_web::rt::System::new();
    let result = system.block_on(async move {
        let data = web::Data::from(Arc::clone(&shared));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .configure(routes)
        })
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener);
        match server {
            Err(e) => {
                let _ = ready.send(Err(e));
                Ok(())
            }
            Ok(server) => {
                let server = server.run();
                let _ = ready.send(Ok((shared, server.handle())));
                server.await
            }
        }
    });
    if let Err(e) = result {
        tracing::warn!(error = %e, "whatsapp simulator server ended with an error");
    }
    bg.shutdown_timeout(Duration::from_secs(1));
    let _ = done.send(());
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/_sim/health", web::get().to(health))
        .route("/_sim/sent", web::get().to(get_sent))
        .route("/_sim/sent", web::delete().to(delete_sent))
        .route("/_sim/webhooks", web::get().to(get_webhooks))
        .route("/_sim/webhooks", web::delete().to(delete_webhooks))
        .route("/_sim/faults", web::get().to(get_faults))
        .route("/_sim/faults", web::post().to(post_faults))
        .route("/_sim/clock", web::get().to(get_clock))
        .route("/_sim/clock", web::post().to(post_clock))
        .route("/_sim/inbound", web::post().to(post_inbound))
        .route("/_sim/raw", web::post().to(post_raw))
        .route("/_sim/traffic", web::post().to(post_traffic))
        .route("/_sim/media", web::post().to(post_sim_media))
        .route("/_sim/media/{id}", web::get().to(download_media))
        .route(
            "/{version}/{phone_number_id}/messages",
            web::post().to(send_message),
        )
        .route(
            "/{version}/{phone_number_id}/media",
            web::post().to(upload_media),
        )
        .route("/{version}/{media_id}", web::get().to(get_media))
        .route("/{version}/{media_id}", web::delete().to(delete_media))
        .default_service(web::to(not_found));
}

// ---- helpers ------------------------------------------------------------

/// Meta's error answer for `code`.
fn graph_error(code: CloudErrorCode, details: &str) -> HttpResponse {
    let mut body = GraphErrorBody::new(code, details);
    match code.code() {
        100 => body.error.message = "(#100) Invalid parameter".into(),
        130429 => body.error.error_subcode = Some(2_494_055),
        190 => body.error.message = "Invalid OAuth access token - Cannot parse access token".into(),
        _ => {}
    }
    let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
    HttpResponse::build(status).json(body)
}

fn invalid_parameter(details: &str) -> HttpResponse {
    graph_error(CloudErrorCode::from_code(100), details)
}

fn sim_error(e: &SimulatorError) -> HttpResponse {
    let status = match e {
        SimulatorError::NoWebhookUrl => StatusCode::CONFLICT,
        SimulatorError::Invalid(_) => StatusCode::BAD_REQUEST,
        SimulatorError::Delivery(_) => StatusCode::BAD_GATEWAY,
        SimulatorError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
    };
    HttpResponse::build(status).json(json!({"error": e.to_string()}))
}

/// Checks the bearer token when one is configured; `Some` is the refusal.
fn check_auth(shared: &Shared, req: &HttpRequest) -> Option<HttpResponse> {
    let expected = shared.config.access_token.as_deref()?;
    let given = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match given {
        Some(t) if t == expected => None,
        Some(_) => Some(graph_error(
            CloudErrorCode::AccessTokenExpired,
            "The access token could not be decrypted.",
        )),
        None => Some(graph_error(
            CloudErrorCode::AccessTokenExpired,
            "An active access token must be used to query information.",
        )),
    }
}

async fn slow(shared: &Shared) {
    let ms = shared.faults().slow_ms;
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))
}

fn bad_request(error: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": error}))
}

// ---- control endpoints ----------------------------------------------------

async fn health(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "base_url": data.base_url,
        "webhook_url": data.config.webhook_url,
        "now": data.sim_now().to_rfc3339(),
    }))
}

async fn get_sent(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(data.sent())
}

async fn delete_sent(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(json!({"cleared": data.clear_sent()}))
}

async fn get_webhooks(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(data.webhooks())
}

async fn delete_webhooks(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(json!({"cleared": data.clear_webhooks()}))
}

async fn get_faults(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(data.faults())
}

async fn post_faults(data: Data, body: Bytes) -> HttpResponse {
    match parse_json::<Faults>(&body) {
        Ok(f) => {
            data.set_faults(f.clone());
            HttpResponse::Ok().json(f)
        }
        Err(e) => bad_request(&e),
    }
}

fn clock_json(data: &Shared) -> Value {
    json!({
        "now": data.sim_now().to_rfc3339(),
        "offset_seconds": data.clock_offset().num_seconds(),
    })
}

async fn get_clock(data: Data) -> HttpResponse {
    HttpResponse::Ok().json(clock_json(&data))
}

#[derive(Deserialize)]
struct ClockBody {
    offset_seconds: i64,
}

async fn post_clock(data: Data, body: Bytes) -> HttpResponse {
    match parse_json::<ClockBody>(&body) {
        Ok(c) => {
            data.set_clock_offset(chrono::Duration::seconds(c.offset_seconds));
            HttpResponse::Ok().json(clock_json(&data))
        }
        Err(e) => bad_request(&e),
    }
}

async fn post_inbound(data: Data, body: Bytes) -> HttpResponse {
    let req = match parse_json::<InboundRequest>(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(&e),
    };
    match data.into_inner().inject(req).await {
        Ok(outcome) => HttpResponse::Ok().json(outcome),
        Err(e) => sim_error(&e),
    }
}

async fn post_raw(data: Data, body: Bytes) -> HttpResponse {
    let value = match parse_json::<Value>(&body) {
        Ok(v) => v,
        Err(e) => return bad_request(&e),
    };
    match data.into_inner().inject_raw(value).await {
        Ok(status) => HttpResponse::Ok().json(json!({"status": status})),
        Err(e) => sim_error(&e),
    }
}

async fn post_traffic(data: Data, body: Bytes) -> HttpResponse {
    let spec = match parse_json::<TrafficSpec>(&body) {
        Ok(s) => s,
        Err(e) => return bad_request(&e),
    };
    match data.into_inner().start_traffic(spec) {
        Ok(total) => HttpResponse::Accepted().json(json!({"started": true, "messages": total})),
        Err(e) => sim_error(&e),
    }
}

#[derive(Deserialize)]
struct MediaBody {
    mime_type: String,
    data: String,
}

/// Registers media: JSON `{mime_type, data: base64}` or raw bytes with
/// their content type.
async fn post_sim_media(data: Data, req: HttpRequest, body: Bytes) -> HttpResponse {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let (mime, bytes) = if content_type.starts_with("application/json") {
        let m = match parse_json::<MediaBody>(&body) {
            Ok(m) => m,
            Err(e) => return bad_request(&e),
        };
        match base64::engine::general_purpose::STANDARD.decode(m.data.trim()) {
            Ok(b) => (m.mime_type, Bytes::from(b)),
            Err(e) => {
                return HttpResponse::BadRequest()
                    .json(json!({"error": format!("data is not base64: {e}")}));
            }
        }
    } else {
        (content_type, body)
    };
    let id = data.register_media(&mime, bytes);
    HttpResponse::Ok().json(json!({"id": id}))
}

/// The media URL `GET /{version}/{media_id}` hands out (needs the token).
async fn download_media(data: Data, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if let Some(resp) = check_auth(&data, &req) {
        return resp;
    }
    match data.media(&path) {
        Some(item) => HttpResponse::Ok()
            .content_type(item.mime_type.clone())
            .body(item.data),
        None => HttpResponse::NotFound().finish(),
    }
}

// ---- Graph API ----------------------------------------------------------

/// `POST /{version}/{phone_number_id}/messages`.
async fn send_message(
    data: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    let (_version, pnid) = path.into_inner();
    let shared = data.into_inner();
    slow(&shared).await;
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let recorded_body = parsed
        .clone()
        .unwrap_or_else(|| Value::String(String::from_utf8_lossy(&body).into_owned()));
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let to = field("to").unwrap_or_default();
    let kind = if parsed.as_ref().is_some_and(|v| v.get("status").is_some()) {
        "mark_read".to_owned()
    } else {
        field("type").unwrap_or_else(|| "text".into())
    };
    let reject = |code: CloudErrorCode, details: &str, body: Value| {
        shared.record(
            &pnid,
            &to,
            &kind,
            body,
            SendOutcome::Rejected,
            Some(code.code()),
            code.http_status(),
        );
        graph_error(code, details)
    };

    if let Some(resp) = check_auth(&shared, &req) {
        shared.record(
            &pnid,
            &to,
            &kind,
            recorded_body,
            SendOutcome::Rejected,
            Some(CloudErrorCode::AccessTokenExpired.code()),
            resp.status().as_u16(),
        );
        return resp;
    }
    let faults = shared.faults();
    if shared.roll(faults.timeout_probability) {
        tokio::time::sleep(Duration::from_millis(faults.timeout_delay_ms)).await;
    }
    if shared.roll(faults.status_5xx_probability) {
        return reject(
            CloudErrorCode::TemporarilyUnavailable,
            "Service temporarily unavailable. Please retry your request later.",
            recorded_body,
        );
    }
    let Some(value) = parsed.clone() else {
        return reject(
            CloudErrorCode::from_code(100),
            "The request body could not be parsed as JSON.",
            recorded_body,
        );
    };
    match validate_send(&value) {
        Err(invalid) => reject(CloudErrorCode::from_code(100), &invalid.0, value),
        Ok(SendRequest::MarkRead { .. }) => {
            shared.record(&pnid, "", &kind, value, SendOutcome::Accepted, None, 200);
            HttpResponse::Ok().json(json!({"success": true}))
        }
        Ok(SendRequest::Message {
            to: to_given,
            wa_id,
            kind: msg_kind,
            template,
            ..
        }) => {
            if shared.take_burst_429() {
                return reject(
                    CloudErrorCode::Throughput,
                    "Cloud API message throughput has been reached.",
                    value,
                );
            }
            let submission = Submission {
                phone_number_id: &pnid,
                to: &to_given,
                wa_id: &wa_id,
                kind: &msg_kind,
                template,
                body: value,
            };
            match shared.submit(submission) {
                Ok(wamid) => HttpResponse::Ok().json(json!({
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": to_given, "wa_id": wa_id}],
                    "messages": [{"id": wamid, "message_status": "accepted"}],
                })),
                Err((code, details)) => graph_error(code, &details),
            }
        }
    }
}

/// `POST /{version}/{phone_number_id}/media` (multipart: messaging_product,
/// type, file).
async fn upload_media(
    data: Data,
    req: HttpRequest,
    _path: web::Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    slow(&data).await;
    if let Some(resp) = check_auth(&data, &req) {
        return resp;
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let parts = match media::parse_multipart(content_type, &body) {
        Ok(p) => p,
        Err(e) => return invalid_parameter(&format!("Invalid multipart upload: {e}")),
    };
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.filename.is_none())
            .map(|p| String::from_utf8_lossy(&p.data).trim().to_owned())
    };
    match text("messaging_product").as_deref() {
        Some("whatsapp") => {}
        None => return invalid_parameter("The parameter messaging_product is required."),
        Some(other) => {
            return invalid_parameter(&format!(
                "Param messaging_product must be one of {{WHATSAPP}} - got \"{other}\"."
            ));
        }
    }
    let Some(file) = parts.iter().find(|p| p.name == "file") else {
        return invalid_parameter("The parameter file is required.");
    };
    let mime = text("type")
        .filter(|t| !t.is_empty())
        .or_else(|| file.content_type.clone())
        .unwrap_or_else(|| "application/octet-stream".into());
    if file.data.is_empty() {
        return graph_error(CloudErrorCode::MediaUpload, "The uploaded file is empty.");
    }
    if file.data.len() > media::size_limit(&mime) {
        return graph_error(
            CloudErrorCode::MediaUpload,
            &format!(
                "Media file size {} exceeds the limit of {} bytes for {mime}.",
                file.data.len(),
                media::size_limit(&mime)
            ),
        );
    }
    let id = data.register_media(&mime, file.data.clone());
    HttpResponse::Ok().json(json!({"id": id}))
}

fn unknown_object(id: &str) -> HttpResponse {
    let mut body = GraphErrorBody::new(
        CloudErrorCode::from_code(100),
        format!(
            "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
        ),
    );
    body.error.message = format!(
        "Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."
    );
    body.error.error_subcode = Some(33);
    HttpResponse::BadRequest().json(body)
}

/// `GET /{version}/{media_id}`.
async fn get_media(
    data: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    slow(&data).await;
    if let Some(resp) = check_auth(&data, &req) {
        return resp;
    }
    let (_version, id) = path.into_inner();
    match data.media(&id) {
        Some(item) => HttpResponse::Ok().json(item.describe(&data.base_url)),
        None => unknown_object(&id),
    }
}

/// `DELETE /{version}/{media_id}`.
async fn delete_media(
    data: Data,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    if let Some(resp) = check_auth(&data, &req) {
        return resp;
    }
    let (_version, id) = path.into_inner();
    if data.delete_media(&id) {
        HttpResponse::Ok().json(json!({"success": true}))
    } else {
        unknown_object(&id)
    }
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    let mut body = GraphErrorBody::new(
        CloudErrorCode::from_code(100),
        format!("Unknown path components: {}", req.path()),
    );
    body.error.message = format!("Unknown path components: {}", req.path());
    HttpResponse::NotFound().json(body)
}
