//! Cloud API error codes as a stable enum, with Meta's error body shape.
//! Logic is built on the numeric `code`, never on titles.

use serde::{Deserialize, Serialize};

/// Every Cloud API error code Switchboard distinguishes; anything else is
/// `Other(code)`. The numeric code is what is stored on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloudErrorCode {
    /// 0 — authentication failed.
    AuthException,
    /// 4 — application request limit reached.
    AppCallLimit,
    /// 190 — access token expired or invalid.
    AccessTokenExpired,
    /// 368 — temporarily blocked for policy violations.
    PolicyBlock,
    /// 80007 — WABA rate limit.
    WabaRateLimit,
    /// 130429 — throughput of the phone number exceeded.
    Throughput,
    /// 131026 — message undeliverable.
    Undeliverable,
    /// 131031 — business account locked.
    AccountLocked,
    /// 131042 — payment issue.
    Payment,
    /// 131047 — more than 24 hours since the customer last replied.
    ReEngagement,
    /// 131048 — spam rate limit.
    SpamRateLimit,
    /// 131049 — not delivered to maintain healthy ecosystem engagement.
    EcosystemEngagement,
    /// 131051 — unsupported message type.
    UnsupportedType,
    /// 131052 — media download error.
    MediaDownload,
    /// 131053 — media upload error.
    MediaUpload,
    /// 131056 — pair rate limit (too many messages to one user).
    PairRate,
    /// 131057 — business account in maintenance mode.
    Maintenance,
    /// 132000 — template parameter count mismatch.
    TemplateParamCount,
    /// 132001 — template does not exist or is not approved.
    TemplateMissing,
    /// 132005 — template hydrated text too long.
    TemplateTextTooLong,
    /// 132007 — template format character policy violated.
    TemplatePolicy,
    /// 132012 — template parameter format mismatch.
    TemplateFormat,
    /// 132015 — template paused.
    TemplatePaused,
    /// 132016 — template disabled.
    TemplateDisabled,
    /// 133004 — server temporarily unavailable.
    TemporarilyUnavailable,
    /// 135000 — generic user error.
    Generic,
    /// Any other code.
    Other(i64),
}

impl CloudErrorCode {
    /// The enum for a numeric code.
    pub fn from_code(code: i64) -> Self {
        use CloudErrorCode::*;
        match code {
            0 => AuthException,
            4 => AppCallLimit,
            190 => AccessTokenExpired,
            368 => PolicyBlock,
            80007 => WabaRateLimit,
            130429 => Throughput,
            131026 => Undeliverable,
            131031 => AccountLocked,
            131042 => Payment,
            131047 => ReEngagement,
            131048 => SpamRateLimit,
            131049 => EcosystemEngagement,
            131051 => UnsupportedType,
            131052 => MediaDownload,
            131053 => MediaUpload,
            131056 => PairRate,
            131057 => Maintenance,
            132000 => TemplateParamCount,
            132001 => TemplateMissing,
            132005 => TemplateTextTooLong,
            132007 => TemplatePolicy,
            132012 => TemplateFormat,
            132015 => TemplatePaused,
            132016 => TemplateDisabled,
            133004 => TemporarilyUnavailable,
            135000 => Generic,
            other => Other(other),
        }
    }

    /// The numeric code.
    pub fn code(self) -> i64 {
        use CloudErrorCode::*;
        match self {
            AuthException => 0,
            AppCallLimit => 4,
            AccessTokenExpired => 190,
            PolicyBlock => 368,
            WabaRateLimit => 80007,
            Throughput => 130429,
            Undeliverable => 131026,
            AccountLocked => 131031,
            Payment => 131042,
            ReEngagement => 131047,
            SpamRateLimit => 131048,
            EcosystemEngagement => 131049,
            UnsupportedType => 131051,
            MediaDownload => 131052,
            MediaUpload => 131053,
            PairRate => 131056,
            Maintenance => 131057,
            TemplateParamCount => 132000,
            TemplateMissing => 132001,
            TemplateTextTooLong => 132005,
            TemplatePolicy => 132007,
            TemplateFormat => 132012,
            TemplatePaused => 132015,
            TemplateDisabled => 132016,
            TemporarilyUnavailable => 133004,
            Generic => 135000,
            Other(c) => c,
        }
    }

    /// Whether a send that failed with this code may be retried later
    /// (throughput, pair rate, maintenance, temporarily unavailable).
    pub fn retryable(self) -> bool {
        matches!(
            self,
            CloudErrorCode::Throughput
                | CloudErrorCode::PairRate
                | CloudErrorCode::Maintenance
                | CloudErrorCode::TemporarilyUnavailable
        )
    }

