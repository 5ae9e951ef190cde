//! Event-log retention on both backends.

use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set};
use serde_json::json;

use crate::backends;
use crate::helpers::{Backend, TestApp};

async fn old_events_are_deleted_recent_ones_kept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let t = app
        .tenant_with_admin("Acme", "admin@acme.test", "correct horse battery")
        .await;
    let now = chrono::Utc::now();
    for (seq, age_hours) in [(1, 100), (2, 80), (3, 10), (4, 0)] {
        entity::event_log::ActiveModel {
            tenant_id: Set(t),
            seq: Set(seq),
            kind: Set("directory_changed".into()),
            payload: Set(json!({})),
            created_at: Set(now - chrono::Duration::hours(age_hours)),
            ..Default::default()
        }
        .insert(&app.db)
        .await
        .expect("event");
    }
    let deleted =
        switchboard::store::events::delete_before(&app.db, now - chrono::Duration::hours(72))
            .await
            .expect("delete");
    assert_eq!(deleted, 2);
    assert_eq!(
        entity::event_log::Entity::find()
            .count(&app.db)
            .await
            .expect("count"),
        2
    );
    app.stop().await;
}

backends!(old_events_are_deleted_recent_ones_kept);
