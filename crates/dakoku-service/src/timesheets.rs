//! Timesheets: the rule in force for an employee, day records and month summaries derived
//! from the ledger (cached, and forgotten whenever an input changes), and the monthly
//! workflow (submit, approve, send back 差戻し) that locks a month against new punches.

use crate::employees::visible_employee;
use crate::error::OrNotFound;
use crate::work_rules::{
    default_rule, layered_rule, merge_rule, org_today, parse_layer, rule_for, rule_on, scopes_of, MAX_RULE_BYTES,
};
use crate::{audit, Ctx, Service, ServiceError, ServiceResult};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use dakoku_domain::{validate, Employee, EmployeeId, MonthAction, MonthStatus, Organization};
use dakoku_rules::{
    compute_days, local_instant, summarize_month, week_start, work_date, Calendar, CalendarEntry, CalendarKind,
    DayRecord, MonthHistory, MonthSummary, PunchEvent, ShiftDef, WorkRule,
};
use dakoku_store::timesheets::{self as store, MonthState};
use dakoku_store::{departments, employees, orgs, punches, Conn, StoreError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    pub first: NaiveDate,
}

impl YearMonth {
    pub fn parse(text: &str) -> Option<Self> {
        let (y, m) = text.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)
            .filter(|first| dakoku_domain::plausible::is_plausible_date(*first))
            .map(|first| Self { first })
    }
    pub fn of(date: NaiveDate) -> Self {
        Self { first: date.with_day(1).unwrap_or(date) }
    }
    pub fn last(&self) -> NaiveDate {
        self.next().first - Duration::days(1)
    }
    pub fn next(&self) -> Self {
        let (y, m) = if self.first.month() == 12 {
            (self.first.year() + 1, 1)
        } else {
            (self.first.year(), self.first.month() + 1)
        };
        Self { first: NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(self.first) }
    }
    pub fn previous(&self) -> Self {
        Self::of(self.first - Duration::days(1))
    }
    pub fn text(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }
}

/// Everything the timesheet of one employee and month shows.
#[derive(Clone, Debug)]
pub struct Timesheet {
    pub employee: Employee,
    pub month: YearMonth,
    pub state: MonthState,
    pub days: Vec<DayRecord>,
    pub summary: MonthSummary,
    pub rule: WorkRule,
}

/// Calendar days and roster assignments one request may change (four years of days).
const MAX_DAYS_PER_CHANGE: usize = 1500;

/// A day a person could mean (see [`dakoku_domain::plausible`]).
fn check_day(errors: &mut dakoku_domain::ValidationErrors, field: &str, day: NaiveDate) {
    if !dakoku_domain::plausible::is_plausible_date(day) {
        errors.add(field, dakoku_domain::plausible::range_text());
    }
}

/// The instant a working day begins (its local day boundary).
pub(crate) fn day_begins(rule: &WorkRule, date: NaiveDate) -> DateTime<Utc> {
    local_instant(rule, date, rule.day_boundary)
}

/// The rule in force when a punch at `at` was made, once the month it is counted in is known
/// to take punches.
pub(crate) async fn check_month_open(
    conn: &mut Conn,
    org: &Organization,
    employee: &Employee,
    at: DateTime<Utc>,
) -> ServiceResult<WorkRule> {
    let rule = rule_for(conn, org, employee, at).await?;
    let date = work_date(&rule, at);
    let month = YearMonth::of(date).text();
    let state = store::month_state(conn, &org.id, &employee.id, &month).await?;
    match state.status {
        MonthStatus::Submitted => Err(ServiceError::Conflict(format!(
            "{month} has been submitted for approval; it must be sent back (差戻し / 驳回) before punches or corrections can be added"
        ))),
        MonthStatus::Approved => {
            Err(ServiceError::Conflict(format!("{month} is approved and locked; HR must send it back first")))
        }
        MonthStatus::Open => Ok(rule),
    }
}

