//! The punch ledger: insert and read, never update or delete.

use crate::employees::{Scope, SUBTREE_CTE};
use crate::{from_micros, parse_json, to_micros, Conn, Page, Result, StoreError};
use chrono::{DateTime, Utc};
use dakoku_domain::{EmployeeId, IntegrationId, OrgId, Punch, PunchId, PunchKind, PunchSource, Recorder};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, org_id, employee_id, kind, at, source, recorded_by, note, location, integration_id, \
                       external_event_id, supersedes, voids, correction_id, created_at";

/// Appends a punch. A second punch with the same integration event id is a
/// [`StoreError::Conflict`], which callers treat as "already stored".
pub async fn insert(conn: &mut Conn, p: &Punch) -> Result<()> {
    let location = p.location.as_ref().map(|l| serde_json::to_string(l).unwrap_or_default());
    sqlx::query(
        "INSERT INTO punches (id, org_id, employee_id, kind, at, source, recorded_by, note, location,
                              integration_id, external_event_id, supersedes, voids, correction_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(p.id.as_str())
    .bind(p.org_id.as_str())
    .bind(p.employee_id.as_str())
    .bind(p.kind.as_str())
    .bind(to_micros(p.at))
    .bind(p.source.as_str())
    .bind(p.recorded_by.to_db())
    .bind(p.note.as_deref())
    .bind(location)
    .bind(p.integration_id.as_ref().map(IntegrationId::as_str))
    .bind(p.external_event_id.as_deref())
    .bind(p.supersedes.as_ref().map(PunchId::as_str))
    .bind(i64::from(p.voids))
    .bind(p.correction_id.as_deref())
    .bind(to_micros(p.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, org: &OrgId, id: &PunchId) -> Result<Punch> {
    let sql = format!("SELECT {COLUMNS} FROM punches WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id.as_str()).fetch_one(conn).await?;
    decode(&row)
}

pub async fn find_by_event(conn: &mut Conn, integration: &IntegrationId, event_id: &str) -> Result<Punch> {
    let sql = format!("SELECT {COLUMNS} FROM punches WHERE integration_id = $1 AND external_event_id = $2");
    let row = sqlx::query(&sql).bind(integration.as_str()).bind(event_id).fetch_one(conn).await?;
    decode(&row)
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub employee_id: Option<EmployeeId>,
    /// Inclusive lower bound of `at`.
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound of `at`.
    pub to: Option<DateTime<Utc>>,
}

/// Punches in time order, scoped to what the caller may see. The cursor is `micros:id`.
pub async fn list(
    conn: &mut Conn,
    org: &OrgId,
    scope: Scope<'_>,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<Punch>> {
    let (after_at, after_id) = match after.and_then(|c| c.split_once(':')) {
        Some((at, id)) => (at.parse::<i64>().unwrap_or(i64::MIN), id.to_owned()),
        None => (i64::MIN, String::new()),
    };
    let sql = format!(
        "{SUBTREE_CTE}
         SELECT {COLUMNS} FROM punches p
         WHERE org_id = $1 AND (at > $2 OR (at = $2 AND id > $3))
           AND (CAST($5 AS TEXT) IS NULL OR employee_id = $5)
           AND ($8 = 'all' OR employee_id = $7 OR ($8 = 'subtree' AND employee_id IN (
                SELECT e.id FROM employees e WHERE e.org_id = $1 AND e.department_id IN (SELECT id FROM sub))))
           AND at >= $9 AND at < $10
         ORDER BY at, id LIMIT $4"
    );
    let (scope_name, root, own) = scope.binds();
    let rows = sqlx::query(&sql)
        .bind(org.as_str())
        .bind(after_at)
        .bind(after_id)
        .bind(limit + 1)
        .bind(filter.employee_id.as_ref().map(EmployeeId::as_str))
        .bind(root)
        .bind(own)
        .bind(scope_name)
        .bind(filter.from.map(to_micros).unwrap_or(i64::MIN))
        .bind(filter.to.map(to_micros).unwrap_or(i64::MAX))
        .fetch_all(conn)
        .await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |p| format!("{}:{}", to_micros(p.at), p.id)))
}

/// The punches of one employee that are in force: not replaced by a correction and not
/// cancellations themselves, with `at` in `[from, to)`, in time order.
pub async fn effective(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Punch>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM punches p
         WHERE org_id = $1 AND employee_id = $2 AND at >= $3 AND at < $4 AND voids = 0
           AND NOT EXISTS (SELECT 1 FROM punches s WHERE s.supersedes = p.id)
         ORDER BY at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(org.as_str())
        .bind(employee.as_str())
        .bind(to_micros(from))
        .bind(to_micros(to))
        .fetch_all(conn)
        .await?;
    rows.iter().map(decode).collect()
}

/// Whether the employee has a punch within the second of `second` (the same punch seen again
/// through another channel, such as one dakoku wrote into a platform and reads back; the
/// platform may have classified it differently).
pub async fn exists_in_second(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    second: DateTime<Utc>,
) -> Result<bool> {
    let start = to_micros(second) - to_micros(second).rem_euclid(1_000_000);
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM punches WHERE org_id = $1 AND employee_id = $2 AND at >= $3 AND at < $4",
    )
    .bind(org.as_str())
    .bind(employee.as_str())
    .bind(start)
    .bind(start + 1_000_000)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// Whether a punch has been replaced or cancelled by a later entry.
pub async fn is_superseded(conn: &mut Conn, org: &OrgId, id: &PunchId) -> Result<bool> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM punches WHERE org_id = $1 AND supersedes = $2")
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<i64, _>("n")? > 0)
}

/// When the employee's earliest punch happened, if there is one.
pub async fn first_at(conn: &mut Conn, org: &OrgId, employee: &EmployeeId) -> Result<Option<DateTime<Utc>>> {
    let row = sqlx::query("SELECT MIN(at) AS first FROM punches WHERE org_id = $1 AND employee_id = $2")
        .bind(org.as_str())
        .bind(employee.as_str())
        .fetch_one(conn)
        .await?;
    Ok(row.try_get::<Option<i64>, _>("first")?.map(from_micros))
}

pub async fn count_for_org(conn: &mut Conn, org: &OrgId) -> Result<i64> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM punches WHERE org_id = $1").bind(org.as_str()).fetch_one(conn).await?;
    Ok(row.try_get("n")?)
}

fn decode(row: &AnyRow) -> Result<Punch> {
    let kind: String = row.try_get("kind")?;
    let source: String = row.try_get("source")?;
    let recorded_by: String = row.try_get("recorded_by")?;
    let location: Option<String> = row.try_get("location")?;
    Ok(Punch {
        id: PunchId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        employee_id: EmployeeId::from_db(row.try_get("employee_id")?),
        kind: PunchKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("punch kind {kind}")))?,
        at: from_micros(row.try_get("at")?),
        source: PunchSource::parse(&source).ok_or_else(|| StoreError::Corrupt(format!("source {source}")))?,
        recorded_by: Recorder::from_db(&recorded_by),
        note: row.try_get("note")?,
        location: location.map(|l| parse_json(&l, "punch location")).transpose()?,
        integration_id: row.try_get::<Option<String>, _>("integration_id")?.map(IntegrationId::from_db),
        external_event_id: row.try_get("external_event_id")?,
        supersedes: row.try_get::<Option<String>, _>("supersedes")?.map(PunchId::from_db),
        voids: row.try_get::<i64, _>("voids")? != 0,
        correction_id: row.try_get("correction_id")?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}
