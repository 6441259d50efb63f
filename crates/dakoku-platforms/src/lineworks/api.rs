//! Calls to LINE WORKS API 2.0: the service-account token (JWT bearer grant), message sending,
//! user lookup, bot and rich-menu management. Tokens are kept sealed in the database, so
//! every worker and instance shares one; a 401 drops it and the call is made once more with
//! a fresh one.

pub use crate::error::ApiError;
use crate::pace::Pacer;
use crate::render::truncate_chars;
use crate::settings;
use crate::tokens::TokenCache;
use chrono::{Duration as ChronoDuration, Utc};
use dakoku_domain::IntegrationId;
use dakoku_service::chat::{ChatReply, OutgoingMessage, Room};
use dakoku_service::integrations::{OpenIntegration, PlatformToken};
use dakoku_service::Service;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};
use std::time::Duration;

pub const DEFAULT_AUTH_BASE_URL: &str = "https://auth.worksmobile.com/oauth2/v2.0";
pub const DEFAULT_API_BASE_URL: &str = "https://www.worksapis.com/v1.0";
/// Half of the Standard plan's 240 calls a minute per API, as advised for sustained use.
const DEFAULT_CALLS_PER_MINUTE: u32 = 120;

/// An integration's LINE WORKS settings, secrets included. Never logged.
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub service_account: String,
    pub private_key: String,
    pub bot_id: String,
    pub bot_secret: String,
    pub domain_id: Option<String>,
    pub scopes: String,
    pub auth_base_url: String,
    pub api_base_url: String,
    pub calls_per_minute: u32,
}

impl Credentials {
    pub fn of(integration: &OpenIntegration) -> Result<Self, ApiError> {
        let (public, secret) = (&integration.stored.settings, &integration.secrets);
        Ok(Self {
            client_id: settings::required(public, "client_id")?,
            client_secret: settings::required(secret, "client_secret")?,
            service_account: settings::required(public, "service_account")?,
            private_key: settings::required(secret, "private_key")?,
            bot_id: settings::required(public, "bot_id")?,
            bot_secret: settings::required(secret, "bot_secret")?,
            domain_id: settings::text(public, "domain_id"),
            scopes: settings::text(public, "scopes").unwrap_or_else(|| "bot user.read".to_owned()),
            auth_base_url: settings::base_url(public, "auth_base_url", DEFAULT_AUTH_BASE_URL),
            api_base_url: settings::base_url(public, "api_base_url", DEFAULT_API_BASE_URL),
            calls_per_minute: settings::calls_per_minute(public, DEFAULT_CALLS_PER_MINUTE),
        })
    }
}

/// The LINE WORKS client shared by the hooks, the sender and the admin calls.
pub struct LineWorks {
    http: reqwest::Client,
    pacer: Pacer,
    tokens: TokenCache,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    iat: i64,
    exp: i64,
}

