//! Organisations: the tenants. Every other table hangs off one.

use crate::{from_micros, to_micros, Conn, Result, StoreError};
use dakoku_domain::{OrgId, Organization};
use sqlx::any::AnyRow;
use sqlx::Row;

pub async fn insert(conn: &mut Conn, org: &Organization) -> Result<()> {
    sqlx::query("INSERT INTO organizations (id, name, timezone, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org.id.as_str())
        .bind(&org.name)
        .bind(org.timezone.name())
        .bind(to_micros(org.created_at))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, id: &OrgId) -> Result<Organization> {
    let row = sqlx::query("SELECT id, name, timezone, created_at FROM organizations WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(conn)
        .await?;
    decode(&row)
}

pub async fn list(conn: &mut Conn) -> Result<Vec<Organization>> {
    let rows =
        sqlx::query("SELECT id, name, timezone, created_at FROM organizations ORDER BY id").fetch_all(conn).await?;
    rows.iter().map(decode).collect()
}

fn decode(row: &AnyRow) -> Result<Organization> {
    let tz: String = row.try_get("timezone")?;
    Ok(Organization {
        id: OrgId::from_db(row.try_get("id")?),
        name: row.try_get("name")?,
        timezone: tz.parse().map_err(StoreError::Corrupt)?,
        created_at: from_micros(row.try_get("created_at")?),
    })
}
