//! WeCom's org directory as a self-built app sees it: `department/simplelist` (ids only),
//! `department/get`, `user/simplelist` per department (no recursion), and the writes that only
//! the 通讯录同步 (contact sync) secret may make (48002 otherwise), with WeCom's checks:
//! 60008 a name taken under the same parent, 60005/60006 a department that still has members or
//! sub-departments, 60102 a userid taken, 60111 an unknown userid, 60003 an unknown department,
//! 60129 a member with neither mobile nor e-mail.

use super::{lock, take_event, token_error, SimDepartment, SimMember, TokenParam, WeComSim, World, ROOT};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn routes() -> Router<WeComSim> {
    Router::new()
        .route("/cgi-bin/department/simplelist", get(department_list))
        .route("/cgi-bin/department/get", get(department_get))
        .route("/cgi-bin/user/simplelist", get(user_list))
        .route("/cgi-bin/department/create", post(department_create))
        .route("/cgi-bin/department/update", post(department_update))
        .route("/cgi-bin/department/delete", get(department_delete))
        .route("/cgi-bin/user/create", post(user_create))
        .route("/cgi-bin/user/update", post(user_update))
        .route("/cgi-bin/user/delete", get(user_delete))
}

impl WeComSim {
    /// Lets `secret` act as the contact-sync secret (it may write the directory).
    pub fn enable_contact_sync(&self, secret: &str) {
        lock(&self.state).contact_secret = Some(secret.into());
    }

    pub fn put_department(&self, id: i64, name: &str, parent: i64) {
        lock(&self.state).departments.insert(id, SimDepartment { name: name.into(), parent });
    }

    pub fn remove_department(&self, id: i64) {
        lock(&self.state).departments.remove(&id);
    }

    pub fn put_member(&self, user_id: &str, name: &str, departments: &[i64]) {
        let member = SimMember { name: name.into(), department: departments.to_vec(), email: None };
        lock(&self.state).members.insert(user_id.into(), member);
    }

    pub fn remove_member(&self, user_id: &str) {
        lock(&self.state).members.remove(user_id);
    }

    pub fn departments(&self) -> Vec<(i64, SimDepartment)> {
        lock(&self.state).departments.iter().map(|(id, d)| (*id, d.clone())).collect()
    }

    pub fn member(&self, user_id: &str) -> Option<SimMember> {
        lock(&self.state).members.get(user_id).cloned()
    }

    /// Calls made to the directory APIs.
    pub fn directory_calls(&self) -> u64 {
        lock(&self.state).directory_calls
    }

    /// At directory call number `call`: answer `errcode`, or with 0 end every token first.
    pub fn at_directory_call(&self, call: u64, errcode: i64) {
        lock(&self.state).directory_events.push((call, errcode));
    }
}

/// The common front of every directory call: the planned event, the token, the write right.
fn admit(state: &mut World, token: Option<&str>, writes: bool) -> Result<(), Json<Value>> {
    let call = state.directory_calls + 1;
    let event = take_event(state, |w| &mut w.directory_events, call);
    if let Some(error) = token_error(state, token) {
        return Err(Json(error));
    }
    state.directory_calls = call;
    if let Some(code) = event.filter(|c| *c != 0) {
        return Err(Json(json!({"errcode": code, "errmsg": "injected by the simulator"})));
    }
    if writes && !token.is_some_and(|t| state.contact_tokens.contains(t)) {
        return Err(Json(
            json!({"errcode": 48002, "errmsg": "api forbidden, hint: [sim] only the contact-sync secret may write"}),
        ));
    }
    Ok(())
}

fn ok(extra: Value) -> Json<Value> {
    let mut body = json!({"errcode": 0, "errmsg": "ok"});
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    Json(body)
}

fn error(code: i64, message: &str) -> Json<Value> {
    Json(json!({"errcode": code, "errmsg": message}))
}

fn number(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

async fn department_list(State(sim): State<WeComSim>, Query(q): Query<TokenParam>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), false) {
        return e;
    }
    let ids: Vec<Value> = state
        .departments
        .iter()
        .enumerate()
        .map(|(order, (id, d))| json!({"id": id, "parentid": d.parent, "order": order}))
        .collect();
    ok(json!({"department_id": ids}))
}

#[derive(Deserialize)]
struct IdParam {
    access_token: Option<String>,
    id: Option<String>,
    userid: Option<String>,
    department_id: Option<String>,
}

async fn department_get(State(sim): State<WeComSim>, Query(q): Query<IdParam>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), false) {
        return e;
    }
    let id = q.id.as_deref().and_then(|i| i.parse::<i64>().ok()).unwrap_or(0);
    match state.departments.get(&id) {
        Some(d) => ok(json!({"department": {"id": id, "name": d.name, "parentid": d.parent, "department_leader": []}})),
        None => error(60003, "department not found"),
    }
}

