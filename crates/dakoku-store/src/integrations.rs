//! Chat platform integrations (their secrets arrive here already sealed) and the links from
//! platform users to employees.

use crate::{from_micros, parse_json, to_micros, Conn, Page, Result, StoreError};
use chrono::{DateTime, Utc};
use dakoku_domain::{EmployeeId, IntegrationId, OrgId, Platform};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

const COLUMNS: &str =
    "id, org_id, platform, name, settings, secrets_sealed, callback_token_sealed, created_at, updated_at";

/// An integration as stored. `secrets_sealed` and `callback_token_sealed` are ciphertexts.
#[derive(Clone, Debug)]
pub struct StoredIntegration {
    pub id: IntegrationId,
    pub org_id: OrgId,
    pub platform: Platform,
    pub name: String,
    /// Non-secret settings.
    pub settings: serde_json::Map<String, serde_json::Value>,
    pub secrets_sealed: String,
    pub callback_token_sealed: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Link {
    pub integration_id: IntegrationId,
    pub employee_id: EmployeeId,
    pub external_user_id: String,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(conn: &mut Conn, i: &StoredIntegration, callback_token_hash: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO integrations (id, org_id, platform, name, settings, secrets_sealed, callback_token_hash,
                                   callback_token_sealed, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(i.id.as_str())
    .bind(i.org_id.as_str())
    .bind(i.platform.as_str())
    .bind(&i.name)
    .bind(serde_json::Value::Object(i.settings.clone()).to_string())
    .bind(&i.secrets_sealed)
    .bind(callback_token_hash)
    .bind(&i.callback_token_sealed)
    .bind(to_micros(i.created_at))
    .bind(to_micros(i.updated_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Rewrites the name, settings and sealed secrets of an integration.
pub async fn update(conn: &mut Conn, i: &StoredIntegration) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE integrations SET name = $1, settings = $2, secrets_sealed = $3, updated_at = $4
         WHERE org_id = $5 AND id = $6",
    )
    .bind(&i.name)
    .bind(serde_json::Value::Object(i.settings.clone()).to_string())
    .bind(&i.secrets_sealed)
    .bind(to_micros(i.updated_at))
    .bind(i.org_id.as_str())
    .bind(i.id.as_str())
    .execute(conn)
    .await?
    .rows_affected();
    if updated == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

pub async fn get(conn: &mut Conn, org: &OrgId, id: &IntegrationId) -> Result<StoredIntegration> {
    let sql = format!("SELECT {COLUMNS} FROM integrations WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id.as_str()).fetch_one(conn).await?;
    decode(&row)
}

/// The integration a webhook's secret path token belongs to.
pub async fn find_by_callback(conn: &mut Conn, callback_token_hash: &str) -> Result<StoredIntegration> {
    let sql = format!("SELECT {COLUMNS} FROM integrations WHERE callback_token_hash = $1");
    let row = sqlx::query(&sql).bind(callback_token_hash).fetch_one(conn).await?;
    decode(&row)
}

pub async fn list(conn: &mut Conn, org: &OrgId, after: Option<&str>, limit: i64) -> Result<Page<StoredIntegration>> {
    let sql = format!("SELECT {COLUMNS} FROM integrations WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3");
    let rows = sqlx::query(&sql).bind(org.as_str()).bind(after.unwrap_or("")).bind(limit + 1).fetch_all(conn).await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |i| i.id.to_string()))
}

/// The integrations of one organisation.
pub async fn of_org(conn: &mut Conn, org: &OrgId) -> Result<Vec<StoredIntegration>> {
    let sql = format!("SELECT {COLUMNS} FROM integrations WHERE org_id = $1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(org.as_str()).fetch_all(conn).await?;
    rows.iter().map(decode).collect()
}

/// The platform user an employee is linked to in an integration.
pub async fn linked_user(conn: &mut Conn, integration: &IntegrationId, employee: &EmployeeId) -> Result<String> {
    let row =
        sqlx::query("SELECT external_user_id FROM integration_links WHERE integration_id = $1 AND employee_id = $2")
            .bind(integration.as_str())
            .bind(employee.as_str())
            .fetch_one(conn)
            .await?;
    Ok(row.try_get("external_user_id")?)
}

/// Every integration of every organisation, for the scheduler.
pub async fn all(conn: &mut Conn) -> Result<Vec<StoredIntegration>> {
    let sql = format!("SELECT {COLUMNS} FROM integrations ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(conn).await?;
    rows.iter().map(decode).collect()
}

pub async fn insert_link(conn: &mut Conn, org: &OrgId, link: &Link) -> Result<()> {
    sqlx::query(
        "INSERT INTO integration_links (integration_id, org_id, employee_id, external_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(link.integration_id.as_str())
    .bind(org.as_str())
    .bind(link.employee_id.as_str())
    .bind(&link.external_user_id)
    .bind(to_micros(link.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the link of a platform user (who left the platform's directory).
pub async fn remove_link(conn: &mut Conn, integration: &IntegrationId, external_user_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM integration_links WHERE integration_id = $1 AND external_user_id = $2")
        .bind(integration.as_str())
        .bind(external_user_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The employee a platform user is linked to.
pub async fn linked_employee(
    conn: &mut Conn,
    integration: &IntegrationId,
    external_user_id: &str,
) -> Result<EmployeeId> {
    let row =
        sqlx::query("SELECT employee_id FROM integration_links WHERE integration_id = $1 AND external_user_id = $2")
            .bind(integration.as_str())
            .bind(external_user_id)
            .fetch_one(conn)
            .await?;
    Ok(EmployeeId::from_db(row.try_get("employee_id")?))
}

pub async fn list_links(conn: &mut Conn, org: &OrgId, integration: &IntegrationId) -> Result<Vec<Link>> {
    let rows = sqlx::query(
        "SELECT integration_id, employee_id, external_user_id, created_at FROM integration_links
         WHERE org_id = $1 AND integration_id = $2 ORDER BY external_user_id",
    )
    .bind(org.as_str())
    .bind(integration.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Link {
                integration_id: IntegrationId::from_db(r.try_get("integration_id")?),
                employee_id: EmployeeId::from_db(r.try_get("employee_id")?),
                external_user_id: r.try_get("external_user_id")?,
                created_at: from_micros(r.try_get("created_at")?),
            })
        })
        .collect()
}

fn decode(row: &AnyRow) -> Result<StoredIntegration> {
    let platform: String = row.try_get("platform")?;
    let settings: String = row.try_get("settings")?;
    Ok(StoredIntegration {
        id: IntegrationId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        platform: Platform::parse(&platform).ok_or_else(|| StoreError::Corrupt(format!("platform {platform}")))?,
        name: row.try_get("name")?,
        settings: parse_json(&settings, "integration settings")?,
        secrets_sealed: row.try_get("secrets_sealed")?,
        callback_token_sealed: row.try_get("callback_token_sealed")?,
        created_at: from_micros(row.try_get("created_at")?),
        updated_at: from_micros(row.try_get("updated_at")?),
    })
}
