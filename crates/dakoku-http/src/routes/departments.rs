//! Departments: the organisation's tree.

use super::employees::department_ref;
use crate::dto::{CreateDepartment, DepartmentDto, List, PageQuery, UpdateDepartment};
use crate::extract::{path_id, AppJson, AppQuery, Auth};
use crate::problem::Problem;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dakoku_domain::DepartmentId;
use dakoku_service::departments::{DepartmentPatch, NewDepartment};
use dakoku_service::PageRequest;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(get, update, delete))
}

#[utoipa::path(post, path = "/departments", tag = "departments", request_body = CreateDepartment,
    responses((status = 201, body = DepartmentDto), (status = 422, body = Problem)))]
async fn create(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<CreateDepartment>,
) -> Result<(StatusCode, Json<DepartmentDto>), ApiError> {
    let input =
        NewDepartment { name: body.name, code: body.code, parent_id: body.parent_id.as_deref().map(department_ref) };
    Ok((StatusCode::CREATED, Json(s.service.create_department(&ctx, input).await?.into())))
}

#[utoipa::path(get, path = "/departments", tag = "departments", params(PageQuery),
    responses((status = 200, body = List<DepartmentDto>)))]
async fn list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<List<DepartmentDto>>, ApiError> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from(s.service.list_departments(&ctx, &page).await?, DepartmentDto::from)))
}

#[utoipa::path(get, path = "/departments/{id}", tag = "departments",
    responses((status = 200, body = DepartmentDto), (status = 404, body = Problem)))]
async fn get(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<DepartmentDto>, ApiError> {
    let id = path_id(&id, DepartmentId::parse, "department")?;
    Ok(Json(s.service.department(&ctx, &id).await?.into()))
}

#[utoipa::path(patch, path = "/departments/{id}", tag = "departments", request_body = UpdateDepartment,
    responses((status = 200, body = DepartmentDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<UpdateDepartment>,
) -> Result<Json<DepartmentDto>, ApiError> {
    let id = path_id(&id, DepartmentId::parse, "department")?;
    let patch = DepartmentPatch {
        name: body.name,
        code: body.code,
        parent_id: body.parent_id.map(|p| p.as_deref().map(department_ref)),
    };
    Ok(Json(s.service.update_department(&ctx, &id, patch).await?.into()))
}

#[utoipa::path(delete, path = "/departments/{id}", tag = "departments",
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, DepartmentId::parse, "department")?;
    s.service.delete_department(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
