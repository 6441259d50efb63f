//! Creating an organisation with its first admin, and the start-up check of the master key.

use crate::auth::{generate_token, hash_token};
use crate::{audit, Ctx, Service, ServiceError, ServiceResult};
use dakoku_config::MasterKey;
use dakoku_domain::{validate, OrgId, Organization, Role, TokenId, User, UserId, ValidationErrors};
use dakoku_store::users::ApiToken;
use dakoku_store::{meta, orgs, users, Db};

const FINGERPRINT_KEY: &str = "master_key_fingerprint";

#[derive(Debug, thiserror::Error)]
pub enum KeyCheckError {
    #[error("the master key does not match the one this database was set up with (fingerprint {expected}, given {given}); set DAKOKU_MASTER_KEY to the original key")]
    Mismatch { expected: String, given: String },
    #[error(transparent)]
    Store(#[from] dakoku_store::StoreError),
}

/// Records the key's fingerprint on first start and refuses any other key afterwards.
pub async fn check_master_key(db: &Db, key: &MasterKey) -> Result<(), KeyCheckError> {
    let mut conn = db.conn().await?;
    let given = key.fingerprint();
    let expected = meta::set_once(&mut conn, FINGERPRINT_KEY, &given).await?;
    if expected != given {
        return Err(KeyCheckError::Mismatch { expected, given });
    }
    Ok(())
}

/// The outcome of `dakoku init`.
#[derive(Debug)]
pub struct Initialized {
    pub organization: Organization,
    pub admin: User,
    /// Shown once; only its hash is stored.
    pub admin_token: String,
}

impl Service {
    pub async fn init_organization(&self, name: &str, admin_email: &str, timezone: &str) -> ServiceResult<Initialized> {
        let mut errors = ValidationErrors::default();
        let name = validate::required_text(&mut errors, "org_name", name, 200);
        let email = validate::email(&mut errors, "admin_email", admin_email);
        let tz = validate::timezone(&mut errors, "timezone", timezone);
        errors.into_result()?;
        let now = self.clock.now();
        let organization = Organization {
            id: OrgId::new(),
            name,
            timezone: tz.ok_or_else(|| ServiceError::invalid("timezone", "missing"))?,
            created_at: now,
        };
        let admin = User {
            id: UserId::new(),
            org_id: organization.id.clone(),
            email,
            role: Role::Admin,
            employee_id: None,
            manages_department_id: None,
            created_at: now,
        };
        let admin_token = generate_token();
        let token = ApiToken {
            id: TokenId::new(),
            org_id: organization.id.clone(),
            user_id: admin.id.clone(),
            name: "initial admin token".into(),
            role: Role::Admin,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        let ctx = Ctx::cli(organization.id.clone());
        let mut tx = self.db.begin().await?;
        orgs::insert(&mut tx, &organization).await?;
        users::insert_user(&mut tx, &admin).await?;
        users::insert_token(&mut tx, &token, &hash_token(&admin_token)).await?;
        audit::record(
            &mut tx,
            &ctx,
            "organization.create",
            "organization",
            organization.id.as_str(),
            audit::NOTHING,
            Some(&organization),
        )
        .await?;
        audit::record(&mut tx, &ctx, "user.create", "user", admin.id.as_str(), audit::NOTHING, Some(&admin)).await?;
        audit::record(&mut tx, &ctx, "token.create", "token", token.id.as_str(), audit::NOTHING, Some(&token)).await?;
        tx.commit().await.map_err(dakoku_store::StoreError::from)?;
        Ok(Initialized { organization, admin, admin_token })
    }

    pub async fn organization(&self, ctx: &Ctx) -> ServiceResult<Organization> {
        let mut conn = self.db.conn().await?;
        Ok(orgs::get(&mut conn, ctx.org()).await?)
    }

    /// The one organisation of a single-tenant install, for CLI commands given no `--org`.
    pub async fn sole_organization(&self) -> ServiceResult<Organization> {
        let mut conn = self.db.conn().await?;
        let mut all = orgs::list(&mut conn).await?;
        match all.len() {
            1 => Ok(all.remove(0)),
            0 => Err(ServiceError::NotFound("no organisation yet; run `dakoku init` first".into())),
            _ => Err(ServiceError::BadRequest("several organisations exist; name one with --org".into())),
        }
    }
}
