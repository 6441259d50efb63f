//! The hardening review's findings, each reproduced as the attack or accident it was, on both
//! backends where storage is involved. Tests are named after the finding they keep fixed.

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use crate::web::{field, person, Visitor, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

/// Secret values every platform integration below is given, to be looked for everywhere.
pub const SECRETS: [&str; 6] = [
    "CorpSecretValue0000000000000000001",
    "DingAppSecretValue0000000000000002",
    "LineClientSecretValue000000000003",
    "LineBotSecretValue000000000000004",
    "WeComTokenValue5",
    "DingTokenValue6",
];

/// A loopback server that fails every request in the given way.
pub async fn failing_platform(mode: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    if mode == "refused" {
        // Nothing listens there once the listener is gone: connections are refused.
        drop(listener);
        return base;
    }
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buffer = vec![0u8; 16 * 1024];
                let _ = socket.read(&mut buffer).await;
                let answer = match mode {
                    "timeout" => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    "4xx" => "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 43\r\n\r\n{\"errcode\": 40013, \"errmsg\": \"invalid id\"}\n",
                    _ => "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\ncontent-length: 5\r\n\r\noops\n",
                };
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    base
}

pub fn settings_for(platform: &str, base: &str) -> Value {
    let key = "a".repeat(43);
    match platform {
        "wecom" => json!({"corp_id": "ww1", "agent_id": "1000002", "secret": SECRETS[0], "token": SECRETS[4],
            "encoding_aes_key": key, "api_base_url": base}),
        "dingtalk" => json!({"app_key": "dingkey", "app_secret": SECRETS[1], "token": SECRETS[5], "aes_key": key,
            "oapi_base_url": base}),
        _ => json!({"client_id": "client", "client_secret": SECRETS[2], "service_account": "svc@acme",
            "private_key": dakoku_sim::lineworks::TEST_PRIVATE_KEY, "bot_id": "1", "bot_secret": SECRETS[3],
            "auth_base_url": base, "api_base_url": base}),
    }
}

#[track_caller]
fn assert_no_secret(surface: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{surface} shows a secret: {text}");
    }
    assert!(!text.contains("corpsecret=") && !text.contains("appsecret="), "{surface} shows a URL query: {text}");
}

/// Every text column of the tables an integration's failures reach (PostgreSQL has no file
/// to read as bytes).
async fn stored_texts(app: &TestApp) -> String {
    use sqlx::Row;
    let mut all = String::new();
    for sql in [
        "SELECT COALESCE(detail, '') FROM platform_calls",
        "SELECT COALESCE(last_error, '') || ' ' || payload FROM jobs",
        "SELECT COALESCE(after_json, '') || COALESCE(before_json, '') FROM audit_log",
        "SELECT settings FROM integrations",
    ] {
        for row in sqlx::query(sql).fetch_all(&app.service.db.pool).await.expect(sql) {
            all.push_str(&row.try_get::<String, _>(0).unwrap_or_default());
            all.push('\n');
        }
    }
    all
}

backend_test!(finding_01_platform_secrets_never_leak_through_call_errors, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let mut created = Vec::new();
    for platform in ["wecom", "dingtalk", "lineworks"] {
        for mode in ["refused", "timeout", "4xx", "5xx"] {
            let base = failing_platform(mode).await;
            let body = json!({"platform": platform, "name": format!("{platform} {mode}"), "settings": settings_for(platform, &base)});
            created.push((platform, mode, app.post(&t, "/api/v1/integrations", body).await.expect(201).id()));
        }
    }
    // Connection tests (the timeouts among them take the client's 15 s, so all run at once).
    let paths: Vec<String> = created.iter().map(|(_, _, id)| format!("/api/v1/integrations/{id}/test")).collect();
    let tests = paths.iter().map(|path| app.post(&t, path, json!({})));
    for (report, (platform, mode, _)) in futures::future::join_all(tests).await.into_iter().zip(&created) {
        let report = report.expect(200);
        assert_eq!(report.body["ok"], false, "{platform} {mode}: {}", report.text);
        assert_no_secret(&format!("{platform} {mode} connection test"), &report.text);
    }
    // Org syncs through the job queue, so the failures reach jobs and the operation log.
    for (platform, mode, id) in &created {
        if *platform != "lineworks" && *mode != "timeout" {
            let sync = json!({"direction": "read"});
            app.post(&t, &format!("/api/v1/integrations/{id}/org-sync"), sync).await.expect(202);
        }
    }
    app.run_jobs().await;
    let mut jobs = String::new();
    for status in ["queued", "dead", "done"] {
        jobs.push_str(&app.get(&t, &format!("/api/v1/jobs?status={status}&limit=500")).await.expect(200).text);
    }
    assert!(jobs.contains("cannot reach"), "the jobs record the failure: {jobs}");
    assert_no_secret("jobs", &jobs);
    for (platform, mode, id) in &created {
        let calls = app.get(&t, &format!("/api/v1/integrations/{id}/calls")).await.expect(200);
        assert_no_secret(&format!("{platform} {mode} call log"), &calls.text);
    }
    // The admin's web page of integrations, with its last failed calls.
    let admin = person(&app, "admin", None, None).await;
    let mut visitor = Visitor::new(&app);
    visitor.sign_in(&admin, PASSWORD).await;
    let page = visitor.get("/admin/integrations").await;
    assert_eq!(page.status, 200);
    assert_no_secret("integrations page", &page.body);
    let csrf = field(&page.body, "csrf");
    let tested = visitor.post(&format!("/admin/integrations/{}/test", created[0].2), &[("csrf", &csrf)]).await;
    assert_no_secret("web connection test", &tested.body);
    // What is stored: every text the failures reached, and for SQLite the raw file bytes.
    assert_no_secret("database", &stored_texts(&app).await);
    if app.db.backend == crate::helpers::Backend::Sqlite {
        for suffix in ["", "-wal"] {
            let path = format!("{}{suffix}", app.db.sqlite_path().display());
            let bytes = std::fs::read(&path).unwrap_or_default();
            for secret in SECRETS {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{path} holds a secret in clear");
            }
        }
    }
    app.shutdown().await;
});

