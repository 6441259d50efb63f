//! A one-month WeCom check-in import for many employees: the `getcheckindata` calls it makes
//! against the least possible (ceil(users / 100) × ceil(days / 30)), and its wall time against
//! what the simulator's rate limit allows.
//!
//! Run: `cargo bench -p dakoku --bench wecom` (`DAKOKU_BENCH_EMPLOYEES`, default 1000).

use chrono::{Datelike, TimeZone, Utc};
use dakoku::Application;
use dakoku_config::{Config, MasterKey};
use dakoku_domain::{IntegrationId, OrgId};
use dakoku_service::employees::ImportRow;
use dakoku_service::Ctx;
use dakoku_sim::wecom::WeComSim;
use serde_json::json;
use std::time::Instant;

const PER_MINUTE: usize = 600;

#[tokio::main]
async fn main() {
    let employees: usize = std::env::var("DAKOKU_BENCH_EMPLOYEES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let key = MasterKey::generate().to_base64();
    let url = format!("sqlite://{}", dir.path().join("dakoku.db").display());
    let vars = [
        ("DAKOKU_DATABASE_URL", url.as_str()),
        ("DAKOKU_LISTEN", "127.0.0.1:0"),
        ("DAKOKU_MASTER_KEY", key.as_str()),
        ("DAKOKU_DATA_DIR", dir.path().to_str().expect("utf-8")),
        ("DAKOKU_LOG", "warn"),
    ];
    let config =
        Config::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()).expect("config");
    let app = Application::build(config).await.expect("build");
    let service = app.service().clone();
    let worker = app.worker();
    let init = service.init_organization("Bench", "admin@bench.example", "Asia/Shanghai").await.expect("init");
    let ctx = Ctx::cli(OrgId::parse(&init.organization.id.to_string()).expect("org"));

    let sim = WeComSim::start("127.0.0.1:0".parse().expect("addr"), "ww-bench", 1000002, "bench-secret")
        .await
        .expect("simulator");
    sim.set_checkin_rate_limit(PER_MINUTE);
    let settings = json!({"corp_id": "ww-bench", "agent_id": "1000002", "secret": "bench-secret",
        "api_base_url": sim.api_base_url(), "pull_every_minutes": 0});
    let view = service
        .create_integration(
            &ctx,
            dakoku_domain::Platform::WeCom,
            "bench",
            settings.as_object().expect("object").clone(),
        )
        .await
        .expect("integration");
    let rows: Vec<ImportRow> = (0..employees)
        .map(|i| ImportRow {
            line: i as u64,
            code: format!("W{i:05}"),
            name: format!("员工{i}"),
            email: String::new(),
            timezone: String::new(),
            department_code: String::new(),
        })
        .collect();
    service.import_employees(&ctx, &rows, false, &|_| {}).await.expect("employees");
    let links: Vec<(u64, String, String)> =
        (0..employees).map(|i| (i as u64, format!("W{i:05}"), format!("u{i:05}"))).collect();
    let integration = IntegrationId::parse(&view.id.to_string()).expect("id");
    service.import_links(&ctx, &integration, &links, false, &|_| {}).await.expect("links");
    let mut records = 0;
    for day in 1..=31 {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 10, day).expect("date");
        if date.weekday().num_days_from_monday() >= 5 {
            continue;
        }
        let on = Utc.with_ymd_and_hms(2026, 10, day, 1, 0, 0).single().expect("time").timestamp();
        for i in 0..employees {
            for (kind, at) in [("上班打卡", on + i as i64), ("下班打卡", on + 9 * 3600 + i as i64)] {
                sim.add_checkin(json!({"userid": format!("u{i:05}"), "checkin_type": kind, "exception_type": "", "checkin_time": at}));
                records += 1;
            }
        }
    }
    let from = Utc.with_ymd_and_hms(2026, 9, 30, 16, 0, 0).single().expect("from");
    let to = Utc.with_ymd_and_hms(2026, 10, 31, 16, 0, 0).single().expect("to");
    let days = (to - from).num_days();
    let minimum = employees.div_ceil(100) as u64 * (days as u64).div_ceil(30);

    let started = Instant::now();
    service.request_pull(&ctx, &integration, from, to).await.expect("pull queued");
    while worker.run_once().await.expect("worker") > 0 {}
    let wall = started.elapsed();
    let stored = {
        use sqlx::Row;
        let row = sqlx::query("SELECT COUNT(*) FROM punches").fetch_one(&service.db.pool).await.expect("count");
        row.try_get::<i64, _>(0).expect("count")
    };
    // Calls are spaced to stay under the limit: the least time the calls alone can take.
    let floor = minimum.saturating_sub(1) as f64 * 60.0 / PER_MINUTE as f64;
    println!("employees: {employees}, days: {days}, check-in records: {records}, punches stored: {stored}");
    println!(
        "| getcheckindata calls | theoretical minimum | throttled (45009) | wall time s | pacing floor s (600/min) |"
    );
    println!("| --- | --- | --- | --- | --- |");
    println!("| {} | {minimum} | {} | {:.2} | {floor:.2} |", sim.checkin_calls(), sim.throttled(), wall.as_secs_f64());
    std::process::exit(0);
}
