//! The base of org sync: per integration, what each synced department and member looked like
//! after the last sync, and the dakoku record it is.

use crate::{now_micros, Conn, Result};
use dakoku_domain::IntegrationId;
use sqlx::Row;

/// One synced item: `kind` is "department" or "member"; `parent` is the platform id of the
/// department above (for a member: the department it is in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseItem {
    pub kind: String,
    pub remote_id: String,
    pub local_id: String,
    pub name: String,
    pub parent: Option<String>,
    /// For members of a platform that keys them by mobile.
    pub mobile: Option<String>,
}

pub async fn all(conn: &mut Conn, integration: &IntegrationId) -> Result<Vec<BaseItem>> {
    let rows = sqlx::query(
        "SELECT kind, remote_id, local_id, name, parent, mobile FROM org_sync_base WHERE integration_id = $1
         ORDER BY kind, remote_id",
    )
    .bind(integration.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(BaseItem {
                kind: r.try_get("kind")?,
                remote_id: r.try_get("remote_id")?,
                local_id: r.try_get("local_id")?,
                name: r.try_get("name")?,
                parent: r.try_get("parent")?,
                mobile: r.try_get("mobile")?,
            })
        })
        .collect()
}

pub async fn put(conn: &mut Conn, integration: &IntegrationId, item: &BaseItem) -> Result<()> {
    sqlx::query(
        "INSERT INTO org_sync_base (integration_id, kind, remote_id, local_id, name, parent, updated_at, mobile)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (integration_id, kind, remote_id)
         DO UPDATE SET local_id = excluded.local_id, name = excluded.name, parent = excluded.parent,
                       updated_at = excluded.updated_at, mobile = excluded.mobile",
    )
    .bind(integration.as_str())
    .bind(&item.kind)
    .bind(&item.remote_id)
    .bind(&item.local_id)
    .bind(&item.name)
    .bind(&item.parent)
    .bind(now_micros())
    .bind(&item.mobile)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn remove(conn: &mut Conn, integration: &IntegrationId, kind: &str, remote_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM org_sync_base WHERE integration_id = $1 AND kind = $2 AND remote_id = $3")
        .bind(integration.as_str())
        .bind(kind)
        .bind(remote_id)
        .execute(conn)
        .await?;
    Ok(())
}
