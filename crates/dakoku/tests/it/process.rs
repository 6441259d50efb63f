//! Tests of the `dakoku` binary as operators run it: SIGKILL in the middle of a stream of
//! punches, two instances sharing PostgreSQL, secrets kept out of logs, the master-key check,
//! and the CLI's init, import and export.

use crate::backend_test;
use crate::helpers::{read, Backend, TestDb};
use crate::jobs::Receiver;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_dakoku");

/// A `dakoku serve` child process and everything it logged.
struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(db: &TestDb, master_key: &str, extra: &[(&str, &str)]) -> Server {
        let mut env: Vec<(&str, &str)> = vec![("DAKOKU_LOG_FORMAT", "json")];
        env.extend_from_slice(extra);
        let mut child = Command::new(BIN)
            .arg("serve")
            .env_clear()
            .envs(db.vars(master_key, &env))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dakoku serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(entry) = serde_json::from_str::<Value>(&line) {
                    if entry["fields"]["message"] == "dakoku is serving" {
                        let _ = address_tx.send(entry["fields"]["address"].as_str().unwrap_or_default().to_owned());
                    }
                }
                let mut log = sink.lock().expect("lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("server did not start: {}", log.lock().expect("lock")));
        Server { child, base: format!("http://{address}"), log }
    }

    fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill -TERM");
        self.child.wait().expect("exits")
    }

    fn log(&self) -> String {
        self.log.lock().expect("lock").clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a CLI command to completion: (exit success, stdout, stderr).
fn cli(db: &TestDb, master_key: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).env_clear().envs(db.vars(master_key, &[])).output().expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn init(db: &TestDb, master_key: &str) -> String {
    let (ok, stdout, stderr) =
        cli(db, master_key, &["init", "--org-name", "Acme", "--admin-email", "admin@acme.example", "--json"]);
    assert!(ok, "init failed: {stderr}");
    let out: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|_| panic!("init --json prints one JSON object, got {stdout:?}"));
    assert_eq!(out.as_object().map(|o| o.len()), Some(2));
    assert!(out["organization_id"].is_string());
    out["admin_token"].as_str().expect("admin_token").to_owned()
}

async fn call(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> Result<crate::helpers::Reply, reqwest::Error> {
    let mut request = client.request(method, format!("{base}{path}")).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    Ok(read(request.send().await?).await)
}

async fn employees(client: &reqwest::Client, base: &str, token: &str, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let reply = call(
            client,
            base,
            token,
            reqwest::Method::POST,
            "/api/v1/employees",
            Some(json!({"code": format!("E{i}"), "name": format!("社員{i}")})),
            None,
        )
        .await
        .expect("reachable");
        ids.push(reply.expect(201).id());
    }
    ids
}

async fn all_punches(client: &reqwest::Client, base: &str, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let reply = call(
            client,
            base,
            token,
            reqwest::Method::GET,
            &format!("/api/v1/punches?limit=500&cursor={cursor}"),
            None,
            None,
        )
        .await
        .expect("reachable")
        .expect(200);
        items.extend(reply.body["items"].as_array().expect("items").iter().cloned());
        match reply.body["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => return items,
        }
    }
}

