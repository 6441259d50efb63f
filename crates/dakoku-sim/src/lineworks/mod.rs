//! A LINE WORKS stand-in: the auth server (service-account JWT grant, checked against the
//! app's public key) and the API 2.0 calls dakoku makes, with the platform's answers: 401
//! `UNAUTHORIZED` for an unknown or expired token, 403 for a missing scope, 429
//! `TOO_MANY_REQUESTS` with `rateLimit-*` headers over the per-minute limit, 201 on send.
//! It also plays the users: [`LineWorksSim::say`] signs a callback with the bot secret and
//! posts it to the bot's callback URL, as LINE WORKS does.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

mod bots;
use bots::*;
mod control;
use control::*;

/// The key pair of the sandbox app. For tests and local trials only: it is public.
pub const TEST_PRIVATE_KEY: &str = include_str!("../../testdata/lineworks-test-private.pem");
pub const TEST_PUBLIC_KEY: &str = include_str!("../../testdata/lineworks-test-public.pem");
/// A key that belongs to no app, to show what a wrong key looks like.
pub const OTHER_PRIVATE_KEY: &str = include_str!("../../testdata/other-test-private.pem");

#[derive(Clone, Debug)]
pub struct App {
    pub client_id: String,
    pub client_secret: String,
    pub service_account: String,
    pub public_key_pem: String,
    /// The OAuth scopes ticked for the app in the Developer Console.
    pub scopes: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Bot {
    pub bot_id: String,
    pub secret: String,
    pub callback_url: Option<String>,
    pub default_richmenu_id: Option<String>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub user_id: String,
    pub email: String,
    pub name: String,
}

/// A message a bot sent, as the platform received it.
#[derive(Clone, Debug)]
pub struct Sent {
    pub bot_id: String,
    /// `users/{id}` or `channels/{id}`.
    pub to: String,
    pub content: Value,
}

impl Sent {
    pub fn text(&self) -> &str {
        self.content["text"].as_str().unwrap_or_default()
    }

    /// The postback data of the quick reply buttons.
    pub fn quick_replies(&self) -> Vec<String> {
        self.content["quickReply"]["items"]
            .as_array()
            .map(|items| items.iter().filter_map(|i| i["action"]["data"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug)]
pub struct RichMenu {
    pub id: String,
    pub bot_id: String,
    pub body: Value,
    pub image: Option<(u32, u32)>,
}

/// A failure to answer instead of the real result, for the next calls whose path contains
/// `path_contains`.
#[derive(Clone, Debug)]
pub struct Fault {
    pub path_contains: String,
    pub status: u16,
    pub times: usize,
}

struct Token {
    scopes: Vec<String>,
    expires: Instant,
}

#[derive(Default)]
struct World {
    apps: HashMap<String, App>,
    bots: HashMap<String, Bot>,
    users: Vec<User>,
    domain_id: i64,
    tokens: HashMap<String, Token>,
    token_lifetime: Option<Duration>,
    token_requests: usize,
    api_calls: usize,
    sent: Vec<Sent>,
    faults: VecDeque<Fault>,
    per_minute: Option<usize>,
    /// Calls per API in the current minute window.
    windows: HashMap<String, (Instant, usize)>,
    richmenus: Vec<RichMenu>,
    uploads: HashMap<String, Option<Vec<u8>>>,
    next_id: u64,
}

/// A running simulator on a loopback port.
#[derive(Clone)]
pub struct LineWorksSim {
    state: Arc<Mutex<World>>,
    pub base_url: String,
    client: reqwest::Client,
}

fn lock(state: &Mutex<World>) -> MutexGuard<'_, World> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LineWorksSim {
    /// Serves on `addr` (port 0 for any) until the runtime ends.
    pub async fn start(addr: SocketAddr) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(World { domain_id: 40029600, ..World::default() }));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let sim = Self { state, base_url, client: reqwest::Client::new() };
        let app = router(sim.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(sim)
    }

    pub fn auth_base_url(&self) -> String {
        format!("{}/oauth2/v2.0", self.base_url)
    }

    pub fn api_base_url(&self) -> String {
        format!("{}/v1.0", self.base_url)
    }

    pub fn add_app(&self, app: App) {
        lock(&self.state).apps.insert(app.client_id.clone(), app);
    }

    /// The sandbox app with the test key pair and scopes `bot` and `user.read`.
    pub fn add_test_app(&self, client_id: &str, client_secret: &str, service_account: &str) {
        self.add_app(App {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            service_account: service_account.into(),
            public_key_pem: TEST_PUBLIC_KEY.into(),
            scopes: vec!["bot".into(), "user.read".into()],
        });
    }

    pub fn add_bot(&self, bot_id: &str, secret: &str, callback_url: Option<&str>) {
        let bot = Bot {
            bot_id: bot_id.into(),
            secret: secret.into(),
            callback_url: callback_url.map(str::to_owned),
            default_richmenu_id: None,
        };
        lock(&self.state).bots.insert(bot_id.into(), bot);
    }

    pub fn set_callback_url(&self, bot_id: &str, url: &str) {
        if let Some(bot) = lock(&self.state).bots.get_mut(bot_id) {
            bot.callback_url = Some(url.into());
        }
    }

    pub fn add_user(&self, user_id: &str, email: &str, name: &str) {
        lock(&self.state).users.push(User { user_id: user_id.into(), email: email.into(), name: name.into() });
    }

    /// How long new tokens live (the platform's choice is 1 or 24 hours).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.state).token_lifetime = Some(lifetime);
    }

