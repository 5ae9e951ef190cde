//! Typed configuration.
//!
//! Layers, later wins: the embedded `config/default.toml` → the file given with
//! `--config` → environment variables `SWITCHBOARD__SECTION__KEY`. Every field
//! has a `///` doc and a default; unknown keys and invalid values stop the start
//! with an error that names the key. Secrets are [`SecretString`]s, so neither
//! `Debug` nor logs ever print them.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The embedded default configuration (also the documented reference).
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// Prefix of configuration environment variables (`SWITCHBOARD__SERVER__PORT`).
pub const ENV_PREFIX: &str = "SWITCHBOARD";

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The `--config` file is missing or unreadable.
    #[error("cannot read config file {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A layer is not valid TOML, or could not be merged.
    #[error("invalid configuration: {0}")]
    Source(#[from] config::ConfigError),
    /// A key is unknown or its value has the wrong type.
    #[error("invalid configuration key `{key}`: {message}")]
    Key { key: String, message: String },
    /// A value is well-typed but not acceptable.
    #[error("invalid configuration key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// All settings of the daemon.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// HTTP server.
    pub server: ServerSettings,
    /// Database (SQLite or PostgreSQL).
    pub database: DatabaseSettings,
    /// Optional Redis (shared event bus, distributed limits).
    pub redis: RedisSettings,
    /// Login tokens, rate limits, passwords.
    pub auth: AuthSettings,
    /// Encryption of secrets at rest.
    pub crypto: CryptoSettings,
    /// WhatsApp Cloud API.
    pub whatsapp: WhatsAppSettings,
    /// Durable webhook ingest (group commit).
    pub ingest: IngestSettings,
    /// The per-tenant event log behind resumable subscriptions.
    pub events: EventSettings,
    /// Conversation lifecycle and timers.
    pub conversations: ConversationSettings,
    /// Tenant and conversation actors.
    pub actors: ActorSettings,
    /// GraphQL limits.
    pub graphql: GraphqlSettings,
    /// Logging.
    pub log: LogSettings,
}

/// `[server]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to bind. Default `127.0.0.1`.
    pub host: String,
    /// TCP port, 0 = any free port. Default `8080`.
    pub port: u16,
    /// HTTP worker threads, 0 = one per core. Default `0`.
    pub workers: usize,
    /// Seconds in-flight requests get to finish on shutdown. Default `30`.
    pub shutdown_grace_seconds: u64,
    /// Directory for generated keys and local data. Default `data`.
    pub data_dir: PathBuf,
    /// Take the client IP from `X-Forwarded-For`. Default `false`.
    pub trust_forwarded_for: bool,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 0,
            shutdown_grace_seconds: 30,
            data_dir: PathBuf::from("data"),
            trust_forwarded_for: false,
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://FILE?mode=rwc` or `postgres://…`. Default `sqlite://switchboard.db?mode=rwc`.
    /// Secret because it may carry a password.
    pub url: SecretString,
    /// Maximum pooled connections. Default `16`.
    pub max_connections: u32,
    /// Seconds to wait for a pooled connection. Default `5`.
    pub acquire_timeout_seconds: u64,
    /// Run pending migrations at start. Default `true`.
    pub migrate_on_start: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://switchboard.db?mode=rwc"),
            max_connections: 16,
            acquire_timeout_seconds: 5,
            migrate_on_start: true,
        }
    }
}

impl DatabaseSettings {
    /// Which backend the URL names.
    pub fn backend(&self) -> Option<DatabaseKind> {
        let url = self.url.expose_secret();
        if url.starts_with("sqlite:") {
            Some(DatabaseKind::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(DatabaseKind::Postgres)
        } else {
            None
        }
    }

    /// The URL with any password replaced by `***`, for logs.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }
}

/// Database backends Switchboard supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

/// `[redis]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisSettings {
    /// `redis://HOST:PORT/DB`; unset = in-process bus. Default unset.
    pub url: Option<SecretString>,
    /// Prefix of every key and channel. Default `switchboard`.
    pub key_prefix: String,
}

