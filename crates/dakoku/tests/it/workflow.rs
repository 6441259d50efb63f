//! Corrections and the monthly workflow over HTTP: the flow an employee, a manager and HR go
//! through, and who may do what (employee: self; manager: their subtree, never themselves;
//! HR: everyone; another organisation: never).

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use reqwest::Method;
use serde_json::{json, Value};

struct People {
    hr: String,
    manager: String,
    employee: String,
    alice: String,
    bob: String,
    carol: String,
    b_admin: String,
}

async fn people(app: &TestApp) -> People {
    let t = app.admin_token.clone();
    let root = app.create_department(&t, "本社", None).await;
    let sales = app.create_department(&t, "営業部", Some(&root)).await;
    let tokyo = app.create_department(&t, "東京", Some(&sales)).await;
    let dev = app.create_department(&t, "開発部", Some(&root)).await;
    let manager_self = app.create_employee(&t, "MGR", Some(&sales)).await;
    let hr_self = app.create_employee(&t, "HR", Some(&root)).await;
    let alice = app.create_employee(&t, "ALICE", Some(&tokyo)).await;
    let bob = app.create_employee(&t, "BOB", Some(&dev)).await;
    let hr = app.user_token("hr", Some(&hr_self), None).await;
    let manager = app.user_token("manager", Some(&manager_self), Some(&sales)).await;
    let employee = app.user_token("employee", Some(&alice), None).await;
    let (_, b_admin) = app.other_org().await;
    let carol = app.create_employee(&b_admin, "CAROL", None).await;
    People { hr, manager, employee, alice, bob, carol, b_admin }
}

async fn punch(app: &TestApp, token: &str, employee: &str, kind: &str, at: &str) -> crate::helpers::Reply {
    app.post(token, "/api/v1/punches", json!({"employee_id": employee, "kind": kind, "at": at})).await
}

fn day<'a>(sheet: &'a Value, date: &str) -> &'a Value {
    sheet["days"].as_array().and_then(|d| d.iter().find(|d| d["date"] == json!(date))).expect("day in timesheet")
}

