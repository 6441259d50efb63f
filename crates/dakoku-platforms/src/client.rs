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

/// A call that got no usable answer, described without its URL: platforms carry secrets in the
/// query (`gettoken?corpsecret=`, a session webhook's token), and reqwest's own error text
/// repeats the whole URL. Every transport failure of every adapter is rendered here.
pub fn unreachable(what: &str, error: reqwest::Error) -> ApiError {
    let error = error.without_url();
    let why = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else if error.is_body() || error.is_decode() {
        "the answer broke off".to_owned()
    } else {
        "the request failed".to_owned()
    };
    // The innermost cause names the system's reason (refused, reset, DNS, TLS), never a URL.
    let mut cause: &dyn std::error::Error = &error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let cause = cause.to_string();
    let cause = if cause.contains("://") { String::new() } else { format!(" ({cause})") };
    ApiError::Unavailable(format!("cannot reach {what}: {why}{cause}"))
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

/// The status and JSON of an answer. A gateway error or deny page that is not JSON is read as
/// unavailability.
pub async fn read_json(response: reqwest::Response, platform: &str) -> Result<(u16, Value), ApiError> {
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| unreachable(platform, e))?;
    serde_json::from_str(&text).map(|body| (status, body)).map_err(|_| {
        ApiError::Unavailable(format!("{platform} answered HTTP {status} with something that is not JSON"))
    })
}

/// One call to a platform that takes `?access_token=` and answers with an `errcode` (WeCom,
/// DingTalk).
pub struct Call<'a> {
    pub platform: &'static str,
    pub base_url: &'a str,
    pub path: &'a str,
    pub payload: Payload<'a>,
    pub per_minute: u32,
    /// What an answer means: `None` when the call succeeded.
    pub verdict: fn(u16, &Value) -> Option<ApiError>,
    /// Throttled calls waiting a second or less are tried again after 1 s, 2 s, 4 s… this
    /// many times before the caller hears of it.
    pub throttle_retries: u32,
}

/// The client side such a platform shares: HTTP, pacing and the shared token.
pub struct TokenApi {
    pub http: reqwest::Client,
    pub pacer: crate::pace::Pacer,
    tokens: crate::tokens::TokenCache,
}

impl Default for TokenApi {
    fn default() -> Self {
        Self { http: http(), pacer: Default::default(), tokens: Default::default() }
    }
}

impl TokenApi {
    /// Makes a call with the shared token: paced, the token fetched again once when the
    /// platform refuses it, every attempt written to the operation log. Returns the JSON of a
    /// call that succeeded.
    pub async fn call<F, Fut>(
        &self,
        service: &dakoku_service::Service,
        integration: &dakoku_domain::IntegrationId,
        call: Call<'_>,
        fetch_token: F,
    ) -> Result<Value, ApiError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<(String, DateTime<Utc>), ApiError>>,
    {
        let unavailable = |e: dakoku_service::ServiceError| ApiError::Unavailable(format!("token store: {e}"));
        let mut refreshed = false;
        let mut throttled = 0;
        loop {
            let token = self.tokens.get(service, integration, unavailable, &fetch_token).await?;
            self.pacer.wait(&format!("{integration} {}", call.path), call.per_minute).await;
            let started = std::time::Instant::now();
            let url = format!("{}{}", call.base_url, call.path);
            let with_token = [("access_token", token.token.as_str())];
            let sent = match call.payload {
                Payload::Json(body) => self.http.post(url).query(&with_token).json(body),
                Payload::Query(query) => self.http.get(url).query(&with_token).query(query),
            }
            .send()
            .await;
            let answer = match sent {
                Ok(response) => read_json(response, call.platform).await,
                Err(e) => Err(unreachable(call.platform, e)),
            };
            let verdict = answer.as_ref().ok().and_then(|(status, body)| (call.verdict)(*status, body));
            let outcome = match (&answer, &verdict) {
                (Ok(_), None) => Ok(()),
                (Ok((_, body)), Some(e)) => Err(logged_failure(body, e)),
                (Err(e), _) => Err(e.to_string()),
            };
            service.log_platform_call(integration, call.path, outcome, started.elapsed()).await;
            let (_, body) = answer?;
            match verdict {
                None => return Ok(body),
                Some(ApiError::Unauthorized(_)) if !refreshed => {
                    tracing::info!(%integration, platform = call.platform, "the platform refused the token; fetching a new one");
                    let _ = service.forget_platform_token(integration, &token).await;
                    refreshed = true;
                }
                Some(ApiError::RateLimited { after }) if throttled < call.throttle_retries && after.as_secs() <= 1 => {
                    tokio::time::sleep(std::time::Duration::from_secs(1 << throttled)).await;
                    throttled += 1;
                }
                Some(ApiError::RateLimited { after }) => {
                    return Err(ApiError::RateLimited { after: after.max(std::time::Duration::from_secs(60)) })
                }
                Some(other) => return Err(other),
            }
        }
    }
}

/// What the operation log says of a refused call: the platform's own code and words where it
/// gave them (errcode, and DingTalk's sub_code), else how dakoku read the answer.
fn logged_failure(body: &Value, error: &ApiError) -> String {
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default();
    match body.get("errcode").and_then(Value::as_i64).filter(|c| *c != 0) {
        Some(code) => match body.get("sub_code") {
            Some(sub) => format!("errcode {code}: {} (sub_code {sub}: {})", text("errmsg"), text("sub_msg")),
            None => format!("errcode {code}: {}", text("errmsg")),
        },
        None => error.to_string(),
    }
}
