//! A DingTalk (钉钉) stand-in for an internal app, on the `oapi` host: `gettoken` (a token
//! reused while valid; 40014 unknown, 42001 expired), the per-app, per-API limits (40 a
//! second → 90018, 1,500 a minute → 90006) and the IP ban (10,000 calls in 20 s → the deny
//! page for 5 minutes), attendance (`attendance/list` with its 50 users / 7 days / 50 rows
//! rules, `listRecord`, `record/upload`), the org directory (`topapi/v2` departments and
//! users, mobile numbers unique), work notifications, robot session webhooks. Its members
//! write to the app robot (signed callbacks with a session webhook) and its events are
//! sealed for the AppKey and posted as DingTalk's HTTP push does; the sealed "success"
//! answer is checked.

use crate::wecom::{encrypt, signature};
use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD as B64};
use base64::Engine;
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const ROOT: i64 = 1;
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

/// Where the app receives events and robot messages.
#[derive(Clone, Debug)]
pub struct CallbackSetup {
    pub event_url: String,
    pub robot_url: String,
    pub token: String,
    pub aes_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimUser {
    pub name: String,
    pub mobile: String,
    pub email: Option<String>,
    pub departments: Vec<i64>,
}

/// A message the app sent: a work notification or a reply in a robot conversation.
#[derive(Clone, Debug)]
pub struct Sent {
    pub to: String,
    pub content: String,
    /// The robot conversation, or `None` for a work notification.
    pub session: Option<String>,
}

struct Session {
    user: String,
    expires_ms: i64,
}

#[derive(Default)]
struct World {
    app_key: String,
    app_secret: String,
    agent_id: i64,
    callback: Option<CallbackSetup>,
    tokens: HashMap<String, Instant>,
    token_lifetime: Option<Duration>,
    token_requests: usize,
    /// Per-app, per-API limits: (per second, per minute).
    limits: (usize, usize),
    windows: HashMap<String, VecDeque<Instant>>,
    throttled: u64,
    ip_limit: usize,
    ip_window: VecDeque<Instant>,
    banned_until: Option<Instant>,
    /// Calls answered, per API.
    calls: HashMap<String, u64>,
    /// Attempts, answered or not, per API: what planned answers count.
    attempts: HashMap<String, u64>,
    /// (path, attempt number, code): at that attempt on that API, answer the code (0: end every
    /// token first).
    planned: Vec<(String, u64, i64)>,
    next: i64,
    results: Vec<Value>,
    records: Vec<Value>,
    uploads: u64,
    upload_hold: Option<Duration>,
    /// Uploads to store and then answer "system busy" (-1), as when an answer is lost.
    lost_answers: usize,
    departments: BTreeMap<i64, (String, i64)>,
    users: BTreeMap<String, SimUser>,
    sessions: HashMap<String, Session>,
    sent: Vec<Sent>,
    /// Work notifications DingTalk accepted but did not deliver (same text, same user, same day).
    dropped: u64,
    delivered_today: HashSet<(String, String)>,
}

fn lock(state: &Mutex<World>) -> MutexGuard<'_, World> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

#[derive(Clone)]
pub struct DingTalkSim {
    state: Arc<Mutex<World>>,
    pub base_url: String,
    client: reqwest::Client,
}

impl DingTalkSim {
    pub async fn start(addr: SocketAddr, app_key: &str, app_secret: &str, agent_id: i64) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(World {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
            agent_id,
            limits: (40, 1500),
            ip_limit: 10_000,
            next: 1000,
            departments: BTreeMap::from([(ROOT, ("Company".to_owned(), 0))]),
            ..World::default()
        }));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let sim = Self { state, base_url, client: reqwest::Client::new() };
        let app = Router::new()
            .route("/gettoken", get(gettoken))
            .route("/attendance/list", post(attendance_list))
            .route("/attendance/listRecord", post(attendance_records))
            .route("/topapi/attendance/record/upload", post(upload))
            .route("/topapi/v2/department/listsub", post(department_listsub))
            .route("/topapi/v2/department/create", post(department_create))
            .route("/topapi/v2/department/update", post(department_update))
            .route("/topapi/v2/department/delete", post(department_delete))
            .route("/topapi/v2/user/list", post(user_list))
            .route("/topapi/v2/user/get", post(user_get))
            .route("/topapi/v2/user/getbymobile", post(user_by_mobile))
            .route("/topapi/v2/user/create", post(user_create))
            .route("/topapi/v2/user/update", post(user_update))
            .route("/topapi/v2/user/delete", post(user_delete))
            .route("/topapi/message/corpconversation/asyncsend_v2", post(notify))
            .route("/robot/sendBySession", post(session_reply))
            .with_state(sim.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(sim)
    }

