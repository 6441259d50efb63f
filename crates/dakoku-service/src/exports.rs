//! Payroll exports of a month: one row per employee with the month's totals, premium classes
//! and alerts, and optionally one row per employee and day. CSV (UTF-8 with BOM, so
//! spreadsheet programs read Japanese and Chinese names right) or XLSX.

use crate::timesheets::{month_figures, YearMonth};
use crate::work_rules::RuleBook;
use crate::{Ctx, PageRequest, Service, ServiceError, ServiceResult};
use dakoku_domain::{Employee, EmployeeStatus};
use dakoku_rules::{DayRecord, MonthSummary};
use dakoku_store::employees::Filter;
use dakoku_store::{orgs, timesheets as store, StoreError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportDetail {
    /// One row per employee.
    Employees,
    /// One row per employee and day.
    Days,
}

/// One employee's month, as closed.
pub struct ClosedMonth {
    pub employee: Employee,
    pub status: dakoku_domain::MonthStatus,
    pub days: Vec<DayRecord>,
    pub summary: MonthSummary,
}

const EMPLOYEE_COLUMNS: &[&str] = &[
    "employee_code",
    "employee_name",
    "month",
    "status",
    "days_worked",
    "worked_minutes",
    "break_minutes",
    "scheduled_minutes",
    "overtime_minutes",
    "late_night_minutes",
    "holiday_minutes",
    "late_minutes",
    "early_leave_minutes",
    "anomaly_days",
    "jp_overtime_up_to_60h_minutes",
    "jp_overtime_over_60h_minutes",
    "jp_late_night_minutes",
    "jp_legal_holiday_minutes",
    "cn_150_minutes",
    "cn_200_minutes",
    "cn_300_minutes",
    "alerts",
];

const DAY_COLUMNS: &[&str] = &[
    "employee_code",
    "employee_name",
    "date",
    "day_kind",
    "first_in",
    "last_out",
    "worked_minutes",
    "break_minutes",
    "scheduled_minutes",
    "overtime_minutes",
    "late_night_minutes",
    "holiday_minutes",
    "late_minutes",
    "early_leave_minutes",
    "anomalies",
];

fn text_of<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// A cell: a number where the column is one, else text.
enum Cell {
    Number(i64),
    Text(String),
}

fn employee_row(month: YearMonth, m: &ClosedMonth) -> Vec<Cell> {
    let t = &m.summary.totals;
    let p = &m.summary.premiums;
    let mut row = vec![
        Cell::Text(m.employee.code.clone()),
        Cell::Text(m.employee.name.clone()),
        Cell::Text(month.text()),
        Cell::Text(m.status.as_str().to_owned()),
    ];
    row.extend(
        [
            t.days_worked,
            t.worked_minutes,
            t.break_minutes,
            t.scheduled_minutes,
            t.overtime_minutes,
            t.late_night_minutes,
            t.holiday_minutes,
            t.late_minutes,
            t.early_leave_minutes,
            t.anomaly_days,
            p.jp_overtime_up_to_60h_minutes,
            p.jp_overtime_over_60h_minutes,
            p.jp_late_night_minutes,
            p.jp_legal_holiday_minutes,
            p.cn_150_minutes,
            p.cn_200_minutes,
            p.cn_300_minutes,
        ]
        .into_iter()
        .map(Cell::Number),
    );
    row.push(Cell::Text(m.summary.alerts.iter().map(text_of).collect::<Vec<_>>().join(" ")));
    row
}

fn day_rows(m: &ClosedMonth) -> Vec<Vec<Cell>> {
    m.days
        .iter()
        .map(|d| {
            let mut row = vec![
                Cell::Text(m.employee.code.clone()),
                Cell::Text(m.employee.name.clone()),
                Cell::Text(d.date.to_string()),
                Cell::Text(d.day_kind.map(|k| text_of(&k)).unwrap_or_default()),
                Cell::Text(d.first_in.map(|t| t.to_rfc3339()).unwrap_or_default()),
                Cell::Text(d.last_out.map(|t| t.to_rfc3339()).unwrap_or_default()),
            ];
            row.extend(
                [
                    d.worked_minutes,
                    d.break_minutes,
                    d.scheduled_minutes,
                    d.overtime_minutes,
                    d.late_night_minutes,
                    d.holiday_minutes,
                    d.late_minutes,
                    d.early_leave_minutes,
                ]
                .into_iter()
                .map(Cell::Number),
            );
            row.push(Cell::Text(d.anomalies.iter().map(text_of).collect::<Vec<_>>().join(" ")));
            row
        })
        .collect()
}

impl Service {
    /// Computes the month of every active employee of the organisation (HR and admin only) and
    /// hands each to `visit` as soon as it is done, so nothing accumulates. Returns the count.
    pub async fn close_month(
        &self,
        ctx: &Ctx,
        month: YearMonth,
        visit: &mut (dyn FnMut(ClosedMonth) -> ServiceResult<()> + Send),
    ) -> ServiceResult<usize> {
        if !ctx.actor.manages_people() {
            return Err(ServiceError::Forbidden("only admin and HR close months and export payroll".into()));
        }
        let now = self.clock.now();
        // Rules are resolved from one read of every version and the department tree.
        let rules = {
            let mut conn = self.db.conn().await?;
            let org = orgs::get(&mut conn, ctx.org()).await?;
            RuleBook::load(&mut conn, &org, month.first).await?
        };
        let mut count = 0;
        let mut page = PageRequest::first(crate::paging::MAX_LIMIT);
        let filter = Filter { status: Some(EmployeeStatus::Active), department_id: None };
        loop {
            // One transaction per page: the derived records it stores are written together.
            let mut conn = self.db.begin().await?;
            let org = orgs::get(&mut conn, ctx.org()).await?;
            let listed = dakoku_store::employees::list(
                &mut conn,
                ctx.org(),
                dakoku_store::employees::Scope::All,
                &filter,
                page.after(),
                page.limit,
            )
            .await?;
            let ids: Vec<_> = listed.items.iter().map(|e| e.id.clone()).collect();
            let mut states = store::month_states(&mut conn, ctx.org(), &ids, &month.text()).await?;
            for employee in listed.items {
                let rule = rules.rule_of(&org, &employee)?;
                let (days, summary) = month_figures(&mut conn, &org, &employee, &rule, month, now).await?;
                let status = states.remove(&employee.id).unwrap_or_default();
                visit(ClosedMonth { employee, status, days, summary })?;
                count += 1;
            }
            conn.commit().await.map_err(StoreError::from)?;
            match listed.next {
                Some(next) => page = PageRequest { after: Some(next), limit: page.limit },
                None => break,
            }
        }
        Ok(count)
    }

    /// The payroll file of a month, written row by row as the months are closed.
    pub async fn payroll_export(
        &self,
        ctx: &Ctx,
        month: YearMonth,
        format: ExportFormat,
        detail: ExportDetail,
    ) -> ServiceResult<Vec<u8>> {
        let columns = match detail {
            ExportDetail::Employees => EMPLOYEE_COLUMNS,
            ExportDetail::Days => DAY_COLUMNS,
        };
        let mut sink = Sink::new(format, columns, &month.text())?;
        self.close_month(ctx, month, &mut |closed| match detail {
            ExportDetail::Employees => sink.row(&employee_row(month, &closed)),
            ExportDetail::Days => day_rows(&closed).iter().try_for_each(|row| sink.row(row)),
        })
        .await?;
        sink.finish()
    }
}

fn failed(what: &str, error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(StoreError::Corrupt(format!("{what}: {error}")))
}

/// Where export rows go: a CSV buffer (UTF-8 with BOM) or an XLSX workbook.
enum Sink {
    Csv(Box<csv::Writer<Vec<u8>>>),
    Xlsx { book: Box<rust_xlsxwriter::Workbook>, next_row: u32 },
}

impl Sink {
    fn new(format: ExportFormat, columns: &[&str], sheet: &str) -> ServiceResult<Self> {
        match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
                w.write_record(columns).map_err(|e| failed("csv", e))?;
                Ok(Sink::Csv(Box::new(w)))
            }
            ExportFormat::Xlsx => {
                let mut book = Box::new(rust_xlsxwriter::Workbook::new());
                let header = rust_xlsxwriter::Format::new().set_bold();
                let ws = book.add_worksheet();
                ws.set_name(sheet).map_err(|e| failed("xlsx", e))?;
                for (c, name) in columns.iter().enumerate() {
                    ws.write_string_with_format(0, c as u16, *name, &header).map_err(|e| failed("xlsx", e))?;
                }
                ws.set_freeze_panes(1, 0).map_err(|e| failed("xlsx", e))?;
                Ok(Sink::Xlsx { book, next_row: 1 })
            }
        }
    }

    fn row(&mut self, cells: &[Cell]) -> ServiceResult<()> {
        match self {
            Sink::Csv(w) => w
                .write_record(cells.iter().map(|c| match c {
                    Cell::Number(n) => n.to_string(),
                    Cell::Text(t) => t.clone(),
                }))
                .map_err(|e| failed("csv", e)),
            Sink::Xlsx { book, next_row } => {
                let ws = book.worksheet_from_index(0).map_err(|e| failed("xlsx", e))?;
                for (c, cell) in cells.iter().enumerate() {
                    match cell {
                        Cell::Number(n) => ws.write_number(*next_row, c as u16, *n as f64),
                        Cell::Text(t) => ws.write_string(*next_row, c as u16, t),
                    }
                    .map_err(|e| failed("xlsx", e))?;
                }
                *next_row += 1;
                Ok(())
            }
        }
    }

    fn finish(self) -> ServiceResult<Vec<u8>> {
        match self {
            Sink::Csv(w) => w.into_inner().map_err(|e| failed("csv", e)),
            Sink::Xlsx { mut book, .. } => book.save_to_buffer().map_err(|e| failed("xlsx", e)),
        }
    }
}
