//! From punches to day records (日次勤怠 / 日报).

use crate::rule::{hm, Calendar, DayKind, Pairing, Schedule, ShiftDef, TimeRange, WorkRule, WorkingTimeSystem};
use crate::spans::{clip, overlap, subtract};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use dakoku_domain::PunchKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const DAILY_LIMIT: i64 = 8 * 60;

/// One effective punch (corrections already applied).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PunchEvent {
    pub id: String,
    pub kind: PunchKind,
    pub at: DateTime<Utc>,
}

/// Something wrong with a day's punches, or a day that needed punches and has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anomaly {
    MissingClockIn,
    MissingClockOut,
    UnclosedBreak,
    MissingBreakStart,
    Overlapping,
    PunchOnHoliday,
    Absent,
}

/// What a day needs computing: its date, its kind, its plan and its punches.
#[derive(Clone, Debug)]
pub struct DayInput {
    pub date: NaiveDate,
    pub kind: DayKind,
    pub plan: Option<Plan>,
    pub punches: Vec<PunchEvent>,
    /// Japan: the 0:00–24:00 spans of 法定休日 around the day. Legal-holiday work is judged by
    /// calendar date, not by working day (昭23.4.5 基発535号).
    pub legal_holidays: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The longest a work period may run from its clock-in: later punches no longer follow it.
/// A 24-hour duty (隔日勤務) with its overtime fits; a forgotten clock-out does not capture
/// the next day's punches.
pub const MAX_WORK_PERIOD_HOURS: i64 = 30;

/// The planned hours of a day, as instants.
#[derive(Clone, Debug)]
pub struct Plan {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub breaks: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Flextime: no daily overtime; start and end are the core time, if any.
    pub flex: bool,
    pub label: String,
}

/// The derived record of one working day. Minutes are whole minutes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRecord {
    pub date: NaiveDate,
    pub day_kind: Option<DayKind>,
    pub worked_minutes: i64,
    pub break_minutes: i64,
    /// From clock-in to clock-out (each pair, or first to last): worked plus breaks.
    pub in_office_minutes: i64,
    pub scheduled_minutes: i64,
    /// Beyond the statutory limits: daily first, then weekly, never twice.
    pub overtime_minutes: i64,
    pub daily_overtime_minutes: i64,
    pub weekly_overtime_minutes: i64,
    /// 22:00–05:00 local; overlaps the other classes (an additional premium).
    pub late_night_minutes: i64,
    /// Work on a legal holiday (Japan) or a rest day or statutory holiday (China).
    pub holiday_minutes: i64,
    pub late_minutes: i64,
    pub early_leave_minutes: i64,
    /// 1-year variable system: the rostered minutes of the week holding this day, which the
    /// law caps at 52 h (労基則12条の4第4項).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub roster_week_minutes: i64,
    pub anomalies: Vec<Anomaly>,
    pub first_in: Option<DateTime<Utc>>,
    pub last_out: Option<DateTime<Utc>>,
    /// The punches the record was computed from.
    pub punch_ids: Vec<String>,
    /// How each figure came about, one sentence per step.
    pub explanation: Vec<String>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

impl DayRecord {
    /// Worked minutes that are neither overtime nor holiday work.
    pub fn regular_minutes(&self) -> i64 {
        self.worked_minutes - self.overtime_minutes - self.holiday_minutes
    }
}

/// The working day a punch belongs to: its local date, counted from the day boundary.
pub fn work_date(rule: &WorkRule, at: DateTime<Utc>) -> NaiveDate {
    let local = at.with_timezone(&rule.timezone).naive_local();
    let since_midnight = rule.day_boundary.num_seconds_from_midnight();
    (local - Duration::seconds(i64::from(since_midnight))).date()
}

/// The instant of a local date and clock time in the rule's zone (the earlier one when a
/// clock change makes it ambiguous).
pub fn local_instant(rule: &WorkRule, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = NaiveDateTime::new(date, time);
    rule.timezone
        .from_local_datetime(&naive)
        .earliest()
        .unwrap_or_else(|| rule.timezone.from_utc_datetime(&naive))
        .with_timezone(&Utc)
}

fn span(rule: &WorkRule, date: NaiveDate, range: &TimeRange) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = local_instant(rule, date, range.start);
    let end_date = if range.end <= range.start { date + Duration::days(1) } else { date };
    (start, local_instant(rule, end_date, range.end))
}

