//! Runs the migrations up, down and up again on SQLite and on PostgreSQL,
//! and in between round-trips one row of every entity, checks the database
//! defaults, unique indexes and `ON DELETE` behaviour of the foreign keys.
//!
//! PostgreSQL: connects to `SWITCHBOARD_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), creates a throw-away
//! database `sb_mig_<uuid>` and drops it again at the end.

use entity::*;
use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::prelude::*;
use sea_orm::{ActiveValue::Set, Database, DatabaseConnection, DbBackend, Statement};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const TABLES: [&str; 26] = [
    "tenants",
    "users",
    "api_keys",
    "departments",
    "department_members",
    "agent_skills",
    "agent_presence",
    "whatsapp_numbers",
    "contacts",
    "conversations",
    "messages",
    "message_status_events",
    "templates",
    "campaigns",
    "campaign_recipients",
    "bot_flows",
    "kb_articles",
    "ai_insights",
    "retention_policies",
    "erasure_requests",
    "audit_log",
    "outbox",
    "event_log",
    "media_files",
    "event_sequences",
    "conversation_transitions",
];

#[tokio::test]
async fn sqlite_up_down_up() -> TestResult {
    let path = std::env::temp_dir().join(format!("sb_mig_{}.db", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let result = run_on(&url).await;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    result
}

#[tokio::test]
async fn postgres_up_down_up() -> TestResult {
    let admin_url = std::env::var("SWITCHBOARD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let (server, _) = admin_url
        .rsplit_once('/')
        .ok_or("SWITCHBOARD_TEST_PG_URL must end in /DATABASE")?;
    let admin = Database::connect(&admin_url).await?;
    let name = format!("sb_mig_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await?;
    let result = run_on(&format!("{server}/{name}")).await;
    let dropped = admin
        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await;
    admin.close().await?;
    result?;
    dropped?;
    Ok(())
}

async fn run_on(url: &str) -> TestResult {
    let db = Database::connect(url).await?;
    let result = exercise(&db).await;
    db.close().await?;
    result
}

async fn exercise(db: &DatabaseConnection) -> TestResult {
    let total = Migrator::migrations().len();
    assert_eq!(total, 9);

    Migrator::up(db, None).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());
    assert_eq!(Migrator::get_applied_migrations(db).await?.len(), total);
    assert_tables(db, true).await?;
    assert_id_columns(db).await?;

    seed_and_check(db).await?;

    Migrator::down(db, None).await?;
    assert_tables(db, false).await?;
    assert_eq!(Migrator::get_pending_migrations(db).await?.len(), total);
    assert!(Migrator::get_applied_migrations(db).await?.is_empty());

    Migrator::up(db, None).await?;
    assert!(Migrator::get_pending_migrations(db).await?.is_empty());
    assert_tables(db, true).await?;
    // Fresh tables after the round trip: the data model still works.
    seed_and_check(db).await?;
    Ok(())
}

async fn assert_tables(db: &DatabaseConnection, exist: bool) -> TestResult {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        assert_eq!(
            manager.has_table(table).await?,
            exist,
            "table {table} should {}exist",
            if exist { "" } else { "not " }
        );
    }
    Ok(())
}

/// `id` is `integer PRIMARY KEY AUTOINCREMENT` on SQLite and a `bigint`
/// identity column on PostgreSQL, in every table.
async fn assert_id_columns(db: &DatabaseConnection) -> TestResult {
    let backend = db.get_database_backend();
    // one row per tenant, keyed by it
    for table in TABLES.into_iter().filter(|t| *t != "event_sequences") {
        match backend {
            DbBackend::Sqlite => {
                let row = db
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [table.into()],
                    ))
                    .await?
                    .ok_or("table missing from sqlite_master")?;
                let sql: String = row.try_get("", "sql")?;
                assert!(
                    sql.contains("\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT"),
                    "{table}: {sql}"
                );
            }
            DbBackend::Postgres => {
                let row = db
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        "SELECT data_type::text AS data_type, is_identity::text AS is_identity \
                         FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = $1 \
                         AND column_name = 'id'",
                        [table.into()],
                    ))
                    .await?
                    .ok_or("id column missing from information_schema")?;
                let data_type: String = row.try_get("", "data_type")?;
                let is_identity: String = row.try_get("", "is_identity")?;
                assert_eq!(
                    (data_type.as_str(), is_identity.as_str()),
                    ("bigint", "YES")
                );
            }
            other => panic!("unexpected backend {other:?}"),
        }
    }
    Ok(())
}

