//! The background worker that runs inside `dakoku serve`: it claims due jobs from the durable
//! queue with a lease, runs each with its handler, and records the outcome (done, retry with
//! backoff, or dead). Leases are renewed while a job runs, so a job is only taken over when
//! its instance has died. On shutdown it stops claiming, lets running jobs finish within a
//! grace period, and hands back the rest.

mod org_sync;
mod webhook;

pub use org_sync::OrgSyncJob;
pub use webhook::WebhookDelivery;

use chrono::Utc;
use dakoku_service::Service;
use dakoku_store::jobs::{self, Job};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How a job attempt ended.
#[derive(Debug)]
pub enum Outcome {
    Done,
    /// Try again later: after the given delay, or the standard backoff.
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// Give up now; the job goes to the dead-letter state for an admin to look at.
    Fail {
        error: String,
    },
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs jobs of one kind.
pub trait JobHandler: Send + Sync + 'static {
    fn kind(&self) -> dakoku_domain::JobKind;
    fn run<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Outcome>;
}

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    pub instance_id: String,
    pub concurrency: usize,
    pub poll: Duration,
    pub lease: Duration,
    pub shutdown_grace: Duration,
}

#[derive(Clone)]
pub struct Worker {
    service: Service,
    config: WorkerConfig,
    handlers: Arc<HashMap<&'static str, Arc<dyn JobHandler>>>,
}

/// The delay before attempt `attempts + 1`: 2^attempts seconds, at most an hour, plus up to
/// a fifth of jitter so retries of many jobs spread out.
pub fn backoff(attempts: i64) -> Duration {
    let base = 2u64.saturating_pow(attempts.clamp(0, 12) as u32).min(3600);
    let jitter = rand_fraction() * base as f64 * 0.2;
    Duration::from_secs(base) + Duration::from_secs_f64(jitter)
}

fn rand_fraction() -> f64 {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}

impl Worker {
    /// A worker with the handlers every dakoku process has.
    pub fn new(service: Service, config: WorkerConfig) -> Self {
        let mut worker = Self { service: service.clone(), config, handlers: Arc::new(HashMap::new()) };
        worker.register(Arc::new(WebhookDelivery::new(service.clone())));
        worker.register(Arc::new(OrgSyncJob(service)));
        worker
    }

    pub fn register(&mut self, handler: Arc<dyn JobHandler>) {
        Arc::make_mut(&mut self.handlers).insert(handler.kind().as_str(), handler);
    }

    pub fn instance_id(&self) -> &str {
        &self.config.instance_id
    }

    /// Claims what is due now and runs it to the end. Returns how many jobs ran. Tests use
    /// this to drain the queue deterministically.
    pub async fn run_once(&self) -> Result<usize, dakoku_store::StoreError> {
        let claimed =
            jobs::claim(&self.service.db, &self.config.instance_id, self.config.lease, self.config.concurrency as i64)
                .await?;
        let n = claimed.len();
        let mut running = JoinSet::new();
        for job in claimed {
            let worker = self.clone();
            running.spawn(async move { worker.execute(job).await });
        }
        while running.join_next().await.is_some() {}
        Ok(n)
    }

    /// Runs until `shutdown` turns true, then drains as described on the crate.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut running: JoinSet<()> = JoinSet::new();
        let mut renew = tokio::time::interval(self.config.lease / 3);
        let mut housekeeping = tokio::time::interval(Duration::from_secs(3600));
        let mut schedule = tokio::time::interval(Duration::from_secs(60));
        tracing::info!(instance = %self.config.instance_id, "worker started");
        loop {
            while running.try_join_next().is_some() {}
            let free = self.config.concurrency.saturating_sub(running.len());
            let mut claimed_any = false;
            if free > 0 {
                match jobs::claim(&self.service.db, &self.config.instance_id, self.config.lease, free as i64).await {
                    Ok(claimed) => {
                        claimed_any = !claimed.is_empty();
                        for job in claimed {
                            let worker = self.clone();
                            running.spawn(async move { worker.execute(job).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "could not claim jobs"),
                }
            }
            let pause =
                if claimed_any && running.len() < self.config.concurrency { Duration::ZERO } else { self.config.poll };
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = tokio::time::sleep(pause) => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = renew.tick() => {
                    if let Err(e) = jobs::renew_leases(&self.service.db, &self.config.instance_id, self.config.lease).await {
                        tracing::warn!(error = %e, "could not renew job leases");
                    }
                }
                _ = housekeeping.tick() => self.housekeeping().await,
                _ = schedule.tick() => {
                    let now = Utc::now();
                    if let Err(e) = self.service.schedule_pulls(now).await {
                        tracing::warn!(error = %e, "could not schedule platform pulls");
                    }
                    if let Err(e) = self.service.schedule_org_syncs(now).await {
                        tracing::warn!(error = %e, "could not schedule org syncs");
                    }
                    if let Err(e) = self.service.schedule_notices(now).await {
                        tracing::warn!(error = %e, "could not schedule notices");
                    }
                }
            }
        }
        tracing::info!(running = running.len(), "worker stopping; letting running jobs finish");
        let drained =
            tokio::time::timeout(self.config.shutdown_grace, async { while running.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            running.abort_all();
        }
        match jobs::release(&self.service.db, &self.config.instance_id).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "handed unfinished jobs back to the queue"),
            Err(e) => {
                tracing::warn!(error = %e, "could not release jobs; their leases will expire")
            }
        }
    }

