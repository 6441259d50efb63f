//! `POST /hooks/lineworks/{token}`: the bot's callback. The token picks the integration; the
//! signature is checked over the raw body before anything is decoded; the event is handled
//! (punch and reply job committed together) before the 200 goes back. LINE WORKS never
//! delivers a callback twice, but a body seen before is still recognised and ignored.

use super::api::Credentials;
use super::callback::{self, Event, Source};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dakoku_domain::Platform;
use dakoku_http::ApiError;
use dakoku_service::chat::{ChatEvent, ChatInput, Room};
use dakoku_service::Service;

pub(crate) async fn callback(
    State(service): State<Service>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match handle(&service, &token, &headers, &body).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(error) => error.into_response(),
    }
}

async fn handle(service: &Service, token: &str, headers: &HeaderMap, body: &[u8]) -> Result<(), ApiError> {
    let integration = service.open_integration_by_callback(Platform::LineWorks, token).await?;
    let creds = Credentials::of(&integration).map_err(|e| {
        tracing::warn!(integration = %integration.stored.id, error = %e, "LINE WORKS callback for an incomplete integration");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "this integration is not fully set up")
    })?;
    // HeaderMap names are case-insensitive, as the platform requires.
    let signature = headers.get("x-works-signature").and_then(|v| v.to_str().ok());
    let Some(signature) = signature else {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "X-WORKS-Signature is missing"));
    };
    if !callback::verify(&creds.bot_secret, body, signature) {
        tracing::warn!(integration = %integration.stored.id, "LINE WORKS callback with a bad signature refused");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "X-WORKS-Signature does not verify"));
    }
    // LINE WORKS always names the bot; a callback without the header is refused like one for
    // another bot.
    let bot = headers.get("x-works-botid").and_then(|v| v.to_str().ok()).map(str::trim);
    if bot != Some(creds.bot_id.as_str()) {
        tracing::warn!(integration = %integration.stored.id, "LINE WORKS callback without this integration's bot refused");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "X-WORKS-BotId is missing or not this integration's bot"));
    }
    let event = callback::decode(body).map_err(|e| ApiError::bad_request(e.0))?;
    let Some(chat) = to_chat(event, callback::event_key(body)) else { return Ok(()) };
    crate::inbound::hand_to_core(service, &integration, chat).await
}

fn room_of(source: &Source) -> Room {
    source.channel_id.clone().map(Room::Group).unwrap_or(Room::Direct)
}

/// The chat event an event means, or `None` for events with nothing to answer.
fn to_chat(event: Event, event_key: String) -> Option<ChatEvent> {
    let chat = |source: Source, input: ChatInput| {
        Some(ChatEvent { event_key: event_key.clone(), room: room_of(&source), user_id: source.user_id?, input })
    };
    match event {
        Event::Text { source, text, postback } => {
            // Message buttons carry our action in `postback`; other postbacks (the platform's
            // own "start" button) are read as the text they show.
            let input = match postback.filter(|p| p.starts_with("dakoku:")) {
                Some(data) => ChatInput::Action(data),
                None => ChatInput::Text(text),
            };
            chat(source, input)
        }
        Event::OtherMessage { source, .. } => chat(source, ChatInput::Text(String::new())),
        Event::Postback { source, data } => chat(source, ChatInput::Action(data)),
        Event::Begin { source } => chat(source, ChatInput::Action("dakoku:help".into())),
        Event::Membership { kind, source } => {
            tracing::info!(kind, channel = ?source.channel_id, "LINE WORKS room event acknowledged");
            None
        }
        Event::Unknown { kind } => {
            tracing::info!(kind, "LINE WORKS event of an unknown type acknowledged");
            None
        }
    }
}
