//! `GET /graphql/ws`: GraphQL subscriptions over WebSocket
//! (`graphql-transport-ws` and the legacy `graphql-ws`), authenticated in
//! `connection_init`. Adapted from async-graphql-actix-web's subscription
//! actor (MIT/Apache-2.0) to close every connection with code 1001 (going
//! away) and a reason when the daemon shuts down, so clients reconnect and
//! resume with their last cursor instead of seeing a dropped socket.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::{Duration, Instant};

use actix::{
    Actor, ActorContext, ActorFutureExt, ActorStreamExt, AsyncContext, ContextFutureSpawner,
    StreamHandler, WrapFuture, WrapStream,
};
use actix_web::{HttpRequest, HttpResponse, web};
use actix_web_actors::ws::{self, CloseCode, CloseReason, Message, ProtocolError};
use async_graphql::Data;
use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket, WebSocketProtocols, WsMessage};
use tokio::sync::{mpsc, watch};

use crate::graphql::AppSchema;

const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The reason sent with the close frame at shutdown.
pub const SHUTDOWN_REASON: &str =
    "server shutting down; reconnect and resume with your last cursor";

/// Tells every open WebSocket that the daemon is shutting down.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            tx: std::sync::Arc::new(watch::channel(false).0),
        }
    }
}

impl Shutdown {
    /// Closes every WebSocket (now and any opened later).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    fn subscribe(&self) -> watch::Receiver<bool> {
        self.tx.subscribe()
    }
}

type InitFuture = Pin<Box<dyn Future<Output = async_graphql::Result<Data>> + Send>>;
type OnInit = Box<dyn FnOnce(serde_json::Value) -> InitFuture + Send + Unpin>;

/// Starts the subscription actor for one WebSocket.
pub fn start(
    req: &HttpRequest,
    payload: web::Payload,
    schema: AppSchema,
    shutdown: &Shutdown,
    on_init: OnInit,
) -> actix_web::Result<HttpResponse> {
    let protocol = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .and_then(|ps| {
            ps.split(',')
                .find_map(|p| WebSocketProtocols::from_str(p.trim()).ok())
        })
        .ok_or_else(|| {
            actix_web::error::ErrorBadRequest(
                "Sec-WebSocket-Protocol must be graphql-transport-ws or graphql-ws",
            )
        })?;
    let actor = Connection {
        schema,
        protocol,
        last_heartbeat: Instant::now(),
        messages: None,
        on_init: Some(on_init),
        continuation: Vec::new(),
        shutdown: shutdown.subscribe(),
    };
    ws::WsResponseBuilder::new(actor, req, payload)
        .protocols(&ALL_WEBSOCKET_PROTOCOLS)
        .start()
}

struct Connection {
    schema: AppSchema,
    protocol: WebSocketProtocols,
    last_heartbeat: Instant,
    messages: Option<mpsc::UnboundedSender<Vec<u8>>>,
    on_init: Option<OnInit>,
    continuation: Vec<u8>,
    shutdown: watch::Receiver<bool>,
}

impl Actor for Connection {
    type Context = ws::WebsocketContext<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(HEARTBEAT_INTERVAL, |act, ctx| {
            if act.last_heartbeat.elapsed() > CLIENT_TIMEOUT {
                ctx.stop();
            }
            ctx.ping(b"");
        });
        let mut shutdown = self.shutdown.clone();
        async move {
            let _ = shutdown.wait_for(|down| *down).await;
        }
        .into_actor(self)
        .map(|_, _, ctx| {
            ctx.close(Some(CloseReason {
                code: CloseCode::Away,
                description: Some(SHUTDOWN_REASON.into()),
            }));
            ctx.stop();
        })
        .spawn(ctx);

        let (tx, rx) = mpsc::unbounded_channel();
        let incoming =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
            );
        let Some(on_init) = self.on_init.take() else {
            ctx.stop();
            return;
        };
        WebSocket::new(self.schema.clone(), incoming, self.protocol)
            .on_connection_init(on_init)
            .into_actor(self)
            .map(|response, _, ctx| match response {
                WsMessage::Text(text) => ctx.text(text),
                WsMessage::Close(code, msg) => ctx.close(Some(CloseReason {
                    code: code.into(),
                    description: Some(msg),
                })),
            })
            .finish()
            .spawn(ctx);
        self.messages = Some(tx);
    }
}

impl StreamHandler<Result<Message, ProtocolError>> for Connection {
    fn handle(&mut self, msg: Result<Message, ProtocolError>, ctx: &mut Self::Context) {
        let Ok(msg) = msg else {
            ctx.stop();
            return;
        };
        let message = match msg {
            Message::Ping(m) => {
                self.last_heartbeat = Instant::now();
                ctx.pong(&m);
                None
            }
            Message::Pong(_) => {
                self.last_heartbeat = Instant::now();
                None
            }
            Message::Continuation(item) => match item {
                actix_http::ws::Item::FirstText(b) | actix_http::ws::Item::FirstBinary(b) => {
                    self.continuation = b.to_vec();
                    None
                }
                actix_http::ws::Item::Continue(b) => {
                    self.continuation.extend_from_slice(&b);
                    None
                }
                actix_http::ws::Item::Last(b) => {
                    self.continuation.extend_from_slice(&b);
                    Some(std::mem::take(&mut self.continuation))
                }
            },
            Message::Text(s) => Some(s.into_bytes().to_vec()),
            Message::Binary(b) => Some(b.to_vec()),
            Message::Close(_) => {
                ctx.stop();
                None
            }
            Message::Nop => None,
        };
        if let Some(m) = message {
            let sent = self.messages.as_ref().is_some_and(|tx| tx.send(m).is_ok());
            if !sent {
                ctx.stop();
            }
        }
    }
}
