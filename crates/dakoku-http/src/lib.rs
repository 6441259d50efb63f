//! dakoku's HTTP surface: the `/api/v1` REST API with its generated OpenAPI document,
//! problem+json errors, bearer-token auth, request ids, metrics and health probes.

mod contract;
mod dto;
mod extract;
mod health;
mod problem;
mod routes;

pub use problem::ApiError;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use dakoku_service::Service;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub metrics: PrometheusHandle,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "dakoku API", description = "Attendance (勤怠 / 考勤) server: organisations, people, punches."),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The process-wide Prometheus recorder (installed once, shared by every router built).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // A recorder set earlier (by an embedding program) keeps working; ours then stays empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The OpenAPI document and the `/api/v1` router, built from the same handler list so no
/// route can be served without being documented.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, doc) =
        OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api/v1", routes::router()).split_for_parts();
    (router, doc)
}

/// The whole HTTP application; `hooks` are the chat platforms' callback routes, served under
/// the same limits, logs and metrics as the API.
pub fn router(service: Service, max_body_bytes: usize, hooks: Router) -> Router {
    let state = AppState { service, metrics: metrics_handle() };
    let (api, doc) = api();
    let doc = std::sync::Arc::new(contract::complete(doc));
    Router::new()
        .merge(api)
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .merge(health::router())
        .with_state(state)
        .merge(hooks)
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn(move |request, next| refuse_oversized(max_body_bytes, request, next)))
        .layer(middleware::from_fn(record_metrics))
        .layer(CatchPanicLayer::custom(|_| axum::response::IntoResponse::into_response(ApiError::internal())))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("http", method = %request.method(), path = %loggable_path(request.uri().path()), request_id)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The request path as it may be logged: a callback URL's last segment is the integration's
/// secret, so only the platform part of `/hooks/{platform}/{token}` is kept.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/hooks/").and_then(|rest| rest.split_once('/')) {
        Some((platform, _)) => format!("/hooks/{platform}/(token)").into(),
        None => path.into(),
    }
}

/// Refuses a body whose declared length is over the limit before any handler runs, after reading
/// and discarding a bounded amount of it. Closing a connection with unread request bytes makes the
/// kernel send a reset that can destroy the 413 before the client reads it; draining first (as a
/// lingering close would) lets the client see the clear error instead of a broken connection.
async fn refuse_oversized(max_body_bytes: usize, request: Request, next: Next) -> Response {
    use http_body_util::BodyExt;
    const DRAIN_AT_MOST: usize = 16 * 1024 * 1024;
    const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(5);
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let Some(declared) = declared.filter(|&n| n > max_body_bytes) else {
        return next.run(request).await;
    };
    let refusal = ApiError::new(
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is {declared} bytes; at most {max_body_bytes} are accepted"),
    );
    if declared <= DRAIN_AT_MOST {
        let mut body = request.into_body();
        let drain = async { while let Some(Ok(_)) = body.frame().await {} };
        let _ = tokio::time::timeout(DRAIN_FOR, drain).await;
    }
    let mut response = axum::response::IntoResponse::into_response(refusal);
    response.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
    response
}

async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("dakoku_http_requests_total", &labels).increment(1);
    metrics::histogram!("dakoku_http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}
