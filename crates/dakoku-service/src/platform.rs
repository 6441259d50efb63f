//! The port through which the core asks a chat platform adapter for what only the platform
//! knows: whether the admin's credentials work, and which platform user a login e-mail is.
//! Adapters register themselves at start-up; the core never names a platform's API. The
//! service is passed in rather than held, so adapters and the service do not own each other.

use crate::integrations::OpenIntegration;
use crate::org_sync::{Directory, DirectoryWrite};
use crate::{Ctx, Service, ServiceError, ServiceResult};
use dakoku_domain::{IntegrationId, Platform};
use serde::Serialize;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One step of a connection test, in words an admin can act on.
#[derive(Clone, Debug, Serialize)]
pub struct ConnectionCheck {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

impl ConnectionCheck {
    pub fn new(name: &str, ok: bool, detail: impl Into<String>) -> Self {
        Self { name: name.to_owned(), ok, detail: detail.into() }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ConnectionReport {
    pub ok: bool,
    pub checks: Vec<ConnectionCheck>,
}

impl ConnectionReport {
    pub fn new(checks: Vec<ConnectionCheck>) -> Self {
        Self { ok: checks.iter().all(|c| c.ok), checks }
    }
}

/// Why a platform call did not do what was asked.
#[derive(Debug)]
pub enum PortError {
    /// Throttled or unreachable: the same call may work later (after `after`, if known).
    Retry { error: String, after: Option<std::time::Duration> },
    /// The platform refused this call; repeating it will not help.
    Refused(String),
}

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortError::Retry { error, .. } => write!(f, "{error} (will try again)"),
            PortError::Refused(why) => f.write_str(why),
        }
    }
}

fn no_directory<T>() -> Result<T, PortError> {
    Err(PortError::Refused("this platform has no directory to sync with".into()))
}

pub trait PlatformPort: Send + Sync {
    fn platform(&self) -> Platform;

    /// Tries the credentials step by step and says which one fails.
    fn check<'a>(&'a self, service: &'a Service, integration: &'a OpenIntegration) -> BoxFuture<'a, ConnectionReport>;

    /// The job kind that brings the platform in line with an integration's settings after
    /// they are created or changed, if the platform needs one.
    fn sync_job(&self) -> Option<dakoku_domain::JobKind> {
        None
    }

    /// A fresh value for a setting the admin asked dakoku to make (given as "generate"),
    /// if the platform has such a setting.
    fn generate_setting(&self, _name: &str) -> Option<String> {
        None
    }

    /// The job kind that pulls the platform's own punch records (payload
    /// [`crate::platform_punches::PullRequest`]), if the platform keeps any.
    fn pull_job(&self) -> Option<dakoku_domain::JobKind> {
        None
    }

    /// The job kind that writes a punch made elsewhere into the platform (payload
    /// [`crate::platform_punches::PushRequest`]), if the platform accepts them.
    fn push_job(&self) -> Option<dakoku_domain::JobKind> {
        None
    }

    /// Whether the platform has an org directory dakoku can sync with.
    fn has_directory(&self) -> bool {
        false
    }

    /// The platform's departments and members (see [`crate::org_sync`]).
    fn read_directory<'a>(
        &'a self,
        _service: &'a Service,
        _integration: &'a OpenIntegration,
    ) -> BoxFuture<'a, Result<Directory, PortError>> {
        Box::pin(async { no_directory() })
    }

    /// Makes one change in the platform's directory; a created department's id is returned.
    fn write_directory<'a>(
        &'a self,
        _service: &'a Service,
        _integration: &'a OpenIntegration,
        _write: &'a DirectoryWrite,
    ) -> BoxFuture<'a, Result<Option<String>, PortError>> {
        Box::pin(async { no_directory() })
    }

    /// The platform's user id for what an admin typed (a user id as it is, or a login e-mail
    /// looked up in the platform's directory). `Err` says why it cannot be found.
    fn resolve_user<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        given: &'a str,
    ) -> BoxFuture<'a, Result<String, String>>;
}

impl Service {
    pub fn register_port(&self, port: Arc<dyn PlatformPort>) {
        let mut ports = self.ports.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        ports.insert(port.platform(), port);
    }

    pub(crate) fn port(&self, platform: Platform) -> Option<Arc<dyn PlatformPort>> {
        self.ports.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(&platform).cloned()
    }

    /// Tests an integration's credentials against its platform (admins only).
    pub async fn test_integration(&self, ctx: &Ctx, id: &IntegrationId) -> ServiceResult<ConnectionReport> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins manage integrations".into()));
        }
        let integration = self.open_integration(ctx.org(), id).await?;
        let Some(port) = self.port(integration.stored.platform) else {
            return Err(ServiceError::Unprocessable("this server has no adapter for the platform".into()));
        };
        let mut report = port.check(self, &integration).await;
        for check in &mut report.checks {
            check.detail = integration.redact(&check.detail);
        }
        Ok(report)
    }
}
