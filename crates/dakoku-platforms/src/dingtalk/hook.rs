//! DingTalk's two callbacks, both at `POST /hooks/dingtalk/{token}`, told apart by how they
//! are signed.
//!
//! The event subscription (HTTP push) sends `{"encrypt": …}` with
//! `msg_signature` (or `signature`), `timestamp` (or `timeStamp`) and `nonce` in the query,
//! sealed for the app's AppKey. It is answered with the encrypted "success" map. `check_url`
//! is answered and nothing else done; `attendance_check_record` (one per person and minute,
//! without the late / early verdict) queues a pull of those people's day, once per event;
//! contact events (`user_*_org`, `org_dept_*`) start an org sync in read mode.
//!
//! The app robot's messages (its message receiving URL set to the same address) are plain JSON
//! whose
//! headers `timestamp` (ms, within an hour) and `sign` = Base64(HMAC-SHA256(AppSecret,
//! timestamp + "\n" + AppSecret)) prove they come from DingTalk. The message's
//! `sessionWebhook` (where replies go, for about 90 minutes) is kept sealed for the reply job.

use super::api::Credentials;
use crate::msgcrypt::CryptoError;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chrono::{TimeZone, Utc};
use dakoku_domain::Platform;
use dakoku_http::ApiError;
use dakoku_service::chat::{ChatEvent, ChatInput, Room};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::Service;
use hmac::{Hmac, Mac};
use rand::distributions::{Alphanumeric, DistString};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far an event's timestamp may be from this server's clock.
const MAX_EVENT_SKEW_MS: i64 = 10 * 60 * 1000;
/// DingTalk's own bound for robot messages.
const MAX_ROBOT_SKEW_MS: i64 = 60 * 60 * 1000;
/// DingTalk waits a moment before its results include a fresh punch.
const EVENT_PULL_DELAY_SECONDS: i64 = 30;
const CONTACT_EVENTS: &[&str] = &[
    "user_add_org",
    "user_modify_org",
    "user_leave_org",
    "user_active_org",
    "org_dept_create",
    "org_dept_modify",
    "org_dept_remove",
];

fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, detail)
}

async fn open(service: &Service, token: &str) -> Result<(OpenIntegration, Credentials), ApiError> {
    let integration = service.open_integration_by_callback(Platform::DingTalk, token).await?;
    let creds =
        Credentials::of(&integration).map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    Ok((integration, creds))
}

#[derive(Deserialize)]
pub(crate) struct Signed {
    msg_signature: Option<String>,
    signature: Option<String>,
    timestamp: Option<String>,
    #[serde(rename = "timeStamp")]
    time_stamp: Option<String>,
    nonce: Option<String>,
}

/// DingTalk's timestamps come in milliseconds, sometimes seconds.
fn millis(timestamp: &str) -> Option<i64> {
    let n: i64 = timestamp.trim().parse().ok()?;
    Some(if n < 100_000_000_000 { n * 1000 } else { n })
}

/// The encrypted reply map DingTalk expects for every event.
#[derive(Serialize)]
struct SealedReply {
    msg_signature: String,
    encrypt: String,
    #[serde(rename = "timeStamp")]
    time_stamp: String,
    nonce: String,
}

pub(crate) async fn receive(
    State(service): State<Service>,
    Path(token): Path<String>,
    Query(query): Query<Signed>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let event = query.msg_signature.is_some() || query.signature.is_some();
    if !event && headers.contains_key("sign") {
        return match handle_robot(&service, &token, &headers, &body).await {
            Ok(()) => Json(json!({})).into_response(),
            Err(e) => e.into_response(),
        };
    }
    match handle_event(&service, &token, &query, &body).await {
        Ok(reply) => Json(reply).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn handle_event(service: &Service, token: &str, query: &Signed, body: &[u8]) -> Result<SealedReply, ApiError> {
    let (integration, creds) = open(service, token).await?;
    let crypt = creds.crypt().map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "event subscription is not set up: the token and aes_key are missing",
        )
    })?;
    let outer: Value = serde_json::from_slice(body).map_err(|_| ApiError::bad_request("the body is not JSON"))?;
    let encrypted =
        outer.get("encrypt").and_then(Value::as_str).ok_or_else(|| ApiError::bad_request("the body has no encrypt"))?;
    let signature = query.msg_signature.as_ref().or(query.signature.as_ref());
    let timestamp = query.timestamp.as_ref().or(query.time_stamp.as_ref());
    let (Some(signature), Some(timestamp), Some(nonce)) = (signature, timestamp, &query.nonce) else {
        return Err(unauthorized("msg_signature, timestamp and nonce are required"));
    };
    let refused = |e: CryptoError| {
        tracing::warn!(integration = %integration.stored.id, error = %e, "DingTalk event refused");
        match e {
            CryptoError::BadSignature | CryptoError::WrongReceiver => unauthorized(&e.to_string()),
            other => ApiError::bad_request(other.to_string()),
        }
    };
    crypt.verify(signature, timestamp, nonce, encrypted).map_err(refused)?;
    let sent = millis(timestamp).ok_or_else(|| ApiError::bad_request("timestamp is not a number"))?;
    if (Utc::now().timestamp_millis() - sent).abs() > MAX_EVENT_SKEW_MS {
        return Err(unauthorized("the timestamp is too far from now; a replayed event?"));
    }
    let plain = crypt.decrypt(encrypted).map_err(refused)?;
    let event: Value = serde_json::from_slice(&plain).map_err(|_| ApiError::bad_request("the event is not JSON"))?;
    let kind = event.get("EventType").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "check_url" => {}
        "attendance_check_record" => punched(service, &integration, &event).await?,
        _ if CONTACT_EVENTS.contains(&kind) => {
            service.org_changed(&integration).await?;
        }
        other => tracing::info!(event = other, "DingTalk event acknowledged"),
    }
    let now = Utc::now().timestamp_millis().to_string();
    let nonce = Alphanumeric.sample_string(&mut rand::thread_rng(), 16);
    let sealed = crypt.seal(b"success");
    Ok(SealedReply { msg_signature: crypt.signature(&now, &nonce, &sealed), encrypt: sealed, time_stamp: now, nonce })
}

