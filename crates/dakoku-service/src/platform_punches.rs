//! Punches a platform recorded itself (WeCom's 打卡 app, DingTalk's attendance), brought into
//! the ledger. Each keeps the platform's record id as its event id, so pulling the same range
//! again stores nothing twice; a record of an unlinked user, or in a month already submitted,
//! is counted and left out.

use crate::integrations::OpenIntegration;
use crate::punches::{insert_punch, NewPunch, Recorded};
use crate::{Ctx, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use dakoku_domain::{Actor, EmployeeId, Location, PunchKind, Recorder, Role, UserId};
use dakoku_store::{integrations, StoreError};
use serde::Serialize;
use std::collections::HashMap;

/// One punch as the platform recorded it.
#[derive(Clone, Debug)]
pub struct ExternalPunch {
    pub user_id: String,
    pub kind: PunchKind,
    pub at: DateTime<Utc>,
    /// The platform's id for the record (or what identifies it): the dedupe key.
    pub record_id: String,
    /// The platform's remarks (an exception such as 地点异常, the place).
    pub note: Option<String>,
    pub location: Option<Location>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub created: u64,
    pub already_stored: u64,
    pub unlinked: u64,
    /// In a month that is submitted or approved.
    pub refused: u64,
}

impl ImportSummary {
    pub fn add(&mut self, other: &ImportSummary) {
        self.created += other.created;
        self.already_stored += other.already_stored;
        self.unlinked += other.unlinked;
        self.refused += other.refused;
    }
}

/// The integration acting for the organisation: it records punches at past times, as HR may.
pub(crate) fn integration_ctx(integration: &OpenIntegration) -> Ctx {
    Ctx {
        actor: Actor {
            org_id: integration.stored.org_id.clone(),
            user_id: UserId::from_db(format!("integration:{}", integration.stored.id)),
            role: Role::Hr,
            employee_id: None,
            managed_root: None,
            managed_departments: Default::default(),
        },
        recorder: Recorder::Integration(integration.stored.id.clone()),
        request_id: None,
    }
}

/// The payload of a `{platform}.pull` job: fetch the platform's records in [from, to).
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct PullRequest {
    pub integration_id: dakoku_domain::IntegrationId,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only these platform users (a platform said they punched); `None`: every linked user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
}

/// The payload of a `{platform}.push` job: one punch to write into the platform.
#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct PushRequest {
    pub integration_id: dakoku_domain::IntegrationId,
    pub punch_id: dakoku_domain::PunchId,
    pub user_id: String,
    pub kind: PunchKind,
    pub at: DateTime<Utc>,
    pub source: dakoku_domain::PunchSource,
}

