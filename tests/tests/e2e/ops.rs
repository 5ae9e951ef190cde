//! Health, readiness, metrics, GraphiQL and the committed schema.

use crate::helpers::{Backend, TestApp, redis_url};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_turns_503_when_the_database_goes_away() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let get = |p: &'static str| app.client.get(app.url(p)).send();
    assert_eq!(
        get("/healthz").await.expect("healthz").status().as_u16(),
        200
    );
    assert_eq!(get("/readyz").await.expect("readyz").status().as_u16(), 200);
    app.pg.as_ref().expect("pg").drop_now().await;
    let res = get("/readyz").await.expect("readyz");
    assert_eq!(res.status().as_u16(), 503);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["status"], "unavailable");
    assert!(
        !body.to_string().contains("postgres://"),
        "no URLs in readiness output: {body}"
    );
    // the process itself is still up
    assert_eq!(
        get("/healthz").await.expect("healthz").status().as_u16(),
        200
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_checks_redis_when_configured() {
    let up = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.redis.url = Some(redis_url().into());
    })
    .await;
    assert_eq!(
        up.client
            .get(up.url("/readyz"))
            .send()
            .await
            .expect("readyz")
            .status()
            .as_u16(),
        200
    );
    up.stop().await;
    let down = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.redis.url = Some("redis://127.0.0.1:1".to_string().into());
    })
    .await;
    let res = down
        .client
        .get(down.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(res.status().as_u16(), 503);
    let body: serde_json::Value = res.json().await.expect("json");
    assert!(
        body["problems"][0].as_str().unwrap_or("").contains("redis"),
        "{body}"
    );
    down.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_expose_requests_pool_and_build_info() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    for _ in 0..3 {
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("healthz");
    }
    app.client
        .get(app.url("/no/such/path/123"))
        .send()
        .await
        .expect("404");
    let res = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain")
    );
    let text = res.text().await.expect("text");
    assert!(
        text.contains(
            r#"switchboard_http_requests_total{method="GET",route="/healthz",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="unmatched",status="404"} 1"#),
        "raw paths never become labels: {text}"
    );
    assert!(!text.contains("/no/such/path"));
    assert!(text.contains("switchboard_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"switchboard_db_pool_connections{state="idle"}"#));
    assert!(text.contains("switchboard_build_info{"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_is_served_without_a_cdn() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let html = app
        .client
        .get(app.url("/graphql"))
        .send()
        .await
        .expect("graphiql")
        .text()
        .await
        .expect("html");
    assert!(html.contains("graphiql"), "{html}");
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "no external URLs"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        assert!(
            html.contains(&format!("/graphql/assets/{asset}")),
            "{asset} referenced"
        );
        let res = app
            .client
            .get(app.url(&format!("/graphql/assets/{asset}")))
            .send()
            .await
            .expect("asset");
        assert_eq!(res.status().as_u16(), 200, "{asset}");
        assert!(res.bytes().await.expect("bytes").len() > 1000);
    }
    let missing = app
        .client
        .get(app.url("/graphql/assets/nope.js"))
        .send()
        .await
        .expect("asset");
    assert_eq!(missing.status().as_u16(), 404);
    app.stop().await;
}

#[test]
fn committed_schema_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema/schema.graphql");
    let committed = std::fs::read_to_string(path).expect("schema/schema.graphql exists");
    let current = switchboard::graphql::sdl();
    assert!(
        committed == current,
        "schema/schema.graphql is out of date: run `cargo run -p switchboard -- export-schema`"
    );
}
