//! Login, tokens, invitations, API keys and role guards.

use sea_orm::EntityTrait;
use serde_json::json;
use switchboard::auth::Role;

use crate::backends;
use crate::helpers::{Backend, TestApp, code};

const PW: &str = "correct horse battery";

async fn login_succeeds_fails_and_is_rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| {
        s.auth.login_attempts_per_account_per_minute = 3;
        s.auth.login_attempts_per_ip_per_minute = 6;
    })
    .await;
    app.tenant_with_admin("Acme", "admin@acme.test", PW).await;

    let token = app.login("ADMIN@acme.test", PW).await;
    let me = app
        .gql_ok(
            Some(&token),
            "{ me { email role tenant { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["email"], "admin@acme.test");
    assert_eq!(me["me"]["role"], "ADMIN");
    assert_eq!(me["me"]["tenant"]["name"], "Acme");

    let q = "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }";
    let bad = app
        .gql(
            None,
            q,
            json!({"e": "admin@acme.test", "p": "wrong password!"}),
        )
        .await;
    assert_eq!(code(&bad), "UNAUTHENTICATED", "{bad}");
    assert_eq!(bad["errors"][0]["message"], "invalid email or password");
    // unknown accounts get the very same answer
    let unknown = app
        .gql(None, q, json!({"e": "nobody@acme.test", "p": PW}))
        .await;
    assert_eq!(unknown["errors"][0]["message"], "invalid email or password");

    let bad2 = app
        .gql(
            None,
            q,
            json!({"e": "admin@acme.test", "p": "wrong again!!"}),
        )
        .await;
    assert_eq!(code(&bad2), "UNAUTHENTICATED", "{bad2}");
    // the account has used its 3 attempts (ok, bad, bad): the next one is refused even with the right password
    let limited = app
        .gql(None, q, json!({"e": "admin@acme.test", "p": PW}))
        .await;
    assert_eq!(code(&limited), "RATE_LIMITED", "{limited}");
    assert!(
        limited["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    );

    // the IP has 6 attempts a minute: 5 used above (the refused one counts too); one more, then the IP is limited
    for i in 0..1 {
        let r = app
            .gql(None, q, json!({"e": format!("u{i}@acme.test"), "p": PW}))
            .await;
        assert_eq!(code(&r), "UNAUTHENTICATED", "{r}");
    }
    let ip_limited = app
        .gql(None, q, json!({"e": "fresh@acme.test", "p": PW}))
        .await;
    assert_eq!(code(&ip_limited), "RATE_LIMITED", "{ip_limited}");

    let metrics = app.metrics().await;
    assert!(
        metrics.contains("switchboard_login_attempts_total{result=\"rate_limited\"} 2"),
        "{metrics}"
    );
    app.stop().await;
}

async fn tokens_are_checked_and_disabling_revokes_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tenant = app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let agent_id = app.user(tenant, "agent@acme.test", PW, Role::Agent).await;
    let admin = app.login("admin@acme.test", PW).await;
    let agent = app.login("agent@acme.test", PW).await;

    let (status, body) = app
        .gql_raw(Some("not-a-token"), "{ me { id } }", json!({}))
        .await;
    assert_eq!(status, 401);
    assert_eq!(code(&body), "UNAUTHENTICATED");
    let forged = format!("{}x", &agent[..agent.len() - 1]);
    assert_eq!(
        app.gql_raw(Some(&forged), "{ me { id } }", json!({}))
            .await
            .0,
        401
    );

    app.gql_ok(Some(&agent), "{ me { id } }", json!({})).await;
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ disableUser(userId:$id){ disabled } }",
        json!({"id": agent_id.to_string()}),
    )
    .await;
    let (status, _) = app.gql_raw(Some(&agent), "{ me { id } }", json!({})).await;
    assert_eq!(status, 401, "a disabled user's token stops working at once");
    let q = "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }";
    let r = app
        .gql(None, q, json!({"e": "agent@acme.test", "p": PW}))
        .await;
    assert_eq!(code(&r), "UNAUTHENTICATED");

    // the last admin can neither be disabled nor demoted
    let admin_id = app.gql_ok(Some(&admin), "{ me { id } }", json!({})).await["me"]["id"].clone();
    let r = app
        .gql(
            Some(&admin),
            "mutation($id:ID!){ changeUserRole(userId:$id, role: AGENT){ role } }",
            json!({"id": admin_id}),
        )
        .await;
    assert_eq!(code(&r), "BAD_USER_INPUT", "{r}");
    app.stop().await;
}