/// Asserts that the row with the model's id reads back equal to the model.
macro_rules! assert_roundtrip {
    ($db:expr, $module:ident, $model:expr) => {{
        let stored = $module::Entity::find_by_id($model.id).one($db).await?;
        assert_eq!(stored.as_ref(), Some(&$model), "{}", stringify!($module));
    }};
}

/// Row counts of every entity, by table name.
macro_rules! row_counts {
    ($db:expr; $($module:ident),+ $(,)?) => {{
        let mut counts = Vec::new();
        $(counts.push((stringify!($module), $module::Entity::find().count($db).await?));)+
        counts
    }};
}

fn json(pairs: &[(&str, &str)]) -> Json {
    Json::from_iter(
        pairs
            .iter()
            .map(|(k, v)| (String::from(*k), Json::from(*v))),
    )
}

async fn seed_and_check(db: &DatabaseConnection) -> TestResult {
    let t0 = ChronoDateTimeUtc::from_timestamp(1_795_000_000, 0).ok_or("timestamp")?;
    let t1 = ChronoDateTimeUtc::from_timestamp(1_795_086_400, 0).ok_or("timestamp")?;

    // Defaults: time_zone 'UTC'.
    let tenant = tenants::ActiveModel {
        name: Set("Acme".to_owned()),
        settings: Set(json(&[("locale", "en")])),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert!(tenant.id > 0);
    assert_eq!(tenant.time_zone, "UTC");
    assert_roundtrip!(db, tenants, tenant);

    // Defaults: name '', disabled false.
    let user = users::ActiveModel {
        tenant_id: Set(tenant.id),
        email: Set("ada@example.com".to_owned()),
        role: Set("admin".to_owned()),
        password_hash: Set(Some("$argon2id$...".to_owned())),
        invite_token_hash: Set(None),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!((user.name.as_str(), user.disabled), ("", false));
    assert_roundtrip!(db, users, user);

    // uq_users_email is installation-wide.
    let other_tenant = tenants::ActiveModel {
        name: Set("Other".to_owned()),
        time_zone: Set("Europe/Berlin".to_owned()),
        settings: Set(json(&[])),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert!(other_tenant.id > tenant.id);
    let duplicate = users::ActiveModel {
        tenant_id: Set(other_tenant.id),
        email: Set("ada@example.com".to_owned()),
        role: Set("agent".to_owned()),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await;
    assert!(duplicate.is_err(), "duplicate email accepted");

    let agent = users::ActiveModel {
        tenant_id: Set(tenant.id),
        email: Set("grace@example.com".to_owned()),
        name: Set("Grace".to_owned()),
        role: Set("agent".to_owned()),
        invite_token_hash: Set(Some("invite-hash".to_owned())),
        invite_expires_at: Set(Some(t1)),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(agent.password_hash, None);
    assert_roundtrip!(db, users, agent);

    let api_key = api_keys::ActiveModel {
        tenant_id: Set(tenant.id),
        name: Set("ci".to_owned()),
        prefix: Set("sb_abcd".to_owned()),
        key_hash: Set("key-hash".to_owned()),
        role: Set("manager".to_owned()),
        scopes: Set(Json::from(vec!["conversations:read"])),
        created_by: Set(Some(user.id)),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, api_keys, api_key);

    let department = departments::ActiveModel {
        tenant_id: Set(tenant.id),
        name: Set("Sales".to_owned()),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(department.description, "");
    assert_roundtrip!(db, departments, department);

    let member = department_members::ActiveModel {
        tenant_id: Set(tenant.id),
        department_id: Set(department.id),
        user_id: Set(agent.id),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, department_members, member);
    let agent_departments = agent.find_related(departments::Entity).all(db).await?;
    assert_eq!(agent_departments, vec![department.clone()]);

    let skill = agent_skills::ActiveModel {
        tenant_id: Set(tenant.id),
        user_id: Set(agent.id),
        skill: Set("spanish".to_owned()),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(skill.level, 1);
    assert_roundtrip!(db, agent_skills, skill);

    let presence = agent_presence::ActiveModel {
        tenant_id: Set(tenant.id),
        user_id: Set(agent.id),
        status: Set("online".to_owned()),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(presence.capacity, 5);
    assert_roundtrip!(db, agent_presence, presence);

    let number = whatsapp_numbers::ActiveModel {
        tenant_id: Set(tenant.id),
        phone_number_id: Set("1234567890".to_owned()),
        waba_id: Set("waba-1".to_owned()),
        display_phone_number: Set("+1 555 0100".to_owned()),
        access_token_enc: Set("bm9uY2U=".to_owned()),
        app_secret_enc: Set("c2VjcmV0".to_owned()),
        verify_token: Set("verify".to_owned()),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(number.throughput_per_second, 80);
    assert_roundtrip!(db, whatsapp_numbers, number);

    let contact = contacts::ActiveModel {
        tenant_id: Set(tenant.id),
        wa_id: Set("15550100".to_owned()),
        profile_name: Set(Some("Bob".to_owned())),
        attributes: Set(json(&[("vip", "yes")])),
        last_inbound_at: Set(Some(t1)),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(contact.consent, "unknown");
    assert_roundtrip!(db, contacts, contact);

    let conversation = conversations::ActiveModel {
        tenant_id: Set(tenant.id),
        contact_id: Set(contact.id),
        whatsapp_number_id: Set(number.id),
        status: Set("assigned".to_owned()),
        department_id: Set(Some(department.id)),
        assignee_id: Set(Some(agent.id)),
        window_expires_at: Set(Some(t1)),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(conversation.priority, 0);
    assert_roundtrip!(db, conversations, conversation);

    let message = messages::ActiveModel {
        tenant_id: Set(tenant.id),
        conversation_id: Set(conversation.id),
        contact_id: Set(contact.id),
        direction: Set("outbound".to_owned()),
        wa_message_id: Set(Some("wamid.1".to_owned())),
        kind: Set("text".to_owned()),
        content: Set(Some(json(&[("body", "hello")]))),
        status: Set("sent".to_owned()),
        sent_by: Set(Some(agent.id)),
        created_at: Set(t0),
        sent_at: Set(Some(t0)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, messages, message);
    // Several messages without a wamid are fine (NULLs are distinct).
    for _ in 0..2 {
        messages::ActiveModel {
            tenant_id: Set(tenant.id),
            conversation_id: Set(conversation.id),
            contact_id: Set(contact.id),
            direction: Set("outbound".to_owned()),
            kind: Set("text".to_owned()),
            status: Set("pending".to_owned()),
            created_at: Set(t0),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    assert_eq!(
        conversation
            .find_related(messages::Entity)
            .count(db)
            .await?,
        3
    );

    let status_event = message_status_events::ActiveModel {
        tenant_id: Set(tenant.id),
        message_id: Set(Some(message.id)),
        wa_message_id: Set("wamid.1".to_owned()),
        status: Set("delivered".to_owned()),
        payload: Set(json(&[("status", "delivered")])),
        occurred_at: Set(t1),
        created_at: Set(t1),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, message_status_events, status_event);
    let dup_event = message_status_events::ActiveModel {
        id: sea_orm::ActiveValue::NotSet,
        ..status_event.clone().into()
    }
    .insert(db)
    .await;
    assert!(dup_event.is_err(), "duplicate status event accepted");

    let template = templates::ActiveModel {
        tenant_id: Set(tenant.id),
        whatsapp_number_id: Set(Some(number.id)),
        waba_id: Set("waba-1".to_owned()),
        name: Set("welcome".to_owned()),
        language: Set("en".to_owned()),
        category: Set("MARKETING".to_owned()),
        status: Set("APPROVED".to_owned()),
        components: Set(Json::from(vec![json(&[("type", "BODY")])])),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, templates, template);

    let campaign = campaigns::ActiveModel {
        tenant_id: Set(tenant.id),
        name: Set("launch".to_owned()),
        template_id: Set(template.id),
        whatsapp_number_id: Set(number.id),
        status: Set("scheduled".to_owned()),
        scheduled_at: Set(Some(t1)),
        created_by: Set(Some(user.id)),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, campaigns, campaign);

    let recipient = campaign_recipients::ActiveModel {
        tenant_id: Set(tenant.id),
        campaign_id: Set(campaign.id),
        contact_id: Set(contact.id),
        status: Set("sent".to_owned()),
        message_id: Set(Some(message.id)),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, campaign_recipients, recipient);

    let flow = bot_flows::ActiveModel {
        tenant_id: Set(tenant.id),
        name: Set("main".to_owned()),
        version: Set(1),
        definition: Set(json(&[("start", "greet")])),
        created_by: Set(Some(user.id)),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert!(!flow.active);
    assert_roundtrip!(db, bot_flows, flow);

    let article = kb_articles::ActiveModel {
        tenant_id: Set(tenant.id),
        title: Set("Opening hours".to_owned()),
        body: Set("Mon-Fri 9-17".repeat(100)),
        tags: Set(Json::from(vec!["hours"])),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, kb_articles, article);

    let insight = ai_insights::ActiveModel {
        tenant_id: Set(tenant.id),
        conversation_id: Set(conversation.id),
        kind: Set("summary".to_owned()),
        content: Set(json(&[("text", "Customer asks for hours")])),
        provider: Set("openai".to_owned()),
        model: Set("gpt".to_owned()),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, ai_insights, insight);

    let policy = retention_policies::ActiveModel {
        tenant_id: Set(tenant.id),
        scope: Set("messages".to_owned()),
        mode: Set("days".to_owned()),
        days: Set(Some(30)),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, retention_policies, policy);

    let erasure = erasure_requests::ActiveModel {
        tenant_id: Set(tenant.id),
        wa_id: Set("15550100".to_owned()),
        status: Set("pending".to_owned()),
        requested_by: Set(Some(user.id)),
        requested_at: Set(t0),
        due_at: Set(t1),
        details: Set(json(&[])),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, erasure_requests, erasure);

    let audit = audit_log::ActiveModel {
        tenant_id: Set(tenant.id),
        actor_user_id: Set(Some(user.id)),
        actor_api_key_id: Set(Some(api_key.id)),
        action: Set("user.invite".to_owned()),
        target_type: Set("user".to_owned()),
        target_id: Set(Some(agent.id.to_string())),
        details: Set(json(&[("email", "grace@example.com")])),
        ip: Set(Some("192.0.2.1".to_owned())),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, audit_log, audit);

    let queued = outbox::ActiveModel {
        tenant_id: Set(tenant.id),
        whatsapp_number_id: Set(number.id),
        message_id: Set(Some(message.id)),
        payload: Set(json(&[("to", "15550100")])),
        status: Set("pending".to_owned()),
        next_attempt_at: Set(t0),
        created_at: Set(t0),
        updated_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_eq!(queued.attempts, 0);
    assert_roundtrip!(db, outbox, queued);

    let event = event_log::ActiveModel {
        tenant_id: Set(tenant.id),
        seq: Set(1),
        kind: Set("message.created".to_owned()),
        payload: Set(json(&[("id", "1")])),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, event_log, event);

    let sequence = event_sequences::ActiveModel {
        tenant_id: Set(tenant.id),
        last_seq: Set(1),
    }
    .insert(db)
    .await?;
    let stored = event_sequences::Entity::find_by_id(tenant.id)
        .one(db)
        .await?;
    assert_eq!(stored, Some(sequence), "event_sequences");

    let transition = conversation_transitions::ActiveModel {
        tenant_id: Set(tenant.id),
        conversation_id: Set(conversation.id),
        from_status: Set(None),
        to_status: Set("queued".to_owned()),
        user_id: Set(None),
        reason: Set("inbound".to_owned()),
        created_at: Set(t0),
        ..Default::default()
    }
    .insert(db)
    .await?;
    assert_roundtrip!(db, conversation_transitions, transition);

    // ON DELETE SET NULL: deleting the agent keeps the conversation and the
    // message but clears the references, and drops its memberships.
    agent.clone().delete(db).await?;
    let conversation_after = conversations::Entity::find_by_id(conversation.id)
        .one(db)
        .await?
        .ok_or("conversation deleted with its assignee")?;
    assert_eq!(conversation_after.assignee_id, None);
    let message_after = messages::Entity::find_by_id(message.id)
        .one(db)
        .await?
        .ok_or("message deleted with its sender")?;
    assert_eq!(message_after.sent_by, None);
    assert_eq!(department_members::Entity::find().count(db).await?, 0);
    assert_eq!(agent_presence::Entity::find().count(db).await?, 0);

    // ON DELETE CASCADE from tenants reaches every table.
    tenant.delete(db).await?;
    other_tenant.delete(db).await?;
    let counts = row_counts!(db;
        tenants, users, api_keys, departments, department_members, agent_skills,
        agent_presence, whatsapp_numbers, contacts, conversations, messages,
        message_status_events, templates, campaigns, campaign_recipients, bot_flows,
        kb_articles, ai_insights, retention_policies, erasure_requests, audit_log,
        outbox, event_log, media_files, event_sequences, conversation_transitions,
    );
    assert_eq!(counts.len(), TABLES.len());
    for (table, count) in counts {
        assert_eq!(
            count, 0,
            "{table} still has rows after deleting the tenants"
        );
    }
    Ok(())
}
