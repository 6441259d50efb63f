//! `dakoku import employees FILE.csv`: every row is checked before anything is written.

use super::service_error;
use anyhow::Context;
use dakoku_service::employees::ImportRow;
use dakoku_service::{Ctx, Service};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use std::process::ExitCode;

const COLUMNS: &[&str] = &["code", "name", "email", "timezone", "department_code"];

pub async fn employees(service: &Service, ctx: &Ctx, file: &Path, skip_invalid: bool) -> anyhow::Result<ExitCode> {
    let rows = read_rows(file)?;
    let progress = ProgressBar::new(rows.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("{spinner} importing [{bar:40}] {pos}/{len} employees ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report = service
        .import_employees(ctx, &rows, skip_invalid, &|done| progress.set_position(done))
        .await
        .map_err(service_error)?;
    progress.finish_and_clear();
    for (line, problem) in &report.rejected {
        eprintln!("{}:{line}: {problem}", file.display());
    }
    if !report.rejected.is_empty() && !skip_invalid {
        eprintln!(
            "{} row(s) rejected; nothing was imported. Fix them, or pass --skip-invalid to import the other {} row(s).",
            report.rejected.len(),
            rows.len() - report.rejected.len()
        );
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("imported {} employee(s), rejected {}", report.imported, report.rejected.len());
    Ok(ExitCode::SUCCESS)
}

fn read_rows(file: &Path) -> anyhow::Result<Vec<ImportRow>> {
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
        if !COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(header)) {
            anyhow::bail!("{}:1: unknown column '{header}'; columns are {}", file.display(), COLUMNS.join(", "));
        }
    }
    for required in ["code", "name"] {
        if position(required).is_none() {
            anyhow::bail!("{}:1: the header row needs a '{required}' column", file.display());
        }
    }
    let columns: Vec<Option<usize>> = COLUMNS.iter().map(|c| position(c)).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: unreadable row", file.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| columns[i].and_then(|c| record.get(c)).unwrap_or_default().to_owned();
        rows.push(ImportRow {
            line,
            code: field(0),
            name: field(1),
            email: field(2),
            timezone: field(3),
            department_code: field(4),
        });
    }
    Ok(rows)
}
