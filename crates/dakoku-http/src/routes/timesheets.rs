//! Timesheets and what they are computed from: work rules, the calendar, shifts and rosters,
//! corrections, the monthly workflow, and payroll exports.

use crate::extract::{optional_body, path_id, AppJson, AppQuery, Auth};
use crate::problem::Problem;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use dakoku_domain::{CorrectionStatus, DepartmentId, EmployeeId, MonthAction, PunchId, PunchKind};
use dakoku_rules::{CalendarEntry, CalendarKind, ShiftDef};
use dakoku_service::corrections::{CorrectionAction, NewCorrection};
use dakoku_service::exports::{ExportDetail, ExportFormat};
use dakoku_service::timesheets::{RuleScope, Timesheet, YearMonth};
use dakoku_service::view::{Correction, MonthState};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_timesheet))
        .routes(routes!(month_action))
        .routes(routes!(get_org_rule, put_org_rule))
        .routes(routes!(put_department_rule))
        .routes(routes!(get_employee_rule, put_employee_rule))
        .routes(routes!(get_calendar, put_calendar))
        .routes(routes!(list_shifts, put_shift))
        .routes(routes!(put_roster))
        .routes(routes!(request_correction, list_corrections))
        .routes(routes!(decide_correction))
        .routes(routes!(payroll_export))
}

fn month_of(text: &str) -> Result<YearMonth, ApiError> {
    YearMonth::parse(text).ok_or_else(|| ApiError::bad_request(format!("'{text}' is not a month such as 2026-11")))
}

/// One month of one employee: day records with the contract's minute fields, totals,
/// payroll premium classes, statutory alerts, and how each figure came about.
#[derive(Serialize, ToSchema)]
pub struct TimesheetDto {
    employee_id: String,
    month: String,
    /// `open`, `submitted` or `approved`.
    status: String,
    comment: Option<String>,
    #[schema(value_type = Vec<Object>)]
    days: Vec<dakoku_rules::DayRecord>,
    #[schema(value_type = Object)]
    totals: dakoku_rules::Totals,
    #[schema(value_type = Object)]
    premiums: dakoku_rules::Premiums,
    #[schema(value_type = Vec<String>)]
    alerts: Vec<dakoku_rules::Alert>,
    explanation: Vec<String>,
    #[schema(value_type = Object)]
    rule: dakoku_rules::WorkRule,
}

