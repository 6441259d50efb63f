//! HR and admin pages: employees (with CSV import), departments, the month close overview
//! with its chart and 36協定 alerts, work rules and the calendar, integrations, the audit log.
//! Every action goes through the same use cases as the API, which check the role.

use crate::i18n::word;
use crate::pages::Done;
use crate::{redirect, Viewer, Web};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Form;
use chrono::{Duration, NaiveDate};
use dakoku_domain::{DepartmentId, IntegrationId, Platform};
use dakoku_rules::{CalendarEntry, CalendarKind};
use dakoku_service::departments::NewDepartment;
use dakoku_service::employees::NewEmployee;
use dakoku_service::timesheets::{RuleScope, YearMonth};
use dakoku_service::view::EmployeeFilter;
use dakoku_service::{PageRequest, ServiceError};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The legal line of monthly overtime under a standard 36協定, in minutes.
const LINE_45H: i64 = 45 * 60;

fn require_people(web: &Web, viewer: &Viewer) -> Option<Response> {
    (!viewer.session.actor.manages_people())
        .then(|| web.error_page(viewer.lang, Some(viewer), &ServiceError::Forbidden(String::new())))
}

fn require_admin(web: &Web, viewer: &Viewer) -> Option<Response> {
    (!viewer.session.actor.is_admin())
        .then(|| web.error_page(viewer.lang, Some(viewer), &ServiceError::Forbidden(String::new())))
}

async fn department_names(web: &Web, viewer: &Viewer) -> Result<Vec<(String, String)>, Response> {
    match web.service.list_departments(&viewer.ctx(), &PageRequest::first(500)).await {
        Ok(list) => Ok(list.items.into_iter().map(|d| (d.id.to_string(), d.name)).collect()),
        Err(e) => Err(web.error_page(viewer.lang, Some(viewer), &e)),
    }
}

pub async fn employees(State(web): State<Web>, viewer: Viewer, Query(done): Query<Done>) -> Response {
    employees_page(&web, &viewer, done.done.as_deref() == Some("created"), None, StatusCode::OK).await
}

async fn employees_page(
    web: &Web,
    viewer: &Viewer,
    created: bool,
    report: Option<Value>,
    status: StatusCode,
) -> Response {
    if let Some(refused) = require_people(web, viewer) {
        return refused;
    }
    let departments = match department_names(web, viewer).await {
        Ok(d) => d,
        Err(page) => return page,
    };
    let names: HashMap<&str, &str> = departments.iter().map(|(id, name)| (id.as_str(), name.as_str())).collect();
    let filter = EmployeeFilter::default();
    let people = match web.service.list_employees(&viewer.ctx(), &filter, &PageRequest::first(500)).await {
        Ok(list) => list.items,
        Err(e) => return web.error_page(viewer.lang, Some(viewer), &e),
    };
    let rows: Vec<Value> = people
        .iter()
        .map(|e| {
            json!({
                "code": e.code, "name": e.name, "email": e.email, "mobile": e.mobile,
                "department": e.department_id.as_ref().and_then(|d| names.get(d.as_str()).copied()).unwrap_or_default(),
                "status": e.status.as_str(), "id": e.id.to_string(),
            })
        })
        .collect();
    let flash = created.then(|| word(viewer.lang, "saved"));
    let departments: Vec<Value> = departments.iter().map(|(id, name)| json!({"id": id, "name": name})).collect();
    web.page(
        "employees.html",
        viewer.lang,
        Some(viewer),
        status,
        json!({"people": rows, "departments": departments, "flash": flash, "report": report}),
    )
}

