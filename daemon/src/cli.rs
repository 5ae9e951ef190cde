//! The command line: `serve`, `migrate`, `admin create`, `export-schema`.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::app::Application;
use crate::auth::{Role, password};
use crate::config::Settings;
use crate::store::users::NewUser;
use crate::{graphql, store, telemetry, validate};

/// Switchboard: a multi-tenant WhatsApp contact-center daemon.
#[derive(Parser, Debug)]
#[command(name = "switchboard", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct ConfigArg {
    /// A TOML file layered over the embedded defaults (env vars override it).
    #[arg(long, short = 'c', value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the daemon.
    Serve(ConfigArg),
    /// Apply, revert or list database migrations.
    Migrate {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
    /// A stand-alone fake of Meta's WhatsApp Cloud API for tests, demos and
    /// benchmarks (sends signed webhooks to the daemon).
    Simulator(SimulatorArgs),
    /// Load generators that print throughput and latency percentiles.
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
    /// Re-encrypt every stored secret with `crypto.master_key`. Rotate by
    /// setting the new key as `master_key`, the old one in
    /// `crypto.previous_keys`, running this, then dropping the old key.
    RotateKey(ConfigArg),
    /// Write the GraphQL SDL (default `schema/schema.graphql`; `-` for stdout).
    ExportSchema {
        #[arg(long, default_value = "schema/schema.graphql")]
        out: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Revert migrations (the last one unless told otherwise).
    Down {
        /// How many to revert.
        #[arg(long, default_value_t = 1, conflicts_with = "all", value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
        /// Revert all of them.
        #[arg(long)]
        all: bool,
    },
    /// List migrations and whether they are applied.
    Status,
}

#[derive(Args, Debug)]
pub struct SimulatorArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 = any).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where to POST signed notifications (the daemon's /webhooks/whatsapp).
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// App secret signing X-Hub-Signature-256.
    #[arg(long)]
    pub app_secret: String,
    /// Require `Authorization: Bearer <token>` on Graph API calls.
    #[arg(long)]
    pub access_token: Option<String>,
    /// Messages per second per phone number before 130429.
    #[arg(long, default_value_t = 80)]
    pub throughput: u32,
    /// Seconds between messages to one recipient before 131056.
    #[arg(long, default_value_t = 6.0)]
    pub pair_interval_seconds: f64,
    /// Burst allowance of the pair rate.
    #[arg(long, default_value_t = 45)]
    pub pair_burst: u32,
    /// Do not enforce the 24-hour customer-service window (131047).
    #[arg(long)]
    pub no_window: bool,
    /// Probability of sending a status webhook twice.
    #[arg(long, default_value_t = 0.0)]
    pub duplicate_probability: f64,
    /// Probability of sending `read` before `delivered`.
    #[arg(long, default_value_t = 0.0)]
    pub reorder_probability: f64,
    /// Probability that a message ends `failed` (131026).
    #[arg(long, default_value_t = 0.0)]
    pub fail_probability: f64,
    /// Seed for deterministic randomness.
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum BenchTarget {
    /// Post unique signed message notifications to a webhook URL; report
    /// acknowledged msg/s and ack latency, then check every acknowledged
    /// message is in the database.
    Inbound {
        #[command(flatten)]
        config: ConfigArg,
        /// Webhook URL, e.g. http://127.0.0.1:8080/webhooks/whatsapp
        #[arg(long)]
        url: String,
        /// App secret of the number (signs X-Hub-Signature-256).
        #[arg(long)]
        app_secret: String,
        /// A phone_number_id registered in the daemon.
        #[arg(long)]
        phone_number_id: String,
        /// Notifications per second, or `max`.
        #[arg(long, default_value = "max", value_parser = crate::bench::parse_rate)]
        rate: crate::bench::Rate,
        /// How long to send, e.g. 10s.
        #[arg(long, default_value = "10s", value_parser = crate::bench::parse_duration)]
        duration: std::time::Duration,
        /// Concurrent connections.
        #[arg(long, default_value_t = 64)]
        connections: usize,
        /// Distinct customers.
        #[arg(long, default_value_t = 5000)]
        contacts: usize,
        /// Database to verify against (default: `database.url` of the config).
        #[arg(long)]
        database_url: Option<String>,
        /// Skip the stored-message check.
        #[arg(long)]
        no_verify: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AdminAction {
    /// Create a tenant (if new) and an admin user in it. The password comes from
    /// `SWITCHBOARD_ADMIN_PASSWORD` or the first line of standard input.
    Create {
        #[command(flatten)]
        config: ConfigArg,
        /// Tenant name.
        #[arg(long)]
        tenant: String,
        /// Admin email (unique across the installation).
        #[arg(long)]
        email: String,
        /// Admin display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Time zone of a new tenant.
        #[arg(long, default_value = "UTC")]
        time_zone: String,
    },
}

fn load(config: &ConfigArg) -> anyhow::Result<Settings> {
    let settings = Settings::load(config.config.as_deref())?;
    telemetry::init(&settings.log);
    Ok(settings)
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(c) => {
            let settings = load(&c)?;
            let app = Application::build(settings).await?;
            app.run_until_stopped().await?;
        }
        Command::Migrate { config, action } => {
            let mut settings = load(&config)?;
            settings.database.migrate_on_start = false;
            let db = store::connect(&settings.database)
                .await
                .with_context(|| format!("database {}", settings.database.redacted_url()))?;
            match action {
                MigrateAction::Up => {
                    Migrator::up(&db, None).await?;
                    println!("migrations applied");
                }
                MigrateAction::Down { steps, all } => {
                    Migrator::down(&db, if all { None } else { Some(steps) }).await?;
                    println!("migrations reverted");
                }
                MigrateAction::Status => {
                    let applied = Migrator::get_applied_migrations(&db).await?;
                    let pending = Migrator::get_pending_migrations(&db).await?;
                    for m in &applied {
                        println!("applied  {}", m.name());
                    }
                    for m in &pending {
                        println!("pending  {}", m.name());
                    }
                }
            }
        }
        Command::Admin {
            action:
                AdminAction::Create {
                    config,
                    tenant,
                    email,
                    name,
                    time_zone,
                },
        } => {
            let settings = load(&config)?;
            admin_create(&settings, &tenant, &email, &name, &time_zone).await?;
        }
        Command::Simulator(a) => {
            telemetry::init(&crate::config::LogSettings::default());
            for (name, p) in [
                ("--duplicate-probability", a.duplicate_probability),
                ("--reorder-probability", a.reorder_probability),
                ("--fail-probability", a.fail_probability),
            ] {
                if !(0.0..=1.0).contains(&p) {
                    bail!("{name} must be between 0 and 1");
                }
            }
            if !(a.pair_interval_seconds.is_finite() && a.pair_interval_seconds >= 0.0) {
                bail!("--pair-interval-seconds must be a non-negative number");
            }
            let config = crate::whatsapp::simulator::SimulatorConfig {
                host: a.host,
                port: a.port,
                webhook_url: a.webhook_url,
                app_secret: a.app_secret,
                access_token: a.access_token,
                throughput_per_second: a.throughput,
                pair_interval: std::time::Duration::from_secs_f64(a.pair_interval_seconds),
                pair_burst: a.pair_burst,
                enforce_window: !a.no_window,
                duplicate_probability: a.duplicate_probability,
                reorder_probability: a.reorder_probability,
                fail_probability: a.fail_probability,
                seed: a.seed,
                ..Default::default()
            };
            crate::whatsapp::simulator::run(config).await?;
        }
        Command::Bench {
            target:
                BenchTarget::Inbound {
                    config,
                    url,
                    app_secret,
                    phone_number_id,
                    rate,
                    duration,
                    connections,
                    contacts,
                    database_url,
                    no_verify,
                },
        } => {
            let mut settings = load(&config)?;
            if connections == 0 {
                bail!("--connections must be at least 1");
            }
            let opts = crate::bench::inbound::InboundBench {
                url,
                app_secret,
                phone_number_id,
                rate,
                duration,
                connections,
                contacts,
            };
            let report = crate::bench::inbound::run(&opts)
                .await
                .map_err(anyhow::Error::msg)?;
            print!("{}", crate::bench::inbound::render(&opts, &report));
            if !no_verify {
                if let Some(u) = database_url {
                    settings.database.url = u.into();
                }
                let db = store::connect(&settings.database)
                    .await
                    .with_context(|| format!("database {}", settings.database.redacted_url()))?;
                let stored =
                    crate::bench::inbound::count_stored(&db, &opts.phone_number_id, &report.acked)
                        .await?;
                println!(
                    "verified: {stored} of {} acknowledged messages are stored",
                    report.acked.len()
                );
                if stored != report.acked.len() as u64 {
                    bail!(
                        "{} acknowledged messages are missing",
                        report.acked.len() as u64 - stored
                    );
                }
            }
        }
        Command::RotateKey(c) => {
            let settings = load(&c)?;
            let ring = crate::app::load_keyring(&settings)?;
            let db = store::connect(&settings.database)
                .await
                .with_context(|| format!("database {}", settings.database.redacted_url()))?;
            let (resealed, total) = rotate_key(&db, &ring).await?;
            println!(
                "re-encrypted {resealed} of {total} WhatsApp numbers with key {}",
                ring.current_key_id()
            );
        }
        Command::ExportSchema { out } => {
            let sdl = graphql::sdl();
            if out == "-" {
                print!("{sdl}");
            } else {
                std::fs::write(&out, sdl).with_context(|| format!("writing {out}"))?;
                eprintln!("wrote {out}");
            }
        }
    }
    Ok(())
}

/// Re-seals every number's secrets with the current key, in one transaction.
pub async fn rotate_key(
    db: &sea_orm::DatabaseConnection,
    ring: &crate::crypto::Keyring,
) -> anyhow::Result<(usize, usize)> {
    use secrecy::ExposeSecret;
    let txn = crate::store::begin_write(db).await?;
    let numbers = store::numbers::all(&txn).await?;
    let mut resealed = 0;
    for n in &numbers {
        if !ring.needs_reseal(&n.access_token_enc) && !ring.needs_reseal(&n.app_secret_enc) {
            continue;
        }
        let token = ring
            .open(&n.access_token_enc)
            .with_context(|| format!("number {}: access token", n.phone_number_id))?;
        let secret = ring
            .open(&n.app_secret_enc)
            .with_context(|| format!("number {}: app secret", n.phone_number_id))?;
        store::numbers::set_sealed_secrets(
            &txn,
            n.id,
            ring.seal(token.expose_secret()),
            ring.seal(secret.expose_secret()),
        )
        .await?;
        resealed += 1;
    }
    txn.commit().await?;
    Ok((resealed, numbers.len()))
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("SWITCHBOARD_ADMIN_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let pw = line.trim_end_matches(['\r', '\n']).to_string();
    if pw.is_empty() {
        bail!("no password: set SWITCHBOARD_ADMIN_PASSWORD or pass it on standard input");
    }
    Ok(pw)
}

async fn admin_create(
    settings: &Settings,
    tenant: &str,
    email: &str,
    name: &str,
    time_zone: &str,
) -> anyhow::Result<()> {
    let tenant = validate::text("--tenant", tenant, 100).map_err(anyhow::Error::msg)?;
    let email = validate::email(email).map_err(anyhow::Error::msg)?;
    let time_zone = validate::time_zone(time_zone).map_err(anyhow::Error::msg)?;
    let pw = read_password()?;
    password::check_policy(&pw, settings.auth.min_password_length).map_err(anyhow::Error::msg)?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await??;
    let db = store::connect(&settings.database)
        .await
        .with_context(|| format!("database {}", settings.database.redacted_url()))?;
    store::migrate_up(&db).await?;
    let txn = crate::store::begin_write(&db).await?;
    let t = match store::tenants::find_by_name(&txn, &tenant).await? {
        Some(t) => t,
        None => store::tenants::create(&txn, &tenant, &time_zone).await?,
    };
    let user = store::users::create(
        &txn,
        NewUser {
            tenant_id: t.id,
            email,
            name: name.to_string(),
            role: Role::Admin,
            password_hash: Some(hash),
            invite_token_hash: None,
            invite_expires_at: None,
        },
    )
    .await?;
    txn.commit().await?;
    println!(
        "created admin {} (user {}) in tenant {} (tenant {})",
        user.email, user.id, t.name, t.id
    );
    Ok(())
}
