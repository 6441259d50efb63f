//! A WeCom (企业微信) stand-in for a self-built app: `gettoken` (40001 for a wrong secret, tokens
//! that expire), `message/send` (40014 / 42001 / 41001 for token trouble, 81013 when every
//! recipient is unknown, content checked at 2,048 bytes, injectable errors such as 45009), and
//! members who write to the app: their messages are sealed with the WXBizMsgCrypt scheme and
//! posted to the app's callback URL as WeCom does.

mod directory;

use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD as B64};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use sha1::{Digest, Sha1};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The app's side of receiving messages.
#[derive(Clone, Debug)]
pub struct CallbackSetup {
    pub url: String,
    pub token: String,
    pub encoding_aes_key: String,
}

#[derive(Clone, Debug)]
pub struct SentText {
    pub touser: String,
    pub agentid: Value,
    pub content: String,
    pub body: Value,
}

const ROOT: i64 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimDepartment {
    pub name: String,
    pub parent: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimMember {
    pub name: String,
    pub department: Vec<i64>,
    pub email: Option<String>,
}

#[derive(Default)]
struct World {
    corp_id: String,
    agent_id: i64,
    secret: String,
    callback: Option<CallbackSetup>,
    /// The org directory: departments by id (1 is the company) and members by userid.
    departments: BTreeMap<i64, SimDepartment>,
    members: BTreeMap<String, SimMember>,
    /// The 通讯录同步 secret, whose tokens may write the directory.
    contact_secret: Option<String>,
    /// Tokens that came from the contact-sync secret.
    contact_tokens: HashSet<String>,
    directory_calls: u64,
    /// (directory call number, what happens at it), as for check-in calls.
    directory_events: Vec<(u64, i64)>,
    tokens: HashMap<String, Instant>,
    token_lifetime: Option<Duration>,
    token_requests: usize,
    sent: Vec<SentText>,
    /// Error codes to answer the next message/send calls with.
    faults: VecDeque<i64>,
    next: u64,
    checkins: Vec<Value>,
    checkin_calls: u64,
    /// (call number, what happens at it): an error code, or 0 to end every token first.
    checkin_events: Vec<(u64, i64)>,
    /// getcheckindata calls allowed per minute (WeCom: 600 per corp), and the calls seen.
    checkin_limit: Option<usize>,
    checkin_window: VecDeque<Instant>,
    throttled: u64,
    /// Messages one member may receive per window; beyond it WeCom answers ok and drops them.
    member_limit: Option<(usize, Duration)>,
    member_windows: HashMap<String, VecDeque<Instant>>,
    dropped: u64,
}

#[derive(Clone)]
pub struct WeComSim {
    state: Arc<Mutex<World>>,
    pub base_url: String,
    client: reqwest::Client,
}

fn lock(state: &Mutex<World>) -> MutexGuard<'_, World> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl WeComSim {
    pub async fn start(addr: SocketAddr, corp_id: &str, agent_id: i64, secret: &str) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(World {
            corp_id: corp_id.into(),
            agent_id,
            secret: secret.into(),
            departments: BTreeMap::from([(ROOT, SimDepartment { name: "Company".into(), parent: 0 })]),
            member_limit: Some((30, Duration::from_secs(60))),
            ..World::default()
        }));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let sim = Self { state, base_url, client: reqwest::Client::new() };
        let app = Router::new()
            .route("/cgi-bin/gettoken", get(gettoken))
            .route("/cgi-bin/message/send", post(send))
            .route("/cgi-bin/checkin/getcheckindata", post(getcheckindata))
            .route("/cgi-bin/checkin/add_checkin_record", post(add_checkin_record))
            .merge(directory::routes())
            .with_state(sim.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(sim)
    }

    pub fn api_base_url(&self) -> String {
        format!("{}/cgi-bin", self.base_url)
    }

    /// A member in the company's root department, named as their userid.
    pub fn add_member(&self, user_id: &str) {
        self.put_member(user_id, user_id, &[ROOT]);
    }

    pub fn set_callback(&self, setup: CallbackSetup) {
        lock(&self.state).callback = Some(setup);
    }

    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.state).token_lifetime = Some(lifetime);
    }

    /// Ends every token now, as WeCom may do "for operational reasons".
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for expiry in lock(&self.state).tokens.values_mut() {
            *expiry = now;
        }
    }

    pub fn inject(&self, errcode: i64, times: usize) {
        lock(&self.state).faults.extend(std::iter::repeat_n(errcode, times));
    }

    /// A check-in record as WeCom keeps it (fields as `getcheckindata` returns them).
    pub fn add_checkin(&self, record: Value) {
        lock(&self.state).checkins.push(record);
    }

    /// Answers 45009 to getcheckindata calls beyond `per_minute` in any 60 s.
    pub fn set_checkin_rate_limit(&self, per_minute: usize) {
        lock(&self.state).checkin_limit = Some(per_minute);
    }

    /// Caps messages to one member at `limit` per `window` (WeCom: 30 a minute), dropping the
    /// rest silently as WeCom does.
    pub fn set_member_message_limit(&self, limit: usize, window: Duration) {
        lock(&self.state).member_limit = Some((limit, window));
    }

    /// Messages accepted but dropped by the per-member limit.
    pub fn dropped(&self) -> u64 {
        lock(&self.state).dropped
    }

    /// How many calls were refused with 45009 by the rate limit.
    pub fn throttled(&self) -> u64 {
        lock(&self.state).throttled
    }

    /// Every check-in record WeCom holds, written or added.
    pub fn checkins(&self) -> Vec<Value> {
        lock(&self.state).checkins.clone()
    }

    pub fn checkin_calls(&self) -> u64 {
        lock(&self.state).checkin_calls
    }

    /// At the `call`-th `getcheckindata` call, answer `errcode` instead (0: end every token
    /// just before it, so the call meets an expired token).
    pub fn at_checkin_call(&self, call: u64, errcode: i64) {
        lock(&self.state).checkin_events.push((call, errcode));
    }

    pub fn sent(&self) -> Vec<SentText> {
        lock(&self.state).sent.clone()
    }

    pub fn token_requests(&self) -> usize {
        lock(&self.state).token_requests
    }

    fn setup(&self) -> Result<(CallbackSetup, String), String> {
        let state = lock(&self.state);
        let setup = state.callback.clone().ok_or("the app has no callback set up")?;
        Ok((setup, state.corp_id.clone()))
    }

    /// The plaintext of a text message from `user`.
    pub fn text_xml(&self, user: &str, text: &str) -> String {
        let mut state = lock(&self.state);
        state.next += 1;
        format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content><MsgId>{}</MsgId><AgentID>{}</AgentID></xml>",
            state.corp_id,
            now_seconds(),
            7_000_000_000_000_000_000u64 + state.next,
            state.agent_id
        )
    }

    /// The plaintext of a menu click by `user` on the item with `key`.
    pub fn click_xml(&self, user: &str, key: &str) -> String {
        let state = lock(&self.state);
        format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event><EventKey><![CDATA[{key}]]></EventKey><AgentID>{}</AgentID></xml>",
            state.corp_id,
            now_seconds(),
            state.agent_id
        )
    }

    /// A contact change event (`update_user`, `create_party`...) as WeCom has sent it since
    /// 2022: only the ids, no names or details.
    pub fn contact_change_xml(&self, change: &str, user: Option<&str>, party: Option<i64>) -> String {
        let state = lock(&self.state);
        let user = user.map(|u| format!("<UserID><![CDATA[{u}]]></UserID>")).unwrap_or_default();
        let party = party.map(|p| format!("<Id>{p}</Id>")).unwrap_or_default();
        format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event><ChangeType><![CDATA[{change}]]></ChangeType>{user}{party}</xml>",
            state.corp_id,
            now_seconds(),
        )
    }

    /// Tells the app's callback that the directory changed, sealed as WeCom does.
    pub async fn announce_contact_change(
        &self,
        change: &str,
        user: Option<&str>,
        party: Option<i64>,
    ) -> Result<u16, String> {
        let (query, body) = self.seal(&self.contact_change_xml(change, user, party))?;
        self.post(&query, &body).await
    }

    /// Seals `plaintext` as WeCom would for this corp: the query string and the XML body.
    pub fn seal(&self, plaintext: &str) -> Result<(Vec<(String, String)>, String), String> {
        let (setup, corp_id) = self.setup()?;
        let encrypted = encrypt(&setup.encoding_aes_key, plaintext.as_bytes(), corp_id.as_bytes())?;
        let timestamp = now_seconds().to_string();
        let nonce = format!("{}", now_nanos() % 1_000_000_000);
        let signature = signature(&setup.token, &timestamp, &nonce, &encrypted);
        let body = format!(
            "<xml><ToUserName><![CDATA[{corp_id}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{}]]></AgentID></xml>",
            lock(&self.state).agent_id
        );
        let query = vec![
            ("msg_signature".to_owned(), signature),
            ("timestamp".to_owned(), timestamp),
            ("nonce".to_owned(), nonce),
        ];
        Ok((query, body))
    }

    /// Posts a sealed callback (query and body as [`Self::seal`] made them, perhaps altered).
    pub async fn post(&self, query: &[(String, String)], body: &str) -> Result<u16, String> {
        let (setup, _) = self.setup()?;
        let response =
            self.client.post(&setup.url).query(query).body(body.to_owned()).send().await.map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }

    /// A member writes `text` to the app.
    pub async fn say(&self, user: &str, text: &str) -> Result<u16, String> {
        let (query, body) = self.seal(&self.text_xml(user, text))?;
        self.post(&query, &body).await
    }

    /// The URL check WeCom makes when the admin saves the callback settings: the body dakoku
    /// answered with, which must be the echo string.
    pub async fn verify_url(&self, echo: &str) -> Result<(u16, String), String> {
        let (setup, corp_id) = self.setup()?;
        let encrypted = encrypt(&setup.encoding_aes_key, echo.as_bytes(), corp_id.as_bytes())?;
        let timestamp = now_seconds().to_string();
        let nonce = "1234567".to_owned();
        let signature = signature(&setup.token, &timestamp, &nonce, &encrypted);
        let response = self
            .client
            .get(&setup.url)
            .query(&[("msg_signature", signature), ("timestamp", timestamp), ("nonce", nonce), ("echostr", encrypted)])
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        Ok((status, response.text().await.map_err(|e| e.to_string())?))
    }
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// SHA-1 hex of the sorted token, timestamp, nonce and ciphertext.
pub fn signature(token: &str, timestamp: &str, nonce: &str, encrypted: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypted];
    parts.sort();
    let digest = Sha1::digest(parts.join("").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// AES-256-CBC (IV = key[..16]) over random(16) ‖ u32be length ‖ message ‖ corp id, padded
/// PKCS#7-style to 32 bytes.
pub fn encrypt(encoding_aes_key: &str, message: &[u8], corp_id: &[u8]) -> Result<String, String> {
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key = lenient.decode(format!("{encoding_aes_key}=")).map_err(|e| format!("EncodingAESKey: {e}"))?;
    let key: [u8; 32] = key.try_into().map_err(|_| "EncodingAESKey is not 32 bytes")?;
    let random = now_nanos().to_le_bytes();
    let mut plain: Vec<u8> = random.to_vec();
    plain.extend((message.len() as u32).to_be_bytes());
    plain.extend(message);
    plain.extend(corp_id);
    let pad = 32 - plain.len() % 32;
    plain.extend(vec![pad as u8; pad]);
    let len = plain.len();
    let sealed = cbc::Encryptor::<aes::Aes256>::new(&key.into(), key[..16].into())
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .map_err(|_| "padding")?;
    Ok(B64.encode(sealed))
}

#[derive(Deserialize)]
struct TokenQuery {
    corpid: Option<String>,
    corpsecret: Option<String>,
}

async fn gettoken(State(sim): State<WeComSim>, Query(q): Query<TokenQuery>) -> Json<Value> {
    let mut state = lock(&sim.state);
    state.token_requests += 1;
    if q.corpid.as_deref() != Some(state.corp_id.as_str()) {
        return Json(json!({"errcode": 40013, "errmsg": "invalid corpid"}));
    }
    let contact = q.corpsecret.is_some() && q.corpsecret == state.contact_secret;
    if q.corpsecret.as_deref() != Some(state.secret.as_str()) && !contact {
        return Json(json!({"errcode": 40001, "errmsg": "invalid credential, hint: [sim]"}));
    }
    state.next += 1;
    let token = format!("wecom-sim-token-{}-{}", state.next, now_nanos());
    if contact {
        state.contact_tokens.insert(token.clone());
    }
    let lifetime = state.token_lifetime.unwrap_or(Duration::from_secs(7200));
    state.tokens.insert(token.clone(), Instant::now() + lifetime);
    Json(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": lifetime.as_secs()}))
}

#[derive(Deserialize)]
struct TokenParam {
    access_token: Option<String>,
}

async fn send(State(sim): State<WeComSim>, Query(q): Query<TokenParam>, Json(body): Json<Value>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Some(error) = token_error(&state, q.access_token.as_deref()) {
        return Json(error);
    }
    if let Some(code) = state.faults.pop_front() {
        return Json(json!({"errcode": code, "errmsg": "injected by the simulator"}));
    }
    if body["agentid"].as_i64() != Some(state.agent_id) {
        return Json(json!({"errcode": 40056, "errmsg": "invalid agentid"}));
    }
    if body["msgtype"] != "text" {
        return Json(json!({"errcode": 40008, "errmsg": "invalid message type"}));
    }
    let content = body["text"]["content"].as_str().unwrap_or_default().to_owned();
    if content.is_empty() || content.len() > 2048 {
        return Json(json!({"errcode": 44004, "errmsg": "text content is empty or over 2048 bytes"}));
    }
    let touser = body["touser"].as_str().unwrap_or_default().to_owned();
    let known: Vec<&str> = touser.split('|').filter(|u| state.members.contains_key(*u)).collect();
    if known.is_empty() {
        return Json(json!({"errcode": 81013, "errmsg": "user & party & tag all invalid"}));
    }
    if let Some((limit, window)) = state.member_limit {
        let now = Instant::now();
        let seen = state.member_windows.entry(touser.to_lowercase()).or_default();
        while seen.front().is_some_and(|t| now.duration_since(*t) >= window) {
            seen.pop_front();
        }
        if seen.len() >= limit {
            state.dropped += 1;
            state.next += 1;
            return Json(
                json!({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": format!("sim-msg-{}", state.next)}),
            );
        }
        seen.push_back(now);
    }
    state.sent.push(SentText { touser: touser.clone(), agentid: body["agentid"].clone(), content, body: body.clone() });
    state.next += 1;
    Json(json!({"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": format!("sim-msg-{}", state.next)}))
}

/// The event planned for call number `call` of one API, if any; 0 ends every token first.
fn take_event(state: &mut World, events: impl Fn(&mut World) -> &mut Vec<(u64, i64)>, call: u64) -> Option<i64> {
    let planned = events(state);
    let event = planned.iter().position(|(n, _)| *n == call).map(|i| planned.remove(i).1);
    if event == Some(0) {
        let now = Instant::now();
        state.tokens.values_mut().for_each(|expiry| *expiry = now);
    }
    event
}

/// Checks the token of a call: the error to answer with, if any.
fn token_error(state: &World, token: Option<&str>) -> Option<Value> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Some(json!({"errcode": 41001, "errmsg": "access_token missing"}));
    };
    match state.tokens.get(token) {
        None => Some(json!({"errcode": 40014, "errmsg": "invalid access_token"})),
        Some(expiry) if *expiry <= Instant::now() => Some(json!({"errcode": 42001, "errmsg": "access_token expired"})),
        Some(_) => None,
    }
}

async fn getcheckindata(
    State(sim): State<WeComSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = lock(&sim.state);
    let call = state.checkin_calls + 1;
    let event = take_event(&mut state, |w| &mut w.checkin_events, call);
    if let Some(error) = token_error(&state, q.access_token.as_deref()) {
        return Json(error);
    }
    if let Some(limit) = state.checkin_limit {
        let now = Instant::now();
        while state.checkin_window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            state.checkin_window.pop_front();
        }
        if state.checkin_window.len() >= limit {
            state.throttled += 1;
            return Json(json!({"errcode": 45009, "errmsg": "api freq out of limit"}));
        }
        state.checkin_window.push_back(now);
    }
    state.checkin_calls = call;
    if let Some(code) = event.filter(|c| *c != 0) {
        return Json(json!({"errcode": code, "errmsg": "injected by the simulator"}));
    }
    let users: Vec<String> = body["useridlist"]
        .as_array()
        .map(|u| u.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    if users.is_empty() {
        return Json(json!({"errcode": 40058, "errmsg": "useridlist is empty"}));
    }
    if users.len() > 100 {
        return Json(json!({"errcode": 301023, "errmsg": "userlist is over threshold"}));
    }
    let (Some(start), Some(end)) = (body["starttime"].as_i64(), body["endtime"].as_i64()) else {
        return Json(json!({"errcode": 40058, "errmsg": "starttime and endtime are required"}));
    };
    if end < start || end - start > 30 * 86_400 {
        return Json(json!({"errcode": 301024, "errmsg": "the time span is over 30 days"}));
    }
    let records: Vec<Value> = state
        .checkins
        .iter()
        .filter(|r| r["userid"].as_str().is_some_and(|u| users.iter().any(|x| x == u)))
        .filter(|r| r["checkin_time"].as_i64().is_some_and(|t| t >= start && t <= end))
        .cloned()
        .collect();
    Json(json!({"errcode": 0, "errmsg": "ok", "checkindata": records}))
}

/// Writes records into the punch data, as WeCom does after matching them to the user's rule
/// (here: before noon local time is on duty, after is off duty).
async fn add_checkin_record(
    State(sim): State<WeComSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Some(error) = token_error(&state, q.access_token.as_deref()) {
        return Json(error);
    }
    let Some(records) = body["records"].as_array().filter(|r| !r.is_empty()) else {
        return Json(json!({"errcode": 40058, "errmsg": "records is required"}));
    };
    if records.len() > 200 {
        return Json(json!({"errcode": 40058, "errmsg": "at most 200 records"}));
    }
    for record in records {
        let user = record["userid"].as_str().unwrap_or_default();
        if !state.members.contains_key(user) {
            return Json(json!({"errcode": 46004, "errmsg": "user no exist"}));
        }
        let Some(time) = record["checkin_time"].as_i64() else {
            return Json(json!({"errcode": 40058, "errmsg": "checkin_time is required"}));
        };
        if record["notes"].as_str().is_some_and(|n| n.chars().count() > 1024) {
            return Json(json!({"errcode": 40058, "errmsg": "notes over 1024 characters"}));
        }
        let hour_in_china = (time + 8 * 3600).rem_euclid(86_400) / 3600;
        let kind = if hour_in_china < 12 { "上班打卡" } else { "下班打卡" };
        state.checkins.push(json!({
            "userid": user, "checkin_type": kind, "exception_type": "", "checkin_time": time,
            "notes": record["notes"], "deviceid": record["device_detail"],
        }));
    }
    Json(json!({"errcode": 0, "errmsg": "ok"}))
}
