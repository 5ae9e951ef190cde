//! Conversations and messages: read them, send a reply.

use async_graphql::connection::Connection;
use async_graphql::{Context, Enum, ID, InputObject, Json, Object};
use chrono::{DateTime, Utc};
use entity::{conversations, messages};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::guard::RoleGuard;
use super::pagination::{self, IdCursor};
use super::{identity, parse_id, state};
use crate::auth::{Identity, Role};
use crate::error::{ApiError, ApiResult};
use crate::store::{self, Page};
use crate::whatsapp::client::{OutgoingContent, OutgoingMessage};

/// Who sent a message.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// One WhatsApp message.
pub struct Message(pub messages::Model);

#[Object]
impl Message {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    async fn conversation_id(&self) -> ID {
        ID(self.0.conversation_id.to_string())
    }
    async fn direction(&self) -> Direction {
        if self.0.direction == "inbound" {
            Direction::Inbound
        } else {
            Direction::Outbound
        }
    }
    /// WhatsApp type: text, image, interactive, template, …
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    /// received (inbound), pending, sent, delivered, read, played, failed.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// The text of a text message (or caption), if any.
    async fn text(&self) -> Option<String> {
        let c = self.0.content.as_ref()?;
        c.pointer("/text/body")
            .or_else(|| c.pointer("/content/body"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }
    /// The message as stored (Meta's JSON for inbound, the request for outbound).
    async fn content(&self) -> Option<Json<serde_json::Value>> {
        self.0.content.clone().map(Json)
    }
    /// WhatsApp message id (wamid), once known.
    async fn wa_message_id(&self) -> Option<&str> {
        self.0.wa_message_id.as_deref()
    }
    /// Cloud API error code when failed (e.g. 131047, 131026).
    async fn error_code(&self) -> Option<i32> {
        self.0.error_code
    }
    async fn error_title(&self) -> Option<&str> {
        self.0.error_title.as_deref()
    }
    /// The media of an image/audio/video/document/sticker message.
    async fn media(&self, ctx: &Context<'_>) -> ApiResult<Option<MediaFile>> {
        Ok(entity::media_files::Entity::find()
            .filter(entity::media_files::Column::TenantId.eq(self.0.tenant_id))
            .filter(entity::media_files::Column::MessageId.eq(self.0.id))
            .one(&state(ctx)?.db)
            .await?
            .map(MediaFile))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
}

/// Inbound media downloaded into the media store.
pub struct MediaFile(pub entity::media_files::Model);

#[Object]
impl MediaFile {
    /// pending (downloading), stored, failed.
    async fn status(&self) -> &str {
        &self.0.status
    }
    /// Daemon URL of the file (`GET`, with the same `Authorization` header), once stored.
    async fn url(&self) -> Option<String> {
        (self.0.status == "stored").then(|| format!("/media/{}", self.0.message_id))
    }
    async fn mime_type(&self) -> Option<&str> {
        self.0.mime_type.as_deref()
    }
    async fn size_bytes(&self) -> Option<i64> {
        self.0.size_bytes
    }
    /// SHA-256 (hex) of the stored bytes, checked against Meta's.
    async fn sha256(&self) -> Option<&str> {
        self.0.sha256.as_deref()
    }
    /// Why the download failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// A conversation with one contact on one number.
pub struct Conversation(pub conversations::Model);

#[Object]
impl Conversation {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// bot, queued, assigned, snoozed, resolved.
    async fn status(&self) -> &str {
        &self.0.status
    }
    async fn last_inbound_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_inbound_at
    }
    /// When the 24-hour customer-service window closes (free-form replies allowed until then).
    async fn window_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.window_expires_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The customer.
    async fn contact(&self, ctx: &Context<'_>) -> ApiResult<Contact> {
        ctx.data::<async_graphql::dataloader::DataLoader<super::loaders::ContactLoader>>()
            .map_err(|_| ApiError::internal("contact loader missing from schema data"))?
            .load_one(self.0.contact_id)
            .await?
            .map(Contact)
            .ok_or(ApiError::NotFound("contact"))
    }
    /// The department whose queue it belongs to (null: not routed yet).
    async fn department_id(&self) -> Option<ID> {
        self.0.department_id.map(|v| ID(v.to_string()))
    }
    /// Higher is served first.
    async fn priority(&self) -> i32 {
        self.0.priority
    }
    /// The agent it is assigned to.
    async fn assignee_id(&self) -> Option<ID> {
        self.0.assignee_id.map(|v| ID(v.to_string()))
    }
    /// When the first reply was queued.
    async fn first_response_at(&self) -> Option<DateTime<Utc>> {
        self.0.first_response_at
    }
    /// Since when the customer waits for a reply (null: nobody waits).
    async fn awaiting_reply_since(&self) -> Option<DateTime<Utc>> {
        self.0.awaiting_reply_since
    }
    /// The last reply queued to the customer.
    async fn last_outbound_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_outbound_at
    }
    /// Snoozed until then.
    async fn snoozed_until(&self) -> Option<DateTime<Utc>> {
        self.0.snoozed_until
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    /// Messages, oldest first.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<IdCursor, Message>> {
        let (after, limit) = pagination::args(ctx, first, after)?;
        let mut q = messages::Entity::find()
            .filter(messages::Column::TenantId.eq(self.0.tenant_id))
            .filter(messages::Column::ConversationId.eq(self.0.id));
        if let Some(a) = after {
            q = q.filter(messages::Column::Id.gt(a));
        }
        let rows = q
            .order_by_asc(messages::Column::Id)
            .limit(limit + 1)
            .all(&state(ctx)?.db)
            .await?;
        Ok(pagination::connection(
            Page::from_overfetch(rows, limit),
            after,
            |m| m.id,
            Message,
        ))
    }
}

/// A customer on WhatsApp.
pub struct Contact(pub entity::contacts::Model);

#[Object]
impl Contact {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The customer's WhatsApp id (their phone number, digits only).
    async fn wa_id(&self) -> &str {
        &self.0.wa_id
    }
    /// The name from their WhatsApp profile, as last seen.
    async fn name(&self) -> Option<&str> {
        self.0.profile_name.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Whether `who` may see `conv`: managers and admins every conversation of
/// their tenant; agents those assigned to them and those of their
/// departments; agent-role keys (which have no user) none. The one rule for
/// queries, mutations, subscriptions and media.
pub(crate) fn may_see(who: &Identity, conv: &conversations::Model) -> bool {
    conv.tenant_id == who.tenant_id
        && (who.has_role(Role::Manager)
            || (conv.assignee_id.is_some() && conv.assignee_id == who.user_id)
            || conv
                .department_id
                .is_some_and(|d| who.departments.contains(&d)))
}

/// Loads a conversation the caller may see (see [`may_see`]); any other
/// answers `NOT_FOUND`.
pub(crate) async fn visible_conversation(
    ctx: &Context<'_>,
    me: &Identity,
    id: &ID,
) -> ApiResult<conversations::Model> {
    let id = parse_id(id, "conversation")?;
    let conv = conversations::Entity::find_by_id(id)
        .filter(conversations::Column::TenantId.eq(me.tenant_id))
        .one(&state(ctx)?.db)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    if !may_see(me, &conv) {
        return Err(ApiError::NotFound("conversation"));
    }
    Ok(conv)
}

#[derive(Default)]
pub struct MessageQuery;

#[Object]
impl MessageQuery {
    /// One conversation (agents: those assigned to them or of their departments).
    #[graphql(guard = "RoleGuard::read(Role::Agent)")]
    async fn conversation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Conversation> {
        let me = identity(ctx)?;
        Ok(Conversation(visible_conversation(ctx, me, &id).await?))
    }
}

/// A free-form text reply.
#[derive(InputObject)]
pub struct SendMessageInput {
    pub conversation_id: ID,
    /// 1 to 4096 characters.
    pub text: String,
    /// Quote an earlier message of the conversation.
    pub reply_to_message_id: Option<ID>,
}

#[derive(Default)]
pub struct MessageMutation;

#[Object]
impl MessageMutation {
    /// Queues a text reply. Refused with WINDOW_CLOSED when the contact has not
    /// written in the last 24 hours (a template is needed), and when the contact
    /// opted out. The message is `pending` until the Cloud API accepts it; its
    /// status then follows the delivery webhooks.
    #[graphql(guard = "RoleGuard::write(Role::Agent)")]
    async fn send_message(&self, ctx: &Context<'_>, input: SendMessageInput) -> ApiResult<Message> {
        let me = identity(ctx)?;
        let st = state(ctx)?;
        let conv = visible_conversation(ctx, me, &input.conversation_id).await?;
        if !crate::whatsapp::window::is_open(conv.window_expires_at, Utc::now()) {
            return Err(ApiError::WindowClosed);
        }
        let contact = entity::contacts::Entity::find_by_id(conv.contact_id)
            .filter(entity::contacts::Column::TenantId.eq(me.tenant_id))
            .one(&st.db)
            .await?
            .ok_or(ApiError::NotFound("contact"))?;
        if contact.consent == "opted_out" {
            return Err(ApiError::BadInput(
                "the contact opted out of messages".into(),
            ));
        }
        let reply_to = match &input.reply_to_message_id {
            Some(id) => {
                let m =
                    store::messages::get(&st.db, me.tenant_id, parse_id(id, "message")?).await?;
                if m.conversation_id != conv.id {
                    return Err(ApiError::NotFound("message"));
                }
                Some(m.wa_message_id.ok_or_else(|| {
                    ApiError::BadInput("that message has no WhatsApp id yet".into())
                })?)
            }
            None => None,
        };
        let outgoing = OutgoingMessage {
            to: contact.wa_id.clone(),
            reply_to,
            content: OutgoingContent::Text {
                body: input.text.clone(),
                preview_url: false,
            },
            biz_opaque_callback_data: None,
        };
        outgoing.validate().map_err(ApiError::BadInput)?;
        let payload = serde_json::to_value(&outgoing).map_err(ApiError::internal)?;
        let txn = crate::store::begin_write(&st.db).await?;
        let msg = store::messages::create_outbound(
            &txn,
            me.tenant_id,
            conv.id,
            contact.id,
            outgoing.kind(),
            outgoing.to_json(),
            me.user_id,
        )
        .await?;
        store::outbox::enqueue(&txn, me.tenant_id, conv.whatsapp_number_id, msg.id, payload)
            .await?;
        store::conversations::replied(&txn, conv.id, msg.created_at).await?;
        txn.commit().await?;
        st.senders.wake(conv.whatsapp_number_id);
        // the reply ends the customer's wait: the actor re-plans its timers
        st.actors.touch(&crate::actors::ConvKey {
            tenant_id: me.tenant_id,
            number_id: conv.whatsapp_number_id,
            wa_id: contact.wa_id.clone(),
        });
        st.emit(
            me.tenant_id,
            crate::bus::EventKind::MessageAdded {
                message_id: msg.id,
                conversation_id: conv.id,
            },
        )
        .await;
        Ok(Message(msg))
    }
}
