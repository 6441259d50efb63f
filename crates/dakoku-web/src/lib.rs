//! The web app inside the `dakoku` binary: server-rendered pages (minijinja templates compiled
//! in, autoescaped) for employees (punch, timesheet, corrections, submitting the month),
//! managers (their team today, approvals with send-back) and HR (payroll export), in Japanese,
//! Chinese and English. Forms work without JavaScript.
//!
//! Sessions live in the database (see `dakoku_service::sessions`); the cookie is HttpOnly,
//! SameSite=Lax, and Secure when dakoku is served over HTTPS. Every POST carries the session's
//! form token (`csrf`), checked in constant time; the sign-in form, before any session, uses a
//! double-submit token in its own cookie. Authorization is the service's, as for the API.

mod account;
mod admin;
mod i18n;
mod pages;

pub use i18n::Lang;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::header::{ACCEPT_LANGUAGE, CACHE_CONTROL, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use dakoku_service::sessions::WebSession;
use dakoku_service::{Ctx, Service, ServiceError};
use minijinja::Environment;
use serde_json::{json, Value};
use std::sync::Arc;
use subtle::ConstantTimeEq;

const SESSION_COOKIE: &str = "dakoku_session";
const FORM_COOKIE: &str = "dakoku_form";
const LANG_COOKIE: &str = "dakoku_lang";

#[derive(Clone)]
pub struct Web {
    service: Service,
    templates: Arc<Environment<'static>>,
    secure: bool,
}

fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("layout.html", include_str!("../templates/layout.html")),
        ("login.html", include_str!("../templates/login.html")),
        ("password.html", include_str!("../templates/password.html")),
        ("message.html", include_str!("../templates/message.html")),
        ("punch.html", include_str!("../templates/punch.html")),
        ("timesheet.html", include_str!("../templates/timesheet.html")),
        ("corrections.html", include_str!("../templates/corrections.html")),
        ("team.html", include_str!("../templates/team.html")),
        ("approvals.html", include_str!("../templates/approvals.html")),
        ("exports.html", include_str!("../templates/exports.html")),
        ("chart.html", include_str!("../templates/chart.html")),
        ("employees.html", include_str!("../templates/employees.html")),
        ("departments.html", include_str!("../templates/departments.html")),
        ("close.html", include_str!("../templates/close.html")),
        ("rules.html", include_str!("../templates/rules.html")),
        ("integrations.html", include_str!("../templates/integrations.html")),
        ("audit.html", include_str!("../templates/audit.html")),
    ] {
        env.add_template(name, source).expect("the built-in templates parse");
    }
    env
}

/// The web app's routes.
pub fn router(service: Service) -> Router {
    let secure = service.public_url.starts_with("https://");
    let state = Web { service, templates: Arc::new(templates()), secure };
    Router::new()
        .route("/", get(pages::punch_page))
        .route("/punch", post(pages::punch))
        .route("/link-code", post(pages::link_code))
        .route("/login", get(account::login_page).post(account::sign_in))
        .route("/logout", post(account::sign_out))
        .route("/password/{token}", get(account::password_page).post(account::set_password))
        .route("/timesheet", get(pages::timesheet))
        .route("/timesheet/{month}/submit", post(pages::submit_month))
        .route("/corrections", get(pages::corrections).post(pages::request_correction))
        .route("/team", get(pages::team))
        .route("/approvals", get(pages::approvals))
        .route("/approvals/corrections/{id}/{decision}", post(pages::decide_correction))
        .route("/approvals/months/{employee}/{month}/{action}", post(pages::decide_month))
        .route("/exports", get(pages::exports))
        .route("/exports/payroll", get(pages::download_payroll))
        .route("/admin/employees", get(admin::employees).post(admin::create_employee))
        .route("/admin/employees/import", post(admin::import_employees))
        .route("/admin/departments", get(admin::departments).post(admin::create_department))
        .route("/admin/close", get(admin::close))
        .route("/admin/rules", get(admin::rules).post(admin::save_rule))
        .route("/admin/calendar", post(admin::set_calendar_day))
        .route("/admin/integrations", get(admin::integrations).post(admin::create_integration))
        .route("/admin/integrations/{id}/test", post(admin::test_integration))
        .route("/admin/audit", get(admin::audit))
        .route("/lang/{code}", get(set_language))
        .route("/static/app.css", get(stylesheet))
        .with_state(state)
}

async fn stylesheet() -> Response {
    let mut response = include_str!("../static/app.css").into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// A cookie of the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
}

impl Web {
    /// A `Set-Cookie` value: HttpOnly and SameSite=Lax always, Secure over HTTPS.
    fn set_cookie(&self, name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}");
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("dakoku_invalid=1"))
    }
}

/// The language of a request: its cookie, else the browser's, else English.
fn language(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(Lang::from_accept))
        .unwrap_or(Lang::En)
}