    /// Ends every token now, as if they had all reached their expiry.
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for token in lock(&self.state).tokens.values_mut() {
            token.expires = now;
        }
    }

    /// Caps calls per API per minute (the plan's rate limit).
    pub fn set_rate_limit(&self, per_minute: Option<usize>) {
        lock(&self.state).per_minute = per_minute;
    }

    pub fn inject(&self, fault: Fault) {
        lock(&self.state).faults.push_back(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
    }

    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.state).sent.clone()
    }

    pub fn token_requests(&self) -> usize {
        lock(&self.state).token_requests
    }

    pub fn api_calls(&self) -> usize {
        lock(&self.state).api_calls
    }

    pub fn richmenus(&self) -> Vec<RichMenu> {
        lock(&self.state).richmenus.clone()
    }

    pub fn bot(&self, bot_id: &str) -> Option<Bot> {
        lock(&self.state).bots.get(bot_id).cloned()
    }

    /// A callback body as LINE WORKS writes it.
    pub fn message_body(&self, user_id: &str, channel_id: Option<&str>, content: Value) -> String {
        json!({
            "type": "message",
            "source": source(user_id, channel_id, lock(&self.state).domain_id),
            "issuedTime": issued_time(),
            "content": content,
        })
        .to_string()
    }

    pub fn postback_body(&self, user_id: &str, channel_id: Option<&str>, data: &str) -> String {
        json!({
            "type": "postback",
            "source": source(user_id, channel_id, lock(&self.state).domain_id),
            "issuedTime": issued_time(),
            "data": data,
        })
        .to_string()
    }

    /// Posts a signed callback body to the bot, as LINE WORKS would; returns the HTTP status.
    pub async fn deliver(&self, bot_id: &str, body: &str) -> Result<u16, String> {
        let bot = self.bot(bot_id).ok_or_else(|| format!("no bot {bot_id}"))?;
        let url = bot.callback_url.clone().ok_or_else(|| format!("bot {bot_id} has no callback URL"))?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json; charset=UTF-8")
            .header("X-WORKS-BotId", bot_id)
            .header("X-WORKS-Signature", sign(&bot.secret, body.as_bytes()))
            .body(body.to_owned())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }

    /// A user types `text` to the bot (in a group room when `channel_id` is given).
    pub async fn say(&self, bot_id: &str, user_id: &str, channel_id: Option<&str>, text: &str) -> Result<u16, String> {
        let body = self.message_body(user_id, channel_id, json!({"type": "text", "text": text}));
        self.deliver(bot_id, &body).await
    }

    /// A user presses a quick reply or rich-menu area carrying `data`.
    pub async fn press(
        &self,
        bot_id: &str,
        user_id: &str,
        channel_id: Option<&str>,
        data: &str,
    ) -> Result<u16, String> {
        let body = self.postback_body(user_id, channel_id, data);
        self.deliver(bot_id, &body).await
    }
}

