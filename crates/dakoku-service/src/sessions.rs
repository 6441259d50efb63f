//! Signing in to the web app. Passwords are argon2id hashes (PHC strings, OWASP's parameters);
//! an admin never sees or sets one, but issues a single-use link (72 hours) with which the
//! person sets it. A sign-in always starts a new session (a token from before is never
//! promoted), whose cookie token is stored as SHA-256 with its own form (CSRF) token; ten
//! failed attempts for an e-mail within 15 minutes hold further attempts back until the
//! window has passed, whether or not the address exists.

use crate::auth::{generate_token, hash_token};
use crate::{audit, Ctx, Service, ServiceError, ServiceResult};
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use dakoku_domain::{Actor, User, UserId};
use dakoku_store::{users, web, StoreError};

/// How long a session lasts from sign-in.
pub const SESSION_HOURS: i64 = 12;
const LINK_HOURS: i64 = 72;
pub const MAX_FAILURES: i64 = 10;
const FAILURE_WINDOW_MINUTES: i64 = 15;
const MIN_PASSWORD_CHARS: usize = 10;

/// A session just made: the cookie's token (shown once) and the form token.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// Who a session is, with its form token.
#[derive(Clone, Debug)]
pub struct WebSession {
    pub actor: Actor,
    pub user: User,
    pub csrf_token: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SignInError {
    /// Wrong e-mail or password (never said which).
    Invalid,
    /// Too many failures: try again after this time.
    Throttled(DateTime<Utc>),
}

/// Argon2 takes tens of milliseconds of one core by design: it runs on the blocking pool so
/// sign-ins never hold up the runtime threads that answer punches.
async fn hash_password(password: &str) -> ServiceResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || hash_with_new_salt(password.as_bytes()))
        .await
        .map_err(|e| ServiceError::Internal(StoreError::Corrupt(format!("password hashing stopped: {e}"))))?
        .map_err(|e| ServiceError::Internal(StoreError::Corrupt(format!("password hashing: {e}"))))
}

/// Which of the stored hashes (if any) the password matches, checked on the blocking pool.
async fn matching_hash(password: &str, hashes: Vec<String>) -> Option<usize> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let verify = |stored: &str| {
            PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        };
        find_match(&hashes, verify)
    })
    .await
    .ok()
    .flatten()
}

/// The first hash `verify` accepts. With no hash to check, a decoy is checked instead, so a
/// known and an unknown e-mail cost the same one verification (finding 11 of the hardening
/// review: the known e-mail used to cost two).
fn find_match(hashes: &[String], verify: impl Fn(&str) -> bool) -> Option<usize> {
    if hashes.is_empty() {
        verify(decoy_hash());
        return None;
    }
    hashes.iter().position(|h| verify(h))
}

/// A hash to check against when the e-mail is unknown, so both cases take the same time.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_with_new_salt(b"not a password anyone has").unwrap_or_default())
}

fn hash_with_new_salt(password: &[u8]) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password, &salt).map(|h| h.to_string())
}

impl Service {
    /// A single-use link with which `user` sets a (new) password (admins only).
    pub async fn issue_password_link(&self, ctx: &Ctx, user: &UserId) -> ServiceResult<(String, DateTime<Utc>)> {
        if !ctx.actor.is_admin() {
            return Err(ServiceError::Forbidden("only admins issue password links".into()));
        }
        let now = self.clock.now();
        let expires_at = now + Duration::hours(LINK_HOURS);
        let token = generate_token();
        let mut tx = self.db.begin().await?;
        users::get_user(&mut tx, ctx.org(), user).await.map_err(|e| match e {
            StoreError::NotFound => ServiceError::NotFound(format!("no user with id {user}")),
            other => other.into(),
        })?;
        // Only the newest link works: one sent earlier (perhaps to the wrong person) is void.
        web::void_links(&mut tx, ctx.org(), user, now).await?;
        web::insert_link(&mut tx, &hash_token(&token), ctx.org(), user, expires_at, now).await?;
        audit::record(&mut tx, ctx, "user.password_link", "user", user.as_str(), audit::NOTHING, audit::NOTHING)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok((format!("{}/password/{token}", self.public_url.trim_end_matches('/')), expires_at))
    }

