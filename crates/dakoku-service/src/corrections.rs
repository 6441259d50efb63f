//! Correction requests (打刻修正申請 / 补卡申请): an employee or HR asks to add, move or cancel a
//! punch with a reason; the employee's manager or HR decides. An approved correction is a new
//! ledger entry that supersedes the old one; nothing is edited in place.

use crate::employees::visible_employee;
use crate::error::OrNotFound;
use crate::timesheets::check_month_open;
use crate::{audit, Ctx, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Utc};
use dakoku_domain::{
    validate, CorrectionStatus, Employee, EmployeeId, Punch, PunchId, PunchKind, PunchSource, Role, ValidationErrors,
};
use dakoku_rules::affected_days;
use dakoku_store::timesheets::{self as store, Correction};
use dakoku_store::{employees, orgs, punches, Conn, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrectionAction {
    Add,
    Move,
    Cancel,
}

impl CorrectionAction {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "add" => Some(Self::Add),
            "move" => Some(Self::Move),
            "cancel" => Some(Self::Cancel),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Move => "move",
            Self::Cancel => "cancel",
        }
    }
}

#[derive(Clone, Debug)]
pub struct NewCorrection {
    pub employee_id: EmployeeId,
    pub action: CorrectionAction,
    /// The punch to move or cancel.
    pub punch_id: Option<PunchId>,
    /// For `add`, the kind; for `move`, optionally a new kind.
    pub kind: Option<PunchKind>,
    /// For `add` and `move`, the time it should have.
    pub at: Option<DateTime<Utc>>,
    pub reason: String,
}

/// The punch a correction targets, checked to be the employee's and still in force.
async fn target_punch(conn: &mut Conn, ctx: &Ctx, employee: &Employee, id: &PunchId) -> ServiceResult<Punch> {
    let punch = match punches::get(conn, ctx.org(), id).await {
        Ok(p) if p.employee_id == employee.id && !p.voids => p,
        Ok(_) | Err(StoreError::NotFound) => {
            return Err(ServiceError::invalid("punch_id", format!("no punch {id} of this employee")))
        }
        Err(e) => return Err(e.into()),
    };
    if punches::is_superseded(conn, ctx.org(), id).await? {
        return Err(ServiceError::invalid("punch_id", "this punch was already corrected"));
    }
    Ok(punch)
}

/// May the actor decide on this employee's requests? Admin and HR for everyone, a manager for
/// the subtree they manage, nobody (but an admin) for themselves.
fn may_decide(ctx: &Ctx, employee: &Employee) -> bool {
    if ctx.actor.is_self(&employee.id) && !ctx.actor.is_admin() {
        return false;
    }
    ctx.actor.manages_people()
        || (ctx.actor.role == Role::Manager
            && employee.department_id.as_ref().is_some_and(|d| ctx.actor.managed_departments.contains(d)))
}

