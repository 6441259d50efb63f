//! Accounts and their API tokens. Tokens are stored as SHA-256 hashes only.

use crate::{from_micros, now_micros, to_micros, Conn, Page, Result, StoreError};
use chrono::{DateTime, Utc};
use dakoku_domain::{DepartmentId, EmployeeId, OrgId, Role, TokenId, User, UserId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

pub(crate) const USER_COLUMNS: &str = "id, org_id, email, role, employee_id, manages_department_id, created_at";
const TOKEN_COLUMNS: &str = "id, org_id, user_id, name, role, created_at, last_used_at, revoked_at";

#[derive(Clone, Debug, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub org_id: OrgId,
    pub user_id: UserId,
    pub name: String,
    /// May be narrower than the owner's role, never wider.
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert_user(conn: &mut Conn, u: &User) -> Result<()> {
    sqlx::query(
        "INSERT INTO users (id, org_id, email, role, employee_id, manages_department_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(u.id.as_str())
    .bind(u.org_id.as_str())
    .bind(&u.email)
    .bind(u.role.as_str())
    .bind(u.employee_id.as_ref().map(EmployeeId::as_str))
    .bind(u.manages_department_id.as_ref().map(DepartmentId::as_str))
    .bind(to_micros(u.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_user(conn: &mut Conn, org: &OrgId, id: &UserId) -> Result<User> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id.as_str()).fetch_one(conn).await?;
    decode_user(&row)
}

pub async fn list_users(conn: &mut Conn, org: &OrgId, after: Option<&str>, limit: i64) -> Result<Page<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows = sqlx::query(&sql).bind(org.as_str()).bind(after.unwrap_or("")).bind(limit + 1).fetch_all(conn).await?;
    let items = rows.iter().map(decode_user).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |u| u.id.to_string()))
}

/// The managers of the organisation (users who manage a department subtree).
pub async fn managers(conn: &mut Conn, org: &OrgId) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 AND role = 'manager'
         AND manages_department_id IS NOT NULL ORDER BY id"
    );
    let rows = sqlx::query(&sql).bind(org.as_str()).fetch_all(conn).await?;
    rows.iter().map(decode_user).collect()
}

pub async fn insert_token(conn: &mut Conn, t: &ApiToken, token_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO api_tokens (id, org_id, user_id, name, role, token_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(t.id.as_str())
    .bind(t.org_id.as_str())
    .bind(t.user_id.as_str())
    .bind(&t.name)
    .bind(t.role.as_str())
    .bind(token_hash)
    .bind(to_micros(t.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The live token with this hash and its owner. Revoked tokens are not found.
pub async fn authenticate(conn: &mut Conn, token_hash: &str) -> Result<(ApiToken, User)> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL");
    let row = sqlx::query(&sql).bind(token_hash).fetch_one(&mut *conn).await?;
    let token = decode_token(&row)?;
    let user = get_user(conn, &token.org_id, &token.user_id).await?;
    Ok((token, user))
}

/// Records use at most once a minute, so authentication rarely writes.
pub async fn touch_token(conn: &mut Conn, id: &TokenId) -> Result<()> {
    let now = now_micros();
    sqlx::query(
        "UPDATE api_tokens SET last_used_at = $2
         WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)",
    )
    .bind(id.as_str())
    .bind(now)
    .bind(now - 60_000_000)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get_token(conn: &mut Conn, org: &OrgId, id: &TokenId) -> Result<ApiToken> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id.as_str()).fetch_one(conn).await?;
    decode_token(&row)
}

/// Tokens of the organisation, or of one user when `user` is given.
pub async fn list_tokens(
    conn: &mut Conn,
    org: &OrgId,
    user: Option<&UserId>,
    after: Option<&str>,
    limit: i64,
) -> Result<Page<ApiToken>> {
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens
         WHERE org_id = $1 AND id > $2 AND (CAST($4 AS TEXT) IS NULL OR user_id = $4)
         ORDER BY id LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(org.as_str())
        .bind(after.unwrap_or(""))
        .bind(limit + 1)
        .bind(user.map(UserId::as_str))
        .fetch_all(conn)
        .await?;
    let items = rows.iter().map(decode_token).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |t| t.id.to_string()))
}

pub async fn revoke_token(conn: &mut Conn, org: &OrgId, id: &TokenId) -> Result<()> {
    crate::stamp_once(conn, "api_tokens", "revoked_at", org.as_str(), id.as_str()).await
}

pub(crate) fn decode_user(row: &AnyRow) -> Result<User> {
    Ok(User {
        id: UserId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        email: row.try_get("email")?,
        role: decode_role(row)?,
        employee_id: row.try_get::<Option<String>, _>("employee_id")?.map(EmployeeId::from_db),
        manages_department_id: row.try_get::<Option<String>, _>("manages_department_id")?.map(DepartmentId::from_db),
        created_at: from_micros(row.try_get("created_at")?),
    })
}

fn decode_token(row: &AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: TokenId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        user_id: UserId::from_db(row.try_get("user_id")?),
        name: row.try_get("name")?,
        role: decode_role(row)?,
        created_at: from_micros(row.try_get("created_at")?),
        last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(from_micros),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_micros),
    })
}

fn decode_role(row: &AnyRow) -> Result<Role> {
    let role: String = row.try_get("role")?;
    Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))
}
