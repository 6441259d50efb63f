//! The jobs that move punch records between dakoku and a platform that keeps its own (WeCom's
//! 打卡, DingTalk's attendance): `{platform}.pull` brings a time range in, `{platform}.push`
//! writes one punch made elsewhere out. Each platform supplies the calls; the jobs here read
//! the payload, open the integration and map failures onto retries.

use crate::error::{outcome_of, ApiError};
use dakoku_service::integrations::OpenIntegration;
use dakoku_service::platform_punches::{ImportSummary, PullRequest, PushRequest};
use dakoku_service::{Service, ServiceError};
use dakoku_store::jobs::Job;
use dakoku_worker::{BoxFuture, JobHandler, Outcome};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// What a pull did, and how many calls it took.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullReport {
    pub calls: u64,
    pub summary: ImportSummary,
}

/// A platform's record calls.
pub trait Records: Send + Sync + 'static {
    fn pull_kind(&self) -> dakoku_domain::JobKind;
    fn push_kind(&self) -> dakoku_domain::JobKind;

    /// Brings the platform's records of the request's range into the ledger.
    fn pull<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        request: &'a PullRequest,
    ) -> BoxFuture<'a, Result<PullReport, ApiError>>;

    /// Writes one punch into the platform. `retried` says an earlier attempt may have reached
    /// the platform before its answer was lost, so a platform without idempotent writes checks
    /// first.
    fn push<'a>(
        &'a self,
        service: &'a Service,
        integration: &'a OpenIntegration,
        request: &'a PushRequest,
        retried: bool,
    ) -> BoxFuture<'a, Result<(), ApiError>>;
}

/// The payload and integration of a record job, or the outcome that ends it.
async fn open<T: DeserializeOwned>(
    service: &Service,
    job: &Job,
    integration_of: impl Fn(&T) -> &dakoku_domain::IntegrationId,
) -> Result<(T, OpenIntegration), Outcome> {
    let request: T = serde_json::from_value(job.payload.clone())
        .map_err(|e| Outcome::Fail { error: format!("malformed {} payload: {e}", job.kind) })?;
    let Some(org) = &job.org_id else { return Err(Outcome::Fail { error: "job without organisation".into() }) };
    match service.open_integration(org, integration_of(&request)).await {
        Ok(integration) => Ok((request, integration)),
        // The integration was removed: nothing left to do.
        Err(ServiceError::NotFound(_)) => Err(Outcome::Done),
        Err(e) => Err(Outcome::Retry { error: e.to_string(), after: None }),
    }
}

pub struct PullJob<R: Records> {
    service: Service,
    platform: Arc<R>,
}

impl<R: Records> PullJob<R> {
    pub fn new(service: Service, platform: Arc<R>) -> Self {
        Self { service, platform }
    }
}

impl<R: Records> JobHandler for PullJob<R> {
    fn kind(&self) -> dakoku_domain::JobKind {
        self.platform.pull_kind()
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let (request, integration) = match open::<PullRequest>(&self.service, job, |r| &r.integration_id).await {
                Ok(opened) => opened,
                Err(outcome) => return outcome,
            };
            match self.platform.pull(&self.service, &integration, &request).await {
                Ok(report) => {
                    tracing::info!(integration = %request.integration_id, calls = report.calls, summary = ?report.summary, "platform records pulled");
                    Outcome::Done
                }
                // Batches already stored stay; the retry stores only what is missing.
                Err(e) => outcome_of(e),
            }
        })
    }
}

pub struct PushJob<R: Records> {
    service: Service,
    platform: Arc<R>,
}

impl<R: Records> PushJob<R> {
    pub fn new(service: Service, platform: Arc<R>) -> Self {
        Self { service, platform }
    }
}

impl<R: Records> JobHandler for PushJob<R> {
    fn kind(&self) -> dakoku_domain::JobKind {
        self.platform.push_kind()
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let (request, integration) = match open::<PushRequest>(&self.service, job, |r| &r.integration_id).await {
                Ok(opened) => opened,
                Err(outcome) => return outcome,
            };
            match self.platform.push(&self.service, &integration, &request, job.attempts > 1).await {
                Ok(()) => Outcome::Done,
                Err(e) => outcome_of(e),
            }
        })
    }
}
