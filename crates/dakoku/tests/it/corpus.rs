//! A corpus of bad input sent to every write route, on both backends: each text of a valid body
//! replaced by NUL and other control characters, a 100 KB string or a bad date, each field
//! by a value of the wrong type, an unknown field added. Every answer must be a 4xx
//! problem+json and nothing may be stored. Unusual but legal text (4-byte emoji, bidi and
//! zero-width characters) must never cause a server error either.

use crate::backend_test;
use crate::helpers::{Reply, TestApp, TestDb};
use reqwest::Method;
use serde_json::{json, Value};

const TABLES: [&str; 30] = [
    "organizations",
    "departments",
    "employees",
    "users",
    "api_tokens",
    "integrations",
    "integration_links",
    "punches",
    "idempotency_keys",
    "audit_log",
    "webhooks",
    "jobs",
    "work_rule_versions",
    "calendar_entries",
    "shifts",
    "roster",
    "corrections",
    "timesheet_months",
    "day_records",
    "month_totals",
    "inbound_events",
    "platform_tokens",
    "link_codes",
    "integration_state",
    "platform_calls",
    "org_sync_base",
    "web_sessions",
    "sign_in_failures",
    "password_links",
    "meta",
];

/// Texts no field accepts.
fn bad_texts() -> Vec<String> {
    vec![
        "a\u{0}b".into(),
        "\u{0}".into(),
        "x\u{1}y".into(),
        "x\u{1b}[31m".into(),
        "x\u{7f}".into(),
        "x\u{85}y".into(),
        "長".repeat(100_000),
    ]
}

/// Texts some fields accept (free text) and others refuse (names, codes, enums).
const UNUSUAL_TEXTS: [&str; 4] = ["寿司🍣😀", "\u{202E}gnp.exe", "Ta\u{200B}ro", "\u{FEFF}"];

/// Dates and times no field accepts.
const BAD_DATES: [&str; 7] = [
    "0000-01-01",
    "-0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-11-30T23:59:60Z",
    "9999-12-31T00:00:00Z",
    "yesterday",
];

const WRONG_TYPES: [&str; 4] = ["12345", "[1]", "{\"x\": 1}", "true"];

fn looks_like_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10 && bytes[4] == b'-' && bytes[7] == b'-' && bytes[..4].iter().all(u8::is_ascii_digit)
}

