//! The audit log: who changed what in a tenant.

use entity::audit_log;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use super::{StoreError, now};
use crate::auth::{Credential, Identity};

/// Appends one audit entry for an action of `actor`.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Identity,
    action: &str,
    target_type: &str,
    target_id: Option<i64>,
    details: serde_json::Value,
    ip: Option<String>,
) -> Result<(), StoreError> {
    let api_key_id = match &actor.credential {
        Credential::ApiKey { key_id, .. } => Some(*key_id),
        Credential::User => None,
    };
    audit_log::ActiveModel {
        tenant_id: Set(actor.tenant_id),
        actor_user_id: Set(actor.user_id),
        actor_api_key_id: Set(api_key_id),
        action: Set(action.to_string()),
        target_type: Set(target_type.to_string()),
        target_id: Set(target_id.map(|i| i.to_string())),
        details: Set(details),
        ip: Set(ip),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
