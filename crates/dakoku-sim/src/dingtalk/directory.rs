//! The `topapi/v2` org directory as the simulator serves it: departments and members, keyed
//! by mobile.

use super::*;

pub(super) fn department_of(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

pub(super) async fn department_listsub(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let state = front!(sim, "/topapi/v2/department/listsub", q);
    let Some(parent) = department_of(&body["dept_id"]).filter(|d| state.departments.contains_key(d)) else {
        return error(60003, "部门不存在");
    };
    let children: Vec<Value> = state
        .departments
        .iter()
        .filter(|(_, (_, p))| *p == parent)
        .map(|(id, (name, p))| json!({"dept_id": id, "name": name, "parent_id": p}))
        .collect();
    ok(json!({"result": children}))
}

pub(super) fn placed(state: &World, body: &Value, id: Option<i64>) -> Result<(String, i64), Json<Value>> {
    let name = body["name"].as_str().unwrap_or_default().trim().to_owned();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(error(60001, "部门名称不合法"));
    }
    let parent = department_of(&body["parent_id"]).unwrap_or(ROOT);
    if !state.departments.contains_key(&parent) || Some(parent) == id {
        return Err(error(60004, "父部门不存在"));
    }
    if state.departments.iter().any(|(other, (n, p))| Some(*other) != id && *p == parent && *n == name) {
        return Err(error(60008, "部门名称已存在"));
    }
    Ok((name, parent))
}

pub(super) async fn department_create(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = front!(sim, "/topapi/v2/department/create", q);
    match placed(&state, &body, None) {
        Ok((name, parent)) => {
            state.next += 1;
            let id = state.next;
            state.departments.insert(id, (name, parent));
            ok(json!({"result": {"dept_id": id}}))
        }
        Err(e) => e,
    }
}

pub(super) async fn department_update(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = front!(sim, "/topapi/v2/department/update", q);
    let Some(id) = department_of(&body["dept_id"]).filter(|d| *d != ROOT && state.departments.contains_key(d)) else {
        return error(60003, "部门不存在");
    };
    match placed(&state, &body, Some(id)) {
        Ok(place) => {
            state.departments.insert(id, place);
            ok(json!({}))
        }
        Err(e) => e,
    }
}

pub(super) async fn department_delete(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = front!(sim, "/topapi/v2/department/delete", q);
    let Some(id) = department_of(&body["dept_id"]).filter(|d| *d != ROOT && state.departments.contains_key(d)) else {
        return error(60003, "部门不存在");
    };
    if state.users.values().any(|u| u.departments.contains(&id)) || state.departments.values().any(|(_, p)| *p == id) {
        return error(60005, "部门中存在成员或子部门");
    }
    state.departments.remove(&id);
    ok(json!({}))
}

pub(super) fn user_json(id: &str, user: &SimUser) -> Value {
    json!({"userid": id, "name": user.name, "mobile": user.mobile, "state_code": "86", "email": user.email.clone().unwrap_or_default(), "dept_id_list": user.departments, "active": true})
}

pub(super) async fn user_list(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let state = front!(sim, "/topapi/v2/user/list", q);
    let Some(department) = department_of(&body["dept_id"]).filter(|d| state.departments.contains_key(d)) else {
        return error(60003, "部门不存在");
    };
    let size = body["size"].as_i64().unwrap_or(0);
    if !(1..=100).contains(&size) {
        return error(400002, "size is 1 to 100");
    }
    let cursor = body["cursor"].as_i64().unwrap_or(0).max(0) as usize;
    let members: Vec<Value> = state
        .users
        .iter()
        .filter(|(_, u)| u.departments.contains(&department))
        .map(|(id, u)| user_json(id, u))
        .collect();
    let page: Vec<Value> = members.iter().skip(cursor).take(size as usize).cloned().collect();
    let next = cursor + page.len();
    let more = members.len() > next;
    ok(json!({"result": {"has_more": more, "next_cursor": if more { json!(next) } else { Value::Null }, "list": page}}))
}

