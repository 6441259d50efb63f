//! The web app over real HTTP, as a browser without JavaScript would use it: sign-in with its
//! form token, the session cookie, the form (CSRF) tokens, throttling, escaping; on both
//! backends. (The flows in a real browser are in `tests/browser`.)

use crate::backend_test;
use crate::helpers::TestApp;
use crate::helpers::TestDb;
use chrono::{Datelike, TimeZone};
use serde_json::json;
use std::collections::HashMap;

/// A cookie-keeping client that does not follow redirects.
pub struct Visitor {
    client: reqwest::Client,
    base: String,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
}

/// The value of a hidden field in a page.
pub fn field(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no field {name} in {body}")) + marker.len();
    body[start..].split('"').next().unwrap_or_default().to_owned()
}

impl Visitor {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { client, base: app.base.clone(), cookies: HashMap::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn keep(&mut self, response: reqwest::Response) -> Page {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap_or_default();
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || text.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        let status = response.status().as_u16();
        let location = response.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_owned);
        Page { status, location, body: response.text().await.unwrap_or_default() }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", "ja,en;q=0.5")
            .send()
            .await
            .expect("reachable");
        self.keep(response).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", "ja,en;q=0.5")
            .form(form)
            .send()
            .await
            .expect("reachable");
        self.keep(response).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/login").await;
        let token = field(&form.body, "form_token");
        self.post("/login", &[("form_token", &token), ("email", email), ("password", password)]).await
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// A user with a web password, set through an admin's link as a person would.
pub async fn person(app: &TestApp, role: &str, employee: Option<&str>, manages: Option<&str>) -> String {
    let email = format!("{role}-{}@acme.example", uuid::Uuid::new_v4().simple());
    let body = json!({"email": email, "role": role, "employee_id": employee, "manages_department_id": manages});
    let user = app.post(&app.admin_token, "/api/v1/users", body).await.expect(201).id();
    let link = app.post(&app.admin_token, &format!("/api/v1/users/{user}/password-link"), json!({})).await.expect(201);
    let url = link.body["url"].as_str().expect("url");
    let path = &url[url.find("/password/").expect("path")..];
    let mut visitor = Visitor::new(app);
    let form = visitor.get(path).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let token = field(&form.body, "form_token");
    let set = visitor.post(path, &[("form_token", &token), ("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!(set.status, 200, "{}", set.body);
    // The link works once.
    let again = visitor.get(path).await;
    let token = field(&again.body, "form_token");
    let reused =
        visitor.post(path, &[("form_token", &token), ("password", PASSWORD), ("password_again", PASSWORD)]).await;
    assert_eq!(reused.status, 404);
    email
}

backend_test!(web_sign_in_sessions_csrf_throttling_and_escaping, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let alice = app
        .post(&t, "/api/v1/employees", json!({"code": "A1", "name": "<script>alert('x')</script>"}))
        .await
        .expect(201)
        .id();
    let email = person(&app, "employee", Some(&alice), None).await;

    // Without a session every page sends you to sign in.
    let mut visitor = Visitor::new(&app);
    assert_eq!(visitor.get("/").await.location.as_deref(), Some("/login"));
    // A session id chosen before sign-in (fixation) is never adopted.
    visitor.cookies.insert("dakoku_session".into(), "dkk_attacker-chosen".into());
    let signed = visitor.sign_in(&email, PASSWORD).await;
    assert_eq!((signed.status, signed.location.as_deref()), (303, Some("/")));
    let session = visitor.cookies["dakoku_session"].clone();
    assert_ne!(session, "dkk_attacker-chosen");
    let mut attacker = Visitor::new(&app);
    attacker.cookies.insert("dakoku_session".into(), "dkk_attacker-chosen".into());
    assert_eq!(attacker.get("/").await.location.as_deref(), Some("/login"));
    // Signing in again gives another session.
    let mut second = Visitor::new(&app);
    second.sign_in(&email, PASSWORD).await;
    assert_ne!(second.cookies["dakoku_session"], session);

    // The punch panel, in the browser's language, with the name escaped.
    let panel = visitor.get("/").await;
    assert_eq!(panel.status, 200);
    assert!(panel.body.contains("出勤") && panel.body.contains("lang=\"ja\""), "{}", panel.body);
    let csrf = field(&panel.body, "csrf");
    // A form without its token, or with another session's, changes nothing.
    let missing = visitor.post("/punch", &[("kind", "clock_in")]).await;
    assert!((400..500).contains(&missing.status), "{}", missing.status);
    let other_csrf = field(&second.get("/").await.body, "csrf");
    let forged = visitor.post("/punch", &[("csrf", &other_csrf), ("kind", "clock_in")]).await;
    assert_eq!(forged.status, 403);
    assert_eq!(app.count("SELECT COUNT(*) FROM punches").await, 0);
    let punched = visitor.post("/punch", &[("csrf", &csrf), ("kind", "clock_in")]).await;
    assert_eq!(punched.location.as_deref(), Some("/?done=recorded"));
    assert_eq!(app.count("SELECT COUNT(*) FROM punches WHERE source = 'web'").await, 1);

    // A one-time code to link a chat account, shown once.
    let issued = visitor.post("/link-code", &[("csrf", &csrf)]).await;
    assert_eq!(issued.status, 201);
    let code = issued.body.split("id=\"link-code\">").nth(1).and_then(|rest| rest.get(..8)).unwrap_or_default();
    assert!(code.chars().all(|c| c.is_ascii_digit()) && code.len() == 8, "{}", issued.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM link_codes").await, 1);

    let sheet = visitor.get("/timesheet").await;
    let shown = sheet.body.lines().find(|l| l.contains("<h1>")).unwrap_or_default();
    assert!(sheet.body.contains("&lt;script&gt;alert("), "the name is escaped: {shown}");
    assert!(!sheet.body.contains("<script>alert"), "no markup from data");
    assert_eq!(sheet.status, 200);

    // Security headers on every page.
    let response = reqwest::Client::new().get(format!("{}/login", app.base)).send().await.expect("reachable");
    let headers = response.headers();
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers["content-security-policy"].to_str().expect("csp").contains("frame-ancestors 'none'"));
    let cookie = headers["set-cookie"].to_str().expect("cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");

    // Signing out ends the session on the server: the old cookie is worthless.
    let out = visitor.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/login"));
    let mut replay = Visitor::new(&app);
    replay.cookies.insert("dakoku_session".into(), session.clone());
    assert_eq!(replay.get("/").await.location.as_deref(), Some("/login"));

    // The sign-in form has its own token: a post from elsewhere is refused.
    let mut forger = Visitor::new(&app);
    let refused = forger.post("/login", &[("form_token", "guess"), ("email", &email), ("password", PASSWORD)]).await;
    assert_eq!(refused.status, 403);
    // Ten wrong passwords: then even the right one waits.
    let mut guesser = Visitor::new(&app);
    for n in 0..10 {
        let wrong = guesser.sign_in(&email, &format!("wrong password {n}")).await;
        assert_eq!(wrong.status, 401, "attempt {n}");
    }
    let held = guesser.sign_in(&email, PASSWORD).await;
    assert_eq!(held.status, 429);
    assert!(!held.body.contains(&email) || held.body.contains("login"), "no hint about the account");
    // An unknown e-mail is answered like a wrong password.
    let unknown = Visitor::new(&app).sign_in("nobody@acme.example", PASSWORD).await;
    assert_eq!(unknown.status, 401);
    app.shutdown().await;
});

backend_test!(web_roles_reach_only_their_pages_and_people, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let sales = app.create_department(&t, "営業部", None).await;
    let dev = app.create_department(&t, "開発部", None).await;
    let boss = app.create_employee(&t, "M1", Some(&sales)).await;
    let seller = app.create_employee(&t, "S1", Some(&sales)).await;
    let coder = app.create_employee(&t, "D1", Some(&dev)).await;
    let manager = person(&app, "manager", Some(&boss), Some(&sales)).await;
    let employee = person(&app, "employee", Some(&seller), None).await;
    let mut m = Visitor::new(&app);
    m.sign_in(&manager, PASSWORD).await;
    let team = m.get("/team").await;
    // Names, not bare codes: a random token in the page may hold "D1" by chance.
    assert!(team.body.contains("社員 S1") && !team.body.contains("社員 D1"), "{}", team.body);
    // Another department's person, by URL: not found, not shown.
    let theirs = m.get(&format!("/timesheet?employee={coder}")).await;
    assert_eq!(theirs.status, 404);
    assert!(!theirs.body.contains("D1"));
    let ours = m.get(&format!("/timesheet?employee={seller}")).await;
    assert_eq!(ours.status, 200);
    assert_eq!(m.get("/exports").await.status, 403, "exports are HR's");
    let mut e = Visitor::new(&app);
    e.sign_in(&employee, PASSWORD).await;
    assert_eq!(e.get("/team").await.status, 403);
    assert_eq!(e.get("/approvals").await.status, 403);
    assert_eq!(e.get(&format!("/timesheet?employee={boss}")).await.status, 404);
    app.shutdown().await;
});

impl Visitor {
    pub async fn post_file(&mut self, path: &str, csrf: &str, csv: &str, skip_invalid: bool) -> Page {
        let mut form = reqwest::multipart::Form::new()
            .text("csrf", csrf.to_owned())
            .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("employees.csv"));
        if skip_invalid {
            form = form.text("skip_invalid", "1");
        }
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept-language", "ja")
            .multipart(form)
            .send()
            .await
            .expect("reachable");
        self.keep(response).await
    }
}

backend_test!(web_hr_and_admin_pages_import_close_rules_integrations_audit, |db: TestDb| async move {
    let app = db.spawn().await;
    let t = app.admin_token.clone();
    let admin = person(&app, "admin", None, None).await;
    let hr = person(&app, "hr", None, None).await;
    let mut a = Visitor::new(&app);
    a.sign_in(&admin, PASSWORD).await;
    let page = a.get("/admin/employees").await;
    assert_eq!(page.status, 200);
    let csrf = field(&page.body, "csrf");

    // A CSV with a bad row: nothing is imported, and the page names the line and why.
    let before = app.count("SELECT COUNT(*) FROM employees").await;
    let csv = "code,name,email\nC1,青木,aoki@acme.example\nC2,井上,\nC 3,上田,not-an-address\n";
    let refused = a.post_file("/admin/employees/import", &csrf, csv, false).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("<td>4</td>") && refused.body.contains("code"), "{}", refused.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM employees").await, before);
    let partial = a.post_file("/admin/employees/import", &csrf, csv, true).await;
    assert!(partial.body.contains("data-imported=\"2\""), "{}", partial.body);
    let unknown_column = a.post_file("/admin/employees/import", &csrf, "code,name,salary\nX,Y,1\n", false).await;
    assert!(unknown_column.body.contains("salary"), "{}", unknown_column.body);

    // One person works 12-hour days all last month: over the 45-hour line, flagged and drawn red.
    let worker = app.create_employee(&t, "OT1", None).await;
    let zone = chrono_tz::Asia::Tokyo;
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let last =
        chrono::NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("first") - chrono::Duration::days(1);
    let month = last.format("%Y-%m").to_string();
    let mut days = 0;
    for day in 1..=last.day() {
        let date = chrono::NaiveDate::from_ymd_opt(last.year(), last.month(), day).expect("date");
        if date.weekday().num_days_from_monday() >= 5 || days == 20 {
            continue;
        }
        days += 1;
        for (kind, hour) in [("clock_in", 8), ("clock_out", 20)] {
            let at = zone.with_ymd_and_hms(date.year(), date.month(), date.day(), hour, 0, 0).single().expect("t");
            app.post(&t, "/api/v1/punches", json!({"employee_id": worker, "kind": kind, "at": at.to_rfc3339()}))
                .await
                .expect(201);
        }
    }
    let close = a.get(&format!("/admin/close?month={month}")).await;
    assert_eq!(close.status, 200);
    assert!(close.body.contains("月45時間超") && close.body.contains("class=\"bar over\""), "{}", close.body);

    // Work rules: broken JSON is shown back with the reason; a calendar day is kept.
    let rules = a.get("/admin/rules").await;
    // The national calendar is there without anyone typing it: a year ahead always holds 元日.
    assert!(rules.body.contains("元日"), "the national holidays are shown: {}", rules.body);
    let csrf = field(&rules.body, "csrf");
    let broken = a.post("/admin/rules", &[("csrf", &csrf), ("layer", "{not json")]).await;
    assert_eq!(broken.status, 422);
    assert!(broken.body.contains("JSON") && broken.body.contains("{not json"));
    let saved = a.post("/admin/rules", &[("csrf", &csrf), ("layer", "{}")]).await;
    assert_eq!(saved.location.as_deref(), Some("/admin/rules?done=saved"));
    let next_year = today.year() + 1;
    let date = format!("{next_year}-01-02");
    a.post("/admin/calendar", &[("csrf", &csrf), ("date", &date), ("kind", "company"), ("name", "年始休暇")]).await;
    assert!(a.get("/admin/rules").await.body.contains("年始休暇"));

    // Integrations: a WeCom app with generated callback secrets shown once, then its test.
    let created = a
        .post(
            "/admin/integrations",
            &[
                ("csrf", &csrf),
                ("platform", "wecom"),
                ("name", "企业微信"),
                ("corp_id", "ww1"),
                ("agent_id", "1000002"),
                ("secret", "s3cr3t-value"),
                ("token", "generate"),
                ("encoding_aes_key", "generate"),
                ("api_base_url", "http://127.0.0.1:9/cgi-bin"),
            ],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let shown = created.body.replace("&#x2f;", "/");
    assert!(shown.contains("/hooks/wecom/") && shown.contains("encoding_aes_key"), "{shown}");
    assert!(!created.body.contains("s3cr3t-value"), "a secret typed in is never shown back");
    let id = app.list_all(&t, "/api/v1/integrations").await[0]["id"].as_str().expect("id").to_owned();
    let tested = a.post(&format!("/admin/integrations/{id}/test"), &[("csrf", &csrf)]).await;
    assert!(tested.body.contains("token") && tested.body.contains("✗"), "{}", tested.body);
    let listed = a.get("/admin/integrations").await;
    assert!(!listed.body.contains("s3cr3t-value"));

    // The audit log shows what was done.
    let audit = a.get("/admin/audit").await;
    assert!(audit.body.contains("employee.create") && audit.body.contains("integration.create"), "{}", audit.body);

    // HR closes months but does not manage integrations or read the audit log.
    let mut h = Visitor::new(&app);
    h.sign_in(&hr, PASSWORD).await;
    assert_eq!(h.get(&format!("/admin/close?month={month}")).await.status, 200);
    assert_eq!(h.get("/admin/integrations").await.status, 403);
    assert_eq!(h.get("/admin/audit").await.status, 403);
    app.shutdown().await;
});
