//! The durable job queue (outbox). Jobs are enqueued in the same transaction as the change
//! that causes them, claimed with a lease, and finished, retried or buried (`dead`).
//!
//! Claiming is the one statement that differs per backend: PostgreSQL uses
//! `FOR UPDATE SKIP LOCKED` so several instances share the queue without blocking each
//! other; SQLite has a single writer, so a plain `UPDATE ... RETURNING` is already atomic.

use crate::{from_micros, now_micros, to_micros, Backend, Conn, Db, Result, StoreError};
use chrono::{DateTime, Utc};
use dakoku_domain::{JobId, JobKind, OrgId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
    fn parse(text: &str) -> Option<Self> {
        [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Dead]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Debug)]
pub struct NewJob {
    pub org_id: Option<OrgId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    /// A job with the same key is enqueued once; later enqueues are ignored.
    pub dedupe_key: Option<String>,
}

impl NewJob {
    pub fn now(kind: JobKind, org_id: Option<OrgId>, payload: serde_json::Value) -> Self {
        Self { org_id, kind: kind.as_str().to_owned(), payload, max_attempts: 10, run_at: Utc::now(), dedupe_key: None }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Job {
    pub id: JobId,
    pub org_id: Option<OrgId>,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    /// Claims so far, the current one included.
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, org_id, kind, payload, status, attempts, max_attempts, run_at, locked_by, last_error, created_at";

/// Enqueues inside the caller's transaction. Returns false if the dedupe key was taken.
pub async fn enqueue(conn: &mut Conn, job: &NewJob) -> Result<bool> {
    Ok(insert(conn, job, &JobId::new()).await? == 1)
}

/// Enqueues a job without a dedupe key and returns its id.
pub async fn enqueue_returning(conn: &mut Conn, job: &NewJob) -> Result<JobId> {
    let id = JobId::new();
    insert(conn, job, &id).await?;
    Ok(id)
}

async fn insert(conn: &mut Conn, job: &NewJob, id: &JobId) -> Result<u64> {
    let now = now_micros();
    let inserted = sqlx::query(
        "INSERT INTO jobs (id, org_id, kind, payload, status, attempts, max_attempts, run_at, dedupe_key, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $8, $8)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(job.org_id.as_ref().map(OrgId::as_str))
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(job.max_attempts)
    .bind(to_micros(job.run_at))
    .bind(job.dedupe_key.as_deref())
    .bind(now)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted)
}

/// Claims up to `limit` jobs that are due, or whose previous holder's lease ran out.
pub async fn claim(db: &Db, instance: &str, lease: Duration, limit: i64) -> Result<Vec<Job>> {
    let now = now_micros();
    let until = now + lease.as_micros() as i64;
    let lock = match db.backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3
         WHERE id IN (
             SELECT id FROM jobs
             WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND locked_until < $3)
             ORDER BY run_at LIMIT $4 {lock}
         )
         RETURNING {COLUMNS}"
    );
    let rows = sqlx::query(&sql).bind(instance).bind(until).bind(now).bind(limit).fetch_all(&db.pool).await?;
    rows.iter().map(decode).collect()
}

/// Marks a job done, if this instance still holds it.
pub async fn complete(db: &Db, id: &JobId, instance: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, last_error = NULL, updated_at = $3
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id.as_str())
    .bind(instance)
    .bind(now_micros())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Schedules another attempt at `retry_at`, or buries the job when `retry_at` is `None`.
pub async fn fail(db: &Db, id: &JobId, instance: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<bool> {
    let (status, run_at) = match retry_at {
        Some(at) => ("queued", to_micros(at)),
        None => ("dead", now_micros()),
    };
    let done = sqlx::query(
        "UPDATE jobs SET status = $3, run_at = $4, last_error = $5, locked_by = NULL, locked_until = NULL, updated_at = $6
         WHERE id = $1 AND locked_by = $2 AND status = 'running'",
    )
    .bind(id.as_str())
    .bind(instance)
    .bind(status)
    .bind(run_at)
    .bind(error)
    .bind(now_micros())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Extends the lease of every job this instance is running.
pub async fn renew_leases(db: &Db, instance: &str, lease: Duration) -> Result<u64> {
    let done = sqlx::query("UPDATE jobs SET locked_until = $2 WHERE locked_by = $1 AND status = 'running'")
        .bind(instance)
        .bind(now_micros() + lease.as_micros() as i64)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

/// Hands back jobs this instance claimed but did not finish (on shutdown); the attempt is
/// not counted against them.
pub async fn release(db: &Db, instance: &str) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', attempts = attempts - 1, locked_by = NULL, locked_until = NULL, updated_at = $2
         WHERE locked_by = $1 AND status = 'running'",
    )
    .bind(instance)
    .bind(now_micros())
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected())
}

pub async fn get(conn: &mut Conn, id: &JobId) -> Result<Job> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    let row = sqlx::query(&sql).bind(id.as_str()).fetch_one(conn).await?;
    decode(&row)
}

/// Jobs of one organisation in a given state, oldest first (for the dead-letter view).
pub async fn list(
    conn: &mut Conn,
    org: &OrgId,
    status: JobStatus,
    after: Option<&str>,
    limit: i64,
) -> Result<crate::Page<Job>> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE org_id = $1 AND status = $2 AND id > $3 ORDER BY id LIMIT $4");
    let rows = sqlx::query(&sql)
        .bind(org.as_str())
        .bind(status.as_str())
        .bind(after.unwrap_or(""))
        .bind(limit + 1)
        .fetch_all(conn)
        .await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(crate::Page::from_overfetch(items, limit, |j| j.id.to_string()))
}

/// Puts a dead job of the organisation back in the queue with a fresh set of attempts.
pub async fn retry_dead(conn: &mut Conn, org: &OrgId, id: &JobId) -> Result<()> {
    let done = sqlx::query(
        "UPDATE jobs SET status = 'queued', attempts = 0, run_at = $3, updated_at = $3
         WHERE org_id = $1 AND id = $2 AND status = 'dead'",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .bind(now_micros())
    .execute(conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Number of jobs per status, for metrics and readiness.
pub async fn counts(db: &Db) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status").fetch_all(&db.pool).await?;
    rows.iter().map(|r| Ok((r.try_get("status")?, r.try_get("n")?))).collect()
}

/// Deletes finished jobs older than the cutoff; dead ones stay until someone looks at them.
pub async fn purge_done(db: &Db, cutoff_micros: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM jobs WHERE status = 'done' AND updated_at < $1")
        .bind(cutoff_micros)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}

fn decode(row: &AnyRow) -> Result<Job> {
    let status: String = row.try_get("status")?;
    let payload: String = row.try_get("payload")?;
    Ok(Job {
        id: JobId::from_db(row.try_get("id")?),
        org_id: row.try_get::<Option<String>, _>("org_id")?.map(OrgId::from_db),
        kind: row.try_get("kind")?,
        payload: crate::parse_json(&payload, "job payload")?,
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status}")))?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: from_micros(row.try_get("run_at")?),
        locked_by: row.try_get("locked_by")?,
        last_error: row.try_get("last_error")?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}
