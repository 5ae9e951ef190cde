//! The one place where errors become wire errors: a stable `code` for GraphQL
//! `extensions.code` and an HTTP status. Internal causes are logged with a
//! reference id and never shown to clients (no SQL, no stack text).

use async_graphql::ErrorExtensions;

use crate::crypto::CryptoError;
use crate::store::StoreError;

/// Errors as clients see them. Deliberately not `Display`: async-graphql turns
/// any `Display` type into an error *without* extensions, so this type converts
/// only through [`ErrorExtensions`], which always sets `code`.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// 401 — no or invalid credentials.
    Unauthenticated,
    /// 401 — credentials present but not valid.
    BadCredentials(String),
    /// 403 — authenticated, but the role or scope does not allow this.
    Forbidden(String),
    /// 404 — nothing with that id in the caller's tenant.
    NotFound(&'static str),
    /// 400 — the input is invalid.
    BadInput(String),
    /// 409 — the 24-hour customer-service window is closed: only templates may be sent.
    WindowClosed,
    /// 429 — too many attempts.
    RateLimited { retry_after_seconds: u64 },
    /// 503 — the daemon is saturated, retry later.
    Overloaded,
    /// 503 — a dependency (the database) cannot be reached now; retry later.
    Unavailable(String),
    /// 500 — a bug or an unavailable dependency; details only in logs.
    Internal(String),
}

impl ApiError {
    /// The stable code on the wire.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated | ApiError::BadCredentials(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::BadInput(_) => "BAD_USER_INPUT",
            ApiError::WindowClosed => "WINDOW_CLOSED",
            ApiError::RateLimited { .. } => "RATE_LIMITED",
            ApiError::Overloaded => "OVERLOADED",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status for non-GraphQL endpoints.
    pub fn http_status(&self) -> u16 {
        match self {
            ApiError::Unauthenticated | ApiError::BadCredentials(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::BadInput(_) => 400,
            ApiError::WindowClosed => 409,
            ApiError::RateLimited { .. } => 429,
            ApiError::Overloaded | ApiError::Unavailable(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    /// An internal error: logs the cause with a reference the client can quote.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        let reference = hex::encode(rand::random::<[u8; 4]>());
        tracing::error!(reference = %reference, error = %cause, "internal error");
        ApiError::Internal(reference)
    }

    /// The message shown to clients.
    pub fn client_message(&self) -> String {
        match self {
            ApiError::Unauthenticated => "authentication required".into(),
            ApiError::BadCredentials(m) | ApiError::Forbidden(m) | ApiError::BadInput(m) => {
                m.clone()
            }
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::WindowClosed => "the 24-hour customer-service window is closed (the contact has not written in the last 24 hours); send an approved template instead".into(),
            ApiError::RateLimited {
                retry_after_seconds,
            } => format!("too many attempts, retry in {retry_after_seconds} s"),
            ApiError::Overloaded => "the service is overloaded, retry later".into(),
            ApiError::Unavailable(m) => format!("{m}; retry later"),
            ApiError::Internal(reference) => format!("internal error (reference {reference})"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(m) | StoreError::Rejected(m) => ApiError::BadInput(m),
            StoreError::Db(db) => ApiError::internal(db),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::internal(e)
    }
}

impl From<crate::actors::ActorError> for ApiError {
    fn from(e: crate::actors::ActorError) -> Self {
        use crate::actors::ActorError;
        match e {
            ActorError::Overloaded | ActorError::Stopped => ApiError::Overloaded,
            ActorError::NotLoaded => ApiError::Unavailable(e.to_string()),
        }
    }
}

impl From<crate::actors::CommandOutcomeError> for ApiError {
    fn from(e: crate::actors::CommandOutcomeError) -> Self {
        use crate::actors::{CommandError, CommandOutcomeError as E};
        match e {
            E::Actor(a) => a.into(),
            E::Command(CommandError::Lifecycle(l)) => ApiError::BadInput(l.to_string()),
            E::Command(CommandError::Conflict(m)) => ApiError::BadInput(m),
            E::Command(CommandError::NotFound) => ApiError::NotFound("conversation"),
            E::Command(CommandError::Db(db)) => ApiError::internal(db),
        }
    }
}

impl From<CryptoError> for ApiError {
    fn from(e: CryptoError) -> Self {
        ApiError::internal(e)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        e.extend()
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.client_message()).extend_with(|_, ext| {
            ext.set("code", self.code());
            if let ApiError::RateLimited {
                retry_after_seconds,
            } = self
            {
                ext.set("retryAfterSeconds", *retry_after_seconds);
            }
        })
    }
}

/// Result of resolvers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shape_is_stable() {
        let err = ApiError::NotFound("user").extend();
        let json =
            serde_json::to_value(err.into_server_error(Default::default())).expect("serialize");
        assert_eq!(json["message"], "user not found");
        assert_eq!(json["extensions"]["code"], "NOT_FOUND");
        let err = ApiError::RateLimited {
            retry_after_seconds: 12,
        }
        .extend();
        let json =
            serde_json::to_value(err.into_server_error(Default::default())).expect("serialize");
        assert_eq!(json["extensions"]["code"], "RATE_LIMITED");
        assert_eq!(json["extensions"]["retryAfterSeconds"], 12);
    }

    #[test]
    fn database_errors_do_not_leak() {
        let e: ApiError =
            StoreError::Db(sea_orm::DbErr::Custom("SELECT secret FROM users".into())).into();
        assert_eq!(e.code(), "INTERNAL");
        assert!(!e.client_message().contains("SELECT"));
        assert_eq!(e.http_status(), 500);
    }

    #[test]
    fn actor_refusals_map_to_codes() {
        use crate::actors::lifecycle::LifecycleError;
        use crate::actors::{ActorError, CommandError, CommandOutcomeError as E};
        let full: ApiError = E::Actor(ActorError::Overloaded).into();
        assert_eq!((full.code(), full.http_status()), ("OVERLOADED", 503));
        let stopped: ApiError = E::Actor(ActorError::Stopped).into();
        assert_eq!(stopped.code(), "OVERLOADED");
        let unloaded: ApiError = ActorError::NotLoaded.into();
        assert_eq!(
            (unloaded.code(), unloaded.http_status()),
            ("UNAVAILABLE", 503)
        );
        assert!(unloaded.client_message().contains("retry"));
        let refused: ApiError =
            E::Command(CommandError::Lifecycle(LifecycleError::SnoozeInPast)).into();
        assert_eq!(refused.code(), "BAD_USER_INPUT");
        assert!(refused.client_message().contains("future"));
        let gone: ApiError = E::Command(CommandError::NotFound).into();
        assert_eq!(gone.code(), "NOT_FOUND");
        let conflict: ApiError = E::Command(CommandError::Conflict("open".into())).into();
        assert_eq!(conflict.code(), "BAD_USER_INPUT");
    }
}
