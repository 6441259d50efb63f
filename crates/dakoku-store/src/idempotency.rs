//! Idempotency keys: the first answer to a keyed request is kept and replayed.

use crate::{now_micros, Conn, Result};
use sqlx::Row;

/// What was stored for a key.
#[derive(Clone, Debug)]
pub struct Saved {
    pub request_hash: String,
    /// `None` while the first request is still being processed.
    pub response: Option<(u16, String)>,
}

/// Claims the key inside the caller's transaction. `true` means this request is the first;
/// `false` means a request with this key already exists (look it up with [`get`]).
pub async fn claim(conn: &mut Conn, org: &str, key: &str, request_hash: &str) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (org_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (org_id, key) DO NOTHING",
    )
    .bind(org)
    .bind(key)
    .bind(request_hash)
    .bind(now_micros())
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

pub async fn get(conn: &mut Conn, org: &str, key: &str) -> Result<Option<Saved>> {
    let row = sqlx::query(
        "SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE org_id = $1 AND key = $2",
    )
    .bind(org)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let status: Option<i64> = row.try_get("response_status")?;
    let body: Option<String> = row.try_get("response_body")?;
    Ok(Some(Saved {
        request_hash: row.try_get("request_hash")?,
        response: status.zip(body).map(|(s, b)| (s as u16, b)),
    }))
}

pub async fn save_response(conn: &mut Conn, org: &str, key: &str, status: u16, body: &str) -> Result<()> {
    sqlx::query("UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE org_id = $1 AND key = $2")
        .bind(org)
        .bind(key)
        .bind(i64::from(status))
        .bind(body)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets keys older than the given age (they are kept 24 hours by default).
pub async fn purge_older_than(conn: &mut Conn, cutoff_micros: i64) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1").bind(cutoff_micros).execute(conn).await?;
    Ok(done.rows_affected())
}