fn source(user_id: &str, channel_id: Option<&str>, domain_id: i64) -> Value {
    let mut source = json!({"userId": user_id, "domainId": domain_id});
    if let Some(channel) = channel_id {
        source["channelId"] = json!(channel);
    }
    source
}

fn issued_time() -> String {
    chrono_like_now()
}

/// `YYYY-MM-DDThh:mm:ss.SSSZ` without pulling in a date crate: the simulator only needs now.
fn chrono_like_now() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// Base64(HMAC-SHA256(bot secret, body)): the platform's callback signature.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    B64.encode(mac.finalize().into_bytes())
}

fn router(sim: LineWorksSim) -> Router {
    Router::new()
        .route("/oauth2/v2.0/token", post(token))
        .route("/v1.0/bots", post(create_bot))
        .route("/v1.0/bots/{bot}", get(get_bot).patch(patch_bot))
        .route("/v1.0/bots/{bot}/domains/{domain}", post(add_domain))
        .route("/v1.0/bots/{bot}/users/{user}/messages", post(send_to_user))
        .route("/v1.0/bots/{bot}/channels/{channel}/messages", post(send_to_channel))
        .route("/v1.0/bots/{bot}/richmenus", post(create_richmenu))
        .route("/v1.0/bots/{bot}/richmenus/{menu}", delete(delete_richmenu))
        .route("/v1.0/bots/{bot}/richmenus/{menu}/image", post(set_richmenu_image))
        .route("/v1.0/bots/{bot}/attachments", post(create_attachment))
        .route("/upload/{file}", post(upload))
        .route("/v1.0/users/{user}", get(get_user))
        .route("/_sim/lineworks/say", post(control_say))
        .route("/_sim/lineworks/press", post(control_press))
        .route("/_sim/lineworks/messages", get(control_messages))
        .route("/_sim/lineworks/bots/{bot}", patch(control_bot))
        .with_state(sim)
}

fn error(status: StatusCode, code: &str, description: &str) -> Response {
    (status, Json(json!({"code": code, "description": description}))).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    assertion: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

#[derive(Deserialize)]
struct Assertion {
    iss: String,
    sub: String,
    iat: i64,
    exp: i64,
}

async fn token(State(sim): State<LineWorksSim>, Form(form): Form<TokenForm>) -> Response {
    let mut state = lock(&sim.state);
    state.token_requests += 1;
    if form.grant_type.as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be the JWT bearer grant",
        );
    }
    let Some(app) = form.client_id.as_deref().and_then(|id| state.apps.get(id)).cloned() else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client_id");
    };
    if form.client_secret.as_deref() != Some(app.client_secret.as_str()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed");
    }
    let Some(assertion) = form.assertion else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", "assertion is required");
    };
    let Ok(key) = DecodingKey::from_rsa_pem(app.public_key_pem.as_bytes()) else {
        return oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "app key unreadable");
    };
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    validation.set_issuer(&[app.client_id.as_str()]);
    validation.leeway = 0;
    let claims = match jsonwebtoken::decode::<Assertion>(&assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &format!("assertion rejected: {e}")),
    };
    if claims.sub != app.service_account || claims.iss != app.client_id {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "iss or sub does not match the app");
    }
    if claims.exp - claims.iat > 3600 || claims.exp <= claims.iat {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "exp - iat must be at most 3600 seconds");
    }
    let requested: Vec<String> = form.scope.unwrap_or_default().split_whitespace().map(str::to_owned).collect();
    if let Some(missing) = requested.iter().find(|s| !app.scopes.contains(s)) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &format!("scope {missing} is not granted"));
    }
    state.next_id += 1;
    let access = format!("sim-token-{}-{}", state.next_id, rand_hex());
    let lifetime = state.token_lifetime.unwrap_or(Duration::from_secs(86_400));
    state.tokens.insert(access.clone(), Token { scopes: requested.clone(), expires: Instant::now() + lifetime });
    Json(json!({
        "access_token": access,
        "refresh_token": format!("sim-refresh-{}", rand_hex()),
        "scope": requested.join(" "),
        "token_type": "Bearer",
        // A string, as the official Java sample models it.
        "expires_in": lifetime.as_secs().to_string(),
    }))
    .into_response()
}

