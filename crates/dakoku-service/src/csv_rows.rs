//! Reading the CSV files people import (employees, chat links), for the CLI and the web app
//! alike: a header row naming the columns in any order and case (a UTF-8 BOM allowed), unknown
//! and missing required columns refused with the line to look at.

use crate::employees::ImportRow;

pub const EMPLOYEE_COLUMNS: &[&str] = &["code", "name", "email", "timezone", "department_code"];
pub const LINK_COLUMNS: &[&str] = &["employee_code", "external_user_id"];

/// The rows as (line, the fields in `columns` order).
pub fn read_rows<R: std::io::Read>(
    source: R,
    columns: &[&str],
    required: &[&str],
) -> Result<Vec<(u64, Vec<String>)>, String> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(source);
    let headers = reader.headers().map_err(|e| format!("line 1: no header row ({e})"))?.clone();
    let position =
        |name: &str| headers.iter().position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name));
    for header in headers.iter() {
        let header = header.trim_start_matches('\u{feff}');
        if !columns.iter().any(|c| c.eq_ignore_ascii_case(header)) {
            return Err(format!("line 1: unknown column '{header}'; columns are {}", columns.join(", ")));
        }
    }
    for required in required {
        if position(required).is_none() {
            return Err(format!("line 1: the header row needs a '{required}' column"));
        }
    }
    let positions: Vec<Option<usize>> = columns.iter().map(|c| position(c)).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("unreadable row: {e}"))?;
        let line = record.position().map_or(0, |p| p.line());
        let fields = positions.iter().map(|p| p.and_then(|c| record.get(c)).unwrap_or_default().to_owned()).collect();
        rows.push((line, fields));
    }
    Ok(rows)
}

/// Employees to import, from a CSV with the [`EMPLOYEE_COLUMNS`] (`code` and `name` required).
pub fn employee_rows<R: std::io::Read>(source: R) -> Result<Vec<ImportRow>, String> {
    Ok(read_rows(source, EMPLOYEE_COLUMNS, &["code", "name"])?
        .into_iter()
        .map(|(line, mut f)| ImportRow {
            line,
            department_code: f.pop().unwrap_or_default(),
            timezone: f.pop().unwrap_or_default(),
            email: f.pop().unwrap_or_default(),
            name: f.pop().unwrap_or_default(),
            code: f.pop().unwrap_or_default(),
        })
        .collect())
}

/// Chat links to import: (line, employee code, platform user or login e-mail).
pub fn link_rows<R: std::io::Read>(source: R) -> Result<Vec<(u64, String, String)>, String> {
    Ok(read_rows(source, LINK_COLUMNS, LINK_COLUMNS)?
        .into_iter()
        .map(|(line, mut f)| {
            let user = f.pop().unwrap_or_default();
            (line, f.pop().unwrap_or_default(), user)
        })
        .collect())
}