/// A JSON number or a numeric string (both forms of `expires_in` are seen).
fn seconds(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Default for LineWorks {
    fn default() -> Self {
        Self::new()
    }
}

impl LineWorks {
    pub fn new() -> Self {
        let http = crate::client::http();
        Self { http, pacer: Pacer::default(), tokens: TokenCache::default() }
    }

    /// The signed service-account assertion (RS256, one hour, the longest allowed).
    pub fn assertion(creds: &Credentials) -> Result<String, ApiError> {
        let key = EncodingKey::from_rsa_pem(creds.private_key.as_bytes()).map_err(|_| {
            ApiError::Setup(
                "the Private Key is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY-----)".to_owned(),
            )
        })?;
        let now = Utc::now().timestamp();
        let claims = Claims { iss: &creds.client_id, sub: &creds.service_account, iat: now, exp: now + 3600 };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key)
            .map_err(|e| ApiError::Setup(format!("cannot sign the service-account assertion: {e}")))
    }

    /// A token good for at least two more minutes: the shared one, or a new one.
    pub async fn token(
        &self,
        service: &Service,
        integration: &IntegrationId,
        creds: &Credentials,
    ) -> Result<PlatformToken, ApiError> {
        let unavailable = |e: dakoku_service::ServiceError| ApiError::Unavailable(format!("token store: {e}"));
        self.tokens.get(service, integration, unavailable, || self.request_token(creds)).await
    }

    /// Asks the auth server for a new token (the JWT bearer grant), bypassing the shared one.
    pub async fn request_token(&self, creds: &Credentials) -> Result<(String, chrono::DateTime<Utc>), ApiError> {
        let assertion = Self::assertion(creds)?;
        let form = [
            ("assertion", assertion.as_str()),
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("client_id", creds.client_id.as_str()),
            ("client_secret", creds.client_secret.as_str()),
            ("scope", creds.scopes.as_str()),
        ];
        let response = self
            .http
            .post(format!("{}/token", creds.auth_base_url))
            .form(&form)
            .send()
            .await
            .map_err(|e| crate::client::unreachable("the LINE WORKS auth server", e))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            if status.is_server_error() {
                return Err(ApiError::Unavailable(format!("auth server answered {status}")));
            }
            let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
            return Err(ApiError::Auth {
                status: status.as_u16(),
                error: Some(field("error")).filter(|e| !e.is_empty()).unwrap_or_else(|| field("code")),
                description: Some(field("error_description"))
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| field("description")),
            });
        }
        let access = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty());
        let Some(access) = access else {
            return Err(ApiError::Unavailable("the token answer has no access_token".into()));
        };
        let lifetime = seconds(body.get("expires_in")).unwrap_or(3600).max(crate::tokens::MARGIN_SECONDS + 1);
        Ok((access.to_owned(), Utc::now() + ChronoDuration::seconds(lifetime)))
    }

    /// One API call: paced, with the shared token, retried once with a fresh token on 401.
    /// Returns the status and the JSON body (`Null` when there is none).
    pub async fn call(
        &self,
        service: &Service,
        integration: &IntegrationId,
        creds: &Credentials,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, Value), ApiError> {
        let operation = format!("{integration} {method} {}", operation_of(path));
        let mut refreshed = false;
        loop {
            let token = self.token(service, integration, creds).await?;
            self.pacer.wait(&operation, creds.calls_per_minute).await;
            let mut request =
                self.http.request(method.clone(), format!("{}{path}", creds.api_base_url)).bearer_auth(&token.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            let started = std::time::Instant::now();
            let sent = request.send().await;
            let outcome = match &sent {
                Ok(r) if r.status().is_success() || r.status() == StatusCode::FOUND => Ok(()),
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(format!("no answer: {e}")),
            };
            service
                .log_platform_call(integration, &format!("{method} {}", operation_of(path)), outcome, started.elapsed())
                .await;
            let response = sent.map_err(|e| crate::client::unreachable("LINE WORKS", e))?;
            let status = response.status();
            let reset = response
                .headers()
                .get("ratelimit-reset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let text = response.text().await.unwrap_or_default();
            let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let field = |name: &str| json.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
            match status {
                s if s.is_success() || s == StatusCode::FOUND => return Ok((s, json)),
                StatusCode::UNAUTHORIZED if !refreshed => {
                    tracing::info!(%integration, "LINE WORKS refused the token; fetching a new one");
                    let _ = service.forget_platform_token(integration, &token).await;
                    refreshed = true;
                }
                StatusCode::UNAUTHORIZED => return Err(ApiError::Unauthorized(field("description"))),
                StatusCode::TOO_MANY_REQUESTS => {
                    return Err(ApiError::RateLimited { after: Duration::from_secs(reset.unwrap_or(60).max(1)) })
                }
                s if s.is_server_error() => {
                    return Err(ApiError::Unavailable(format!("LINE WORKS answered {s} {}", field("code"))))
                }
                s => {
                    return Err(ApiError::Refused {
                        status: s.as_u16(),
                        code: field("code"),
                        description: field("description"),
                    })
                }
            }
        }
    }

    /// Sends a reply to the user's 1:1 room or to the group room it came from.
    pub async fn send(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        message: &OutgoingMessage,
    ) -> Result<(), ApiError> {
        let creds = Credentials::of(integration)?;
        let path = match &message.room {
            Room::Direct => format!("/bots/{}/users/{}/messages", creds.bot_id, encode(&message.user_id)),
            Room::Group(channel) => format!("/bots/{}/channels/{}/messages", creds.bot_id, encode(channel)),
        };
        let body = message_body(&message.reply);
        self.call(service, &integration.stored.id, &creds, Method::POST, &path, Some(&body)).await.map(|_| ())
    }

    /// Uploads a file to the single-use URL an attachment request returned (multipart field
    /// `FileData`, as the platform's samples send it).
    pub async fn upload(&self, upload_url: &str, token: &str, png: Vec<u8>) -> Result<(), ApiError> {
        let part = reqwest::multipart::Part::bytes(png)
            .file_name("dakoku-menu.png")
            .mime_str("image/png")
            .map_err(|e| ApiError::Setup(e.to_string()))?;
        let form = reqwest::multipart::Form::new().part("FileData", part);
        let response = self
            .http
            .post(upload_url)
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .map_err(|e| crate::client::unreachable("the LINE WORKS upload URL", e))?;
        match response.status() {
            s if s.is_success() => Ok(()),
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
                Err(ApiError::Unavailable(format!("upload answered {s}")))
            }
            s => Err(ApiError::Refused { status: s.as_u16(), code: "UPLOAD".into(), description: s.to_string() }),
        }
    }

    /// The LINE WORKS user id for a login e-mail (or a user id, returned as it is known there).
    pub async fn find_user(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        login: &str,
    ) -> Result<String, ApiError> {
        let creds = Credentials::of(integration)?;
        let path = format!("/users/{}", encode(login));
        let (_, body) = self.call(service, &integration.stored.id, &creds, Method::GET, &path, None).await?;
        body.get("userId")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Unavailable("the user answer has no userId".into()))
    }
}

