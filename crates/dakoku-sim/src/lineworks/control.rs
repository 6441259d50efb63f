//! The control API tests drive the simulated users and bots with.

use super::*;

#[derive(Deserialize)]
pub(super) struct SayRequest {
    bot_id: String,
    user_id: String,
    channel_id: Option<String>,
    text: Option<String>,
    data: Option<String>,
}

pub(super) async fn control_say(State(sim): State<LineWorksSim>, Json(request): Json<SayRequest>) -> Response {
    let text = request.text.unwrap_or_default();
    match sim.say(&request.bot_id, &request.user_id, request.channel_id.as_deref(), &text).await {
        Ok(status) => Json(json!({"delivered_status": status})).into_response(),
        Err(e) => error(StatusCode::BAD_GATEWAY, "DELIVERY_FAILED", &e),
    }
}

pub(super) async fn control_press(State(sim): State<LineWorksSim>, Json(request): Json<SayRequest>) -> Response {
    let data = request.data.unwrap_or_default();
    match sim.press(&request.bot_id, &request.user_id, request.channel_id.as_deref(), &data).await {
        Ok(status) => Json(json!({"delivered_status": status})).into_response(),
        Err(e) => error(StatusCode::BAD_GATEWAY, "DELIVERY_FAILED", &e),
    }
}

pub(super) async fn control_messages(State(sim): State<LineWorksSim>) -> Response {
    let sent: Vec<Value> =
        sim.sent().into_iter().map(|s| json!({"bot_id": s.bot_id, "to": s.to, "content": s.content})).collect();
    Json(json!({"items": sent})).into_response()
}

#[derive(Deserialize)]
pub(super) struct BotControl {
    secret: Option<String>,
    callback_url: Option<String>,
}

pub(super) async fn control_bot(
    State(sim): State<LineWorksSim>,
    Path(bot): Path<String>,
    Json(request): Json<BotControl>,
) -> Response {
    let mut state = lock(&sim.state);
    let entry = state.bots.entry(bot.clone()).or_insert_with(|| Bot {
        bot_id: bot.clone(),
        secret: String::new(),
        callback_url: None,
        default_richmenu_id: None,
    });
    if let Some(secret) = request.secret {
        entry.secret = secret;
    }
    if let Some(url) = request.callback_url {
        entry.callback_url = Some(url);
    }
    Json(json!({"bot_id": bot})).into_response()
}