impl Service {
    /// In the punch's transaction: one push job per integration of the organisation that
    /// takes punches (`push_punches: true`), has the employee linked and did not make the punch
    /// itself. The dedupe key makes it one job per punch and integration.
    pub(crate) async fn enqueue_pushes(
        &self,
        conn: &mut dakoku_store::Conn,
        punch: &dakoku_domain::Punch,
    ) -> ServiceResult<()> {
        for stored in integrations::of_org(conn, &punch.org_id).await? {
            let wanted = stored.settings.get("push_punches").and_then(serde_json::Value::as_bool).unwrap_or(false);
            let Some(kind) = self.port(stored.platform).and_then(|p| p.push_job()).filter(|_| wanted) else { continue };
            if punch.integration_id.as_ref() == Some(&stored.id) {
                continue;
            }
            let user_id = match integrations::linked_user(conn, &stored.id, &punch.employee_id).await {
                Ok(user) => user,
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            };
            let request = PushRequest {
                integration_id: stored.id.clone(),
                punch_id: punch.id.clone(),
                user_id,
                kind: punch.kind,
                at: punch.at,
                source: punch.source,
            };
            let payload = serde_json::to_value(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut job = dakoku_store::jobs::NewJob::now(kind, Some(punch.org_id.clone()), payload);
            job.dedupe_key = Some(format!("push:{}:{}", stored.id, punch.id));
            dakoku_store::jobs::enqueue(conn, &job).await?;
        }
        Ok(())
    }

    /// Queues a pull of the platform's own punch records for a time range (admin and HR).
    pub async fn request_pull(
        &self,
        ctx: &Ctx,
        integration: &dakoku_domain::IntegrationId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> ServiceResult<dakoku_domain::JobId> {
        if !ctx.actor.manages_people() {
            return Err(ServiceError::Forbidden("only admin and HR pull punches from a platform".into()));
        }
        if from >= to || to - from > chrono::Duration::days(92) {
            return Err(ServiceError::invalid("to", "must be after from, at most 92 days later"));
        }
        let open = self.open_integration(ctx.org(), integration).await?;
        let kind = self.port(open.stored.platform).and_then(|p| p.pull_job()).ok_or_else(|| {
            ServiceError::Unprocessable("this platform has no punch records of its own to pull".into())
        })?;
        let payload = PullRequest { integration_id: integration.clone(), from, to, users: None };
        let payload = serde_json::to_value(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let job = dakoku_store::jobs::NewJob::now(kind, Some(ctx.org().clone()), payload);
        let mut tx = self.db.begin().await?;
        let id = dakoku_store::jobs::enqueue_returning(&mut tx, &job).await?;
        crate::audit::record(
            &mut tx,
            ctx,
            "integration.pull",
            "integration",
            integration.as_str(),
            crate::audit::NOTHING,
            Some(&job.payload),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(id)
    }

    /// Queues the periodic pull of every integration whose platform keeps punch records: the
    /// last two days, every `pull_every_minutes` (default 60; 0 turns it off).
    pub async fn schedule_pulls(&self, now: DateTime<Utc>) -> ServiceResult<u64> {
        let mut conn = self.db.conn().await?;
        let mut queued = 0;
        for stored in integrations::all(&mut conn).await? {
            let Some(kind) = self.port(stored.platform).and_then(|p| p.pull_job()) else { continue };
            let every = stored.settings.get("pull_every_minutes").and_then(serde_json::Value::as_i64).unwrap_or(60);
            let request = PullRequest {
                integration_id: stored.id.clone(),
                from: now - chrono::Duration::days(2),
                to: now,
                users: None,
            };
            let payload = serde_json::to_value(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            queued += u64::from(enqueue_periodic(&mut conn, &stored, kind, every, now, payload).await?);
        }
        Ok(queued)
    }

    /// The platform users linked to employees in this integration (of `only`, if given).
    pub async fn linked_users(
        &self,
        integration: &OpenIntegration,
        only: Option<&[String]>,
    ) -> ServiceResult<Vec<String>> {
        let mut conn = self.db.conn().await?;
        let links = integrations::list_links(&mut conn, &integration.stored.org_id, &integration.stored.id).await?;
        Ok(links
            .into_iter()
            .map(|l| l.external_user_id)
            .filter(|u| only.is_none_or(|wanted| wanted.contains(u)))
            .collect())
    }

    /// A platform says these users just punched: one pull of their day soon, once per event.
    pub async fn request_event_pull(
        &self,
        integration: &OpenIntegration,
        event_id: &str,
        users: Vec<String>,
        around: DateTime<Utc>,
        delay: chrono::Duration,
    ) -> ServiceResult<bool> {
        let Some(kind) = self.port(integration.stored.platform).and_then(|p| p.pull_job()) else { return Ok(false) };
        let request = PullRequest {
            integration_id: integration.stored.id.clone(),
            from: around - chrono::Duration::days(1),
            to: around + chrono::Duration::minutes(1),
            users: Some(users),
        };
        let payload = serde_json::to_value(&request).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut job = dakoku_store::jobs::NewJob::now(kind, Some(integration.stored.org_id.clone()), payload);
        job.run_at = self.clock.now() + delay;
        job.dedupe_key = Some(format!("pull:{}:event:{event_id}", integration.stored.id));
        let mut conn = self.db.conn().await?;
        Ok(dakoku_store::jobs::enqueue(&mut conn, &job).await?)
    }

    /// Stores a batch of platform records in one transaction.
    pub async fn import_platform_punches(
        &self,
        integration: &OpenIntegration,
        records: Vec<ExternalPunch>,
    ) -> ServiceResult<ImportSummary> {
        let ctx = integration_ctx(integration);
        let now = self.clock.now();
        let mut summary = ImportSummary::default();
        let mut tx = self.db.begin().await?;
        let mut employees: HashMap<String, Option<EmployeeId>> = HashMap::new();
        for record in records {
            if !employees.contains_key(&record.user_id) {
                let found = match integrations::linked_employee(&mut tx, &integration.stored.id, &record.user_id).await
                {
                    Ok(id) => Some(id),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                };
                employees.insert(record.user_id.clone(), found);
            }
            let Some(Some(employee)) = employees.get(&record.user_id).cloned() else {
                summary.unlinked += 1;
                continue;
            };
            // Already here: pulled before (its punch is at that second), or a punch made
            // elsewhere that dakoku wrote into the platform and now reads back.
            if dakoku_store::punches::exists_in_second(&mut tx, &integration.stored.org_id, &employee, record.at)
                .await?
            {
                summary.already_stored += 1;
                continue;
            }
            let input = NewPunch {
                employee_id: employee,
                kind: record.kind,
                at: Some(record.at),
                note: record.note,
                location: record.location,
                source: integration.stored.platform.punch_source(),
                integration_id: Some(integration.stored.id.clone()),
                external_event_id: Some(record.record_id),
            };
            match insert_punch(&mut tx, &ctx, input, now).await {
                Ok(Recorded::Created(_)) => summary.created += 1,
                Ok(_) => summary.already_stored += 1,
                // These are refused before anything is written, so the batch goes on: a closed
                // month, a retired employee, a record that fails validation.
                Err(ServiceError::Conflict(_) | ServiceError::Unprocessable(_) | ServiceError::Invalid(_)) => {
                    summary.refused += 1
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(summary)
    }
}

/// Queues a job an integration runs every `every` minutes (0 or less: never). The dedupe key
/// names the kind and the period, so several instances queue it once per period.
pub(crate) async fn enqueue_periodic(
    conn: &mut dakoku_store::Conn,
    stored: &integrations::StoredIntegration,
    kind: dakoku_domain::JobKind,
    every: i64,
    now: DateTime<Utc>,
    payload: serde_json::Value,
) -> ServiceResult<bool> {
    if every <= 0 {
        return Ok(false);
    }
    let period = now.timestamp() / (every * 60);
    let mut job = dakoku_store::jobs::NewJob::now(kind, Some(stored.org_id.clone()), payload);
    job.dedupe_key = Some(format!("{kind}:{}:{every}:{period}", stored.id));
    Ok(dakoku_store::jobs::enqueue(conn, &job).await?)
}