backend_test!(acknowledged_punches_survive_sigkill_exactly_once, |db: TestDb| async move {
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    let mut server = Server::start(&db, &key, &[]);
    let client = reqwest::Client::new();
    let staff = employees(&client, &server.base, &token, 4).await;

    // Eight clients post punches as fast as they can; the server is killed mid-stream.
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let attempted: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut clients = Vec::new();
    for c in 0..8 {
        let (client, base, token, staff, acked, attempted) =
            (client.clone(), server.base.clone(), token.clone(), staff.clone(), acked.clone(), attempted.clone());
        clients.push(tokio::spawn(async move {
            for i in 0.. {
                let note = format!("c{c}-{i}");
                let employee = staff[(c + i) % staff.len()].clone();
                attempted.lock().expect("lock").push((note.clone(), employee.clone()));
                let body = json!({"employee_id": employee, "kind": "clock_in", "note": note});
                match call(&client, &base, &token, reqwest::Method::POST, "/api/v1/punches", Some(body), Some(&note))
                    .await
                {
                    Ok(reply) if reply.status == 201 => {
                        acked.lock().expect("lock").insert(note, reply.id());
                    }
                    _ => return,
                }
            }
        }));
    }
    while acked.lock().expect("lock").len() < 150 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for c in clients {
        let _ = c.await;
    }
    let acked = acked.lock().expect("lock").clone();
    let attempted = attempted.lock().expect("lock").clone();
    assert!(attempted.len() > acked.len(), "some requests were cut off by the kill");

    let server = Server::start(&db, &key, &[]);
    let stored = all_punches(&client, &server.base, &token).await;
    let mut by_note: HashMap<String, Vec<String>> = HashMap::new();
    for p in &stored {
        by_note
            .entry(p["note"].as_str().expect("note").to_owned())
            .or_default()
            .push(p["id"].as_str().expect("id").to_owned());
    }
    for (note, id) in &acked {
        assert_eq!(by_note.get(note), Some(&vec![id.clone()]), "acknowledged punch {note} is stored exactly once");
    }
    assert!(by_note.values().all(|ids| ids.len() == 1), "nothing is stored twice");

    // Clients retry what was not acknowledged with the same key: each ends up stored once.
    for (note, employee) in &attempted {
        if acked.contains_key(note) {
            continue;
        }
        let body = json!({"employee_id": employee, "kind": "clock_in", "note": note});
        call(&client, &server.base, &token, reqwest::Method::POST, "/api/v1/punches", Some(body), Some(note))
            .await
            .expect("reachable")
            .expect(201);
    }
    let stored = all_punches(&client, &server.base, &token).await;
    let notes: HashSet<_> = stored.iter().map(|p| p["note"].as_str().expect("note").to_owned()).collect();
    assert_eq!(stored.len(), attempted.len(), "one punch per attempted request");
    assert_eq!(notes, attempted.iter().map(|(n, _)| n.clone()).collect());
});

backend_test!(secrets_stay_out_of_logs_and_a_wrong_master_key_is_refused, |db: TestDb| async move {
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    let mut server = Server::start(&db, &key, &[("DAKOKU_LOG", "trace")]);
    let client = reqwest::Client::new();
    let secret = "wecom-app-secret-7f3a9c";
    let aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let created = call(&client, &server.base, &token, reqwest::Method::POST, "/api/v1/integrations",
        Some(json!({"platform": "wecom", "name": "企业微信", "settings": {"corp_id": "ww1", "agent_id": 1000002, "secret": secret, "encoding_aes_key": aes_key}})), None)
        .await.expect("reachable").expect(201);
    let id = created.id();
    let read_back =
        call(&client, &server.base, &token, reqwest::Method::GET, &format!("/api/v1/integrations/{id}"), None, None)
            .await
            .expect("reachable")
            .expect(200);
    assert!(server.terminate().success(), "SIGTERM is a clean shutdown");
    let log = server.log();
    assert!(log.contains("POST") || log.contains("http"), "trace logging was on");
    for text in [&log, &created.text, &read_back.text, &token] {
        assert!(!text.contains(secret) && !text.contains(aes_key), "a secret leaked");
    }
    assert!(!log.contains(&token), "API tokens are not logged");
    if db.backend == Backend::Sqlite {
        let mut bytes = std::fs::read(db.sqlite_path()).expect("db file");
        bytes.extend(std::fs::read(format!("{}-wal", db.sqlite_path().display())).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(secret) && !text.contains(aes_key), "secret in the database file");
    }

    let other_key = dakoku_config::MasterKey::generate().to_base64();
    let (ok, _, stderr) = cli(&db, &other_key, &["migrate"]);
    assert!(!ok);
    assert!(stderr.contains("master key does not match"), "clear error, got: {stderr}");
    let (ok, _, stderr) = cli(&db, "not-a-key", &["migrate"]);
    assert!(!ok);
    assert!(stderr.contains("DAKOKU_MASTER_KEY must be the base64 encoding of exactly 32 bytes"), "got: {stderr}");
    let (ok, _, _) = cli(&db, &key, &["migrate"]);
    assert!(ok, "the right key still works");
});

