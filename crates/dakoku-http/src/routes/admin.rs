//! Administration: integrations and their user links, outgoing webhooks, the audit log and
//! the background job queue.

use crate::dto::{
    AuditDto, AuditQuery, ConnectionReportDto, CreateIntegration, CreateLink, CreateWebhook, IntegrationDto, JobDto,
    LinkDto, List, OrgSync, PageQuery, PullPunches, UpdateIntegration, WebhookDto,
};
use crate::extract::{path_id, AppJson, AppQuery, Auth};
use crate::problem::Problem;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use dakoku_domain::{EmployeeId, IntegrationId, JobId, WebhookId};
use dakoku_service::view::{AuditFilter, JobStatus};
use dakoku_service::PageRequest;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_integration, list_integrations))
        .routes(routes!(get_integration, update_integration))
        .routes(routes!(test_integration))
        .routes(routes!(pull_punches))
        .routes(routes!(org_sync, last_org_sync))
        .routes(routes!(list_platform_calls))
        .routes(routes!(create_link, list_links))
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(disable_webhook))
        .routes(routes!(list_audit))
        .routes(routes!(list_jobs))
        .routes(routes!(retry_job))
}

/// Registers a chat platform. Secret settings are stored encrypted and never echoed back.
#[utoipa::path(post, path = "/integrations", tag = "integrations", request_body = CreateIntegration,
    responses((status = 201, body = IntegrationDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_integration(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<CreateIntegration>,
) -> Result<(StatusCode, Json<IntegrationDto>), ApiError> {
    let view = s.service.create_integration(&ctx, body.platform, &body.name, body.settings).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

#[utoipa::path(get, path = "/integrations", tag = "integrations", params(PageQuery), responses((status = 200, body = List<IntegrationDto>)))]
async fn list_integrations(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<List<IntegrationDto>>, ApiError> {
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from(s.service.list_integrations(&ctx, &page).await?, IntegrationDto::from)))
}

#[utoipa::path(get, path = "/integrations/{id}", tag = "integrations",
    responses((status = 200, body = IntegrationDto), (status = 404, body = Problem)))]
async fn get_integration(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<IntegrationDto>, ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    Ok(Json(s.service.integration(&ctx, &id).await?.into()))
}

/// Changes the name or settings (merged; `null` removes a setting). The platform is brought in
/// line afterwards by a job (on LINE WORKS: the rich menu is made or removed).
#[utoipa::path(patch, path = "/integrations/{id}", tag = "integrations", request_body = UpdateIntegration,
    responses((status = 200, body = IntegrationDto), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_integration(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<UpdateIntegration>,
) -> Result<Json<IntegrationDto>, ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    Ok(Json(s.service.update_integration(&ctx, &id, body.name.as_deref(), body.settings).await?.into()))
}

/// Tries the integration's credentials against its platform and reports, step by step, which
/// one fails and what to do about it.
#[utoipa::path(post, path = "/integrations/{id}/test", tag = "integrations",
    responses((status = 200, body = ConnectionReportDto), (status = 404, body = Problem)))]
async fn test_integration(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<ConnectionReportDto>, ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    Ok(Json(s.service.test_integration(&ctx, &id).await?.into()))
}

/// Queues a pull of the platform's own punch records (WeCom 打卡) for a time range; the job's
/// id is returned and its outcome is in `GET /api/v1/jobs`.
#[utoipa::path(post, path = "/integrations/{id}/pull", tag = "integrations", request_body = PullPunches,
    responses((status = 202, body = Object), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn pull_punches(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<PullPunches>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    let job = s.service.request_pull(&ctx, &id, body.from.into(), body.to.into()).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "job_id": job }))))
}

/// Org sync with the platform's directory. A dry run answers 200 with the plan (changes,
/// conflicts) and changes nothing; otherwise the sync is queued (202) and its report is kept.
#[utoipa::path(post, path = "/integrations/{id}/org-sync", tag = "integrations", request_body = OrgSync,
    responses((status = 200, body = Object), (status = 202, body = Object), (status = 404, body = Problem),
        (status = 422, body = Problem), (status = 502, body = Problem)))]
async fn org_sync(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<OrgSync>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    if body.dry_run {
        let report = s.service.preview_org_sync(&ctx, &id, body.direction).await?;
        return Ok((StatusCode::OK, Json(serde_json::to_value(report).unwrap_or_default())));
    }
    let job = s.service.request_org_sync(&ctx, &id, body.direction).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "job_id": job }))))
}

