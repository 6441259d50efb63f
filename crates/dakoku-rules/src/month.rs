//! From day records to the month (月次 / 月结): totals, payroll premium classes and the
//! statutory alerts (36協定 in Japan, the 36-hour cap in China).

use crate::day::DayRecord;
use crate::rule::{Jurisdiction, Schedule, WorkRule, WorkingTimeSystem};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The contract's minute totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub worked_minutes: i64,
    pub break_minutes: i64,
    pub scheduled_minutes: i64,
    pub overtime_minutes: i64,
    pub late_night_minutes: i64,
    pub holiday_minutes: i64,
    pub late_minutes: i64,
    pub early_leave_minutes: i64,
    pub days_worked: i64,
    pub anomaly_days: i64,
    /// Flextime: at the settlement period's end, the time short of its scheduled total
    /// (不足時間 / 工时不足), for deduction or carrying over as the company decides.
    #[serde(default)]
    pub shortfall_minutes: i64,
}

/// Minutes per payroll premium class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Premiums {
    /// Japan: overtime up to 60 h in the month (25 %).
    pub jp_overtime_up_to_60h_minutes: i64,
    /// Japan: overtime beyond 60 h (50 %).
    pub jp_overtime_over_60h_minutes: i64,
    /// Japan: late-night work (25 % on top).
    pub jp_late_night_minutes: i64,
    /// Japan: legal-holiday work (35 %).
    pub jp_legal_holiday_minutes: i64,
    /// China: workday overtime (150 %).
    pub cn_150_minutes: i64,
    /// China: rest-day work (200 %).
    pub cn_200_minutes: i64,
    /// China: statutory-holiday work (300 %).
    pub cn_300_minutes: i64,
    /// China: rest-day work given back as 补休 instead of 200 % pay.
    #[serde(default)]
    pub cn_compensatory_leave_minutes: i64,
}

/// A limit of the law that the month reached or passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    /// Overtime over 45 h in the month (the standard 36協定 limit).
    #[serde(rename = "over_45h_month")]
    Over45hMonth,
    /// Overtime plus legal-holiday work of 100 h or more in the month.
    #[serde(rename = "over_100h_month_with_holiday")]
    Over100hMonthWithHoliday,
    /// Overtime plus legal-holiday work averaging over 80 h across 2 to 6 months.
    #[serde(rename = "over_80h_average")]
    Over80hAverage,
    /// Overtime over 360 h in the agreement year so far.
    #[serde(rename = "over_360h_year")]
    Over360hYear,
    /// Overtime over 720 h in the agreement year so far.
    #[serde(rename = "over_720h_year")]
    Over720hYear,
    /// Overtime over 45 h in more than six months of the agreement year.
    #[serde(rename = "over_45h_more_than_6_months")]
    Over45hMoreThan6Months,
    /// China: overtime of all classes over 36 h in the month.
    #[serde(rename = "cn_over_36h_month")]
    CnOver36hMonth,
    /// China: a day's extension beyond 8 h over 3 h (劳动法41条).
    #[serde(rename = "cn_over_3h_day")]
    CnOver3hDay,
    /// 1-year variable system: a rostered day over 10 h (労基則12条の4第4項).
    #[serde(rename = "roster_over_10h_day")]
    RosterOver10hDay,
    /// 1-year variable system: a rostered week over 52 h (労基則12条の4第4項).
    #[serde(rename = "roster_over_52h_week")]
    RosterOver52hWeek,
}

/// What an earlier month contributed, for the alerts that look back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthHistory {
    /// First day of that month.
    pub month: NaiveDate,
    pub overtime_minutes: i64,
    pub holiday_minutes: i64,
    /// What a settlement period sums: all work, and the scheduled total.
    pub worked_minutes: i64,
    pub scheduled_minutes: i64,
}

/// The figures limits are judged on: exact minutes, never rounded (rounding is for pay only,
/// 昭63.3.14 基発150号).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unrounded {
    pub overtime_minutes: i64,
    pub holiday_minutes: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthSummary {
    pub totals: Totals,
    /// The month's overtime and holiday work before any rounding: what alerts compare and
    /// later months look back on.
    #[serde(default)]
    pub unrounded: Unrounded,
    pub premiums: Premiums,
    pub alerts: Vec<Alert>,
    /// How the month-level figures came about.
    pub explanation: Vec<String>,
}

