//! The API's main flows: departments, employees, punches, tokens, integrations, audit.

use crate::backend_test;
use crate::helpers::TestDb;
use serde_json::json;

backend_test!(departments_and_employees_round_trip, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let root = app.create_department(&t, "本社", None).await;
    let sales = app
        .post(&t, "/api/v1/departments", json!({"name": "営業部", "code": "SALES", "parent_id": root}))
        .await
        .expect(201);
    assert_eq!(sales.body["parent_id"], json!(root));
    let sales = sales.id();

    let created = app
        .post(&t, "/api/v1/employees", json!({"code": "E-001", "name": "山田 太郎", "email": "taro@acme.example", "timezone": "Asia/Tokyo", "department_id": sales}))
        .await
        .expect(201);
    let id = created.id();
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["department_id"], json!(sales));

    let got = app.get(&t, &format!("/api/v1/employees/{id}")).await.expect(200);
    assert_eq!(got.body["name"], "山田 太郎");

    let patched = app
        .patch(&t, &format!("/api/v1/employees/{id}"), json!({"name": "山田 花子", "email": null}))
        .await
        .expect(200);
    assert_eq!(patched.body["name"], "山田 花子");
    assert_eq!(patched.body["email"], json!(null));
    assert_eq!(patched.body["timezone"], "Asia/Tokyo", "fields not named stay");

    let retired =
        app.post(&t, &format!("/api/v1/employees/{id}/retire"), json!({"on": "2026-12-31"})).await.expect(200);
    assert_eq!(retired.body["status"], "retired");
    assert_eq!(retired.body["retired_on"], "2026-12-31");
    app.post(&t, &format!("/api/v1/employees/{id}/retire"), json!({})).await.expect_problem(409);

    let active = app.list_all(&t, "/api/v1/employees?status=active").await;
    assert!(active.is_empty());
    let retired = app.list_all(&t, "/api/v1/employees?status=retired").await;
    assert_eq!(retired.len(), 1);

    // A department with people in it is kept; an empty one can go.
    app.delete(&t, &format!("/api/v1/departments/{sales}")).await.expect_problem(409);
    let empty = app.create_department(&t, "空き", Some(&root)).await;
    app.delete(&t, &format!("/api/v1/departments/{empty}")).await.expect(204);
    app.get(&t, &format!("/api/v1/departments/{empty}")).await.expect_problem(404);
    app.shutdown().await;
});

backend_test!(pagination_walks_every_item_once, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    for i in 0..23 {
        app.create_employee(&t, &format!("P{i:03}"), None).await;
    }
    let first = app.get(&t, "/api/v1/employees?limit=10").await.expect(200);
    assert_eq!(first.body["items"].as_array().map(Vec::len), Some(10));
    assert!(first.body["next_cursor"].is_string());
    let all = app.list_all(&t, "/api/v1/employees?limit=10").await;
    let mut codes: Vec<_> = all.iter().map(|e| e["code"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(codes.len(), 23);
    codes.dedup();
    assert_eq!(codes.len(), 23);
    app.shutdown().await;
});

backend_test!(punches_are_recorded_listed_and_idempotent, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = app.create_employee(&t, "E1", None).await;
    let body = json!({"employee_id": emp, "kind": "clock_in", "at": "2026-11-02T09:00:00+09:00", "note": "始業", "location": {"latitude": 35.68, "longitude": 139.76, "label": "本社"}});
    let key = "punch-2026-11-02-E1";
    let first = app
        .client
        .post(format!("{}/api/v1/punches", app.base))
        .bearer_auth(&t)
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let first = crate::helpers::read(first).await.expect(201);
    assert_eq!(first.body["at"], "2026-11-02T00:00:00Z");
    assert_eq!(first.body["source"], "api");
    assert_eq!(first.body["kind"], "clock_in");

    // The same key and body again: the first answer, nothing new stored.
    let again = crate::helpers::read(
        app.client
            .post(format!("{}/api/v1/punches", app.base))
            .bearer_auth(&t)
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .expect("sent"),
    )
    .await
    .expect(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.headers.get("idempotent-replayed").and_then(|v| v.to_str().ok()), Some("true"));
    assert_eq!(app.count("SELECT COUNT(*) FROM punches").await, 1);

    for (kind, at) in [
        ("break_start", "2026-11-02T12:00:00+09:00"),
        ("break_end", "2026-11-02T13:00:00+09:00"),
        ("clock_out", "2026-11-02T18:00:00+09:00"),
    ] {
        app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": kind, "at": at})).await.expect(201);
    }
    let listed = app.list_all(&t, &format!("/api/v1/punches?employee_id={emp}&from=2026-11-02T00:00:00%2B09:00&to=2026-11-03T00:00:00%2B09:00&limit=2")).await;
    let kinds: Vec<_> = listed.iter().map(|p| p["kind"].as_str().unwrap_or_default()).collect();
    assert_eq!(kinds, ["clock_in", "break_start", "break_end", "clock_out"], "in time order across pages");
    let one = app.get(&t, &format!("/api/v1/punches/{}", first.id())).await.expect(200);
    assert_eq!(one.body["note"], "始業");
    app.shutdown().await;
});

