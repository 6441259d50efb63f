//! `dakoku export punches`: the ledger for a range of days, as CSV or JSON.

use super::{service_error, Format};
use anyhow::Context;
use chrono::{NaiveDate, TimeZone};
use dakoku_service::{Ctx, PageRequest, Service};
use dakoku_store::employees::Filter as EmployeeFilter;
use dakoku_store::punches::Filter;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

pub async fn punches(
    service: &Service,
    ctx: &Ctx,
    from: NaiveDate,
    to: NaiveDate,
    format: Format,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    anyhow::ensure!(from <= to, "--from must not be after --to");
    let org = service.organization(ctx).await.map_err(service_error)?;
    let tz = org.timezone.0;
    let start = |day: NaiveDate| {
        tz.from_local_datetime(&day.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc))
            .context("day start does not exist in the organisation's time zone")
    };
    let filter = Filter { employee_id: None, from: Some(start(from)?), to: Some(start(to.succ_opt().unwrap_or(to))?) };

    let mut codes = HashMap::new();
    let mut page = PageRequest::first(500);
    loop {
        let listed = service.list_employees(ctx, &EmployeeFilter::default(), &page).await.map_err(service_error)?;
        for e in listed.items {
            codes.insert(e.id.clone(), (e.code, e.name));
        }
        match listed.next_cursor {
            Some(next) => page = PageRequest::parse(Some(&next), Some(500)).map_err(service_error)?,
            None => break,
        }
    }

    let out: Box<dyn Write> = match output {
        Some(path) => {
            Box::new(std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink = match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "id",
                "employee_id",
                "employee_code",
                "employee_name",
                "kind",
                "at",
                "source",
                "recorded_by",
                "note",
            ])?;
            Sink::Csv(Box::new(w))
        }
        Format::Json => Sink::Json { out, first: true },
    };
    let mut page = PageRequest::first(500);
    loop {
        let listed = service.list_punches(ctx, &filter, &page).await.map_err(service_error)?;
        for p in listed.items {
            let (code, name) = codes.get(&p.employee_id).cloned().unwrap_or_default();
            let at = p.at.with_timezone(&tz).to_rfc3339();
            match &mut sink {
                Sink::Csv(w) => w.write_record([
                    p.id.as_str(),
                    p.employee_id.as_str(),
                    &code,
                    &name,
                    p.kind.as_str(),
                    &at,
                    p.source.as_str(),
                    &p.recorded_by.to_db(),
                    p.note.as_deref().unwrap_or_default(),
                ])?,
                Sink::Json { out, first } => {
                    let row = serde_json::json!({
                        "id": p.id, "employee_id": p.employee_id, "employee_code": code, "employee_name": name,
                        "kind": p.kind, "at": at, "source": p.source, "recorded_by": p.recorded_by.to_db(), "note": p.note,
                    });
                    write!(out, "{}{row}", if *first { "[\n" } else { ",\n" })?;
                    *first = false;
                }
            }
        }
        match listed.next_cursor {
            Some(next) => page = PageRequest::parse(Some(&next), Some(500)).map_err(service_error)?,
            None => break,
        }
    }
    match sink {
        Sink::Csv(mut w) => w.flush()?,
        Sink::Json { mut out, first } => {
            writeln!(out, "{}]", if first { "[" } else { "\n" })?;
            out.flush()?;
        }
    }
    Ok(())
}

enum Sink {
    Csv(Box<csv::Writer<Box<dyn Write>>>),
    Json { out: Box<dyn Write>, first: bool },
}
