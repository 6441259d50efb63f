//! Throughput and latency of `POST /api/v1/punches` and of signed LINE WORKS webhook punches
//! (`POST /hooks/lineworks/{token}`, replies sent to the in-tree simulator by the worker) on
//! SQLite and PostgreSQL, against a bare axum handler that does no work, measured in the same
//! process with the same client load so the ratio says what dakoku itself costs. Also the idle
//! memory of `dakoku serve` and the time `dakoku import employees` takes for 10,000 rows.
//!
//! Run: `cargo bench -p dakoku --bench punches` (PostgreSQL from `DAKOKU_TEST_DATABASE_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`; skipped if unreachable).

use dakoku::Application;
use dakoku_config::{Config, MasterKey};
use dakoku_sim::lineworks::{LineWorksSim, TEST_PRIVATE_KEY};
use serde_json::json;
use sqlx::{Connection, Executor};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const REQUESTS_PER_CLIENT: usize = 250;
const WARMUP_PER_CLIENT: usize = 20;
const BOT_SECRET: &str = "bench-bot-secret";

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// One request of a load: its body and headers.
struct Shot {
    body: String,
    headers: Vec<(&'static str, String)>,
}

/// API requests: JSON bodies with the bearer token.
fn api_shots(token: &str, bodies: &[serde_json::Value]) -> Arc<Vec<Shot>> {
    let headers = vec![("authorization", format!("Bearer {token}")), ("content-type", "application/json".into())];
    Arc::new(bodies.iter().map(|b| Shot { body: b.to_string(), headers: headers.clone() }).collect())
}

/// Sends the same load to `url`: CLIENTS concurrent clients, each posting one shot after another.
async fn load(url: &str, shots: Arc<Vec<Shot>>) -> Run {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().expect("client");
    let fire = |count: usize, offset: usize| {
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (client, url, shots) = (client.clone(), url.to_owned(), shots.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count);
                for i in 0..count {
                    let shot = &shots[(offset + c * count + i) % shots.len()];
                    let started = Instant::now();
                    let mut request = client.post(&url).body(shot.body.clone());
                    for (name, value) in &shot.headers {
                        request = request.header(*name, value);
                    }
                    let response = request.send().await.expect("sent");
                    assert!(response.status().is_success(), "status {}", response.status());
                    let _ = response.bytes().await;
                    latencies.push(started.elapsed());
                }
                latencies
            }));
        }
        tasks
    };
    for task in fire(WARMUP_PER_CLIENT, 0) {
        task.await.expect("warm-up");
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in fire(REQUESTS_PER_CLIENT, CLIENTS * WARMUP_PER_CLIENT) {
        latencies.extend(task.await.expect("client"));
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Run { per_second: latencies.len() as f64 / elapsed.as_secs_f64(), p50: at(0.50), p99: at(0.99) }
}

async fn bare_axum() -> String {
    let app = axum::Router::new().route(
        "/noop",
        axum::routing::post(|_: axum::Json<serde_json::Value>| async {
            (axum::http::StatusCode::CREATED, axum::Json(json!({"ok": true})))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/noop", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    url
}

fn vars(url: &str, dir: &std::path::Path, key: &str) -> BTreeMap<String, String> {
    [
        ("DAKOKU_DATABASE_URL", url),
        ("DAKOKU_LISTEN", "127.0.0.1:0"),
        ("DAKOKU_MASTER_KEY", key),
        ("DAKOKU_DATA_DIR", dir.to_str().expect("utf-8")),
        ("DAKOKU_LOG", "warn"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// What a bench target needs: the API's punch URL and requests, and the LINE WORKS callback
/// URL with signed message events (every body distinct, as real events are).
struct Target {
    api_url: String,
    api: Arc<Vec<Shot>>,
    hook_url: String,
    hook: Arc<Vec<Shot>>,
}

/// Starts dakoku in-process on `url` with 100 employees linked to LINE WORKS users of a
/// simulator that receives the replies.
async fn dakoku(url: &str, dir: &std::path::Path) -> Target {
    let key = MasterKey::generate().to_base64();
    let config = Config::from_vars(vars(url, dir, &key)).expect("config");
    let app = Application::build(config).await.expect("build");
    let base = format!("http://{}", app.local_addr());
    let init = app.service().init_organization("Bench", "admin@bench.example", "Asia/Tokyo").await.expect("init");
    tokio::spawn(async move { app.run_until(std::future::pending(), true).await.expect("serve") });
    let sim = LineWorksSim::start("127.0.0.1:0".parse().expect("address")).await.expect("simulator");
    sim.add_test_app("bench-client", "bench-secret", "bench@serviceaccount");
    let settings = json!({
        "client_id": "bench-client", "client_secret": "bench-secret", "service_account": "bench@serviceaccount",
        "private_key": TEST_PRIVATE_KEY, "bot_id": "2000001", "bot_secret": BOT_SECRET,
        "auth_base_url": sim.auth_base_url(), "api_base_url": sim.api_base_url(),
        // The simulator has no rate limit; do not pace the replies below what it takes.
        "calls_per_minute": 100000,
    });
    let client = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        let request = client.post(format!("{base}{path}")).bearer_auth(&init.admin_token).json(&body);
        async move { request.send().await.expect("sent").json::<serde_json::Value>().await.expect("json") }
    };
    let integration =
        post("/api/v1/integrations".into(), json!({"platform": "lineworks", "name": "bench", "settings": settings}))
            .await;
    let callback = integration["callback_url"].as_str().expect("callback").to_owned();
    let hook_url = format!("{base}{}", &callback[callback.find("/hooks/").expect("hooks")..]);
    let integration_id = integration["id"].as_str().expect("id").to_owned();
    let mut bodies = Vec::new();
    for i in 0..100 {
        let employee =
            post("/api/v1/employees".into(), json!({"code": format!("B{i}"), "name": format!("Bench {i}")})).await;
        let id = employee["id"].as_str().expect("id").to_owned();
        let user = format!("user-{i}");
        sim.add_user(&user, &format!("{user}@bench.example"), &format!("Bench {i}"));
        post(
            format!("/api/v1/integrations/{integration_id}/links"),
            json!({"employee_id": id, "external_user_id": user}),
        )
        .await;
        bodies.push(json!({"employee_id": id, "kind": "clock_in", "note": "bench"}));
    }
    let total = CLIENTS * (WARMUP_PER_CLIENT + REQUESTS_PER_CLIENT);
    let hook = (0..total)
        .map(|n| {
            let body = sim.message_body(
                &format!("user-{}", n % 100),
                None,
                json!({"type": "text", "text": format!("出勤 #{n}")}),
            );
            let headers = vec![
                ("content-type", "application/json; charset=UTF-8".to_owned()),
                ("x-works-botid", "2000001".to_owned()),
                ("x-works-signature", dakoku_sim::lineworks::sign(BOT_SECRET, body.as_bytes())),
            ];
            Shot { body, headers }
        })
        .collect();
    Target {
        api_url: format!("{base}/api/v1/punches"),
        api: api_shots(&init.admin_token, &bodies),
        hook_url,
        hook: Arc::new(hook),
    }
}

/// A fresh PostgreSQL database for one part of the bench, if the server is reachable.
async fn postgres_database(purpose: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let admin = std::env::var("DAKOKU_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut conn = sqlx::AnyConnection::connect(&admin).await.ok()?;
    let name = format!("dakoku_bench_{purpose}_{}", std::process::id());
    conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str()).await.ok()?;
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.ok()?;
    let (prefix, _) = admin.split('?').next().unwrap_or_default().rsplit_once('/')?;
    Some(format!("{prefix}/{name}"))
}

fn report(label: &str, run: &Run, baseline: &Run) {
    println!(
        "| {label} | {:.0} | {:.2} | {:.2} | {:.2} |",
        run.per_second,
        run.p50.as_secs_f64() * 1000.0,
        run.p99.as_secs_f64() * 1000.0,
        baseline.per_second / run.per_second,
    );
}

fn idle_rss_kib(dir: &std::path::Path) -> u64 {
    let key = MasterKey::generate().to_base64();
    let url = format!("sqlite://{}", dir.join("idle.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_dakoku"))
        .arg("serve")
        .env_clear()
        .envs(vars(&url, dir, &key))
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    std::thread::sleep(Duration::from_secs(3));
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn import_seconds(url: &str, dir: &std::path::Path, rows: usize) -> f64 {
    std::fs::create_dir_all(dir).expect("bench dir");
    let key = MasterKey::generate().to_base64();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_dakoku"))
            .args(args)
            .env_clear()
            .envs(vars(url, dir, &key))
            .output()
            .expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["init", "--org-name", "Import", "--admin-email", "admin@import.example", "--json"]);
    let csv = dir.join("employees.csv");
    let mut text = String::from("code,name,email,timezone\n");
    for i in 0..rows {
        text.push_str(&format!("E{i:05},社員 {i},e{i}@import.example,Asia/Tokyo\n"));
    }
    std::fs::write(&csv, text).expect("csv");
    let started = Instant::now();
    run(&["import", "employees", csv.to_str().expect("utf-8")]);
    started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "clients: {CLIENTS}, requests measured: {} per run, {} cores",
        CLIENTS * REQUESTS_PER_CLIENT,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!();
    println!("| target | requests/s | p50 ms | p99 ms | baseline/target |");
    println!("| --- | --- | --- | --- | --- |");
    let noop = bare_axum().await;
    let noop_shots = api_shots("none", &[json!({"employee_id": "x", "kind": "clock_in"})]);
    let baseline = load(&noop, noop_shots.clone()).await;
    report("bare axum handler (no work)", &baseline, &baseline);

    let sqlite_dir = dir.path().join("sqlite");
    let sqlite = dakoku(&format!("sqlite://{}", sqlite_dir.join("dakoku.db").display()), &sqlite_dir).await;
    report("dakoku POST /api/v1/punches, SQLite", &load(&sqlite.api_url, sqlite.api.clone()).await, &baseline);
    report("LINE WORKS webhook punches, SQLite", &load(&sqlite.hook_url, sqlite.hook.clone()).await, &baseline);

    if let Some(pg_url) = postgres_database("load").await {
        let pg = dakoku(&pg_url, &dir.path().join("pg")).await;
        report("dakoku POST /api/v1/punches, PostgreSQL", &load(&pg.api_url, pg.api.clone()).await, &baseline);
        report("LINE WORKS webhook punches, PostgreSQL", &load(&pg.hook_url, pg.hook.clone()).await, &baseline);
    } else {
        println!("| PostgreSQL | skipped: unreachable | | | |");
    }
    let again = load(&noop, noop_shots).await;
    report("bare axum handler again (noise check)", &again, &baseline);

    println!();
    println!("idle RSS of `dakoku serve` (SQLite, 3 s after start): {} KiB", idle_rss_kib(dir.path()));
    let sqlite_import = dir.path().join("import-sqlite");
    println!(
        "`dakoku import employees` of 10,000 rows, SQLite: {:.2} s",
        import_seconds(&format!("sqlite://{}", sqlite_import.join("dakoku.db").display()), &sqlite_import, 10_000)
    );
    if let Some(import_url) = postgres_database("import").await {
        let pg_import = dir.path().join("import-pg");
        println!(
            "`dakoku import employees` of 10,000 rows, PostgreSQL: {:.2} s",
            import_seconds(&import_url, &pg_import, 10_000)
        );
    }
    // The in-process servers still hold connections; FORCE closes them.
    let admin = std::env::var("DAKOKU_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
        for purpose in ["load", "import"] {
            let name = format!("dakoku_bench_{purpose}_{}", std::process::id());
            let _ = conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
        }
    }
    std::process::exit(0);
}
