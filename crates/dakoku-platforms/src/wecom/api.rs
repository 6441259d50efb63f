//! Calls to the WeCom server API for a self-built app: `gettoken` (cached and shared, fetched
//! again on 40014 / 42001 / 40001), `message/send` for replies. WeCom answers HTTP 200 with an
//! `errcode`; decisions are made on the code alone.

use crate::client::Payload;
use crate::error::ApiError;
use crate::msgcrypt::{CryptoError, MsgCrypt};
use crate::pace::Pacer;
use crate::render::truncate_bytes;
use crate::settings;
use crate::tokens::TokenCache;
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
    http: reqwest::Client,
    pacer: Pacer,
    tokens: TokenCache,
}

impl Default for WeCom {
    fn default() -> Self {
        Self::new()
    }
}

impl WeCom {
    pub fn new() -> Self {
        Self { http: crate::client::http(), pacer: Pacer::default(), tokens: TokenCache::default() }
    }

    /// Asks `gettoken` for a new token.
    pub async fn request_token(&self, creds: &Credentials) -> Result<(String, chrono::DateTime<Utc>), ApiError> {
        let response = self
            .http
            .get(format!("{}/gettoken", creds.api_base_url))
            .query(&[("corpid", creds.corp_id.as_str()), ("corpsecret", creds.secret.as_str())])
            .send()
            .await
            .map_err(|e| ApiError::Unavailable(format!("cannot reach WeCom: {e}")))?;
        let body = read(response).await?;
        let code = body.get("errcode").and_then(Value::as_i64).unwrap_or(0);
        if code != 0 {
            let message = body.get("errmsg").and_then(Value::as_str).unwrap_or_default();
            return Err(match classify(code, message) {
                ApiError::Unauthorized(_) => {
                    ApiError::Auth { status: 200, error: code.to_string(), description: message.to_owned() }
                }
                other => other,
            });
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

    /// One API call with the shared token, paced, fetched again once when WeCom says the token
    /// is invalid or expired. Returns the JSON answer of a call that succeeded (`errcode` 0).
    async fn request(
        &self,
        service: &Service,
        integration: &IntegrationId,
        creds: &Credentials,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<Value, ApiError> {
        let unavailable = |e: dakoku_service::ServiceError| ApiError::Unavailable(format!("token store: {e}"));
        let mut refreshed = false;
        loop {
            let token = self.tokens.get(service, integration, unavailable, || self.request_token(creds)).await?;
            self.pacer.wait(&format!("{integration} {path}"), creds.calls_per_minute).await;
            let started = std::time::Instant::now();
            let url = format!("{}{path}", creds.api_base_url);
            let with_token = [("access_token", token.token.as_str())];
            let sent = match payload {
                Payload::Json(body) => self.http.post(url).query(&with_token).json(body),
                Payload::Query(query) => self.http.get(url).query(&with_token).query(query),
            }
            .send()
            .await;
            let answer = match sent {
                Ok(response) => read(response).await,
                Err(e) => Err(ApiError::Unavailable(format!("cannot reach WeCom: {e}"))),
            };
            let code = answer.as_ref().ok().and_then(|a| a.get("errcode")).and_then(Value::as_i64).unwrap_or(0);
            let outcome = match (&answer, code) {
                (Ok(_), 0) => Ok(()),
                (Ok(a), code) => {
                    Err(format!("errcode {code}: {}", a.get("errmsg").and_then(Value::as_str).unwrap_or_default()))
                }
                (Err(e), _) => Err(e.to_string()),
            };
            service.log_platform_call(integration, path, outcome, started.elapsed()).await;
            let answer = answer?;
            if code == 0 {
                return Ok(answer);
            }
            let message = answer.get("errmsg").and_then(Value::as_str).unwrap_or_default().to_owned();
            match classify(code, &message) {
                ApiError::Unauthorized(_) if !refreshed => {
                    tracing::info!(%integration, code, "WeCom refused the token; fetching a new one");
                    let _ = service.forget_platform_token(integration, &token).await;
                    refreshed = true;
                }
                other => return Err(other),
            }
        }
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
        self.pacer.wait(&member, creds.member_messages_per_minute).await;
        let body = message_body(&creds, &message.user_id, &message.reply);
        self.call(service, &integration.stored.id, &creds, "/message/send", &body).await.map(|_| ())
    }
}

async fn read(response: reqwest::Response) -> Result<Value, ApiError> {
    let status = response.status();
    if !status.is_success() {
        return Err(ApiError::Unavailable(format!("WeCom answered HTTP {status}")));
    }
    response.json().await.map_err(|e| ApiError::Unavailable(format!("WeCom answered something that is not JSON: {e}")))
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