/// Every string leaf of a body, as a JSON pointer.
fn string_leaves(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::String(_) => out.push(at),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                string_leaves(item, format!("{at}/{i}"), out);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                string_leaves(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
}

fn replaced(body: &Value, pointer: &str, with: Value) -> Value {
    let mut body = body.clone();
    if let Some(slot) = body.pointer_mut(pointer) {
        *slot = with;
    }
    body
}

/// The bodies of one route that no server may accept.
fn bad_bodies(template: &Value) -> Vec<(String, Value)> {
    let mut bodies = Vec::new();
    let mut leaves = Vec::new();
    string_leaves(template, String::new(), &mut leaves);
    for leaf in &leaves {
        let original = template.pointer(leaf).and_then(Value::as_str).unwrap_or_default();
        for text in bad_texts() {
            let shown: String = text.chars().take(8).collect();
            bodies.push((format!("{leaf} = {shown:?}"), replaced(template, leaf, json!(text))));
        }
        if looks_like_date(original) {
            for date in BAD_DATES {
                bodies.push((format!("{leaf} = {date}"), replaced(template, leaf, json!(date))));
            }
        }
    }
    if let Some(fields) = template.as_object() {
        for (key, original) in fields {
            for wrong in WRONG_TYPES {
                let wrong: Value = serde_json::from_str(wrong).expect("json");
                if std::mem::discriminant(&wrong) == std::mem::discriminant(original) {
                    continue;
                }
                bodies.push((format!("/{key} = {wrong}"), replaced(template, &format!("/{key}"), wrong)));
            }
        }
        let mut unknown = template.clone();
        unknown["unexpected_field"] = json!(1);
        bodies.push(("an unknown field".into(), unknown));
    }
    bodies
}

fn unusual_bodies(template: &Value) -> Vec<(String, Value)> {
    let mut leaves = Vec::new();
    string_leaves(template, String::new(), &mut leaves);
    leaves
        .iter()
        .flat_map(|leaf| {
            UNUSUAL_TEXTS.iter().map(move |text| (format!("{leaf} = {text:?}"), replaced(template, leaf, json!(text))))
        })
        .collect()
}

async fn footprint(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in TABLES {
        counts.push(app.count(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts
}

#[track_caller]
fn assert_refused(route: &str, what: &str, reply: &Reply) {
    let status = reply.status.as_u16();
    assert!((400..500).contains(&status), "{route} with {what}: {status} {}", reply.text);
    let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(content_type, "application/problem+json", "{route} with {what}: {}", reply.text);
}

backend_test!(bad_input_corpus_on_every_write_route_is_refused_and_changes_nothing, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let dept = app.create_department(&t, "営業部", None).await;
    let emp = app.create_employee(&t, "E1", Some(&dept)).await;
    let other = app.create_employee(&t, "E2", Some(&dept)).await;
    let user = app
        .post(&t, "/api/v1/users", json!({"email": "u1@acme.example", "role": "employee", "employee_id": other}))
        .await
        .expect(201)
        .id();
    let key = "a".repeat(43);
    let settings = json!({"corp_id": "ww1", "agent_id": "1000002", "secret": "s3cret", "token": "tok", "encoding_aes_key": key,
        "api_base_url": "http://127.0.0.1:9", "language": "ja"});
    let integration = app
        .post(&t, "/api/v1/integrations", json!({"platform": "wecom", "name": "w", "settings": settings}))
        .await
        .expect(201)
        .id();
    app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in", "at": "2026-11-30T09:00:00+09:00"}))
        .await
        .expect(201);
    let correction = app
        .post(&t, "/api/v1/corrections", json!({"employee_id": emp, "action": "add", "kind": "clock_out", "at": "2026-11-30T18:00:00+09:00", "reason": "忘れ"}))
        .await
        .expect(201)
        .id();
    app.post(
        &t,
        "/api/v1/shifts",
        json!({"code": "N", "name": "夜勤", "start": "22:00:00", "end": "07:00:00", "breaks": []}),
    )
    .await
    .expect(201);
    let rule = json!({"auto_break": true, "day_boundary": "05:00:00"});
    let routes: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/api/v1/employees".into(),
            json!({"code": "C1", "name": "名前", "email": "c1@acme.example", "timezone": "Asia/Tokyo", "department_id": dept, "mobile": "090-1234-5678"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/employees/{emp}"),
            json!({"name": "名前", "email": "e1@acme.example", "mobile": "090-1234-5678"}),
        ),
        (Method::POST, format!("/api/v1/employees/{emp}/retire"), json!({"on": "2026-12-01"})),
        (Method::POST, "/api/v1/departments".into(), json!({"name": "開発部", "parent_id": dept})),
        (Method::PATCH, format!("/api/v1/departments/{dept}"), json!({"name": "営業一部"})),
        (
            Method::POST,
            "/api/v1/punches".into(),
            json!({"employee_id": emp, "kind": "clock_out", "at": "2026-11-30T18:00:00+09:00", "note": "メモ"}),
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            json!({"email": "u2@acme.example", "role": "employee", "employee_id": emp}),
        ),
        (Method::POST, "/api/v1/tokens".into(), json!({"name": "token", "user_id": user, "role": "employee"})),
        (Method::POST, "/api/v1/integrations".into(), json!({"platform": "wecom", "name": "w2", "settings": settings})),
        (
            Method::PATCH,
            format!("/api/v1/integrations/{integration}"),
            json!({"name": "w3", "settings": {"language": "zh"}}),
        ),
        (
            Method::POST,
            format!("/api/v1/integrations/{integration}/pull"),
            json!({"from": "2026-11-01T00:00:00+09:00", "to": "2026-11-02T00:00:00+09:00"}),
        ),
        (
            Method::POST,
            format!("/api/v1/integrations/{integration}/org-sync"),
            json!({"dry_run": true, "direction": "read"}),
        ),
        (
            Method::POST,
            format!("/api/v1/integrations/{integration}/links"),
            json!({"employee_id": emp, "external_user_id": "zhangsan"}),
        ),
        (
            Method::POST,
            "/api/v1/webhooks".into(),
            json!({"url": "https://hooks.example.com/x", "events": ["punch.created"]}),
        ),
        (Method::PUT, "/api/v1/work-rules".into(), rule.clone()),
        (Method::PUT, format!("/api/v1/departments/{dept}/work-rule"), rule.clone()),
        (Method::PUT, format!("/api/v1/employees/{emp}/work-rule"), rule),
        (
            Method::PUT,
            "/api/v1/calendar".into(),
            json!({"days": [{"date": "2026-12-24", "kind": "company", "name": "イブ"}]}),
        ),
        (
            Method::POST,
            "/api/v1/shifts".into(),
            json!({"code": "D", "name": "日勤", "start": "09:00:00", "end": "18:00:00", "breaks": [{"start": "12:00:00", "end": "13:00:00"}]}),
        ),
        (
            Method::PUT,
            format!("/api/v1/employees/{emp}/roster"),
            json!({"assignments": [{"date": "2026-12-01", "shift_code": "N"}]}),
        ),
        (
            Method::POST,
            "/api/v1/corrections".into(),
            json!({"employee_id": emp, "action": "add", "kind": "break_start", "at": "2026-11-30T12:00:00+09:00", "reason": "忘れ"}),
        ),
        (Method::POST, format!("/api/v1/corrections/{correction}/approve"), json!({"comment": "了解"})),
        (Method::POST, format!("/api/v1/timesheets/{emp}/2026-11/submit"), json!({"comment": "提出"})),
    ];
    let mut sent = 0;
    for (method, path, template) in &routes {
        let route = format!("{method} {path}");
        let before = footprint(&app).await;
        for (what, body) in bad_bodies(template) {
            let reply = app.request(method.clone(), Some(&t), path, Some(body)).await;
            assert_refused(&route, &what, &reply);
            sent += 1;
        }
        // Not JSON at all, and not an object.
        for raw in ["{\"a\": ", "[]", "12", "\"text\""] {
            let reply = app
                .client
                .request(method.clone(), format!("{}{path}", app.base))
                .bearer_auth(&t)
                .header("content-type", "application/json")
                .body(raw)
                .send()
                .await
                .expect("sent");
            assert_refused(&route, raw, &crate::helpers::read(reply).await);
        }
        assert_eq!(footprint(&app).await, before, "{route}: a refused request stored something");
    }
    // Unusual text is stored as given or refused with a problem, never a server error.
    for (method, path, template) in &routes {
        for (what, body) in unusual_bodies(template) {
            let reply = app.request(method.clone(), Some(&t), path, Some(body)).await;
            let status = reply.status.as_u16();
            assert!(status < 500, "{method} {path} with {what}: {status} {}", reply.text);
            if status >= 400 {
                assert_refused(&format!("{method} {path}"), &what, &reply);
            }
        }
    }
    // Path ids that are malformed, another kind's, or absent: 404 on every route that takes one.
    for (method, path) in [
        (Method::DELETE, "/api/v1/departments/not-an-id"),
        (Method::DELETE, "/api/v1/tokens/%00"),
        (Method::DELETE, "/api/v1/webhooks/01a2359d-7da8-7177-94b1-728503d9dc9e"),
        (Method::POST, "/api/v1/jobs/'%20OR%201=1/retry"),
        (Method::POST, "/api/v1/employees/%E2%80%AE/link-code"),
        (Method::POST, "/api/v1/users/x%00y/password-link"),
        (Method::POST, "/api/v1/integrations/..%2F..%2Fetc/test"),
    ] {
        let reply = app.request(method.clone(), Some(&t), path, Some(json!({}))).await;
        assert_refused(&format!("{method} {path}"), "a bad id", &reply);
    }
    // Lists: cursors this server never issued, limits of the wrong kind, unknown parameters.
    use base64::Engine;
    let b64 = |raw: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
    let queries = [
        format!("cursor={}", b64("\0")),
        format!("cursor={}", b64("x\u{202E}")),
        "cursor=%00".to_owned(),
        "cursor=not*base64".to_owned(),
        "limit=0".to_owned(),
        "limit=-1".to_owned(),
        "limit=100000".to_owned(),
        "limit=ten".to_owned(),
        "limit=99999999999999999999".to_owned(),
        "unexpected=1".to_owned(),
    ];
    for list in [
        "/api/v1/employees".to_owned(),
        "/api/v1/departments".to_owned(),
        "/api/v1/punches".to_owned(),
        "/api/v1/users".to_owned(),
        "/api/v1/tokens".to_owned(),
        "/api/v1/integrations".to_owned(),
        format!("/api/v1/integrations/{integration}/calls"),
        "/api/v1/audit".to_owned(),
        "/api/v1/jobs".to_owned(),
    ] {
        for query in &queries {
            let reply = app.get(&t, &format!("{list}?{query}")).await;
            assert_refused(&format!("GET {list}"), query, &reply);
            sent += 1;
        }
    }
    assert!(sent > 600, "the corpus is as large as it should be: {sent}");
    app.shutdown().await;
});