async fn user_list(State(sim): State<WeComSim>, Query(q): Query<IdParam>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), false) {
        return e;
    }
    let Some(department) = q.department_id.as_deref().and_then(|d| d.parse::<i64>().ok()) else {
        return error(40058, "department_id is required");
    };
    if !state.departments.contains_key(&department) {
        return error(60003, "department not found");
    }
    let users: Vec<Value> = state
        .members
        .iter()
        .filter(|(_, m)| m.department.contains(&department))
        .map(|(id, m)| json!({"userid": id, "name": m.name, "department": m.department, "open_userid": format!("open-{id}")}))
        .collect();
    ok(json!({"userlist": users}))
}

/// A department's name and parent as a write gives them, checked as WeCom checks them.
fn placed(state: &World, body: &Value, id: Option<i64>) -> Result<(String, i64), Json<Value>> {
    let name = body["name"].as_str().unwrap_or_default().trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 || name.contains(['\\', ':', '*', '?', '"', '<', '>', '|']) {
        return Err(error(60001, "invalid department name"));
    }
    let parent = number(&body["parentid"]).unwrap_or(0);
    if !state.departments.contains_key(&parent) {
        return Err(error(60004, "parent department not found"));
    }
    if state.departments.iter().any(|(other, d)| Some(*other) != id && d.parent == parent && d.name == name) {
        return Err(error(60008, "department name exists under the parent"));
    }
    Ok((name, parent))
}

async fn department_create(
    State(sim): State<WeComSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), true) {
        return e;
    }
    let (name, parent) = match placed(&state, &body, None) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let id = state.departments.keys().max().copied().unwrap_or(ROOT) + 1;
    state.departments.insert(id, SimDepartment { name, parent });
    ok(json!({"id": id}))
}

async fn department_update(
    State(sim): State<WeComSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), true) {
        return e;
    }
    let Some(id) = number(&body["id"]).filter(|id| state.departments.contains_key(id)) else {
        return error(60003, "department not found");
    };
    let (name, parent) = match placed(&state, &body, Some(id)) {
        Ok(p) => p,
        Err(e) => return e,
    };
    state.departments.insert(id, SimDepartment { name, parent });
    ok(json!({}))
}

async fn department_delete(State(sim): State<WeComSim>, Query(q): Query<IdParam>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), true) {
        return e;
    }
    let Some(id) = q.id.as_deref().and_then(|i| i.parse::<i64>().ok()).filter(|id| state.departments.contains_key(id))
    else {
        return error(60003, "department not found");
    };
    if state.members.values().any(|m| m.department.contains(&id)) {
        return error(60005, "department contains members");
    }
    if state.departments.values().any(|d| d.parent == id) {
        return error(60006, "department contains sub-departments");
    }
    state.departments.remove(&id);
    ok(json!({}))
}

/// A member as a write gives them, checked as WeCom checks them.
fn member_of(state: &World, body: &Value, existing: Option<&SimMember>) -> Result<SimMember, Json<Value>> {
    let name = body["name"].as_str().unwrap_or_default().trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(error(60112, "invalid member name"));
    }
    let department: Vec<i64> =
        body["department"].as_array().map(|d| d.iter().filter_map(number).collect()).unwrap_or_default();
    if department.is_empty() || department.iter().any(|d| !state.departments.contains_key(d)) {
        return Err(error(60003, "department not found"));
    }
    let email = body["email"].as_str().map(str::to_owned).or_else(|| existing.and_then(|m| m.email.clone()));
    if email.is_none() && body["mobile"].as_str().is_none() && existing.is_none() {
        return Err(error(60129, "mobile and email can not be both empty"));
    }
    Ok(SimMember { name, department, email })
}

async fn user_create(State(sim): State<WeComSim>, Query(q): Query<TokenParam>, Json(body): Json<Value>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), true) {
        return e;
    }
    let user = body["userid"].as_str().unwrap_or_default().to_owned();
    let valid =
        !user.is_empty() && user.len() <= 64 && user.chars().all(|c| c.is_ascii_alphanumeric() || "_-@.".contains(c));
    if !valid {
        return error(60111, "invalid userid");
    }
    if state.members.keys().any(|k| k.eq_ignore_ascii_case(&user)) {
        return error(60102, "userid existed");
    }
    match member_of(&state, &body, None) {
        Ok(member) => {
            state.members.insert(user, member);
            ok(json!({}))
        }
        Err(e) => e,
    }
}

async fn user_update(State(sim): State<WeComSim>, Query(q): Query<TokenParam>, Json(body): Json<Value>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), true) {
        return e;
    }
    let user = body["userid"].as_str().unwrap_or_default().to_owned();
    let Some(existing) = state.members.get(&user).cloned() else { return error(60111, "userid not found") };
    match member_of(&state, &body, Some(&existing)) {
        Ok(member) => {
            state.members.insert(user, member);
            ok(json!({}))
        }
        Err(e) => e,
    }
}

async fn user_delete(State(sim): State<WeComSim>, Query(q): Query<IdParam>) -> Json<Value> {
    let mut state = lock(&sim.state);
    if let Err(e) = admit(&mut state, q.access_token.as_deref(), true) {
        return e;
    }
    match q.userid.as_deref().and_then(|u| state.members.remove(u)) {
        Some(_) => ok(json!({})),
        None => error(60111, "userid not found"),
    }
}
