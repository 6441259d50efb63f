//! Signing in and out, and setting a password from a link: the pages anyone may reach
//! without a session.

use crate::i18n::{word, Lang};
use crate::pages::CsrfForm;
use crate::{cookie, language, redirect, Viewer, Web, FORM_COOKIE, SESSION_COOKIE};
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Form;
use dakoku_service::sessions::{SignInError, SESSION_HOURS};
use dakoku_service::ServiceError;
use serde::Deserialize;
use serde_json::json;

/// The sign-in form, with a fresh double-submit token (there is no session yet to hold one).
pub async fn login_page(State(web): State<Web>, headers: HeaderMap) -> Response {
    login_form(&web, language(&headers), None, StatusCode::OK)
}

fn login_form(web: &Web, lang: Lang, message: Option<String>, status: StatusCode) -> Response {
    let token = dakoku_service::auth::generate_token();
    let mut response = web.page("login.html", lang, None, status, json!({"form_token": token, "message": message}));
    response.headers_mut().append(SET_COOKIE, web.set_cookie(FORM_COOKIE, &token, 3600));
    response
}

#[derive(Deserialize)]
pub struct SignInForm {
    form_token: String,
    email: String,
    password: String,
}

fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && bool::from(subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()))
}

pub async fn sign_in(State(web): State<Web>, headers: HeaderMap, Form(form): Form<SignInForm>) -> Response {
    let lang = language(&headers);
    if !same(cookie(&headers, FORM_COOKIE).unwrap_or_default(), &form.form_token) {
        return login_form(&web, lang, Some(word(lang, "expired_form").into()), StatusCode::FORBIDDEN);
    }
    match web.service.sign_in(&form.email, &form.password).await {
        Ok(Ok(session)) => {
            let mut response = redirect("/");
            // A new session token every time: whatever cookie came before is replaced.
            let headers = response.headers_mut();
            headers.append(SET_COOKIE, web.set_cookie(SESSION_COOKIE, &session.token, SESSION_HOURS * 3600));
            headers.append(SET_COOKIE, web.set_cookie(FORM_COOKIE, "", 0));
            response
        }
        Ok(Err(SignInError::Invalid)) => {
            login_form(&web, lang, Some(word(lang, "bad_sign_in").into()), StatusCode::UNAUTHORIZED)
        }
        Ok(Err(SignInError::Throttled(until))) => {
            let text = word(lang, "throttled").replace("{until}", &until.format("%H:%M UTC").to_string());
            login_form(&web, lang, Some(text), StatusCode::TOO_MANY_REQUESTS)
        }
        Err(e) => web.error_page(lang, None, &e),
    }
}

pub async fn sign_out(
    State(web): State<Web>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        if let Err(e) = web.service.sign_out(token).await {
            return web.error_page(viewer.lang, Some(&viewer), &e);
        }
    }
    let mut response = redirect("/login");
    response.headers_mut().append(SET_COOKIE, web.set_cookie(SESSION_COOKIE, "", 0));
    response
}

pub async fn password_page(State(web): State<Web>, headers: HeaderMap, Path(token): Path<String>) -> Response {
    password_form(&web, language(&headers), &token, None, StatusCode::OK)
}

fn password_form(web: &Web, lang: Lang, link: &str, message: Option<String>, status: StatusCode) -> Response {
    let token = dakoku_service::auth::generate_token();
    let data = json!({"form_token": token, "link": link, "message": message});
    let mut response = web.page("password.html", lang, None, status, data);
    response.headers_mut().append(SET_COOKIE, web.set_cookie(FORM_COOKIE, &token, 3600));
    response
}

#[derive(Deserialize)]
pub struct PasswordForm {
    form_token: String,
    password: String,
    password_again: String,
}

pub async fn set_password(
    State(web): State<Web>,
    headers: HeaderMap,
    Path(link): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    let lang = language(&headers);
    if !same(cookie(&headers, FORM_COOKIE).unwrap_or_default(), &form.form_token) {
        return password_form(&web, lang, &link, Some(word(lang, "expired_form").into()), StatusCode::FORBIDDEN);
    }
    if form.password != form.password_again {
        return password_form(
            &web,
            lang,
            &link,
            Some(word(lang, "passwords_differ").into()),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match web.service.set_password_with_link(&link, &form.password).await {
        Ok(()) => login_form(&web, lang, Some(word(lang, "password_set").into()), StatusCode::OK),
        Err(ServiceError::NotFound(_)) => web.page(
            "message.html",
            lang,
            None,
            StatusCode::NOT_FOUND,
            json!({"title": word(lang, "error"), "message": word(lang, "bad_link")}),
        ),
        Err(ServiceError::Invalid(_)) => {
            password_form(&web, lang, &link, Some(word(lang, "password_rule").into()), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => web.error_page(lang, None, &e),
    }
}
