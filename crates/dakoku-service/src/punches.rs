//! Recording punches into the ledger and reading them back.
//!
//! One transaction holds the idempotency key, the punch, its audit entry and the outbox jobs
//! it causes, so a punch that was acknowledged is stored exactly once with all its effects.

use crate::employees::{scope_of, visible_employee};
use crate::paging::Listed;
use crate::timesheets::check_month_open;
use crate::webhooks::enqueue_event;
use crate::{audit, Ctx, PageRequest, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Duration, Utc};
use dakoku_domain::{
    validate, EmployeeId, EmployeeStatus, IntegrationId, Location, Punch, PunchId, PunchKind, PunchSource,
    ValidationErrors,
};
use dakoku_rules::affected_days;
use dakoku_store::punches::{self, Filter};
use dakoku_store::{idempotency, Conn, StoreError};

/// How far a punch's time may lie from the server's clock when an employee sets it
/// themselves; only admin and HR enter punches for other times.
const CLOCK_TOLERANCE_MINUTES: i64 = 5;

#[derive(Clone, Debug)]
pub struct NewPunch {
    pub employee_id: EmployeeId,
    pub kind: PunchKind,
    /// When it happened; now if not given.
    pub at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub location: Option<Location>,
    pub source: PunchSource,
    pub integration_id: Option<IntegrationId>,
    /// The platform's event id: a second punch with the same id is not stored again.
    pub external_event_id: Option<String>,
}

/// An `Idempotency-Key` and how to render the answer that is stored for replays.
pub struct Idempotency<'a> {
    pub key: &'a str,
    /// A digest of the request; a replay with another body is refused.
    pub request_hash: String,
    pub render: &'a (dyn Fn(&Punch) -> String + Sync),
}

#[derive(Debug)]
pub enum Recorded {
    Created(Punch),
    /// The platform event was delivered before; this is the punch it made then.
    AlreadyStored(Punch),
    /// The idempotency key was seen before; this is the answer given then.
    Replay {
        status: u16,
        body: String,
    },
}

pub fn validate_idempotency_key(key: &str) -> ServiceResult<()> {
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(ServiceError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into()));
    }
    Ok(())
}