backend_test!(corrections_and_monthly_close_flow, |db: TestDb| async move {
    let app = db.spawn().await;
    let p = people(&app).await;
    let sheet = |token: String, employee: String| {
        let app = &app;
        async move { app.get(&token, &format!("/api/v1/timesheets/{employee}?month=2026-10")).await.expect(200).body }
    };
    // HR enters a clock-in; the clock-out was forgotten.
    let clock_in = punch(&app, &p.hr, &p.alice, "clock_in", "2026-10-05T09:00:00+09:00").await.expect(201).id();
    let before = sheet(p.employee.clone(), p.alice.clone()).await;
    assert_eq!(day(&before, "2026-10-05")["anomalies"], json!(["missing_clock_out"]));

    // Alice asks to add it; her manager approves; the day is complete.
    let add = app
        .post(&p.employee, "/api/v1/corrections", json!({"employee_id": p.alice, "action": "add", "kind": "clock_out", "at": "2026-10-05T18:00:00+09:00", "reason": "退勤の打刻忘れ"}))
        .await
        .expect(201);
    assert_eq!(add.body["status"], "pending");
    let pending = app.get(&p.manager, "/api/v1/corrections?status=pending").await.expect(200);
    assert_eq!(pending.body["items"].as_array().map(Vec::len), Some(1));
    app.get(&p.manager, "/api/v1/corrections?status=done").await.expect_problem(400);
    let approved = app
        .post(&p.manager, &format!("/api/v1/corrections/{}/approve", add.id()), json!({"comment": "OK"}))
        .await
        .expect(200);
    assert_eq!(approved.body["status"], "approved");
    app.post(&p.manager, &format!("/api/v1/corrections/{}/approve", add.id()), json!({})).await.expect_problem(409);
    let after = sheet(p.employee.clone(), p.alice.clone()).await;
    assert_eq!(day(&after, "2026-10-05")["worked_minutes"], 480);
    assert_eq!(day(&after, "2026-10-05")["anomalies"], json!([]));

    // A move the manager rejects changes nothing.
    let moved = app
        .post(&p.employee, "/api/v1/corrections", json!({"employee_id": p.alice, "action": "move", "punch_id": clock_in, "at": "2026-10-05T08:00:00+09:00", "reason": "早出"}))
        .await
        .expect(201);
    app.post(&p.manager, &format!("/api/v1/corrections/{}/reject", moved.id()), json!({"comment": "根拠がありません"}))
        .await
        .expect(200);
    assert_eq!(day(&sheet(p.hr.clone(), p.alice.clone()).await, "2026-10-05")["worked_minutes"], 480);

    // An approved move supersedes: the ledger keeps both entries.
    let moved = app
        .post(&p.employee, "/api/v1/corrections", json!({"employee_id": p.alice, "action": "move", "punch_id": clock_in, "at": "2026-10-05T08:30:00+09:00", "reason": "早出"}))
        .await
        .expect(201);
    app.post(&p.hr, &format!("/api/v1/corrections/{}/approve", moved.id()), json!({})).await.expect(200);
    assert_eq!(day(&sheet(p.hr.clone(), p.alice.clone()).await, "2026-10-05")["worked_minutes"], 510);
    let ledger = app.list_all(&p.hr, &format!("/api/v1/punches?employee_id={}", p.alice)).await;
    assert_eq!(ledger.len(), 3, "original, added clock-out, and the moved clock-in");
    assert!(ledger.iter().any(|e| e["supersedes"] == json!(clock_in) && e["correction_id"].is_string()));
    // The moved punch cannot be corrected again; its replacement can, and a cancel voids it.
    app.post(
        &p.employee,
        "/api/v1/corrections",
        json!({"employee_id": p.alice, "action": "cancel", "punch_id": clock_in, "reason": "x"}),
    )
    .await
    .expect_problem(422);
    let replacement = ledger.iter().find(|e| e["supersedes"] == json!(clock_in)).expect("replacement")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cancel = app
        .post(
            &p.employee,
            "/api/v1/corrections",
            json!({"employee_id": p.alice, "action": "cancel", "punch_id": replacement, "reason": "誤打刻"}),
        )
        .await
        .expect(201);
    app.post(&p.hr, &format!("/api/v1/corrections/{}/approve", cancel.id()), json!({})).await.expect(200);
    assert_eq!(
        day(&sheet(p.hr.clone(), p.alice.clone()).await, "2026-10-05")["anomalies"],
        json!(["missing_clock_in"])
    );
    // Put the clock-in back for the rest of the flow.
    punch(&app, &p.hr, &p.alice, "clock_in", "2026-10-05T09:00:00+09:00").await.expect(201);

    // Alice submits the month: punches and corrections for it are refused until it is sent back.
    let submitted =
        app.post(&p.employee, &format!("/api/v1/timesheets/{}/2026-10/submit", p.alice), json!({})).await.expect(200);
    assert_eq!(submitted.body["status"], "submitted");
    let refused = punch(&app, &p.hr, &p.alice, "clock_in", "2026-10-06T09:00:00+09:00").await.expect_problem(409);
    assert!(refused.text.contains("差戻し"), "{}", refused.text);
    app.post(&p.employee, "/api/v1/corrections", json!({"employee_id": p.alice, "action": "add", "kind": "clock_in", "at": "2026-10-07T09:00:00+09:00", "reason": "x"})).await.expect_problem(409);
    punch(&app, &p.hr, &p.alice, "clock_in", "2026-11-02T09:00:00+09:00").await.expect(201); // another month is open
    assert_eq!(sheet(p.employee.clone(), p.alice.clone()).await["status"], "submitted");
    app.post(&p.employee, &format!("/api/v1/timesheets/{}/2026-10/submit", p.alice), json!({}))
        .await
        .expect_problem(409);

    // 差戻し: the manager sends it back with a comment; punches are accepted again.
    let back = app
        .post(
            &p.manager,
            &format!("/api/v1/timesheets/{}/2026-10/send-back", p.alice),
            json!({"comment": "6日の打刻を確認してください"}),
        )
        .await
        .expect(200);
    assert_eq!(back.body["status"], "open");
    assert_eq!(back.body["comment"], "6日の打刻を確認してください");
    punch(&app, &p.hr, &p.alice, "clock_in", "2026-10-06T09:00:00+09:00").await.expect(201);

    // Submitted again and approved: locked; only HR can reopen it.
    app.post(&p.employee, &format!("/api/v1/timesheets/{}/2026-10/submit", p.alice), Value::Null).await.expect(200);
    app.post(&p.employee, &format!("/api/v1/timesheets/{}/2026-10/approve", p.alice), json!({}))
        .await
        .expect_problem(403);
    app.post(&p.manager, &format!("/api/v1/timesheets/{}/2026-10/approve", p.alice), json!({})).await.expect(200);
    punch(&app, &p.hr, &p.alice, "clock_out", "2026-10-06T18:00:00+09:00").await.expect_problem(409);
    app.post(&p.manager, &format!("/api/v1/timesheets/{}/2026-10/send-back", p.alice), json!({}))
        .await
        .expect_problem(403);
    app.post(
        &p.hr,
        &format!("/api/v1/timesheets/{}/2026-10/send-back", p.alice),
        json!({"comment": "給与計算前に修正"}),
    )
    .await
    .expect(200);
    punch(&app, &p.hr, &p.alice, "clock_out", "2026-10-06T18:00:00+09:00").await.expect(201);
    let audit = app
        .list_all(&app.admin_token, &format!("/api/v1/audit?object_type=timesheet&object_id={}:2026-10", p.alice))
        .await;
    let actions: Vec<_> = audit.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(
        actions,
        ["timesheet.send-back", "timesheet.approve", "timesheet.submit", "timesheet.send-back", "timesheet.submit"]
    );
    let _ = (&p.bob, &p.carol, &p.b_admin);
    app.shutdown().await;
});

