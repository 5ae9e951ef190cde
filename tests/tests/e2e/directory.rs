//! Departments, members, tenant settings, pagination and the audit trail.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use switchboard::auth::Role;

use crate::backends;
use crate::helpers::{Backend, TestApp, code};

const PW: &str = "correct horse battery";

async fn departments_members_and_pagination(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let agent_id = app.user(t, "agent@acme.test", PW, Role::Agent).await;
    let admin = app.login("admin@acme.test", PW).await;
    let agent = app.login("agent@acme.test", PW).await;

    let mut ids = Vec::new();
    for name in ["Sales", "Support", "Billing", "Returns", "VIP"] {
        let d = app
            .gql_ok(Some(&admin), "mutation($n:String!){ createDepartment(input:{name:$n, description:\"team\"}){ id name } }", json!({"n": name}))
            .await;
        ids.push(d["createDepartment"]["id"].clone());
    }
    let dup = app
        .gql(
            Some(&admin),
            "mutation { createDepartment(input:{name:\"Sales\"}){ id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&dup), "BAD_USER_INPUT");
    let empty = app
        .gql(
            Some(&admin),
            "mutation { createDepartment(input:{name:\"  \"}){ id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&empty), "BAD_USER_INPUT");

    // walk the connection two at a time
    let q = "query($a:String){ departments(first:2, after:$a){ edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    let mut after = serde_json::Value::Null;
    let mut names = Vec::new();
    loop {
        let page = app.gql_ok(Some(&admin), q, json!({"a": after})).await;
        let conn = &page["departments"];
        for e in conn["edges"].as_array().expect("edges") {
            names.push(e["node"]["name"].as_str().expect("name").to_string());
        }
        if !conn["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(names, ["Sales", "Support", "Billing", "Returns", "VIP"]);
    let bad_cursor = app.gql(Some(&admin), q, json!({"a": "garbage"})).await;
    assert_eq!(code(&bad_cursor), "BAD_USER_INPUT");
    let too_big = app
        .gql(
            Some(&admin),
            "{ departments(first: 1000){ edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&too_big), "BAD_USER_INPUT");

    // membership: idempotent add, visible to the agent, removable
    let add = "mutation($d:ID!,$u:ID!){ addDepartmentMember(departmentId:$d, userId:$u){ members { edges { node { email } } } } }";
    let vars = json!({"d": ids[1], "u": agent_id.to_string()});
    app.gql_ok(Some(&admin), add, vars.clone()).await;
    let again = app.gql_ok(Some(&admin), add, vars.clone()).await;
    assert_eq!(
        again["addDepartmentMember"]["members"]["edges"],
        json!([{"node": {"email": "agent@acme.test"}}])
    );
    let mine = app.gql_ok(Some(&agent), "{ departments { edges { node { name members { edges { node { email } } } } } } me { departments { edges { node { name } } } } }", json!({})).await;
    assert_eq!(mine["departments"]["edges"][0]["node"]["name"], "Support");
    assert_eq!(
        mine["me"]["departments"]["edges"][0]["node"]["name"],
        "Support"
    );
    let other = app
        .gql(
            Some(&agent),
            "query($id:ID!){ department(id:$id){ name } }",
            json!({"id": ids[0]}),
        )
        .await;
    assert_eq!(code(&other), "NOT_FOUND");
    app.gql_ok(
        Some(&admin),
        "mutation($d:ID!,$u:ID!){ removeDepartmentMember(departmentId:$d, userId:$u){ id } }",
        vars,
    )
    .await;
    let mine = app
        .gql_ok(
            Some(&agent),
            "{ departments { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["departments"]["edges"], json!([]));

    // rename and delete
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ updateDepartment(id:$id, input:{name:\"Sales EU\"}){ name } }",
        json!({"id": ids[0]}),
    )
    .await;
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ deleteDepartment(id:$id) }",
        json!({"id": ids[4]}),
    )
    .await;
    let gone = app
        .gql(
            Some(&admin),
            "query($id:ID!){ department(id:$id){ name } }",
            json!({"id": ids[4]}),
        )
        .await;
    assert_eq!(code(&gone), "NOT_FOUND");

    // every change is audited
    let audit = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::TenantId.eq(t))
        .all(&app.db)
        .await
        .expect("audit");
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    for a in [
        "department.create",
        "department.add_member",
        "department.remove_member",
        "department.update",
        "department.delete",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    app.stop().await;
}

async fn tenant_settings_and_user_admin(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app.tenant_with_admin("Acme", "admin@acme.test", PW).await;
    let agent_id = app.user(t, "agent@acme.test", PW, Role::Agent).await;
    let admin = app.login("admin@acme.test", PW).await;

    let upd = app
        .gql_ok(Some(&admin), "mutation { updateTenant(input:{timeZone:\"Europe/Berlin\", settings:{greeting:\"Hallo\"}}){ name timeZone settings } }", json!({}))
        .await;
    assert_eq!(upd["updateTenant"]["timeZone"], "Europe/Berlin");
    assert_eq!(upd["updateTenant"]["settings"]["greeting"], "Hallo");
    for bad in [
        "mutation { updateTenant(input:{timeZone:\"not a zone\"}){ name } }",
        "mutation { updateTenant(input:{settings: [1,2]}){ name } }",
        "mutation { updateTenant(input:{name: \"\"}){ name } }",
    ] {
        let r = app.gql(Some(&admin), bad, json!({})).await;
        assert_eq!(code(&r), "BAD_USER_INPUT", "{bad}: {r}");
    }
    let tenant = app
        .gql_ok(Some(&admin), "{ tenant { name timeZone } }", json!({}))
        .await;
    assert_eq!(
        tenant["tenant"],
        json!({"name": "Acme", "timeZone": "Europe/Berlin"})
    );

    // promote, filter, search
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ changeUserRole(userId:$id, role: MANAGER){ role } }",
        json!({"id": agent_id.to_string()}),
    )
    .await;
    let managers = app
        .gql_ok(
            Some(&admin),
            "{ users(filter:{role: MANAGER}){ edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        managers["users"]["edges"],
        json!([{"node": {"email": "agent@acme.test"}}])
    );
    let found = app
        .gql_ok(
            Some(&admin),
            "{ users(filter:{search: \"AGENT@\"}){ edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(found["users"]["edges"].as_array().map(Vec::len), Some(1));
    app.gql_ok(
        Some(&admin),
        "mutation($id:ID!){ disableUser(userId:$id){ disabled } }",
        json!({"id": agent_id.to_string()}),
    )
    .await;
    let active = app
        .gql_ok(
            Some(&admin),
            "{ users { edges { node { email } } } }",
            json!({}),
        )
        .await;
    assert_eq!(active["users"]["edges"].as_array().map(Vec::len), Some(1));
    let all = app
        .gql_ok(
            Some(&admin),
            "{ users(filter:{includeDisabled: true}){ edges { node { email disabled } } } }",
            json!({}),
        )
        .await;
    assert_eq!(all["users"]["edges"].as_array().map(Vec::len), Some(2));
    let me_id = app.gql_ok(Some(&admin), "{ me { id } }", json!({})).await["me"]["id"].clone();
    let self_disable = app
        .gql(
            Some(&admin),
            "mutation($id:ID!){ disableUser(userId:$id){ id } }",
            json!({"id": me_id}),
        )
        .await;
    assert_eq!(code(&self_disable), "BAD_USER_INPUT");
    app.stop().await;
}

backends!(
    departments_members_and_pagination,
    tenant_settings_and_user_admin
);
