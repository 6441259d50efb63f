//! Employees: created, updated and retired by admin and HR; read within each role's reach.

use crate::departments::require_people_manager;
use crate::error::OrNotFound;
use crate::paging::Listed;
use crate::{audit, Ctx, PageRequest, Service, ServiceError, ServiceResult};
use chrono::NaiveDate;
use dakoku_domain::{validate, Actor, DepartmentId, Employee, EmployeeId, EmployeeStatus, Reach, ValidationErrors};
use dakoku_store::employees::{self, Filter, Scope};
use dakoku_store::{departments, Conn, StoreError};
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug, Default)]
pub struct NewEmployee {
    pub code: String,
    pub name: String,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub timezone: Option<String>,
    pub department_id: Option<DepartmentId>,
}

#[derive(Clone, Debug, Default)]
pub struct EmployeePatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub email: Option<Option<String>>,
    pub mobile: Option<Option<String>>,
    pub timezone: Option<Option<String>>,
    pub department_id: Option<Option<DepartmentId>>,
}

/// One row of a bulk import, as read from the file, with its line number there.
#[derive(Clone, Debug, Default)]
pub struct ImportRow {
    pub line: u64,
    pub code: String,
    pub name: String,
    pub email: String,
    pub timezone: String,
    pub department_code: String,
}

#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    pub imported: u64,
    /// (line, what is wrong) for every rejected row.
    pub rejected: Vec<(u64, String)>,
}

/// The employees an actor may list.
pub(crate) fn scope_of(actor: &Actor) -> Scope<'_> {
    match (actor.role.reach(), &actor.managed_root) {
        (Reach::Organization, _) => Scope::All,
        (Reach::Subtree, Some(root)) => Scope::Subtree { root, own: actor.employee_id.as_ref() },
        _ => Scope::Own(actor.employee_id.as_ref()),
    }
}

fn not_found(id: &EmployeeId) -> impl FnOnce() -> String + '_ {
    move || format!("no employee with id {id}")
}