/// A distinct past month for each check, so checks do not see each other's state.
fn month(n: usize) -> String {
    format!("{}-{:02}", 2020 + n / 12, n % 12 + 1)
}

backend_test!(workflow_authorization_matrix, |db: TestDb| async move {
    let app = db.spawn().await;
    let p = people(&app).await;
    let roles = [
        ("admin", app.admin_token.clone()),
        ("hr", p.hr.clone()),
        ("manager", p.manager.clone()),
        ("employee", p.employee.clone()),
    ];
    // Targets: alice (in every role's reach), bob (out of the manager's and the employee's), carol (another org).
    let targets = [
        (p.alice.clone(), app.admin_token.clone()),
        (p.bob.clone(), app.admin_token.clone()),
        (p.carol.clone(), p.b_admin.clone()),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    type Setup = &'static str;
    // (what, setup done by the target's own admin first, request, status per role per target)
    let rows: [(&str, Setup, [[u16; 3]; 4]); 7] = [
        ("read timesheet", "", [[200, 200, 404], [200, 200, 404], [200, 404, 404], [200, 404, 404]]),
        ("submit", "", [[200, 200, 404], [200, 200, 404], [403, 404, 404], [200, 404, 404]]),
        ("approve", "submit", [[200, 200, 404], [200, 200, 404], [200, 404, 404], [403, 404, 404]]),
        ("send-back", "submit", [[200, 200, 404], [200, 200, 404], [200, 404, 404], [403, 404, 404]]),
        ("request correction", "", [[201, 201, 404], [201, 201, 404], [403, 404, 404], [201, 404, 404]]),
        ("approve correction", "correction", [[200, 200, 404], [200, 200, 404], [200, 404, 404], [403, 404, 404]]),
        ("list corrections of", "", [[200, 200, 404], [200, 200, 404], [200, 404, 404], [200, 404, 404]]),
    ];
    for (what, setup, expected) in rows {
        for (r, (role, token)) in roles.iter().enumerate() {
            for (t, (target, owner)) in targets.iter().enumerate() {
                n += 1;
                let m = month(n);
                let mut correction = String::new();
                match setup {
                    "submit" => {
                        app.post(owner, &format!("/api/v1/timesheets/{target}/{m}/submit"), json!({}))
                            .await
                            .expect(200);
                    }
                    "correction" => {
                        correction = app
                            .post(owner, "/api/v1/corrections", json!({"employee_id": target, "action": "add", "kind": "clock_in", "at": format!("{m}-10T09:00:00+09:00"), "reason": "setup"}))
                            .await
                            .expect(201)
                            .id();
                    }
                    _ => {}
                }
                let (method, path, body) = match what {
                    "read timesheet" => (Method::GET, format!("/api/v1/timesheets/{target}?month={m}"), None),
                    "submit" | "approve" | "send-back" => {
                        (Method::POST, format!("/api/v1/timesheets/{target}/{m}/{what}"), Some(json!({})))
                    }
                    "request correction" => (
                        Method::POST,
                        "/api/v1/corrections".to_owned(),
                        Some(
                            json!({"employee_id": target, "action": "add", "kind": "clock_in", "at": format!("{m}-10T09:00:00+09:00"), "reason": "matrix"}),
                        ),
                    ),
                    "approve correction" => {
                        (Method::POST, format!("/api/v1/corrections/{correction}/approve"), Some(json!({})))
                    }
                    _ => (Method::GET, format!("/api/v1/corrections?employee_id={target}"), None),
                };
                let reply = app.request(method.clone(), Some(token), &path, body).await;
                let want = expected[r][t];
                if reply.status.as_u16() != want {
                    failures.push(format!(
                        "{what}: {role} on target {t}: {method} {path}: got {} want {want}: {}",
                        reply.status, reply.text
                    ));
                }
            }
        }
    }
    // A manager never decides their own month or corrections.
    let own = app.get(&p.manager, "/api/v1/me").await.expect(200).body["employee_id"]
        .as_str()
        .expect("own employee")
        .to_owned();
    app.post(&p.hr, &format!("/api/v1/timesheets/{own}/2019-01/submit"), json!({})).await.expect(200);
    app.post(&p.manager, &format!("/api/v1/timesheets/{own}/2019-01/approve"), json!({})).await.expect_problem(403);
    // Another organisation's corrections never show in a list.
    for (_, token) in &roles {
        let listed = app.get(token, "/api/v1/corrections").await.expect(200);
        assert!(!listed.text.contains(&p.carol));
    }
    assert!(failures.is_empty(), "workflow authorization failures:\n{}", failures.join("\n"));
    app.shutdown().await;
});

backend_test!(payroll_exports_in_csv_and_xlsx, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let taro = app.create_employee(&t, "E001", None).await;
    let hanako = app.create_employee(&t, "E002", None).await;
    for (who, out) in [(&taro, "2026-10-05T20:00:00+09:00"), (&hanako, "2026-10-05T18:00:00+09:00")] {
        punch(&app, &t, who, "clock_in", "2026-10-05T09:00:00+09:00").await.expect(201);
        punch(&app, &t, who, "clock_out", out).await.expect(201);
    }
    let csv = app
        .client
        .get(format!("{}/api/v1/exports/payroll?month=2026-10", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .expect("sent");
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"].to_str().unwrap_or_default().contains("payroll-2026-10.csv"));
    let text = csv.text().await.expect("body");
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    assert_eq!(&header[..6], ["employee_code", "employee_name", "month", "status", "days_worked", "worked_minutes"]);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let e001 = rows.iter().find(|r| r[0] == "E001").expect("E001 row");
    assert_eq!(e001[column("worked_minutes")], "600");
    assert_eq!(e001[column("overtime_minutes")], "120");
    assert_eq!(e001[column("jp_overtime_up_to_60h_minutes")], "120");
    assert_eq!(e001[column("status")], "open");
    let e002 = rows.iter().find(|r| r[0] == "E002").expect("E002 row");
    assert_eq!(e002[column("overtime_minutes")], "0");

    let days = app.get(&t, "/api/v1/exports/payroll?month=2026-10&detail=days").await.expect(200);
    assert_eq!(days.text.trim_start_matches('\u{feff}').lines().count(), 1 + 2 * 31, "a row per employee and day");

    let xlsx = app
        .client
        .get(format!("{}/api/v1/exports/payroll?month=2026-10&format=xlsx", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .expect("sent");
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.expect("body");
    assert!(bytes.starts_with(b"PK\x03\x04"), "an XLSX file is a zip archive");
    assert!(bytes.windows(15).any(|w| w == b"xl/workbook.xml"));

    app.get(&t, "/api/v1/exports/payroll?month=2026-13").await.expect_problem(400);
    app.get(&t, "/api/v1/exports/payroll?month=2026-10&format=pdf").await.expect_problem(400);
    let employee = app.user_token("employee", Some(&taro), None).await;
    app.get(&employee, "/api/v1/exports/payroll?month=2026-10").await.expect_problem(403);
    app.shutdown().await;
});

backend_test!(an_approved_month_keeps_its_figures_when_rules_change, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = app.create_employee(&t, "E1", None).await;
    punch(&app, &t, &emp, "clock_in", "2026-10-05T09:00:00+09:00").await.expect(201);
    punch(&app, &t, &emp, "clock_out", "2026-10-05T19:00:00+09:00").await.expect(201);
    let read = || async { app.get(&t, &format!("/api/v1/timesheets/{emp}?month=2026-10")).await.expect(200).body };
    assert_eq!(read().await["totals"]["overtime_minutes"], 60);
    app.post(&t, &format!("/api/v1/timesheets/{emp}/2026-10/submit"), json!({})).await.expect(200);
    app.post(&t, &format!("/api/v1/timesheets/{emp}/2026-10/approve"), json!({})).await.expect(200);
    // HR now records lunch as a punched-break-only rule: no scheduled break any more.
    let rule = json!({"schedule": {"type": "fixed", "start": "09:00:00", "end": "18:00:00", "breaks": [], "workdays": ["Mon", "Tue", "Wed", "Thu", "Fri"]}});
    // From October on: the approved month keeps its snapshot all the same.
    app.request(Method::PUT, Some(&t), "/api/v1/work-rules?from=2026-10", Some(rule)).await.expect(200);
    let approved = read().await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["totals"]["overtime_minutes"], 60, "payroll figures stay as approved");
    let export = app.get(&t, "/api/v1/exports/payroll?month=2026-10").await.expect(200);
    assert!(export.text.lines().any(|l| l.starts_with("E1,") && l.contains(",approved,")));
    app.post(&t, &format!("/api/v1/timesheets/{emp}/2026-10/send-back"), json!({"comment": "新ルールで再計算"}))
        .await
        .expect(200);
    assert_eq!(read().await["totals"]["overtime_minutes"], 120, "reopened, the month follows the rule in force");
    app.shutdown().await;
});

/// An employee of an organisation that keeps its own calendar only (no national holidays).
async fn employee_without_national_calendar(app: &TestApp, token: &str) -> String {
    app.request(Method::PUT, Some(token), "/api/v1/work-rules?from=2000-01", Some(json!({"national_holidays": false})))
        .await
        .expect(200);
    app.create_employee(token, "E1", None).await
}

backend_test!(changes_to_calendar_roster_and_rules_reach_cached_months, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    // The calendar is the organisation's own here (2026-10-12 is スポーツの日 nationally).
    let emp = employee_without_national_calendar(&app, &t).await;
    punch(&app, &t, &emp, "clock_in", "2026-10-12T09:00:00+09:00").await.expect(201);
    punch(&app, &t, &emp, "clock_out", "2026-10-12T18:00:00+09:00").await.expect(201);
    let monday = || async {
        let sheet = app.get(&t, &format!("/api/v1/timesheets/{emp}?month=2026-10")).await.expect(200).body;
        day(&sheet, "2026-10-12").clone()
    };
    // Computed and cached as an ordinary workday.
    assert_eq!(monday().await["worked_minutes"], 480);
    // The day becomes a national holiday: no scheduled lunch, 540 minutes, 60 over 8 h.
    app.request(
        Method::PUT,
        Some(&t),
        "/api/v1/calendar",
        Some(json!({"days": [{"date": "2026-10-12", "kind": "statutory", "name": "スポーツの日"}]})),
    )
    .await
    .expect(204);
    let holiday = monday().await;
    assert_eq!(holiday["day_kind"], "company_holiday");
    assert_eq!(holiday["worked_minutes"], 540);
    // Cleared again, then the employee's own rule drops the scheduled lunch.
    app.request(
        Method::PUT,
        Some(&t),
        "/api/v1/calendar",
        Some(json!({"days": [{"date": "2026-10-12", "kind": null}]})),
    )
    .await
    .expect(204);
    assert_eq!(monday().await["worked_minutes"], 480);
    let rule = json!({"schedule": {"type": "fixed", "start": "09:00:00", "end": "18:00:00", "breaks": [], "workdays": ["Mon", "Tue", "Wed", "Thu", "Fri"]}});
    app.request(Method::PUT, Some(&t), &format!("/api/v1/employees/{emp}/work-rule?from=2026-10"), Some(rule))
        .await
        .expect(200);
    assert_eq!(monday().await["worked_minutes"], 540);
    // A roster under a shift schedule moves the plan.
    app.post(&t, "/api/v1/shifts", json!({"code": "L", "name": "遅番", "start": "10:00:00", "end": "19:00:00"}))
        .await
        .expect(201);
    app.request(
        Method::PUT,
        Some(&t),
        &format!("/api/v1/employees/{emp}/work-rule?from=2026-10"),
        Some(json!({"schedule": {"type": "shift"}})),
    )
    .await
    .expect(200);
    assert_eq!(monday().await["day_kind"], "company_holiday", "no shift assigned: a day off");
    app.request(
        Method::PUT,
        Some(&t),
        &format!("/api/v1/employees/{emp}/roster"),
        Some(json!({"assignments": [{"date": "2026-10-12", "shift_code": "L"}]})),
    )
    .await
    .expect(204);
    let rostered = monday().await;
    assert_eq!(rostered["day_kind"], "workday");
    assert_eq!(rostered["early_leave_minutes"], 60);
    app.request(
        Method::PUT,
        Some(&t),
        &format!("/api/v1/employees/{emp}/roster"),
        Some(json!({"assignments": [{"date": "2026-10-12", "shift_code": "NOPE"}]})),
    )
    .await
    .expect_problem(422);
    app.shutdown().await;
});

backend_test!(a_rule_change_takes_effect_from_a_month_and_earlier_months_keep_theirs, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = employee_without_national_calendar(&app, &t).await;
    for (kind, at) in [
        ("clock_in", "2026-10-05T09:00:00+09:00"),
        ("clock_out", "2026-10-05T18:00:00+09:00"),
        ("clock_in", "2026-11-02T09:00:00+09:00"),
        ("clock_out", "2026-11-02T18:00:00+09:00"),
    ] {
        punch(&app, &t, &emp, kind, at).await.expect(201);
    }
    let worked = |month: &'static str, date: &'static str| {
        let (app, t, emp) = (&app, &t, &emp);
        async move {
            let sheet = app.get(t, &format!("/api/v1/timesheets/{emp}?month={month}")).await.expect(200).body;
            day(&sheet, date)["worked_minutes"].clone()
        }
    };
    // Both months computed (and October cached) under the default lunch hour.
    assert_eq!(worked("2026-10", "2026-10-05").await, 480);
    assert_eq!(worked("2026-11", "2026-11-02").await, 480);
    // From November, no scheduled break: November moves, October keeps the rule it had.
    let no_break = json!({"national_holidays": false, "schedule": {"type": "fixed", "start": "09:00:00", "end": "18:00:00", "breaks": [], "workdays": ["Mon", "Tue", "Wed", "Thu", "Fri"]}});
    app.request(Method::PUT, Some(&t), "/api/v1/work-rules?from=2026-11", Some(no_break)).await.expect(200);
    assert_eq!(worked("2026-10", "2026-10-05").await, 480, "a month before the change keeps its rule");
    assert_eq!(worked("2026-11", "2026-11-02").await, 540, "the month of the change follows the new rule");
    // A malformed month is refused, and nothing is stored.
    app.request(Method::PUT, Some(&t), "/api/v1/work-rules?from=2026-13", Some(json!({}))).await.expect_problem(400);
    app.request(Method::PUT, Some(&t), "/api/v1/work-rules?from=9999-01", Some(json!({}))).await.expect_problem(400);
    assert_eq!(app.count("SELECT COUNT(*) FROM work_rule_versions").await, 2);
    app.shutdown().await;
});

