//! Replies and notices on DingTalk. A reply to a robot message goes back through that
//! conversation's `sessionWebhook` while it lives (about 90 minutes; kept sealed, and only a
//! URL on the integration's own DingTalk host is ever used). Otherwise the message goes to the
//! person as a work notification (`asyncsend_v2`, the app's AgentId), which DingTalk accepts
//! even when it will not deliver (the same text twice a day, over 500 a day), so the text is
//! what the user needs, not a repeated status.

use super::api::{Credentials, DingTalk, Payload};
use crate::error::ApiError;
use crate::render::{plain_text, truncate_bytes};
use chrono::Utc;
use dakoku_service::chat::{OutgoingMessage, Room};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::Service;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A session is not used in its last minute: the reply might arrive after it closed.
const SESSION_MARGIN_MS: i64 = 60_000;

#[derive(Serialize, Deserialize)]
struct Session {
    url: String,
    expires_ms: i64,
}

fn session_key(room: &Room, user: &str) -> String {
    match room {
        Room::Direct => format!("session:direct:{user}"),
        Room::Group(conversation) => format!("session:group:{conversation}"),
    }
}

fn sealing_context(integration: &OpenIntegration, key: &str) -> String {
    format!("integration:{}:{key}", integration.stored.id)
}

/// Keeps a conversation's reply URL, if it is one of DingTalk's.
pub(crate) async fn keep_session(
    service: &Service,
    integration: &OpenIntegration,
    creds: &Credentials,
    room: &Room,
    user: &str,
    url: &str,
    expires_ms: i64,
) {
    let own_host = format!("{}/robot/sendBySession", creds.oapi_base_url);
    if !url.starts_with(&own_host) {
        tracing::warn!(integration = %integration.stored.id, "DingTalk sessionWebhook on another host ignored");
        return;
    }
    let key = session_key(room, user);
    let text = serde_json::to_string(&Session { url: url.to_owned(), expires_ms }).unwrap_or_default();
    let sealed = service.cipher.encrypt(text.as_bytes(), &sealing_context(integration, &key));
    if let Err(e) = service.set_integration_state(&integration.stored.id, &key, Some(&sealed)).await {
        tracing::warn!(integration = %integration.stored.id, error = %e, "could not keep the DingTalk session");
    }
}

async fn live_session(service: &Service, integration: &OpenIntegration, room: &Room, user: &str) -> Option<String> {
    let key = session_key(room, user);
    let sealed = service.integration_state(&integration.stored.id, &key).await.ok()??;
    let plain = service.cipher.decrypt(&sealed, &sealing_context(integration, &key)).ok()?;
    let session: Session = serde_json::from_slice(&plain).ok()?;
    (session.expires_ms - SESSION_MARGIN_MS > Utc::now().timestamp_millis()).then_some(session.url)
}

impl DingTalk {
    pub async fn send(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        message: &OutgoingMessage,
    ) -> Result<(), ApiError> {
        let creds = Credentials::of(integration)?;
        let content = truncate_bytes(&plain_text(&message.reply), 2048);
        if let Some(url) = live_session(service, integration, &message.room, &message.user_id).await {
            let body = json!({"msgtype": "text", "text": {"content": content}, "at": {"atUserIds": [message.user_id]}});
            return self.post_to_session(service, integration, &url, &body).await;
        }
        let Some(agent_id) = &creds.agent_id else {
            return Err(ApiError::Setup("set agent_id (the app's AgentId) to send work notifications".into()));
        };
        let body = json!({
            "agent_id": agent_id.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(agent_id.clone())),
            "userid_list": message.user_id,
            "msg": {"msgtype": "text", "text": {"content": content}},
        });
        let path = "/topapi/message/corpconversation/asyncsend_v2";
        self.call(service, &integration.stored.id, &creds, path, Payload::Json(&body)).await.map(|_| ())
    }

    /// A session webhook needs no token; its answer has the usual errcode.
    async fn post_to_session(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        url: &str,
        body: &Value,
    ) -> Result<(), ApiError> {
        let started = std::time::Instant::now();
        let sent = self.api.http.post(url).json(body).send().await;
        let result = match sent {
            Ok(response) if response.status().is_success() => {
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                match answer.get("errcode").and_then(Value::as_i64).unwrap_or(0) {
                    0 => Ok(()),
                    code => Err(ApiError::Refused {
                        status: 200,
                        code: code.to_string(),
                        description: answer.get("errmsg").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    }),
                }
            }
            Ok(response) => Err(ApiError::Unavailable(format!("DingTalk answered HTTP {}", response.status()))),
            Err(e) => Err(crate::client::unreachable("DingTalk", e)),
        };
        let outcome = result.as_ref().map(|_| ()).map_err(|e| e.to_string());
        service.log_platform_call(&integration.stored.id, "/robot/sendBySession", outcome, started.elapsed()).await;
        result
    }
}

impl crate::sender::Deliver for DingTalk {
    fn deliver<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        message: &'a OutgoingMessage,
    ) -> dakoku_worker::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(self.send(service, integration, message))
    }
}
