//! Bad input at the GraphQL boundary: limits, malformed bodies, leaks.

use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::backends;
use crate::helpers::{Backend, TestApp, code};

const PW: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depth_complexity_and_alias_limits() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.graphql.max_depth = 5;
        s.graphql.max_aliases = 3;
        s.graphql.max_complexity = 50;
    })
    .await;
    app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let t = app.login("admin@acme.test", PW).await;

    let deep = "{ me { departments { edges { node { members { edges { node { email } } } } } } } }";
    let r = app.gql(Some(&t), deep, json!({})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nested too deep"),
        "{r}"
    );

    let aliases = "{ a: me { id } b: me { id } c: me { id } d: me { id } }";
    let r = app.gql(Some(&t), aliases, json!({})).await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("aliases")
    );
    app.gql_ok(Some(&t), "{ a: me { id } b: me { id } }", json!({}))
        .await;

    app.stop().await;

    // complexity is checked on its own (aliases allowed here)
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.graphql.max_aliases = 1000;
        s.graphql.max_complexity = 50;
    })
    .await;
    let mut complex = String::from("{ ");
    for i in 0..60 {
        complex.push_str(&format!("f{i}: tenant {{ id name }} "));
    }
    complex.push('}');
    let r = app.gql(None, &complex, json!({})).await;
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("complex"),
        "{r}"
    );
    assert_eq!(code(&r), "BAD_USER_INPUT");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_requests() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let post = |body: Vec<u8>| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let res = post(b"{not json".to_vec()).await.expect("send");
    assert_eq!(res.status().as_u16(), 400);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(code(&body), "BAD_USER_INPUT");

    let res = post(br#"{"query": "{ me { "}"#.to_vec())
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");

    let huge = format!(
        "{{\"query\": \"{{ __typename }}\", \"variables\": {{\"x\": \"{}\"}}}}",
        "a".repeat(2 * 1024 * 1024)
    );
    let res = post(huge.into_bytes()).await.expect("send");
    assert_eq!(res.status().as_u16(), 413);

    let res = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Basic dXNlcjpwdw==")
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status().as_u16(), 401);
    // the daemon is still fine
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("health")
            .status()
            .as_u16(),
        200
    );
    app.stop().await;
}

async fn internal_errors_do_not_leak(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let t = app.login("admin@acme.test", PW).await;
    // break the database under the daemon
    let sql = match backend {
        Backend::Sqlite => "DROP TABLE department_members",
        Backend::Postgres => "DROP TABLE department_members CASCADE",
    };
    app.db.execute_unprepared(sql).await.expect("drop");
    let r = app
        .gql(
            Some(&t),
            "{ me { departments { edges { node { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&r), "INTERNAL", "{r}");
    let msg = r["errors"][0]["message"].as_str().unwrap_or("");
    assert!(msg.starts_with("internal error (reference "), "{msg}");
    let lower = r.to_string().to_lowercase();
    for leak in [
        "select",
        "department_members",
        "sqlite",
        "postgres",
        "relation",
    ] {
        assert!(!lower.contains(leak), "leaked `{leak}`: {r}");
    }
    app.stop().await;
}

backends!(internal_errors_do_not_leak);