backend_test!(finding_02_platform_hosts_cannot_be_redirected_by_default, |db: TestDb| async move {
    let app = db.spawn_with(&[("DAKOKU_ALLOW_PLATFORM_HOSTS", "")]).await;
    let t = app.admin_token.clone();
    let before = app.count("SELECT COUNT(*) FROM integrations").await;
    let refused = app
        .post(
            &t,
            "/api/v1/integrations",
            json!({"platform": "wecom", "name": "x", "settings": settings_for("wecom", "https://attacker.example")}),
        )
        .await
        .expect_problem(422);
    assert!(
        refused.text.contains("api_base_url") && refused.text.contains("DAKOKU_ALLOW_PLATFORM_HOSTS"),
        "{}",
        refused.text
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM integrations").await, before);
    // Without a host override the integration is fine, and a later override is refused too.
    let mut settings = settings_for("dingtalk", "");
    settings.as_object_mut().expect("object").remove("oapi_base_url");
    let id = app
        .post(&t, "/api/v1/integrations", json!({"platform": "dingtalk", "name": "d", "settings": settings}))
        .await
        .expect(201)
        .id();
    app.patch(
        &t,
        &format!("/api/v1/integrations/{id}"),
        json!({"settings": {"oapi_base_url": "https://attacker.example"}}),
    )
    .await
    .expect_problem(422);
    app.shutdown().await;
});

backend_test!(finding_02_a_new_platform_host_needs_the_secrets_again, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let id = app
        .post(
            &t,
            "/api/v1/integrations",
            json!({"platform": "wecom", "name": "w", "settings": settings_for("wecom", "http://127.0.0.1:9")}),
        )
        .await
        .expect(201)
        .id();
    let path = format!("/api/v1/integrations/{id}");
    let moved =
        app.patch(&t, &path, json!({"settings": {"api_base_url": "http://127.0.0.2:9"}})).await.expect_problem(422);
    assert!(moved.text.contains("settings.secret"), "the secret must be given again: {}", moved.text);
    let stored = app.get(&t, &path).await.expect(200);
    assert_eq!(stored.body["settings"]["api_base_url"], "http://127.0.0.1:9");
    app.patch(&t, &path, json!({"settings": {"api_base_url": "http://127.0.0.2:9", "secret": "new-secret"}}))
        .await
        .expect(200);
    // Other changes need no secrets.
    app.patch(&t, &path, json!({"settings": {"language": "zh"}})).await.expect(200);
    app.shutdown().await;
});

/// A host name other than `localhost` that /etc/hosts maps to a loopback address.
fn loopback_name() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().map(|l| l.split('#').next().unwrap_or_default()).find_map(|line| {
        let mut words = line.split_whitespace();
        let address: std::net::IpAddr = words.next()?.parse().ok()?;
        address.is_loopback().then(|| words.find(|w| !w.contains("localhost")).map(str::to_owned)).flatten()
    })
}

