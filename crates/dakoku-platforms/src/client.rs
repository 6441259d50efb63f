//! What the platform clients share: one way to build the HTTP client, the two shapes a call's
//! parameters take, and reading a `gettoken`-style answer.

use crate::error::ApiError;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde_json::Value;
use std::time::Duration;

/// An HTTP client for platform calls: bounded in time, named, and never following a redirect
/// (a platform answer is never a reason to call somewhere else).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("dakoku/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a default HTTP client builds")
}

/// What a call carries besides the token.
#[derive(Clone, Copy)]
pub enum Payload<'a> {
    Json(&'a Value),
    Query(&'a [(&'a str, &'a str)]),
}

/// The token and its expiry from an answer with `access_token` and `expires_in` (seconds).
pub fn granted_token(body: &Value) -> Result<(String, DateTime<Utc>), ApiError> {
    let token = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty());
    let Some(token) = token else { return Err(ApiError::Unavailable("gettoken answered without a token".into())) };
    let lifetime =
        body.get("expires_in").and_then(Value::as_i64).unwrap_or(7200).max(crate::tokens::MARGIN_SECONDS + 1);
    Ok((token.to_owned(), Utc::now() + ChronoDuration::seconds(lifetime)))
}
