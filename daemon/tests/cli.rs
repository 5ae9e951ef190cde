//! The `switchboard` binary as an operator uses it: configuration errors,
//! migrations on both backends, bootstrapping an admin, graceful shutdown.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn switchboard(dir: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_remove("RUST_LOG")
        .env("SWITCHBOARD__LOG__LEVEL", "warn")
        .stdin(Stdio::null());
    c
}

fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("sb.db").display())
}

fn pg_admin_url() -> String {
    std::env::var("SWITCHBOARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

struct Pg {
    name: String,
    url: String,
}

impl Pg {
    async fn create() -> Self {
        let name = format!("sb_cli_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect(pg_admin_url())
            .await
            .expect("PostgreSQL reachable");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create db");
        let base = pg_admin_url();
        let server = base
            .rsplit_once('/')
            .map_or(base.as_str(), |(s, _)| s)
            .to_string();
        Self {
            url: format!("{server}/{name}"),
            name,
        }
    }

    async fn drop_db(self) {
        let admin = Database::connect(pg_admin_url()).await.expect("pg");
        admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .expect("drop db");
    }
}

#[test]
fn bad_config_key_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = switchboard(dir.path())
        .args(["serve"])
        .env("SWITCHBOARD__SERVER__PROT", "9000")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.prot"), "{err}");

    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[server]\nport = \"eighty\"\n").expect("write");
    let out = switchboard(dir.path())
        .args(["serve", "--config"])
        .arg(&cfg)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("server.port"), "{err}");

    let out = switchboard(dir.path())
        .args(["serve", "--config", "/nonexistent/switchboard.toml"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/switchboard.toml"));
}

#[test]
fn secrets_are_not_printed_on_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = switchboard(dir.path())
        .args(["migrate", "status"])
        .env(
            "SWITCHBOARD__DATABASE__URL",
            "postgres://sb:hunter2secret@127.0.0.1:1/none",
        )
        .env("SWITCHBOARD__DATABASE__ACQUIRE_TIMEOUT_SECONDS", "1")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("hunter2secret"), "{all}");
}

fn migrate_round_trip(dir: &std::path::Path, url: &str) {
    let run = |args: &[&str]| {
        let out = switchboard(dir)
            .args(args)
            .env("SWITCHBOARD__DATABASE__URL", url)
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let status = run(&["migrate", "status"]);
    assert!(status.lines().all(|l| l.starts_with("pending")), "{status}");
    let n = status.lines().count();
    assert!(n >= 5, "{status}");
    run(&["migrate", "up"]);
    let status = run(&["migrate", "status"]);
    assert_eq!(
        status.lines().filter(|l| l.starts_with("applied")).count(),
        n,
        "{status}"
    );
    run(&["migrate", "down"]);
    let status = run(&["migrate", "status"]);
    assert_eq!(
        status.lines().filter(|l| l.starts_with("pending")).count(),
        1,
        "{status}"
    );
    run(&["migrate", "down", "--all"]);
    let status = run(&["migrate", "status"]);
    assert_eq!(
        status.lines().filter(|l| l.starts_with("pending")).count(),
        n,
        "{status}"
    );
    run(&["migrate", "up"]);
}

#[test]
fn migrate_up_down_status_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    migrate_round_trip(dir.path(), &sqlite_url(dir.path()));
}

#[tokio::test]
async fn migrate_up_down_status_on_postgres() {
    let pg = Pg::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = pg.url.clone();
    let path = dir.path().to_path_buf();
    tokio::task::spawn_blocking(move || migrate_round_trip(&path, &url))
        .await
        .expect("round trip");
    pg.drop_db().await;
}

