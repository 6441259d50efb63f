//! The web app in a real browser: Debian's Chromium, headless, driven through ChromeDriver
//! (WebDriver). One day of a company: an employee signs in and punches, sees the day, asks
//! for a correction; the manager approves it; the employee submits the month; the manager
//! sends it back with a comment; HR exports the payroll file; and the manager cannot open
//! another department's people. Screenshots of the main pages in the three languages are
//! written to `target/screenshots/` (or `DAKOKU_SCREENSHOT_DIR`, such as `docs/screenshots`).
//!
//! Chromium and ChromeDriver come from `scripts/browsers` (Debian's packages). Without them
//! this test says so and passes, unless `DAKOKU_REQUIRE_BROWSER=1` (as `.ci/run` sets it).

use crate::helpers::{Backend, TestApp, TestDb};
use crate::web::{person, PASSWORD};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start_driver() -> (Driver, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if reqwest::get(format!("{url}/status")).await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (Driver(child), url)
}

async fn browser(driver: &str, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--disable-dev-shm-usage", "--window-size=1100,900",
                     format!("--user-data-dir={}", profile.display())],
        }),
    );
    // ChromeDriver is on loopback: plain HTTP, no TLS stack needed.
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(driver).await.expect("a browser session")
}

/// Where screenshots go: `DAKOKU_SCREENSHOT_DIR` (relative to the repository), by default
/// `target/screenshots`; the README's come from `DAKOKU_SCREENSHOT_DIR=docs/screenshots`.
fn screenshots() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = root.join(std::env::var("DAKOKU_SCREENSHOT_DIR").unwrap_or_else(|_| "target/screenshots".into()));
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    dir
}

/// A person's tab: a browser of its own (its own cookies).
struct Tab {
    client: Client,
    base: String,
}

impl Tab {
    async fn open(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("navigates");
    }

    async fn text(&self) -> String {
        self.client.find(Locator::Css("main")).await.expect("main").text().await.expect("text")
    }

