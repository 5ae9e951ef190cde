//! `TestApp`: a daemon on port 0 with a fresh database, plus request helpers.

use std::sync::OnceLock;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use secrecy::SecretString;
use serde_json::{Value, json};
use switchboard::app::AppHandle;
use switchboard::app::Application;
use switchboard::auth::{Role, password};
use switchboard::config::Settings;
use switchboard::store;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an `async fn(Backend)` test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

pub fn pg_admin_url() -> String {
    std::env::var("SWITCHBOARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("SWITCHBOARD_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn pg_server_url() -> String {
    let url = pg_admin_url();
    match url.rsplit_once('/') {
        Some((server, _)) => server.to_string(),
        None => url,
    }
}

/// A throw-away PostgreSQL database, dropped (with FORCE) on drop.
pub struct PgDatabase {
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        let name = format!("sb_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(pg_admin_url())
            .await
            .expect("PostgreSQL must be reachable at SWITCHBOARD_TEST_PG_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        admin.close().await.ok();
        let url = format!("{}/{name}", pg_server_url());
        Self { name, url }
    }

    /// Drops the database now, terminating the daemon's connections.
    pub async fn drop_now(&self) {
        let admin = Database::connect(pg_admin_url()).await.expect("pg");
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .expect("drop database");
        admin.close().await.ok();
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop from a separate thread: we may be inside an async runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Ok(admin) = Database::connect(pg_admin_url()).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    admin.close().await.ok();
                }
            });
        })
        .join();
    }
}

/// A running daemon.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// A separate connection for arranging and checking data.
    pub db: DatabaseConnection,
    pub settings: Settings,
    handle: AppHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    pub pg: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

fn init_logs() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var("TEST_LOG").is_ok() {
            switchboard::telemetry::init(&switchboard::config::LogSettings::default());
        }
    });
}

