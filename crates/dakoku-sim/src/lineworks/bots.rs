//! The bot management API as the simulator serves it: bots, their domains, rich menus,
//! attachments and uploads.

use super::*;

pub(super) async fn get_bot(State(sim): State<LineWorksSim>, Path(bot): Path<String>, headers: HeaderMap) -> Response {
    if let Err(response) = admit(&sim, &headers, "bot-get", BOT_READ_SCOPES, "/bots") {
        return response;
    }
    match lock(&sim.state).bots.get(&bot) {
        Some(b) => Json(json!({
            "botId": b.bot_id.parse::<i64>().map(Value::from).unwrap_or_else(|_| Value::from(b.bot_id.clone())),
            "botName": "dakoku",
            "enableCallback": b.callback_url.is_some(),
            "callbackUrl": b.callback_url,
            "defaultRichmenuId": b.default_richmenu_id,
        }))
        .into_response(),
        None => error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "bot does not exist"),
    }
}

pub(super) async fn create_bot(
    State(sim): State<LineWorksSim>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "bot-create", BOT_ADMIN_SCOPES, "/bots") {
        return response;
    }
    if body["botName"].as_str().is_none_or(str::is_empty) || body["administrators"].as_array().is_none_or(Vec::is_empty)
    {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "botName and administrators are required");
    }
    let mut state = lock(&sim.state);
    state.next_id += 1;
    let bot_id = format!("{}", 2_000_000 + state.next_id);
    let bot = Bot {
        bot_id: bot_id.clone(),
        secret: format!("sim-bot-secret-{}", rand_hex()),
        callback_url: body["callbackUrl"].as_str().filter(|u| !u.is_empty()).map(str::to_owned),
        default_richmenu_id: None,
    };
    state.bots.insert(bot_id.clone(), bot);
    (StatusCode::CREATED, Json(json!({"botId": bot_id.parse::<i64>().unwrap_or_default(), "botName": body["botName"]})))
        .into_response()
}

pub(super) async fn patch_bot(
    State(sim): State<LineWorksSim>,
    Path(bot): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "bot-update", BOT_ADMIN_SCOPES, "/bots") {
        return response;
    }
    let mut state = lock(&sim.state);
    let known_menus: Vec<String> = state.richmenus.iter().filter(|m| m.bot_id == bot).map(|m| m.id.clone()).collect();
    let Some(found) = state.bots.get_mut(&bot) else {
        return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "bot does not exist");
    };
    if let Some(url) = body.get("callbackUrl").and_then(Value::as_str) {
        found.callback_url = (!url.is_empty()).then(|| url.to_owned());
    }
    match body.get("defaultRichmenuId") {
        Some(Value::String(id)) if !known_menus.contains(id) => {
            return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "no such rich menu")
        }
        Some(Value::String(id)) => found.default_richmenu_id = Some(id.clone()),
        Some(Value::Null) => found.default_richmenu_id = None,
        _ => {}
    }
    Json(json!({"botId": bot})).into_response()
}

pub(super) async fn add_domain(
    State(sim): State<LineWorksSim>,
    Path((bot, domain)): Path<(String, String)>,
    headers: HeaderMap,
    body: Option<Json<Value>>,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "bot-domain", BOT_ADMIN_SCOPES, "/domains") {
        return response;
    }
    if !lock(&sim.state).bots.contains_key(&bot) {
        return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "bot does not exist");
    }
    let body = body.map(|Json(b)| b).unwrap_or_default();
    (
        StatusCode::CREATED,
        Json(json!({
            "domainId": domain.parse::<i64>().unwrap_or_default(),
            "visible": body["visible"].as_bool().unwrap_or(false),
            "allowToSelectedMember": body["allowToSelectedMember"].as_bool().unwrap_or(false),
        })),
    )
        .into_response()
}

pub(super) async fn create_richmenu(
    State(sim): State<LineWorksSim>,
    Path(bot): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "richmenu-create", BOT_SCOPES, "/richmenus") {
        return response;
    }
    let size = (body["size"]["width"].as_u64(), body["size"]["height"].as_u64());
    if !matches!(size, (Some(2500), Some(1686)) | (Some(2500), Some(843))) {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "size must be 2500x1686 or 2500x843");
    }
    let areas = body["areas"].as_array().map(Vec::len).unwrap_or(0);
    if !(1..=20).contains(&areas) {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "areas must have 1 to 20 entries");
    }
    let mut state = lock(&sim.state);
    state.next_id += 1;
    let id = format!("{}", 40_000 + state.next_id);
    state.richmenus.push(RichMenu { id: id.clone(), bot_id: bot, body: body.clone(), image: None });
    (StatusCode::CREATED, Json(json!({"richmenuId": id, "richmenuName": body["richmenuName"]}))).into_response()
}