/// The calendar under a rule: the jurisdiction's national days (unless the rule turns them
/// off), then the organisation's own days, then each department's down to `department`.
async fn load_calendar(
    conn: &mut Conn,
    org: &Organization,
    rule: &WorkRule,
    department: Option<&dakoku_domain::DepartmentId>,
    from: NaiveDate,
    to: NaiveDate,
) -> ServiceResult<Calendar> {
    let mut calendar = Calendar::default();
    if rule.national_holidays {
        calendar.entries = dakoku_rules::national::national_calendar(rule.jurisdiction, from, to);
    }
    let scopes = scopes_of(conn, org, department).await?;
    for (day, kind, name) in store::calendar(conn, &org.id, &scopes, from, to).await? {
        let kind = serde_json::from_value::<CalendarKind>(Value::String(kind.clone()))
            .map_err(|_| StoreError::Corrupt(format!("calendar kind {kind}")))?;
        calendar.entries.insert(day, CalendarEntry { kind, name });
    }
    Ok(calendar)
}

async fn load_roster(
    conn: &mut Conn,
    org: &Organization,
    employee: &EmployeeId,
    from: NaiveDate,
    to: NaiveDate,
) -> ServiceResult<BTreeMap<NaiveDate, ShiftDef>> {
    let assigned = store::roster(conn, &org.id, employee, from, to).await?;
    if assigned.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut shifts = BTreeMap::new();
    for text in store::shifts(conn, &org.id).await? {
        let shift: ShiftDef = serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("shift: {e}")))?;
        shifts.insert(shift.code.clone(), shift);
    }
    Ok(assigned.into_iter().filter_map(|(day, code)| shifts.get(&code).cloned().map(|s| (day, s))).collect())
}

/// The planned hours of one day of an employee under their rule, if it is a working day.
pub(crate) async fn day_plan(
    conn: &mut Conn,
    org: &Organization,
    employee: &Employee,
    rule: &WorkRule,
    date: NaiveDate,
) -> ServiceResult<Option<dakoku_rules::Plan>> {
    let calendar = load_calendar(conn, org, rule, employee.department_id.as_ref(), date, date).await?;
    let roster = load_roster(conn, org, &employee.id, date, date).await?;
    Ok(dakoku_rules::day_plan(rule, &calendar, &roster, date))
}