async fn roles_are_enforced(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let tenant = app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    app.user(tenant, "agent@acme.test", PW, Role::Agent).await;
    app.user(tenant, "manager@acme.test", PW, Role::Manager)
        .await;
    let agent = app.login("agent@acme.test", PW).await;
    let manager = app.login("manager@acme.test", PW).await;

    let invite =
        "mutation { inviteUser(input:{email:\"x@acme.test\", role: AGENT}){ user { id } } }";
    assert_eq!(
        code(&app.gql(Some(&agent), invite, json!({})).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&app.gql(Some(&manager), invite, json!({})).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(&app.gql(None, invite, json!({})).await),
        "UNAUTHENTICATED"
    );
    let add_number = r#"mutation { addWhatsAppNumber(input:{phoneNumberId:"1", wabaId:"2",
        displayPhoneNumber:"+1 555 0100", accessToken:"t", appSecret:"s", verifyToken:"v"}){ phoneNumberId } }"#;
    assert_eq!(
        code(&app.gql(Some(&agent), add_number, json!({})).await),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.gql(
                Some(&agent),
                "{ users { edges { node { id } } } }",
                json!({})
            )
            .await
        ),
        "FORBIDDEN"
    );
    assert_eq!(
        code(
            &app.gql(
                Some(&agent),
                "{ apiKeys { edges { node { id } } } }",
                json!({})
            )
            .await
        ),
        "FORBIDDEN"
    );
    // a manager may manage departments and read users, not API keys
    app.gql_ok(
        Some(&manager),
        "mutation { createDepartment(input:{name:\"Sales\"}){ id } }",
        json!({}),
    )
    .await;
    app.gql_ok(
        Some(&manager),
        "{ users { edges { node { email } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        code(
            &app.gql(
                Some(&manager),
                "{ apiKeys { edges { node { id } } } }",
                json!({})
            )
            .await
        ),
        "FORBIDDEN"
    );
    // an agent sees only departments it belongs to
    let depts = app
        .gql_ok(
            Some(&agent),
            "{ departments { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(depts["departments"]["edges"], json!([]));
    app.stop().await;
}

async fn invitations_and_password_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let admin = app.login("admin@acme.test", PW).await;
    let inv = app
        .gql_ok(
            Some(&admin),
            "mutation { inviteUser(input:{email:\"New@Acme.test\", name:\"Nia\", role: MANAGER}){ user { id email role invitationPending } inviteToken } }",
            json!({}),
        )
        .await;
    let user = &inv["inviteUser"]["user"];
    assert_eq!(user["email"], "new@acme.test");
    assert_eq!(user["invitationPending"], true);
    let token = inv["inviteUser"]["inviteToken"]
        .as_str()
        .expect("invite token");

    // an invited user cannot log in before accepting
    let q = "mutation($e:String!,$p:String!){ login(email:$e,password:$p){ token } }";
    assert_eq!(
        code(
            &app.gql(None, q, json!({"e": "new@acme.test", "p": PW}))
                .await
        ),
        "UNAUTHENTICATED"
    );
    let accept = "mutation($t:String!,$p:String!){ acceptInvite(token:$t,password:$p){ token user { role invitationPending } } }";
    let short = app
        .gql(None, accept, json!({"t": token, "p": "short"}))
        .await;
    assert_eq!(code(&short), "BAD_USER_INPUT");
    let ok = app.gql_ok(None, accept, json!({"t": token, "p": PW})).await;
    assert_eq!(ok["acceptInvite"]["user"]["role"], "MANAGER");
    assert_eq!(ok["acceptInvite"]["user"]["invitationPending"], false);
    // the invitation is single-use
    assert_eq!(
        code(&app.gql(None, accept, json!({"t": token, "p": PW})).await),
        "BAD_USER_INPUT"
    );
    // duplicate email, installation-wide
    let dup = app
        .gql(
            Some(&admin),
            "mutation { inviteUser(input:{email:\"new@acme.test\", role: AGENT}){ inviteToken } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&dup), "BAD_USER_INPUT", "{dup}");

    let mine = app.login("new@acme.test", PW).await;
    let change =
        "mutation($c:String!,$n:String!){ changePassword(currentPassword:$c,newPassword:$n) }";
    assert_eq!(
        code(
            &app.gql(
                Some(&mine),
                change,
                json!({"c": "wrong one!!", "n": "another long pw"})
            )
            .await
        ),
        "BAD_USER_INPUT"
    );
    app.gql_ok(
        Some(&mine),
        change,
        json!({"c": PW, "n": "another long pw"}),
    )
    .await;
    app.login("new@acme.test", "another long pw").await;
    app.stop().await;
}