/// The plan of one date under the rule and roster, and whether it is a scheduled workday.
fn plan_for(
    rule: &WorkRule,
    calendar: &Calendar,
    roster: &BTreeMap<NaiveDate, ShiftDef>,
    date: NaiveDate,
) -> (bool, Option<Plan>) {
    let forced_workday = calendar.entries.get(&date).is_some_and(|e| e.kind == crate::CalendarKind::Workday);
    let plan = |start: NaiveTime, end: NaiveTime, breaks: &[TimeRange], flex: bool, label: String| {
        let (s, e) = span(rule, date, &TimeRange { start, end });
        // A break before the start of the shift falls on the next calendar day (night shifts).
        let breaks = breaks
            .iter()
            .map(|b| {
                let (bs, be) = span(rule, date, b);
                if bs < s {
                    (bs + Duration::days(1), be + Duration::days(1))
                } else {
                    (bs, be)
                }
            })
            .collect();
        Plan { start: s, end: e, breaks, flex, label }
    };
    match &rule.schedule {
        Schedule::Fixed { start, end, breaks, workdays } => {
            let scheduled = workdays.contains(&date.weekday()) || forced_workday;
            (scheduled, Some(plan(*start, *end, breaks, false, format!("fixed {start:.5}–{end:.5}"))))
        }
        Schedule::Shift => match roster.get(&date) {
            Some(shift) => (
                true,
                Some(plan(
                    shift.start,
                    shift.end,
                    &shift.breaks,
                    false,
                    format!("shift {} {:.5}–{:.5}", shift.code, shift.start, shift.end),
                )),
            ),
            None => (false, None),
        },
        Schedule::Flex { core, workdays } => {
            let scheduled = workdays.contains(&date.weekday()) || forced_workday;
            let core = core.unwrap_or(TimeRange { start: hm(0, 0), end: hm(0, 0) });
            let label = format!("flextime, core {:.5}–{:.5}", core.start, core.end);
            (scheduled, Some(plan(core.start, core.end, &[], true, label)))
        }
    }
}

/// The first day of the week (by the rule's week start) that holds `date`.
pub fn week_start(rule: &WorkRule, date: NaiveDate) -> NaiveDate {
    let back = (7 + date.weekday().num_days_from_monday() - rule.week_start.num_days_from_monday()) % 7;
    date - Duration::days(i64::from(back))
}

/// Builds the inputs of every date in `from..=to` from punches sorted by time.
/// The planned hours of `date`, if it is a working day with a plan.
pub fn day_plan(
    rule: &WorkRule,
    calendar: &Calendar,
    roster: &BTreeMap<NaiveDate, ShiftDef>,
    date: NaiveDate,
) -> Option<Plan> {
    let (scheduled, plan) = plan_for(rule, calendar, roster, date);
    plan.filter(|_| calendar.classify(rule, date, scheduled).is_workday())
}