impl From<Timesheet> for TimesheetDto {
    fn from(t: Timesheet) -> Self {
        Self {
            employee_id: t.employee.id.to_string(),
            month: t.month.text(),
            status: t.state.status.as_str().to_owned(),
            comment: t.state.comment,
            days: t.days,
            totals: t.summary.totals,
            premiums: t.summary.premiums,
            alerts: t.summary.alerts,
            explanation: t.summary.explanation,
            rule: t.rule,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct MonthQuery {
    /// `YYYY-MM`.
    month: String,
}

#[utoipa::path(get, path = "/timesheets/{employee_id}", tag = "timesheets", params(MonthQuery),
    responses((status = 200, body = TimesheetDto), (status = 404, body = Problem)))]
async fn get_timesheet(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(employee_id): Path<String>,
    AppQuery(q): AppQuery<MonthQuery>,
) -> Result<Json<TimesheetDto>, ApiError> {
    let employee = path_id(&employee_id, EmployeeId::parse, "employee")?;
    let month = month_of(&q.month)?;
    Ok(Json(s.service.timesheet(&ctx, &employee, month).await?.into()))
}

#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
struct CommentBody {
    comment: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct MonthStateDto {
    employee_id: String,
    month: String,
    status: String,
    comment: Option<String>,
    submitted_at: Option<DateTime<Utc>>,
    submitted_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    decided_by: Option<String>,
}

/// `submit` (the employee or HR), `approve` or `send-back` (差戻し; the employee's manager or HR).
#[utoipa::path(post, path = "/timesheets/{employee_id}/{month}/{action}", tag = "timesheets",
    params(("action" = String, Path, description = "submit, approve or send-back")),
    request_body(content = CommentBody, description = "optional"),
    responses((status = 200, body = MonthStateDto), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn month_action(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((employee_id, month, action)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<MonthStateDto>, ApiError> {
    let employee = path_id(&employee_id, EmployeeId::parse, "employee")?;
    let month = month_of(&month)?;
    let Some(action) = MonthAction::parse(&action) else {
        return Err(ApiError::not_found(format!("no month action '{action}'")));
    };
    let body: CommentBody = optional_body(&body)?;
    let state: MonthState = s.service.month_action(&ctx, &employee, month, action, body.comment).await?;
    Ok(Json(MonthStateDto {
        employee_id: employee.to_string(),
        month: month.text(),
        status: state.status.as_str().to_owned(),
        comment: state.comment,
        submitted_at: state.submitted_at,
        submitted_by: state.submitted_by,
        decided_at: state.decided_at,
        decided_by: state.decided_by,
    }))
}

/// The organisation's rule settings (a partial rule laid over the built-in defaults).
#[utoipa::path(get, path = "/work-rules", tag = "rules", responses((status = 200, body = Object)))]
async fn get_org_rule(State(s): State<AppState>, Auth(ctx): Auth) -> Result<Json<Value>, ApiError> {
    Ok(Json(s.service.rule_override(&ctx, &RuleScope::Organization).await?))
}

/// From which month a rule change takes effect (`YYYY-MM`; this month when not given). Months
/// before it keep the rule they had.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct EffectiveFrom {
    from: Option<String>,
}

impl EffectiveFrom {
    fn month(&self) -> Result<Option<YearMonth>, ApiError> {
        self.from.as_deref().map(month_of).transpose()
    }
}

/// Replaces the organisation's rule settings from a month on; `{}` returns to the defaults.
#[utoipa::path(put, path = "/work-rules", tag = "rules", params(EffectiveFrom), request_body = Object,
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn put_org_rule(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<EffectiveFrom>,
    AppJson(body): AppJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(s.service.put_rule_override(&ctx, &RuleScope::Organization, body, q.month()?).await?))
}

#[utoipa::path(put, path = "/departments/{id}/work-rule", tag = "rules", params(EffectiveFrom), request_body = Object,
    responses((status = 200, body = Object), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn put_department_rule(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<EffectiveFrom>,
    AppJson(body): AppJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id, DepartmentId::parse, "department")?;
    Ok(Json(s.service.put_rule_override(&ctx, &RuleScope::Department(id), body, q.month()?).await?))
}

/// The full rule in force for the employee, after every override.
#[utoipa::path(get, path = "/employees/{id}/work-rule", tag = "rules", responses((status = 200, body = dakoku_rules::WorkRule), (status = 404, body = Problem)))]
async fn get_employee_rule(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<dakoku_rules::WorkRule>, ApiError> {
    let id = path_id(&id, EmployeeId::parse, "employee")?;
    Ok(Json(s.service.effective_rule(&ctx, &id).await?))
}

#[utoipa::path(put, path = "/employees/{id}/work-rule", tag = "rules", params(EffectiveFrom), request_body = Object,
    responses((status = 200, body = Object), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn put_employee_rule(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<EffectiveFrom>,
    AppJson(body): AppJson<Value>,
) -> Result<Json<Value>, ApiError> {
    let id = path_id(&id, EmployeeId::parse, "employee")?;
    Ok(Json(s.service.put_rule_override(&ctx, &RuleScope::Employee(id), body, q.month()?).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RangeQuery {
    #[param(value_type = String)]
    #[serde(deserialize_with = "dakoku_domain::plausible::date")]
    from: NaiveDate,
    #[param(value_type = String)]
    #[serde(deserialize_with = "dakoku_domain::plausible::date")]
    to: NaiveDate,
    /// A department: its calendar, with its own and its ancestors' days over the organisation's.
    department_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CalendarScope {
    /// Change a department's own days instead of the organisation's.
    department_id: Option<String>,
}

fn department_of(id: Option<&str>) -> Result<Option<DepartmentId>, ApiError> {
    id.map(|id| path_id(id, DepartmentId::parse, "department")).transpose()
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CalendarDay {
    #[schema(value_type = String)]
    #[serde(deserialize_with = "dakoku_domain::plausible::date")]
    date: NaiveDate,
    /// `statutory`, `company`, `workday` (a make-up working day) or `legal_holiday` (a 法定休日
    /// moved here in advance); `null` clears the day.
    #[schema(value_type = Option<String>)]
    kind: Option<CalendarKind>,
    #[serde(default)]
    name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CalendarBody {
    days: Vec<CalendarDay>,
}

#[utoipa::path(get, path = "/calendar", tag = "rules", params(RangeQuery), responses((status = 200, body = CalendarBody)))]
async fn get_calendar(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<RangeQuery>,
) -> Result<Json<CalendarBody>, ApiError> {
    let department = department_of(q.department_id.as_deref())?;
    let days = s.service.calendar(&ctx, department.as_ref(), q.from, q.to).await?;
    Ok(Json(CalendarBody {
        days: days.into_iter().map(|(date, e)| CalendarDay { date, kind: Some(e.kind), name: e.name }).collect(),
    }))
}

/// Sets or clears holidays (祝日, 会社休日, 法定节假日) and make-up working days (调休).
#[utoipa::path(put, path = "/calendar", tag = "rules", params(CalendarScope), request_body = CalendarBody,
    responses((status = 204), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn put_calendar(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(scope): AppQuery<CalendarScope>,
    AppJson(body): AppJson<CalendarBody>,
) -> Result<StatusCode, ApiError> {
    let department = department_of(scope.department_id.as_deref())?;
    let days: Vec<_> =
        body.days.into_iter().map(|d| (d.date, d.kind.map(|kind| CalendarEntry { kind, name: d.name }))).collect();
    s.service.set_calendar(&ctx, department.as_ref(), &days).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/shifts", tag = "rules", responses((status = 200, body = Vec<Object>)))]
async fn list_shifts(State(s): State<AppState>, Auth(ctx): Auth) -> Result<Json<Vec<ShiftDef>>, ApiError> {
    Ok(Json(s.service.shifts(&ctx).await?))
}

/// Defines (or redefines) a named shift: `{"code", "name", "start": "22:00:00", "end": "07:00:00", "breaks": [...]}`.
#[utoipa::path(post, path = "/shifts", tag = "rules", request_body = Object,
    responses((status = 201, body = Object), (status = 422, body = Problem)))]
async fn put_shift(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<ShiftDef>,
) -> Result<(StatusCode, Json<ShiftDef>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.service.put_shift(&ctx, body).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Assignment {
    #[schema(value_type = String)]
    #[serde(deserialize_with = "dakoku_domain::plausible::date")]
    date: NaiveDate,
    /// A shift code, or `null` for a day off.
    shift_code: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RosterBody {
    assignments: Vec<Assignment>,
}

#[utoipa::path(put, path = "/employees/{id}/roster", tag = "rules", request_body = RosterBody,
    responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn put_roster(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<RosterBody>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, EmployeeId::parse, "employee")?;
    let days: Vec<_> = body.assignments.into_iter().map(|a| (a.date, a.shift_code)).collect();
    s.service.set_roster(&ctx, &id, &days).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateCorrection {
    employee_id: String,
    /// `add`, `move` or `cancel`.
    action: String,
    punch_id: Option<String>,
    #[schema(value_type = Option<String>)]
    kind: Option<PunchKind>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "dakoku_domain::plausible::optional_instant")]
    at: Option<DateTime<FixedOffset>>,
    reason: String,
}

#[utoipa::path(post, path = "/corrections", tag = "corrections", request_body = CreateCorrection,
    responses((status = 201, body = Object), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn request_correction(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<CreateCorrection>,
) -> Result<(StatusCode, Json<Correction>), ApiError> {
    let action = CorrectionAction::parse(&body.action).ok_or_else(|| {
        ApiError::invalid(vec![dakoku_domain::Invalid {
            field: "action".into(),
            message: "must be add, move or cancel".into(),
        }])
    })?;
    let input = NewCorrection {
        employee_id: EmployeeId::parse(&body.employee_id)
            .unwrap_or_else(|| EmployeeId::from_db(body.employee_id.clone())),
        action,
        punch_id: body.punch_id.map(|p| PunchId::parse(&p).unwrap_or_else(|| PunchId::from_db(p))),
        kind: body.kind,
        at: body.at.map(|t| t.with_timezone(&Utc)),
        reason: body.reason,
    };
    Ok((StatusCode::CREATED, Json(s.service.request_correction(&ctx, input).await?)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct CorrectionQuery {
    employee_id: Option<String>,
    /// `pending`, `approved` or `rejected`.
    status: Option<String>,
}

#[utoipa::path(get, path = "/corrections", tag = "corrections", params(CorrectionQuery), responses((status = 200, body = Object)))]
async fn list_corrections(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<CorrectionQuery>,
) -> Result<Json<crate::dto::List<Correction>>, ApiError> {
    let employee = match q.employee_id.as_deref() {
        Some(text) => Some(path_id(text, EmployeeId::parse, "employee")?),
        None => None,
    };
    let status = match q.status.as_deref() {
        Some(text) => Some(CorrectionStatus::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!("'{text}' is not a correction status: pending, approved or rejected"))
        })?),
        None => None,
    };
    let items = s.service.list_corrections(&ctx, employee.as_ref(), status).await?;
    Ok(Json(crate::dto::List { items, next_cursor: None }))
}

/// `approve` writes the correction into the ledger; `reject` closes it.
#[utoipa::path(post, path = "/corrections/{id}/{decision}", tag = "corrections",
    params(("decision" = String, Path, description = "approve or reject")),
    request_body(content = CommentBody, description = "optional"),
    responses((status = 200, body = Object), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn decide_correction(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path((id, decision)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Correction>, ApiError> {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => return Err(ApiError::not_found(format!("no decision '{other}'"))),
    };
    let body: CommentBody = optional_body(&body)?;
    Ok(Json(s.service.decide_correction(&ctx, &id, approve, body.comment).await?))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PayrollQuery {
    /// `YYYY-MM`.
    month: String,
    /// `csv` (default) or `xlsx`.
    format: Option<String>,
    /// `employees` (default): one row per employee; `days`: one row per employee and day.
    detail: Option<String>,
}

/// The payroll file of a month for every active employee (admin and HR).
#[utoipa::path(get, path = "/exports/payroll", tag = "timesheets", params(PayrollQuery),
    responses((status = 200, description = "CSV or XLSX file"), (status = 403, body = Problem)))]
async fn payroll_export(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<PayrollQuery>,
) -> Result<Response, ApiError> {
    let month = month_of(&q.month)?;
    let format = match q.format.as_deref().unwrap_or("csv") {
        "csv" => ExportFormat::Csv,
        "xlsx" => ExportFormat::Xlsx,
        other => return Err(ApiError::bad_request(format!("unknown format '{other}'; use csv or xlsx"))),
    };
    let detail = match q.detail.as_deref().unwrap_or("employees") {
        "employees" => ExportDetail::Employees,
        "days" => ExportDetail::Days,
        other => return Err(ApiError::bad_request(format!("unknown detail '{other}'; use employees or days"))),
    };
    let bytes = s.service.payroll_export(&ctx, month, format, detail).await?;
    let (content_type, extension) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Xlsx => ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    };
    let disposition = format!("attachment; filename=\"payroll-{}.{extension}\"", month.text());
    Ok(([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], bytes)
        .into_response())
}
