//! What the core asks of LINE WORKS: a connection test that names the failing credential, and
//! the user id behind a login e-mail (Users API, scope `user.read`).

use super::api::{ApiError, Credentials, LineWorks};
use dakoku_domain::Platform;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::platform::{BoxFuture, ConnectionCheck, ConnectionReport, PlatformPort};
use dakoku_service::Service;
use reqwest::Method;

/// The admin-facing explanation of a refused token request.
fn token_failure(error: &ApiError, creds: &Credentials) -> String {
    match error {
        ApiError::Auth { error, description, .. } if error == "invalid_client" => format!(
            "LINE WORKS refused the Client ID or the Client Secret ({description}). Copy both again from Developer Console › API 2.0 › the app."
        ),
        ApiError::Auth { error, description, .. } if error == "invalid_scope" => format!(
            "The app lacks an OAuth scope dakoku asks for ({}): tick them under OAuth Scopes in Developer Console ({description}).",
            creds.scopes
        ),
        ApiError::Auth { error, description, .. } if error == "invalid_grant" => format!(
            "The Service Account or the Private Key does not belong to this app ({description}). Issue the key again and paste the whole file."
        ),
        other => format!("The token request failed: {other}"),
    }
}

impl LineWorks {
    async fn connection_report(&self, service: &Service, integration: &OpenIntegration) -> ConnectionReport {
        let creds = match Credentials::of(integration) {
            Ok(c) => c,
            Err(e) => return ConnectionReport::new(vec![ConnectionCheck::new("settings", false, e.to_string())]),
        };
        let mut checks = vec![ConnectionCheck::new("settings", true, "every required setting is present")];
        if let Err(e) = Self::assertion(&creds) {
            checks.push(ConnectionCheck::new("private_key", false, e.to_string()));
            return ConnectionReport::new(checks);
        }
        checks.push(ConnectionCheck::new("private_key", true, "the Private Key is a readable RSA key"));
        let (token, expires_at) = match self.request_token(&creds).await {
            Ok(t) => t,
            Err(e) => {
                checks.push(ConnectionCheck::new("token", false, token_failure(&e, &creds)));
                return ConnectionReport::new(checks);
            }
        };
        checks.push(ConnectionCheck::new("token", true, format!("a token was issued for the scopes {}", creds.scopes)));
        let id = &integration.stored.id;
        if let Err(e) = service.save_platform_token(id, &token, expires_at).await {
            tracing::warn!(integration = %id, error = %e, "could not keep the tested token");
        }
        let bot = self.call(service, id, &creds, Method::GET, &format!("/bots/{}", creds.bot_id), None).await;
        checks.push(match bot {
            Ok(_) => ConnectionCheck::new("bot", true, format!("bot {} is registered", creds.bot_id)),
            Err(ApiError::Refused { status: 403, .. }) => ConnectionCheck::new(
                "bot",
                false,
                "the token lacks the bot scope: tick \"bot\" under OAuth Scopes in Developer Console",
            ),
            Err(ApiError::Refused { status: 404, .. }) => ConnectionCheck::new(
                "bot",
                false,
                format!(
                    "there is no bot with Bot ID {} in this tenant; copy the Bot ID from Developer Console › Bot",
                    creds.bot_id
                ),
            ),
            Err(e) => ConnectionCheck::new("bot", false, format!("the bot could not be read: {e}")),
        });
        ConnectionReport::new(checks)
    }
}

/// The port registered with the service; holds the client, never the service.
pub struct LineWorksPort(pub std::sync::Arc<LineWorks>);

impl PlatformPort for LineWorksPort {
    fn platform(&self) -> Platform {
        Platform::LineWorks
    }

    fn sync_job(&self) -> Option<dakoku_domain::JobKind> {
        Some(dakoku_domain::JobKind::LineWorksRichMenuSync)
    }

    fn check<'a>(&'a self, service: &'a Service, integration: &'a OpenIntegration) -> BoxFuture<'a, ConnectionReport> {
        Box::pin(self.0.connection_report(service, integration))
    }

    fn resolve_user<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        given: &'a str,
    ) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            if !given.contains('@') {
                return Ok(given.to_owned());
            }
            match self.0.find_user(service, integration, given).await {
                Ok(user_id) => Ok(user_id),
                Err(ApiError::Refused { status: 404, .. }) => Err(format!("LINE WORKS has no user with the login {given}")),
                Err(ApiError::Refused { status: 403, .. }) => Err(
                    "the app may not read users: tick user.read under OAuth Scopes in Developer Console, or give the user id"
                        .to_owned(),
                ),
                Err(e) => Err(format!("LINE WORKS could not look the user up: {e}")),
            }
        })
    }
}
