//! What the chat adapters keep: inbound events already handled, the platform access token of
//! each integration (sealed by the caller), and one-time link codes (stored hashed).

use crate::{from_micros, now_micros, to_micros, Conn, Result};
use chrono::{DateTime, Utc};
use dakoku_domain::{EmployeeId, IntegrationId, OrgId, PlatformCallId};
use serde::Serialize;
use sqlx::Row;

/// Marks an inbound event as handled inside the caller's transaction. `false` means it was
/// handled before (a redelivery) and must not be acted on again.
pub async fn claim_event(conn: &mut Conn, integration: &IntegrationId, event_key: &str) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO inbound_events (integration_id, event_key, created_at) VALUES ($1, $2, $3)
         ON CONFLICT (integration_id, event_key) DO NOTHING",
    )
    .bind(integration.as_str())
    .bind(event_key)
    .bind(now_micros())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Whether an event key was claimed (without claiming it).
pub async fn event_seen(conn: &mut Conn, integration: &IntegrationId, event_key: &str) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM inbound_events WHERE integration_id = $1 AND event_key = $2")
        .bind(integration.as_str())
        .bind(event_key)
        .fetch_optional(conn)
        .await?;
    Ok(row.is_some())
}

/// Forgets inbound events older than the cutoff; platforms redeliver within minutes.
pub async fn purge_events(conn: &mut Conn, cutoff: DateTime<Utc>) -> Result<u64> {
    let purged = sqlx::query("DELETE FROM inbound_events WHERE created_at < $1")
        .bind(to_micros(cutoff))
        .execute(conn)
        .await?
        .rows_affected();
    Ok(purged)
}

/// A sealed token and when it stops working.
#[derive(Clone, Debug)]
pub struct StoredToken {
    pub sealed: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn token(conn: &mut Conn, integration: &IntegrationId) -> Result<Option<StoredToken>> {
    let row = sqlx::query("SELECT token_sealed, expires_at FROM platform_tokens WHERE integration_id = $1")
        .bind(integration.as_str())
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        Ok(StoredToken { sealed: r.try_get("token_sealed")?, expires_at: from_micros(r.try_get("expires_at")?) })
    })
    .transpose()
}

pub async fn put_token(conn: &mut Conn, integration: &IntegrationId, token: &StoredToken) -> Result<()> {
    sqlx::query(
        "INSERT INTO platform_tokens (integration_id, token_sealed, expires_at, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (integration_id) DO UPDATE SET token_sealed = excluded.token_sealed,
             expires_at = excluded.expires_at, updated_at = excluded.updated_at",
    )
    .bind(integration.as_str())
    .bind(&token.sealed)
    .bind(to_micros(token.expires_at))
    .bind(now_micros())
    .execute(conn)
    .await?;
    Ok(())
}

