//! Small facts about the database itself, such as the master key's fingerprint.

use crate::{Conn, Result};
use sqlx::Row;

pub async fn get(conn: &mut Conn, key: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(conn).await?;
    Ok(row.map(|r| r.try_get("value")).transpose()?)
}

/// Stores the value unless the key is already set; returns the value now in force.
pub async fn set_once(conn: &mut Conn, key: &str, value: &str) -> Result<String> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await?;
    Ok(get(conn, key).await?.unwrap_or_default())
}
