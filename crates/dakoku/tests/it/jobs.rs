//! The durable job queue through its first real job, webhook delivery: signed requests,
//! retries with backoff, Retry-After, dead letters, lease take-over and graceful release.

use crate::backend_test;
use crate::helpers::{TestApp, TestDb};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A status to answer with and an optional `Retry-After` in seconds.
type Answer = (u16, Option<u64>);

/// A loopback HTTP receiver that records what it gets and answers from a script.
#[derive(Clone, Default)]
pub struct Receiver {
    pub seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    /// When each request of `seen` arrived.
    pub arrivals: Arc<Mutex<Vec<std::time::Instant>>>,
    /// Statuses to answer in turn; 200 once it runs out.
    script: Arc<Mutex<Vec<Answer>>>,
    delay: Arc<Mutex<Duration>>,
}

impl Receiver {
    pub async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let state = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    let delay = *state.delay.lock().expect("lock");
                    {
                        let mut seen = state.seen.lock().expect("lock");
                        seen.push((headers, body));
                        state.arrivals.lock().expect("lock").push(std::time::Instant::now());
                    }
                    tokio::time::sleep(delay).await;
                    let next = {
                        let mut script = state.script.lock().expect("lock");
                        if script.is_empty() {
                            (200, None)
                        } else {
                            script.remove(0)
                        }
                    };
                    let mut response_headers = HeaderMap::new();
                    if let Some(after) = next.1 {
                        response_headers.insert("retry-after", after.to_string().parse().expect("header"));
                    }
                    (StatusCode::from_u16(next.0).expect("status"), response_headers, "")
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
        (receiver, url)
    }

    pub fn answer(&self, statuses: &[(u16, Option<u64>)]) {
        *self.script.lock().expect("lock") = statuses.to_vec();
    }

    pub fn slow(&self, delay: Duration) {
        *self.delay.lock().expect("lock") = delay;
    }

    pub fn count(&self) -> usize {
        self.seen.lock().expect("lock").len()
    }
}

async fn subscribe(app: &TestApp, url: &str) -> String {
    let created = app
        .post(&app.admin_token, "/api/v1/webhooks", json!({"url": url, "events": ["punch.created"]}))
        .await
        .expect(201);
    created.body["secret"].as_str().expect("secret shown once").to_owned()
}

async fn punch(app: &TestApp) -> String {
    let emp = app.create_employee(&app.admin_token, &format!("W{}", uuid::Uuid::new_v4().simple()), None).await;
    app.post(&app.admin_token, "/api/v1/punches", json!({"employee_id": emp, "kind": "clock_in"}))
        .await
        .expect(201)
        .id()
}

async fn job_row(app: &TestApp) -> (String, i64, i64, Option<String>) {
    use sqlx::Row;
    let row = sqlx::query("SELECT status, attempts, run_at, locked_by FROM jobs")
        .fetch_one(&app.service.db.pool)
        .await
        .expect("one job");
    (row.get("status"), row.get("attempts"), row.get("run_at"), row.get("locked_by"))
}

backend_test!(webhook_deliveries_are_signed, |db: TestDb| async move {
    let app = db.spawn().await;
    let (receiver, url) = Receiver::start().await;
    let secret = subscribe(&app, &url).await;
    assert!(!app.get(&app.admin_token, "/api/v1/webhooks").await.expect(200).text.contains(&secret));
    let punch_id = punch(&app).await;
    assert_eq!(app.run_jobs().await, 1);
    let seen = receiver.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{}.{body}", header("dakoku-timestamp")).as_bytes());
    assert_eq!(header("dakoku-signature"), format!("v1={}", hex::encode(mac.finalize().into_bytes())));
    assert_eq!(header("dakoku-event"), "punch.created");
    assert_eq!(header("dakoku-event-id"), format!("punch.created:{punch_id}"));
    let body: Value = serde_json::from_str(body).expect("json");
    assert_eq!(body["data"]["id"], json!(punch_id));
    app.shutdown().await;
});