/// Drops the stored token if it is still the one given (another instance may have replaced it
/// with a fresh one meanwhile, which must survive).
pub async fn forget_token(conn: &mut Conn, integration: &IntegrationId, sealed: &str) -> Result<()> {
    sqlx::query("DELETE FROM platform_tokens WHERE integration_id = $1 AND token_sealed = $2")
        .bind(integration.as_str())
        .bind(sealed)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops an integration's token whatever it is (its credentials changed).
pub async fn drop_token(conn: &mut Conn, integration: &IntegrationId) -> Result<()> {
    sqlx::query("DELETE FROM platform_tokens WHERE integration_id = $1")
        .bind(integration.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Replaces any earlier code of the employee with a new one.
pub async fn put_link_code(
    conn: &mut Conn,
    org: &OrgId,
    employee: &EmployeeId,
    code_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("DELETE FROM link_codes WHERE org_id = $1 AND employee_id = $2")
        .bind(org.as_str())
        .bind(employee.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO link_codes (org_id, code_hash, employee_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(org.as_str())
    .bind(code_hash)
    .bind(employee.as_str())
    .bind(to_micros(expires_at))
    .bind(now_micros())
    .execute(conn)
    .await?;
    Ok(())
}

/// Uses up a code: returns its employee if it exists and has not expired. A code works once.
pub async fn take_link_code(conn: &mut Conn, org: &OrgId, code_hash: &str) -> Result<Option<EmployeeId>> {
    let row = sqlx::query("SELECT employee_id, expires_at FROM link_codes WHERE org_id = $1 AND code_hash = $2")
        .bind(org.as_str())
        .bind(code_hash)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    sqlx::query("DELETE FROM link_codes WHERE org_id = $1 AND code_hash = $2")
        .bind(org.as_str())
        .bind(code_hash)
        .execute(conn)
        .await?;
    let expires_at: i64 = row.try_get("expires_at")?;
    let employee: String = row.try_get("employee_id")?;
    Ok((expires_at > now_micros()).then(|| EmployeeId::from_db(employee)))
}

/// A value an adapter keeps for an integration.
pub async fn state(conn: &mut Conn, integration: &IntegrationId, key: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM integration_state WHERE integration_id = $1 AND key = $2")
        .bind(integration.as_str())
        .bind(key)
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.try_get("value").map_err(Into::into)).transpose()
}

/// Sets (or with `None` removes) a value an adapter keeps for an integration.
pub async fn put_state(conn: &mut Conn, integration: &IntegrationId, key: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(value) => {
            sqlx::query(
                "INSERT INTO integration_state (integration_id, key, value, updated_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (integration_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(integration.as_str())
            .bind(key)
            .bind(value)
            .bind(now_micros())
            .execute(conn)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM integration_state WHERE integration_id = $1 AND key = $2")
                .bind(integration.as_str())
                .bind(key)
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// One entry of the operation log.
#[derive(Clone, Debug, Serialize)]
pub struct PlatformCall {
    pub id: PlatformCallId,
    pub operation: String,
    pub ok: bool,
    pub detail: String,
    pub duration_ms: i64,
    pub created_at: DateTime<Utc>,
}

/// Logs a call under the integration (and its organisation).
pub async fn log_call(conn: &mut Conn, integration: &IntegrationId, call: &PlatformCall) -> Result<()> {
    sqlx::query(
        "INSERT INTO platform_calls (id, org_id, integration_id, operation, ok, detail, duration_ms, created_at)
         SELECT $1, org_id, id, $3, $4, $5, $6, $7 FROM integrations WHERE id = $2",
    )
    .bind(call.id.as_str())
    .bind(integration.as_str())
    .bind(&call.operation)
    .bind(i64::from(call.ok))
    .bind(&call.detail)
    .bind(call.duration_ms)
    .bind(to_micros(call.created_at))
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest calls first, before the cursor (an id) if given.
pub async fn calls(
    conn: &mut Conn,
    org: &OrgId,
    integration: &IntegrationId,
    before: Option<&str>,
    limit: i64,
) -> Result<crate::Page<PlatformCall>> {
    let rows = sqlx::query(
        "SELECT id, operation, ok, detail, duration_ms, created_at FROM platform_calls
         WHERE org_id = $1 AND integration_id = $2 AND id < $3 ORDER BY id DESC LIMIT $4",
    )
    .bind(org.as_str())
    .bind(integration.as_str())
    .bind(before.unwrap_or("~"))
    .bind(limit + 1)
    .fetch_all(conn)
    .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(PlatformCall {
                id: PlatformCallId::from_db(r.try_get("id")?),
                operation: r.try_get("operation")?,
                ok: r.try_get::<i64, _>("ok")? != 0,
                detail: r.try_get("detail")?,
                duration_ms: r.try_get("duration_ms")?,
                created_at: from_micros(r.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::Page::from_overfetch(items, limit, |c| c.id.to_string()))
}

pub async fn purge_calls(conn: &mut Conn, cutoff: DateTime<Utc>) -> Result<u64> {
    let purged = sqlx::query("DELETE FROM platform_calls WHERE created_at < $1")
        .bind(to_micros(cutoff))
        .execute(conn)
        .await?
        .rows_affected();
    Ok(purged)
}
