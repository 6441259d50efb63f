//! Outgoing webhooks: an organisation subscribes URLs to events (today `punch.created`); each
//! event becomes one durable delivery job per subscription, signed with the subscription's
//! secret by the worker.

use crate::paging::Listed;
use crate::{audit, Ctx, Service, ServiceError, ServiceResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::Utc;
use dakoku_domain::{OrgId, ValidationErrors, WebhookId};
use dakoku_store::jobs::{self, NewJob};
use dakoku_store::webhooks::{self, Webhook};
use dakoku_store::{Conn, StoreError};
use rand::RngCore;
use serde::Serialize;

pub const EVENTS: &[&str] = &["punch.created"];

/// What may be shown of a subscription: never its secret.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: chrono::DateTime<Utc>,
    pub disabled_at: Option<chrono::DateTime<Utc>>,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            created_at: w.created_at,
            disabled_at: w.disabled_at,
        }
    }
}

/// The payload of a delivery job.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct Delivery {
    pub webhook_id: WebhookId,
    pub event_id: String,
    pub event: String,
    pub body: serde_json::Value,
}

pub(crate) fn sealing_context(id: &WebhookId) -> String {
    format!("webhook:{id}")
}

/// Enqueues one delivery per live subscription to `event`, in the caller's transaction.
pub(crate) async fn enqueue_event<T: Serialize>(
    conn: &mut Conn,
    org: &OrgId,
    event: &str,
    object_id: &str,
    data: &T,
) -> ServiceResult<()> {
    for hook in webhooks::subscribed(conn, org, event).await? {
        let event_id = format!("{event}:{object_id}");
        let delivery = Delivery {
            webhook_id: hook.id.clone(),
            event_id: event_id.clone(),
            event: event.to_owned(),
            body: serde_json::json!({ "id": event_id, "type": event, "data": data }),
        };
        let mut job = NewJob::now(
            dakoku_domain::JobKind::WebhookDelivery,
            Some(org.clone()),
            serde_json::to_value(&delivery).unwrap_or_default(),
        );
        job.dedupe_key = Some(format!("{}:{}", hook.id, delivery.event_id));
        jobs::enqueue(conn, &job).await?;
    }
    Ok(())
}

impl Service {
    /// Subscribes a URL; returns the subscription and its signing secret (shown this once).
    pub async fn create_webhook(
        &self,
        ctx: &Ctx,
        url: &str,
        events: &[String],
    ) -> ServiceResult<(WebhookView, String)> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins manage webhooks".into()));
        }
        let mut errors = ValidationErrors::default();
        let url = url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
            errors.add("url", "must be an http:// or https:// URL");
        } else if !self.policy.allow_private_webhooks && dakoku_domain::net::url_names_internal_host(url) {
            errors.add(
                "url",
                "names an internal address (loopback, private or link-local), which this server does not send to",
            );
        }
        if events.is_empty() {
            errors.add("events", format!("name at least one of {}", EVENTS.join(", ")));
        }
        for event in events {
            if !EVENTS.contains(&event.as_str()) {
                errors.add("events", format!("unknown event '{event}'; known: {}", EVENTS.join(", ")));
            }
        }
        errors.into_result()?;
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let secret = format!("whsec_{}", B64.encode(raw));
        let id = WebhookId::new();
        let hook = Webhook {
            secret_sealed: self.cipher.encrypt(secret.as_bytes(), &sealing_context(&id)),
            id,
            org_id: ctx.org().clone(),
            url: url.to_owned(),
            events: events.to_vec(),
            created_at: self.clock.now(),
            disabled_at: None,
        };
        let view = WebhookView::from(&hook);
        let mut tx = self.db.begin().await?;
        webhooks::insert(&mut tx, &hook).await?;
        audit::record(&mut tx, ctx, "webhook.create", "webhook", hook.id.as_str(), audit::NOTHING, Some(&view)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok((view, secret))
    }

    pub async fn list_webhooks(&self, ctx: &Ctx) -> ServiceResult<Listed<WebhookView>> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins manage webhooks".into()));
        }
        let mut conn = self.db.conn().await?;
        let items = webhooks::list(&mut conn, ctx.org()).await?.iter().map(WebhookView::from).collect();
        Ok(Listed { items, next_cursor: None })
    }

    pub async fn disable_webhook(&self, ctx: &Ctx, id: &WebhookId) -> ServiceResult<()> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins manage webhooks".into()));
        }
        let mut tx = self.db.begin().await?;
        let before = match webhooks::get(&mut tx, ctx.org(), id).await {
            Ok(w) => WebhookView::from(&w),
            Err(StoreError::NotFound) => return Err(ServiceError::NotFound(format!("no webhook with id {id}"))),
            Err(e) => return Err(e.into()),
        };
        webhooks::disable(&mut tx, ctx.org(), id).await.map_err(|e| match e {
            StoreError::NotFound => ServiceError::Conflict("webhook is already disabled".into()),
            other => other.into(),
        })?;
        audit::record(&mut tx, ctx, "webhook.disable", "webhook", id.as_str(), Some(&before), audit::NOTHING).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// The URL and signing secret of a subscription, for the delivery worker only.
    pub async fn webhook_for_delivery(&self, org: &OrgId, id: &WebhookId) -> ServiceResult<Option<(String, Vec<u8>)>> {
        let mut conn = self.db.conn().await?;
        let hook = match webhooks::get(&mut conn, org, id).await {
            Ok(h) => h,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if hook.disabled_at.is_some() {
            return Ok(None);
        }
        let secret = self.cipher.decrypt(&hook.secret_sealed, &sealing_context(&hook.id))?;
        Ok(Some((hook.url, secret)))
    }
}