backend_test!(finding_03_webhooks_to_internal_addresses_are_refused, |db: TestDb| async move {
    let app = db.spawn_with(&[("DAKOKU_ALLOW_PRIVATE_WEBHOOKS", "")]).await;
    let t = app.admin_token.clone();
    // Literal internal addresses in every spelling are refused when the subscription is made.
    for url in [
        "http://169.254.169.254/latest/meta-data",
        "http://127.1:8080/",
        "http://[::1]/",
        "http://0x7f000001/",
        "http://localhost./x",
        "http://10.0.0.5/",
    ] {
        let refused = app.post(&t, "/api/v1/webhooks", json!({"url": url, "events": ["punch.created"]})).await;
        refused.expect_problem(422);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM webhooks").await, 0);
    // A name that resolves to an internal address is refused when the delivery connects
    // (DNS rebinding). This machine's own name maps to loopback in /etc/hosts.
    let Some(name) = loopback_name() else {
        eprintln!("*** no name other than localhost maps to loopback here; the resolver check was skipped");
        return app.shutdown().await;
    };
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = receiver.local_addr().expect("address").port();
    app.post(&t, "/api/v1/webhooks", json!({"url": format!("http://{name}:{port}/hook"), "events": ["punch.created"]}))
        .await
        .expect(201);
    let employee = app.create_employee(&t, "E1", None).await;
    app.post(&t, "/api/v1/punches", json!({"employee_id": employee, "kind": "clock_in"})).await.expect(201);
    app.run_jobs().await;
    let jobs = app.get(&t, "/api/v1/jobs?limit=100").await.expect(200);
    let delivery = jobs.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|j| j["kind"] == "webhook.deliver")
        .cloned()
        .expect("a delivery job");
    assert_eq!(delivery["status"], "dead", "{delivery}");
    assert!(delivery["last_error"].as_str().is_some_and(|e| e.contains("internal")), "{delivery}");
    // Nothing reached the receiver.
    let accepted = tokio::time::timeout(Duration::from_millis(200), receiver.accept()).await;
    assert!(accepted.is_err(), "the receiver was contacted");
    app.shutdown().await;
});

backend_test!(finding_04_control_and_invisible_characters_and_bad_cursors, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let employee = app.create_employee(&t, "E1", None).await;
    let before = app.footprint().await;
    for name in ["a\u{0}b", "a\u{7}b", "\u{202E}evil", "Ta\u{200B}ro"] {
        app.post(&t, "/api/v1/employees", json!({"code": "E2", "name": name})).await.expect_problem(422);
        app.post(&t, "/api/v1/departments", json!({"name": name})).await.expect_problem(422);
    }
    app.post(&t, "/api/v1/punches", json!({"employee_id": employee, "kind": "clock_in", "note": "x\u{0}"}))
        .await
        .expect_problem(422);
    app.put(&t, "/api/v1/calendar", json!({"days": [{"date": "2026-12-24", "kind": "company", "name": "イブ\u{0}"}]}))
        .await
        .expect_problem(422);
    assert_eq!(app.footprint().await, before);
    // Line breaks and tabs are fine in notes; a leading BOM is dropped from names.
    app.post(&t, "/api/v1/punches", json!({"employee_id": employee, "kind": "clock_in", "note": "行1\n\t行2"}))
        .await
        .expect(201);
    let bom = app.post(&t, "/api/v1/employees", json!({"code": "E3", "name": "\u{FEFF}山田"})).await.expect(201);
    assert_eq!(bom.body["name"], "山田");
    // Cursors that decode to a NUL or to anything this server never issued.
    use base64::Engine;
    for raw in ["\0", "x\0y", "' OR 1=1 --", ""] {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        for list in ["/api/v1/employees", "/api/v1/departments", "/api/v1/punches", "/api/v1/audit", "/api/v1/users"] {
            let reply = app.get(&t, &format!("{list}?cursor={cursor}")).await;
            if raw.is_empty() {
                reply.expect(200);
            } else {
                reply.expect_problem(400);
            }
        }
    }
    app.shutdown().await;
});

backend_test!(finding_05_a_superseded_password_link_is_void, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let user =
        app.post(&t, "/api/v1/users", json!({"email": "link@acme.example", "role": "hr"})).await.expect(201).id();
    let link = |reply: crate::helpers::Reply| {
        let url = reply.body["url"].as_str().expect("url").to_owned();
        url[url.find("/password/").expect("path")..].to_owned()
    };
    let first = link(app.post(&t, &format!("/api/v1/users/{user}/password-link"), json!({})).await.expect(201));
    let second = link(app.post(&t, &format!("/api/v1/users/{user}/password-link"), json!({})).await.expect(201));
    let set = |path: String| {
        let app = &app;
        async move {
            let mut visitor = Visitor::new(app);
            let form = visitor.get(&path).await;
            let token = field(&form.body, "form_token");
            visitor.post(&path, &[("form_token", &token), ("password", PASSWORD), ("password_again", PASSWORD)]).await
        }
    };
    assert_eq!(set(first).await.status, 404, "the first link was replaced by the second");
    let third = link(app.post(&t, &format!("/api/v1/users/{user}/password-link"), json!({})).await.expect(201));
    assert_eq!(set(second.clone()).await.status, 404);
    assert_eq!(set(third).await.status, 200);
    app.shutdown().await;
});

