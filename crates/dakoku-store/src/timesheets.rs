//! Rules, calendars, rosters, corrections, the monthly workflow and the derived records
//! (day records and month totals, deleted whenever their inputs change).

use crate::{from_micros, now_micros, to_micros, Conn, Result, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use dakoku_domain::{CorrectionStatus, EmployeeId, MonthStatus, OrgId, PunchId, PunchKind};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

/// The last day stored dates can name; "from a day on" ranges end here. (chrono's own maximum
/// has a six-digit year that would not sort with the stored `YYYY-MM-DD` text.)
pub fn end_of_time() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default()
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_date(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| StoreError::Corrupt(format!("date {text}: {e}")))
}

// ---- work rules -------------------------------------------------------------------------

/// Every rule version of an organisation that has taken effect by some date: what resolving
/// any number of employees' rules on that date needs, read in one query.
pub struct RuleVersions(Vec<(String, String, String)>);

impl RuleVersions {
    /// The override of each scope in force (the latest version), in the order of `scopes`.
    pub fn layers(&self, scopes: &[String]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for scope in scopes {
            let latest = self
                .0
                .iter()
                .filter(|(s, _, _)| s == scope)
                .max_by(|(_, a, _), (_, b, _)| a.cmp(b))
                .map(|(_, _, rule)| rule.clone());
            if let Some(rule) = latest {
                found.push((scope.clone(), rule));
            }
        }
        found
    }
}

pub async fn rule_versions(conn: &mut Conn, org: &OrgId, on: NaiveDate) -> Result<RuleVersions> {
    let rows = sqlx::query(
        "SELECT scope, effective_from, rule FROM work_rule_versions WHERE org_id = $1 AND effective_from <= $2",
    )
    .bind(org.as_str())
    .bind(on.to_string())
    .fetch_all(conn)
    .await?;
    let versions = rows
        .iter()
        .map(|r| Ok((r.try_get("scope")?, r.try_get("effective_from")?, r.try_get("rule")?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(RuleVersions(versions))
}

/// The override of each scope in force on `on` (the latest version taking effect on or
/// before it), in the order of `scopes`.
pub async fn rule_layers(
    conn: &mut Conn,
    org: &OrgId,
    scopes: &[String],
    on: NaiveDate,
) -> Result<Vec<(String, String)>> {
    Ok(rule_versions(conn, org, on).await?.layers(scopes))
}

/// Stores a scope's override taking effect on `from` (replacing a version of the same date).
/// An empty override (`{}`) is kept too: from that date the scope adds nothing.
pub async fn put_rule(conn: &mut Conn, org: &OrgId, scope: &str, from: NaiveDate, rule: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO work_rule_versions (org_id, scope, effective_from, rule, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, scope, effective_from) DO UPDATE SET rule = excluded.rule, updated_at = excluded.updated_at",
    )
    .bind(org.as_str())
    .bind(scope)
    .bind(from.to_string())
    .bind(rule)
    .bind(now_micros())
    .execute(conn)
    .await?;
    Ok(())
}

// ---- calendar and roster ------------------------------------------------------------------

/// The calendar days of the given scopes (`org`, `department:<id>`), in the order of `scopes`
/// and by day within each, so later scopes override earlier ones when laid in order.
pub async fn calendar(
    conn: &mut Conn,
    org: &OrgId,
    scopes: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, String, String)>> {
    let rows = sqlx::query(
        "SELECT scope, day, kind, name FROM calendar_entries
         WHERE org_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
    )
    .bind(org.as_str())
    .bind(date_text(from))
    .bind(date_text(to))
    .fetch_all(conn)
    .await?;
    let mut found = Vec::new();
    for scope in scopes {
        for row in &rows {
            if row.try_get::<String, _>("scope")? == *scope {
                found.push((
                    parse_date(&row.try_get::<String, _>("day")?)?,
                    row.try_get("kind")?,
                    row.try_get("name")?,
                ));
            }
        }
    }
    Ok(found)
}

pub async fn put_calendar_day(
    conn: &mut Conn,
    org: &OrgId,
    scope: &str,
    day: NaiveDate,
    kind: &str,
    name: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO calendar_entries (org_id, scope, day, kind, name) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, scope, day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
    )
    .bind(org.as_str())
    .bind(scope)
    .bind(date_text(day))
    .bind(kind)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_calendar_day(conn: &mut Conn, org: &OrgId, scope: &str, day: NaiveDate) -> Result<bool> {
    let done = sqlx::query("DELETE FROM calendar_entries WHERE org_id = $1 AND scope = $2 AND day = $3")
        .bind(org.as_str())
        .bind(scope)
        .bind(date_text(day))
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

pub async fn shifts(conn: &mut Conn, org: &OrgId) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT definition FROM shifts WHERE org_id = $1 ORDER BY code")
        .bind(org.as_str())
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("definition")?)).collect()
}

