//! The timesheet scenario table (`tests/scenarios/timesheets.toml`) run over HTTP: each
//! scenario sets up an organisation, its rules and an employee's punches through the API and
//! compares the fields it names with `GET /api/v1/timesheets/{employee}`.

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeZone};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Table {
    scenario: Vec<Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    month: String,
    timezone: Option<String>,
    employee_timezone: Option<String>,
    rule: Option<Value>,
    #[serde(default)]
    calendar: Vec<Value>,
    /// The employee's department: its rule layer and its own calendar days (a branch).
    department_rule: Option<Value>,
    #[serde(default)]
    department_calendar: Vec<Value>,
    #[serde(default)]
    shifts: Vec<Value>,
    #[serde(default)]
    roster: Vec<RosterDay>,
    #[serde(default)]
    punches: Vec<String>,
    #[serde(default)]
    repeat: Vec<Repeat>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterDay {
    date: String,
    shift: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    from: NaiveDate,
    to: NaiveDate,
    #[serde(default)]
    punches: Vec<String>,
    /// Roster this shift on the same weekdays.
    shift: Option<String>,
}

/// Monday to Friday of a repeat's range.
fn weekdays(r: &Repeat) -> impl Iterator<Item = NaiveDate> + '_ {
    r.from.iter_days().take_while(|d| *d <= r.to).filter(|d| d.weekday().num_days_from_monday() < 5)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    #[serde(default)]
    days: BTreeMap<String, BTreeMap<String, Value>>,
    #[serde(default)]
    totals: BTreeMap<String, Value>,
    #[serde(default)]
    premiums: BTreeMap<String, Value>,
    alerts: Option<Vec<String>>,
}

/// "YYYY-MM-DD HH:MM kind" in the given zone → (RFC 3339 instant, punch kind).
fn punch(text: &str, tz: chrono_tz::Tz) -> (String, &'static str) {
    let mut parts = text.split_whitespace();
    let (date, time, kind) = (parts.next().expect("date"), parts.next().expect("time"), parts.next().expect("kind"));
    let naive = NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M").expect("punch time");
    let at = tz.from_local_datetime(&naive).single().expect("unambiguous local time").to_rfc3339();
    let kind = match kind {
        "in" => "clock_in",
        "out" => "clock_out",
        "bs" => "break_start",
        "be" => "break_end",
        other => panic!("unknown punch kind {other}"),
    };
    (at, kind)
}