async fn set_language(
    State(web): State<Web>,
    Path(code): Path<String>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let lang = Lang::parse(&code).unwrap_or(Lang::En);
    // Only a path on this site: never a redirect elsewhere.
    let back = query.get("back").filter(|b| is_same_site_path(b)).cloned().unwrap_or("/".into());
    let mut response = redirect(&back);
    response.headers_mut().append(SET_COOKIE, web.set_cookie(LANG_COOKIE, lang.code(), 365 * 86_400));
    response
}

fn redirect(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(LOCATION, HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")));
    response
}

/// A signed-in visitor: who they are, in which language, and the service context.
pub struct Viewer {
    pub session: WebSession,
    pub lang: Lang,
    pub path: String,
}

impl Viewer {
    pub fn ctx(&self) -> Ctx {
        Ctx::user(self.session.actor.clone(), None)
    }

    /// Whether a form's token is this session's.
    pub fn form_ok(&self, token: &str) -> bool {
        bool::from(self.session.csrf_token.as_bytes().ct_eq(token.as_bytes()))
    }

    fn role(&self) -> &'static str {
        self.session.actor.role.as_str()
    }
}

impl FromRequestParts<Web> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Self::Rejection> {
        let lang = language(&parts.headers);
        let token = cookie(&parts.headers, SESSION_COOKIE).unwrap_or_default().to_owned();
        let session = if token.is_empty() {
            None
        } else {
            web.service.web_session(&token).await.map_err(|e| web.error_page(lang, None, &e))?
        };
        match session {
            Some(session) => Ok(Viewer { session, lang, path: parts.uri.path().to_owned() }),
            None => Err(redirect("/login")),
        }
    }
}

impl Web {
    /// A page: the template with the words of the language, the visitor and the navigation.
    fn page(&self, template: &str, lang: Lang, viewer: Option<&Viewer>, status: StatusCode, data: Value) -> Response {
        let mut context = json!({
            "t": i18n::table(lang),
            "lang": lang.code(),
            "html_lang": lang.html_tag(),
            "languages": Lang::ALL.iter().map(|l| l.code()).collect::<Vec<_>>(),
        });
        if let Some(viewer) = viewer {
            let role = viewer.role();
            context["viewer"] = json!({
                "email": viewer.session.user.email,
                "role": role,
                "csrf": viewer.session.csrf_token,
                "path": viewer.path,
                "leads": matches!(role, "admin" | "hr" | "manager"),
                "hr": matches!(role, "admin" | "hr"),
                "admin": role == "admin",
                "punches": viewer.session.actor.employee_id.is_some(),
            });
        }
        if let (Some(target), Value::Object(extra)) = (context.as_object_mut(), data) {
            target.extend(extra);
        }
        let rendered = self.templates.get_template(template).and_then(|t| t.render(&context));
        match rendered {
            Ok(html) => {
                let mut response = (status, axum::response::Html(html)).into_response();
                let headers = response.headers_mut();
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
                headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
                headers.insert(
                    "content-security-policy",
                    HeaderValue::from_static("default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"),
                );
                headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
                response
            }
            Err(e) => {
                tracing::error!(error = %e, template, "page did not render");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }

    /// A page that says what went wrong, with the status that fits.
    fn error_page(&self, lang: Lang, viewer: Option<&Viewer>, error: &ServiceError) -> Response {
        let (status, text) = match error {
            ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, i18n::word(lang, "forbidden").to_owned()),
            ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, i18n::word(lang, "not_found").to_owned()),
            ServiceError::Invalid(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                errors.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join(" / "),
            ),
            ServiceError::Conflict(m) | ServiceError::Unprocessable(m) | ServiceError::BadRequest(m) => {
                (StatusCode::UNPROCESSABLE_ENTITY, m.clone())
            }
            ServiceError::Unauthenticated => return redirect("/login"),
            other => {
                tracing::error!(error = %other, "web request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, i18n::word(lang, "error").to_owned())
            }
        };
        self.page("message.html", lang, viewer, status, json!({"title": i18n::word(lang, "error"), "message": text}))
    }

    /// The answer to a form whose token does not match: nothing was done.
    fn stale_form(&self, viewer: &Viewer) -> Response {
        let message = i18n::word(viewer.lang, "expired_form");
        self.page(
            "message.html",
            viewer.lang,
            Some(viewer),
            StatusCode::FORBIDDEN,
            json!({"title": i18n::word(viewer.lang, "error"), "message": message}),
        )
    }
}

/// A path on this site and nothing else: one leading `/`, not followed by `/` or `\\` (which
/// browsers read as another host), and no control character anywhere (browsers drop tabs and
/// newlines, so `/\t/evil.example` becomes `//evil.example`).
fn is_same_site_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

#[cfg(test)]
mod tests {
    use super::is_same_site_path;

    /// Finding 6 of the hardening review: `back` led off the site.
    #[test]
    fn language_switch_returns_only_to_same_site_paths() {
        for good in ["/", "/timesheet?month=2026-11", "/admin/employees"] {
            assert!(is_same_site_path(good), "{good}");
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example/",
            "/\t/evil.example",
            "/\n/evil.example",
            "https://evil.example",
            "",
            "evil",
            "/a\\b",
        ] {
            assert!(!is_same_site_path(bad), "{bad:?}");
        }
    }
}
