//! `dakoku import employees FILE.csv` and `dakoku import links`: every row is checked before
//! anything is written.

use super::service_error;
use anyhow::Context;
use dakoku_domain::IntegrationId;
use dakoku_service::employees::ImportReport;
use dakoku_service::{csv_rows, Ctx, Service};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::process::ExitCode;

fn progress_bar(len: usize, what: &str) -> ProgressBar {
    let progress = ProgressBar::new(len as u64);
    progress.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} importing [{{bar:40}}] {{pos}}/{{len}} {what} ({{eta}})"))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    progress
}

/// Prints the rejected rows and the outcome; fails when rows were rejected and nothing written.
fn conclude(file: &Path, report: &ImportReport, total: usize, skip_invalid: bool, what: &str) -> ExitCode {
    for (line, problem) in &report.rejected {
        eprintln!("{}:{line}: {problem}", file.display());
    }
    if !report.rejected.is_empty() && !skip_invalid {
        eprintln!(
            "{} row(s) rejected; nothing was imported. Fix them, or pass --skip-invalid to import the other {} row(s).",
            report.rejected.len(),
            total - report.rejected.len()
        );
        return ExitCode::FAILURE;
    }
    eprintln!("imported {} {what}, rejected {}", report.imported, report.rejected.len());
    ExitCode::SUCCESS
}

pub async fn employees(service: &Service, ctx: &Ctx, file: &Path, skip_invalid: bool) -> anyhow::Result<ExitCode> {
    let rows = csv_rows::employee_rows(open(file)?).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let progress = progress_bar(rows.len(), "employees");
    let report = service
        .import_employees(ctx, &rows, skip_invalid, &|done| progress.set_position(done))
        .await
        .map_err(service_error)?;
    progress.finish_and_clear();
    Ok(conclude(file, &report, rows.len(), skip_invalid, "employee(s)"))
}

/// Links chat users to employees: `employee_code,external_user_id` (a user id, or a login
/// e-mail the platform resolves).
pub async fn links(
    service: &Service,
    ctx: &Ctx,
    integration: &str,
    file: &Path,
    skip_invalid: bool,
) -> anyhow::Result<ExitCode> {
    let integration =
        IntegrationId::parse(integration).with_context(|| format!("'{integration}' is not an integration id"))?;
    let rows = csv_rows::link_rows(open(file)?).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let progress = progress_bar(rows.len(), "links");
    let report = service
        .import_links(ctx, &integration, &rows, skip_invalid, &|done| progress.set_position(done))
        .await
        .map_err(service_error)?;
    progress.finish_and_clear();
    Ok(conclude(file, &report, rows.len(), skip_invalid, "link(s)"))
}

fn open(file: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))
}