fn rand_hex() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("{nanos:x}")
}

/// The checks every API call passes: token, scope, rate limit, injected faults.
#[allow(clippy::result_large_err)] // a response is what the caller returns anyway
fn admit(sim: &LineWorksSim, headers: &HeaderMap, api: &str, scopes: &[&str], path: &str) -> Result<(), Response> {
    let mut state = lock(&sim.state);
    state.api_calls += 1;
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let granted = match state.tokens.get(bearer) {
        Some(token) if token.expires > Instant::now() => token.scopes.clone(),
        _ => {
            let mut response = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Authentication failed");
            response
                .headers_mut()
                .insert("www-authenticate", HeaderValue::from_static("Bearer error=\"invalid_token\""));
            return Err(response);
        }
    };
    if !scopes.iter().any(|s| granted.iter().any(|g| g == s)) {
        return Err(error(StatusCode::FORBIDDEN, "FORBIDDEN", &format!("requires one of the scopes {scopes:?}")));
    }
    if let Some(position) = state.faults.iter().position(|f| path.contains(&f.path_contains)) {
        let fault = &mut state.faults[position];
        fault.times = fault.times.saturating_sub(1);
        let status = fault.status;
        if fault.times == 0 {
            state.faults.remove(position);
        }
        return Err(match status {
            429 => rate_limited(60, 0),
            s => {
                let status = StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                error(status, "INTERNAL_SERVER_ERROR", "injected failure")
            }
        });
    }
    if let Some(limit) = state.per_minute {
        let now = Instant::now();
        let window = state.windows.entry(api.to_owned()).or_insert((now, 0));
        if now.duration_since(window.0) >= Duration::from_secs(60) {
            *window = (now, 0);
        }
        if window.1 >= limit {
            let reset = 60u64.saturating_sub(now.duration_since(window.0).as_secs()).max(1);
            return Err(rate_limited(reset, limit));
        }
        window.1 += 1;
    }
    Ok(())
}

