//! The admin's view of background work: jobs that gave up (dead letters) and retrying them.

use crate::paging::Listed;
use crate::{audit, Ctx, PageRequest, Service, ServiceError, ServiceResult};
use dakoku_domain::JobId;
use dakoku_store::jobs::{self, Job, JobStatus};
use dakoku_store::StoreError;

impl Service {
    pub async fn list_jobs(&self, ctx: &Ctx, status: JobStatus, page: &PageRequest) -> ServiceResult<Listed<Job>> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins inspect background jobs".into()));
        }
        let mut conn = self.db.conn().await?;
        Ok(jobs::list(&mut conn, ctx.org(), status, page.after(), page.limit).await?.into())
    }

    pub async fn retry_job(&self, ctx: &Ctx, id: &JobId) -> ServiceResult<()> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins retry background jobs".into()));
        }
        let mut tx = self.db.begin().await?;
        jobs::retry_dead(&mut tx, ctx.org(), id).await.map_err(|e| match e {
            StoreError::NotFound => ServiceError::NotFound(format!("no dead job with id {id}")),
            other => other.into(),
        })?;
        audit::record(&mut tx, ctx, "job.retry", "job", id.as_str(), audit::NOTHING, audit::NOTHING).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Jobs of every organisation by status (`queued`, `running`, `done`, `dead`), for metrics.
    pub async fn job_counts(&self) -> ServiceResult<Vec<(String, i64)>> {
        Ok(jobs::counts(&self.db).await?)
    }
}