    /// A password link for the user with this e-mail in the caller's organisation (admins).
    pub async fn issue_password_link_by_email(&self, ctx: &Ctx, email: &str) -> ServiceResult<(String, DateTime<Utc>)> {
        let mut conn = self.db.conn().await?;
        let found = web::users_by_email(&mut conn, email.trim()).await?;
        drop(conn);
        let Some((user, _)) = found.into_iter().find(|(u, _)| &u.org_id == ctx.org()) else {
            return Err(ServiceError::NotFound(format!("no user with e-mail {email}")));
        };
        self.issue_password_link(ctx, &user.id).await
    }

    /// Sets the password of the link's user and ends their sessions. The link works once.
    pub async fn set_password_with_link(&self, link: &str, password: &str) -> ServiceResult<()> {
        if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 1024 {
            return Err(ServiceError::invalid(
                "password",
                format!("must be at least {MIN_PASSWORD_CHARS} characters (and at most 1024 bytes)"),
            ));
        }
        let hash = hash_password(password).await?;
        let now = self.clock.now();
        let mut tx = self.db.begin().await?;
        let Some((org, user)) = web::use_link(&mut tx, &hash_token(link), now).await? else {
            return Err(ServiceError::NotFound(
                "this link is unknown, used or expired; ask an admin for a new one".into(),
            ));
        };
        web::void_links(&mut tx, &org, &user, now).await?;
        web::set_password_hash(&mut tx, &org, &user, &hash).await?;
        web::delete_user_sessions(&mut tx, &user).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Checks an e-mail and password and starts a new session.
    pub async fn sign_in(&self, email: &str, password: &str) -> ServiceResult<Result<NewSession, SignInError>> {
        let now = self.clock.now();
        let email = email.trim();
        let mut conn = self.db.conn().await?;
        let since = now - Duration::minutes(FAILURE_WINDOW_MINUTES);
        let (failures, latest) = web::failures_since(&mut conn, email, since).await?;
        if failures >= MAX_FAILURES {
            let until = latest.unwrap_or(now) + Duration::minutes(FAILURE_WINDOW_MINUTES);
            return Ok(Err(SignInError::Throttled(until)));
        }
        let candidates = web::users_by_email(&mut conn, email).await?;
        drop(conn);
        let (users, hashes): (Vec<_>, Vec<_>) = candidates.into_iter().filter_map(|(u, h)| Some((u, h?))).unzip();
        let found = matching_hash(password, hashes).await.and_then(|i| users.into_iter().nth(i));
        let mut conn = self.db.conn().await?;
        let Some(user) = found else {
            web::record_failure(&mut conn, email, now).await?;
            return Ok(Err(SignInError::Invalid));
        };
        web::clear_failures(&mut conn, email).await?;
        let session = NewSession {
            token: generate_token(),
            csrf_token: generate_token(),
            expires_at: now + Duration::hours(SESSION_HOURS),
        };
        let stored = web::StoredSession {
            org_id: user.org_id.clone(),
            user_id: user.id.clone(),
            csrf_token: session.csrf_token.clone(),
            expires_at: session.expires_at,
        };
        web::insert_session(&mut conn, &hash_token(&session.token), &stored, now).await?;
        Ok(Ok(session))
    }

    /// The session a cookie token names, if it is live.
    pub async fn web_session(&self, token: &str) -> ServiceResult<Option<WebSession>> {
        if token.len() > 128 {
            return Ok(None);
        }
        let mut conn = self.db.conn().await?;
        let stored = match web::session(&mut conn, &hash_token(token)).await {
            Ok(s) if s.expires_at > self.clock.now() => s,
            Ok(_) | Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let user = users::get_user(&mut conn, &stored.org_id, &stored.user_id).await?;
        let actor = crate::auth::actor_of(&mut conn, user.clone(), user.role).await?;
        Ok(Some(WebSession { actor, user, csrf_token: stored.csrf_token }))
    }

    pub async fn sign_out(&self, token: &str) -> ServiceResult<()> {
        let mut conn = self.db.conn().await?;
        web::delete_session(&mut conn, &hash_token(token)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 11 of the hardening review: sign-in timing told which e-mails exist.
    #[test]
    fn known_and_unknown_e_mails_cost_one_verification_each() {
        let count = |hashes: &[String]| {
            let calls = std::cell::Cell::new(0);
            let found = find_match(hashes, |_| {
                calls.set(calls.get() + 1);
                false
            });
            assert_eq!(found, None);
            calls.get()
        };
        assert_eq!(count(&[]), 1, "an unknown e-mail checks the decoy once");
        assert_eq!(count(&["$argon2id$stored".to_owned()]), 1, "a known e-mail checks its hash once, no decoy");
    }
}