impl Default for RedisSettings {
    fn default() -> Self {
        Self {
            url: None,
            key_prefix: "switchboard".into(),
        }
    }
}

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// HS256 key, ≥ 32 bytes; unset = generated into `data_dir/jwt.key`. Default unset.
    pub jwt_secret: Option<SecretString>,
    /// Login token lifetime in minutes. Default `720`.
    pub jwt_expiry_minutes: u32,
    /// Login attempts per client IP per minute. Default `30`.
    pub login_attempts_per_ip_per_minute: u32,
    /// Login attempts per account per minute. Default `10`.
    pub login_attempts_per_account_per_minute: u32,
    /// Invitation lifetime in hours. Default `72`.
    pub invite_expiry_hours: u32,
    /// Minimum password length. Default `10`.
    pub min_password_length: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            jwt_expiry_minutes: 720,
            login_attempts_per_ip_per_minute: 30,
            login_attempts_per_account_per_minute: 10,
            invite_expiry_hours: 72,
            min_password_length: 10,
        }
    }
}

/// `[crypto]`
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CryptoSettings {
    /// Base64 of 32 bytes; unset = generated into `data_dir/master.key`. Default unset.
    pub master_key: Option<SecretString>,
    /// Older master keys (base64) still accepted for decryption during a key
    /// rotation; `switchboard rotate-key` re-encrypts everything with
    /// `master_key`, after which they can be removed. Default empty.
    pub previous_keys: Vec<SecretString>,
}

/// `[whatsapp]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsAppSettings {
    /// Graph API base URL. Default `https://graph.facebook.com`.
    pub graph_base_url: String,
    /// Graph API version. Default `v23.0`.
    pub api_version: String,
    /// Largest webhook body in bytes. Default `3145728` (3 MiB).
    pub webhook_max_body_bytes: usize,
    /// Timeout of one Cloud API request, in seconds. Default `15`.
    pub request_timeout_seconds: u64,
    /// Seconds between messages to one recipient (Meta's pair rate). Default `6`.
    pub pair_interval_seconds: f64,
    /// Messages to one recipient that may borrow from the pair rate. Default `45`.
    pub pair_burst: u32,
    /// Directory of the inbound media store. Default `data/media`.
    pub media_dir: PathBuf,
}

impl Default for WhatsAppSettings {
    fn default() -> Self {
        Self {
            graph_base_url: "https://graph.facebook.com".into(),
            api_version: "v23.0".into(),
            webhook_max_body_bytes: 3 * 1024 * 1024,
            request_timeout_seconds: 15,
            pair_interval_seconds: 6.0,
            pair_burst: 45,
            media_dir: PathBuf::from("data/media"),
        }
    }
}

/// `[ingest]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    /// Notifications per commit batch at most. Default `512`.
    pub batch_max_notifications: usize,
    /// Milliseconds a batch waits for more after its first. Default `0`:
    /// a batch is what queued while the previous one committed.
    pub batch_max_wait_ms: u64,
    /// Notifications queued for the writer before webhooks get 503. Default `16384`.
    pub queue_capacity: usize,
    /// Writer tasks committing batches concurrently on PostgreSQL (one
    /// collects the next batch while another commits). SQLite always uses one.
    /// Default `1`: a second writer measured no gain on 2 cores (BENCHMARKS.md).
    pub writers: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            batch_max_notifications: 512,
            batch_max_wait_ms: 0,
            queue_capacity: 16384,
            writers: 1,
        }
    }
}