backend_test!(failed_deliveries_back_off_and_honour_retry_after, |db: TestDb| async move {
    let app = db.spawn().await;
    let (receiver, url) = Receiver::start().await;
    subscribe(&app, &url).await;
    receiver.answer(&[(500, None), (429, Some(120))]);
    punch(&app).await;
    let started = dakoku_store::now_micros();
    assert_eq!(app.worker.run_once().await.expect("step"), 1);
    let (status, attempts, run_at, locked_by) = job_row(&app).await;
    assert_eq!((status.as_str(), attempts, locked_by), ("queued", 1, None));
    assert!(run_at >= started + 2_000_000, "backs off at least 2 s after the first failure");
    assert_eq!(app.worker.run_once().await.expect("step"), 0, "not due yet");

    sqlx::query("UPDATE jobs SET run_at = 0").execute(&app.service.db.pool).await.expect("time travel");
    let second = dakoku_store::now_micros();
    assert_eq!(app.worker.run_once().await.expect("step"), 1);
    let (status, attempts, run_at, _) = job_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("queued", 2));
    assert!((second + 115_000_000..second + 130_000_000).contains(&run_at), "Retry-After: 120 honoured");

    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(job_row(&app).await.0, "done");
    assert_eq!(receiver.count(), 3, "one request per attempt, none lost or doubled");
    app.shutdown().await;
});

backend_test!(exhausted_jobs_go_dead_and_can_be_retried, |db: TestDb| async move {
    let app = db.spawn().await;
    let (receiver, url) = Receiver::start().await;
    subscribe(&app, &url).await;
    receiver.answer(&[(503, None); 10]);
    punch(&app).await;
    app.run_jobs().await;
    let (status, attempts, _, _) = job_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("dead", 10));
    let dead = app.get(&app.admin_token, "/api/v1/jobs?status=dead").await.expect(200);
    let job = &dead.body["items"][0];
    assert!(job["last_error"].as_str().is_some_and(|e| e.contains("503")));
    let id = job["id"].as_str().expect("id").to_owned();
    app.post(&app.admin_token, &format!("/api/v1/jobs/{id}/retry"), json!({})).await.expect(202);
    app.post(&app.admin_token, &format!("/api/v1/jobs/{id}/retry"), json!({})).await.expect_problem(404);
    app.run_jobs().await;
    assert_eq!(job_row(&app).await.0, "done");
    assert_eq!(receiver.count(), 11);
    app.shutdown().await;
});

backend_test!(a_dead_instances_lease_is_taken_over, |db: TestDb| async move {
    let app = db.spawn().await;
    let (receiver, url) = Receiver::start().await;
    subscribe(&app, &url).await;
    punch(&app).await;
    // Another instance claims the job with a short lease and then dies without a word.
    let claimed = dakoku_store::jobs::claim(&app.service.db, "instance-that-died", Duration::from_millis(300), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(app.worker.run_once().await.expect("step"), 0, "a live lease is respected");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(app.worker.run_once().await.expect("step"), 1, "an expired lease is taken over");
    let (status, attempts, _, _) = job_row(&app).await;
    assert_eq!((status.as_str(), attempts), ("done", 2));
    // The dead instance cannot overwrite the outcome afterwards.
    assert!(!dakoku_store::jobs::complete(&app.service.db, &claimed[0].id, "instance-that-died").await.expect("query"));
    assert_eq!(receiver.count(), 1);
    app.shutdown().await;
});

backend_test!(shutdown_hands_unfinished_jobs_back, |db: TestDb| async move {
    let app = db.spawn().await;
    let (receiver, url) = Receiver::start().await;
    receiver.slow(Duration::from_secs(5));
    subscribe(&app, &url).await;
    punch(&app).await;
    let worker = dakoku_worker::Worker::new(
        app.service.clone(),
        dakoku_worker::WorkerConfig {
            instance_id: "graceful".into(),
            concurrency: 2,
            poll: Duration::from_millis(20),
            lease: Duration::from_secs(30),
            shutdown_grace: Duration::from_millis(200),
        },
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(worker.run(stopped));
    for _ in 0..100 {
        if receiver.count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(job_row(&app).await.0, "running");
    stop.send(true).expect("stop");
    tokio::time::timeout(Duration::from_secs(3), running).await.expect("stops within the grace period").expect("joins");
    let (status, attempts, _, locked_by) = job_row(&app).await;
    assert_eq!((status.as_str(), attempts, locked_by), ("queued", 0, None), "released, attempt not counted");
    receiver.slow(Duration::ZERO);
    app.run_jobs().await;
    assert_eq!(job_row(&app).await.0, "done");
    app.shutdown().await;
});
