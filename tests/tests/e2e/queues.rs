//! Queues and the agent roster, answered by the tenant actor: positions in
//! serving order, loads and free slots that follow assignments and presence,
//! the board rebuilt from the database after a restart, visibility by role
//! and tenant, and one board shared by two daemons on one Redis.

use std::future::Future;
use std::time::Duration;

use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait};
use serde_json::{Value, json};
use switchboard::auth::Role;

use crate::helpers::{Backend, code};
use crate::lifecycle::inbound;
use crate::webhook::{APP_SECRET, app_with_number, post};

const PW: &str = "correct horse battery";

/// Asks `f` until it returns `Some` (the board follows events a moment
/// after the mutation that caused them); panics after 10 s with `what`.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not reached within 10 s");
}

const QUEUES: &str = "{ queues { departmentId waiting oldestQueuedAt } }";
const QUEUE: &str = "query($d:ID,$n:Int){ queue(departmentId:$d, first:$n){ total entries { position priority queuedAt conversation { id status contact { waId name } } } } }";
const ROSTER: &str = "{ agentRoster { user { id email } presence capacity activeConversations freeSlots departmentIds } }";

/// The conversation ids of a queue page, in order.
fn ids(page: &Value) -> Vec<String> {
    page["queue"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["conversation"]["id"].as_str().expect("id").to_owned())
        .collect()
}

fn roster_of<'a>(d: &'a Value, email: &str) -> &'a Value {
    d["agentRoster"]
        .as_array()
        .expect("roster")
        .iter()
        .find(|e| e["user"]["email"] == email)
        .unwrap_or_else(|| panic!("{email} not in roster: {d}"))
}