/// Day records of one month. A month that is over comes from the cache when every day is
/// there; otherwise the month is computed from the ledger and its past days are cached
/// (today and later change with the clock, so they are never stored).
pub(crate) async fn month_days(
    conn: &mut Conn,
    org: &Organization,
    employee: &Employee,
    rule: &WorkRule,
    month: YearMonth,
    now: DateTime<Utc>,
) -> ServiceResult<Vec<DayRecord>> {
    let today = work_date(rule, now);
    let last = month.last();
    if last < today {
        let cached = store::day_records(conn, &org.id, &employee.id, month.first, last).await?;
        if cached.len() as i64 == (last - month.first).num_days() + 1 {
            return cached
                .iter()
                .map(|(_, text)| {
                    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("day record: {e}")).into())
                })
                .collect();
        }
    }
    let from = week_start(rule, month.first);
    // Work periods that began before the range or end after it are read whole.
    let margin = dakoku_rules::punch_margin();
    let punches = punches::effective(
        conn,
        &org.id,
        &employee.id,
        day_begins(rule, from) - margin,
        day_begins(rule, last + Duration::days(1)) + margin,
    )
    .await?;
    let events: Vec<PunchEvent> =
        punches.into_iter().map(|p| PunchEvent { id: p.id.to_string(), kind: p.kind, at: p.at }).collect();
    // Days around the range: night shifts reach into neighbours, a 変形 week to its end.
    let (around_from, around_last) = (from - Duration::days(2), last + Duration::days(7));
    let department = employee.department_id.as_ref();
    let calendar = load_calendar(conn, org, rule, department, around_from, around_last).await?;
    let roster = load_roster(conn, org, &employee.id, around_from, around_last).await?;
    let mut days = compute_days(rule, &calendar, &roster, &events, month.first, last, now);
    if let Some(retired_on) = employee.retired_on {
        // Nothing is expected of someone after their last day.
        for day in days.iter_mut().filter(|d| d.date > retired_on) {
            day.anomalies.retain(|a| *a != dakoku_rules::Anomaly::Absent);
            day.scheduled_minutes = 0;
        }
    }
    let settled = days
        .iter()
        .filter(|d| d.date < today)
        .map(|d| serde_json::to_string(d).map(|text| (d.date, text)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    store::put_day_records(conn, &org.id, &employee.id, &settled).await?;
    Ok(days)
}

/// The month summary of an employee, with the earlier months the alerts look back on.
pub(crate) async fn month_summary(
    conn: &mut Conn,
    org: &Organization,
    employee: &Employee,
    rule: &WorkRule,
    month: YearMonth,
    days: &[DayRecord],
    now: DateTime<Utc>,
) -> ServiceResult<MonthSummary> {
    // Alerts look back 11 months; each of those months may close a settlement period that
    // began up to `period_months - 1` months before it. Older months first, so each is summed
    // with the months of its period before it.
    let look_back = 11 + rule.period_months.clamp(1, 12) - 1;
    let mut history: Vec<MonthHistory> = Vec::new();
    // Months before the employee's first punch contribute nothing; skip computing them.
    let Some(first_punch) = punches::first_at(conn, &org.id, &employee.id).await? else {
        return Ok(summarize_month(rule, month.first, days, &history));
    };
    let first_month = YearMonth::of(work_date(rule, first_punch));
    let mut earlier_months = Vec::new();
    let mut earlier = month;
    for _ in 0..look_back {
        earlier = earlier.previous();
        if earlier < first_month {
            break;
        }
        earlier_months.push(earlier);
    }
    let oldest = earlier_months.last().map(|m| m.first);
    for earlier in earlier_months.into_iter().rev() {
        let cached = store::month_totals(conn, &org.id, &employee.id, &earlier.text()).await?;
        let summary: MonthSummary = match cached {
            Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("month totals: {e}")))?,
            None => {
                let earlier_days = month_days(conn, org, employee, rule, earlier, now).await?;
                let summary = summarize_month(rule, earlier.first, &earlier_days, &history);
                // A month whose period began before the months read here was summed short;
                // it is used only beyond the alerts' reach and never kept.
                let (period_first, _) = dakoku_rules::settlement_period(rule, earlier.first);
                let whole = period_first >= first_month.first || Some(period_first) >= oldest;
                if whole {
                    let text = serde_json::to_string(&summary).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    store::put_month_totals(conn, &org.id, &employee.id, &earlier.text(), &text).await?;
                }
                summary
            }
        };
        history.push(MonthHistory {
            month: earlier.first,
            overtime_minutes: summary.unrounded.overtime_minutes,
            holiday_minutes: summary.unrounded.holiday_minutes,
            worked_minutes: summary.totals.worked_minutes,
            scheduled_minutes: summary.totals.scheduled_minutes,
        });
    }
    Ok(summarize_month(rule, month.first, days, &history))
}

/// What an approved month froze: payroll keeps these figures even if rules change later.
#[derive(serde::Serialize, serde::Deserialize)]
struct Snapshot {
    days: Vec<DayRecord>,
    summary: MonthSummary,
}

/// The days and summary of a month: as frozen at approval, or derived afresh.
pub(crate) async fn month_figures(
    conn: &mut Conn,
    org: &Organization,
    employee: &Employee,
    rule: &WorkRule,
    month: YearMonth,
    now: DateTime<Utc>,
) -> ServiceResult<(Vec<DayRecord>, MonthSummary)> {
    if let Some(text) = store::month_snapshot(conn, &org.id, &employee.id, &month.text()).await? {
        let frozen: Snapshot =
            serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("snapshot: {e}")))?;
        return Ok((frozen.days, frozen.summary));
    }
    let days = month_days(conn, org, employee, rule, month, now).await?;
    let summary = month_summary(conn, org, employee, rule, month, &days, now).await?;
    Ok((days, summary))
}