backend_test!(cli_import_validates_every_row_and_export_reads_back, |db: TestDb| async move {
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    let server = Server::start(&db, &key, &[]);
    let client = reqwest::Client::new();
    call(
        &client,
        &server.base,
        &token,
        reqwest::Method::POST,
        "/api/v1/departments",
        Some(json!({"name": "営業部", "code": "SALES"})),
        None,
    )
    .await
    .expect("reachable")
    .expect(201);
    let csv = db.dir.path().join("staff.csv");
    std::fs::write(&csv, "code,name,email,timezone,department_code\nA1,山田 太郎,taro@acme.example,Asia/Tokyo,SALES\nA2,佐藤 花子,not-an-email,,\nA3,李 明,,Asia/Shanghai,\nA3,重複,,,\nA4,鈴木 一郎,,,NOPE\n").expect("write");
    let csv_path = csv.to_str().expect("utf-8");
    let (ok, _, stderr) = cli(&db, &key, &["import", "employees", csv_path]);
    assert!(!ok, "bad rows fail the import");
    for expected in [
        ":3: email",
        ":5: code: code 'A3' appears more than once",
        ":6: department_code: no department with code 'NOPE'",
        "nothing was imported",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in: {stderr}");
    }
    let listed = call(&client, &server.base, &token, reqwest::Method::GET, "/api/v1/employees", None, None)
        .await
        .expect("reachable")
        .expect(200);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(0), "nothing imported");

    let (ok, _, stderr) = cli(&db, &key, &["import", "employees", csv_path, "--skip-invalid"]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("imported 2 employee(s), rejected 3"), "{stderr}");
    let listed = call(&client, &server.base, &token, reqwest::Method::GET, "/api/v1/employees", None, None)
        .await
        .expect("reachable")
        .expect(200);
    let items = listed.body["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 2);
    let taro = items.iter().find(|e| e["code"] == "A1").expect("A1");
    assert!(taro["department_id"].is_string());
    let audit =
        call(&client, &server.base, &token, reqwest::Method::GET, "/api/v1/audit?action=employee.import", None, None)
            .await
            .expect("reachable")
            .expect(200);
    assert_eq!(audit.body["items"].as_array().map(Vec::len), Some(2));
    assert!(audit.body["items"][0]["actor"] == "cli");

    let taro_id = taro["id"].as_str().expect("id");
    for (kind, at) in [
        ("clock_in", "2026-11-02T09:00:00+09:00"),
        ("clock_out", "2026-11-02T18:30:00+09:00"),
        ("clock_in", "2026-11-04T09:00:00+09:00"),
    ] {
        call(
            &client,
            &server.base,
            &token,
            reqwest::Method::POST,
            "/api/v1/punches",
            Some(json!({"employee_id": taro_id, "kind": kind, "at": at, "note": "メモ, with comma"})),
            None,
        )
        .await
        .expect("reachable")
        .expect(201);
    }
    let (ok, stdout, stderr) = cli(&db, &key, &["export", "punches", "--from", "2026-11-01", "--to", "2026-11-03"]);
    assert!(ok, "{stderr}");
    let lines: Vec<_> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "header and two punches in range: {stdout}");
    assert!(lines[0].starts_with("id,employee_id,employee_code,employee_name,kind,at"));
    assert!(lines[1].contains(",A1,山田 太郎,clock_in,2026-11-02T09:00:00+09:00,api,"));
    assert!(lines[2].contains("\"メモ, with comma\""));
    let (ok, stdout, _) =
        cli(&db, &key, &["export", "punches", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "json"]);
    assert!(ok);
    let rows: Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(rows.as_array().map(Vec::len), Some(3));
    assert_eq!(rows[2]["at"], "2026-11-04T09:00:00+09:00");
    let (ok, stdout, _) =
        cli(&db, &key, &["export", "punches", "--from", "2025-01-01", "--to", "2025-01-31", "--format", "json"]);
    assert!(ok);
    assert_eq!(serde_json::from_str::<Value>(&stdout).expect("valid JSON"), json!([]));

    let (ok, stdout, stderr) = cli(&db, &key, &["export", "payroll", "--month", "2026-11"]);
    assert!(ok, "{stderr}");
    let taro_row = stdout.lines().find(|l| l.starts_with("A1,")).expect("a payroll row for A1");
    assert!(taro_row.contains(",2026-11,open,"), "{taro_row}");
    let xlsx = db.dir.path().join("payroll.xlsx");
    let (ok, _, stderr) = cli(
        &db,
        &key,
        &[
            "export",
            "payroll",
            "--month",
            "2026-11",
            "--format",
            "xlsx",
            "--detail",
            "days",
            "--output",
            xlsx.to_str().expect("utf-8"),
        ],
    );
    assert!(ok, "{stderr}");
    assert!(std::fs::read(&xlsx).expect("written").starts_with(b"PK"));
});

