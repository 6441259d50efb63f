//! What the core asks of DingTalk: a connection test that names the failing credential, its
//! attendance jobs, its org directory, and who a mobile number is.

use super::api::{Credentials, DingTalk, Payload};
use crate::error::ApiError;
use dakoku_domain::Platform;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::org_sync::{Directory, DirectoryWrite};
use dakoku_service::platform::{BoxFuture, ConnectionCheck, ConnectionReport, PlatformPort, PortError};
use dakoku_service::Service;
use serde_json::{json, Value};
use std::sync::Arc;

impl DingTalk {
    async fn connection_report(&self, service: &Service, integration: &OpenIntegration) -> ConnectionReport {
        let creds = match Credentials::of(integration) {
            Ok(c) => c,
            Err(e) => return ConnectionReport::new(vec![ConnectionCheck::new("settings", false, e.to_string())]),
        };
        let mut checks = vec![ConnectionCheck::new("settings", true, "AppKey and AppSecret are present")];
        checks.push(match &creds.agent_id {
            Some(_) => ConnectionCheck::new("agent_id", true, "work notifications can be sent"),
            None => ConnectionCheck::new(
                "agent_id",
                false,
                "set agent_id (the app's AgentId) so replies outside a robot conversation and notices can be sent",
            ),
        });
        checks.push(match creds.crypt() {
            Ok(_) => ConnectionCheck::new("callback", true, "the event subscription token and aes_key are usable"),
            Err(_) if creds.callback.is_none() => ConnectionCheck::new(
                "callback",
                false,
                "set token and aes_key (事件订阅 → HTTP 推送) to receive punch and contact events",
            ),
            Err(e) => ConnectionCheck::new("callback", false, e.to_string()),
        });
        checks.push(match self.request_token(&creds).await {
            Ok((token, expires_at)) => {
                if let Err(e) = service.save_platform_token(&integration.stored.id, &token, expires_at).await {
                    tracing::warn!(error = %e, "could not keep the tested DingTalk token");
                }
                ConnectionCheck::new("token", true, "gettoken issued an access token")
            }
            Err(ApiError::Auth { error, description, .. }) => ConnectionCheck::new(
                "token",
                false,
                format!("DingTalk refused the AppKey or AppSecret ({error}: {description}); copy them again from the developer console"),
            ),
            Err(e) => ConnectionCheck::new("token", false, format!("gettoken failed: {e}")),
        });
        ConnectionReport::new(checks)
    }

    async fn user_by_mobile(
        &self,
        service: &Service,
        integration: &OpenIntegration,
        given: &str,
    ) -> Result<String, String> {
        let looks_like_mobile = given.chars().filter(char::is_ascii_digit).count() >= 7
            && given.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c));
        if !looks_like_mobile {
            return Ok(given.to_owned());
        }
        let creds = Credentials::of(integration).map_err(|e| e.to_string())?;
        let body = json!({"mobile": given});
        let path = "/topapi/v2/user/getbymobile";
        match self.call(service, &integration.stored.id, &creds, path, Payload::Json(&body)).await {
            Ok(answer) => answer
                .pointer("/result/userid")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("DingTalk has no member with mobile {given}")),
            Err(e) => Err(format!("DingTalk could not look up mobile {given}: {e}")),
        }
    }
}

pub struct DingTalkPort(pub Arc<DingTalk>);

impl PlatformPort for DingTalkPort {
    fn platform(&self) -> Platform {
        Platform::DingTalk
    }

    fn generate_setting(&self, name: &str) -> Option<String> {
        crate::msgcrypt::MsgCrypt::generate_setting(name, "aes_key")
    }

    fn pull_job(&self) -> Option<dakoku_domain::JobKind> {
        Some(dakoku_domain::JobKind::DingTalkPull)
    }

    fn push_job(&self) -> Option<dakoku_domain::JobKind> {
        Some(dakoku_domain::JobKind::DingTalkPush)
    }

    fn has_directory(&self) -> bool {
        true
    }

    fn read_directory<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
    ) -> BoxFuture<'a, Result<Directory, PortError>> {
        Box::pin(async move { Ok(self.0.read_directory(service, integration).await?) })
    }

    fn write_directory<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        write: &'a DirectoryWrite,
    ) -> BoxFuture<'a, Result<Option<String>, PortError>> {
        Box::pin(async move { Ok(self.0.write_directory(service, integration, write).await?) })
    }

    fn check<'a>(&'a self, service: &'a Service, integration: &'a OpenIntegration) -> BoxFuture<'a, ConnectionReport> {
        Box::pin(self.0.connection_report(service, integration))
    }

    /// A user id as it is, or a mobile number looked up in DingTalk's directory.
    fn resolve_user<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        given: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(self.0.user_by_mobile(service, integration, given))
    }
}