impl Service {
    pub async fn create_employee(&self, ctx: &Ctx, input: NewEmployee) -> ServiceResult<Employee> {
        require_people_manager(ctx)?;
        let mut errors = ValidationErrors::default();
        let employee = Employee {
            id: EmployeeId::new(),
            org_id: ctx.org().clone(),
            code: validate::code(&mut errors, "code", &input.code),
            name: validate::required_text(&mut errors, "name", &input.name, 200),
            email: input.email.as_deref().map(|e| validate::email(&mut errors, "email", e)),
            mobile: input.mobile.as_deref().map(|m| validate::mobile(&mut errors, "mobile", m)),
            timezone: input.timezone.as_deref().and_then(|tz| validate::timezone(&mut errors, "timezone", tz)),
            department_id: input.department_id,
            status: EmployeeStatus::Active,
            retired_on: None,
            created_at: self.clock.now(),
        };
        errors.into_result()?;
        let mut tx = self.db.begin().await?;
        check_department(&mut tx, ctx, employee.department_id.as_ref()).await?;
        employees::insert(&mut tx, &employee).await.map_err(|e| duplicate_code(e, &employee.code))?;
        audit::record(
            &mut tx,
            ctx,
            "employee.create",
            "employee",
            employee.id.as_str(),
            audit::NOTHING,
            Some(&employee),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(employee)
    }

    /// An employee the actor may see; others (and other organisations') are not found.
    pub async fn employee(&self, ctx: &Ctx, id: &EmployeeId) -> ServiceResult<Employee> {
        let mut conn = self.db.conn().await?;
        visible_employee(&mut conn, ctx, id).await
    }

    pub async fn list_employees(
        &self,
        ctx: &Ctx,
        filter: &Filter,
        page: &PageRequest,
    ) -> ServiceResult<Listed<Employee>> {
        let mut conn = self.db.conn().await?;
        Ok(employees::list(&mut conn, ctx.org(), scope_of(&ctx.actor), filter, page.after(), page.limit).await?.into())
    }

    pub async fn update_employee(&self, ctx: &Ctx, id: &EmployeeId, patch: EmployeePatch) -> ServiceResult<Employee> {
        require_people_manager(ctx)?;
        let mut tx = self.db.begin().await?;
        let before = employees::get(&mut tx, ctx.org(), id).await.or_not_found(not_found(id))?;
        let mut after = before.clone();
        let mut errors = ValidationErrors::default();
        if let Some(code) = &patch.code {
            after.code = validate::code(&mut errors, "code", code);
        }
        if let Some(name) = &patch.name {
            after.name = validate::required_text(&mut errors, "name", name, 200);
        }
        if let Some(email) = &patch.email {
            after.email = email.as_deref().map(|e| validate::email(&mut errors, "email", e));
        }
        if let Some(mobile) = &patch.mobile {
            after.mobile = mobile.as_deref().map(|m| validate::mobile(&mut errors, "mobile", m));
        }
        if let Some(tz) = &patch.timezone {
            after.timezone = tz.as_deref().and_then(|tz| validate::timezone(&mut errors, "timezone", tz));
        }
        errors.into_result()?;
        if let Some(department) = patch.department_id {
            check_department(&mut tx, ctx, department.as_ref()).await?;
            after.department_id = department;
        }
        employees::update(&mut tx, &after).await.map_err(|e| duplicate_code(e, &after.code))?;
        if before.department_id != after.department_id || before.timezone != after.timezone {
            // Another department or zone can mean another rule: derive their days afresh.
            dakoku_store::timesheets::invalidate(&mut tx, ctx.org(), Some(id), None).await?;
        }
        audit::record(&mut tx, ctx, "employee.update", "employee", id.as_str(), Some(&before), Some(&after)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(after)
    }

    /// Retires an employee as of a day (default today in UTC). Their history stays; new
    /// punches are refused.
    pub async fn retire_employee(&self, ctx: &Ctx, id: &EmployeeId, on: Option<NaiveDate>) -> ServiceResult<Employee> {
        require_people_manager(ctx)?;
        let mut tx = self.db.begin().await?;
        let before = employees::get(&mut tx, ctx.org(), id).await.or_not_found(not_found(id))?;
        if before.status == EmployeeStatus::Retired {
            return Err(ServiceError::Conflict(format!("employee {} is already retired", before.code)));
        }
        let mut after = before.clone();
        after.status = EmployeeStatus::Retired;
        after.retired_on = Some(on.unwrap_or_else(|| self.clock.now().date_naive()));
        employees::update(&mut tx, &after).await?;
        dakoku_store::timesheets::invalidate(&mut tx, ctx.org(), Some(id), None).await?;
        audit::record(&mut tx, ctx, "employee.retire", "employee", id.as_str(), Some(&before), Some(&after)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(after)
    }

    /// Validates every row first. With `skip_invalid` false, one bad row imports nothing.
    pub async fn import_employees(
        &self,
        ctx: &Ctx,
        rows: &[ImportRow],
        skip_invalid: bool,
        progress: &(dyn Fn(u64) + Sync),
    ) -> ServiceResult<ImportReport> {
        require_people_manager(ctx)?;
        let mut tx = self.db.begin().await?;
        let mut taken = employees::codes(&mut tx, ctx.org()).await?;
        let mut department_ids: HashMap<String, Option<DepartmentId>> = HashMap::new();
        let mut report = ImportReport::default();
        let mut valid = Vec::with_capacity(rows.len());
        let mut seen_in_file = HashSet::new();
        for row in rows {
            let mut errors = ValidationErrors::default();
            let code = validate::code(&mut errors, "code", &row.code);
            let employee = Employee {
                id: EmployeeId::new(),
                org_id: ctx.org().clone(),
                name: validate::required_text(&mut errors, "name", &row.name, 200),
                email: Some(row.email.trim())
                    .filter(|e| !e.is_empty())
                    .map(|e| validate::email(&mut errors, "email", e)),
                timezone: Some(row.timezone.trim())
                    .filter(|t| !t.is_empty())
                    .and_then(|t| validate::timezone(&mut errors, "timezone", t)),
                department_id: None,
                mobile: None,
                status: EmployeeStatus::Active,
                retired_on: None,
                created_at: self.clock.now(),
                code,
            };
            let department_code = row.department_code.trim();
            let department_id = if department_code.is_empty() {
                None
            } else {
                if !department_ids.contains_key(department_code) {
                    let found = match departments::get_by_code(&mut tx, ctx.org(), department_code).await {
                        Ok(d) => Some(d.id),
                        Err(StoreError::NotFound) => None,
                        Err(e) => return Err(e.into()),
                    };
                    department_ids.insert(department_code.to_owned(), found);
                }
                let found = department_ids[department_code].clone();
                if found.is_none() {
                    errors.add("department_code", format!("no department with code '{department_code}'"));
                }
                found
            };
            if !employee.code.is_empty() && taken.contains(&employee.code) {
                errors.add("code", format!("an employee with code '{}' already exists", employee.code));
            } else if !employee.code.is_empty() && !seen_in_file.insert(employee.code.clone()) {
                errors.add("code", format!("code '{}' appears more than once in the file", employee.code));
            }
            if errors.is_empty() {
                valid.push(Employee { department_id, ..employee });
            } else {
                report.rejected.push((row.line, errors.summary()));
            }
        }
        if !report.rejected.is_empty() && !skip_invalid {
            return Ok(report);
        }
        for (done, employee) in valid.iter().enumerate() {
            employees::insert(&mut tx, employee).await.map_err(|e| duplicate_code(e, &employee.code))?;
            audit::record(
                &mut tx,
                ctx,
                "employee.import",
                "employee",
                employee.id.as_str(),
                audit::NOTHING,
                Some(employee),
            )
            .await?;
            taken.insert(employee.code.clone());
            progress(done as u64 + 1);
        }
        tx.commit().await.map_err(StoreError::from)?;
        report.imported = valid.len() as u64;
        Ok(report)
    }
}

/// Loads an employee and checks the actor may see them; otherwise "not found".
pub(crate) async fn visible_employee(conn: &mut Conn, ctx: &Ctx, id: &EmployeeId) -> ServiceResult<Employee> {
    let employee = employees::get(conn, ctx.org(), id).await.or_not_found(not_found(id))?;
    if ctx.actor.can_read_employee(&employee.id, employee.department_id.as_ref()) {
        Ok(employee)
    } else {
        Err(ServiceError::NotFound(not_found(id)()))
    }
}

async fn check_department(conn: &mut Conn, ctx: &Ctx, department: Option<&DepartmentId>) -> ServiceResult<()> {
    let Some(department) = department else {
        return Ok(());
    };
    match departments::get(conn, ctx.org(), department).await {
        Ok(_) => Ok(()),
        Err(StoreError::NotFound) => {
            Err(ServiceError::invalid("department_id", format!("no department with id {department}")))
        }
        Err(e) => Err(e.into()),
    }
}

fn duplicate_code(error: StoreError, code: &str) -> ServiceError {
    match error {
        StoreError::Conflict(_) => ServiceError::Conflict(format!("an employee with code '{code}' already exists")),
        other => other.into(),
    }
}
