//! The punch ledger over HTTP: record (idempotently) and list.

use crate::dto::{CreatePunch, List, PunchDto, PunchQuery};
use crate::extract::{path_id, AppJson, AppQuery, Auth};
use crate::problem::Problem;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use dakoku_domain::{EmployeeId, PunchId, PunchSource};
use dakoku_service::punches::{Idempotency, NewPunch, Recorded};
use dakoku_service::view::PunchFilter as Filter;
use dakoku_service::PageRequest;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(get))
}

fn render(punch: &dakoku_domain::Punch) -> String {
    serde_json::to_string(&PunchDto::from(punch.clone())).unwrap_or_default()
}

/// Records a punch. With an `Idempotency-Key` header, a retry of the same request returns the
/// first answer (marked `Idempotent-Replayed: true`) and stores nothing new; the same key with
/// another body is refused with 422.
#[utoipa::path(post, path = "/punches", tag = "punches", request_body = CreatePunch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe")),
    responses((status = 201, body = PunchDto), (status = 422, body = Problem)))]
async fn create(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    headers: HeaderMap,
    AppJson(body): AppJson<CreatePunch>,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            Some(v.to_str().map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?.to_owned())
        }
    };
    let canonical = serde_json::to_vec(&body).unwrap_or_default();
    let request_hash = dakoku_service::auth::hash_token(&String::from_utf8_lossy(&canonical));
    let input = NewPunch {
        employee_id: EmployeeId::parse(&body.employee_id)
            .unwrap_or_else(|| EmployeeId::from_db(body.employee_id.clone())),
        kind: body.kind,
        at: body.at.map(|at| at.with_timezone(&Utc)),
        note: body.note,
        location: body.location,
        source: PunchSource::Api,
        integration_id: None,
        external_event_id: None,
    };
    let idempotency = key.as_deref().map(|key| Idempotency { key, request_hash, render: &render });
    match s.service.record_punch(&ctx, input, idempotency).await? {
        Recorded::Created(punch) | Recorded::AlreadyStored(punch) => {
            Ok((StatusCode::CREATED, Json(PunchDto::from(punch))).into_response())
        }
        Recorded::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(response)
        }
    }
}

#[utoipa::path(get, path = "/punches", tag = "punches", params(PunchQuery),
    responses((status = 200, body = List<PunchDto>), (status = 404, body = Problem)))]
async fn list(
    State(s): State<AppState>,
    Auth(ctx): Auth,
    AppQuery(q): AppQuery<PunchQuery>,
) -> Result<Json<List<PunchDto>>, ApiError> {
    let employee_id = match q.employee_id.as_deref() {
        None => None,
        Some(text) => Some(path_id(text, EmployeeId::parse, "employee")?),
    };
    let filter =
        Filter { employee_id, from: q.from.map(|t| t.with_timezone(&Utc)), to: q.to.map(|t| t.with_timezone(&Utc)) };
    let page = PageRequest::parse(q.cursor.as_deref(), q.limit)?;
    Ok(Json(List::from(s.service.list_punches(&ctx, &filter, &page).await?, PunchDto::from)))
}

#[utoipa::path(get, path = "/punches/{id}", tag = "punches",
    responses((status = 200, body = PunchDto), (status = 404, body = Problem)))]
async fn get(State(s): State<AppState>, Auth(ctx): Auth, Path(id): Path<String>) -> Result<Json<PunchDto>, ApiError> {
    let id = path_id(&id, PunchId::parse, "punch")?;
    Ok(Json(s.service.punch(&ctx, &id).await?.into()))
}
