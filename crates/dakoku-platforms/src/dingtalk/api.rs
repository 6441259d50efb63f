//! Calls to DingTalk's server API (`oapi`) for an internal app: `gettoken` (cached and shared,
//! fetched again on 40014 / 40001 / 42001 / 33001), paced calls, and the throttling answers
//! (90002, 90005, 90006, 90018, 90019, HTTP 403 `…QpsLimit…`, the IP ban's deny page) waited
//! out with short exponential back-off before the job queue takes over. DingTalk answers HTTP
//! 200 with an `errcode`; `88` carries the real code in `sub_code`.

pub use crate::client::Payload;
use crate::client::{read_json, Call, TokenApi};
use crate::error::ApiError;
use crate::msgcrypt::{CryptoError, MsgCrypt};
use crate::settings;
use chrono::Utc;
use dakoku_domain::IntegrationId;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::Service;
use serde_json::Value;
use std::time::Duration;

pub const DEFAULT_OAPI_BASE_URL: &str = "https://oapi.dingtalk.com";
/// Under DingTalk's 40 a second and 1,500 a minute per app and API, evenly spaced.
const DEFAULT_CALLS_PER_MINUTE: u32 = 1200;
/// Throttled calls are tried again after 1 s, 2 s and 4 s (DingTalk's windows are a second)
/// before the job is put back for a minute.
const THROTTLE_RETRIES: u32 = 3;

/// An integration's DingTalk settings, secrets included. Never logged.
#[derive(Clone)]
pub struct Credentials {
    pub app_key: String,
    /// The organisation's CorpId, when the admin gave it: robot messages must name it.
    pub corp_id: Option<String>,
    pub app_secret: String,
    /// For work notifications (工作通知).
    pub agent_id: Option<String>,
    /// Event subscription token and aes_key; absent until the admin sets up HTTP push.
    pub callback: Option<(String, String)>,
    pub oapi_base_url: String,
    pub calls_per_minute: u32,
    /// DingTalk's dates (`workDateFrom`, `checkDateFrom`) are in the company's zone.
    pub timezone: chrono_tz::Tz,
}

impl Credentials {
    pub fn of(integration: &OpenIntegration) -> Result<Self, ApiError> {
        let (public, secret) = (&integration.stored.settings, &integration.secrets);
        let timezone = match settings::text(public, "timezone") {
            Some(zone) => zone.parse().map_err(|_| ApiError::Setup(format!("timezone {zone} is not an IANA zone")))?,
            None => chrono_tz::Asia::Shanghai,
        };
        Ok(Self {
            app_key: settings::required(public, "app_key")?,
            corp_id: settings::text(public, "corp_id"),
            app_secret: settings::required(secret, "app_secret")?,
            agent_id: settings::text(public, "agent_id"),
            callback: settings::text(secret, "token").zip(settings::text(secret, "aes_key")),
            oapi_base_url: settings::base_url(public, "oapi_base_url", DEFAULT_OAPI_BASE_URL),
            calls_per_minute: settings::calls_per_minute(public, DEFAULT_CALLS_PER_MINUTE),
            timezone,
        })
    }

    /// The event subscription crypto: sealed for the app's AppKey.
    pub fn crypt(&self) -> Result<MsgCrypt, CryptoError> {
        let (token, key) = self.callback.as_ref().ok_or(CryptoError::BadKey)?;
        MsgCrypt::new(token, key, &self.app_key)
    }
}

/// What a DingTalk answer means for the caller.
fn classify(status: u16, body: &Value) -> Option<ApiError> {
    // The IP ban answers with a deny page, not an errcode: wait it out (5 minutes).
    if body.get("punish").and_then(Value::as_str) == Some("deny") {
        return Some(ApiError::RateLimited { after: Duration::from_secs(300) });
    }
    if status == 403 && body.get("code").and_then(Value::as_str).is_some_and(|c| c.contains("QpsLimit")) {
        return Some(ApiError::RateLimited { after: Duration::from_secs(1) });
    }
    let mut code = body.get("errcode").and_then(Value::as_i64).unwrap_or(0);
    let mut message = body.get("errmsg").and_then(Value::as_str).unwrap_or_default().to_owned();
    if code == 88 {
        let sub = body.get("sub_code").and_then(|c| c.as_str().map(str::to_owned).or_else(|| Some(c.to_string())));
        code = sub.and_then(|s| s.trim_matches('"').parse().ok()).unwrap_or(88);
        message = body.get("sub_msg").and_then(Value::as_str).unwrap_or(&message).to_owned();
    }
    let refused = |what: String| ApiError::Refused { status, code: code.to_string(), description: what };
    match code {
        0 if status < 400 => None,
        0 => Some(ApiError::Unavailable(format!("DingTalk answered HTTP {status}"))),
        40014 | 40001 | 42001 | 33001 => Some(ApiError::Unauthorized(format!("{code}: {message}"))),
        90002 | 90005 | 90006 | 90018 | 90019 => Some(ApiError::RateLimited { after: Duration::from_secs(1) }),
        -1 => Some(ApiError::Unavailable(format!("-1 system busy: {message}"))),
        90020 => Some(refused(format!("the company's monthly API quota is used up (90020): {message}"))),
        60011 => Some(refused(format!("the app lacks the permission for this API (60011): {message}"))),
        _ => Some(refused(message)),
    }
}