/// The limit applies per API, not per object: `/bots/{id}/users/{id}/messages` alternates
/// collection names and ids, and the ids are left out of the key.
fn operation_of(path: &str) -> String {
    path.split('/')
        .enumerate()
        .map(|(i, segment)| if i % 2 == 0 && i > 0 { "*" } else { segment })
        .collect::<Vec<_>>()
        .join("/")
}

fn encode(segment: &str) -> String {
    segment
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A reply as LINE WORKS message content: text, with the next sensible punches as quick
/// reply postback buttons (labels at most 20 characters, text at most 2,000).
pub fn message_body(reply: &ChatReply) -> Value {
    let mut content = json!({ "type": "text", "text": truncate_chars(&reply.text, 2000) });
    if !reply.choices.is_empty() {
        let items: Vec<Value> = reply
            .choices
            .iter()
            .take(13)
            .map(|choice| {
                json!({ "action": {
                    "type": "postback",
                    "label": truncate_chars(&choice.label, 20),
                    "data": truncate_chars(&choice.data, 300),
                    "displayText": truncate_chars(&choice.label, 300),
                }})
            })
            .collect();
        content["quickReply"] = json!({ "items": items });
    }
    json!({ "content": content })
}

impl crate::sender::Deliver for LineWorks {
    fn deliver<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        message: &'a OutgoingMessage,
    ) -> dakoku_worker::BoxFuture<'a, Result<(), ApiError>> {
        Box::pin(self.send(service, integration, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dakoku_service::chat::Choice;

    #[test]
    fn operations_group_calls_of_one_api() {
        assert_eq!(operation_of("/bots/2000001/users/u%40x/messages"), "/bots/*/users/*/messages");
        assert_eq!(operation_of("/bots/2000001/channels/abc/messages"), "/bots/*/channels/*/messages");
        assert_eq!(operation_of("/users/taro"), "/users/*");
    }

    #[test]
    fn message_with_quick_replies() {
        let reply = ChatReply {
            text: "x".repeat(2100),
            choices: vec![Choice { label: "休憩開始".into(), data: "dakoku:punch:break_start".into() }],
        };
        let body = message_body(&reply);
        assert_eq!(body["content"]["text"].as_str().map(|t| t.chars().count()), Some(2000));
        assert_eq!(body["content"]["quickReply"]["items"][0]["action"]["type"], "postback");
        assert_eq!(body["content"]["quickReply"]["items"][0]["action"]["displayText"], "休憩開始");
        let plain = message_body(&ChatReply { text: "hi".into(), choices: vec![] });
        assert!(plain["content"].get("quickReply").is_none());
    }

    #[test]
    fn user_ids_and_emails_are_path_safe() {
        assert_eq!(encode("taro@example.com"), "taro%40example.com");
        assert_eq!(encode("c72af563-0f21"), "c72af563-0f21");
        assert_eq!(encode("a/b?c"), "a%2Fb%3Fc");
    }
}