pub async fn put_shift(conn: &mut Conn, org: &OrgId, code: &str, definition: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO shifts (org_id, code, definition) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, code) DO UPDATE SET definition = excluded.definition",
    )
    .bind(org.as_str())
    .bind(code)
    .bind(definition)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn roster(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, String)>> {
    per_day(conn, "roster", "shift_code", org, employee, (from, to)).await
}

/// One text column of a per-employee, per-day table, for the days in `from..=to`.
async fn per_day(
    conn: &mut Conn,
    table: &str,
    column: &str,
    org: &OrgId,
    employee: &EmployeeId,
    (from, to): (NaiveDate, NaiveDate),
) -> Result<Vec<(NaiveDate, String)>> {
    let sql = format!(
        "SELECT day, {column} AS value FROM {table}
         WHERE org_id = $1 AND employee_id = $2 AND day >= $3 AND day <= $4 ORDER BY day"
    );
    let rows = sqlx::query(&sql)
        .bind(org.as_str())
        .bind(employee.as_str())
        .bind(date_text(from))
        .bind(date_text(to))
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| Ok((parse_date(&r.try_get::<String, _>("day")?)?, r.try_get("value")?))).collect()
}

pub async fn set_roster(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    day: NaiveDate,
    shift: Option<&str>,
) -> Result<()> {
    match shift {
        Some(code) => {
            sqlx::query(
                "INSERT INTO roster (org_id, employee_id, day, shift_code) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (org_id, employee_id, day) DO UPDATE SET shift_code = excluded.shift_code",
            )
            .bind(org.as_str())
            .bind(employee.as_str())
            .bind(date_text(day))
            .bind(code)
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM roster WHERE org_id = $1 AND employee_id = $2 AND day = $3")
                .bind(org.as_str())
                .bind(employee.as_str())
                .bind(date_text(day))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

// ---- corrections ---------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize)]
pub struct Correction {
    pub id: String,
    pub org_id: OrgId,
    pub employee_id: EmployeeId,
    /// `add`, `move` or `cancel`.
    pub action: String,
    pub punch_id: Option<PunchId>,
    pub kind: Option<PunchKind>,
    pub at: Option<DateTime<Utc>>,
    pub reason: String,
    pub status: CorrectionStatus,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
}

const CORRECTION_COLUMNS: &str =
    "id, org_id, employee_id, action, punch_id, kind, at, reason, status, requested_by, decided_by, decided_at, comment, created_at";

pub async fn insert_correction(conn: &mut Conn, c: &Correction) -> Result<()> {
    sqlx::query(
        "INSERT INTO corrections (id, org_id, employee_id, action, punch_id, kind, at, reason, status, requested_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&c.id)
    .bind(c.org_id.as_str())
    .bind(c.employee_id.as_str())
    .bind(&c.action)
    .bind(c.punch_id.as_ref().map(PunchId::as_str))
    .bind(c.kind.map(PunchKind::as_str))
    .bind(c.at.map(to_micros))
    .bind(&c.reason)
    .bind(c.status.as_str())
    .bind(&c.requested_by)
    .bind(to_micros(c.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_correction(conn: &mut Conn, org: &OrgId, id: &str) -> Result<Correction> {
    let sql = format!("SELECT {CORRECTION_COLUMNS} FROM corrections WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id).fetch_one(conn).await?;
    decode_correction(&row)
}

/// Corrections of the organisation, newest first, optionally of one employee or status.
pub async fn list_corrections(
    conn: &mut Conn,
    org: &OrgId,
    employee: Option<&EmployeeId>,
    status: Option<CorrectionStatus>,
) -> Result<Vec<Correction>> {
    let sql = format!(
        "SELECT {CORRECTION_COLUMNS} FROM corrections
         WHERE org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR employee_id = $2) AND (CAST($3 AS TEXT) IS NULL OR status = $3)
         ORDER BY id DESC LIMIT 1000"
    );
    let rows = sqlx::query(&sql)
        .bind(org.as_str())
        .bind(employee.map(EmployeeId::as_str))
        .bind(status.map(CorrectionStatus::as_str))
        .fetch_all(conn)
        .await?;
    rows.iter().map(decode_correction).collect()
}

/// Records the decision on a pending correction; false if it was no longer pending.
pub async fn decide_correction(
    conn: &mut Conn,
    org: &OrgId,
    id: &str,
    status: CorrectionStatus,
    by: &str,
    comment: Option<&str>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE corrections SET status = $3, decided_by = $4, decided_at = $5, comment = $6
         WHERE org_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(org.as_str())
    .bind(id)
    .bind(status.as_str())
    .bind(by)
    .bind(now_micros())
    .bind(comment)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn decode_correction(row: &AnyRow) -> Result<Correction> {
    let kind: Option<String> = row.try_get("kind")?;
    Ok(Correction {
        id: row.try_get("id")?,
        org_id: OrgId::from_db(row.try_get("org_id")?),
        employee_id: EmployeeId::from_db(row.try_get("employee_id")?),
        action: row.try_get("action")?,
        punch_id: row.try_get::<Option<String>, _>("punch_id")?.map(PunchId::from_db),
        kind: kind.as_deref().and_then(PunchKind::parse),
        at: row.try_get::<Option<i64>, _>("at")?.map(from_micros),
        reason: row.try_get("reason")?,
        status: CorrectionStatus::parse(&row.try_get::<String, _>("status")?)
            .ok_or_else(|| StoreError::Corrupt("correction status".into()))?,
        requested_by: row.try_get("requested_by")?,
        decided_by: row.try_get("decided_by")?,
        decided_at: row.try_get::<Option<i64>, _>("decided_at")?.map(from_micros),
        comment: row.try_get("comment")?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}

// ---- the monthly workflow ---------------------------------------------------------------------

#[derive(Clone, Debug, Default, Serialize)]
pub struct MonthState {
    pub status: MonthStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
}

fn month_status(text: &str) -> Result<MonthStatus> {
    MonthStatus::parse(text).ok_or_else(|| StoreError::Corrupt(format!("month status {text}")))
}

pub async fn month_state(conn: &mut Conn, org: &OrgId, employee: &EmployeeId, month: &str) -> Result<MonthState> {
    let row = sqlx::query(
        "SELECT status, submitted_at, submitted_by, decided_at, decided_by, comment FROM timesheet_months
         WHERE org_id = $1 AND employee_id = $2 AND month = $3",
    )
    .bind(org.as_str())
    .bind(employee.as_str())
    .bind(month)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(MonthState::default()) };
    Ok(MonthState {
        status: month_status(&row.try_get::<String, _>("status")?)?,
        submitted_at: row.try_get::<Option<i64>, _>("submitted_at")?.map(from_micros),
        submitted_by: row.try_get("submitted_by")?,
        decided_at: row.try_get::<Option<i64>, _>("decided_at")?.map(from_micros),
        decided_by: row.try_get("decided_by")?,
        comment: row.try_get("comment")?,
    })
}

/// The workflow state of one month of many employees, in one query per 500 (no row: open).
pub async fn month_states(
    conn: &mut Conn,
    org: &OrgId,
    employees: &[EmployeeId],
    month: &str,
) -> Result<std::collections::HashMap<EmployeeId, MonthStatus>> {
    let mut found = std::collections::HashMap::new();
    for chunk in employees.chunks(500) {
        let slots: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT employee_id, status FROM timesheet_months WHERE org_id = $1 AND month = $2 AND employee_id IN ({})",
            slots.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(org.as_str()).bind(month);
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.insert(
                EmployeeId::from_db(row.try_get("employee_id")?),
                month_status(&row.try_get::<String, _>("status")?)?,
            );
        }
    }
    Ok(found)
}

/// Every (employee, month) of the organisation that waits for a decision, oldest month first.
pub async fn submitted_months(conn: &mut Conn, org: &OrgId) -> Result<Vec<(EmployeeId, String)>> {
    let rows = sqlx::query(
        "SELECT employee_id, month FROM timesheet_months WHERE org_id = $1 AND status = 'submitted'
         ORDER BY month, employee_id",
    )
    .bind(org.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok((EmployeeId::from_db(r.try_get("employee_id")?), r.try_get("month")?))).collect()
}

/// The days and summary frozen when the month was approved, if it is approved.
pub async fn month_snapshot(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    month: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT snapshot FROM timesheet_months WHERE org_id = $1 AND employee_id = $2 AND month = $3 AND status = 'approved'",
    )
    .bind(org.as_str())
    .bind(employee.as_str())
    .bind(month)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.try_get::<Option<String>, _>("snapshot")).transpose()?.flatten())
}

/// Stores the state of a month, with the snapshot of an approval (none for other states).
pub async fn put_month_state(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    month: &str,
    s: &MonthState,
    snapshot: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO timesheet_months (org_id, employee_id, month, status, submitted_at, submitted_by, decided_at, decided_by, comment, snapshot)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (org_id, employee_id, month) DO UPDATE SET status = excluded.status,
             submitted_at = excluded.submitted_at, submitted_by = excluded.submitted_by,
             decided_at = excluded.decided_at, decided_by = excluded.decided_by, comment = excluded.comment,
             snapshot = excluded.snapshot",
    )
    .bind(org.as_str())
    .bind(employee.as_str())
    .bind(month)
    .bind(s.status.as_str())
    .bind(s.submitted_at.map(to_micros))
    .bind(s.submitted_by.as_deref())
    .bind(s.decided_at.map(to_micros))
    .bind(s.decided_by.as_deref())
    .bind(s.comment.as_deref())
    .bind(snapshot)
    .execute(conn)
    .await?;
    Ok(())
}

// ---- derived records ----------------------------------------------------------------------------

pub async fn day_records(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, String)>> {
    per_day(conn, "day_records", "record", org, employee, (from, to)).await
}

/// Stores several day records of one employee in one statement.
pub async fn put_day_records(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    records: &[(NaiveDate, String)],
) -> Result<()> {
    for chunk in records.chunks(64) {
        let values: Vec<String> =
            (0..chunk.len()).map(|i| format!("($1, $2, ${}, ${})", 3 + 2 * i, 4 + 2 * i)).collect();
        let sql = format!(
            "INSERT INTO day_records (org_id, employee_id, day, record) VALUES {}
             ON CONFLICT (org_id, employee_id, day) DO UPDATE SET record = excluded.record",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(org.as_str()).bind(employee.as_str());
        for (day, record) in chunk {
            query = query.bind(date_text(*day)).bind(record.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn month_totals(conn: &mut Conn, org: &OrgId, employee: &EmployeeId, month: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT summary FROM month_totals WHERE org_id = $1 AND employee_id = $2 AND month = $3")
        .bind(org.as_str())
        .bind(employee.as_str())
        .bind(month)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|r| r.try_get("summary")).transpose()?)
}

pub async fn put_month_totals(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    month: &str,
    summary: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO month_totals (org_id, employee_id, month, summary) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, employee_id, month) DO UPDATE SET summary = excluded.summary",
    )
    .bind(org.as_str())
    .bind(employee.as_str())
    .bind(month)
    .bind(summary)
    .execute(conn)
    .await?;
    Ok(())
}

/// Forgets what was derived for an employee (or the whole organisation when `employee` is
/// `None`): day records in `days` (all when `None`) and month totals from the first of those
/// days' month on, since later months look back at earlier ones. The next read recomputes it.
pub async fn invalidate(
    conn: &mut Conn,
    org: &OrgId,
    employee: Option<&EmployeeId>,
    days: Option<(NaiveDate, NaiveDate)>,
) -> Result<()> {
    let (from_day, to_day) =
        days.map(|(f, t)| (date_text(f), date_text(t))).unwrap_or_else(|| (String::new(), date_text(end_of_time())));
    let from_month = days.map(|(f, _)| f.format("%Y-%m").to_string()).unwrap_or_default();
    sqlx::query(
        "DELETE FROM day_records WHERE org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR employee_id = $2) AND day >= $3 AND day <= $4",
    )
    .bind(org.as_str())
    .bind(employee.map(EmployeeId::as_str))
    .bind(&from_day)
    .bind(&to_day)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM month_totals WHERE org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR employee_id = $2) AND month >= $3",
    )
    .bind(org.as_str())
    .bind(employee.map(EmployeeId::as_str))
    .bind(&from_month)
    .execute(conn)
    .await?;
    Ok(())
}