/// Only admin and HR change rules, calendars and rosters.
fn require_rule_admin(ctx: &Ctx) -> ServiceResult<()> {
    if ctx.actor.manages_people() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only admin and HR change work rules, calendars and rosters".into()))
    }
}

/// Where a rule override is stored.
#[derive(Clone, Debug)]
pub enum RuleScope {
    Organization,
    Department(dakoku_domain::DepartmentId),
    Employee(EmployeeId),
}

impl Service {
    pub async fn timesheet(&self, ctx: &Ctx, employee: &EmployeeId, month: YearMonth) -> ServiceResult<Timesheet> {
        let mut conn = self.db.conn().await?;
        let employee = visible_employee(&mut conn, ctx, employee).await?;
        let org = orgs::get(&mut conn, ctx.org()).await?;
        let rule = rule_on(&mut conn, &org, &employee, month.first).await?;
        let (days, summary) = month_figures(&mut conn, &org, &employee, &rule, month, self.clock.now()).await?;
        let state = store::month_state(&mut conn, &org.id, &employee.id, &month.text()).await?;
        Ok(Timesheet { employee, month, state, days, summary, rule })
    }

    /// The stored override of a scope (organisation, department or employee), as JSON.
    pub async fn rule_override(&self, ctx: &Ctx, scope: &RuleScope) -> ServiceResult<Value> {
        let mut conn = self.db.conn().await?;
        let key = self.scope_key(&mut conn, ctx, scope).await?;
        let org = orgs::get(&mut conn, ctx.org()).await?;
        let found =
            store::rule_layers(&mut conn, ctx.org(), std::slice::from_ref(&key), org_today(&org, self.clock.now()))
                .await?;
        Ok(match found.first() {
            Some((_, text)) => parse_layer(text)?,
            None => Value::Object(Map::new()),
        })
    }

    /// The full rule in force for an employee.
    pub async fn effective_rule(&self, ctx: &Ctx, employee: &EmployeeId) -> ServiceResult<WorkRule> {
        let mut conn = self.db.conn().await?;
        let employee = visible_employee(&mut conn, ctx, employee).await?;
        let org = orgs::get(&mut conn, ctx.org()).await?;
        rule_for(&mut conn, &org, &employee, self.clock.now()).await
    }