/// The working day each punch belongs to. A continuous work period is one 勤務 belonging to
/// the day it started (継続勤務, 昭63.1.1 基発1号): punches after a clock-in follow it until its
/// clock-out (or [`MAX_WORK_PERIOD_HOURS`]); only a punch with no open period is placed by
/// the day boundary, and a clock-in between midnight and the boundary goes to whichever of the
/// two days has its planned start nearer (an early shift is not the previous day's).
pub fn attribute_punches(
    rule: &WorkRule,
    calendar: &Calendar,
    roster: &BTreeMap<NaiveDate, ShiftDef>,
    punches: &[PunchEvent],
) -> BTreeMap<NaiveDate, Vec<PunchEvent>> {
    let mut sorted: Vec<&PunchEvent> = punches.iter().collect();
    sorted.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    let mut by_date: BTreeMap<NaiveDate, Vec<PunchEvent>> = BTreeMap::new();
    let mut open: Option<(NaiveDate, DateTime<Utc>)> = None;
    for punch in sorted {
        let following = open.filter(|(_, since)| punch.at - *since <= Duration::hours(MAX_WORK_PERIOD_HOURS));
        let date = match (punch.kind, following) {
            (PunchKind::ClockIn, _) => {
                let date = clock_in_date(rule, calendar, roster, punch.at);
                open = Some((date, punch.at));
                date
            }
            (kind, Some((date, _))) => {
                if kind == PunchKind::ClockOut {
                    open = None;
                }
                date
            }
            (_, None) => {
                open = None;
                work_date(rule, punch.at)
            }
        };
        by_date.entry(date).or_default().push(punch.clone());
    }
    by_date
}

fn clock_in_date(
    rule: &WorkRule,
    calendar: &Calendar,
    roster: &BTreeMap<NaiveDate, ShiftDef>,
    at: DateTime<Utc>,
) -> NaiveDate {
    let by_boundary = work_date(rule, at);
    let by_calendar = at.with_timezone(&rule.timezone).date_naive();
    if by_boundary == by_calendar {
        return by_boundary;
    }
    let distance = |date: NaiveDate| match plan_for(rule, calendar, roster, date) {
        (true, Some(plan)) if !plan.flex => Some((plan.start - at).num_minutes().abs()),
        _ => None,
    };
    match (distance(by_boundary), distance(by_calendar)) {
        (Some(before), Some(after)) if after < before => by_calendar,
        (None, Some(_)) => by_calendar,
        _ => by_boundary,
    }
}

/// The instants of the 法定休日 among the days around `date` (Japan only).
fn legal_holidays_around(rule: &WorkRule, calendar: &Calendar, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    if rule.jurisdiction != crate::Jurisdiction::Japan {
        return Vec::new();
    }
    (-1..=2)
        .map(|offset| date + Duration::days(offset))
        .filter(|d| calendar.classify(rule, *d, false) == DayKind::LegalHoliday)
        .map(|d| (local_instant(rule, d, hm(0, 0)), local_instant(rule, d + Duration::days(1), hm(0, 0))))
        .collect()
}

fn day_inputs(
    rule: &WorkRule,
    calendar: &Calendar,
    roster: &BTreeMap<NaiveDate, ShiftDef>,
    punches: &[PunchEvent],
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<DayInput> {
    let mut by_date = attribute_punches(rule, calendar, roster, punches);
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|date| {
            let (scheduled, plan) = plan_for(rule, calendar, roster, date);
            let kind = calendar.classify(rule, date, scheduled);
            let punches = by_date.remove(&date).unwrap_or_default();
            let legal_holidays = legal_holidays_around(rule, calendar, date);
            DayInput { date, kind, plan: plan.filter(|_| kind.is_workday()), punches, legal_holidays }
        })
        .collect()
}

/// The days whose records a punch at `at` (added, moved or removed) can change: from the day
/// of the earliest clock-in whose period it may close to the end of the week of the last day
/// a period opened by it could reach.
pub fn affected_days(rule: &WorkRule, at: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
    let period = Duration::hours(MAX_WORK_PERIOD_HOURS);
    let date = work_date(rule, at);
    let reach = work_date(rule, at + period).max(date + Duration::days(1));
    (work_date(rule, at - period).min(date - Duration::days(1)), week_start(rule, reach) + Duration::days(6))
}

