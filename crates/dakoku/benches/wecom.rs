//! A one-month WeCom check-in import for many employees: the `getcheckindata` calls it makes
//! against the least possible (ceil(users / 100) × ceil(days / 30)), and its wall time against
//! what the simulator's rate limit allows.
//!
//! Then an org sync (read) of the same people from 20 WeCom departments, and the cost of the
//! notice scheduler's minute tick for them.
//!
//! Run: `cargo bench -p dakoku --bench wecom` (`DAKOKU_BENCH_EMPLOYEES`, default 1000).

mod support;

use chrono::{Datelike, TimeZone, Utc};
use dakoku_domain::Platform;
use dakoku_sim::wecom::WeComSim;
use serde_json::json;
use std::time::Instant;

const PER_MINUTE: usize = 600;

#[tokio::main]
async fn main() {
    let employees: usize = std::env::var("DAKOKU_BENCH_EMPLOYEES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    let sim = WeComSim::start("127.0.0.1:0".parse().expect("addr"), "ww-bench", 1000002, "bench-secret")
        .await
        .expect("simulator");
    sim.set_checkin_rate_limit(PER_MINUTE);
    let settings = json!({"corp_id": "ww-bench", "agent_id": "1000002", "secret": "bench-secret",
        "api_base_url": sim.api_base_url(), "pull_every_minutes": 0});
    let bench =
        support::start(Platform::WeCom, settings, employees, |i| format!("W{i:05}"), |i| format!("u{i:05}")).await;
    let (service, worker, ctx, integration) = (&bench.service, &bench.worker, &bench.ctx, &bench.integration);
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
    service.request_pull(ctx, integration, from, to).await.expect("pull queued");
    while worker.run_once().await.expect("worker") > 0 {}
    let wall = started.elapsed();
    let stored = support::punches(service).await;
    // Calls are spaced to stay under the limit: the least time the calls alone can take.
    let floor = minimum.saturating_sub(1) as f64 * 60.0 / PER_MINUTE as f64;
    println!("employees: {employees}, days: {days}, check-in records: {records}, punches stored: {stored}");
    println!(
        "| getcheckindata calls | theoretical minimum | throttled (45009) | wall time s | pacing floor s (600/min) |"
    );
    println!("| --- | --- | --- | --- | --- |");
    println!("| {} | {minimum} | {} | {:.2} | {floor:.2} |", sim.checkin_calls(), sim.throttled(), wall.as_secs_f64());

    // Org sync (read): WeCom has the same people in 20 departments under other names.
    let departments = 20;
    for d in 0..departments {
        sim.put_department(2 + d as i64, &format!("部门{d}"), 1);
    }
    for i in 0..employees {
        sim.put_member(&format!("u{i:05}"), &format!("同事{i}"), &[2 + (i % departments) as i64]);
    }
    let calls_before = sim.directory_calls();
    let started = Instant::now();
    let preview = service
        .preview_org_sync(ctx, integration, Some(dakoku_service::org_sync::Direction::Read))
        .await
        .expect("plan");
    let planned = started.elapsed();
    let read_calls = sim.directory_calls() - calls_before;
    let request = dakoku_service::org_sync::OrgSyncRequest {
        integration_id: integration.clone(),
        direction: Some(dakoku_service::org_sync::Direction::Read),
        trigger: "bench".into(),
    };
    let started = Instant::now();
    let report = service.run_org_sync(ctx.org(), &request).await.map_err(|_| "sync stopped").expect("sync");
    let applied = started.elapsed();
    println!();
    println!("| org sync (read) | changes | directory calls per read | least calls (1 + departments + members lists incl. root) | dry run s | sync s |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!(
        "| {employees} members, {departments} departments | {} applied, {} failed | {read_calls} | {} | {:.2} | {:.2} |",
        report.applied,
        report.failed.len(),
        1 + departments + (departments + 1),
        planned.as_secs_f64(),
        applied.as_secs_f64()
    );
    assert_eq!(preview.plan.changes.len() as u64, report.applied);

    // Notices: the scheduler tick that runs every minute, with reminders and anomaly notices
    // on, against a tick of the periodic pull scheduler in the same process as a baseline.
    let patch = json!({"punch_reminders": true, "anomaly_notices": true, "member_messages_per_minute": 6000});
    service
        .update_integration(ctx, integration, None, patch.as_object().expect("object").clone())
        .await
        .expect("notices on");
    let quiet = Utc.with_ymd_and_hms(2026, 11, 24, 4, 0, 0).single().expect("noon in Shanghai");
    let started = Instant::now();
    service.schedule_pulls(quiet).await.expect("pulls");
    let baseline = started.elapsed();
    service.schedule_notices(quiet).await.expect("first tick checks yesterday");
    let started = Instant::now();
    let queued_quiet = service.schedule_notices(quiet).await.expect("tick");
    let quiet_tick = started.elapsed();
    let due = Utc.with_ymd_and_hms(2026, 11, 25, 0, 55, 0).single().expect("08:55 in Shanghai");
    let started = Instant::now();
    let queued_due = service.schedule_notices(due).await.expect("tick");
    let due_tick = started.elapsed();
    println!();
    println!("| notice tick ({employees} linked) | queued | ms | × pull-scheduler tick |");
    println!("| --- | --- | --- | --- |");
    for (label, queued, took) in [("nothing due", queued_quiet, quiet_tick), ("reminders due", queued_due, due_tick)] {
        println!(
            "| {label} | {queued} | {:.1} | {:.0} |",
            took.as_secs_f64() * 1000.0,
            took.as_secs_f64() / baseline.as_secs_f64().max(1e-6)
        );
    }
    std::process::exit(0);
}
