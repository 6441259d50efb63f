//! The monthly close at scale: 10,000 employees × 30 days of punches (4 a day, 1.2 million),
//! computed into day records and month summaries on SQLite and PostgreSQL. Next to it, in the
//! same run, a bare scan that only reads the same punches, and the time to recompute one
//! employee's month after one new punch.
//!
//! Run: `cargo bench -p dakoku --bench close` (PostgreSQL from `DAKOKU_TEST_DATABASE_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`; skipped if unreachable).
//! `DAKOKU_BENCH_EMPLOYEES` changes the head count.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use dakoku_config::{Config, MasterKey};
use dakoku_domain::{PunchKind, PunchSource};
use dakoku_service::employees::ImportRow;
use dakoku_service::punches::NewPunch;
use dakoku_service::timesheets::YearMonth;
use dakoku_service::{Ctx, PageRequest, Service};
use sqlx::{Connection, Executor, Row};
use std::collections::BTreeMap;
use std::time::Instant;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the kernel's peak-RSS mark so the next phase's peak can be read on its own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

async fn service(url: &str, dir: &std::path::Path) -> Service {
    let vars: BTreeMap<String, String> = [
        ("DAKOKU_DATABASE_URL", url.to_owned()),
        ("DAKOKU_MASTER_KEY", MasterKey::generate().to_base64()),
        ("DAKOKU_DATA_DIR", dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    dakoku::open_service(&Config::from_vars(vars).expect("config")).await.expect("service")
}

async fn run(label: &str, service: Service, employees: usize) {
    let init = service.init_organization("Close", "hr@close.example", "Asia/Tokyo").await.expect("init");
    let ctx = Ctx::cli(init.organization.id.clone());
    let rows: Vec<ImportRow> = (0..employees)
        .map(|i| ImportRow {
            line: i as u64 + 2,
            code: format!("E{i:05}"),
            name: format!("社員{i}"),
            ..ImportRow::default()
        })
        .collect();
    service.import_employees(&ctx, &rows, false, &|_| {}).await.expect("import");
    let mut ids = Vec::new();
    let mut page = PageRequest::first(500);
    loop {
        let listed = service.list_employees(&ctx, &Default::default(), &page).await.expect("list");
        ids.extend(listed.items.into_iter().map(|e| e.id));
        match listed.next_cursor {
            Some(c) => page = PageRequest::parse(Some(&c), Some(500)).expect("cursor"),
            None => break,
        }
    }

    // 4 punches a day on 30 days of October 2026, written in bulk.
    let started = Instant::now();
    let tokyo = chrono_tz::Asia::Tokyo;
    let org = init.organization.id.to_string();
    let mut tx = service.db.begin().await.expect("tx");
    let mut values = Vec::new();
    let mut total = 0usize;
    for (n, id) in ids.iter().enumerate() {
        for day in 1..=30 {
            let date = NaiveDate::from_ymd_opt(2026, 10, day).expect("date");
            let base = tokyo
                .from_local_datetime(&date.and_hms_opt(9, 0, 0).expect("time"))
                .single()
                .expect("local")
                .with_timezone(&Utc);
            let jitter = (n * 7 + day as usize) % 20;
            for (kind, minutes) in
                [("clock_in", jitter), ("break_start", 180), ("break_end", 240), ("clock_out", 540 + jitter * 3)]
            {
                let at = (base + Duration::minutes(minutes as i64)).timestamp_micros();
                total += 1;
                values.push(format!(
                    "('{}', '{org}', '{id}', '{kind}', {at}, 'import', 'cli', NULL, NULL, NULL, NULL, NULL, 0, NULL, {at})",
                    uuid_like(total)
                ));
                if values.len() == 1000 {
                    flush(&mut tx, &mut values).await;
                }
            }
        }
    }
    flush(&mut tx, &mut values).await;
    tx.commit().await.expect("commit");
    // Fresh planner statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE would leave them.
    sqlx::query("ANALYZE").execute(&service.db.pool).await.expect("analyze");
    let load = started.elapsed();

    let month = YearMonth::parse("2026-10").expect("month");
    let from =
        tokyo.with_ymd_and_hms(2026, 9, 28, 5, 0, 0).single().expect("from").with_timezone(&Utc).timestamp_micros();
    let to = tokyo.with_ymd_and_hms(2026, 11, 1, 5, 0, 0).single().expect("to").with_timezone(&Utc).timestamp_micros();

    reset_peak();
    let base_rss = status_kib("VmRSS:");
    let started = Instant::now();
    let mut overtime = 0i64;
    let closed = service
        .close_month(&ctx, month, &mut |m| {
            overtime += m.summary.totals.overtime_minutes;
            Ok(())
        })
        .await
        .expect("close");
    let close = started.elapsed();
    let close_peak = status_kib("VmHWM:");
    let close_base = base_rss;
    assert_eq!(closed, employees);

    let started = Instant::now();
    service.close_month(&ctx, month, &mut |_| Ok(())).await.expect("close again");
    let close_cached = started.elapsed();

    // One new punch (HR backfills a forgotten break), then that employee's month is read; for
    // 25 employees on different days, reported as medians (one sample is at the machine's mercy).
    let mut warm_reads = Vec::new();
    let mut recomputes = Vec::new();
    for (n, someone) in ids.iter().step_by((ids.len() / 25).max(1)).take(25).enumerate() {
        let started = Instant::now();
        service.timesheet(&ctx, someone, month).await.expect("timesheet");
        warm_reads.push(started.elapsed());
        let day = 1 + (n as u32 % 28);
        let at = tokyo.with_ymd_and_hms(2026, 10, day, 15, 0, 0).single().expect("at").with_timezone(&Utc);
        let input = NewPunch {
            employee_id: someone.clone(),
            kind: PunchKind::BreakStart,
            at: Some(at),
            note: None,
            location: None,
            source: PunchSource::Api,
            integration_id: None,
            external_event_id: None,
        };
        service.record_punch(&ctx, input, None).await.expect("punch");
        let started = Instant::now();
        service.timesheet(&ctx, someone, month).await.expect("timesheet");
        recomputes.push(started.elapsed());
    }
    let median = |mut samples: Vec<std::time::Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (warm, recompute) = (median(warm_reads), median(recomputes));

    reset_peak();
    let base_rss = status_kib("VmRSS:");
    let started = Instant::now();
    let rows = sqlx::query(
        "SELECT employee_id, kind, at FROM punches WHERE org_id = $1 AND at >= $2 AND at < $3 ORDER BY employee_id, at",
    )
    .bind(&org)
    .bind(from)
    .bind(to)
    .fetch_all(&service.db.pool)
    .await
    .expect("scan");
    let mut checksum = 0i64;
    for row in &rows {
        checksum = checksum.wrapping_add(row.get::<i64, _>("at"));
    }
    let scan = started.elapsed();
    let scan_peak = status_kib("VmHWM:");
    let scan_base = base_rss;
    let scanned = rows.len();
    drop(rows);

    println!("| {label} | {employees} | {scanned} | {:.1} s | {:.2} s | {} → {} MiB | {:.1} s | {} → {} MiB | {:.1}× | {:.1} s | {:.1} ms | {:.1} ms |",
        load.as_secs_f64(), scan.as_secs_f64(), scan_base / 1024, scan_peak / 1024, close.as_secs_f64(), close_base / 1024, close_peak / 1024,
        close.as_secs_f64() / scan.as_secs_f64(), close_cached.as_secs_f64(), warm.as_secs_f64() * 1000.0, recompute.as_secs_f64() * 1000.0);
    eprintln!("({label}: {overtime} overtime minutes in total; checksum {checksum})");
}

fn uuid_like(n: usize) -> String {
    format!("00000000-0000-7000-8000-{n:012}")
}

async fn flush(tx: &mut dakoku_store::Tx<'static>, values: &mut Vec<String>) {
    if values.is_empty() {
        return;
    }
    let sql = format!(
        "INSERT INTO punches (id, org_id, employee_id, kind, at, source, recorded_by, note, location, integration_id, external_event_id, supersedes, voids, correction_id, created_at) VALUES {}",
        values.join(",")
    );
    tx.execute(sql.as_str()).await.expect("bulk insert");
    values.clear();
}

#[tokio::main]
async fn main() {
    let employees: usize = std::env::var("DAKOKU_BENCH_EMPLOYEES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    println!("| backend | employees | punches scanned | bulk load | bare scan | RSS before → peak, scan | close | RSS before → peak, close | close / scan | close again (cached) | one month read (warm, median of 25) | month read after one new punch (median of 25) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let sqlite = dir.path().join("sqlite");
    run("SQLite", service(&format!("sqlite://{}", sqlite.join("close.db").display()), &sqlite).await, employees).await;

    sqlx::any::install_default_drivers();
    let admin = std::env::var("DAKOKU_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("dakoku_bench_close_{}", std::process::id());
    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
        conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create database");
        let url = format!("{}/{name}", admin.split('?').next().unwrap_or_default().rsplit_once('/').expect("path").0);
        let pg = dir.path().join("pg");
        run("PostgreSQL", service(&url, &pg).await, employees).await;
        let _ = conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
    } else {
        println!("| PostgreSQL | skipped: unreachable | | | | | | | | | | |");
    }
    std::process::exit(0);
}
