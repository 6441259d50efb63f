//! Extractors whose rejections are problem+json, and the bearer-token authentication.

use crate::{ApiError, AppState};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use dakoku_domain::Invalid;
use dakoku_service::Ctx;
use serde::de::DeserializeOwned;

/// JSON body; syntax errors are 400, wrong types or fields 422, oversized bodies 413.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => checked_body(value).map(AppJson),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// A JSON body that may also be left empty (or `null`): then `T::default()`.
pub fn optional_body<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(serde_json::Value::Null) => Ok(T::default()),
        Ok(value) => checked_body(value),
        Err(_) => Err(ApiError::bad_request("the body is not valid JSON")),
    }
}

/// What every body goes through once parsed: it must be an object (serde would also read a
/// struct from an array), its texts are checked, then it is read into the route's type.
fn checked_body<T: DeserializeOwned>(mut value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "the body must be a JSON object"));
    }
    let mut errors = Vec::new();
    clean_strings(&mut value, &mut String::new(), &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    serde_json::from_value(value)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("the body does not fit this route: {e}")))
}

/// Every text of a body, checked once at the edge whatever the route: a leading byte-order
/// mark is dropped, and control characters other than line breaks and tabs are refused (so
/// both backends store the same thing; PostgreSQL cannot store a NUL at all). Field-specific
/// rules (no invisible characters in names) are the service's.
fn clean_strings(value: &mut serde_json::Value, path: &mut String, errors: &mut Vec<Invalid>) {
    use dakoku_domain::validate::{is_forbidden_control, without_bom};
    use serde_json::Value;
    let refuse = |errors: &mut Vec<Invalid>, path: &str| {
        let field = if path.is_empty() { "body".to_owned() } else { path.trim_start_matches('.').to_owned() };
        errors.push(Invalid { field, message: "must not contain control characters".into() });
    };
    match value {
        Value::String(text) => {
            if text.starts_with('\u{FEFF}') {
                *text = without_bom(text).to_owned();
            }
            if text.chars().any(is_forbidden_control) {
                refuse(errors, path);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                clean_strings(item, path, errors);
                path.truncate(len);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields.iter_mut() {
                let len = path.len();
                path.push('.');
                path.push_str(key);
                if key.chars().any(char::is_control) {
                    refuse(errors, path);
                } else {
                    clean_strings(item, path, errors);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let detail = match &rejection {
        JsonRejection::JsonDataError(e) => format!(
            "the body does not fit this route: {}",
            std::error::Error::source(e).map(ToString::to_string).unwrap_or_else(|| e.body_text())
        ),
        JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON".to_owned(),
        JsonRejection::MissingJsonContentType(_) => "send the body as Content-Type: application/json".to_owned(),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "the body is larger than this server accepts".to_owned(),
        other => other.body_text(),
    };
    ApiError::new(status, detail)
}

/// Query string; anything it cannot parse is 400.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(AppQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                Err(ApiError::bad_request(format!("bad query string: {}", e.body_text())))
            }
            Err(other) => Err(ApiError::bad_request(other.body_text())),
        }
    }
}

/// The authenticated caller and request id.
pub struct Auth(pub Ctx);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(ApiError::unauthenticated)?;
        let actor = state.service.authenticate(token).await?;
        let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(Auth(Ctx::user(actor, request_id)))
    }
}

/// Parses an id from the path; anything malformed is simply not found.
pub fn path_id<T>(text: &str, parse: fn(&str) -> Option<T>, what: &str) -> Result<T, ApiError> {
    parse(text).ok_or_else(|| ApiError::not_found(format!("no {what} with id {text}")))
}