async fn queues_and_roster_follow_the_conversations(backend: Backend) {
    let (app, tenant) = app_with_number(backend).await;
    let admin = app.login("admin@acme.test", PW).await;
    let agent_id = app.user(tenant, "agent@acme.test", PW, Role::Agent).await;
    let sales = app
        .gql_ok(
            Some(&admin),
            "mutation{ createDepartment(input:{name:\"Sales\"}){ id } }",
            json!({}),
        )
        .await["createDepartment"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.gql_ok(
        Some(&admin),
        "mutation($d:ID!,$u:ID!){ addDepartmentMember(departmentId:$d, userId:$u){ id } }",
        json!({"d": sales, "u": agent_id.to_string()}),
    )
    .await;

    let mut convs = Vec::new();
    for (i, wa) in ["4915100008001", "4915100008002", "4915100008003"]
        .iter()
        .enumerate()
    {
        assert_eq!(
            post(&app, &inbound(wa, &format!("wamid.Q{i}")), Some(APP_SECRET)).await,
            200
        );
        convs.push(app.conversation_with(wa).await.id.to_string());
    }
    // first come, first served; not routed to a department yet
    let page = eventually("three waiting", || async {
        let d = app.gql_ok(Some(&admin), QUEUE, json!({"n": 2})).await;
        (d["queue"]["total"] == 3).then_some(d)
    })
    .await;
    assert_eq!(ids(&page), convs[..2].to_vec());
    assert_eq!(page["queue"]["entries"][0]["position"], 1);
    assert_eq!(page["queue"]["entries"][1]["position"], 2);
    assert_eq!(
        page["queue"]["entries"][0]["conversation"]["status"],
        "queued"
    );
    assert_eq!(
        page["queue"]["entries"][1]["conversation"]["contact"],
        json!({"waId": "4915100008002", "name": "Ann"})
    );
    let q = app.gql_ok(Some(&admin), QUEUES, json!({})).await;
    assert_eq!(q["queues"][0]["departmentId"], Value::Null);
    assert_eq!(q["queues"][0]["waiting"], 3);
    assert!(q["queues"][0]["oldestQueuedAt"].is_string());

    // an offline agent has no free slot, whatever the capacity
    let d = app.gql_ok(Some(&admin), ROSTER, json!({})).await;
    let a = roster_of(&d, "agent@acme.test");
    assert_eq!(a["presence"], "OFFLINE");
    assert_eq!(a["freeSlots"], 0);
    assert_eq!(a["departmentIds"], json!([sales]));

    // the second one is assigned: it leaves the queue and counts for the agent
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!,$u:ID!){ assignConversation(id:$id, userId:$u){ id } }",
        json!({"id": convs[1], "u": agent_id.to_string()}),
    )
    .await;
    let agent = app.login("agent@acme.test", PW).await;
    app.gql_ok(
        Some(&agent),
        "mutation{ setPresence(status: ONLINE, capacity: 3){ status } }",
        json!({}),
    )
    .await;
    let page = eventually("assigned one left the queue", || async {
        let d = app.gql_ok(Some(&admin), QUEUE, json!({"n": 10})).await;
        (d["queue"]["total"] == 2).then_some(d)
    })
    .await;
    assert_eq!(ids(&page), vec![convs[0].clone(), convs[2].clone()]);
    let d = eventually("agent online with one conversation", || async {
        let d = app.gql_ok(Some(&admin), ROSTER, json!({})).await;
        (roster_of(&d, "agent@acme.test")["freeSlots"] == 2).then_some(d)
    })
    .await;
    let a = roster_of(&d, "agent@acme.test");
    assert_eq!(
        (&a["presence"], &a["capacity"], &a["activeConversations"]),
        (&json!("ONLINE"), &json!(3), &json!(1))
    );

    // resolving the first empties its place
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ resolveConversation(id:$id){ id } }",
        json!({"id": convs[0]}),
    )
    .await;
    let page = eventually("resolved one left the queue", || async {
        let d = app.gql_ok(Some(&admin), QUEUE, json!({})).await;
        (d["queue"]["total"] == 1).then_some(d)
    })
    .await;
    assert_eq!(ids(&page), vec![convs[2].clone()]);

    // bad input changes nothing
    let body = app.gql(Some(&admin), QUEUE, json!({"n": 0})).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let body = app.gql(Some(&admin), QUEUE, json!({"d": "999999"})).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");

    // the third one is routed to Sales (as routing will do) and the daemon
    // restarts: the board is loaded from the database
    let mut c: entity::conversations::ActiveModel =
        entity::conversations::Entity::find_by_id(convs[2].parse::<i64>().expect("id"))
            .one(&app.db)
            .await
            .expect("find")
            .expect("row")
            .into();
    c.department_id = Set(Some(sales.parse().expect("id")));
    c.update(&app.db).await.expect("route");
    let app = app.restart(|_| {}).await;
    let admin = app.login("admin@acme.test", PW).await;
    let q = app.gql_ok(Some(&admin), QUEUES, json!({})).await;
    assert_eq!(
        q["queues"],
        json!([{"departmentId": sales, "waiting": 1, "oldestQueuedAt": q["queues"][0]["oldestQueuedAt"]}])
    );
    assert!(
        app.metrics().await.contains(&format!(
            "switchboard_queue_waiting{{tenant_id=\"{tenant}\"}} 1"
        )),
        "queue gauge"
    );
    let d = app.gql_ok(Some(&admin), ROSTER, json!({})).await;
    assert_eq!(
        roster_of(&d, "agent@acme.test")["activeConversations"],
        1,
        "loads come back from the database"
    );

    // agents see the queues of their departments only
    let agent = app.login("agent@acme.test", PW).await;
    let d = app
        .gql_ok(Some(&agent), QUEUE, json!({"d": sales, "n": 5}))
        .await;
    assert_eq!(ids(&d), vec![convs[2].clone()]);
    let q = app.gql_ok(Some(&agent), QUEUES, json!({})).await;
    assert_eq!(q["queues"].as_array().map(Vec::len), Some(1));
    let body = app.gql(Some(&agent), QUEUE, json!({})).await;
    assert_eq!(code(&body), "NOT_FOUND", "unrouted queue: {body}");

    // another tenant sees nothing of it
    app.tenant_with_admin("Other", "admin@other.test", PW).await;
    let other = app.login("admin@other.test", PW).await;
    let q = app.gql_ok(Some(&other), QUEUES, json!({})).await;
    assert_eq!(q["queues"], json!([]));
    let body = app.gql(Some(&other), QUEUE, json!({"d": sales})).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let d = app.gql_ok(Some(&other), ROSTER, json!({})).await;
    assert!(
        d["agentRoster"]
            .as_array()
            .expect("roster")
            .iter()
            .all(|e| e["user"]["email"] == "admin@other.test"),
        "{d}"
    );
    let body = app.gql(None, QUEUES, json!({})).await;
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body}");

    // deleting the department sends its queue back to the unrouted one
    app.gql_ok(
        Some(&admin),
        "mutation($d:ID!){ deleteDepartment(id:$d) }",
        json!({"d": sales}),
    )
    .await;
    eventually("the queue moved with the deleted department", || async {
        let q = app.gql_ok(Some(&admin), QUEUES, json!({})).await;
        (q["queues"].as_array().map(Vec::len) == Some(1)
            && q["queues"][0]["departmentId"].is_null())
        .then_some(())
    })
    .await;
    app.stop().await;
}

crate::backends!(queues_and_roster_follow_the_conversations);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_on_one_redis_see_one_board() {
    let (one, two) = crate::webhook::redis_pair("queues").await;
    let admin = two.login("admin@acme.test", PW).await;
    // daemon 2's board is loaded before anything happens
    let q = two.gql_ok(Some(&admin), QUEUES, json!({})).await;
    assert_eq!(q["queues"], json!([]));
    // customers write to daemon 1; daemon 2's board sees them wait
    for i in 0..5 {
        let wa = format!("49151000090{i:02}");
        assert_eq!(
            post(
                &one,
                &inbound(&wa, &format!("wamid.T{i}")),
                Some(APP_SECRET)
            )
            .await,
            200
        );
    }
    eventually("daemon 2 sees five waiting", || async {
        let d = two.gql_ok(Some(&admin), QUEUE, json!({"n": 10})).await;
        (d["queue"]["total"] == 5 && ids(&d).len() == 5).then_some(())
    })
    .await;
    two.stop().await;
    one.stop().await;
}