pub(super) async fn user_get(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let state = front!(sim, "/topapi/v2/user/get", q);
    let id = body["userid"].as_str().unwrap_or_default();
    match state.users.get(id) {
        Some(user) => ok(json!({"result": user_json(id, user)})),
        None => error(60121, "找不到该用户"),
    }
}

pub(super) async fn user_by_mobile(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let state = front!(sim, "/topapi/v2/user/getbymobile", q);
    let wanted = digits(body["mobile"].as_str().unwrap_or_default());
    match state.users.iter().find(|(_, u)| digits(&u.mobile) == wanted) {
        Some((id, _)) => ok(json!({"result": {"userid": id}})),
        None => error(60121, "找不到该用户"),
    }
}

pub(super) fn digits(mobile: &str) -> String {
    mobile.chars().filter(char::is_ascii_digit).collect()
}

/// A user as a create or update gives them, checked as DingTalk checks them.
pub(super) fn member_of(
    state: &World,
    body: &Value,
    id: &str,
    existing: Option<&SimUser>,
) -> Result<SimUser, Json<Value>> {
    let name = body["name"].as_str().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
    let name = name.or_else(|| existing.map(|u| u.name.clone())).ok_or_else(|| error(40031, "name is required"))?;
    let mobile = body["mobile"].as_str().map(str::to_owned).or_else(|| existing.map(|u| u.mobile.clone()));
    let mobile = mobile.filter(|m| digits(m).len() >= 5).ok_or_else(|| error(40022, "mobile is required"))?;
    if state.users.iter().any(|(other, u)| other != id && digits(&u.mobile) == digits(&mobile)) {
        return Err(error(60104, "手机号码在公司中已注册"));
    }
    let departments: Vec<i64> = match body["dept_id_list"].as_str() {
        Some(list) => list.split(',').filter_map(|d| d.trim().parse().ok()).collect(),
        None => existing.map(|u| u.departments.clone()).unwrap_or_default(),
    };
    if departments.is_empty() || departments.iter().any(|d| !state.departments.contains_key(d)) {
        return Err(error(60003, "部门不存在"));
    }
    let email = body["email"].as_str().map(str::to_owned).or_else(|| existing.and_then(|u| u.email.clone()));
    Ok(SimUser { name, mobile, email, departments })
}

pub(super) async fn user_create(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = front!(sim, "/topapi/v2/user/create", q);
    let id = match body["userid"].as_str().filter(|u| !u.is_empty()) {
        Some(id) => id.to_owned(),
        None => {
            state.next += 1;
            format!("user{}", state.next)
        }
    };
    if state.users.contains_key(&id) {
        return error(60102, "UserID在公司中已存在");
    }
    match member_of(&state, &body, &id, None) {
        Ok(user) => {
            state.users.insert(id.clone(), user);
            ok(json!({"result": {"userid": id, "unionId": format!("union-{id}")}}))
        }
        Err(e) => e,
    }
}

pub(super) async fn user_update(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = front!(sim, "/topapi/v2/user/update", q);
    let id = body["userid"].as_str().unwrap_or_default().to_owned();
    let Some(existing) = state.users.get(&id).cloned() else { return error(60121, "找不到该用户") };
    match member_of(&state, &body, &id, Some(&existing)) {
        Ok(user) => {
            state.users.insert(id, user);
            ok(json!({}))
        }
        Err(e) => e,
    }
}

pub(super) async fn user_delete(
    State(sim): State<DingTalkSim>,
    Query(q): Query<TokenParam>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let mut state = front!(sim, "/topapi/v2/user/delete", q);
    match body["userid"].as_str().and_then(|id| state.users.remove(id)) {
        Some(_) => ok(json!({})),
        None => error(60121, "找不到该用户"),
    }
}
