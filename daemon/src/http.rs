//! HTTP surface: routes, the request-metrics middleware and the small handlers
//! (health, readiness, metrics, GraphQL over HTTP and WebSocket, GraphiQL).

use std::net::IpAddr;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, web};
use async_graphql::Data;
use tracing::Instrument;

use crate::error::ApiError;
use crate::graphql::{AppSchema, RequestMeta};
use crate::session;
use crate::state::AppState;

/// Largest GraphQL request body.
const MAX_GRAPHQL_BODY: usize = 1024 * 1024;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(MAX_GRAPHQL_BODY))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/graphql", web::post().to(graphql))
        .route("/graphql", web::get().to(graphiql))
        .route("/graphql/ws", web::get().to(graphql_ws))
        .route("/graphql/assets/{file}", web::get().to(graphiql_asset))
        .route("/media/{message_id}", web::get().to(media))
        .configure(crate::whatsapp::webhook::routes);
}

/// Counts and times every request by route pattern (never by raw path, so
/// label cardinality stays bounded), inside one tracing span per request.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let start = Instant::now();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let method = req.method().to_string();
    let span =
        tracing::info_span!("http", %method, path = %req.path(), status = tracing::field::Empty);
    let res = next.call(req).instrument(span.clone()).await;
    let (route, status) = match &res {
        Ok(r) => (
            r.request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".into()),
            r.status().as_u16(),
        ),
        Err(e) => (
            "unmatched".into(),
            e.as_response_error().status_code().as_u16(),
        ),
    };
    span.record("status", status);
    if let Some(st) = state {
        st.metrics
            .observe_http(&route, &method, status, start.elapsed().as_secs_f64());
    }
    res
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let mut problems = Vec::new();
    if let Err(e) = crate::store::readiness(&state.db).await {
        problems.push(e);
    }
    if !state.ingest.is_running() {
        problems.push("ingest writer stopped".to_string());
    }
    if !state.bus.is_ready() {
        problems.push("not subscribed to the redis event channel".to_string());
    }
    if let Some(pool) = &state.redis
        && let Err(e) = redis_ping(pool).await
    {
        problems.push(format!("redis unreachable: {e}"));
    }
    if problems.is_empty() {
        HttpResponse::Ok().json(serde_json::json!({ "status": "ready" }))
    } else {
        tracing::warn!(?problems, "not ready");
        HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "unavailable", "problems": problems }))
    }
}

async fn redis_ping(pool: &deadpool_redis::Pool) -> Result<(), String> {
    let mut conn = tokio::time::timeout(std::time::Duration::from_secs(2), pool.get())
        .await
        .map_err(|_| "timeout".to_string())?
        .map_err(|e| e.to_string())?;
    let pong: String = deadpool_redis::redis::cmd("PING")
        .query_async(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    if pong == "PONG" {
        Ok(())
    } else {
        Err(format!("unexpected reply {pong}"))
    }
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let (in_use, idle) = crate::store::pool_stats(&state.db);
    state.metrics.set_pool(in_use, idle);
    if let Ok(depth) = crate::store::outbox::depth(&state.db).await {
        state
            .metrics
            .outbox_depth
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}

/// The caller's IP: the peer address, or the left-most `X-Forwarded-For`
/// entry when `server.trust_forwarded_for` is set.
fn client_ip(req: &HttpRequest, trust_forwarded: bool) -> IpAddr {
    let forwarded = trust_forwarded
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse().ok());
    forwarded
        .or_else(|| req.peer_addr().map(|a| a.ip()))
        .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn error_response(err: &ApiError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(err.http_status())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(serde_json::json!({
        "errors": [{ "message": err.client_message(), "extensions": { "code": err.code() } }]
    }))
}

async fn graphql(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
) -> HttpResponse {
    let batch: async_graphql::BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error_response(&ApiError::BadInput(format!(
                "request body is not a GraphQL JSON request: {e}"
            )));
        }
    };
    let mut batch = batch.data(RequestMeta {
        ip: client_ip(&req, state.settings.server.trust_forwarded_for),
    });
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let token = value.to_str().ok().and_then(session::bearer);
        let Some(token) = token else {
            return error_response(&ApiError::BadCredentials(
                "Authorization must be `Bearer <token>`".into(),
            ));
        };
        match session::authenticate(&state, token).await {
            Ok(identity) => batch = batch.data(identity),
            Err(e) => return error_response(&e),
        }
    }
    let response = schema.execute_batch(batch).await;
    let mut http = HttpResponse::Ok();
    http.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
    http.json(response)
}

/// Reads the credential from a `connection_init` payload: `Authorization`
/// (any case) holding `Bearer …`, or `token` / `authToken` holding the token.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    let obj = payload.as_object()?;
    for (k, v) in obj {
        if let Some(s) = v.as_str() {
            if k.eq_ignore_ascii_case("authorization") {
                return session::bearer(s).map(str::to_string);
            }
            if k == "token" || k == "authToken" {
                return Some(s.trim().to_string());
            }
        }
    }
    None
}

