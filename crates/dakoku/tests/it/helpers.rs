//! Test support: a fresh database per test on either backend, the app served over real HTTP
//! on a loopback port, and small request helpers.
//!
//! PostgreSQL comes from `DAKOKU_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates and drops its own
//! database there. When the server cannot be reached the PostgreSQL half is skipped with a
//! loud message, unless `DAKOKU_REQUIRE_POSTGRES=1`, which turns that into a failure.

use dakoku::Application;
use dakoku_config::Config;
use dakoku_service::Service;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::{Connection, Executor};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the same test body once per backend: `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(db) = $crate::helpers::TestDb::create($crate::helpers::Backend::Sqlite).await {
                    ($body)(db).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::helpers::TestDb::create($crate::helpers::Backend::Postgres).await {
                    ($body)(db).await
                }
            }
        }
    };
}

fn postgres_admin_url() -> String {
    std::env::var("DAKOKU_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn postgres_required() -> bool {
    std::env::var("DAKOKU_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("dakoku.db").display());
                Some(TestDb { backend, url, dir, pg_name: None })
            }
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let mut admin = match sqlx::AnyConnection::connect(&admin_url).await {
                    Ok(c) => c,
                    Err(e) if !postgres_required() => {
                        eprintln!("\n*** SKIPPED PostgreSQL test: cannot reach {admin_url}: {e}\n*** set DAKOKU_TEST_DATABASE_URL (and DAKOKU_REQUIRE_POSTGRES=1 to make this a failure)\n");
                        return None;
                    }
                    Err(e) => {
                        panic!("PostgreSQL is required (DAKOKU_REQUIRE_POSTGRES=1) but {admin_url} is unreachable: {e}")
                    }
                };
                let name = format!("dakoku_t_{}", uuid::Uuid::new_v4().simple());
                admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
                let _ = admin.close().await;
                let url = replace_database(&admin_url, &name);
                Some(TestDb { backend, url, dir, pg_name: Some(name) })
            }
        }
    }

    /// Configuration for a server on this database listening on a free loopback port.
    pub fn config(&self, master_key: &str, extra: &[(&str, &str)]) -> Config {
        Config::from_vars(self.vars(master_key, extra)).expect("valid test config")
    }

    pub fn vars(&self, master_key: &str, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = [
            ("DAKOKU_DATABASE_URL", self.url.as_str()),
            ("DAKOKU_LISTEN", "127.0.0.1:0"),
            ("DAKOKU_MASTER_KEY", master_key),
            ("DAKOKU_DATA_DIR", self.dir.path().to_str().expect("utf-8 path")),
            ("DAKOKU_DB_MAX_CONNECTIONS", "5"),
            // The simulators and webhook receivers of the tests live on loopback.
            ("DAKOKU_ALLOW_PLATFORM_HOSTS", "1"),
            ("DAKOKU_ALLOW_PRIVATE_WEBHOOKS", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        vars
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.dir.path().join("dakoku.db")
    }

    /// Serves the app in this process (no background worker: tests drive it with `run_once`).
    pub async fn spawn(self) -> TestApp {
        self.spawn_with(&[]).await
    }

    /// Like `spawn`, with some variables of the test's own (`""` unsets a default).
    pub async fn spawn_with(self, extra: &[(&str, &str)]) -> TestApp {
        let master_key = dakoku_config::MasterKey::generate().to_base64();
        let config = self.config(&master_key, extra);
        let app = Application::build(config.clone()).await.expect("app builds");
        let base = format!("http://{}", app.local_addr());
        let service = app.service().clone();
        let worker = app.worker();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(
                async move {
                    let _ = stopped.await;
                },
                false,
            )
            .await
            .expect("server runs");
        });
        let init = service.init_organization("Acme 株式会社", "admin@acme.example", "Asia/Tokyo").await.expect("init");
        TestApp {
            base,
            client: reqwest::Client::new(),
            service,
            worker,
            admin_token: init.admin_token,
            stop: Some(stop),
            server: Some(server),
            db: self,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let admin_url = postgres_admin_url();
        // Drop runs outside any async context we can rely on; use a short-lived runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async move {
                if let Ok(mut admin) = sqlx::AnyConnection::connect(&admin_url).await {
                    let _ = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
                }
            });
        })
        .join();
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let (prefix, _) = base.rsplit_once('/').expect("database URL has a path");
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub service: Service,
    pub worker: dakoku_worker::Worker,
    pub admin_token: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    pub db: TestDb,
}

/// A response: status, headers and the body parsed as JSON (Null when empty or not JSON).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", self.text)).to_owned()
    }

    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }

    /// Asserts an RFC 9457 problem with the given status.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        let content_type = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert_eq!(content_type, "application/problem+json", "problem content type; body: {}", self.text);
        for field in ["type", "title", "detail"] {
            assert!(self.body[field].as_str().is_some_and(|s| !s.is_empty()), "problem lacks {field}: {}", self.text);
        }
        assert_eq!(self.body["status"], json!(status));
        self
    }
}

impl TestApp {
    pub async fn request(&self, method: Method, token: Option<&str>, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        read(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.request(Method::GET, Some(token), path, None).await
    }
    pub async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::POST, Some(token), path, Some(body)).await
    }
    pub async fn put(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::PUT, Some(token), path, Some(body)).await
    }
    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(Method::PATCH, Some(token), path, Some(body)).await
    }
    pub async fn delete(&self, token: &str, path: &str) -> Reply {
        self.request(Method::DELETE, Some(token), path, None).await
    }

    /// Sends a raw body with the given content type.
    pub async fn post_raw(&self, token: &str, path: &str, content_type: &str, body: impl Into<reqwest::Body>) -> Reply {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body);
        read(request.send().await.expect("request sent")).await
    }

    pub async fn create_employee(&self, token: &str, code: &str, department: Option<&str>) -> String {
        self.post(
            token,
            "/api/v1/employees",
            json!({"code": code, "name": format!("社員 {code}"), "department_id": department}),
        )
        .await
        .expect(201)
        .id()
    }

    pub async fn create_department(&self, token: &str, name: &str, parent: Option<&str>) -> String {
        self.post(token, "/api/v1/departments", json!({"name": name, "parent_id": parent})).await.expect(201).id()
    }

    /// Creates an account of the given role and returns a token for it.
    pub async fn user_token(&self, role: &str, employee: Option<&str>, manages: Option<&str>) -> String {
        let email = format!("{role}-{}@acme.example", uuid::Uuid::new_v4().simple());
        let user = self
            .post(
                &self.admin_token,
                "/api/v1/users",
                json!({"email": email, "role": role, "employee_id": employee, "manages_department_id": manages}),
            )
            .await
            .expect(201)
            .id();
        self.post(&self.admin_token, "/api/v1/tokens", json!({"name": "test", "user_id": user})).await.expect(201).body
            ["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// A second organisation in the same database, with its admin token.
    pub async fn other_org(&self) -> (String, String) {
        let init = self
            .service
            .init_organization("Other 有限公司", "admin@other.example", "Asia/Shanghai")
            .await
            .expect("init");
        (init.organization.id.to_string(), init.admin_token)
    }

    /// Every item of a paginated list, following cursors.
    pub async fn list_all(&self, token: &str, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let sep = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(c) => format!("{path}{sep}cursor={c}"),
                None => path.to_owned(),
            };
            let reply = self.get(token, &url).await.expect(200);
            items.extend(reply.body["items"].as_array().expect("items").iter().cloned());
            match reply.body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return items,
            }
        }
    }

    /// Runs an SQL statement that returns one integer (for counting what was stored).
    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        let row = sqlx::query(sql).fetch_one(&self.service.db.pool).await.expect("count query");
        row.try_get::<i64, _>(0).expect("integer")
    }

    /// Runs an SQL statement that returns one text.
    pub async fn count_text(&self, sql: &str) -> String {
        use sqlx::Row;
        let row = sqlx::query(sql).fetch_one(&self.service.db.pool).await.expect("text query");
        row.try_get::<String, _>(0).expect("text")
    }

    /// Drains the job queue, pretending time has passed so retries are due at once.
    /// Runs the jobs that are due now until none is left (retries wait for their time).
    pub async fn drain(&self) {
        for _ in 0..200 {
            if self.worker.run_once().await.expect("worker runs") == 0 {
                return;
            }
        }
        panic!("jobs kept coming");
    }

    /// How many punches and jobs there are: what a refused request must leave unchanged.
    pub async fn footprint(&self) -> (i64, i64) {
        (self.count("SELECT COUNT(*) FROM punches").await, self.count("SELECT COUNT(*) FROM jobs").await)
    }

    pub async fn run_jobs(&self) -> usize {
        let mut total = 0;
        for _ in 0..50 {
            sqlx::query("UPDATE jobs SET run_at = 0 WHERE status = 'queued'")
                .execute(&self.service.db.pool)
                .await
                .expect("time travel");
            let ran = self.worker.run_once().await.expect("worker step");
            if ran == 0 {
                break;
            }
            total += ran;
        }
        total
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

pub async fn read(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, headers, body, text }
}