/// Settings for a test daemon on `backend`, in `dir`.
pub async fn test_settings(
    backend: Backend,
    dir: &std::path::Path,
) -> (Settings, Option<PgDatabase>) {
    let mut s = Settings::load_with_env(None, Vec::new()).expect("default settings");
    s.server.port = 0;
    s.server.workers = 1;
    s.server.shutdown_grace_seconds = 2;
    s.server.data_dir = dir.join("data");
    s.whatsapp.media_dir = dir.join("media");
    s.auth.jwt_secret = Some(SecretString::from(
        "test-jwt-secret-0123456789abcdef-0123456789",
    ));
    s.auth.login_attempts_per_ip_per_minute = 1000;
    s.auth.login_attempts_per_account_per_minute = 1000;
    s.database.max_connections = 5;
    let pg = match backend {
        Backend::Sqlite => {
            s.database.url = SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                dir.join("switchboard.db").display()
            ));
            None
        }
        Backend::Postgres => {
            let pg = PgDatabase::create().await;
            s.database.url = SecretString::from(pg.url.clone());
            Some(pg)
        }
    };
    (s, pg)
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        init_logs();
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut settings, pg) = test_settings(backend, dir.path()).await;
        tweak(&mut settings);
        Self::start(settings, pg, dir).await
    }

    /// A second daemon on this one's database, data directory and settings,
    /// as a second node behind a load balancer would run.
    pub async fn sibling(&self) -> Self {
        Self::start(
            self.settings.clone(),
            None,
            tempfile::tempdir().expect("tempdir"),
        )
        .await
    }

    /// [`TestApp::sibling`] with `tweak` applied to its settings.
    pub async fn sibling_with(&self, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = self.settings.clone();
        tweak(&mut settings);
        Self::start(settings, None, tempfile::tempdir().expect("tempdir")).await
    }

    /// Waits until `/readyz` answers 200 (e.g. the Redis event channel is subscribed).
    pub async fn wait_ready(&self) {
        for _ in 0..100 {
            let ok = self
                .client
                .get(self.url("/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("daemon not ready after 5 s");
    }

    /// Stops this daemon and starts a new one on the same database and data
    /// directory (a restart), with `tweak` applied to its settings.
    pub async fn restart(mut self, tweak: impl FnOnce(&mut Settings)) -> Self {
        self.handle.stop(true).await;
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        let mut settings = self.settings.clone();
        tweak(&mut settings);
        let pg = self.pg.take();
        let dir = std::mem::replace(&mut self._dir, tempfile::tempdir().expect("tempdir"));
        Self::start(settings, pg, dir).await
    }

    async fn start(settings: Settings, pg: Option<PgDatabase>, dir: tempfile::TempDir) -> Self {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let run_settings = settings.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                match Application::build(run_settings).await {
                    Ok(app) => {
                        let _ = tx.send(Ok((app.port(), app.handle())));
                        let _ = app.run_until_stopped().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        let (port, handle) = rx.await.expect("daemon thread").expect("daemon starts");
        let db = store::connect(&settings.database)
            .await
            .expect("test connection");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            db,
            settings,
            handle,
            thread: Some(thread),
            pg,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a GraphQL request; returns the HTTP status and the JSON body.
    pub async fn gql_raw(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.expect("json body"))
    }

    /// Sends a GraphQL request and returns the JSON body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.gql_raw(token, query, variables).await.1
    }

    /// Sends a GraphQL request that must succeed; returns `data`.
    pub async fn gql_ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let body = self.gql(token, query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// Creates a tenant with an admin (as `switchboard admin create` does); returns the tenant id.
    pub async fn tenant_with_admin(&self, tenant: &str, email: &str, pw: &str) -> i64 {
        let t = store::tenants::create(&self.db, tenant, "UTC")
            .await
            .expect("tenant");
        self.user(t.id, email, pw, Role::Admin).await;
        t.id
    }

    /// Creates a user with a password directly in the database; returns its id.
    pub async fn user(&self, tenant_id: i64, email: &str, pw: &str, role: Role) -> i64 {
        let hash = password::hash(pw).expect("hash");
        store::users::create(
            &self.db,
            store::users::NewUser {
                tenant_id,
                email: email.into(),
                name: String::new(),
                role,
                password_hash: Some(hash),
                invite_token_hash: None,
                invite_expires_at: None,
            },
        )
        .await
        .expect("user")
        .id
    }

    /// Logs in over GraphQL and returns the token.
    pub async fn login(&self, email: &str, pw: &str) -> String {
        let data = self
            .gql_ok(
                None,
                "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }",
                json!({"e": email, "p": pw}),
            )
            .await;
        data["login"]["token"].as_str().expect("token").to_string()
    }

    /// The Prometheus exposition of the daemon.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// The newest conversation with the contact `wa_id`.
    pub async fn conversation_with(&self, wa_id: &str) -> entity::conversations::Model {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let contact = entity::contacts::Entity::find()
            .filter(entity::contacts::Column::WaId.eq(wa_id))
            .one(&self.db)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("no contact {wa_id}"));
        entity::conversations::Entity::find()
            .filter(entity::conversations::Column::ContactId.eq(contact.id))
            .order_by_desc(entity::conversations::Column::Id)
            .one(&self.db)
            .await
            .expect("query")
            .unwrap_or_else(|| panic!("no conversation with {wa_id}"))
    }

    /// A contact `wa_id` of the first registered number's tenant and an open
    /// conversation with it (its 24-hour window open when `window_open`).
    pub async fn open_conversation(
        &self,
        wa_id: &str,
        window_open: bool,
    ) -> entity::conversations::Model {
        use sea_orm::{ActiveModelTrait, EntityTrait, Set};
        let number = entity::whatsapp_numbers::Entity::find()
            .one(&self.db)
            .await
            .expect("query")
            .expect("a registered number");
        let t = chrono::Utc::now();
        let contact = entity::contacts::ActiveModel {
            tenant_id: Set(number.tenant_id),
            wa_id: Set(wa_id.into()),
            attributes: Set(serde_json::json!({})),
            consent: Set("unknown".into()),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .expect("contact");
        entity::conversations::ActiveModel {
            tenant_id: Set(number.tenant_id),
            contact_id: Set(contact.id),
            whatsapp_number_id: Set(number.id),
            status: Set("queued".into()),
            priority: Set(0),
            last_inbound_at: Set(window_open.then_some(t)),
            window_expires_at: Set(window_open.then(|| t + chrono::Duration::hours(24))),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .expect("conversation")
    }

    /// Stops the daemon gracefully and waits for it.
    pub async fn stop(mut self) {
        self.handle.stop(true).await;
        if let Some(t) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.thread.is_some() {
            // Not stopped explicitly (e.g. a failed assertion): stop without waiting.
            let handle = self.handle.clone();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(handle.stop(false));
                }
            })
            .join();
        }
    }
}

/// The `extensions.code` of the first error.
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}

/// A Redis key prefix no other test (or earlier run) uses.
pub fn unique_prefix(tag: &str) -> String {
    format!(
        "sbtest-{tag}-{}",
        u128::from(std::process::id()) * 1_000_000
            + u128::from(chrono::Utc::now().timestamp_subsec_nanos())
    )
}