fn round_30(minutes: i64) -> i64 {
    let rest = minutes % 60;
    if rest >= 30 {
        minutes - rest + 60
    } else {
        minutes - rest
    }
}

/// Sums the days of one month (`first` is its first day) and derives premiums and alerts.
/// `history` holds earlier months (any order); months outside the look-back are ignored.
pub fn summarize_month(
    rule: &WorkRule,
    first: NaiveDate,
    days: &[DayRecord],
    history: &[MonthHistory],
) -> MonthSummary {
    let mut s = MonthSummary::default();
    let in_month = |d: &&DayRecord| d.date.year() == first.year() && d.date.month() == first.month();
    let t = &mut s.totals;
    for d in days.iter().filter(in_month) {
        t.worked_minutes += d.worked_minutes;
        t.break_minutes += d.break_minutes;
        t.scheduled_minutes += d.scheduled_minutes;
        t.overtime_minutes += d.overtime_minutes;
        t.late_night_minutes += d.late_night_minutes;
        t.holiday_minutes += d.holiday_minutes;
        t.late_minutes += d.late_minutes;
        t.early_leave_minutes += d.early_leave_minutes;
        t.days_worked += i64::from(d.worked_minutes > 0);
        t.anomaly_days += i64::from(!d.anomalies.is_empty());
    }
    settle(rule, first, days_in_month(first), history, &mut s);
    let t = &mut s.totals;
    s.unrounded = Unrounded { overtime_minutes: t.overtime_minutes, holiday_minutes: t.holiday_minutes };
    if rule.rounding.monthly_30_minute_rule {
        t.overtime_minutes = round_30(t.overtime_minutes);
        t.late_night_minutes = round_30(t.late_night_minutes);
        t.holiday_minutes = round_30(t.holiday_minutes);
        s.explanation.push("premium totals rounded to the hour by the 30-minute rule".to_owned());
    }
    let t = s.totals;
    let exact = s.unrounded;
    match rule.jurisdiction {
        Jurisdiction::Japan => {
            s.premiums.jp_overtime_up_to_60h_minutes = t.overtime_minutes.min(60 * 60);
            s.premiums.jp_overtime_over_60h_minutes = (t.overtime_minutes - 60 * 60).max(0);
            s.premiums.jp_late_night_minutes = t.late_night_minutes;
            s.premiums.jp_legal_holiday_minutes = t.holiday_minutes;
            // 管理監督者 are outside 36条: no agreement limits to watch.
            if rule.system != WorkingTimeSystem::ExemptManager {
                s.alerts = japan_alerts(rule, first, &exact, history, &mut s.explanation);
            }
            if rule.system == WorkingTimeSystem::YearlyVariable {
                let month_days: Vec<&DayRecord> = days.iter().filter(in_month).collect();
                s.alerts.extend(roster_alerts(&month_days, &mut s.explanation));
                s.alerts.sort();
            }
        }
        Jurisdiction::China => {
            let statutory: i64 = days
                .iter()
                .filter(in_month)
                .filter(|d| d.day_kind == Some(crate::DayKind::StatutoryHoliday))
                .map(|d| d.holiday_minutes)
                .sum();
            s.premiums.cn_150_minutes = t.overtime_minutes;
            s.premiums.cn_300_minutes = statutory;
            let rest_day = t.holiday_minutes - statutory;
            match rule.cn_rest_day_work {
                crate::RestDayWork::Pay => s.premiums.cn_200_minutes = rest_day,
                crate::RestDayWork::CompensatoryLeave => {
                    s.premiums.cn_compensatory_leave_minutes = rest_day;
                    if rest_day > 0 {
                        s.explanation
                            .push(format!("{rest_day} min of rest-day work are owed back as 补休, not paid at 200 %"));
                    }
                }
            }
            // 劳动法41条: extensions at most 3 h a day and 36 h a month.
            let counted_rest = if rule.cn_cap_counts_rest_days { exact.holiday_minutes } else { 0 };
            let all = exact.overtime_minutes + counted_rest;
            if all > 36 * 60 {
                s.alerts.push(Alert::CnOver36hMonth);
                s.explanation.push(format!("overtime of all classes {all} min is over the 36 h monthly cap"));
            }
            let long_days: Vec<String> = days
                .iter()
                .filter(in_month)
                .filter(|d| d.daily_overtime_minutes > 3 * 60)
                .map(|d| format!("{} ({} min)", d.date, d.daily_overtime_minutes))
                .collect();
            if !long_days.is_empty() {
                s.alerts.push(Alert::CnOver3hDay);
                s.explanation.push(format!("extended beyond 3 h a day on {}", long_days.join(", ")));
            }
        }
    }
    s
}