backend_test!(tokens_are_shown_once_hashed_and_revocable, |db: TestDb| async move {
    let app = db.spawn().await;
    let issued = app.post(&app.admin_token, "/api/v1/tokens", json!({"name": "payroll export"})).await.expect(201);
    let token = issued.body["token"].as_str().expect("token").to_owned();
    let id = issued.id();
    app.get(&token, "/api/v1/me").await.expect(200);
    let listed = app.get(&app.admin_token, "/api/v1/tokens").await.expect(200);
    assert!(!listed.text.contains(&token), "the secret is never listed");
    let stored = app
        .count(&format!(
            "SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{}'",
            dakoku_service::auth::hash_token(&token)
        ))
        .await;
    assert_eq!(stored, 1, "stored as its hash");
    let plain = app.count(&format!("SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{token}'")).await;
    assert_eq!(plain, 0);
    app.delete(&app.admin_token, &format!("/api/v1/tokens/{id}")).await.expect(200);
    app.get(&token, "/api/v1/me").await.expect_problem(401);
    // A token cannot be widened beyond its owner's role.
    let emp = app.create_employee(&app.admin_token, "E1", None).await;
    let employee_token = app.user_token("employee", Some(&emp), None).await;
    app.post(&employee_token, "/api/v1/tokens", json!({"name": "x", "role": "admin"})).await.expect_problem(422);
    app.post(&employee_token, "/api/v1/tokens", json!({"name": "x"})).await.expect(201);
    app.shutdown().await;
});

backend_test!(every_change_is_audited_with_before_and_after, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = app.create_employee(&t, "A1", None).await;
    app.patch(&t, &format!("/api/v1/employees/{emp}"), json!({"name": "新しい名前"})).await.expect(200);
    let entries = app.list_all(&t, &format!("/api/v1/audit?object_type=employee&object_id={emp}")).await;
    let actions: Vec<_> = entries.iter().map(|e| e["action"].as_str().unwrap_or_default()).collect();
    assert_eq!(actions, ["employee.update", "employee.create"], "newest first");
    assert_eq!(entries[0]["before"]["name"], "社員 A1");
    assert_eq!(entries[0]["after"]["name"], "新しい名前");
    assert!(entries[0]["actor"].as_str().is_some_and(|a| a.starts_with("user:")));
    assert!(entries[0]["request_id"].as_str().is_some_and(|r| !r.is_empty()));
    app.post(&t, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in"})).await.expect(201);
    let punches = app.list_all(&t, "/api/v1/audit?action=punch.create").await;
    assert_eq!(punches.len(), 1);
    app.shutdown().await;
});

backend_test!(integration_secrets_are_sealed_and_never_echoed, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let secrets = ["CLIENT-SECRET-c0ffee", "-----BEGIN PRIVATE KEY-----MIIsecretkey", "BOT-SECRET-deadbeef"];
    let created = app
        .post(&t, "/api/v1/integrations", json!({"platform": "lineworks", "name": "LINE WORKS 本番", "settings": {
            "client_id": "cid", "client_secret": secrets[0], "service_account": "sa@example", "private_key": secrets[1],
            "bot_id": "1234", "bot_secret": secrets[2], "keywords": {"clock_in": ["出勤", "おはよう"]}
        }}))
        .await
        .expect(201);
    let id = created.id();
    let callback = created.body["callback_url"].as_str().expect("callback url").to_owned();
    assert!(callback.starts_with("http://") && callback.contains("/hooks/lineworks/"));
    let mut seen = created.text.clone();
    seen.push_str(&app.get(&t, &format!("/api/v1/integrations/{id}")).await.expect(200).text);
    seen.push_str(&app.get(&t, "/api/v1/integrations").await.expect(200).text);
    seen.push_str(&app.get(&t, "/api/v1/audit").await.expect(200).text);
    for secret in secrets {
        assert!(!seen.contains(secret), "secret {secret} leaked into an API answer");
    }
    assert!(created.body["secrets_set"].as_array().is_some_and(|s| s.len() == 3));
    assert_eq!(created.body["settings"]["keywords"]["clock_in"][1], "おはよう");
    let again = app.get(&t, &format!("/api/v1/integrations/{id}")).await.expect(200);
    assert_eq!(again.body["callback_url"], json!(callback), "the callback URL can be shown again");

    // Nothing in the database holds a secret in plain text.
    let dump = database_text(&app).await;
    for secret in secrets {
        assert!(!dump.contains(secret), "secret {secret} stored in plain text");
    }
    // The adapters can open them again with the master key.
    let token = callback.rsplit('/').next().expect("token");
    let open =
        app.service.open_integration_by_callback(dakoku_domain::Platform::LineWorks, token).await.expect("opens");
    assert_eq!(open.secrets["bot_secret"], secrets[2]);

    // Missing credentials are named.
    let bad = app
        .post(&t, "/api/v1/integrations", json!({"platform": "wecom", "name": "x", "settings": {"corp_id": "c"}}))
        .await
        .expect_problem(422);
    assert!(bad.text.contains("settings.secret") && bad.text.contains("settings.agent_id"));
    app.shutdown().await;
});

