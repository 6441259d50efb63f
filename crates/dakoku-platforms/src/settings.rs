//! Reading an integration's settings (public ones and opened secrets alike).

use crate::error::ApiError;
use serde_json::{Map, Value};

/// A non-empty text (or number) setting.
pub fn text(map: &Map<String, Value>, name: &str) -> Option<String> {
    match map.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn required(map: &Map<String, Value>, name: &str) -> Result<String, ApiError> {
    text(map, name).ok_or_else(|| ApiError::Setup(format!("the setting {name} is missing")))
}

/// A base URL setting without its trailing slash, or the platform's default.
pub fn base_url(map: &Map<String, Value>, name: &str, default: &str) -> String {
    text(map, name).unwrap_or_else(|| default.to_owned()).trim_end_matches('/').to_owned()
}

/// `calls_per_minute`, within sane bounds.
pub fn calls_per_minute(map: &Map<String, Value>, default: u32) -> u32 {
    map.get("calls_per_minute").and_then(Value::as_u64).map(|n| n.clamp(1, 100_000) as u32).unwrap_or(default)
}