fn days_in_month(first: NaiveDate) -> i64 {
    let next = first.checked_add_months(Months::new(1)).unwrap_or(first);
    (next - first).num_days()
}

/// The settlement period (清算期間, 対象期間, 综合计算周期) holding the month that starts on
/// `first`: its first month's first day and its number of months. Periods start in
/// `period_start_month` and tile the year.
pub fn settlement_period(rule: &WorkRule, first: NaiveDate) -> (NaiveDate, u32) {
    let months = rule.period_months.clamp(1, 12);
    let index = first.year() * 12 + first.month0() as i32;
    let offset = (index - (rule.period_start_month.clamp(1, 12) as i32 - 1)).rem_euclid(months as i32);
    (first.checked_sub_months(Months::new(offset as u32)).unwrap_or(first), months)
}

/// The month's overtime under the systems settled over a month or a longer period:
/// flextime, the 変形 systems and China's comprehensive system; none for the exempt ones.
fn settle(rule: &WorkRule, first: NaiveDate, month_days: i64, history: &[MonthHistory], s: &mut MonthSummary) {
    use WorkingTimeSystem as S;
    let t = &mut s.totals;
    let flex = matches!(rule.schedule, Schedule::Flex { .. });
    match rule.system {
        S::ExemptManager | S::Unfixed => {
            t.overtime_minutes = 0;
            return;
        }
        S::Standard if !flex => return,
        _ => {}
    }
    let counted = t.worked_minutes - t.holiday_minutes;
    let (period_first, months) = settlement_period(rule, first);
    if flex && months > 1 {
        // 32条の3第2項: each month of a longer period, work beyond 50 h a week on average is
        // that month's overtime, paid in that month.
        let frame = 50 * 60 * month_days / 7;
        t.overtime_minutes = (counted - frame).max(0);
        s.explanation.push(format!(
            "{counted} min worked against the month's 50 h-a-week line of {frame} min (50 h × {month_days} ÷ 7): {} min overtime this month",
            t.overtime_minutes
        ));
    } else if flex || rule.system == S::Comprehensive {
        t.overtime_minutes = 0;
    }
    let last_month = period_first.checked_add_months(Months::new(months - 1)).unwrap_or(first);
    if first != last_month {
        s.explanation.push(format!(
            "the settlement period {period_first} to the end of {last_month} is settled in its last month"
        ));
        return;
    }
    // The period's end: what the months did not already count as overtime, beyond the frame.
    let earlier: Vec<&MonthHistory> = history.iter().filter(|h| h.month >= period_first && h.month < first).collect();
    let period_counted = counted + earlier.iter().map(|h| h.worked_minutes - h.holiday_minutes).sum::<i64>();
    let already = t.overtime_minutes + earlier.iter().map(|h| h.overtime_minutes).sum::<i64>();
    let period_end = first.checked_add_months(Months::new(1)).unwrap_or(first);
    let period_days = (period_end - period_first).num_days();
    let (frame, basis) = if rule.system == S::Comprehensive {
        // 劳社部发〔2008〕3号: 250 working days a year × 8 h, so 10,000 min a month.
        (10_000 * i64::from(months), format!("{months} month(s) × 10,000 min (250 days a year × 8 h ÷ 12)"))
    } else {
        let week = crate::day::weekly_limit(rule);
        (week * period_days / 7, format!("{week} min a week × {period_days} days ÷ 7"))
    };
    let beyond = (period_counted - already - frame).max(0);
    t.overtime_minutes += beyond;
    s.explanation.push(format!(
        "settled over {months} month(s) from {period_first}: {period_counted} min worked, {already} min already overtime, frame {frame} min ({basis}): {beyond} min more overtime"
    ));
    if flex {
        let scheduled = t.scheduled_minutes + earlier.iter().map(|h| h.scheduled_minutes).sum::<i64>();
        t.shortfall_minutes = (scheduled - period_counted).max(0);
        if t.shortfall_minutes > 0 {
            s.explanation.push(format!("{} min short of the period's scheduled {scheduled} min", t.shortfall_minutes));
        }
    }
}