/// Every text value in the tables that could hold a secret, for leak checks.
pub async fn database_text(app: &crate::helpers::TestApp) -> String {
    use sqlx::Row;
    let mut all = String::new();
    for (table, columns) in [
        ("integrations", "settings || secrets_sealed || callback_token_sealed || callback_token_hash"),
        ("audit_log", "COALESCE(before_json, '') || COALESCE(after_json, '')"),
        ("webhooks", "secret_sealed || url"),
        ("jobs", "payload"),
    ] {
        let rows = sqlx::query(&format!("SELECT {columns} AS t FROM {table}"))
            .fetch_all(&app.service.db.pool)
            .await
            .expect("dump");
        for row in rows {
            all.push_str(&row.try_get::<String, _>("t").unwrap_or_default());
        }
    }
    if app.db.backend == crate::helpers::Backend::Sqlite {
        for suffix in ["", "-wal"] {
            let path = format!("{}{suffix}", app.db.sqlite_path().display());
            if let Ok(bytes) = std::fs::read(path) {
                all.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
    all
}

backend_test!(openapi_documents_every_route, |db: TestDb| async move {
    let app = db.spawn().await;
    let doc = app.request(reqwest::Method::GET, None, "/api/v1/openapi.json", None).await.expect(200);
    assert!(doc.body["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    let paths = doc.body["paths"].as_object().expect("paths");
    let mut documented: Vec<String> = paths
        .iter()
        .flat_map(|(path, ops)| ops.as_object().into_iter().flat_map(|o| o.keys()).map(move |m| format!("{m} {path}")))
        .collect();
    documented.sort();
    let mut expected: Vec<String> = [
        "get /api/v1/audit",
        "get /api/v1/departments",
        "post /api/v1/departments",
        "delete /api/v1/departments/{id}",
        "get /api/v1/departments/{id}",
        "patch /api/v1/departments/{id}",
        "get /api/v1/employees",
        "post /api/v1/employees",
        "get /api/v1/employees/{id}",
        "patch /api/v1/employees/{id}",
        "post /api/v1/employees/{id}/retire",
        "post /api/v1/employees/{id}/link-code",
        "get /api/v1/integrations",
        "post /api/v1/integrations",
        "get /api/v1/integrations/{id}",
        "patch /api/v1/integrations/{id}",
        "post /api/v1/integrations/{id}/test",
        "post /api/v1/integrations/{id}/pull",
        "post /api/v1/integrations/{id}/org-sync",
        "get /api/v1/integrations/{id}/org-sync",
        "get /api/v1/integrations/{id}/calls",
        "get /api/v1/integrations/{id}/links",
        "post /api/v1/integrations/{id}/links",
        "get /api/v1/jobs",
        "post /api/v1/jobs/{id}/retry",
        "get /api/v1/me",
        "get /api/v1/punches",
        "post /api/v1/punches",
        "get /api/v1/punches/{id}",
        "get /api/v1/tokens",
        "post /api/v1/tokens",
        "delete /api/v1/tokens/{id}",
        "get /api/v1/users",
        "post /api/v1/users",
        "post /api/v1/users/{id}/password-link",
        "get /api/v1/webhooks",
        "post /api/v1/webhooks",
        "delete /api/v1/webhooks/{id}",
        "get /api/v1/timesheets/{employee_id}",
        "post /api/v1/timesheets/{employee_id}/{month}/{action}",
        "get /api/v1/work-rules",
        "put /api/v1/work-rules",
        "put /api/v1/departments/{id}/work-rule",
        "get /api/v1/employees/{id}/work-rule",
        "put /api/v1/employees/{id}/work-rule",
        "get /api/v1/calendar",
        "put /api/v1/calendar",
        "get /api/v1/shifts",
        "post /api/v1/shifts",
        "put /api/v1/employees/{id}/roster",
        "get /api/v1/corrections",
        "post /api/v1/corrections",
        "post /api/v1/corrections/{id}/{decision}",
        "get /api/v1/exports/payroll",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.sort();
    assert_eq!(documented, expected, "the OpenAPI document lists exactly the routes served");
    // Documented routes are served (an unknown id is 404, not 405 or a missing route).
    for path in [
        "/api/v1/employees/00000000-0000-7000-8000-000000000000",
        "/api/v1/punches/00000000-0000-7000-8000-000000000000",
    ] {
        app.get(&app.admin_token, path).await.expect_problem(404);
    }
    let health = app.request(reqwest::Method::GET, None, "/healthz", None).await.expect(200);
    assert_eq!(health.text, "ok");
    app.request(reqwest::Method::GET, None, "/readyz", None).await.expect(200);
    let metrics = app.request(reqwest::Method::GET, None, "/metrics", None).await.expect(200);
    assert!(metrics.text.contains("dakoku_http_requests_total"));
    app.shutdown().await;
});

backend_test!(a_redelivered_platform_event_is_stored_once, |db: TestDb| async move {
    use dakoku_service::punches::{NewPunch, Recorded};
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let emp = app.create_employee(&t, "E1", None).await;
    let integration = app
        .post(
            &t,
            "/api/v1/integrations",
            json!({"platform": "dingtalk", "name": "钉钉", "settings": {"app_key": "k", "app_secret": "s"}}),
        )
        .await
        .expect(201)
        .id();
    let org = app.get(&t, "/api/v1/me").await.expect(200).body["organization_id"].as_str().expect("org").to_owned();
    let mut ctx = dakoku_service::Ctx::cli(dakoku_domain::OrgId::parse(&org).expect("org id"));
    let integration_id = dakoku_domain::IntegrationId::parse(&integration).expect("id");
    ctx.recorder = dakoku_domain::Recorder::Integration(integration_id.clone());
    let event = || NewPunch {
        employee_id: dakoku_domain::EmployeeId::parse(&emp).expect("id"),
        kind: dakoku_domain::PunchKind::ClockIn,
        at: None,
        note: None,
        location: None,
        source: dakoku_domain::PunchSource::DingTalk,
        integration_id: Some(integration_id.clone()),
        external_event_id: Some("evt-42".into()),
    };
    let Recorded::Created(first) = app.service.record_punch(&ctx, event(), None).await.expect("first delivery") else {
        panic!("the first delivery creates the punch")
    };
    let Recorded::AlreadyStored(again) = app.service.record_punch(&ctx, event(), None).await.expect("redelivery")
    else {
        panic!("a redelivery is not stored again")
    };
    assert_eq!(first.id, again.id);
    // Even after the month was submitted, a redelivery is answered, not refused.
    let month = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("%Y-%m").to_string();
    app.post(&t, &format!("/api/v1/timesheets/{emp}/{month}/submit"), json!({})).await.expect(200);
    assert!(matches!(app.service.record_punch(&ctx, event(), None).await, Ok(Recorded::AlreadyStored(_))));
    assert_eq!(app.count("SELECT COUNT(*) FROM punches").await, 1);
    let listed = app.get(&t, &format!("/api/v1/punches?employee_id={emp}")).await.expect(200);
    assert_eq!(listed.body["items"][0]["source"], "dingtalk");
    assert_eq!(listed.body["items"][0]["recorded_by"], format!("integration:{integration}"));
    assert_eq!(listed.body["items"][0]["external_event_id"], "evt-42");
    app.shutdown().await;
});

backend_test!(readiness_follows_the_database, |db: TestDb| async move {
    let app = db.spawn().await;
    app.request(reqwest::Method::GET, None, "/readyz", None).await.expect(200);
    app.service.db.close().await;
    let down = app.request(reqwest::Method::GET, None, "/readyz", None).await.expect(503);
    assert!(down.text.contains("database"));
    app.request(reqwest::Method::GET, None, "/healthz", None).await.expect(200);
    app.shutdown().await;
});