impl Service {
    pub async fn request_correction(&self, ctx: &Ctx, input: NewCorrection) -> ServiceResult<Correction> {
        let mut errors = ValidationErrors::default();
        let reason = validate::required_text(&mut errors, "reason", &input.reason, 500);
        match input.action {
            CorrectionAction::Add => {
                if input.kind.is_none() {
                    errors.add("kind", "is required to add a punch");
                }
                if input.at.is_none() {
                    errors.add("at", "is required to add a punch");
                }
            }
            CorrectionAction::Move => {
                if input.punch_id.is_none() {
                    errors.add("punch_id", "is required to move a punch");
                }
                if input.at.is_none() {
                    errors.add("at", "is required to move a punch");
                }
            }
            CorrectionAction::Cancel => {
                if input.punch_id.is_none() {
                    errors.add("punch_id", "is required to cancel a punch");
                }
            }
        }
        if input.at.is_some_and(|at| at > self.clock.now() + chrono::Duration::minutes(5)) {
            errors.add("at", "lies in the future");
        }
        errors.into_result()?;
        let mut tx = self.db.begin().await?;
        let employee = visible_employee(&mut tx, ctx, &input.employee_id).await?;
        if !(ctx.actor.is_self(&employee.id) || ctx.actor.manages_people()) {
            return Err(ServiceError::Forbidden("corrections are requested by the employee or by HR".into()));
        }
        let org = orgs::get(&mut tx, ctx.org()).await?;
        let mut old = None;
        if let Some(id) = &input.punch_id {
            let punch = target_punch(&mut tx, ctx, &employee, id).await?;
            check_month_open(&mut tx, &org, &employee, punch.at).await?;
            old = Some(punch);
        }
        if let Some(at) = input.at {
            check_month_open(&mut tx, &org, &employee, at).await?;
        }
        let correction = Correction {
            id: dakoku_domain::CorrectionId::new().to_string(),
            org_id: ctx.org().clone(),
            employee_id: employee.id.clone(),
            action: input.action.as_str().to_owned(),
            punch_id: old.map(|p| p.id),
            kind: input.kind,
            at: input.at,
            reason,
            status: CorrectionStatus::Pending,
            requested_by: ctx.recorder.to_db(),
            decided_by: None,
            decided_at: None,
            comment: None,
            created_at: self.clock.now(),
        };
        store::insert_correction(&mut tx, &correction).await?;
        audit::record(
            &mut tx,
            ctx,
            "correction.request",
            "correction",
            &correction.id,
            audit::NOTHING,
            Some(&correction),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(correction)
    }

    /// Corrections the actor may see: their own, their subtree's, or (HR) everyone's.
    pub async fn list_corrections(
        &self,
        ctx: &Ctx,
        employee: Option<&EmployeeId>,
        status: Option<CorrectionStatus>,
    ) -> ServiceResult<Vec<Correction>> {
        let mut conn = self.db.conn().await?;
        if let Some(employee) = employee {
            visible_employee(&mut conn, ctx, employee).await?;
        }
        let all = store::list_corrections(&mut conn, ctx.org(), employee, status).await?;
        if ctx.actor.manages_people() {
            return Ok(all);
        }
        let mut ids: Vec<EmployeeId> = all.iter().map(|c| c.employee_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let departments = employees::departments_of(&mut conn, ctx.org(), &ids).await?;
        Ok(all
            .into_iter()
            .filter(|c| {
                departments
                    .get(&c.employee_id)
                    .is_some_and(|department| ctx.actor.can_read_employee(&c.employee_id, department.as_ref()))
            })
            .collect())
    }

    /// Approves or rejects a pending correction. Approval writes the new ledger entry.
    pub async fn decide_correction(
        &self,
        ctx: &Ctx,
        id: &str,
        approve: bool,
        comment: Option<String>,
    ) -> ServiceResult<Correction> {
        let comment = validate::comment(comment.as_deref())?;
        let not_found = || format!("no correction with id {id}");
        let mut tx = self.db.begin().await?;
        let correction = store::get_correction(&mut tx, ctx.org(), id).await.or_not_found(not_found)?;
        let employee = visible_employee(&mut tx, ctx, &correction.employee_id)
            .await
            .map_err(|_| ServiceError::NotFound(not_found()))?;
        if !may_decide(ctx, &employee) {
            return Err(ServiceError::Forbidden(
                "only the employee's manager or HR decides on a correction, and never on their own".into(),
            ));
        }
        let Some(status) = correction.status.decided(approve) else {
            return Err(ServiceError::Conflict(format!("the correction is already {}", correction.status.as_str())));
        };
        if approve {
            let org = orgs::get(&mut tx, ctx.org()).await?;
            let old = match &correction.punch_id {
                Some(pid) => Some(target_punch(&mut tx, ctx, &employee, pid).await?),
                None => None,
            };
            let action = CorrectionAction::parse(&correction.action)
                .ok_or_else(|| StoreError::Corrupt(format!("correction action {}", correction.action)))?;
            let (kind, at) = match (&old, action) {
                (Some(old), CorrectionAction::Cancel) => (old.kind, old.at),
                (Some(old), _) => (correction.kind.unwrap_or(old.kind), correction.at.unwrap_or(old.at)),
                (None, _) => match (correction.kind, correction.at) {
                    (Some(kind), Some(at)) => (kind, at),
                    _ => return Err(StoreError::Corrupt("correction without kind or time".into()).into()),
                },
            };
            let mut touched = vec![(check_month_open(&mut tx, &org, &employee, at).await?, at)];
            if let Some(old) = &old {
                touched.push((check_month_open(&mut tx, &org, &employee, old.at).await?, old.at));
            }
            let entry = Punch {
                id: PunchId::new(),
                org_id: ctx.org().clone(),
                employee_id: employee.id.clone(),
                kind,
                at,
                source: PunchSource::Api,
                recorded_by: ctx.recorder.clone(),
                note: Some(correction.reason.clone()),
                location: None,
                integration_id: None,
                external_event_id: None,
                supersedes: old.as_ref().map(|p| p.id.clone()),
                voids: action == CorrectionAction::Cancel,
                correction_id: Some(correction.id.clone()),
                created_at: self.clock.now(),
            };
            punches::insert(&mut tx, &entry).await?;
            for (rule, at) in &touched {
                store::invalidate(&mut tx, ctx.org(), Some(&employee.id), Some(affected_days(rule, *at))).await?;
            }
            audit::record(&mut tx, ctx, "punch.create", "punch", entry.id.as_str(), audit::NOTHING, Some(&entry))
                .await?;
        }
        if !store::decide_correction(&mut tx, ctx.org(), id, status, &ctx.recorder.to_db(), comment.as_deref()).await? {
            return Err(ServiceError::Conflict("the correction was decided meanwhile".into()));
        }
        let after = store::get_correction(&mut tx, ctx.org(), id).await?;
        audit::record(
            &mut tx,
            ctx,
            &format!("correction.{}", if approve { "approve" } else { "reject" }),
            "correction",
            id,
            Some(&correction),
            Some(&after),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(after)
    }
}
