//! The conversation lifecycle and its timers through the real daemon: moves
//! persisted with who and why and published; reopening; timers that fire once,
//! also after a restart and after their actor was evicted; back-pressure when
//! one conversation is flooded.

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use switchboard::auth::Role;
use switchboard::config::Settings;

use crate::helpers::{Backend, TestApp, code};
use crate::webhook::{APP_SECRET, PHONE_NUMBER_ID, app_with_number, app_with_number_and, post};

const PW: &str = "correct horse battery";

/// A text message from `wa_id`, sent now.
pub(crate) fn inbound(wa_id: &str, wamid: &str) -> String {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550100", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Ann"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": wamid, "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": "hello"}}]}}]}]})
    .to_string()
}

/// The kinds in the event log, oldest first.
async fn logged_kinds(app: &TestApp) -> Vec<String> {
    entity::event_log::Entity::find()
        .order_by_asc(entity::event_log::Column::Seq)
        .all(&app.db)
        .await
        .expect("event log")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

async fn transitions(app: &TestApp, conversation: i64) -> Vec<(Option<String>, String, String)> {
    entity::conversation_transitions::Entity::find()
        .filter(entity::conversation_transitions::Column::ConversationId.eq(conversation))
        .order_by_asc(entity::conversation_transitions::Column::Id)
        .all(&app.db)
        .await
        .expect("transitions")
        .into_iter()
        .map(|t| (t.from_status, t.to_status, t.reason))
        .collect()
}

async fn logged(app: &TestApp, kind: &str) -> u64 {
    entity::event_log::Entity::find()
        .filter(entity::event_log::Column::Kind.eq(kind))
        .count(&app.db)
        .await
        .expect("count")
}

/// Waits up to `secs` for `kind` to be logged `n` times.
async fn wait_logged(app: &TestApp, kind: &str, n: u64, secs: u64) {
    for _ in 0..secs * 20 {
        if logged(app, kind).await >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{kind} not logged {n} time(s) within {secs} s");
}

async fn mutate(app: &TestApp, token: &str, query: &str, vars: Value) -> Value {
    app.gql(Some(token), query, vars).await
}

const RESOLVE: &str = "mutation($id:ID!){ resolveConversation(id:$id){ id status resolvedAt } }";

async fn moves_are_persisted_with_who_and_published(backend: Backend) {
    let (app, tenant) = app_with_number(backend).await;
    let admin_id = {
        let me = app.login("admin@acme.test", PW).await;
        let d = app.gql_ok(Some(&me), "{ me { id } }", json!({})).await;
        d["me"]["id"]
            .as_str()
            .expect("id")
            .parse::<i64>()
            .expect("int")
    };
    let admin = app.login("admin@acme.test", PW).await;
    let agent_id = app.user(tenant, "agent@acme.test", PW, Role::Agent).await;
    assert_eq!(
        post(
            &app,
            &inbound("4915100007777", "wamid.L1"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let conv = app.conversation_with("4915100007777").await;
    assert_eq!(conv.status, "queued");
    assert!(conv.awaiting_reply_since.is_some(), "the customer waits");
    let id = conv.id.to_string();

    let d = app
        .gql_ok(
            Some(&admin),
            "mutation($id:ID!,$u:ID!){ assignConversation(id:$id, userId:$u){ status assigneeId } }",
            json!({"id": id, "u": agent_id.to_string()}),
        )
        .await;
    assert_eq!(
        d["assignConversation"],
        json!({"status": "assigned", "assigneeId": agent_id.to_string()})
    );
    // refused moves change nothing
    let body = mutate(
        &app,
        &admin,
        "mutation($id:ID!,$t:DateTime!){ snoozeConversation(id:$id, until:$t){ status } }",
        json!({"id": id, "t": "2020-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let d = app.gql_ok(Some(&admin), RESOLVE, json!({"id": id})).await;
    assert_eq!(d["resolveConversation"]["status"], "resolved");
    assert!(d["resolveConversation"]["resolvedAt"].is_string());
    let body = mutate(&app, &admin, RESOLVE, json!({"id": id})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "resolving twice: {body}");

    // another tenant cannot touch it
    app.tenant_with_admin("Other", "admin@other.test", PW).await;
    let other = app.login("admin@other.test", PW).await;
    let body = mutate(
        &app,
        &other,
        "mutation($id:ID!){ reopenConversation(id:$id){ id } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    // an agent cannot hand conversations to others
    let agent = app.login("agent@acme.test", PW).await;
    let body = mutate(
        &app,
        &agent,
        "mutation($id:ID!,$u:ID!){ assignConversation(id:$id, userId:$u){ id } }",
        json!({"id": id, "u": admin_id.to_string()}),
    )
    .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");

    // the customer writes again within the reopen window: back to its agent
    assert_eq!(
        post(
            &app,
            &inbound("4915100007777", "wamid.L2"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let again = app.conversation_with("4915100007777").await;
    assert_eq!(again.id, conv.id, "reopened, not a new conversation");
    assert_eq!(again.status, "assigned");
    assert_eq!(again.assignee_id, Some(agent_id));
    assert_eq!(again.resolved_at, None);

    let t: Vec<(Option<String>, String, String)> = transitions(&app, conv.id).await;
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        t,
        vec![
            (None, "queued".into(), "opened".into()),
            (s("queued"), "assigned".into(), "assigned".into()),
            (s("assigned"), "resolved".into(), "resolved".into()),
            (s("resolved"), "assigned".into(), "reopened".into()),
        ]
    );
    let by: Vec<Option<i64>> = entity::conversation_transitions::Entity::find()
        .filter(entity::conversation_transitions::Column::ConversationId.eq(conv.id))
        .order_by_asc(entity::conversation_transitions::Column::Id)
        .all(&app.db)
        .await
        .expect("transitions")
        .into_iter()
        .map(|t| t.user_id)
        .collect();
    assert_eq!(by, vec![None, Some(admin_id), Some(admin_id), None], "who");
    let kinds = logged_kinds(&app).await;
    let lifecycle: Vec<&str> = kinds
        .iter()
        .map(String::as_str)
        .filter(|k| *k != "directory_changed")
        .collect();
    assert_eq!(
        lifecycle,
        vec![
            "conversation_opened",
            "queue_updated",
            "message_added",
            "conversation_assigned",
            "queue_updated",
            "conversation_resolved",
            "conversation_updated",
            "message_added"
        ]
    );
    app.stop().await;
}

async fn after_the_reopen_window_a_new_conversation_starts(backend: Backend) {
    let (app, _) = app_with_number_and(backend, |s: &mut Settings| {
        s.conversations.reopen_window_minutes = 0;
    })
    .await;
    let admin = app.login("admin@acme.test", PW).await;
    assert_eq!(
        post(
            &app,
            &inbound("4915100008888", "wamid.N1"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let first = app.conversation_with("4915100008888").await;
    app.gql_ok(Some(&admin), RESOLVE, json!({"id": first.id.to_string()}))
        .await;
    assert_eq!(
        post(
            &app,
            &inbound("4915100008888", "wamid.N2"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let second = app.conversation_with("4915100008888").await;
    assert_ne!(second.id, first.id);
    assert_eq!(second.status, "queued");
    // the first cannot be reopened while the second is open
    let body = mutate(
        &app,
        &admin,
        "mutation($id:ID!){ reopenConversation(id:$id){ id } }",
        json!({"id": first.id.to_string()}),
    )
    .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    app.stop().await;
}

/// The retention hook: a resolved conversation's message contents are erased
/// `conversations.retention_days` after it was resolved — also when the
/// customer has a newer conversation — once; the newer one keeps its own.
async fn retention_erases_a_resolved_conversation_once(backend: Backend) {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let (app, _) = app_with_number_and(backend, |s: &mut Settings| {
        fast_timers(s);
        s.conversations.retention_days = 1;
    })
    .await;
    let admin = app.login("admin@acme.test", PW).await;
    let wa = "4915100006001";
    for wamid in ["wamid.RT1", "wamid.RT1b"] {
        assert_eq!(post(&app, &inbound(wa, wamid), Some(APP_SECRET)).await, 200);
    }
    let old = app.conversation_with(wa).await;
    app.gql_ok(Some(&admin), RESOLVE, json!({"id": old.id.to_string()}))
        .await;
    let resolved = entity::conversations::Entity::find_by_id(old.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");
    assert!(
        resolved
            .next_timer_at
            .is_some_and(|t| t > chrono::Utc::now() + chrono::Duration::hours(23)),
        "the retention deadline is planned: {:?}",
        resolved.next_timer_at
    );
    assert_eq!(logged(&app, "conversation_updated").await, 0);
    // two days pass (the clock of this conversation is moved back)
    let two_days_ago = chrono::Utc::now() - chrono::Duration::days(2);
    let mut c: entity::conversations::ActiveModel = resolved.into();
    c.resolved_at = Set(Some(two_days_ago));
    c.next_timer_at = Set(Some(chrono::Utc::now() + chrono::Duration::seconds(3)));
    c.update(&app.db).await.expect("time travel");
    // meanwhile the customer starts a new conversation (past the reopen window)
    assert_eq!(
        post(&app, &inbound(wa, "wamid.RT2"), Some(APP_SECRET)).await,
        200
    );
    let new = app.conversation_with(wa).await;
    assert_ne!(new.id, old.id, "a new conversation");
    // media files: one only the old conversation has, one it shares with
    // the new one (the store names files by their content)
    let media = |path: &str| {
        let file = app.settings.whatsapp.media_dir.join(path);
        std::fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
        std::fs::write(&file, b"jpeg").expect("write");
        file
    };
    let (only, shared) = (media("t/aa/only.jpg"), media("t/bb/shared.jpg"));
    let messages = entity::messages::Entity::find()
        .order_by_asc(entity::messages::Column::Id)
        .all(&app.db)
        .await
        .expect("messages");
    for (m, path) in messages
        .iter()
        .zip(["t/aa/only.jpg", "t/bb/shared.jpg", "t/bb/shared.jpg"])
    {
        entity::media_files::ActiveModel {
            tenant_id: Set(m.tenant_id),
            message_id: Set(m.id),
            media_id: Set(format!("media-{}", m.id)),
            status: Set("stored".into()),
            path: Set(Some(path.into())),
            created_at: Set(chrono::Utc::now()),
            updated_at: Set(chrono::Utc::now()),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("media row");
    }
    wait_logged(&app, "conversation_updated", 1, 15).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(logged(&app, "conversation_updated").await, 1, "erased once");
    let contents: Vec<(i64, Option<Value>)> = entity::messages::Entity::find()
        .order_by_asc(entity::messages::Column::Id)
        .all(&app.db)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| (m.conversation_id, m.content))
        .collect();
    assert_eq!(contents.len(), 3, "the messages stay");
    assert_eq!(contents[0], (old.id, None), "erased");
    assert_eq!(contents[1], (old.id, None), "erased");
    assert_eq!(contents[2].0, new.id);
    assert_eq!(
        contents[2].1.as_ref().and_then(|c| c.pointer("/text/body")),
        Some(&json!("hello")),
        "the newer conversation keeps its contents"
    );
    let after = entity::conversations::Entity::find_by_id(old.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");
    assert!(after.content_erased_at.is_some());
    let rows: Vec<(String, Option<String>)> = entity::media_files::Entity::find()
        .order_by_asc(entity::media_files::Column::MessageId)
        .all(&app.db)
        .await
        .expect("media")
        .into_iter()
        .map(|m| (m.status, m.path))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("erased".into(), None),
            ("erased".into(), None),
            ("stored".into(), Some("t/bb/shared.jpg".into())),
        ]
    );
    assert!(!only.exists(), "the old conversation's own file is deleted");
    assert!(shared.exists(), "a file the new conversation uses stays");
    assert_eq!(after.next_timer_at, None, "nothing left to do");
    assert!(
        app.metrics()
            .await
            .contains("switchboard_timer_fires_total{kind=\"retention\"} 1")
    );
    app.stop().await;
}

/// Event numbers stay gap-free and in the given order per tenant when one
/// batch appends more events than one statement writes (on PostgreSQL the
/// sequence and the first 500 rows go in one statement, the rest after).
async fn event_numbers_stay_gap_free_in_large_batches(backend: Backend) {
    use switchboard::bus::EventKind;
    let app = TestApp::spawn(backend).await;
    let a = app.tenant_with_admin("A", "a@example.com", PW).await;
    let b = app.tenant_with_admin("B", "b@example.com", PW).await;
    let at = chrono::Utc::now();
    for round in 0..2i64 {
        // 1,200 events, 3 of them tenant b's, interleaved
        let kinds: Vec<(i64, EventKind)> = (0..1200i64)
            .map(|i| {
                let tenant = if i % 400 == 7 { b } else { a };
                let department_id = Some(round * 10_000 + i);
                (tenant, EventKind::QueueUpdated { department_id })
            })
            .collect();
        let txn = switchboard::store::begin_write(&app.db)
            .await
            .expect("begin");
        let events = switchboard::ingest::write::append_events(&txn, kinds.clone(), at)
            .await
            .expect("append");
        txn.commit().await.expect("commit");
        // returned in the given order, each tenant's numbers contiguous
        assert_eq!(events.len(), kinds.len());
        for tenant in [a, b] {
            let seqs: Vec<i64> = events
                .iter()
                .filter(|e| e.tenant_id == tenant)
                .map(|e| e.seq)
                .collect();
            assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
        }
        for (e, (tenant, kind)) in events.iter().zip(&kinds) {
            assert_eq!((e.tenant_id, &e.kind), (*tenant, kind));
        }
    }
    // in the log: every tenant's numbers are 1..=n once each, in the order given
    for (tenant, n) in [(a, 2 * 1197), (b, 2 * 3)] {
        let rows = entity::event_log::Entity::find()
            .filter(entity::event_log::Column::TenantId.eq(tenant))
            .order_by_asc(entity::event_log::Column::Seq)
            .all(&app.db)
            .await
            .expect("log");
        let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
        let first = seqs.first().copied().unwrap_or(1);
        assert_eq!(
            seqs,
            (first..first + i64::try_from(seqs.len()).expect("len")).collect::<Vec<_>>()
        );
        let ours: Vec<i64> = rows
            .iter()
            .filter(|r| r.kind == "queue_updated")
            .map(|r| r.payload["department_id"].as_i64().expect("department"))
            .collect();
        assert_eq!(ours.len(), n);
        assert!(ours.windows(2).all(|w| w[0] < w[1]), "log order");
    }
    app.stop().await;
}

/// After an outage many SLAs are due at once. The daemon is stopped while
/// 40 conversations' first-response SLAs fall due; after the restart each
/// fires exactly once (grouped, many conversations per transaction, by the
/// sweep and by the actors that new messages start), with gap-free event
/// numbers, and each conversation's next deadline moves on.
async fn a_wave_of_due_slas_fires_each_once(backend: Backend) {
    // 4 s: none falls due before the first restart (messages carry whole
    // seconds, so a deadline can be up to a second early)
    let (app, _) = app_with_number_and(backend, |s: &mut Settings| {
        fast_timers(s);
        s.conversations.first_response_sla_seconds = 4;
    })
    .await;
    let customers: Vec<String> = (0..40).map(|i| format!("49151000050{i:02}")).collect();
    post_each(&app, &customers, "wamid.W").await;
    // down "for the outage": the sweep looks once at the start, then not
    // again while the SLAs fall due
    let app = app.restart(|s| s.actors.timer_sweep_ms = 60_000).await;
    assert_eq!(logged(&app, "sla_breached").await, 0, "none due yet");
    tokio::time::sleep(Duration::from_millis(4_500)).await;
    let app = app.restart(fast_timers).await;
    // half the customers write again: their actors start with the SLA due
    post_each(&app, &customers[..20], "wamid.W2-").await;
    assert_each_breached_once(&app, &customers).await;
    let (sweep, actors) = (groups(&app, "sweep").await, groups(&app, "actors").await);
    assert!(sweep >= 1, "the sweep fired groups");
    assert!(
        sweep + actors < 40,
        "grouped, not one transaction per conversation: {sweep} + {actors}"
    );
    app.stop().await;
}

/// Live actors fire their own due SLAs through the grouping task: the
/// sweep looks only once, at the start, before anything is due.
async fn live_actors_fire_their_slas_in_groups(backend: Backend) {
    let (app, _) = app_with_number_and(backend, |s: &mut Settings| {
        s.actors.timer_sweep_ms = 60_000;
        s.conversations.first_response_sla_seconds = 2;
    })
    .await;
    let customers: Vec<String> = (0..6).map(|i| format!("49151000060{i:02}")).collect();
    post_each(&app, &customers, "wamid.L").await;
    assert_each_breached_once(&app, &customers).await;
    assert_eq!(
        groups(&app, "sweep").await,
        0,
        "the sweep did not run again"
    );
    assert!(
        groups(&app, "actors").await >= 1,
        "the actors' timers went through the groups, not alone"
    );
    app.stop().await;
}

/// Posts a message from each of `customers` (wamids `{prefix}{i}`).
async fn post_each(app: &TestApp, customers: &[String], prefix: &str) {
    for (i, wa) in customers.iter().enumerate() {
        let wamid = format!("{prefix}{i}");
        assert_eq!(post(app, &inbound(wa, &wamid), Some(APP_SECRET)).await, 200);
    }
}

/// Each of `customers` got exactly one first-response SLA breach: one
/// event each (numbers without gaps), the mark stored, the next deadline
/// in the future, and the fires counted.
async fn assert_each_breached_once(app: &TestApp, customers: &[String]) {
    let n = customers.len() as u64;
    wait_logged(app, "sla_breached", n, 20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(logged(app, "sla_breached").await, n, "each fired once");
    let now = chrono::Utc::now();
    let mut tenant = None;
    for wa in customers {
        let c = app.conversation_with(wa).await;
        tenant = Some(c.tenant_id);
        assert!(c.first_response_breached_at.is_some(), "{wa} breached");
        assert!(
            c.next_timer_at.is_none_or(|at| at > now),
            "{wa}: the next deadline moved on ({:?})",
            c.next_timer_at
        );
    }
    if let Some(tenant) = tenant {
        crate::webhook::gapless_events(app, tenant).await;
    }
    let fires = format!("switchboard_timer_fires_total{{kind=\"first_response_sla\"}} {n}");
    assert!(app.metrics().await.contains(&fires), "{fires}");
}

/// How many timer groups `by` (`sweep` or `actors`) committed.
async fn groups(app: &TestApp, by: &str) -> u64 {
    let prefix = format!("switchboard_timer_groups_total{{by=\"{by}\"}} ");
    app.metrics()
        .await
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

crate::backends!(
    moves_are_persisted_with_who_and_published,
    after_the_reopen_window_a_new_conversation_starts,
    retention_erases_a_resolved_conversation_once,
    event_numbers_stay_gap_free_in_large_batches,
    a_wave_of_due_slas_fires_each_once,
    live_actors_fire_their_slas_in_groups
);

fn fast_timers(s: &mut Settings) {
    s.actors.timer_sweep_ms = 100;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snoozed_conversations_wake_on_time_and_on_a_message() {
    let (app, _) = app_with_number_and(Backend::Sqlite, fast_timers).await;
    let admin = app.login("admin@acme.test", PW).await;
    for (wa, wamid) in [("4915100001001", "wamid.Z1"), ("4915100001002", "wamid.Z2")] {
        assert_eq!(post(&app, &inbound(wa, wamid), Some(APP_SECRET)).await, 200);
    }
    let snooze = |id: i64, secs: i64| json!({"id": id.to_string(), "t": (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()});
    let by_time = app.conversation_with("4915100001001").await;
    let by_message = app.conversation_with("4915100001002").await;
    let q = "mutation($id:ID!,$t:DateTime!){ snoozeConversation(id:$id, until:$t){ status snoozedUntil } }";
    let d = app.gql_ok(Some(&admin), q, snooze(by_time.id, 1)).await;
    assert_eq!(d["snoozeConversation"]["status"], "snoozed");
    app.gql_ok(Some(&admin), q, snooze(by_message.id, 3600))
        .await;
    // the customer writes: woken at once
    assert_eq!(
        post(
            &app,
            &inbound("4915100001002", "wamid.Z3"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    assert_eq!(
        app.conversation_with("4915100001002").await.status,
        "queued"
    );
    // the other wakes when its time is up
    let mut woke = app.conversation_with("4915100001001").await;
    for _ in 0..200 {
        if woke.status != "snoozed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        woke = app.conversation_with("4915100001001").await;
    }
    assert_eq!(woke.status, "queued");
    assert_eq!(woke.snoozed_until, None);
    let t = transitions(&app, by_time.id).await;
    assert_eq!(t.last().map(|t| t.2.as_str()), Some("woke"));
    assert!(
        app.metrics()
            .await
            .contains("switchboard_timer_fires_total{kind=\"snooze_wake\"} 1")
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sla_timer_fires_once_after_a_restart() {
    let (app, _) = app_with_number_and(Backend::Postgres, |s: &mut Settings| {
        fast_timers(s);
        s.conversations.first_response_sla_seconds = 4;
    })
    .await;
    assert_eq!(
        post(
            &app,
            &inbound("4915100002001", "wamid.S1"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let conv = app.conversation_with("4915100002001").await;
    assert_eq!(
        conv.next_timer_at,
        conv.awaiting_reply_since
            .map(|t| t + chrono::Duration::seconds(4)),
        "the writer stores the exact deadline with the message"
    );
    let app = app.restart(|_| {}).await;
    assert_eq!(
        logged(&app, "sla_breached").await,
        0,
        "not yet due when restarted"
    );
    wait_logged(&app, "sla_breached", 1, 15).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(logged(&app, "sla_breached").await, 1, "fired once");
    let after = entity::conversations::Entity::find_by_id(conv.id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("conversation");
    assert!(after.first_response_breached_at.is_some());
    // a reply stops the wait; the next-response SLA does not run without a new message
    assert!(after.first_response_at.is_none());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evicted_actors_timer_still_fires_once() {
    let (app, _) = app_with_number_and(Backend::Sqlite, |s: &mut Settings| {
        fast_timers(s);
        s.actors.idle_seconds = 1;
        s.conversations.first_response_sla_seconds = 3;
    })
    .await;
    assert_eq!(
        post(
            &app,
            &inbound("4915100003001", "wamid.E1"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let evicted = "switchboard_actor_lifecycle_total{event=\"evicted\",kind=\"conversation\"} 1";
    let mut seen = false;
    for _ in 0..60 {
        if app.metrics().await.contains(evicted) {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen, "the idle actor stopped");
    assert_eq!(
        logged(&app, "sla_breached").await,
        0,
        "evicted before its timer"
    );
    // the sweep fires it from the database when it is due (an SLA is a
    // mark: fired without rebuilding the actor)
    wait_logged(&app, "sla_breached", 1, 10).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(logged(&app, "sla_breached").await, 1, "fired once");
    let c = app.conversation_with("4915100003001").await;
    assert!(c.first_response_breached_at.is_some());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_one_conversation_gets_503_not_memory_and_loses_nothing_acknowledged() {
    let (app, _) = app_with_number_and(Backend::Sqlite, |s: &mut Settings| {
        s.actors.mailbox_capacity = 2;
    })
    .await;
    let rss = |m: &str| -> f64 {
        m.lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    // the conversation exists; then its customer floods it while a manager
    // keeps sending it commands through the same actor
    assert_eq!(
        post(
            &app,
            &inbound("4915100004001", "wamid.F-first"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let conv = app.conversation_with("4915100004001").await.id.to_string();
    let admin = app.login("admin@acme.test", PW).await;
    let before = rss(&app.metrics().await);
    let mut tasks = Vec::new();
    let mut commands = Vec::new();
    for i in 0..400 {
        if i % 10 == 5 {
            let client = app.client.clone();
            let url = app.url("/graphql");
            let (admin, conv) = (admin.clone(), conv.clone());
            commands.push(tokio::spawn(async move {
                let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
                client
                    .post(url)
                    .bearer_auth(admin)
                    .json(&json!({"query": "mutation($id:ID!,$t:DateTime!){ snoozeConversation(id:$id, until:$t){ status } }",
                        "variables": {"id": conv, "t": until}}))
                    .send()
                    .await
                    .expect("post")
                    .json::<Value>()
                    .await
                    .expect("json")
            }));
        }
        let client = app.client.clone();
        let url = app.url("/webhooks/whatsapp");
        let body = inbound("4915100004001", &format!("wamid.F{i}"));
        tasks.push(tokio::spawn(async move {
            let sig =
                switchboard::whatsapp::signature::sign(APP_SECRET.as_bytes(), body.as_bytes());
            let res = client
                .post(url)
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await
                .expect("post");
            (
                res.status().as_u16(),
                res.headers().contains_key("retry-after"),
            )
        }));
    }
    let mut ok = 1; // the first message
    let mut busy = 0;
    for t in tasks {
        match t.await.expect("task") {
            (200, _) => ok += 1,
            (503, true) => busy += 1,
            other => panic!("unexpected answer {other:?}"),
        }
    }
    let mut overloaded = 0;
    for c in commands {
        let body = c.await.expect("task");
        match body["errors"][0]["extensions"]["code"].as_str() {
            None => assert_eq!(body["data"]["snoozeConversation"]["status"], "snoozed"),
            Some("OVERLOADED") => overloaded += 1,
            // snoozing what the flood just woke, or snoozed already: refused
            Some("BAD_USER_INPUT") => {}
            Some(other) => panic!("unexpected GraphQL answer {other}: {body}"),
        }
    }
    assert!(busy > 0, "a full mailbox answers 503 with Retry-After");
    assert!(
        overloaded > 0,
        "a command to a full mailbox answers OVERLOADED"
    );
    assert!(ok > 1);
    let stored = entity::messages::Entity::find()
        .count(&app.db)
        .await
        .expect("count");
    assert_eq!(
        stored, ok,
        "every acknowledged message is stored, nothing else"
    );
    let m = app.metrics().await;
    assert!(m.contains("switchboard_actor_mailbox_full_total{kind=\"conversation\"}"));
    let grown = rss(&m) - before;
    assert!(grown < 64.0 * 1024.0 * 1024.0, "RSS grew {grown} bytes");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_customer_is_renamed_at_once() {
    let (app, _) = app_with_number(Backend::Sqlite).await;
    let wa = "4915100005001";
    assert_eq!(
        post(&app, &inbound(wa, "wamid.C1"), Some(APP_SECRET)).await,
        200
    );
    // the writer remembers this contact now; a new name must still be stored
    let renamed = inbound(wa, "wamid.C2").replace("\"Ann\"", "\"Ann Lee\"");
    assert_eq!(post(&app, &renamed, Some(APP_SECRET)).await, 200);
    // and a message without a name keeps it
    assert_eq!(
        post(
            &app,
            &inbound(wa, "wamid.C3").replace("\"Ann\"", "null"),
            Some(APP_SECRET)
        )
        .await,
        200
    );
    let contact = entity::contacts::Entity::find()
        .filter(entity::contacts::Column::WaId.eq(wa))
        .one(&app.db)
        .await
        .expect("query")
        .expect("contact");
    assert_eq!(contact.profile_name.as_deref(), Some("Ann Lee"));
    app.stop().await;
}