/// Two instances on one PostgreSQL database share the job queue. One is SIGKILLed while it
/// holds jobs: its leases expire and the other instance finishes them. Only a delivery cut
/// off mid-call may be sent twice; no punch is lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_work_and_survive_one_being_killed() {
    let Some(db) = TestDb::create(Backend::Postgres).await else {
        return;
    };
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    let worker_env = |id: &'static str| {
        [
            ("DAKOKU_WORKER_POLL_MS", "50"),
            ("DAKOKU_JOB_LEASE_SECS", "3"),
            ("DAKOKU_WORKER_CONCURRENCY", "4"),
            ("DAKOKU_INSTANCE_ID", id),
        ]
    };
    let mut a = Server::start(&db, &key, &worker_env("instance-a"));
    let b = Server::start(&db, &key, &worker_env("instance-b"));
    let client = reqwest::Client::new();
    let (receiver, url) = Receiver::start().await;
    receiver.slow(Duration::from_millis(150));
    call(
        &client,
        &a.base,
        &token,
        reqwest::Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": url, "events": ["punch.created"]})),
        None,
    )
    .await
    .expect("reachable")
    .expect(201);
    let staff = employees(&client, &b.base, &token, 6).await;

    // Feed both instances; kill A halfway. Requests A cannot answer go to B with the same key.
    let total = 160;
    let mut killed_at = None;
    let mut acked = HashMap::new();
    for i in 0..total {
        if i == total / 2 {
            // Kill A while it is in the middle of deliveries.
            let deadline = Instant::now() + Duration::from_secs(30);
            while running_on(&db, "instance-a").await == 0 {
                assert!(Instant::now() < deadline, "instance A never claimed a job");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            a.kill();
            killed_at = Some(Instant::now());
        }
        let note = format!("p{i}");
        let body = json!({"employee_id": staff[i % staff.len()], "kind": "clock_in", "note": note});
        let first = if i % 2 == 0 { &a.base } else { &b.base };
        let reply = match call(
            &client,
            first,
            &token,
            reqwest::Method::POST,
            "/api/v1/punches",
            Some(body.clone()),
            Some(&note),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => call(&client, &b.base, &token, reqwest::Method::POST, "/api/v1/punches", Some(body), Some(&note))
                .await
                .expect("B answers"),
        };
        acked.insert(note, reply.expect(201).id());
    }
    let killed_at = killed_at.expect("killed");

    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let pending = {
            use sqlx::Row;
            let pool = dakoku_store::Db::connect(&db.url, 1).await.expect("connect");
            let row = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE status <> 'done'")
                .fetch_one(&pool.pool)
                .await
                .expect("count");
            let n: i64 = row.get("n");
            pool.close().await;
            n
        };
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} jobs never finished; B log: {}", b.log());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let stored = all_punches(&client, &b.base, &token).await;
    assert_eq!(stored.len(), total, "no punch lost or doubled");
    for p in &stored {
        assert_eq!(acked.get(p["note"].as_str().expect("note")), Some(&p["id"].as_str().expect("id").to_owned()));
    }
    let seen = receiver.seen.lock().expect("lock").clone();
    let arrivals = receiver.arrivals.lock().expect("lock").clone();
    let mut deliveries: HashMap<String, usize> = HashMap::new();
    let mut first_arrival: HashMap<String, Instant> = HashMap::new();
    for ((headers, _), at) in seen.iter().zip(arrivals) {
        let event = headers["dakoku-event-id"].to_str().expect("ascii").to_owned();
        *deliveries.entry(event.clone()).or_default() += 1;
        first_arrival.entry(event).or_insert(at);
    }
    for p in &stored {
        assert!(
            deliveries.contains_key(&format!("punch.created:{}", p["id"].as_str().expect("id"))),
            "every punch was delivered"
        );
    }
    let twice: Vec<_> = deliveries.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.iter().all(|(_, n)| **n == 2), "at most one repeat per job: {twice:?}");
    assert!(twice.len() <= 4, "only jobs A was running when killed are repeated (A ran at most 4): {twice:?}");
    for (event, _) in &twice {
        assert!(
            first_arrival[*event] < killed_at,
            "{event} was repeated though its first delivery began after the kill"
        );
    }
    let mut took_over = 0;
    {
        use sqlx::Row;
        let pool = dakoku_store::Db::connect(&db.url, 1).await.expect("connect");
        let rows = sqlx::query("SELECT attempts FROM jobs").fetch_all(&pool.pool).await.expect("jobs");
        for row in rows {
            if row.get::<i64, _>("attempts") > 1 {
                took_over += 1;
            }
        }
        pool.close().await;
    }
    eprintln!(
        "scale-out: {} deliveries for {total} punches, {} repeated, {took_over} job(s) taken over",
        seen.len(),
        twice.len()
    );
    assert!(took_over >= 1, "the jobs A held were taken over by B");
    assert!(took_over >= twice.len(), "repeated deliveries belong to jobs whose lease was taken over");
    assert!(b.log().contains("instance-b"));
}