fn rate_limited(reset: u64, limit: usize) -> Response {
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "API rate limit exceeded");
    let headers = response.headers_mut();
    for (name, value) in [
        ("rateLimit-limit", limit.to_string()),
        ("rateLimit-remaining", "0".into()),
        ("rateLimit-reset", reset.to_string()),
    ] {
        if let (Ok(name), Ok(value)) = (axum::http::HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    response
}

const BOT_SCOPES: &[&str] = &["bot", "bot.message"];
const BOT_ADMIN_SCOPES: &[&str] = &["bot"];
const BOT_READ_SCOPES: &[&str] = &["bot", "bot.read"];
const USER_SCOPES: &[&str] = &["user", "user.read", "directory", "directory.read"];

/// Checks a message body as the platform documents it: text at most 2,000 characters, quick
/// replies at most 13, postback labels at most 20 and `displayText` required there.
fn check_message(body: &Value) -> Result<(), String> {
    let content = body.get("content").ok_or("content is required")?;
    match content.get("type").and_then(Value::as_str) {
        Some("text") => {
            let text = content.get("text").and_then(Value::as_str).ok_or("text is required")?;
            if text.is_empty() || text.chars().count() > 2000 {
                return Err("text must be 1 to 2000 characters".into());
            }
        }
        Some("button_template") => {
            let actions = content.get("actions").and_then(Value::as_array).ok_or("actions are required")?;
            if actions.is_empty() || actions.len() > 10 {
                return Err("a button template has 1 to 10 actions".into());
            }
            if actions.iter().any(|a| a["type"] == "postback") {
                return Err("postback actions are not allowed in a button template".into());
            }
        }
        Some(other) => return Err(format!("content type {other} is not simulated")),
        None => return Err("content.type is required".into()),
    }
    if let Some(quick) = content.get("quickReply") {
        let items = quick.get("items").and_then(Value::as_array).ok_or("quickReply.items is required")?;
        if items.len() > 13 {
            return Err("at most 13 quick reply items".into());
        }
        for item in items {
            let action = &item["action"];
            let label = action["label"].as_str().unwrap_or_default();
            if label.chars().count() > 20 {
                return Err("a quick reply label has at most 20 characters".into());
            }
            if action["type"] == "postback" {
                if action["displayText"].as_str().is_none_or(str::is_empty) {
                    return Err("displayText is required for a postback in a quick reply".into());
                }
                if action["data"].as_str().is_none_or(|d| d.is_empty() || d.chars().count() > 300) {
                    return Err("postback data must be 1 to 300 characters".into());
                }
            }
        }
    }
    Ok(())
}

async fn send(sim: LineWorksSim, headers: HeaderMap, bot: String, to: String, body: Bytes) -> Response {
    let path = format!("/bots/{bot}/{to}/messages");
    if let Err(response) = admit(&sim, &headers, "message-send", BOT_SCOPES, &path) {
        return response;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "body is not JSON");
    };
    if let Err(problem) = check_message(&body) {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", &problem);
    }
    let mut state = lock(&sim.state);
    if !state.bots.contains_key(&bot) {
        return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "no such bot");
    }
    if let Some(user) = to.strip_prefix("users/") {
        if !state.users.iter().any(|u| u.user_id == user || u.email == user) {
            return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "no such user");
        }
    }
    state.sent.push(Sent { bot_id: bot, to, content: body["content"].clone() });
    StatusCode::CREATED.into_response()
}

async fn send_to_user(
    State(sim): State<LineWorksSim>,
    Path((bot, user)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    send(sim, headers, bot, format!("users/{user}"), body).await
}

async fn send_to_channel(
    State(sim): State<LineWorksSim>,
    Path((bot, channel)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    send(sim, headers, bot, format!("channels/{channel}"), body).await
}

async fn get_user(State(sim): State<LineWorksSim>, Path(user): Path<String>, headers: HeaderMap) -> Response {
    if let Err(response) = admit(&sim, &headers, "user-get", USER_SCOPES, "/users") {
        return response;
    }
    let state = lock(&sim.state);
    match state.users.iter().find(|u| u.user_id == user || u.email == user) {
        Some(u) => Json(json!({
            "domainId": state.domain_id,
            "userId": u.user_id,
            "email": u.email,
            "userName": {"lastName": u.name, "firstName": ""},
            "isAdministrator": false,
            "isSuspended": false,
            "isDeleted": false,
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "user does not exist"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_signature_matches_the_documented_vector() {
        let body = r#"{"type":"message","source":{"userId":"user0001-e3e9-4063-1d22-04978003f354","domainId":40029600},"issuedTime":"2024-04-01T00:00:00.000Z","content":{"type":"text","text":"出勤"}}"#;
        assert_eq!(sign("test-bot-secret", body.as_bytes()), "AEWvxLo9eBnrV7PbruDgLZTZWNqOQa1QTN/WIn9xp7I=");
    }

    #[test]
    fn issued_time_has_the_platform_shape() {
        let t = chrono_like_now();
        assert_eq!(t.len(), 24, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T', "{t}");
    }

    #[test]
    fn multipart_file_is_found() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"FileData\"; filename=\"m.png\"\r\nContent-Type: image/png\r\n\r\nPNGDATA\r\n--XyZ--\r\n";
        assert_eq!(file_part("multipart/form-data; boundary=XyZ", body), Some(b"PNGDATA".to_vec()));
    }
}
