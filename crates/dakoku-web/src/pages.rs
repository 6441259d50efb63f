//! The pages and the forms they post.

use crate::i18n::{word, Lang};
use crate::{redirect, Viewer, Web};
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::{DateTime, Datelike, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use dakoku_domain::{EmployeeId, EmployeeStatus, Punch, PunchKind, PunchSource};
use dakoku_rules::{Anomaly, DayRecord};
use dakoku_service::corrections::{CorrectionAction, NewCorrection};
use dakoku_service::exports::{ExportDetail, ExportFormat};
use dakoku_service::punches::NewPunch;
use dakoku_service::timesheets::YearMonth;
use dakoku_service::view::{EmployeeFilter, PunchFilter};
use dakoku_service::{PageRequest, ServiceError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

pub(crate) fn hours(minutes: i64) -> String {
    if minutes == 0 {
        return String::new();
    }
    format!("{}:{:02}", minutes / 60, minutes % 60)
}

fn anomaly_key(anomaly: Anomaly) -> &'static str {
    match anomaly {
        Anomaly::MissingClockIn => "missing_clock_in",
        Anomaly::MissingClockOut => "missing_clock_out",
        Anomaly::UnclosedBreak => "unclosed_break",
        Anomaly::MissingBreakStart => "missing_break_start",
        Anomaly::Overlapping => "overlapping",
        Anomaly::PunchOnHoliday => "punch_on_holiday",
        Anomaly::Absent => "absent",
    }
}

/// Where a person stands from their punches of the day, in the order they were made.
fn state_of(punches: &[Punch]) -> &'static str {
    match punches.last().map(|p| p.kind) {
        None => "state_missing",
        Some(PunchKind::ClockIn | PunchKind::BreakEnd) => "state_in",
        Some(PunchKind::BreakStart) => "state_break",
        Some(PunchKind::ClockOut) => "state_out",
    }
}

/// The zone the organisation keeps time in.
pub(crate) async fn zone(web: &Web, viewer: &Viewer) -> Result<Tz, Response> {
    web.service
        .organization(&viewer.ctx())
        .await
        .map(|org| org.timezone.0)
        .map_err(|e| web.error_page(viewer.lang, Some(viewer), &e))
}

/// Today's punches of an employee, in the organisation's day.
async fn todays_punches(
    web: &Web,
    viewer: &Viewer,
    employee: &EmployeeId,
    zone: Tz,
) -> Result<Vec<Punch>, ServiceError> {
    let today = web.service.clock.now().with_timezone(&zone).date_naive();
    let start = zone
        .from_local_datetime(&today.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc));
    let filter =
        PunchFilter { employee_id: Some(employee.clone()), from: start, to: start.map(|s| s + Duration::days(1)) };
    let page = PageRequest::first(200);
    Ok(web.service.list_punches(&viewer.ctx(), &filter, &page).await?.items)
}

fn punch_rows(punches: &[Punch], zone: Tz, lang: Lang) -> Vec<Value> {
    punches
        .iter()
        .map(|p| json!({"kind": word(lang, p.kind.as_str()), "time": p.at.with_timezone(&zone).format("%H:%M").to_string(), "source": p.source.as_str()}))
        .collect()
}