async fn run(app: &TestApp, s: &Scenario) -> Vec<String> {
    let zone = s.timezone.as_deref().unwrap_or("Asia/Tokyo");
    let init = app.service.init_organization(&s.name, "hr@scenario.example", zone).await.expect("organisation");
    let t = init.admin_token;
    // Scenarios give their calendar days themselves, unless they ask for the national calendar.
    let mut rule = s.rule.clone().unwrap_or_else(|| json!({}));
    if rule.get("national_holidays").is_none() {
        rule["national_holidays"] = json!(false);
    }
    // The rule applies to every month a scenario looks at.
    app.request(reqwest::Method::PUT, Some(&t), "/api/v1/work-rules?from=2000-01", Some(rule)).await.expect(200);
    if !s.calendar.is_empty() {
        app.request(reqwest::Method::PUT, Some(&t), "/api/v1/calendar", Some(json!({"days": s.calendar})))
            .await
            .expect(204);
    }
    for shift in &s.shifts {
        app.post(&t, "/api/v1/shifts", shift.clone()).await.expect(201);
    }
    let department = if s.department_rule.is_some() || !s.department_calendar.is_empty() {
        let id = app.post(&t, "/api/v1/departments", json!({"name": "支社"})).await.expect(201).id();
        if let Some(rule) = &s.department_rule {
            let path = format!("/api/v1/departments/{id}/work-rule?from=2000-01");
            app.request(reqwest::Method::PUT, Some(&t), &path, Some(rule.clone())).await.expect(200);
        }
        if !s.department_calendar.is_empty() {
            let path = format!("/api/v1/calendar?department_id={id}");
            app.request(reqwest::Method::PUT, Some(&t), &path, Some(json!({"days": s.department_calendar})))
                .await
                .expect(204);
        }
        Some(id)
    } else {
        None
    };
    let employee = app
        .post(
            &t,
            "/api/v1/employees",
            json!({"code": "S1", "name": "シナリオ", "timezone": s.employee_timezone, "department_id": department}),
        )
        .await
        .expect(201)
        .id();
    let mut assignments: Vec<Value> = s.roster.iter().map(|r| json!({"date": r.date, "shift_code": r.shift})).collect();
    for r in &s.repeat {
        if let Some(shift) = &r.shift {
            assignments.extend(weekdays(r).map(|day| json!({"date": day, "shift_code": shift})));
        }
    }
    if !assignments.is_empty() {
        app.request(
            reqwest::Method::PUT,
            Some(&t),
            &format!("/api/v1/employees/{employee}/roster"),
            Some(json!({"assignments": assignments})),
        )
        .await
        .expect(204);
    }
    let tz: chrono_tz::Tz = s.employee_timezone.as_deref().unwrap_or(zone).parse().expect("zone");
    let mut lines: Vec<String> = Vec::new();
    for r in &s.repeat {
        for day in weekdays(r) {
            lines.extend(r.punches.iter().map(|p| format!("{day} {p}")));
        }
    }
    lines.extend(s.punches.iter().cloned());
    for line in &lines {
        let (at, kind) = punch(line, tz);
        app.post(&t, "/api/v1/punches", json!({"employee_id": employee, "kind": kind, "at": at})).await.expect(201);
    }
    let sheet = app.get(&t, &format!("/api/v1/timesheets/{employee}?month={}", s.month)).await.expect(200).body;
    let mut failures = Vec::new();
    let mut compare = |what: String, got: &Value, want: &Value| {
        if got != want {
            failures.push(format!("[{}] {what}: got {got}, want {want}", s.name));
        }
    };
    for (date, fields) in &s.expect.days {
        let day = sheet["days"]
            .as_array()
            .and_then(|days| days.iter().find(|d| d["date"] == json!(date)))
            .cloned()
            .unwrap_or(Value::Null);
        for (field, want) in fields {
            compare(format!("{date}.{field}"), &day[field], want);
        }
    }
    for (field, want) in &s.expect.totals {
        compare(format!("totals.{field}"), &sheet["totals"][field], want);
    }
    for (field, want) in &s.expect.premiums {
        compare(format!("premiums.{field}"), &sheet["premiums"][field], want);
    }
    if let Some(want) = &s.expect.alerts {
        let mut got: Vec<String> =
            sheet["alerts"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(str::to_owned)).collect();
        let mut want = want.clone();
        got.sort();
        want.sort();
        compare("alerts".into(), &json!(got), &json!(want));
    }
    // Every day carries the contract's fields.
    for day in sheet["days"].as_array().into_iter().flatten() {
        for field in [
            "date",
            "worked_minutes",
            "break_minutes",
            "overtime_minutes",
            "late_night_minutes",
            "holiday_minutes",
            "late_minutes",
            "early_leave_minutes",
            "anomalies",
        ] {
            if day.get(field).is_none() {
                failures.push(format!("[{}] a day lacks {field}", s.name));
            }
        }
    }
    failures
}

backend_test!(timesheet_scenarios_match_the_table, |db: TestDb| async move {
    let table: Table = toml::from_str(include_str!("../scenarios/timesheets.toml")).expect("the scenario table parses");
    assert!(table.scenario.len() >= 100, "at least 100 scenarios");
    let app = db.spawn().await;
    let mut failures = Vec::new();
    for scenario in &table.scenario {
        failures.extend(run(&app, scenario).await);
    }
    assert!(failures.is_empty(), "{} scenario check(s) failed:\n{}", failures.len(), failures.join("\n"));
    app.shutdown().await;
});