pub struct DingTalk {
    pub(crate) api: TokenApi,
}

impl Default for DingTalk {
    fn default() -> Self {
        Self::new()
    }
}

impl DingTalk {
    pub fn new() -> Self {
        Self { api: TokenApi::default() }
    }

    /// Asks `gettoken` for a token.
    pub async fn request_token(&self, creds: &Credentials) -> Result<(String, chrono::DateTime<Utc>), ApiError> {
        let response = self
            .api
            .http
            .get(format!("{}/gettoken", creds.oapi_base_url))
            .query(&[("appkey", creds.app_key.as_str()), ("appsecret", creds.app_secret.as_str())])
            .send()
            .await
            .map_err(|e| crate::client::unreachable("DingTalk", e))?;
        let (status, body) = read_json(response, "DingTalk").await?;
        match classify(status, &body) {
            None => {}
            // A wrong AppKey or AppSecret: say so in the platform's words.
            Some(ApiError::Refused { code, description, .. }) => {
                return Err(ApiError::Auth { status, error: code, description })
            }
            Some(ApiError::Unauthorized(description)) => {
                return Err(ApiError::Auth { status, error: "token".into(), description })
            }
            Some(other) => return Err(other),
        }
        crate::client::granted_token(&body)
    }

    /// One API call with the shared token (see [`TokenApi::call`]); throttling is waited out
    /// 1 s, 2 s and 4 s (DingTalk's windows are a second) before the job queue takes over.
    pub async fn call(
        &self,
        service: &Service,
        integration: &IntegrationId,
        creds: &Credentials,
        path: &str,
        payload: Payload<'_>,
    ) -> Result<Value, ApiError> {
        let call = Call {
            platform: "DingTalk",
            base_url: &creds.oapi_base_url,
            path,
            payload,
            per_minute: creds.calls_per_minute,
            verdict: classify,
            throttle_retries: THROTTLE_RETRIES,
        };
        self.api.call(service, integration, call, || self.request_token(creds)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_classified_by_code() {
        assert!(classify(200, &json!({"errcode": 0, "errmsg": "ok"})).is_none());
        assert!(matches!(classify(200, &json!({"errcode": 90018})), Some(ApiError::RateLimited { .. })));
        assert!(matches!(classify(200, &json!({"errcode": 90006})), Some(ApiError::RateLimited { .. })));
        assert!(matches!(classify(200, &json!({"errcode": 90002})), Some(ApiError::RateLimited { .. })));
        assert!(matches!(
            classify(403, &json!({"code": "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "message": "x"})),
            Some(ApiError::RateLimited { .. })
        ));
        assert!(matches!(
            classify(200, &json!({"status": 1111, "wait": 5, "punish": "deny"})),
            Some(ApiError::RateLimited { after }) if after.as_secs() == 300
        ));
        assert!(matches!(classify(200, &json!({"errcode": 40014})), Some(ApiError::Unauthorized(_))));
        assert!(matches!(
            classify(200, &json!({"errcode": 88, "sub_code": "40014", "sub_msg": "bad token"})),
            Some(ApiError::Unauthorized(_))
        ));
        assert!(matches!(
            classify(200, &json!({"errcode": 88, "sub_code": "60011", "sub_msg": "没有调用该接口的权限"})),
            Some(ApiError::Refused { code, .. }) if code == "60011"
        ));
        assert!(matches!(classify(200, &json!({"errcode": 60104})), Some(ApiError::Refused { .. })));
    }
}