    /// Meta's title for the code (for messages to humans only).
    pub fn title(self) -> &'static str {
        use CloudErrorCode::*;
        match self {
            AuthException => "Authentication Error",
            AppCallLimit => "API Too Many Calls",
            AccessTokenExpired => "Access token has expired",
            PolicyBlock => "Temporarily blocked for policies violations",
            WabaRateLimit => "Rate limit hit",
            Throughput => "Rate limit hit",
            Undeliverable => "Message Undeliverable",
            AccountLocked => "Account has been locked",
            Payment => "Business eligibility payment issue",
            ReEngagement => "Re-engagement message",
            SpamRateLimit => "Spam Rate limit hit",
            EcosystemEngagement => "Message not delivered to maintain healthy ecosystem engagement",
            UnsupportedType => "Unsupported message type",
            MediaDownload => "Media download error",
            MediaUpload => "Media upload error",
            PairRate => "(Business Account, Consumer Account) pair rate limit hit",
            Maintenance => "Account in maintenance mode",
            TemplateParamCount => {
                "Number of parameters does not match the expected number of params"
            }
            TemplateMissing => "Template name does not exist in the translation",
            TemplateTextTooLong => "Template hydrated text too long",
            TemplatePolicy => "Template Format Character Policy Violated",
            TemplateFormat => "Parameter format does not match format in the created template",
            TemplatePaused => "Template is Paused",
            TemplateDisabled => "Template is Disabled",
            TemporarilyUnavailable => "Service temporarily unavailable",
            Generic => "Generic user error",
            Other(_) => "Unknown error",
        }
    }

    /// The HTTP status the Graph API answers a synchronous error with.
    pub fn http_status(self) -> u16 {
        use CloudErrorCode::*;
        match self {
            AuthException | AccessTokenExpired => 401,
            PolicyBlock | AccountLocked => 403,
            TemplateMissing => 404,
            Throughput | PairRate | WabaRateLimit | AppCallLimit | SpamRateLimit => 429,
            Maintenance => 500,
            TemporarilyUnavailable => 503,
            _ => 400,
        }
    }
}

/// `{"error": {...}}` as the Graph API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphErrorBody {
    pub error: GraphError,
}

/// The `error` object of a Graph API error response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphError {
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub code: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_data: Option<GraphErrorData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_subcode: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbtrace_id: Option<String>,
}

/// `error.error_data`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphErrorData {
    #[serde(default)]
    pub messaging_product: Option<String>,
    #[serde(default)]
    pub details: String,
}

impl GraphErrorBody {
    /// Meta's shape for `code` with `details`.
    pub fn new(code: CloudErrorCode, details: impl Into<String>) -> Self {
        Self {
            error: GraphError {
                message: format!("(#{}) {}", code.code(), code.title()),
                kind: "OAuthException".into(),
                code: code.code(),
                error_data: Some(GraphErrorData {
                    messaging_product: Some("whatsapp".into()),
                    details: details.into(),
                }),
                error_subcode: None,
                fbtrace_id: Some(hex::encode(rand::random::<[u8; 8]>())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_classify() {
        for c in [
            0, 4, 190, 368, 80007, 130429, 131026, 131031, 131042, 131047, 131048, 131049, 131051,
            131052, 131053, 131056, 131057, 132000, 132001, 132005, 132007, 132012, 132015, 132016,
            133004, 135000, 999_999,
        ] {
            assert_eq!(CloudErrorCode::from_code(c).code(), c);
        }
        assert!(CloudErrorCode::from_code(130429).retryable());
        assert!(CloudErrorCode::from_code(131056).retryable());
        assert!(CloudErrorCode::from_code(131057).retryable());
        assert!(CloudErrorCode::from_code(133004).retryable());
        assert!(!CloudErrorCode::from_code(131047).retryable());
        assert!(!CloudErrorCode::from_code(132001).retryable());
        assert!(!CloudErrorCode::from_code(190).retryable());
    }

    #[test]
    fn error_body_matches_meta_shape() {
        let body = GraphErrorBody::new(CloudErrorCode::Throughput, "too fast");
        let v = serde_json::to_value(&body).expect("json");
        assert_eq!(v["error"]["code"], 130429);
        assert_eq!(v["error"]["type"], "OAuthException");
        assert_eq!(v["error"]["message"], "(#130429) Rate limit hit");
        assert_eq!(v["error"]["error_data"]["details"], "too fast");
        let back: GraphErrorBody = serde_json::from_value(v).expect("parse");
        assert_eq!(back.error.code, 130429);
    }
}
