//! The WhatsApp Cloud API client: sends messages, marks messages read,
//! uploads, describes and downloads media.
//!
//! One [`CloudClient`] serves every tenant and phone number: it wraps a pooled
//! `reqwest` client (rustls, keep-alive, timeouts) and the Graph base URL and
//! version. Access tokens are passed per call as [`SecretString`]s, go out as
//! a sensitive `Authorization` header and are never logged nor part of any
//! error or `Debug` output.
//!
//! Layout: [`message`] is the pure outgoing message model (validation, wire
//! JSON); `multipart` builds upload bodies; this file does the HTTP.

pub mod message;
mod multipart;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{RequestBuilder, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use crate::whatsapp::errors::CloudErrorCode;

pub use message::{
    ListRow, ListSection, MediaRef, OutgoingContent, OutgoingMessage, ReplyButton,
    TemplateComponent, TemplateComponentKind,
};

/// Largest JSON answer read from the Graph API.
const RESPONSE_MAX: u64 = 1024 * 1024;
/// Longest response body kept in [`SendError::Http`].
const ERROR_BODY_MAX: usize = 512;
/// Media uploads and downloads get at least this long.
const MEDIA_TIMEOUT_MIN: Duration = Duration::from_secs(60);
/// Connecting gets at most this long.
const CONNECT_TIMEOUT_MAX: Duration = Duration::from_secs(10);
const USER_AGENT: &str = concat!("switchboard/", env!("CARGO_PKG_VERSION"));

/// Why a [`CloudClient`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid Graph API base URL {url:?}: {reason}")]
    BaseUrl { url: String, reason: String },
    #[error("invalid Graph API version {0:?}")]
    Version(String),
    #[error("the request timeout must be more than zero")]
    Timeout,
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// A send Meta accepted (accepted, not delivered: statuses come by webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendAccepted {
    /// The message's id (`messages[0].id`).
    pub wamid: String,
    /// `contacts[0].wa_id`.
    pub wa_id: Option<String>,
    /// `messages[0].message_status` (e.g. `accepted`, `held_for_quality_assessment`).
    pub message_status: Option<String>,
}

/// `GET /{version}/{media_id}`: where and what a media object is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// Download URL (lives 5 minutes, needs the bearer token).
    pub url: String,
    pub mime_type: String,
    /// SHA-256 of the bytes (hex).
    pub sha256: String,
    #[serde(deserialize_with = "u64_or_string")]
    pub file_size: u64,
    pub id: String,
}

fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Number(n) => Ok(n),
        Size::Text(s) => s.trim().parse().map_err(serde::de::Error::custom),
    }
}

/// Why a Cloud API call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Meta answered with an error body.
    #[error("cloud api error {} ({}), HTTP {status}: {details}", code.code(), code.title())]
    Api {
        status: u16,
        code: CloudErrorCode,
        /// `error_data.details`, else `message`.
        details: String,
        subcode: Option<i64>,
    },
    /// Connection problems or an unusable answer.
    #[error("cloud api transport error: {0}")]
    Transport(String),
    /// No answer within the timeout (the request may still have been processed).
    #[error("cloud api request timed out")]
    Timeout,
    /// A non-success answer without Meta's error body.
    #[error("cloud api answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// Refused locally before any HTTP call.
    #[error("refused before sending: {0}")]
    Invalid(String),
    /// Media size or checksum problems.
    #[error("media error: {0}")]
    Media(String),
}

impl SendError {
    /// Whether trying again later may succeed: throughput, pair rate,
    /// maintenance, temporarily unavailable, 5xx, 429 without an error body,
    /// connection problems and timeouts.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Api { status, code, .. } => code.retryable() || *status >= 500,
            Self::Transport(_) | Self::Timeout => true,
            Self::Http { status, .. } => *status >= 500 || *status == 429,
            Self::Invalid(_) | Self::Media(_) => false,
        }
    }

    /// The Cloud API error code, when Meta gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(code.code()),
            _ => None,
        }
    }

    /// The error for a non-success answer: [`SendError::Api`] when the body
    /// is Meta's `{"error":{"code":..}}`, else [`SendError::Http`].
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        if let Some(error) = error
            && let Some(code) = error.get("code").and_then(Value::as_i64)
        {
            let details = error
                .get("error_data")
                .and_then(|d| d.get("details"))
                .and_then(Value::as_str)
                .filter(|d| !d.trim().is_empty())
                .or_else(|| error.get("message").and_then(Value::as_str))
                .unwrap_or_default()
                .to_owned();
            return Self::Api {
                status,
                code: CloudErrorCode::from_code(code),
                details,
                subcode: error.get("error_subcode").and_then(Value::as_i64),
            };
        }
        let text = String::from_utf8_lossy(body);
        let body = match text.char_indices().nth(ERROR_BODY_MAX) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.into_owned(),
        };
        Self::Http { status, body }
    }
}