/// Stores a punch inside the caller's transaction: checks the employee, the month lock and a
/// redelivered platform event, then writes the ledger row, its audit entry and outbox jobs.
pub(crate) async fn insert_punch(
    tx: &mut Conn,
    ctx: &Ctx,
    input: NewPunch,
    now: DateTime<Utc>,
) -> ServiceResult<Recorded> {
    let mut errors = ValidationErrors::default();
    let note = validate::optional_text(&mut errors, "note", input.note.as_deref(), 500);
    if let Some(location) = &input.location {
        check_location(&mut errors, location);
    }
    let at = input.at.unwrap_or(now);
    if at > now + Duration::minutes(CLOCK_TOLERANCE_MINUTES) {
        errors.add("at", "lies in the future");
    } else if !ctx.actor.manages_people() && (now - at).num_minutes().abs() > CLOCK_TOLERANCE_MINUTES {
        errors.add("at", "only admin and HR record punches for another time; ask for a correction instead");
    }
    errors.into_result()?;

    let employee = match visible_employee(tx, ctx, &input.employee_id).await {
        Ok(e) => e,
        Err(ServiceError::NotFound(m)) => return Err(ServiceError::invalid("employee_id", m)),
        Err(e) => return Err(e),
    };
    if !ctx.actor.can_punch_for(&employee.id) {
        return Err(ServiceError::Forbidden("only admin and HR record punches for other employees".into()));
    }
    if employee.status == EmployeeStatus::Retired {
        return Err(ServiceError::Unprocessable(format!("employee {} is retired", employee.code)));
    }
    // A platform event delivered again is answered with what it made the first time, even
    // if its month has been closed since.
    if let (Some(integration), Some(event)) = (&input.integration_id, &input.external_event_id) {
        match punches::find_by_event(tx, integration, event).await {
            Ok(stored) => return Ok(Recorded::AlreadyStored(stored)),
            Err(StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let org = dakoku_store::orgs::get(tx, ctx.org()).await?;
    let rule = check_month_open(tx, &org, &employee, at).await?;

    let punch = Punch {
        id: PunchId::new(),
        org_id: ctx.org().clone(),
        employee_id: employee.id,
        kind: input.kind,
        at,
        source: input.source,
        recorded_by: ctx.recorder.clone(),
        note,
        location: input.location,
        integration_id: input.integration_id,
        external_event_id: input.external_event_id,
        supersedes: None,
        voids: false,
        correction_id: None,
        created_at: now,
    };
    punches::insert(tx, &punch).await?;
    let (from, to) = affected_days(&rule, at);
    dakoku_store::timesheets::invalidate(tx, ctx.org(), Some(&punch.employee_id), Some((from, to))).await?;
    audit::record(tx, ctx, "punch.create", "punch", punch.id.as_str(), audit::NOTHING, Some(&punch)).await?;
    enqueue_event(tx, ctx.org(), "punch.created", punch.id.as_str(), &punch).await?;
    Ok(Recorded::Created(punch))
}

impl Service {
    pub async fn record_punch(
        &self,
        ctx: &Ctx,
        input: NewPunch,
        idempotency: Option<Idempotency<'_>>,
    ) -> ServiceResult<Recorded> {
        let now = self.clock.now();
        let event = input.integration_id.clone().zip(input.external_event_id.clone());
        let mut tx = self.db.begin().await?;
        if let Some(idem) = &idempotency {
            validate_idempotency_key(idem.key)?;
            if !idempotency::claim(&mut tx, ctx.org().as_str(), idem.key, &idem.request_hash).await? {
                let saved = idempotency::get(&mut tx, ctx.org().as_str(), idem.key).await?;
                return match saved {
                    Some(saved) if saved.request_hash != idem.request_hash => Err(ServiceError::Unprocessable(
                        "this Idempotency-Key was already used with a different request".into(),
                    )),
                    Some(dakoku_store::idempotency::Saved { response: Some((status, body)), .. }) => {
                        Ok(Recorded::Replay { status, body })
                    }
                    _ => Err(ServiceError::Conflict("a request with this Idempotency-Key is still in progress".into())),
                };
            }
        }
        let recorded = match insert_punch(&mut tx, ctx, input, now).await {
            // Two deliveries of one platform event raced; the other one stored it.
            Err(ServiceError::Internal(StoreError::Conflict(conflict))) => {
                drop(tx);
                let Some((integration, event)) = event else {
                    return Err(StoreError::Conflict(conflict).into());
                };
                let mut conn = self.db.conn().await?;
                return Ok(Recorded::AlreadyStored(punches::find_by_event(&mut conn, &integration, &event).await?));
            }
            other => other?,
        };
        if let Recorded::Created(punch) = &recorded {
            self.enqueue_pushes(&mut tx, punch).await?;
        }
        if let (Recorded::Created(punch), Some(idem)) = (&recorded, &idempotency) {
            idempotency::save_response(&mut tx, ctx.org().as_str(), idem.key, 201, &(idem.render)(punch)).await?;
        }
        if matches!(recorded, Recorded::Created(_)) {
            tx.commit().await.map_err(StoreError::from)?;
        }
        Ok(recorded)
    }

    pub async fn list_punches(&self, ctx: &Ctx, filter: &Filter, page: &PageRequest) -> ServiceResult<Listed<Punch>> {
        if let (Some(from), Some(to)) = (filter.from, filter.to) {
            if from >= to {
                return Err(ServiceError::invalid("to", "must be after from"));
            }
        }
        let mut conn = self.db.conn().await?;
        if let Some(employee) = &filter.employee_id {
            visible_employee(&mut conn, ctx, employee).await?;
        }
        Ok(punches::list(&mut conn, ctx.org(), scope_of(&ctx.actor), filter, page.after(), page.limit).await?.into())
    }

    pub async fn punch(&self, ctx: &Ctx, id: &PunchId) -> ServiceResult<Punch> {
        let not_found = || ServiceError::NotFound(format!("no punch with id {id}"));
        let mut conn = self.db.conn().await?;
        let punch = match punches::get(&mut conn, ctx.org(), id).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        };
        visible_employee(&mut conn, ctx, &punch.employee_id).await.map_err(|_| not_found())?;
        Ok(punch)
    }
}

fn check_location(errors: &mut ValidationErrors, location: &Location) {
    if location.latitude.is_some_and(|l| !(-90.0..=90.0).contains(&l)) {
        errors.add("location.latitude", "must be between -90 and 90");
    }
    if location.longitude.is_some_and(|l| !(-180.0..=180.0).contains(&l)) {
        errors.add("location.longitude", "must be between -180 and 180");
    }
    if location.latitude.is_some() != location.longitude.is_some() {
        errors.add("location", "latitude and longitude go together");
    }
    validate::optional_text(errors, "location.label", location.label.as_deref(), 200);
}