/// `[conversations]`: lifecycle and timers. A duration of 0 turns that timer off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConversationSettings {
    /// A customer writing within this many minutes of a resolution reopens
    /// that conversation; later, a new one starts. Default `1440` (24 h).
    pub reopen_window_minutes: u32,
    /// Seconds a new conversation may wait for its first reply before
    /// `slaBreached(FIRST_RESPONSE)`. Default `300`.
    pub first_response_sla_seconds: u64,
    /// Seconds a customer may wait for each later reply before
    /// `slaBreached(NEXT_RESPONSE)`. Default `900`.
    pub next_response_sla_seconds: u64,
    /// Minutes before the 24-hour window closes that `windowClosing` warns. Default `60`.
    pub window_warning_minutes: u32,
    /// Minutes without any message after our last reply before the
    /// conversation resolves itself (never while the customer waits). Default `1440`.
    pub auto_resolve_after_minutes: u32,
    /// Days a resolved conversation's message contents are kept; then they
    /// are erased (the messages stay, as metadata). `0` keeps them. Default `0`.
    pub retention_days: u32,
}

impl Default for ConversationSettings {
    fn default() -> Self {
        Self {
            reopen_window_minutes: 1440,
            first_response_sla_seconds: 300,
            next_response_sla_seconds: 900,
            window_warning_minutes: 60,
            auto_resolve_after_minutes: 1440,
            retention_days: 0,
        }
    }
}

/// `[actors]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActorSettings {
    /// Arbiter threads the actors are spread over; 0 = one per CPU core. Default `0`.
    pub arbiters: usize,
    /// Messages a conversation actor's mailbox holds; when full, webhooks get
    /// 503 + Retry-After and GraphQL OVERLOADED. Default `64`.
    pub mailbox_capacity: usize,
    /// Seconds an idle conversation actor lives before it stops (it is rebuilt
    /// from the database on its next event). Default `300`.
    pub idle_seconds: u64,
    /// Milliseconds between sweeps for due timers of conversations without a
    /// running actor (after a restart or an eviction). Default `1000`.
    pub timer_sweep_ms: u64,
}

impl Default for ActorSettings {
    fn default() -> Self {
        Self {
            arbiters: 0,
            mailbox_capacity: 64,
            idle_seconds: 300,
            timer_sweep_ms: 1000,
        }
    }
}

/// `[events]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventSettings {
    /// Hours logged events are kept for resuming subscriptions. Default `72`.
    pub retention_hours: u32,
    /// With the Redis bus: seconds a quiet subscriber waits before it checks
    /// the log for events another daemon committed but Redis did not bring.
    /// Default `30`.
    pub quiet_check_seconds: u64,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            retention_hours: 72,
            quiet_check_seconds: 30,
        }
    }
}

