//! Bearer tokens: generated with 256 bits of randomness, shown once, stored as SHA-256.
//! A token resolves to an [`Actor`] with the token's role (never more than its owner's).

use crate::{Service, ServiceError, ServiceResult};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use dakoku_domain::{Actor, Role, User};
use dakoku_store::{departments, users, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

const TOKEN_PREFIX: &str = "dkk_";

/// A new random secret token in its shown-once text form.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", B64.encode(bytes))
}

/// The form stored and looked up. SHA-256 suffices: the input has 256 bits of entropy.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Service {
    /// Resolves a bearer token. Unknown, malformed and revoked tokens are all the same error.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Actor> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 128 {
            return Err(ServiceError::Unauthenticated);
        }
        let mut conn = self.db.conn().await?;
        let (token, user) = match users::authenticate(&mut conn, &hash_token(token)).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Err(ServiceError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        users::touch_token(&mut conn, &token.id).await?;
        actor_of(&mut conn, user, token.role).await
    }
}

/// Who a user is acting as, with at most the role `role`: for a manager, with the departments
/// of the subtree they manage.
pub(crate) async fn actor_of(conn: &mut dakoku_store::Conn, user: User, role: Role) -> ServiceResult<Actor> {
    let role = role.min(user.role);
    let managed_root = user.manages_department_id.filter(|_| role == Role::Manager);
    let managed_departments = match &managed_root {
        Some(root) => departments::subtree(conn, &user.org_id, root).await?.into_iter().collect(),
        None => Default::default(),
    };
    Ok(Actor {
        org_id: user.org_id,
        user_id: user.id,
        role,
        employee_id: user.employee_id,
        managed_root,
        managed_departments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with("dkk_") && a.len() > 40);
        assert_eq!(hash_token(&a).len(), 64);
        assert!(!hash_token(&a).contains(&a[4..]));
    }
}