    pub fn set_callback(&self, setup: CallbackSetup) {
        lock(&self.state).callback = Some(setup);
    }

    pub fn set_token_lifetime(&self, lifetime: Duration) {
        lock(&self.state).token_lifetime = Some(lifetime);
    }

    pub fn token_requests(&self) -> usize {
        lock(&self.state).token_requests
    }

    /// Per-app, per-API limits (DingTalk: 40 a second, 1,500 a minute).
    pub fn set_limits(&self, per_second: usize, per_minute: usize) {
        lock(&self.state).limits = (per_second, per_minute);
    }

    /// Calls from one address in 20 s before the 5-minute ban.
    pub fn set_ip_limit(&self, calls: usize) {
        lock(&self.state).ip_limit = calls;
    }

    /// Calls refused by a limit (90018 / 90006 / the ban).
    pub fn throttled(&self) -> u64 {
        lock(&self.state).throttled
    }

    pub fn calls(&self, path: &str) -> u64 {
        lock(&self.state).calls.get(path).copied().unwrap_or(0)
    }

    /// At attempt number `call` on `path`: answer `errcode` (0: end every token first).
    pub fn at_call(&self, path: &str, call: u64, errcode: i64) {
        lock(&self.state).planned.push((path.into(), call, errcode));
    }

    pub fn put_department(&self, id: i64, name: &str, parent: i64) {
        lock(&self.state).departments.insert(id, (name.into(), parent));
    }

    pub fn departments(&self) -> BTreeMap<i64, (String, i64)> {
        lock(&self.state).departments.clone()
    }

    pub fn put_user(&self, user_id: &str, name: &str, mobile: &str, departments: &[i64]) {
        let user = SimUser { name: name.into(), mobile: mobile.into(), email: None, departments: departments.to_vec() };
        lock(&self.state).users.insert(user_id.into(), user);
    }

    pub fn remove_user(&self, user_id: &str) {
        lock(&self.state).users.remove(user_id);
    }

    pub fn users(&self) -> BTreeMap<String, SimUser> {
        lock(&self.state).users.clone()
    }

    /// A punch as DingTalk's attendance records it: the result row and the raw record.
    pub fn punch(&self, user: &str, on_duty: bool, at_ms: i64, time_result: &str, location_result: &str) -> i64 {
        let mut state = lock(&self.state);
        state.next += 1;
        let id = state.next;
        let check_type = if on_duty { "OnDuty" } else { "OffDuty" };
        state.results.push(json!({
            "id": id, "recordId": id, "userId": user, "checkType": check_type, "timeResult": time_result,
            "locationResult": location_result, "userCheckTime": at_ms, "baseCheckTime": at_ms,
            "workDate": work_date_ms(at_ms), "sourceType": "USER", "groupId": 1, "planId": 1,
        }));
        state.records.push(json!({
            "id": id, "userId": user, "checkType": check_type, "timeResult": time_result,
            "locationResult": location_result, "userCheckTime": at_ms, "sourceType": "USER", "isLegal": "Y",
        }));
        id
    }

    /// A scheduled slot nobody punched: DingTalk still lists it, as NotSigned.
    pub fn missed(&self, user: &str, on_duty: bool, base_ms: i64) {
        let mut state = lock(&self.state);
        state.next += 1;
        let id = state.next;
        state.results.push(json!({
            "id": id, "userId": user, "checkType": if on_duty { "OnDuty" } else { "OffDuty" },
            "timeResult": "NotSigned", "locationResult": "NotSigned", "baseCheckTime": base_ms,
            "workDate": work_date_ms(base_ms), "sourceType": "SYSTEM",
        }));
    }

    /// Raw records uploaded by the app.
    pub fn uploads(&self) -> u64 {
        lock(&self.state).uploads
    }

    /// The next `n` uploads are stored, and then answered with -1 (system busy).
    pub fn lose_upload_answers(&self, n: usize) {
        lock(&self.state).lost_answers = n;
    }

    pub fn records(&self) -> Vec<Value> {
        lock(&self.state).records.clone()
    }

    /// Keeps uploads that long after storing them before answering (an answer that is lost
    /// when the caller dies).
    pub fn hold_uploads(&self, hold: Option<Duration>) {
        lock(&self.state).upload_hold = hold;
    }

