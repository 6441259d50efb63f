//! A one-month DingTalk attendance pull for many users: the `attendance/list` calls it makes
//! against the least possible (per 50 users and 7 days, one call per 50 result rows), and the
//! call rate it achieves against the simulator's per-app limit (1,500 a minute, 40 a second)
//! with the throttle errors it met.
//!
//! Run: `cargo bench -p dakoku --bench dingtalk` (`DAKOKU_BENCH_USERS`, default 1000).

mod support;

use chrono::{Datelike, TimeZone, Utc};
use dakoku_domain::Platform;
use dakoku_sim::dingtalk::DingTalkSim;
use serde_json::json;
use std::time::Instant;

const PER_MINUTE: usize = 1500;
const PER_SECOND: usize = 40;

#[tokio::main]
async fn main() {
    let users: usize = std::env::var("DAKOKU_BENCH_USERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let sim = DingTalkSim::start("127.0.0.1:0".parse().expect("addr"), "dingbench", "bench-secret", 3000001)
        .await
        .expect("simulator");
    sim.set_limits(PER_SECOND, PER_MINUTE);
    let settings = json!({"app_key": "dingbench", "app_secret": "bench-secret", "agent_id": "3000001",
        "oapi_base_url": sim.base_url, "pull_every_minutes": 0});
    let bench =
        support::start(Platform::DingTalk, settings, users, |i| format!("D{i:05}"), |i| format!("d{i:05}")).await;
    let (service, worker, ctx, integration) = (&bench.service, &bench.worker, &bench.ctx, &bench.integration);
    let zone = chrono_tz::Asia::Shanghai;
    let at = |day: u32, h: u32, m: u32| {
        zone.with_ymd_and_hms(2026, 10, day, h, m, 0).single().expect("t").timestamp_millis()
    };
    let mut per_window: std::collections::BTreeMap<u32, u64> = Default::default();
    for i in 0..users {
        sim.put_user(&format!("d{i:05}"), &format!("员工{i}"), &format!("139{i:08}"), &[1]);
    }
    for day in 1..=31 {
        if chrono::NaiveDate::from_ymd_opt(2026, 10, day).expect("date").weekday().num_days_from_monday() >= 5 {
            continue;
        }
        for i in 0..users {
            sim.punch(&format!("d{i:05}"), true, at(day, 8, 55) + i as i64, "Normal", "Normal");
            sim.punch(&format!("d{i:05}"), false, at(day, 18, 5) + i as i64, "Normal", "Normal");
        }
        *per_window.entry((day - 1) / 7).or_default() += 2;
    }
    // Per group of 50 users and span of 7 days: one call per 50 rows (at least one).
    let groups = users.div_ceil(50) as u64;
    let spans = 31_u64.div_ceil(7);
    let minimum: u64 =
        (0..spans as u32).map(|w| groups * (per_window.get(&w).copied().unwrap_or(0) * 50).div_ceil(50).max(1)).sum();

    let from = zone.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).single().expect("from").with_timezone(&Utc);
    let to = zone.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("to").with_timezone(&Utc);
    let started = Instant::now();
    service.request_pull(ctx, integration, from, to).await.expect("pull queued");
    while worker.run_once().await.expect("worker") > 0 {}
    let wall = started.elapsed();
    let stored = support::punches(service).await;
    let calls = sim.calls("/attendance/list");
    let rate = calls as f64 / wall.as_secs_f64() * 60.0;
    println!("users: {users}, days: 31, punches stored: {stored}");
    println!("| attendance/list calls | theoretical minimum | throttled (90018/90006) | wall time s | calls/min | of the 1,500/min limit |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!(
        "| {calls} | {minimum} | {} | {:.1} | {rate:.0} | {:.0}% |",
        sim.throttled(),
        wall.as_secs_f64(),
        rate / PER_MINUTE as f64 * 100.0
    );
    std::process::exit(0);
}
