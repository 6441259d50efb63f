//! The command line: `serve`, `migrate`, `init`, `import`, `integration`, `export`.

mod export;
mod import;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use dakoku_config::Config;
use dakoku_domain::OrgId;
use dakoku_service::{Ctx, Service};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "dakoku", version, about = "Self-hostable attendance server for LINE WORKS, WeCom and DingTalk")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server and background workers (applies migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an organisation, its first admin and an admin API token.
    Init {
        #[arg(long)]
        org_name: String,
        #[arg(long)]
        admin_email: String,
        #[arg(long, default_value = "Asia/Tokyo")]
        timezone: String,
        /// Print one JSON object {"organization_id", "admin_token"} and nothing else on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print a single-use link (72 hours) with which a user sets their web password.
    PasswordLink {
        #[arg(long)]
        email: String,
        /// The organisation; may be left out when there is only one.
        #[arg(long)]
        org: Option<String>,
    },
    /// Bulk import.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Chat platform integrations.
    Integration {
        #[command(subcommand)]
        what: IntegrationWhat,
    },
    /// Bulk export.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Employees from a CSV file with a header row: code,name[,email,timezone,department_code].
    Employees {
        file: PathBuf,
        /// The organisation; may be left out when there is only one.
        #[arg(long)]
        org: Option<String>,
        /// Import the valid rows even if some rows are rejected.
        #[arg(long)]
        skip_invalid: bool,
    },
    /// Links of chat users to employees, from a CSV file with a header row:
    /// employee_code,external_user_id (a platform user id, or a login e-mail on LINE WORKS).
    Links {
        file: PathBuf,
        /// The integration's id.
        #[arg(long)]
        integration: String,
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        skip_invalid: bool,
    },
}

#[derive(Subcommand)]
enum IntegrationWhat {
    /// Registers a chat platform from a JSON file of settings (see the README) and prints the
    /// callback URL to enter on the platform.
    Create {
        #[arg(long, value_parser = ["lineworks", "wecom", "dingtalk"])]
        platform: String,
        #[arg(long)]
        name: String,
        /// A JSON object of settings.
        #[arg(long)]
        settings: PathBuf,
        /// A PEM file to use as the `private_key` setting (LINE WORKS).
        #[arg(long)]
        private_key: Option<PathBuf>,
        #[arg(long)]
        org: Option<String>,
    },
    /// Tries an integration's credentials and says which one is wrong.
    Test {
        id: String,
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PayrollFormat {
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PayrollDetail {
    /// One row per employee with the month's totals, premiums and alerts.
    Employees,
    /// One row per employee and day.
    Days,
}

#[derive(Subcommand)]
enum ExportWhat {
    /// The payroll file of a month: totals per employee (or per day) for every active employee.
    Payroll {
        /// YYYY-MM
        #[arg(long)]
        month: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: PayrollFormat,
        #[arg(long, value_enum, default_value = "employees")]
        detail: PayrollDetail,
        #[arg(long)]
        org: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// Punches between two days (inclusive), in the organisation's time zone.
    Punches {
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        to: chrono::NaiveDate,
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        #[arg(long)]
        org: Option<String>,
        /// Write here instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

pub async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let config = Config::from_env().context("invalid configuration")?;
    crate::init_tracing(&config);
    for name in Config::unknown_vars(std::env::vars().map(|(k, _)| k)) {
        tracing::warn!(variable = %name, "unknown DAKOKU_ variable ignored (a typo?)");
    }
    match cli.command {
        Command::Serve => {
            let app = crate::Application::build(config).await?;
            if let Err(dakoku_service::ServiceError::NotFound(_)) = app.service().sole_organization().await {
                tracing::warn!(
                    "no organisation yet: create one with `dakoku init --org-name NAME --admin-email EMAIL`"
                );
            }
            app.run_until(crate::shutdown_signal(), true).await?;
        }
        Command::Migrate => {
            crate::open_service(&config).await?;
            eprintln!("migrations are up to date");
        }
        Command::Init { org_name, admin_email, timezone, json } => {
            let service = crate::open_service(&config).await?;
            let done = service.init_organization(&org_name, &admin_email, &timezone).await.map_err(service_error)?;
            if json {
                let out = serde_json::json!({
                    "organization_id": done.organization.id.to_string(),
                    "admin_token": done.admin_token,
                });
                println!("{out}");
            } else {
                println!("organisation  {} ({})", done.organization.name, done.organization.id);
                println!("admin         {}", done.admin.email);
                println!("admin token   {}", done.admin_token);
                println!("Keep the token safe: it is shown only now.");
                let ctx = dakoku_service::Ctx::cli(done.organization.id.clone());
                let (link, _) = service.issue_password_link(&ctx, &done.admin.id).await.map_err(service_error)?;
                println!("web sign-in   set the admin's password at {link}");
            }
        }
        Command::PasswordLink { email, org } => {
            let service = crate::open_service(&config).await?;
            let ctx = cli_ctx(&service, org.as_deref()).await?;
            let (link, expires_at) = service.issue_password_link_by_email(&ctx, &email).await.map_err(service_error)?;
            println!("{link}");
            eprintln!("valid until {expires_at}; it works once");
        }
        Command::Import { what: ImportWhat::Employees { file, org, skip_invalid } } => {
            let service = crate::open_service(&config).await?;
            let ctx = cli_ctx(&service, org.as_deref()).await?;
            return import::employees(&service, &ctx, &file, skip_invalid).await;
        }
        Command::Import { what: ImportWhat::Links { file, integration, org, skip_invalid } } => {
            let service = crate::open_service(&config).await?;
            let _platforms = dakoku_platforms::Platforms::new(service.clone());
            let ctx = cli_ctx(&service, org.as_deref()).await?;
            return import::links(&service, &ctx, &integration, &file, skip_invalid).await;
        }
        Command::Integration { what } => {
            let service = crate::open_service(&config).await?;
            let _platforms = dakoku_platforms::Platforms::new(service.clone());
            return integration(&service, what).await;
        }
        Command::Export { what: ExportWhat::Payroll { month, format, detail, org, output } } => {
            let service = crate::open_service(&config).await?;
            let ctx = cli_ctx(&service, org.as_deref()).await?;
            let month = dakoku_service::timesheets::YearMonth::parse(&month)
                .with_context(|| format!("'{month}' is not a month such as 2026-11"))?;
            let format = match format {
                PayrollFormat::Csv => dakoku_service::exports::ExportFormat::Csv,
                PayrollFormat::Xlsx => dakoku_service::exports::ExportFormat::Xlsx,
            };
            let detail = match detail {
                PayrollDetail::Employees => dakoku_service::exports::ExportDetail::Employees,
                PayrollDetail::Days => dakoku_service::exports::ExportDetail::Days,
            };
            let bytes = service.payroll_export(&ctx, month, format, detail).await.map_err(service_error)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?
                }
                None => std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes)?,
            }
        }
        Command::Export { what: ExportWhat::Punches { from, to, format, org, output } } => {
            let service = crate::open_service(&config).await?;
            let ctx = cli_ctx(&service, org.as_deref()).await?;
            export::punches(&service, &ctx, from, to, format, output.as_deref()).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn integration(service: &Service, what: IntegrationWhat) -> anyhow::Result<ExitCode> {
    match what {
        IntegrationWhat::Create { platform, name, settings, private_key, org } => {
            let ctx = cli_ctx(service, org.as_deref()).await?;
            let text =
                std::fs::read_to_string(&settings).with_context(|| format!("cannot read {}", settings.display()))?;
            let mut settings: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&text).with_context(|| format!("{} is not a JSON object", settings.display()))?;
            if let Some(path) = private_key {
                let pem = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
                settings.insert("private_key".into(), pem.into());
            }
            let platform = dakoku_domain::Platform::parse(&platform).context("unknown platform")?;
            let view = service.create_integration(&ctx, platform, &name, settings).await.map_err(service_error)?;
            println!("integration   {} ({})", view.name, view.id);
            println!("callback URL  {}", view.callback_url);
            println!("Enter the callback URL on the platform; keep it secret, it identifies this integration.");
            Ok(ExitCode::SUCCESS)
        }
        IntegrationWhat::Test { id, org } => {
            let ctx = cli_ctx(service, org.as_deref()).await?;
            let id =
                dakoku_domain::IntegrationId::parse(&id).with_context(|| format!("'{id}' is not an integration id"))?;
            let report = service.test_integration(&ctx, &id).await.map_err(service_error)?;
            for check in &report.checks {
                println!("{} {:<12} {}", if check.ok { "ok  " } else { "FAIL" }, check.name, check.detail);
            }
            Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

async fn cli_ctx(service: &Service, org: Option<&str>) -> anyhow::Result<Ctx> {
    let org_id = match org {
        Some(text) => OrgId::parse(text).with_context(|| format!("'{text}' is not an organisation id"))?,
        None => service.sole_organization().await.map_err(service_error)?.id,
    };
    let ctx = Ctx::cli(org_id);
    service.organization(&ctx).await.map_err(service_error).context("unknown organisation")?;
    Ok(ctx)
}

pub(crate) fn service_error(error: dakoku_service::ServiceError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}