async fn graphql_ws(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
    schema: web::Data<AppSchema>,
) -> actix_web::Result<HttpResponse> {
    let meta = RequestMeta {
        ip: client_ip(&req, state.settings.server.trust_forwarded_for),
    };
    let st = state.get_ref().clone();
    crate::ws::start(
        &req,
        payload,
        schema.get_ref().clone(),
        &state.shutdown,
        Box::new(move |value| {
            Box::pin(async move {
                let token = init_token(&value)
                    .ok_or_else(|| async_graphql::Error::from(ApiError::Unauthenticated))?;
                let identity = session::authenticate(&st, &token)
                    .await
                    .map_err(async_graphql::Error::from)?;
                let mut data = Data::default();
                data.insert(identity);
                data.insert(meta);
                Ok(data)
            })
        }),
    )
}

/// `GET /media/{message_id}`: a stored inbound media file, for a caller of the
/// message's tenant (`Authorization: Bearer`). Streamed in 64 KiB chunks.
async fn media(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(session::bearer);
    let Some(token) = token else {
        return error_response(&ApiError::Unauthenticated);
    };
    let identity = match session::authenticate(&state, token).await {
        Ok(i) => i,
        Err(e) => return error_response(&e),
    };
    if !identity.can_read() {
        return error_response(&ApiError::Forbidden("API key lacks the READ scope".into()));
    }
    let Ok(message_id) = path.parse::<i64>() else {
        return error_response(&ApiError::NotFound("media"));
    };
    // the conversation visibility rule of the GraphQL API applies to its media
    if !identity.has_role(crate::auth::Role::Manager) {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let conv = match entity::messages::Entity::find_by_id(message_id)
            .filter(entity::messages::Column::TenantId.eq(identity.tenant_id))
            .find_also_related(entity::conversations::Entity)
            .one(&state.db)
            .await
        {
            Ok(found) => found.and_then(|(_, c)| c),
            Err(e) => return error_response(&ApiError::internal(e)),
        };
        if !conv.is_some_and(|c| crate::graphql::may_see(&identity, &c)) {
            return error_response(&ApiError::NotFound("media"));
        }
    }
    let Some((file, mime)) = state.media.open(identity.tenant_id, message_id).await else {
        return error_response(&ApiError::NotFound("media"));
    };
    let f = match tokio::fs::File::open(&file).await {
        Ok(f) => f,
        Err(e) => {
            return error_response(&ApiError::internal(format!(
                "media file {}: {e}",
                file.display()
            )));
        }
    };
    let stream = futures_util::stream::unfold(f, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(web::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    });
    HttpResponse::Ok()
        .content_type(mime)
        .insert_header((header::CACHE_CONTROL, "private, max-age=3600"))
        .streaming(stream)
}

const GRAPHIQL_HTML: &str = include_str!("../assets/graphiql/index.html");

async fn graphiql(state: web::Data<AppState>) -> HttpResponse {
    if !state.settings.graphql.graphiql {
        return HttpResponse::NotFound().finish();
    }
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(GRAPHIQL_HTML)
}

/// GraphiQL's assets, embedded in the binary: the page works without internet.
fn asset(name: &str) -> Option<(&'static [u8], &'static str)> {
    const JS: &str = "text/javascript; charset=utf-8";
    const CSS: &str = "text/css; charset=utf-8";
    Some(match name {
        "react.production.min.js" => (
            include_bytes!("../assets/graphiql/react.production.min.js").as_slice(),
            JS,
        ),
        "react-dom.production.min.js" => (
            include_bytes!("../assets/graphiql/react-dom.production.min.js").as_slice(),
            JS,
        ),
        "graphiql.min.js" => (
            include_bytes!("../assets/graphiql/graphiql.min.js").as_slice(),
            JS,
        ),
        "graphiql.min.css" => (
            include_bytes!("../assets/graphiql/graphiql.min.css").as_slice(),
            CSS,
        ),
        _ => return None,
    })
}

async fn graphiql_asset(path: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    match asset(&path).filter(|_| state.settings.graphql.graphiql) {
        Some((bytes, ct)) => HttpResponse::Ok()
            .content_type(ct)
            .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
            .body(bytes),
        None => HttpResponse::NotFound().finish(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_init_credentials() {
        let t = |v: serde_json::Value| init_token(&v);
        assert_eq!(
            t(serde_json::json!({"Authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            t(serde_json::json!({"authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(
            t(serde_json::json!({"token": "abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(t(serde_json::json!({})), None);
        assert_eq!(t(serde_json::json!(null)), None);
    }

    #[test]
    fn graphiql_assets_are_embedded() {
        assert!(asset("graphiql.min.js").is_some());
        assert!(asset("../../etc/passwd").is_none());
        assert!(!GRAPHIQL_HTML.contains("https://"));
    }
}