/// A `reqwest` error without its URL (media URLs carry signatures), with
/// its causes.
fn transport(e: reqwest::Error) -> SendError {
    if e.is_timeout() {
        return SendError::Timeout;
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    SendError::Transport(text)
}

/// Upload size limits by mime type (bytes), as Meta documents them: image
/// 5 MB, audio/video 16 MB, documents 100 MB, `image/webp` (stickers) 500 KB.
pub fn upload_size_limit(mime_type: &str) -> u64 {
    const MB: u64 = 1024 * 1024;
    let m = mime_type.trim().to_ascii_lowercase();
    if m.starts_with("image/webp") {
        500 * 1024
    } else if m.starts_with("image/") {
        5 * MB
    } else if m.starts_with("audio/") || m.starts_with("video/") {
        16 * MB
    } else {
        100 * MB
    }
}

/// Whether `expected` (hex in any case, or base64) is the SHA-256 `digest`.
fn checksum_matches(expected: &str, digest: &[u8]) -> bool {
    use base64::Engine as _;
    let e = expected.trim();
    hex::decode(e).is_ok_and(|bytes| bytes == digest)
        || base64::engine::general_purpose::STANDARD
            .decode(e)
            .is_ok_and(|bytes| bytes == digest)
}

fn non_blank(field: &str, value: &str) -> Result<(), SendError> {
    if value.trim().is_empty() {
        return Err(SendError::Invalid(format!("{field} must not be empty")));
    }
    Ok(())
}

/// The `Authorization` header for `token`, marked sensitive.
fn bearer(token: &SecretString) -> Result<HeaderValue, SendError> {
    let token = token.expose_secret().trim();
    if token.is_empty() {
        return Err(SendError::Invalid("the access token is empty".into()));
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        SendError::Invalid("the access token has characters not allowed in a header".into())
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// What [`read_capped`] read.
enum Capped {
    Body(Vec<u8>),
    /// More than the cap (bytes read so far, or the announced length).
    TooLarge(u64),
}

/// Reads a body, giving up as soon as it exceeds `cap` bytes.
async fn read_capped(mut resp: Response, cap: u64) -> Result<Capped, SendError> {
    if let Some(len) = resp.content_length()
        && len > cap
    {
        return Ok(Capped::TooLarge(len));
    }
    let hint = resp
        .content_length()
        .unwrap_or(0)
        .min(cap)
        .min(16 * 1024 * 1024);
    let mut buf = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        let total = buf.len() as u64 + chunk.len() as u64;
        if total > cap {
            return Ok(Capped::TooLarge(total));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Capped::Body(buf))
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    version: String,
    timeout: Duration,
    media_timeout: Duration,
}

/// The Cloud API client. Cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct CloudClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for CloudClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudClient")
            .field("base_url", &self.inner.base.as_str())
            .field("api_version", &self.inner.version)
            .field("timeout", &self.inner.timeout)
            .field("media_timeout", &self.inner.media_timeout)
            .finish()
    }
}

impl CloudClient {
    /// A client for `base_url` (e.g. `https://graph.facebook.com`, or a
    /// simulator's URL) and `api_version` (e.g. `v23.0`); `timeout` bounds
    /// each Graph call (media transfers get at least 60 s, see
    /// [`CloudClient::with_media_timeout`]).
    pub fn new(base_url: &str, api_version: &str, timeout: Duration) -> Result<Self, ClientError> {
        let base_error = |reason: &str| ClientError::BaseUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(base_url.trim()).map_err(|e| base_error(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || !base.has_host() {
            return Err(base_error("expected an http(s) URL"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(base_error("credentials in the URL are not supported"));
        }
        base.set_query(None);
        base.set_fragment(None);
        let version = api_version.trim().trim_matches('/');
        if version.is_empty()
            || !version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(ClientError::Version(api_version.to_owned()));
        }
        if timeout.is_zero() {
            return Err(ClientError::Timeout);
        }
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(timeout.min(CONNECT_TIMEOUT_MAX))
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .tcp_keepalive(Duration::from_secs(60))
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base,
                version: version.to_owned(),
                timeout,
                media_timeout: timeout.max(MEDIA_TIMEOUT_MIN),
            }),
        })
    }

    /// The same client (same pool) with another timeout for media uploads
    /// and downloads.
    #[must_use]
    pub fn with_media_timeout(&self, media_timeout: Duration) -> Self {
        let i = &self.inner;
        Self {
            inner: Arc::new(Inner {
                http: i.http.clone(),
                base: i.base.clone(),
                version: i.version.clone(),
                timeout: i.timeout,
                media_timeout,
            }),
        }
    }

    /// The Graph base URL.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The Graph API version.
    pub fn api_version(&self) -> &str {
        &self.inner.version
    }

    /// `{base}/{version}/{segments…}`, each segment percent-encoded.
    fn graph_url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.push(&self.inner.version);
            path.extend(segments);
        }
        url
    }

    /// Sends `request`, reads a JSON answer; non-success answers become
    /// [`SendError::Api`] / [`SendError::Http`].
    async fn call(&self, op: &'static str, request: RequestBuilder) -> Result<Value, SendError> {
        let started = Instant::now();
        let result = async {
            let resp = request.send().await.map_err(transport)?;
            let status = resp.status();
            let body = match read_capped(resp, RESPONSE_MAX).await? {
                Capped::Body(b) => b,
                Capped::TooLarge(n) if status.is_success() => {
                    return Err(SendError::Transport(format!(
                        "{op}: the answer is too large ({n} bytes)"
                    )));
                }
                Capped::TooLarge(n) => {
                    return Err(SendError::Http {
                        status: status.as_u16(),
                        body: format!("(an answer of {n} bytes)"),
                    });
                }
            };
            if !status.is_success() {
                return Err(SendError::from_response(status.as_u16(), &body));
            }
            serde_json::from_slice::<Value>(&body).map_err(|e| {
                SendError::Transport(format!("{op}: unparsable answer (HTTP {status}): {e}"))
            })
        }
        .await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(_) => tracing::debug!(op, elapsed_ms, "cloud api call succeeded"),
            Err(e) => tracing::debug!(
                op,
                elapsed_ms,
                code = e.code(),
                retryable = e.retryable(),
                error = %e,
                "cloud api call failed"
            ),
        }
        result
    }

    /// `POST /{version}/{phone_number_id}/messages` with `message`, after
    /// [`OutgoingMessage::validate`] (an invalid message is
    /// [`SendError::Invalid`] without any HTTP call).
    pub async fn send(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        message: &OutgoingMessage,
    ) -> Result<SendAccepted, SendError> {
        message.validate().map_err(SendError::Invalid)?;
        non_blank("phone_number_id", phone_number_id)?;
        let auth = bearer(access_token)?;
        let request = self
            .inner
            .http
            .post(self.graph_url(&[phone_number_id, "messages"]))
            .header(AUTHORIZATION, auth)
            .json(&message.to_json());
        let answer = self.call("send", request).await?;
        let first_message = answer
            .get("messages")
            .and_then(|m| m.get(0))
            .ok_or_else(|| SendError::Transport("send: the answer has no messages[0]".into()))?;
        let wamid = first_message
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| SendError::Transport("send: the answer has no messages[0].id".into()))?
            .to_owned();
        let accepted = SendAccepted {
            wamid,
            wa_id: answer
                .get("contacts")
                .and_then(|c| c.get(0))
                .and_then(|c| c.get("wa_id"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            message_status: first_message
                .get("message_status")
                .and_then(Value::as_str)
                .map(str::to_owned),
        };
        tracing::debug!(
            phone_number_id,
            kind = message.kind(),
            wamid = %accepted.wamid,
            "cloud api accepted a message"
        );
        Ok(accepted)
    }

    /// Marks a received message (and those before it) read; with
    /// `typing_indicator` the user also sees "typing…" (up to 25 s or until
    /// the next message).
    pub async fn mark_read(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        message_id: &str,
        typing_indicator: bool,
    ) -> Result<(), SendError> {
        non_blank("phone_number_id", phone_number_id)?;
        non_blank("message_id", message_id)?;
        let auth = bearer(access_token)?;
        let mut body = json!({
            "messaging_product": "whatsapp",
            "status": "read",
            "message_id": message_id,
        });
        if typing_indicator {
            body["typing_indicator"] = json!({ "type": "text" });
        }
        let request = self
            .inner
            .http
            .post(self.graph_url(&[phone_number_id, "messages"]))
            .header(AUTHORIZATION, auth)
            .json(&body);
        let answer = self.call("mark_read", request).await?;
        if answer.get("success").and_then(Value::as_bool) == Some(true) {
            Ok(())
        } else {
            Err(SendError::Transport(
                "mark_read: the answer is not {\"success\":true}".into(),
            ))
        }
    }

    /// `POST /{version}/{phone_number_id}/media` (multipart: messaging_product,
    /// type, file); returns the media id. Sizes over Meta's limit for the
    /// mime type ([`upload_size_limit`]) are refused locally.
    pub async fn upload_media(
        &self,
        phone_number_id: &str,
        access_token: &SecretString,
        mime_type: &str,
        filename: &str,
        bytes: Vec<u8>,
    ) -> Result<String, SendError> {
        non_blank("phone_number_id", phone_number_id)?;
        let mime = mime_type.trim();
        let valid_mime = mime
            .split_once('/')
            .is_some_and(|(t, s)| !t.is_empty() && !s.is_empty())
            && mime
                .chars()
                .all(|c| (c.is_ascii_graphic() || c == ' ') && c != '"');
        if !valid_mime {
            return Err(SendError::Invalid(format!(
                "mime type {mime_type:?} is not type/subtype"
            )));
        }
        if bytes.is_empty() {
            return Err(SendError::Media("the file is empty".into()));
        }
        let limit = upload_size_limit(mime);
        if bytes.len() as u64 > limit {
            return Err(SendError::Media(format!(
                "{} bytes is more than the {limit} bytes allowed for {mime}",
                bytes.len()
            )));
        }
        let auth = bearer(access_token)?;
        let filename = match filename.trim() {
            "" => "file",
            f => f,
        };
        let (content_type, body) = multipart::build(
            &multipart::random_boundary(),
            &[("messaging_product", "whatsapp"), ("type", mime)],
            filename,
            mime,
            &bytes,
        );
        drop(bytes);
        let size = body.len();
        let request = self
            .inner
            .http
            .post(self.graph_url(&[phone_number_id, "media"]))
            .header(AUTHORIZATION, auth)
            .header(CONTENT_TYPE, content_type)
            .timeout(self.inner.media_timeout)
            .body(body);
        let answer = self.call("upload_media", request).await?;
        let id = answer
            .get("id")
            .and_then(|id| match id {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|id| !id.is_empty())
            .ok_or_else(|| SendError::Transport("upload_media: the answer has no id".into()))?;
        tracing::debug!(phone_number_id, mime, size, media_id = %id, "media uploaded");
        Ok(id)
    }

    /// `GET /{version}/{media_id}`: the media's download URL, type, checksum
    /// and size.
    pub async fn media_info(
        &self,
        access_token: &SecretString,
        media_id: &str,
    ) -> Result<MediaInfo, SendError> {
        non_blank("media_id", media_id)?;
        let auth = bearer(access_token)?;
        let request = self
            .inner
            .http
            .get(self.graph_url(&[media_id]))
            .header(AUTHORIZATION, auth);
        let answer = self.call("media_info", request).await?;
        serde_json::from_value(answer)
            .map_err(|e| SendError::Transport(format!("media_info: unexpected answer: {e}")))
    }

    /// Downloads `info.url` with the bearer token, refusing more than
    /// `max_bytes` or more than `info.file_size`, and checks the SHA-256.
    pub async fn download_media(
        &self,
        access_token: &SecretString,
        info: &MediaInfo,
        max_bytes: u64,
    ) -> Result<Vec<u8>, SendError> {
        let url = Url::parse(info.url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| SendError::Invalid("the media URL is not an http(s) URL".into()))?;
        if info.file_size > max_bytes {
            return Err(SendError::Media(format!(
                "the media is {} bytes, more than the {max_bytes} allowed",
                info.file_size
            )));
        }
        let cap = if info.file_size > 0 {
            info.file_size
        } else {
            max_bytes
        };
        let auth = bearer(access_token)?;
        let started = Instant::now();
        let resp = self
            .inner
            .http
            .get(url)
            .header(AUTHORIZATION, auth)
            .timeout(self.inner.media_timeout)
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        if !status.is_success() {
            let body = match read_capped(resp, 64 * 1024).await? {
                Capped::Body(b) => b,
                Capped::TooLarge(_) => Vec::new(),
            };
            return Err(SendError::from_response(status.as_u16(), &body));
        }
        let data = match read_capped(resp, cap).await? {
            Capped::Body(b) => b,
            Capped::TooLarge(n) if cap < max_bytes => {
                return Err(SendError::Media(format!(
                    "the download exceeds the announced file_size of {cap} bytes (got at least {n})"
                )));
            }
            Capped::TooLarge(n) => {
                return Err(SendError::Media(format!(
                    "the download exceeds the {max_bytes} bytes allowed (got at least {n})"
                )));
            }
        };
        let digest = Sha256::digest(&data);
        if info.sha256.trim().is_empty() {
            tracing::warn!(media_id = %info.id, "media has no sha256 to verify against");
        } else if !checksum_matches(&info.sha256, &digest) {
            return Err(SendError::Media(format!(
                "sha256 mismatch: expected {}, got {}",
                info.sha256.trim(),
                hex::encode(digest)
            )));
        }
        tracing::debug!(
            media_id = %info.id,
            size = data.len(),
            status = status.as_u16(),
            elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "media downloaded"
        );
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_graph_urls() {
        let c = CloudClient::new(
            "https://graph.facebook.com",
            "v23.0",
            Duration::from_secs(5),
        )
        .expect("client");
        assert_eq!(
            c.graph_url(&["123", "messages"]).as_str(),
            "https://graph.facebook.com/v23.0/123/messages"
        );
        let c = CloudClient::new("http://127.0.0.1:9/prefix/", "/v1/", Duration::from_secs(5))
            .expect("client");
        assert_eq!(c.api_version(), "v1");
        assert_eq!(
            c.graph_url(&["a/b?c"]).as_str(),
            "http://127.0.0.1:9/prefix/v1/a%2Fb%3Fc"
        );
    }

    #[test]
    fn refuses_bad_configuration() {
        let t = Duration::from_secs(1);
        assert!(matches!(
            CloudClient::new("ftp://x", "v1", t),
            Err(ClientError::BaseUrl { .. })
        ));
        assert!(matches!(
            CloudClient::new("not a url", "v1", t),
            Err(ClientError::BaseUrl { .. })
        ));
        assert!(matches!(
            CloudClient::new("https://x", "v1/../x", t),
            Err(ClientError::Version(_))
        ));
        assert!(matches!(
            CloudClient::new("https://x", "", t),
            Err(ClientError::Version(_))
        ));
        assert!(matches!(
            CloudClient::new("https://x", "v1", Duration::ZERO),
            Err(ClientError::Timeout)
        ));
    }

    #[test]
    fn debug_shows_no_secret_and_clones_share_the_pool() {
        let c = CloudClient::new(
            "https://graph.facebook.com",
            "v23.0",
            Duration::from_secs(5),
        )
        .expect("client");
        let d = format!("{:?}", c.clone());
        assert!(d.contains("graph.facebook.com") && d.contains("v23.0"));
        let m = c.with_media_timeout(Duration::from_secs(300));
        assert_eq!(m.inner.media_timeout, Duration::from_secs(300));
        assert_eq!(c.inner.media_timeout, MEDIA_TIMEOUT_MIN);
    }

    #[test]
    fn bearer_is_sensitive_and_checked() {
        let v = bearer(&SecretString::from("abc")).expect("header");
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("abc"));
        assert!(matches!(
            bearer(&SecretString::from("  ")),
            Err(SendError::Invalid(_))
        ));
        let e = bearer(&SecretString::from("TOPSECRET\n1")).expect_err("newline refused");
        assert!(!e.to_string().contains("TOPSECRET"), "{e}");
    }

    #[test]
    fn classifies_error_answers() {
        let body = br#"{"error":{"message":"(#130429) Rate limit hit","type":"OAuthException","code":130429,"error_data":{"messaging_product":"whatsapp","details":"too fast"},"error_subcode":2494055,"fbtrace_id":"x"}}"#;
        let e = SendError::from_response(429, body);
        assert_eq!(
            e,
            SendError::Api {
                status: 429,
                code: CloudErrorCode::Throughput,
                details: "too fast".into(),
                subcode: Some(2_494_055),
            }
        );
        assert!(e.retryable());
        assert_eq!(e.code(), Some(130429));
        assert!(e.to_string().contains("130429"));

        // no details: the message
        let e =
            SendError::from_response(401, br#"{"error":{"message":"Invalid OAuth","code":190}}"#);
        assert!(
            matches!(&e, SendError::Api { code: CloudErrorCode::AccessTokenExpired, details, subcode: None, .. } if details == "Invalid OAuth")
        );
        assert!(!e.retryable());

        let e = SendError::from_response(400, br#"{"error":{"message":"x","code":131047}}"#);
        assert!(!e.retryable());
        // a non-retryable code with a 5xx status is retried
        let e = SendError::from_response(500, br#"{"error":{"message":"x","code":1}}"#);
        assert!(e.retryable());

        let e = SendError::from_response(502, b"<html>bad gateway</html>");
        assert_eq!(
            e,
            SendError::Http {
                status: 502,
                body: "<html>bad gateway</html>".into()
            }
        );
        assert!(e.retryable());
        assert_eq!(e.code(), None);
        assert!(SendError::from_response(429, b"").retryable());
        assert!(!SendError::from_response(404, b"nope").retryable());
        let long = "é".repeat(2000);
        match SendError::from_response(400, long.as_bytes()) {
            SendError::Http { body, .. } => assert_eq!(body.chars().count(), ERROR_BODY_MAX + 1),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn retryable_kinds() {
        assert!(SendError::Timeout.retryable());
        assert!(SendError::Transport("x".into()).retryable());
        assert!(!SendError::Invalid("x".into()).retryable());
        assert!(!SendError::Media("x".into()).retryable());
        assert!(
            SendError::Api {
                status: 400,
                code: CloudErrorCode::PairRate,
                details: String::new(),
                subcode: None
            }
            .retryable()
        );
    }

    #[test]
    fn checksums_in_hex_any_case_or_base64() {
        let digest = Sha256::digest(b"abc");
        let hex_lower = hex::encode(digest);
        assert!(checksum_matches(&hex_lower, &digest));
        assert!(checksum_matches(&hex_lower.to_uppercase(), &digest));
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        assert!(checksum_matches(&b64, &digest));
        assert!(!checksum_matches(
            &hex::encode(Sha256::digest(b"abd")),
            &digest
        ));
        assert!(!checksum_matches("zz", &digest));
    }

    #[test]
    fn size_limits() {
        assert_eq!(upload_size_limit("image/jpeg"), 5 * 1024 * 1024);
        assert_eq!(upload_size_limit("image/webp"), 500 * 1024);
        assert_eq!(
            upload_size_limit("audio/ogg; codecs=opus"),
            16 * 1024 * 1024
        );
        assert_eq!(upload_size_limit("video/mp4"), 16 * 1024 * 1024);
        assert_eq!(upload_size_limit("application/pdf"), 100 * 1024 * 1024);
    }

    #[test]
    fn media_info_accepts_string_sizes() {
        let i: MediaInfo = serde_json::from_value(json!({"messaging_product": "whatsapp",
            "url": "https://x/y", "mime_type": "image/png", "sha256": "ab", "file_size": "12", "id": "1"}))
        .expect("parse");
        assert_eq!(i.file_size, 12);
        let i: MediaInfo = serde_json::from_value(json!({
            "url": "https://x/y", "mime_type": "image/png", "sha256": "ab", "file_size": 7, "id": "1"}))
        .expect("parse");
        assert_eq!(i.file_size, 7);
    }
}