async fn running_on(db: &TestDb, instance: &str) -> i64 {
    use sqlx::Row;
    let pool = dakoku_store::Db::connect(&db.url, 1).await.expect("connect");
    let row = sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE status = 'running' AND locked_by = $1")
        .bind(instance)
        .fetch_one(&pool.pool)
        .await
        .expect("count");
    pool.close().await;
    row.get("n")
}

backend_test!(a_chat_reply_acknowledged_before_a_sigkill_is_sent_once_after_restart, |db: TestDb| async move {
    use dakoku_sim::lineworks::{Fault, LineWorksSim, TEST_PRIVATE_KEY};
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    // A short lease: the kill may land while the reply job is in flight, and its lease must run
    // out before the restarted server may take it over.
    let lease = [("DAKOKU_JOB_LEASE_SECS", "3")];
    let mut server = Server::start(&db, &key, &lease);
    let client = reqwest::Client::new();
    let sim = LineWorksSim::start("127.0.0.1:0".parse().expect("address")).await.expect("simulator");
    sim.add_test_app("client-1", "secret-1", "svc@acme");
    sim.add_user("u-taro", "taro@acme.example", "山田太郎");
    let settings = json!({
        "client_id": "client-1", "client_secret": "secret-1", "service_account": "svc@acme",
        "private_key": TEST_PRIVATE_KEY, "bot_id": "2000001", "bot_secret": "bot-secret",
        "auth_base_url": sim.auth_base_url(), "api_base_url": sim.api_base_url(),
    });
    let post = |path: &'static str, body: Value| {
        let (client, base, token) = (client.clone(), server.base.clone(), token.clone());
        async move { call(&client, &base, &token, reqwest::Method::POST, path, Some(body), None).await.expect("reachable") }
    };
    let integration =
        post("/api/v1/integrations", json!({"platform": "lineworks", "name": "LW", "settings": settings}))
            .await
            .expect(201);
    let url = integration.body["callback_url"].as_str().expect("callback").to_owned();
    let callback = format!("{}{}", server.base, &url[url.find("/hooks/").expect("hooks")..]);
    sim.add_bot("2000001", "bot-secret", Some(&callback));
    let employee = post("/api/v1/employees", json!({"code": "E1", "name": "山田太郎"})).await.expect(201).id();
    let links = format!("/api/v1/integrations/{}/links", integration.id());
    call(
        &client,
        &server.base,
        &token,
        reqwest::Method::POST,
        &links,
        Some(json!({"employee_id": employee, "external_user_id": "u-taro"})),
        None,
    )
    .await
    .expect("reachable")
    .expect(201);

    // The platform refuses sends for now, so the reply cannot have gone out before the kill.
    sim.inject(Fault { path_contains: "/messages".into(), status: 503, times: usize::MAX });
    assert_eq!(sim.say("2000001", "u-taro", None, "出勤").await.expect("delivered"), 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.api_calls() == 0 {
        assert!(Instant::now() < deadline, "the worker never tried to send: {}", server.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    assert!(sim.sent().is_empty());
    let secret_path = &callback[callback.rfind('/').expect("token") + 1..];
    let log = server.log();
    for secret in ["PRIVATE KEY", "bot-secret", "secret-1", secret_path] {
        assert!(!log.contains(secret), "the log shows a secret ({secret})");
    }

    sim.clear_faults();
    let server = Server::start(&db, &key, &lease);
    // The lease, plus the backoff of the attempts the refused sends already made.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.sent().is_empty() {
        assert!(Instant::now() < deadline, "the reply was not sent after restart: {}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Long enough for a duplicate to show up if the job were run twice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sent = sim.sent();
    assert_eq!(sent.len(), 1, "the reply is sent exactly once: {sent:?}");
    assert!(sent[0].text().contains("山田太郎") && sent[0].text().contains("出勤"));
    let punches = all_punches(&client, &server.base, &token).await;
    assert_eq!(punches.len(), 1);
});

backend_test!(cli_sets_up_lineworks_and_imports_links, |db: TestDb| async move {
    use dakoku_sim::lineworks::{LineWorksSim, TEST_PRIVATE_KEY};
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    let sim = LineWorksSim::start("127.0.0.1:0".parse().expect("address")).await.expect("simulator");
    sim.add_test_app("client-1", "secret-1", "svc@acme");
    sim.add_bot("2000001", "bot-secret", None);
    sim.add_user("u-taro", "taro@acme.example", "山田太郎");
    let dir = db.dir.path().to_owned();
    let settings = dir.join("lineworks.json");
    std::fs::write(
        &settings,
        json!({
            "client_id": "client-1", "client_secret": "secret-1", "service_account": "svc@acme",
            "bot_id": "2000001", "bot_secret": "bot-secret",
            "auth_base_url": sim.auth_base_url(), "api_base_url": sim.api_base_url(),
        })
        .to_string(),
    )
    .expect("write settings");
    let pem = dir.join("private.key");
    std::fs::write(&pem, TEST_PRIVATE_KEY).expect("write key");
    let args = ["integration", "create", "--platform", "lineworks", "--name", "LW", "--settings"];
    let mut args: Vec<&str> = args.to_vec();
    let (settings, pem) = (settings.to_str().expect("utf-8"), pem.to_str().expect("utf-8"));
    args.extend([settings, "--private-key", pem]);
    let (ok, stdout, stderr) = tokio::task::block_in_place(|| cli(&db, &key, &args));
    assert!(ok, "{stderr}");
    assert!(stdout.contains("/hooks/lineworks/"), "{stdout}");
    let id = stdout.lines().next().and_then(|l| l.split('(').nth(1)).map(|s| s.trim_end_matches(')').to_owned());
    let id = id.expect("integration id");
    let (ok, stdout, stderr) = tokio::task::block_in_place(|| cli(&db, &key, &["integration", "test", &id]));
    assert!(ok, "{stdout} {stderr}");
    assert!(stdout.contains("ok   token"), "{stdout}");

    let server = Server::start(&db, &key, &[]);
    let client = reqwest::Client::new();
    employees(&client, &server.base, &token, 2).await;
    drop(server);
    let csv = dir.join("links.csv");
    std::fs::write(&csv, "employee_code,external_user_id\nE0,taro@acme.example\nE1,nobody@acme.example\nE9,u-x\n")
        .expect("write csv");
    let csv = csv.to_str().expect("utf-8");
    let (ok, _, stderr) =
        tokio::task::block_in_place(|| cli(&db, &key, &["import", "links", csv, "--integration", &id]));
    assert!(!ok, "rejected rows fail the import");
    assert!(stderr.contains(":3: LINE WORKS has no user") && stderr.contains(":4: no employee"), "{stderr}");
    assert!(stderr.contains("nothing was imported"));
    let args = ["import", "links", csv, "--integration", &id, "--skip-invalid"];
    let (ok, _, stderr) = tokio::task::block_in_place(|| cli(&db, &key, &args));
    assert!(ok, "{stderr}");
    assert!(stderr.contains("imported 1 link(s), rejected 2"), "{stderr}");
});

backend_test!(a_punch_pushed_to_dingtalk_reaches_it_once_across_a_sigkill, |db: TestDb| async move {
    use dakoku_sim::dingtalk::DingTalkSim;
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    let lease = [("DAKOKU_JOB_LEASE_SECS", "3")];
    let mut server = Server::start(&db, &key, &lease);
    let client = reqwest::Client::new();
    let sim = DingTalkSim::start("127.0.0.1:0".parse().expect("address"), "dingkey", "dingsecret", 3000001)
        .await
        .expect("simulator");
    sim.put_user("user001", "张三", "13800000001", &[1]);
    let settings = json!({"app_key": "dingkey", "app_secret": "dingsecret", "agent_id": "3000001",
        "oapi_base_url": sim.base_url, "push_punches": true, "pull_every_minutes": 0});
    let post = |path: String, body: Value| {
        let (client, base, token) = (client.clone(), server.base.clone(), token.clone());
        async move { call(&client, &base, &token, reqwest::Method::POST, &path, Some(body), None).await.expect("reachable") }
    };
    let integration =
        post("/api/v1/integrations".into(), json!({"platform": "dingtalk", "name": "钉钉", "settings": settings}))
            .await
            .expect(201)
            .id();
    let employee = post("/api/v1/employees".into(), json!({"code": "E1", "name": "张三"})).await.expect(201).id();
    post(
        format!("/api/v1/integrations/{integration}/links"),
        json!({"employee_id": employee, "external_user_id": "user001"}),
    )
    .await
    .expect(201);

    // DingTalk stores the upload but its answer never comes back before the kill.
    sim.hold_uploads(Some(Duration::from_secs(60)));
    post("/api/v1/punches".into(), json!({"employee_id": employee, "kind": "clock_in"})).await.expect(201);
    let deadline = Instant::now() + Duration::from_secs(20);
    while sim.uploads() == 0 {
        assert!(Instant::now() < deadline, "the worker never uploaded: {}", server.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    sim.hold_uploads(None);
    let server = Server::start(&db, &key, &lease);
    // After the lease the job is taken over; it looks before uploading again.
    let deadline = Instant::now() + Duration::from_secs(60);
    while sim.calls("/attendance/listRecord") == 0 {
        assert!(Instant::now() < deadline, "the push was not retried after restart: {}", server.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(sim.uploads(), 1, "the punch reached DingTalk once");
    assert_eq!(sim.records().len(), 1);
    assert!(!server.log().contains("dingsecret"), "the log shows the app secret");
});

backend_test!(finding_01_platform_call_failures_leave_no_secret_in_the_log, |db: TestDb| async move {
    use crate::security::{failing_platform, settings_for, SECRETS};
    let key = dakoku_config::MasterKey::generate().to_base64();
    let token = init(&db, &key);
    let mut server = Server::start(&db, &key, &[("DAKOKU_LOG", "trace"), ("DAKOKU_WORKER_POLL_MS", "50")]);
    let client = reqwest::Client::new();
    let post = |path: String, body: Value| {
        let (client, base, token) = (client.clone(), server.base.clone(), token.clone());
        async move { call(&client, &base, &token, reqwest::Method::POST, &path, Some(body), None).await.expect("reachable") }
    };
    let mut tests = Vec::new();
    for platform in ["wecom", "dingtalk", "lineworks"] {
        for mode in ["refused", "timeout", "4xx", "5xx"] {
            let base = failing_platform(mode).await;
            let body = json!({"platform": platform, "name": format!("{platform} {mode}"), "settings": settings_for(platform, &base)});
            let id = post("/api/v1/integrations".into(), body).await.expect(201).id();
            tests.push(post(format!("/api/v1/integrations/{id}/test"), json!({})));
            if platform != "lineworks" && mode != "timeout" {
                post(format!("/api/v1/integrations/{id}/org-sync"), json!({"direction": "read"})).await.expect(202);
            }
        }
    }
    for report in futures::future::join_all(tests).await {
        assert_eq!(report.expect(200).body["ok"], false);
    }
    // The worker retries the failed syncs in the background; wait until each has failed once.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.log().matches("cannot reach").nth(5).is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(server.terminate().success());
    let log = server.log();
    assert!(log.contains("cannot reach"), "the failures were logged: {log}");
    for secret in SECRETS {
        assert!(!log.contains(secret), "a secret is in the log");
    }
    assert!(!log.contains("corpsecret=") && !log.contains("appsecret="), "a secret-bearing URL is in the log");
});