#[derive(Deserialize)]
pub struct EmployeeForm {
    csrf: String,
    code: String,
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    department_id: String,
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

pub async fn create_employee(State(web): State<Web>, viewer: Viewer, Form(form): Form<EmployeeForm>) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let input = NewEmployee {
        code: form.code,
        name: form.name,
        email: optional(&form.email),
        mobile: optional(&form.mobile),
        timezone: None,
        department_id: optional(&form.department_id).map(DepartmentId::from_db),
    };
    match web.service.create_employee(&viewer.ctx(), input).await {
        Ok(_) => redirect("/admin/employees?done=created"),
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

/// A CSV upload: every row is checked first; with "skip invalid" the good rows are imported,
/// otherwise nothing is unless all are good. The page lists each rejected row and why.
pub async fn import_employees(State(web): State<Web>, viewer: Viewer, mut form: Multipart) -> Response {
    let mut csrf = String::new();
    let mut file = Vec::new();
    let mut skip_invalid = false;
    while let Ok(Some(field)) = form.next_field().await {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.unwrap_or_default(),
            "skip_invalid" => skip_invalid = true,
            "file" => file = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default(),
            _ => {}
        }
    }
    if !viewer.form_ok(&csrf) {
        return web.stale_form(&viewer);
    }
    let rows = match dakoku_service::csv_rows::employee_rows(file.as_slice()) {
        Ok(rows) => rows,
        Err(why) => {
            let report = json!({"imported": 0, "rejected": [{"line": 1, "why": why}]});
            return employees_page(&web, &viewer, false, Some(report), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match web.service.import_employees(&viewer.ctx(), &rows, skip_invalid, &|_| {}).await {
        Ok(report) => {
            let rejected: Vec<Value> =
                report.rejected.iter().map(|(line, why)| json!({"line": line, "why": why})).collect();
            let status = if rejected.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
            let report = json!({"imported": report.imported, "rejected": rejected});
            employees_page(&web, &viewer, false, Some(report), status).await
        }
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

pub async fn departments(State(web): State<Web>, viewer: Viewer) -> Response {
    if let Some(refused) = require_people(&web, &viewer) {
        return refused;
    }
    let list = match web.service.list_departments(&viewer.ctx(), &PageRequest::first(500)).await {
        Ok(list) => list.items,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let names: HashMap<String, String> = list.iter().map(|d| (d.id.to_string(), d.name.clone())).collect();
    let rows: Vec<Value> = list
        .iter()
        .map(|d| json!({"id": d.id.to_string(), "name": d.name, "code": d.code,
                        "parent": d.parent_id.as_ref().and_then(|p| names.get(p.as_str())).cloned().unwrap_or_default()}))
        .collect();
    web.page("departments.html", viewer.lang, Some(&viewer), StatusCode::OK, json!({"departments": rows}))
}

#[derive(Deserialize)]
pub struct DepartmentForm {
    csrf: String,
    name: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    parent_id: String,
}

pub async fn create_department(State(web): State<Web>, viewer: Viewer, Form(form): Form<DepartmentForm>) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let input = NewDepartment {
        name: form.name,
        code: optional(&form.code),
        parent_id: optional(&form.parent_id).map(DepartmentId::from_db),
    };
    match web.service.create_department(&viewer.ctx(), input).await {
        Ok(_) => redirect("/admin/departments"),
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    month: Option<String>,
}

/// Bars of overtime against the 45-hour line, as an SVG the page draws inline.
fn overtime_chart(bars: &[(String, i64)], line_minutes: i64, label: &str) -> Value {
    let max = bars.iter().map(|(_, m)| *m).max().unwrap_or(0).max(line_minutes + line_minutes / 5).max(1);
    let width = 600.0;
    let row = 26.0;
    let label_width = 160.0;
    let scale = |m: i64| (m as f64 / max as f64) * (width - label_width - 60.0);
    let rows: Vec<Value> = bars
        .iter()
        .enumerate()
        .map(|(i, (name, minutes))| json!({
            "y": i as f64 * row + 10.0, "name": name, "w": scale(*minutes), "hours": format!("{}:{:02}", minutes / 60, minutes % 60),
            "over": *minutes > line_minutes,
        }))
        .collect();
    json!({"rows": rows, "height": bars.len() as f64 * row + 30.0, "line_x": label_width + scale(line_minutes),
           "label_width": label_width, "width": width, "line_label": label})
}

pub async fn close(State(web): State<Web>, viewer: Viewer, Query(query): Query<MonthQuery>) -> Response {
    if let Some(refused) = require_people(&web, &viewer) {
        return refused;
    }
    let org = match web.service.organization(&viewer.ctx()).await {
        Ok(org) => org,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let month = query
        .month
        .as_deref()
        .and_then(YearMonth::parse)
        .unwrap_or_else(|| YearMonth::of(web.service.clock.now().with_timezone(&org.timezone.0).date_naive()));
    let departments: HashMap<String, String> = match department_names(&web, &viewer).await {
        Ok(d) => d.into_iter().collect(),
        Err(page) => return page,
    };
    let mut rows = Vec::new();
    let mut per_person = Vec::new();
    let mut per_department: HashMap<String, (i64, i64)> = HashMap::new();
    let lang = viewer.lang;
    let closed = web
        .service
        .close_month(&viewer.ctx(), month, &mut |closed| {
            let totals = &closed.summary.totals;
            let department = closed.employee.department_id.as_ref().and_then(|d| departments.get(d.as_str())).cloned().unwrap_or_default();
            let alerts: Vec<&str> = closed.summary.alerts.iter().map(|a| word(lang, alert_key(a))).collect();
            rows.push(json!({
                "id": closed.employee.id.to_string(), "code": closed.employee.code, "name": closed.employee.name,
                "department": department, "status": closed.status,
                "worked": crate::pages::hours(totals.worked_minutes), "overtime": crate::pages::hours(totals.overtime_minutes),
                "anomaly_days": totals.anomaly_days, "alerts": alerts,
            }));
            per_person.push((closed.employee.name.clone(), totals.overtime_minutes));
            let entry = per_department.entry(department).or_default();
            entry.0 += totals.overtime_minutes;
            entry.1 += 1;
            Ok(())
        })
        .await;
    if let Err(e) = closed {
        return web.error_page(viewer.lang, Some(&viewer), &e);
    }
    per_person.sort_by_key(|p| std::cmp::Reverse(p.1));
    per_person.truncate(30);
    let mut departments_chart: Vec<(String, i64)> = per_department
        .into_iter()
        .map(|(name, (sum, people))| (if name.is_empty() { "—".to_owned() } else { name }, sum / people.max(1)))
        .collect();
    departments_chart.sort_by_key(|d| std::cmp::Reverse(d.1));
    let line = word(lang, "line_45h");
    web.page(
        "close.html",
        viewer.lang,
        Some(&viewer),
        StatusCode::OK,
        json!({"month": month.text(), "previous": month.previous().text(), "next": month.next().text(), "rows": rows,
               "people_chart": overtime_chart(&per_person, LINE_45H, line),
               "departments_chart": overtime_chart(&departments_chart, LINE_45H, line)}),
    )
}

fn alert_key(alert: &dakoku_rules::Alert) -> &'static str {
    match serde_json::to_value(alert).ok().and_then(|v| v.as_str().map(str::to_owned)).as_deref() {
        Some("over_45h_month") => "alert_45h",
        Some("over_100h_month_with_holiday") => "alert_100h",
        Some("over_80h_average") => "alert_80h",
        Some("over_360h_year") => "alert_360h",
        _ => "alert_other",
    }
}

pub async fn rules(State(web): State<Web>, viewer: Viewer, Query(done): Query<Done>) -> Response {
    rules_page(&web, &viewer, done.done.as_deref() == Some("saved"), None, None, StatusCode::OK).await
}

async fn rules_page(
    web: &Web,
    viewer: &Viewer,
    saved: bool,
    draft: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    if let Some(refused) = require_people(web, viewer) {
        return refused;
    }
    let ctx = viewer.ctx();
    let layer = match web.service.rule_override(&ctx, &RuleScope::Organization).await {
        Ok(layer) => layer,
        Err(e) => return web.error_page(viewer.lang, Some(viewer), &e),
    };
    // The calendar around the organisation's today, not UTC's.
    let today = match crate::pages::zone(web, viewer).await {
        Ok(zone) => web.service.clock.now().with_timezone(&zone).date_naive(),
        Err(page) => return page,
    };
    let calendar = match web.service.calendar(&ctx, None, today - Duration::days(31), today + Duration::days(366)).await
    {
        Ok(days) => days,
        Err(e) => return web.error_page(viewer.lang, Some(viewer), &e),
    };
    let days: Vec<Value> = calendar
        .iter()
        .map(|(day, entry)| json!({"date": day.to_string(), "kind": serde_json::to_value(entry.kind).unwrap_or_default(), "name": entry.name}))
        .collect();
    let text = draft.unwrap_or_else(|| serde_json::to_string_pretty(&layer).unwrap_or_default());
    let flash = saved.then(|| word(viewer.lang, "saved"));
    web.page(
        "rules.html",
        viewer.lang,
        Some(viewer),
        status,
        json!({"layer": text, "days": days, "flash": flash, "form_error": error}),
    )
}

#[derive(Deserialize)]
pub struct RuleForm {
    csrf: String,
    layer: String,
}

pub async fn save_rule(State(web): State<Web>, viewer: Viewer, Form(form): Form<RuleForm>) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let layer: Value = match serde_json::from_str(&form.layer) {
        Ok(v) => v,
        Err(e) => {
            return rules_page(
                &web,
                &viewer,
                false,
                Some(form.layer),
                Some(format!("JSON: {e}")),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    match web.service.put_rule_override(&viewer.ctx(), &RuleScope::Organization, layer, None).await {
        Ok(_) => redirect("/admin/rules?done=saved"),
        Err(ServiceError::Invalid(errors)) => {
            let text = errors.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join(" / ");
            rules_page(&web, &viewer, false, Some(form.layer), Some(text), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

#[derive(Deserialize)]
pub struct CalendarForm {
    csrf: String,
    date: String,
    /// `statutory`, `company`, `workday`, `legal_holiday`, or `clear`.
    kind: String,
    #[serde(default)]
    name: String,
}

pub async fn set_calendar_day(State(web): State<Web>, viewer: Viewer, Form(form): Form<CalendarForm>) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let Ok(day) = NaiveDate::parse_from_str(&form.date, "%Y-%m-%d") else {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::invalid("date", "must be a date"));
    };
    let entry = match form.kind.as_str() {
        "clear" => None,
        kind => match serde_json::from_value::<CalendarKind>(json!(kind)) {
            Ok(kind) => Some(CalendarEntry { kind, name: form.name.trim().to_owned() }),
            Err(_) => {
                return web.error_page(viewer.lang, Some(&viewer), &ServiceError::invalid("kind", "unknown kind"))
            }
        },
    };
    match web.service.set_calendar(&viewer.ctx(), None, &[(day, entry)]).await {
        Ok(()) => redirect("/admin/rules?done=saved"),
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

pub async fn integrations(State(web): State<Web>, viewer: Viewer) -> Response {
    integrations_page(&web, &viewer, None, StatusCode::OK).await
}

async fn integrations_page(web: &Web, viewer: &Viewer, result: Option<Value>, status: StatusCode) -> Response {
    if let Some(refused) = require_admin(web, viewer) {
        return refused;
    }
    let ctx = viewer.ctx();
    let list = match web.service.list_integrations(&ctx, &PageRequest::first(100)).await {
        Ok(list) => list.items,
        Err(e) => return web.error_page(viewer.lang, Some(viewer), &e),
    };
    let mut rows = Vec::new();
    for integration in list {
        let calls = match web.service.platform_calls(&ctx, &integration.id, &PageRequest::first(50)).await {
            Ok(calls) => calls.items,
            Err(e) => return web.error_page(viewer.lang, Some(viewer), &e),
        };
        let failures: Vec<Value> = calls
            .iter()
            .filter(|c| !c.ok)
            .take(5)
            .map(|c| json!({"at": c.created_at.format("%Y-%m-%d %H:%M UTC").to_string(), "operation": c.operation, "detail": c.detail}))
            .collect();
        let sync = web.service.last_org_sync(&ctx, &integration.id).await.ok().flatten().map(|r| {
            json!({
                "finished": r.finished_at.format("%Y-%m-%d %H:%M UTC").to_string(), "applied": r.applied,
                "conflicts": r.plan.conflicts.len(), "failed": r.failed.len(),
            })
        });
        rows.push(json!({
            "id": integration.id.to_string(), "platform": integration.platform.as_str(), "name": integration.name,
            "callback_url": integration.callback_url, "last_call": calls.first().map(|c| c.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
            "failures": failures, "sync": sync,
        }));
    }
    let forms = json!([
        {"platform": "lineworks", "title": "LINE WORKS", "fields": [
            ["client_id", "text"], ["client_secret", "password"], ["service_account", "text"], ["private_key", "textarea"],
            ["bot_id", "text"], ["bot_secret", "password"]]},
        {"platform": "wecom", "title": "WeCom 企业微信", "fields": [
            ["corp_id", "text"], ["agent_id", "text"], ["secret", "password"], ["token", "generate"], ["encoding_aes_key", "generate"]]},
        {"platform": "dingtalk", "title": "DingTalk 钉钉", "fields": [
            ["app_key", "text"], ["app_secret", "password"], ["agent_id", "text"], ["token", "generate"], ["aes_key", "generate"]]},
    ]);
    web.page(
        "integrations.html",
        viewer.lang,
        Some(viewer),
        status,
        json!({"integrations": rows, "forms": forms, "result": result}),
    )
}

pub async fn create_integration(
    State(web): State<Web>,
    viewer: Viewer,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !viewer.form_ok(form.get("csrf").map(String::as_str).unwrap_or_default()) {
        return web.stale_form(&viewer);
    }
    let Some(platform) = form.get("platform").and_then(|p| Platform::parse(p)) else {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::invalid("platform", "unknown platform"));
    };
    let settings: Map<String, Value> = form
        .iter()
        .filter(|(k, v)| !matches!(k.as_str(), "csrf" | "platform" | "name") && !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), Value::String(v.trim().to_owned())))
        .collect();
    let name = form.get("name").cloned().unwrap_or_default();
    match web.service.create_integration(&viewer.ctx(), platform, &name, settings).await {
        Ok(view) => {
            // Shown once: the callback URL and any secret dakoku generated.
            let generated: Vec<Value> =
                view.generated.unwrap_or_default().into_iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
            let result = json!({"name": view.name, "callback_url": view.callback_url, "generated": generated});
            integrations_page(&web, &viewer, Some(result), StatusCode::CREATED).await
        }
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

pub async fn test_integration(
    State(web): State<Web>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let Some(id) = IntegrationId::parse(&id) else {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::NotFound("integration".into()));
    };
    match web.service.test_integration(&viewer.ctx(), &id).await {
        Ok(report) => {
            let checks: Vec<Value> =
                report.checks.iter().map(|c| json!({"name": c.name, "ok": c.ok, "detail": c.detail})).collect();
            integrations_page(&web, &viewer, Some(json!({"test": {"ok": report.ok, "checks": checks}})), StatusCode::OK)
                .await
        }
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

pub async fn audit(State(web): State<Web>, viewer: Viewer) -> Response {
    if let Some(refused) = require_admin(&web, &viewer) {
        return refused;
    }
    let filter = dakoku_service::view::AuditFilter::default();
    let entries = match web.service.list_audit(&viewer.ctx(), &filter, &PageRequest::first(200)).await {
        Ok(list) => list.items,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let rows: Vec<Value> = entries
        .iter()
        .map(|a| json!({"at": a.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(), "actor": a.actor, "action": a.action, "object": format!("{} {}", a.object_type, a.object_id)}))
        .collect();
    web.page("audit.html", viewer.lang, Some(&viewer), StatusCode::OK, json!({"entries": rows}))
}