/// How far before and after a range of days punches must be read so that every work period
/// touching it is seen whole.
pub fn punch_margin() -> Duration {
    Duration::hours(MAX_WORK_PERIOD_HOURS)
}

/// Computes the day records of `from..=to`. Weekly overtime needs the whole week, so the
/// computation starts at the week's first day; pass punches from there on (the days before
/// `from` are computed but not returned), and under a 変形 system the calendar and roster to
/// the end of `to`'s week. `now` decides which days are over (for `absent`).
pub fn compute_days(
    rule: &WorkRule,
    calendar: &Calendar,
    roster: &BTreeMap<NaiveDate, ShiftDef>,
    punches: &[PunchEvent],
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Vec<DayRecord> {
    // A 変形 week is judged against its whole roster, so its days after `to` are planned too.
    let variable = matches!(rule.system, WorkingTimeSystem::MonthlyVariable | WorkingTimeSystem::YearlyVariable);
    let end = if variable { week_start(rule, to) + Duration::days(6) } else { to };
    let inputs = day_inputs(rule, calendar, roster, punches, week_start(rule, from), end);
    let mut records: Vec<DayRecord> = inputs.iter().map(|input| compute_day(rule, input, now)).collect();
    apply_weekly_limit(rule, &mut records);
    records.retain(|r| r.date >= from && r.date <= to);
    records
}

fn minutes(d: Duration) -> i64 {
    d.num_minutes()
}

fn truncate_to_minute(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(at)
}

fn round_local(rule: &WorkRule, at: DateTime<Utc>, unit: u32, up: bool) -> DateTime<Utc> {
    let unit = i64::from(unit.max(1));
    let local = at.with_timezone(&rule.timezone);
    let minute_of_day = i64::from(local.hour() * 60 + local.minute());
    let rest = minute_of_day % unit;
    if rest == 0 {
        return at;
    }
    if up {
        at + Duration::minutes(unit - rest)
    } else {
        at - Duration::minutes(rest)
    }
}

fn hhmm(rule: &WorkRule, at: DateTime<Utc>) -> String {
    at.with_timezone(&rule.timezone).format("%H:%M").to_string()
}

/// Computes one day, without the weekly limit (applied across the week afterwards).
pub(crate) fn compute_day(rule: &WorkRule, input: &DayInput, now: DateTime<Utc>) -> DayRecord {
    let mut r = DayRecord { date: input.date, day_kind: Some(input.kind), ..DayRecord::default() };
    let mut why = Vec::new();
    why.push(match &input.plan {
        Some(plan) => format!("{:?} with {}", input.kind, plan.label),
        None => format!("{:?}, nothing scheduled", input.kind),
    });
    r.punch_ids = input.punches.iter().map(|p| p.id.clone()).collect();

    // Punches to whole minutes, then the optional per-day rounding.
    let punches: Vec<(PunchKind, DateTime<Utc>)> = input
        .punches
        .iter()
        .map(|p| {
            let at = truncate_to_minute(p.at);
            let at = match (rule.rounding.per_day_minutes, p.kind) {
                (Some(unit), PunchKind::ClockIn) => round_local(rule, at, unit, true),
                (Some(unit), PunchKind::ClockOut) => round_local(rule, at, unit, false),
                _ => at,
            };
            (p.kind, at)
        })
        .collect();
    if rule.rounding.per_day_minutes.is_some() {
        why.push(format!(
            "clock-in rounded up and clock-out down to {} min (per-day rounding is on)",
            rule.rounding.per_day_minutes.unwrap_or(0)
        ));
    }

    // Walk the punches: pairs of work, pairs of break, and what does not fit.
    let mut anomalies = Vec::new();
    let mut pairs = Vec::new();
    let mut breaks = Vec::new();
    let mut open_in: Option<DateTime<Utc>> = None;
    let mut open_break: Option<DateTime<Utc>> = None;
    let mut first_in = None;
    let mut last_out = None;
    for (kind, at) in &punches {
        match kind {
            PunchKind::ClockIn => {
                if open_in.is_some() {
                    anomalies.push(Anomaly::Overlapping);
                    if rule.pairing == Pairing::FirstInLastOut {
                        continue;
                    }
                }
                first_in.get_or_insert(*at);
                open_in = Some(*at);
            }
            PunchKind::ClockOut => {
                if let Some(b) = open_break.take() {
                    anomalies.push(Anomaly::UnclosedBreak);
                    breaks.push((b, *at));
                }
                match open_in.take() {
                    Some(start) => {
                        pairs.push((start, *at));
                        last_out = Some(*at);
                    }
                    None if rule.pairing == Pairing::FirstInLastOut && !pairs.is_empty() => {
                        // A later clock-out extends the day under first-in / last-out.
                        if let Some(last) = pairs.last_mut() {
                            last.1 = *at;
                        }
                        last_out = Some(*at);
                    }
                    None => anomalies.push(Anomaly::MissingClockIn),
                }
            }
            PunchKind::BreakStart => {
                if open_in.is_none() {
                    anomalies.push(Anomaly::MissingClockIn);
                } else if open_break.is_some() {
                    anomalies.push(Anomaly::Overlapping);
                } else {
                    open_break = Some(*at);
                }
            }
            PunchKind::BreakEnd => match open_break.take() {
                Some(b) => breaks.push((b, *at)),
                None => anomalies.push(Anomaly::MissingBreakStart),
            },
        }
    }
    if open_break.is_some() {
        anomalies.push(Anomaly::UnclosedBreak);
    }
    if open_in.is_some() {
        anomalies.push(Anomaly::MissingClockOut);
    }
    let work: Vec<_> = match rule.pairing {
        Pairing::EachPair => pairs.clone(),
        Pairing::FirstInLastOut => match (pairs.first(), pairs.last()) {
            (Some((s, _)), Some((_, e))) if e > s => vec![(*s, *e)],
            _ => Vec::new(),
        },
    };
    let in_office = work.iter().fold(Duration::zero(), |acc, (s, e)| acc + (*e - *s));
    if !work.is_empty() {
        why.push(format!(
            "at work {} ({} min)",
            work.iter().map(|(s, e)| format!("{}–{}", hhmm(rule, *s), hhmm(rule, *e))).collect::<Vec<_>>().join(", "),
            minutes(in_office)
        ));
    }

    // Breaks: punched ones if any, else the plan's, in both cases only while at work.
    let mut taken = clip(&breaks, &work);
    if breaks.is_empty() {
        if let Some(plan) = &input.plan {
            taken = clip(&plan.breaks, &work);
            if !taken.is_empty() {
                why.push("no break punched: the scheduled break is deducted".to_owned());
            }
        }
    }
    let worked_spans = subtract(&work, &taken);
    let mut break_minutes = minutes(in_office) - worked_spans.iter().fold(0, |acc, (s, e)| acc + minutes(*e - *s));
    let mut worked = minutes(in_office) - break_minutes;
    if rule.auto_break {
        let required = if worked > 8 * 60 {
            60
        } else if worked > 6 * 60 {
            45
        } else {
            0
        };
        if break_minutes < required {
            why.push(format!("break topped up from {break_minutes} to the statutory {required} min"));
            worked -= required - break_minutes;
            break_minutes = required;
        }
    }
    r.break_minutes = break_minutes;
    r.worked_minutes = worked.max(0);
    r.in_office_minutes = minutes(in_office);
    if break_minutes > 0 {
        why.push(format!("break {break_minutes} min; worked {} min", r.worked_minutes));
    }

    // Late night: 22:00–05:00 local, within the worked spans.
    let mut night = Vec::new();
    let mut d = input.date - Duration::days(1);
    while d <= input.date + Duration::days(2) {
        night.push(span(rule, d, &TimeRange { start: hm(22, 0), end: hm(5, 0) }));
        d += Duration::days(1);
    }
    r.late_night_minutes = minutes(overlap(&worked_spans, &night)).min(r.worked_minutes);
    if r.late_night_minutes > 0 {
        why.push(format!("late night (22:00–05:00) {} min", r.late_night_minutes));
    }

    // Classes: holiday work, then the daily limit on the rest.
    let flex = input.plan.as_ref().is_some_and(|p| p.flex) || matches!(rule.schedule, Schedule::Flex { .. });
    let system = rule.system;
    r.holiday_minutes = match (rule.jurisdiction, system) {
        // 管理監督者: the Act's rest days do not apply (労基法41条), so no holiday premium.
        (_, WorkingTimeSystem::ExemptManager) => 0,
        // Japan: the minutes that fall on a 法定休日's calendar day, whichever day the shift
        // began (a Saturday night shift into Sunday is holiday work from midnight on).
        (crate::Jurisdiction::Japan, _) => minutes(overlap(&worked_spans, &input.legal_holidays)).min(r.worked_minutes),
        // China's comprehensive and flexible systems: only statutory holidays stand apart.
        (crate::Jurisdiction::China, WorkingTimeSystem::Comprehensive | WorkingTimeSystem::Unfixed) => {
            if input.kind == DayKind::StatutoryHoliday {
                r.worked_minutes
            } else {
                0
            }
        }
        // China: the whole shift of a rest day or statutory holiday.
        (crate::Jurisdiction::China, _) if input.kind.is_holiday_work() => r.worked_minutes,
        (crate::Jurisdiction::China, _) => 0,
    };
    if r.holiday_minutes > 0 {
        why.push(format!("{} min of legal-holiday or rest-day work ({:?})", r.holiday_minutes, input.kind));
    }
    let planned = input.plan.as_ref().map_or(0, |plan| {
        let planned = minutes(plan.end - plan.start) - plan.breaks.iter().fold(0, |acc, (s, e)| acc + minutes(*e - *s));
        if plan.flex {
            DAILY_LIMIT
        } else {
            planned.max(0)
        }
    });
    let ordinary = r.worked_minutes - r.holiday_minutes;
    let daily_limit = match system {
        // Only the month or period settles these systems' overtime, or there is none.
        WorkingTimeSystem::ExemptManager | WorkingTimeSystem::Comprehensive | WorkingTimeSystem::Unfixed => None,
        _ if flex => None,
        // 変形 systems: the rostered hours where they run over 8 h (労基法32条の2, 32条の4).
        WorkingTimeSystem::MonthlyVariable | WorkingTimeSystem::YearlyVariable => Some(planned.max(DAILY_LIMIT)),
        WorkingTimeSystem::Standard => Some(DAILY_LIMIT),
    };
    if let Some(limit) = daily_limit.filter(|limit| ordinary > *limit) {
        r.daily_overtime_minutes = ordinary - limit;
        why.push(format!("daily overtime {} min beyond {limit} min", r.daily_overtime_minutes));
    }
    r.overtime_minutes = r.daily_overtime_minutes;

    // The plan: scheduled time, lateness and early leave.
    if let Some(plan) = &input.plan {
        r.scheduled_minutes = planned;
        let has_core = plan.end > plan.start;
        if has_core {
            if let Some(first) = first_in {
                if first > plan.start {
                    r.late_minutes = minutes(first - plan.start);
                    why.push(format!(
                        "late {} min: first clock-in {} after {}",
                        r.late_minutes,
                        hhmm(rule, first),
                        hhmm(rule, plan.start)
                    ));
                }
            }
            if let Some(last) = last_out.filter(|_| !anomalies.contains(&Anomaly::MissingClockOut)) {
                if last < plan.end {
                    r.early_leave_minutes = minutes(plan.end - last);
                    why.push(format!(
                        "left {} min early: last clock-out {} before {}",
                        r.early_leave_minutes,
                        hhmm(rule, last),
                        hhmm(rule, plan.end)
                    ));
                }
            }
        }
        // A grace period forgives small lateness or early leave, never more than it is.
        let grace = i64::from(rule.grace_minutes);
        for (minutes, what) in [(&mut r.late_minutes, "late"), (&mut r.early_leave_minutes, "early leave")] {
            if *minutes > 0 && *minutes <= grace {
                why.push(format!("{what} of {minutes} min is within the {grace} min grace"));
                *minutes = 0;
            }
        }
        if input.punches.is_empty() && plan.end < now && r.scheduled_minutes > 0 {
            anomalies.push(Anomaly::Absent);
        }
    }
    if !input.punches.is_empty() && !input.kind.is_workday() {
        anomalies.push(Anomaly::PunchOnHoliday);
    }
    anomalies.sort();
    anomalies.dedup();
    if !anomalies.is_empty() {
        why.push(format!("anomalies: {anomalies:?}"));
    }
    r.anomalies = anomalies;
    r.first_in = first_in;
    r.last_out = last_out;
    r.explanation = why;
    r
}

/// Applies the 40-hour weekly limit in date order: regular minutes past 40 h in a week become
/// weekly overtime. Daily overtime and holiday work are not counted again.
fn apply_weekly_limit(rule: &WorkRule, records: &mut [DayRecord]) {
    // China's standard system has no weekly overtime: beyond 8 h a day is 150 %, rest days are
    // 200 % (劳动法44条); a week of 调休 with a make-up Saturday is five ordinary days and one.
    let settled_elsewhere = matches!(
        rule.system,
        WorkingTimeSystem::ExemptManager | WorkingTimeSystem::Comprehensive | WorkingTimeSystem::Unfixed
    );
    if matches!(rule.schedule, Schedule::Flex { .. })
        || rule.jurisdiction == crate::Jurisdiction::China
        || settled_elsewhere
    {
        return;
    }
    let statutory_week = weekly_limit(rule);
    let mut start = 0;
    while start < records.len() {
        // One week: from a week-start day (or the first record) to the day before the next.
        let mut end = start + 1;
        while end < records.len() && records[end].date.weekday() != rule.week_start {
            end += 1;
        }
        // 変形 systems: the rostered week where it runs over the statutory week.
        let rostered: i64 = records[start..end].iter().map(|r| r.scheduled_minutes).sum();
        let limit = match rule.system {
            WorkingTimeSystem::MonthlyVariable => statutory_week.max(rostered),
            WorkingTimeSystem::YearlyVariable => {
                for record in &mut records[start..end] {
                    record.roster_week_minutes = rostered;
                }
                statutory_week.max(rostered)
            }
            _ => statutory_week,
        };
        let mut running = 0;
        for record in &mut records[start..end] {
            let regular = record.worked_minutes - record.daily_overtime_minutes - record.holiday_minutes;
            let before = running;
            running += regular;
            let weekly = (running - limit).max(0) - (before - limit).max(0);
            if weekly > 0 {
                record.weekly_overtime_minutes = weekly;
                record.overtime_minutes += weekly;
                record
                    .explanation
                    .push(format!("weekly overtime {weekly} min: the week's regular time passed {limit} min"));
            }
        }
        start = end;
    }
}

/// The statutory week in minutes: 40 h, or 44 h at a 特例措置対象事業場 except under the
/// 1-year variable system and flextime settled over more than a month (労基則25条の2第4項).
pub(crate) fn weekly_limit(rule: &WorkRule) -> i64 {
    let flex_over_a_month = matches!(rule.schedule, Schedule::Flex { .. }) && rule.period_months > 1;
    if rule.system == WorkingTimeSystem::YearlyVariable || flex_over_a_month {
        return 40 * 60;
    }
    i64::from(rule.weekly_limit_hours.clamp(1, 168)) * 60
}
