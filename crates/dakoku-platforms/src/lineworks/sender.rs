//! The `lineworks.message` job: sends one queued reply. A 429 waits for `rateLimit-reset`;
//! 5xx and network errors back off; a refusal that retrying cannot fix goes to the dead
//! letters with the platform's words, for an admin to read.

use super::api::LineWorks;
use crate::error::outcome_of;
use dakoku_domain::Platform;
use dakoku_service::chat::{message_job, OutgoingMessage};
use dakoku_service::{Service, ServiceError};
use dakoku_store::jobs::Job;
use dakoku_worker::{BoxFuture, JobHandler, Outcome};
use std::sync::{Arc, OnceLock};

pub struct MessageSender {
    service: Service,
    lineworks: Arc<LineWorks>,
}

impl MessageSender {
    pub fn new(service: Service, lineworks: Arc<LineWorks>) -> Self {
        Self { service, lineworks }
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
        match self.lineworks.send(&self.service, &integration, &message).await {
            Ok(()) => Outcome::Done,
            Err(error) => outcome_of(error),
        }
    }
}

impl JobHandler for MessageSender {
    fn kind(&self) -> &'static str {
        static KIND: OnceLock<String> = OnceLock::new();
        KIND.get_or_init(|| message_job(Platform::LineWorks))
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(self.send(job))
    }
}