backend_test!(department_calendars_are_inherited_down_the_tree_and_scoped, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    app.request(Method::PUT, Some(&t), "/api/v1/work-rules?from=2000-01", Some(json!({"national_holidays": false})))
        .await
        .expect(200);
    let branch = app.create_department(&t, "大阪支社", None).await;
    let team = app.create_department(&t, "大阪営業", Some(&branch)).await;
    let days = |date: &str, kind: &str| json!({"days": [{"date": date, "kind": kind, "name": "支社"}]});
    app.put(&t, "/api/v1/calendar", days("2026-10-09", "company")).await.expect(204);
    app.put(&t, &format!("/api/v1/calendar?department_id={branch}"), days("2026-10-07", "company")).await.expect(204);
    app.put(&t, &format!("/api/v1/calendar?department_id={team}"), days("2026-10-09", "workday")).await.expect(204);
    let kinds = |department: Option<String>| {
        let (app, t) = (&app, &t);
        async move {
            let scope = department.map(|d| format!("&department_id={d}")).unwrap_or_default();
            let body =
                app.get(t, &format!("/api/v1/calendar?from=2026-10-01&to=2026-10-31{scope}")).await.expect(200).body;
            body["days"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| format!("{} {}", d["date"].as_str().unwrap_or(""), d["kind"].as_str().unwrap_or("")))
                .collect::<Vec<_>>()
        }
    };
    // The organisation sees its own day; the branch adds its own; the team inherits the branch's
    // day and overrides the organisation's with a working day.
    assert_eq!(kinds(None).await, ["2026-10-09 company"]);
    assert_eq!(kinds(Some(branch.clone())).await, ["2026-10-07 company", "2026-10-09 company"]);
    assert_eq!(kinds(Some(team.clone())).await, ["2026-10-07 company", "2026-10-09 workday"]);
    // An employee of the team is not expected on Oct 7 and is on Oct 9.
    let emp = app.create_employee(&t, "OSAKA1", Some(&team)).await;
    let sheet = app.get(&t, &format!("/api/v1/timesheets/{emp}?month=2026-10")).await.expect(200).body;
    assert_eq!(day(&sheet, "2026-10-07")["day_kind"], "company_holiday");
    assert_eq!(day(&sheet, "2026-10-09")["day_kind"], "workday");
    // The branch's rule (10:00–19:00) reaches the team both in the timesheet and in the monthly
    // close behind the payroll export, which resolves rules from one read of the whole tree.
    let later = json!({"schedule": {"type": "fixed", "start": "10:00:00", "end": "19:00:00",
        "breaks": [{"start": "13:00:00", "end": "14:00:00"}], "workdays": ["Mon", "Tue", "Wed", "Thu", "Fri"]}});
    app.put(&t, &format!("/api/v1/departments/{branch}/work-rule?from=2026-10"), later).await.expect(200);
    punch(&app, &t, &emp, "clock_in", "2026-10-05T10:00:00+09:00").await.expect(201);
    punch(&app, &t, &emp, "clock_out", "2026-10-05T19:00:00+09:00").await.expect(201);
    let sheet = app.get(&t, &format!("/api/v1/timesheets/{emp}?month=2026-10")).await.expect(200).body;
    assert_eq!(day(&sheet, "2026-10-05")["late_minutes"], 0);
    assert_eq!(day(&sheet, "2026-10-05")["worked_minutes"], 480);
    let rows = app.get(&t, "/api/v1/exports/payroll?month=2026-10&detail=days").await.expect(200).text;
    let monday = rows.lines().find(|l| l.contains("OSAKA1") && l.contains("2026-10-05")).expect("Monday's row");
    let header: Vec<&str> = rows.trim_start_matches('\u{feff}').lines().next().expect("header").split(',').collect();
    let cells: Vec<&str> = monday.split(',').collect();
    let cell = |name: &str| cells[header.iter().position(|h| *h == name).expect("column")];
    assert_eq!((cell("worked_minutes"), cell("late_minutes")), ("480", "0"));
    // Only admin and HR change calendars; another organisation's department is not found; a
    // malformed id names no department; an unknown parameter is a bad request. Nothing is stored.
    let employee_token = app.user_token("employee", Some(&emp), None).await;
    app.put(&employee_token, &format!("/api/v1/calendar?department_id={team}"), days("2026-10-12", "company"))
        .await
        .expect_problem(403);
    let (_, other_admin) = app.other_org().await;
    app.put(&other_admin, &format!("/api/v1/calendar?department_id={team}"), days("2026-10-12", "company"))
        .await
        .expect_problem(404);
    app.get(&other_admin, &format!("/api/v1/calendar?from=2026-10-01&to=2026-10-31&department_id={team}"))
        .await
        .expect_problem(404);
    app.put(&t, "/api/v1/calendar?department_id=nonsense", days("2026-10-12", "company")).await.expect_problem(404);
    app.put(&t, "/api/v1/calendar?department=x", days("2026-10-12", "company")).await.expect_problem(400);
    assert_eq!(app.count("SELECT COUNT(*) FROM calendar_entries").await, 3);
    app.shutdown().await;
});