/// `[graphql]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphqlSettings {
    /// Maximum query depth. Default `12`.
    pub max_depth: usize,
    /// Maximum query complexity. Default `2000`.
    pub max_complexity: usize,
    /// Maximum aliased fields per operation. Default `30`.
    pub max_aliases: usize,
    /// Largest connection page. Default `100`.
    pub max_page_size: usize,
    /// Serve GraphiQL on `GET /graphql`. Default `true`.
    pub graphiql: bool,
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 2000,
            max_aliases: 30,
            max_page_size: 100,
            graphiql: true,
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// Level or tracing filter. Default `info`.
    pub level: String,
    /// Output format. Default `text`.
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Settings {
    /// Loads the three layers: defaults, the optional file, the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(file, std::env::vars())
    }

    /// Like [`Settings::load`] with an explicit environment (for tests).
    pub fn load_with_env(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder().add_source(config::File::from_str(
            DEFAULT_TOML,
            config::FileFormat::Toml,
        ));
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::File {
                path: path.to_path_buf(),
                source,
            })?;
            builder = builder.add_source(config::File::from_str(&text, config::FileFormat::Toml));
        }
        let env: config::Map<String, String> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("SWITCHBOARD__"))
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .list_separator(",")
                .with_list_parse_key("crypto.previous_keys")
                .source(Some(env)),
        );
        let merged: serde_json::Value = builder.build()?.try_deserialize()?;
        let settings: Settings =
            serde_path_to_error::deserialize(&merged).map_err(|e| ConfigError::Key {
                key: e.path().to_string(),
                message: e.inner().to_string(),
            })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that are well-typed but may still be wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        fn invalid(key: &'static str, message: impl Into<String>) -> ConfigError {
            ConfigError::Invalid {
                key,
                message: message.into(),
            }
        }
        if self.server.host.trim().is_empty() {
            return Err(invalid("server.host", "must not be empty"));
        }
        if self.conversations.retention_days > 36_500 {
            return Err(invalid(
                "conversations.retention_days",
                "must be at most 36500 (100 years; 0 keeps contents)",
            ));
        }
        if self.database.backend().is_none() {
            return Err(invalid(
                "database.url",
                format!(
                    "unsupported URL `{}`: use sqlite://FILE?mode=rwc or postgres://…",
                    self.database.redacted_url()
                ),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1"));
        }
        if self.events.quiet_check_seconds == 0 {
            return Err(invalid("events.quiet_check_seconds", "must be at least 1"));
        }
        if self.actors.mailbox_capacity == 0 {
            return Err(invalid("actors.mailbox_capacity", "must be at least 1"));
        }
        if self.actors.idle_seconds == 0 {
            return Err(invalid("actors.idle_seconds", "must be at least 1"));
        }
        if self.actors.timer_sweep_ms < 10 {
            return Err(invalid("actors.timer_sweep_ms", "must be at least 10"));
        }
        if let Some(url) = &self.redis.url
            && !url.expose_secret().starts_with("redis://")
            && !url.expose_secret().starts_with("rediss://")
        {
            return Err(invalid(
                "redis.url",
                "must start with redis:// or rediss://",
            ));
        }
        if let Some(secret) = &self.auth.jwt_secret
            && secret.expose_secret().len() < 32
        {
            return Err(invalid("auth.jwt_secret", "must be at least 32 bytes"));
        }
        if self.auth.jwt_expiry_minutes == 0 {
            return Err(invalid("auth.jwt_expiry_minutes", "must be at least 1"));
        }
        if self.auth.login_attempts_per_ip_per_minute == 0 {
            return Err(invalid(
                "auth.login_attempts_per_ip_per_minute",
                "must be at least 1",
            ));
        }
        if self.auth.login_attempts_per_account_per_minute == 0 {
            return Err(invalid(
                "auth.login_attempts_per_account_per_minute",
                "must be at least 1",
            ));
        }
        if self.auth.min_password_length < 8 {
            return Err(invalid("auth.min_password_length", "must be at least 8"));
        }
        if let Some(key) = &self.crypto.master_key {
            crate::crypto::decode_key(key.expose_secret())
                .map_err(|e| invalid("crypto.master_key", e.to_string()))?;
        }
        for key in &self.crypto.previous_keys {
            crate::crypto::decode_key(key.expose_secret())
                .map_err(|e| invalid("crypto.previous_keys", e.to_string()))?;
        }
        match url::Url::parse(&self.whatsapp.graph_base_url) {
            Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
            _ => {
                return Err(invalid("whatsapp.graph_base_url", "must be an http(s) URL"));
            }
        }
        let v = &self.whatsapp.api_version;
        let version_ok = v
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().all(|c| c.is_ascii_digit())
                    && b.chars().all(|c| c.is_ascii_digit())
            });
        if !version_ok {
            return Err(invalid("whatsapp.api_version", "must look like v23.0"));
        }
        for (key, value) in [
            (
                "whatsapp.webhook_max_body_bytes",
                self.whatsapp.webhook_max_body_bytes,
            ),
            (
                "ingest.batch_max_notifications",
                self.ingest.batch_max_notifications,
            ),
            ("ingest.queue_capacity", self.ingest.queue_capacity),
            ("graphql.max_depth", self.graphql.max_depth),
            ("graphql.max_complexity", self.graphql.max_complexity),
            ("graphql.max_aliases", self.graphql.max_aliases),
            ("graphql.max_page_size", self.graphql.max_page_size),
        ] {
            if value == 0 {
                return Err(invalid(key, "must be at least 1"));
            }
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return Err(invalid("log.level", "not a valid level or filter"));
        }
        Ok(())
    }
}