pub(super) async fn delete_richmenu(
    State(sim): State<LineWorksSim>,
    Path((bot, menu)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "richmenu-delete", BOT_SCOPES, "/richmenus") {
        return response;
    }
    let mut state = lock(&sim.state);
    let before = state.richmenus.len();
    state.richmenus.retain(|m| !(m.bot_id == bot && m.id == menu));
    if state.richmenus.len() == before {
        return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "no such rich menu");
    }
    if let Some(b) = state.bots.get_mut(&bot) {
        if b.default_richmenu_id.as_deref() == Some(menu.as_str()) {
            b.default_richmenu_id = None;
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

pub(super) async fn create_attachment(
    State(sim): State<LineWorksSim>,
    Path(_bot): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "attachment-create", BOT_SCOPES, "/attachments") {
        return response;
    }
    if body["fileName"].as_str().is_none_or(str::is_empty) {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "fileName is required");
    }
    let mut state = lock(&sim.state);
    state.next_id += 1;
    let file_id = format!("jp1.sim.{}", state.next_id);
    state.uploads.insert(file_id.clone(), None);
    Json(json!({"fileId": file_id, "uploadUrl": format!("{}/upload/{file_id}", sim.base_url)})).into_response()
}

/// The `FileData` part of a multipart body.
pub(super) fn file_part(content_type: &str, body: &[u8]) -> Option<Vec<u8>> {
    let boundary = content_type.split("boundary=").nth(1)?.trim_matches('"');
    let delimiter = format!("--{boundary}");
    let text = body;
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        let end = find(rest, delimiter.as_bytes()).unwrap_or(rest.len());
        parts.push(&rest[..end]);
    }
    parts.into_iter().find_map(|part| {
        let split = find(part, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&part[..split]);
        if !head.contains("name=\"FileData\"") {
            return None;
        }
        let data = &part[split + 4..];
        Some(data.strip_suffix(b"\r\n").unwrap_or(data).to_vec())
    })
}

pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(super) async fn upload(
    State(sim): State<LineWorksSim>,
    Path(file): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "upload", BOT_SCOPES, "/upload") {
        return response;
    }
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let Some(data) = file_part(content_type, &body) else {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "multipart field FileData is required");
    };
    let mut state = lock(&sim.state);
    match state.uploads.get_mut(&file) {
        Some(slot @ None) => *slot = Some(data),
        Some(Some(_)) => return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "upload URL already used"),
        None => return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "no such upload"),
    }
    Json(json!({"fileId": file})).into_response()
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() < 24 || &data[..8] != b"\x89PNG\r\n\x1a\n" || &data[12..16] != b"IHDR" {
        return None;
    }
    let width = u32::from_be_bytes(data[16..20].try_into().ok()?);
    let height = u32::from_be_bytes(data[20..24].try_into().ok()?);
    Some((width, height))
}

pub(super) async fn set_richmenu_image(
    State(sim): State<LineWorksSim>,
    Path((bot, menu)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(response) = admit(&sim, &headers, "richmenu-image", BOT_SCOPES, "/image") {
        return response;
    }
    let mut state = lock(&sim.state);
    let Some(Some(data)) = body["fileId"].as_str().and_then(|f| state.uploads.get(f)).cloned() else {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "fileId does not name an uploaded file");
    };
    if data.len() > 1024 * 1024 {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "a rich menu image is at most 1 MB");
    }
    let Some(size) = png_size(&data) else {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "the image is not a PNG");
    };
    let Some(found) = state.richmenus.iter_mut().find(|m| m.bot_id == bot && m.id == menu) else {
        return error(StatusCode::NOT_FOUND, "RESOURCE_NOT_FOUND", "no such rich menu");
    };
    let expected = (found.body["size"]["width"].as_u64(), found.body["size"]["height"].as_u64());
    if (Some(u64::from(size.0)), Some(u64::from(size.1))) != expected {
        return error(StatusCode::BAD_REQUEST, "INVALID_PARAMETER", "the image size differs from the menu size");
    }
    found.image = Some(size);
    StatusCode::NO_CONTENT.into_response()
}