backend_test!(rule_settings_that_cannot_go_together_are_refused, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let refused = [
        json!({"system": "yearly_variable"}),
        json!({"system": "yearly_variable", "period_months": 5}),
        json!({"system": "yearly_variable", "period_months": 12, "weekly_limit_hours": 44}),
        json!({"period_months": 2}),
        json!({"period_months": 6, "schedule": {"type": "flex", "workdays": ["Mon"]}}),
        json!({"weekly_limit_hours": 48}),
        json!({"system": "comprehensive"}),
        json!({"jurisdiction": "china", "system": "exempt_manager"}),
        json!({"jurisdiction": "china", "weekly_limit_hours": 44}),
        json!({"system": "monthly_variable", "schedule": {"type": "flex", "workdays": ["Mon"]}}),
        json!({"period_start_month": 13}),
        json!({"grace_minutes": 61}),
        json!({"period_month": 3}),
    ];
    for rule in refused {
        let reply = app.request(Method::PUT, Some(&t), "/api/v1/work-rules", Some(rule.clone())).await;
        let status = reply.status.as_u16();
        assert!(status == 422 || status == 400, "{rule} was not refused: {status}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM work_rule_versions").await, 0);
    let accepted = json!({"system": "yearly_variable", "period_months": 12, "period_start_month": 4});
    let rule = app.request(Method::PUT, Some(&t), "/api/v1/work-rules", Some(accepted)).await.expect(200).body;
    assert_eq!(rule["period_months"], 12);
    app.shutdown().await;
});
