//! Calls to the WeCom server API for a self-built app: `gettoken` (cached and shared, fetched
//! again on 40014 / 42001 / 40001), `message/send` for replies. WeCom answers HTTP 200 with an
//! `errcode`; decisions are made on the code alone.

use crate::client::{read_json, Call, Payload, TokenApi};
use crate::error::ApiError;
use crate::msgcrypt::{CryptoError, MsgCrypt};
use crate::render::truncate_bytes;
use crate::settings;
use chrono::Utc;
use dakoku_domain::IntegrationId;
use dakoku_service::chat::{ChatReply, OutgoingMessage};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::Service;
use serde_json::{json, Value};
use std::time::Duration;

pub const DEFAULT_API_BASE_URL: &str = "https://qyapi.weixin.qq.com/cgi-bin";
/// Calls per API per corp may go far higher; this leaves room for other instances and apps.
const DEFAULT_CALLS_PER_MINUTE: u32 = 600;
/// WeCom delivers at most 30 app messages a minute to one member and drops the rest silently.
const DEFAULT_MEMBER_MESSAGES_PER_MINUTE: u32 = 30;

/// An integration's WeCom settings, secrets included. Never logged.
#[derive(Clone)]
pub struct Credentials {
    pub corp_id: String,
    pub agent_id: String,
    pub secret: String,
    /// Callback Token and EncodingAESKey; absent until the admin sets up receiving messages.
    pub callback: Option<(String, String)>,
    pub api_base_url: String,
    pub calls_per_minute: u32,
    /// Messages to one member (notices and replies together).
    pub member_messages_per_minute: u32,
}

impl Credentials {
    pub fn of(integration: &OpenIntegration) -> Result<Self, ApiError> {
        let (public, secret) = (&integration.stored.settings, &integration.secrets);
        Ok(Self {
            corp_id: settings::required(public, "corp_id")?,
            agent_id: settings::required(public, "agent_id")?,
            secret: settings::required(secret, "secret")?,
            callback: settings::text(secret, "token").zip(settings::text(secret, "encoding_aes_key")),
            api_base_url: settings::base_url(public, "api_base_url", DEFAULT_API_BASE_URL),
            calls_per_minute: settings::calls_per_minute(public, DEFAULT_CALLS_PER_MINUTE),
            member_messages_per_minute: public
                .get("member_messages_per_minute")
                .and_then(serde_json::Value::as_u64)
                .map(|n| n.clamp(1, 6000) as u32)
                .unwrap_or(DEFAULT_MEMBER_MESSAGES_PER_MINUTE),
        })
    }

    /// The callback crypto, if receiving messages is set up.
    pub fn crypt(&self) -> Result<MsgCrypt, CryptoError> {
        let (token, key) = self.callback.as_ref().ok_or(CryptoError::BadKey)?;
        MsgCrypt::new(token, key, &self.corp_id)
    }
}

/// What a WeCom error code means for the caller.
fn classify(code: i64, message: &str) -> ApiError {
    let refused = |what: &str| ApiError::Refused { status: 200, code: code.to_string(), description: what.to_owned() };
    match code {
        40014 | 42001 | 40001 | 41001 => ApiError::Unauthorized(format!("{code}: {message}")),
        45009 | 45033 => ApiError::RateLimited { after: Duration::from_secs(60) },
        -1 => ApiError::Unavailable(format!("-1 system busy: {message}")),
        60020 => refused("WeCom refuses calls from this server's IP address: add it to the app's 企业可信IP list"),
        48002 => refused("the app lacks permission for this API (48002)"),
        81013 => refused("every recipient is invalid or outside the app's visible range (81013)"),
        _ => ApiError::Refused { status: 200, code: code.to_string(), description: message.to_owned() },
    }
}

pub struct WeCom {
    pub(crate) api: TokenApi,
}

impl Default for WeCom {
    fn default() -> Self {
        Self::new()
    }
}