/// The report of the last org sync that ran: what it changed, what failed, the conflicts.
#[utoipa::path(get, path = "/integrations/{id}/org-sync", tag = "integrations",
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn last_org_sync(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    let report = s.service.last_org_sync(&ctx, &id).await?;
    let report = report.ok_or_else(|| ApiError::not_found("no org sync has run for this integration yet"))?;
    Ok(Json(serde_json::to_value(report).unwrap_or_default()))
}

/// The operation log: every call dakoku made to the platform for this integration (token
/// requests, messages, pulls), newest first, kept 30 days.
#[utoipa::path(get, path = "/integrations/{id}/calls", tag = "integrations", params(PageQuery),
    responses((status = 200, body = Object), (status = 404, body = Problem)))]
async fn list_platform_calls(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    let listed = s.service.platform_calls(&ctx, &id, &page).await?;
    Ok(Json(serde_json::json!({ "items": listed.items, "next_cursor": listed.next_cursor })))
}

/// Links a platform user to an employee, so their messages punch for that employee.
#[utoipa::path(post, path = "/integrations/{id}/links", tag = "integrations", request_body = CreateLink,
    responses((status = 201, body = LinkDto), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn create_link(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
    AppJson(body): AppJson<CreateLink>,
) -> Result<(StatusCode, Json<LinkDto>), ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    let employee =
        EmployeeId::parse(&body.employee_id).unwrap_or_else(|| EmployeeId::from_db(body.employee_id.clone()));
    let link = s.service.link_employee(&ctx, &id, &employee, &body.external_user_id).await?;
    Ok((StatusCode::CREATED, Json(link.into())))
}

#[utoipa::path(get, path = "/integrations/{id}/links", tag = "integrations",
    responses((status = 200, body = List<LinkDto>), (status = 404, body = Problem)))]
async fn list_links(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<Json<List<LinkDto>>, ApiError> {
    let id = path_id(&id, IntegrationId::parse, "integration")?;
    Ok(Json(List::from(s.service.list_links(&ctx, &id).await?, LinkDto::from)))
}

/// Subscribes a URL to events. The signing secret is in this answer only.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = WebhookDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_webhook(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppJson(body): AppJson<CreateWebhook>,
) -> Result<(StatusCode, Json<WebhookDto>), ApiError> {
    let (view, secret) = s.service.create_webhook(&ctx, &body.url, &body.events).await?;
    Ok((StatusCode::CREATED, Json(WebhookDto { secret: Some(secret), ..view.into() })))
}

#[utoipa::path(get, path = "/webhooks", tag = "webhooks", responses((status = 200, body = List<WebhookDto>)))]
async fn list_webhooks(State(s): State<AppState>, Auth(ctx): Auth) -> Result<Json<List<WebhookDto>>, ApiError> {
    Ok(Json(List::from(s.service.list_webhooks(&ctx).await?, WebhookDto::from)))
}

#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks",
    responses((status = 204), (status = 404, body = Problem)))]
async fn disable_webhook(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, WebhookId::parse, "webhook")?;
    s.service.disable_webhook(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The audit trail, newest first (admins only).
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = List<AuditDto>)))]
async fn list_audit(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<AuditQuery>,
) -> Result<Json<List<AuditDto>>, ApiError> {
    let filter = AuditFilter { object_type: q.object_type, object_id: q.object_id, action: q.action };
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from(s.service.list_audit(&ctx, &filter, &page).await?, AuditDto::from)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct JobQuery {
    /// `queued`, `running`, `done` or `dead` (default).
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<i64>,
}

#[utoipa::path(get, path = "/jobs", tag = "jobs", params(JobQuery), responses((status = 200, body = List<JobDto>)))]
async fn list_jobs(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<JobQuery>,
) -> Result<Json<List<JobDto>>, ApiError> {
    let status = match q.status.as_deref().unwrap_or("dead") {
        "queued" => JobStatus::Queued,
        "running" => JobStatus::Running,
        "done" => JobStatus::Done,
        "dead" => JobStatus::Dead,
        other => return Err(ApiError::bad_request(format!("unknown job status '{other}'"))),
    };
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from(s.service.list_jobs(&ctx, status, &page).await?, JobDto::from)))
}

/// Puts a dead job back in the queue.
#[utoipa::path(post, path = "/jobs/{id}/retry", tag = "jobs", responses((status = 202), (status = 404, body = Problem)))]
async fn retry_job(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, JobId::parse, "job")?;
    s.service.retry_job(&ctx, &id).await?;
    Ok(StatusCode::ACCEPTED)
}
