//! WhatsApp numbers. Access token, app secret and verify token are write-only;
//! tokens and secrets are sealed with the master key before they are stored.

use async_graphql::connection::Connection;
use async_graphql::{Context, ID, InputObject, Object};

use super::guard::RoleGuard;
use super::pagination::{self, IdCursor};
use super::types::WhatsAppNumber;
use super::{Change, commit_change, identity, parse_id, state};
use crate::auth::Role;
use crate::bus::{ChangeAction, DirectoryEntity};
use crate::error::{ApiError, ApiResult};
use crate::store::numbers::{NewNumber, NumberChanges};
use crate::{store, validate};

const DEFAULT_THROUGHPUT: i32 = 80;

fn throughput(v: i32) -> ApiResult<i32> {
    if (1..=1000).contains(&v) {
        Ok(v)
    } else {
        Err(ApiError::BadInput(
            "throughputPerSecond must be between 1 and 1000".into(),
        ))
    }
}

#[derive(Default)]
pub struct NumberQuery;

#[Object]
impl NumberQuery {
    /// The tenant's WhatsApp numbers.
    #[graphql(guard = "RoleGuard::read(Role::Manager)")]
    async fn whats_app_numbers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<IdCursor, WhatsAppNumber>> {
        let me = identity(ctx)?;
        let (after, limit) = pagination::args(ctx, first, after)?;
        let page = store::numbers::list(&state(ctx)?.db, me.tenant_id, after, limit).await?;
        Ok(pagination::connection(
            page,
            after,
            |n| n.id,
            WhatsAppNumber::from,
        ))
    }

    /// One WhatsApp number of the tenant.
    #[graphql(guard = "RoleGuard::read(Role::Manager)")]
    async fn whats_app_number(&self, ctx: &Context<'_>, id: ID) -> ApiResult<WhatsAppNumber> {
        let me = identity(ctx)?;
        let id = parse_id(&id, "WhatsApp number")?;
        Ok(store::numbers::get(&state(ctx)?.db, me.tenant_id, id)
            .await?
            .into())
    }
}

/// A number to connect (values from Meta's WhatsApp Manager).
#[derive(InputObject)]
pub struct AddWhatsAppNumberInput {
    pub phone_number_id: String,
    pub waba_id: String,
    pub display_phone_number: String,
    /// System-user access token (write-only; stored encrypted).
    pub access_token: String,
    /// App secret used to verify webhook signatures (write-only; stored encrypted).
    pub app_secret: String,
    /// Token Meta echoes in the webhook verification handshake (write-only).
    pub verify_token: String,
    /// Default 80.
    pub throughput_per_second: Option<i32>,
}

/// Changes to a number; omitted fields keep their value.
#[derive(InputObject)]
pub struct UpdateWhatsAppNumberInput {
    pub display_phone_number: Option<String>,
    pub access_token: Option<String>,
    pub app_secret: Option<String>,
    pub verify_token: Option<String>,
    pub throughput_per_second: Option<i32>,
}

#[derive(Default)]
pub struct NumberMutation;

#[Object]
impl NumberMutation {
    /// Connects a WhatsApp number to the tenant.
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn add_whats_app_number(
        &self,
        ctx: &Context<'_>,
        input: AddWhatsAppNumberInput,
    ) -> ApiResult<WhatsAppNumber> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let bad = ApiError::BadInput;
        let new = NewNumber {
            tenant_id: me.tenant_id,
            phone_number_id: validate::meta_id("phoneNumberId", &input.phone_number_id)
                .map_err(bad)?,
            waba_id: validate::meta_id("wabaId", &input.waba_id).map_err(bad)?,
            display_phone_number: validate::display_phone(&input.display_phone_number)
                .map_err(bad)?,
            access_token_enc: st
                .keyring
                .seal(&validate::token("accessToken", &input.access_token, 4096).map_err(bad)?),
            app_secret_enc: st
                .keyring
                .seal(&validate::token("appSecret", &input.app_secret, 256).map_err(bad)?),
            verify_token: validate::token("verifyToken", &input.verify_token, 256).map_err(bad)?,
            throughput_per_second: throughput(
                input.throughput_per_second.unwrap_or(DEFAULT_THROUGHPUT),
            )?,
        };
        let n = store::numbers::create(&txn, new).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "whatsapp_number.add",
                entity: DirectoryEntity::WhatsAppNumber,
                id: n.id,
                kind: ChangeAction::Created,
                details: serde_json::json!({"phone_number_id": n.phone_number_id}),
            },
        )
        .await?;
        st.numbers.invalidate(&n.phone_number_id);
        Ok(n.into())
    }

    /// Updates a number (e.g. rotates its access token).
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn update_whats_app_number(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWhatsAppNumberInput,
    ) -> ApiResult<WhatsAppNumber> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let id = parse_id(&id, "WhatsApp number")?;
        let bad = ApiError::BadInput;
        let changes = NumberChanges {
            display_phone_number: input
                .display_phone_number
                .map(|v| validate::display_phone(&v))
                .transpose()
                .map_err(bad)?,
            access_token_enc: input
                .access_token
                .map(|v| validate::token("accessToken", &v, 4096).map(|t| st.keyring.seal(&t)))
                .transpose()
                .map_err(bad)?,
            app_secret_enc: input
                .app_secret
                .map(|v| validate::token("appSecret", &v, 256).map(|t| st.keyring.seal(&t)))
                .transpose()
                .map_err(bad)?,
            verify_token: input
                .verify_token
                .map(|v| validate::token("verifyToken", &v, 256))
                .transpose()
                .map_err(bad)?,
            throughput_per_second: input.throughput_per_second.map(throughput).transpose()?,
        };
        let n = store::numbers::update(&txn, me.tenant_id, id, changes).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "whatsapp_number.update",
                entity: DirectoryEntity::WhatsAppNumber,
                id,
                kind: ChangeAction::Updated,
                details: serde_json::json!({}),
            },
        )
        .await?;
        st.numbers.invalidate(&n.phone_number_id);
        st.senders.number_changed(id);
        Ok(n.into())
    }

    /// Disconnects a number; returns its id.
    #[graphql(guard = "RoleGuard::write(Role::Admin)")]
    async fn remove_whats_app_number(&self, ctx: &Context<'_>, id: ID) -> ApiResult<ID> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let num = parse_id(&id, "WhatsApp number")?;
        let removed = store::numbers::delete(&txn, me.tenant_id, num).await?;
        commit_change(
            ctx,
            txn,
            Change {
                action: "whatsapp_number.remove",
                entity: DirectoryEntity::WhatsAppNumber,
                id: num,
                kind: ChangeAction::Deleted,
                details: serde_json::json!({}),
            },
        )
        .await?;
        st.numbers.invalidate(&removed.phone_number_id);
        st.senders.number_changed(num);
        Ok(id)
    }
}
