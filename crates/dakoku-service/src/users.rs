//! Accounts and API tokens. Admins manage every account; anyone may issue and revoke tokens
//! for themselves, never with more rights than they hold.

use crate::auth::{generate_token, hash_token};
use crate::error::OrNotFound;
use crate::paging::Listed;
use crate::{audit, Ctx, PageRequest, Service, ServiceError, ServiceResult};
use dakoku_domain::{validate, DepartmentId, EmployeeId, Role, TokenId, User, UserId, ValidationErrors};
use dakoku_store::users::{self, ApiToken};
use dakoku_store::{departments, employees, StoreError};

#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub role: Role,
    pub employee_id: Option<EmployeeId>,
    pub manages_department_id: Option<DepartmentId>,
}

#[derive(Clone, Debug)]
pub struct NewToken {
    /// Whose token; the caller when `None`.
    pub user_id: Option<UserId>,
    pub name: String,
    /// Defaults to the owner's role; may only narrow it.
    pub role: Option<Role>,
}

/// A freshly issued token: the secret is in `token`, shown this once.
#[derive(Debug)]
pub struct IssuedToken {
    pub record: ApiToken,
    pub token: String,
}

fn require_admin(ctx: &Ctx) -> ServiceResult<()> {
    if ctx.actor.is_admin() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admins manage accounts".into()))
    }
}

impl Service {
    pub async fn create_user(&self, ctx: &Ctx, input: NewUser) -> ServiceResult<User> {
        require_admin(ctx)?;
        let mut errors = ValidationErrors::default();
        let email = validate::email(&mut errors, "email", &input.email);
        if input.role == Role::Manager && input.manages_department_id.is_none() {
            errors.add("manages_department_id", "a manager needs the department they manage");
        }
        if input.role != Role::Manager && input.manages_department_id.is_some() {
            errors.add("manages_department_id", "only managers manage a department");
        }
        if input.role == Role::Employee && input.employee_id.is_none() {
            errors.add("employee_id", "an employee account needs its employee record");
        }
        errors.into_result()?;
        let mut tx = self.db.begin().await?;
        if let Some(employee) = &input.employee_id {
            if let Err(e) = employees::get(&mut tx, ctx.org(), employee).await {
                return Err(match e {
                    StoreError::NotFound => {
                        ServiceError::invalid("employee_id", format!("no employee with id {employee}"))
                    }
                    other => other.into(),
                });
            }
        }
        if let Some(department) = &input.manages_department_id {
            if let Err(e) = departments::get(&mut tx, ctx.org(), department).await {
                return Err(match e {
                    StoreError::NotFound => {
                        ServiceError::invalid("manages_department_id", format!("no department with id {department}"))
                    }
                    other => other.into(),
                });
            }
        }
        let user = User {
            id: UserId::new(),
            org_id: ctx.org().clone(),
            email,
            role: input.role,
            employee_id: input.employee_id,
            manages_department_id: input.manages_department_id,
            created_at: self.clock.now(),
        };
        users::insert_user(&mut tx, &user).await.map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::Conflict(format!("an account for {} already exists", user.email)),
            other => other.into(),
        })?;
        audit::record(&mut tx, ctx, "user.create", "user", user.id.as_str(), audit::NOTHING, Some(&user)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(user)
    }

    pub async fn list_users(&self, ctx: &Ctx, page: &PageRequest) -> ServiceResult<Listed<User>> {
        require_admin(ctx)?;
        let mut conn = self.db.conn().await?;
        Ok(users::list_users(&mut conn, ctx.org(), page.after(), page.limit).await?.into())
    }

    pub async fn issue_token(&self, ctx: &Ctx, input: NewToken) -> ServiceResult<IssuedToken> {
        let owner_id = input.user_id.unwrap_or_else(|| ctx.actor.user_id.clone());
        if owner_id != ctx.actor.user_id {
            require_admin(ctx)?;
        }
        let mut errors = ValidationErrors::default();
        let name = validate::required_text(&mut errors, "name", &input.name, 100);
        errors.into_result()?;
        let mut tx = self.db.begin().await?;
        let owner = users::get_user(&mut tx, ctx.org(), &owner_id)
            .await
            .or_not_found(|| format!("no user with id {owner_id}"))?;
        let ceiling = if owner.id == ctx.actor.user_id { ctx.actor.role } else { owner.role };
        let role = input.role.unwrap_or(ceiling);
        if role > ceiling {
            return Err(ServiceError::invalid(
                "role",
                format!("cannot exceed the owner's role ({})", ceiling.as_str()),
            ));
        }
        let token = generate_token();
        let record = ApiToken {
            id: TokenId::new(),
            org_id: ctx.org().clone(),
            user_id: owner.id,
            name,
            role,
            created_at: self.clock.now(),
            last_used_at: None,
            revoked_at: None,
        };
        users::insert_token(&mut tx, &record, &hash_token(&token)).await?;
        audit::record(&mut tx, ctx, "token.create", "token", record.id.as_str(), audit::NOTHING, Some(&record)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(IssuedToken { record, token })
    }

    /// Admins see every token of the organisation; others their own.
    pub async fn list_tokens(&self, ctx: &Ctx, page: &PageRequest) -> ServiceResult<Listed<ApiToken>> {
        let own = (!ctx.actor.is_admin()).then_some(&ctx.actor.user_id);
        let mut conn = self.db.conn().await?;
        Ok(users::list_tokens(&mut conn, ctx.org(), own, page.after(), page.limit).await?.into())
    }

    pub async fn revoke_token(&self, ctx: &Ctx, id: &TokenId) -> ServiceResult<ApiToken> {
        let not_found = || format!("no token with id {id}");
        let mut tx = self.db.begin().await?;
        let before = users::get_token(&mut tx, ctx.org(), id).await.or_not_found(not_found)?;
        if before.user_id != ctx.actor.user_id && !ctx.actor.is_admin() {
            return Err(ServiceError::NotFound(not_found()));
        }
        if before.revoked_at.is_some() {
            return Err(ServiceError::Conflict("token is already revoked".into()));
        }
        users::revoke_token(&mut tx, ctx.org(), id).await?;
        let after = users::get_token(&mut tx, ctx.org(), id).await?;
        audit::record(&mut tx, ctx, "token.revoke", "token", id.as_str(), Some(&before), Some(&after)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(after)
    }
}