    pub fn sent(&self) -> Vec<Sent> {
        lock(&self.state).sent.clone()
    }

    pub fn dropped(&self) -> u64 {
        lock(&self.state).dropped
    }

    fn setup(&self) -> Result<(CallbackSetup, String, String), String> {
        let state = lock(&self.state);
        let setup = state.callback.clone().ok_or("no callback set")?;
        Ok((setup, state.app_key.clone(), state.app_secret.clone()))
    }

    /// The robot message a member sends, as DingTalk posts it, with the headers it signs.
    pub fn robot_message(&self, user: &str, conversation: Option<&str>, text: &str) -> (Value, i64) {
        let mut state = lock(&self.state);
        state.next += 1;
        let session = format!("session-{}", state.next);
        let expires_ms = now_ms() + 90 * 60 * 1000;
        state.sessions.insert(session.clone(), Session { user: user.into(), expires_ms });
        let body = json!({
            "msgId": format!("msg{}", state.next),
            "msgtype": "text",
            "text": {"content": format!(" {text}")},
            "senderStaffId": user,
            "senderNick": user,
            "senderId": format!("$:LWCP_v1:${user}"),
            "conversationType": if conversation.is_some() { "2" } else { "1" },
            "conversationId": conversation.unwrap_or("cid-direct"),
            "chatbotUserId": "robot",
            "robotCode": state.app_key,
            "sessionWebhook": format!("{}/robot/sendBySession?session={session}", self.base_url),
            "sessionWebhookExpiredTime": expires_ms,
            "createAt": now_ms(),
        });
        (body, now_ms())
    }

    /// Posts a robot message with its `timestamp` and `sign` headers (as given).
    pub async fn post_robot(&self, body: &Value, timestamp: &str, sign: &str) -> Result<u16, String> {
        let (setup, _, _) = self.setup()?;
        let response = self
            .client
            .post(&setup.robot_url)
            .header("timestamp", timestamp)
            .header("sign", sign)
            .json(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        Ok(response.status().as_u16())
    }

    /// A member writes to the app robot (in a group conversation, if given).
    pub async fn say(&self, user: &str, conversation: Option<&str>, text: &str) -> Result<u16, String> {
        let (_, _, secret) = self.setup()?;
        let (body, ts) = self.robot_message(user, conversation, text);
        let ts = ts.to_string();
        self.post_robot(&body, &ts, &robot_sign(&ts, &secret)).await
    }

    /// Seals an event for the app: the query and the `{"encrypt"}` body.
    pub fn seal(&self, event: &Value) -> Result<(Vec<(String, String)>, Value), String> {
        let (setup, app_key, _) = self.setup()?;
        let encrypted = encrypt(&setup.aes_key, event.to_string().as_bytes(), app_key.as_bytes())?;
        let timestamp = now_ms().to_string();
        let nonce = format!("n{}", now_ms() % 1_000_000);
        let sig = signature(&setup.token, &timestamp, &nonce, &encrypted);
        let query = vec![("msg_signature".into(), sig), ("timestamp".into(), timestamp), ("nonce".into(), nonce)];
        Ok((query, json!({"encrypt": encrypted})))
    }

    /// Posts a sealed event and checks the answer is the sealed "success" DingTalk expects:
    /// `Ok(status)` when it is, `Err` with what is wrong otherwise.
    pub async fn post_event(&self, query: &[(String, String)], body: &Value) -> Result<u16, String> {
        let (setup, app_key, _) = self.setup()?;
        let response =
            self.client.post(&setup.event_url).query(query).json(body).send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        if status != 200 {
            return Ok(status);
        }
        let reply: Value = response.json().await.map_err(|e| format!("the answer is not JSON: {e}"))?;
        let text = |k: &str| reply.get(k).and_then(Value::as_str).ok_or(format!("the answer has no {k}: {reply}"));
        let (encrypted, ts, nonce) = (text("encrypt")?, text("timeStamp")?, text("nonce")?);
        if signature(&setup.token, ts, nonce, encrypted) != text("msg_signature")? {
            return Err("the answer's msg_signature does not verify".into());
        }
        let (message, receiver) = decrypt(&setup.aes_key, encrypted)?;
        if message != b"success" || receiver != app_key.as_bytes() {
            return Err(format!("the answer is {:?} for {:?}", String::from_utf8_lossy(&message), receiver));
        }
        Ok(status)
    }

    pub async fn send_event(&self, event: &Value) -> Result<u16, String> {
        let (query, body) = self.seal(event)?;
        self.post_event(&query, &body).await
    }

    /// DingTalk's punch event for people who just punched (no verdicts in it).
    pub async fn announce_punch(&self, users: &[&str], at_ms: i64) -> Result<u16, String> {
        let event_id = format!("evt{}", lock(&self.state).next + now_ms());
        let data: Vec<Value> = users
            .iter()
            .map(|u| json!({"userId": u, "checkTime": at_ms, "locationResult": "Normal", "locationMethod": "MAP", "checkByUser": true, "bizId": event_id}))
            .collect();
        self.send_event(&json!({"EventType": "attendance_check_record", "EventTime": now_ms(), "BizId": event_id, "eventId": event_id, "dataList": data})).await
    }
}

/// Base64(HMAC-SHA256(secret, timestamp + "\n" + secret)).
pub fn robot_sign(timestamp: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(format!("{timestamp}\n{secret}").as_bytes());
    B64.encode(mac.finalize().into_bytes())
}

/// Opens a sealed message: the message and the receive id.
fn decrypt(aes_key: &str, encrypted: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let lenient = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    );
    let key: [u8; 32] =
        lenient.decode(format!("{aes_key}=")).ok().and_then(|k| k.try_into().ok()).ok_or("aes_key is not 32 bytes")?;
    let mut data = B64.decode(encrypted).map_err(|e| e.to_string())?;
    let plain = cbc::Decryptor::<aes::Aes256>::new(&key.into(), key[..16].into())
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .map_err(|_| "not whole blocks")?;
    let pad = *plain.last().ok_or("empty")? as usize;
    let plain = &plain[..plain.len().checked_sub(pad).ok_or("bad pad")?];
    let len = u32::from_be_bytes(plain.get(16..20).ok_or("short")?.try_into().map_err(|_| "short")?) as usize;
    let message = plain.get(20..20 + len).ok_or("bad length")?.to_vec();
    Ok((message, plain[20 + len..].to_vec()))
}