    async fn execute(&self, job: Job) {
        let instance = &self.config.instance_id;
        let outcome = if job.attempts > job.max_attempts {
            Outcome::Fail {
                error: format!("gave up after {} attempts (the last ones did not finish)", job.max_attempts),
            }
        } else {
            match self.handlers.get(job.kind.as_str()) {
                Some(handler) => handler.run(&job).await,
                None => Outcome::Fail { error: format!("no handler for job kind '{}'", job.kind) },
            }
        };
        let label = match &outcome {
            Outcome::Done => "done",
            Outcome::Retry { .. } if job.attempts >= job.max_attempts => "dead",
            Outcome::Retry { .. } => "retry",
            Outcome::Fail { .. } => "dead",
        };
        metrics::counter!("dakoku_jobs_processed_total", "kind" => job.kind.clone(), "outcome" => label).increment(1);
        let recorded = match outcome {
            Outcome::Done => jobs::complete(&self.service.db, &job.id, instance).await,
            Outcome::Retry { error, after } => {
                let retry_at = (job.attempts < job.max_attempts).then(|| {
                    let delay = after.unwrap_or_else(|| backoff(job.attempts));
                    Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default()
                });
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %error, dead = retry_at.is_none(), "job attempt failed");
                jobs::fail(&self.service.db, &job.id, instance, &error, retry_at).await
            }
            Outcome::Fail { error } => {
                tracing::warn!(job = %job.id, kind = %job.kind, error = %error, "job failed for good");
                jobs::fail(&self.service.db, &job.id, instance, &error, None).await
            }
        };
        match recorded {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job = %job.id, "job was taken over by another instance before it finished here")
            }
            Err(e) => {
                tracing::error!(job = %job.id, error = %e, "could not record job outcome; it will run again after its lease")
            }
        }
    }

    async fn housekeeping(&self) {
        let day = 86_400_000_000i64;
        let now = dakoku_store::now_micros();
        if let Ok(mut conn) = self.service.db.conn().await {
            if let Err(e) = dakoku_store::idempotency::purge_older_than(&mut conn, now - day).await {
                tracing::warn!(error = %e, "could not purge old idempotency keys");
            }
            // Platforms redeliver within minutes; a week of memory is plenty.
            let cutoff = dakoku_store::from_micros(now - 7 * day);
            if let Err(e) = dakoku_store::chat::purge_events(&mut conn, cutoff).await {
                tracing::warn!(error = %e, "could not purge old inbound events");
            }
            let month_ago = dakoku_store::from_micros(now - 30 * day);
            if let Err(e) = dakoku_store::chat::purge_calls(&mut conn, month_ago).await {
                tracing::warn!(error = %e, "could not purge the old operation log");
            }
            // Expired web sessions and links, and failed sign-ins older than a week.
            if let Err(e) = dakoku_store::web::purge(&mut conn, dakoku_store::from_micros(now), cutoff).await {
                tracing::warn!(error = %e, "could not purge expired web sessions");
            }
        }
        if let Err(e) = jobs::purge_done(&self.service.db, now - 7 * day).await {
            tracing::warn!(error = %e, "could not purge finished jobs");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= std::time::Duration::from_secs(2));
        assert!(backoff(5) >= std::time::Duration::from_secs(32));
        assert!(backoff(40) <= std::time::Duration::from_secs(3600 + 720));
    }
}
