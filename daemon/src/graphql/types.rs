//! GraphQL object types over the stored rows.

use async_graphql::{ComplexObject, Context, ID, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{api_keys, departments, tenants, users, whatsapp_numbers};

use super::guard::RoleGuard;
use super::pagination::{self, IdCursor};
use super::{identity, state};
use crate::auth::{Role, Scope};
use crate::error::{ApiError, ApiResult};
use crate::store;

/// A business using Switchboard.
pub struct Tenant(pub tenants::Model);

#[Object]
impl Tenant {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Display name, unique in the installation.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// IANA time zone used for business hours and reports.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    /// Free-form tenant settings (JSON object).
    async fn settings(&self) -> Json<serde_json::Value> {
        Json(self.0.settings.clone())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A person who signs in: admin, manager or agent.
pub struct User(pub users::Model);

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Login email, unique in the installation.
    async fn email(&self) -> &str {
        &self.0.email
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> ApiResult<Role> {
        self.0.role.parse().map_err(ApiError::internal)
    }
    /// Disabled users cannot sign in; their tokens stop working at once.
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    /// True until the invitation is accepted and a password set.
    async fn invitation_pending(&self) -> bool {
        self.0.password_hash.is_none()
    }
    async fn last_login_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_login_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn tenant(&self, ctx: &Context<'_>) -> ApiResult<Tenant> {
        Ok(Tenant(
            store::tenants::get(&state(ctx)?.db, self.0.tenant_id).await?,
        ))
    }
    /// Departments the user belongs to.
    async fn departments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<async_graphql::connection::Connection<IdCursor, Department>> {
        let (after, limit) = pagination::args(ctx, first, after)?;
        let page = store::departments::list(
            &state(ctx)?.db,
            self.0.tenant_id,
            Some(self.0.id),
            after,
            limit,
        )
        .await?;
        Ok(pagination::connection(page, after, |d| d.id, Department))
    }
}

/// A team conversations are routed to.
pub struct Department(pub departments::Model);

#[Object]
impl Department {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn description(&self) -> &str {
        &self.0.description
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Members of the department (managers and admins; agents see the members
    /// of their own departments).
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<async_graphql::connection::Connection<IdCursor, User>> {
        let me = identity(ctx)?;
        let db = &state(ctx)?.db;
        if !me.has_role(Role::Manager) {
            let member = match me.user_id {
                Some(uid) => store::departments::is_member(db, self.0.id, uid).await?,
                None => false,
            };
            if !member {
                return Err(ApiError::Forbidden(
                    "agents see members of their own departments only".into(),
                ));
            }
        }
        let (after, limit) = pagination::args(ctx, first, after)?;
        let page =
            store::departments::members(db, self.0.tenant_id, self.0.id, after, limit).await?;
        Ok(pagination::connection(page, after, |u| u.id, User))
    }
}

/// A WhatsApp Business phone number connected to the tenant. Its access token,
/// app secret and verify token are write-only.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct WhatsAppNumber {
    #[graphql(skip)]
    pub row: whatsapp_numbers::Model,
    /// Meta's phone number id (the webhook's `metadata.phone_number_id`).
    pub phone_number_id: String,
    /// WhatsApp Business Account id.
    pub waba_id: String,
    /// The number as customers see it.
    pub display_phone_number: String,
    /// Messages per second this number may send (Cloud API throughput).
    pub throughput_per_second: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<whatsapp_numbers::Model> for WhatsAppNumber {
    fn from(row: whatsapp_numbers::Model) -> Self {
        Self {
            phone_number_id: row.phone_number_id.clone(),
            waba_id: row.waba_id.clone(),
            display_phone_number: row.display_phone_number.clone(),
            throughput_per_second: row.throughput_per_second,
            created_at: row.created_at,
            updated_at: row.updated_at,
            row,
        }
    }
}

#[ComplexObject]
impl WhatsAppNumber {
    async fn id(&self) -> ID {
        ID(self.row.id.to_string())
    }
}

/// An integrator's key. The secret is shown once, at creation.
pub struct ApiKey(pub api_keys::Model);

#[Object]
impl ApiKey {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The first characters of the key, to recognise it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn role(&self) -> ApiResult<Role> {
        self.0.role.parse().map_err(ApiError::internal)
    }
    async fn scopes(&self) -> Vec<Scope> {
        store::api_keys::scopes_of(&self.0)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}