fn work_date_ms(at_ms: i64) -> i64 {
    let local = ZONE.timestamp_millis_opt(at_ms).single().map(|t| t.date_naive()).unwrap_or_default();
    ZONE.from_local_datetime(&local.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

#[derive(Deserialize)]
struct TokenQuery {
    appkey: Option<String>,
    appsecret: Option<String>,
}

async fn gettoken(State(sim): State<DingTalkSim>, Query(q): Query<TokenQuery>) -> Json<Value> {
    let mut state = lock(&sim.state);
    state.token_requests += 1;
    if q.appkey.as_deref() != Some(state.app_key.as_str()) || q.appsecret.as_deref() != Some(state.app_secret.as_str())
    {
        return Json(json!({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}));
    }
    // While a token is valid, DingTalk hands out the same one.
    let now = Instant::now();
    let lifetime = state.token_lifetime.unwrap_or(Duration::from_secs(7200));
    if let Some((token, expiry)) = state.tokens.iter().find(|(_, e)| **e > now).map(|(t, e)| (t.clone(), *e)) {
        let left = expiry.duration_since(now).as_secs();
        return Json(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": left}));
    }
    state.next += 1;
    let token = format!("dingtalk-sim-token-{}-{}", state.next, now_ms());
    state.tokens.insert(token.clone(), now + lifetime);
    Json(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": lifetime.as_secs()}))
}

#[derive(Deserialize)]
struct TokenParam {
    access_token: Option<String>,
    session: Option<String>,
}

fn error(code: i64, message: &str) -> Json<Value> {
    Json(json!({"errcode": code, "errmsg": message}))
}

fn ok(extra: Value) -> Json<Value> {
    let mut body = json!({"errcode": 0, "errmsg": "ok"});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    Json(body)
}

/// The front of every business call: the IP ban, the token, the per-API limits and any
/// planned answer.
fn admit(state: &mut World, path: &str, token: Option<&str>) -> Result<(), Json<Value>> {
    let now = Instant::now();
    if state.banned_until.is_some_and(|until| until > now) {
        state.throttled += 1;
        return Err(Json(json!({"status": 1111, "wait": 5, "source": "x5", "punish": "deny", "uuid": "sim"})));
    }
    while state.ip_window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(20)) {
        state.ip_window.pop_front();
    }
    state.ip_window.push_back(now);
    if state.ip_window.len() > state.ip_limit {
        state.banned_until = Some(now + Duration::from_secs(300));
        state.throttled += 1;
        return Err(Json(json!({"status": 1111, "wait": 5, "source": "x5", "punish": "deny", "uuid": "sim"})));
    }
    let attempt = state.attempts.get(path).copied().unwrap_or(0) + 1;
    state.attempts.insert(path.to_owned(), attempt);
    let planned =
        state.planned.iter().position(|(p, n, _)| p == path && *n == attempt).map(|i| state.planned.remove(i).2);
    if planned == Some(0) {
        state.tokens.values_mut().for_each(|expiry| *expiry = now);
    }
    match token.filter(|t| !t.is_empty()).map(|t| state.tokens.get(t)) {
        None | Some(None) => return Err(error(40014, "不合法的access_token")),
        Some(Some(expiry)) if *expiry <= now => return Err(error(42001, "access_token超时")),
        Some(Some(_)) => {}
    }
    let (per_second, per_minute) = state.limits;
    let window = state.windows.entry(path.to_owned()).or_default();
    while window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
        window.pop_front();
    }
    let last_second = window.iter().filter(|t| now.duration_since(**t) < Duration::from_secs(1)).count();
    if last_second >= per_second {
        state.throttled += 1;
        return Err(error(90018, "当前应用调用该接口过于频繁"));
    }
    if window.len() >= per_minute {
        state.throttled += 1;
        return Err(error(90006, "当前应用调用该接口每分钟超过限制"));
    }
    if let Some(code) = planned.filter(|c| *c != 0) {
        if [90002, 90005, 90006, 90018, 90019].contains(&code) {
            state.throttled += 1;
        }
        return Err(error(code, "injected by the simulator"));
    }
    window.push_back(now);
    *state.calls.entry(path.to_owned()).or_default() += 1;
    Ok(())
}

macro_rules! front {
    ($sim:expr, $path:expr, $q:expr) => {{
        let mut state = lock(&$sim.state);
        if let Err(answer) = admit(&mut state, $path, $q.access_token.as_deref()) {
            return answer;
        }
        state
    }};
}

// After `front!`, which the directory handlers use too.
mod directory;
use directory::*;

fn strings(value: &Value) -> Vec<String> {
    value.as_array().map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect()).unwrap_or_default()
}

fn parse_time(value: &Value) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(value.as_str()?, "%Y-%m-%d %H:%M:%S").ok()
}

