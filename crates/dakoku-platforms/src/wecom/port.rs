//! What the core asks of WeCom: a connection test that names the failing credential, its
//! check-in jobs, and its org directory.

use super::api::{Credentials, WeCom};
use crate::error::ApiError;
use dakoku_domain::Platform;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::org_sync::{Directory, DirectoryWrite};
use dakoku_service::platform::{BoxFuture, ConnectionCheck, ConnectionReport, PlatformPort, PortError};
use dakoku_service::Service;
use std::sync::Arc;

impl WeCom {
    async fn connection_report(&self, service: &Service, integration: &OpenIntegration) -> ConnectionReport {
        let creds = match Credentials::of(integration) {
            Ok(c) => c,
            Err(e) => return ConnectionReport::new(vec![ConnectionCheck::new("settings", false, e.to_string())]),
        };
        let mut checks = vec![ConnectionCheck::new("settings", true, "CorpID, AgentID and Secret are present")];
        checks.push(match creds.crypt() {
            Ok(_) => ConnectionCheck::new("callback", true, "the callback Token and EncodingAESKey are usable"),
            Err(_) if creds.callback.is_none() => ConnectionCheck::new(
                "callback",
                false,
                "set token and encoding_aes_key (the values entered under 接收消息 → 设置API接收) to receive messages",
            ),
            Err(e) => ConnectionCheck::new("callback", false, e.to_string()),
        });
        checks.push(match self.request_token(&creds).await {
            Ok((token, expires_at)) => {
                if let Err(e) = service.save_platform_token(&integration.stored.id, &token, expires_at).await {
                    tracing::warn!(error = %e, "could not keep the tested WeCom token");
                }
                ConnectionCheck::new("token", true, "gettoken issued an access token")
            }
            Err(ApiError::Auth { error, description, .. }) if error == "40001" => ConnectionCheck::new(
                "token",
                false,
                format!("WeCom refused the Secret (40001: {description}); copy the app's Secret again from the admin console"),
            ),
            Err(ApiError::Refused { code, description, .. }) if code == "40013" => {
                ConnectionCheck::new("token", false, format!("the CorpID is wrong (40013: {description})"))
            }
            Err(ApiError::Refused { code, .. }) if code == "60020" => ConnectionCheck::new(
                "token",
                false,
                "WeCom refuses this server's IP address (60020): add it to the app's 企业可信IP list",
            ),
            Err(e) => ConnectionCheck::new("token", false, format!("gettoken failed: {e}")),
        });
        ConnectionReport::new(checks)
    }
}

pub struct WeComPort(pub Arc<WeCom>);

impl PlatformPort for WeComPort {
    fn platform(&self) -> Platform {
        Platform::WeCom
    }

    fn generate_setting(&self, name: &str) -> Option<String> {
        crate::msgcrypt::MsgCrypt::generate_setting(name, "encoding_aes_key")
    }

    fn push_job(&self) -> Option<dakoku_domain::JobKind> {
        Some(dakoku_domain::JobKind::WeComPush)
    }

    fn pull_job(&self) -> Option<dakoku_domain::JobKind> {
        Some(dakoku_domain::JobKind::WeComPull)
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

    fn resolve_user<'a>(
        &'a self,
        _service: &'a Service,
        _integration: &'a OpenIntegration,
        given: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        // Since 2022 WeCom no longer gives e-mails or mobiles of members: the UserID it is.
        Box::pin(async move { Ok(given.to_owned()) })
    }
}
