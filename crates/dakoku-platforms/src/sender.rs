//! The `{platform}.message` jobs: each sends one queued reply through its platform's client. A
//! throttled call waits for the platform's reset time; unavailability backs off; a refusal that
//! retrying cannot fix goes to the dead letters with the platform's words, for an admin.

use crate::error::{outcome_of, ApiError};
use dakoku_domain::Platform;
use dakoku_service::chat::OutgoingMessage;
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::{Service, ServiceError};
use dakoku_store::jobs::Job;
use dakoku_worker::{BoxFuture, JobHandler, Outcome};
use std::sync::Arc;

/// A platform client that can deliver a reply.
pub trait Deliver: Send + Sync + 'static {
    fn deliver<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        message: &'a OutgoingMessage,
    ) -> BoxFuture<'a, Result<(), ApiError>>;
}

pub struct MessageSender {
    kind: dakoku_domain::JobKind,
    service: Service,
    client: Arc<dyn Deliver>,
}

impl MessageSender {
    pub fn new(platform: Platform, service: Service, client: Arc<dyn Deliver>) -> Self {
        Self { kind: dakoku_domain::JobKind::message(platform), service, client }
    }

    async fn send(&self, job: &Job) -> Outcome {
        let message: OutgoingMessage = match serde_json::from_value(job.payload.clone()) {
            Ok(m) => m,
            Err(e) => return Outcome::Fail { error: format!("malformed message payload: {e}") },
        };
        let Some(org) = &job.org_id else { return Outcome::Fail { error: "message without organisation".into() } };
        let integration = match self.service.open_integration(org, &message.integration_id).await {
            Ok(i) => i,
            Err(ServiceError::NotFound(_)) => {
                return Outcome::Fail { error: "the integration no longer exists".into() }
            }
            Err(e) => return Outcome::Retry { error: e.to_string(), after: None },
        };
        match self.client.deliver(&self.service, &integration, &message).await {
            Ok(()) => Outcome::Done,
            Err(error) => outcome_of(error),
        }
    }
}

impl JobHandler for MessageSender {
    fn kind(&self) -> dakoku_domain::JobKind {
        self.kind
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(self.send(job))
    }
}