async fn attendance_list(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let state = front!(sim, "/attendance/list", q);
    let users = strings(&body["userIdList"]);
    let (Some(from), Some(to)) = (parse_time(&body["workDateFrom"]), parse_time(&body["workDateTo"])) else {
        return error(400002, "workDateFrom and workDateTo are required as yyyy-MM-dd HH:mm:ss");
    };
    let (from, to): (NaiveDate, NaiveDate) = (from.date(), to.date());
    if users.is_empty() || users.len() > 50 {
        return error(400002, "userIdList must hold 1 to 50 users");
    }
    if to < from || (to - from).num_days() > 6 {
        return error(400002, "the span of workDateFrom and workDateTo is at most 7 days");
    }
    let offset = body["offset"].as_i64().unwrap_or(0).max(0) as usize;
    let limit = body["limit"].as_i64().unwrap_or(50);
    if !(1..=50).contains(&limit) {
        return error(400002, "limit is at most 50");
    }
    let mut rows: Vec<&Value> = state
        .results
        .iter()
        .filter(|r| r["userId"].as_str().is_some_and(|u| users.iter().any(|x| x == u)))
        .filter(|r| {
            let day = ZONE.timestamp_millis_opt(r["workDate"].as_i64().unwrap_or(0)).single().map(|t| t.date_naive());
            day.is_some_and(|d| d >= from && d <= to)
        })
        .collect();
    rows.sort_by_key(|r| (r["userId"].as_str().unwrap_or_default().to_owned(), r["baseCheckTime"].as_i64()));
    let page: Vec<Value> = rows.iter().skip(offset).take(limit as usize).map(|r| (*r).clone()).collect();
    let more = rows.len() > offset + page.len();
    ok(json!({"recordresult": page, "hasMore": more}))
}

