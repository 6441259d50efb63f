//! `dakoku import employees FILE.csv` and `dakoku import links`: every row is checked before
//! anything is written.

use super::service_error;
use anyhow::Context;
use dakoku_domain::IntegrationId;
use dakoku_service::employees::{ImportReport, ImportRow};
use dakoku_service::{Ctx, Service};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::process::ExitCode;

const COLUMNS: &[&str] = &["code", "name", "email", "timezone", "department_code"];

const LINK_COLUMNS: &[&str] = &["employee_code", "external_user_id"];

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
    let rows: Vec<ImportRow> = read_csv(file, COLUMNS, &["code", "name"])?
        .into_iter()
        .map(|(line, mut f)| ImportRow {
            line,
            department_code: f.pop().unwrap_or_default(),
            timezone: f.pop().unwrap_or_default(),
            email: f.pop().unwrap_or_default(),
            name: f.pop().unwrap_or_default(),
            code: f.pop().unwrap_or_default(),
        })
        .collect();
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
    let rows: Vec<(u64, String, String)> = read_csv(file, LINK_COLUMNS, LINK_COLUMNS)?
        .into_iter()
        .map(|(line, mut f)| {
            let user = f.pop().unwrap_or_default();
            (line, f.pop().unwrap_or_default(), user)
        })
        .collect();
    let progress = progress_bar(rows.len(), "links");
    let report = service
        .import_links(ctx, &integration, &rows, skip_invalid, &|done| progress.set_position(done))
        .await
        .map_err(service_error)?;
    progress.finish_and_clear();
    Ok(conclude(file, &report, rows.len(), skip_invalid, "link(s)"))
}

/// The rows of a CSV file with a header row, as (line, the fields in `columns` order). Columns
/// may come in any order and case; unknown ones and missing required ones are refused.
fn read_csv(file: &Path, columns: &[&str], required: &[&str]) -> anyhow::Result<Vec<(u64, Vec<String>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let headers = reader.headers().with_context(|| format!("{}: no header row", file.display()))?.clone();
    let position =
        |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name));
    for header in headers.iter() {
        let header = header.trim_start_matches('\u{feff}');
        if !columns.iter().any(|c| c.eq_ignore_ascii_case(header)) {
            anyhow::bail!("{}:1: unknown column '{header}'; columns are {}", file.display(), columns.join(", "));
        }
    }
    for required in required {
        if position(required).is_none() {
            anyhow::bail!("{}:1: the header row needs a '{required}' column", file.display());
        }
    }
    let positions: Vec<Option<usize>> = columns.iter().map(|c| position(c)).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: unreadable row", file.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let fields = positions.iter().map(|p| p.and_then(|c| record.get(c)).unwrap_or_default().to_owned()).collect();
        rows.push((line, fields));
    }
    Ok(rows)
}