#[test]
fn admin_create_reads_the_password_from_stdin_and_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = sqlite_url(dir.path());
    let mut child = switchboard(dir.path())
        .args([
            "admin",
            "create",
            "--tenant",
            "Acme",
            "--email",
            "Admin@Acme.test",
        ])
        .env("SWITCHBOARD__DATABASE__URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long enough password\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("admin@acme.test"));

    // duplicate email and weak password are refused with a clear message
    let dup = switchboard(dir.path())
        .args([
            "admin",
            "create",
            "--tenant",
            "Other",
            "--email",
            "admin@acme.test",
        ])
        .env("SWITCHBOARD__DATABASE__URL", &url)
        .env("SWITCHBOARD_ADMIN_PASSWORD", "another long password")
        .output()
        .expect("run");
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already in use"));
    let weak = switchboard(dir.path())
        .args([
            "admin",
            "create",
            "--tenant",
            "Acme",
            "--email",
            "two@acme.test",
        ])
        .env("SWITCHBOARD__DATABASE__URL", &url)
        .env("SWITCHBOARD_ADMIN_PASSWORD", "short")
        .output()
        .expect("run");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least"));
    let no_pw = switchboard(dir.path())
        .args([
            "admin",
            "create",
            "--tenant",
            "Acme",
            "--email",
            "three@acme.test",
        ])
        .env("SWITCHBOARD__DATABASE__URL", &url)
        .output()
        .expect("run");
    assert!(!no_pw.status.success());
    assert!(String::from_utf8_lossy(&no_pw.stderr).contains("SWITCHBOARD_ADMIN_PASSWORD"));
}

#[tokio::test]
async fn serve_shuts_down_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let child = switchboard(dir.path())
        .arg("serve")
        .env("SWITCHBOARD__DATABASE__URL", sqlite_url(dir.path()))
        .env("SWITCHBOARD__SERVER__PORT", port.to_string())
        .env("SWITCHBOARD__SERVER__SHUTDOWN_GRACE_SECONDS", "5")
        .env("SWITCHBOARD__LOG__FORMAT", "json")
        .env("SWITCHBOARD__LOG__LEVEL", "info")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/readyz");
    let start = Instant::now();
    loop {
        if let Ok(r) = client.get(&url).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "daemon did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .expect("join")
        .expect("wait");
    assert!(
        out.status.success(),
        "exit status after SIGTERM: {:?}",
        out.status
    );
    // log.format = "json": every line is a JSON object
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("switchboard listening"), "{logs}");
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v.get("level").is_some(), "{line}");
    }
    assert!(
        client.get(&url).send().await.is_err(),
        "no longer accepting"
    );
}

#[tokio::test]
async fn rotate_key_reencrypts_every_secret() {
    use base64::Engine;
    use secrecy::ExposeSecret;
    use switchboard::crypto::Keyring;
    let b64 = |k: [u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
    let (k1, k2) = ([1u8; 32], [2u8; 32]);
    let dir = tempfile::tempdir().expect("tempdir");
    let url = sqlite_url(dir.path());
    // a number sealed with the old key
    let mut settings = switchboard::config::Settings::default();
    settings.database.url = url.clone().into();
    let db = switchboard::store::connect(&settings.database)
        .await
        .expect("db");
    switchboard::store::migrate_up(&db).await.expect("migrate");
    let t = switchboard::store::tenants::create(&db, "Acme", "UTC")
        .await
        .expect("tenant");
    let old = Keyring::new(&k1);
    switchboard::store::numbers::create(
        &db,
        switchboard::store::numbers::NewNumber {
            tenant_id: t.id,
            phone_number_id: "1065".into(),
            waba_id: "1".into(),
            display_phone_number: "+1 555 0100".into(),
            access_token_enc: old.seal("EAAG-token"),
            app_secret_enc: old.seal("app-secret"),
            verify_token: "v".into(),
            throughput_per_second: 80,
        },
    )
    .await
    .expect("number");

    let run = |config: String| {
        let cfg = dir.path().join("rotate.toml");
        std::fs::write(&cfg, config).expect("write");
        switchboard(dir.path())
            .args(["rotate-key", "--config"])
            .arg(&cfg)
            .env("SWITCHBOARD__DATABASE__URL", &url)
            .output()
            .expect("run")
    };
    // without the old key the secrets cannot be read: a clear error, nothing changed
    let out = run(format!("[crypto]\nmaster_key = \"{}\"\n", b64(k2)));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1065"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(format!(
        "[crypto]\nmaster_key = \"{}\"\nprevious_keys = [\"{}\"]\n",
        b64(k2),
        b64(k1)
    ));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-encrypted 1 of 1"));
    let row = switchboard::store::numbers::all(&db)
        .await
        .expect("rows")
        .remove(0);
    let new = Keyring::new(&k2);
    assert_eq!(
        new.open(&row.access_token_enc)
            .expect("new key opens")
            .expose_secret(),
        "EAAG-token"
    );
    assert_eq!(
        new.open(&row.app_secret_enc)
            .expect("new key opens")
            .expose_secret(),
        "app-secret"
    );
    assert!(
        old.open(&row.access_token_enc).is_err(),
        "the old key no longer opens it"
    );
}