    /// Replaces a scope's override (a partial rule object; `{}` removes it) from a month on:
    /// `from`, or this month when not given. Months before it keep the rule they had; what is
    /// derived from that month on is recomputed on next read.
    pub async fn put_rule_override(
        &self,
        ctx: &Ctx,
        scope: &RuleScope,
        layer: Value,
        from: Option<YearMonth>,
    ) -> ServiceResult<Value> {
        require_rule_admin(ctx)?;
        let Value::Object(fields) = &layer else { return Err(ServiceError::invalid("rule", "must be a JSON object")) };
        if layer.to_string().len() > MAX_RULE_BYTES {
            return Err(ServiceError::invalid("rule", format!("must be at most {MAX_RULE_BYTES} bytes of JSON")));
        }
        let mut tx = self.db.begin().await?;
        let org = orgs::get(&mut tx, ctx.org()).await?;
        // Judge the override by laying it on the defaults.
        merge_rule(&default_rule(&org), std::slice::from_ref(&layer)).map_err(|e| ServiceError::invalid("rule", e))?;
        let key = self.scope_key(&mut tx, ctx, scope).await?;
        let effective = from.unwrap_or_else(|| YearMonth::of(org_today(&org, self.clock.now())));
        let before = store::rule_layers(&mut tx, ctx.org(), std::slice::from_ref(&key), effective.first)
            .await?
            .pop()
            .map(|(_, t)| t);
        let text = if fields.is_empty() { "{}".to_owned() } else { layer.to_string() };
        store::put_rule(&mut tx, ctx.org(), &key, effective.first, &text).await?;
        let employee = match scope {
            RuleScope::Employee(id) => Some(id),
            _ => None,
        };
        // The week before the month is computed with it too (weekly overtime looks back).
        let reach = (effective.first - Duration::days(7), store::end_of_time());
        store::invalidate(&mut tx, ctx.org(), employee, Some(reach)).await?;
        let before = before.map(|t| parse_layer(&t)).transpose()?;
        audit::record(&mut tx, ctx, "work_rule.update", "work_rule", &key, before.as_ref(), Some(&layer)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(layer)
    }

    async fn scope_key(&self, conn: &mut Conn, ctx: &Ctx, scope: &RuleScope) -> ServiceResult<String> {
        Ok(match scope {
            RuleScope::Organization => "org".to_owned(),
            RuleScope::Department(id) => {
                departments::get(conn, ctx.org(), id).await.or_not_found(|| format!("no department with id {id}"))?;
                format!("department:{id}")
            }
            RuleScope::Employee(id) => {
                employees::get(conn, ctx.org(), id).await.or_not_found(|| format!("no employee with id {id}"))?;
                format!("employee:{id}")
            }
        })
    }

    /// The calendar in force for the organisation, or for a department (with its own days and
    /// its ancestors' laid over the organisation's, under the department's rule).
    pub async fn calendar(
        &self,
        ctx: &Ctx,
        department: Option<&dakoku_domain::DepartmentId>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> ServiceResult<Vec<(NaiveDate, CalendarEntry)>> {
        let mut conn = self.db.conn().await?;
        let org = orgs::get(&mut conn, ctx.org()).await?;
        if let Some(id) = department {
            departments::get(&mut conn, ctx.org(), id).await.or_not_found(|| format!("no department with id {id}"))?;
        }
        let scopes = scopes_of(&mut conn, &org, department).await?;
        let rule = layered_rule(&mut conn, &org, &scopes, default_rule(&org), from).await?;
        Ok(load_calendar(&mut conn, &org, &rule, department, from, to).await?.entries.into_iter().collect())
    }

    /// Sets (or with `None`, clears) calendar days of the organisation or of one department.
    pub async fn set_calendar(
        &self,
        ctx: &Ctx,
        department: Option<&dakoku_domain::DepartmentId>,
        days: &[(NaiveDate, Option<CalendarEntry>)],
    ) -> ServiceResult<()> {
        require_rule_admin(ctx)?;
        let scope = match department {
            Some(id) => RuleScope::Department(id.clone()),
            None => RuleScope::Organization,
        };
        let mut errors = dakoku_domain::ValidationErrors::default();
        if days.len() > MAX_DAYS_PER_CHANGE {
            errors.add("days", format!("at most {MAX_DAYS_PER_CHANGE} days in one change"));
        }
        let mut names = Vec::with_capacity(days.len());
        for (i, (day, entry)) in days.iter().enumerate() {
            check_day(&mut errors, &format!("days[{i}].date"), *day);
            let name = entry.as_ref().map(|e| e.name.trim()).filter(|n| !n.is_empty());
            names.push(name.map(|n| validate::required_text(&mut errors, &format!("days[{i}].name"), n, 100)));
        }
        errors.into_result()?;
        let mut tx = self.db.begin().await?;
        let scope = self.scope_key(&mut tx, ctx, &scope).await?;
        for ((day, entry), name) in days.iter().zip(names) {
            match entry {
                Some(entry) => {
                    let kind = serde_json::to_value(entry.kind)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let name = name.unwrap_or_default();
                    store::put_calendar_day(&mut tx, ctx.org(), &scope, *day, &kind, &name).await?;
                }
                None => {
                    store::delete_calendar_day(&mut tx, ctx.org(), &scope, *day).await?;
                }
            }
        }
        if let Some(first) = days.iter().map(|(d, _)| *d).min() {
            store::invalidate(&mut tx, ctx.org(), None, Some((first - Duration::days(7), store::end_of_time())))
                .await?;
        }
        let changes: Vec<Value> = days.iter().map(|(d, e)| serde_json::json!({"date": d, "entry": e})).collect();
        audit::record(&mut tx, ctx, "calendar.update", "calendar", &scope, audit::NOTHING, Some(&changes)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    pub async fn shifts(&self, ctx: &Ctx) -> ServiceResult<Vec<ShiftDef>> {
        let mut conn = self.db.conn().await?;
        store::shifts(&mut conn, ctx.org())
            .await?
            .iter()
            .map(|t| serde_json::from_str(t).map_err(|e| StoreError::Corrupt(format!("shift: {e}")).into()))
            .collect()
    }

    pub async fn put_shift(&self, ctx: &Ctx, shift: ShiftDef) -> ServiceResult<ShiftDef> {
        require_rule_admin(ctx)?;
        let mut errors = dakoku_domain::ValidationErrors::default();
        dakoku_domain::validate::code(&mut errors, "code", &shift.code);
        dakoku_domain::validate::required_text(&mut errors, "name", &shift.name, 100);
        // An end at the start is a 24-hour duty (隔日勤務); a break needs a length.
        for (i, b) in shift.breaks.iter().enumerate() {
            if b.start == b.end {
                errors.add(&format!("breaks[{i}].end"), "a break cannot end when it starts");
            }
        }
        errors.into_result()?;
        let mut tx = self.db.begin().await?;
        let text = serde_json::to_string(&shift).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        store::put_shift(&mut tx, ctx.org(), &shift.code, &text).await?;
        store::invalidate(&mut tx, ctx.org(), None, None).await?;
        audit::record(&mut tx, ctx, "shift.update", "shift", &shift.code, audit::NOTHING, Some(&shift)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(shift)
    }

    /// Assigns shifts (or days off, with `None`) to an employee's days.
    pub async fn set_roster(
        &self,
        ctx: &Ctx,
        employee: &EmployeeId,
        days: &[(NaiveDate, Option<String>)],
    ) -> ServiceResult<()> {
        require_rule_admin(ctx)?;
        let mut tx = self.db.begin().await?;
        employees::get(&mut tx, ctx.org(), employee)
            .await
            .or_not_found(|| format!("no employee with id {employee}"))?;
        let known: Vec<String> = store::shifts(&mut tx, ctx.org())
            .await?
            .iter()
            .filter_map(|t| serde_json::from_str::<ShiftDef>(t).ok().map(|s| s.code))
            .collect();
        let mut errors = dakoku_domain::ValidationErrors::default();
        if days.len() > MAX_DAYS_PER_CHANGE {
            errors.add("assignments", format!("at most {MAX_DAYS_PER_CHANGE} days in one change"));
        }
        for (i, (day, code)) in days.iter().enumerate() {
            check_day(&mut errors, &format!("assignments[{i}].date"), *day);
            if let Some(code) = code {
                if !known.contains(code) {
                    errors.add("assignments", format!("{day}: no shift with code '{code}'"));
                }
            }
        }
        errors.into_result()?;
        for (day, code) in days {
            store::set_roster(&mut tx, ctx.org(), employee, *day, code.as_deref()).await?;
        }
        if let Some(first) = days.iter().map(|(d, _)| *d).min() {
            store::invalidate(
                &mut tx,
                ctx.org(),
                Some(employee),
                Some((first - Duration::days(7), store::end_of_time())),
            )
            .await?;
        }
        let changes: Vec<Value> = days.iter().map(|(d, c)| serde_json::json!({"date": d, "shift": c})).collect();
        audit::record(&mut tx, ctx, "roster.update", "employee", employee.as_str(), audit::NOTHING, Some(&changes))
            .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Moves a month through its workflow. `action` is `submit`, `approve` or `send-back`.
    /// The months submitted by the employees the actor may see, waiting for a decision.
    pub async fn submitted_months(&self, ctx: &Ctx) -> ServiceResult<Vec<(EmployeeId, YearMonth)>> {
        let mut conn = self.db.conn().await?;
        let mut waiting = Vec::new();
        for (employee, month) in store::submitted_months(&mut conn, ctx.org()).await? {
            let Some(month) = YearMonth::parse(&month) else { continue };
            match visible_employee(&mut conn, ctx, &employee).await {
                Ok(_) => waiting.push((employee, month)),
                Err(ServiceError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(waiting)
    }

    pub async fn month_action(
        &self,
        ctx: &Ctx,
        employee: &EmployeeId,
        month: YearMonth,
        action: MonthAction,
        comment: Option<String>,
    ) -> ServiceResult<MonthState> {
        let comment = validate::comment(comment.as_deref())?;
        let mut tx = self.db.begin().await?;
        let employee = visible_employee(&mut tx, ctx, employee).await?;
        let key = month.text();
        let before = store::month_state(&mut tx, ctx.org(), &employee.id, &key).await?;
        let is_self = ctx.actor.is_self(&employee.id);
        // Nobody but an admin decides on their own month.
        let not_own = !is_self || ctx.actor.is_admin();
        let reopening = action == MonthAction::SendBack && before.status == MonthStatus::Approved;
        let allowed = match action {
            MonthAction::Submit => is_self || ctx.actor.manages_people(),
            _ if reopening => ctx.actor.manages_people() && not_own,
            MonthAction::Approve | MonthAction::SendBack => {
                (ctx.actor.manages_people() || ctx.actor.role == dakoku_domain::Role::Manager) && not_own
            }
        };
        if !allowed {
            return Err(ServiceError::Forbidden(match action {
                MonthAction::Submit => "only the employee or HR submits a month".to_owned(),
                _ if reopening => "only HR reopens an approved month".to_owned(),
                _ => "only the employee's manager or HR decides on a month, and never on their own".to_owned(),
            }));
        }
        let Some(status) = before.status.after(action) else {
            let (status, done) = (before.status.as_str(), action.done());
            return Err(ServiceError::Conflict(format!("{key} is {status}; it cannot be {done}")));
        };
        let now = self.clock.now();
        let by = Some(ctx.recorder.to_db());
        let after = match action {
            MonthAction::Submit => MonthState {
                status,
                submitted_at: Some(now),
                submitted_by: by,
                comment: comment.or(before.comment.clone()),
                ..before.clone()
            },
            MonthAction::Approve | MonthAction::SendBack => {
                MonthState { status, decided_at: Some(now), decided_by: by, comment, ..before.clone() }
            }
        };
        let snapshot = if after.status == MonthStatus::Approved {
            let org = orgs::get(&mut tx, ctx.org()).await?;
            let rule = rule_on(&mut tx, &org, &employee, month.first).await?;
            let (days, summary) = month_figures(&mut tx, &org, &employee, &rule, month, self.clock.now()).await?;
            Some(serde_json::to_string(&Snapshot { days, summary }).map_err(|e| StoreError::Corrupt(e.to_string()))?)
        } else {
            None
        };
        store::put_month_state(&mut tx, ctx.org(), &employee.id, &key, &after, snapshot.as_deref()).await?;
        if after.status == MonthStatus::Submitted {
            self.queue_approval_requests(&mut tx, &employee, &key).await?;
        }
        audit::record(
            &mut tx,
            ctx,
            &format!("timesheet.{}", action.as_str()),
            "timesheet",
            &format!("{}:{key}", employee.id),
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(after)
    }
}
