//! Employees: create, list, read, update, retire.

use crate::dto::{CreateEmployee, EmployeeDto, EmployeeQuery, LinkCodeDto, List, RetireEmployee, UpdateEmployee};
use crate::extract::{path_id, AppJson, AppQuery, Auth};
use crate::problem::Problem;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dakoku_domain::{DepartmentId, EmployeeId, EmployeeStatus};
use dakoku_service::employees::{EmployeePatch, NewEmployee};
use dakoku_service::view::EmployeeFilter as Filter;
use dakoku_service::PageRequest;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get, update))
        .routes(routes!(retire))
        .routes(routes!(link_code))
}

/// A department id from a body: malformed ids name no department, so they fail validation.
pub(crate) fn department_ref(text: &str) -> DepartmentId {
    DepartmentId::parse(text).unwrap_or_else(|| DepartmentId::from_db(text.to_owned()))
}

#[utoipa::path(post, path = "/employees", tag = "employees", request_body = CreateEmployee,
    responses((status = 201, body = EmployeeDto), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<CreateEmployee>,
) -> Result<(StatusCode, Json<EmployeeDto>), ApiError> {
    let input = NewEmployee {
        code: body.code,
        name: body.name,
        email: body.email,
        mobile: body.mobile,
        timezone: body.timezone,
        department_id: body.department_id.as_deref().map(department_ref),
    };
    let employee = s.service.create_employee(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(employee.into())))
}

#[utoipa::path(get, path = "/employees", tag = "employees", params(EmployeeQuery),
    responses((status = 200, body = List<EmployeeDto>)))]
async fn list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<EmployeeQuery>,
) -> Result<Json<List<EmployeeDto>>, ApiError> {
    let status = match q.status.as_deref() {
        None => None,
        Some(text) => {
            Some(EmployeeStatus::parse(text).ok_or_else(|| ApiError::bad_request("status must be active or retired"))?)
        }
    };
    let filter = Filter { status, department_id: q.department_id.as_deref().map(department_ref) };
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    let listed = s.service.list_employees(&ctx, &filter, &page).await?;
    Ok(Json(List::from(listed, EmployeeDto::from)))
}

#[utoipa::path(get, path = "/employees/{id}", tag = "employees",
    responses((status = 200, body = EmployeeDto), (status = 404, body = Problem)))]
async fn get(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<EmployeeDto>, ApiError> {
    let id = path_id(&id, EmployeeId::parse, "employee")?;
    Ok(Json(s.service.employee(&ctx, &id).await?.into()))
}

#[utoipa::path(patch, path = "/employees/{id}", tag = "employees", request_body = UpdateEmployee,
    responses((status = 200, body = EmployeeDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<UpdateEmployee>,
) -> Result<Json<EmployeeDto>, ApiError> {
    let id = path_id(&id, EmployeeId::parse, "employee")?;
    let patch = EmployeePatch {
        code: body.code,
        name: body.name,
        email: body.email,
        mobile: body.mobile,
        timezone: body.timezone,
        department_id: body.department_id.map(|d| d.as_deref().map(department_ref)),
    };
    Ok(Json(s.service.update_employee(&ctx, &id, patch).await?.into()))
}

#[utoipa::path(post, path = "/employees/{id}/retire", tag = "employees", request_body = RetireEmployee,
    responses((status = 200, body = EmployeeDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn retire(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<RetireEmployee>,
) -> Result<Json<EmployeeDto>, ApiError> {
    let id = path_id(&id, EmployeeId::parse, "employee")?;
    Ok(Json(s.service.retire_employee(&ctx, &id, body.on).await?.into()))
}

#[utoipa::path(post, path = "/employees/{id}/link-code", tag = "employees",
    responses((status = 201, body = LinkCodeDto), (status = 403, body = Problem), (status = 404, body = Problem)))]
/// Issues a one-time code the employee sends to a chat bot to link their chat account. The
/// employee's own code lasts 30 minutes; one issued by admin or HR lasts a week.
async fn link_code(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<LinkCodeDto>), ApiError> {
    let id = path_id(&id, EmployeeId::parse, "employee")?;
    let issued = s.service.issue_link_code(&ctx, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(LinkCodeDto {
            employee_id: issued.employee_id.to_string(),
            code: issued.code,
            expires_at: issued.expires_at,
        }),
    ))
}
