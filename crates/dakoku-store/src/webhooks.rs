//! Outgoing event subscriptions: URLs that receive signed notices of new punches.

use crate::{from_micros, to_micros, Conn, Result};
use chrono::{DateTime, Utc};
use dakoku_domain::{OrgId, WebhookId};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Clone, Debug)]
pub struct Webhook {
    pub id: WebhookId,
    pub org_id: OrgId,
    pub url: String,
    pub events: Vec<String>,
    /// The signing secret, sealed under the master key.
    pub secret_sealed: String,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, org_id, url, events, secret_sealed, created_at, disabled_at";

pub async fn insert(conn: &mut Conn, w: &Webhook) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhooks (id, org_id, url, events, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(w.id.as_str())
    .bind(w.org_id.as_str())
    .bind(&w.url)
    .bind(w.events.join(","))
    .bind(&w.secret_sealed)
    .bind(to_micros(w.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut Conn, org: &OrgId, id: &WebhookId) -> Result<Webhook> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE org_id = $1 AND id = $2");
    let row = sqlx::query(&sql).bind(org.as_str()).bind(id.as_str()).fetch_one(conn).await?;
    decode(&row)
}

pub async fn list(conn: &mut Conn, org: &OrgId) -> Result<Vec<Webhook>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE org_id = $1 ORDER BY id");
    let rows = sqlx::query(&sql).bind(org.as_str()).fetch_all(conn).await?;
    rows.iter().map(decode).collect()
}

/// Live subscriptions to one event type.
pub async fn subscribed(conn: &mut Conn, org: &OrgId, event: &str) -> Result<Vec<Webhook>> {
    let all = list(conn, org).await?;
    Ok(all.into_iter().filter(|w| w.disabled_at.is_none() && w.events.iter().any(|e| e == event)).collect())
}

pub async fn disable(conn: &mut Conn, org: &OrgId, id: &WebhookId) -> Result<()> {
    crate::stamp_once(conn, "webhooks", "disabled_at", org.as_str(), id.as_str()).await
}

fn decode(row: &AnyRow) -> Result<Webhook> {
    let events: String = row.try_get("events")?;
    Ok(Webhook {
        id: WebhookId::from_db(row.try_get("id")?),
        org_id: OrgId::from_db(row.try_get("org_id")?),
        url: row.try_get("url")?,
        events: events.split(',').filter(|e| !e.is_empty()).map(str::to_owned).collect(),
        secret_sealed: row.try_get("secret_sealed")?,
        created_at: from_micros(row.try_get("created_at")?),
        disabled_at: row.try_get::<Option<i64>, _>("disabled_at")?.map(from_micros),
    })
}