/// Replaces the password of a URL with `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparsable url>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_validate() {
        let s = Settings::load_with_env(None, env(&[])).expect("defaults are valid");
        assert_eq!(s.server.port, 8080);
        assert_eq!(s.server.host, "127.0.0.1");
        assert_eq!(s.database.backend(), Some(DatabaseKind::Sqlite));
        assert!(s.redis.url.is_none());
        assert_eq!(s.log.format, LogFormat::Text);
    }

    #[test]
    fn env_overrides_file_and_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nport = 9000\nhost = \"0.0.0.0\"\n").expect("write");
        let s = Settings::load_with_env(
            Some(&file),
            env(&[
                ("SWITCHBOARD__SERVER__PORT", "9100"),
                ("SWITCHBOARD__LOG__FORMAT", "json"),
            ]),
        )
        .expect("valid");
        assert_eq!(s.server.port, 9100);
        assert_eq!(s.server.host, "0.0.0.0");
        assert_eq!(s.log.format, LogFormat::Json);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = Settings::load_with_env(None, env(&[("SWITCHBOARD__SERVER__PROT", "1")]))
            .expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("prot"), "{msg}");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[databse]\nurl = \"x\"\n").expect("write");
        let msg = Settings::load_with_env(Some(&file), env(&[]))
            .expect_err("unknown section")
            .to_string();
        assert!(msg.contains("databse"), "{msg}");
    }

    #[test]
    fn invalid_values_are_named() {
        for (k, v, key) in [
            ("SWITCHBOARD__SERVER__PORT", "99999", "server.port"),
            ("SWITCHBOARD__LOG__FORMAT", "xml", "log.format"),
            (
                "SWITCHBOARD__CONVERSATIONS__RETENTION_DAYS",
                "99999999",
                "conversations.retention_days",
            ),
            ("SWITCHBOARD__DATABASE__URL", "mysql://x", "database.url"),
            ("SWITCHBOARD__AUTH__JWT_SECRET", "short", "auth.jwt_secret"),
            (
                "SWITCHBOARD__CRYPTO__MASTER_KEY",
                "bm9wZQ==",
                "crypto.master_key",
            ),
            (
                "SWITCHBOARD__WHATSAPP__API_VERSION",
                "23",
                "whatsapp.api_version",
            ),
        ] {
            let msg = Settings::load_with_env(None, env(&[(k, v)]))
                .expect_err(k)
                .to_string();
            assert!(msg.contains(key), "{k}: {msg}");
        }
    }

    #[test]
    fn previous_keys_from_env_are_a_list() {
        use base64::Engine;
        let k = |b: u8| base64::engine::general_purpose::STANDARD.encode([b; 32]);
        let s = Settings::load_with_env(
            None,
            env(&[(
                "SWITCHBOARD__CRYPTO__PREVIOUS_KEYS",
                &format!("{},{}", k(1), k(2)),
            )]),
        )
        .expect("valid");
        assert_eq!(s.crypto.previous_keys.len(), 2);
        let bad =
            Settings::load_with_env(None, env(&[("SWITCHBOARD__CRYPTO__PREVIOUS_KEYS", "nope")]))
                .expect_err("bad key");
        assert!(bad.to_string().contains("crypto.previous_keys"), "{bad}");
    }

    #[test]
    fn secrets_never_debug_printed() {
        let s = Settings::load_with_env(
            None,
            env(&[
                (
                    "SWITCHBOARD__DATABASE__URL",
                    "postgres://u:hunter2hunter2@db/x",
                ),
                (
                    "SWITCHBOARD__AUTH__JWT_SECRET",
                    "0123456789abcdef0123456789abcdefSECRET",
                ),
            ]),
        )
        .expect("valid");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(!dbg.contains("SECRET"), "{dbg}");
        assert!(!s.database.redacted_url().contains("hunter2"));
    }
}