/// A WeCom answer: HTTP 200 with `errcode` 0, or what the code means.
fn verdict(status: u16, body: &Value) -> Option<ApiError> {
    if !(200..300).contains(&status) {
        return Some(ApiError::Unavailable(format!("WeCom answered HTTP {status}")));
    }
    let code = body.get("errcode").and_then(Value::as_i64).unwrap_or(0);
    let message = body.get("errmsg").and_then(Value::as_str).unwrap_or_default();
    (code != 0).then(|| classify(code, message))
}

impl WeCom {
    pub fn new() -> Self {
        Self { api: TokenApi::default() }
    }

    /// Asks `gettoken` for a new token.
    pub async fn request_token(&self, creds: &Credentials) -> Result<(String, chrono::DateTime<Utc>), ApiError> {
        let response = self
            .api
            .http
            .get(format!("{}/gettoken", creds.api_base_url))
            .query(&[("corpid", creds.corp_id.as_str()), ("corpsecret", creds.secret.as_str())])
            .send()
            .await
            .map_err(|e| crate::client::unreachable("WeCom", e))?;
        let (status, body) = read_json(response, "WeCom").await?;
        match verdict(status, &body) {
            None => {}
            Some(ApiError::Unauthorized(description)) => {
                let code = body.get("errcode").and_then(Value::as_i64).unwrap_or_default().to_string();
                let description = body.get("errmsg").and_then(Value::as_str).map(str::to_owned).unwrap_or(description);
                return Err(ApiError::Auth { status, error: code, description });
            }
            Some(other) => return Err(other),
        }
        crate::client::granted_token(&body)
    }

    /// A POST call with a JSON body (see [`Self::request`]).
    pub async fn call(
        &self,
        service: &Service,
        integration: &IntegrationId,
        creds: &Credentials,
        path: &str,
        body: &Value,
    ) -> Result<Value, ApiError> {
        self.request(service, integration, creds, path, Payload::Json(body)).await
    }

    /// A GET call with query parameters (see [`Self::request`]).
    pub async fn get(
        &self,
        service: &Service,
        integration: &IntegrationId,
        creds: &Credentials,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, ApiError> {
        self.request(service, integration, creds, path, Payload::Query(query)).await
    }

    /// One API call with the shared token (see [`TokenApi::call`]): a WeCom throttle waits for
    /// the job queue, which tries again a minute later.
    async fn request(
        &self,
        service: &Service,
        integration: &IntegrationId,
        creds: &Credentials,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<Value, ApiError> {
        let call = Call {
            platform: "WeCom",
            base_url: &creds.api_base_url,
            path,
            payload,
            per_minute: creds.calls_per_minute,
            verdict,
            throttle_retries: 0,
        };
        self.api.call(service, integration, call, || self.request_token(creds)).await
    }

    /// Sends a reply as an app text message to the member.
    pub async fn send(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        message: &OutgoingMessage,
    ) -> Result<(), ApiError> {
        let creds = Credentials::of(integration)?;
        // Over the per-member limit WeCom answers ok and delivers nothing: never go over it.
        let member = format!("{} member {}", integration.stored.id, message.user_id.to_lowercase());
        self.api.pacer.wait(&member, creds.member_messages_per_minute).await;
        let body = message_body(&creds, &message.user_id, &message.reply);
        self.call(service, &integration.stored.id, &creds, "/message/send", &body).await.map(|_| ())
    }
}

/// A reply as a WeCom text message (at most 2,048 bytes). WeCom text has no buttons, so the
/// suggested next punches are named on a last line. Identical messages within 30 minutes are
/// dropped by WeCom's duplicate check, so a reply sent again after a crash reaches the member
/// once.
pub fn message_body(creds: &Credentials, user_id: &str, reply: &ChatReply) -> Value {
    let text = crate::render::plain_text(reply);
    json!({
        "touser": user_id,
        "msgtype": "text",
        "agentid": creds.agent_id.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(creds.agent_id.clone())),
        "text": {"content": truncate_bytes(&text, 2048)},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 1800,
    })
}

impl crate::sender::Deliver for WeCom {
    fn deliver<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        message: &'a OutgoingMessage,
    ) -> dakoku_worker::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(self.send(service, integration, message))
    }
}
