//! Tenant isolation: another tenant's objects do not exist for the caller.

use sea_orm::EntityTrait;
use serde_json::json;
use switchboard::auth::Role;

use crate::backends;
use crate::helpers::{Backend, TestApp, code};

const PW: &str = "correct horse battery";

async fn tenant_a_cannot_reach_tenant_b(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.tenant_with_admin("A", "admin@a.test", PW).await;
    let tb = app.tenant_with_admin("B", "admin@b.test", PW).await;
    let b_user = app.user(tb, "agent@b.test", PW, Role::Agent).await;
    let a = app.login("admin@a.test", PW).await;
    let b = app.login("admin@b.test", PW).await;

    let dept = app
        .gql_ok(
            Some(&b),
            "mutation { createDepartment(input:{name:\"B Sales\"}){ id } }",
            json!({}),
        )
        .await["createDepartment"]["id"]
        .clone();
    let number = app
        .gql_ok(
            Some(&b),
            r#"mutation { addWhatsAppNumber(input:{phoneNumberId:"1065403522", wabaId:"2000",
               displayPhoneNumber:"+1 555 0100", accessToken:"EAAGsecret", appSecret:"appsecret",
               verifyToken:"verify"}){ id } }"#,
            json!({}),
        )
        .await["addWhatsAppNumber"]["id"]
        .clone();
    let user = json!(b_user.to_string());

    for (q, vars) in [
        (
            "query($id:ID!){ user(id:$id){ email } }",
            json!({"id": user}),
        ),
        (
            "query($id:ID!){ department(id:$id){ name } }",
            json!({"id": dept}),
        ),
        (
            "query($id:ID!){ whatsAppNumber(id:$id){ phoneNumberId } }",
            json!({"id": number}),
        ),
        (
            "mutation($id:ID!){ changeUserRole(userId:$id, role: ADMIN){ id } }",
            json!({"id": user}),
        ),
        (
            "mutation($id:ID!){ disableUser(userId:$id){ id } }",
            json!({"id": user}),
        ),
        (
            "mutation($id:ID!){ updateDepartment(id:$id, input:{name:\"x\"}){ id } }",
            json!({"id": dept}),
        ),
        (
            "mutation($id:ID!){ deleteDepartment(id:$id) }",
            json!({"id": dept}),
        ),
        (
            "mutation($id:ID!){ updateWhatsAppNumber(id:$id, input:{verifyToken:\"x\"}){ id } }",
            json!({"id": number}),
        ),
        (
            "mutation($id:ID!){ removeWhatsAppNumber(id:$id) }",
            json!({"id": number}),
        ),
        (
            "mutation($d:ID!,$u:ID!){ addDepartmentMember(departmentId:$d, userId:$u){ id } }",
            json!({"d": dept, "u": user}),
        ),
    ] {
        let body = app.gql(Some(&a), q, vars).await;
        assert_eq!(code(&body), "NOT_FOUND", "{q}: {body}");
    }
    // b's WhatsApp Business Account cannot be claimed by a
    let waba = app
        .gql(
            Some(&a),
            r#"mutation { addWhatsAppNumber(input:{phoneNumberId:"1065403599", wabaId:"2000",
               displayPhoneNumber:"+1 555 0199", accessToken:"x", appSecret:"y", verifyToken:"z"}){ id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&waba), "BAD_USER_INPUT", "{waba}");
    // a's own department cannot take b's user either
    let a_dept = app
        .gql_ok(
            Some(&a),
            "mutation { createDepartment(input:{name:\"A Sales\"}){ id } }",
            json!({}),
        )
        .await["createDepartment"]["id"]
        .clone();
    let body = app
        .gql(
            Some(&a),
            "mutation($d:ID!,$u:ID!){ addDepartmentMember(departmentId:$d, userId:$u){ id } }",
            json!({"d": a_dept, "u": user}),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND");

    // lists only show the caller's tenant
    let users = app
        .gql_ok(
            Some(&a),
            "{ users { edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        users["users"]["edges"],
        json!([{"node": {"email": "admin@a.test"}}])
    );
    let numbers = app
        .gql_ok(
            Some(&a),
            "{ whatsAppNumbers { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(numbers["whatsAppNumbers"]["edges"], json!([]));

    // nothing of b changed
    let still = app
        .gql_ok(
            Some(&b),
            "query($id:ID!,$d:ID!){ user(id:$id){ role disabled } department(id:$d){ name } }",
            json!({"id": user, "d": dept}),
        )
        .await;
    assert_eq!(still["user"], json!({"role": "AGENT", "disabled": false}));
    assert_eq!(still["department"]["name"], "B Sales");
    app.stop().await;
}

async fn number_secrets_are_write_only_and_encrypted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.tenant_with_admin("A", "admin@a.test", PW).await;
    let a = app.login("admin@a.test", PW).await;
    let added = app
        .gql_ok(
            Some(&a),
            r#"mutation { addWhatsAppNumber(input:{phoneNumberId:"1065403522", wabaId:"2000",
               displayPhoneNumber:"+1 555 0100", accessToken:"EAAG-plaintext-token", appSecret:"app-secret-plain",
               verifyToken:"verify-me", throughputPerSecond: 120}){ id phoneNumberId throughputPerSecond } }"#,
            json!({}),
        )
        .await;
    assert_eq!(added["addWhatsAppNumber"]["throughputPerSecond"], 120);
    let rows = entity::whatsapp_numbers::Entity::find()
        .all(&app.db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert!(
        row.access_token_enc.starts_with("sb1:") && !row.access_token_enc.contains("plaintext")
    );
    assert!(row.app_secret_enc.starts_with("sb1:") && !row.app_secret_enc.contains("secret-plain"));
    // the daemon's key opens them
    let ring = switchboard::app::load_keyring(&app.settings).expect("keyring");
    use secrecy::ExposeSecret;
    assert_eq!(
        ring.open(&row.access_token_enc)
            .expect("open")
            .expose_secret(),
        "EAAG-plaintext-token"
    );

    // the schema has no field that returns them
    let sdl = switchboard::graphql::sdl();
    let number_type = sdl
        .split("type WhatsAppNumber")
        .nth(1)
        .and_then(|s| s.split('}').next())
        .expect("type");
    for secret in ["accessToken", "appSecret", "verifyToken"] {
        assert!(!number_type.contains(secret), "{secret} must be write-only");
    }
    // the same phone number id cannot be registered twice, in any tenant
    let dup = app
        .gql(
            Some(&a),
            r#"mutation { addWhatsAppNumber(input:{phoneNumberId:"1065403522", wabaId:"2000",
               displayPhoneNumber:"+1 555 0100", accessToken:"x", appSecret:"y", verifyToken:"z"}){ id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&dup), "BAD_USER_INPUT", "{dup}");
    // bad input is refused and changes nothing
    let bad = app
        .gql(
            Some(&a),
            r#"mutation { addWhatsAppNumber(input:{phoneNumberId:"12ab", wabaId:"2000",
               displayPhoneNumber:"+1 555 0100", accessToken:"x", appSecret:"y", verifyToken:"z"}){ id } }"#,
            json!({}),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert!(
        bad["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("phoneNumberId")
    );
    assert_eq!(
        entity::whatsapp_numbers::Entity::find()
            .all(&app.db)
            .await
            .expect("rows")
            .len(),
        1
    );
    app.stop().await;
}

backends!(
    tenant_a_cannot_reach_tenant_b,
    number_secrets_are_write_only_and_encrypted
);
