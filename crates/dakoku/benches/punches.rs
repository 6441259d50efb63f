//! Throughput and latency of `POST /api/v1/punches` on SQLite and PostgreSQL, against a bare
//! axum handler that does no work, measured in the same process with the same client load so
//! the ratio says what dakoku itself costs. Also the idle memory of `dakoku serve` and the time
//! `dakoku import employees` takes for 10,000 rows.
//!
//! Run: `cargo bench -p dakoku --bench punches` (PostgreSQL from `DAKOKU_TEST_DATABASE_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`; skipped if unreachable).

use dakoku::Application;
use dakoku_config::{Config, MasterKey};
use serde_json::json;
use sqlx::{Connection, Executor};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 16;
const REQUESTS_PER_CLIENT: usize = 250;
const WARMUP_PER_CLIENT: usize = 20;

struct Run {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

/// Sends the same load to `url`: CLIENTS concurrent clients, each posting one body after another.
async fn load(url: &str, token: &str, bodies: Arc<Vec<serde_json::Value>>) -> Run {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build().expect("client");
    let fire = |count: usize, offset: usize| {
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (client, url, token, bodies) = (client.clone(), url.to_owned(), token.to_owned(), bodies.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(count);
                for i in 0..count {
                    let body = &bodies[(offset + c * count + i) % bodies.len()];
                    let started = Instant::now();
                    let response = client.post(&url).bearer_auth(&token).json(body).send().await.expect("sent");
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
    for task in fire(REQUESTS_PER_CLIENT, 7) {
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

/// Starts dakoku in-process on `url`, creates employees, and returns the punch URL, a token
/// and one request body per employee.
async fn dakoku(url: &str, dir: &std::path::Path) -> (String, String, Arc<Vec<serde_json::Value>>) {
    let key = MasterKey::generate().to_base64();
    let config = Config::from_vars(vars(url, dir, &key)).expect("config");
    let app = Application::build(config).await.expect("build");
    let base = format!("http://{}", app.local_addr());
    let init = app.service().init_organization("Bench", "admin@bench.example", "Asia/Tokyo").await.expect("init");
    tokio::spawn(async move { app.run_until(std::future::pending(), true).await.expect("serve") });
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    for i in 0..100 {
        let response = client
            .post(format!("{base}/api/v1/employees"))
            .bearer_auth(&init.admin_token)
            .json(&json!({"code": format!("B{i}"), "name": format!("Bench {i}")}))
            .send()
            .await
            .expect("employee");
        let id = response.json::<serde_json::Value>().await.expect("json")["id"].as_str().expect("id").to_owned();
        bodies.push(json!({"employee_id": id, "kind": "clock_in", "note": "bench"}));
    }
    (format!("{base}/api/v1/punches"), init.admin_token, Arc::new(bodies))
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
    let noop_bodies = Arc::new(vec![json!({"employee_id": "x", "kind": "clock_in"})]);
    let baseline = load(&noop, "none", noop_bodies.clone()).await;
    report("bare axum handler (no work)", &baseline, &baseline);

    let sqlite_dir = dir.path().join("sqlite");
    let (url, token, bodies) =
        dakoku(&format!("sqlite://{}", sqlite_dir.join("dakoku.db").display()), &sqlite_dir).await;
    let sqlite = load(&url, &token, bodies).await;
    report("dakoku POST /api/v1/punches, SQLite", &sqlite, &baseline);

    if let Some(pg_url) = postgres_database("load").await {
        let pg_dir = dir.path().join("pg");
        let (url, token, bodies) = dakoku(&pg_url, &pg_dir).await;
        let run = load(&url, &token, bodies).await;
        report("dakoku POST /api/v1/punches, PostgreSQL", &run, &baseline);
    } else {
        println!("| PostgreSQL | skipped: unreachable | | | |");
    }
    let again = load(&noop, "none", noop_bodies).await;
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