    async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}"));
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("typed");
    }

    /// Clicks a button that submits a form, and waits for the next page to have loaded.
    async fn click(&self, css: &str) {
        let old = self.client.find(Locator::Css("html")).await.expect("page");
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|_| panic!("no {css}")).click().await.expect("click");
        let deadline = Instant::now() + Duration::from_secs(15);
        while old.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "clicking {css} did not load a page");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        while self.client.execute("return document.readyState", vec![]).await.ok() != Some(json!("complete")) {
            assert!(Instant::now() < deadline, "the page after {css} did not finish loading");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn sign_in(&self, email: &str) {
        self.open("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.click("form[action='/login'] button[type=submit]").await;
        let url = self.client.current_url().await.expect("url");
        assert_eq!(url.path(), "/", "signed in: {}", self.text().await);
    }

    async fn sign_out(&self) {
        self.click("form[action='/logout'] button").await;
    }

    async fn language(&self, code: &str, back: &str) {
        self.open(&format!("/lang/{code}?back={back}")).await;
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(screenshots().join(format!("{name}.png")), png).expect("written");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_in_the_web_app_in_a_real_browser() {
    let required = std::env::var("DAKOKU_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        assert!(!required, "DAKOKU_REQUIRE_BROWSER=1 but Chromium or ChromeDriver is missing (run scripts/browsers)");
        eprintln!("\n*** SKIPPED: browser test: no {CHROMIUM} / {CHROMEDRIVER} (install with scripts/browsers) ***\n");
        return;
    }
    let db = TestDb::create(Backend::Sqlite).await.expect("sqlite");
    let app: TestApp = db.spawn().await;
    let t = app.admin_token.clone();
    let sales = app.create_department(&t, "営業部", None).await;
    let dev = app.create_department(&t, "開発部", None).await;
    let taro = app
        .post(&t, "/api/v1/employees", json!({"code": "S1", "name": "山田 太郎", "department_id": sales}))
        .await
        .expect(201)
        .id();
    let boss = app
        .post(&t, "/api/v1/employees", json!({"code": "M1", "name": "佐藤 花子", "department_id": sales}))
        .await
        .expect(201)
        .id();
    let coder = app
        .post(&t, "/api/v1/employees", json!({"code": "D1", "name": "鈴木 一郎", "department_id": dev}))
        .await
        .expect(201)
        .id();
    let employee = person(&app, "employee", Some(&taro), None).await;
    let manager = person(&app, "manager", Some(&boss), Some(&sales)).await;
    let hr = person(&app, "hr", None, None).await;

    let (_driver, driver_url) = start_driver().await;
    let profiles = tempfile::tempdir().expect("profiles");
    let tab = |name: &str| {
        let (driver_url, base, profile) = (driver_url.clone(), app.base.clone(), profiles.path().join(name));
        async move { Tab { client: browser(&driver_url, &profile).await, base } }
    };
    let e = tab("employee").await;
    let m = tab("manager").await;

    // The employee signs in (in Japanese) and clocks in with one tap.
    e.language("ja", "/login").await;
    e.sign_in(&employee).await;
    e.click("button[data-kind=clock_in]").await;
    let panel = e.text().await;
    assert!(panel.contains("勤務中") && panel.contains("出勤を"), "{panel}");
    let state =
        e.client.find(Locator::Css("[data-state]")).await.expect("state").attr("data-state").await.expect("attr");
    assert_eq!(state.as_deref(), Some("state_in"));
    // The day record shows the clock-in.
    e.open("/timesheet").await;
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("%m-%d").to_string();
    let row = e
        .client
        .find(Locator::XPath(&format!("//tr[th='{today}']")))
        .await
        .expect("today's row")
        .text()
        .await
        .expect("text");
    assert!(row.contains(':'), "the day shows a time: {row}");

    // A correction: yesterday's clock-out was forgotten.
    e.open("/corrections").await;
    let yesterday =
        (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo) - chrono::Duration::days(1)).date_naive();
    e.client.find(Locator::Css("#kind")).await.expect("kind").select_by_value("clock_out").await.expect("select");
    // datetime-local takes the digits in the browser's locale order; set it by script instead.
    let at = format!("{}T18:30", yesterday.format("%Y-%m-%d"));
    e.client.execute("document.getElementById('at').value = arguments[0];", vec![json!(at)]).await.expect("value");
    e.fill("#reason", "退勤の打刻を忘れました").await;
    e.click("form[action='/corrections'] button[type=submit]").await;
    let listed = e.text().await;
    assert!(listed.contains("承認待ち") && listed.contains("退勤の打刻を忘れました"), "{listed}");

    // The manager approves it.
    m.language("ja", "/login").await;
    m.sign_in(&manager).await;
    m.open("/approvals").await;
    assert!(m.text().await.contains("山田 太郎"));
    m.click("form[action$='/approve'] button").await;
    assert!(m.text().await.contains("処理しました"));
    assert_eq!(app.count("SELECT COUNT(*) FROM corrections WHERE status = 'approved'").await, 1);

    // The employee submits the month; the manager sends it back with a comment.
    e.open("/timesheet").await;
    e.fill("#comment", "ご確認お願いします").await;
    e.click("#submit-month").await;
    assert!(e.text().await.contains("申請中"));
    m.open("/approvals").await;
    let month = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("%Y-%m").to_string();
    let card = format!("li[data-month='{taro}-{month}']");
    m.fill(&format!("{card} input[name=comment]"), "休憩の打刻を確認してください").await;
    m.click(&format!("{card} button.send-back")).await;
    e.open("/timesheet").await;
    let sheet = e.text().await;
    assert!(sheet.contains("未申請") && sheet.contains("休憩の打刻を確認してください"), "{sheet}");

    // The manager sees their own department only; another department's person is not found.
    m.open("/team").await;
    let team = m.text().await;
    assert!(team.contains("山田 太郎") && !team.contains("鈴木 一郎"), "{team}");
    m.open(&format!("/timesheet?employee={coder}")).await;
    assert!(m.text().await.contains("見つかりません"));

    // HR downloads the payroll file with their web session.
    let h = tab("hr").await;
    h.sign_in(&hr).await;
    h.open("/exports").await;
    let action = h
        .client
        .find(Locator::Css("form[action='/exports/payroll']"))
        .await
        .expect("export form")
        .attr("action")
        .await
        .expect("attr");
    assert_eq!(action.as_deref(), Some("/exports/payroll"));
    let cookie = h.client.get_named_cookie("dakoku_session").await.expect("session cookie");
    let csv = reqwest::Client::new()
        .get(format!("{}/exports/payroll?month={month}&format=csv&detail=employees", app.base))
        .header("cookie", format!("dakoku_session={}", cookie.value()))
        .send()
        .await
        .expect("download");
    assert_eq!(csv.status(), 200);
    let body = csv.text().await.expect("csv");
    assert!(body.contains("S1") && body.contains("D1"), "{body}");

    // Screenshots of the main pages in the three languages.
    for lang in ["ja", "zh", "en"] {
        e.language(lang, "/").await;
        e.shot(&format!("punch-{lang}")).await;
        e.open("/timesheet").await;
        e.shot(&format!("timesheet-{lang}")).await;
        m.language(lang, "/approvals").await;
        e.open("/corrections").await;
        e.shot(&format!("corrections-{lang}")).await;
        m.open("/approvals").await;
        m.shot(&format!("approvals-{lang}")).await;
        m.open("/team").await;
        m.shot(&format!("team-{lang}")).await;
    }
    for lang in ["ja", "zh", "en"] {
        h.language(lang, "/admin/close").await;
        h.shot(&format!("close-{lang}")).await;
    }
    e.sign_out().await;
    let login = tab("visitor").await;
    for lang in ["ja", "zh", "en"] {
        login.language(lang, "/login").await;
        login.shot(&format!("login-{lang}")).await;
    }
    for client in [e.client, m.client, h.client, login.client] {
        client.close().await.expect("closed");
    }
    app.shutdown().await;
}
