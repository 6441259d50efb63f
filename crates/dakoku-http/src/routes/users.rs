//! The caller, accounts and API tokens.

use crate::dto::{CreateToken, CreateUser, IssuedTokenDto, List, MeDto, PageQuery, TokenDto, UserDto};
use crate::extract::{path_id, AppJson, AppQuery, Auth};
use crate::problem::Problem;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dakoku_domain::{DepartmentId, EmployeeId, TokenId, UserId};
use dakoku_service::users::{NewToken, NewUser};
use dakoku_service::PageRequest;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(create_user, list_users))
        .routes(routes!(issue_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(password_link))
}

#[utoipa::path(get, path = "/me", tag = "accounts", responses((status = 200, body = MeDto), (status = 401, body = Problem)))]
async fn me(State(s): State<AppState>, Auth(ctx): Auth) -> Result<Json<MeDto>, ApiError> {
    let org = s.service.organization(&ctx).await?;
    Ok(Json(MeDto {
        user_id: ctx.actor.user_id.to_string(),
        organization_id: org.id.to_string(),
        organization_name: org.name,
        organization_timezone: org.timezone.name().to_owned(),
        role: ctx.actor.role.as_str().to_owned(),
        employee_id: ctx.actor.employee_id.map(|e| e.to_string()),
        managed_department_id: ctx.actor.managed_root.map(|d| d.to_string()),
    }))
}

#[utoipa::path(post, path = "/users", tag = "accounts", request_body = CreateUser,
    responses((status = 201, body = UserDto), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_user(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<CreateUser>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let input = NewUser {
        email: body.email,
        role: body.role,
        employee_id: body.employee_id.map(|e| EmployeeId::parse(&e).unwrap_or_else(|| EmployeeId::from_db(e))),
        manages_department_id: body
            .manages_department_id
            .map(|d| DepartmentId::parse(&d).unwrap_or_else(|| DepartmentId::from_db(d))),
    };
    Ok((StatusCode::CREATED, Json(s.service.create_user(&ctx, input).await?.into())))
}

#[utoipa::path(get, path = "/users", tag = "accounts", params(PageQuery), responses((status = 200, body = List<UserDto>)))]
async fn list_users(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<List<UserDto>>, ApiError> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from(s.service.list_users(&ctx, &page).await?, UserDto::from)))
}

/// Issues a token. The secret is in this answer only; dakoku keeps its hash.
#[utoipa::path(post, path = "/tokens", tag = "accounts", request_body = CreateToken,
    responses((status = 201, body = IssuedTokenDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn issue_token(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<CreateToken>,
) -> Result<(StatusCode, Json<IssuedTokenDto>), ApiError> {
    let user_id = match body.user_id.as_deref() {
        None => None,
        Some(text) => Some(UserId::parse(text).ok_or_else(|| ApiError::not_found(format!("no user with id {text}")))?),
    };
    let issued = s.service.issue_token(&ctx, NewToken { user_id, name: body.name, role: body.role }).await?;
    Ok((StatusCode::CREATED, Json(IssuedTokenDto { token: issued.token, record: issued.record.into() })))
}

#[utoipa::path(get, path = "/tokens", tag = "accounts", params(PageQuery), responses((status = 200, body = List<TokenDto>)))]
async fn list_tokens(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<List<TokenDto>>, ApiError> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from(s.service.list_tokens(&ctx, &page).await?, TokenDto::from)))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "accounts",
    responses((status = 200, body = TokenDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn revoke_token(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<TokenDto>, ApiError> {
    let id = path_id(&id, TokenId::parse, "token")?;
    Ok(Json(s.service.revoke_token(&ctx, &id).await?.into()))
}

/// A single-use link (valid 72 hours) with which the user sets their web password; the
/// answer is the only place it is shown. Admins only.
#[utoipa::path(post, path = "/users/{id}/password-link", tag = "accounts",
    responses((status = 201, body = Object), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn password_link(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let id = path_id(&id, UserId::parse, "user")?;
    let (url, expires_at) = s.service.issue_password_link(&ctx, &id).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "url": url, "expires_at": expires_at }))))
}