backend_test!(finding_05_setting_the_password_voids_every_other_link, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let user = app.post(&t, "/api/v1/users", json!({"email": "l2@acme.example", "role": "hr"})).await.expect(201).id();
    let url = app.post(&t, &format!("/api/v1/users/{user}/password-link"), json!({})).await.expect(201).body["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let token = url.rsplit('/').next().expect("token");
    // A second outstanding link, as an older release (which voided nothing) could have left.
    let org =
        dakoku_domain::OrgId::from_db(app.count_text("SELECT org_id FROM users WHERE email = 'l2@acme.example'").await);
    let mut conn = app.service.db.conn().await.expect("connection");
    let now = chrono::Utc::now();
    let user_id = dakoku_domain::UserId::from_db(user.clone());
    dakoku_store::web::insert_link(
        &mut conn,
        "an-older-link-hash",
        &org,
        &user_id,
        now + chrono::Duration::hours(1),
        now,
    )
    .await
    .expect("older link");
    drop(conn);
    app.service.set_password_with_link(token, PASSWORD).await.expect("set");
    let outstanding =
        app.count(&format!("SELECT COUNT(*) FROM password_links WHERE user_id = '{user}' AND used_at IS NULL")).await;
    assert_eq!(outstanding, 0);
    app.shutdown().await;
});

backend_test!(finding_06_the_language_switch_never_leaves_the_site, |db: TestDb| async move {
    let app = db.spawn().await;
    let mut visitor = Visitor::new(&app);
    for back in ["/\\evil.example/", "/%09/evil.example", "//evil.example", "/%5Cevil.example", "https://evil.example/"]
    {
        let page = visitor.get(&format!("/lang/ja?back={back}")).await;
        assert_eq!(page.status, 303);
        assert_eq!(page.location.as_deref(), Some("/"), "back={back}");
    }
    let page = visitor.get("/lang/zh?back=/timesheet").await;
    assert_eq!(page.location.as_deref(), Some("/timesheet"));
    app.shutdown().await;
});

backend_test!(finding_08_unknown_keys_and_bad_platform_keys_are_refused, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let typo = app.put(&t, "/api/v1/work-rules", json!({"auto_brek": true})).await.expect_problem(422);
    assert!(typo.text.contains("auto_brek") && typo.text.contains("auto_break"), "{}", typo.text);
    let nested = json!({"rounding": {"per_day_minute": 15}});
    app.put(&t, "/api/v1/work-rules", nested).await.expect_problem(422);
    let huge = json!({"schedule": {"type": "shift"}, "pad": "x".repeat(20_000)});
    app.put(&t, "/api/v1/work-rules", huge).await.expect_problem(422);

    let mut settings = settings_for("dingtalk", "http://127.0.0.1:9");
    settings["oapi_base_ur"] = json!("http://127.0.0.1:9");
    let misspelt = app
        .post(&t, "/api/v1/integrations", json!({"platform": "dingtalk", "name": "d", "settings": settings}))
        .await
        .expect_problem(422);
    assert!(misspelt.text.contains("oapi_base_ur") && misspelt.text.contains("oapi_base_url"), "{}", misspelt.text);
    for key in ["short", &"a+b/".repeat(11)[..43], &"a".repeat(44)] {
        let mut settings = settings_for("wecom", "http://127.0.0.1:9");
        settings["encoding_aes_key"] = json!(key);
        app.post(&t, "/api/v1/integrations", json!({"platform": "wecom", "name": "w", "settings": settings}))
            .await
            .expect_problem(422);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM integrations").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM work_rule_versions").await, 0);
    app.shutdown().await;
});