/// 1-year variable system: rosters over the law's 10 h a day or 52 h a week.
fn roster_alerts(days: &[&DayRecord], why: &mut Vec<String>) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let long_days: Vec<String> =
        days.iter().filter(|d| d.scheduled_minutes > 10 * 60).map(|d| d.date.to_string()).collect();
    if !long_days.is_empty() {
        alerts.push(Alert::RosterOver10hDay);
        why.push(format!("rostered over 10 h on {}", long_days.join(", ")));
    }
    if let Some(week) = days.iter().find(|d| d.roster_week_minutes > 52 * 60) {
        alerts.push(Alert::RosterOver52hWeek);
        why.push(format!("the week of {} is rostered {} min, over 52 h", week.date, week.roster_week_minutes));
    }
    alerts
}

fn japan_alerts(
    rule: &WorkRule,
    first: NaiveDate,
    t: &Unrounded,
    history: &[MonthHistory],
    why: &mut Vec<String>,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let months_back = |n: i32| -> NaiveDate {
        let index = first.year() * 12 + first.month0() as i32 - n;
        NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1).unwrap_or(first)
    };
    let earlier = |n: i32| history.iter().find(|h| h.month == months_back(n));
    if t.overtime_minutes > 45 * 60 {
        alerts.push(Alert::Over45hMonth);
    }
    let with_holiday = t.overtime_minutes + t.holiday_minutes;
    if with_holiday >= 100 * 60 {
        alerts.push(Alert::Over100hMonthWithHoliday);
    }
    // The average over the last 2, 3, ... 6 months, this one included (労基法36条6項3号):
    // the sum is compared with n × 80 h, so no fraction of a minute is lost to division.
    let mut sum = with_holiday;
    for n in 1..6 {
        let Some(month) = earlier(n) else { break };
        sum += month.overtime_minutes + month.holiday_minutes;
        let months = i64::from(n + 1);
        if sum > 80 * 60 * months {
            alerts.push(Alert::Over80hAverage);
            why.push(format!(
                "overtime and holiday work of {sum} min over the last {months} months is over 80 h a month"
            ));
            break;
        }
    }
    // The agreement year so far.
    let start_month = rule.agreement_year_start_month.clamp(1, 12);
    let mut year_overtime = t.overtime_minutes;
    let mut months_over_45 = i64::from(t.overtime_minutes > 45 * 60);
    let mut n = 1;
    loop {
        let month = months_back(n);
        if n > 11 || (months_back(n - 1).month() == start_month) {
            break;
        }
        if let Some(h) = history.iter().find(|h| h.month == month) {
            year_overtime += h.overtime_minutes;
            months_over_45 += i64::from(h.overtime_minutes > 45 * 60);
        }
        n += 1;
    }
    if year_overtime > 720 * 60 {
        alerts.push(Alert::Over720hYear);
    }
    if year_overtime > 360 * 60 {
        alerts.push(Alert::Over360hYear);
    }
    if months_over_45 > 6 {
        alerts.push(Alert::Over45hMoreThan6Months);
    }
    if !alerts.is_empty() {
        why.push(format!(
            "agreement year so far: {year_overtime} min of overtime, {months_over_45} month(s) over 45 h"
        ));
    }
    alerts.sort();
    alerts
}
