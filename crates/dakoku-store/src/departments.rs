//! Departments form a tree per organisation; managers see a subtree of it.

use crate::{exec, from_micros, now_micros, to_micros, Conn, Page, Result};
use dakoku_domain::{Department, DepartmentId, OrgId};
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str = "id, org_id, name, code, parent_id, created_at";

pub async fn insert(conn: &mut Conn, d: &Department) -> Result<()> {
    sqlx::query(
        "INSERT INTO departments (id, org_id, name, code, parent_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(d.id.as_str())
    .bind(d.org_id.as_str())
    .bind(&d.name)
    .bind(d.code.as_deref())
    .bind(d.parent_id.as_ref().map(DepartmentId::as_str))
    .bind(to_micros(d.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, org: &OrgId, id: &DepartmentId) -> Result<Department> {
    let sql = format!("SELECT {COLUMNS} FROM departments WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id.as_str()).fetch_one(conn).await?;
    decode(&row)
}

/// A department and its ancestors, nearest first, in one query (a cycle stops at 64 levels).
pub async fn ancestry(conn: &mut Conn, org: &OrgId, id: &DepartmentId) -> Result<Vec<DepartmentId>> {
    let rows = sqlx::query(
        "WITH RECURSIVE chain (id, parent_id, depth) AS (
             SELECT id, parent_id, 0 FROM departments WHERE org_id = $1 AND id = $2
             UNION ALL
             SELECT d.id, d.parent_id, c.depth + 1 FROM departments d JOIN chain c ON d.id = c.parent_id
             WHERE d.org_id = $1 AND c.depth < 64
         )
         SELECT id FROM chain ORDER BY depth",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_all(conn)
    .await?;
    let mut chain: Vec<DepartmentId> = Vec::with_capacity(rows.len());
    for row in &rows {
        let id = DepartmentId::from_db(row.try_get("id")?);
        if chain.contains(&id) {
            break;
        }
        chain.push(id);
    }
    Ok(chain)
}

pub async fn get_by_code(conn: &mut Conn, org: &OrgId, code: &str) -> Result<Department> {
    let sql = format!("SELECT {COLUMNS} FROM departments WHERE org_id = $1 AND code = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(code).fetch_one(conn).await?;
    decode(&row)
}

pub async fn list(conn: &mut Conn, org: &OrgId, after: Option<&str>, limit: i64) -> Result<Page<Department>> {
    let sql = format!("SELECT {COLUMNS} FROM departments WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows = sqlx::query(&sql).bind(org.as_str()).bind(after.unwrap_or("")).bind(limit + 1).fetch_all(conn).await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |d| d.id.to_string()))
}

/// Every department of the organisation (for comparing with a platform's directory).
pub async fn all(conn: &mut Conn, org: &OrgId) -> Result<Vec<Department>> {
    let sql = format!("SELECT {COLUMNS} FROM departments WHERE org_id = $1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(org.as_str()).fetch_all(conn).await?;
    rows.iter().map(decode).collect()
}

pub async fn update(conn: &mut Conn, d: &Department) -> Result<()> {
    let changed = exec(
        conn,
        sqlx::query(
            "UPDATE departments SET name = $3, code = $4, parent_id = $5, updated_at = $6
             WHERE org_id = $1 AND id = $2",
        )
        .bind(d.org_id.as_str())
        .bind(d.id.as_str())
        .bind(&d.name)
        .bind(d.code.as_deref())
        .bind(d.parent_id.as_ref().map(DepartmentId::as_str))
        .bind(now_micros()),
    )
    .await?;
    if changed == 0 {
        return Err(crate::StoreError::NotFound);
    }
    Ok(())
}

pub async fn delete(conn: &mut Conn, org: &OrgId, id: &DepartmentId) -> Result<()> {
    let changed = exec(
        conn,
        sqlx::query("DELETE FROM departments WHERE org_id = $1 AND id = $2").bind(org.as_str()).bind(id.as_str()),
    )
    .await?;
    if changed == 0 {
        return Err(crate::StoreError::NotFound);
    }
    Ok(())
}

/// What still hangs off a department: child departments, employees, managers.
pub async fn dependents(conn: &mut Conn, org: &OrgId, id: &DepartmentId) -> Result<(i64, i64, i64)> {
    let row = sqlx::query(
        "SELECT
            (SELECT COUNT(*) FROM departments WHERE org_id = $1 AND parent_id = $2) AS children,
            (SELECT COUNT(*) FROM employees WHERE org_id = $1 AND department_id = $2) AS employees,
            (SELECT COUNT(*) FROM users WHERE org_id = $1 AND manages_department_id = $2) AS managers",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_one(conn)
    .await?;
    Ok((row.try_get("children")?, row.try_get("employees")?, row.try_get("managers")?))
}

/// The department and every department below it.
pub async fn subtree(conn: &mut Conn, org: &OrgId, root: &DepartmentId) -> Result<Vec<DepartmentId>> {
    let rows = sqlx::query(
        "WITH RECURSIVE sub (id) AS (
             SELECT id FROM departments WHERE org_id = $1 AND id = $2
             UNION
             SELECT d.id FROM departments d JOIN sub ON d.parent_id = sub.id WHERE d.org_id = $1
         )
         SELECT id FROM sub",
    )
    .bind(org.as_str())
    .bind(root.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(DepartmentId::from_db(r.try_get("id")?))).collect()
}

fn decode(row: &AnyRow) -> Result<Department> {
    Ok(Department {
        id: DepartmentId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        name: row.try_get("name")?,
        code: row.try_get("code")?,
        parent_id: row.try_get::<Option<String>, _>("parent_id")?.map(DepartmentId::from_db),
        created_at: from_micros(row.try_get("created_at")?),
    })
}
