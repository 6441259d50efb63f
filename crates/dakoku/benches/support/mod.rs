//! The setup the platform benches share: dakoku on a fresh SQLite file, one organisation, an
//! integration of the platform under test, and employees linked to its users.

use dakoku::Application;
use dakoku_config::{Config, MasterKey};
use dakoku_domain::{IntegrationId, OrgId, Platform};
use dakoku_service::employees::ImportRow;
use dakoku_service::{Ctx, Service};
use dakoku_worker::Worker;
use serde_json::Value;

pub struct Bench {
    pub service: Service,
    pub worker: Worker,
    pub ctx: Ctx,
    pub integration: IntegrationId,
    _app: Application,
    _dir: tempfile::TempDir,
}

/// dakoku with an integration of `platform` and `employees` employees, the n-th coded
/// `code(n)` and linked to platform user `user(n)`.
pub async fn start(
    platform: Platform,
    settings: Value,
    employees: usize,
    code: impl Fn(usize) -> String,
    user: impl Fn(usize) -> String,
) -> Bench {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = MasterKey::generate().to_base64();
    let url = format!("sqlite://{}", dir.path().join("dakoku.db").display());
    let vars = [
        ("DAKOKU_DATABASE_URL", url.as_str()),
        ("DAKOKU_LISTEN", "127.0.0.1:0"),
        ("DAKOKU_MASTER_KEY", key.as_str()),
        ("DAKOKU_DATA_DIR", dir.path().to_str().expect("utf-8")),
        ("DAKOKU_LOG", "warn"),
        ("DAKOKU_ALLOW_PLATFORM_HOSTS", "1"),
        ("DAKOKU_ALLOW_PRIVATE_WEBHOOKS", "1"),
    ];
    let config =
        Config::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()).expect("config");
    let app = Application::build(config).await.expect("build");
    let service = app.service().clone();
    let worker = app.worker();
    let init = service.init_organization("Bench", "admin@bench.example", "Asia/Shanghai").await.expect("init");
    let ctx = Ctx::cli(OrgId::parse(&init.organization.id.to_string()).expect("org"));
    let view = service
        .create_integration(&ctx, platform, "bench", settings.as_object().expect("object").clone())
        .await
        .expect("integration");
    let rows: Vec<ImportRow> = (0..employees)
        .map(|i| ImportRow { line: i as u64, code: code(i), name: format!("员工{i}"), ..Default::default() })
        .collect();
    service.import_employees(&ctx, &rows, false, &|_| {}).await.expect("employees");
    let links: Vec<(u64, String, String)> = (0..employees).map(|i| (i as u64, code(i), user(i))).collect();
    let integration = IntegrationId::parse(&view.id.to_string()).expect("id");
    service.import_links(&ctx, &integration, &links, false, &|_| {}).await.expect("links");
    Bench { service, worker, ctx, integration, _app: app, _dir: dir }
}

/// How many punches the ledger holds.
pub async fn punches(service: &Service) -> i64 {
    use sqlx::Row;
    let row = sqlx::query("SELECT COUNT(*) FROM punches").fetch_one(&service.db.pool).await.expect("count");
    row.try_get::<i64, _>(0).expect("count")
}