/// People punched on DingTalk: their day is pulled once DingTalk has its verdicts.
async fn punched(service: &Service, integration: &OpenIntegration, event: &Value) -> Result<(), ApiError> {
    let items = event.get("dataList").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut users: Vec<String> =
        items.iter().filter_map(|i| i.get("userId").and_then(Value::as_str).map(str::to_owned)).collect();
    users.sort();
    users.dedup();
    let latest = items.iter().filter_map(|i| i.get("checkTime").and_then(Value::as_i64)).max();
    let (Some(latest), false) = (latest, users.is_empty()) else { return Ok(()) };
    let around = Utc.timestamp_millis_opt(latest).single().unwrap_or_else(Utc::now);
    let id = ["eventId", "BizId"]
        .iter()
        .find_map(|k| event.get(*k).and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| format!("{}:{latest}", users.join(",")));
    let delay = chrono::Duration::seconds(EVENT_PULL_DELAY_SECONDS);
    service.request_event_pull(integration, &id, users, around, delay).await?;
    Ok(())
}

/// The robot signature: Base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
pub fn robot_sign(timestamp: &str, app_secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}\n{app_secret}").as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

async fn handle_robot(service: &Service, token: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let (integration, creds) = open(service, token).await?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let (timestamp, sign) = (header("timestamp"), header("sign"));
    let sent = millis(timestamp).ok_or_else(|| unauthorized("the timestamp header is missing"))?;
    if (Utc::now().timestamp_millis() - sent).abs() > MAX_ROBOT_SKEW_MS {
        return Err(unauthorized("the timestamp is more than an hour away"));
    }
    let expected = robot_sign(timestamp, &creds.app_secret);
    if !bool::from(expected.as_bytes().ct_eq(sign.as_bytes())) {
        tracing::warn!(integration = %integration.stored.id, "DingTalk robot message refused: bad sign");
        return Err(unauthorized("the sign header does not verify"));
    }
    let message: Value = serde_json::from_slice(body).map_err(|_| ApiError::bad_request("the body is not JSON"))?;
    let text = |name: &str| message.get(name).and_then(Value::as_str).filter(|v| !v.is_empty());
    // The sign covers only the timestamp, so the body is checked to be this app's robot, and
    // a (timestamp, sign) pair is good for the first message it came with only.
    if text("robotCode") != Some(creds.app_key.as_str()) {
        tracing::warn!(integration = %integration.stored.id, "DingTalk robot message for another robot refused");
        return Err(unauthorized("robotCode is missing or not this integration's app"));
    }
    if let (Some(expected), Some(corp)) = (creds.corp_id.as_deref(), text("chatbotCorpId")) {
        if corp != expected {
            return Err(unauthorized("chatbotCorpId is not this integration's organisation"));
        }
    }
    if !service.bind_signature(&integration.stored.id, &format!("robot:{timestamp}:{sign}"), body).await? {
        tracing::warn!(integration = %integration.stored.id, "DingTalk robot signature reused with another message");
        return Err(unauthorized("this timestamp and sign were already used for another message"));
    }
    // Only members of the company have a staff id; others are not people dakoku knows.
    let (Some(user), Some(message_id)) = (text("senderStaffId"), text("msgId")) else { return Ok(()) };
    let room = match (text("conversationType"), text("conversationId")) {
        (Some("2"), Some(conversation)) => Room::Group(conversation.to_owned()),
        _ => Room::Direct,
    };
    if let (Some(url), Some(expires)) =
        (text("sessionWebhook"), message.get("sessionWebhookExpiredTime").and_then(Value::as_i64))
    {
        super::sender::keep_session(service, &integration, &creds, &room, user, url, expires).await;
    }
    let content = match text("msgtype") {
        Some("text") => message.pointer("/text/content").and_then(Value::as_str).unwrap_or_default().trim().to_owned(),
        // Pictures, files, voice: answered with the help text, like an unknown word.
        _ => String::new(),
    };
    let event = ChatEvent {
        event_key: format!("msg:{message_id}"),
        user_id: user.to_owned(),
        room,
        input: ChatInput::Text(content),
    };
    crate::inbound::hand_to_core(service, &integration, event).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robot_signature_vectors() {
        let all: Value =
            serde_json::from_str(include_str!("../../testdata/dingtalk_crypto_vectors.json")).expect("vectors");
        let vectors = all["robot_callback_signature"]["vectors"].as_array().expect("vectors");
        assert!(vectors.len() >= 3);
        for v in vectors {
            let (ts, secret) = (v["timestamp"].as_str().expect("timestamp"), v["app_secret"].as_str().expect("secret"));
            assert_eq!(robot_sign(ts, secret), v["sign_base64"].as_str().expect("sign"), "{v}");
        }
    }

    #[test]
    fn timestamps_in_seconds_or_milliseconds() {
        assert_eq!(millis("1614767836"), Some(1_614_767_836_000));
        assert_eq!(millis("1608001896814"), Some(1_608_001_896_814));
        assert_eq!(millis("x"), None);
    }
}
