//! `GET /hooks/wecom/{token}` answers WeCom's URL verification with the decrypted `echostr`;
//! `POST /hooks/wecom/{token}` receives encrypted messages and events. Both check
//! `msg_signature` (SHA-1 over token, timestamp, nonce and ciphertext), refuse timestamps more
//! than five minutes away, and open the message only if it was sealed for this CorpID. A POST
//! is answered with an empty 200 once the punch and its reply job are committed; WeCom's
//! retries (it tries 3 times when no answer comes in 5 s) are recognised by `MsgId`, or by
//! sender and time for events.

use super::api::Credentials;
use crate::msgcrypt::CryptoError;
use crate::xml;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use dakoku_domain::Platform;
use dakoku_http::ApiError;
use dakoku_service::chat::{ChatEvent, ChatInput, Room};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::Service;
use serde::Deserialize;
use std::collections::HashMap;

/// How far a callback's timestamp may be from this server's clock.
const MAX_SKEW_SECONDS: i64 = 300;

#[derive(Deserialize)]
pub(crate) struct Signed {
    msg_signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
}

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, detail)
}

async fn open(service: &Service, token: &str) -> Result<(OpenIntegration, Credentials), ApiError> {
    let integration = service.open_integration_by_callback(Platform::WeCom, token).await?;
    let creds = Credentials::of(&integration).ok().filter(|c| c.callback.is_some()).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "receiving messages is not set up: the callback token and EncodingAESKey are missing",
        )
    })?;
    Ok((integration, creds))
}

/// Checks the signature and the clock, and opens the ciphertext.
fn verified(creds: &Credentials, query: &Signed, encrypted: &str) -> Result<Vec<u8>, ApiError> {
    let (Some(signature), Some(timestamp), Some(nonce)) = (&query.msg_signature, &query.timestamp, &query.nonce) else {
        return Err(unauthorized("msg_signature, timestamp and nonce are required"));
    };
    let crypt = creds.crypt().map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    crypt.verify(signature, timestamp, nonce, encrypted).map_err(|e| unauthorized(&e.to_string()))?;
    let sent = timestamp.parse::<i64>().map_err(|_| ApiError::bad_request("timestamp is not a number"))?;
    if (chrono::Utc::now().timestamp() - sent).abs() > MAX_SKEW_SECONDS {
        return Err(unauthorized("the timestamp is more than five minutes away; a replayed callback?"));
    }
    crypt.decrypt(encrypted).map_err(|e| match e {
        CryptoError::WrongReceiver => unauthorized("the message was sealed for another CorpID"),
        other => ApiError::bad_request(other.to_string()),
    })
}

pub(crate) async fn verify_url(
    State(service): State<Service>,
    Path(token): Path<String>,
    Query(query): Query<Signed>,
) -> Response {
    let answer = async {
        let (_, creds) = open(&service, &token).await?;
        let echo = query.echostr.clone().ok_or_else(|| ApiError::bad_request("echostr is required"))?;
        let plain = verified(&creds, &query, &echo)?;
        Ok::<_, ApiError>(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], plain).into_response())
    };
    answer.await.unwrap_or_else(IntoResponse::into_response)
}

pub(crate) async fn receive(
    State(service): State<Service>,
    Path(token): Path<String>,
    Query(query): Query<Signed>,
    body: Bytes,
) -> Response {
    match handle(&service, &token, &query, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle(service: &Service, token: &str, query: &Signed, body: &[u8]) -> Result<(), ApiError> {
    let (integration, creds) = open(service, token).await?;
    let outer = xml::fields(body).map_err(ApiError::bad_request)?;
    let encrypted = outer.get("Encrypt").ok_or_else(|| ApiError::bad_request("the body has no <Encrypt>"))?;
    let plain = verified(&creds, query, encrypted).inspect_err(|_| {
        tracing::warn!(integration = %integration.stored.id, "WeCom callback refused");
    })?;
    let message = xml::fields(&plain).map_err(ApiError::bad_request)?;
    if is_contact_change(&message) {
        // Only the user and department ids come with it since 2022: compare the directory.
        service.org_changed(&integration).await?;
        return Ok(());
    }
    let Some(chat) = to_chat(&message) else { return Ok(()) };
    crate::inbound::hand_to_core(service, &integration, chat).await
}

fn is_contact_change(message: &HashMap<String, String>) -> bool {
    let field = |name: &str| message.get(name).map(|v| v.to_ascii_lowercase()).unwrap_or_default();
    field("MsgType") == "event" && field("Event") == "change_contact"
}

/// The chat event a decrypted message means, or `None` for what needs no answer.
fn to_chat(message: &HashMap<String, String>) -> Option<ChatEvent> {
    let user = message.get("FromUserName").filter(|u| !u.is_empty())?.clone();
    let created = message.get("CreateTime").cloned().unwrap_or_default();
    let kind = message.get("MsgType").map(|t| t.to_ascii_lowercase()).unwrap_or_default();
    let (event_key, input) = match kind.as_str() {
        "text" => {
            let key = match message.get("MsgId") {
                Some(id) if !id.is_empty() => format!("msg:{id}"),
                _ => format!("msg:{user}:{created}"),
            };
            (key, ChatInput::Text(message.get("Content").cloned().unwrap_or_default()))
        }
        "event" => {
            let event = message.get("Event").map(|e| e.to_ascii_lowercase()).unwrap_or_default();
            let key = format!("event:{user}:{created}:{event}");
            match event.as_str() {
                // A menu item of the app: its key is the action.
                "click" => (key, ChatInput::Action(message.get("EventKey").cloned().unwrap_or_default())),
                "enter_agent" | "subscribe" => (key, ChatInput::Action("dakoku:help".into())),
                other => {
                    tracing::info!(event = other, "WeCom event acknowledged");
                    return None;
                }
            }
        }
        // Images, voice, location...: answered with the help text, like an unknown word.
        _ => (
            format!("msg:{}", message.get("MsgId").cloned().unwrap_or_else(|| format!("{user}:{created}"))),
            ChatInput::Text(String::new()),
        ),
    };
    Some(ChatEvent { event_key, user_id: user, room: Room::Direct, input })
}