backend_test!(finding_09_generated_callback_keys_are_letters_and_digits, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    for (platform, key) in [("wecom", "encoding_aes_key"), ("dingtalk", "aes_key")] {
        let mut settings = settings_for(platform, "http://127.0.0.1:9");
        settings[key] = json!("generate");
        settings["token"] = json!("generate");
        let made = app
            .post(&t, "/api/v1/integrations", json!({"platform": platform, "name": platform, "settings": settings}))
            .await
            .expect(201);
        let generated = &made.body["generated"];
        let aes = generated[key].as_str().expect("key");
        assert!(aes.len() == 43 && aes.chars().all(|c| c.is_ascii_alphanumeric()), "{aes}");
        let token = generated["token"].as_str().expect("token");
        assert!(token.len() == 32 && token.chars().all(|c| c.is_ascii_alphanumeric()), "{token}");
    }
    app.shutdown().await;
});

backend_test!(finding_10_implausible_dates_are_refused, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let employee = app.create_employee(&t, "E1", None).await;
    let before = app.footprint().await;
    for at in ["0000-01-01T09:00:00Z", "-0001-01-01T09:00:00Z", "9999-12-31T09:00:00Z", "2026-11-30T23:59:60Z"] {
        app.post(&t, "/api/v1/punches", json!({"employee_id": employee, "kind": "clock_in", "at": at}))
            .await
            .expect_problem(422);
        let body = json!({"employee_id": employee, "action": "add", "kind": "clock_in", "at": at, "reason": "x"});
        app.post(&t, "/api/v1/corrections", body).await.expect_problem(422);
    }
    for date in ["0000-01-01", "9999-01-01", "2101-01-01", "1999-12-31"] {
        app.put(&t, "/api/v1/calendar", json!({"days": [{"date": date, "kind": "company"}]})).await.expect_problem(422);
        app.get(&t, &format!("/api/v1/calendar?from={date}&to=2026-01-01")).await.expect_problem(400);
    }
    for month in ["0000-01", "9999-12", "2101-01"] {
        app.get(&t, &format!("/api/v1/timesheets/{employee}?month={month}")).await.expect_problem(400);
    }
    assert_eq!(app.footprint().await, before);
    app.shutdown().await;
});

backend_test!(finding_12_the_sqlite_files_are_private, |db: TestDb| async move {
    if db.backend != crate::helpers::Backend::Sqlite {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let data = db.dir.path().join("fresh");
    let url = format!("sqlite://{}", data.join("dakoku.db").display());
    let store = dakoku_store::Db::connect(&url, 1).await.expect("opens");
    store.migrate().await.expect("migrates");
    let mode = |path: &std::path::Path| std::fs::metadata(path).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    for name in ["dakoku.db", "dakoku.db-wal", "dakoku.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
});

backend_test!(finding_13_the_openapi_document_declares_what_routes_really_do, |db: TestDb| async move {
    let app = db.spawn().await;
    let doc = app.request(reqwest::Method::GET, None, "/api/v1/openapi.json", None).await.expect(200).body;
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let in_template: Vec<&str> =
            path.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name)).collect();
        for (method, operation) in item.as_object().expect("item") {
            let name = format!("{method} {path}");
            let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{name} has no operationId"));
            assert!(ids.insert(id.to_owned()), "{name}: operationId {id} repeats");
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            for parameter in &parameters {
                if parameter["in"] == "path" {
                    let declared = parameter["name"].as_str().expect("name");
                    assert!(
                        in_template.contains(&declared),
                        "{name}: {declared} is declared in: path but is not in it"
                    );
                }
            }
            for expected in &in_template {
                assert!(
                    parameters.iter().any(|p| p["in"] == "path" && p["name"] == *expected),
                    "{name}: path parameter {expected} is not declared"
                );
            }
            let responses = operation["responses"].as_object().expect("responses");
            let mut needed = vec!["400", "401", "403", "404", "422"];
            if operation.get("requestBody").is_some() {
                needed.extend(["413", "415"]);
            }
            for status in needed {
                assert!(responses.contains_key(status), "{name} does not document {status}");
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let content = response["content"].as_object().expect("error content");
                    assert!(content.keys().all(|k| k == "application/problem+json"), "{name} {status}: {content:?}");
                }
            }
        }
    }
    // Audit entries hold whatever was changed: lists too, not only objects.
    let after = &doc["components"]["schemas"]["AuditDto"]["properties"]["after"];
    assert!(after.get("type").is_none() && after.get("$ref").is_none(), "after is any JSON value: {after}");
    app.put(
        &app.admin_token,
        "/api/v1/calendar",
        json!({"days": [{"date": "2026-12-24", "kind": "company", "name": "イブ"}]}),
    )
    .await
    .expect(204);
    let audit = app.get(&app.admin_token, "/api/v1/audit").await.expect(200);
    assert!(audit.body["items"][0]["after"].is_array(), "{}", audit.text);
    app.shutdown().await;
});
