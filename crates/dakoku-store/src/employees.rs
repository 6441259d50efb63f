//! Employees: the people whose time is recorded. Never deleted; retired instead.

use crate::{exec, from_micros, now_micros, to_micros, Conn, Page, Result, StoreError};
use dakoku_domain::{DepartmentId, Employee, EmployeeId, EmployeeStatus, OrgId};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashSet;

const COLUMNS: &str = "id, org_id, code, name, email, mobile, timezone, department_id, status, retired_on, created_at";

/// Which employees a listing may include, from the caller's role.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    All,
    /// Employees of the department subtree under `root`, plus the caller's own record.
    Subtree {
        root: &'a DepartmentId,
        own: Option<&'a EmployeeId>,
    },
    Own(Option<&'a EmployeeId>),
}

impl Scope<'_> {
    /// (scope name, subtree root, own employee id) as bound into the scoped queries.
    pub(crate) fn binds(&self) -> (&'static str, Option<&str>, Option<&str>) {
        match self {
            Scope::All => ("all", None, None),
            Scope::Subtree { root, own } => ("subtree", Some(root.as_str()), own.map(EmployeeId::as_str)),
            Scope::Own(own) => ("own", None, own.map(EmployeeId::as_str)),
        }
    }
}

/// The recursive part of every query scoped by [`Scope`]: `$1` is the org, `$6` the subtree root.
pub(crate) const SUBTREE_CTE: &str = "WITH RECURSIVE sub (id) AS (
        SELECT id FROM departments WHERE org_id = $1 AND id = $6
        UNION
        SELECT d.id FROM departments d JOIN sub ON d.parent_id = sub.id WHERE d.org_id = $1
    )";

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub status: Option<EmployeeStatus>,
    pub department_id: Option<DepartmentId>,
}

pub async fn insert(conn: &mut Conn, e: &Employee) -> Result<()> {
    sqlx::query(
        "INSERT INTO employees (id, org_id, code, name, email, timezone, department_id, status, retired_on, created_at, updated_at, mobile)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
    )
    .bind(e.id.as_str())
    .bind(e.org_id.as_str())
    .bind(&e.code)
    .bind(&e.name)
    .bind(e.email.as_deref())
    .bind(e.timezone.map(|tz| tz.name()))
    .bind(e.department_id.as_ref().map(DepartmentId::as_str))
    .bind(e.status.as_str())
    .bind(e.retired_on.map(|d| d.to_string()))
    .bind(to_micros(e.created_at))
    .bind(e.mobile.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update(conn: &mut Conn, e: &Employee) -> Result<()> {
    let changed = exec(
        conn,
        sqlx::query(
            "UPDATE employees SET code = $3, name = $4, email = $5, timezone = $6, department_id = $7,
                 status = $8, retired_on = $9, updated_at = $10, mobile = $11
             WHERE org_id = $1 AND id = $2",
        )
        .bind(e.org_id.as_str())
        .bind(e.id.as_str())
        .bind(&e.code)
        .bind(&e.name)
        .bind(e.email.as_deref())
        .bind(e.timezone.map(|tz| tz.name()))
        .bind(e.department_id.as_ref().map(DepartmentId::as_str))
        .bind(e.status.as_str())
        .bind(e.retired_on.map(|d| d.to_string()))
        .bind(now_micros())
        .bind(e.mobile.as_deref()),
    )
    .await?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get(conn: &mut Conn, org: &OrgId, id: &EmployeeId) -> Result<Employee> {
    let sql = format!("SELECT {COLUMNS} FROM employees WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id.as_str()).fetch_one(conn).await?;
    decode(&row)
}

/// The department of each of the given employees of the organisation (unknown ids are left
/// out), in one query per 500 ids.
pub async fn departments_of(
    conn: &mut Conn,
    org: &OrgId,
    ids: &[EmployeeId],
) -> Result<std::collections::HashMap<EmployeeId, Option<DepartmentId>>> {
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let slots: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!("SELECT id, department_id FROM employees WHERE org_id = $1 AND id IN ({})", slots.join(", "));
        let mut query = sqlx::query(&sql).bind(org.as_str());
        for id in chunk {
            query = query.bind(id.as_str());
        }
        for row in query.fetch_all(&mut *conn).await? {
            found.insert(
                EmployeeId::from_db(row.try_get("id")?),
                row.try_get::<Option<String>, _>("department_id")?.map(DepartmentId::from_db),
            );
        }
    }
    Ok(found)
}

pub async fn get_by_code(conn: &mut Conn, org: &OrgId, code: &str) -> Result<Employee> {
    let sql = format!("SELECT {COLUMNS} FROM employees WHERE org_id = $1 AND code = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(code).fetch_one(conn).await?;
    decode(&row)
}

/// Every employee of the organisation, retired ones included.
pub async fn all(conn: &mut Conn, org: &OrgId) -> Result<Vec<Employee>> {
    let sql = format!("SELECT {COLUMNS} FROM employees WHERE org_id = $1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(org.as_str()).fetch_all(conn).await?;
    rows.iter().map(decode).collect()
}

/// Every employee code in use in the organisation (for validating a bulk import up front).
pub async fn codes(conn: &mut Conn, org: &OrgId) -> Result<HashSet<String>> {
    let rows = sqlx::query("SELECT code FROM employees WHERE org_id = $1").bind(org.as_str()).fetch_all(conn).await?;
    rows.iter().map(|r| Ok(r.try_get("code")?)).collect()
}

pub async fn list(
    conn: &mut Conn,
    org: &OrgId,
    scope: Scope<'_>,
    filter: &Filter,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<Employee>> {
    let sql = format!(
        "{SUBTREE_CTE}
         SELECT {COLUMNS} FROM employees
         WHERE org_id = $1 AND id > $2
           AND (CAST($4 AS TEXT) IS NULL OR status = $4)
           AND (CAST($5 AS TEXT) IS NULL OR department_id = $5)
           AND ($8 = 'all' OR id = $7 OR ($8 = 'subtree' AND department_id IN (SELECT id FROM sub)))
         ORDER BY id LIMIT $3"
    );
    let (scope_name, root, own) = scope.binds();
    let rows = sqlx::query(&sql)
        .bind(org.as_str())
        .bind(after.unwrap_or(""))
        .bind(limit + 1)
        .bind(filter.status.map(EmployeeStatus::as_str))
        .bind(filter.department_id.as_ref().map(DepartmentId::as_str))
        .bind(root)
        .bind(own)
        .bind(scope_name)
        .fetch_all(conn)
        .await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |e| e.id.to_string()))
}

fn decode(row: &AnyRow) -> Result<Employee> {
    let status: String = row.try_get("status")?;
    let timezone: Option<String> = row.try_get("timezone")?;
    let retired_on: Option<String> = row.try_get("retired_on")?;
    Ok(Employee {
        id: EmployeeId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        mobile: row.try_get("mobile")?,
        timezone: timezone.map(|tz| tz.parse()).transpose().map_err(StoreError::Corrupt)?,
        department_id: row.try_get::<Option<String>, _>("department_id")?.map(DepartmentId::from_db),
        status: EmployeeStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        retired_on: retired_on
            .map(|d| d.parse())
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("retired_on: {e}")))?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}
