//! The `dakoku` program: start-up wiring shared by the command line, the integration tests
//! and the benchmarks. `Application::build` binds the listener first, so port 0 works.

pub mod cli;

use anyhow::Context;
use dakoku_config::{Cipher, Config};
use dakoku_platforms::Platforms;
use dakoku_service::Service;
use dakoku_store::Db;
use dakoku_worker::{Worker, WorkerConfig};
use std::future::Future;
use tokio::net::TcpListener;

/// Connects, migrates, and checks the master key against the database.
pub async fn open_service(config: &Config) -> anyhow::Result<Service> {
    let db = Db::connect(config.database_url.expose(), config.db_max_connections)
        .await
        .with_context(|| format!("cannot open the database {:?}", config.database_url))?;
    db.migrate().await.context("cannot apply database migrations")?;
    let key = config.load_master_key().context("cannot load the master key")?;
    dakoku_service::orgs::check_master_key(&db, &key).await.context("refusing to start")?;
    Ok(Service::new(db, Cipher::new(&key), config.public_url.clone()).with_policy(config.policy))
}

/// A configured server that has bound its port but not yet started serving.
pub struct Application {
    listener: TcpListener,
    service: Service,
    platforms: Platforms,
    config: Config,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let service = open_service(&config).await?;
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
        let platforms = Platforms::new(service.clone());
        Ok(Self { listener, service, platforms, config })
    }

    pub fn local_addr(&self) -> std::net::SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    pub fn platforms(&self) -> &Platforms {
        &self.platforms
    }

    /// A worker with every job handler: webhooks and the chat platforms' senders.
    pub fn worker(&self) -> Worker {
        let mut worker = Worker::new(
            self.service.clone(),
            WorkerConfig {
                instance_id: self.config.instance_id.clone(),
                concurrency: self.config.worker_concurrency,
                poll: self.config.worker_poll,
                lease: self.config.job_lease,
                shutdown_grace: self.config.shutdown_grace,
            },
        );
        self.platforms.install(&mut worker);
        worker
    }

    /// Serves HTTP and runs the worker until `shutdown` resolves, then stops both gracefully:
    /// in-flight requests complete, running jobs finish or are handed back.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
        with_worker: bool,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = with_worker.then(|| tokio::spawn(self.worker().run(stop_rx.clone())));
        let edge = self.platforms.hooks().merge(dakoku_web::router(self.service.clone()));
        let app = dakoku_http::router(self.service.clone(), self.config.max_body_bytes, edge);
        tracing::info!(address = %self.local_addr(), database = ?self.config.database_url, "dakoku is serving");
        let mut http_stop = stop_rx.clone();
        let serving = axum::serve(self.listener, app).with_graceful_shutdown(async move {
            let _ = http_stop.wait_for(|stop| *stop).await;
        });
        let signal = tokio::spawn(async move {
            shutdown.await;
            tracing::info!("shutting down");
            let _ = stop_tx.send(true);
        });
        serving.await.context("HTTP server failed")?;
        signal.abort();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        self.service.db.close().await;
        Ok(())
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

/// Logs go to stderr, so commands that print results on stdout stay machine-readable.
pub fn init_tracing(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if config.log_json { builder.json().try_init() } else { builder.try_init() };
}
