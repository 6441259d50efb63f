//! Web sign-in: password hashes, sessions (by the hash of the cookie's token), failed
//! attempts, single-use password links.

use crate::users::{decode_user, USER_COLUMNS};
use crate::{from_micros, to_micros, Conn, Result};
use chrono::{DateTime, Utc};
use dakoku_domain::{OrgId, User, UserId};
use sqlx::Row;

/// Users with this e-mail, in every organisation, with their password hashes (if set).
pub async fn users_by_email(conn: &mut Conn, email: &str) -> Result<Vec<(User, Option<String>)>> {
    let sql = format!("SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(email) = lower($1) ORDER BY id");
    let rows = sqlx::query(&sql).bind(email).fetch_all(conn).await?;
    rows.iter().map(|r| Ok((decode_user(r)?, r.try_get("password_hash")?))).collect()
}

pub async fn set_password_hash(conn: &mut Conn, org: &OrgId, user: &UserId, hash: &str) -> Result<()> {
    sqlx::query("UPDATE users SET password_hash = $3 WHERE org_id = $1 AND id = $2")
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(hash)
        .execute(conn)
        .await?;
    Ok(())
}

/// A session as stored.
#[derive(Clone, Debug)]
pub struct StoredSession {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_session(
    conn: &mut Conn,
    token_hash: &str,
    session: &StoredSession,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO web_sessions (token_hash, org_id, user_id, csrf_token, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(session.org_id.as_str())
    .bind(session.user_id.as_str())
    .bind(&session.csrf_token)
    .bind(to_micros(now))
    .bind(to_micros(session.expires_at))
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn session(conn: &mut Conn, token_hash: &str) -> Result<StoredSession> {
    let row = sqlx::query("SELECT org_id, user_id, csrf_token, expires_at FROM web_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_one(conn)
        .await?;
    Ok(StoredSession {
        org_id: OrgId::from_db(row.try_get("org_id")?),
        user_id: UserId::from_db(row.try_get("user_id")?),
        csrf_token: row.try_get("csrf_token")?,
        expires_at: from_micros(row.try_get("expires_at")?),
    })
}

pub async fn delete_session(conn: &mut Conn, token_hash: &str) -> Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1").bind(token_hash).execute(conn).await?;
    Ok(())
}

/// Ends every session of a user (a new password was set).
pub async fn delete_user_sessions(conn: &mut Conn, user: &UserId) -> Result<()> {
    sqlx::query("DELETE FROM web_sessions WHERE user_id = $1").bind(user.as_str()).execute(conn).await?;
    Ok(())
}

pub async fn record_failure(conn: &mut Conn, email: &str, at: DateTime<Utc>) -> Result<()> {
    sqlx::query("INSERT INTO sign_in_failures (email, at) VALUES ($1, $2)")
        .bind(email.to_lowercase())
        .bind(to_micros(at))
        .execute(conn)
        .await?;
    Ok(())
}

/// Failed sign-ins for an e-mail since `since`, and the latest of them.
pub async fn failures_since(
    conn: &mut Conn,
    email: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>)> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n, MAX(at) AS latest FROM sign_in_failures WHERE email = $1 AND at >= $2")
            .bind(email.to_lowercase())
            .bind(to_micros(since))
            .fetch_one(conn)
            .await?;
    Ok((row.try_get("n")?, row.try_get::<Option<i64>, _>("latest")?.map(from_micros)))
}

pub async fn clear_failures(conn: &mut Conn, email: &str) -> Result<()> {
    sqlx::query("DELETE FROM sign_in_failures WHERE email = $1").bind(email.to_lowercase()).execute(conn).await?;
    Ok(())
}

/// Forgets what has expired: sessions, failures and links older than `cutoff`.
pub async fn purge(conn: &mut Conn, now: DateTime<Utc>, cutoff: DateTime<Utc>) -> Result<u64> {
    let mut purged = 0;
    purged += sqlx::query("DELETE FROM web_sessions WHERE expires_at < $1")
        .bind(to_micros(now))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    purged += sqlx::query("DELETE FROM sign_in_failures WHERE at < $1")
        .bind(to_micros(cutoff))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    purged += sqlx::query("DELETE FROM password_links WHERE expires_at < $1")
        .bind(to_micros(cutoff))
        .execute(&mut *conn)
        .await?
        .rows_affected();
    Ok(purged)
}

pub async fn insert_link(
    conn: &mut Conn,
    token_hash: &str,
    org: &OrgId,
    user: &UserId,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO password_links (token_hash, org_id, user_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(org.as_str())
    .bind(user.as_str())
    .bind(to_micros(expires_at))
    .bind(to_micros(now))
    .execute(conn)
    .await?;
    Ok(())
}

/// Voids every link of a user that is still outstanding (a newer one replaces them, or the
/// password was just set).
pub async fn void_links(conn: &mut Conn, org: &OrgId, user: &UserId, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE password_links SET used_at = $3 WHERE org_id = $1 AND user_id = $2 AND used_at IS NULL")
        .bind(org.as_str())
        .bind(user.as_str())
        .bind(to_micros(now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Uses a link: its organisation and user if it exists, is unused and has not expired.
pub async fn use_link(conn: &mut Conn, token_hash: &str, now: DateTime<Utc>) -> Result<Option<(OrgId, UserId)>> {
    let row = sqlx::query(
        "UPDATE password_links SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING org_id, user_id",
    )
    .bind(token_hash)
    .bind(to_micros(now))
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((OrgId::from_db(r.try_get("org_id")?), UserId::from_db(r.try_get("user_id")?)))).transpose()
}
