//! The `org.sync` job: one org sync of an integration with its platform's directory.

use crate::{BoxFuture, JobHandler, Outcome};
use dakoku_service::org_sync::{OrgSyncRequest, SyncStop};
use dakoku_service::Service;
use dakoku_store::jobs::Job;

pub struct OrgSyncJob(pub Service);

impl JobHandler for OrgSyncJob {
    fn kind(&self) -> dakoku_domain::JobKind {
        dakoku_domain::JobKind::OrgSync
    }

    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let request: OrgSyncRequest = match serde_json::from_value(job.payload.clone()) {
                Ok(r) => r,
                Err(e) => return Outcome::Fail { error: format!("malformed org sync request: {e}") },
            };
            let Some(org) = &job.org_id else { return Outcome::Fail { error: "org sync without organisation".into() } };
            match self.0.run_org_sync(org, &request).await {
                Ok(report) => {
                    tracing::info!(
                        integration = %request.integration_id,
                        applied = report.applied,
                        failed = report.failed.len(),
                        conflicts = report.plan.conflicts.len(),
                        "org sync finished"
                    );
                    Outcome::Done
                }
                Err(SyncStop::Retry { error, after }) => Outcome::Retry { error, after },
                Err(SyncStop::Refused(error)) => Outcome::Fail { error },
            }
        })
    }
}
