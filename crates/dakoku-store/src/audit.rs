//! The audit log: who changed what, when, with the state before and after.

use crate::{from_micros, to_micros, Conn, Page, Result};
use chrono::{DateTime, Utc};
use dakoku_domain::{AuditId, OrgId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    pub id: AuditId,
    pub org_id: OrgId,
    pub at: DateTime<Utc>,
    /// `user:<id>`, `integration:<id>` or `cli`.
    pub actor: String,
    /// Such as `employee.create` or `token.revoke`.
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

pub async fn insert(conn: &mut Conn, e: &AuditEntry) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, org_id, at, actor, action, object_type, object_id, before_json, after_json, request_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(e.id.as_str())
    .bind(e.org_id.as_str())
    .bind(to_micros(e.at))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.object_type)
    .bind(&e.object_id)
    .bind(e.before.as_ref().map(|v| v.to_string()))
    .bind(e.after.as_ref().map(|v| v.to_string()))
    .bind(e.request_id.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<String>,
}

/// Newest first.
pub async fn list(
    conn: &mut Conn,
    org: &OrgId,
    filter: &Filter,
    before: Option<&str>,
    limit: i64,
) -> Result<Page<AuditEntry>> {
    let rows = sqlx::query(
        "SELECT id, org_id, at, actor, action, object_type, object_id, before_json, after_json, request_id
         FROM audit_log
         WHERE org_id = $1 AND id < $2
           AND (CAST($4 AS TEXT) IS NULL OR object_type = $4)
           AND (CAST($5 AS TEXT) IS NULL OR object_id = $5)
           AND (CAST($6 AS TEXT) IS NULL OR action = $6)
         ORDER BY id DESC LIMIT $3",
    )
    .bind(org.as_str())
    .bind(before.unwrap_or("~"))
    .bind(limit + 1)
    .bind(filter.object_type.as_deref())
    .bind(filter.object_id.as_deref())
    .bind(filter.action.as_deref())
    .fetch_all(conn)
    .await?;
    let items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, limit, |e| e.id.to_string()))
}

fn decode(row: &AnyRow) -> Result<AuditEntry> {
    let json = |col: &str| -> Result<Option<serde_json::Value>> {
        let text: Option<String> = row.try_get(col)?;
        text.map(|t| crate::parse_json(&t, col)).transpose()
    };
    Ok(AuditEntry {
        id: AuditId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        at: from_micros(row.try_get("at")?),
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        object_type: row.try_get("object_type")?,
        object_id: row.try_get("object_id")?,
        before: json("before_json")?,
        after: json("after_json")?,
        request_id: row.try_get("request_id")?,
    })
}