async fn api_keys_authenticate_with_scopes_and_revoke(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let admin = app.login("admin@acme.test", PW).await;
    let create = "mutation($s:[Scope!]!){ createApiKey(input:{name:\"crm\", role: MANAGER, scopes:$s}){ secret apiKey { id prefix scopes role } } }";
    let ro = app
        .gql_ok(Some(&admin), create, json!({"s": ["READ"]}))
        .await;
    let ro_secret = ro["createApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert!(
        ro_secret.starts_with(
            ro["createApiKey"]["apiKey"]["prefix"]
                .as_str()
                .expect("prefix")
        )
    );
    let rw = app
        .gql_ok(Some(&admin), create, json!({"s": ["READ", "WRITE"]}))
        .await;
    let rw_secret = rw["createApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();

    let wo = app
        .gql_ok(Some(&admin), create, json!({"s": ["WRITE"]}))
        .await;
    let wo_secret = wo["createApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_string();
    assert_eq!(
        code(
            &app.gql(Some(&wo_secret), "{ tenant { name } }", json!({}))
                .await
        ),
        "FORBIDDEN"
    );

    // the secret is not stored in clear
    let rows = entity::api_keys::Entity::find()
        .all(&app.db)
        .await
        .expect("keys");
    assert!(
        rows.iter()
            .all(|k| k.key_hash != ro_secret && k.key_hash.len() == 64)
    );

    app.gql_ok(
        Some(&ro_secret),
        "{ tenant { name } users { edges { node { email } } } }",
        json!({}),
    )
    .await;
    let me = app.gql(Some(&ro_secret), "{ me { id } }", json!({})).await;
    assert_eq!(code(&me), "FORBIDDEN");
    let mutate = "mutation { createDepartment(input:{name:\"Support\"}){ id } }";
    assert_eq!(
        code(&app.gql(Some(&ro_secret), mutate, json!({})).await),
        "FORBIDDEN"
    );
    app.gql_ok(Some(&rw_secret), mutate, json!({})).await;
    // role of the key is enforced (manager key cannot manage keys)
    assert_eq!(
        code(
            &app.gql(
                Some(&rw_secret),
                "{ apiKeys { edges { node { id } } } }",
                json!({})
            )
            .await
        ),
        "FORBIDDEN"
    );

    let listed = app
        .gql_ok(
            Some(&admin),
            "{ apiKeys { edges { node { id name lastUsedAt } } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["apiKeys"]["edges"].as_array().map(Vec::len), Some(3));
    assert!(!listed.to_string().contains(&ro_secret));

    let id = ro["createApiKey"]["apiKey"]["id"].clone();
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ revokeApiKey(id:$id){ revokedAt } }",
        json!({"id": id}),
    )
    .await;
    let (status, body) = app
        .gql_raw(Some(&ro_secret), "{ tenant { name } }", json!({}))
        .await;
    assert_eq!(status, 401, "{body}");
    app.stop().await;
}

backends!(
    login_succeeds_fails_and_is_rate_limited,
    tokens_are_checked_and_disabling_revokes_them,
    roles_are_enforced,
    invitations_and_password_change,
    api_keys_authenticate_with_scopes_and_revoke,
);