/// A stretch of a day: from and to (hours since local midnight) and whether it was work or a
/// break.
type Span = (f64, f64, &'static str);

/// The working and break spans of a day (an open span runs to now).
fn spans_of(punches: &[Punch], zone: Tz, now: DateTime<Utc>) -> Vec<Span> {
    let hour = |t: DateTime<Utc>| {
        let local = t.with_timezone(&zone).time();
        f64::from(chrono::Timelike::num_seconds_from_midnight(&local)) / 3600.0
    };
    let mut spans = Vec::new();
    let mut open: Option<(f64, &'static str)> = None;
    for p in punches {
        let at = hour(p.at);
        if let Some((start, kind)) = open.take() {
            spans.push((start, at, kind));
        }
        open = match p.kind {
            PunchKind::ClockIn | PunchKind::BreakEnd => Some((at, "work")),
            PunchKind::BreakStart => Some((at, "break")),
            PunchKind::ClockOut => None,
        };
    }
    if let Some((start, kind)) = open {
        spans.push((start, hour(now).max(start), kind));
    }
    spans
}

/// One row per person across the 24 hours of the day.
fn timeline_chart(people: &[(String, Vec<Span>)]) -> Value {
    let (label, width, row) = (140.0, 720.0, 24.0);
    let x = |h: f64| label + h / 24.0 * (width - label - 10.0);
    let rows: Vec<Value> = people
        .iter()
        .enumerate()
        .map(|(i, (name, spans))| {
            let bars: Vec<Value> = spans
                .iter()
                .map(|(a, b, kind)| json!({"x": x(*a), "w": (x(*b) - x(*a)).max(2.0), "kind": kind}))
                .collect();
            json!({"y": i as f64 * row + 20.0, "name": name, "bars": bars})
        })
        .collect();
    let ticks: Vec<Value> = (0..=24).step_by(3).map(|h| json!({"x": x(f64::from(h)), "h": h})).collect();
    json!({"rows": rows, "ticks": ticks, "width": width, "height": people.len() as f64 * row + 30.0, "label": label})
}

/// What a page was redirected back after, to say so (`?done=…`).
#[derive(Deserialize, Default)]
pub struct Done {
    pub done: Option<String>,
}

pub async fn punch_page(State(web): State<Web>, viewer: Viewer, Query(done): Query<Done>) -> Response {
    let zone = match zone(&web, &viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    let Some(employee) = viewer.session.actor.employee_id.clone() else {
        let message = word(viewer.lang, "no_employee");
        return web.page("punch.html", viewer.lang, Some(&viewer), StatusCode::OK, json!({"message": message}));
    };
    let punches = match todays_punches(&web, &viewer, &employee, zone).await {
        Ok(p) => p,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let state = state_of(&punches);
    let flash = done.done.as_deref().filter(|d| *d == "recorded").and_then(|_| punches.last()).map(|p| {
        word(viewer.lang, "recorded")
            .replace("{kind}", word(viewer.lang, p.kind.as_str()))
            .replace("{time}", &p.at.with_timezone(&zone).format("%H:%M").to_string())
    });
    let kinds = ["clock_in", "break_start", "break_end", "clock_out"];
    web.page(
        "punch.html",
        viewer.lang,
        Some(&viewer),
        StatusCode::OK,
        json!({"state": state, "punches": punch_rows(&punches, zone, viewer.lang), "kinds": kinds, "flash": flash,
               "now": web.service.clock.now().with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()}),
    )
}

#[derive(Deserialize)]
pub struct PunchForm {
    csrf: String,
    kind: String,
}

pub async fn punch(State(web): State<Web>, viewer: Viewer, Form(form): Form<PunchForm>) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let (Some(employee), Some(kind)) = (viewer.session.actor.employee_id.clone(), PunchKind::parse(&form.kind)) else {
        return web.error_page(
            viewer.lang,
            Some(&viewer),
            &ServiceError::BadRequest(word(viewer.lang, "no_employee").into()),
        );
    };
    let input = NewPunch {
        employee_id: employee,
        kind,
        at: None,
        note: None,
        location: None,
        source: PunchSource::Web,
        integration_id: None,
        external_event_id: None,
    };
    match web.service.record_punch(&viewer.ctx(), input, None).await {
        Ok(_) => redirect("/?done=recorded"),
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

/// A one-time code to send to a chat bot (LINE WORKS, WeCom, DingTalk) to link that chat
/// account to oneself; shown once.
pub async fn link_code(State(web): State<Web>, viewer: Viewer, Form(form): Form<CsrfForm>) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let Some(employee) = viewer.session.actor.employee_id.clone() else { return redirect("/") };
    let zone = match zone(&web, &viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    match web.service.issue_link_code(&viewer.ctx(), &employee).await {
        Ok(issued) => {
            let until = issued.expires_at.with_timezone(&zone).format("%H:%M").to_string();
            let message = word(viewer.lang, "link_code_issued").replace("{until}", &until);
            web.page(
                "message.html",
                viewer.lang,
                Some(&viewer),
                StatusCode::CREATED,
                json!({"title": word(viewer.lang, "link_chat"), "message": message, "code": issued.code}),
            )
        }
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    month: Option<String>,
    employee: Option<String>,
    done: Option<String>,
}

fn day_row(day: &DayRecord, zone: Tz, lang: Lang) -> Value {
    let time =
        |t: Option<DateTime<Utc>>| t.map(|t| t.with_timezone(&zone).format("%H:%M").to_string()).unwrap_or_default();
    let anomalies: Vec<&str> = day.anomalies.iter().map(|a| word(lang, anomaly_key(*a))).collect();
    json!({
        "date": day.date.format("%m-%d").to_string(),
        "weekday": day.date.weekday().num_days_from_monday(),
        "in": time(day.first_in),
        "out": time(day.last_out),
        "worked": hours(day.worked_minutes),
        "overtime": hours(day.overtime_minutes),
        "late_night": hours(day.late_night_minutes),
        "holiday": hours(day.holiday_minutes),
        "anomalies": anomalies.join(", "),
    })
}

pub async fn timesheet(State(web): State<Web>, viewer: Viewer, Query(query): Query<MonthQuery>) -> Response {
    let zone = match zone(&web, &viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    let month = query
        .month
        .as_deref()
        .and_then(YearMonth::parse)
        .unwrap_or_else(|| YearMonth::of(web.service.clock.now().with_timezone(&zone).date_naive()));
    let employee = match &query.employee {
        Some(given) => EmployeeId::parse(given),
        None => viewer.session.actor.employee_id.clone(),
    };
    let Some(employee) = employee else {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::NotFound("employee".into()));
    };
    let sheet = match web.service.timesheet(&viewer.ctx(), &employee, month).await {
        Ok(s) => s,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let zone = sheet.rule.timezone;
    let days: Vec<Value> = sheet.days.iter().map(|d| day_row(d, zone, viewer.lang)).collect();
    let totals = &sheet.summary.totals;
    let own = viewer.session.actor.employee_id.as_ref() == Some(&sheet.employee.id);
    let flash = query
        .done
        .as_deref()
        .filter(|d| *d == "submitted")
        .map(|_| word(viewer.lang, "submitted_ok").replace("{month}", &month.text()));
    web.page(
        "timesheet.html",
        viewer.lang,
        Some(&viewer),
        StatusCode::OK,
        json!({
            "employee": {"id": sheet.employee.id.to_string(), "name": sheet.employee.name, "code": sheet.employee.code},
            "own": own,
            "month": month.text(),
            "previous": month.previous().text(),
            "next": month.next().text(),
            "status": sheet.state.status,
            "comment": sheet.state.comment,
            "days": days,
            "totals": {"worked": hours(totals.worked_minutes), "overtime": hours(totals.overtime_minutes),
                       "late_night": hours(totals.late_night_minutes), "holiday": hours(totals.holiday_minutes),
                       "anomaly_days": totals.anomaly_days},
            "flash": flash,
        }),
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub(crate) csrf: String,
    #[serde(default)]
    comment: String,
}

pub async fn submit_month(
    State(web): State<Web>,
    viewer: Viewer,
    Path(month): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let (Some(month), Some(employee)) = (YearMonth::parse(&month), viewer.session.actor.employee_id.clone()) else {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::NotFound("month".into()));
    };
    let comment = Some(form.comment.trim().to_owned()).filter(|c| !c.is_empty());
    match web.service.month_action(&viewer.ctx(), &employee, month, dakoku_domain::MonthAction::Submit, comment).await {
        Ok(_) => redirect(&format!("/timesheet?month={}&done=submitted", month.text())),
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

pub async fn corrections(State(web): State<Web>, viewer: Viewer, Query(done): Query<Done>) -> Response {
    corrections_page(&web, &viewer, done.done.as_deref() == Some("requested"), None, StatusCode::OK).await
}

async fn corrections_page(
    web: &Web,
    viewer: &Viewer,
    requested: bool,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let zone = match zone(web, viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    let Some(employee) = viewer.session.actor.employee_id.clone() else {
        let message = word(viewer.lang, "no_employee");
        return web.page(
            "message.html",
            viewer.lang,
            Some(viewer),
            StatusCode::OK,
            json!({"title": word(viewer.lang, "nav_corrections"), "message": message}),
        );
    };
    let mine = match web.service.list_corrections(&viewer.ctx(), Some(&employee), None).await {
        Ok(list) => list,
        Err(e) => return web.error_page(viewer.lang, Some(viewer), &e),
    };
    let rows: Vec<Value> = mine
        .iter()
        .rev()
        .map(|c| {
            json!({
                "time": c.at.map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
                "kind": c.kind.map(|k| word(viewer.lang, k.as_str())).unwrap_or_default(),
                "reason": c.reason,
                "status": word(viewer.lang, &format!("status_{}", c.status.as_str())),
                "comment": c.comment,
            })
        })
        .collect();
    let flash = requested.then(|| word(viewer.lang, "requested_ok"));
    web.page(
        "corrections.html",
        viewer.lang,
        Some(viewer),
        status,
        json!({"requests": rows, "kinds": ["clock_in", "break_start", "break_end", "clock_out"], "flash": flash, "form_error": error}),
    )
}

#[derive(Deserialize)]
pub struct CorrectionForm {
    csrf: String,
    kind: String,
    at: String,
    reason: String,
}

pub async fn request_correction(State(web): State<Web>, viewer: Viewer, Form(form): Form<CorrectionForm>) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let zone = match zone(&web, &viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    let Some(employee) = viewer.session.actor.employee_id.clone() else { return redirect("/corrections") };
    // `datetime-local` sends the organisation's wall-clock time without a zone.
    let at = NaiveDateTime::parse_from_str(&form.at, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|local| zone.from_local_datetime(&local).earliest())
        .map(|t| t.with_timezone(&Utc));
    let input = NewCorrection {
        employee_id: employee,
        action: CorrectionAction::Add,
        punch_id: None,
        kind: PunchKind::parse(&form.kind),
        at,
        reason: form.reason,
    };
    match web.service.request_correction(&viewer.ctx(), input).await {
        Ok(_) => redirect("/corrections?done=requested"),
        Err(ServiceError::Invalid(errors)) => {
            let text = errors.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join(" / ");
            corrections_page(&web, &viewer, false, Some(text), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

fn require_lead(web: &Web, viewer: &Viewer) -> Option<Response> {
    let leads = matches!(viewer.session.actor.role.as_str(), "admin" | "hr" | "manager");
    (!leads).then(|| web.error_page(viewer.lang, Some(viewer), &ServiceError::Forbidden(String::new())))
}

pub async fn team(State(web): State<Web>, viewer: Viewer) -> Response {
    if let Some(refused) = require_lead(&web, &viewer) {
        return refused;
    }
    let zone = match zone(&web, &viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    let ctx = viewer.ctx();
    let filter = EmployeeFilter { status: Some(EmployeeStatus::Active), department_id: None };
    let page = PageRequest::first(500);
    let people = match web.service.list_employees(&ctx, &filter, &page).await {
        Ok(list) => list.items,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let departments: HashMap<String, String> = match web.service.list_departments(&ctx, &page).await {
        Ok(list) => list.items.into_iter().map(|d| (d.id.to_string(), d.name)).collect(),
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let mut rows = Vec::new();
    let mut timeline = Vec::new();
    for person in people {
        let punches = match todays_punches(&web, &viewer, &person.id, zone).await {
            Ok(p) => p,
            Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
        };
        let first_in = punches
            .iter()
            .find(|p| p.kind == PunchKind::ClockIn)
            .map(|p| p.at.with_timezone(&zone).format("%H:%M").to_string());
        timeline.push((person.name.clone(), spans_of(&punches, zone, web.service.clock.now())));
        rows.push(json!({
            "id": person.id.to_string(),
            "name": person.name,
            "code": person.code,
            "department": person.department_id.as_ref().and_then(|d| departments.get(d.as_str())).cloned().unwrap_or_default(),
            "state": state_of(&punches),
            "first_in": first_in,
        }));
    }
    web.page(
        "team.html",
        viewer.lang,
        Some(&viewer),
        StatusCode::OK,
        json!({"people": rows, "month": YearMonth::of(web.service.clock.now().with_timezone(&zone).date_naive()).text(),
               "timeline": timeline_chart(&timeline)}),
    )
}

pub async fn approvals(State(web): State<Web>, viewer: Viewer, Query(done): Query<Done>) -> Response {
    if let Some(refused) = require_lead(&web, &viewer) {
        return refused;
    }
    let zone = match zone(&web, &viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    let ctx = viewer.ctx();
    let pending = match web.service.list_corrections(&ctx, None, Some(dakoku_domain::CorrectionStatus::Pending)).await {
        Ok(list) => list,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let filter = EmployeeFilter { status: Some(EmployeeStatus::Active), department_id: None };
    let page = PageRequest::first(500);
    let people = match web.service.list_employees(&ctx, &filter, &page).await {
        Ok(list) => list.items,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let names: HashMap<String, String> = people.iter().map(|p| (p.id.to_string(), p.name.clone())).collect();
    let corrections: Vec<Value> = pending
        .iter()
        .filter(|c| viewer.session.actor.employee_id.as_ref() != Some(&c.employee_id))
        .map(|c| {
            json!({
                "id": c.id,
                "employee": names.get(c.employee_id.as_str()).cloned().unwrap_or_else(|| c.employee_id.to_string()),
                "time": c.at.map(|t| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default(),
                "kind": c.kind.map(|k| word(viewer.lang, k.as_str())).unwrap_or_default(),
                "reason": c.reason,
            })
        })
        .collect();
    // Months waiting for a decision, by the people in reach (never one's own).
    let waiting = match web.service.submitted_months(&ctx).await {
        Ok(w) => w,
        Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
    };
    let mut months = Vec::new();
    for (employee, month) in waiting.into_iter().filter(|(e, _)| viewer.session.actor.employee_id.as_ref() != Some(e)) {
        let sheet = match web.service.timesheet(&ctx, &employee, month).await {
            Ok(sheet) => sheet,
            Err(e) => return web.error_page(viewer.lang, Some(&viewer), &e),
        };
        let totals = &sheet.summary.totals;
        months.push(json!({
            "employee_id": employee.to_string(), "employee": sheet.employee.name, "month": month.text(),
            "worked": hours(totals.worked_minutes), "overtime": hours(totals.overtime_minutes),
            "anomaly_days": totals.anomaly_days,
        }));
    }
    let flash = done.done.as_deref().filter(|d| *d == "decided").map(|_| word(viewer.lang, "decided_ok"));
    web.page(
        "approvals.html",
        viewer.lang,
        Some(&viewer),
        StatusCode::OK,
        json!({"corrections": corrections, "months": months, "flash": flash}),
    )
}

pub async fn decide_correction(
    State(web): State<Web>,
    viewer: Viewer,
    Path((id, decision)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return web.error_page(viewer.lang, Some(&viewer), &ServiceError::NotFound("decision".into())),
    };
    let comment = Some(form.comment.trim().to_owned()).filter(|c| !c.is_empty());
    match web.service.decide_correction(&viewer.ctx(), &id, approve, comment).await {
        Ok(_) => redirect("/approvals?done=decided"),
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

pub async fn decide_month(
    State(web): State<Web>,
    viewer: Viewer,
    Path((employee, month, action)): Path<(String, String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !viewer.form_ok(&form.csrf) {
        return web.stale_form(&viewer);
    }
    let (Some(employee), Some(month)) = (EmployeeId::parse(&employee), YearMonth::parse(&month)) else {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::NotFound("month".into()));
    };
    let action = match dakoku_domain::MonthAction::parse(&action) {
        Some(action @ (dakoku_domain::MonthAction::Approve | dakoku_domain::MonthAction::SendBack)) => action,
        _ => return web.error_page(viewer.lang, Some(&viewer), &ServiceError::NotFound("action".into())),
    };
    let comment = Some(form.comment.trim().to_owned()).filter(|c| !c.is_empty());
    match web.service.month_action(&viewer.ctx(), &employee, month, action, comment).await {
        Ok(_) => redirect("/approvals?done=decided"),
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

pub async fn exports(State(web): State<Web>, viewer: Viewer) -> Response {
    if !viewer.session.actor.manages_people() {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::Forbidden(String::new()));
    }
    let zone = match zone(&web, &viewer).await {
        Ok(z) => z,
        Err(page) => return page,
    };
    let month = YearMonth::of(web.service.clock.now().with_timezone(&zone).date_naive()).previous();
    web.page("exports.html", viewer.lang, Some(&viewer), StatusCode::OK, json!({"month": month.text()}))
}

#[derive(Deserialize)]
pub struct ExportQuery {
    month: String,
    format: String,
    detail: String,
}

/// A download, not a change: a GET, so no form token; the service checks the role.
pub async fn download_payroll(State(web): State<Web>, viewer: Viewer, Query(query): Query<ExportQuery>) -> Response {
    let Some(month) = YearMonth::parse(&query.month) else {
        return web.error_page(viewer.lang, Some(&viewer), &ServiceError::NotFound("month".into()));
    };
    let (format, extension, mime) = match query.format.as_str() {
        "xlsx" => (ExportFormat::Xlsx, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        _ => (ExportFormat::Csv, "csv", "text/csv; charset=utf-8"),
    };
    let detail = if query.detail == "days" { ExportDetail::Days } else { ExportDetail::Employees };
    match web.service.payroll_export(&viewer.ctx(), month, format, detail).await {
        Ok(bytes) => {
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
            let name = format!("attachment; filename=\"payroll-{}.{extension}\"", month.text());
            headers.insert(
                CONTENT_DISPOSITION,
                HeaderValue::from_str(&name).unwrap_or(HeaderValue::from_static("attachment")),
            );
            response
        }
        Err(e) => web.error_page(viewer.lang, Some(&viewer), &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_read_as_hours() {
        assert_eq!(hours(0), "");
        assert_eq!(hours(485), "8:05");
    }
}
