//! Bad input of every kind gets a clear problem+json answer and changes nothing.

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use reqwest::Method;
use serde_json::json;

/// How many rows the tables a bad request could touch hold.
async fn footprint(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "employees",
        "departments",
        "punches",
        "audit_log",
        "idempotency_keys",
        "users",
        "api_tokens",
        "integrations",
        "jobs",
    ] {
        counts.push(app.count(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts
}

backend_test!(malformed_and_invalid_bodies_change_nothing, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = app.create_employee(&t, "E1", None).await;
    let dept = app.create_department(&t, "営業", None).await;
    let before = footprint(&app).await;

    // Malformed JSON and the wrong media type.
    app.post_raw(&t, "/api/v1/employees", "application/json", "{\"code\": \"X\",").await.expect_problem(400);
    app.post_raw(&t, "/api/v1/punches", "application/json", "not json").await.expect_problem(400);
    app.post_raw(&t, "/api/v1/employees", "text/plain", "{}").await.expect_problem(415);
    // Wrong types, missing and unknown fields.
    app.post(&t, "/api/v1/employees", json!({"code": 12, "name": "x"})).await.expect_problem(422);
    app.post(&t, "/api/v1/employees", json!({"name": "no code"})).await.expect_problem(422);
    let unknown =
        app.post(&t, "/api/v1/employees", json!({"code": "E9", "name": "x", "salary": 1})).await.expect_problem(422);
    assert!(unknown.text.contains("salary"), "names the unknown field: {}", unknown.text);
    app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": "lunch"})).await.expect_problem(422);
    // Invalid values: each field named.
    let invalid = app
        .post(&t, "/api/v1/employees", json!({"code": "a b", "name": "", "email": "nope", "timezone": "Mars/Olympus"}))
        .await
        .expect_problem(422);
    let fields: Vec<_> = invalid.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(fields, ["code", "name", "email", "timezone"]);
    // Bad time formats.
    for at in ["2026-11-02 09:00", "2026-11-02T09:00:00", "yesterday", "2026-13-01T00:00:00Z"] {
        app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in", "at": at}))
            .await
            .expect_problem(422);
    }
    app.get(&t, "/api/v1/punches?from=2026-11-02").await.expect_problem(400);
    // Times that make no sense for the caller.
    app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in", "at": "2099-01-01T00:00:00Z"}))
        .await
        .expect_problem(422);
    app.get(&t, "/api/v1/punches?from=2026-11-03T00:00:00Z&to=2026-11-02T00:00:00Z").await.expect_problem(422);
    // Unknown ids.
    app.post(&t, "/api/v1/punches", json!({"employee_id": "00000000-0000-7000-8000-000000000000", "kind": "clock_in"}))
        .await
        .expect_problem(422);
    app.post(&t, "/api/v1/punches", json!({"employee_id": "not-an-id", "kind": "clock_in"})).await.expect_problem(422);
    app.get(&t, "/api/v1/employees/not-an-id").await.expect_problem(404);
    app.patch(&t, "/api/v1/employees/00000000-0000-7000-8000-000000000000", json!({"name": "x"}))
        .await
        .expect_problem(404);
    app.post(
        &t,
        "/api/v1/employees",
        json!({"code": "E2", "name": "x", "department_id": "00000000-0000-7000-8000-000000000000"}),
    )
    .await
    .expect_problem(422);
    // Duplicates and conflicts.
    let dup = app.post(&t, "/api/v1/employees", json!({"code": "E1", "name": "again"})).await.expect_problem(409);
    assert!(dup.text.contains("E1"));
    app.patch(&t, &format!("/api/v1/departments/{dept}"), json!({"parent_id": dept})).await.expect_problem(422);
    // Paging input.
    app.get(&t, "/api/v1/employees?cursor=%%%").await.expect_problem(400);
    app.get(&t, "/api/v1/employees?limit=0").await.expect_problem(422);
    app.get(&t, "/api/v1/employees?limit=many").await.expect_problem(400);
    app.get(&t, "/api/v1/employees?colour=blue").await.expect_problem(400);
    // Credentials and routes.
    app.request(Method::GET, None, "/api/v1/employees", None).await.expect_problem(401);
    app.request(Method::GET, Some("dkk_not-a-real-token"), "/api/v1/employees", None).await.expect_problem(401);
    app.request(Method::GET, Some("garbage"), "/api/v1/employees", None).await.expect_problem(401);
    app.get(&t, "/api/v1/nothing-here").await.expect_problem(404);
    app.request(Method::PUT, Some(&t), "/api/v1/employees", Some(json!({}))).await.expect_problem(405);

    assert_eq!(footprint(&app).await, before, "no bad request stored anything");
    app.shutdown().await;
});

backend_test!(oversized_bodies_are_refused, |db: TestDb| async move {
    let app = db.spawn().await;
    let before = footprint(&app).await;
    let huge = format!("{{\"code\": \"BIG\", \"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    app.post_raw(&app.admin_token, "/api/v1/employees", "application/json", huge).await.expect_problem(413);
    // Long but within the limit: refused by validation instead.
    app.post(&app.admin_token, "/api/v1/employees", json!({"code": "LONG", "name": "x".repeat(10_000)}))
        .await
        .expect_problem(422);
    assert_eq!(footprint(&app).await, before);
    app.shutdown().await;
});

backend_test!(idempotency_key_reused_with_another_body_is_refused, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = app.create_employee(&t, "E1", None).await;
    let send = |body: serde_json::Value, key: &'static str| {
        let request = app
            .client
            .post(format!("{}/api/v1/punches", app.base))
            .bearer_auth(&t)
            .header("idempotency-key", key)
            .json(&body);
        async move { crate::helpers::read(request.send().await.expect("sent")).await }
    };
    send(json!({"employee_id": emp, "kind": "clock_in"}), "k-1").await.expect(201);
    let before = footprint(&app).await;
    let clash = send(json!({"employee_id": emp, "kind": "clock_out"}), "k-1").await.expect_problem(422);
    assert!(clash.text.contains("Idempotency-Key"));
    send(json!({"employee_id": emp, "kind": "clock_in"}), "k-1").await.expect(201);
    assert_eq!(footprint(&app).await, before);
    // A key that is not visible ASCII is malformed.
    let weird = app
        .client
        .post(format!("{}/api/v1/punches", app.base))
        .bearer_auth(&t)
        .header("idempotency-key", "a b")
        .json(&json!({"employee_id": emp, "kind": "clock_in"}))
        .send()
        .await
        .expect("sent");
    crate::helpers::read(weird).await.expect_problem(400);
    assert_eq!(footprint(&app).await, before);
    app.shutdown().await;
});

backend_test!(retired_employees_and_past_self_punches_are_refused, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = app.create_employee(&t, "E1", None).await;
    let own = app.user_token("employee", Some(&emp), None).await;
    app.post(&own, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in"})).await.expect(201);
    let past = app
        .post(
            &own,
            "/api/v1/punches",
            json!({"employee_id": emp, "kind": "clock_out", "at": "2026-01-05T18:00:00+09:00"}),
        )
        .await
        .expect_problem(422);
    assert!(past.text.contains("correction"));
    // HR may enter a past punch for someone.
    app.post(
        &t,
        "/api/v1/punches",
        json!({"employee_id": emp, "kind": "clock_out", "at": "2026-01-05T18:00:00+09:00"}),
    )
    .await
    .expect(201);
    app.post(&t, &format!("/api/v1/employees/{emp}/retire"), json!({})).await.expect(200);
    let retired =
        app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in"})).await.expect_problem(422);
    assert!(retired.text.contains("retired"));
    assert_eq!(app.count("SELECT COUNT(*) FROM punches").await, 2);
    app.shutdown().await;
});
