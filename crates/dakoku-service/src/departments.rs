//! Departments: a tree per organisation, managed by admin and HR, visible to everyone in it.

use crate::error::OrNotFound;
use crate::paging::Listed;
use crate::{audit, Ctx, PageRequest, Service, ServiceError, ServiceResult};
use dakoku_domain::{validate, Department, DepartmentId, ValidationErrors};
use dakoku_store::{departments, Conn, StoreError};

#[derive(Clone, Debug)]
pub struct NewDepartment {
    pub name: String,
    pub code: Option<String>,
    pub parent_id: Option<DepartmentId>,
}

/// A partial update; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct DepartmentPatch {
    pub name: Option<String>,
    pub code: Option<Option<String>>,
    pub parent_id: Option<Option<DepartmentId>>,
}

pub(crate) fn require_people_manager(ctx: &Ctx) -> ServiceResult<()> {
    if ctx.actor.manages_people() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admin and HR may change the organisation's people and departments".into()))
    }
}

fn not_found(id: &DepartmentId) -> impl FnOnce() -> String + '_ {
    move || format!("no department with id {id}")
}

impl Service {
    pub async fn create_department(&self, ctx: &Ctx, input: NewDepartment) -> ServiceResult<Department> {
        require_people_manager(ctx)?;
        let mut errors = ValidationErrors::default();
        let name = validate::required_text(&mut errors, "name", &input.name, 200);
        let code = input.code.as_deref().map(|c| validate::code(&mut errors, "code", c));
        errors.into_result()?;
        let mut tx = self.db.begin().await?;
        if let Some(parent) = &input.parent_id {
            check_parent(&mut tx, ctx, parent).await?;
        }
        let department = Department {
            id: DepartmentId::new(),
            org_id: ctx.org().clone(),
            name,
            code,
            parent_id: input.parent_id,
            created_at: self.clock.now(),
        };
        departments::insert(&mut tx, &department).await.map_err(duplicate_code)?;
        audit::record(
            &mut tx,
            ctx,
            "department.create",
            "department",
            department.id.as_str(),
            audit::NOTHING,
            Some(&department),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(department)
    }

    pub async fn department(&self, ctx: &Ctx, id: &DepartmentId) -> ServiceResult<Department> {
        let mut conn = self.db.conn().await?;
        departments::get(&mut conn, ctx.org(), id).await.or_not_found(not_found(id))
    }

    pub async fn list_departments(&self, ctx: &Ctx, page: &PageRequest) -> ServiceResult<Listed<Department>> {
        let mut conn = self.db.conn().await?;
        Ok(departments::list(&mut conn, ctx.org(), page.after(), page.limit).await?.into())
    }

    pub async fn update_department(
        &self,
        ctx: &Ctx,
        id: &DepartmentId,
        patch: DepartmentPatch,
    ) -> ServiceResult<Department> {
        require_people_manager(ctx)?;
        let mut tx = self.db.begin().await?;
        let before = departments::get(&mut tx, ctx.org(), id).await.or_not_found(not_found(id))?;
        let mut after = before.clone();
        let mut errors = ValidationErrors::default();
        if let Some(name) = &patch.name {
            after.name = validate::required_text(&mut errors, "name", name, 200);
        }
        if let Some(code) = &patch.code {
            after.code = code.as_deref().map(|c| validate::code(&mut errors, "code", c));
        }
        errors.into_result()?;
        if let Some(parent) = patch.parent_id {
            if let Some(parent) = &parent {
                check_parent(&mut tx, ctx, parent).await?;
                // A department may not move below itself.
                let below = departments::subtree(&mut tx, ctx.org(), id).await?;
                if below.contains(parent) {
                    return Err(ServiceError::invalid(
                        "parent_id",
                        "a department cannot be placed under itself or its own sub-department",
                    ));
                }
            }
            after.parent_id = parent;
        }
        departments::update(&mut tx, &after).await.map_err(duplicate_code)?;
        if before.parent_id != after.parent_id {
            // Department rules are inherited down the tree: a move can change whose rule applies.
            dakoku_store::timesheets::invalidate(&mut tx, ctx.org(), None, None).await?;
        }
        audit::record(&mut tx, ctx, "department.update", "department", id.as_str(), Some(&before), Some(&after))
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(after)
    }

    /// Deletes an empty department; one with sub-departments, employees or a manager is kept.
    pub async fn delete_department(&self, ctx: &Ctx, id: &DepartmentId) -> ServiceResult<()> {
        require_people_manager(ctx)?;
        let mut tx = self.db.begin().await?;
        let before = departments::get(&mut tx, ctx.org(), id).await.or_not_found(not_found(id))?;
        let (children, employees, managers) = departments::dependents(&mut tx, ctx.org(), id).await?;
        if children + employees + managers > 0 {
            return Err(ServiceError::Conflict(format!(
                "department still has {children} sub-department(s), {employees} employee(s) and {managers} manager(s); move them first"
            )));
        }
        departments::delete(&mut tx, ctx.org(), id).await?;
        audit::record(&mut tx, ctx, "department.delete", "department", id.as_str(), Some(&before), audit::NOTHING)
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}

async fn check_parent(conn: &mut Conn, ctx: &Ctx, parent: &DepartmentId) -> ServiceResult<()> {
    match departments::get(conn, ctx.org(), parent).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => Err(ServiceError::invalid("parent_id", format!("no department with id {parent}"))),
        Err(e) => Err(e.into()),
    }
}

fn duplicate_code(error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(_) => ServiceError::Conflict("another department already has this code".into()),
        other => other.into(),
    }
}