async fn attendance_records(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let state = front!(sim, "/attendance/listRecord", q);
    let users = strings(&body["userIds"]);
    let (Some(from), Some(to)) = (parse_time(&body["checkDateFrom"]), parse_time(&body["checkDateTo"])) else {
        return error(400002, "checkDateFrom and checkDateTo are required");
    };
    if users.is_empty() || users.len() > 50 || to < from || (to - from).num_days() > 7 {
        return error(400002, "at most 50 users and 7 days");
    }
    let ms = |t: NaiveDateTime| ZONE.from_local_datetime(&t).single().map(|t| t.timestamp_millis()).unwrap_or(0);
    let (from, to) = (ms(from), ms(to));
    let rows: Vec<Value> = state
        .records
        .iter()
        .filter(|r| r["userId"].as_str().is_some_and(|u| users.iter().any(|x| x == u)))
        .filter(|r| r["userCheckTime"].as_i64().is_some_and(|t| t >= from && t <= to))
        .cloned()
        .collect();
    ok(json!({"recordresult": rows}))
}

async fn upload(State(sim): State<DingTalkSim>, Query(q): Query<TokenParam>, Json(body): Json<Value>) -> Json<Value> {
    let hold = {
        let mut state = front!(sim, "/topapi/attendance/record/upload", q);
        let user = body["userid"].as_str().unwrap_or_default().to_owned();
        if !state.users.contains_key(&user) {
            return error(60121, "找不到该用户");
        }
        if body["device_name"].as_str().is_none_or(str::is_empty)
            || body["device_id"].as_str().is_none_or(str::is_empty)
        {
            return error(400002, "device_name and device_id are required");
        }
        let Some(at) = body["user_check_time"].as_i64() else {
            return error(400002, "user_check_time is required (ms)");
        };
        if at < now_ms() - 180 * 86_400_000 || at > now_ms() + 60_000 {
            return error(400002, "user_check_time must be within the last 180 days");
        }
        state.next += 1;
        let id = state.next;
        state.uploads += 1;
        // Matched to the user's group as DingTalk would: before noon on duty, after off duty.
        let hour = ZONE.timestamp_millis_opt(at).single().map(|t| chrono::Timelike::hour(&t)).unwrap_or(0);
        let check_type = if hour < 12 { "OnDuty" } else { "OffDuty" };
        state.records.push(json!({"id": id, "userId": user, "checkType": check_type, "timeResult": "Normal", "locationResult": "Normal", "userCheckTime": at, "sourceType": "ATM", "deviceId": body["device_id"], "isLegal": "Y"}));
        state.results.push(json!({"id": id, "recordId": id, "userId": user, "checkType": check_type, "timeResult": "Normal", "locationResult": "Normal", "userCheckTime": at, "baseCheckTime": at, "workDate": work_date_ms(at), "sourceType": "ATM"}));
        if state.lost_answers > 0 {
            state.lost_answers -= 1;
            return error(-1, "系统繁忙");
        }
        state.upload_hold
    };
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    ok(json!({"success": true, "request_id": "sim"}))
}

async fn notify(State(sim): State<DingTalkSim>, Query(q): Query<TokenParam>, Json(body): Json<Value>) -> Json<Value> {
    let mut state = front!(sim, "/topapi/message/corpconversation/asyncsend_v2", q);
    if body["agent_id"].as_i64() != Some(state.agent_id) {
        return error(400002, "agent_id is not this app's");
    }
    let users: Vec<String> = body["userid_list"]
        .as_str()
        .unwrap_or_default()
        .split(',')
        .map(str::to_owned)
        .filter(|u| !u.is_empty())
        .collect();
    if users.is_empty() || users.len() > 100 {
        return error(400002, "userid_list holds 1 to 100 users");
    }
    if body["msg"]["msgtype"] != "text" {
        return error(400002, "msgtype");
    }
    let content = body["msg"]["text"]["content"].as_str().unwrap_or_default().to_owned();
    if content.is_empty() || content.len() > 2048 {
        return error(400002, "content is 1 to 2048 bytes");
    }
    for user in users {
        // The same text to the same person is delivered once a day; the call still succeeds.
        if !state.delivered_today.insert((user.clone(), content.clone())) {
            state.dropped += 1;
            continue;
        }
        state.sent.push(Sent { to: user, content: content.clone(), session: None });
    }
    state.next += 1;
    ok(json!({"task_id": state.next, "request_id": "sim"}))
}

async fn session_reply(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = lock(&sim.state);
    let session = q.session.unwrap_or_default();
    let Some(live) = state.sessions.get(&session) else { return error(300001, "session不存在") };
    if live.expires_ms <= now_ms() {
        return error(300002, "session已过期");
    }
    let user = live.user.clone();
    if body["msgtype"] != "text" {
        return error(400002, "msgtype");
    }
    let content = body["text"]["content"].as_str().unwrap_or_default().to_owned();
    state.sent.push(Sent { to: user, content, session: Some(session) });
    ok(json!({}))
}
